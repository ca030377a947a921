//! The OpenClaw dialect: an OpenClaw install read in place, read-only.
//!
//! The same computation as clawctl's own loader — an [`Environment`] in, a view out —
//! with OpenClaw's rules for where files are ([`paths`]), how the environment layers
//! ([`env`]), where keys live ([`auth_profiles`], [`providers`]) and what its service
//! definitions are called ([`service`]). [`Install`] holds the CLI's view and the
//! service's view side by side; [`doctor`] turns them into findings with OpenClaw's
//! own fix commands. Nothing in this module writes a file.

pub mod auth_profiles;
pub mod doctor;
pub mod env;
pub mod paths;
pub mod providers;
pub mod service;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::env::Environment;
use crate::providers::catalog::Catalog;
use crate::secrets::mask;
use crate::transfer::openclaw::read_config;

use self::auth_profiles::{Secret, Store};
use self::env::{ConfigEnv, Layer, Layered};
use self::paths::OpenClawPaths;
use self::service::OpenClawService;

/// What one process (the CLI in this shell, or the gateway under its service
/// definition) sees of the install.
#[derive(Debug, Clone)]
pub struct View {
    /// "this shell", "launchd ai.openclaw.gateway (its definition)", …
    pub label: String,
    pub env: Environment,
    pub paths: OpenClawPaths,
    /// The config as OpenClaw reads it (JSON5, `$include`), `None` when absent or broken.
    pub config: Option<Json>,
    pub config_exists: bool,
    /// Why the config could not be read (file:line:col: …).
    pub config_error: Option<String>,
    pub config_files: Vec<PathBuf>,
    /// Where each config value sits (key path → file, line, column).
    pub config_locations: std::collections::BTreeMap<String, (PathBuf, usize, usize)>,
    pub layered: Layered,
    pub stores: Vec<Store>,
    pub store_errors: Vec<String>,
}

/// One copy of a provider key a view could use.
#[derive(Clone)]
pub struct KeyCopy {
    /// `auth profile moonshot:default`, `env MOONSHOT_API_KEY`, `config models.providers.moonshot.apiKey`.
    pub source: String,
    /// Where: file:line, the service definition line, or the view's origin.
    pub evidence: String,
    /// The secret, when it resolves here (never printed: see [`KeyCopy::describe`]).
    pub value: Option<String>,
    /// Why it does not resolve (a missing `${VAR}`, a file/exec SecretRef, OAuth).
    pub note: Option<String>,
    /// For env copies: the layer the winning value came from.
    pub layer: Option<Layer>,
}

impl std::fmt::Debug for KeyCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCopy")
            .field("source", &self.source)
            .field("evidence", &self.evidence)
            .field("value", &self.value.as_deref().map(mask::describe))
            .field("note", &self.note)
            .finish()
    }
}

impl KeyCopy {
    /// `sk-kimi-… (sha256:3f9a1c2e, 51 chars)` or the note.
    pub fn describe(&self) -> String {
        match (&self.value, &self.note) {
            (Some(v), _) => mask::describe(v),
            (None, Some(n)) => n.clone(),
            (None, None) => "unset".into(),
        }
    }
}

/// Every copy of one provider's key in one view, in OpenClaw's order (auth
/// profiles, then the provider's env variables, then `models.providers.<id>.apiKey`),
/// and which one wins (the first that resolves).
#[derive(Debug, Clone)]
pub struct Keys {
    pub provider: String,
    pub copies: Vec<KeyCopy>,
    pub winner: Option<usize>,
}

impl Keys {
    pub fn winning(&self) -> Option<&KeyCopy> {
        self.winner.map(|i| &self.copies[i])
    }
}

/// A config value at a dotted path (`gateway.auth.token`).
pub fn at<'a>(v: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

