//! OpenClaw's environment: which value of a variable the gateway (or the CLI) ends
//! up with, and where it came from.
//!
//! Reference: <https://docs.openclaw.ai/help/environment> ("Precedence (highest to
//! lowest)"; "never override existing values"), `openclaw/openclaw`
//! `src/infra/dotenv.ts` (`loadGlobalRuntimeDotEnvFilesCore`, `resolveGlobalDotEnvPaths`:
//! `~/.config/openclaw/gateway.env` only for the default state dir, the state `.env`
//! wins a conflict with a warning) and `src/config/env-vars.ts`
//! (`collectConfigEnvVars`: `env.vars.*` plus string keys directly under `env`, applied
//! where the value is missing or blank). The login-shell import is reported as
//! "would import", never run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::dotenv;
use crate::env::Environment;
use crate::providers::catalog::Catalog;

use super::paths::OpenClawPaths;
use super::providers::workspace_block_reason;

/// Turns on the login-shell import (as `env.shellEnv.enabled` does).
pub const OPENCLAW_LOAD_SHELL_ENV: &str = "OPENCLAW_LOAD_SHELL_ENV";
/// Names of the values `openclaw gateway install` baked into the service definition.
pub const OPENCLAW_SERVICE_MANAGED_ENV_KEYS: &str = "OPENCLAW_SERVICE_MANAGED_ENV_KEYS";

/// The layers, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// The process's own environment (shell, launchd/systemd definition, task script).
    Process,
    /// `./.env` in the working directory (filtered).
    WorkspaceDotenv,
    /// `$STATE/.env`.
    StateDotenv,
    /// `~/.config/openclaw/gateway.env`.
    GatewayEnv,
    /// The config's `env` block.
    ConfigEnv,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Process => "process environment",
            Layer::WorkspaceDotenv => "workspace .env",
            Layer::StateDotenv => "state .env",
            Layer::GatewayEnv => "gateway.env",
            Layer::ConfigEnv => "config env",
        })
    }
}

/// One variable's winning value.
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    pub value: String,
    pub layer: Layer,
    /// `~/.openclaw/.env:3`, `openclaw.json env.vars.MOONSHOT_API_KEY`, the service
    /// definition's line, or the view's origin ("this shell").
    pub evidence: String,
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("value", &crate::secrets::mask::describe(&self.value))
            .field("layer", &self.layer)
            .field("evidence", &self.evidence)
            .finish()
    }
}

/// A line a layer had but OpenClaw does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub name: String,
    pub evidence: String,
    pub why: String,
}

/// Everything the layering found.
#[derive(Debug, Clone, Default)]
pub struct Layered {
    pub vars: BTreeMap<String, Value>,
    /// Lines not applied: blocked in the workspace `.env`, shadowed by a stronger
    /// layer with a different value (only those whose value differs are kept).
    pub ignored: Vec<Ignored>,
    /// The `.env` files read, in order.
    pub files: Vec<PathBuf>,
    /// Parse errors of those files, as `file:line: message`.
    pub errors: Vec<String>,
    /// Set when the login-shell import is on: what enabled it.
    pub shell_import: Option<String>,
}

impl Layered {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name).filter(|v| !v.value.trim().is_empty())
    }

    /// The variables as a plain map (for `${VAR}` substitution).
    pub fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(|v| v.value.as_str())
    }
}

/// Inputs from the config file that take part in the layering.
#[derive(Debug, Clone, Default)]
pub struct ConfigEnv {
    /// `env.vars.*` and string keys directly under `env`, in file order, with evidence.
    pub vars: Vec<(String, String, String)>,
    /// `env.shellEnv.enabled`.
    pub shell_enabled: bool,
}

