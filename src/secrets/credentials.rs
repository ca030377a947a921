//! Credentials: the store (`credentials.toml`, 0600 in a 0700 home) and the
//! resolver that lists, for one provider in one view, every place a key exists,
//! which one wins, and whether the copies agree.
//!
//! Resolution order (first usable wins; the README repeats it):
//! 1. the config's `models.providers.<id>.api_key` — a `cred:` reference (looked up in
//!    credentials.toml), an `${ENV}` reference (looked up as in 4–6), or a literal;
//! 2. profiles listed in `auth.order.<id>`, in order;
//! 3. credential profiles of that provider in credentials.toml (`<id>:default` first);
//! 4. the provider's key variables (catalog order) in the process environment
//!    (for the service view: what its definition or running process has);
//! 5. the same variables in the home `.env`;
//! 6. the same variables in the config's `env.vars`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use toml_edit::{DocumentMut, Item, Table};

use crate::config::load::Loaded;
use crate::config::model::AuthMode;
use crate::providers::catalog::Catalog;
use crate::secrets::mask::{self, SecretValue};

pub struct StoredCredential {
    pub id: String,
    pub provider: String,
    pub kind: AuthMode,
    pub secret: SecretString,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("secret", &mask::describe(self.secret.expose_secret()))
            .finish()
    }
}

#[derive(Debug, Default)]
pub struct Store {
    pub path: PathBuf,
    pub exists: bool,
    pub entries: Vec<StoredCredential>,
    /// Unix mode bits of the file.
    pub mode: Option<u32>,
    /// Why the file cannot be used (unreadable, not UTF-8, does not parse), with
    /// its location: one line for messages.
    pub error: Option<String>,
    /// The same, as the diagnostic `load` reports (file, line, column, fix).
    pub error_diagnostic: Option<crate::config::diagnostics::Diagnostic>,
}

/// The `provider` of credentials that hold a secret HTTP header of a provider block.
pub const HEADER_PROVIDER: &str = "header";

const HEADER: &str = "# clawctl credentials: API keys and tokens, referred to from config.toml as\n# \"cred:PROVIDER:NAME\". Keep this file private (clawctl writes it 0600).\n";

impl Store {
    pub fn read(path: &Path) -> Store {
        use std::os::unix::fs::PermissionsExt;
        let mut store = Store {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let text = match crate::config::load::read_text_file(path, "credentials file") {
            Ok(None) => return store,
            Ok(Some(t)) => t,
            Err(d) => {
                store.exists = path.exists();
                store.error = Some(match &d.help {
                    Some(h) => format!("{}; {h}", d.message),
                    None => d.message.clone(),
                });
                store.error_diagnostic = Some(d);
                return store;
            }
        };
        store.exists = true;
        store.mode = std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777);
        match parse_entries(&text) {
            Ok(e) => store.entries = e,
            Err(e) => {
                let message = format!("{}: {e}", path.display());
                store.error_diagnostic = Some(
                    crate::config::diagnostics::Diagnostic::error("credentials", message.clone())
                        .with_help(
                            "fix that line of credentials.toml (or move the file away and run clawctl onboard again)",
                        ),
                );
                store.error = Some(message);
            }
        }
        store
    }

    pub fn get(&self, id: &str) -> Option<&StoredCredential> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// When storing `secret` as profile `id` would replace a *different* stored secret:
    /// `(old, new)` described as shape + fingerprint (never the values), for a question
    /// ("replace … with …?") or a report ("replaced … with …").
    pub fn replacing(&self, id: &str, secret: &str) -> Option<(String, String)> {
        let old = self.get(id)?.secret.expose_secret();
        (old != secret).then(|| (mask::describe(old), mask::describe(secret)))
    }
}

/// Why `key` cannot be a credential as typed: a control character (an Esc or a
/// Ctrl-key pressed at a hidden prompt, a pasted escape sequence) or whitespace inside
/// it. Such a key never works and must never be stored. The message names the
/// character's position and kind, never the key.
pub fn key_text_problem(key: &str) -> Option<String> {
    let (i, c) = key
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || c.is_whitespace())?;
    let what = match c {
        '\u{1b}' => "an Escape character (Esc pressed at the prompt?)".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        _ => "whitespace".to_string(),
    };
    Some(format!(
        "the key has {what} at position {} of {}: keys are one word of printable characters; nothing was stored",
        i + 1,
        key.chars().count()
    ))
}

