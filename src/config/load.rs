//! `load(&Environment) -> Loaded`: the one loader every command uses, for the CLI's
//! view and for the service's.
//!
//! Layers (lowest first): defaults < config.toml < home `.env` < process env
//! (`CLAWCTL__A__B`) < `--set key=value`. figment merges them; each layer is a
//! provider whose metadata names it exactly (one provider per variable), so every
//! leaf knows its origin. The file is read and parsed here (not with figment's
//! `Toml::file`, which searches parent directories and forgets line numbers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value as FValue};
use figment::{Figment, Metadata, Profile, Provider};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::diagnostics::Diagnostic;
use crate::config::keypath::{KeyPath, Segment};
use crate::config::model::Config;
use crate::config::origin::Origin;
use crate::config::tomlconv::{self, SpanMap};
use crate::env::Environment;
use crate::env::paths::Paths;
use crate::env::vars;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--profile NAME`.
    pub profile: Option<String>,
    /// `--set key=value`, in order.
    pub sets: Vec<String>,
    /// Check this text as config.toml instead of reading the file (a write in
    /// progress is validated whole before it lands).
    pub config_text: Option<String>,
    /// Only defaults and the file: what the file alone says.
    pub file_only: bool,
    /// Skip the JSON Schema pass when the typed config deserializes: read-only
    /// commands (get, list, status) need the answer fast, and compiling the
    /// validator costs more than loading a 50 KB config. Every write, `validate`,
    /// `doctor`, the gateway and restarts run the full check; so does this path
    /// whenever deserializing fails, to explain why.
    pub fast: bool,
    /// Diagnostics need only their code and key (no location, no suggestion):
    /// a write's look at the file *before* the edit only compares error sets.
    pub brief: bool,
    /// Use this fleet layer instead of reading etcd (a watched change validated before
    /// it is applied, `fleet set --dry-run` against a member's layers, tests).
    pub fleet_layer: Option<std::sync::Arc<crate::fleet::FleetLayer>>,
}

impl LoadOptions {
    /// The same options on the fast path (see `fast`).
    pub fn fast(&self) -> LoadOptions {
        LoadOptions {
            fast: true,
            ..self.clone()
        }
    }

    /// The same options, checking `text` alone as the config file.
    pub fn for_file_text(&self, text: &str) -> LoadOptions {
        LoadOptions {
            profile: self.profile.clone(),
            sets: Vec::new(),
            config_text: Some(text.to_string()),
            file_only: true,
            fast: false,
            brief: false,
            fleet_layer: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileRead {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: usize,
}

/// A variable from the home `.env`.
#[derive(Debug, Clone)]
pub struct DotEnvVar {
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub env: Environment,
    pub paths: Paths,
    /// The typed effective config: every valid value, with each invalid leaf (see
    /// `invalid`) left at its default — never all defaults because of one bad leaf.
    pub config: Config,
    /// Keys whose value is invalid and was left out of `config` (their defaults
    /// apply there). Readers must not draw conclusions from those defaults, and a
    /// provider with an invalid key is not probed (its endpoint is unknown).
    pub invalid: Vec<KeyPath>,
    /// The effective config as a tree, defaults included.
    pub value: Value,
    /// What origins are computed from, on first use.
    origin_inputs: OriginInputs,
    origins_cell: std::sync::OnceLock<BTreeMap<KeyPath, Origin>>,
    /// Text of the files read, as read (never shown: see `sources()`).
    raw_sources: BTreeMap<PathBuf, String>,
    masked_sources: std::sync::OnceLock<BTreeMap<PathBuf, String>>,
    pub files: Vec<FileRead>,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether config.toml exists.
    pub config_exists: bool,
    /// sha256 of config.toml's bytes (hex), when it exists.
    pub config_sha256: Option<String>,
    /// The file's own tree (no defaults), when it parsed.
    file_value: std::sync::OnceLock<Option<Value>>,
    /// See `LoadOptions::brief`.
    pub brief: bool,
    /// Where each key is in the file; built on first use (only diagnostics need it).
    pub file_spans: std::sync::OnceLock<SpanMap>,
    /// Every variable of the home `.env` (provider keys are credential sources).
    pub dotenv: BTreeMap<String, DotEnvVar>,
    /// The fleet this config belongs to and the layer read from it; `None`: no fleet.
    pub fleet: Option<crate::fleet::FleetState>,
}

/// The merged layers and the file, kept so that origins are worked out only when a
/// command asks for them (most writes and reads need one or none).
#[derive(Debug, Clone)]
struct OriginInputs {
    figment: Figment,
    merged: Dict,
    named: BTreeMap<String, Origin>,
    file_doc: Option<toml_edit::ImDocument<String>>,
}

impl Loaded {
    /// Origin of every leaf (arrays count as leaves) and of every non-default table.
    pub fn origins(&self) -> &BTreeMap<KeyPath, Origin> {
        self.origins_cell.get_or_init(|| {
            let inp = &self.origin_inputs;
            let text = inp.file_doc.as_ref().map(|d| d.raw()).unwrap_or("");
            let lines = tomlconv::LineIndex::new(text);
            let mut origins = BTreeMap::new();
            collect_origins(
                &inp.figment,
                &inp.merged,
                &KeyPath::root(),
                &mut |path, name| {
                    let origin = if name == "file" {
                        let offset = inp
                            .file_doc
                            .as_ref()
                            .and_then(|d| tomlconv::span_in(d.as_item(), path))
                            .map(|r| r.start)
                            .unwrap_or(0);
                        let pos = lines.pos(offset);
                        Origin::File {
                            path: self.paths.config.clone(),
                            line: pos.line,
                            col: pos.col,
                        }
                    } else {
                        inp.named.get(name).cloned().unwrap_or(Origin::Default)
                    };
                    origins.insert(path.clone(), origin);
                },
            );
            origins
        })
    }

    /// The text of the files read, every secret masked (same length, so spans and
    /// columns stay right): what diagnostics may quote.
    pub fn sources(&self) -> &BTreeMap<PathBuf, String> {
        self.masked_sources.get_or_init(|| {
            let mut secrets = Vec::new();
            crate::write::transaction::collect_secret_literals(
                &self.value,
                &KeyPath::root(),
                &mut secrets,
            );
            self.raw_sources
                .iter()
                .map(|(p, t)| (p.clone(), crate::secrets::mask::mask_in_source(t, &secrets)))
                .collect()
        })
    }

    /// The file's own tree (no defaults, no other layer), when it parsed.
    pub fn file_value(&self) -> Option<&Value> {
        self.file_value
            .get_or_init(|| {
                self.origin_inputs
                    .file_doc
                    .as_ref()
                    .map(|d| tomlconv::item_to_json(d.as_item()))
            })
            .as_ref()
    }

    /// Where each key sits in config.toml.
    pub fn spans(&self) -> &SpanMap {
        self.file_spans.get_or_init(|| {
            // Masking keeps every byte offset, so spans of the masked text are exact.
            let text = self
                .sources()
                .get(&self.paths.config)
                .map(String::as_str)
                .unwrap_or("");
            match toml_edit::ImDocument::parse(text) {
                Ok(doc) => SpanMap::from_document(&doc),
                Err(_) => SpanMap::default(),
            }
        })
    }

    /// The invalid key (see `invalid`) at, above or below `path`: a reader about to
    /// use the typed value at `path` would be looking at a default in its place.
    pub fn invalid_near(&self, path: &KeyPath) -> Option<&KeyPath> {
        self.invalid
            .iter()
            .find(|bad| bad.starts_with(path) || path.starts_with(bad))
    }

    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The effective value at `path`.
    pub fn get(&self, path: &KeyPath) -> Option<&Value> {
        get_path(&self.value, path)
    }

    /// Origin of `path`: its own, or the one of the nearest ancestor or first descendant.
    pub fn origin_of(&self, path: &KeyPath) -> Option<Origin> {
        // One leaf's origin without building the whole map (`config get`).
        if self.origins_cell.get().is_none()
            && let Some(o) = self.leaf_origin(path)
        {
            return Some(o);
        }
        let origins = self.origins();
        if let Some(o) = origins.get(path) {
            return Some(o.clone());
        }
        if let Some((_, o)) = origins
            .range(path.clone()..)
            .find(|(k, _)| k.starts_with(path))
        {
            return Some(o.clone());
        }
        let mut p = path.parent();
        while let Some(cur) = p {
            if let Some(o) = origins.get(&cur) {
                return Some(o.clone());
            }
            p = cur.parent();
        }
        None
    }

    /// The origin of `path` when it names a leaf (or an array) of the merged tree.
    fn leaf_origin(&self, path: &KeyPath) -> Option<Origin> {
        let inp = &self.origin_inputs;
        let mut dict = &inp.merged;
        let mut leaf = None;
        for (i, seg) in path.segments().iter().enumerate() {
            let crate::config::keypath::Segment::Key(k) = seg else {
                return None;
            };
            match dict.get(k.as_str())? {
                FValue::Dict(_, d) if !d.is_empty() => dict = d,
                v if i + 1 == path.segments().len() => leaf = Some(v),
                _ => return None,
            }
        }
        let name: &str = inp
            .figment
            .get_metadata(leaf?.tag())
            .map(|m| &*m.name)
            .unwrap_or("");
        Some(if name == "file" {
            let doc = inp.file_doc.as_ref()?;
            let offset = tomlconv::span_in(doc.as_item(), path)
                .map(|r| r.start)
                .unwrap_or(0);
            let pos = tomlconv::offset_to_pos(doc.raw(), offset);
            Origin::File {
                path: self.paths.config.clone(),
                line: pos.line,
                col: pos.col,
            }
        } else {
            inp.named.get(name).cloned().unwrap_or(Origin::Default)
        })
    }

    /// Render every diagnostic for a terminal.
    pub fn render_diagnostics(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.env, self.sources()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn get_path<'a>(value: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    let mut cur = value;
    for seg in path.segments() {
        cur = match seg {
            Segment::Key(k) => cur.get(k)?,
            Segment::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

/// A figment provider for one layer (or one variable of a layer), named so that
/// origins can be told apart.
struct LayerProvider {
    name: String,
    dict: Dict,
}

impl Provider for LayerProvider {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }
    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut m = Map::new();
        m.insert(Profile::Default, self.dict.clone());
        Ok(m)
    }
}

fn nest(path: &KeyPath, value: Value) -> Dict {
    let mut v = value;
    for seg in path.segments().iter().rev() {
        if let Segment::Key(k) = seg {
            let mut m = serde_json::Map::new();
            m.insert(k.clone(), v);
            v = Value::Object(m);
        }
    }
    match v {
        Value::Object(m) => tomlconv::json_obj_to_dict(&m),
        _ => Dict::new(),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Line and column of the first byte that is not UTF-8.
pub fn first_invalid_utf8(bytes: &[u8], e: &std::str::Utf8Error) -> tomlconv::Pos {
    let text = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
    tomlconv::offset_to_pos(&text, text.len())
}

/// Read a config-like file with the checks every reader needs (`crate::read`: a
/// regular file, at most 10 MiB whatever `stat` says, never blocking on a FIFO),
/// readable, UTF-8. `Ok(None)`: the file does not exist.
pub fn read_text_file(path: &Path, what: &str) -> Result<Option<String>, Diagnostic> {
    let bytes = match crate::read::bytes(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(match crate::read::refusal(&e) {
                Some(crate::read::Refusal::NotRegular(kind)) => Diagnostic::error(
                    "not-a-file",
                    format!("{what} {} is {kind}, not a regular file", path.display()),
                )
                .with_help(format!(
                    "replace it with a regular file, or point clawctl at one ({} for the config)",
                    crate::env::vars::CLAWCTL_CONFIG
                )),
                Some(crate::read::Refusal::TooLarge) => Diagnostic::error(
                    "too-large",
                    format!(
                        "{what} {} is larger than 10 MiB; clawctl refuses files over 10 MiB",
                        path.display()
                    ),
                )
                .with_help("this is not a config file clawctl wrote; check the path"),
                None => unreadable(path, what, &e, None),
            });
        }
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let pos = first_invalid_utf8(e.as_bytes(), &e.utf8_error());
        Diagnostic::error(
            "encoding",
            format!(
                "{what} {} is not valid UTF-8 (line {}, column {})",
                path.display(),
                pos.line,
                pos.col
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

/// "cannot read …: permission denied", with the file's owner and mode and the fix
/// (a file left root-owned by `sudo clawctl …` is the usual cause).
fn unreadable(
    path: &Path,
    what: &str,
    e: &std::io::Error,
    meta: Option<&std::fs::Metadata>,
) -> Diagnostic {
    use std::os::unix::fs::MetadataExt;
    let d = Diagnostic::error(
        "unreadable",
        format!("cannot read {what} {}: {e}", path.display()),
    );
    match meta {
        Some(m) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let owner = user_name(m.uid()).unwrap_or_else(|| format!("uid {}", m.uid()));
            d.with_help(format!(
                "it is owned by {owner} with mode {:o}: `sudo chown \"$(id -un)\" {p} && chmod 600 {p}` (or run clawctl as {owner})",
                m.mode() & 0o7777,
                p = crate::fix::quote(&path.display().to_string())
            ))
        }
        _ => d.with_help("check the file's permissions (ls -l) and owner"),
    }
}

