//! The HTTP API: `/healthz` (open), and under the gateway's client auth
//! `/v1/status`, `/v1/models` and `POST /v1/chat/completions` (OpenAI API
//! reference, "Chat", "Models"; errors in OpenAI's shape
//! `{"error": {"message", "type", "param", "code"}}`).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::config::model::GatewayAuthMode;
use crate::providers::probe::Outcome;

use super::failures::{self, FailureLog, FailureRecord};
use super::log;
use super::state::{GatewayState, Route, Upstream, token_matches};
use super::upstream::{self, StreamTranslator};

/// Response header: the provider that answered.
pub const H_PROVIDER: &str = "x-clawctl-provider";
/// Response header: the model (`provider/model`) that answered.
pub const H_MODEL: &str = "x-clawctl-model";
/// Response header: how many providers were tried (1 = the first answered).
pub const H_ATTEMPTS: &str = "x-clawctl-attempts";

/// Largest error body read from a provider (only its message is kept).
const ERROR_BODY_MAX: usize = 64 * 1024;
/// Largest non-streamed answer accepted from a provider.
const ANSWER_MAX: usize = 64 * 1024 * 1024;

/// A config as served: the state and the HTTP client built for it. Requests hold an
/// `Arc` of the one current when they started, so a reload never changes a request
/// (or a stream) in flight.
pub struct Served {
    pub state: GatewayState,
    pub client: reqwest::Client,
}

impl Served {
    pub fn new(state: GatewayState) -> Result<Served, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(state.limits.connect)
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("clawctl-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Served { state, client })
    }
}

/// What every handler shares.
pub struct App {
    current: RwLock<Arc<Served>>,
    pub failures: Arc<FailureLog>,
}

impl App {
    pub fn new(served: Served, failures: FailureLog) -> App {
        App {
            current: RwLock::new(Arc::new(served)),
            failures: Arc::new(failures),
        }
    }

    pub fn current(&self) -> Arc<Served> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Serve `next` from now on; requests already running keep theirs.
    pub fn replace(&self, next: Served) {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/status", get(status))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .fallback(not_found)
        .with_state(app)
}

/// An OpenAI-shaped error response.
pub fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    json_response(status, body.to_string())
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, r#"{"status":"ok"}"#.to_string())
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Response {
    log_request(
        method.as_str(),
        "(none)",
        404,
        Instant::now(),
        &[("path", uri.path())],
    );
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("not_found"),
        &format!("no route for {method} {}", uri.path()),
    )
}

/// Err: the 401 to send. Password mode takes the token too (password login is the
/// dashboard's business).
fn authorize(state: &GatewayState, headers: &HeaderMap) -> Result<(), Response> {
    if state.auth_mode == GatewayAuthMode::None {
        return Ok(());
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&state.token, given) {
        (Some(t), Some(g)) if token_matches(t, g) => Ok(()),
        (_, None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("missing_gateway_token"),
            "missing gateway token: send `Authorization: Bearer <token>` (gateway.auth.token; `clawctl gateway status` compares the CLI's with the gateway's)",
        )),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_gateway_token"),
            "invalid gateway token (`clawctl gateway status` compares the CLI's token with the gateway's)",
        )),
    }
}

fn log_request(method: &str, route: &str, status: u16, started: Instant, extra: &[(&str, &str)]) {
    let latency = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
    let status = status.to_string();
    let mut fields: Vec<(&str, &str)> = vec![
        ("method", method),
        ("route", route),
        ("status", &status),
        ("latency_ms", &latency),
    ];
    fields.extend_from_slice(extra);
    log::line("info", "request", &fields);
}

async fn status(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let served = app.current();
    if let Err(r) = authorize(&served.state, &headers) {
        log_request("GET", "/v1/status", 401, started, &[]);
        return r;
    }
    let mut v = serde_json::to_value(&served.state.receipt).unwrap_or_default();
    v["recent_failures"] = serde_json::to_value(app.failures.recent()).unwrap_or_default();
    log_request("GET", "/v1/status", 200, started, &[]);
    json_response(StatusCode::OK, v.to_string())
}