fn parse_entries(text: &str) -> Result<Vec<StoredCredential>, String> {
    let doc: DocumentMut = text.parse().map_err(|e| syntax_error(text, &e))?;
    let mut out = Vec::new();
    let Some(profiles) = doc.get("profiles").and_then(Item::as_table_like) else {
        return Ok(out);
    };
    for (id, item) in profiles.iter() {
        let t = item
            .as_table_like()
            .ok_or_else(|| format!("profiles.\"{id}\" is not a table"))?;
        let secret = t
            .get("secret")
            .and_then(Item::as_str)
            .ok_or_else(|| format!("profiles.\"{id}\".secret is missing or not a string"))?;
        let provider = t
            .get("provider")
            .and_then(Item::as_str)
            .map(String::from)
            .unwrap_or_else(|| id.split(':').next().unwrap_or(id).to_string());
        let kind = match t.get("kind").and_then(Item::as_str) {
            Some("token") => AuthMode::Token,
            _ => AuthMode::ApiKey,
        };
        crate::secrets::detect::register(secret);
        out.push(StoredCredential {
            id: id.to_string(),
            provider,
            kind,
            secret: SecretString::from(secret.to_string()),
        });
    }
    Ok(out)
}

/// Where the store's TOML breaks, without the error's own text: it quotes the line,
/// which may hold a secret.
fn syntax_error(text: &str, e: &toml_edit::TomlError) -> String {
    match e
        .span()
        .map(|s| crate::config::tomlconv::offset_to_pos(text, s.start))
    {
        Some(p) => format!("TOML syntax error at line {}, column {}", p.line, p.col),
        None => "TOML syntax error".to_string(),
    }
}

/// The store's text with profile `id` set (comments and other profiles kept).
pub fn upsert_text(
    before: Option<&str>,
    id: &str,
    provider: &str,
    kind: AuthMode,
    secret_value: &str,
) -> Result<String, String> {
    let mut doc: DocumentMut = match before {
        Some(t) => t.parse().map_err(|e| {
            format!(
                "credentials.toml does not parse ({}); fix that line or move the file away first",
                syntax_error(t, &e)
            )
        })?,
        None => DocumentMut::new(),
    };
    if doc.get("profiles").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert("profiles", Item::Table(t));
    }
    let profiles = doc["profiles"]
        .as_table_mut()
        .ok_or("credentials.toml: `profiles` is not a table")?;
    let mut entry = Table::new();
    entry.insert("provider", toml_edit::value(provider));
    entry.insert(
        "kind",
        toml_edit::value(match kind {
            AuthMode::ApiKey => "api_key",
            AuthMode::Token => "token",
        }),
    );
    entry.insert("secret", toml_edit::value(secret_value));
    match profiles.get_mut(id).and_then(Item::as_table_mut) {
        Some(existing) => {
            for (k, v) in entry.iter() {
                existing.insert(k, v.clone());
            }
        }
        None => {
            // A new file starts with its header comment, above the first profile.
            if before.is_none() && profiles.is_empty() {
                entry.decor_mut().set_prefix(HEADER);
            }
            profiles.insert(id, Item::Table(entry));
        }
    }
    Ok(doc.to_string())
}

/// The credential profile a literal at a secret-holding config key is stored
/// under: `models.providers.<id>.api_key` → `<id>:default`, `gateway.auth.token` →
/// `gateway:default`, `models.providers.<id>.headers.<Name>` → `header:<id>.<name>`
/// (provider `header`: never taken for the provider's own key).
pub fn profile_for_secret_key(key: &crate::config::keypath::KeyPath) -> (String, String, AuthMode) {
    let segs: Vec<&str> = key.keys().collect();
    match segs.as_slice() {
        ["env", "vars", name] => (format!("env:{name}"), "env".to_string(), AuthMode::ApiKey),
        ["models", "providers", p, "headers", name] => {
            let clean = |s: &str| -> String {
                s.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect()
            };
            (
                format!("{HEADER_PROVIDER}:{}.{}", clean(p), clean(name)),
                HEADER_PROVIDER.to_string(),
                AuthMode::Token,
            )
        }
        ["models", "providers", p, "api_key" | "apiKey"] => {
            (format!("{p}:default"), p.to_string(), AuthMode::ApiKey)
        }
        _ => ("gateway:default".into(), "gateway".into(), AuthMode::Token),
    }
}

