//! Changing config.toml (and credentials.toml with it) as one step: lock both, edit
//! the document, validate the whole result, show or write it through `safe_write`.
//! Every command that changes the config goes through `edit_config`.

use std::path::PathBuf;

use toml_edit::DocumentMut;

use crate::config::load::{LoadOptions, Loaded, load};
use crate::config::model::AuthMode;
use crate::env::Environment;
use crate::env::paths::Paths;
use crate::failure::Failure;
use crate::secrets::credentials;
use crate::write::safe_write::{self, Target, WriteError};

/// A credential to store along with the config change.
pub struct NewCredential {
    pub id: String,
    pub provider: String,
    pub kind: AuthMode,
    pub secret: secrecy::SecretString,
}

#[derive(Debug, Default)]
pub struct Applied {
    pub config: PathBuf,
    /// credentials.toml, when it was part of the edit.
    pub credentials: Option<PathBuf>,
    pub changed: bool,
    pub written: bool,
    /// What the diff is made from, on demand (a write that shows no diff skips it).
    diff_inputs: Option<DiffInputs>,
    pub backup: Option<PathBuf>,
    pub credentials_changed: bool,
    /// Errors that were already there before the edit (still there after it).
    pub preexisting_errors: usize,
}

#[derive(Debug)]
struct DiffInputs {
    old: String,
    new: String,
    name: String,
    values: [serde_json::Value; 2],
}

impl Applied {
    /// The files this edit changed (or would change): config.toml, credentials.toml.
    pub fn files(&self) -> Vec<PathBuf> {
        let config = self.changed.then(|| self.config.clone());
        config.into_iter().chain(self.credentials.clone()).collect()
    }

    /// Unified diff of config.toml, secrets replaced by their descriptions.
    pub fn diff(&self) -> String {
        let Some(d) = &self.diff_inputs else {
            return String::new();
        };
        let mut secrets: Vec<String> = Vec::new();
        for v in &d.values {
            collect_secret_literals(v, &crate::config::keypath::KeyPath::root(), &mut secrets);
        }
        scrub(&unified_diff(&d.old, &d.new, &d.name), &secrets)
    }
}

/// The text of a config clawctl creates.
pub fn new_config_text() -> String {
    format!(
        "#:schema ./config.schema.json\n# clawctl configuration. Edit it by hand or with `clawctl config set KEY VALUE`;\n# comments and layout are kept. Keys: `clawctl config schema` or the README.\n\n[meta]\nversion = {}\n",
        crate::config::model::CURRENT_VERSION
    )
}

impl From<WriteError> for Failure {
    fn from(e: WriteError) -> Failure {
        Failure::error(e.to_string())
    }
}

fn error_keys(l: &Loaded) -> Vec<(String, String)> {
    l.errors()
        .map(|d| {
            (
                d.code.to_string(),
                d.key
                    .as_ref()
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| d.message.clone()),
            )
        })
        .collect()
}

/// Edit the config. `change` edits the document and returns a value for the caller;
/// the result must not add errors. `dry_run`: compute and diff, write nothing.
pub fn edit_config<T>(
    env: &Environment,
    opts: &LoadOptions,
    dry_run: bool,
    creds: Vec<NewCredential>,
    change: impl FnOnce(&mut DocumentMut) -> Result<T, Failure>,
) -> Result<(T, Applied), Failure> {
    let lock_credentials = !creds.is_empty();
    edit_config_deciding(env, opts, dry_run, lock_credentials, |doc, more| {
        more.extend(creds);
        change(doc)
    })
}