async fn models(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let served = app.current();
    let st = &served.state;
    if let Err(r) = authorize(st, &headers) {
        log_request("GET", "/v1/models", 401, started, &[]);
        return r;
    }
    let cfg = &st.loaded.config;
    let mut data: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut add = |id: String, owner: &str, data: &mut Vec<Value>| {
        if !seen.contains(&id) {
            data.push(json!({"id": id, "object": "model", "created": 0, "owned_by": owner}));
            seen.push(id);
        }
    };
    if let Some(p) = cfg.primary_model() {
        add("default".into(), "clawctl", &mut data);
        let r = cfg.resolve_model(p);
        add(r.to_string(), r.split('/').next().unwrap_or(""), &mut data);
    }
    for f in cfg.fallback_models() {
        let r = cfg.resolve_model(f);
        add(r.to_string(), r.split('/').next().unwrap_or(""), &mut data);
    }
    for (alias, target) in &cfg.agents.defaults.models {
        add(alias.clone(), &format!("alias of {target}"), &mut data);
    }
    for (id, p) in &cfg.models.providers {
        let listed: Vec<String> = if p.models.is_empty() {
            st.catalog
                .get(id)
                .map(|c| c.models.clone())
                .unwrap_or_default()
        } else {
            p.models.clone()
        };
        for m in listed {
            add(format!("{id}/{m}"), id, &mut data);
        }
    }
    log_request("GET", "/v1/models", 200, started, &[]);
    json_response(
        StatusCode::OK,
        json!({"object": "list", "data": data}).to_string(),
    )
}

/// How much of an oversized body is read and thrown away before the 413 goes out:
/// a client still sending when the server replies and closes gets a reset instead
/// of the answer (nginx's lingering close solves the same problem).
const DRAIN_MAX: usize = 16 * 1024 * 1024;

/// Read a request body within the size limit and the client read deadline. An
/// oversized body (announced or found while reading) is drained up to [`DRAIN_MAX`],
/// without keeping it, so the client reads its 413.
async fn read_body(body: Body, headers: &HeaderMap, st: &GatewayState) -> Result<Bytes, Response> {
    let max = st.limits.max_body_bytes;
    let too_big = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            &format!("the request body is larger than gateway.limits.max_body_bytes ({max} bytes)"),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > (max + DRAIN_MAX) as u64) {
        return Err(too_big());
    }
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            seen += data.len();
            if seen > max + DRAIN_MAX {
                break;
            }
            if seen <= max {
                buf.extend_from_slice(&data);
            }
        }
        Ok::<(), axum::Error>(())
    };
    match tokio::time::timeout(st.limits.client_read, read).await {
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            Some("request_timeout"),
            "the request body did not arrive in time (gateway.timeouts.client_read_ms)",
        )),
        Ok(Err(e)) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            &format!("cannot read the request body: {e}"),
        )),
        Ok(Ok(())) if seen > max => Err(too_big()),
        Ok(Ok(())) => Ok(Bytes::from(buf)),
    }
}

/// How one attempt at a provider ended, when it did not answer successfully.
enum Failed {
    /// Worth the next model: recorded.
    Fallback(Box<FailureRecord>),
    /// The provider refused the request itself (400): goes back to the client as is.
    Refused(StatusCode, Bytes),
}

/// Logs a chat request that never got to answer: hyper drops the handler when its
/// client goes away, which also drops (and so cancels) the provider request in
/// flight. Status 499 as nginx logs a client that closed its request.
struct Abandoned {
    started: Instant,
    logged: std::sync::atomic::AtomicBool,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if !self.logged.load(std::sync::atomic::Ordering::Relaxed) {
            log_request(
                "POST",
                "/v1/chat/completions",
                499,
                self.started,
                &[("ended", "client-disconnected")],
            );
        }
    }
}

