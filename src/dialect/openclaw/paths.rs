//! Where an OpenClaw install keeps its files, as OpenClaw resolves them.
//!
//! Reference: `openclaw/openclaw` `src/config/paths.ts` (`resolveStateDir`,
//! `resolveConfigPath`, `resolveDefaultConfigCandidates`, `resolveGatewayPort`),
//! `src/infra/home-dir.ts` (`resolveRawHomeDir`: `OPENCLAW_HOME` replaces `HOME`),
//! `src/cli/profile.ts` (`applyCliProfileEnv`: `--profile NAME` fills
//! `OPENCLAW_STATE_DIR=~/.openclaw-NAME` and `OPENCLAW_CONFIG_PATH=$STATE/openclaw.json`
//! unless set; `default` means no suffix), and the docs page
//! <https://docs.openclaw.ai/help/environment> ("Path-related env vars").
//!
//! Every function here is a function of an [`Environment`] and an existence probe,
//! so the CLI's and the service's view are the same computation.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::env::Environment;

/// Replaces the home directory for every OpenClaw default (`~/.openclaw`, agent
/// dirs, credentials).
pub const OPENCLAW_HOME: &str = "OPENCLAW_HOME";
/// The mutable state directory (default `~/.openclaw`).
pub const OPENCLAW_STATE_DIR: &str = "OPENCLAW_STATE_DIR";
/// The config file (default `$STATE/openclaw.json`).
pub const OPENCLAW_CONFIG_PATH: &str = "OPENCLAW_CONFIG_PATH";
/// A named profile: state dir `~/.openclaw-NAME`, service `ai.openclaw.NAME` /
/// `openclaw-gateway-NAME.service` / `OpenClaw Gateway (NAME)`.
pub const OPENCLAW_PROFILE: &str = "OPENCLAW_PROFILE";
/// Extra roots `$include` may read from (path list).
pub const OPENCLAW_INCLUDE_ROOTS: &str = "OPENCLAW_INCLUDE_ROOTS";
/// The OAuth credentials dir (default `$STATE/credentials`).
pub const OPENCLAW_OAUTH_DIR: &str = "OPENCLAW_OAUTH_DIR";
/// Legacy (Clawdbot-era) spellings OpenClaw still reads.
pub const CLAWDBOT_STATE_DIR: &str = "CLAWDBOT_STATE_DIR";
pub const CLAWDBOT_CONFIG_PATH: &str = "CLAWDBOT_CONFIG_PATH";

/// `~/.openclaw`.
pub const STATE_DIRNAME: &str = ".openclaw";
/// Older state dirs, consulted only when `~/.openclaw` does not exist
/// (`LEGACY_STATE_DIRNAMES` in paths.ts).
pub const LEGACY_STATE_DIRNAMES: &[&str] = &[".clawdbot", ".moldbot", ".moltbot"];
pub const CONFIG_FILENAME: &str = "openclaw.json";
/// Older config names, tried after `openclaw.json` in each state dir
/// (`LEGACY_CONFIG_FILENAMES` in paths.ts).
pub const LEGACY_CONFIG_FILENAMES: &[&str] = &["clawdbot.json", "moldbot.json", "moltbot.json"];
/// The main agent's id; its auth store is `$STATE/agents/main/agent/auth-profiles.json`.
pub const MAIN_AGENT: &str = "main";

/// Why a path is what it is, in the words a finding's evidence uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An environment variable (its name).
    Var(&'static str),
    /// `--profile NAME` / `OPENCLAW_PROFILE=NAME`.
    Profile(String),
    /// The default location (it exists, or nothing else does).
    Default,
    /// A legacy location that exists while the current one does not.
    Legacy,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Var(v) => write!(f, "${v}"),
            Source::Profile(p) => write!(f, "profile `{p}`"),
            Source::Default => f.write_str("default"),
            Source::Legacy => f.write_str("legacy location (no ~/.openclaw)"),
        }
    }
}