/// `edit_config` for changes that decide under the lock which credentials to store
/// (onboard's "no gateway token yet → generate one"): `change` runs with config.toml
/// and, when `lock_credentials`, credentials.toml locked, so what it reads on disk is
/// what the write replaces; it may push credentials (only when `lock_credentials`).
pub fn edit_config_deciding<T>(
    env: &Environment,
    opts: &LoadOptions,
    dry_run: bool,
    lock_credentials: bool,
    change: impl FnOnce(&mut DocumentMut, &mut Vec<NewCredential>) -> Result<T, Failure>,
) -> Result<(T, Applied), Failure> {
    let paths = Paths::resolve(env, opts.profile.as_deref()).map_err(|e| Failure::usage(e.0))?;
    let cred_lock = if !lock_credentials {
        None
    } else {
        Some(safe_write::lock(Target::secret(
            &paths.credentials,
            &paths.backups,
        ))?)
    };
    let config_lock = safe_write::lock(Target::config(&paths.config, &paths.backups))?;
    let before_text = config_lock.before.clone();
    let base = before_text.clone().unwrap_or_else(new_config_text);
    let before_loaded = load(
        env,
        &LoadOptions {
            brief: true,
            ..opts.for_file_text(&base).fast()
        },
    )
    .map_err(Failure::from)?;
    if let Some(d) = before_loaded.errors().find(|d| d.code == "newer-version") {
        return Err(Failure::error(format!(
            "{}\nclawctl will not edit a config written by a newer clawctl; nothing was written",
            d.render(&before_loaded.env, before_loaded.sources())
        )));
    }
    if before_loaded.errors().any(|d| d.code == "syntax") {
        return Err(Failure::error(format!(
            "{}\nclawctl edits config.toml in place and will not rewrite a file it cannot parse; fix the syntax error first",
            before_loaded.render_diagnostics()
        )));
    }
    let mut doc: DocumentMut = base
        .parse()
        .map_err(|_| Failure::error("config.toml does not parse"))?;
    let mut creds = Vec::new();
    let value = change(&mut doc, &mut creds)?;
    if cred_lock.is_none() && !creds.is_empty() {
        return Err(Failure::error(
            "internal: credentials added to an edit that did not lock credentials.toml",
        ));
    }
    let new_text = doc.to_string();
    let mut applied = Applied {
        config: config_lock.real_path.clone(),
        ..Default::default()
    };

    let new_cred_text = match &cred_lock {
        Some(lock) => {
            let mut text = lock.before.clone();
            for c in &creds {
                use secrecy::ExposeSecret;
                text = Some(
                    credentials::upsert_text(
                        text.as_deref(),
                        &c.id,
                        &c.provider,
                        c.kind,
                        c.secret.expose_secret(),
                    )
                    .map_err(Failure::error)?,
                );
            }
            text.filter(|t| Some(t) != lock.before.as_ref())
        }
        None => None,
    };
    applied.credentials_changed = new_cred_text.is_some();
    if applied.credentials_changed {
        applied.credentials = Some(paths.credentials.clone());
    }
    applied.changed = before_text.as_deref() != Some(new_text.as_str())
        && !(before_text.is_none() && new_text == base && creds.is_empty());
    if !applied.changed && !applied.credentials_changed {
        return Ok((value, applied));
    }

    let after = load(env, &opts.for_file_text(&new_text)).map_err(Failure::from)?;
    let before_errors = error_keys(&before_loaded);
    let new_errors: Vec<_> = after
        .errors()
        .filter(|d| {
            let k = (
                d.code.to_string(),
                d.key
                    .as_ref()
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| d.message.clone()),
            );
            !before_errors.contains(&k)
        })
        .collect();
    if !new_errors.is_empty() {
        let text: Vec<String> = new_errors
            .iter()
            .map(|d| d.render(&after.env, after.sources()))
            .collect();
        return Err(Failure::error(format!(
            "{}\nthe change would make the config invalid; nothing was written",
            text.join("\n")
        )));
    }
    applied.preexisting_errors = after.errors().count();

    applied.diff_inputs = Some(DiffInputs {
        old: before_text.clone().unwrap_or_default(),
        new: new_text.clone(),
        name: env.display_path(&paths.config),
        values: [before_loaded.value, after.value],
    });
    if dry_run {
        return Ok((value, applied));
    }

    // All-or-nothing: both files are prepared (backups, temp files written and
    // fsynced) before either is renamed into place, so a full disk fails before
    // anything changed; only a failed second rename needs an undo.
    let cred_prepared = match (&cred_lock, &new_cred_text) {
        (Some(lock), Some(text)) => lock.prepare(text.as_bytes())?,
        _ => None,
    };
    let config_prepared = if applied.changed {
        config_lock.prepare(new_text.as_bytes())?
    } else {
        None
    };
    let cred_backup = cred_prepared.as_ref().and_then(|p| p.backup().cloned());
    if let Some(p) = cred_prepared {
        p.persist()?;
    }
    if applied.changed {
        let persisted = match config_prepared {
            Some(p) => p.persist().map(|w| w.backup),
            None => Ok(None),
        };
        match persisted {
            Ok(backup) => applied.backup = backup,
            Err(e) => {
                if let (Some(lock), Some(_)) = (&cred_lock, &new_cred_text)
                    && let Err(undo) = lock.restore_before()
                {
                    return Err(Failure::error(format!(
                        "{e}\nand the change to {} could not be undone ({undo}): it holds the new content; the old one is in {}",
                        lock.real_path.display(),
                        cred_backup
                            .as_ref()
                            .map(|b| b.display().to_string())
                            .unwrap_or_else(|| {
                                "no backup (the file did not exist before; delete it)".into()
                            })
                    )));
                }
                return Err(e.into());
            }
        }
        // Beside a config clawctl creates, or where one is already (never a new
        // file next to a config you wrote yourself).
        if before_text.is_none() || paths.schema_beside_config().exists() {
            refresh_schema_beside(&paths);
        }
    }
    applied.written = true;
    Ok((value, applied))
}

