//! Validate-before-write, for a fleet: a candidate layer is loaded under every live
//! member's published local layers exactly as that member would load it (same loader,
//! same schema and cross-field checks), and the members it would break are named.
//! Members whose local layers are identical are checked once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::{FleetLayer, MemberRecord};
use crate::config::load::{LoadOptions, load};
use crate::env::{Environment, Platform};

/// A member the candidate would break, with the errors it would add.
#[derive(Debug, Clone, Serialize)]
pub struct Broken {
    pub member: String,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberChecks {
    /// Live members checked.
    pub members: usize,
    /// Distinct local layers among them (each validated once).
    pub distinct: usize,
    pub broken: Vec<Broken>,
}

/// The errors (code, key, message) `layer` gives under `local`.
pub fn errors_under(layer: &Arc<FleetLayer>, local: &Value, who: &str) -> Vec<(String, String)> {
    let text = match local {
        Value::Object(m) if m.is_empty() => String::new(),
        _ => match toml_edit::ser::to_string(local) {
            Ok(t) => t,
            Err(e) => {
                return vec![(
                    "local".into(),
                    format!("its published local layers do not convert to TOML: {e}"),
                )];
            }
        },
    };
    let env = Environment::from_parts(
        BTreeMap::new(),
        Some(PathBuf::from("/nonexistent-fleet-member")),
        PathBuf::from("/"),
        Platform::Linux,
        format!("fleet member {who}"),
    );
    let opts = LoadOptions {
        config_text: Some(text),
        file_only: true,
        brief: true,
        fleet_layer: Some(layer.clone()),
        ..Default::default()
    };
    match load(&env, &opts) {
        Ok(l) => l
            .errors()
            .map(|d| {
                (
                    format!(
                        "{}:{}",
                        d.code,
                        d.key.as_ref().map(|k| k.to_string()).unwrap_or_default()
                    ),
                    d.message.clone(),
                )
            })
            .collect(),
        Err(d) => vec![(d.code.to_string(), d.message)],
    }
}

/// Which members `candidate` would break that `current` does not (a member already
/// broken by something else is not blamed on this change).
pub fn check_members(
    current: &Arc<FleetLayer>,
    candidate: &Arc<FleetLayer>,
    members: &[MemberRecord],
) -> MemberChecks {
    // Group members by their local layers' canonical text.
    let mut groups: BTreeMap<String, (Value, Vec<&str>)> = BTreeMap::new();
    for m in members {
        let key = m.local.to_string();
        groups
            .entry(key)
            .or_insert_with(|| (m.local.clone(), Vec::new()))
            .1
            .push(&m.id);
    }
    // Each distinct local layer is one whole load + validation: spread them over the
    // cores (two here; a thousand members are a thousand loads).
    let work: Vec<(&Value, &Vec<&str>)> = groups.values().map(|(l, ids)| (l, ids)).collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(work.len().max(1));
    let chunk = work.len().div_ceil(threads).max(1);
    let mut broken: Vec<Broken> = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (local, ids) in part {
                        let added = added_errors(current, candidate, local, ids[0]);
                        if !added.is_empty() {
                            for id in ids.iter() {
                                out.push(Broken {
                                    member: (*id).to_string(),
                                    errors: added.clone(),
                                });
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a validation thread does not panic"))
            .collect()
    });
    broken.sort_by(|a, b| a.member.cmp(&b.member));
    MemberChecks {
        members: members.len(),
        distinct: groups.len(),
        broken,
    }
}

/// The errors `candidate` gives under `local` that `current` does not.
fn added_errors(
    current: &Arc<FleetLayer>,
    candidate: &Arc<FleetLayer>,
    local: &Value,
    who: &str,
) -> Vec<String> {
    let after = errors_under(candidate, local, who);
    if after.is_empty() {
        return Vec::new();
    }
    let before: BTreeSet<String> = errors_under(current, local, who)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    after
        .into_iter()
        .filter(|(k, _)| !before.contains(k))
        .map(|(_, m)| m)
        .collect()
}