/// The resolved locations of one OpenClaw install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawPaths {
    /// The home OpenClaw uses (`OPENCLAW_HOME`, else `HOME`).
    pub home: PathBuf,
    pub home_from: &'static str,
    /// The profile, `None` for the default one.
    pub profile: Option<String>,
    pub state_dir: PathBuf,
    pub state_dir_from: Source,
    pub config: PathBuf,
    pub config_from: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathError {}

/// OpenClaw's profile-name rule (`isValidProfileName`: letters, digits, `_`, `-`).
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `None` for the default profile: empty or `default` in any case
/// (`normalizeGatewayProfile`, src/daemon/constants.ts).
pub fn normalize_profile(profile: Option<&str>) -> Option<String> {
    let p = profile?.trim();
    (!p.is_empty() && !p.eq_ignore_ascii_case("default")).then(|| p.to_string())
}

/// The home OpenClaw uses: `OPENCLAW_HOME` (a leading `~` expands against `HOME`),
/// else `HOME`, else `USERPROFILE`, else the environment's home
/// (`resolveRawHomeDir`, src/infra/home-dir.ts).
pub fn openclaw_home(env: &Environment) -> Option<(PathBuf, &'static str)> {
    let plain_home = || {
        env.var("HOME")
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                env.var("USERPROFILE")
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| env.home.clone())
    };
    if let Some(explicit) = env
        .var(OPENCLAW_HOME)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if explicit == "~" || explicit.starts_with("~/") || explicit.starts_with("~\\") {
            let base = plain_home()?;
            let rest = explicit[1..].trim_start_matches(['/', '\\']);
            return Some((lexical_absolute(&base.join(rest), &env.cwd), OPENCLAW_HOME));
        }
        return Some((
            lexical_absolute(Path::new(explicit), &env.cwd),
            OPENCLAW_HOME,
        ));
    }
    let from = if env.var("HOME").is_some() {
        "HOME"
    } else if env.var("USERPROFILE").is_some() {
        "USERPROFILE"
    } else {
        "home directory"
    };
    plain_home().map(|h| (lexical_absolute(&h, &env.cwd), from))
}

/// `resolveUserPath`: trim, expand a leading `~` against OpenClaw's home, make
/// absolute against the cwd (Node's `path.resolve`, lexical).
pub fn user_path(raw: &str, home: &Path, cwd: &Path) -> PathBuf {
    let t = raw.trim();
    if t == "~" {
        return home.to_path_buf();
    }
    if let Some(rest) = t.strip_prefix("~/").or_else(|| t.strip_prefix("~\\")) {
        return lexical_absolute(&home.join(rest), cwd);
    }
    lexical_absolute(Path::new(t), cwd)
}

/// `path.resolve` without touching the file system: absolute, `.`/`..` folded.
fn lexical_absolute(p: &Path, cwd: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn var<'e>(env: &'e Environment, names: &[&'static str]) -> Option<(&'e str, &'static str)> {
    names.iter().find_map(|n| {
        env.var(n)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| (v, *n))
    })
}

