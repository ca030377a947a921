//! OpenClaw's per-agent credential store, `<agentDir>/auth-profiles.json`.
//!
//! Reference: <https://docs.openclaw.ai/gateway/configuration-reference> ("Auth
//! storage": per-agent `auth-profiles.json`, `keyRef` for `api_key` and `tokenRef` for
//! `token` profiles, OAuth profiles take no SecretRef, legacy flat maps are not a
//! runtime format) and ("SecretRef": `{ source: env|file|exec|store, provider, id }`),
//! and the stores in the shared corpus (`004`, `027`, `030`, `032`, `034`):
//!
//! ```json
//! { "version": 1,
//!   "profiles": { "moonshot:default": { "type": "api_key", "provider": "moonshot",
//!                                       "key": "sk-…" | "keyRef": { "source": "env", … } } },
//!   "order": { "moonshot": ["moonshot:default"] },
//!   "lastGood": { "moonshot": "moonshot:default" },
//!   "usageStats": { … } }
//! ```
//!
//! Parsed with the importer's JSON5 reader (positions, no source text in errors).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::transfer::openclaw::json5::{self, Node};

use super::providers::normalize_provider_id;

/// What a profile holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    ApiKey,
    Token,
    OAuth,
    Other(String),
}

/// A SecretRef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub source: String,
    pub provider: String,
    pub id: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ref {}:{}", self.source, self.provider, self.id)
    }
}

/// Where a profile's secret is.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Written into the store (`key` / `token` / OAuth `access`).
    Inline(String),
    /// `keyRef` / `tokenRef`.
    Ref(SecretRef),
    None,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Inline(s) => write!(f, "Inline({})", crate::secrets::mask::describe(s)),
            Secret::Ref(r) => write!(f, "Ref({r})"),
            Secret::None => f.write_str("None"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    /// `moonshot:default`.
    pub id: String,
    /// The provider as written.
    pub provider: String,
    pub kind: Kind,
    pub secret: Secret,
    /// `path:line` of the profile.
    pub evidence: String,
}