impl View {
    /// Read what the process with environment `env` would read. `profile` is
    /// `--profile` (the CLI's); `managed` are the service's managed keys (empty for
    /// the CLI).
    pub fn read(
        label: impl Into<String>,
        env: Environment,
        profile: Option<&str>,
        catalog: &Catalog,
        managed: &[String],
    ) -> Result<View, paths::PathError> {
        let paths = OpenClawPaths::discover(&env, profile)?;
        let config_exists = paths.config.is_file();
        let mut config_locations = std::collections::BTreeMap::new();
        let (config, config_error, config_files) = if config_exists {
            match read_config(&paths.config, &paths.include_roots(&env)) {
                Ok(r) => {
                    config_locations = r.locations;
                    (Some(r.value), None, r.files)
                }
                Err(e) => (None, Some(e.to_string()), vec![paths.config.clone()]),
            }
        } else {
            (None, None, Vec::new())
        };
        let config_env = config.as_ref().map(config_env).unwrap_or_default();
        let layered = env::layer(&env, &paths, &config_env, catalog, managed);
        let mut stores = Vec::new();
        let mut store_errors = Vec::new();
        for s in paths.auth_stores() {
            match auth_profiles::read(&s, &paths.home) {
                Ok(st) => stores.push(st),
                Err(e) => store_errors.push(e),
            }
        }
        Ok(View {
            label: label.into(),
            env,
            paths,
            config,
            config_exists,
            config_error,
            config_files,
            config_locations,
            layered,
            stores,
            store_errors,
        })
    }

    /// `~/…` form of a path.
    pub fn show(&self, p: &Path) -> String {
        env::display(p, &self.paths.home)
    }

    /// `~/.openclaw/openclaw.json:4:17 (models.providers.moonshot.apiKey)`: where a
    /// config value sits, its nearest located parent if it has no position itself.
    pub fn locate(&self, key: &str) -> String {
        let mut k = key;
        loop {
            if let Some((f, line, col)) = self.config_locations.get(k) {
                return format!("{}:{line}:{col} ({key})", self.show(f));
            }
            match k.rfind(['.', '[']) {
                Some(i) => k = &k[..i],
                None => return format!("{} ({key})", self.show(&self.paths.config)),
            }
        }
    }

    /// `${VAR}` substitution against this view's layered environment.
    pub fn substitute(&self, s: &str) -> env::Substituted {
        env::substitute(s, &|n| self.layered.lookup(n).map(str::to_string))
    }

    /// The default model reference: `agents.defaults.model` (a string or
    /// `{ primary }`), else the legacy top-level `agent.model`; an alias (a name in
    /// `agents.defaults.models.*.alias`) is resolved to its model.
    pub fn default_model(&self) -> Option<(String, String)> {
        let cfg = self.config.as_ref()?;
        let pick = |v: &Json| -> Option<String> {
            match v {
                Json::String(s) => Some(s.clone()),
                Json::Object(o) => o.get("primary").and_then(Json::as_str).map(str::to_string),
                _ => None,
            }
        };
        let (raw, key) = at(cfg, "agents.defaults.model")
            .and_then(pick)
            .map(|m| {
                let string_form = at(cfg, "agents.defaults.model").is_some_and(Json::is_string);
                let key = if string_form {
                    "agents.defaults.model"
                } else {
                    "agents.defaults.model.primary"
                };
                (m, key)
            })
            .or_else(|| {
                at(cfg, "agent.model")
                    .and_then(pick)
                    .map(|m| (m, "agent.model"))
            })?;
        let resolved = if raw.contains('/') {
            raw
        } else {
            at(cfg, "agents.defaults.models")
                .and_then(Json::as_object)
                .and_then(|m| {
                    m.iter()
                        .find(|(_, v)| v.get("alias").and_then(Json::as_str) == Some(raw.as_str()))
                        .map(|(k, _)| k.clone())
                })
                .unwrap_or(raw)
        };
        Some((resolved, key.to_string()))
    }

