//! A loopback fake model provider for end-to-end tests.
//!
//! It plays one endpoint of one provider: it answers the model-list request of its
//! API style (OpenAI `GET {prefix}/models` with `Authorization: Bearer`, Anthropic
//! `GET {prefix}/v1/models` with `x-api-key` and `anthropic-version`, Ollama
//! `GET {prefix}/api/tags`) with 200 and a model list when the accepted key is
//! presented, and with Moonshot's 401 `Invalid Authentication` otherwise. It binds
//! `127.0.0.1:0`, serves on its own thread, and stops when dropped.
//!
//! # Using it from a test file
//!
//! Each file in `tests/` is its own crate; include the module by path (no
//! `tests/support/mod.rs` needed):
//!
//! ```ignore
//! #[path = "support/fake_provider.rs"]
//! mod fake_provider;
//! use fake_provider::FakeProvider;
//!
//! const KEY: &str = "sk-test-0123456789abcdefABCDEF";
//! let cn = FakeProvider::openai().accept_key(KEY).start();   // base_url() = http://127.0.0.1:P/v1
//! let intl = FakeProvider::openai().start();                  // rejects every key
//! let coding = FakeProvider::anthropic().path_prefix("/coding/").accept_key(KEY).start();
//! let throttled = FakeProvider::openai().respond(429, r#"{"error":{"message":"slow down"}}"#).start();
//! let hole = FakeProvider::black_hole();                      // accepts, never answers
//!
//! // Point clawctl at it: write a catalog for CLAWCTL_PROVIDER_CATALOG whose region
//! // base_url is `cn.base_url()`, or set models.providers.ID.base_url in a config.
//! // Afterwards, check what it saw (header names only, never values):
//! let seen = cn.requests();
//! assert_eq!(seen[0].path, "/v1/models");
//! assert!(seen[0].bearer && seen[0].key_accepted);
//! ```
//!
//! Nothing it records holds a header value except `anthropic-version`, so a
//! recorded request can be printed in an assertion message without leaking a key.

// Every test crate uses a different part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use clawctl::config::model::ApiStyle;

/// Moonshot's answer to a key it does not know (the seed's `HTTP 401: Invalid
/// Authentication`).
pub const INVALID_AUTHENTICATION: &str =
    r#"{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}"#;

/// One request the fake saw. Header *names* only: a test may print this.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Lower-case names of every header sent.
    pub header_names: Vec<String>,
    /// An `Authorization: Bearer …` header was present.
    pub bearer: bool,
    /// An `x-api-key` header was present.
    pub x_api_key: bool,
    /// The `anthropic-version` value (not a secret).
    pub anthropic_version: Option<String>,
    /// The key presented in this style's header was the accepted one.
    pub key_accepted: bool,
    /// The JSON body of a chat request (test prompts only: no secret).
    pub body: Option<serde_json::Value>,
}

impl SeenRequest {
    pub fn has_header(&self, name: &str) -> bool {
        self.header_names
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone)]
enum Accept {
    /// Only this key.
    Key(String),
    /// Any request, with or without a key (a local Ollama).
    NoAuth,
    /// No key at all: every request gets 401.
    Nothing,
}

#[derive(Debug, Clone)]
enum Mode {
    /// Play the provider: 200 / 401 / 404 by path and key.
    Normal,
    /// Answer every request with this status and body.
    Always(u16, String),
    /// Answer every request with `302 Location: url`.
    Redirect(String),
    /// Read the request and never answer.
    BlackHole,
}

/// Settings of a [`FakeProvider`] before it starts.
#[derive(Debug, Clone)]
pub struct FakeProviderBuilder {
    api: ApiStyle,
    prefix: String,
    accept: Accept,
    mode: Mode,
    models: Vec<String>,
    /// Delay before the response head of a chat request.
    first_byte_delay: std::time::Duration,
    /// Delay between two streamed chunks.
    chunk_delay: std::time::Duration,
    /// Text pieces of a streamed answer (joined for a non-streamed one).
    pieces: Vec<String>,
}

