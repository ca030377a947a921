//! `clawctl migrate` without the printing: plan on the file as read, then apply in
//! one step through `transaction::edit_config` (lock, re-check, validate, back up,
//! atomic write, credentials in the same step).

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use toml_edit::DocumentMut;

use super::{MigrateError, Migration, OpContext, Report, migrate, pending};
use crate::config::load::{LoadOptions, load, read_text_file, sha256_hex};
use crate::env::Environment;
use crate::env::paths::Paths;
use crate::failure::Failure;
use crate::secrets::credentials::Store;
use crate::write::transaction::{self, NewCredential};

/// What `migrate` did (or, with `dry_run`, would do) to one config file.
#[derive(Debug, Default)]
pub struct Outcome {
    pub config: PathBuf,
    pub exists: bool,
    pub from_version: u32,
    pub pending: Vec<&'static Migration>,
    pub report: Report,
    /// Unified diff, secrets replaced by their descriptions.
    pub diff: String,
    pub written: bool,
    pub backup: Option<PathBuf>,
    pub credentials_changed: bool,
    /// The result's errors, rendered, when it does not validate (dry run only: a
    /// real run fails instead).
    pub invalid: Option<String>,
}

impl Outcome {
    pub fn nothing_to_do(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Stored profiles: id → sha256 of the secret (so a moved key never replaces a
/// different one, and an identical one is reused).
fn context(store: &Store) -> OpContext {
    OpContext {
        stored: store
            .entries
            .iter()
            .map(|e| {
                (
                    e.id.clone(),
                    sha256_hex(e.secret.expose_secret().as_bytes()),
                )
            })
            .collect(),
        moved: Vec::new(),
    }
}

/// `error: PATH:LINE:COL: message` for an engine error, located in the file as read.
fn locate_error(e: &MigrateError, env: &Environment, path: &Path, text: &str) -> Failure {
    let place = e
        .key
        .as_ref()
        .and_then(|k| {
            let doc = toml_edit::ImDocument::parse(text).ok()?;
            let span = crate::config::tomlconv::SpanMap::from_document(&doc).locate(k)?;
            let pos = crate::config::tomlconv::offset_to_pos(text, span.start);
            Some(format!(":{}:{}", pos.line, pos.col))
        })
        .unwrap_or_default();
    Failure::error(format!(
        "error: {}{place}: {e}\nnothing was written",
        env.display_path(path)
    ))
}

/// Migrate the config `env` uses. `dry_run`: compute everything, write nothing.
pub fn run(env: &Environment, opts: &LoadOptions, dry_run: bool) -> Result<Outcome, Failure> {
    let paths = Paths::resolve(env, opts.profile.as_deref()).map_err(|e| Failure::usage(e.0))?;
    let mut out = Outcome {
        config: paths.config.clone(),
        ..Default::default()
    };
    let Some(text) = read_text_file(&paths.config, "config file").map_err(Failure::from)? else {
        return Ok(out);
    };
    out.exists = true;
    let doc: DocumentMut = match text.parse() {
        Ok(d) => d,
        Err(_) => {
            // The loader renders syntax errors with the line and secrets masked.
            let l = load(env, &opts.for_file_text(&text)).map_err(Failure::from)?;
            return Err(Failure::error(format!(
                "{}\nmigrate edits config.toml in place and will not rewrite a file it cannot parse; fix the syntax error, then run `clawctl migrate` again",
                l.render_diagnostics()
            )));
        }
    };
    let version =
        super::file_version(&doc).map_err(|e| locate_error(&e, env, &paths.config, &text))?;
    out.from_version = version;
    out.pending = pending(version).map_err(|e| locate_error(&e, env, &paths.config, &text))?;
    if out.pending.is_empty() {
        return Ok(out);
    }

    // Plan on the file as read, to know which secrets go to credentials.toml
    // before edit_config locks both files; inside the lock the plan is redone and
    // must come out the same.
    let store = Store::read(&paths.credentials);
    let mut planned_doc = doc.clone();
    let plan = migrate(&mut planned_doc, &mut context(&store))
        .map_err(|e| locate_error(&e, env, &paths.config, &text))?;
    let creds: Vec<NewCredential> = plan
        .moved
        .iter()
        .map(|m| NewCredential {
            id: m.profile.clone(),
            provider: m.provider.clone(),
            kind: m.kind,
            secret: m.secret.clone(),
        })
        .collect();
    let planned_ids: Vec<String> = plan.moved.iter().map(|m| m.profile.clone()).collect();
    let mut secrets = super::sensitive_strings(doc.as_item());
    secrets.extend(
        plan.moved
            .iter()
            .map(|m| m.secret.expose_secret().to_string()),
    );

    let mut invalid = None;
    let (report, applied) = transaction::edit_config(env, opts, dry_run, creds, |doc| {
        if doc.to_string() != text {
            return Err(Failure::error(format!(
                "{} changed while clawctl was migrating it; nothing was written. Run `clawctl migrate` again",
                env.display_path(&paths.config)
            )));
        }
        let report = migrate(doc, &mut context(&Store::read(&paths.credentials)))
            .map_err(|e| locate_error(&e, env, &paths.config, &text))?;
        let ids: Vec<String> = report.moved.iter().map(|m| m.profile.clone()).collect();
        if ids != planned_ids {
            return Err(Failure::error(
                "credentials.toml changed while clawctl was migrating; nothing was written. Run `clawctl migrate` again",
            ));
        }
        // edit_config refuses only errors the edit adds; migrate also refuses to
        // stamp the newest version on a file that still does not validate.
        let after = load(env, &opts.for_file_text(&doc.to_string())).map_err(Failure::from)?;
        let errors: Vec<String> = after
            .errors()
            .map(|d| d.render(&after.env, after.sources()))
            .collect();
        if !errors.is_empty() {
            let rendered = errors.join("\n");
            if !dry_run {
                return Err(Failure::error(format!(
                    "{rendered}\nafter migrating, {} would still not validate (the lines above are those of the migrated file; see it with `clawctl migrate --dry-run`), so nothing was written.\nFix the keys named above by hand, then run `clawctl migrate` again",
                    env.display_path(&paths.config)
                )));
            }
            invalid = Some(rendered);
        }
        Ok(report)
    })?;
    out.report = report;
    out.diff = transaction::scrub(&applied.diff(), &secrets);
    out.written = applied.written;
    out.backup = applied.backup;
    out.credentials_changed = applied.credentials_changed;
    out.invalid = invalid;
    Ok(out)
}
