//! The logic of `clawctl fleet status|get|list|set|unset|diff`: reports as data, which
//! `cli/fleet/` prints (text or `--json`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::layer::{self, FleetLayer, LayerSource};
use super::member::{self, MemberRecord};
use super::validate::{self, MemberChecks};
use super::{FleetTarget, connect, timed};
use crate::config::keypath::KeyPath;

/// What went wrong, and the exit code it deserves.
#[derive(Debug)]
pub enum FleetError {
    /// etcd could not be reached or answered with an error.
    Unreachable(String),
    /// The key or value is not acceptable (nothing was written).
    Refused(String),
    /// The change breaks members (nothing was written).
    Breaks(MemberChecks),
    /// Another operator changed the layer between our read and our write.
    Conflict { read: i64, now: i64 },
}

impl std::fmt::Display for FleetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FleetError::Unreachable(e) => write!(f, "{e}"),
            FleetError::Refused(e) => write!(f, "{e}"),
            FleetError::Breaks(c) => {
                write!(
                    f,
                    "refused: the change would break {} of {} live member(s); nothing was written",
                    c.broken.len(),
                    c.members
                )?;
                for b in &c.broken {
                    write!(f, "\n  {}: {}", b.member, b.errors.join("; "))?;
                }
                Ok(())
            }
            FleetError::Conflict { read, now } => write!(
                f,
                "the fleet layer changed while this change was prepared (read @rev {read}, now @rev {now}): nothing was written; check `clawctl fleet list` and run the command again"
            ),
        }
    }
}

/// The layer and the members, read once.
pub struct Snapshot {
    pub layer: Arc<FleetLayer>,
    pub members: Vec<MemberRecord>,
    /// Member records that did not parse.
    pub unreadable_members: usize,
}

pub async fn snapshot(target: &FleetTarget) -> Result<(etcd_client::Client, Snapshot), String> {
    let mut client = connect(target).await?;
    let layer = layer::fetch(&mut client, target, None).await?;
    let (members, bad) = member::read_all(&mut client, target).await?;
    Ok((
        client,
        Snapshot {
            layer: Arc::new(layer),
            members,
            unreadable_members: bad,
        },
    ))
}

/// A change prepared and checked, not yet written.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub key: String,
    pub etcd_key: String,
    /// `None`: unset.
    pub value: Option<Value>,
    #[serde(skip)]
    pub raw: Option<String>,
    pub old_value: Option<Value>,
    /// The layer revision the change was prepared against.
    pub read_revision: i64,
    pub checks: MemberChecks,
    /// Members whose local layers set this key (the change does not reach them).
    pub overridden_by: Vec<String>,
}

/// Type-check `value` for `path` (the schema decides, as for `config set`) and refuse
/// what the fleet layer must not hold.
pub fn typed_value(path: &KeyPath, raw: &str) -> Result<Value, FleetError> {
    layer::check_entry(path, raw).map_err(|(_, reason)| FleetError::Refused(reason))
}

/// Read, build the candidate, validate it against every live member (and the layer
/// alone, for members yet to come). `change`: `Some(raw)` to set, `None` to unset.
pub async fn plan(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    path: &KeyPath,
    change: Option<&str>,
) -> Result<Plan, FleetError> {
    let typed = match change {
        Some(raw) => Some((raw.to_string(), typed_value(path, raw)?)),
        None => None,
    };
    let current = Arc::new(
        layer::fetch(client, target, None)
            .await
            .map_err(FleetError::Unreachable)?,
    );
    let old_value = current.get(path).map(|e| e.value.clone());
    if typed.is_none() && !current.entries.iter().any(|e| e.path.starts_with(path)) {
        return Err(FleetError::Refused(format!(
            "`{path}` is not set in fleet `{}` (nothing to unset)",
            target.name
        )));
    }
    let candidate =
        Arc::new(current.with_change(path, typed.as_ref().map(|(r, v)| (r.as_str(), v))));
    let (members, _) = member::read_all(client, target)
        .await
        .map_err(FleetError::Unreachable)?;
    let mut checks = validate::check_members(&current, &candidate, &members);
    // No live member: the layer is checked alone (as a new member without local config
    // would load it), so no write goes unchecked. With members, their own layers decide
    // (a provider every member defines locally may be the fleet's default model).
    let empty = Value::Object(Default::default());
    let alone = if members.is_empty() {
        validate::errors_under(&candidate, &empty, "(the layer alone)")
    } else {
        Vec::new()
    };
    if !alone.is_empty() {
        let before: std::collections::BTreeSet<String> =
            validate::errors_under(&current, &empty, "(the layer alone)")
                .into_iter()
                .map(|(k, _)| k)
                .collect();
        let added: Vec<String> = alone
            .into_iter()
            .filter(|(k, _)| !before.contains(k))
            .map(|(_, m)| m)
            .collect();
        if !added.is_empty() {
            checks.broken.insert(
                0,
                validate::Broken {
                    member: "(the layer alone: no live member)".into(),
                    errors: added,
                },
            );
        }
    }
    let overridden_by = members
        .iter()
        .filter(|m| local_sets(&m.local, path))
        .map(|m| m.id.clone())
        .collect();
    let (raw, value) = match typed {
        Some((r, v)) => (Some(r), Some(v)),
        None => (None, None),
    };
    Ok(Plan {
        key: path.to_string(),
        etcd_key: target.config_key(path),
        value,
        raw,
        old_value,
        read_revision: current.revision,
        checks,
        overridden_by,
    })
}

