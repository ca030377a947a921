//! Upstream failures: classified with the outcome classes of `models status --probe`
//! ([`crate::providers::probe::Outcome`]), explained with what clawctl knows offline (the
//! catalog's key shapes), and kept where people look: the client's error body, the
//! log, `/v1/status` (the last [`RECENT_MAX`]) and `run/failures.jsonl` (0600, at
//! most [`FILE_MAX_LINES`] lines), which `doctor` reads.
//!
//! A record names the key by its source and fingerprint only; every text that came
//! from the provider is scrubbed of the key before it is stored.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::providers::probe::{Outcome, classify_status};

use super::state::{GatewayState, Upstream};

/// Failures kept in memory for `/v1/status`.
pub const RECENT_MAX: usize = 50;
/// Lines kept in `run/failures.jsonl`; when the file grows past twice this, it is
/// rewritten with the newest [`FILE_MAX_LINES`].
pub const FILE_MAX_LINES: usize = 200;

/// One failed attempt at a provider. Field names are the JSON of `/v1/status`,
/// `run/failures.jsonl` and the error body's `clawctl.failures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// RFC 3339, UTC, seconds.
    pub time: String,
    /// The same time in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub provider: String,
    pub model: String,
    /// The host (and port, when not the default) the request went to.
    pub endpoint_host: String,
    /// The URL requested, without credentials or query.
    pub url: String,
    /// `auth`, `rate_limited`, `timeout`, … as in `models status --probe`.
    pub outcome: String,
    /// The HTTP status, when the provider answered.
    pub status: Option<u16>,
    /// The provider's own message (`Invalid Authentication`) or the transport error,
    /// scrubbed of secrets.
    pub detail: String,
    /// Where the key came from ("MOONSHOT_API_KEY in this shell"), if any.
    pub key_source: Option<String>,
    /// `sha256:…` of the key: enough to tell two keys apart, never the key.
    pub key_fingerprint: Option<String>,
    pub key_shape: Option<String>,
    /// What clawctl can tell offline (a key of another provider's shape, …).
    pub diagnosis: Option<String>,
    /// The command that fixes it, when known.
    pub fix: Option<String>,
    /// One sentence for humans that says all of the above.
    pub explanation: String,
}

/// The host of a URL, with its port when one is written.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// The outcome class of a transport error from reqwest: the probe's classes, found
/// from the error's kind and its chain of sources (hyper-util's connect error names
/// DNS failures; rustls errors are TLS; `ConnectionRefused` is an io kind).
pub fn classify_error(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        return Outcome::Timeout;
    }
    if e.is_builder() {
        return Outcome::InvalidUrl;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Outcome::ConnectionRefused,
                std::io::ErrorKind::TimedOut => return Outcome::Timeout,
                _ => {}
            }
        }
        text.push_str(&err.to_string().to_ascii_lowercase());
        text.push(' ');
        cur = err.source();
    }
    if text.contains("dns error") || text.contains("failed to lookup") {
        Outcome::Dns
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        Outcome::Tls
    } else if text.contains("connection refused") {
        Outcome::ConnectionRefused
    } else {
        Outcome::Network
    }
}

/// The outcome class of an HTTP status (the probe's), with 408 as a timeout.
pub fn classify(status: u16) -> Outcome {
    if status == 408 {
        Outcome::Timeout
    } else {
        classify_status(status)
    }
}

/// Whether a failure of this kind is worth trying the next model for: the provider
/// or the way to it failed, not the client's request. A 400 (and 422) is the
/// request's fault and goes back as is.
pub fn falls_back(outcome: Outcome, status: Option<u16>) -> bool {
    match outcome {
        Outcome::Ok => false,
        Outcome::OtherStatus => matches!(status, Some(408)),
        _ => true,
    }
}

/// The transport error's message chain as one line, scrubbed.
pub fn error_chain(e: &reqwest::Error, secrets: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    crate::providers::probe::scrub(&parts.join(": "), secrets)
}

