//! Dialects: where a target's files live and how they layer.
//!
//! clawctl's own files (`config.toml`, `credentials.toml`, `.env`; see `env::paths`)
//! are one dialect. An OpenClaw install read in place (`--openclaw`,
//! `CLAWCTL_TARGET=openclaw`) is the other: `openclaw.json` (JSON5, `$include`,
//! `${VAR}`), OpenClaw's state dir and env precedence, `auth-profiles.json`, and
//! OpenClaw's own service definitions. Both are functions of an [`Environment`];
//! nothing here reads the process, and nothing in the OpenClaw dialect writes.

pub mod openclaw;

use std::fmt;

use crate::env::Environment;
use crate::env::vars::CLAWCTL_TARGET;

/// Which install a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// clawctl's own files.
    #[default]
    Clawctl,
    /// An OpenClaw install, read-only.
    OpenClaw,
}

/// `CLAWCTL_TARGET` holds something other than `clawctl` or `openclaw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTarget(pub String);

impl fmt::Display for UnknownTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{CLAWCTL_TARGET}={:?} is not a target clawctl knows (expected `clawctl` or `openclaw`)",
            self.0
        )
    }
}

impl std::error::Error for UnknownTarget {}

impl Dialect {
    /// The dialect for this run: `--openclaw` wins, then `CLAWCTL_TARGET`
    /// (`openclaw` or `clawctl`, case-insensitive), else clawctl's own.
    pub fn select(env: &Environment, openclaw_flag: bool) -> Result<Dialect, UnknownTarget> {
        if openclaw_flag {
            return Ok(Dialect::OpenClaw);
        }
        match env.var(CLAWCTL_TARGET).map(str::trim) {
            None | Some("") => Ok(Dialect::Clawctl),
            Some(t) if t.eq_ignore_ascii_case("openclaw") => Ok(Dialect::OpenClaw),
            Some(t) if t.eq_ignore_ascii_case("clawctl") => Ok(Dialect::Clawctl),
            Some(t) => Err(UnknownTarget(t.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Clawctl => "clawctl",
            Dialect::OpenClaw => "openclaw",
        }
    }

    /// Whether commands may write under this dialect (never for OpenClaw).
    pub fn writable(self) -> bool {
        matches!(self, Dialect::Clawctl)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::for_test(vars, "/home/u", "/")
    }

    #[test]
    fn flag_and_variable_select_openclaw() {
        assert_eq!(Dialect::select(&env(&[]), false), Ok(Dialect::Clawctl));
        assert_eq!(Dialect::select(&env(&[]), true), Ok(Dialect::OpenClaw));
        assert_eq!(
            Dialect::select(&env(&[(CLAWCTL_TARGET, "OpenClaw")]), false),
            Ok(Dialect::OpenClaw)
        );
        assert_eq!(
            Dialect::select(&env(&[(CLAWCTL_TARGET, "clawctl")]), true),
            Ok(Dialect::OpenClaw)
        );
        assert_eq!(
            Dialect::select(&env(&[(CLAWCTL_TARGET, "hermes")]), false),
            Err(UnknownTarget("hermes".into()))
        );
        assert!(!Dialect::OpenClaw.writable());
    }
}
