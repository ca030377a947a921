//! Import an OpenClaw config (`openclaw.json`, JSON5) into a clawctl config.
//!
//! [`import_openclaw`] reads the file, resolves its `$include`s, reads the per-agent
//! credential stores beside it (`agents/<agent>/agent/auth-profiles.json`) and
//! produces:
//!
//! - a clawctl config document (TOML, `meta.version = 1`) whose secret fields hold
//!   only references (`"cred:<profile>"` or `"${VAR}"`), never a key;
//! - the literal secrets found, as [`ImportedCredential`]s for credentials.toml;
//! - an account of every input key: mapped to a clawctl key, or reported with the
//!   reason it has no equivalent; and warnings (placeholders, wrong env syntax,
//!   legacy shapes, provider ids renamed).
//!
//! It writes nothing. Merging into an existing config, the diff and the safe write
//! belong to `clawctl import`.
//!
//! Input paths are reported as OpenClaw spells them (`models.providers.moonshot.apiKey`),
//! output paths as clawctl does (`models.providers.moonshot.api_key`), both in
//! [`KeyPath`] notation (keys that are not bare words are quoted:
//! `auth.profiles."zai:default"`). Keys read from a file other than the config are
//! prefixed with that file's path relative to the config's directory and `: `.

mod include;
pub mod json5;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::config::diagnostics::Diagnostic;
use crate::config::keypath::KeyPath;
use crate::config::model::{CURRENT_VERSION, split_model_ref};
use crate::config::origin::Origin;
use crate::config::tomlconv::{Pos, offset_to_pos};
use crate::providers::catalog::Catalog;
use crate::secrets::mask;

use json5::{Kind, Member, Node};

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// What a stored credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A provider API key.
    ApiKey,
    /// A bearer token (the gateway's client token, an OpenClaw `token` profile).
    Token,
}

impl CredentialKind {
    /// As clawctl's `auth.profiles.*.mode` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "api_key",
            CredentialKind::Token => "token",
        }
    }
}

/// A literal secret found in the input, to be stored in credentials.toml under
/// `profile_id`; the document refers to it as `"cred:<profile_id>"`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedCredential {
    /// `moonshot:imported` for a key written inline in openclaw.json,
    /// `gateway:imported` for the gateway token, `env:<VAR>` for a secret in
    /// `env.vars` that belongs to no catalog provider, the OpenClaw profile id
    /// (`zai:default`) for a profile from auth-profiles.json. A second, different
    /// secret wanting the same id gets `-2`, `-3`, … appended.
    pub profile_id: String,
    /// Canonical provider id (`gateway` for the gateway token, `env` for other
    /// env secrets).
    pub provider: String,
    pub kind: CredentialKind,
    pub secret: String,
    /// Where it was found: `models.providers.moonshot.apiKey`, or
    /// `agents/main/agent/auth-profiles.json: profiles."zai:default".key`.
    pub from: String,
}

impl fmt::Debug for ImportedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedCredential")
            .field("profile_id", &self.profile_id)
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("secret", &mask::describe(&self.secret))
            .field("from", &self.from)
            .finish()
    }
}

/// An input key and the clawctl key it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub from: String,
    pub to: String,
}

/// An input key that has no clawctl equivalent (or whose value could not be used),
/// and why. Never holds the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub path: String,
    pub reason: String,
}

/// The result of an import. Nothing has been written.
#[derive(Debug, Clone)]
pub struct OpenClawImport {
    /// The clawctl config: `[a.b]` tables, `meta.version = 1`, secret fields holding
    /// `"cred:<profile>"` or `"${VAR}"`.
    pub document: DocumentMut,
    /// Literal secrets found, for credentials.toml.
    pub credentials: Vec<ImportedCredential>,
    pub mapped: Vec<Mapped>,
    /// Every input key not imported, one entry each (a subtree with no equivalent is
    /// reported once, at its first or second level: `channels.telegram`).
    pub unmapped: Vec<Unmapped>,
    pub warnings: Vec<String>,
    /// Every file read: the config, `$include` targets, auth-profiles.json stores.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportErrorKind {
    /// The file cannot be read.
    Read,
    /// Not JSON5.
    Syntax,
    /// The top-level value is not an object.
    NotAnObject,
    /// A `$include` names a missing file or has the wrong form.
    Include,
    /// A `$include` leads back to a file being read.
    IncludeCycle,
    /// Valid JSON5, but not OpenClaw's config format.
    Shape,
}

/// Why an import failed: which file, where in it, what is wrong and what was
/// expected. The message never quotes the file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub kind: ImportErrorKind,
    pub file: PathBuf,
    /// 1-based line and column; `None` when the file as a whole is at fault
    /// (it cannot be read).
    pub pos: Option<Pos>,
    /// Byte offset of the spot in `file` (for a caret), when `pos` is set.
    pub offset: Option<usize>,
    pub message: String,
    pub expected: String,
}

impl ImportError {
    pub fn line(&self) -> Option<usize> {
        self.pos.map(|p| p.line)
    }

    pub fn column(&self) -> Option<usize> {
        self.pos.map(|p| p.col)
    }

