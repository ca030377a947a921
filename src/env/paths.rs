//! Which files a given environment reads: home, config.toml, credentials.toml,
//! .env, backups/, run/ — and every candidate considered, for `config path`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::env::Environment;
use crate::env::vars;

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub path: PathBuf,
    pub exists: bool,
    pub chosen: bool,
    /// Why this candidate is (or would be) considered: "$CLAWCTL_CONFIG", "default".
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paths {
    /// The profile in effect, if any.
    pub profile: Option<String>,
    pub home: PathBuf,
    /// What chose the home: `$CLAWCTL_HOME`, `$XDG_CONFIG_HOME`, `~/.config`.
    pub home_reason: String,
    pub config: PathBuf,
    pub config_reason: String,
    pub credentials: PathBuf,
    pub dotenv: PathBuf,
    pub backups: PathBuf,
    pub run_dir: PathBuf,
    pub candidates: Vec<Candidate>,
    /// Config files in legacy locations (macOS Application Support, …) that exist.
    pub legacy: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn with_profile(home: PathBuf, profile: Option<&str>) -> PathBuf {
    match profile {
        None => home,
        Some(p) => {
            let name = home
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "clawctl".into());
            home.with_file_name(format!("{name}-{p}"))
        }
    }
}

pub fn valid_profile_name(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 64
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Paths {
    /// Resolve for `env`; `profile_arg` is `--profile` (beats `CLAWCTL_PROFILE`).
    pub fn resolve(env: &Environment, profile_arg: Option<&str>) -> Result<Paths, PathError> {
        let profile = profile_arg
            .map(String::from)
            .or_else(|| env.var(vars::CLAWCTL_PROFILE).map(String::from));
        if let Some(p) = &profile
            && !valid_profile_name(p)
        {
            return Err(PathError(format!(
                "invalid profile name `{p}`: use letters, digits, `-` and `_` (at most 64)"
            )));
        }
        let mut candidates = Vec::new();
        let home_default = env.home.as_ref().map(|h| h.join(".config").join("clawctl"));
        let (home, home_reason) = if let Some(h) = env.var(vars::CLAWCTL_HOME) {
            (env.resolve_path(h), "$CLAWCTL_HOME".to_string())
        } else if let Some(x) = env.var(vars::XDG_CONFIG_HOME) {
            (
                env.resolve_path(x).join("clawctl"),
                "$XDG_CONFIG_HOME".to_string(),
            )
        } else if let Some(h) = home_default.clone() {
            (h, "the default, ~/.config/clawctl".to_string())
        } else {
            return Err(PathError(
                "cannot tell where clawctl's home is: HOME is not set. Set CLAWCTL_HOME to a directory".into(),
            ));
        };
        let home = with_profile(home, profile.as_deref());
        let home_reason = match &profile {
            Some(p) => format!("{home_reason}, profile `{p}`"),
            None => home_reason,
        };

        let env_config = env.var(vars::CLAWCTL_CONFIG).map(|c| env.resolve_path(c));
        if let Some(c) = &env_config {
            candidates.push(Candidate {
                path: c.clone(),
                exists: c.exists(),
                chosen: true,
                reason: "$CLAWCTL_CONFIG".into(),
            });
        }
        // The home-based candidates, in order, so `config path` can show what a
        // missing variable would have changed.
        let mut homes: Vec<(PathBuf, String)> = Vec::new();
        if let Some(h) = env.var(vars::CLAWCTL_HOME) {
            homes.push((
                with_profile(env.resolve_path(h), profile.as_deref()),
                "$CLAWCTL_HOME".into(),
            ));
        }
        if let Some(x) = env.var(vars::XDG_CONFIG_HOME) {
            homes.push((
                with_profile(env.resolve_path(x).join("clawctl"), profile.as_deref()),
                "$XDG_CONFIG_HOME/clawctl".into(),
            ));
        }
        if let Some(h) = &home_default {
            homes.push((
                with_profile(h.clone(), profile.as_deref()),
                "~/.config/clawctl".into(),
            ));
        }
        let mut chosen_taken = env_config.is_some();
        for (h, reason) in homes {
            let path = h.join("config.toml");
            if candidates.iter().any(|c: &Candidate| c.path == path) {
                continue;
            }
            let chosen = !chosen_taken && h == home;
            chosen_taken |= chosen;
            candidates.push(Candidate {
                exists: path.exists(),
                path,
                chosen,
                reason,
            });
        }
        let (config, config_reason) = match env_config {
            Some(c) => (c, "$CLAWCTL_CONFIG".to_string()),
            None => (
                home.join("config.toml"),
                format!("config.toml in the home ({home_reason})"),
            ),
        };
        let legacy = legacy_homes(env)
            .into_iter()
            .map(|h| h.join("config.toml"))
            .filter(|p| p.exists() && *p != config)
            .collect();
        Ok(Paths {
            profile,
            credentials: home.join("credentials.toml"),
            dotenv: home.join(".env"),
            backups: home.join("backups"),
            run_dir: home.join("run"),
            home,
            home_reason,
            config,
            config_reason,
            candidates,
            legacy,
        })
    }

    pub fn receipt(&self) -> PathBuf {
        self.run_dir.join("gateway.json")
    }

    pub fn schema_beside_config(&self) -> PathBuf {
        self.config
            .parent()
            .unwrap_or(Path::new("."))
            .join("config.schema.json")
    }
}

/// Old homes a previous install may have used.
pub fn legacy_homes(env: &Environment) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = &env.platform_config_dir {
        let p = d.join("clawctl");
        let default = env.home.as_ref().map(|h| h.join(".config/clawctl"));
        if Some(&p) != default.as_ref() {
            out.push(p);
        }
    }
    if let Some(h) = &env.home {
        out.push(h.join(".clawctl"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::for_test(vars, "/h", "/cwd")
    }

    #[test]
    fn precedence_of_config_locations() {
        let p = Paths::resolve(&env(&[]), None).unwrap();
        assert_eq!(p.config, PathBuf::from("/h/.config/clawctl/config.toml"));
        let p = Paths::resolve(&env(&[("XDG_CONFIG_HOME", "/x")]), None).unwrap();
        assert_eq!(p.config, PathBuf::from("/x/clawctl/config.toml"));
        let p = Paths::resolve(
            &env(&[("XDG_CONFIG_HOME", "/x"), ("CLAWCTL_HOME", "rel")]),
            None,
        )
        .unwrap();
        assert_eq!(p.home, PathBuf::from("/cwd/rel"));
        let p = Paths::resolve(
            &env(&[("CLAWCTL_HOME", "/c"), ("CLAWCTL_CONFIG", "~/my.toml")]),
            None,
        )
        .unwrap();
        assert_eq!(p.config, PathBuf::from("/h/my.toml"));
        assert_eq!(p.credentials, PathBuf::from("/c/credentials.toml"));
        assert_eq!(p.candidates.iter().filter(|c| c.chosen).count(), 1);
        assert!(p.candidates[0].chosen);
    }

    #[test]
    fn profiles_sit_beside_the_home() {
        let p = Paths::resolve(&env(&[("CLAWCTL_PROFILE", "work")]), None).unwrap();
        assert_eq!(p.home, PathBuf::from("/h/.config/clawctl-work"));
        let p = Paths::resolve(&env(&[("CLAWCTL_PROFILE", "work")]), Some("lab")).unwrap();
        assert_eq!(p.home, PathBuf::from("/h/.config/clawctl-lab"));
        assert!(Paths::resolve(&env(&[]), Some("../x")).is_err());
    }
}