async fn chat(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let served = app.current();
    let st = &served.state;
    let abandoned = Abandoned {
        started,
        logged: std::sync::atomic::AtomicBool::new(false),
    };
    let done = |status: StatusCode, extra: &[(&str, &str)]| {
        abandoned
            .logged
            .store(true, std::sync::atomic::Ordering::Relaxed);
        log_request(
            "POST",
            "/v1/chat/completions",
            status.as_u16(),
            started,
            extra,
        );
    };
    if let Err(r) = authorize(st, &headers) {
        done(r.status(), &[]);
        return r;
    }
    let bytes = match read_body(body, &headers, st).await {
        Ok(b) => b,
        Err(r) => {
            done(r.status(), &[]);
            return r;
        }
    };
    let req: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) if v.get("messages").is_some_and(Value::is_array) => v,
        Ok(_) => {
            let r = error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "the body must be a JSON object with a `messages` array",
            );
            done(r.status(), &[]);
            return r;
        }
        Err(e) => {
            let r = error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                &format!("the body is not JSON: {e}"),
            );
            done(r.status(), &[]);
            return r;
        }
    };
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let asked = req.get("model").and_then(Value::as_str);
    let asked_text = asked.unwrap_or("default").to_string();
    let routes = match st.routes(asked) {
        Ok(r) => r,
        Err(msg) => {
            let r = error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
                &msg,
            );
            done(r.status(), &[("model", &asked_text)]);
            return r;
        }
    };
    let mut failed: Vec<FailureRecord> = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let attempts = (i + 1).to_string();
        let up = st.upstreams.get(&route.provider);
        let result = match up {
            Some(up) => {
                let hint = app.failures.region_hint(up);
                attempt(
                    &served,
                    up,
                    route,
                    &req,
                    stream,
                    started,
                    &asked_text,
                    i + 1,
                    hint.as_ref(),
                )
                .await
            }
            None => Err(Failed::Fallback(Box::new(failures::record(
                st,
                None,
                failures::Target {
                    provider: &route.provider,
                    model: &route.model,
                    url: "",
                    region_hint: None,
                },
                Outcome::InvalidUrl,
                None,
                "no endpoint configured".into(),
            )))),
        };
        match result {
            Ok(mut resp) => {
                set_route_headers(&mut resp, route, i + 1);
                if stream {
                    // The stream's own guard logs it when it ends.
                    abandoned
                        .logged
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                } else {
                    done(
                        resp.status(),
                        &[
                            ("model", &asked_text),
                            ("provider", &route.provider),
                            ("used", &route.reference),
                            ("attempts", &attempts),
                        ],
                    );
                }
                return resp;
            }
            Err(Failed::Refused(status, body)) => {
                let mut resp = json_response(status, String::from_utf8_lossy(&body).into_owned());
                set_route_headers(&mut resp, route, i + 1);
                done(
                    status,
                    &[
                        ("model", &asked_text),
                        ("provider", &route.provider),
                        ("used", &route.reference),
                        ("attempts", &attempts),
                        ("outcome", "refused"),
                    ],
                );
                return resp;
            }
            Err(Failed::Fallback(rec)) => {
                let status = rec.status.map(|s| s.to_string()).unwrap_or_default();
                log::line(
                    "warn",
                    "upstream-failure",
                    &[
                        ("provider", &rec.provider),
                        ("model", &rec.model),
                        ("endpoint", &rec.endpoint_host),
                        ("outcome", &rec.outcome),
                        ("status", &status),
                        ("key_source", rec.key_source.as_deref().unwrap_or("none")),
                        (
                            "key_fingerprint",
                            rec.key_fingerprint.as_deref().unwrap_or("none"),
                        ),
                        ("attempt", &attempts),
                        ("explanation", &rec.explanation),
                    ],
                );
                if rec.outcome == Outcome::Auth.as_str()
                    && rec
                        .diagnosis
                        .as_deref()
                        .is_none_or(|d| d.starts_with("check that"))
                    && let Some(up) = up
                {
                    app.failures.probe_regions(st, up);
                }
                app.failures.push((*rec).clone());
                failed.push(*rec);
            }
        }
    }
    let resp = all_failed(&failed);
    let attempts = failed.len().to_string();
    done(
        resp.status(),
        &[
            ("model", &asked_text),
            ("attempts", &attempts),
            ("outcome", "all-failed"),
        ],
    );
    resp
}