/// The login name of `uid` from /etc/passwd, when it has one.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// Load the config as `env` sees it.
pub fn load(env: &Environment, opts: &LoadOptions) -> Result<Loaded, Diagnostic> {
    let paths = Paths::resolve(env, opts.profile.as_deref())
        .map_err(|e| Diagnostic::error("usage", e.0))?;
    let mut diagnostics = Vec::new();
    let mut sources = BTreeMap::new();
    let mut files = Vec::new();
    let mut providers: Vec<LayerProvider> = Vec::new();
    // name → origin for providers that are not the file.
    let mut named_origins: BTreeMap<String, Origin> = BTreeMap::new();

    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    if let Value::Object(m) = &defaults {
        providers.push(LayerProvider {
            name: "default".into(),
            dict: tomlconv::json_obj_to_dict(m),
        });
        named_origins.insert("default".into(), Origin::Default);
    }

    // Layer 2: config.toml.
    let mut config_exists = false;
    let mut config_sha256 = None;
    let mut file_doc: Option<toml_edit::ImDocument<String>> = None;
    let read = match &opts.config_text {
        Some(t) => Ok(Some(t.clone())),
        None => read_text_file(&paths.config, "config file"),
    };
    match read {
        Ok(None) => {}
        Ok(Some(text)) => {
            config_exists = true;
            let sha = sha256_hex(text.as_bytes());
            files.push(FileRead {
                path: paths.config.clone(),
                sha256: sha.clone(),
                bytes: text.len(),
            });
            config_sha256 = Some(sha);
            match toml_edit::ImDocument::parse(text.clone()) {
                Ok(doc) => {
                    providers.push(LayerProvider {
                        name: "file".into(),
                        dict: tomlconv::item_to_dict(doc.as_item()),
                    });
                    file_doc = Some(doc);
                }
                Err(e) => {
                    let span = e.span().unwrap_or(0..0);
                    diagnostics.push(
                        Diagnostic::error(
                            "syntax",
                            format!("TOML syntax error: {}", e.message().trim_end()),
                        )
                        .with_span(paths.config.clone(), span)
                        .with_help(
                            "fix the line shown; strings need quotes (port = 8080, model = \"moonshot/kimi-k2.5\")",
                        ),
                    );
                }
            }
            sources.insert(paths.config.clone(), text);
        }
        Err(d) => {
            config_exists = paths.config.exists();
            diagnostics.push(d)
        }
    }

    // Layer 3: home .env.
    let mut dotenv = BTreeMap::new();
    let dotenv_read = if opts.file_only {
        Ok(None)
    } else {
        read_text_file(&paths.dotenv, ".env file")
    };
    match dotenv_read {
        Ok(None) => {}
        Ok(Some(text)) => {
            files.push(FileRead {
                path: paths.dotenv.clone(),
                sha256: sha256_hex(text.as_bytes()),
                bytes: text.len(),
            });
            let (entries, errors) = crate::config::dotenv::parse(&text);
            for e in errors {
                diagnostics.push(Diagnostic::warning(
                    "dotenv-syntax",
                    format!(
                        "{}:{}: {} (line ignored)",
                        paths.dotenv.display(),
                        e.line,
                        e.message
                    ),
                ));
            }
            for e in entries {
                if e.name.starts_with(vars::CONFIG_OVERRIDE_PREFIX) {
                    let origin = Origin::DotEnv {
                        path: paths.dotenv.clone(),
                        line: e.line,
                        var: e.name.clone(),
                    };
                    if let Some(p) = override_provider(
                        &format!("dotenv:{}", e.name),
                        &e.name,
                        &e.value,
                        origin.clone(),
                        &mut diagnostics,
                    ) {
                        named_origins.insert(p.name.clone(), origin);
                        providers.push(p);
                    }
                }
                dotenv.insert(
                    e.name,
                    DotEnvVar {
                        value: e.value,
                        line: e.line,
                    },
                );
            }
        }
        Err(d) => diagnostics.push(Diagnostic {
            severity: crate::config::diagnostics::Severity::Warning,
            ..d
        }),
    }

    // credentials.toml is not a layer of values, but keys come from it: a file that
    // does not parse or cannot be read makes the setup invalid (the gateway refuses
    // it), and is named here rather than as "profile missing" later.
    let store = (!opts.file_only).then(|| {
        let store = crate::secrets::credentials::Store::read(&paths.credentials);
        if let Some(d) = &store.error_diagnostic {
            diagnostics.push(d.clone());
        }
        store
    });

    // Layer 4: process environment, one provider per variable.
    for (name, value) in &env.vars {
        if !opts.file_only && name.starts_with(vars::CONFIG_OVERRIDE_PREFIX) {
            let origin = Origin::Env { var: name.clone() };
            if let Some(p) = override_provider(
                &format!("env:{name}"),
                name,
                value,
                origin.clone(),
                &mut diagnostics,
            ) {
                named_origins.insert(p.name.clone(), origin);
                providers.push(p);
            }
        }
    }

    // Layer 5: --set.
    for (i, arg) in opts.sets.iter().enumerate() {
        let Some((k, v)) = arg.split_once('=') else {
            diagnostics.push(
                Diagnostic::error("usage", format!("--set `{arg}`: expected KEY=VALUE"))
                    .with_help("for example: --set gateway.port=19001"),
            );
            continue;
        };
        let origin = Origin::Set {
            index: i,
            key: k.trim().to_string(),
        };
        match KeyPath::parse(k.trim()) {
            Ok(path) => {
                if let Some(p) = typed_provider(
                    &format!("set:{i}"),
                    &path,
                    v,
                    origin.clone(),
                    &mut diagnostics,
                ) {
                    named_origins.insert(p.name.clone(), origin);
                    providers.push(p);
                }
            }
            Err(e) => diagnostics.push(Diagnostic::error("usage", format!("--set: {e}"))),
        }
    }

    // Layer 1½: the fleet layer, between the defaults and config.toml. Only looked for
    // when a fleet is configured; otherwise nothing here costs more than a lookup.
    let fleet = fleet_layer(
        env,
        &paths,
        opts,
        &mut providers,
        &mut named_origins,
        &mut diagnostics,
    );

    register_layer_secrets(env, &providers, &dotenv);
    let mut figment = Figment::new();
    for p in providers {
        figment = figment.merge(p);
    }
    let mut data = figment.data().unwrap_or_default();
    let merged = data.remove(&Profile::Default).unwrap_or_default();

    let value = tomlconv::dict_to_json(&merged);
    let mut loaded = Loaded {
        env: env.clone(),
        paths,
        config: Config::default(),
        invalid: Vec::new(),
        value,
        origin_inputs: OriginInputs {
            figment,
            merged,
            named: named_origins,
            file_doc,
        },
        origins_cell: Default::default(),
        raw_sources: sources,
        masked_sources: Default::default(),
        files,
        diagnostics,
        config_exists,
        config_sha256,
        file_value: Default::default(),
        brief: opts.brief,
        file_spans: Default::default(),
        dotenv,
        fleet,
    };
    // Deserialize the tree figment already merged (`Figment::extract` would merge
    // every provider again).
    let extracted = <Config as serde::Deserialize>::deserialize(&loaded.value);
    let before_schema = loaded.diagnostics.len();
    if !opts.fast || extracted.is_err() {
        crate::config::validate::check_schema(&mut loaded);
    } else {
        crate::config::validate::check_ranges(&mut loaded);
    }
    let bad: Vec<KeyPath> = loaded.diagnostics[before_schema..]
        .iter()
        .filter(|d| d.is_error())
        .filter_map(|d| d.key.clone())
        .collect();
    match extracted {
        Ok(c) if bad.is_empty() => loaded.config = c,
        _ => {
            let (config, invalid) = salvage(&loaded.value, &bad);
            loaded.config = config;
            loaded.invalid = invalid;
        }
    }
    crate::config::validate::check_cross_fields(&mut loaded);
    if let Some(store) = &store {
        crate::config::validate::check_password(&mut loaded, store);
    }
    Ok(loaded)
}