/// Resolve state dir and config file as OpenClaw does for the process whose
/// environment is `env`. `profile` is `--profile NAME` (it wins over
/// `OPENCLAW_PROFILE`); `exists` answers whether a path exists (the real file
/// system in commands, a set of paths in unit tests).
///
/// Order (src/config/paths.ts, src/cli/profile.ts):
/// 1. `OPENCLAW_CONFIG_PATH` (then legacy `CLAWDBOT_CONFIG_PATH`) names the config;
/// 2. a profile fills `OPENCLAW_STATE_DIR=~/.openclaw-NAME` unless it is set, and the
///    config is `$STATE/openclaw.json`;
/// 3. `OPENCLAW_STATE_DIR` (legacy `CLAWDBOT_STATE_DIR`): the first existing of
///    `openclaw.json`, `clawdbot.json`, `moldbot.json`, `moltbot.json` in it, else
///    `openclaw.json`;
/// 4. default: `~/.openclaw` if it exists, else the first existing of `~/.clawdbot`,
///    `~/.moldbot`, `~/.moltbot`, else `~/.openclaw`; the config is the first
///    existing candidate across those dirs and names, else `~/.openclaw/openclaw.json`.
pub fn resolve(
    env: &Environment,
    profile: Option<&str>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<OpenClawPaths, PathError> {
    let (home, home_from) = openclaw_home(env).ok_or_else(|| {
        PathError("no home directory: set HOME (or OPENCLAW_HOME, OPENCLAW_STATE_DIR)".into())
    })?;
    let raw_profile = profile.or_else(|| env.var(OPENCLAW_PROFILE));
    if let Some(p) = raw_profile.map(str::trim).filter(|p| !p.is_empty())
        && !valid_profile_name(p)
    {
        return Err(PathError(format!(
            "invalid OpenClaw profile {p:?} (use letters, numbers, \"_\", \"-\" only)"
        )));
    }
    let profile = normalize_profile(raw_profile);
    let config_var = var(env, &[OPENCLAW_CONFIG_PATH, CLAWDBOT_CONFIG_PATH]);
    let state_var = var(env, &[OPENCLAW_STATE_DIR, CLAWDBOT_STATE_DIR]);

    let (state_dir, state_dir_from) = match (state_var, &profile) {
        (Some((v, name)), _) => (user_path(v, &home, &env.cwd), Source::Var(name)),
        (None, Some(p)) => (
            home.join(format!("{STATE_DIRNAME}-{p}")),
            Source::Profile(p.clone()),
        ),
        (None, None) => default_state_dir(&home, exists),
    };
    let (config, config_from) = match (config_var, &profile, state_var) {
        (Some((v, name)), _, _) => (user_path(v, &home, &env.cwd), Source::Var(name)),
        (None, Some(p), None) => (state_dir.join(CONFIG_FILENAME), Source::Profile(p.clone())),
        (None, _, Some((_, name))) => (first_config_in(&state_dir, exists), Source::Var(name)),
        (None, None, None) => default_config(&home, exists),
    };
    Ok(OpenClawPaths {
        home,
        home_from,
        profile,
        state_dir,
        state_dir_from,
        config,
        config_from,
    })
}

fn default_state_dir(home: &Path, exists: &dyn Fn(&Path) -> bool) -> (PathBuf, Source) {
    let new = home.join(STATE_DIRNAME);
    if exists(&new) {
        return (new, Source::Default);
    }
    for legacy in LEGACY_STATE_DIRNAMES {
        let d = home.join(legacy);
        if exists(&d) {
            return (d, Source::Legacy);
        }
    }
    (new, Source::Default)
}

fn config_names() -> impl Iterator<Item = &'static str> {
    std::iter::once(CONFIG_FILENAME).chain(LEGACY_CONFIG_FILENAMES.iter().copied())
}

fn first_config_in(dir: &Path, exists: &dyn Fn(&Path) -> bool) -> PathBuf {
    config_names()
        .map(|n| dir.join(n))
        .find(|p| exists(p))
        .unwrap_or_else(|| dir.join(CONFIG_FILENAME))
}

fn default_config(home: &Path, exists: &dyn Fn(&Path) -> bool) -> (PathBuf, Source) {
    let dirs = std::iter::once(STATE_DIRNAME).chain(LEGACY_STATE_DIRNAMES.iter().copied());
    for (i, d) in dirs.enumerate() {
        for n in config_names() {
            let p = home.join(d).join(n);
            if exists(&p) {
                let legacy = i > 0 || n != CONFIG_FILENAME;
                return (
                    p,
                    if legacy {
                        Source::Legacy
                    } else {
                        Source::Default
                    },
                );
            }
        }
    }
    (
        home.join(STATE_DIRNAME).join(CONFIG_FILENAME),
        Source::Default,
    )
}

impl OpenClawPaths {
    /// Resolve against the real file system.
    pub fn discover(env: &Environment, profile: Option<&str>) -> Result<OpenClawPaths, PathError> {
        resolve(env, profile, &|p: &Path| p.exists())
    }

    /// `$STATE/.env`: the global runtime dotenv file.
    pub fn state_dotenv(&self) -> PathBuf {
        self.state_dir.join(".env")
    }