/// Where a key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A literal in config.toml.
    ConfigLiteral,
    /// A credential profile in credentials.toml.
    CredentialProfile,
    /// A variable of the loading process (this shell, or the service's environment).
    ProcessEnv,
    /// A variable of the home `.env`.
    DotEnv,
    /// A variable of the config's `env.vars`.
    ConfigEnvVars,
}

/// One place a key exists, as it may be shown: never the value.
#[derive(Debug, Clone, Serialize)]
pub struct KeySource {
    pub kind: SourceKind,
    /// "credentials.toml profile moonshot:default", "MOONSHOT_API_KEY in this shell", …
    pub location: String,
    /// How the config reaches it: "models.providers.moonshot.api_key = cred:…", "auth.order", "catalog variable".
    pub via: String,
    pub fingerprint: Option<String>,
    pub shape: Option<String>,
    pub length: Option<usize>,
    pub wins: bool,
    /// The environment variable this source is, when it is one (names are not secret).
    pub variable: Option<String>,
    /// Why this source cannot be used (referenced but missing, empty, …).
    pub problem: Option<String>,
    #[serde(skip)]
    pub secret: Option<SecretString>,
}

impl KeySource {
    pub(crate) fn found(kind: SourceKind, location: String, via: String, value: &str) -> KeySource {
        crate::secrets::detect::register(value);
        KeySource {
            kind,
            location,
            via,
            fingerprint: Some(mask::fingerprint(value)),
            shape: mask::shape(value).map(String::from),
            length: Some(value.chars().count()),
            wins: false,
            variable: None,
            problem: None,
            secret: Some(SecretString::from(value.to_string())),
        }
    }

    fn missing(kind: SourceKind, location: String, via: String, problem: String) -> KeySource {
        KeySource {
            kind,
            location,
            via,
            fingerprint: None,
            shape: None,
            length: None,
            wins: false,
            variable: None,
            problem: Some(problem),
            secret: None,
        }
    }

    pub fn usable(&self) -> bool {
        self.secret.is_some()
    }

    /// `sk-kimi-… (sha256:3f9a1c2e, 51 chars)`.
    pub fn describe(&self) -> String {
        match &self.secret {
            Some(s) => mask::describe(s.expose_secret()),
            None => self.problem.clone().unwrap_or_else(|| "missing".into()),
        }
    }
}

/// Every key for one provider (or the gateway token) in one view.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub subject: String,
    pub needs_key: bool,
    pub sources: Vec<KeySource>,
    /// Usable copies whose fingerprints differ.
    pub disagree: bool,
}

impl Resolved {
    pub fn winner(&self) -> Option<&KeySource> {
        self.sources.iter().find(|s| s.wins)
    }

    pub fn secret(&self) -> Option<&str> {
        self.winner()
            .and_then(|w| w.secret.as_ref())
            .map(|s| s.expose_secret())
    }
}

struct Ctx<'a> {
    loaded: &'a Loaded,
    store: &'a Store,
}