/// The typed config from a tree with invalid leaves: each key in `bad` (and each
/// further leaf serde rejects) is removed so its default applies, and every other
/// value is kept. Returns the config and the keys removed.
fn salvage(value: &Value, bad: &[KeyPath]) -> (Config, Vec<KeyPath>) {
    let parse = |v: &Value| <Config as serde::Deserialize>::deserialize(v).ok();
    let mut tree = value.clone();
    let mut removed: Vec<KeyPath> = Vec::new();
    for path in bad {
        // An array element's error drops the whole array: indices would shift.
        let cut = KeyPath::from_segments(
            path.segments()
                .iter()
                .take_while(|s| matches!(s, Segment::Key(_)))
                .cloned()
                .collect(),
        );
        if !cut.is_empty() && remove_path(&mut tree, &cut) && !removed.contains(&cut) {
            removed.push(cut);
        }
    }
    // Serde may reject more than the schema said (or the schema pass was skipped):
    // find the smallest subtree that fails alone and remove it, one at a time.
    for _ in 0..64 {
        if let Some(c) = parse(&tree) {
            return (c, removed);
        }
        let Some(path) = first_rejected(&tree, &KeyPath::root(), &parse) else {
            break;
        };
        if path.is_empty() || !remove_path(&mut tree, &path) {
            break;
        }
        removed.push(path);
    }
    (Config::default(), removed)
}

