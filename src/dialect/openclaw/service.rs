//! OpenClaw's gateway service definitions: where they are and what environment they
//! give the gateway. Parsing reuses clawctl's own parsers (`service::launchd`,
//! `service::systemd`, `service::windows`); this module only knows OpenClaw's names
//! and its generated files.
//!
//! Reference: `openclaw/openclaw` `src/daemon/constants.ts` (labels
//! `ai.openclaw.gateway` / `ai.openclaw.<profile>`, units `openclaw-gateway` /
//! `openclaw-gateway-<profile>`, task `OpenClaw Gateway` / `OpenClaw Gateway
//! (<profile>)`, legacy unit `clawdbot-gateway`), `src/daemon/launchd-service-files.ts`
//! (`$STATE/service-env/<label>.env` of `export KEY='value'` lines, run through
//! `<label>-env-wrapper.sh`), the docs pages <https://docs.openclaw.ai/install/uninstall>
//! ("Manual service removal") and <https://docs.openclaw.ai/gateway> (Windows task →
//! `$STATE/gateway.cmd`), and the corpus's generated plists, units and scripts.

use std::path::{Path, PathBuf};

use crate::env::{Environment, Platform};
use crate::service::{self, EnvVar, ProcessInfo, ServiceDefinition, ServiceError};

use super::paths::OpenClawPaths;

pub const LAUNCHD_LABEL: &str = "ai.openclaw.gateway";
/// The pre-rename (Clawdbot) LaunchAgent label.
pub const LEGACY_LAUNCHD_LABELS: &[&str] = &["com.clawdbot.gateway"];
pub const SYSTEMD_UNIT: &str = "openclaw-gateway";
/// Pre-rename unit names (`LEGACY_GATEWAY_SYSTEMD_SERVICE_NAMES`).
pub const LEGACY_SYSTEMD_UNITS: &[&str] = &["clawdbot-gateway", "moltbot-gateway"];
pub const WINDOWS_TASK: &str = "OpenClaw Gateway";

/// `ai.openclaw.gateway`, or `ai.openclaw.<profile>`.
pub fn launchd_label(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("ai.openclaw.{p}"),
        None => LAUNCHD_LABEL.to_string(),
    }
}

/// `openclaw-gateway.service`, or `openclaw-gateway-<profile>.service`.
pub fn systemd_unit(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("{SYSTEMD_UNIT}-{p}.service"),
        None => format!("{SYSTEMD_UNIT}.service"),
    }
}

/// `OpenClaw Gateway`, or `OpenClaw Gateway (<profile>)`.
pub fn windows_task(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("{WINDOWS_TASK} ({p})"),
        None => WINDOWS_TASK.to_string(),
    }
}

/// How a candidate relates to the install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The definition `openclaw gateway install` writes for this profile.
    Current,
    /// A pre-rename definition (Clawdbot era).
    Legacy,
}

/// Where the definitions would be for this profile: this platform's locations
/// first, then the other platforms' (a copied home or a test sandbox holds a
/// LaunchAgent on Linux; only files that exist are ever read).
pub fn candidates(env: &Environment, paths: &OpenClawPaths) -> Vec<(PathBuf, Role)> {
    let own = candidates_for(env.platform, env, paths);
    let mut all = own.clone();
    for p in [Platform::Macos, Platform::Linux, Platform::Windows] {
        for c in candidates_for(p, env, paths) {
            if !all.contains(&c) {
                all.push(c);
            }
        }
    }
    all
}

fn candidates_for(
    platform: Platform,
    env: &Environment,
    paths: &OpenClawPaths,
) -> Vec<(PathBuf, Role)> {
    let home = env.home.clone().unwrap_or_else(|| paths.home.clone());
    let p = paths.profile.as_deref();
    match platform {
        Platform::Macos => {
            let dir = home.join("Library/LaunchAgents");
            let mut v = vec![(
                dir.join(format!("{}.plist", launchd_label(p))),
                Role::Current,
            )];
            if p.is_none() {
                v.extend(
                    LEGACY_LAUNCHD_LABELS
                        .iter()
                        .map(|l| (dir.join(format!("{l}.plist")), Role::Legacy)),
                );
            }
            v
        }
        Platform::Linux | Platform::Other => {
            let user = home.join(".config/systemd/user");
            let system = Path::new("/etc/systemd/system");
            let unit = systemd_unit(p);
            let mut v = vec![
                (user.join(&unit), Role::Current),
                (system.join(&unit), Role::Current),
            ];
            if p.is_none() {
                v.extend(
                    LEGACY_SYSTEMD_UNITS
                        .iter()
                        .map(|u| (user.join(format!("{u}.service")), Role::Legacy)),
                );
            }
            v
        }
        Platform::Windows => vec![(paths.gateway_cmd(), Role::Current)],
    }
}