/// The provider's message from an error body: `error.message` (OpenAI, Anthropic,
/// Moonshot), `message`, `error` as a string or `detail`; else the first line of a
/// short text body. Scrubbed and cut to 300 characters.
pub fn provider_message(body: &[u8], secrets: &[&str]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    let msg = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|j| {
            let pick = |v: Option<&serde_json::Value>| {
                v.and_then(|v| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let err = j.get("error");
            pick(err.and_then(|e| e.get("message")))
                .or_else(|| pick(j.get("message")))
                .or_else(|| pick(err))
                .or_else(|| pick(j.get("detail")))
        })
        .or_else(|| {
            let t = text.trim();
            (!t.is_empty() && !t.starts_with('<')).then(|| t.lines().next().unwrap_or("").into())
        })
        .unwrap_or_default();
    let msg: String = msg.chars().take(300).collect();
    crate::providers::probe::scrub(&msg, secrets)
}

/// What one attempt called: provider id, its model id, and the URL; and what an
/// earlier probe of this key on the provider's other regions found, if anything.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    pub url: &'a str,
    pub region_hint: Option<&'a RegionHint>,
}

/// The key was rejected here and accepted on another catalog region of the same
/// provider (found by [`crate::providers::probe::diagnose_region`], in the background
/// after the first auth failure of a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionHint {
    /// "this key belongs to the China platform (platform.moonshot.cn): …"
    pub message: String,
    /// `clawctl config set models.providers.moonshot.base_url https://api.moonshot.cn/v1`
    pub fix: String,
}

/// Build the record of one failed attempt, with the offline diagnosis.
pub fn record(
    state: &GatewayState,
    up: Option<&Upstream>,
    target: Target<'_>,
    outcome: Outcome,
    status: Option<u16>,
    detail: String,
) -> FailureRecord {
    let Target {
        provider,
        model,
        url,
        region_hint,
    } = target;
    let now = std::time::SystemTime::now();
    let unix_ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let key_info = up.and_then(|u| u.key_info.clone());
    let (diagnosis, fix) = match region_hint {
        Some(h) if outcome == Outcome::Auth => (
            Some(h.message.clone()),
            Some(format!("{} && clawctl gateway restart", h.fix)),
        ),
        _ => diagnose(state, up, provider, outcome),
    };
    let host = host_of(url);
    let what = match status {
        Some(s) if detail.is_empty() => format!("HTTP {s}"),
        Some(s) => format!("HTTP {s}: {detail}"),
        None if detail.is_empty() => outcome.as_str().to_string(),
        None => format!("{} ({detail})", outcome.as_str()),
    };
    let key_text = match &key_info {
        Some(k) => format!(
            " with the key {}({}) from {}",
            k.shape
                .as_deref()
                .map(|s| format!("{s}… "))
                .unwrap_or_default(),
            k.fingerprint.as_deref().unwrap_or("no fingerprint"),
            k.source,
        ),
        None => " with no key".to_string(),
    };
    let mut explanation = format!(
        "{provider} ({host}) answered {what} for model {model}{key_text}: {}",
        outcome.explain()
    );
    if !outcome.reached_provider() {
        explanation = format!(
            "calling {provider} at {host} for model {model} failed: {what}: {}",
            outcome.explain()
        );
    }
    if let Some(d) = &diagnosis {
        explanation.push_str(". ");
        let mut c = d.chars();
        if let Some(first) = c.next() {
            explanation.extend(first.to_uppercase());
            explanation.push_str(c.as_str());
        }
    }
    if let Some(f) = &fix {
        explanation.push_str(". Fix: ");
        explanation.push_str(f);
    }
    FailureRecord {
        time: humantime::format_rfc3339_seconds(now).to_string(),
        unix_ms,
        provider: provider.to_string(),
        model: model.to_string(),
        endpoint_host: host,
        url: url.split('?').next().unwrap_or("").to_string(),
        outcome: outcome.as_str().to_string(),
        status,
        detail,
        key_source: key_info.as_ref().map(|k| k.source.clone()),
        key_fingerprint: key_info.as_ref().and_then(|k| k.fingerprint.clone()),
        key_shape: key_info.as_ref().and_then(|k| k.shape.clone()),
        diagnosis,
        fix,
        explanation,
    }
}

