//! The model gateway end to end: a real `clawctl gateway run` in front of loopback
//! fake providers (OpenAI, Anthropic and Ollama styles), talked to over HTTP as an
//! OpenAI client would. Every daemon is stopped by pid.

use crate::common::{Sandbox, free_port};
use crate::fake_provider::{self, FakeProvider};

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "tok-GATEWAYGATEWAY-0123456789";
const OPENAI_KEY: &str = "sk-proj-OPENAIOPENAIOPENAI0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-api03-ANTHROPICANTHROPIC0123456789";

struct Daemon(Child);

impl Daemon {
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
    fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }
    /// Wait for exit; the exit code, or None after `within`.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.0.try_wait() {
                return Some(s.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.signal(libc::SIGTERM);
        if self.wait_exit(Duration::from_secs(5)).is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn start(sb: &Sandbox, port: u16) -> Daemon {
    let mut c = sb.command(&["gateway", "run"]);
    c.env("CLAWCTL_GATEWAY_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let d = Daemon(c.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
            .timeout(Duration::from_millis(300))
            .call()
            .is_ok()
        {
            return d;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the gateway did not come up on port {port}");
}

/// A config with the gateway on `port` and `rest` appended.
fn config(port: u16, rest: &str) -> String {
    format!(
        "[meta]\nversion = 1\n\n[gateway]\nport = {port}\n\n[gateway.auth]\nmode = \"token\"\ntoken = \"${{CLAWCTL_GATEWAY_TOKEN}}\"\n\n{rest}"
    )
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn answer(r: ureq::Response) -> Answer {
    let headers = r
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = r.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let status = r.status();
    let mut body = String::new();
    r.into_reader().read_to_string(&mut body).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

fn post(port: u16, token: Option<&str>, body: &serde_json::Value) -> Answer {
    let mut req = ureq::post(&format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .timeout(Duration::from_secs(20))
        .set("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.send_string(&body.to_string()) {
        Ok(r) => answer(r),
        Err(ureq::Error::Status(_, r)) => answer(r),
        Err(e) => panic!("POST: {e}"),
    }
}

fn get(port: u16, path: &str) -> Answer {
    let req = ureq::get(&format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(10))
        .set("Authorization", &format!("Bearer {TOKEN}"));
    match req.call() {
        Ok(r) => answer(r),
        Err(ureq::Error::Status(_, r)) => answer(r),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

fn chat(model: Option<&str>, stream: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
        ],
        "stream": stream,
        "max_tokens": 50,
    });
    if let Some(m) = model {
        v["model"] = m.into();
    }
    v
}

/// The text of an OpenAI SSE stream, checking its shape on the way.
fn stream_text(body: &str) -> String {
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    let mut text = String::new();
    for ev in body.split("\n\n").filter(|e| !e.is_empty()) {
        let data = ev.strip_prefix("data: ").unwrap_or_else(|| panic!("{ev}"));
        if data == "[DONE]" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["object"], "chat.completion.chunk", "{v}");
        if let Some(t) = v["choices"][0]["delta"]["content"].as_str() {
            text.push_str(t);
        }
    }
    text
}

fn three_styles() -> (Sandbox, FakeProvider, FakeProvider, FakeProvider, u16) {
    let mut sb = Sandbox::new();
    let openai = FakeProvider::openai().accept_key(OPENAI_KEY).start();
    let anthropic = FakeProvider::anthropic().accept_key(ANTHROPIC_KEY).start();
    let ollama = FakeProvider::ollama().start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "[agents.defaults.model]\nprimary = \"openai/gpt-test\"\n\n[agents.defaults.models]\nclaude = \"anthropic/claude-test\"\nlocal = \"ollama/llama-test\"\n\n[models.providers.openai]\nbase_url = \"{}\"\n\n[models.providers.anthropic]\nbase_url = \"{}\"\n\n[models.providers.ollama]\nbase_url = \"{}\"\n",
            openai.base_url(),
            anthropic.base_url(),
            ollama.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    sb.set_var("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    (sb, openai, anthropic, ollama, port)
}

#[test]
fn each_api_style_answers_non_streamed_and_streamed() {
    let (sb, openai, anthropic, ollama, port) = three_styles();
    let _d = start(&sb, port);
    for (model, provider, upstream_model) in [
        ("openai/gpt-test", "openai", "gpt-test"),
        ("claude", "anthropic", "claude-test"),
        ("local", "ollama", "llama-test"),
    ] {
        let a = post(port, Some(TOKEN), &chat(Some(model), false));
        assert_eq!(a.status, 200, "{model}: {}", a.body);
        let j = a.json();
        assert_eq!(j["object"], "chat.completion", "{j}");
        assert_eq!(j["choices"][0]["message"]["content"], "Hello", "{j}");
        assert_eq!(j["choices"][0]["finish_reason"], "stop", "{j}");
        assert_eq!(a.header("x-clawctl-provider"), Some(provider));
        assert_eq!(a.header("x-clawctl-attempts"), Some("1"));
        assert!(
            a.header("x-clawctl-model")
                .is_some_and(|m| m.ends_with(upstream_model)),
            "{:?}",
            a.headers
        );

        let s = post(port, Some(TOKEN), &chat(Some(model), true));
        assert_eq!(s.status, 200, "{model}: {}", s.body);
        assert_eq!(s.header("content-type"), Some("text/event-stream"));
        assert_eq!(stream_text(&s.body), "Hello", "{model}");
    }
    // What the providers saw, in their own protocols.
    let a = anthropic.requests();
    assert!(
        a.iter()
            .all(|r| r.path == "/v1/messages" && r.x_api_key && !r.bearer),
        "{a:?}"
    );
    assert_eq!(a[0].anthropic_version.as_deref(), Some("2023-06-01"));
    let body = a[0].body.as_ref().unwrap();
    assert_eq!(body["system"], "be brief", "{body}");
    assert_eq!(body["model"], "claude-test");
    assert_eq!(body["max_tokens"], 50);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "{body}");
    let o = openai.requests();
    assert!(
        o.iter()
            .all(|r| r.path == "/v1/chat/completions" && r.bearer && r.key_accepted),
        "{o:?}"
    );
    assert_eq!(o[0].body.as_ref().unwrap()["model"], "gpt-test");
    let l = ollama.requests();
    assert!(l.iter().all(|r| r.path == "/api/chat"), "{l:?}");
    assert_eq!(l[0].body.as_ref().unwrap()["stream"], false);
}

#[test]
fn default_alias_and_model_list() {
    let (sb, openai, _anthropic, _ollama, port) = three_styles();
    let _d = start(&sb, port);
    for model in [None, Some("default"), Some("openai/gpt-test")] {
        let a = post(port, Some(TOKEN), &chat(model, false));
        assert_eq!(a.status, 200, "{model:?}: {}", a.body);
        assert_eq!(a.header("x-clawctl-model"), Some("openai/gpt-test"));
    }
    assert_eq!(openai.request_count(), 3);
    let a = post(port, Some(TOKEN), &chat(Some("nonsense"), false));
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.json()["error"]["code"], "model_not_found");

    let m = get(port, "/v1/models");
    assert_eq!(m.status, 200);
    let ids: Vec<String> = m.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    for want in ["default", "openai/gpt-test", "claude", "local"] {
        assert!(ids.iter().any(|i| i == want), "{want} in {ids:?}");
    }
}

#[test]
fn the_gateway_token_is_required() {
    let (sb, openai, _a, _o, port) = three_styles();
    let _d = start(&sb, port);
    let a = post(port, None, &chat(None, false));
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"]["code"], "missing_gateway_token");
    let a = post(port, Some("tok-wrong"), &chat(None, false));
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"]["code"], "invalid_gateway_token");
    assert_eq!(openai.request_count(), 0);
    let r = ureq::get(&format!("http://127.0.0.1:{port}/v1/models")).call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))));
}

