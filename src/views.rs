//! `Views`: the CLI's view and the service's, built once per command from the global
//! options (`--profile`, `--set`, `--service-file`, `--pid`).
//!
//! Every command that shows or checks the service — `status`, `doctor`, `models
//! status`, `onboard`'s closing view, `config validate --service`, `gateway
//! status/restart` and the write commands' closing notes — takes a `Views`, so a
//! `--service-file` that cannot be read is the same error everywhere, and "the
//! providers that matter" has one definition.
//!
//! When a gateway runs, what it *loaded* (its receipt: config hash, key and token
//! sources and fingerprints) is the service's truth; the files on disk are what it
//! would load on its next start. [`Running::drift`] lists where the two differ, which
//! is "restart needed".

use std::path::PathBuf;

use crate::config::diagnostics::Diagnostic;
use crate::config::load::{LoadOptions, Loaded, load};
use crate::env::Environment;
use crate::gateway::receipt::{Receipt, ReceiptKey};
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::{self, Resolved, Store};
use crate::service::view::{ServiceOptions, ServiceView};

/// The global options a `Views` is built from.
#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// `--profile`, `--set` (the CLI view only: the service gets neither).
    pub load: LoadOptions,
    /// `--service-file`, `--pid`.
    pub service: ServiceOptions,
    /// Skip the JSON Schema pass where the typed config deserializes (read-only
    /// commands); see [`LoadOptions::fast`].
    pub fast: bool,
}

/// Why the views could not be built. Every command reports these the same way.
#[derive(Debug, thiserror::Error)]
pub enum ViewsError {
    /// The provider catalog (built-in or `$CLAWCTL_PROVIDER_CATALOG`) did not load.
    #[error("{0}")]
    Catalog(String),
    /// `--service-file PATH` could not be read or parsed.
    #[error("{0}")]
    ServiceFile(String),
    /// `--pid N` names a process that cannot be read.
    #[error("{0}")]
    Pid(String),
    /// A view's config could not be loaded at all (not: loaded with errors).
    #[error("{}", .0.message)]
    Load(Box<Diagnostic>),
}

/// One view: a config as one environment loads it, and that environment's
/// credential store.
#[derive(Debug)]
pub struct View {
    pub loaded: Loaded,
    pub store: Store,
}

impl View {
    /// Load `env`'s view with `opts`; the store is read from the loaded paths.
    pub fn load(env: &Environment, opts: &LoadOptions) -> Result<View, ViewsError> {
        let loaded = load(env, opts).map_err(|d| ViewsError::Load(Box::new(d)))?;
        Ok(View {
            store: Store::read(&loaded.paths.credentials),
            loaded,
        })
    }

    /// "this shell", "systemd unit clawctl-gateway.service (its definition)", …
    pub fn label(&self) -> &str {
        &self.loaded.env.origin
    }

    /// Every copy of `provider`'s key in this view, the winner marked.
    pub fn resolve(&self, catalog: &Catalog, provider: &str) -> Resolved {
        credentials::resolve_provider(&self.loaded, &self.store, catalog, provider)
    }

    /// Every copy of the gateway token in this view, the winner marked.
    pub fn gateway_token(&self) -> Resolved {
        credentials::resolve_gateway_token(&self.loaded, &self.store)
    }
}

/// A gateway process that is alive, and what it loaded.
#[derive(Debug)]
pub struct Running {
    pub receipt: Receipt,
    pub receipt_path: PathBuf,
    /// Where what the process loaded differs from what its files say now.
    pub drift: Vec<Drift>,
}

/// One difference between the running gateway and the files it would load next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// What differs: `config`, `moonshot key`, `gateway token`.
    pub subject: String,
    /// What the process loaded (hash, or key shape + fingerprint + source).
    pub running: String,
    /// What the files now say.
    pub files: String,
}

impl Drift {
    /// "moonshot key: running with X; the files now say Y: restart needed (`clawctl gateway restart`)".
    pub fn sentence(&self) -> String {
        format!(
            "{}: running with {}; the files now say {}: restart needed (`clawctl gateway restart`)",
            self.subject, self.running, self.files
        )
    }
}

