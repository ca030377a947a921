//! `doctor`'s findings from the running gateway's provider failures
//! (`run/failures.jsonl`): what failed, with which key (source and fingerprint),
//! and the fix.

use std::path::Path;

use crate::config::diagnostics::Severity;
use crate::doctor::Finding;
use crate::gateway::receipt::Receipt;

use super::failures::{FailureRecord, file_path, read_file};

/// How far back a failure still counts, in seconds.
pub const RECENT_SECS: u64 = 24 * 3600;

/// One finding per provider, outcome and key among the recent failures in the
/// gateway's `run/` next to `receipt`. When a gateway runs, a failure from before
/// it loaded its current config (a fix followed by `gateway restart`), or with a
/// key it no longer uses, is stale and left out: if it still applies, the next
/// request records it again.
pub fn gateway_failures(receipt: &Path, now_unix: u64) -> Vec<Finding> {
    let records = read_file(&file_path(receipt));
    let running = Receipt::read(receipt).ok().filter(Receipt::pid_alive);
    let mut seen: Vec<(String, String, Option<String>)> = Vec::new();
    let mut out = Vec::new();
    for r in records.iter().rev() {
        if now_unix.saturating_sub(r.unix_ms / 1000) > RECENT_SECS {
            continue;
        }
        if let Some(rc) = &running {
            let current = rc
                .providers
                .get(&r.provider)
                .and_then(|k| k.fingerprint.clone());
            if current != r.key_fingerprint
                || r.unix_ms < (rc.started_unix * 1000).max(rc.loaded_unix_ms)
            {
                continue;
            }
        }
        let id = (
            r.provider.clone(),
            r.outcome.clone(),
            r.key_fingerprint.clone(),
        );
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        out.push(finding(r, &records));
    }
    out
}

fn finding(r: &FailureRecord, all: &[FailureRecord]) -> Finding {
    let count = all
        .iter()
        .filter(|o| {
            o.provider == r.provider
                && o.outcome == r.outcome
                && o.key_fingerprint == r.key_fingerprint
        })
        .count();
    let status = r
        .status
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| r.outcome.clone());
    let key = match (&r.key_source, &r.key_fingerprint) {
        (Some(s), Some(f)) => format!(" with the key from {s} ({f})"),
        _ => " with no key".into(),
    };
    let mut message = format!(
        "the running gateway got {status} from {} ({}) for {}/{}{key}",
        r.endpoint_host, r.provider, r.provider, r.model
    );
    if !r.detail.is_empty() {
        message.push_str(&format!(": {}", r.detail));
    }
    if let Some(d) = &r.diagnosis {
        message.push_str(&format!("; {d}"));
    }
    let severity = match r.outcome.as_str() {
        "auth" | "billing" | "not_found" | "dns" | "tls" | "connection_refused" | "invalid_url" => {
            Severity::Error
        }
        _ => Severity::Warning,
    };
    Finding {
        code: "gateway-upstream-failure",
        severity,
        message,
        evidence: vec![
            format!("last at {} ({count} in run/failures.jsonl)", r.time),
            format!("endpoint: {}", r.url),
        ],
        fix: r.fix.clone(),
        auto_fix: None,
    }
}
