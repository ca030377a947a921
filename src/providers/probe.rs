//! `models status --probe`: one cheap authenticated request per provider, and the
//! findings that say *why* a key is rejected (wrong region, wrong provider).
//!
//! The request is the cheapest one each API style has that needs the key — listing
//! models — so a probe costs no tokens:
//!
//! | API style                               | request                  | key header                  |
//! |-----------------------------------------|--------------------------|-----------------------------|
//! | `openai-completions`, `openai-responses`| `GET {base}/models`      | `Authorization: Bearer KEY` |
//! | `anthropic-messages`                    | `GET {base}/v1/models`   | `x-api-key: KEY` (+ `anthropic-version`) |
//! | `ollama`                                | `GET {base}/api/tags`    | none (Bearer if a key is given) |
//!
//! The URL is built exactly the way the gateway builds its own (base URL without its
//! trailing slash, then the path), so a base URL that would fail for the gateway
//! fails here too instead of being silently "fixed".
//!
//! # Where keys go
//!
//! A key is sent to exactly one place per request: the base URL in the
//! [`ProbeTarget`], which the caller takes from the user's config or the catalog.
//! [`diagnose_region`] additionally sends it to the *other catalog regions of the same
//! provider*, and only when the failing URL is itself one of that provider's catalog
//! regions — a key configured for a private mirror is never offered to the public
//! endpoints. Redirects are not followed: ureq 2 strips only `Authorization` on
//! cross-host redirects and would carry `x-api-key` (and config headers) anywhere,
//! so a 3xx is reported as [`Outcome::OtherStatus`] with its target. No proxy is read
//! from the environment (ureq is built without `proxy-from-env`).
//!
//! # Where keys never go
//!
//! Not into a [`ProbeResult`], a finding, an error string or any `Debug` output:
//! provider messages and transport errors pass through [`scrub`], which removes the
//! key, secret-looking header values, partial echoes (`sk-abc***wxyz`) and anything
//! else that looks like a credential.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::model::ApiStyle;
use crate::providers::catalog::{Catalog, Provider, Region};
use crate::secrets::mask;

/// How long one probe may take, connection and answer included. Long enough for a
/// cross-continent TLS handshake, short enough that `models status --probe` over a
/// handful of providers stays interactive.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// The `anthropic-version` sent by Anthropic-style probes (unless the config's
/// headers set one): the API refuses requests without it.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Provider messages are cut to this many characters: enough for "Invalid
/// Authentication" or a billing notice, not enough to flood a status table.
pub const DETAIL_MAX_CHARS: usize = 200;

/// A model list is small; anything bigger is not worth reading for a message.
const BODY_MAX_BYTES: u64 = 64 * 1024;

/// How long past its timeout a probe may wait for a host name lookup that ureq's
/// deadline does not cover, before reporting a timeout anyway.
const RESOLVER_GRACE: Duration = Duration::from_secs(1);

/// What replaces a secret in any text we show.
const REDACTED: &str = "[redacted]";

/// No extra headers, for targets built without a config block.
pub fn no_headers() -> &'static BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    &EMPTY
}

/// One endpoint to probe with one key.
///
/// `base_url` must come from the user's config or the catalog: it is where the key
/// is sent. `headers` are the config's extra headers, already resolved (env
/// references expanded by the caller); they are sent as the gateway would send them.
/// Pass `key: None` for a keyless endpoint (a local Ollama).
#[derive(Clone, Copy)]
pub struct ProbeTarget<'a> {
    pub provider_id: &'a str,
    pub base_url: &'a str,
    pub api: ApiStyle,
    pub key: Option<&'a str>,
    pub headers: &'a BTreeMap<String, String>,
    pub timeout: Duration,
}