/// Layer the environment of one process (`env`) the way OpenClaw does at start-up.
///
/// `managed_override`: for an OpenClaw-installed systemd service, the names in its
/// `OPENCLAW_SERVICE_MANAGED_ENV_KEYS` — the global `.env` may replace those values
/// (environment.md: "may replace only service values that OpenClaw recorded as
/// managed").
pub fn layer(
    env: &Environment,
    paths: &OpenClawPaths,
    config: &ConfigEnv,
    catalog: &Catalog,
    managed_override: &[String],
) -> Layered {
    let mut out = Layered::default();
    for (k, v) in &env.vars {
        let evidence = env
            .var_evidence
            .get(k)
            .cloned()
            .unwrap_or_else(|| env.origin.clone());
        out.vars.insert(
            k.clone(),
            Value {
                value: v.clone(),
                layer: Layer::Process,
                evidence,
            },
        );
    }
    let home = paths.home.as_path();
    // 2. ./.env, unless it is the state .env itself.
    let workspace = env.cwd.join(".env");
    if workspace != paths.state_dotenv() {
        apply_file(
            &mut out,
            &workspace,
            Layer::WorkspaceDotenv,
            home,
            &[],
            |name| workspace_block_reason(name, catalog),
        );
    }
    // 3. $STATE/.env; 4. ~/.config/openclaw/gateway.env (default state dir only).
    apply_file(
        &mut out,
        &paths.state_dotenv(),
        Layer::StateDotenv,
        home,
        managed_override,
        |_| None,
    );
    if let Some(g) = paths.gateway_env_compat() {
        apply_file(
            &mut out,
            &g,
            Layer::GatewayEnv,
            home,
            managed_override,
            |_| None,
        );
    }
    // 5. the config's env block.
    for (name, value, evidence) in &config.vars {
        apply(
            &mut out,
            name,
            value,
            Layer::ConfigEnv,
            evidence.clone(),
            false,
        );
    }
    // 6. the login shell, reported only.
    if config.shell_enabled {
        out.shell_import = Some("env.shellEnv.enabled".into());
    } else if env
        .var(OPENCLAW_LOAD_SHELL_ENV)
        .is_some_and(|v| v.trim() == "1")
    {
        out.shell_import = Some(format!("{OPENCLAW_LOAD_SHELL_ENV}=1"));
    }
    out
}

fn apply_file(
    out: &mut Layered,
    path: &Path,
    layer: Layer,
    home: &Path,
    may_override: &[String],
    blocked: impl Fn(&str) -> Option<&'static str>,
) {
    let Ok(text) = crate::read::string(path) else {
        return;
    };
    out.files.push(path.to_path_buf());
    let shown = display(path, home);
    let (entries, errors) = dotenv::parse(&text);
    for e in errors {
        out.errors
            .push(format!("{shown}:{}: {}", e.line, e.message));
    }
    for e in entries {
        let evidence = format!("{shown}:{}", e.line);
        if let Some(why) = blocked(&e.name) {
            out.ignored.push(Ignored {
                name: e.name,
                evidence,
                why: format!("OpenClaw ignores {why} in a workspace .env"),
            });
            continue;
        }
        let force = may_override.contains(&e.name)
            && out
                .vars
                .get(&e.name)
                .is_some_and(|v| v.layer == Layer::Process);
        apply(out, &e.name, &e.value, layer, evidence, force);
    }
}

/// Set `name` unless a stronger layer already holds a non-blank value.
fn apply(out: &mut Layered, name: &str, value: &str, layer: Layer, evidence: String, force: bool) {
    match out.vars.get(name) {
        Some(existing) if !force && !existing.value.trim().is_empty() => {
            if existing.value != value {
                out.ignored.push(Ignored {
                    name: name.to_string(),
                    evidence,
                    why: format!(
                        "shadowed by the {} value ({}), which OpenClaw keeps",
                        existing.layer, existing.evidence
                    ),
                });
            }
        }
        _ => {
            out.vars.insert(
                name.to_string(),
                Value {
                    value: value.to_string(),
                    layer,
                    evidence,
                },
            );
        }
    }
}

/// `~/…` for paths under the home.
pub fn display(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// The result of `${VAR}` substitution in one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    pub value: String,
    /// Uppercase names referenced but missing or empty: their `${NAME}` stays in
    /// `value` and OpenClaw warns.
    pub missing: Vec<String>,
    /// Names that were substituted.
    pub used: Vec<String>,
}