/// Keep `config.schema.json` beside the config current, so `#:schema` works.
pub fn refresh_schema_beside(paths: &Paths) {
    let path = paths.schema_beside_config();
    let text = crate::config::schema::generate_text();
    if crate::read::string(&path).ok().as_deref() != Some(text.as_str()) {
        // Generated, never edited by hand: no lock or backup, but still atomic.
        let _ = safe_write::write_generated(&path, &text, 0o644);
    }
}

/// Every literal secret in a config tree, with its key (references and empty
/// strings are not secrets to hide).
pub fn secret_literals<'a>(
    value: &'a serde_json::Value,
    path: &crate::config::keypath::KeyPath,
    out: &mut Vec<(crate::config::keypath::KeyPath, &'a str)>,
) {
    match value {
        serde_json::Value::String(s)
            if !s.is_empty()
                && crate::secrets::mask::is_secret_leaf(path, s)
                && matches!(
                    crate::secrets::mask::classify(s),
                    crate::secrets::mask::SecretValue::Literal(_)
                ) =>
        {
            out.push((path.clone(), s));
        }
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                secret_literals(v, &path.child(k.as_str()), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                secret_literals(v, &path.index(i), out);
            }
        }
        _ => {}
    }
}

/// Keys whose values are literal secrets (for export without secrets).
pub fn secret_literal_paths(
    value: &serde_json::Value,
    path: &crate::config::keypath::KeyPath,
    out: &mut Vec<crate::config::keypath::KeyPath>,
) {
    let mut found = Vec::new();
    secret_literals(value, path, &mut found);
    out.extend(found.into_iter().map(|(p, _)| p));
}

/// The literal secrets themselves (to mask or scrub them in text).
pub fn collect_secret_literals(
    value: &serde_json::Value,
    path: &crate::config::keypath::KeyPath,
    out: &mut Vec<String>,
) {
    let mut found = Vec::new();
    secret_literals(value, path, &mut found);
    out.extend(found.into_iter().map(|(_, s)| s.to_string()));
}

/// Replace each secret in `text` by its description.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    let mut s: Vec<&String> = secrets.iter().filter(|s| s.len() >= 4).collect();
    s.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in s {
        out = out.replace(secret.as_str(), &crate::secrets::mask::describe(secret));
    }
    out
}

pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