/// What clawctl can say without the network: for an auth failure, a key with
/// another provider's shape (a Kimi Coding key on Moonshot) and the onboarding
/// command that configures the right provider; a missing key; a provider the
/// gateway has no endpoint for.
fn diagnose(
    state: &GatewayState,
    up: Option<&Upstream>,
    provider: &str,
    outcome: Outcome,
) -> (Option<String>, Option<String>) {
    let Some(up) = up else {
        return (
            Some(format!(
                "the gateway has no endpoint for provider {provider}: it is not configured and not in the catalog"
            )),
            Some(format!(
                "clawctl config set models.providers.{provider}.base_url <URL>"
            )),
        );
    };
    let onboard = || {
        state
            .catalog
            .get(provider)
            .and_then(|p| {
                p.region_for_url(&up.base_url)
                    .or_else(|| p.regions.first())
                    .map(|r| format!("clawctl onboard --auth-choice {}", r.auth_choice))
            })
            .unwrap_or_else(|| {
                format!("clawctl config set models.providers.{provider}.api_key --stdin")
            })
    };
    if let Some(problem) = &up.key_problem {
        return (
            Some(format!("the gateway has no usable key: {problem}")),
            Some(format!("{} && clawctl gateway restart", onboard())),
        );
    }
    if outcome != Outcome::Auth {
        return (None, None);
    }
    let shape = up.key.as_ref().and_then(|k| {
        use secrecy::ExposeSecret;
        crate::providers::probe::shape_finding(&state.catalog, provider, k.expose_secret())
    });
    match shape {
        Some(f) => (
            Some(f.message),
            Some(
                f.fix
                    .map(|fix| format!("{fix} && clawctl gateway restart"))
                    .unwrap_or_else(|| format!("{} && clawctl gateway restart", onboard())),
            ),
        ),
        None => (
            Some(format!(
                "check that this key belongs to {provider} at {} (`clawctl models status --probe` tries it on the provider's other regions)",
                host_of(&up.base_url)
            )),
            Some(format!("{} && clawctl gateway restart", onboard())),
        ),
    }
}

/// (provider id, base URL, key fingerprint) → what the region probe found.
type RegionHints = HashMap<(String, String, String), Option<RegionHint>>;

/// The recent failures in memory and the file that outlives the process.
pub struct FailureLog {
    recent: Mutex<VecDeque<FailureRecord>>,
    path: PathBuf,
    /// Serializes appends and the occasional trim of the file.
    file: Mutex<()>,
    /// Per (provider, base URL, key fingerprint): the region probe's answer — None
    /// while it runs or when no other region accepted the key. One probe per key
    /// and endpoint for the life of the process.
    regions: std::sync::Arc<Mutex<RegionHints>>,
}