    /// `~/.config/openclaw/gateway.env`, read only when the state dir is the default
    /// `~/.openclaw` (`resolveGlobalDotEnvPaths`, src/infra/dotenv.ts).
    pub fn gateway_env_compat(&self) -> Option<PathBuf> {
        (self.state_dir == self.home.join(STATE_DIRNAME))
            .then(|| self.home.join(".config/openclaw/gateway.env"))
    }

    /// `$STATE/agents/<id>/agent`.
    pub fn agent_dir(&self, agent: &str) -> PathBuf {
        self.state_dir.join("agents").join(agent).join("agent")
    }

    /// `<agentDir>/auth-profiles.json`
    /// (<https://docs.openclaw.ai/gateway/configuration-reference>, "Auth storage").
    pub fn auth_profiles(&self, agent: &str) -> PathBuf {
        self.agent_dir(agent).join("auth-profiles.json")
    }

    /// Every agent's auth store that exists (`agents/*/agent/auth-profiles.json`),
    /// main first.
    pub fn auth_stores(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let main = self.auth_profiles(MAIN_AGENT);
        if main.is_file() {
            out.push(main);
        }
        if let Ok(entries) = std::fs::read_dir(self.state_dir.join("agents")) {
            let mut others: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name() != MAIN_AGENT)
                .map(|e| e.path().join("agent/auth-profiles.json"))
                .filter(|p| p.is_file())
                .collect();
            others.sort();
            out.extend(others);
        }
        out
    }

    /// `$STATE/service-env`: the generated LaunchAgent env files and wrapper
    /// (`LAUNCH_AGENT_ENV_DIR_NAME`, src/daemon/launchd-service-files.ts).
    pub fn service_env_dir(&self) -> PathBuf {
        self.state_dir.join("service-env")
    }

    /// `$STATE/gateway.systemd.env`: the unit's generated `EnvironmentFile=`.
    pub fn systemd_env_file(&self) -> PathBuf {
        self.state_dir.join("gateway.systemd.env")
    }

    /// `$STATE/gateway.cmd`: the script the Windows task runs
    /// (<https://docs.openclaw.ai/gateway>, "Windows (native)").
    pub fn gateway_cmd(&self) -> PathBuf {
        self.state_dir.join("gateway.cmd")
    }

    /// Directories `$include` may read from: the config's own, then
    /// `OPENCLAW_INCLUDE_ROOTS` (`:`-separated; `;` on Windows), tilde-expanded.
    pub fn include_roots(&self, env: &Environment) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self
            .config
            .parent()
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        let sep = if env.platform == crate::env::Platform::Windows {
            ';'
        } else {
            ':'
        };
        if let Some(list) = env.var(OPENCLAW_INCLUDE_ROOTS) {
            roots.extend(
                list.split(sep)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| user_path(s, &self.home, &env.cwd)),
            );
        }
        roots
    }

    /// Whether the config or state dir is a pre-rename (Clawdbot/Moltbot) one.
    pub fn is_legacy(&self) -> bool {
        self.state_dir_from == Source::Legacy || self.config_from == Source::Legacy
    }
}

/// The gateway port OpenClaw would use, and where it came from:
/// `OPENCLAW_GATEWAY_PORT` (legacy `CLAWDBOT_GATEWAY_PORT`) when it parses to a
/// positive number (`Number.parseInt`: leading digits), else `gateway.port`, else
/// 18789 (`resolveGatewayPort`, src/config/paths.ts). A variable that does not parse
/// is ignored by OpenClaw: returned in `.2` so a finding can say so.
pub fn gateway_port(env: &Environment, config_port: Option<i64>) -> (u32, String, Option<String>) {
    let mut ignored = None;
    if let Some((raw, name)) = var(env, &[OPENCLAW_GATEWAY_PORT, CLAWDBOT_GATEWAY_PORT]) {
        match parse_int_prefix(raw) {
            Some(p) if p > 0 && p <= u32::MAX as i64 => {
                return (p as u32, format!("${name}"), None);
            }
            _ => ignored = Some(format!("{name}={raw}")),
        }
    }
    if let Some(p) = config_port.filter(|p| *p > 0 && *p <= u32::MAX as i64) {
        return (p as u32, "gateway.port".into(), ignored);
    }
    (DEFAULT_GATEWAY_PORT, "default".into(), ignored)
}