impl<'a> ProbeTarget<'a> {
    /// A target with no extra headers and the default timeout.
    pub fn new(
        provider_id: &'a str,
        base_url: &'a str,
        api: ApiStyle,
        key: Option<&'a str>,
    ) -> ProbeTarget<'a> {
        ProbeTarget {
            provider_id,
            base_url,
            api,
            key,
            headers: no_headers(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Every value that must not appear in anything shown: the key and the header
    /// values that are (or look like) secrets.
    fn secrets(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = self.key.into_iter().collect();
        out.extend(
            self.headers
                .iter()
                .filter(|(k, v)| mask::is_sensitive_name(k) || mask::looks_secret(v))
                .map(|(_, v)| v.as_str()),
        );
        out.retain(|s| !s.is_empty());
        out
    }
}

/// Hand-written so that `{:?}` of a target shows the key only as its description
/// (shape, fingerprint, length) and sensitive headers the same way.
impl fmt::Debug for ProbeTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: BTreeMap<&str, String> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if mask::is_sensitive_name(k) || mask::looks_secret(v) {
                    mask::describe(v)
                } else {
                    v.clone()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("ProbeTarget")
            .field("provider_id", &self.provider_id)
            .field(
                "base_url",
                &scrub(&without_userinfo(self.base_url), &self.secrets()),
            )
            .field("api", &self.api)
            .field("key", &self.key.map(mask::describe))
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How a probe ended. `as_str` names are the JSON values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx with a JSON body: the key works on this endpoint.
    Ok,
    /// 401/403: the endpoint rejected the key.
    Auth,
    /// 402: the key is known but the account cannot pay.
    Billing,
    /// 429: the key is known (and probably fine) but throttled or out of quota.
    RateLimited,
    /// 404: nothing at the probed path — usually a wrong base URL or API style.
    NotFound,
    /// 5xx: the provider failed.
    ServerError,
    /// Any other status, a redirect (not followed), or a 2xx that is not JSON.
    OtherStatus,
    /// No complete answer within the timeout.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, interception proxy, not a TLS port).
    Tls,
    /// Nothing listens on that host and port.
    ConnectionRefused,
    /// The base URL is empty or not an http(s) URL.
    InvalidUrl,
    /// Any other transport failure (reset, not HTTP, …).
    Network,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Auth => "auth",
            Outcome::Billing => "billing",
            Outcome::RateLimited => "rate_limited",
            Outcome::NotFound => "not_found",
            Outcome::ServerError => "server_error",
            Outcome::OtherStatus => "other_status",
            Outcome::Timeout => "timeout",
            Outcome::Dns => "dns",
            Outcome::Tls => "tls",
            Outcome::ConnectionRefused => "connection_refused",
            Outcome::InvalidUrl => "invalid_url",
            Outcome::Network => "network",
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// Whether the request reached the provider and got an HTTP answer (as opposed
    /// to a transport failure, where the key says nothing).
    pub fn reached_provider(&self) -> bool {
        matches!(
            self,
            Outcome::Ok
                | Outcome::Auth
                | Outcome::Billing
                | Outcome::RateLimited
                | Outcome::NotFound
                | Outcome::ServerError
                | Outcome::OtherStatus
        )
    }

    /// One line for humans: what this outcome usually means.
    pub fn explain(&self) -> &'static str {
        match self {
            Outcome::Ok => "the key works on this endpoint",
            Outcome::Auth => {
                "the provider rejected the key (wrong key, a key for another provider, or for another region)"
            }
            Outcome::Billing => "the key is valid but the account has no credit",
            Outcome::RateLimited => "the key was accepted but is rate limited or out of quota",
            Outcome::NotFound => "nothing at this path: check the base URL and the API style",
            Outcome::ServerError => "the provider failed; try again later",
            Outcome::OtherStatus => "unexpected answer from the endpoint",
            Outcome::Timeout => "no answer in time (network, firewall or proxy)",
            Outcome::Dns => "the host name does not resolve",
            Outcome::Tls => {
                "the TLS handshake failed (certificate, intercepting proxy, or not an https port)"
            }
            Outcome::ConnectionRefused => "nothing listens at this address",
            Outcome::InvalidUrl => "the base URL is not a valid http(s) URL",
            Outcome::Network => "the connection failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one probe found. Nothing in it contains the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    pub outcome: Outcome,
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// The URL requested (credentials in it, if any, removed).
    pub url: String,
    pub elapsed_ms: u64,
    /// The provider's own short message (`Invalid Authentication`), or the transport
    /// error, scrubbed of secrets and cut to [`DETAIL_MAX_CHARS`].
    pub detail: String,
}

/// The URL a probe requests for a base URL and API style.
pub fn endpoint_url(base_url: &str, api: ApiStyle) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let path = match api {
        ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => "/models",
        ApiStyle::AnthropicMessages => "/v1/models",
        ApiStyle::Ollama => "/api/tags",
    };
    format!("{base}{path}")
}

/// Probe one endpoint: one request, no retries, bounded by `t.timeout` (plus at
/// most a second when the host name lookup hangs).
pub fn probe(t: &ProbeTarget) -> ProbeResult {
    probe_with(t, |agent| agent)
}

/// [`probe`] with a hook on the HTTP agent, so unit tests can slow the resolver down.
fn probe_with(
    t: &ProbeTarget,
    configure: impl FnOnce(ureq::AgentBuilder) -> ureq::AgentBuilder,
) -> ProbeResult {
    let start = Instant::now();
    let secrets = t.secrets();
    // An empty key is no key: "Bearer " would only muddy the answer.
    let key = t.key.filter(|k| !k.is_empty());
    let url = endpoint_url(t.base_url, t.api);
    let done = |outcome: Outcome, status: Option<u16>, detail: &str| ProbeResult {
        outcome,
        status,
        url: scrub(&without_userinfo(&url), &secrets),
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        detail: short(&scrub(detail, &secrets)),
    };

    let base = t.base_url.trim();
    if base.is_empty() {
        return done(Outcome::InvalidUrl, None, "no base URL is configured");
    }
    let lower = base.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return done(
            Outcome::InvalidUrl,
            None,
            "the base URL must start with https:// (or http:// for a local server)",
        );
    }
    // API keys are printable ASCII. A pasted line break cannot be a header value at
    // all, and an invisible or typographic character only earns a bare 401: say
    // what is wrong instead of sending it.
    if key.is_some_and(|k| !k.chars().all(|c| c.is_ascii_graphic() || c == ' ')) {
        return done(
            Outcome::Auth,
            None,
            "the key contains a line break, an invisible or a non-ASCII character (a copy-paste accident?); it was not sent",
        );
    }

    let agent = configure(
        ureq::AgentBuilder::new()
            .timeout(t.timeout)
            // Never follow: see the module docs (x-api-key would survive a cross-host hop).
            .redirects(0)
            .user_agent(concat!("clawctl/", env!("CARGO_PKG_VERSION"))),
    )
    .build();
    let mut req = agent.get(&url);
    for (name, value) in t.headers {
        req = req.set(name, value);
    }
    // The key header is set after the config headers so the key being probed is the
    // one sent, as the gateway does.
    match (t.api, key) {
        (ApiStyle::AnthropicMessages, key) => {
            if let Some(key) = key {
                req = req.set("x-api-key", key);
            }
            if !t
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("anthropic-version"))
            {
                req = req.set("anthropic-version", ANTHROPIC_VERSION);
            }
        }
        (_, Some(key)) => req = req.set("Authorization", &format!("Bearer {key}")),
        (_, None) => {}
    }