/// One OpenClaw service definition, read.
#[derive(Debug, Clone)]
pub struct OpenClawService {
    pub definition: ServiceDefinition,
    pub role: Role,
    /// The generated `service-env/<label>.env` the wrapper sources, when used.
    pub env_file: Option<PathBuf>,
    /// `OPENCLAW_SERVICE_MANAGED_ENV_KEYS`: the values the installer baked in.
    pub managed_keys: Vec<String>,
}

/// Find and read OpenClaw's service definitions (only existing files are read;
/// unreadable or broken ones come back as errors, never as "not installed").
pub fn discover(
    env: &Environment,
    paths: &OpenClawPaths,
) -> (Vec<OpenClawService>, Vec<ServiceError>) {
    discover_in(env, paths, candidates(env, paths))
}

/// Read the given definition files (`--service-file`) instead of discovering them.
pub fn discover_in(
    env: &Environment,
    paths: &OpenClawPaths,
    candidates: Vec<(PathBuf, Role)>,
) -> (Vec<OpenClawService>, Vec<ServiceError>) {
    let home = env.home.clone().unwrap_or_else(|| paths.home.clone());
    let user = env.var("USER").unwrap_or_default().to_string();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (path, role) in candidates {
        if !path.exists() {
            continue;
        }
        match read(&path, &home, &user) {
            Ok(mut s) => {
                s.role = role;
                // The task runs `$STATE/gateway.cmd`: name it as Task Scheduler does.
                if s.definition.manager == service::Manager::WindowsTask
                    && path == paths.gateway_cmd()
                {
                    s.definition.name = windows_task(paths.profile.as_deref());
                }
                found.push(s);
            }
            Err(e) => errors.push(e),
        }
    }
    (found, errors)
}

/// Read one definition (plist, unit, `gateway.cmd`) with OpenClaw's generated env
/// file, if its program runs the env wrapper.
pub fn read(path: &Path, home: &Path, user: &str) -> Result<OpenClawService, ServiceError> {
    let mut definition = service::parse_any(path, home, user)?;
    let env_file = wrapper_env_file(&definition.program);
    if let Some(f) = &env_file {
        match crate::read::string(f) {
            Ok(text) => {
                definition.add_file(f);
                let shown = super::env::display(f, home);
                for v in parse_service_env_file(&text, &shown) {
                    definition.env.retain(|e| e.name != v.name);
                    definition.env.push(v);
                }
            }
            Err(e) => definition.cannot_tell.push(format!(
                "the wrapper sources {}, which cannot be read ({e}); its variables are unknown",
                f.display()
            )),
        }
    }
    let managed_keys = definition
        .var(super::env::OPENCLAW_SERVICE_MANAGED_ENV_KEYS)
        .map(|v| {
            v.value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(OpenClawService {
        definition,
        role: Role::Current,
        env_file,
        managed_keys,
    })
}

/// The env file of OpenClaw's LaunchAgent wrapper: ProgramArguments
/// `[/bin/sh] <…/service-env/<label>-env-wrapper.sh> <…/service-env/<label>.env> …`.
pub fn wrapper_env_file(program: &[String]) -> Option<PathBuf> {
    let i = program
        .iter()
        .position(|a| a.ends_with("-env-wrapper.sh") && a.contains("service-env"))?;
    program
        .get(i + 1)
        .filter(|a| a.ends_with(".env"))
        .map(PathBuf::from)
}

/// The generated env file: `export KEY='value'` lines, `'\''` for a quote inside
/// (`buildLaunchAgentEnvironmentFile` / `shellSingleQuote`). Other lines are skipped.
pub fn parse_service_env_file(text: &str, shown: &str) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("export ") else {
            continue;
        };
        let Some((name, raw)) = rest.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            Some(inner) => inner.replace("'\\''", "'"),
            None => raw.to_string(),
        };
        out.push(EnvVar::new(
            name,
            value,
            format!("{shown}:{} (service-env)", i + 1),
        ));
    }
    out
}

/// Whether a command line runs OpenClaw's gateway: an `openclaw` executable (or
/// OpenClaw's `dist/index.js` / `openclaw.mjs` entry point) followed by `gateway`,
/// as the generated definitions run it (`node …/openclaw/dist/index.js gateway
/// --port 18789`, `openclaw gateway run`).
pub fn runs_openclaw_gateway(cmdline: &[String]) -> bool {
    let tokens = crate::service::command_tokens(cmdline);
    tokens.iter().enumerate().any(|(i, t)| {
        let base = crate::service::program_name(t);
        let entry = base == "openclaw"
            || base == "openclaw.mjs"
            || (base == "index.js" && t.contains("openclaw"));
        entry && tokens.get(i + 1) == Some(&"gateway")
    })
}