fn set_route_headers(resp: &mut Response, route: &Route, attempts: usize) {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&route.provider) {
        h.insert(H_PROVIDER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&route.reference) {
        h.insert(H_MODEL, v);
    }
    h.insert(H_ATTEMPTS, HeaderValue::from(attempts));
}

/// Every model failed: the client gets the explanation of each attempt. 429 when the
/// last one was throttled (the client may retry later), 504 after a timeout, else
/// 502 — never the provider's 401, which a client would take for its own token.
fn all_failed(failed: &[FailureRecord]) -> Response {
    let last = failed.last();
    let status = match last.map(|f| f.outcome.as_str()) {
        Some("rate_limited") => StatusCode::TOO_MANY_REQUESTS,
        Some("timeout") => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    };
    let message = failed
        .iter()
        .map(|f| f.explanation.clone())
        .collect::<Vec<_>>()
        .join(" | then: ");
    let code = last.map(|f| format!("upstream_{}", f.outcome));
    let body = json!({
        "error": {
            "message": message,
            "type": "upstream_error",
            "param": null,
            "code": code,
            "clawctl": {"failures": failed},
        }
    });
    let mut r = json_response(status, body.to_string());
    r.headers_mut()
        .insert(H_ATTEMPTS, HeaderValue::from(failed.len()));
    r
}