    // ureq's deadline covers connecting, TLS and reading, but not the host name
    // lookup (getaddrinfo cannot be interrupted), and a stuck resolver is common
    // behind VPNs. The request runs on its own thread so the caller waits at most
    // the timeout plus a little; a thread left behind ends when its lookup does.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(exchange(req));
    });
    let answer = match rx.recv_timeout(t.timeout + RESOLVER_GRACE) {
        Ok(answer) => answer,
        Err(_) => {
            let detail = format!(
                "no answer within {:?} (the host name lookup did not finish)",
                t.timeout
            );
            return done(Outcome::Timeout, None, &detail);
        }
    };
    let (status, location, body) = match answer {
        Exchange::Answered {
            status,
            location,
            body,
        } => (status, location, body),
        Exchange::Failed(outcome, detail) => {
            let detail = if outcome == Outcome::Timeout {
                format!("no answer within {:?} ({detail})", t.timeout)
            } else {
                detail
            };
            return done(outcome, None, &detail);
        }
    };

    let mut outcome = classify_status(status);
    let detail = if (300..400).contains(&status) {
        format!(
            "redirected to {} — not followed: the key is only sent to the configured base URL",
            location.as_deref().unwrap_or("(no location)")
        )
    } else if outcome.is_ok() {
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(json) => match model_count(&json) {
                Some(1) => "1 model listed".to_string(),
                Some(n) => format!("{n} models listed"),
                None => "ok".to_string(),
            },
            Err(_) => {
                // A web page or captive portal answering 200 is not a working API.
                outcome = Outcome::OtherStatus;
                "the endpoint answered but not with JSON: is the base URL the API endpoint?"
                    .to_string()
            }
        }
    } else {
        error_message(&body).unwrap_or_else(|| status_text(status).to_string())
    };
    done(outcome, Some(status), &detail)
}

