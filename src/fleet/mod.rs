//! A fleet of gateways on etcd: a shared config layer between the defaults and
//! config.toml (a figment provider per key, each origin naming its etcd key and mod
//! revision), member records under leases, and the logic of `clawctl fleet`.
//!
//! Nothing here runs unless a fleet is configured (`fleet.name` + `fleet.etcd.endpoints`,
//! or `CLAWCTL_FLEET` / `CLAWCTL_FLEET_ETCD`): commands without a fleet never build a
//! tokio runtime or an etcd client.
//!
//! Keys (see `keys`):
//!
//! ```text
//! /clawctl/<fleet>/config/                 the layer's head, rewritten by every fleet set/unset
//! /clawctl/<fleet>/config/<seg>/<seg>/…    one config value (`%` and `/` in a segment percent-encoded)
//! /clawctl/<fleet>/members/<host>-<port>   a member's record, attached to its lease
//! ```

pub mod cache;
pub mod commands;
pub mod follow;
pub mod layer;
pub mod member;
pub mod validate;
pub mod watch;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::keypath::{KeyPath, Segment};
use crate::env::Environment;
use crate::env::vars;

pub use follow::Follower;
pub use layer::{FleetLayer, LayerSource};
pub use member::{MemberHandle, MemberRecord, publish};
pub use watch::{WatchHandle, watch};

/// How long a command waits for etcd before it falls back to the cached layer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// What `load` found about the fleet: which one, and the layer it used (live or cached).
#[derive(Debug, Clone)]
pub struct FleetState {
    pub target: FleetTarget,
    pub layer: Option<std::sync::Arc<FleetLayer>>,
    /// Why there is no layer (etcd unreachable and no cache).
    pub unavailable: Option<String>,
}

impl FleetState {
    /// One line for `status`: `prod @rev 42 (etcd http://…)`, `… (cached: …)`, `unavailable: …`.
    pub fn summary(&self) -> String {
        match (&self.layer, &self.unavailable) {
            (Some(l), _) => match &l.source {
                LayerSource::Live => format!(
                    "{} @rev {} ({} keys, etcd {})",
                    self.target.name,
                    l.revision,
                    l.entries.len(),
                    self.target.endpoints_text()
                ),
                LayerSource::Cached { error, fetched_at } => format!(
                    "{} @rev {} from the CACHE (read {}; etcd unreachable: {error})",
                    self.target.name,
                    l.revision,
                    cache::age_text(*fetched_at)
                ),
            },
            (None, Some(e)) => format!("{}: layer UNAVAILABLE ({e}; no cache)", self.target.name),
            (None, None) => format!("{}: no layer", self.target.name),
        }
    }
}

/// Which fleet, on which etcd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetTarget {
    pub name: String,
    pub endpoints: Vec<String>,
    /// Lease time-to-live of member records, seconds.
    pub member_ttl_secs: u64,
}

/// Whether `name` can be a fleet name (it becomes a path segment of every key).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl FleetTarget {
    /// The fleet the layers configure, if any: `CLAWCTL_FLEET` / `CLAWCTL_FLEET_ETCD` in
    /// `env` win over `fleet.name` / `fleet.etcd.endpoints` found in `layers` (lowest
    /// first, last wins). `Err`: configured, but not usable (the message says why).
    pub fn resolve(
        env: &Environment,
        layers: &[&figment::value::Dict],
    ) -> Result<Option<FleetTarget>, String> {
        let mut name: Option<String> = None;
        let mut endpoints: Vec<String> = Vec::new();
        let mut ttl: u64 = crate::config::model::DEFAULT_MEMBER_TTL_SECS;
        for d in layers {
            let Some(figment::value::Value::Dict(_, f)) = d.get("fleet") else {
                continue;
            };
            if let Some(figment::value::Value::String(_, n)) = f.get("name") {
                name = Some(n.clone());
            }
            if let Some(figment::value::Value::Dict(_, e)) = f.get("etcd")
                && let Some(figment::value::Value::Array(_, a)) = e.get("endpoints")
            {
                endpoints = a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
            }
            if let Some(n) = f.get("member_ttl_secs").and_then(|v| v.to_u128()) {
                ttl = n as u64;
            }
        }
        if let Some(n) = env.var(vars::CLAWCTL_FLEET) {
            name = Some(n.to_string());
        }
        if let Some(e) = env.var(vars::CLAWCTL_FLEET_ETCD) {
            endpoints = e
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        if !valid_name(&name) {
            return Err(format!(
                "fleet name `{name}` is not usable: letters, digits, `-`, `_`, `.` (at most 63)"
            ));
        }
        if endpoints.is_empty() {
            return Err(format!(
                "fleet `{name}` has no etcd endpoints: set fleet.etcd.endpoints or {}",
                vars::CLAWCTL_FLEET_ETCD
            ));
        }
        Ok(Some(FleetTarget {
            name,
            endpoints,
            member_ttl_secs: ttl.clamp(1, 3600),
        }))
    }

    pub fn root(&self) -> String {
        format!("/clawctl/{}/", self.name)
    }

    /// `/clawctl/<fleet>/config/`: the layer's prefix, and its head key.
    pub fn config_prefix(&self) -> String {
        format!("/clawctl/{}/config/", self.name)
    }

    pub fn members_prefix(&self) -> String {
        format!("/clawctl/{}/members/", self.name)
    }

    /// The etcd key of a config key path.
    pub fn config_key(&self, path: &KeyPath) -> String {
        let mut k = self.config_prefix();
        k.push_str(&keys::encode_path(path));
        k
    }

    pub fn member_key(&self, id: &str) -> String {
        format!("{}{}", self.members_prefix(), keys::encode_segment(id))
    }

    pub fn endpoints_text(&self) -> String {
        self.endpoints.join(",")
    }
}

