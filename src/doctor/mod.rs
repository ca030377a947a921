//! Findings about a setup: each with a severity, the evidence (file/line, variable,
//! view), and the exact command that fixes it. `doctor --fix` applies the ones
//! marked safe.
//!
//! One module per group of checks, each a function of the views:
//! `config` (the config itself), `service` (definitions and which files the service
//! reads), `running` (the live gateway against its files), `keys` (provider keys and
//! the gateway token in both views), `files` (permissions).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::diagnostics::Severity;
use crate::config::load::{LoadOptions, Loaded};
use crate::env::Environment;
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::Store;
use crate::service::view::ServiceView;
use crate::views::Views;

mod config;
mod files;
mod keys;
mod running;
mod service;

/// A change `doctor --fix` may make by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AutoFix {
    /// chmod the file to this mode.
    Chmod { path: PathBuf, mode: u32 },
    /// Move the literal secret at this config key into credentials.toml.
    MoveSecret { key: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where this was seen: file:line, variable, view.
    pub evidence: Vec<String>,
    /// The command that fixes it.
    pub fix: Option<String>,
    pub auto_fix: Option<AutoFix>,
}

impl Finding {
    pub(crate) fn new(
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
            auto_fix: None,
        }
    }
    pub(crate) fn evidence(mut self, e: impl Into<String>) -> Self {
        self.evidence.push(e.into());
        self
    }
    pub(crate) fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = Some(f.into());
        self
    }
    pub(crate) fn auto(mut self, a: AutoFix) -> Self {
        self.auto_fix = Some(a);
        self
    }
}

/// What each group of checks reads: both views, as plain references.
pub(crate) struct Inputs<'a> {
    pub views: &'a Views,
    pub cli: &'a Loaded,
    pub cli_store: &'a Store,
    pub service: Option<&'a Loaded>,
    pub svc_store: Option<&'a Store>,
    pub view: &'a ServiceView,
    pub catalog: &'a Catalog,
}

/// A fresh machine: no config file, no stored credential, no provider or default model
/// configured, and no gateway service. Then the one useful advice is `clawctl onboard`;
/// everything else (a missing gateway token, …) it makes moot.
pub fn nothing_configured(cli: &Loaded, store: &Store, service_found: bool) -> bool {
    !service_found
        && !cli.config_exists
        && store.entries.is_empty()
        && cli.config.models.providers.is_empty()
        && cli.config.primary_model().is_none()
}

/// The finding `doctor` gives on a fresh machine (see [`nothing_configured`]).
fn not_configured(cli: &Loaded) -> Finding {
    Finding::new(
        "not-configured",
        Severity::Info,
        "nothing is configured yet: no config file, no stored key, no gateway service",
    )
    .evidence(format!(
        "{} does not exist",
        cli.env.display_path(&cli.paths.config)
    ))
    .fix("clawctl onboard   (asks for a provider and its key, writes the config, can install the service)")
}

/// Every finding about the setup both views describe, most fundamental first.
pub fn check(views: &Views) -> Vec<Finding> {
    let inp = Inputs {
        views,
        cli: &views.cli.loaded,
        cli_store: &views.cli.store,
        service: views.service.as_ref().map(|s| &s.loaded),
        svc_store: views.service.as_ref().map(|s| &s.store),
        view: &views.discovery,
        catalog: &views.catalog,
    };
    if inp.cli.is_valid()
        && nothing_configured(
            inp.cli,
            inp.cli_store,
            inp.view.environment.is_some() || !inp.view.errors.is_empty(),
        )
    {
        return vec![not_configured(inp.cli)];
    }
    let mut out = Vec::new();
    config::invalid(&inp, &mut out);
    service::check(&inp, &mut out);
    running::check(&inp, &mut out);
    // What the gateway itself saw: its recent provider failures (run/failures.jsonl).
    let receipt = views.running.as_ref().map_or_else(
        || views.service_or_cli().loaded.paths.receipt(),
        |r| r.receipt_path.clone(),
    );
    out.extend(crate::gateway::findings::gateway_failures(
        &receipt,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    ));
    keys::check(&inp, &mut out);
    files::check(&inp, &mut out);
    config::secrets_and_layout(&inp, &mut out);
    out
}

/// Apply a safe fix; returns what was done.
pub fn apply(env: &Environment, opts: &LoadOptions, fix: &AutoFix) -> Result<String, String> {
    match fix {
        AutoFix::Chmod { path, mode } => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
            Ok(format!("chmod {mode:o} {}", path.display()))
        }
        AutoFix::MoveSecret { key } => move_secret(env, opts, key),
    }
}

fn move_secret(env: &Environment, opts: &LoadOptions, key: &str) -> Result<String, String> {
    let path = crate::config::keypath::KeyPath::parse(key).map_err(|e| e.to_string())?;
    let loaded = crate::config::load::load(env, opts).map_err(|d| d.message)?;
    let Some(serde_json::Value::String(secret)) = loaded
        .file_value()
        .and_then(|v| crate::config::load::get_path(v, &path))
        .cloned()
    else {
        return Err(format!("`{key}` is no longer a literal"));
    };
    let (wanted, provider, kind) = crate::secrets::credentials::profile_for_secret_key(&path);
    // A profile that already holds another key is never replaced: `keep` picks the
    // profile holding this one, or a free id beside `wanted`.
    let store = crate::secrets::credentials::Store::read(&loaded.paths.credentials);
    let mut creds = Vec::new();
    let kept =
        crate::secrets::keep::keep(&store, &mut creds, &[], &secret, (&wanted, &provider, kind))
            .ok_or_else(|| format!("`{key}` is no longer a literal"))?;
    let id = kept.profile.clone();
    crate::write::transaction::edit_config(env, opts, false, creds, |doc| {
        crate::config::edit::set(
            doc,
            &path,
            &serde_json::json!(format!("cred:{id}")),
            false,
            false,
        )
        .map_err(|e| crate::failure::Failure::error(e.to_string()))
    })
    .map_err(|f| f.message)?;
    Ok(format!(
        "{}; config.toml now says \"cred:{id}\"",
        kept.sentence(&format!("`{key}`"))
    ))
}

/// For messages: a path relative to home.
pub fn show(env: &Environment, p: &Path) -> String {
    env.display_path(p)
}