/// What came back from the wire, before classification.
enum Exchange {
    Answered {
        status: u16,
        location: Option<String>,
        body: String,
    },
    Failed(Outcome, String),
}

/// Send the request and read (the start of) the answer.
fn exchange(req: ureq::Request) -> Exchange {
    let response = match req.call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(tr)) => {
            let outcome = classify_transport(tr.kind(), tr.message(), io_error_kind(&tr));
            return Exchange::Failed(outcome, transport_detail(&tr));
        }
    };
    let status = response.status();
    let location = response.header("location").map(str::to_owned);
    let mut body = Vec::new();
    // A body that cannot be read in time still leaves the status, which is the
    // answer; the message is a bonus.
    let _ = response
        .into_reader()
        .take(BODY_MAX_BYTES)
        .read_to_end(&mut body);
    Exchange::Answered {
        status,
        location,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// The outcome an HTTP status means.
pub fn classify_status(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Ok,
        401 | 403 => Outcome::Auth,
        402 => Outcome::Billing,
        404 => Outcome::NotFound,
        429 => Outcome::RateLimited,
        500..=599 => Outcome::ServerError,
        _ => Outcome::OtherStatus,
    }
}

/// The outcome of a transport failure, from what ureq tells about it: its kind, its
/// message (TLS failures are `ConnectionFailed` with a "tls …" message) and the
/// underlying `io::Error` kind (refused, timed out; a read timeout is `WouldBlock`
/// on Unix).
fn classify_transport(
    kind: ureq::ErrorKind,
    message: Option<&str>,
    io_kind: Option<std::io::ErrorKind>,
) -> Outcome {
    use std::io::ErrorKind as Io;
    use ureq::ErrorKind as K;
    let timed_out = matches!(io_kind, Some(Io::TimedOut | Io::WouldBlock));
    let tls = message.is_some_and(|m| m.to_ascii_lowercase().contains("tls"));
    match kind {
        K::Dns => Outcome::Dns,
        K::InvalidUrl | K::UnknownScheme | K::InsecureRequestHttpsOnly => Outcome::InvalidUrl,
        _ if timed_out => Outcome::Timeout,
        K::ConnectionFailed if io_kind == Some(Io::ConnectionRefused) => Outcome::ConnectionRefused,
        K::ConnectionFailed | K::Io if tls => Outcome::Tls,
        _ => Outcome::Network,
    }
}

fn io_error_kind(tr: &ureq::Transport) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(tr);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = e.source();
    }
    None
}

