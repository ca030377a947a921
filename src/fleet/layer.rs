//! The fleet layer: the keys under `/clawctl/<fleet>/config/`, typed by the schema, each
//! with its etcd key and mod revision, ready to become one figment provider per key.

use serde::Serialize;
use serde_json::Value;

use super::{FleetTarget, keys};
use crate::config::diagnostics::Diagnostic;
use crate::config::keypath::KeyPath;
use crate::config::origin::Origin;
use crate::secrets::mask::{self, SecretValue};

/// One value of the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The etcd key, `/clawctl/prod/config/gateway/port`.
    pub key: String,
    pub path: KeyPath,
    /// The stored text, as `config set` would take it.
    pub raw: String,
    /// Typed by the schema.
    pub value: Value,
    pub mod_revision: i64,
}

/// Where the layer in hand came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum LayerSource {
    /// Read from etcd just now.
    Live,
    /// etcd could not be read; this is the last good copy.
    Cached { error: String, fetched_at: u64 },
}

/// A key of the layer that is not used, and why (never its value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub key: String,
    pub code: &'static str,
    pub reason: String,
    pub mod_revision: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetLayer {
    pub target: FleetTarget,
    /// The layer's revision: the newest mod revision under the prefix (head included).
    /// Not the store's revision, which every member's record write moves.
    pub revision: i64,
    pub entries: Vec<Entry>,
    pub refused: Vec<Refusal>,
    pub source: LayerSource,
    /// When it was read from etcd (seconds since the epoch).
    pub fetched_at: u64,
}

/// A raw key-value pair as etcd returns it.
#[derive(Debug, Clone)]
pub struct RawKv {
    pub key: String,
    pub value: String,
    pub mod_revision: i64,
}

impl FleetLayer {
    /// Type and check the raw pairs under the prefix: unknown keys, wrong types, the
    /// fleet's own location and secret literals are refused (listed in `refused`).
    pub fn from_kvs(target: &FleetTarget, kvs: Vec<RawKv>, source: LayerSource) -> FleetLayer {
        let prefix = target.config_prefix();
        let mut revision = 0;
        let mut entries = Vec::new();
        let mut refused = Vec::new();
        for kv in kvs {
            revision = revision.max(kv.mod_revision);
            let Some(suffix) = kv.key.strip_prefix(&prefix) else {
                continue;
            };
            let Some(path) = keys::decode_path(suffix) else {
                continue; // the head
            };
            match check_entry(&path, &kv.value) {
                Ok(value) => entries.push(Entry {
                    key: kv.key,
                    path,
                    raw: kv.value,
                    value,
                    mod_revision: kv.mod_revision,
                }),
                Err((code, reason)) => refused.push(Refusal {
                    key: kv.key,
                    code,
                    reason,
                    mod_revision: kv.mod_revision,
                }),
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        FleetLayer {
            target: target.clone(),
            revision,
            entries,
            refused,
            source,
            fetched_at: super::now_unix(),
        }
    }

    pub fn is_cached(&self) -> bool {
        matches!(self.source, LayerSource::Cached { .. })
    }

    pub fn origin_of(&self, e: &Entry) -> Origin {
        Origin::Fleet {
            key: e.key.clone(),
            revision: e.mod_revision,
            cached: self.is_cached(),
        }
    }

    /// The refusals as load diagnostics (warnings: the rest of the layer still applies).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let LayerSource::Cached { error, fetched_at } = &self.source {
            out.push(
                Diagnostic::warning(
                    "fleet-unreachable",
                    format!(
                        "fleet `{}`: {error}; using the cached layer @rev {} (read {})",
                        self.target.name,
                        self.revision,
                        super::cache::age_text(*fetched_at)
                    ),
                )
                .with_help("check that etcd is running and reachable: `clawctl fleet status`"),
            );
        }
        for r in &self.refused {
            out.push(
                Diagnostic::warning(
                    r.code,
                    format!("fleet layer key {} is not used: {}", r.key, r.reason),
                )
                .with_help(match r.code {
                    "fleet-secret" => format!(
                        "store the key on each gateway (`clawctl onboard`) and set a reference instead: `etcdctl del {}`",
                        r.key
                    ),
                    _ => format!("fix it with `clawctl fleet set` or remove it: `etcdctl del {}`", r.key),
                }),
            );
        }
        out
    }