    /// The `models.providers` entry for an (already normalised) provider id.
    pub fn provider_block(&self, provider: &str) -> Option<(&str, &Json)> {
        let providers = at(self.config.as_ref()?, "models.providers")?.as_object()?;
        providers
            .iter()
            .find(|(k, _)| providers::normalize_provider_id(k) == provider)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// `auth.order.<provider>` from the config.
    fn config_order(&self, provider: &str) -> Option<Vec<String>> {
        let order = at(self.config.as_ref()?, "auth.order")?.as_object()?;
        order
            .iter()
            .find(|(k, _)| providers::normalize_provider_id(k) == provider)
            .and_then(|(_, v)| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
    }

    /// Every copy of `provider`'s key in this view, OpenClaw's order.
    pub fn keys(&self, provider: &str, catalog: &Catalog) -> Keys {
        let provider = providers::normalize_provider_id(provider);
        let mut copies = Vec::new();
        let order = self.config_order(&provider);
        for store in &self.stores {
            for p in store.for_provider(&provider, order.as_deref()) {
                let (value, note) = match &p.secret {
                    Secret::Inline(v) if p.kind == auth_profiles::Kind::OAuth => {
                        (Some(v.clone()), Some("OAuth access token".to_string()))
                    }
                    Secret::Inline(v) => (Some(v.clone()), None),
                    Secret::Ref(r) if r.source == "env" => match self.layered.lookup(&r.id) {
                        Some(v) => (Some(v.to_string()), None),
                        None => (
                            None,
                            Some(format!("keyRef env {} is not set in this view", r.id)),
                        ),
                    },
                    Secret::Ref(r) => (None, Some(format!("{r} (not resolved by clawctl)"))),
                    Secret::None => (None, Some("no key in the profile".to_string())),
                };
                copies.push(KeyCopy {
                    source: format!("auth profile {}", p.id),
                    evidence: p.evidence.clone(),
                    value,
                    note,
                    layer: None,
                });
            }
        }
        for var in providers::key_vars(&provider, catalog) {
            if let Some(v) = self.layered.get(&var) {
                copies.push(KeyCopy {
                    source: format!("env {var}"),
                    evidence: v.evidence.clone(),
                    value: Some(v.value.clone()),
                    note: None,
                    layer: Some(v.layer),
                });
            }
        }
        if let Some((id, block)) = self.provider_block(&provider) {
            let key = format!("models.providers.{id}.apiKey");
            let evidence = self.locate(&key);
            match block.get("apiKey") {
                Some(Json::String(s)) if !s.trim().is_empty() => {
                    let sub = self.substitute(s);
                    let (value, note) = if sub.missing.is_empty() {
                        (Some(sub.value), None)
                    } else {
                        (
                            None,
                            Some(format!(
                                "${{{}}} is not set in this view",
                                sub.missing.join("}, ${")
                            )),
                        )
                    };
                    copies.push(KeyCopy {
                        source: format!("config {key}"),
                        evidence,
                        value,
                        note,
                        layer: None,
                    });
                }
                Some(Json::Object(o)) if o.get("source").and_then(Json::as_str) == Some("env") => {
                    let id = o.get("id").and_then(Json::as_str).unwrap_or_default();
                    let value = self.layered.lookup(id).map(str::to_string);
                    let note = value
                        .is_none()
                        .then(|| format!("SecretRef env {id} is not set in this view"));
                    copies.push(KeyCopy {
                        source: format!("config {key}"),
                        evidence,
                        value,
                        note,
                        layer: None,
                    });
                }
                Some(Json::Object(o)) => copies.push(KeyCopy {
                    source: format!("config {key}"),
                    evidence,
                    value: None,
                    note: Some(format!(
                        "{} SecretRef (not resolved by clawctl)",
                        o.get("source").and_then(Json::as_str).unwrap_or("unknown")
                    )),
                    layer: None,
                }),
                _ => {}
            }
        }
        let winner = copies.iter().position(|c| c.value.is_some());
        Keys {
            provider,
            copies,
            winner,
        }
    }

    /// The gateway token this process would use, with its source:
    /// `OPENCLAW_GATEWAY_TOKEN` over `gateway.auth.token` (environment.md, "Gateway
    /// and authentication").
    pub fn gateway_token(&self) -> Option<(String, String)> {
        if let Some(v) = self.layered.get(paths::OPENCLAW_GATEWAY_TOKEN) {
            return Some((
                v.value.clone(),
                format!("${} ({})", paths::OPENCLAW_GATEWAY_TOKEN, v.evidence),
            ));
        }
        let raw = at(self.config.as_ref()?, "gateway.auth.token")?.as_str()?;
        let sub = self.substitute(raw);
        (sub.missing.is_empty() && !sub.value.trim().is_empty())
            .then(|| (sub.value, self.locate("gateway.auth.token")))
    }

    /// The config's `gateway.port`.
    pub fn config_port(&self) -> Option<i64> {
        at(self.config.as_ref()?, "gateway.port")?.as_i64()
    }
}

/// `env.vars.*` and the string keys directly under `env` (`collectConfigEnvVars`),
/// and `env.shellEnv.enabled`.
pub fn config_env(cfg: &Json) -> ConfigEnv {
    let mut out = ConfigEnv::default();
    let Some(env) = cfg.get("env").and_then(Json::as_object) else {
        return out;
    };
    if let Some(vars) = env.get("vars").and_then(Json::as_object) {
        for (k, v) in vars {
            if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
                out.vars
                    .push((k.clone(), s.to_string(), format!("config env.vars.{k}")));
            }
        }
    }
    for (k, v) in env {
        if k == "vars" || k == "shellEnv" {
            continue;
        }
        if let Some(s) = v.as_str().filter(|s| !s.trim().is_empty()) {
            out.vars
                .push((k.clone(), s.to_string(), format!("config env.{k}")));
        }
    }
    out.shell_enabled = at(cfg, "env.shellEnv.enabled").and_then(Json::as_bool) == Some(true);
    out
}

/// An OpenClaw install: the CLI's view, and the service's when a definition exists.
#[derive(Debug, Clone)]
pub struct Install {
    pub cli: View,
    pub services: Vec<OpenClawService>,
    /// The view of the first current (not legacy) definition, else the first.
    pub service: Option<View>,
    pub service_errors: Vec<String>,
}

/// Where the service view comes from, besides discovery.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// `--profile NAME` (the CLI's).
    pub profile: Option<&'a str>,
    /// `--service-file PATH`: read this definition instead of discovering one.
    pub service_file: Option<&'a Path>,
    /// `--pid PID`: read this running gateway.
    pub pid: Option<u32>,
    /// Where to look for running gateways (Linux `/proc`); `None`: do not look.
    pub proc_root: Option<&'a Path>,
}

