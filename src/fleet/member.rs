//! Members publish what they run: a record under `/clawctl/<fleet>/members/<host>-<port>`
//! attached to an etcd lease the member keeps alive, so a dead gateway disappears by
//! itself when its lease expires.
//!
//! For the gateway (async, on its tokio runtime):
//!
//! ```ignore
//! let handle = clawctl::fleet::publish(&target, MemberRecord::from_loaded(&loaded, &receipt, host, port)).await?;
//! // after a reload, or a refused fleet revision:
//! handle.update(new_record);
//! // on SIGTERM:
//! handle.shutdown().await; // revokes the lease: the record goes at once
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FleetTarget;
use crate::config::keypath::KeyPath;
use crate::config::load::Loaded;
use crate::config::origin::Layer;
use crate::gateway::receipt::{Receipt, ReceiptKey};
use crate::secrets::mask::{self, SecretValue};

/// What a secret literal of a member's local config is published as: a reference, so
/// the member's layers still validate the same way, and never the value.
pub const REDACTED: &str = "${CLAWCTL_FLEET_REDACTED}";

/// A fleet revision the member refused (it keeps serving the previous config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub revision: i64,
    /// The errors, one line each (messages only: never a value).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// `<host>-<port>`: the last segment of the member's key.
    pub id: String,
    pub host: String,
    pub port: u16,
    pub pid: u32,
    pub started_unix: u64,
    pub started_at: String,
    pub version: String,
    /// The config.toml the member loaded (its path on the member's machine).
    #[serde(default)]
    pub config_path: Option<std::path::PathBuf>,
    /// sha256 of the config.toml the member loaded.
    pub config_sha256: Option<String>,
    /// Whether config.toml on the member still has that hash (checked at each refresh).
    pub config_current: Option<bool>,
    /// The fleet layer revision the member loaded (0: none).
    pub fleet_revision: i64,
    /// Whether that layer came from the member's cache (etcd unreachable when it loaded).
    pub fleet_cached: bool,
    pub default_model: Option<String>,
    /// Per provider: the key's source and fingerprint (never the key).
    pub providers: BTreeMap<String, ReceiptKey>,
    /// The member's own layers (config.toml, .env, environment, --set) merged, without
    /// defaults and without the fleet layer, secret literals replaced by `REDACTED`:
    /// what `fleet set --dry-run` validates a change against.
    pub local: Value,
    /// The newest fleet revision the member refused, if it refused one.
    pub refused: Option<Refused>,
    pub updated_unix: u64,
}

impl MemberRecord {
    pub fn id_for(host: &str, port: u16) -> String {
        format!("{host}-{port}")
    }

    /// The record of a gateway that loaded `loaded` and wrote `receipt`.
    pub fn from_loaded(loaded: &Loaded, receipt: &Receipt, host: &str, port: u16) -> MemberRecord {
        let fleet = loaded.fleet.as_ref().and_then(|f| f.layer.as_ref());
        MemberRecord {
            id: Self::id_for(host, port),
            host: host.to_string(),
            port,
            pid: receipt.pid,
            started_unix: receipt.started_unix,
            started_at: receipt.started_at.clone(),
            version: receipt.version.clone(),
            config_path: Some(receipt.config_path.clone()),
            config_sha256: receipt.config_sha256.clone(),
            config_current: Some(true),
            fleet_revision: fleet.map(|l| l.revision).unwrap_or(0),
            fleet_cached: fleet.is_some_and(|l| l.is_cached()),
            default_model: loaded.config.primary_model().map(str::to_string),
            providers: receipt.providers.clone(),
            local: local_layers(loaded),
            refused: None,
            updated_unix: super::now_unix(),
        }
    }

    /// Whether config.toml still has the hash the member loaded (`None`: no path known).
    pub fn config_still_current(&self) -> Option<bool> {
        let path = self.config_path.as_ref()?;
        let now = std::fs::read(path)
            .ok()
            .map(|b| crate::config::load::sha256_hex(&b));
        Some(now == self.config_sha256)
    }
}

/// The local layers of `loaded` as one tree: every leaf whose origin is above the fleet
/// layer, secret literals replaced.
pub fn local_layers(loaded: &Loaded) -> Value {
    let mut root = Value::Object(Default::default());
    for (path, origin) in loaded.origins() {
        if origin.layer() <= Layer::Fleet {
            continue;
        }
        if let Some(v) = loaded.get(path) {
            super::layer::insert_at(&mut root, path, redact(path, v));
        }
    }
    root
}

