//! What a gateway serves with: the loaded config, its token, and its receipt.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

use crate::config::load::{LoadOptions, Loaded, load};
use crate::config::model::GatewayAuthMode;
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
        if let Some(k) = key_of(&r) {
            providers.insert(id, k);
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
    };
    Ok(GatewayState {
        auth_mode: loaded.config.gateway.auth.mode,
        token: token_r.secret().map(|s| SecretString::from(s.to_string())),
        receipt,
        listen,
        loaded,
    })
}

/// Constant-time comparison, so response timing does not reveal the token.
pub fn token_matches(expected: &SecretString, given: &str) -> bool {
    let a = expected.expose_secret().as_bytes();
    let b = given.as_bytes();
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
