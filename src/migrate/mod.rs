//! Versioned config migrations. Each `migrations/NNNN-name.toml` file takes a
//! config from one layout version (`meta.version`; missing = 0) to the next with a
//! list of declarative operations ([`ops::Op`]). The files are embedded at build
//! time and never deleted, so a config written by any old clawctl still migrates.
//!
//! The engine works on the toml_edit document, not on the typed config: the files it
//! exists for use keys the current schema rejects (`gateway.token`, `baseUrl`).
//! Only the result is validated (by the caller, through `transaction::edit_config`).

pub mod command;
pub mod legacy;
pub mod ops;
pub mod pattern;
pub mod tree;

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value as Json;
use toml_edit::{DocumentMut, Item, Table};

use crate::config::keypath::KeyPath;
use crate::config::model::CURRENT_VERSION;
pub use ops::{MovedSecret, Op, OpContext};

/// Every migration file, in order. A test checks that each file in `migrations/`
/// is listed here, so none can be forgotten.
pub const EMBEDDED: &[(&str, &str)] = &[(
    "0001-before-versioning.toml",
    include_str!("../../migrations/0001-before-versioning.toml"),
)];

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    /// File name in `migrations/`.
    pub file: &'static str,
    pub description: String,
    pub from_version: u32,
    pub to_version: u32,
    pub ops: Vec<Op>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MigrationFile {
    description: String,
    from_version: u32,
    to_version: u32,
    #[serde(rename = "op", default)]
    ops: Vec<Op>,
}

/// Parse and check one migration file.
pub fn parse_migration(file: &'static str, text: &str) -> Result<Migration, String> {
    let f: MigrationFile =
        toml_edit::de::from_str(text).map_err(|e| format!("migrations/{file}: {e}"))?;
    if f.to_version != f.from_version + 1 {
        return Err(format!(
            "migrations/{file}: to_version must be from_version + 1"
        ));
    }
    for (i, op) in f.ops.iter().enumerate() {
        op.check()
            .map_err(|e| format!("migrations/{file}, op {}: {e}", i + 1))?;
    }
    Ok(Migration {
        file,
        description: f.description.trim().to_string(),
        from_version: f.from_version,
        to_version: f.to_version,
        ops: f.ops,
    })
}

/// Check that migrations form one chain 0 → 1 → … → `CURRENT_VERSION`.
pub fn check_chain(ms: &[Migration]) -> Result<(), String> {
    let mut v = 0;
    for m in ms {
        if m.from_version != v {
            return Err(format!(
                "migrations/{} starts at version {} but the previous one ends at {v}",
                m.file, m.from_version
            ));
        }
        v = m.to_version;
    }
    if v != CURRENT_VERSION {
        return Err(format!(
            "migrations end at version {v} but CURRENT_VERSION is {CURRENT_VERSION}"
        ));
    }
    Ok(())
}

/// The embedded migrations, parsed once. They are checked by tests at build time
/// of the test suite, so a failure here is a packaging bug, not a user error.
pub fn all() -> &'static [Migration] {
    static ALL: OnceLock<Vec<Migration>> = OnceLock::new();
    ALL.get_or_init(|| {
        let ms: Vec<Migration> = EMBEDDED
            .iter()
            .map(|(f, t)| parse_migration(f, t).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        if let Err(e) = check_chain(&ms) {
            panic!("{e}");
        }
        ms
    })
}

/// Why a migration cannot run. Nothing is written when one occurs.
#[derive(Debug, Clone)]
pub struct MigrateError {
    /// The migration file, when an operation failed.
    pub migration: Option<&'static str>,
    pub key: Option<KeyPath>,
    pub message: String,
    pub help: Option<String>,
}