/// The CLI view, the service view and where it came from, the running gateway, and
/// the catalog: what every command that compares the two needs.
#[derive(Debug)]
pub struct Views {
    pub catalog: Catalog,
    pub cli: View,
    /// The service's view, when a definition or process was found.
    pub service: Option<View>,
    /// Discovery: definitions, process, state, evidence.
    pub discovery: ServiceView,
    /// The gateway process that runs now, per its receipt.
    pub running: Option<Running>,
}

impl Views {
    /// Build both views. Errors: the catalog does not load, `--service-file` or
    /// `--pid` cannot be read, or a view's config cannot be loaded at all.
    pub fn build(env: &Environment, opts: &ViewOptions) -> Result<Views, ViewsError> {
        let catalog = Catalog::load(env).map_err(|e| ViewsError::Catalog(e.0))?;
        let cli_opts = if opts.fast {
            opts.load.fast()
        } else {
            opts.load.clone()
        };
        let cli = View::load(env, &cli_opts)?;
        let discovery = crate::service::view::discover(env, &opts.service);
        discovery
            .require_given_file(&opts.service)
            .map_err(ViewsError::ServiceFile)?;
        if let (Some(pid), Some(e)) = (opts.service.pid, &discovery.process_error) {
            return Err(ViewsError::Pid(format!("--pid {pid}: {e}")));
        }
        let service_opts = LoadOptions {
            fast: opts.fast,
            ..LoadOptions::default()
        };
        let service = match &discovery.environment {
            Some(senv) => Some(View::load(senv, &service_opts)?),
            None => None,
        };
        let mut views = Views {
            catalog,
            cli,
            service,
            discovery,
            running: None,
        };
        views.running = views.find_running();
        Ok(views)
    }

    /// The view the service would load: its own when found, else none.
    pub fn service_or_cli(&self) -> &View {
        self.service.as_ref().unwrap_or(&self.cli)
    }

