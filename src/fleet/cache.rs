//! The last good copy of the fleet layer: `<home>/fleet/<fleet>.json`, 0600 in a 0700
//! directory, with its revision. Only entries that passed the layer's checks are kept,
//! so no secret literal is ever written here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::FleetTarget;
use super::layer::{FleetLayer, LayerSource, RawKv};

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    fleet: String,
    endpoints: Vec<String>,
    revision: i64,
    fetched_at: u64,
    entries: Vec<CacheEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    key: String,
    value: String,
    mod_revision: i64,
}

pub fn path(home: &Path, fleet: &str) -> PathBuf {
    home.join("fleet").join(format!("{fleet}.json"))
}

/// Write the layer when it differs from the cached copy (a read-only command that
/// finds the same revision writes nothing).
pub fn store(home: &Path, layer: &FleetLayer) {
    let p = path(home, &layer.target.name);
    if let Ok(text) = std::fs::read_to_string(&p)
        && let Ok(old) = serde_json::from_str::<CacheFile>(&text)
        && old.revision == layer.revision
        && old.endpoints == layer.target.endpoints
    {
        return;
    }
    let file = CacheFile {
        fleet: layer.target.name.clone(),
        endpoints: layer.target.endpoints.clone(),
        revision: layer.revision,
        fetched_at: layer.fetched_at,
        entries: layer
            .entries
            .iter()
            .map(|e| CacheEntry {
                key: e.key.clone(),
                value: e.raw.clone(),
                mod_revision: e.mod_revision,
            })
            .collect(),
    };
    let Ok(text) = serde_json::to_string_pretty(&file) else {
        return;
    };
    // A cache that cannot be written is not worth failing a command for; the next
    // read from etcd tries again.
    let _ = crate::write::safe_write::write_generated(&p, &(text + "\n"), 0o600);
}

/// The cached layer, marked as cached because of `error`.
pub fn load(home: &Path, target: &FleetTarget, error: &str) -> Option<FleetLayer> {
    let text = std::fs::read_to_string(path(home, &target.name)).ok()?;
    let file: CacheFile = serde_json::from_str(&text).ok()?;
    if file.fleet != target.name {
        return None;
    }
    let kvs = file
        .entries
        .into_iter()
        .map(|e| RawKv {
            key: e.key,
            value: e.value,
            mod_revision: e.mod_revision,
        })
        .collect();
    let mut layer = FleetLayer::from_kvs(
        target,
        kvs,
        LayerSource::Cached {
            error: error.to_string(),
            fetched_at: file.fetched_at,
        },
    );
    // The head is not cached: the revision is the one recorded.
    layer.revision = file.revision;
    layer.fetched_at = file.fetched_at;
    Some(layer)
}

/// "12 s ago", "3 min ago", "2 h ago".
pub fn age_text(fetched_at: u64) -> String {
    let age = super::now_unix().saturating_sub(fetched_at);
    match age {
        0..=119 => format!("{age} s ago"),
        120..=7199 => format!("{} min ago", age / 60),
        _ => format!("{} h ago", age / 3600),
    }
}