/// Whether a member's local tree sets `path` (or something under it, or above it).
fn local_sets(local: &Value, path: &KeyPath) -> bool {
    let mut cur = local;
    for k in path.keys() {
        match cur.get(k) {
            Some(v) => cur = v,
            None => return !cur.is_object() && !std::ptr::eq(cur, local),
        }
    }
    true
}

/// Write a checked plan: one transaction that succeeds only if nothing under the
/// layer's prefix changed since `plan.read_revision` (no lost update between two
/// operators). Returns the new layer revision.
pub async fn commit(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    plan: &Plan,
    by: &str,
) -> Result<i64, FleetError> {
    use etcd_client::{Compare, CompareOp, DeleteOptions, Txn, TxnOp};
    if !plan.checks.broken.is_empty() {
        return Err(FleetError::Breaks(plan.checks.clone()));
    }
    let head = serde_json::json!({
        "by": by,
        "at": super::now_unix(),
        "change": if plan.value.is_some() { "set" } else { "unset" },
        "key": plan.key,
    })
    .to_string();
    let mut ops = vec![];
    match &plan.raw {
        Some(raw) => {
            // A table replaced by a value (or the reverse) leaves nothing behind.
            ops.push(TxnOp::delete(
                format!("{}/", plan.etcd_key),
                Some(DeleteOptions::new().with_prefix()),
            ));
            ops.push(TxnOp::put(plan.etcd_key.clone(), raw.clone(), None));
        }
        None => {
            ops.push(TxnOp::delete(plan.etcd_key.clone(), None));
            ops.push(TxnOp::delete(
                format!("{}/", plan.etcd_key),
                Some(DeleteOptions::new().with_prefix()),
            ));
        }
    }
    ops.push(TxnOp::put(target.config_prefix(), head, None));
    let txn = Txn::new()
        .when(vec![
            Compare::mod_revision(
                target.config_prefix(),
                CompareOp::Less,
                plan.read_revision + 1,
            )
            .with_prefix(),
        ])
        .and_then(ops);
    let resp = timed(target, client.txn(txn))
        .await
        .map_err(FleetError::Unreachable)?;
    if !resp.succeeded() {
        let now = layer::fetch(client, target, None)
            .await
            .map(|l| l.revision)
            .unwrap_or(-1);
        return Err(FleetError::Conflict {
            read: plan.read_revision,
            now,
        });
    }
    Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
}

// ---- status ----

#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub id: String,
    pub host: String,
    pub port: u16,
    pub pid: u32,
    pub version: String,
    pub fleet_revision: i64,
    pub fleet_cached: bool,
    /// Runs an older layer revision than the head.
    pub stale: bool,
    pub config_current: Option<bool>,
    pub default_model: Option<String>,
    pub refused: Option<member::Refused>,
    pub age_secs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// `key-fingerprint`, `default-model`, `stale-revision`, `refusing`, `config-changed`.
    pub kind: &'static str,
    pub message: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    pub revision: i64,
    pub keys: usize,
    pub source: LayerSource,
    pub refused: Vec<layer::Refusal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub fleet: String,
    pub endpoints: Vec<String>,
    pub reachable: bool,
    pub error: Option<String>,
    pub layer: Option<LayerInfo>,
    pub members: Vec<MemberRow>,
    pub unreadable_members: usize,
    pub drift: Vec<Drift>,
}

pub fn layer_info(l: &FleetLayer) -> LayerInfo {
    LayerInfo {
        revision: l.revision,
        keys: l.entries.len(),
        source: l.source.clone(),
        refused: l.refused.clone(),
    }
}