impl Profile {
    /// OpenClaw's normalised provider id (`kimi-code` → `kimi-coding`, …).
    pub fn provider_id(&self) -> String {
        normalize_provider_id(&self.provider)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Store {
    pub path: PathBuf,
    pub profiles: Vec<Profile>,
    /// `order.<provider>`.
    pub order: Vec<(String, Vec<String>)>,
    /// `lastGood.<provider>`.
    pub last_good: Vec<(String, String)>,
    /// The file is a legacy flat map (`{ "moonshot": { "apiKey": … } }`), which
    /// OpenClaw does not read at run time (`openclaw doctor --fix` rewrites it).
    pub legacy_flat: bool,
}

impl Store {
    /// Profiles for a provider in the order OpenClaw tries them: an explicit order
    /// (`order` here, else the config's `auth.order`), else `lastGood` first, then
    /// file order.
    pub fn for_provider(&self, provider: &str, config_order: Option<&[String]>) -> Vec<&Profile> {
        let want = normalize_provider_id(provider);
        let mine: Vec<&Profile> = self
            .profiles
            .iter()
            .filter(|p| p.provider_id() == want)
            .collect();
        let explicit = self
            .order
            .iter()
            .find(|(p, _)| normalize_provider_id(p) == want)
            .map(|(_, ids)| ids.as_slice())
            .or(config_order);
        let mut out: Vec<&Profile> = Vec::new();
        if let Some(ids) = explicit {
            for id in ids {
                if let Some(p) = mine.iter().find(|p| p.id == *id) {
                    out.push(p);
                }
            }
            return out;
        }
        if let Some((_, id)) = self
            .last_good
            .iter()
            .find(|(p, _)| normalize_provider_id(p) == want)
            && let Some(p) = mine.iter().find(|p| p.id == *id)
        {
            out.push(p);
        }
        for p in mine {
            if !out.iter().any(|o| o.id == p.id) {
                out.push(p);
            }
        }
        out
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn string(n: &Node, key: &str) -> Option<String> {
    n.get(key).and_then(Node::as_str).map(str::to_string)
}

fn secret_ref(n: &Node) -> Option<SecretRef> {
    Some(SecretRef {
        source: string(n, "source")?,
        provider: string(n, "provider").unwrap_or_else(|| "default".into()),
        id: string(n, "id")?,
    })
}

/// Parse a store's text. `shown` names the file in evidence.
pub fn parse(text: &str, path: &Path, shown: &str) -> Result<Store, String> {
    let parsed = json5::parse(text, 0).map_err(|e| {
        format!(
            "{shown}:{}: not valid JSON: {}",
            line_of(text, e.offset),
            e.message
        )
    })?;
    let top = parsed.value;
    let Some(members) = top.as_object() else {
        return Err(format!("{shown}: holds {}, not an object", top.type_name()));
    };
    let mut store = Store {
        path: path.to_path_buf(),
        ..Store::default()
    };
    let Some(profiles) = top.get("profiles").and_then(Node::as_object) else {
        // `{ "moonshot": { "apiKey": "…" } }`: the legacy flat map.
        store.legacy_flat = members
            .iter()
            .any(|m| m.value.get("apiKey").is_some() || m.value.get("key").is_some());
        return Ok(store);
    };
    for m in profiles {
        let n = &m.value;
        let kind = match string(n, "type").or_else(|| string(n, "mode")).as_deref() {
            Some("api_key") => Kind::ApiKey,
            Some("token") => Kind::Token,
            Some("oauth") => Kind::OAuth,
            other => Kind::Other(other.unwrap_or("").to_string()),
        };
        let secret = match kind {
            Kind::ApiKey => string(n, "key")
                .or_else(|| string(n, "apiKey"))
                .map(Secret::Inline)
                .or_else(|| n.get("keyRef").and_then(secret_ref).map(Secret::Ref)),
            Kind::Token => string(n, "token")
                .map(Secret::Inline)
                .or_else(|| n.get("tokenRef").and_then(secret_ref).map(Secret::Ref)),
            Kind::OAuth => string(n, "access").map(Secret::Inline),
            Kind::Other(_) => None,
        }
        .unwrap_or(Secret::None);
        let provider = string(n, "provider")
            .unwrap_or_else(|| m.key.split(':').next().unwrap_or_default().to_string());
        store.profiles.push(Profile {
            id: m.key.clone(),
            provider,
            kind,
            secret,
            evidence: format!("{shown}:{}", line_of(text, m.key_span.start)),
        });
    }
    let pairs = |key: &str| -> Vec<(String, Node)> {
        top.get(key)
            .and_then(Node::as_object)
            .map(|ms| {
                ms.iter()
                    .map(|m| (m.key.clone(), m.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (p, v) in pairs("order") {
        let ids = v
            .as_array()
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect();
        store.order.push((p, ids));
    }
    for (p, v) in pairs("lastGood") {
        if let Some(id) = v.as_str() {
            store.last_good.push((p, id.to_string()));
        }
    }
    Ok(store)
}

/// Read and parse a store file.
pub fn read(path: &Path, home: &Path) -> Result<Store, String> {
    let shown = super::env::display(path, home);
    let text = crate::read::string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    parse(&text, path, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS_030: &str = r#"{
  "version": 1,
  "profiles": {
    "moonshot:default": {
      "type": "api_key",
      "provider": "moonshot",
      "keyRef": { "source": "env", "provider": "default", "id": "OPENCLAW_MAIN_MOONSHOT_API_KEY" }
    },
    "kimi-coding:default": { "type": "api_key", "provider": "kimi-code", "key": "sk-kimi-abc" },
    "moonshot:work": { "type": "api_key", "provider": "moonshot", "key": "sk-work" },
    "openai-codex:default": { "type": "oauth", "provider": "openai-codex", "access": "eyJx", "refresh": "rt" }
  },
  "lastGood": { "moonshot": "moonshot:work" }
}"#;

    fn store() -> Store {
        parse(
            CORPUS_030,
            Path::new("/s/auth-profiles.json"),
            "auth-profiles.json",
        )
        .unwrap()
    }

    #[test]
    fn profiles_refs_and_kinds() {
        let s = store();
        assert_eq!(s.profiles.len(), 4);
        let m = &s.profiles[0];
        assert_eq!(m.kind, Kind::ApiKey);
        assert_eq!(
            m.secret,
            Secret::Ref(SecretRef {
                source: "env".into(),
                provider: "default".into(),
                id: "OPENCLAW_MAIN_MOONSHOT_API_KEY".into()
            })
        );
        assert_eq!(m.evidence, "auth-profiles.json:4");
        assert_eq!(s.profiles[1].provider_id(), "kimi-coding");
        assert_eq!(s.profiles[3].kind, Kind::OAuth);
        assert!(!format!("{:?}", s).contains("sk-work"));
    }

    #[test]
    fn order_last_good_then_file_order() {
        let s = store();
        let ids: Vec<&str> = s
            .for_provider("moonshot", None)
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["moonshot:work", "moonshot:default"]);
        let cfg = vec!["moonshot:default".to_string()];
        let ids: Vec<&str> = s
            .for_provider("moonshot", Some(&cfg))
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["moonshot:default"]);
        assert_eq!(s.for_provider("kimi-code", None).len(), 1);
    }

    #[test]
    fn legacy_flat_map() {
        let s = parse(
            r#"{ "moonshot": { "apiKey": "sk-x" } }"#,
            Path::new("/a"),
            "a",
        )
        .unwrap();
        assert!(s.legacy_flat);
        assert!(s.profiles.is_empty());
        assert!(
            parse("{ nope", Path::new("/a"), "a")
                .unwrap_err()
                .starts_with("a:1:")
        );
    }
}