/// Running OpenClaw gateways readable under `proc_root` (Linux `/proc`): processes
/// of this user whose command line runs the gateway and whose environ can be read.
pub fn running_gateways(proc_root: &Path) -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .filter(|pid| {
            crate::read::bytes(proc_root.join(pid.to_string()).join("cmdline"))
                .ok()
                // Cheap first: most command lines (compilers, shells) never say openclaw.
                .filter(|b| b.windows(8).any(|w| w == b"openclaw"))
                .map(|b| {
                    let args: Vec<String> = b
                        .split(|c| *c == 0)
                        .filter(|a| !a.is_empty())
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    runs_openclaw_gateway(&args)
                })
                .unwrap_or(false)
        })
        .filter_map(|pid| service::process::read_process_at(proc_root, pid).ok())
        .collect()
}

/// The environment of a running gateway, each variable with `/proc/PID/environ` as
/// its evidence.
pub fn process_environment(cli: &Environment, p: &ProcessInfo) -> Environment {
    crate::service::view::live_process_environment(
        cli,
        p,
        format!("running gateway (pid {})", p.pid),
    )
}

/// The environment the definition gives the gateway process.
pub fn service_environment(cli: &Environment, s: &OpenClawService) -> Environment {
    crate::service::view::definition_environment(cli, &s.definition)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn recognises_openclaw_gateway_command_lines() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(runs_openclaw_gateway(&v(&[
            "/opt/homebrew/bin/node",
            "/opt/homebrew/lib/node_modules/openclaw/dist/index.js",
            "gateway",
            "--port",
            "18789"
        ])));
        assert!(runs_openclaw_gateway(&v(&["openclaw", "gateway", "run"])));
        assert!(runs_openclaw_gateway(&v(&[
            "/bin/bash",
            "-c",
            "exec openclaw gateway --force"
        ])));
        assert!(!runs_openclaw_gateway(&v(&["openclaw", "doctor"])));
        assert!(!runs_openclaw_gateway(&v(&[
            "node",
            "/srv/app/dist/index.js",
            "gateway"
        ])));
    }

    #[test]
    fn names_per_profile() {
        assert_eq!(launchd_label(None), "ai.openclaw.gateway");
        assert_eq!(launchd_label(Some("work")), "ai.openclaw.work");
        assert_eq!(systemd_unit(Some("work")), "openclaw-gateway-work.service");
        assert_eq!(windows_task(Some("work")), "OpenClaw Gateway (work)");
    }

    #[test]
    fn candidates_follow_platform_and_profile() {
        let env = |p: Platform| {
            Environment::from_parts(
                BTreeMap::from([("HOME".to_string(), "/h".to_string())]),
                Some(PathBuf::from("/h")),
                PathBuf::from("/"),
                p,
                "t",
            )
        };
        let mac = env(Platform::Macos);
        let paths = OpenClawPaths::discover(&mac, None).unwrap();
        let c = candidates(&mac, &paths);
        assert_eq!(
            c[0].0,
            Path::new("/h/Library/LaunchAgents/ai.openclaw.gateway.plist")
        );
        assert!(
            c.iter()
                .any(|(p, r)| *r == Role::Legacy && p.ends_with("com.clawdbot.gateway.plist"))
        );
        let linux = env(Platform::Linux);
        let paths = OpenClawPaths::discover(&linux, Some("work")).unwrap();
        let c = candidates(&linux, &paths);
        assert_eq!(
            c[0].0,
            Path::new("/h/.config/systemd/user/openclaw-gateway-work.service")
        );
        assert!(c.iter().all(|(_, r)| *r == Role::Current));
        assert!(
            c.iter()
                .any(|(p, _)| p.ends_with("Library/LaunchAgents/ai.openclaw.work.plist"))
        );
        let win = env(Platform::Windows);
        let paths = OpenClawPaths::discover(&win, None).unwrap();
        assert_eq!(
            candidates(&win, &paths)[0].0,
            Path::new("/h/.openclaw/gateway.cmd")
        );
    }

    #[test]
    fn generated_env_file_and_wrapper() {
        let text = "# Generated by OpenClaw. Do not edit while the gateway service is installed.\nexport MOONSHOT_API_KEY='sk-a'\\''b'\nexport OPENCLAW_GATEWAY_PORT='18789'\nnot a line\n";
        let vars = parse_service_env_file(text, "env");
        assert_eq!(vars.len(), 2);
        assert_eq!(vars[0].value, "sk-a'b");
        assert_eq!(vars[1].evidence, "env:3 (service-env)");
        let program: Vec<String> = [
            "/bin/sh",
            "/h/.openclaw/service-env/ai.openclaw.gateway-env-wrapper.sh",
            "/h/.openclaw/service-env/ai.openclaw.gateway.env",
            "/usr/local/bin/node",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            wrapper_env_file(&program).unwrap(),
            Path::new("/h/.openclaw/service-env/ai.openclaw.gateway.env")
        );
    }
}