impl Install {
    /// Read the install `env` points at. Read-only: nothing is written.
    ///
    /// The service view is, strongest first: the running gateway (`/proc/PID/environ`,
    /// one whose environment resolves to this install's state dir, or `--pid`), else
    /// the current service definition, else a legacy one.
    pub fn read(
        env: &Environment,
        opts: Options<'_>,
        catalog: &Catalog,
    ) -> Result<Install, paths::PathError> {
        let cli = View::read(env.origin.clone(), env.clone(), opts.profile, catalog, &[])?;
        let (services, errors) = match opts.service_file {
            Some(f) => service::discover_in(
                env,
                &cli.paths,
                vec![(f.to_path_buf(), service::Role::Current)],
            ),
            None => service::discover(env, &cli.paths),
        };
        let mut service_errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let main = services
            .iter()
            .find(|s| s.role == service::Role::Current)
            .or(services.first());
        let mut service = match main {
            Some(s) => {
                let senv = service::service_environment(env, s);
                let label = format!("{} {}", s.definition.manager, s.definition.name);
                // The service's profile comes from its own environment (OPENCLAW_PROFILE).
                // Only an OpenClaw-installed systemd service lets the global .env
                // replace its managed values (environment.md, first paragraph).
                let managed: &[String] = if s.definition.manager == crate::service::Manager::Systemd
                {
                    &s.managed_keys
                } else {
                    &[]
                };
                Some(View::read(label, senv, None, catalog, managed)?)
            }
            None => None,
        };
        let processes = match (opts.pid, opts.proc_root) {
            (Some(pid), _) => match crate::service::read_process(pid) {
                Ok(p) => vec![p],
                Err(e) => {
                    service_errors.push(e.to_string());
                    Vec::new()
                }
            },
            (None, Some(root)) => service::running_gateways(root),
            (None, None) => Vec::new(),
        };
        let wanted: Vec<PathBuf> = std::iter::once(cli.paths.state_dir.clone())
            .chain(service.as_ref().map(|s| s.paths.state_dir.clone()))
            .collect();
        for p in processes {
            let penv = service::process_environment(env, &p);
            let Ok(ppaths) = OpenClawPaths::discover(&penv, None) else {
                continue;
            };
            if opts.pid.is_none() && !wanted.contains(&ppaths.state_dir) {
                continue;
            }
            let managed = if penv.var("OPENCLAW_SYSTEMD_UNIT").is_some() {
                env::managed_keys(&penv)
            } else {
                Vec::new()
            };
            let label = penv.origin.clone();
            service = Some(View::read(label, penv, None, catalog, &managed)?);
            break;
        }
        Ok(Install {
            cli,
            services,
            service,
            service_errors,
        })
    }

    /// Whether an OpenClaw install seems to exist here (config or state dir).
    pub fn present(&self) -> bool {
        self.cli.config_exists || self.cli.paths.state_dir.is_dir() || !self.services.is_empty()
    }
}

/// Whether an OpenClaw install exists for `env` (for "you may want `--openclaw`").
pub fn exists(env: &Environment) -> Option<PathBuf> {
    let p = OpenClawPaths::discover(env, None).ok()?;
    p.config.is_file().then_some(p.config)
}