/// The status of the fleet from a snapshot.
pub fn status_report(target: &FleetTarget, snap: &Snapshot) -> StatusReport {
    let head = snap.layer.revision;
    let now = super::now_unix();
    let members: Vec<MemberRow> = snap
        .members
        .iter()
        .map(|m| MemberRow {
            id: m.id.clone(),
            host: m.host.clone(),
            port: m.port,
            pid: m.pid,
            version: m.version.clone(),
            fleet_revision: m.fleet_revision,
            fleet_cached: m.fleet_cached,
            stale: m.fleet_revision < head,
            config_current: m.config_current,
            default_model: m.default_model.clone(),
            refused: m.refused.clone(),
            age_secs: now.saturating_sub(m.updated_unix),
        })
        .collect();
    StatusReport {
        fleet: target.name.clone(),
        endpoints: target.endpoints.clone(),
        reachable: true,
        error: None,
        layer: Some(layer_info(&snap.layer)),
        drift: drift(&snap.members, head),
        members,
        unreadable_members: snap.unreadable_members,
    }
}

/// Differences between members that an operator should look at.
pub fn drift(members: &[MemberRecord], head: i64) -> Vec<Drift> {
    let mut out = Vec::new();
    // Same provider, different key fingerprint.
    let mut by_provider: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for m in members {
        for (id, k) in &m.providers {
            let fp = k.fingerprint.clone().unwrap_or_else(|| "no key".into());
            by_provider
                .entry(id.as_str())
                .or_default()
                .entry(fp)
                .or_default()
                .push(m.id.clone());
        }
    }
    for (provider, fps) in by_provider {
        if fps.len() > 1 {
            let parts: Vec<String> = fps
                .iter()
                .map(|(fp, ids)| format!("{fp} on {}", summarize(ids)))
                .collect();
            out.push(Drift {
                kind: "key-fingerprint",
                message: format!(
                    "provider `{provider}` uses different keys: {}",
                    parts.join("; ")
                ),
                members: minority(&fps),
            });
        }
    }
    // Different default model.
    let mut models: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in members {
        models
            .entry(m.default_model.clone().unwrap_or_else(|| "(none)".into()))
            .or_default()
            .push(m.id.clone());
    }
    if models.len() > 1 {
        let parts: Vec<String> = models
            .iter()
            .map(|(model, ids)| format!("{model} on {}", summarize(ids)))
            .collect();
        out.push(Drift {
            kind: "default-model",
            message: format!("default model differs: {}", parts.join("; ")),
            members: minority(&models),
        });
    }
    let stale: Vec<String> = members
        .iter()
        .filter(|m| m.fleet_revision < head)
        .map(|m| format!("{} (@rev {})", m.id, m.fleet_revision))
        .collect();
    if !stale.is_empty() {
        out.push(Drift {
            kind: "stale-revision",
            message: format!(
                "{} member(s) run an older layer than @rev {head}: {}",
                stale.len(),
                summarize(&stale)
            ),
            members: members
                .iter()
                .filter(|m| m.fleet_revision < head)
                .map(|m| m.id.clone())
                .collect(),
        });
    }
    let refusing: Vec<&MemberRecord> = members.iter().filter(|m| m.refused.is_some()).collect();
    for m in refusing {
        let r = m.refused.as_ref().expect("filtered");
        out.push(Drift {
            kind: "refusing",
            message: format!(
                "{} refused @rev {} and keeps serving @rev {}: {}",
                m.id,
                r.revision,
                m.fleet_revision,
                r.errors.join("; ")
            ),
            members: vec![m.id.clone()],
        });
    }
    let changed: Vec<String> = members
        .iter()
        .filter(|m| m.config_current == Some(false))
        .map(|m| m.id.clone())
        .collect();
    if !changed.is_empty() {
        out.push(Drift {
            kind: "config-changed",
            message: format!(
                "config.toml changed since it was loaded (restart or reload needed): {}",
                summarize(&changed)
            ),
            members: changed,
        });
    }
    out
}

fn summarize(ids: &[String]) -> String {
    if ids.len() <= 5 {
        ids.join(", ")
    } else {
        format!("{} and {} more", ids[..5].join(", "), ids.len() - 5)
    }
}

/// Members outside the largest group (the odd ones out).
fn minority(groups: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let biggest = groups.values().map(Vec::len).max().unwrap_or(0);
    let mut skipped = false;
    let mut out = Vec::new();
    for ids in groups.values() {
        if ids.len() == biggest && !skipped {
            skipped = true;
            continue;
        }
        out.extend(ids.iter().cloned());
    }
    out
}

// ---- diff ----