impl FakeProviderBuilder {
    /// The path the base URL ends with (`/v1`, `/coding/`, `/api/paas/v4`). The
    /// model list is served below it, as the API style says.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.prefix = if prefix.starts_with('/') || prefix.is_empty() {
            prefix.to_string()
        } else {
            format!("/{prefix}")
        };
        self
    }

    /// The one key this endpoint accepts.
    pub fn accept_key(mut self, key: &str) -> Self {
        self.accept = Accept::Key(key.to_string());
        self
    }

    /// Accept requests without any key (Ollama).
    pub fn no_auth(mut self) -> Self {
        self.accept = Accept::NoAuth;
        self
    }

    /// The model ids listed on success.
    pub fn models(mut self, ids: &[&str]) -> Self {
        self.models = ids.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Answer every request with `status` and a JSON `body` (402, 429, 500, …).
    pub fn respond(mut self, status: u16, body: &str) -> Self {
        self.mode = Mode::Always(status, body.to_string());
        self
    }

    /// Wait this long before answering a chat request (first-byte timeouts).
    pub fn first_byte_delay(mut self, d: std::time::Duration) -> Self {
        self.first_byte_delay = d;
        self
    }

    /// Wait this long between two streamed chunks (SIGHUP/SIGTERM during a stream,
    /// client disconnects).
    pub fn chunk_delay(mut self, d: std::time::Duration) -> Self {
        self.chunk_delay = d;
        self
    }

    /// The answer's text, streamed piece by piece.
    pub fn answer(mut self, pieces: &[&str]) -> Self {
        self.pieces = pieces.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Answer every request with a 302 to `url`.
    pub fn redirect_to(mut self, url: &str) -> Self {
        self.mode = Mode::Redirect(url.to_string());
        self
    }

    pub fn start(self) -> FakeProvider {
        let server = Arc::new(
            tiny_http::Server::http("127.0.0.1:0").expect("bind a loopback port for the fake"),
        );
        let addr = server
            .server_addr()
            .to_ip()
            .expect("the fake listens on an IP address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(StreamCounts::default());
        let thread = {
            let (server, seen, stop, streams) =
                (server.clone(), seen.clone(), stop.clone(), streams.clone());
            let cfg = self.clone();
            std::thread::spawn(move || serve(&server, &cfg, &seen, &stop, &streams))
        };
        FakeProvider {
            server,
            addr,
            prefix: self.prefix,
            seen,
            stop,
            streams,
            thread: Some(thread),
        }
    }
}

/// A running fake provider; stops when dropped.
pub struct FakeProvider {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    prefix: String,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Arc<AtomicBool>,
    streams: Arc<StreamCounts>,
    thread: Option<JoinHandle<()>>,
}

/// How the fake's streamed answers ended.
#[derive(Debug, Default)]
pub struct StreamCounts {
    /// Every piece was written.
    pub completed: std::sync::atomic::AtomicUsize,
    /// A write failed: the reader (the gateway) closed the connection.
    pub aborted: std::sync::atomic::AtomicUsize,
}

impl FakeProvider {
    fn builder(api: ApiStyle, prefix: &str, accept: Accept) -> FakeProviderBuilder {
        FakeProviderBuilder {
            api,
            prefix: prefix.to_string(),
            accept,
            mode: Mode::Normal,
            models: vec!["model-a".to_string(), "model-b".to_string()],
            first_byte_delay: std::time::Duration::ZERO,
            chunk_delay: std::time::Duration::ZERO,
            pieces: vec!["Hel".into(), "lo".into()],
        }
    }

    /// An OpenAI-compatible endpoint (Moonshot, Z.AI, OpenAI, OpenRouter) at
    /// `http://127.0.0.1:P/v1`, rejecting every key until `accept_key`.
    pub fn openai() -> FakeProviderBuilder {
        Self::builder(ApiStyle::OpenaiCompletions, "/v1", Accept::Nothing)
    }

    /// An Anthropic-style endpoint (Anthropic, Kimi Coding) at `http://127.0.0.1:P`,
    /// rejecting every key until `accept_key`.
    pub fn anthropic() -> FakeProviderBuilder {
        Self::builder(ApiStyle::AnthropicMessages, "", Accept::Nothing)
    }

    /// A local Ollama at `http://127.0.0.1:P`, needing no key.
    pub fn ollama() -> FakeProviderBuilder {
        Self::builder(ApiStyle::Ollama, "", Accept::NoAuth)
    }

    /// A fake of any style.
    pub fn with_style(api: ApiStyle) -> FakeProviderBuilder {
        match api {
            ApiStyle::AnthropicMessages => Self::anthropic(),
            ApiStyle::Ollama => Self::ollama(),
            ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => Self::openai(),
        }
    }

    /// A server that accepts connections and reads requests but never answers:
    /// for timeout tests.
    pub fn black_hole() -> FakeProvider {
        FakeProviderBuilder {
            mode: Mode::BlackHole,
            ..Self::openai()
        }
        .start()
    }

    /// `http://127.0.0.1:PORT` followed by the path prefix: the value for a catalog
    /// region's or a config's `base_url`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin(), self.prefix)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests seen so far, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn request_count(&self) -> usize {
        self.seen.lock().map(|v| v.len()).unwrap_or_default()
    }

    /// Streams written to the end so far.
    pub fn streams_completed(&self) -> usize {
        self.streams.completed.load(Ordering::SeqCst)
    }

    /// Streams cut short by the reader so far.
    pub fn streams_aborted(&self) -> usize {
        self.streams.aborted.load(Ordering::SeqCst)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    server: &tiny_http::Server,
    cfg: &FakeProviderBuilder,
    seen: &Mutex<Vec<SeenRequest>>,
    stop: &AtomicBool,
    streams: &Arc<StreamCounts>,
) {
    // Black-hole requests are parked here: dropping a tiny_http request answers it
    // with a 500, so they must live until the fake stops.
    let mut parked = Vec::new();
    loop {
        let request = match server.recv() {
            Ok(r) => r,
            // `unblock()` from Drop, or an accept error: only the former ends the loop.
            Err(_) if stop.load(Ordering::SeqCst) => break,
            Err(_) => continue,
        };
        let mut request = request;
        let chat_body = chat_body(cfg, &mut request);
        let (mut record, status, body, location) = answer(cfg, &request);
        record.body = chat_body.clone();
        if let Ok(mut v) = seen.lock() {
            v.push(record.clone());
        }
        if let (Some(req), Mode::Normal, 200) = (chat_body, &cfg.mode, status) {
            // Chat answers may be slow or streamed: one thread each, so a slow
            // answer does not hold the others.
            let (cfg, streams) = (cfg.clone(), streams.clone());
            std::thread::spawn(move || chat_answer(&cfg, request, &req, &streams));
            continue;
        }
        if matches!(cfg.mode, Mode::BlackHole) {
            parked.push(request);
            continue;
        }
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        let content_type =
            tiny_http::Header::from_bytes("Content-Type", "application/json").expect("header");
        response.add_header(content_type);
        if let Some(loc) = location {
            response.add_header(tiny_http::Header::from_bytes("Location", loc).expect("header"));
        }
        let _ = request.respond(response);
    }
}

/// What the fake records about a request and how it answers it.
fn answer(
    cfg: &FakeProviderBuilder,
    request: &tiny_http::Request,
) -> (SeenRequest, u16, String, Option<String>) {
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    };
    let authorization = header("authorization");
    let x_api_key = header("x-api-key");
    let bearer_key = authorization
        .as_deref()
        .and_then(|v| v.strip_prefix("Bearer "));
    let presented = match cfg.api {
        ApiStyle::AnthropicMessages => x_api_key.as_deref(),
        _ => bearer_key,
    };
    let key_accepted = match &cfg.accept {
        Accept::Key(k) => presented == Some(k.as_str()),
        Accept::NoAuth => true,
        Accept::Nothing => false,
    };
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let anthropic_version = header("anthropic-version");
    let record = SeenRequest {
        method: request.method().as_str().to_string(),
        path: path.clone(),
        header_names: request
            .headers()
            .iter()
            .map(|h| h.field.as_str().as_str().to_ascii_lowercase())
            .collect(),
        bearer: bearer_key.is_some(),
        x_api_key: x_api_key.is_some(),
        anthropic_version: anthropic_version.clone(),
        key_accepted,
        body: None,
    };

    let (status, body, location) = match &cfg.mode {
        Mode::Always(status, body) => (*status, body.clone(), None),
        Mode::Redirect(url) => (302, String::new(), Some(url.clone())),
        Mode::BlackHole => (0, String::new(), None),
        Mode::Normal => {
            let base = cfg.prefix.trim_end_matches('/');
            let models_path = match cfg.api {
                ApiStyle::AnthropicMessages => format!("{base}/v1/models"),
                ApiStyle::Ollama => format!("{base}/api/tags"),
                ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => {
                    format!("{base}/models")
                }
            };
            let chat_path = match cfg.api {
                ApiStyle::AnthropicMessages => format!("{base}/v1/messages"),
                ApiStyle::Ollama => format!("{base}/api/chat"),
                ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => {
                    format!("{base}/chat/completions")
                }
            };
            if request.method() == &tiny_http::Method::Post && path == chat_path {
                if !key_accepted {
                    (401, INVALID_AUTHENTICATION.to_string(), None)
                } else if cfg.api == ApiStyle::AnthropicMessages && anthropic_version.is_none() {
                    let msg = "anthropic-version: header is required";
                    (400, error_body(msg, "invalid_request_error"), None)
                } else {
                    // Answered by `chat_answer`.
                    (200, String::new(), None)
                }
            } else if request.method() != &tiny_http::Method::Get || path != models_path {
                let msg = format!("no route for {} {path}", request.method());
                (404, error_body(&msg, "not_found_error"), None)
            } else if !key_accepted {
                (401, INVALID_AUTHENTICATION.to_string(), None)
            } else if cfg.api == ApiStyle::AnthropicMessages && anthropic_version.is_none() {
                // As the real API: no version header, no answer.
                let msg = "anthropic-version: header is required";
                (400, error_body(msg, "invalid_request_error"), None)
            } else {
                (200, model_list(cfg), None)
            }
        }
    };
    (record, status, body, location)
}

fn error_body(message: &str, kind: &str) -> String {
    serde_json::json!({ "error": { "message": message, "type": kind } }).to_string()
}

fn model_list(cfg: &FakeProviderBuilder) -> String {
    let json = match cfg.api {
        ApiStyle::AnthropicMessages => serde_json::json!({
            "data": cfg.models.iter().map(|m| serde_json::json!({"type": "model", "id": m})).collect::<Vec<_>>(),
            "has_more": false,
        }),
        ApiStyle::Ollama => serde_json::json!({
            "models": cfg.models.iter().map(|m| serde_json::json!({"name": m, "model": m})).collect::<Vec<_>>(),
        }),
        ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => serde_json::json!({
            "object": "list",
            "data": cfg.models.iter().map(|m| serde_json::json!({"id": m, "object": "model"})).collect::<Vec<_>>(),
        }),
    };
    json.to_string()
}

/// The JSON body of a POST (read once, before answering).
fn chat_body(
    cfg: &FakeProviderBuilder,
    request: &mut tiny_http::Request,
) -> Option<serde_json::Value> {
    let _ = cfg;
    if request.method() != &tiny_http::Method::Post {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(request.as_reader(), &mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Answer a chat request in the fake's style: the text is `pieces` joined, and
/// the model asked for is echoed. Streamed answers are written chunk by chunk
/// (chunked encoding, flushed each time) with `chunk_delay` between them.
fn chat_answer(
    cfg: &FakeProviderBuilder,
    request: tiny_http::Request,
    req: &serde_json::Value,
    streams: &StreamCounts,
) {
    use std::io::Write;
    std::thread::sleep(cfg.first_byte_delay);
    let model = req["model"].as_str().unwrap_or("").to_string();
    let stream = req["stream"]
        .as_bool()
        .unwrap_or(cfg.api == ApiStyle::Ollama);
    let text: String = cfg.pieces.concat();
    let mut w = request.into_writer();
    if !stream {
        let body = match cfg.api {
            ApiStyle::AnthropicMessages => serde_json::json!({
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 2},
            }),
            ApiStyle::Ollama => serde_json::json!({
                "model": model, "message": {"role": "assistant", "content": text},
                "done": true, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2,
            }),
            _ => serde_json::json!({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            }),
        }
        .to_string();
        let _ = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = w.flush();
        return;
    }
    let content_type = if cfg.api == ApiStyle::Ollama {
        "application/x-ndjson"
    } else {
        "text/event-stream"
    };
    let mut events: Vec<String> = Vec::new();
    match cfg.api {
        ApiStyle::AnthropicMessages => {
            events.push("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake\"}}\n\n".into());
            for p in &cfg.pieces {
                let d = serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}});
                events.push(format!("event: content_block_delta\ndata: {d}\n\n"));
            }
            events.push("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n".into());
            events.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into());
        }
        ApiStyle::Ollama => {
            for p in &cfg.pieces {
                let d = serde_json::json!({"model": model, "message": {"role": "assistant", "content": p}, "done": false});
                events.push(format!("{d}\n"));
            }
            events.push(format!("{}\n", serde_json::json!({"model": model, "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"})));
        }
        _ => {
            for p in &cfg.pieces {
                let d = serde_json::json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
                    "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
                events.push(format!("data: {d}\n\n"));
            }
            events.push("data: [DONE]\n\n".into());
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    if w.write_all(head.as_bytes())
        .and_then(|_| w.flush())
        .is_err()
    {
        streams.aborted.fetch_add(1, Ordering::SeqCst);
        return;
    }
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(cfg.chunk_delay);
        }
        let chunk = format!("{:x}\r\n{e}\r\n", e.len());
        if w.write_all(chunk.as_bytes())
            .and_then(|_| w.flush())
            .is_err()
        {
            streams.aborted.fetch_add(1, Ordering::SeqCst);
            return;
        }
    }
    if w.write_all(b"0\r\n\r\n").and_then(|_| w.flush()).is_err() {
        streams.aborted.fetch_add(1, Ordering::SeqCst);
        return;
    }
    streams.completed.fetch_add(1, Ordering::SeqCst);
}