impl FailureLog {
    /// `path` is `run/failures.jsonl` under the gateway's home; the last records of
    /// an earlier run are loaded so `/v1/status` shows them after a restart too.
    pub fn new(path: PathBuf) -> FailureLog {
        let mut recent: VecDeque<FailureRecord> = read_file(&path).into_iter().collect();
        while recent.len() > RECENT_MAX {
            recent.pop_front();
        }
        FailureLog {
            recent: Mutex::new(recent),
            path,
            file: Mutex::new(()),
            regions: std::sync::Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// What the region probe found for this key on this provider endpoint, if it
    /// ran and found something.
    pub fn region_hint(&self, up: &Upstream) -> Option<RegionHint> {
        let key = region_key(up)?;
        self.regions.lock().ok()?.get(&key).cloned().flatten()
    }

    /// After an auth failure: unless done already for this key and endpoint, try
    /// the key on the provider's other catalog regions on a blocking thread (as
    /// `models status --probe` does; never for endpoints outside the catalog, so a
    /// private mirror's key is not sent elsewhere). Later failures carry the result.
    pub fn probe_regions(&self, state: &GatewayState, up: &Upstream) {
        use secrecy::ExposeSecret;
        let Some(key) = region_key(up) else {
            return;
        };
        let Some(provider) = state.catalog.get(&up.id).cloned() else {
            return;
        };
        if provider.region_for_url(&up.base_url).is_none() || provider.regions.len() < 2 {
            return;
        }
        let Some(secret) = up.key.as_ref().map(|k| k.expose_secret().to_string()) else {
            return;
        };
        match self.regions.lock() {
            Ok(mut m) if !m.contains_key(&key) => {
                m.insert(key.clone(), None);
            }
            _ => return,
        }
        let (id, base_url, api, headers) = (
            up.id.clone(),
            up.base_url.clone(),
            up.api,
            up.headers.clone(),
        );
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let regions = std::sync::Arc::clone(&self.regions);
        handle.spawn_blocking(move || {
            let target = crate::providers::probe::ProbeTarget {
                provider_id: &id,
                base_url: &base_url,
                api,
                key: Some(&secret),
                headers: &headers,
                timeout: crate::providers::probe::DEFAULT_TIMEOUT,
            };
            if let Some(f) = crate::providers::probe::diagnose_region(&provider, &target) {
                super::log::line(
                    "info",
                    "region-diagnosis",
                    &[("provider", &id), ("msg", &f.message), ("fix", &f.fix)],
                );
                if let Ok(mut m) = regions.lock() {
                    m.insert(
                        key,
                        Some(RegionHint {
                            message: f.message,
                            fix: f.fix,
                        }),
                    );
                }
            }
        });
    }

    pub fn recent(&self) -> Vec<FailureRecord> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Keep a record: in memory now, in the file on a blocking thread (the file is
    /// small, but a slow disk must not stall a request).
    pub fn push(self: &std::sync::Arc<Self>, rec: FailureRecord) {
        if let Ok(mut r) = self.recent.lock() {
            r.push_back(rec.clone());
            while r.len() > RECENT_MAX {
                r.pop_front();
            }
        }
        let me = std::sync::Arc::clone(self);
        let write = move || {
            let _guard = me.file.lock();
            if let Err(e) = append(&me.path, &rec) {
                super::log::line(
                    "error",
                    "failure-file",
                    &[("error", e.to_string().as_str())],
                );
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(write);
            }
            Err(_) => write(),
        }
    }
}

fn append(path: &Path, rec: &FailureRecord) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let line = serde_json::to_string(rec).map_err(std::io::Error::other)? + "\n";
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(line.as_bytes())?;
    // A file written by an older umask or by hand: failures are not secrets, but
    // they name key sources; keep them to the owner.
    use std::os::unix::fs::PermissionsExt;
    let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
    let len = f.metadata()?.len();
    // Trim when the file is clearly past its bound (records are ~1 KiB each).
    if len > (FILE_MAX_LINES as u64) * 2 * 1024 {
        let text = crate::read::string(path)?;
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > FILE_MAX_LINES {
            let keep = lines[lines.len() - FILE_MAX_LINES..].join("\n") + "\n";
            crate::write::safe_write::write_generated(path, &keep, 0o600)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
    Ok(())
}

fn region_key(up: &Upstream) -> Option<(String, String, String)> {
    let fp = up.key_info.as_ref()?.fingerprint.clone()?;
    Some((up.id.clone(), up.base_url.clone(), fp))
}

/// The records in a failures file, oldest first; unreadable lines are skipped.
pub fn read_file(path: &Path) -> Vec<FailureRecord> {
    let Ok(text) = crate::config::load::read_text_file(path, "gateway failures") else {
        return Vec::new();
    };
    let text = text.unwrap_or_default();
    let mut out: Vec<FailureRecord> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if out.len() > FILE_MAX_LINES {
        out.drain(..out.len() - FILE_MAX_LINES);
    }
    out
}

/// `run/failures.jsonl` beside the receipt.
pub fn file_path(receipt: &Path) -> PathBuf {
    receipt.with_file_name("failures.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_drops_userinfo_and_path() {
        assert_eq!(
            host_of("https://u:p@api.moonshot.ai/v1/x"),
            "api.moonshot.ai"
        );
        assert_eq!(host_of("http://127.0.0.1:9/v1"), "127.0.0.1:9");
    }

    #[test]
    fn a_400_goes_back_as_is_the_rest_falls_back() {
        assert!(!falls_back(classify(400), Some(400)));
        assert!(!falls_back(classify(422), Some(422)));
        for s in [401, 403, 404, 408, 429, 500, 502, 503] {
            assert!(falls_back(classify(s), Some(s)), "{s}");
        }
        assert!(falls_back(Outcome::Timeout, None));
        assert!(falls_back(Outcome::ConnectionRefused, None));
    }

    #[test]
    fn provider_messages_are_scrubbed() {
        let key = "sk-kimi-0123456789abcdefghijklmnop";
        let body = format!(r#"{{"error":{{"message":"bad key {key}"}}}}"#);
        let m = provider_message(body.as_bytes(), &[key]);
        assert!(!m.contains(key), "{m}");
        assert!(m.starts_with("bad key"), "{m}");
    }
}