impl Ctx<'_> {
    fn view_label(&self) -> String {
        self.loaded.env.origin.clone()
    }

    fn store_label(&self, id: &str) -> String {
        format!(
            "{} profile {id}",
            self.loaded.env.display_path(&self.store.path)
        )
    }

    fn profile_source(&self, id: &str, via: String) -> KeySource {
        match self.store.get(id) {
            Some(c) => KeySource::found(
                SourceKind::CredentialProfile,
                self.store_label(id),
                via,
                c.secret.expose_secret(),
            ),
            None => KeySource::missing(
                SourceKind::CredentialProfile,
                self.store_label(id),
                via,
                match &self.store.error {
                    // The cause, not its symptom: the profile may well be in there.
                    Some(e) => format!("credentials.toml cannot be used: {e}"),
                    None => format!("profile {id} is not in credentials.toml"),
                },
            ),
        }
    }

    /// All places variable `name` is set, in precedence order.
    fn variable_sources(&self, name: &str, via: &str) -> Vec<KeySource> {
        let mut out = self.variable_sources_unnamed(name, via);
        for s in &mut out {
            s.variable = Some(name.to_string());
        }
        out
    }

    fn variable_sources_unnamed(&self, name: &str, via: &str) -> Vec<KeySource> {
        let mut out = Vec::new();
        let env = &self.loaded.env;
        if let Some(v) = env.vars.get(name).filter(|v| !v.is_empty()) {
            let location = match env.var_evidence.get(name) {
                Some(e) => format!("{name} from {e}"),
                None => format!("{name} in {}", self.view_label()),
            };
            out.push(KeySource::found(
                SourceKind::ProcessEnv,
                location,
                via.to_string(),
                v,
            ));
        }
        if let Some(v) = self.loaded.dotenv.get(name).filter(|v| !v.value.is_empty()) {
            out.push(KeySource::found(
                SourceKind::DotEnv,
                format!(
                    "{name} in {}:{}",
                    env.display_path(&self.loaded.paths.dotenv),
                    v.line
                ),
                via.to_string(),
                &v.value,
            ));
        }
        if let Some(v) = self
            .loaded
            .config
            .env
            .vars
            .get(name)
            .filter(|v| !v.is_empty())
            && let Some(id) = mask::parse_cred_ref(v)
        {
            out.push(self.profile_source(id, format!("env.vars.{name} = cred:{id}")));
        } else if let Some(v) = self
            .loaded
            .config
            .env
            .vars
            .get(name)
            .filter(|v| !v.is_empty())
            && mask::parse_env_ref(v).is_none()
        {
            out.push(KeySource::found(
                SourceKind::ConfigEnvVars,
                format!(
                    "env.vars.{name} in {}",
                    env.display_path(&self.loaded.paths.config)
                ),
                via.to_string(),
                v,
            ));
        }
        out
    }

    /// Where the value of a config key comes from: the file, `.env`, a variable, `--set`.
    fn key_location(&self, key: &str) -> String {
        let origin = crate::config::keypath::KeyPath::parse(key)
            .ok()
            .and_then(|p| self.loaded.origin_of(&p));
        match origin {
            Some(o) => format!("{key} ({})", o.label(&self.loaded.env)),
            None => format!(
                "{key} in {}",
                self.loaded.env.display_path(&self.loaded.paths.config)
            ),
        }
    }

    fn config_value_sources(&self, key: &str, value: &str) -> Vec<KeySource> {
        let via = format!("{key} = {}", mask::display_config_secret(value));
        match mask::classify(value) {
            SecretValue::CredRef(id) => vec![self.profile_source(id, via)],
            SecretValue::EnvRef(name) => {
                let found = self.variable_sources(name, &via);
                if found.is_empty() {
                    vec![KeySource::missing(
                        SourceKind::ProcessEnv,
                        format!("{name} in {}", self.view_label()),
                        via,
                        format!(
                            "{key} refers to ${{{name}}}, which is not set in {}",
                            self.view_label()
                        ),
                    )]
                } else {
                    found
                }
            }
            SecretValue::Literal(v) => vec![KeySource::found(
                SourceKind::ConfigLiteral,
                self.key_location(key),
                "a literal value".into(),
                v,
            )],
            SecretValue::Malformed(_) => vec![KeySource::missing(
                SourceKind::ConfigLiteral,
                self.key_location(key),
                via,
                format!("{key} is a malformed reference"),
            )],
        }
    }
}

fn finish(subject: String, needs_key: bool, mut sources: Vec<KeySource>) -> Resolved {
    // One copy, one line: `api_key = "${MOONSHOT_API_KEY}"` and the catalog's key
    // variable reach the same variable; the first (stronger) reference is kept.
    let mut seen: Vec<String> = Vec::new();
    sources.retain(|s| {
        let new = !seen.contains(&s.location);
        seen.push(s.location.clone());
        new
    });
    if let Some(w) = sources.iter_mut().find(|s| s.usable()) {
        w.wins = true;
    }
    let mut fps: Vec<&str> = sources
        .iter()
        .filter_map(|s| s.fingerprint.as_deref())
        .collect();
    fps.sort();
    fps.dedup();
    Resolved {
        subject,
        needs_key,
        disagree: fps.len() > 1,
        sources,
    }
}