impl MigrateError {
    pub fn new(message: impl Into<String>) -> MigrateError {
        MigrateError {
            migration: None,
            key: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn at(key: KeyPath, message: impl Into<String>) -> MigrateError {
        MigrateError {
            key: Some(key),
            ..MigrateError::new(message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> MigrateError {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(m) = self.migration {
            write!(f, "migration {m}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MigrateError {}

/// A value that left config.toml: replaced, deleted or moved to credentials.toml.
#[derive(Clone)]
pub struct Removed {
    pub key: KeyPath,
    pub value: Json,
    /// The credentials.toml profile it went to.
    pub to_credentials: Option<String>,
}

impl std::fmt::Debug for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Removed")
            .field("key", &self.key.to_string())
            .field("value", &show(&self.key, &self.value))
            .field("to_credentials", &self.to_credentials)
            .finish()
    }
}

/// One thing a migration changed, as a sentence (secrets described, never shown).
#[derive(Debug, Clone)]
pub struct Change {
    /// The operation kind (`rename`, …; `stamp` for `meta.version`).
    pub op: &'static str,
    /// The key as it is after the change.
    pub key: KeyPath,
    pub message: String,
    pub removed: Vec<Removed>,
}

/// A migration that ran, and what it changed in this file.
#[derive(Debug, Clone)]
pub struct Applied {
    pub migration: &'static Migration,
    pub changes: Vec<Change>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub from_version: u32,
    pub to_version: u32,
    pub applied: Vec<Applied>,
    /// Secrets to add to credentials.toml.
    pub moved: Vec<MovedSecret>,
}

impl Report {
    pub fn changes(&self) -> impl Iterator<Item = (&'static Migration, &Change)> {
        self.applied
            .iter()
            .flat_map(|a| a.changes.iter().map(move |c| (a.migration, c)))
    }
}

/// Whether the string at `path` must not be shown. Besides the schema's secret keys,
/// keys this clawctl no longer knows (`gateway.token`, `apiKey`) are judged by their
/// name and by the value's shape. Cheap tests run first: this is called for every
/// string of a file when a diff is scrubbed, and schema lookups walk the schema.
pub fn is_sensitive(path: &KeyPath, value: &str) -> bool {
    use crate::secrets::mask::{self, SecretValue};
    if matches!(
        mask::classify(value),
        SecretValue::CredRef(_) | SecretValue::EnvRef(_)
    ) {
        return false;
    }
    let last = path.last_key().unwrap_or_default();
    if mask::is_sensitive_name(last) {
        return true;
    }
    if schema_secret_names().contains(last) && crate::config::schema::is_secret(path) {
        return true;
    }
    let mut keys = path.keys();
    let free_map = matches!((keys.next(), keys.next()), (Some("env"), Some("vars")))
        || path.keys().any(|k| k == "headers");
    if free_map && mask::is_secret_leaf(path, value) {
        return true;
    }
    mask::looks_secret(value) && !crate::config::schema::is_known(path)
}

/// Names of the schema's `x-secret` properties: a key with another name is not one.
fn schema_secret_names() -> &'static std::collections::BTreeSet<String> {
    static NAMES: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        fn walk(v: &Json, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Json::Object(m) => {
                    if let Some(Json::Object(props)) = m.get("properties") {
                        for (k, p) in props {
                            if p.get("x-secret") == Some(&Json::Bool(true)) {
                                out.insert(k.clone());
                            }
                        }
                    }
                    m.values().for_each(|c| walk(c, out));
                }
                Json::Array(a) => a.iter().for_each(|c| walk(c, out)),
                _ => {}
            }
        }
        let mut out = std::collections::BTreeSet::new();
        walk(crate::config::schema::schema(), &mut out);
        out
    })
}

/// A value for a report sentence: strings quoted, secrets described.
pub fn show(path: &KeyPath, value: &Json) -> String {
    fn redact(path: &KeyPath, v: &Json) -> Json {
        match v {
            Json::String(s) if is_sensitive(path, s) => {
                Json::String(crate::secrets::mask::describe(s))
            }
            Json::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), redact(&path.child(k.as_str()), v)))
                    .collect(),
            ),
            Json::Array(a) => Json::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| redact(&path.index(i), v))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    match redact(path, value) {
        Json::String(s) if matches!(value, Json::String(v) if is_sensitive(path, v)) => s,
        other => other.to_string(),
    }
}