#[derive(Debug, Clone, Serialize)]
pub struct KeyChange {
    pub key: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
    /// The member's local layers set this key, so the change does not reach it.
    pub overridden_locally: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberDiff {
    pub member: String,
    pub from_revision: i64,
    pub to_revision: i64,
    /// The old layer could not be read (compacted history); `changes` then compares with nothing.
    pub note: Option<String>,
    pub changes: Vec<KeyChange>,
}

/// Per member: what its effective config gains on the head revision compared with the
/// revision it runs.
pub async fn diff(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    snap: &Snapshot,
) -> Vec<MemberDiff> {
    let head = &snap.layer;
    let mut old_layers: BTreeMap<i64, Result<Arc<FleetLayer>, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for m in &snap.members {
        if m.fleet_revision == head.revision {
            out.push(MemberDiff {
                member: m.id.clone(),
                from_revision: m.fleet_revision,
                to_revision: head.revision,
                note: None,
                changes: vec![],
            });
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = old_layers.entry(m.fleet_revision)
        {
            let old = if m.fleet_revision <= 0 {
                Ok(Arc::new(FleetLayer::from_kvs(
                    target,
                    vec![],
                    LayerSource::Live,
                )))
            } else {
                layer::fetch(client, target, Some(m.fleet_revision))
                    .await
                    .map(Arc::new)
            };
            slot.insert(old);
        }
        let (old, note) = match &old_layers[&m.fleet_revision] {
            Ok(l) => (l.clone(), None),
            Err(e) => (
                Arc::new(FleetLayer::from_kvs(target, vec![], LayerSource::Live)),
                Some(format!(
                    "layer @rev {} is no longer in etcd's history ({e})",
                    m.fleet_revision
                )),
            ),
        };
        out.push(MemberDiff {
            member: m.id.clone(),
            from_revision: m.fleet_revision,
            to_revision: head.revision,
            note,
            changes: layer_changes(&old, head, &m.local),
        });
    }
    out
}

/// Keys whose layer value differs between `old` and `new`, marked when `local` overrides them.
pub fn layer_changes(old: &FleetLayer, new: &FleetLayer, local: &Value) -> Vec<KeyChange> {
    let mut keys: BTreeMap<KeyPath, (Option<Value>, Option<Value>)> = BTreeMap::new();
    for e in &old.entries {
        keys.entry(e.path.clone()).or_default().0 = Some(e.value.clone());
    }
    for e in &new.entries {
        keys.entry(e.path.clone()).or_default().1 = Some(e.value.clone());
    }
    keys.into_iter()
        .filter(|(_, (a, b))| a != b)
        .map(|(path, (from, to))| KeyChange {
            overridden_locally: local_sets(local, &path),
            key: path.to_string(),
            from,
            to,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::receipt::ReceiptKey;

    fn member(id: &str, fp: &str, model: &str, rev: i64) -> MemberRecord {
        let mut providers = BTreeMap::new();
        providers.insert(
            "moonshot".to_string(),
            ReceiptKey {
                source: "credentials.toml profile moonshot:default".into(),
                fingerprint: Some(fp.into()),
                shape: None,
                length: Some(51),
            },
        );
        MemberRecord {
            id: id.into(),
            host: id.into(),
            port: 1,
            pid: 1,
            started_unix: 0,
            started_at: String::new(),
            version: "t".into(),
            config_path: None,
            config_sha256: None,
            config_current: Some(true),
            fleet_revision: rev,
            fleet_cached: false,
            default_model: Some(model.into()),
            providers,
            local: Value::Object(Default::default()),
            refused: None,
            updated_unix: 0,
        }
    }

    #[test]
    fn drift_names_the_odd_member_out() {
        let ms = [
            member("a-1", "sha256:aaaa", "moonshot/kimi-k2.5", 7),
            member("b-1", "sha256:aaaa", "moonshot/kimi-k2.5", 7),
            member("c-1", "sha256:cccc", "zai/glm-5", 5),
        ];
        let d = drift(&ms, 7);
        let kinds: Vec<&str> = d.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            ["key-fingerprint", "default-model", "stale-revision"]
        );
        for x in &d {
            assert_eq!(x.members, ["c-1"], "{x:?}");
        }
        assert_eq!(
            d[0].message,
            "provider `moonshot` uses different keys: sha256:aaaa on a-1, b-1; sha256:cccc on c-1"
        );
        assert!(drift(&ms[..2], 7).is_empty());
    }

    #[test]
    fn local_sets_finds_keys_and_parents() {
        let local =
            serde_json::json!({"gateway": {"port": 1}, "agents": {"defaults": {"model": "a/b"}}});
        let k = |s: &str| KeyPath::parse(s).unwrap();
        assert!(local_sets(&local, &k("gateway.port")));
        assert!(local_sets(&local, &k("gateway")));
        assert!(!local_sets(&local, &k("gateway.bind")));
        assert!(local_sets(&local, &k("agents.defaults.model.primary")));
        assert!(!local_sets(&local, &k("models.providers")));
    }
}