fn redact(path: &KeyPath, v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let is_ref = matches!(
                mask::classify(s),
                SecretValue::CredRef(_) | SecretValue::EnvRef(_)
            );
            if mask::is_secret_leaf(path, s) && !is_ref {
                Value::String(REDACTED.into())
            } else {
                v.clone()
            }
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), redact(&path.child(k.as_str()), x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| redact(&path.index(i), x))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A published record kept alive by a task on the current tokio runtime.
pub struct MemberHandle {
    key: String,
    updates: std::sync::Arc<tokio::sync::watch::Sender<MemberRecord>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl MemberHandle {
    /// The record's etcd key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Publish a new record (after a reload, or a refused revision) under the same lease.
    pub fn update(&self, record: MemberRecord) {
        self.updates.send_replace(record);
    }

    /// A handle for other tasks to publish through (`update` only).
    pub fn updater(&self) -> std::sync::Arc<tokio::sync::watch::Sender<MemberRecord>> {
        self.updates.clone()
    }

    /// The record as last published.
    pub fn record(&self) -> MemberRecord {
        self.updates.borrow().clone()
    }

    /// Clean exit: revoke the lease, so the record goes at once.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(3), &mut self.task).await;
    }

    /// Stop keeping the lease alive without revoking it, as a killed gateway would: the
    /// record disappears when the lease expires.
    pub fn abandon(self) {
        self.task.abort();
    }
}

async fn put_record(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    key: &str,
    record: &MemberRecord,
    lease: i64,
) -> Result<(), String> {
    let mut r = record.clone();
    r.updated_unix = super::now_unix();
    if let Some(c) = r.config_still_current() {
        r.config_current = Some(c);
    }
    let text = serde_json::to_string(&r).map_err(|e| e.to_string())?;
    super::timed(
        target,
        client.put(
            key,
            text,
            Some(etcd_client::PutOptions::new().with_lease(lease)),
        ),
    )
    .await
    .map(|_| ())
}

async fn grant_and_put(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    key: &str,
    record: &MemberRecord,
) -> Result<i64, String> {
    let ttl = target.member_ttl_secs as i64;
    let lease = super::timed(target, client.lease_grant(ttl, None))
        .await?
        .id();
    put_record(client, target, key, record, lease).await?;
    Ok(lease)
}

/// One keep-alive of lease `id` on a fresh stream: whether the lease is still alive.
async fn renew_once(client: &mut etcd_client::Client, target: &FleetTarget, id: i64) -> bool {
    let Ok((mut k, mut s)) = super::timed(target, client.lease_keep_alive(id)).await else {
        return false;
    };
    if !matches!(
        tokio::time::timeout(super::REQUEST_TIMEOUT, k.keep_alive()).await,
        Ok(Ok(()))
    ) {
        return false;
    }
    matches!(
        tokio::time::timeout(super::REQUEST_TIMEOUT, s.message()).await,
        Ok(Ok(Some(resp))) if resp.ttl() > 0
    )
}

/// Publish `record` under `target`'s members with a lease of `target.member_ttl_secs`,
/// and keep it alive (every third of the TTL) from a task on the current runtime. When
/// the lease is lost (etcd unreachable for longer than the TTL) the task grants a new
/// one and publishes again as soon as etcd answers.
pub async fn publish(target: &FleetTarget, record: MemberRecord) -> Result<MemberHandle, String> {
    let mut client = super::connect(target).await?;
    let key = target.member_key(&record.id);
    let lease = grant_and_put(&mut client, target, &key, &record).await?;
    Ok(spawn_keeper(target, key, Some(client), Some(lease), record))
}

/// `publish` without waiting for etcd (a gateway starting while etcd is down): the
/// record is published as soon as an endpoint answers, retried every second.
pub fn publish_in_background(target: &FleetTarget, record: MemberRecord) -> MemberHandle {
    let key = target.member_key(&record.id);
    spawn_keeper(target, key, None, None, record)
}