/// "Connection Failed: Connect error: Connection refused (os error 111)" — ureq's
/// own Display also starts with the URL, which the result already carries.
fn transport_detail(tr: &ureq::Transport) -> String {
    let mut text = tr.kind().to_string();
    let mut add = |s: String| {
        // ureq wraps its own errors in io errors and back, so a link of the chain
        // often repeats (or contains) what is already there.
        if s.contains(&text) {
            text = s;
        } else if !text.contains(&s) {
            text = format!("{text}: {s}");
        }
    };
    if let Some(m) = tr.message() {
        add(m.to_string());
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(tr);
    while let Some(e) = cur {
        add(e.to_string());
        cur = e.source();
    }
    text
}

/// How many models a model-list answer names (OpenAI/Anthropic `data`, Ollama
/// `models`).
fn model_count(json: &serde_json::Value) -> Option<usize> {
    ["data", "models"]
        .iter()
        .find_map(|k| json.get(k)?.as_array().map(Vec::len))
}

/// The provider's message from an error body: `error.message` (OpenAI, Anthropic,
/// Moonshot), `message`, `error` as a string, or `detail`; else the first line of
/// a short plain-text body. HTML pages say nothing useful.
fn error_message(body: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let pick = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let error = json.get("error");
        return pick(error.and_then(|e| e.get("message")))
            .or_else(|| pick(json.get("message")))
            .or_else(|| pick(error))
            .or_else(|| pick(json.get("detail")))
            .or_else(|| pick(error.and_then(|e| e.get("type"))));
    }
    let text = body.trim();
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    text.lines().next().map(str::to_owned)
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "no message",
    }
}

/// One line, at most [`DETAIL_MAX_CHARS`] characters.
fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= DETAIL_MAX_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(DETAIL_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// `https://user:pass@host/…` → `https://host/…`: credentials in a base URL are as
/// secret as the key.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Remove secrets from text meant to be shown: every occurrence of each given secret,
/// then every word that looks like a credential (`mask::looks_secret`), is masked
/// (`sk-ab***wxyz`), or is an 8+ character piece of a given secret (providers echo
/// parts of the key they reject).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    // Longest first, so a secret containing another is replaced whole.
    let mut sorted: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in &sorted {
        out = out.replace(s, REDACTED);
    }
    // Placeholders already inserted are kept as they are; the words between them
    // are checked one by one.
    out.split(REDACTED)
        .map(|segment| scrub_words(segment, &sorted))
        .collect::<Vec<_>>()
        .join(REDACTED)
}

fn scrub_words<'t>(text: &'t str, secrets: &[&str]) -> String {
    let is_word_char = |c: char| c.is_alphanumeric() || "-_.*~+=".contains(c);
    let check = |w: &'t str| -> &'t str {
        let masked = w.contains("**") && w.chars().filter(|c| *c != '*').count() >= 4;
        let piece_of_secret = w.len() >= 8 && secrets.iter().any(|s| s.contains(w));
        if mask::looks_secret(w) || masked || piece_of_secret {
            REDACTED
        } else {
            w
        }
    };
    let mut result = String::with_capacity(text.len());
    let mut word_start = None;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), word_start) {
            (true, None) => word_start = Some(i),
            (true, Some(_)) => {}
            (false, start) => {
                if let Some(s) = start {
                    result.push_str(check(&text[s..i]));
                    word_start = None;
                }
                result.push(c);
            }
        }
    }
    if let Some(s) = word_start {
        result.push_str(check(&text[s..]));
    }
    result
}

/// A catalog region, as reported in findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionRef {
    pub id: String,
    pub name: String,
    pub base_url: String,
    pub auth_choice: String,
}

impl From<&Region> for RegionRef {
    fn from(r: &Region) -> RegionRef {
        RegionRef {
            id: r.id.clone(),
            name: r.name.clone(),
            base_url: r.base_url.clone(),
            auth_choice: r.auth_choice.clone(),
        }
    }
}

/// The key was rejected on one region and accepted on another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionFinding {
    pub provider_id: String,
    /// The region whose base URL rejected the key.
    pub rejected_by: RegionRef,
    /// The region that accepted it.
    pub works_on: RegionRef,
    /// The probe that succeeded there.
    pub result: ProbeResult,
    /// "this key belongs to the China platform (platform.moonshot.cn): …"
    pub message: String,
    /// `clawctl config set models.providers.moonshot.base_url https://api.moonshot.cn/v1`
    pub fix: String,
    /// The same through onboarding: `clawctl onboard --auth-choice moonshot-api-key-cn`.
    pub onboard_fix: String,
}

