//! What a gateway serves with: the loaded config, its token, its receipt, and per
//! provider the endpoint and key it calls. Built once per start or reload, off the
//! serving path, and shared read-only (`Arc`) by every request that started under it.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::load::{LoadOptions, Loaded, load};
use crate::config::model::{ApiStyle, GatewayAuthMode, split_model_ref};
use crate::env::Environment;
use crate::gateway::receipt::{Receipt, ReceiptKey};
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::{self, Resolved, Store};

pub struct GatewayState {
    pub loaded: Loaded,
    pub auth_mode: GatewayAuthMode,
    pub token: Option<SecretString>,
    pub receipt: Receipt,
    /// `host:port` to listen on.
    pub listen: String,
    pub catalog: Catalog,
    /// Per provider id (as configured, or the catalog's canonical id): where and how
    /// to call it.
    pub upstreams: BTreeMap<String, Upstream>,
    pub limits: Limits,
}

/// The gateway's deadlines and sizes, from `gateway.timeouts` and `gateway.limits`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
    pub client_read: Duration,
    pub drain: Duration,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
}

/// One provider as the gateway calls it. `Debug` shows the key only as its
/// description (shape, fingerprint, length).
pub struct Upstream {
    pub id: String,
    pub api: ApiStyle,
    /// The base URL from the config or the catalog's default region.
    pub base_url: String,
    pub key: Option<SecretString>,
    /// Where the key came from and its fingerprint — what failures report.
    pub key_info: Option<ReceiptKey>,
    /// The config's extra headers, env references expanded.
    pub headers: BTreeMap<String, String>,
    /// Why no key is usable, when one is needed and none is.
    pub key_problem: Option<String>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("id", &self.id)
            .field("api", &self.api)
            .field("base_url", &self.base_url)
            .field(
                "key",
                &self
                    .key
                    .as_ref()
                    .map(|k| crate::secrets::mask::describe(k.expose_secret())),
            )
            .field("key_info", &self.key_info)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Every value that must never appear in what the gateway shows or logs: the key
    /// and header values that are (or look like) secrets.
    pub fn secrets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.key.iter().map(|k| k.expose_secret()).collect();
        out.extend(
            self.headers
                .iter()
                .filter(|(k, v)| {
                    crate::secrets::mask::is_sensitive_name(k)
                        || crate::secrets::mask::looks_secret(v)
                })
                .map(|(_, v)| v.as_str()),
        );
        out.retain(|s| !s.is_empty());
        out
    }
}

fn key_of(r: &Resolved) -> Option<ReceiptKey> {
    r.winner().map(|w| ReceiptKey {
        source: w.location.clone(),
        fingerprint: w.fingerprint.clone(),
        shape: w.shape.clone(),
        length: w.length,
    })
}

pub fn listen_address(bind: &str, port: u16) -> String {
    let host = match bind {
        "loopback" => "127.0.0.1".to_string(),
        "lan" => "0.0.0.0".to_string(),
        ip if ip.contains(':') => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("{host}:{port}")
}

/// Load and check. Err: the rendered diagnostics (the gateway refuses to start or reload).
pub fn prepare(
    env: &Environment,
    opts: &LoadOptions,
    started_unix: u64,
) -> Result<GatewayState, String> {
    let loaded = load(env, opts).map_err(|d| d.render(env, &Default::default()))?;
    if !loaded.is_valid() {
        return Err(loaded.render_diagnostics());
    }
    let catalog = Catalog::load(env).map_err(|e| e.0)?;
    let store = Store::read(&loaded.paths.credentials);
    if let Some(e) = &store.error {
        return Err(format!("error: {e}"));
    }
    let mut providers = BTreeMap::new();
    let mut upstreams = BTreeMap::new();
    let mut vars_used: Vec<String> = env
        .vars
        .keys()
        .filter(|k| k.starts_with(crate::env::vars::CONFIG_OVERRIDE_PREFIX))
        .cloned()
        .collect();
    for (id, r) in credentials::resolve_all(&loaded, &store, &catalog) {
        if let Some(v) = r.winner().and_then(|w| w.variable.clone()) {
            vars_used.push(v);
        }
        if let Some(up) = upstream(&loaded, &catalog, &id, &r) {
            upstreams.insert(id.clone(), up);
        }
        if let Some(k) = key_of(&r) {
            providers.insert(id, k);
        }
    }
    // Providers reached only through an alias (`local = "ollama/llama3"`) or a
    // catalog default: callable too, with the same resolution.
    let aliased: Vec<String> = loaded
        .config
        .agents
        .defaults
        .models
        .values()
        .filter_map(|r| split_model_ref(r).map(|(p, _)| catalog.canonical(p).to_string()))
        .collect();
    for id in aliased {
        if upstreams.contains_key(&id) {
            continue;
        }
        let r = credentials::resolve_provider(&loaded, &store, &catalog, &id);
        if let Some(up) = upstream(&loaded, &catalog, &id, &r) {
            upstreams.insert(id, up);
        }
    }
    let token_r = credentials::resolve_gateway_token(&loaded, &store);
    if let Some(v) = token_r.winner().and_then(|w| w.variable.clone()) {
        vars_used.push(v);
    }
    vars_used.sort();
    vars_used.dedup();
    let listen = listen_address(&loaded.config.gateway.bind, loaded.config.gateway.port);
    let receipt = Receipt {
        pid: std::process::id(),
        started_unix,
        started_at: humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(started_unix),
        )
        .to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        config_path: loaded.paths.config.clone(),
        config_sha256: loaded.config_sha256.clone(),
        home: loaded.paths.home.clone(),
        listen: listen.clone(),
        env_vars_used: vars_used,
        providers,
        gateway_token: key_of(&token_r),
        loaded_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    };
    let t = &loaded.config.gateway.timeouts;
    let l = &loaded.config.gateway.limits;
    let ms = Duration::from_millis;
    let limits = Limits {
        connect: ms(t.connect_ms),
        first_byte: ms(t.first_byte_ms),
        idle: ms(t.idle_ms),
        client_read: ms(t.client_read_ms),
        drain: ms(t.drain_ms),
        max_body_bytes: usize::try_from(l.max_body_bytes).unwrap_or(usize::MAX),
        max_header_bytes: usize::try_from(l.max_header_bytes).unwrap_or(usize::MAX),
        max_connections: l.max_connections as usize,
    };
    Ok(GatewayState {
        auth_mode: loaded.config.gateway.auth.mode,
        token: token_r.secret().map(|s| SecretString::from(s.to_string())),
        receipt,
        listen,
        catalog,
        upstreams,
        limits,
        loaded,
    })
}