/// Every string in `doc` that must not be shown, for scrubbing diffs.
pub fn sensitive_strings(doc: &Item) -> Vec<String> {
    fn walk(item: &Json, path: &KeyPath, out: &mut Vec<String>) {
        match item {
            Json::String(s) if s.len() >= 4 && is_sensitive(path, s) => out.push(s.clone()),
            Json::Object(m) => m
                .iter()
                .for_each(|(k, v)| walk(v, &path.child(k.as_str()), out)),
            Json::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &path.index(i), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &crate::config::tomlconv::item_to_json(doc),
        &KeyPath::root(),
        &mut out,
    );
    out
}

fn version_key() -> KeyPath {
    KeyPath::parse("meta.version").expect("static key")
}

/// The layout version a document declares (`meta.version`; missing = 0).
pub fn file_version(doc: &DocumentMut) -> Result<u32, MigrateError> {
    let key = version_key();
    match tree::get(doc.as_item(), &key.parent().unwrap_or_default()) {
        Some(meta) if !meta.is_table_like() => {
            return Err(MigrateError::at(
                key.parent().unwrap_or_default(),
                format!("`meta` is {}, not a table", tree::kind(meta)),
            )
            .with_help("write `[meta]` with `version = N` (0 if you do not know)"));
        }
        _ => {}
    }
    match tree::get(doc.as_item(), &key) {
        None => Ok(0),
        Some(item) => item
            .as_integer()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                MigrateError::at(
                    key.clone(),
                    format!(
                        "`meta.version` must be a whole number, found {}",
                        crate::config::tomlconv::item_to_json(item)
                    ),
                )
                .with_help("write `version = N` under [meta] (0 if you do not know)")
            }),
    }
}

/// The migrations a file at `version` needs, oldest first.
pub fn pending(version: u32) -> Result<Vec<&'static Migration>, MigrateError> {
    if version > CURRENT_VERSION {
        return Err(MigrateError::at(
            version_key(),
            format!(
                "written by a newer clawctl (version {version}; this one knows up to {CURRENT_VERSION})"
            ),
        )
        .with_help("upgrade clawctl to edit this file; nothing was changed"));
    }
    Ok(all().iter().filter(|m| m.from_version >= version).collect())
}