    pub fn get(&self, path: &KeyPath) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.path == path)
    }

    /// The layer as one tree (what it contributes, without defaults).
    pub fn tree(&self) -> Value {
        let mut root = Value::Object(Default::default());
        for e in &self.entries {
            insert_at(&mut root, &e.path, e.value.clone());
        }
        root
    }

    /// This layer with `path` set to `value` (`None`: removed), for validation before a write.
    pub fn with_change(&self, path: &KeyPath, change: Option<(&str, &Value)>) -> FleetLayer {
        let mut next = self.clone();
        next.entries
            .retain(|e| !(e.path.starts_with(path) || path.starts_with(&e.path)));
        if let Some((raw, value)) = change {
            next.entries.push(Entry {
                key: self.target.config_key(path),
                path: path.clone(),
                raw: raw.to_string(),
                value: value.clone(),
                mod_revision: self.revision + 1,
            });
            next.entries.sort_by(|a, b| a.path.cmp(&b.path));
        }
        next.revision = self.revision + 1;
        next
    }
}

/// Type the value at `path`, or say why the fleet layer cannot hold it.
pub fn check_entry(path: &KeyPath, raw: &str) -> Result<Value, (&'static str, String)> {
    if path.keys().next() == Some("fleet") {
        return Err((
            "fleet-key",
            "the fleet's own settings (fleet.*) belong in each gateway's local config".into(),
        ));
    }
    if !crate::config::schema::is_known(path) {
        let mut reason = format!("unknown key `{path}`");
        if let Some(s) = crate::config::schema::suggest(path) {
            reason.push_str(&format!(" (did you mean `{s}`?)"));
        }
        return Err(("fleet-key", reason));
    }
    let value = crate::config::schema::coerce(path, raw)
        .map_err(|e| ("fleet-key", format!("`{path}`: {e}")))?;
    if let Some(p) = secret_literal_in(path, &value) {
        return Err((
            "fleet-secret",
            format!(
                "`{p}` is a secret, and secrets never live in the fleet layer (references `cred:…` and `${{VAR}}` are allowed)"
            ),
        ));
    }
    Ok(value)
}

/// The first secret literal (not a `cred:`/`${VAR}` reference) in `value` at `path`.
pub fn secret_literal_in(path: &KeyPath, value: &Value) -> Option<KeyPath> {
    match value {
        Value::String(s) => {
            let is_ref = matches!(
                mask::classify(s),
                SecretValue::CredRef(_) | SecretValue::EnvRef(_)
            );
            (mask::is_secret_leaf(path, s) && !is_ref).then(|| path.clone())
        }
        Value::Object(m) => m
            .iter()
            .find_map(|(k, v)| secret_literal_in(&path.child(k.as_str()), v)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| secret_literal_in(&path.index(i), v)),
        _ => None,
    }
}

pub fn insert_at(root: &mut Value, path: &KeyPath, value: Value) {
    let mut cur = root;
    let keys: Vec<&str> = path.keys().collect();
    for (i, k) in keys.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        let m = cur.as_object_mut().expect("just made an object");
        if i + 1 == keys.len() {
            m.insert((*k).to_string(), value);
            return;
        }
        cur = m
            .entry((*k).to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// Read the layer at `revision` (`None`: the newest).
pub async fn fetch(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    revision: Option<i64>,
) -> Result<FleetLayer, String> {
    let mut opts = etcd_client::GetOptions::new().with_prefix();
    if let Some(r) = revision {
        opts = opts.with_revision(r);
    }
    let resp = super::timed(target, client.get(target.config_prefix(), Some(opts))).await?;
    let kvs = resp
        .kvs()
        .iter()
        .map(|kv| RawKv {
            key: String::from_utf8_lossy(kv.key()).into_owned(),
            value: String::from_utf8_lossy(kv.value()).into_owned(),
            mod_revision: kv.mod_revision(),
        })
        .collect();
    Ok(FleetLayer::from_kvs(target, kvs, LayerSource::Live))
}

/// What `load` gets: the live layer, else the cached one, with the diagnostics to show.
pub struct Read {
    pub layer: Option<FleetLayer>,
    /// etcd's error when neither etcd nor a cache could give a layer.
    pub unavailable: Option<String>,
}

/// Read the layer for `load`: live (the cache is refreshed when the revision moved),
/// else the cache. Blocking; bounded by the connect and request timeouts.
pub fn read_for_load(target: &FleetTarget, home: &std::path::Path) -> Read {
    let live = super::block_on(async {
        let mut c = super::connect(target).await?;
        fetch(&mut c, target, None).await
    });
    match live {
        Ok(layer) => {
            super::cache::store(home, &layer);
            Read {
                layer: Some(layer),
                unavailable: None,
            }
        }
        Err(error) => match super::cache::load(home, target, &error) {
            Some(layer) => Read {
                layer: Some(layer),
                unavailable: None,
            },
            None => Read {
                layer: None,
                unavailable: Some(error),
            },
        },
    }
}
