//! Where a value came from. Precedence is the order of `Layer` — nowhere else.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::env::Environment;

/// Configuration layers, lowest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Default,
    /// The fleet's shared layer in etcd.
    Fleet,
    File,
    DotEnv,
    Env,
    CommandArg,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Default => "default",
            Layer::Fleet => "fleet",
            Layer::File => "file",
            Layer::DotEnv => "dotenv",
            Layer::Env => "env",
            Layer::CommandArg => "command line",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// A key of the fleet layer: its etcd key and mod revision; `cached` when etcd was
    /// unreachable and the last good copy was used.
    Fleet {
        key: String,
        revision: i64,
        cached: bool,
    },
    File {
        path: PathBuf,
        line: usize,
        col: usize,
    },
    DotEnv {
        path: PathBuf,
        line: usize,
        var: String,
    },
    Env {
        var: String,
    },
    /// `--set KEY=VALUE`: the argument's position among the `--set`s (from 0) and its
    /// key, never its value (as cargo's `Definition::Cli`), so an origin cannot leak a
    /// secret given on the command line.
    Set {
        index: usize,
        key: String,
    },
}

impl Origin {
    pub fn layer(&self) -> Layer {
        match self {
            Origin::Default => Layer::Default,
            Origin::Fleet { .. } => Layer::Fleet,
            Origin::File { .. } => Layer::File,
            Origin::DotEnv { .. } => Layer::DotEnv,
            Origin::Env { .. } => Layer::Env,
            Origin::Set { .. } => Layer::CommandArg,
        }
    }

    /// git-style label: `file:~/.config/clawctl/config.toml:12:9`, `env:CLAWCTL__GATEWAY__PORT`.
    pub fn label(&self, env: &Environment) -> String {
        match self {
            Origin::Default => "default".into(),
            Origin::Fleet { .. } => self.to_string(),
            Origin::File { path, line, col } => {
                format!("file:{}:{line}:{col}", env.display_path(path))
            }
            Origin::DotEnv { path, line, var } => {
                format!("dotenv:{}:{line} ({var})", env.display_path(path))
            }
            Origin::Env { var } => format!("env:{var}"),
            Origin::Set { key, .. } => format!("command line:--set {key}"),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Origin::Default => json!({"layer": "default"}),
            Origin::Fleet {
                key,
                revision,
                cached,
            } => json!({"layer": "fleet", "key": key, "revision": revision, "cached": cached}),
            Origin::File { path, line, col } => {
                json!({"layer": "file", "path": path, "line": line, "column": col})
            }
            Origin::DotEnv { path, line, var } => {
                json!({"layer": "dotenv", "path": path, "line": line, "variable": var})
            }
            Origin::Env { var } => json!({"layer": "env", "variable": var}),
            Origin::Set { index, key } => {
                json!({"layer": "command-arg", "index": index, "key": key})
            }
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Fleet {
                key,
                revision,
                cached,
            } => write!(
                f,
                "etcd {key} @rev {revision}{}",
                if *cached { " (cached)" } else { "" }
            ),
            Origin::File { path, line, col } => write!(f, "{}:{line}:{col}", path.display()),
            Origin::DotEnv { path, line, var } => {
                write!(f, "{}:{line} ({var})", path.display())
            }
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Set { key, .. } => write!(f, "--set {key}"),
        }
    }
}