/// After an [`Outcome::Auth`] on `failed`, try the same key on the provider's other
/// catalog regions and report the first (in catalog order) that accepts it.
///
/// Nothing is tried — `None` — when the failing base URL is not one of this
/// provider's catalog regions (a private mirror's key must not be offered to the
/// public endpoints), when there is no key, or when no other region has a URL. The
/// other regions are probed in parallel, so the whole diagnosis takes at most one
/// `failed.timeout`.
pub fn diagnose_region(provider: &Provider, failed: &ProbeTarget) -> Option<RegionFinding> {
    failed.key.filter(|k| !k.is_empty())?;
    let rejected_by = provider.region_for_url(failed.base_url)?;
    let same = |a: &str, b: &str| {
        a.trim()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(b.trim().trim_end_matches('/'))
    };
    let others: Vec<&Region> = provider
        .regions
        .iter()
        .filter(|r| !r.base_url.trim().is_empty() && !same(&r.base_url, failed.base_url))
        .collect();
    if others.is_empty() {
        return None;
    }
    let results: Vec<Option<ProbeResult>> = std::thread::scope(|s| {
        let handles: Vec<_> = others
            .iter()
            .map(|r| {
                let target = ProbeTarget {
                    base_url: &r.base_url,
                    ..*failed
                };
                s.spawn(move || probe(&target))
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    let (region, result) = others
        .into_iter()
        .zip(results)
        .find_map(|(r, res)| res.filter(|p| p.outcome.is_ok()).map(|p| (r, p)))?;
    let message = format!(
        "this key belongs to the {}: {} accepts it, {} ({}) rejects it",
        region.name,
        region.base_url.trim_end_matches('/'),
        rejected_by.base_url.trim_end_matches('/'),
        rejected_by.name
    );
    let fix = crate::fix::FixCommand::config_set(
        &crate::config::keypath::KeyPath::provider(failed.provider_id).child("base_url"),
        &region.base_url,
    )
    .to_string();
    let onboard_fix = crate::fix::FixCommand::onboard(&region.auth_choice).to_string();
    Some(RegionFinding {
        provider_id: failed.provider_id.to_string(),
        rejected_by: rejected_by.into(),
        works_on: region.into(),
        result,
        message,
        fix,
        onboard_fix,
    })
}

/// The key's shape says it belongs to another provider (or to none of this
/// provider's shapes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShapeFinding {
    /// The provider the key is configured for (canonical id).
    pub provider_id: String,
    /// The recognised prefix (`sk-kimi-`), when another provider's shape matched.
    pub key_prefix: Option<String>,
    /// Providers whose key shape this key has, best match first (may be empty).
    pub belongs_to: Vec<String>,
    pub message: String,
    /// `clawctl onboard --auth-choice kimi-code-api-key`, when one provider matches.
    pub fix: Option<String>,
}

/// Check a key's shape against the provider it is configured for, with no network.
///
/// A finding when the key has the shape of exactly one other provider (`sk-kimi-`
/// for `moonshot`), or when this provider has fixed shapes and the key has none of
/// them. Nothing for unknown ids, keyless and custom providers, or when the shape is
/// ambiguous and this provider accepts it (`sk-` for `zai`).
pub fn shape_finding(catalog: &Catalog, provider_id: &str, key: &str) -> Option<ShapeFinding> {
    let provider = catalog.get(provider_id)?;
    if !provider.needs_key || provider.custom || key.is_empty() {
        return None;
    }
    let best = catalog.providers_for_key(key);
    if best.iter().any(|p| p.id == provider.id) {
        return None;
    }
    let accepts = provider.accepts_key_shape(key);
    if accepts && best.len() != 1 {
        return None;
    }
    let belongs_to: Vec<String> = best.iter().map(|p| p.id.clone()).collect();
    let key_prefix = best.first().and_then(|p| {
        p.key_shapes
            .iter()
            .filter(|s| key.starts_with(s.as_str()))
            .max_by_key(|s| s.len())
            .cloned()
    });
    let (message, fix) = match (best.as_slice(), &key_prefix) {
        ([other], Some(prefix)) => {
            let model_hint = other
                .models
                .first()
                .map(|m| format!(" (models such as {}/{m})", other.id))
                .unwrap_or_default();
            (
                format!(
                    "this key has the shape of {a_other} {other_name} key ({prefix}…), not \
                     {a} {name} key: {name} and {other_name} are separate providers and their \
                     keys are not interchangeable; use it with the {other_id} provider{model_hint}",
                    a_other = article(&other.name),
                    other_name = other.name,
                    a = article(&provider.name),
                    name = provider.name,
                    other_id = other.id,
                ),
                Some(
                    crate::fix::FixCommand::onboard(&other.default_region().auth_choice)
                        .to_string(),
                ),
            )
        }
        ([], _) | (_, None) => (
            format!(
                "this key does not look like {} {} key (those start with {})",
                article(&provider.name),
                provider.name,
                provider
                    .key_shapes
                    .iter()
                    .map(|s| format!("{s}…"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            None,
        ),
        (many, Some(prefix)) => (
            format!(
                "this key has the shape of {} {} key ({prefix}…), not {} {} key",
                article(&many[0].name),
                many.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                article(&provider.name),
                provider.name
            ),
            None,
        ),
    };
    Some(ShapeFinding {
        provider_id: provider.id.clone(),
        key_prefix,
        belongs_to,
        message,
        fix,
    })
}

/// "a" or "an" before a provider name ("an OpenAI key", "a Moonshot key").
fn article(name: &str) -> &'static str {
    if name.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_follow_the_api_style() {
        use ApiStyle::*;
        assert_eq!(
            endpoint_url("https://api.moonshot.ai/v1", OpenaiCompletions),
            "https://api.moonshot.ai/v1/models"
        );
        assert_eq!(
            endpoint_url("https://api.moonshot.ai/v1/", OpenaiResponses),
            "https://api.moonshot.ai/v1/models"
        );
        assert_eq!(
            endpoint_url("https://api.kimi.com/coding/", AnthropicMessages),
            "https://api.kimi.com/coding/v1/models"
        );
        assert_eq!(
            endpoint_url("https://api.anthropic.com", AnthropicMessages),
            "https://api.anthropic.com/v1/models"
        );
        assert_eq!(
            endpoint_url("http://127.0.0.1:11434", Ollama),
            "http://127.0.0.1:11434/api/tags"
        );
    }

    #[test]
    fn a_hanging_name_lookup_is_still_bounded_by_the_timeout() {
        let slow_resolver = |_: &str| -> std::io::Result<Vec<std::net::SocketAddr>> {
            std::thread::sleep(Duration::from_secs(5));
            Err(std::io::Error::other("gave up"))
        };
        let t = ProbeTarget {
            timeout: Duration::from_millis(200),
            ..ProbeTarget::new(
                "moonshot",
                "https://api.moonshot.ai/v1",
                ApiStyle::OpenaiCompletions,
                Some("sk-Zq81mXv0pLr4TtYb6NcW2eHs9AaDf3Gj"),
            )
        };
        let r = probe_with(&t, |agent| agent.resolver(slow_resolver));
        assert_eq!(r.outcome, Outcome::Timeout, "{r:?}");
        assert!(r.detail.contains("host name lookup"), "{r:?}");
    }

    #[test]
    fn statuses_classify() {
        let cases = [
            (200, Outcome::Ok),
            (204, Outcome::Ok),
            (301, Outcome::OtherStatus),
            (400, Outcome::OtherStatus),
            (401, Outcome::Auth),
            (402, Outcome::Billing),
            (403, Outcome::Auth),
            (404, Outcome::NotFound),
            (429, Outcome::RateLimited),
            (500, Outcome::ServerError),
            (503, Outcome::ServerError),
        ];
        for (status, outcome) in cases {
            assert_eq!(classify_status(status), outcome, "{status}");
        }
    }

    #[test]
    fn transport_errors_classify() {
        use std::io::ErrorKind as Io;
        use ureq::ErrorKind as K;
        let c = classify_transport;
        assert_eq!(c(K::Dns, None, None), Outcome::Dns);
        assert_eq!(
            c(
                K::ConnectionFailed,
                Some("Connect error"),
                Some(Io::ConnectionRefused)
            ),
            Outcome::ConnectionRefused
        );
        assert_eq!(
            c(
                K::ConnectionFailed,
                Some("Connect error"),
                Some(Io::TimedOut)
            ),
            Outcome::Timeout
        );
        assert_eq!(c(K::Io, None, Some(Io::WouldBlock)), Outcome::Timeout);
        assert_eq!(
            c(
                K::ConnectionFailed,
                Some("tls connection init failed"),
                Some(Io::InvalidData)
            ),
            Outcome::Tls
        );
        assert_eq!(c(K::UnknownScheme, None, None), Outcome::InvalidUrl);
        assert_eq!(c(K::BadStatus, None, None), Outcome::Network);
        assert_eq!(c(K::Io, None, Some(Io::ConnectionReset)), Outcome::Network);
    }

    #[test]
    fn error_messages_are_found_in_the_usual_places() {
        let moonshot = r#"{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}"#;
        assert_eq!(error_message(moonshot).unwrap(), "Invalid Authentication");
        let anthropic = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        assert_eq!(error_message(anthropic).unwrap(), "invalid x-api-key");
        assert_eq!(error_message(r#"{"message":"nope"}"#).unwrap(), "nope");
        assert_eq!(error_message(r#"{"error":"quota"}"#).unwrap(), "quota");
        assert_eq!(error_message("<html><body>502</body></html>"), None);
        assert_eq!(error_message("plain text\nmore").unwrap(), "plain text");
        assert_eq!(error_message(""), None);
    }

    #[test]
    fn details_are_short_and_on_one_line() {
        let long = "é".repeat(500);
        let s = short(&long);
        assert_eq!(s.chars().count(), DETAIL_MAX_CHARS);
        assert!(s.ends_with('…'));
        assert_eq!(short("a\n  b\tc"), "a b c");
    }

    #[test]
    fn scrub_removes_keys_pieces_and_masks() {
        let key = "sk-kimi-Zq81mXv0pLr4TtYb6NcW2eHs9AaDf3Gj";
        let text = format!(
            "Incorrect API key provided: {key}. Also sk-kim***3Gj and {} and 'Zq81mXv0pLr4' ok",
            &key[8..20]
        );
        let s = scrub(&text, &[key]);
        assert!(!s.contains(key), "{s}");
        assert!(!s.contains("Zq81mXv0"), "{s}");
        assert!(!s.contains("***"), "{s}");
        assert!(
            s.starts_with("Incorrect API key provided: [redacted]."),
            "{s}"
        );
        assert!(s.ends_with(" ok"), "{s}");
        // Ordinary words and URLs survive.
        assert_eq!(
            scrub(
                "Invalid Authentication at https://api.moonshot.ai/v1/models",
                &[key]
            ),
            "Invalid Authentication at https://api.moonshot.ai/v1/models"
        );
        // An empty secret must not turn every position into a match.
        assert_eq!(scrub("abc", &[""]), "abc");
    }

    #[test]
    fn userinfo_is_removed_from_urls() {
        assert_eq!(
            without_userinfo("https://u:p@host.example/v1/models"),
            "https://host.example/v1/models"
        );
        assert_eq!(
            without_userinfo("https://host.example/v1/models?a=b@c"),
            "https://host.example/v1/models?a=b@c"
        );
    }

    #[test]
    fn debug_of_a_target_hides_the_key_and_secret_headers() {
        let key = "sk-Zq81mXv0pLr4TtYb6NcW2eHs9AaDf3Gj";
        let mut headers = BTreeMap::new();
        headers.insert(
            "X-Org-Token".to_string(),
            "tok-9f8e7d6c5b4a39281706".to_string(),
        );
        headers.insert("X-Title".to_string(), "clawctl".to_string());
        let t = ProbeTarget {
            headers: &headers,
            ..ProbeTarget::new(
                "moonshot",
                "https://api.moonshot.ai/v1",
                ApiStyle::OpenaiCompletions,
                Some(key),
            )
        };
        let d = format!("{t:?}");
        assert!(!d.contains(key) && !d.contains("Zq81mXv0"), "{d}");
        assert!(!d.contains("9f8e7d6c5b4a"), "{d}");
        assert!(d.contains("clawctl") && d.contains("sha256:"), "{d}");
    }
}