/// Every key for `provider` in `loaded`'s view.
pub fn resolve_provider(
    loaded: &Loaded,
    store: &Store,
    catalog: &Catalog,
    provider: &str,
) -> Resolved {
    let ctx = Ctx { loaded, store };
    let cfg = &loaded.config;
    let entry = catalog.get(provider);
    let mut sources = Vec::new();
    if let Some(v) = cfg
        .models
        .providers
        .get(provider)
        .and_then(|p| p.api_key.as_deref())
    {
        sources.extend(
            ctx.config_value_sources(
                &crate::config::keypath::KeyPath::provider(provider)
                    .child("api_key")
                    .to_string(),
                v,
            ),
        );
    }
    let mut seen_profiles: Vec<String> = Vec::new();
    for id in cfg.auth.order.get(provider).into_iter().flatten() {
        seen_profiles.push(id.clone());
        sources.push(ctx.profile_source(
            id,
            crate::config::keypath::KeyPath::of(&["auth", "order", provider]).to_string(),
        ));
    }
    let mut own: Vec<&StoredCredential> = store
        .entries
        .iter()
        .filter(|c| catalog.canonical(&c.provider) == catalog.canonical(provider))
        .filter(|c| !seen_profiles.contains(&c.id))
        .filter(|c| !sources.iter().any(|s| s.location == ctx.store_label(&c.id)))
        .collect();
    own.sort_by_key(|c| (!c.id.ends_with(":default"), c.id.clone()));
    for c in own {
        sources.push(ctx.profile_source(&c.id, "credential profile of this provider".into()));
    }
    for var in entry.map(|e| e.key_env.clone()).unwrap_or_default() {
        sources.extend(ctx.variable_sources(&var, "catalog key variable"));
    }
    finish(
        provider.to_string(),
        entry.is_none_or(|e| e.needs_key),
        sources,
    )
}

/// Every source of the gateway token in `loaded`'s view.
pub fn resolve_gateway_token(loaded: &Loaded, store: &Store) -> Resolved {
    let ctx = Ctx { loaded, store };
    let mut sources = Vec::new();
    if let Some(v) = loaded.config.gateway.auth.token.as_deref() {
        sources.extend(ctx.config_value_sources("gateway.auth.token", v));
    }
    if !sources
        .iter()
        .any(|s| s.location == ctx.store_label("gateway:default"))
        && store.get("gateway:default").is_some()
    {
        sources.push(ctx.profile_source(
            "gateway:default",
            "credential profile of the gateway".into(),
        ));
    }
    sources.extend(ctx.variable_sources(
        crate::env::vars::CLAWCTL_GATEWAY_TOKEN,
        "gateway token variable",
    ));
    let needs = loaded.config.gateway.auth.mode == crate::config::model::GatewayAuthMode::Token;
    finish("gateway".into(), needs, sources)
}

/// Providers worth reporting: configured ones, the default/fallback models' ones,
/// and any with a stored credential.
pub fn relevant_providers(loaded: &Loaded, store: &Store, catalog: &Catalog) -> Vec<String> {
    let cfg = &loaded.config;
    let mut ids: Vec<String> = cfg.models.providers.keys().cloned().collect();
    for r in cfg
        .primary_model()
        .into_iter()
        .chain(cfg.fallback_models().iter().map(String::as_str))
    {
        if let Some((p, _)) = crate::config::model::split_model_ref(cfg.resolve_model(r)) {
            ids.push(p.to_string());
        }
    }
    ids.extend(
        store
            .entries
            .iter()
            .filter(|c| !["gateway", "env", HEADER_PROVIDER].contains(&c.provider.as_str()))
            .map(|c| c.provider.clone()),
    );
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = if cfg.models.providers.contains_key(&id) {
            id
        } else {
            catalog.canonical(&id).to_string()
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Per provider, the resolved keys (map for JSON output).
pub fn resolve_all(
    loaded: &Loaded,
    store: &Store,
    catalog: &Catalog,
) -> BTreeMap<String, Resolved> {
    relevant_providers(loaded, store, catalog)
        .into_iter()
        .map(|p| {
            let r = resolve_provider(loaded, store, catalog, &p);
            (p, r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_keeps_other_profiles_and_comments() {
        let t = upsert_text(
            None,
            "moonshot:default",
            "moonshot",
            AuthMode::ApiKey,
            "sk-one",
        )
        .unwrap();
        let t = format!("{t}# mine\n");
        let t = upsert_text(Some(&t), "zai:default", "zai", AuthMode::ApiKey, "zk").unwrap();
        let t = upsert_text(
            Some(&t),
            "moonshot:default",
            "moonshot",
            AuthMode::ApiKey,
            "sk-two",
        )
        .unwrap();
        let e = parse_entries(&t).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].secret.expose_secret(), "sk-two");
        assert!(t.contains("# mine"));
        assert!(!format!("{:?}", e[0]).contains("sk-two"));
    }

    #[test]
    fn parse_errors_do_not_quote_the_secret() {
        let err = parse_entries("[profiles.\"a:b\"]\nsecret = \"sk-leak\n").unwrap_err();
        assert!(!err.contains("sk-leak"), "{err}");
    }
}