    /// The providers that matter, CLI view first: configured ones, the default and
    /// fallback models' providers, any with a stored credential, in either view, and
    /// any the running gateway loaded a key for.
    pub fn providers(&self) -> Vec<String> {
        let mut ids =
            credentials::relevant_providers(&self.cli.loaded, &self.cli.store, &self.catalog);
        let more = self
            .service
            .iter()
            .flat_map(|s| credentials::relevant_providers(&s.loaded, &s.store, &self.catalog))
            .chain(
                self.running
                    .iter()
                    .flat_map(|r| r.receipt.providers.keys().cloned()),
            );
        for id in more {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The environment the service's *next* start gets: its definition's when it
    /// has one (a restart re-reads it), else the running process's own (a SIGHUP
    /// reload keeps it); none when no service was found.
    pub fn next_start_environment(&self) -> Option<Environment> {
        match self.discovery.definition() {
            Some(d) => Some(crate::service::view::definition_environment(
                &self.cli.loaded.env,
                d,
            )),
            None => self.discovery.environment.clone(),
        }
    }

    /// The pid of the gateway that runs now: `--pid`, the service manager's main
    /// pid, or the receipt's.
    pub fn running_pid(&self) -> Option<u32> {
        self.discovery
            .process
            .as_ref()
            .map(|p| p.pid)
            .or_else(|| self.running.as_ref().map(|r| r.receipt.pid))
    }

    /// The service must restart to run what its files say: its definition changed
    /// after it started, or what it loaded differs from its files.
    pub fn restart_needed(&self) -> bool {
        self.discovery.restart_needed || self.running.as_ref().is_some_and(|r| !r.drift.is_empty())
    }

    /// The running gateway's receipt where the service writes it (its home), else
    /// where the CLI's home has it; only when that process is alive.
    fn find_running(&self) -> Option<Running> {
        let files = self.service_or_cli();
        let receipt_path = files.loaded.paths.receipt();
        let receipt = Receipt::read(&receipt_path).ok()?;
        if !receipt.pid_alive() {
            return None;
        }
        let drift = self.drift(&receipt, files);
        Some(Running {
            receipt,
            receipt_path,
            drift,
        })
    }

    /// Where what a gateway loaded (`receipt`) differs from what `files` give now:
    /// the config's hash, each provider's key, the gateway token (by fingerprint).
    pub fn drift(&self, receipt: &Receipt, files: &View) -> Vec<Drift> {
        let mut out = Vec::new();
        let now_hash = if receipt.config_path == files.loaded.paths.config {
            files.loaded.config_sha256.clone()
        } else {
            crate::config::load::read_text_file(&receipt.config_path, "config")
                .ok()
                .flatten()
                .map(|t| crate::config::load::sha256_hex(t.as_bytes()))
        };
        if now_hash != receipt.config_sha256 {
            out.push(Drift {
                subject: "config".into(),
                running: hash_text(&receipt.config_path, receipt.config_sha256.as_deref()),
                files: hash_text(&receipt.config_path, now_hash.as_deref()),
            });
        }
        let mut ids: Vec<String> = receipt.providers.keys().cloned().collect();
        for id in credentials::relevant_providers(&files.loaded, &files.store, &self.catalog) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for id in ids {
            let now = files.resolve(&self.catalog, &id);
            if let Some(d) = key_drift(format!("{id} key"), receipt.providers.get(&id), &now) {
                out.push(d);
            }
        }
        if let Some(d) = key_drift(
            "gateway token".into(),
            receipt.gateway_token.as_ref(),
            &files.gateway_token(),
        ) {
            out.push(d);
        }
        out
    }
}

fn hash_text(path: &std::path::Path, hash: Option<&str>) -> String {
    match hash {
        Some(h) => format!("{} sha256:{}", path.display(), &h[..h.len().min(12)]),
        None => format!("{} (missing)", path.display()),
    }
}

/// How a key the running gateway loaded is shown: shape, fingerprint, length, source.
pub fn receipt_key_text(k: &ReceiptKey) -> String {
    format!(
        "{}… ({}, {} chars) from {}",
        k.shape.as_deref().unwrap_or(""),
        k.fingerprint.as_deref().unwrap_or("no fingerprint"),
        k.length.unwrap_or(0),
        k.source
    )
}

fn key_drift(subject: String, running: Option<&ReceiptKey>, now: &Resolved) -> Option<Drift> {
    let winner = now.winner();
    let same = match (running, winner) {
        (None, None) => true,
        (Some(r), Some(w)) => r.fingerprint == w.fingerprint,
        _ => false,
    };
    if same {
        return None;
    }
    Some(Drift {
        subject,
        running: running
            .map(receipt_key_text)
            .unwrap_or_else(|| "no key".into()),
        files: winner
            .map(|w| format!("{} from {}", w.describe(), w.location))
            .unwrap_or_else(|| "no key".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secrets::credentials::{KeySource, SourceKind};
    use crate::secrets::mask;

    const OLD: &str = "sk-old0000000000000000000000000000000000000000000";
    const NEW: &str = "sk-new0000000000000000000000000000000000000000000";

    fn rk(value: &str) -> ReceiptKey {
        ReceiptKey {
            source: "credentials.toml profile moonshot:default".into(),
            fingerprint: Some(mask::fingerprint(value)),
            shape: mask::shape(value).map(String::from),
            length: Some(value.len()),
        }
    }

    fn resolved(value: Option<&str>) -> Resolved {
        let sources = value
            .map(|v| {
                let mut s = KeySource::found(
                    SourceKind::CredentialProfile,
                    "credentials.toml profile moonshot:default".into(),
                    "catalog".into(),
                    v,
                );
                s.wins = true;
                vec![s]
            })
            .unwrap_or_default();
        Resolved {
            subject: "moonshot".into(),
            needs_key: true,
            sources,
            disagree: false,
        }
    }

    #[test]
    fn same_fingerprint_is_no_drift() {
        assert_eq!(
            key_drift("k".into(), Some(&rk(OLD)), &resolved(Some(OLD))),
            None
        );
        assert_eq!(key_drift("k".into(), None, &resolved(None)), None);
    }

    #[test]
    fn rotated_key_is_drift_naming_both_fingerprints() {
        let d = key_drift("moonshot key".into(), Some(&rk(OLD)), &resolved(Some(NEW))).unwrap();
        let s = d.sentence();
        assert!(s.contains(&mask::fingerprint(OLD)), "{s}");
        assert!(s.contains(&mask::fingerprint(NEW)), "{s}");
        assert!(!s.contains(OLD) && !s.contains(NEW), "{s}");
        assert!(
            s.contains("restart needed (`clawctl gateway restart`)"),
            "{s}"
        );
    }

    #[test]
    fn a_key_added_after_start_is_drift() {
        let d = key_drift("moonshot key".into(), None, &resolved(Some(NEW))).unwrap();
        assert_eq!(d.running, "no key");
    }
}