/// Key path ⇄ etcd key suffix.
pub mod keys {
    use super::*;

    pub fn encode_segment(s: &str) -> String {
        s.replace('%', "%25").replace('/', "%2F")
    }

    pub fn decode_segment(s: &str) -> String {
        s.replace("%2F", "/")
            .replace("%2f", "/")
            .replace("%25", "%")
    }

    pub fn encode_path(path: &KeyPath) -> String {
        path.segments()
            .iter()
            .map(|s| match s {
                Segment::Key(k) => encode_segment(k),
                Segment::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `agents/defaults/model/primary` → the key path; `None` for an empty suffix (the head).
    pub fn decode_path(suffix: &str) -> Option<KeyPath> {
        if suffix.is_empty() {
            return None;
        }
        Some(KeyPath::from_segments(
            suffix
                .split('/')
                .map(|s| Segment::Key(decode_segment(s)))
                .collect(),
        ))
    }
}

/// Run a future to completion on a fresh current-thread runtime on its own thread:
/// correct whether or not the caller is already inside a tokio runtime (the gateway's
/// reload calls `load`, which may read the layer).
pub fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(f)
        })
        .join()
        .expect("the fleet thread does not panic")
    })
}

/// A client for `target`, or why not: the endpoints are tried in order and the first
/// that answers a (linearizable, so quorum-backed) read is used — a dead or partitioned
/// node costs a refused connection, or at most `CONNECT_TIMEOUT`, then the next one.
/// (etcd-client's own balancing across endpoints sends some requests to a dead node.)
pub async fn connect(target: &FleetTarget) -> Result<etcd_client::Client, String> {
    let mut errors = Vec::new();
    for ep in &target.endpoints {
        match connect_one(target, ep).await {
            Ok(c) => return Ok(c),
            Err(e) => errors.push(e),
        }
    }
    Err(if errors.len() == 1 {
        format!("etcd {}: {}", target.endpoints_text(), errors[0])
    } else {
        format!("etcd: no endpoint answered ({})", errors.join("; "))
    })
}

async fn connect_one(target: &FleetTarget, endpoint: &str) -> Result<etcd_client::Client, String> {
    let opts = etcd_client::ConnectOptions::new()
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_timeout(REQUEST_TIMEOUT);
    let attempt = async {
        let mut c = etcd_client::Client::connect([endpoint], Some(opts))
            .await
            .map_err(|e| describe(&e))?;
        c.get(
            target.config_prefix(),
            Some(
                etcd_client::GetOptions::new()
                    .with_prefix()
                    .with_count_only(),
            ),
        )
        .await
        .map_err(|e| describe(&e))?;
        Ok::<_, String>(c)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_millis(200), attempt).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) if target.endpoints.len() == 1 => Err(e),
        Ok(Err(e)) => Err(format!("{endpoint}: {e}")),
        Err(_) => Err(format!(
            "{endpoint}: no answer within {} ms",
            CONNECT_TIMEOUT.as_millis()
        )),
    }
}

/// Bound a request by `REQUEST_TIMEOUT`, with the endpoints in the error.
pub async fn timed<T>(
    target: &FleetTarget,
    f: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!(
            "etcd {}: {}",
            target.endpoints_text(),
            describe(&e)
        )),
        Err(_) => Err(format!(
            "etcd {}: no answer within {} s",
            target.endpoints_text(),
            REQUEST_TIMEOUT.as_secs()
        )),
    }
}

/// etcd-client's errors nest the transport's; say the part a person acts on.
pub fn describe(e: &etcd_client::Error) -> String {
    let text = e.to_string();
    for (needle, short) in [
        ("Connection refused", "connection refused"),
        ("No route to host", "no route to host"),
        ("dns error", "cannot resolve the host name"),
        ("timed out", "timed out"),
        ("Timeout expired", "timed out"),
    ] {
        if text.contains(needle) {
            return short.to_string();
        }
    }
    text
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This machine's host name (a member's id is `<host>-<port>`).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