/// The endpoint and key of provider `id` in the gateway's own view — the same
/// resolution `status` shows as the service view. None: no base URL is known.
fn upstream(loaded: &Loaded, catalog: &Catalog, id: &str, r: &Resolved) -> Option<Upstream> {
    let ep = crate::cli::models::status::endpoint(loaded, catalog, id)?;
    let key = r.secret().map(|s| SecretString::from(s.to_string()));
    let key_problem = (r.needs_key && key.is_none()).then(|| {
        r.sources
            .iter()
            .find_map(|s| s.problem.clone())
            .unwrap_or_else(|| format!("no {id} key in the gateway's environment"))
    });
    Some(Upstream {
        id: id.to_string(),
        api: ep.api,
        base_url: ep.base_url,
        key,
        key_info: key_of(r),
        headers: ep.headers,
        key_problem,
    })
}

/// A model the client asked for, resolved to the provider and model to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `provider/model` as configured (after alias resolution).
    pub reference: String,
    pub provider: String,
    pub model: String,
}

impl GatewayState {
    /// The refs to try for a requested model, in order: `None`, `""` or `"default"`
    /// mean `agents.defaults.model.primary`; an alias from `agents.defaults.models`
    /// is resolved; when the result is the primary model, the fallbacks follow it.
    /// Err: a message for the client (no default configured, not a `provider/model`).
    pub fn routes(&self, requested: Option<&str>) -> Result<Vec<Route>, String> {
        let cfg = &self.loaded.config;
        let asked = match requested.map(str::trim) {
            None | Some("") | Some("default") => cfg.primary_model().ok_or_else(|| {
                "no model given and agents.defaults.model.primary is not set".to_string()
            })?,
            Some(m) => m,
        };
        let reference = cfg.resolve_model(asked);
        let primary = cfg.primary_model().map(|p| cfg.resolve_model(p));
        let mut refs = vec![reference.to_string()];
        if primary == Some(reference) {
            for f in cfg.fallback_models() {
                let f = cfg.resolve_model(f).to_string();
                if !refs.contains(&f) {
                    refs.push(f);
                }
            }
        }
        let mut routes = Vec::new();
        for r in refs {
            let Some((p, m)) = split_model_ref(&r) else {
                if routes.is_empty() {
                    return Err(format!(
                        "model {r:?} is neither a `provider/model` reference nor an alias in agents.defaults.models"
                    ));
                }
                continue;
            };
            let provider = self.provider_id(p).to_string();
            routes.push(Route {
                reference: r.clone(),
                provider,
                model: m.to_string(),
            });
        }
        Ok(routes)
    }

    /// The id under which a provider is configured: as written when configured so,
    /// else the catalog's canonical id (`kimi` → `kimi-coding`).
    pub fn provider_id<'a>(&'a self, id: &'a str) -> &'a str {
        if self.upstreams.contains_key(id) || self.loaded.config.models.providers.contains_key(id) {
            id
        } else {
            self.catalog.canonical(id)
        }
    }
}

/// Constant-time comparison, so response timing does not reveal the token. Both
/// sides are hashed first, so not even the token's length shows in the timing.
pub fn token_matches(expected: &SecretString, given: &str) -> bool {
    let a = Sha256::digest(expected.expose_secret().as_bytes());
    let b = Sha256::digest(given.as_bytes());
    // Fold every byte's difference in; no early exit.
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
