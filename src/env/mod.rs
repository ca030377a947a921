//! `Environment`: everything outside the config files that decides what gets loaded.
//!
//! This is the only module allowed to read `std::env`, `dirs::*` or the current
//! directory. Every other question ("what does the *service* see?") is answered by
//! building another `Environment` from other evidence and running the same loader.

pub mod paths;
pub mod vars;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linux,
    Macos,
    Windows,
    Other,
}

impl Platform {
    pub fn current() -> Platform {
        if cfg!(target_os = "linux") {
            Platform::Linux
        } else if cfg!(target_os = "macos") {
            Platform::Macos
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Other
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Windows => "windows",
            Platform::Other => "other",
        })
    }
}

/// The inputs of a load that do not come from clawctl's own files.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Environment variables as the loading process sees them.
    pub vars: BTreeMap<String, String>,
    /// Where each variable came from, when known (service view: "unit foo.service:12").
    pub var_evidence: BTreeMap<String, String>,
    /// The user's home directory (`~`).
    pub home: Option<PathBuf>,
    /// Working directory; relative paths in variables resolve against it.
    pub cwd: PathBuf,
    pub platform: Platform,
    /// Human label of the view: "this shell", "systemd unit clawctl-gateway.service", …
    pub origin: String,
    /// The platform's own config dir (macOS: ~/Library/Application Support), read
    /// only as a legacy location.
    pub platform_config_dir: Option<PathBuf>,
}

impl Environment {
    /// The CLI's view: this process.
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that snapshots the process's environment, home and cwd"
    )]
    pub fn current() -> Environment {
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Environment {
            vars,
            var_evidence: BTreeMap::new(),
            home: dirs::home_dir(),
            cwd,
            platform: Platform::current(),
            origin: "this shell".to_string(),
            platform_config_dir: dirs::config_dir(),
        }
    }

    /// A Linux environment for unit tests: these variables, this home and cwd.
    #[cfg(test)]
    pub(crate) fn for_test(vars: &[(&str, &str)], home: &str, cwd: &str) -> Environment {
        Environment::from_parts(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Some(PathBuf::from(home)),
            PathBuf::from(cwd),
            Platform::Linux,
            "test",
        )
    }

    /// An environment from explicit parts (tests, service views).
    pub fn from_parts(
        vars: BTreeMap<String, String>,
        home: Option<PathBuf>,
        cwd: PathBuf,
        platform: Platform,
        origin: impl Into<String>,
    ) -> Environment {
        let platform_config_dir = match (platform, &home) {
            (Platform::Macos, Some(h)) => Some(h.join("Library/Application Support")),
            (Platform::Windows, Some(h)) => Some(h.join("AppData/Roaming")),
            (_, Some(h)) => Some(
                vars.get(crate::env::vars::XDG_CONFIG_HOME)
                    .map(PathBuf::from)
                    .unwrap_or_else(|| h.join(".config")),
            ),
            _ => None,
        };
        Environment {
            vars,
            var_evidence: BTreeMap::new(),
            home,
            cwd,
            platform,
            origin: origin.into(),
            platform_config_dir,
        }
    }

    /// A non-empty variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Resolve a path the way this environment's process would: `~/` against home,
    /// relative paths against cwd.
    pub fn resolve_path(&self, raw: &str) -> PathBuf {
        if let (Some(rest), Some(home)) = (raw.strip_prefix("~/"), &self.home) {
            return home.join(rest);
        }
        let p = Path::new(raw);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// Shorten a path for display: `~/…` when under home.
    pub fn display_path(&self, path: &Path) -> String {
        if let Some(home) = &self.home
            && let Ok(rest) = path.strip_prefix(home)
        {
            return format!("~/{}", rest.display());
        }
        path.display().to_string()
    }
}