/// A primary that fails with `primary`, a fallback that works.
fn fallback_setup(
    primary: FakeProvider,
    extra: &str,
) -> (Sandbox, FakeProvider, FakeProvider, u16) {
    let mut sb = Sandbox::new();
    let good = FakeProvider::anthropic().accept_key(ANTHROPIC_KEY).start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "{extra}[agents.defaults.model]\nprimary = \"openai/gpt-test\"\nfallbacks = [\"anthropic/claude-test\"]\n\n[models.providers.openai]\nbase_url = \"{}\"\n\n[models.providers.anthropic]\nbase_url = \"{}\"\n",
            primary.base_url(),
            good.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    sb.set_var("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    (sb, primary, good, port)
}

#[test]
fn fallback_on_401_429_5xx_and_timeout_but_not_400() {
    for (status, body) in [
        (401, fake_provider::INVALID_AUTHENTICATION),
        (429, r#"{"error":{"message":"slow down"}}"#),
        (500, r#"{"error":{"message":"boom"}}"#),
        (503, "overloaded"),
    ] {
        let (sb, primary, good, port) =
            fallback_setup(FakeProvider::openai().respond(status, body).start(), "");
        let _d = start(&sb, port);
        for stream in [false, true] {
            let a = post(port, Some(TOKEN), &chat(None, stream));
            assert_eq!(a.status, 200, "{status}: {}", a.body);
            assert_eq!(
                a.header("x-clawctl-provider"),
                Some("anthropic"),
                "{status}"
            );
            assert_eq!(a.header("x-clawctl-attempts"), Some("2"), "{status}");
        }
        assert_eq!(primary.request_count(), 2);
        assert_eq!(good.request_count(), 2);
    }

    // 400: the request's own fault goes back as is; the fallback is not tried.
    let (sb, _primary, good, port) = fallback_setup(
        FakeProvider::openai()
            .respond(
                400,
                r#"{"error":{"message":"messages: bad role","type":"invalid_request_error"}}"#,
            )
            .start(),
        "",
    );
    let _d = start(&sb, port);
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["error"]["message"], "messages: bad role");
    assert_eq!(a.header("x-clawctl-attempts"), Some("1"));
    assert_eq!(good.request_count(), 0);

    // A provider that never answers: the first-byte deadline, then the fallback.
    let (sb, _hole, good, port) = fallback_setup(
        FakeProvider::black_hole(),
        "[gateway.timeouts]\nfirst_byte_ms = 400\n\n",
    );
    let _d = start(&sb, port);
    let t = Instant::now();
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("x-clawctl-attempts"), Some("2"));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(good.request_count(), 1);
    let st = get(port, "/v1/status").json();
    assert_eq!(st["recent_failures"][0]["outcome"], "timeout", "{st}");
}

#[test]
fn every_model_failing_is_explained_in_openai_error_format() {
    let mut sb = Sandbox::new();
    let bad = FakeProvider::openai()
        .respond(500, r#"{"error":{"message":"boom"}}"#)
        .start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "[agents.defaults.model]\nprimary = \"openai/gpt-test\"\n\n[models.providers.openai]\nbase_url = \"{}\"\n",
            bad.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    let _d = start(&sb, port);
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 502, "{}", a.body);
    let e = &a.json()["error"];
    assert_eq!(e["type"], "upstream_error");
    assert_eq!(e["code"], "upstream_server_error");
    assert!(
        e["message"].as_str().unwrap().contains("HTTP 500: boom"),
        "{e}"
    );
}

#[test]
fn an_oversized_body_gets_413() {
    let (sb, openai, _a, _o, port) = three_styles();
    let mut text = sb.read_config();
    text.push_str("\n[gateway.limits]\nmax_body_bytes = 2048\n");
    sb.write_config(&text);
    let _d = start(&sb, port);
    let mut big = chat(None, false);
    big["messages"][1]["content"] = "x".repeat(10_000).into();
    let a = post(port, Some(TOKEN), &big);
    assert_eq!(a.status, 413, "{}", a.body);
    assert_eq!(a.json()["error"]["code"], "request_too_large");
    assert_eq!(openai.request_count(), 0);
    // The gateway is fine afterwards.
    assert_eq!(post(port, Some(TOKEN), &chat(None, false)).status, 200);
}

/// Poll `cond` for up to 3 s (the fake counts a stream after its last write, which
/// may come just after the client saw the end).
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Open a streamed completion and return the reader after its first event.
fn open_stream(port: u16) -> BufReader<Box<dyn Read + Send + Sync>> {
    let r = ureq::post(&format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .timeout(Duration::from_secs(30))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .send_string(&chat(None, true).to_string())
        .unwrap();
    let mut reader = BufReader::new(r.into_reader());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.starts_with("data: "), "{first}");
    reader
}

fn slow_stream_setup() -> (Sandbox, FakeProvider, FakeProvider, u16) {
    let mut sb = Sandbox::new();
    let slow = FakeProvider::openai()
        .accept_key(OPENAI_KEY)
        .chunk_delay(Duration::from_millis(150))
        .answer(&["a", "b", "c", "d", "e", "f", "g", "h"])
        .start();
    let other = FakeProvider::anthropic().accept_key(ANTHROPIC_KEY).start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "[agents.defaults.model]\nprimary = \"openai/gpt-test\"\n\n[models.providers.openai]\nbase_url = \"{}\"\n\n[models.providers.anthropic]\nbase_url = \"{}\"\n",
            slow.base_url(),
            other.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    sb.set_var("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    (sb, slow, other, port)
}

#[test]
fn sighup_during_a_stream_finishes_it_on_the_old_config() {
    let (sb, slow, other, port) = slow_stream_setup();
    let d = start(&sb, port);
    let mut reader = open_stream(port);
    // New config: another primary. The stream in flight must not notice.
    let text = sb
        .read_config()
        .replace("openai/gpt-test", "anthropic/claude-test");
    sb.write_config(&text);
    d.signal(libc::SIGHUP);
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    wait_until("the provider finished its stream", || {
        slow.streams_completed() == 1
    });
    // Once reloaded, new requests use the new primary.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let a = post(port, Some(TOKEN), &chat(None, false));
        if a.header("x-clawctl-provider") == Some("anthropic") {
            break;
        }
        assert!(Instant::now() < deadline, "not reloaded: {:?}", a.headers);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(other.request_count() >= 1);
}

#[test]
fn sigterm_drains_the_stream_in_flight_then_exits() {
    let (sb, slow, _other, port) = slow_stream_setup();
    let mut d = start(&sb, port);
    let mut reader = open_stream(port);
    d.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    // No new connections once draining.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still accepting"
    );
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    wait_until("the provider finished its stream", || {
        slow.streams_completed() == 1
    });
    assert_eq!(d.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn a_client_that_goes_away_cancels_the_upstream_request() {
    let mut sb = Sandbox::new();
    let slow = FakeProvider::openai()
        .accept_key(OPENAI_KEY)
        .chunk_delay(Duration::from_millis(100))
        .answer(&["x"; 60])
        .start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "[agents.defaults.model]\nprimary = \"openai/gpt-test\"\n\n[models.providers.openai]\nbase_url = \"{}\"\n",
            slow.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    let _d = start(&sb, port);
    let reader = open_stream(port);
    drop(reader);
    let deadline = Instant::now() + Duration::from_secs(4);
    while slow.streams_aborted() == 0 {
        assert!(
            Instant::now() < deadline,
            "the provider kept streaming to nobody"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(slow.streams_completed(), 0);
}

/// The seed's key: a Kimi Coding key, configured for Moonshot.
const KIMI_KEY: &str = "sk-kimi-SEEDSEEDSEEDSEED0123456789abcdefABCDEF";

/// The built-in catalog with Moonshot's international region and Kimi Coding's
/// endpoint moved to loopback fakes, so every command (the gateway, onboard,
/// doctor) sees the same endpoints a real setup would.
fn catalog_with(sb: &Sandbox, moonshot: &str, kimi: &str) -> String {
    let text = include_str!("../catalog/providers.toml")
        .replace("https://api.moonshot.ai/v1", moonshot)
        .replace("https://api.kimi.com/coding/", kimi);
    let p = sb.dir.path().join("catalog.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn the_seed_401_is_explained_by_the_gateway_and_doctor_and_fixed() {
    let mut sb = Sandbox::new();
    let moonshot = FakeProvider::openai().start(); // rejects every key: Invalid Authentication
    let kimi = FakeProvider::anthropic()
        .path_prefix("/coding/")
        .accept_key(KIMI_KEY)
        .start();
    let catalog = catalog_with(&sb, &moonshot.base_url(), &kimi.base_url());
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", &catalog);
    sb.set_var("MOONSHOT_API_KEY", KIMI_KEY);
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", TOKEN);
    let port = free_port();
    sb.write_config(&config(
        port,
        "[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n",
    ));
    let host = moonshot.addr().to_string();
    let fp = clawctl::secrets::mask::fingerprint(KIMI_KEY);
    let d = start(&sb, port);

    // The client's error names provider, endpoint, key source and fingerprint, and the fix.
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 502, "{}", a.body);
    assert!(!a.body.contains(KIMI_KEY), "{}", a.body);
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    for want in [
        "moonshot",
        host.as_str(),
        "HTTP 401: Invalid Authentication",
        "MOONSHOT_API_KEY",
        fp.as_str(),
        "Kimi Coding",
        "clawctl onboard --auth-choice kimi-code-api-key",
    ] {
        assert!(msg.contains(want), "{want:?} in {msg}");
    }
    assert_eq!(a.json()["error"]["code"], "upstream_auth");

    // /v1/status
    let st = get(port, "/v1/status");
    assert!(!st.body.contains(KIMI_KEY));
    let f = &st.json()["recent_failures"][0];
    assert_eq!(f["provider"], "moonshot", "{f}");
    assert_eq!(f["endpoint_host"], host.as_str(), "{f}");
    assert_eq!(f["status"], 401, "{f}");
    assert_eq!(f["outcome"], "auth", "{f}");
    assert_eq!(f["key_fingerprint"], fp.as_str(), "{f}");
    assert!(
        f["key_source"]
            .as_str()
            .unwrap()
            .contains("MOONSHOT_API_KEY"),
        "{f}"
    );
    assert!(
        f["fix"].as_str().unwrap().contains("kimi-code-api-key"),
        "{f}"
    );

    // The failure file: 0600, no key.
    let file = sb.clawctl_home().join("run/failures.jsonl");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(crate::common::mode_of(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&fp) && !text.contains(KIMI_KEY), "{text}");

    // gateway logs, text and JSON.
    let logs = sb.run(&["gateway", "logs"]);
    assert_eq!(logs.code, 0, "{}", logs.all());
    assert!(!logs.all().contains(KIMI_KEY));
    assert!(
        logs.stdout.contains("event=upstream-failure"),
        "{}",
        logs.stdout
    );
    assert!(logs.stdout.contains(&fp), "{}", logs.stdout);
    let json_logs = sb.run(&["gateway", "logs", "--json"]);
    let lines: Vec<serde_json::Value> = json_logs
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fail = lines
        .iter()
        .find(|l| l["event"] == "upstream-failure")
        .expect("an upstream-failure line");
    assert_eq!(fail["endpoint"], host.as_str());
    assert_eq!(fail["key_fingerprint"], fp.as_str());
    assert!(
        fail["key_source"]
            .as_str()
            .unwrap()
            .contains("MOONSHOT_API_KEY")
    );
    let req = lines
        .iter()
        .find(|l| l["event"] == "request" && l["route"] == "/v1/chat/completions")
        .expect("a request line");
    assert_eq!(req["status"], "502");
    assert_eq!(req["attempts"], "1");

    // doctor turns it into a finding with the fix.
    let doc = sb.run(&["doctor", "--json"]);
    assert!(!doc.all().contains(KIMI_KEY));
    let j: serde_json::Value =
        serde_json::from_str(&doc.stdout).unwrap_or_else(|e| panic!("{e}: {}", doc.all()));
    let finding = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "gateway-upstream-failure")
        .unwrap_or_else(|| panic!("{j}"));
    let m = finding["message"].as_str().unwrap();
    for want in ["HTTP 401", host.as_str(), "MOONSHOT_API_KEY", fp.as_str()] {
        assert!(m.contains(want), "{want:?} in {m}");
    }
    assert!(
        finding["fix"]
            .as_str()
            .unwrap()
            .contains("clawctl onboard --auth-choice kimi-code-api-key")
    );

    // The fix, then a restart: the same request succeeds, through Kimi Coding.
    let r = sb.run_stdin(
        &[
            "onboard",
            "--non-interactive",
            "--auth-choice",
            "kimi-code-api-key",
            "--api-key-stdin",
            "--set-default",
            "--no-probe",
        ],
        Some(KIMI_KEY),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains(KIMI_KEY));
    let r = sb.run(&["gateway", "restart"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("x-clawctl-provider"), Some("kimi-coding"));
    assert!(kimi.requests().iter().any(|r| r.key_accepted));
    let j: serde_json::Value = serde_json::from_str(&sb.run(&["doctor", "--json"]).stdout).unwrap();
    assert!(
        !j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "gateway-upstream-failure"),
        "stale after the fix: {j}"
    );
    drop(d);
}

/// The official `openai` Python package (installed by `.ci/run`) against the
/// gateway: a non-streamed and a streamed completion, and the model list.
#[test]
fn the_official_openai_python_client_talks_to_the_gateway() {
    let has_openai = std::process::Command::new("python3")
        .args(["-c", "import openai"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_openai {
        eprintln!(
            "SKIPPED: python3 with the `openai` package is not installed (pip install openai)"
        );
        return;
    }
    let (sb, _openai, anthropic, _ollama, port) = three_styles();
    let _d = start(&sb, port);
    let script = format!(
        r#"
import openai
c = openai.OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="{TOKEN}", max_retries=0, timeout=20)
r = c.chat.completions.create(model="claude", messages=[{{"role": "system", "content": "be brief"}}, {{"role": "user", "content": "hi"}}])
print("non-stream:", r.choices[0].message.content, r.choices[0].finish_reason)
s = c.chat.completions.create(model="openai/gpt-test", messages=[{{"role": "user", "content": "hi"}}], stream=True)
print("stream:", "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices))
print("models:", "local" in [m.id for m in c.models.list().data])
try:
    openai.OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0).chat.completions.create(model="default", messages=[{{"role": "user", "content": "hi"}}])
except openai.AuthenticationError as e:
    print("auth:", e.status_code)
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(stdout.contains("non-stream: Hello stop"), "{all}");
    assert!(stdout.contains("stream: Hello"), "{all}");
    assert!(stdout.contains("models: True"), "{all}");
    assert!(stdout.contains("auth: 401"), "{all}");
    assert_eq!(anthropic.request_count(), 1);
}

#[test]
fn a_client_that_gives_up_on_a_non_streamed_answer_is_logged_and_cancelled() {
    let mut sb = Sandbox::new();
    let slow = FakeProvider::openai()
        .accept_key(OPENAI_KEY)
        .first_byte_delay(Duration::from_secs(3))
        .start();
    let port = free_port();
    sb.write_config(&config(
        port,
        &format!(
            "[agents.defaults.model]\nprimary = \"openai/gpt-test\"\n\n[models.providers.openai]\nbase_url = \"{}\"\n",
            slow.base_url()
        ),
    ));
    sb.set_var("OPENAI_API_KEY", OPENAI_KEY);
    let _d = start(&sb, port);
    let r = ureq::post(&format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .timeout(Duration::from_millis(500))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .send_string(&chat(None, false).to_string());
    assert!(r.is_err(), "the fake answers after 3 s");
    wait_until("the abandoned request is logged", || {
        sb.run(&["gateway", "logs", "--json"])
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|l| l["status"] == "499" && l["ended"] == "client-disconnected")
    });
}

#[test]
fn a_key_of_the_other_region_is_found_and_named_in_later_errors() {
    const CN_KEY: &str = "sk-CHINACHINACHINA0123456789abcdef";
    let mut sb = Sandbox::new();
    let intl = FakeProvider::openai().start(); // rejects every key
    let cn = FakeProvider::openai().accept_key(CN_KEY).start();
    let text = include_str!("../catalog/providers.toml")
        .replace("https://api.moonshot.ai/v1", &intl.base_url())
        .replace("https://api.moonshot.cn/v1", &cn.base_url());
    let catalog = sb.dir.path().join("catalog.toml");
    std::fs::write(&catalog, text).unwrap();
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", &catalog.display().to_string());
    sb.set_var("MOONSHOT_API_KEY", CN_KEY);
    let port = free_port();
    sb.write_config(&config(
        port,
        "[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n",
    ));
    let _d = start(&sb, port);
    let a = post(port, Some(TOKEN), &chat(None, false));
    assert_eq!(a.status, 502, "{}", a.body);
    // The key is tried on the other region in the background; later failures say so.
    let mut msg = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !msg.contains("China platform") {
        assert!(Instant::now() < deadline, "no region diagnosis: {msg}");
        std::thread::sleep(Duration::from_millis(200));
        let a = post(port, Some(TOKEN), &chat(None, false));
        assert!(!a.body.contains(CN_KEY));
        msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    }
    assert!(
        msg.contains(&format!(
            "clawctl config set models.providers.moonshot.base_url {}",
            cn.base_url()
        )),
        "{msg}"
    );
    assert!(cn.requests().iter().any(|r| r.key_accepted));
    let st = get(port, "/v1/status").json();
    let last = st["recent_failures"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["fix"].as_str().unwrap().contains("base_url"), "{last}");
}