/// Read a body chunk by chunk, each within `idle`, up to `max` bytes.
async fn read_all(
    resp: &mut reqwest::Response,
    idle: Duration,
    max: usize,
) -> Result<Bytes, String> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match tokio::time::timeout(idle, resp.chunk()).await {
            Err(_) => return Err("timeout".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(None)) => return Ok(Bytes::from(buf)),
            Ok(Ok(Some(c))) => {
                if buf.len() + c.len() > max {
                    return Err(format!("the answer is larger than {max} bytes"));
                }
                buf.extend_from_slice(&c);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn attempt(
    served: &Arc<Served>,
    up: &Upstream,
    route: &Route,
    req: &Value,
    stream: bool,
    started: Instant,
    asked: &str,
    attempt_no: usize,
    region_hint: Option<&failures::RegionHint>,
) -> Result<Response, Failed> {
    let st = &served.state;
    let url = upstream::chat_url(&up.base_url, up.api);
    let secrets = up.secrets();
    let fail = |outcome: Outcome, status: Option<u16>, detail: String| {
        Failed::Fallback(Box::new(failures::record(
            st,
            Some(up),
            failures::Target {
                provider: &route.provider,
                model: &route.model,
                url: &url,
                region_hint,
            },
            outcome,
            status,
            detail,
        )))
    };
    let body = upstream::request_body(up.api, req, &route.model, stream).to_string();
    let rb = upstream::build(&served.client, up, &url, body.into_bytes());
    let mut resp = match tokio::time::timeout(st.limits.first_byte, rb.send()).await {
        Err(_) => {
            return Err(fail(
                Outcome::Timeout,
                None,
                format!(
                    "no answer within {} ms (gateway.timeouts.first_byte_ms)",
                    st.limits.first_byte.as_millis()
                ),
            ));
        }
        Ok(Err(e)) => {
            return Err(fail(
                failures::classify_error(&e),
                None,
                failures::error_chain(&e, &secrets),
            ));
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    if !status.is_success() {
        let body = read_all(&mut resp, st.limits.idle, ERROR_BODY_MAX)
            .await
            .unwrap_or_default();
        let outcome = failures::classify(status.as_u16());
        if failures::falls_back(outcome, Some(status.as_u16())) {
            return Err(fail(
                outcome,
                Some(status.as_u16()),
                failures::provider_message(&body, &secrets),
            ));
        }
        // The provider's own words about the client's request; scrubbed all the same.
        let text = crate::providers::probe::scrub(&String::from_utf8_lossy(&body), &secrets);
        let body = if serde_json::from_str::<Value>(&text).is_ok() {
            Bytes::from(text)
        } else {
            Bytes::from(
                json!({"error": {"message": text, "type": "invalid_request_error", "param": null, "code": null}})
                    .to_string(),
            )
        };
        let code = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_REQUEST);
        return Err(Failed::Refused(code, body));
    }
    if !stream {
        let body = match read_all(&mut resp, st.limits.idle, ANSWER_MAX).await {
            Ok(b) => b,
            Err(e) if e == "timeout" => {
                return Err(fail(
                    Outcome::Timeout,
                    Some(status.as_u16()),
                    format!(
                        "the answer stalled for {} ms (gateway.timeouts.idle_ms)",
                        st.limits.idle.as_millis()
                    ),
                ));
            }
            Err(e) => {
                return Err(fail(
                    Outcome::Network,
                    Some(status.as_u16()),
                    crate::providers::probe::scrub(&e, &secrets),
                ));
            }
        };
        let body = match upstream::response_body(up.api, body, &route.reference) {
            Ok(b) => b,
            Err(e) => return Err(fail(Outcome::OtherStatus, Some(status.as_u16()), e)),
        };
        return Ok(json_response(
            StatusCode::OK,
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    let guard = StreamLog {
        asked: asked.to_string(),
        provider: route.provider.clone(),
        reference: route.reference.clone(),
        attempts: attempt_no,
        started,
        ended: "client-disconnected",
        bytes: 0,
    };
    let state = StreamState {
        resp,
        tr: StreamTranslator::new(up.api, &route.reference),
        idle: st.limits.idle,
        done: false,
        log: guard,
        _served: Arc::clone(served),
    };
    let body = Body::from_stream(futures_util::stream::unfold(state, next_chunk));
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// Writes the request's log line when its stream ends, however it ends (finished,
/// provider failure, or the client went away and the body was dropped — which also
/// drops the provider's response and so closes that connection: the upstream
/// request is cancelled).
struct StreamLog {
    asked: String,
    provider: String,
    reference: String,
    attempts: usize,
    started: Instant,
    ended: &'static str,
    bytes: usize,
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        let attempts = self.attempts.to_string();
        let bytes = self.bytes.to_string();
        log_request(
            "POST",
            "/v1/chat/completions",
            200,
            self.started,
            &[
                ("model", &self.asked),
                ("provider", &self.provider),
                ("used", &self.reference),
                ("attempts", &attempts),
                ("stream", "true"),
                ("bytes", &bytes),
                ("ended", self.ended),
            ],
        );
    }
}

struct StreamState {
    resp: reqwest::Response,
    tr: StreamTranslator,
    idle: Duration,
    done: bool,
    log: StreamLog,
    /// The config this stream started under stays alive until it ends.
    _served: Arc<Served>,
}

async fn next_chunk(mut s: StreamState) -> Option<(Result<Bytes, std::io::Error>, StreamState)> {
    if s.done {
        return None;
    }
    loop {
        match tokio::time::timeout(s.idle, s.resp.chunk()).await {
            Ok(Ok(Some(c))) => {
                let out = s.tr.feed(c);
                if out.is_empty() {
                    continue;
                }
                s.log.bytes += out.len();
                return Some((Ok(out), s));
            }
            Ok(Ok(None)) => {
                s.done = true;
                s.log.ended = "completed";
                let out = s.tr.finish();
                s.log.bytes += out.len();
                return if out.is_empty() {
                    None
                } else {
                    Some((Ok(out), s))
                };
            }
            Ok(Err(_)) | Err(_) => {
                // Headers were sent: no fallback now. Tell the client in-stream, in
                // the shape OpenAI uses for errors, and end the stream.
                s.done = true;
                s.log.ended = "upstream-error";
                let msg = format!(
                    "{} stopped sending its answer (no data for {} ms or the connection broke)",
                    s.log.provider,
                    s.idle.as_millis()
                );
                let ev = format!(
                    "data: {}\n\n{}",
                    json!({"error": {"message": msg, "type": "upstream_error", "param": null, "code": "upstream_stream_interrupted"}}),
                    upstream::DONE
                );
                return Some((Ok(Bytes::from(ev)), s));
            }
        }
    }
}