/// Run `migrations` on `doc`, stamping `meta.version` after each.
pub fn apply(
    doc: &mut DocumentMut,
    migrations: &[&'static Migration],
    cx: &mut OpContext,
) -> Result<Report, MigrateError> {
    let from_version = file_version(doc)?;
    let mut report = Report {
        from_version,
        to_version: from_version,
        ..Default::default()
    };
    for m in migrations {
        let mut changes = Vec::new();
        for op in &m.ops {
            let mut c = op.apply(doc.as_item_mut(), cx).map_err(|mut e| {
                e.migration = Some(m.file);
                e
            })?;
            changes.append(&mut c);
        }
        changes.push(stamp(doc, m.to_version)?);
        report.to_version = m.to_version;
        report.applied.push(Applied {
            migration: m,
            changes,
        });
    }
    report.moved = std::mem::take(&mut cx.moved);
    Ok(report)
}

/// Bring `doc` to the newest layout.
pub fn migrate(doc: &mut DocumentMut, cx: &mut OpContext) -> Result<Report, MigrateError> {
    let todo = pending(file_version(doc)?)?;
    apply(doc, &todo, cx)
}

/// Set `meta.version`, in place when it exists; a new `[meta]` goes first, after the
/// file's header comment (the lines up to the first blank line, `#:schema` included),
/// where `clawctl` puts it in files it creates.
fn stamp(doc: &mut DocumentMut, version: u32) -> Result<Change, MigrateError> {
    let key = version_key();
    let old = tree::get(doc.as_item(), &key).map(crate::config::tomlconv::item_to_json);
    let message = match &old {
        Some(o) => format!("`meta.version`: {o} → {version}"),
        None => format!("set `meta.version` = {version}"),
    };
    let new = toml_edit::Value::from(i64::from(version));
    if let Some(Item::Value(slot)) = tree::get_mut(doc.as_item_mut(), &key) {
        tree::replace_value(slot, new);
    } else if doc.get("meta").is_some() {
        tree::insert_new(doc.as_item_mut(), &key, Item::Value(new))
            .map_err(|e| MigrateError::at(key.clone(), e.to_string()))?;
    } else {
        insert_meta_first(doc, new);
    }
    Ok(Change {
        op: "stamp",
        key: key.clone(),
        message,
        removed: old
            .map(|value| Removed {
                key,
                value,
                to_credentials: None,
            })
            .into_iter()
            .collect(),
    })
}

fn insert_meta_first(doc: &mut DocumentMut, version: toml_edit::Value) {
    let mut meta = Table::new();
    meta.insert("version", Item::Value(version));
    // Position 0 prints before every section read from the file (they start at 1).
    meta.set_position(0);
    let root_has_values = doc
        .iter()
        .any(|(_, i)| !i.is_table() || i.as_table().is_some_and(Table::is_dotted));
    let first = first_section(doc.as_table()).and_then(|p| section_at(doc.as_table_mut(), p));
    match first {
        // Top-level values print before any section and carry the header comment
        // themselves: `[meta]` simply follows them.
        _ if root_has_values => meta.decor_mut().set_prefix("\n"),
        Some(t) => {
            let prefix = t
                .decor()
                .prefix()
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string();
            let (header, rest) = split_header(&prefix);
            meta.decor_mut().set_prefix(header);
            t.decor_mut().set_prefix(format!("\n{rest}"));
        }
        None => meta.decor_mut().set_prefix(""),
    }
    doc.insert("meta", Item::Table(meta));
}

/// The document position of the first section with a `[header]` line.
fn first_section(t: &Table) -> Option<usize> {
    t.iter()
        .filter_map(|(_, i)| i.as_table())
        .filter(|c| !c.is_dotted())
        .filter_map(|c| {
            let own = (!c.is_implicit()).then(|| c.position()).flatten();
            [own, first_section(c)].into_iter().flatten().min()
        })
        .min()
}

fn section_at(t: &mut Table, position: usize) -> Option<&mut Table> {
    for (_, item) in t.iter_mut() {
        let Some(c) = item.as_table_mut() else {
            continue;
        };
        if c.is_dotted() {
            continue;
        }
        if !c.is_implicit() && c.position() == Some(position) {
            return Some(c);
        }
        if let Some(found) = section_at(c, position) {
            return Some(found);
        }
    }
    None
}

/// Split a section's leading comment into the file header (up to the first blank
/// line, or a lone `#:schema` line) and the section's own comment.
fn split_header(prefix: &str) -> (String, String) {
    if let Some(i) = prefix.find("\n\n") {
        return (prefix[..i + 2].to_string(), prefix[i + 2..].to_string());
    }
    if prefix.starts_with("#:schema") {
        let end = prefix.find('\n').map(|i| i + 1).unwrap_or(prefix.len());
        return (format!("{}\n", &prefix[..end]), prefix[end..].to_string());
    }
    (String::new(), prefix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_parses_and_chains() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            on_disk, embedded,
            "every file in migrations/ must be listed in migrate::EMBEDDED, in order"
        );
        for (i, (name, text)) in EMBEDDED.iter().enumerate() {
            let number = format!("{:04}-", i + 1);
            assert!(
                name.starts_with(&number),
                "{name} should start with {number}"
            );
            assert_eq!(
                *text,
                std::fs::read_to_string(dir.join(name)).unwrap(),
                "{name}"
            );
        }
        assert_eq!(all().len(), EMBEDDED.len());
        assert_eq!(all().last().unwrap().to_version, CURRENT_VERSION);
    }

    #[test]
    fn provider_id_maps_follow_the_catalog() {
        let catalog = crate::providers::catalog::Catalog::builtin();
        for m in all() {
            for op in &m.ops {
                if let Op::MapValue { from, to, .. } = op {
                    assert_eq!(catalog.canonical(from), to, "{}: {from}", m.file);
                    assert_ne!(catalog.canonical(from), from, "{}: {from}", m.file);
                }
            }
        }
    }

    #[test]
    fn chain_errors_name_the_gap() {
        let mut ms = all().to_vec();
        ms[0].from_version = 1;
        assert!(
            check_chain(&ms)
                .unwrap_err()
                .contains("previous one ends at 0")
        );
        assert!(
            parse_migration(
                "x.toml",
                "description = \"d\"\nfrom_version = 0\nto_version = 2\n"
            )
            .is_err()
        );
        assert!(
            parse_migration(
                "x.toml",
                "description = \"d\"\nfrom_version = 0\nto_version = 1\nbogus = 1\n"
            )
            .is_err()
        );
    }

    fn migrated(text: &str) -> (String, Report) {
        let mut doc: DocumentMut = text.parse().unwrap();
        let r = migrate(&mut doc, &mut OpContext::default()).unwrap();
        (doc.to_string(), r)
    }

    #[test]
    fn meta_goes_after_the_header_comment() {
        let (out, _) =
            migrated("#:schema ./config.schema.json\n# mine\n\n# gw\n[gateway]\nport = 1\n");
        assert_eq!(
            out,
            "#:schema ./config.schema.json\n# mine\n\n[meta]\nversion = 1\n\n# gw\n[gateway]\nport = 1\n"
        );
        let (out, _) = migrated("[gateway]\nport = 1\n");
        assert_eq!(out, "[meta]\nversion = 1\n\n[gateway]\nport = 1\n");
        let (out, _) = migrated("[meta]\n# v\nversion = 0 # old\n");
        assert_eq!(out, "[meta]\n# v\nversion = 1 # old\n");
        let (out, _) = migrated("");
        assert_eq!(out, "[meta]\nversion = 1\n");
        let (out, _) = migrated("# top\ngateway.port = 1\n\n[agents.defaults]\nmodel = \"a/b\"\n");
        assert_eq!(
            out,
            "# top\ngateway.port = 1\n\n[meta]\nversion = 1\n\n[agents.defaults]\nmodel.primary = \"a/b\"\n"
        );
    }

    #[test]
    fn secrets_are_recognised_without_walking_the_schema_for_every_key() {
        let names = schema_secret_names();
        assert!(
            names.contains("api_key") && names.contains("token"),
            "{names:?}"
        );
        let kp = |s: &str| KeyPath::parse(s).unwrap();
        assert!(is_sensitive(&kp("models.providers.x.api_key"), "abc"));
        assert!(is_sensitive(&kp("models.providers.x.apiKey"), "abc"));
        assert!(is_sensitive(&kp("gateway.token"), "abc"));
        assert!(is_sensitive(&kp("env.vars.SOME_TOKEN"), "abc"));
        assert!(is_sensitive(&kp("x.unknown"), "sk-abcdefghijklmnop0123"));
        assert!(!is_sensitive(&kp("gateway.auth.token"), "${T}"));
        assert!(!is_sensitive(
            &kp("models.providers.x.api_key"),
            "cred:x:default"
        ));
        assert!(!is_sensitive(
            &kp("agents.defaults.model.primary"),
            "moonshot/kimi-k2.5-preview-0905"
        ));
    }

    #[test]
    fn versions_are_read_strictly() {
        let doc: DocumentMut = "[meta]\nversion = \"1\"\n".parse().unwrap();
        assert!(
            file_version(&doc)
                .unwrap_err()
                .message
                .contains("whole number")
        );
        let doc: DocumentMut = "meta = 3\n".parse().unwrap();
        assert!(file_version(&doc).is_err());
        let e = pending(CURRENT_VERSION + 1).unwrap_err();
        assert!(
            e.message.contains(&format!(
                "written by a newer clawctl (version {}; this one knows up to {CURRENT_VERSION})",
                CURRENT_VERSION + 1
            )),
            "{e}"
        );
        assert!(pending(CURRENT_VERSION).unwrap().is_empty());
    }
}