/// The deepest subtree of `node` (at `path`) that does not deserialize on its own.
fn first_rejected(
    node: &Value,
    path: &KeyPath,
    parse: &dyn Fn(&Value) -> Option<Config>,
) -> Option<KeyPath> {
    let Value::Object(map) = node else {
        return Some(path.clone());
    };
    for (k, child) in map {
        let p = path.child(k.as_str());
        if parse(&nest_json(&p, child.clone())).is_none() {
            return first_rejected(child, &p, parse).or(Some(p));
        }
    }
    (!path.is_empty()).then(|| path.clone())
}

fn nest_json(path: &KeyPath, value: Value) -> Value {
    path.segments()
        .iter()
        .rev()
        .fold(value, |v, seg| match seg {
            Segment::Key(k) => {
                let mut m = serde_json::Map::new();
                m.insert(k.clone(), v);
                Value::Object(m)
            }
            Segment::Index(_) => v,
        })
}

/// Remove the value at `path` (keys only); whether something was removed.
fn remove_path(tree: &mut Value, path: &KeyPath) -> bool {
    let Some((last, parents)) = path.segments().split_last() else {
        return false;
    };
    let mut cur = tree;
    for seg in parents {
        let Segment::Key(k) = seg else { return false };
        match cur.get_mut(k.as_str()) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    match (last, cur) {
        (Segment::Key(k), Value::Object(m)) => m.shift_remove(k.as_str()).is_some(),
        _ => false,
    }
}

/// Find the fleet (from the environment and the other layers), read its layer (or use
/// `opts.fleet_layer`), and insert one provider per key right after the defaults.
fn fleet_layer(
    env: &Environment,
    paths: &Paths,
    opts: &LoadOptions,
    providers: &mut Vec<LayerProvider>,
    named_origins: &mut BTreeMap<String, Origin>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<crate::fleet::FleetState> {
    use crate::fleet::{FleetState, FleetTarget};
    let (target, layer, unavailable) = match &opts.fleet_layer {
        Some(l) => (l.target.clone(), Some(l.clone()), None),
        None if opts.file_only => return None,
        None => {
            let dicts: Vec<&Dict> = providers.iter().map(|p| &p.dict).collect();
            let target = match FleetTarget::resolve(env, &dicts) {
                Ok(Some(t)) => t,
                Ok(None) => return None,
                Err(e) => {
                    diagnostics.push(
                        Diagnostic::error("fleet", e)
                            .with_key(KeyPath::parse("fleet").expect("static key")),
                    );
                    return None;
                }
            };
            let read = crate::fleet::layer::read_for_load(&target, &paths.home);
            (
                target,
                read.layer.map(std::sync::Arc::new),
                read.unavailable,
            )
        }
    };
    if let Some(e) = &unavailable {
        diagnostics.push(
            Diagnostic::warning(
                "fleet-unreachable",
                format!(
                    "fleet `{}`: {e}; no cached copy of its layer either, so it is left out",
                    target.name
                ),
            )
            .with_help("check that etcd is running and reachable: `clawctl fleet status`"),
        );
    }
    if let Some(l) = &layer {
        diagnostics.extend(l.diagnostics());
        let at = providers.len().min(1);
        let mut fleet_providers = Vec::with_capacity(l.entries.len());
        for e in &l.entries {
            let name = format!("fleet:{}", e.key);
            named_origins.insert(name.clone(), l.origin_of(e));
            fleet_providers.push(LayerProvider {
                name,
                dict: nest(&e.path, e.value.clone()),
            });
        }
        providers.splice(at..at, fleet_providers);
    }
    Some(FleetState {
        target,
        layer,
        unavailable,
    })
}

/// Tell the masking sink about every secret value of every layer (not only the ones
/// that win the merge: a file's literal overridden by `--set` still sits in excerpts),
/// and about variables with secret-looking names in `.env` and the environment.
fn register_layer_secrets(
    env: &Environment,
    layers: &[LayerProvider],
    dotenv: &BTreeMap<String, DotEnvVar>,
) {
    use crate::secrets::{detect, mask};
    fn walk(v: &FValue, path: &KeyPath) {
        match v {
            FValue::String(_, s) if mask::is_secret_leaf(path, s) => detect::register(s),
            FValue::Dict(_, d) => d.iter().for_each(|(k, v)| walk(v, &path.child(k.as_str()))),
            FValue::Array(_, a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, &path.index(i))),
            _ => {}
        }
    }
    for layer in layers.iter().filter(|l| l.name != "default") {
        for (k, v) in &layer.dict {
            walk(v, &KeyPath::root().child(k.as_str()));
        }
    }
    let named = dotenv
        .iter()
        .map(|(n, v)| (n, &v.value))
        .chain(env.vars.iter());
    for (name, value) in named {
        if detect::is_sensitive_name(name) {
            detect::register(value);
        }
    }
}

fn collect_origins(
    figment: &Figment,
    dict: &Dict,
    base: &KeyPath,
    record: &mut dyn FnMut(&KeyPath, &str),
) {
    for (k, v) in dict {
        let path = base.child(k.as_str());
        let name: &str = figment
            .get_metadata(v.tag())
            .map(|m| &*m.name)
            .unwrap_or("");
        match v {
            FValue::Dict(_, d) if !d.is_empty() => collect_origins(figment, d, &path, record),
            FValue::Dict(_, _) if name == "default" => {}
            _ => record(&path, name),
        }
    }
}

/// An env/.env override `CLAWCTL__A__B=value` as its own provider.
fn override_provider(
    provider_name: &str,
    var: &str,
    raw: &str,
    origin: Origin,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<LayerProvider> {
    let rest = &var[vars::CONFIG_OVERRIDE_PREFIX.len()..];
    // Segments are lower-cased (variables are upper case by custom), except keys of
    // open maps that are not provider ids: `CLAWCTL__ENV__VARS__HTTP_PROXY` sets
    // `env.vars.HTTP_PROXY`, the variable the gateway must export.
    let mut path = KeyPath::root();
    for s in rest.split("__") {
        path = if keeps_case(&path) {
            path.child(s)
        } else {
            path.child(s.to_ascii_lowercase())
        };
    }
    if path
        .segments()
        .iter()
        .any(|s| matches!(s, Segment::Key(k) if k.is_empty()))
    {
        diagnostics.push(
            Diagnostic::error(
                "env-name",
                format!("environment variable {var} does not name a config key"),
            )
            .with_origin(Some(origin))
            .with_help("use CLAWCTL__SECTION__KEY, e.g. CLAWCTL__GATEWAY__PORT=19001"),
        );
        return None;
    }
    typed_provider(provider_name, &path, raw, origin, diagnostics)
}

/// Whether keys under `map` keep their case in an env override: open maps (variable
/// names, header names, aliases), but not the maps keyed by provider id, whose ids are
/// lower case (`CLAWCTL__MODELS__PROVIDERS__MOONSHOT__API_KEY` is `moonshot`'s).
fn keeps_case(map: &KeyPath) -> bool {
    let by_provider_id = [
        &["models", "providers"][..],
        &["auth", "order"],
        &["auth", "profiles"],
    ]
    .iter()
    .any(|k| KeyPath::of(k) == *map);
    !by_provider_id && crate::config::schema::is_open_map(map)
}

fn typed_provider(
    provider_name: &str,
    path: &KeyPath,
    raw: &str,
    origin: Origin,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<LayerProvider> {
    let source = match &origin {
        Origin::Env { var } => format!("environment variable {var}"),
        Origin::DotEnv { path, line, var } => format!("{var} in {}:{line}", path.display()),
        other => other.to_string(),
    };
    if !crate::config::schema::is_known(path) {
        let mut d = Diagnostic::error(
            "unknown-key",
            format!("unknown key `{path}` (set by {source})"),
        )
        .with_key(path.clone())
        .with_origin(Some(origin));
        if let Some(s) = crate::config::schema::suggest(path) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        diagnostics.push(d);
        return None;
    }
    match crate::config::schema::coerce(path, raw) {
        Ok(v) => Some(LayerProvider {
            name: provider_name.to_string(),
            dict: nest(path, v),
        }),
        Err(e) => {
            diagnostics.push(
                Diagnostic::error("type", format!("{source} sets `{path}`: {e}"))
                    .with_key(path.clone())
                    .with_origin(Some(origin))
                    .with_help(format!("fix or unset {source}")),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file left root-owned (by `sudo clawctl …`) is named with its owner and the
    /// fix, never as a missing profile (the reader runs as another user in the case;
    /// the error is built directly here, since tests run as root).
    #[test]
    fn permission_denied_names_the_owner_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("credentials.toml");
        std::fs::write(&p, "").unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let d = unreadable(&p, "credentials file", &e, Some(&meta));
        assert!(
            d.message.starts_with("cannot read credentials file"),
            "{}",
            d.message
        );
        assert!(d.message.contains("permission denied"), "{}", d.message);
        let help = d.help.unwrap_or_default();
        let uid = std::os::unix::fs::MetadataExt::uid(&meta);
        let owner = user_name(uid).unwrap_or_else(|| format!("uid {uid}"));
        assert!(
            help.contains(&format!("owned by {owner} with mode")),
            "{help}"
        );
        assert!(help.contains("sudo chown"), "{help}");
    }

    #[test]
    fn one_bad_leaf_keeps_every_other_value() {
        let v = serde_json::json!({
            "gateway": {"port": "oops", "bind": "lan"},
            "agents": {"defaults": {"model": {"primary": "zai/glm-5", "fallbacks": 3}}},
        });
        let (c, removed) = salvage(&v, &[]);
        assert_eq!(c.gateway.bind, "lan");
        assert_eq!(c.gateway.port, crate::config::model::DEFAULT_GATEWAY_PORT);
        assert_eq!(c.primary_model(), Some("zai/glm-5"));
        let removed: Vec<String> = removed.iter().map(|k| k.to_string()).collect();
        assert!(removed.contains(&"gateway.port".to_string()), "{removed:?}");
    }
}