pub const OPENCLAW_GATEWAY_PORT: &str = "OPENCLAW_GATEWAY_PORT";
pub const CLAWDBOT_GATEWAY_PORT: &str = "CLAWDBOT_GATEWAY_PORT";
pub const OPENCLAW_GATEWAY_TOKEN: &str = "OPENCLAW_GATEWAY_TOKEN";
pub const OPENCLAW_GATEWAY_PASSWORD: &str = "OPENCLAW_GATEWAY_PASSWORD";
/// `DEFAULT_GATEWAY_PORT` in src/config/paths.ts.
pub const DEFAULT_GATEWAY_PORT: u32 = 18789;

/// JavaScript's `Number.parseInt(s, 10)`: optional sign, leading digits, rest ignored.
fn parse_int_prefix(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end].parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::for_test(vars, "/home/u", "/work")
    }

    fn fs(paths: &[&str]) -> impl Fn(&Path) -> bool {
        let set: BTreeSet<PathBuf> = paths.iter().map(PathBuf::from).collect();
        move |p: &Path| set.contains(p)
    }

    fn r(e: &Environment, profile: Option<&str>, exists: &[&str]) -> OpenClawPaths {
        resolve(e, profile, &fs(exists)).unwrap()
    }

    #[test]
    fn default_is_dot_openclaw() {
        let p = r(&env(&[("HOME", "/home/u")]), None, &[]);
        assert_eq!(p.state_dir, Path::new("/home/u/.openclaw"));
        assert_eq!(p.config, Path::new("/home/u/.openclaw/openclaw.json"));
        assert_eq!(p.config_from, Source::Default);
        assert_eq!(
            p.gateway_env_compat().unwrap(),
            Path::new("/home/u/.config/openclaw/gateway.env")
        );
        assert_eq!(
            p.auth_profiles("main"),
            Path::new("/home/u/.openclaw/agents/main/agent/auth-profiles.json")
        );
    }

    #[test]
    fn openclaw_home_replaces_home() {
        let p = r(
            &env(&[("HOME", "/home/u"), (OPENCLAW_HOME, "/srv/oc")]),
            None,
            &[],
        );
        assert_eq!(p.home, Path::new("/srv/oc"));
        assert_eq!(p.home_from, OPENCLAW_HOME);
        assert_eq!(p.config, Path::new("/srv/oc/.openclaw/openclaw.json"));
        let p = r(
            &env(&[("HOME", "/home/u"), (OPENCLAW_HOME, "~/svc")]),
            None,
            &[],
        );
        assert_eq!(p.home, Path::new("/home/u/svc"));
    }

    #[test]
    fn config_path_variable_wins() {
        let e = env(&[
            ("HOME", "/home/u"),
            (OPENCLAW_CONFIG_PATH, "~/a.json"),
            (OPENCLAW_STATE_DIR, "~/.openclaw-a"),
        ]);
        let p = r(&e, Some("work"), &[]);
        assert_eq!(p.config, Path::new("/home/u/a.json"));
        assert_eq!(p.config_from, Source::Var(OPENCLAW_CONFIG_PATH));
        assert_eq!(p.state_dir, Path::new("/home/u/.openclaw-a"));
        let rel = r(
            &env(&[("HOME", "/home/u"), (OPENCLAW_CONFIG_PATH, "cfg/x.json")]),
            None,
            &[],
        );
        assert_eq!(rel.config, Path::new("/work/cfg/x.json"));
    }

    #[test]
    fn state_dir_variable_prefers_existing_legacy_names_in_it() {
        let e = env(&[("HOME", "/home/u"), (OPENCLAW_STATE_DIR, "/s")]);
        assert_eq!(r(&e, None, &[]).config, Path::new("/s/openclaw.json"));
        assert_eq!(
            r(&e, None, &["/s/clawdbot.json"]).config,
            Path::new("/s/clawdbot.json")
        );
        assert_eq!(
            r(&e, None, &["/s/clawdbot.json", "/s/openclaw.json"]).config,
            Path::new("/s/openclaw.json")
        );
        assert!(r(&e, None, &[]).gateway_env_compat().is_none());
        let legacy = env(&[("HOME", "/home/u"), (CLAWDBOT_STATE_DIR, "/old")]);
        assert_eq!(
            r(&legacy, None, &[]).state_dir_from,
            Source::Var(CLAWDBOT_STATE_DIR)
        );
    }

    #[test]
    fn legacy_clawdbot_home_only_when_openclaw_is_absent() {
        let e = env(&[("HOME", "/home/u")]);
        let p = r(
            &e,
            None,
            &["/home/u/.clawdbot", "/home/u/.clawdbot/clawdbot.json"],
        );
        assert_eq!(p.state_dir, Path::new("/home/u/.clawdbot"));
        assert_eq!(p.config, Path::new("/home/u/.clawdbot/clawdbot.json"));
        assert!(p.is_legacy());
        let p = r(
            &e,
            None,
            &[
                "/home/u/.openclaw",
                "/home/u/.clawdbot",
                "/home/u/.clawdbot/clawdbot.json",
            ],
        );
        assert_eq!(p.state_dir, Path::new("/home/u/.openclaw"));
        // The config candidates still find the legacy file when ~/.openclaw has none.
        assert_eq!(p.config, Path::new("/home/u/.clawdbot/clawdbot.json"));
    }

    #[test]
    fn profile_suffixes_the_state_dir_and_default_means_none() {
        let e = env(&[("HOME", "/home/u")]);
        let p = r(&e, Some("work"), &[]);
        assert_eq!(p.state_dir, Path::new("/home/u/.openclaw-work"));
        assert_eq!(p.config, Path::new("/home/u/.openclaw-work/openclaw.json"));
        assert_eq!(p.profile.as_deref(), Some("work"));
        assert!(p.gateway_env_compat().is_none());
        let d = r(&e, Some("Default"), &[]);
        assert_eq!(d.state_dir, Path::new("/home/u/.openclaw"));
        assert_eq!(d.profile, None);
        let by_var = r(
            &env(&[("HOME", "/home/u"), (OPENCLAW_PROFILE, "dev")]),
            None,
            &[],
        );
        assert_eq!(by_var.state_dir, Path::new("/home/u/.openclaw-dev"));
        assert!(resolve(&e, Some("../x"), &fs(&[])).is_err());
    }

    #[test]
    fn gateway_port_follows_parse_int() {
        let e = env(&[(OPENCLAW_GATEWAY_PORT, "19001")]);
        assert_eq!(gateway_port(&e, Some(1)).0, 19001);
        let bad = env(&[(OPENCLAW_GATEWAY_PORT, "abc")]);
        let (port, from, ignored) = gateway_port(&bad, Some(18790));
        assert_eq!((port, from.as_str()), (18790, "gateway.port"));
        assert_eq!(ignored.as_deref(), Some("OPENCLAW_GATEWAY_PORT=abc"));
        assert_eq!(
            gateway_port(&env(&[(OPENCLAW_GATEWAY_PORT, "8080x")]), None).0,
            8080
        );
        assert_eq!(gateway_port(&env(&[]), None).0, DEFAULT_GATEWAY_PORT);
    }

    #[test]
    fn include_roots_are_a_path_list() {
        let e = env(&[
            ("HOME", "/home/u"),
            (OPENCLAW_INCLUDE_ROOTS, "~/shared:/etc/oc"),
        ]);
        let p = r(&e, None, &[]);
        assert_eq!(
            p.include_roots(&e),
            [
                PathBuf::from("/home/u/.openclaw"),
                PathBuf::from("/home/u/shared"),
                PathBuf::from("/etc/oc")
            ]
        );
    }
}