fn spawn_keeper(
    target: &FleetTarget,
    key: String,
    client: Option<etcd_client::Client>,
    lease: Option<i64>,
    record: MemberRecord,
) -> MemberHandle {
    let (updates, mut rx) = tokio::sync::watch::channel(record);
    let (stop, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let target = target.clone();
    let task_key = key.clone();
    let task = tokio::spawn(async move {
        let key = task_key;
        let period = Duration::from_millis((target.member_ttl_secs * 1000 / 3).max(200));
        let mut lease = lease;
        let mut client = match client {
            Some(c) => c,
            None => loop {
                tokio::select! {
                    _ = &mut stop_rx => return,
                    c = super::connect(&target) => match c {
                        Ok(mut c) => {
                            let record = rx.borrow_and_update().clone();
                            lease = grant_and_put(&mut c, &target, &key, &record).await.ok();
                            break c;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                    },
                }
            },
        };
        let mut published_current: Option<bool> = Some(true);
        let mut keeper: Option<(etcd_client::LeaseKeeper, etcd_client::LeaseKeepAliveStream)> =
            None;
        loop {
            tokio::select! {
                _ = &mut stop_rx => {
                    if let Some(id) = lease {
                        let _ = super::timed(&target, client.lease_revoke(id)).await;
                    }
                    return;
                }
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let record = rx.borrow_and_update().clone();
                    match lease {
                        Some(id) => {
                            if put_record(&mut client, &target, &key, &record, id).await.is_err() {
                                lease = None;
                                keeper = None;
                            }
                        }
                        None => {
                            lease = grant_and_put(&mut client, &target, &key, &record).await.ok();
                        }
                    }
                }
                _ = tokio::time::sleep(period) => {
                    let Some(id) = lease else {
                        if let Ok(c) = super::connect(&target).await {
                            client = c;
                        }
                        let record = rx.borrow().clone();
                        lease = grant_and_put(&mut client, &target, &key, &record).await.ok();
                        continue;
                    };
                    if keeper.is_none() {
                        keeper = super::timed(&target, client.lease_keep_alive(id)).await.ok();
                    }
                    let alive = match keeper.as_mut() {
                        Some((k, s)) => {
                            let sent = tokio::time::timeout(super::REQUEST_TIMEOUT, k.keep_alive()).await;
                            match sent {
                                Ok(Ok(())) => matches!(
                                    tokio::time::timeout(super::REQUEST_TIMEOUT, s.message()).await,
                                    Ok(Ok(Some(resp))) if resp.ttl() > 0
                                ),
                                _ => false,
                            }
                        }
                        None => false,
                    };
                    if !alive {
                        // Expired, or this etcd node is gone: reconnect (to whichever
                        // endpoint answers) and start over with a new lease.
                        keeper = None;
                        if let Ok(c) = super::connect(&target).await {
                            client = c;
                        }
                        // A lease belongs to the cluster: renew the same one through the
                        // new connection when it is still alive.
                        if renew_once(&mut client, &target, id).await {
                            continue;
                        }
                        let record = rx.borrow().clone();
                        lease = grant_and_put(&mut client, &target, &key, &record).await.ok();
                        continue;
                    }
                    // config.toml edited on the member since it loaded: say so.
                    let record = rx.borrow().clone();
                    let current = record.config_still_current();
                    if current.is_some() && current != published_current {
                        published_current = current;
                        let _ = put_record(&mut client, &target, &key, &record, id).await;
                    }
                }
            }
        }
    });
    MemberHandle {
        key,
        updates: std::sync::Arc::new(updates),
        stop: Some(stop),
        task,
    }
}

/// Records per range request: a record is about 1 KB, and gRPC refuses responses over
/// 4 MiB, so a big fleet is read in pages (at one revision, so the pages agree).
pub const PAGE: i64 = 1000;

/// Every member's record (records that do not parse are skipped and counted).
pub async fn read_all(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
) -> Result<(Vec<MemberRecord>, usize), String> {
    read_paged(client, target, PAGE).await
}

/// `read_all` with `page` records per request.
pub async fn read_paged(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    page: i64,
) -> Result<(Vec<MemberRecord>, usize), String> {
    let prefix = target.members_prefix().into_bytes();
    let mut end = prefix.clone();
    *end.last_mut().expect("a prefix is never empty") += 1; // '/' + 1: the end of the prefix
    let mut from = prefix;
    let mut revision = 0;
    let mut out = Vec::new();
    let mut bad = 0;
    loop {
        let mut opts = etcd_client::GetOptions::new()
            .with_range(end.clone())
            .with_limit(page);
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = super::timed(target, client.get(from.clone(), Some(opts))).await?;
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        for kv in resp.kvs() {
            match serde_json::from_slice::<MemberRecord>(kv.value()) {
                Ok(r) => out.push(r),
                Err(_) => bad += 1,
            }
        }
        match resp.kvs().last() {
            Some(last) if resp.more() => {
                from = last.key().to_vec();
                from.push(0);
            }
            _ => break,
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((out, bad))
}