/// OpenClaw's `${VAR}` substitution (<https://docs.openclaw.ai/gateway/configuration-reference>,
/// "Env var substitution"): only `[A-Z_][A-Z0-9_]*` names; a missing or empty
/// variable leaves `${NAME}` in place (and is reported); `$${NAME}` is the literal
/// `${NAME}`.
pub fn substitute(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Substituted {
    let mut value = String::with_capacity(s.len());
    let mut missing = Vec::new();
    let mut used = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        value.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${")
            && let Some(end) = after.find('}')
            && is_upper_name(&after[..end])
        {
            value.push_str("${");
            value.push_str(&after[..=end]);
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = tail.strip_prefix("${")
            && let Some(end) = after.find('}')
            && is_upper_name(&after[..end])
        {
            let name = &after[..end];
            match lookup(name).filter(|v| !v.is_empty()) {
                Some(v) => {
                    value.push_str(&v);
                    used.push(name.to_string());
                }
                None => {
                    value.push_str(&tail[..end + 3]);
                    missing.push(name.to_string());
                }
            }
            rest = &after[end + 1..];
            continue;
        }
        value.push('$');
        rest = &tail[1..];
    }
    value.push_str(rest);
    Substituted {
        value,
        missing,
        used,
    }
}

fn is_upper_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `OPENCLAW_SERVICE_MANAGED_ENV_KEYS` as a list (comma-separated).
pub fn managed_keys(env: &Environment) -> Vec<String> {
    env.var(OPENCLAW_SERVICE_MANAGED_ENV_KEYS)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Platform;

    fn setup() -> (tempfile::TempDir, Environment, OpenClawPaths) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let cwd = dir.path().join("proj");
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        std::fs::create_dir_all(home.join(".config/openclaw")).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        let mut vars = BTreeMap::new();
        vars.insert("HOME".to_string(), home.display().to_string());
        vars.insert("MOONSHOT_API_KEY".to_string(), "sk-from-shell".to_string());
        vars.insert("EMPTY".to_string(), String::new());
        let env =
            Environment::from_parts(vars, Some(home.clone()), cwd, Platform::Linux, "this shell");
        let paths = OpenClawPaths::discover(&env, None).unwrap();
        (dir, env, paths)
    }

    #[test]
    fn precedence_never_overrides_and_filters_the_workspace_file() {
        let (_d, env, paths) = setup();
        std::fs::write(
            env.cwd.join(".env"),
            "ZAI_API_KEY=from-workspace\nPROJECT=yes\nFOO=ws\n",
        )
        .unwrap();
        std::fs::write(
            paths.state_dotenv(),
            "MOONSHOT_API_KEY=sk-from-state\nFOO=state\nBAR=state\nEMPTY=filled\n",
        )
        .unwrap();
        std::fs::write(
            paths.gateway_env_compat().unwrap(),
            "BAR=gateway\nBAZ=gateway\n",
        )
        .unwrap();
        let cfg = ConfigEnv {
            vars: vec![
                (
                    "BAZ".into(),
                    "config".into(),
                    "openclaw.json env.vars.BAZ".into(),
                ),
                (
                    "QUX".into(),
                    "config".into(),
                    "openclaw.json env.vars.QUX".into(),
                ),
            ],
            shell_enabled: false,
        };
        let l = layer(&env, &paths, &cfg, &Catalog::builtin(), &[]);
        let v = |n: &str| l.get(n).map(|v| (v.value.clone(), v.layer));
        assert_eq!(
            v("MOONSHOT_API_KEY"),
            Some(("sk-from-shell".into(), Layer::Process))
        );
        assert_eq!(
            v("ZAI_API_KEY"),
            None,
            "provider keys are blocked in ./.env"
        );
        assert_eq!(v("PROJECT"), Some(("yes".into(), Layer::WorkspaceDotenv)));
        assert_eq!(v("FOO"), Some(("ws".into(), Layer::WorkspaceDotenv)));
        assert_eq!(v("BAR"), Some(("state".into(), Layer::StateDotenv)));
        assert_eq!(v("BAZ"), Some(("gateway".into(), Layer::GatewayEnv)));
        assert_eq!(v("QUX"), Some(("config".into(), Layer::ConfigEnv)));
        // An empty process value does not block a file's value.
        assert_eq!(v("EMPTY"), Some(("filled".into(), Layer::StateDotenv)));
        assert!(
            l.ignored
                .iter()
                .any(|i| i.name == "ZAI_API_KEY" && i.why.contains("credential"))
        );
        assert!(
            l.ignored
                .iter()
                .any(|i| i.name == "MOONSHOT_API_KEY" && i.evidence.ends_with("/.openclaw/.env:1"))
        );
        assert_eq!(l.get("BAR").unwrap().evidence, "~/.openclaw/.env:3");
        assert_eq!(l.shell_import, None);
    }

    #[test]
    fn managed_service_keys_may_be_replaced_by_the_state_env() {
        let (_d, env, paths) = setup();
        std::fs::write(paths.state_dotenv(), "MOONSHOT_API_KEY=sk-rotated\n").unwrap();
        let l = layer(
            &env,
            &paths,
            &ConfigEnv::default(),
            &Catalog::builtin(),
            &["MOONSHOT_API_KEY".to_string()],
        );
        assert_eq!(l.get("MOONSHOT_API_KEY").unwrap().value, "sk-rotated");
    }

    #[test]
    fn shell_import_is_reported_not_run() {
        let (_d, mut env, paths) = setup();
        env.vars.insert(OPENCLAW_LOAD_SHELL_ENV.into(), "1".into());
        let l = layer(
            &env,
            &paths,
            &ConfigEnv::default(),
            &Catalog::builtin(),
            &[],
        );
        assert_eq!(l.shell_import.as_deref(), Some("OPENCLAW_LOAD_SHELL_ENV=1"));
    }

    #[test]
    fn substitution_rules() {
        let lookup = |n: &str| match n {
            "A" => Some("x".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let s = substitute("${A}-${B}-$${A}-${lower}-${EMPTY}-$5", &lookup);
        assert_eq!(s.value, "x-${B}-${A}-${lower}-${EMPTY}-$5");
        assert_eq!(s.missing, ["B", "EMPTY"]);
        assert_eq!(s.used, ["A"]);
    }
}