    /// As a clawctl diagnostic. It carries the position as its origin rather than a
    /// span: a span would print the source line, which may hold a key.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let code = match self.kind {
            ImportErrorKind::Read => "read",
            ImportErrorKind::Syntax => "syntax",
            ImportErrorKind::NotAnObject | ImportErrorKind::Shape => "import-shape",
            ImportErrorKind::Include | ImportErrorKind::IncludeCycle => "include",
        };
        let d = Diagnostic::error(code, self.message.clone()).with_expected(self.expected.clone());
        match self.pos {
            Some(p) => d.with_origin(Some(Origin::File {
                path: self.file.clone(),
                line: p.line,
                col: p.col,
            })),
            None => d,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.pos {
            write!(f, ":{}:{}", p.line, p.col)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.expected.is_empty() {
            write!(f, " (expected {})", self.expected)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// An OpenClaw config read the way OpenClaw reads it — JSON5, `$include` resolved
/// (relative paths, depth limit, confinement) — and not mapped to clawctl's model:
/// what the `--openclaw` dialect reads in place.
#[derive(Debug, Clone)]
pub struct ReadConfig {
    pub value: serde_json::Value,
    /// The config and every included file, in reading order.
    pub files: Vec<PathBuf>,
    /// Duplicate keys and other non-fatal observations.
    pub warnings: Vec<String>,
    /// Where each value sits: dotted key path (`models.providers.moonshot.apiKey`,
    /// array items as `fallbacks[0]`) → file, line, column (included files keep
    /// their own).
    pub locations: std::collections::BTreeMap<String, (PathBuf, usize, usize)>,
}

/// Line starts of every source file, so that locating each value is a binary
/// search rather than a scan from the top of the file.
struct LineIndex<'s> {
    sources: &'s Sources,
    starts: Vec<Vec<usize>>,
}

impl<'s> LineIndex<'s> {
    fn new(sources: &'s Sources) -> LineIndex<'s> {
        let starts = sources
            .files
            .iter()
            .map(|f| {
                std::iter::once(0)
                    .chain(f.text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect()
            })
            .collect();
        LineIndex { sources, starts }
    }

    fn pos(&self, file: usize, offset: usize) -> (usize, usize) {
        let (Some(starts), Some(src)) = (self.starts.get(file), self.sources.files.get(file))
        else {
            return (1, 1);
        };
        let offset = offset.min(src.text.len());
        let line = starts.partition_point(|s| *s <= offset);
        let start = starts[line - 1];
        let col = src.text.get(start..offset).map_or(0, |t| t.chars().count()) + 1;
        (line, col)
    }
}

fn locate(
    node: &Node,
    path: String,
    index: &LineIndex<'_>,
    out: &mut std::collections::BTreeMap<String, (PathBuf, usize, usize)>,
) {
    if !path.is_empty() {
        let (line, col) = index.pos(node.file, node.span.start);
        out.insert(
            path.clone(),
            (index.sources.path(node.file).to_path_buf(), line, col),
        );
    }
    match &node.kind {
        Kind::Object(members) => {
            for m in members {
                let p = if path.is_empty() {
                    m.key.clone()
                } else {
                    format!("{path}.{}", m.key)
                };
                locate(&m.value, p, index, out);
            }
        }
        Kind::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                locate(v, format!("{path}[{i}]"), index, out);
            }
        }
        _ => {}
    }
}

/// Read `path` as OpenClaw would, for the `--openclaw` dialect. `include_roots`
/// are the directories besides the config's own that `$include` may read
/// (`OPENCLAW_INCLUDE_ROOTS`); anything else is refused, as OpenClaw refuses it.
/// Errors carry the file, line and column and never the source text.
pub fn read_config(path: &Path, include_roots: &[PathBuf]) -> Result<ReadConfig, ImportError> {
    // Reading maps nothing to providers: no catalog needed (and none parsed).
    let catalog = Catalog {
        providers: Vec::new(),
        source: String::new(),
    };
    let mut im = Importer::new(path, &catalog);
    im.include_roots = Some(include_roots.to_vec());
    let top = im.load_file(path, None)?;
    let top = im.resolve_includes(top, &[include::identity(path)])?;
    let mut locations = std::collections::BTreeMap::new();
    locate(
        &top,
        String::new(),
        &LineIndex::new(&im.sources),
        &mut locations,
    );
    Ok(ReadConfig {
        locations,
        value: top.to_json(),
        files: im.sources.files.into_iter().map(|s| s.path).collect(),
        warnings: im.warnings,
    })
}

/// Import the OpenClaw config at `path`. `catalog` supplies provider ids, aliases
/// and key variables. Also accepts an auth-profiles.json store or a per-agent
/// models.json given directly.
pub fn import_openclaw(path: &Path, catalog: &Catalog) -> Result<OpenClawImport, ImportError> {
    let mut im = Importer::new(path, catalog);
    let top = im.load_file(path, None)?;
    if top.as_object().is_none() {
        return Err(im.error_at(
            ImportErrorKind::NotAnObject,
            &top,
            format!("the file holds {}, not an OpenClaw config", top.type_name()),
            "an object `{ … }` at the top level",
        ));
    }
    let top = im.resolve_includes(top, &[include::identity(path)])?;
    if top.as_object().is_none() {
        return Err(im.error_at(
            ImportErrorKind::NotAnObject,
            &top,
            format!(
                "after `$include`, the config is {}, not an object",
                top.type_name()
            ),
            "an object `{ … }` at the top level",
        ));
    }
    match detect_kind(&top) {
        FileKind::AuthStore => {
            im.warn(format!(
                "{} is an OpenClaw auth-profiles.json store, not openclaw.json: only its credentials are imported",
                path.display()
            ));
            let rel = file_name(path);
            im.map_auth_store(&top, &rel);
        }
        FileKind::ModelsJson => {
            im.warn(format!(
                "{} is a per-agent models.json that OpenClaw generates: its providers are imported as models.providers",
                path.display()
            ));
            im.plan_renames(top.get("providers"));
            for m in top.as_object().unwrap_or_default() {
                let p = KeyPath::root().child(m.key.as_str());
                if m.key == "providers" {
                    im.map_providers(&m.value, &p);
                } else {
                    im.report_section(&m.key, &m.value);
                }
            }
        }
        FileKind::Config => {
            im.check_shape(&top)?;
            im.map_config(&top);
            im.read_auth_stores();
        }
    }
    im.finish();
    let document = im.render();
    Ok(OpenClawImport {
        document,
        credentials: im.credentials,
        mapped: im.mapped,
        unmapped: im.unmapped,
        warnings: im.warnings,
        files: im.sources.files.into_iter().map(|s| s.path).collect(),
    })
}

// ---------------------------------------------------------------------------
// Files and positions
// ---------------------------------------------------------------------------

struct Source {
    path: PathBuf,
    text: String,
}

#[derive(Default)]
struct Sources {
    files: Vec<Source>,
}

impl Sources {
    fn path(&self, file: usize) -> &Path {
        self.files
            .get(file)
            .map(|s| s.path.as_path())
            .unwrap_or(Path::new(""))
    }

    fn pos(&self, file: usize, offset: usize) -> Pos {
        match self.files.get(file) {
            Some(s) => offset_to_pos(&s.text, offset),
            None => Pos { line: 1, col: 1 },
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

// ---------------------------------------------------------------------------
// The importer
// ---------------------------------------------------------------------------

/// What the document will hold, in input order.
#[derive(Default)]
struct Out {
    primary: Option<String>,
    fallbacks: Option<Vec<String>>,
    aliases: Vec<(String, String)>,
    providers: Vec<(String, ProviderOut)>,
    profiles: Vec<(String, ProfileOut)>,
    order: Vec<(String, Vec<String>)>,
    port: Option<i64>,
    bind: Option<String>,
    auth_mode: Option<String>,
    token: Option<String>,
    env_vars: Vec<(String, String)>,
    shell_enabled: Option<bool>,
    shell_timeout_ms: Option<i64>,
}

#[derive(Default)]
struct ProviderOut {
    base_url: Option<String>,
    api: Option<String>,
    api_key: Option<String>,
    headers: Vec<(String, String)>,
    models: Vec<String>,
}

impl ProviderOut {
    fn is_empty(&self) -> bool {
        self.base_url.is_none()
            && self.api.is_none()
            && self.api_key.is_none()
            && self.headers.is_empty()
            && self.models.is_empty()
    }
}

struct ProfileOut {
    provider: String,
    mode: &'static str,
}

struct Importer<'c> {
    catalog: &'c Catalog,
    sources: Sources,
    root_dir: PathBuf,
    root_dir_real: PathBuf,
    /// Prepended to reported paths: empty for the config, `<file>: ` for a store.
    prefix: String,
    /// Provider ids renamed on import (OpenClaw id → clawctl id).
    renames: Vec<(String, String)>,
    /// The ids under the input's `models.providers`, as written.
    block_ids: Vec<String>,
    /// `Some` when reading in place (`--openclaw`): `$include` outside the config's
    /// directory must be under one of these (`OPENCLAW_INCLUDE_ROOTS`). `None` when
    /// importing: such includes are followed with a warning.
    include_roots: Option<Vec<PathBuf>>,
    out: Out,
    credentials: Vec<ImportedCredential>,
    mapped: Vec<Mapped>,
    unmapped: Vec<Unmapped>,
    warnings: Vec<String>,
    /// The state dir's `.env` (beside openclaw.json), which OpenClaw loads into its
    /// environment: `${VAR}` references are resolved from it on import. Read once.
    state_env: Option<BTreeMap<String, String>>,
    /// `$include`s expanded so far (see `include::MAX_INCLUDE_EXPANSIONS`).
    includes_expanded: usize,
}

enum FileKind {
    Config,
    AuthStore,
    ModelsJson,
}

fn detect_kind(top: &Node) -> FileKind {
    let members = top.as_object().unwrap_or_default();
    let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
    let store_keys = ["version", "profiles", "order", "lastGood", "usageStats"];
    let profiles_typed = top
        .get("profiles")
        .and_then(Node::as_object)
        .is_some_and(|p| {
            !p.is_empty()
                && p.iter()
                    .all(|m| m.value.get("type").and_then(Node::as_str).is_some())
        });
    if profiles_typed && keys.iter().all(|k| store_keys.contains(k)) {
        return FileKind::AuthStore;
    }
    let providers_look_like_models =
        top.get("providers")
            .and_then(Node::as_object)
            .is_some_and(|p| {
                !p.is_empty()
                    && p.iter().all(|m| {
                        ["baseUrl", "api", "models", "apiKey"]
                            .iter()
                            .any(|k| m.value.get(k).is_some())
                    })
            });
    if keys == ["providers"] && providers_look_like_models {
        return FileKind::ModelsJson;
    }
    FileKind::Config
}

/// Keys OpenClaw's `agents` section holds (`entries` is the newest docs' form of `list`).
const AGENTS_KEYS: &[&str] = &["defaults", "list", "entries"];

/// `[A-Z_][A-Z0-9_]*` with an underscore: how people write an env variable's name.
fn is_bare_env_name(s: &str) -> bool {
    s.len() >= 4
        && s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Values people write where a key should go: `REPLACE_ME`, `YOUR_TOKEN`,
/// `<your-key>`, `sk-...`, `GEMINI_KEY_HERE`. The checks are chosen so that a random
/// key practically never matches.
pub fn is_placeholder(s: &str) -> bool {
    let t = s.trim();
    let up = t.to_ascii_uppercase();
    if up.contains("REPLACE")
        || up.contains("CHANGEME")
        || up.contains("CHANGE_ME")
        || up.contains("PLACEHOLDER")
        || up.starts_with("YOUR")
        || up.contains("_YOUR_")
        || up.contains("-YOUR-")
        || up.ends_with("_HERE")
        || up.ends_with("-HERE")
        || t.contains("TODO")
        || t.contains("...")
        || t.contains('…')
        || (t.starts_with('<') && t.ends_with('>'))
    {
        return true;
    }
    // `sk-xxxx`, `xxxxxxxx`, `****`.
    let rest = mask::shape(t).map(|p| &t[p.len()..]).unwrap_or(t);
    rest.len() >= 3
        && rest
            .chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-'))
}

/// A secret-holding value as found in the input.
enum SecretIn {
    Literal(String),
    /// An env variable reference, with a warning when the input did not spell it
    /// `${VAR}`.
    Env(String, Option<String>),
    Placeholder(String),
    Empty,
    /// Cannot be imported; the reason (and whether it also deserves a warning).
    Unsupported(String, bool),
}

fn api_style_known(api: &str) -> bool {
    matches!(
        api,
        "openai-completions" | "openai-responses" | "anthropic-messages" | "ollama"
    )
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Why a top-level OpenClaw section has no clawctl equivalent.
fn section_reason(key: &str) -> String {
    match key {
        "meta" => "OpenClaw's own write bookkeeping; clawctl stamps meta.version itself".into(),
        "wizard" => "OpenClaw's setup-wizard history".into(),
        "$schema" => "an editor schema hint for OpenClaw's format".into(),
        "channels" | "whatsapp" | "telegram" | "discord" | "slack" | "signal" | "imessage"
        | "web" | "inbound" => {
            "messaging channels are not part of clawctl's config".into()
        }
        "providers" => {
            "legacy top-level channel settings (now channels.*); messaging channels are not part of clawctl's config".into()
        }
        "routing" | "bindings" => {
            "multi-agent routing has no clawctl equivalent (clawctl configures agents.defaults only)".into()
        }
        "secrets" => {
            "OpenClaw's secret providers; clawctl keeps secrets in credentials.toml or env variables".into()
        }
        other => format!("OpenClaw's `{other}` settings have no clawctl equivalent"),
    }
}

impl<'c> Importer<'c> {
    fn new(path: &Path, catalog: &'c Catalog) -> Importer<'c> {
        let root_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let root_dir_real = include::identity(if root_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &root_dir
        });
        Importer {
            catalog,
            sources: Sources::default(),
            root_dir,
            root_dir_real,
            prefix: String::new(),
            renames: Vec::new(),
            block_ids: Vec::new(),
            include_roots: None,
            out: Out::default(),
            credentials: Vec::new(),
            mapped: Vec::new(),
            unmapped: Vec::new(),
            warnings: Vec::new(),
            state_env: None,
            includes_expanded: 0,
        }
    }
}

impl Importer<'_> {
    // ----- recording -------------------------------------------------------

    fn path_str(&self, p: &KeyPath) -> String {
        format!("{}{p}", self.prefix)
    }

    fn map(&mut self, from: &KeyPath, to: impl Into<String>) {
        let from = self.path_str(from);
        self.mapped.push(Mapped {
            from,
            to: to.into(),
        });
    }

    fn unmap(&mut self, path: &KeyPath, reason: impl Into<String>) {
        let path = self.path_str(path);
        self.unmapped.push(Unmapped {
            path,
            reason: reason.into(),
        });
    }

    fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }

    /// `file:line:col` of a node, the file relative to the config's directory.
    fn location(&self, node: &Node) -> String {
        let pos = self.sources.pos(node.file, node.span.start);
        format!(
            "{}:{}:{}",
            self.display_path(self.sources.path(node.file)),
            pos.line,
            pos.col
        )
    }

    fn display_path(&self, p: &Path) -> String {
        p.strip_prefix(&self.root_dir)
            .ok()
            .filter(|r| !r.as_os_str().is_empty())
            .or_else(|| p.strip_prefix(&self.root_dir_real).ok())
            .unwrap_or(p)
            .display()
            .to_string()
    }

    fn error_at(
        &self,
        kind: ImportErrorKind,
        node: &Node,
        message: String,
        expected: &str,
    ) -> ImportError {
        ImportError {
            kind,
            file: self.sources.path(node.file).to_path_buf(),
            pos: Some(self.sources.pos(node.file, node.span.start)),
            offset: Some(node.span.start),
            message,
            expected: expected.to_string(),
        }
    }

    /// Read and parse one file. `from` is the `$include` that names it, if any.
    fn load_file(&mut self, path: &Path, from: Option<&Node>) -> Result<Node, ImportError> {
        let text = match crate::read::bytes(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string()),
            Err(e) => Err(e.to_string()),
        };
        let text = match (text, from) {
            (Ok(t), _) => t,
            (Err(e), Some(at)) => {
                return Err(self.error_at(
                    ImportErrorKind::Include,
                    at,
                    format!("cannot read the included file {}: {e}", path.display()),
                    "a readable JSON5 file at that path (relative to the including file)",
                ));
            }
            (Err(e), None) => {
                return Err(ImportError {
                    kind: ImportErrorKind::Read,
                    file: path.to_path_buf(),
                    pos: None,
                    offset: None,
                    message: format!("cannot read {}: {e}", path.display()),
                    expected: "a readable OpenClaw config (openclaw.json)".into(),
                });
            }
        };
        let file = self.sources.files.len();
        self.sources.files.push(Source {
            path: path.to_path_buf(),
            text,
        });
        let text = &self.sources.files[file].text;
        let parsed = json5::parse(text, file).map_err(|e| ImportError {
            kind: ImportErrorKind::Syntax,
            file: path.to_path_buf(),
            pos: Some(offset_to_pos(text, e.offset)),
            offset: Some(e.offset),
            message: format!("not valid JSON5: {}", e.message),
            expected: e.expected,
        })?;
        for d in parsed.duplicates {
            let first = self.sources.pos(file, d.first.start);
            let second = self.sources.pos(file, d.second.start);
            self.warn(format!(
                "{}:{}:{}: key `{}` is written twice in the same object (again at line {}); the later value wins, as in OpenClaw",
                self.display_path(path),
                first.line,
                first.col,
                d.key,
                second.line
            ));
        }
        Ok(parsed.value)
    }

    // ----- shape -----------------------------------------------------------

    /// Refuse files that are JSON5 but not OpenClaw's format, rather than importing
    /// a guess: `agents` keyed by agent name (corpus 013, 041).
    fn check_shape(&self, top: &Node) -> Result<(), ImportError> {
        let Some(agents) = top.get("agents").and_then(Node::as_object) else {
            return Ok(());
        };
        let invented: Vec<&Member> = agents
            .iter()
            .filter(|m| !AGENTS_KEYS.contains(&m.key.as_str()))
            .filter(|m| m.value.as_object().is_some())
            .collect();
        if let Some(first) = invented.first()
            && !agents.iter().any(|m| m.key == "defaults")
        {
            let key_node = Node {
                kind: Kind::Null,
                span: first.key_span.clone(),
                file: first.value.file,
            };
            return Err(self.error_at(
                ImportErrorKind::Shape,
                &key_node,
                format!(
                    "this is not OpenClaw's config format: `agents` holds agents keyed by name (`{}`)",
                    first.key
                ),
                "`agents: { defaults: { model: … }, list: [ … ] }` as OpenClaw writes it",
            ));
        }
        Ok(())
    }

    // ----- providers and model references ------------------------------------

    /// Decide the clawctl id of every provider under `models.providers` before
    /// anything refers to them.
    fn plan_renames(&mut self, providers: Option<&Node>) {
        let Some(members) = providers.and_then(Node::as_object) else {
            return;
        };
        let ids: Vec<String> = members.iter().map(|m| m.key.clone()).collect();
        self.block_ids.extend(ids.iter().cloned());
        for m in members {
            let base_url = m.value.get("baseUrl").and_then(Node::as_str);
            let Some((to, why)) = self.rename_for(&m.key, base_url) else {
                continue;
            };
            if ids.contains(&to) {
                let loc = self.location(&m.value);
                self.warn(format!(
                    "{loc}: provider `{}` is an alias of `{to}`, but `{to}` is configured too; kept as `{}`",
                    m.key, m.key
                ));
                continue;
            }
            self.add_rename(&m.key, &to, &why);
        }
    }

    fn add_rename(&mut self, from: &str, to: &str, why: &str) {
        if self.renames.iter().any(|(f, _)| f == from) {
            return;
        }
        self.renames.push((from.to_string(), to.to_string()));
        self.warn(format!("provider id `{from}` imported as `{to}` ({why})"));
    }

    /// The clawctl id an OpenClaw provider id should become, if another.
    fn rename_for(&self, id: &str, base_url: Option<&str>) -> Option<(String, String)> {
        if self.catalog.providers.iter().any(|p| p.id == id) {
            return None;
        }
        // OpenClaw's `kimi` is its Kimi Coding provider (KIMI_API_KEY,
        // api.kimi.com/coding), but users also point a `kimi` provider at Moonshot's
        // platform: with a base URL, its host decides between the two.
        let openclaw_meaning = match id {
            "kimi" | "kimi-code" => Some("kimi-coding"),
            _ => None,
        };
        let alias_target = self.catalog.get(id).map(|p| p.id.as_str());
        let mut candidates: Vec<&str> = openclaw_meaning.into_iter().chain(alias_target).collect();
        if id == "kimi" {
            candidates.push("moonshot");
        }
        if candidates.is_empty() {
            return None;
        }
        if let Some(host) = base_url.and_then(host_of) {
            // The endpoint decides when it belongs to one of the candidates; an
            // endpoint of some other host (a proxy) keeps the user's own id.
            let by_host = self.catalog.providers.iter().find(|p| {
                p.regions
                    .iter()
                    .any(|r| host_of(&r.base_url).as_deref() == Some(host.as_str()))
            });
            return match by_host {
                Some(p) if candidates.contains(&p.id.as_str()) => Some((
                    p.id.clone(),
                    format!("its base URL is {}'s endpoint", p.name),
                )),
                _ => None,
            };
        }
        let to = candidates[0];
        let why = if openclaw_meaning == Some(to) && alias_target != Some(to) {
            "OpenClaw's `kimi` provider is Kimi Coding; clawctl's catalog calls it `kimi-coding`"
                .to_string()
        } else {
            format!("an alias of `{to}` in clawctl's catalog")
        };
        Some((to.to_string(), why))
    }

    /// The clawctl id for a provider id met anywhere (model refs, profiles).
    fn provider_id(&mut self, id: &str) -> String {
        if let Some((_, to)) = self.renames.iter().find(|(f, _)| f == id) {
            return to.clone();
        }
        // A provider configured under its own id keeps it (plan_renames decided).
        if self.block_ids.iter().any(|b| b == id) {
            return id.to_string();
        }
        match self.rename_for(id, None) {
            Some((to, why)) => {
                self.add_rename(id, &to, &why);
                to
            }
            None => id.to_string(),
        }
    }

    /// A `provider/model` reference with its provider id made clawctl's; None (and
    /// the key reported) for a placeholder such as `YOUR_MODEL_HERE`.
    fn model_ref(&mut self, reference: &str, path: &KeyPath) -> Option<String> {
        let reference = reference.trim();
        if reference.is_empty() || is_placeholder(reference) {
            self.warn(format!(
                "`{}` holds the placeholder \"{}\", not a model; not imported",
                self.path_str(path),
                mask::preview(reference)
            ));
            self.unmap(path, "a placeholder, not a model reference");
            return None;
        }
        Some(match split_model_ref(reference) {
            Some((p, m)) => {
                let p = self.provider_id(p);
                format!("{p}/{m}")
            }
            None => reference.to_string(),
        })
    }

    fn provider_mut(&mut self, id: &str) -> &mut ProviderOut {
        if let Some(i) = self.out.providers.iter().position(|(p, _)| p == id) {
            return &mut self.out.providers[i].1;
        }
        self.out
            .providers
            .push((id.to_string(), ProviderOut::default()));
        let last = self.out.providers.len() - 1;
        &mut self.out.providers[last].1
    }

    // ----- secrets -----------------------------------------------------------

    /// Classify a secret-holding value. `bare_env_names`: whether an upper-case name
    /// means "the variable of that name" (true for provider `apiKey`, as in the
    /// models.json format OpenClaw inherits).
    fn secret_in(&self, node: &Node, bare_env_names: bool) -> SecretIn {
        match &node.kind {
            Kind::String(s) => {
                let t = s.trim();
                if t.is_empty() {
                    return SecretIn::Empty;
                }
                if let Some(name) = mask::parse_env_ref(t) {
                    return SecretIn::Env(name.to_string(), None);
                }
                if t.starts_with("$${") {
                    return SecretIn::Unsupported(
                        "`$${…}` is OpenClaw's escape for the literal text `${…}`, not a key"
                            .into(),
                        true,
                    );
                }
                if let Some(name) = t
                    .strip_prefix("{env:")
                    .and_then(|r| r.strip_suffix('}'))
                    .filter(|n| mask::is_valid_env_name(n))
                {
                    return SecretIn::Env(
                        name.to_string(),
                        Some(format!(
                            "written `{{env:{name}}}`, which OpenClaw does not substitute (it sends that text as the key); imported as \"${{{name}}}\", which is what was meant"
                        )),
                    );
                }
                if t.contains("${") {
                    return SecretIn::Unsupported(
                        "interpolates an env variable inside a longer string; clawctl takes a whole \"${VAR}\" reference or a stored credential".into(),
                        true,
                    );
                }
                if is_placeholder(t) {
                    return SecretIn::Placeholder(t.to_string());
                }
                if bare_env_names && is_bare_env_name(t) {
                    return SecretIn::Env(
                        t.to_string(),
                        Some(format!(
                            "holds the bare name `{t}`, which OpenClaw reads as the variable of that name; imported as \"${{{t}}}\""
                        )),
                    );
                }
                SecretIn::Literal(s.clone())
            }
            Kind::Object(_) => {
                let source = node.get("source").and_then(Node::as_str);
                let id = node.get("id").and_then(Node::as_str);
                match (source, id) {
                    (Some("env"), Some(id)) if mask::is_valid_env_name(id) => {
                        SecretIn::Env(id.to_string(), None)
                    }
                    (Some(source), Some(_)) => {
                        let provider = node
                            .get("provider")
                            .and_then(Node::as_str)
                            .map(|p| format!(" `{p}`"))
                            .unwrap_or_default();
                        SecretIn::Unsupported(
                            format!(
                                "a SecretRef from OpenClaw's `{source}` secret provider{provider}, which clawctl cannot read; set this secret after import"
                            ),
                            false,
                        )
                    }
                    _ => SecretIn::Unsupported(
                        "an object that is not a SecretRef ({ source, provider, id })".into(),
                        false,
                    ),
                }
            }
            _ => SecretIn::Unsupported(
                format!("{}, where a string was expected", node.type_name()),
                false,
            ),
        }
    }

    /// Store a literal secret; returns the profile id it is stored under.
    /// `name` from the state dir's `.env` (python-dotenv rules, as OpenClaw's loader).
    fn state_env_var(&mut self, name: &str) -> Option<String> {
        let env_file = self.root_dir.join(".env");
        let vars = self.state_env.get_or_insert_with(|| {
            crate::config::load::read_text_file(&env_file, ".env file")
                .ok()
                .flatten()
                .map(|t| {
                    crate::config::dotenv::parse(&t)
                        .0
                        .into_iter()
                        .map(|e| (e.name, e.value))
                        .collect()
                })
                .unwrap_or_default()
        });
        vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn add_credential(
        &mut self,
        wanted: &str,
        provider: &str,
        kind: CredentialKind,
        secret_value: &str,
        from: String,
    ) -> String {
        let mut id = wanted.to_string();
        let mut n = 1;
        loop {
            match self.credentials.iter().find(|c| c.profile_id == id) {
                Some(c) if c.secret == secret_value => return id,
                Some(_) => {
                    n += 1;
                    id = format!("{wanted}-{n}");
                }
                None => break,
            }
        }
        if n > 1 {
            self.warn(format!(
                "{from} holds a different secret than the one already imported as `{wanted}`; stored as `{id}`"
            ));
        }
        self.credentials.push(ImportedCredential {
            profile_id: id.clone(),
            provider: provider.to_string(),
            kind,
            secret: secret_value.to_string(),
            from,
        });
        id
    }

    /// Warn when a key's shape says it belongs to another provider (a Moonshot
    /// platform key in the Kimi Coding slot, corpus 032).
    fn check_key_shape(&mut self, provider: &str, key: &str, from: &str) {
        let Some(p) = self.catalog.get(provider) else {
            return;
        };
        if p.accepts_key_shape(key) {
            return;
        }
        let others: Vec<String> = self
            .catalog
            .providers_for_key(key)
            .iter()
            .map(|o| o.id.clone())
            .collect();
        let shape = mask::shape(key).unwrap_or("");
        if others.is_empty() {
            self.warn(format!(
                "{from}: the key does not have {}'s key shape ({})",
                p.name,
                p.key_shapes.join(", ")
            ));
        } else {
            self.warn(format!(
                "{from}: the key starts like a key for {} ({shape}…), not one for {} ({}); imported as it is",
                others.join(" or "),
                p.name,
                p.key_shapes.join(", ")
            ));
        }
    }

    /// Import a secret field found at `path` whose clawctl key is `to`: a literal is
    /// stored as a credential (`profile`, `provider`, `kind`), a reference kept.
    /// Returns the value to write (`cred:…` or `${…}`), or None when nothing can be
    /// written (placeholder, unsupported source; reported either way).
    // Every argument is one fact about the field; bundling them would only move the
    // list into a struct literal at each of the six call sites.
    #[allow(clippy::too_many_arguments)]
    fn secret_field(
        &mut self,
        node: &Node,
        path: &KeyPath,
        to: &str,
        bare_env_names: bool,
        profile: &str,
        provider: &str,
        kind: CredentialKind,
    ) -> Option<String> {
        let loc = self.location(node);
        match self.secret_in(node, bare_env_names) {
            SecretIn::Literal(s) => {
                let from = self.path_str(path);
                if kind == CredentialKind::ApiKey {
                    self.check_key_shape(provider, &s, &from);
                }
                let id = self.add_credential(profile, provider, kind, &s, from);
                self.map(path, to);
                Some(format!("cred:{id}"))
            }
            SecretIn::Env(name, note) => {
                if let Some(note) = note {
                    self.warn(format!("{loc}: `{}` {note}", self.path_str(path)));
                }
                self.map(path, to);
                // Importing (not reading in place): the value OpenClaw would have
                // taken from its state dir's .env comes along as a credential.
                if self.include_roots.is_none() {
                    let env_file = self.root_dir.join(".env");
                    match self.state_env_var(&name) {
                        Some(v) if !is_placeholder(&v) => {
                            let from = format!("{name} in {}", env_file.display());
                            if kind == CredentialKind::ApiKey {
                                self.check_key_shape(provider, &v, &from);
                            }
                            let id = self.add_credential(profile, provider, kind, &v, from);
                            return Some(format!("cred:{id}"));
                        }
                        _ => self.warn(format!(
                            "{loc}: `{}` refers to ${{{name}}}, which is not set in {}: the imported setup has no value for it until {name} is set where the gateway runs (or stored: clawctl config set {to} --stdin)",
                            self.path_str(path),
                            env_file.display()
                        )),
                    }
                }
                Some(format!("${{{name}}}"))
            }
            SecretIn::Placeholder(p) => {
                self.warn(format!(
                    "{loc}: `{}` holds the placeholder \"{}\", not a real secret; not imported",
                    self.path_str(path),
                    mask::preview(&p)
                ));
                self.unmap(
                    path,
                    "a placeholder, not a real secret; set it after import",
                );
                None
            }
            SecretIn::Empty => {
                self.unmap(path, "empty");
                None
            }
            SecretIn::Unsupported(reason, loud) => {
                if loud {
                    self.warn(format!("{loc}: `{}` {reason}", self.path_str(path)));
                }
                self.unmap(path, reason);
                None
            }
        }
    }

    // ----- sections ------------------------------------------------------------

    fn map_config(&mut self, top: &Node) {
        self.plan_renames(top.get("models").and_then(|m| m.get("providers")));
        for m in top.as_object().unwrap_or_default() {
            let path = KeyPath::root().child(m.key.as_str());
            match m.key.as_str() {
                "agents" => self.map_agents(&m.value, &path),
                "agent" => self.map_legacy_agent(&m.value, &path, top),
                "models" => self.map_models(&m.value, &path),
                "auth" => self.map_auth(&m.value, &path),
                "gateway" => self.map_gateway(&m.value, &path),
                "env" => self.map_env(&m.value, &path),
                _ => self.report_section(&m.key, &m.value),
            }
        }
    }

    /// Report a section with no equivalent: once per child key, or once for the
    /// section when it is not an object with children.
    fn report_section(&mut self, key: &str, node: &Node) {
        let reason = section_reason(key);
        let path = KeyPath::root().child(key);
        match node.as_object() {
            Some(members) if !members.is_empty() => {
                for m in members {
                    self.unmap(&path.child(m.key.as_str()), reason.clone());
                }
            }
            Some(_) => self.unmap(&path, format!("empty; {reason}")),
            None => self.unmap(&path, reason),
        }
    }

    fn expect_object<'n>(&mut self, node: &'n Node, path: &KeyPath) -> Option<&'n [Member]> {
        match node.as_object() {
            Some(m) => {
                if m.is_empty() {
                    self.unmap(path, "empty");
                }
                Some(m)
            }
            None => {
                let loc = self.location(node);
                self.warn(format!(
                    "{loc}: `{}` is {}, where OpenClaw expects an object; not imported",
                    self.path_str(path),
                    node.type_name()
                ));
                self.unmap(
                    path,
                    format!("{}, where an object was expected", node.type_name()),
                );
                None
            }
        }
    }

    fn map_agents(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "defaults" => self.map_agent_defaults(&m.value, &p, false),
                "list" | "entries" => self.unmap(
                    &p,
                    "per-agent definitions have no clawctl equivalent (clawctl configures agents.defaults only)",
                ),
                _ => self.unmap(&p, "not an OpenClaw `agents` key"),
            }
        }
    }

    /// `agents.defaults`, or the legacy top-level `agent` (which held the same keys).
    fn map_agent_defaults(&mut self, node: &Node, path: &KeyPath, legacy_superseded: bool) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "model" if legacy_superseded => {
                    self.unmap(&p, "superseded by agents.defaults.model in the same file")
                }
                "models" if legacy_superseded => {
                    self.unmap(&p, "superseded by agents.defaults.models in the same file")
                }
                "model" => self.map_default_model(&m.value, &p),
                "models" => self.map_aliases(&m.value, &p),
                _ => self.unmap(
                    &p,
                    "agent runtime settings have no clawctl equivalent (clawctl keeps the model and its aliases)",
                ),
            }
        }
    }

    fn map_legacy_agent(&mut self, node: &Node, path: &KeyPath, top: &Node) {
        let defaults = top.get("agents").and_then(|a| a.get("defaults"));
        let superseded =
            defaults.is_some_and(|d| d.get("model").is_some() || d.get("models").is_some());
        let loc = self.location(node);
        self.warn(format!(
            "{loc}: top-level `agent` is the legacy (Clawdbot-era) form of agents.defaults; its model settings are imported as agents.defaults"
        ));
        self.map_agent_defaults(node, path, superseded);
    }

    fn map_default_model(&mut self, node: &Node, path: &KeyPath) {
        match &node.kind {
            Kind::String(s) => {
                if let Some(r) = self.model_ref(s, path) {
                    self.out.primary = Some(r);
                    self.map(path, "agents.defaults.model.primary");
                }
            }
            Kind::Object(members) => {
                if members.is_empty() {
                    self.unmap(path, "empty");
                }
                for m in members {
                    let p = path.child(m.key.as_str());
                    match (m.key.as_str(), &m.value.kind) {
                        ("primary", Kind::String(s)) => {
                            if let Some(r) = self.model_ref(s, &p) {
                                self.out.primary = Some(r);
                                self.map(&p, "agents.defaults.model.primary");
                            }
                        }
                        ("fallbacks", Kind::Array(items)) => {
                            let mut refs = Vec::new();
                            for (i, it) in items.iter().enumerate() {
                                match it.as_str() {
                                    Some(s) => {
                                        if let Some(r) = self.model_ref(s, &p.index(i)) {
                                            refs.push(r);
                                        }
                                    }
                                    None => self.unmap(
                                        &p.index(i),
                                        format!(
                                            "{}, where a model reference was expected",
                                            it.type_name()
                                        ),
                                    ),
                                }
                            }
                            self.out.fallbacks = Some(refs);
                            self.map(&p, "agents.defaults.model.fallbacks");
                        }
                        ("primary" | "fallbacks", _) => self.unmap(
                            &p,
                            format!(
                                "{}, where {} was expected",
                                m.value.type_name(),
                                if m.key == "primary" {
                                    "a model reference"
                                } else {
                                    "an array of model references"
                                }
                            ),
                        ),
                        _ => self.unmap(&p, "no clawctl equivalent"),
                    }
                }
            }
            _ => self.unmap(
                path,
                format!(
                    "{}, where a model reference or {{ primary, fallbacks }} was expected",
                    node.type_name()
                ),
            ),
        }
    }

    /// OpenClaw: `{ "provider/model": { alias: "x", params: … } }` (the map is also its
    /// /model allowlist). clawctl: `x = "provider/model"`.
    fn map_aliases(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            if split_model_ref(&m.key).is_none() {
                self.unmap(&p, "not a provider/model reference, so not a model entry");
                continue;
            }
            let Some(fields) = m.value.as_object() else {
                self.unmap(
                    &p,
                    format!("{}, where {{ alias: … }} was expected", m.value.type_name()),
                );
                continue;
            };
            let alias = fields.iter().find(|f| f.key == "alias");
            match alias.map(|a| &a.value.kind) {
                Some(Kind::String(a)) if !a.trim().is_empty() => {
                    let a = a.trim().to_string();
                    let Some(target) = self.model_ref(&m.key, &p) else {
                        continue;
                    };
                    if let Some((_, existing)) = self.out.aliases.iter().find(|(x, _)| *x == a) {
                        let existing = existing.clone();
                        self.unmap(
                            &p.child("alias"),
                            format!("alias `{a}` already names {existing}"),
                        );
                    } else {
                        self.out.aliases.push((a.clone(), target));
                        self.map(
                            &p.child("alias"),
                            KeyPath::parse("agents.defaults.models")
                                .expect("static key")
                                .child(a.as_str())
                                .to_string(),
                        );
                    }
                }
                Some(_) => self.unmap(&p.child("alias"), "not a usable alias (empty or not a string)"),
                None => self.unmap(
                    &p,
                    "no alias; clawctl's agents.defaults.models holds aliases only (OpenClaw also uses this map as the /model allowlist)",
                ),
            }
            for f in fields.iter().filter(|f| f.key != "alias") {
                self.unmap(
                    &p.child(f.key.as_str()),
                    "per-model settings have no clawctl equivalent",
                );
            }
        }
    }

    fn map_models(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "providers" => self.map_providers(&m.value, &p),
                "mode" => self.unmap(
                    &p,
                    "how OpenClaw combines these providers with its built-in list; clawctl always adds configured providers to its catalog",
                ),
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
    }

    fn map_providers(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            let id = self.provider_id(&m.key);
            self.map_provider(&id, &m.value, &p);
        }
    }

    fn map_provider(&mut self, id: &str, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        let to = KeyPath::parse("models.providers")
            .expect("static key")
            .child(id);
        let mut out = ProviderOut::default();
        for m in members {
            let p = path.child(m.key.as_str());
            let loc = self.location(&m.value);
            match m.key.as_str() {
                "baseUrl" => match m.value.as_str().map(str::trim) {
                    Some(u) if u.contains("${") => {
                        self.warn(format!(
                            "{loc}: `{}` takes the base URL from an env variable; clawctl's base_url is a literal URL, so it is not imported",
                            self.path_str(&p)
                        ));
                        self.unmap(&p, "comes from an env variable; clawctl's base_url takes a literal URL");
                    }
                    Some("") => self.unmap(&p, "empty"),
                    Some(u) => {
                        out.base_url = Some(u.to_string());
                        self.map(&p, to.child("base_url").to_string());
                    }
                    None => self.unmap(&p, format!("{}, where a URL was expected", m.value.type_name())),
                },
                "api" => match m.value.as_str() {
                    Some(a) if api_style_known(a) => {
                        out.api = Some(a.to_string());
                        self.map(&p, to.child("api").to_string());
                    }
                    Some(a) => self.unmap(
                        &p,
                        format!("API style `{a}` is not one clawctl speaks (openai-completions, openai-responses, anthropic-messages, ollama)"),
                    ),
                    None => self.unmap(&p, format!("{}, where an API style was expected", m.value.type_name())),
                },
                "apiKey" => {
                    let profile = format!("{id}:imported");
                    out.api_key = self.secret_field(
                        &m.value,
                        &p,
                        &to.child("api_key").to_string(),
                        true,
                        &profile,
                        id,
                        CredentialKind::ApiKey,
                    );
                }
                "headers" => self.map_headers(id, &m.value, &p, &to, &mut out),
                "models" => self.map_provider_models(&m.value, &p, &to, &mut out),
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
        if out.is_empty() {
            return;
        }
        let target = self.provider_mut(id);
        // plan_renames keeps two input ids from landing on one clawctl id, so the
        // target is new; an entry made earlier (never by this loop) keeps its values.
        if target.is_empty() {
            *target = out;
        } else {
            target.base_url = target.base_url.take().or(out.base_url);
            target.api = target.api.take().or(out.api);
            target.api_key = target.api_key.take().or(out.api_key);
            target.headers.extend(out.headers);
            target.models.extend(out.models);
        }
    }

    fn map_headers(
        &mut self,
        id: &str,
        node: &Node,
        path: &KeyPath,
        to: &KeyPath,
        out: &mut ProviderOut,
    ) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            let t = to.child("headers").child(m.key.as_str()).to_string();
            let sensitive =
                mask::is_sensitive_name(&m.key) || m.value.as_str().is_some_and(mask::looks_secret);
            if !sensitive
                && let Some(v) = m.value.as_str()
                && !v.contains("${")
            {
                out.headers.push((m.key.clone(), v.to_string()));
                self.map(&p, t);
                continue;
            }
            let profile = format!(
                "{id}:header-{}",
                m.key.to_ascii_lowercase().replace(
                    |c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "-"
                )
            );
            if let Some(v) =
                self.secret_field(&m.value, &p, &t, false, &profile, id, CredentialKind::Token)
            {
                out.headers.push((m.key.clone(), v));
            }
        }
    }

    fn map_provider_models(
        &mut self,
        node: &Node,
        path: &KeyPath,
        to: &KeyPath,
        out: &mut ProviderOut,
    ) {
        let Some(items) = node.as_array() else {
            self.unmap(
                path,
                format!(
                    "{}, where an array of models was expected",
                    node.type_name()
                ),
            );
            return;
        };
        if items.is_empty() {
            self.unmap(path, "empty");
            return;
        }
        let mut any = false;
        for (i, it) in items.iter().enumerate() {
            let p = path.index(i);
            let (model_id, extra): (Option<&str>, Vec<&str>) = match &it.kind {
                Kind::String(s) => (Some(s.as_str()), Vec::new()),
                Kind::Object(fields) => (
                    it.get("id").and_then(Node::as_str),
                    fields
                        .iter()
                        .filter(|f| f.key != "id")
                        .map(|f| f.key.as_str())
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            let Some(model_id) = model_id.map(str::trim).filter(|s| !s.is_empty()) else {
                self.unmap(&p, "a model without an id");
                continue;
            };
            if out.models.iter().any(|m| m == model_id) {
                self.unmap(&p, format!("model `{model_id}` is listed twice; kept once"));
                continue;
            }
            out.models.push(model_id.to_string());
            any = true;
            if !extra.is_empty() {
                self.unmap(
                    &p,
                    format!(
                        "only the id is imported; clawctl has no equivalent for {}",
                        extra.join(", ")
                    ),
                );
            }
        }
        if any {
            self.map(path, to.child("models").to_string());
        }
    }

    fn map_auth(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "profiles" => {
                    let Some(profiles) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for pr in profiles {
                        self.map_config_profile(&pr.key, &pr.value, &p.child(pr.key.as_str()));
                    }
                }
                "order" => {
                    let Some(orders) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for o in orders {
                        self.map_order(&o.key, &o.value, &p.child(o.key.as_str()));
                    }
                }
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
    }

    /// `moonshot:default` with its provider part made clawctl's.
    fn profile_id(&mut self, id: &str) -> String {
        match id.split_once(':') {
            Some((p, rest)) => format!("{}:{rest}", self.provider_id(p)),
            None => id.to_string(),
        }
    }

    fn upsert_profile(&mut self, id: &str, provider: &str, mode: &'static str) {
        match self.out.profiles.iter_mut().find(|(p, _)| p == id) {
            Some((_, existing)) => {
                existing.provider = provider.to_string();
                existing.mode = mode;
            }
            None => self.out.profiles.push((
                id.to_string(),
                ProfileOut {
                    provider: provider.to_string(),
                    mode,
                },
            )),
        }
    }

    /// `auth.profiles."moonshot:default" = { provider, mode, email? }`. The secret
    /// itself is in auth-profiles.json.
    fn map_config_profile(&mut self, raw_id: &str, node: &Node, path: &KeyPath) {
        let Some(fields) = self.expect_object(node, path) else {
            return;
        };
        let id = self.profile_id(raw_id);
        if !mask::is_valid_profile_id(&id) {
            self.unmap(path, "the profile id is not PROVIDER:NAME");
            return;
        }
        let provider_raw = node
            .get("provider")
            .and_then(Node::as_str)
            .unwrap_or_else(|| id.split(':').next().unwrap_or_default())
            .to_string();
        let provider = self.provider_id(&provider_raw);
        let mode = match node.get("mode").and_then(Node::as_str) {
            None | Some("api_key") => "api_key",
            Some("token") => "token",
            Some("oauth") => {
                self.unmap(
                    path,
                    "an OAuth sign-in; clawctl has no OAuth profiles (use an API key or token)",
                );
                return;
            }
            Some(other) => {
                self.unmap(path, format!("mode `{other}` has no clawctl equivalent"));
                return;
            }
        };
        self.upsert_profile(&id, &provider, mode);
        let to = KeyPath::parse("auth.profiles")
            .expect("static key")
            .child(id.as_str());
        for f in fields {
            let p = path.child(f.key.as_str());
            match f.key.as_str() {
                "provider" => self.map(&p, to.child("provider").to_string()),
                "mode" => self.map(&p, to.child("mode").to_string()),
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
    }

    fn map_order(&mut self, raw_provider: &str, node: &Node, path: &KeyPath) {
        let Some(items) = node.as_array() else {
            self.unmap(
                path,
                format!(
                    "{}, where an array of profile ids was expected",
                    node.type_name()
                ),
            );
            return;
        };
        let provider = self.provider_id(raw_provider);
        let ids: Vec<String> = items
            .iter()
            .filter_map(Node::as_str)
            .map(|s| self.profile_id(s))
            .collect();
        if ids.len() != items.len() {
            self.unmap(path, "holds values that are not profile ids");
            return;
        }
        if self.out.order.iter().any(|(p, _)| *p == provider) {
            self.unmap(
                path,
                format!("an order for `{provider}` is already imported"),
            );
            return;
        }
        self.out.order.push((provider.clone(), ids));
        self.map(
            path,
            KeyPath::parse("auth.order")
                .expect("static key")
                .child(provider.as_str())
                .to_string(),
        );
    }

    fn map_gateway(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        let custom_host = node.get("customBindHost").and_then(Node::as_str);
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "port" => match m
                    .value
                    .as_i64()
                    .or_else(|| m.value.as_str().and_then(|s| s.trim().parse().ok()))
                {
                    Some(port) if (1..=65535).contains(&port) => {
                        self.out.port = Some(port);
                        self.map(&p, "gateway.port");
                    }
                    _ => self.unmap(&p, "not a TCP port (1–65535)"),
                },
                "bind" => self.map_bind(&m.value, &p, custom_host),
                "customBindHost" => {
                    // Mapped together with `bind` when that is "custom" and this an IP.
                    let used = node.get("bind").and_then(Node::as_str) == Some("custom")
                        && m.value
                            .as_str()
                            .is_some_and(|h| h.trim().parse::<std::net::IpAddr>().is_ok());
                    if !used {
                        self.unmap(
                            &p,
                            "only an IP address used with bind \"custom\" has a clawctl equivalent",
                        );
                    }
                }
                "auth" => self.map_gateway_auth(&m.value, &p),
                "mode" => self.unmap(
                    &p,
                    "local/remote: clawctl manages the gateway on this machine",
                ),
                "remote" => self.unmap(
                    &p,
                    "settings for reaching a remote gateway; clawctl has no equivalent",
                ),
                "tailscale" | "trustedProxies" | "controlUi" | "http" | "nodes" | "reload"
                | "tls" => self.unmap(&p, "gateway feature settings clawctl does not manage"),
                // The layout before gateway.auth existed; clawctl's own migrations
                // know it too.
                "token" if node.get("auth").and_then(|a| a.get("token")).is_none() => {
                    let loc = self.location(&m.value);
                    self.warn(format!("{loc}: `gateway.token` is the legacy place of the gateway token; imported as gateway.auth.token"));
                    self.out.token = self.secret_field(
                        &m.value,
                        &p,
                        "gateway.auth.token",
                        false,
                        "gateway:imported",
                        "gateway",
                        CredentialKind::Token,
                    );
                }
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
    }

    fn map_bind(&mut self, node: &Node, path: &KeyPath, custom_host: Option<&str>) {
        let Some(bind) = node.as_str().map(str::trim) else {
            self.unmap(
                path,
                format!("{}, where a bind mode was expected", node.type_name()),
            );
            return;
        };
        let is_ip = |s: &str| s.parse::<std::net::IpAddr>().is_ok();
        match bind {
            "loopback" | "lan" => {
                self.out.bind = Some(bind.to_string());
                self.map(path, "gateway.bind");
            }
            "custom" => match custom_host.map(str::trim) {
                Some(h) if is_ip(h) => {
                    self.out.bind = Some(h.to_string());
                    self.map(path, "gateway.bind");
                    let p = path.parent().unwrap_or_default().child("customBindHost");
                    self.map(&p, "gateway.bind");
                }
                _ => self.unmap(path, "\"custom\" without an IP address in customBindHost; clawctl takes loopback, lan or an IP address"),
            },
            s if is_ip(s) => {
                self.out.bind = Some(s.to_string());
                self.map(path, "gateway.bind");
            }
            "tailnet" => self.unmap(path, "\"tailnet\" (the Tailscale address) has no clawctl equivalent; clawctl takes loopback, lan or an IP address"),
            "auto" => self.unmap(path, "\"auto\" (loopback, else LAN) has no clawctl equivalent; clawctl defaults to loopback"),
            other => self.unmap(path, format!("\"{other}\" is not loopback, lan or an IP address")),
        }
    }

    fn map_gateway_auth(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "mode" => match m.value.as_str() {
                    Some(mode @ ("token" | "password" | "none")) => {
                        self.out.auth_mode = Some(mode.to_string());
                        self.map(&p, "gateway.auth.mode");
                        if mode == "password" {
                            self.warn("gateway.auth.mode is \"password\", but clawctl keeps no gateway password: set one up after import".to_string());
                        }
                    }
                    Some(other) => self.unmap(
                        &p,
                        format!(
                            "mode \"{other}\" has no clawctl equivalent (token, password or none)"
                        ),
                    ),
                    None => self.unmap(&p, "not a string"),
                },
                "token" => {
                    self.out.token = self.secret_field(
                        &m.value,
                        &p,
                        "gateway.auth.token",
                        false,
                        "gateway:imported",
                        "gateway",
                        CredentialKind::Token,
                    );
                }
                "password" => self.unmap(&p, "clawctl keeps no gateway password; not imported"),
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
    }

    fn map_env(&mut self, node: &Node, path: &KeyPath) {
        let Some(members) = self.expect_object(node, path) else {
            return;
        };
        for m in members {
            let p = path.child(m.key.as_str());
            match m.key.as_str() {
                "vars" => {
                    let Some(vars) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for v in vars {
                        self.map_env_var(&v.key, &v.value, &p.child(v.key.as_str()));
                    }
                }
                "shellEnv" => {
                    let Some(fields) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for f in fields {
                        let fp = p.child(f.key.as_str());
                        match f.key.as_str() {
                            "enabled" => match f.value.as_bool() {
                                Some(b) => {
                                    self.out.shell_enabled = Some(b);
                                    self.map(&fp, "env.shell_env.enabled");
                                }
                                None => self.unmap(&fp, "not a boolean"),
                            },
                            "timeoutMs" => match f.value.as_i64() {
                                Some(ms) if (1..=600_000).contains(&ms) => {
                                    self.out.shell_timeout_ms = Some(ms);
                                    self.map(&fp, "env.shell_env.timeout_ms");
                                }
                                _ => self.unmap(&fp, "not a timeout clawctl accepts (1–600000 ms)"),
                            },
                            _ => self.unmap(&fp, "no clawctl equivalent"),
                        }
                    }
                }
                // OpenClaw also takes variables directly under `env`.
                _ => self.map_env_var(&m.key, &m.value, &p),
            }
        }
    }

    fn map_env_var(&mut self, name: &str, node: &Node, path: &KeyPath) {
        let to = KeyPath::parse("env.vars")
            .expect("static key")
            .child(name)
            .to_string();
        let Some(raw) = node.as_str() else {
            self.unmap(
                path,
                format!("{}, where a string was expected", node.type_name()),
            );
            return;
        };
        // A variable that holds a provider's key: the key goes to credentials.toml
        // under that provider and the variable refers to it.
        let key_provider = self
            .catalog
            .providers
            .iter()
            .find(|p| p.key_env.iter().any(|k| k == name))
            .map(|p| p.id.clone());
        // Backslashes: Windows paths look like keys to looks_secret; keys have none.
        let sensitive = key_provider.is_some()
            || mask::is_sensitive_name(name)
            || (mask::looks_secret(raw) && !raw.contains('\\'));
        if !sensitive || mask::parse_env_ref(raw.trim()).is_some() {
            self.out.env_vars.push((name.to_string(), raw.to_string()));
            self.map(path, to);
            return;
        }
        let (profile, provider, kind) = match &key_provider {
            Some(p) => (format!("{p}:imported"), p.clone(), CredentialKind::ApiKey),
            None => (
                format!("env:{name}"),
                "env".to_string(),
                if name.to_ascii_uppercase().contains("TOKEN") {
                    CredentialKind::Token
                } else {
                    CredentialKind::ApiKey
                },
            ),
        };
        if let Some(v) = self.secret_field(node, path, &to, false, &profile, &provider, kind) {
            if v.starts_with("cred:") {
                self.warn(format!(
                    "`{}` held a literal secret: moved to credentials.toml as `{}`; env.vars.{name} refers to it",
                    self.path_str(path),
                    v.trim_start_matches("cred:")
                ));
            }
            self.out.env_vars.push((name.to_string(), v));
        }
    }

    // ----- auth-profiles.json --------------------------------------------------

    /// Read `agents/<agent>/agent/auth-profiles.json` under the config's directory,
    /// `main` first, the others by name.
    fn read_auth_stores(&mut self) {
        let agents_dir = self.root_dir.join("agents");
        let Ok(entries) = std::fs::read_dir(&agents_dir) else {
            return;
        };
        let mut agents: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        agents.sort_by_key(|a| (a != "main", a.clone()));
        for agent in agents {
            let rel = format!("agents/{agent}/agent/auth-profiles.json");
            let path = self.root_dir.join(&rel);
            if !path.is_file() {
                continue;
            }
            match self.load_file(&path, None) {
                Ok(store) if store.as_object().is_some() => self.map_auth_store(&store, &rel),
                Ok(store) => self.warn(format!(
                    "{rel} holds {}, not an auth-profiles store; skipped",
                    store.type_name()
                )),
                // The config itself imported; a broken store is reported, not fatal.
                Err(e) => self.warn(format!("{e}; its credentials were not imported")),
            }
        }
    }

    fn map_auth_store(&mut self, store: &Node, rel: &str) {
        let saved = std::mem::replace(&mut self.prefix, format!("{rel}: "));
        for m in store.as_object().unwrap_or_default() {
            let p = KeyPath::root().child(m.key.as_str());
            match m.key.as_str() {
                "version" => {
                    if m.value.as_i64() != Some(1) {
                        let loc = self.location(&m.value);
                        self.warn(format!(
                            "{loc}: auth-profiles.json version is not 1; read as version 1"
                        ));
                    }
                    self.unmap(&p, "the store's format version; nothing to import");
                }
                "profiles" => {
                    let Some(profiles) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for pr in profiles {
                        self.map_store_profile(&pr.key, &pr.value, &p.child(pr.key.as_str()));
                    }
                }
                "order" => {
                    let Some(orders) = self.expect_object(&m.value, &p) else {
                        continue;
                    };
                    for o in orders {
                        self.map_order(&o.key, &o.value, &p.child(o.key.as_str()));
                    }
                }
                "lastGood" | "usageStats" => self.unmap(
                    &p,
                    "OpenClaw's runtime state (last good profile, usage and cooldowns)",
                ),
                _ => self.unmap(&p, "not an auth-profiles.json key"),
            }
        }
        self.prefix = saved;
    }

    fn map_store_profile(&mut self, raw_id: &str, node: &Node, path: &KeyPath) {
        let Some(fields) = self.expect_object(node, path) else {
            return;
        };
        let id = self.profile_id(raw_id);
        if !mask::is_valid_profile_id(&id) {
            self.unmap(path, "the profile id is not PROVIDER:NAME");
            return;
        }
        let provider_raw = node
            .get("provider")
            .and_then(Node::as_str)
            .unwrap_or_else(|| id.split(':').next().unwrap_or_default())
            .to_string();
        let provider = self.provider_id(&provider_raw);
        let ty = node.get("type").and_then(Node::as_str).unwrap_or("api_key");
        let (kind, secret_key, ref_key) = match ty {
            "api_key" => (CredentialKind::ApiKey, "key", "keyRef"),
            "token" => (CredentialKind::Token, "token", "tokenRef"),
            "oauth" => {
                self.unmap(
                    path,
                    "an OAuth sign-in (access and refresh tokens); clawctl has no OAuth profiles: create an API key or token and add it after import",
                );
                return;
            }
            other => {
                self.unmap(
                    path,
                    format!("profile type `{other}` has no clawctl equivalent"),
                );
                return;
            }
        };
        let mut profile_to = KeyPath::parse("auth.profiles")
            .expect("static key")
            .child(id.as_str());
        // A literal secret makes a clawctl profile; an env reference can only go on
        // the provider (clawctl profiles hold stored secrets).
        let mut stored: Option<String> = None;
        let mut env_ref = false;
        let mut has_secret_field = false;
        for f in fields {
            let p = path.child(f.key.as_str());
            match f.key.as_str() {
                "type" | "provider" => {}
                k if k == secret_key => {
                    has_secret_field = true;
                    // A `${VAR}` written as the key itself.
                    if let SecretIn::Env(name, _) = self.secret_in(&f.value, false) {
                        env_ref |=
                            self.env_ref_for_provider(&provider, &format!("${{{name}}}"), &p);
                        continue;
                    }
                    let to = profile_to.to_string();
                    let reference =
                        self.secret_field(&f.value, &p, &to, false, &id, &provider, kind);
                    if let Some(stored_id) =
                        reference.as_deref().and_then(|r| r.strip_prefix("cred:"))
                    {
                        let stored_id = stored_id.to_string();
                        self.upsert_profile(&stored_id, &provider, kind.as_str());
                        if stored_id != id {
                            // Another agent's store had this id with another secret.
                            let renamed = KeyPath::parse("auth.profiles")
                                .expect("static key")
                                .child(stored_id.as_str());
                            if let Some(last) = self.mapped.last_mut() {
                                last.to = renamed.to_string();
                            }
                            profile_to = renamed;
                        }
                        stored = Some(stored_id);
                    }
                }
                k if k == ref_key => {
                    has_secret_field = true;
                    match self.secret_in(&f.value, false) {
                        SecretIn::Env(name, _) => {
                            env_ref |=
                                self.env_ref_for_provider(&provider, &format!("${{{name}}}"), &p);
                        }
                        SecretIn::Unsupported(reason, _) => self.unmap(&p, reason),
                        _ => self.unmap(&p, "not a SecretRef"),
                    }
                }
                "expires" => self.unmap(&p, "clawctl does not track token expiry"),
                _ => self.unmap(&p, "no clawctl equivalent"),
            }
        }
        let provider_to = KeyPath::parse("models.providers")
            .expect("static key")
            .child(provider.as_str())
            .child("api_key");
        if stored.is_some() {
            self.map(
                &path.child("provider"),
                profile_to.child("provider").to_string(),
            );
            self.map(&path.child("type"), profile_to.child("mode").to_string());
        } else if env_ref {
            self.map(&path.child("provider"), provider_to.to_string());
            self.map(&path.child("type"), provider_to.to_string());
        } else if has_secret_field {
            self.unmap(path, "profile not imported: its secret could not be used");
        } else {
            self.unmap(
                path,
                format!("profile not imported: it holds no `{secret_key}` or `{ref_key}`"),
            );
        }
    }

    /// An auth profile whose key comes from an env variable: clawctl profiles hold
    /// stored secrets only, so the reference goes on the provider, where OpenClaw
    /// would have used it.
    fn env_ref_for_provider(&mut self, provider: &str, reference: &str, path: &KeyPath) -> bool {
        let known = self.catalog.get(provider).is_some();
        let to = KeyPath::parse("models.providers")
            .expect("static key")
            .child(provider)
            .child("api_key")
            .to_string();
        let configured = self.out.providers.iter().any(|(p, _)| p == provider);
        if !configured && !known {
            self.unmap(
                path,
                format!("refers to an env variable for provider `{provider}`, which is neither configured nor in clawctl's catalog"),
            );
            return false;
        }
        let target = self.provider_mut(provider);
        if target.api_key.is_some() {
            self.unmap(path, format!("{to} is already set from the config"));
            return false;
        }
        target.api_key = Some(reference.to_string());
        self.map(path, to);
        true
    }

    // ----- after mapping -------------------------------------------------------

    fn finish(&mut self) {
        // Profiles named in an order must exist, or clawctl's validation fails.
        let known: Vec<String> = self.out.profiles.iter().map(|(p, _)| p.clone()).collect();
        let mut dropped = Vec::new();
        for (provider, ids) in &mut self.out.order {
            ids.retain(|id| {
                let ok = known.contains(id);
                if !ok {
                    dropped.push((provider.clone(), id.clone()));
                }
                ok
            });
        }
        let emptied: Vec<String> = self
            .out
            .order
            .iter()
            .filter(|(_, ids)| ids.is_empty())
            .map(|(p, _)| {
                KeyPath::parse("auth.order")
                    .expect("static key")
                    .child(p.as_str())
                    .to_string()
            })
            .collect();
        self.out.order.retain(|(_, ids)| !ids.is_empty());
        // An order left empty was not imported after all.
        self.mapped.retain(|m| !emptied.contains(&m.to));
        for (provider, id) in dropped {
            self.unmap(
                &KeyPath::parse("auth.order").expect("static key").child(provider.as_str()),
                format!("names profile `{id}`, which was not imported (OAuth, or defined nowhere); left out of the order"),
            );
        }
        // Model references must name a provider clawctl can resolve.
        let mut refs: Vec<(String, String)> = Vec::new();
        if let Some(p) = &self.out.primary {
            refs.push(("agents.defaults.model.primary".into(), p.clone()));
        }
        for (i, f) in self.out.fallbacks.iter().flatten().enumerate() {
            refs.push((format!("agents.defaults.model.fallbacks[{i}]"), f.clone()));
        }
        for (a, t) in &self.out.aliases {
            refs.push((
                KeyPath::parse("agents.defaults.models")
                    .expect("static key")
                    .child(a.as_str())
                    .to_string(),
                t.clone(),
            ));
        }
        let mut unknown_providers: Vec<String> = Vec::new();
        // References to a provider clawctl can resolve nowhere are left out of the
        // import (the rest of the config still imports) with the fix, never a refusal.
        let mut dropped_refs: Vec<(String, String)> = Vec::new();
        for (key, reference) in refs {
            let resolved = self
                .out
                .aliases
                .iter()
                .find(|(a, _)| *a == reference)
                .map(|(_, t)| t.clone())
                .unwrap_or(reference.clone());
            if is_placeholder(&resolved) {
                self.warn(format!(
                    "{key} = \"{resolved}\" is a placeholder, not a model"
                ));
                continue;
            }
            match split_model_ref(&resolved) {
                None => self.warn(format!(
                    "{key} = \"{resolved}\" is not a provider/model reference; clawctl validate will reject it"
                )),
                Some((p, _)) => {
                    let configured = self.out.providers.iter().any(|(id, _)| id == p);
                    if !configured && self.catalog.get(p).is_none() {
                        if !unknown_providers.iter().any(|u| u == p) {
                            unknown_providers.push(p.to_string());
                        }
                        self.warn(format!(
                            "{key} = \"{resolved}\" uses provider `{p}`, which clawctl's catalog does not know and the import has no models.providers.{p} for: left out of the import. Fix: clawctl config set models.providers.{p}.base_url <URL> (and models.providers.{p}.api), then clawctl config set {key} {resolved}"
                        ));
                        dropped_refs.push((key.clone(), reference.clone()));
                    }
                }
            }
        }
        for (key, reference) in dropped_refs {
            self.drop_model_ref(&key, &reference);
        }
        let missing: Vec<String> = self
            .out
            .providers
            .iter()
            .filter(|(id, p)| p.base_url.is_none() && self.catalog.get(id).is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in missing {
            self.warn(format!(
                "models.providers.{id} has no base URL and `{id}` is not in clawctl's catalog; set models.providers.{id}.base_url"
            ));
        }
        let without_secret: Vec<String> = self
            .out
            .profiles
            .iter()
            .filter(|(id, _)| !self.credentials.iter().any(|c| c.profile_id == *id))
            .map(|(id, _)| id.clone())
            .collect();
        if !without_secret.is_empty() {
            let ids: Vec<String> = without_secret.iter().map(|id| format!("`{id}`")).collect();
            let (what, verb, whose) = if ids.len() == 1 {
                ("profile", "has", "its key")
            } else {
                ("profiles", "have", "their keys")
            };
            self.warn(format!(
                "auth {what} {} {verb} no secret in the input (OpenClaw keeps keys in agents/<agent>/agent/auth-profiles.json beside openclaw.json); add {whose} after import",
                ids.join(", ")
            ));
        }
    }

    /// Take a model reference out of the output (primary, one fallback, or an
    /// alias) and record why under `unmapped`.
    fn drop_model_ref(&mut self, key: &str, reference: &str) {
        if key == "agents.defaults.model.primary" {
            self.out.primary = None;
        } else if key.starts_with("agents.defaults.model.fallbacks[") {
            if let Some(f) = self.out.fallbacks.as_mut()
                && let Some(i) = f.iter().position(|r| r == reference)
            {
                f.remove(i);
            }
        } else {
            let models = KeyPath::parse("agents.defaults.models").expect("static key");
            self.out
                .aliases
                .retain(|(a, _)| models.child(a.as_str()).to_string() != key);
        }
        self.mapped.retain(|m| m.to != key);
        self.unmapped.push(Unmapped {
            path: format!("{}{key}", self.prefix),
            reason: format!(
                "names `{reference}`, whose provider clawctl cannot resolve (not in the catalog, no models.providers entry)"
            ),
        });
    }

    // ----- the document --------------------------------------------------------

    fn render(&self) -> DocumentMut {
        let o = &self.out;
        let mut doc = DocumentMut::new();
        let root = doc.as_table_mut();

        let mut meta = Table::new();
        meta.insert("version", value(i64::from(CURRENT_VERSION)));
        root.insert("meta", Item::Table(meta));

        let has_model = o.primary.is_some() || o.fallbacks.as_ref().is_some_and(|f| !f.is_empty());
        if has_model || !o.aliases.is_empty() {
            let mut defaults = implicit();
            if has_model {
                let mut model = Table::new();
                if let Some(p) = &o.primary {
                    model.insert("primary", value(p.as_str()));
                }
                if let Some(f) = o.fallbacks.as_ref().filter(|f| !f.is_empty()) {
                    model.insert("fallbacks", value(string_array(f)));
                }
                defaults.insert("model", Item::Table(model));
            }
            if !o.aliases.is_empty() {
                let mut aliases = Table::new();
                for (a, t) in &o.aliases {
                    aliases.insert(a, value(t.as_str()));
                }
                defaults.insert("models", Item::Table(aliases));
            }
            let mut agents = implicit();
            agents.insert("defaults", Item::Table(defaults));
            root.insert("agents", Item::Table(agents));
        }

        let providers: Vec<&(String, ProviderOut)> =
            o.providers.iter().filter(|(_, p)| !p.is_empty()).collect();
        if !providers.is_empty() {
            let mut all = implicit();
            for (id, p) in providers {
                let mut t = Table::new();
                if let Some(u) = &p.base_url {
                    t.insert("base_url", value(u.as_str()));
                }
                if let Some(a) = &p.api {
                    t.insert("api", value(a.as_str()));
                }
                if let Some(k) = &p.api_key {
                    t.insert("api_key", value(k.as_str()));
                }
                if !p.models.is_empty() {
                    t.insert("models", value(string_array(&p.models)));
                }
                if !p.headers.is_empty() {
                    let mut h = Table::new();
                    for (k, v) in &p.headers {
                        h.insert(k, value(v.as_str()));
                    }
                    t.insert("headers", Item::Table(h));
                }
                all.insert(id, Item::Table(t));
            }
            let mut models = implicit();
            models.insert("providers", Item::Table(all));
            root.insert("models", Item::Table(models));
        }

        if !o.profiles.is_empty() || !o.order.is_empty() {
            let mut auth = implicit();
            if !o.profiles.is_empty() {
                let mut profiles = implicit();
                for (id, p) in &o.profiles {
                    let mut t = Table::new();
                    t.insert("provider", value(p.provider.as_str()));
                    t.insert("mode", value(p.mode));
                    profiles.insert(id, Item::Table(t));
                }
                auth.insert("profiles", Item::Table(profiles));
            }
            if !o.order.is_empty() {
                let mut order = Table::new();
                for (p, ids) in &o.order {
                    order.insert(p, value(string_array(ids)));
                }
                auth.insert("order", Item::Table(order));
            }
            root.insert("auth", Item::Table(auth));
        }

        let has_gateway_auth = o.auth_mode.is_some() || o.token.is_some();
        if o.port.is_some() || o.bind.is_some() || has_gateway_auth {
            let mut gateway = Table::new();
            if o.port.is_none() && o.bind.is_none() {
                gateway.set_implicit(true);
            }
            if let Some(p) = o.port {
                gateway.insert("port", value(p));
            }
            if let Some(b) = &o.bind {
                gateway.insert("bind", value(b.as_str()));
            }
            if has_gateway_auth {
                let mut auth = Table::new();
                if let Some(m) = &o.auth_mode {
                    auth.insert("mode", value(m.as_str()));
                }
                if let Some(t) = &o.token {
                    auth.insert("token", value(t.as_str()));
                }
                gateway.insert("auth", Item::Table(auth));
            }
            root.insert("gateway", Item::Table(gateway));
        }

        let has_shell = o.shell_enabled.is_some() || o.shell_timeout_ms.is_some();
        if !o.env_vars.is_empty() || has_shell {
            let mut env = implicit();
            if !o.env_vars.is_empty() {
                let mut vars = Table::new();
                for (k, v) in &o.env_vars {
                    vars.insert(k, value(v.as_str()));
                }
                env.insert("vars", Item::Table(vars));
            }
            if has_shell {
                let mut shell = Table::new();
                if let Some(e) = o.shell_enabled {
                    shell.insert("enabled", value(e));
                }
                if let Some(t) = o.shell_timeout_ms {
                    shell.insert("timeout_ms", value(t));
                }
                env.insert("shell_env", Item::Table(shell));
            }
            root.insert("env", Item::Table(env));
        }
        doc
    }
}

/// A table that gets no `[header]` of its own (only its sub-tables do).
fn implicit() -> Table {
    let mut t = Table::new();
    t.set_implicit(true);
    t
}

fn string_array(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised_and_keys_are_not() {
        for p in [
            "REPLACE_ME",
            "xoxb-REPLACE_ME",
            "YOUR TOKEN",
            "YOUR_GATEWAY_TOKEN_HERE",
            "GEMINI_KEY_HERE",
            "<your-telegram-user-id>",
            "sk-...",
            "sk-xxxxxxxx",
            "REPLACE_WITH_GENERATED_TOKEN",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for k in [
            "sk-fake00000000000000000000000000000000000000000004",
            "test-token-123",
            "ollama-local",
            "0000000000000000000000000000000f.fake000000000016",
            "AIzafake0000000000000000000000000000011",
        ] {
            assert!(!is_placeholder(k), "{k}");
        }
    }

    #[test]
    fn bare_env_names() {
        assert!(is_bare_env_name("PPIO_API_KEY"));
        assert!(is_bare_env_name("LITELLM_KEY"));
        assert!(!is_bare_env_name("lmstudio"));
        assert!(!is_bare_env_name("sk-abc"));
        assert!(!is_bare_env_name("ABC"));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://api.kimi.com/coding/v1").as_deref(),
            Some("api.kimi.com")
        );
        assert_eq!(host_of("http://u:p@host:11434/x").as_deref(), Some("host"));
    }

    #[test]
    fn credential_debug_hides_the_secret() {
        let c = ImportedCredential {
            profile_id: "moonshot:imported".into(),
            provider: "moonshot".into(),
            kind: CredentialKind::ApiKey,
            secret: "sk-abcdefghijklmnopqrstuvwxyz0123456789".into(),
            from: "models.providers.moonshot.apiKey".into(),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("abcdefghijkl"), "{d}");
        assert!(d.contains("sha256:"), "{d}");
    }
}
