//! `clawctl::providers::probe` against real HTTP on loopback: the fake provider plays the
//! endpoints, a catalog built from TOML points the regions at it.

use crate::fake_provider;

use std::collections::BTreeMap;
use std::time::Duration;

use clawctl::config::model::ApiStyle;
use clawctl::providers::catalog::Catalog;
use clawctl::providers::probe::{
    self, Outcome, ProbeResult, ProbeTarget, diagnose_region, probe, shape_finding,
};
use fake_provider::FakeProvider;

/// A Moonshot-shaped key whose middle is distinctive enough to search for.
const KEY: &str = "sk-CANARYq81mXv0pLr4TtYb6NcW2eHs9AaDf3GjK7uPw";
/// A Kimi Coding-shaped key.
const KIMI_KEY: &str = "sk-kimi-CANARYz5Rt0nBv8WqLm2XsKd4JpHc7FgYa1Ue";
const SHORT: Duration = Duration::from_secs(5);

fn target<'a>(base_url: &'a str, api: ApiStyle, key: Option<&'a str>) -> ProbeTarget<'a> {
    ProbeTarget {
        timeout: SHORT,
        ..ProbeTarget::new("moonshot", base_url, api, key)
    }
}

/// Neither a key nor a recognisable piece of one is in `text`.
fn assert_no_key(text: &str, key: &str) {
    assert!(!text.contains(key), "the key leaked: {text}");
    // The part after the shape prefix, in 10-character windows.
    let body = &key[key.find("CANARY").unwrap()..];
    for w in body.as_bytes().windows(10) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(!text.contains(w), "a piece of the key ({w}) leaked: {text}");
    }
}

fn assert_result_clean(r: &ProbeResult, key: &str) {
    assert_no_key(&format!("{r:?}"), key);
    assert_no_key(&serde_json::to_string(r).unwrap(), key);
}

#[test]
fn a_valid_key_is_ok_and_sent_as_bearer_on_models() {
    let fake = FakeProvider::openai()
        .accept_key(KEY)
        .models(&["kimi-k2.5", "kimi-k2-thinking"])
        .start();
    let base = fake.base_url();
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert!(r.outcome.is_ok());
    assert_eq!(r.status, Some(200));
    assert_eq!(r.url, format!("{base}/models"));
    assert_eq!(r.detail, "2 models listed");
    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "one request, no retries: {seen:?}");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v1/models");
    assert!(seen[0].bearer && !seen[0].x_api_key, "{seen:?}");
    assert!(seen[0].key_accepted);
}

#[test]
fn anthropic_style_sends_x_api_key_on_v1_models_below_a_trailing_slash_base() {
    let fake = FakeProvider::anthropic()
        .path_prefix("/coding/")
        .accept_key(KIMI_KEY)
        .start();
    let base = fake.base_url();
    assert!(base.ends_with("/coding/"));
    let r = probe(&target(&base, ApiStyle::AnthropicMessages, Some(KIMI_KEY)));
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert_eq!(r.url, format!("{}/coding/v1/models", fake.origin()));
    let seen = &fake.requests()[0];
    assert_eq!(seen.path, "/coding/v1/models");
    assert!(seen.x_api_key && !seen.bearer, "{seen:?}");
    assert_eq!(
        seen.anthropic_version.as_deref(),
        Some(probe::ANTHROPIC_VERSION)
    );
}

#[test]
fn ollama_style_lists_tags_without_a_key() {
    let fake = FakeProvider::ollama().models(&["llama3.3"]).start();
    let base = fake.base_url();
    let r = probe(&target(&base, ApiStyle::Ollama, None));
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert_eq!(r.detail, "1 model listed");
    let seen = &fake.requests()[0];
    assert_eq!(seen.path, "/api/tags");
    assert!(!seen.bearer && !seen.x_api_key, "{seen:?}");
}

#[test]
fn config_headers_are_sent_too() {
    let fake = FakeProvider::openai().accept_key(KEY).start();
    let base = fake.base_url();
    let mut headers = BTreeMap::new();
    headers.insert("X-Title".to_string(), "clawctl-test".to_string());
    let t = ProbeTarget {
        headers: &headers,
        ..target(&base, ApiStyle::OpenaiCompletions, Some(KEY))
    };
    assert_eq!(probe(&t).outcome, Outcome::Ok);
    assert!(fake.requests()[0].has_header("x-title"));
}

#[test]
fn a_rejected_key_is_auth_with_the_provider_message() {
    let fake = FakeProvider::openai()
        .accept_key("sk-some-other-key-000000000")
        .start();
    let base = fake.base_url();
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_eq!(r.outcome, Outcome::Auth, "{r:?}");
    assert_eq!(r.status, Some(401));
    assert_eq!(r.detail, "Invalid Authentication");
    assert_result_clean(&r, KEY);
}

#[test]
fn statuses_are_classified() {
    let cases = [
        (
            402,
            r#"{"error":{"message":"Your account is suspended due to insufficient balance","type":"exceeded_current_quota_error"}}"#,
            Outcome::Billing,
            "Your account is suspended due to insufficient balance",
        ),
        (
            429,
            r#"{"error":{"message":"rate limit reached","type":"rate_limit_reached_error"}}"#,
            Outcome::RateLimited,
            "rate limit reached",
        ),
        (
            404,
            r#"{"message":"not here"}"#,
            Outcome::NotFound,
            "not here",
        ),
        (403, "forbidden region", Outcome::Auth, "forbidden region"),
        (
            503,
            "<html>upstream down</html>",
            Outcome::ServerError,
            "Service Unavailable",
        ),
        (418, "", Outcome::OtherStatus, "no message"),
    ];
    for (status, body, outcome, detail) in cases {
        let fake = FakeProvider::openai().respond(status, body).start();
        let base = fake.base_url();
        let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
        assert_eq!((r.outcome, r.status), (outcome, Some(status)), "{r:?}");
        assert_eq!(r.detail, detail);
    }
}

#[test]
fn a_wrong_base_path_is_not_found() {
    // The gateway would call the same URL, so the probe does not "fix" the base.
    let fake = FakeProvider::openai().accept_key(KEY).start();
    let base = format!("{}/api", fake.origin());
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_eq!(r.outcome, Outcome::NotFound, "{r:?}");
}

#[test]
fn a_200_that_is_not_json_is_not_ok() {
    let fake = FakeProvider::openai()
        .respond(200, "<html>captive portal</html>")
        .start();
    let base = fake.base_url();
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_eq!(r.outcome, Outcome::OtherStatus, "{r:?}");
    assert!(r.detail.contains("not with JSON"), "{r:?}");
}

#[test]
fn redirects_are_not_followed_so_the_key_stays_put() {
    let elsewhere = FakeProvider::openai().accept_key(KEY).start();
    let redirector = FakeProvider::openai()
        .redirect_to(&format!("{}/models", elsewhere.base_url()))
        .start();
    let base = redirector.base_url();
    let r = probe(&target(&base, ApiStyle::AnthropicMessages, Some(KEY)));
    assert_eq!(
        (r.outcome, r.status),
        (Outcome::OtherStatus, Some(302)),
        "{r:?}"
    );
    assert!(r.detail.contains("not followed"), "{r:?}");
    assert_eq!(
        elsewhere.request_count(),
        0,
        "the key followed the redirect"
    );
}

#[test]
fn connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let base = format!("http://127.0.0.1:{port}/v1");
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_eq!(r.outcome, Outcome::ConnectionRefused, "{r:?}");
    assert_eq!(r.status, None);
    assert_result_clean(&r, KEY);
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let hole = FakeProvider::black_hole();
    let base = hole.base_url();
    let t = ProbeTarget {
        timeout: Duration::from_secs(1),
        ..target(&base, ApiStyle::OpenaiCompletions, Some(KEY))
    };
    let r = probe(&t);
    assert_eq!(r.outcome, Outcome::Timeout, "{r:?}");
    assert_eq!(hole.request_count(), 1, "the request arrived and was held");
    assert_result_clean(&r, KEY);
}

#[test]
fn an_unresolvable_host_is_dns() {
    // `.invalid` never resolves (RFC 6761).
    let r = probe(&target(
        "http://clawctl-probe.invalid/v1",
        ApiStyle::OpenaiCompletions,
        Some(KEY),
    ));
    assert_eq!(r.outcome, Outcome::Dns, "{r:?}");
}

#[test]
fn https_to_a_server_that_does_not_speak_tls_is_tls() {
    // A plain-HTTP server answering the ClientHello at once, as a misconfigured
    // proxy or an http-only port does (tiny_http would wait for a request line and
    // turn this into a timeout).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = conn.read(&mut buf);
        let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let base = format!("https://{addr}/v1");
    let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(KEY)));
    server.join().unwrap();
    assert_eq!(r.outcome, Outcome::Tls, "{r:?}");
    assert_result_clean(&r, KEY);
}

#[test]
fn bad_base_urls_are_invalid_without_a_request() {
    for base in ["", "api.moonshot.ai/v1", "ftp://api.moonshot.ai/v1"] {
        let r = probe(&target(base, ApiStyle::OpenaiCompletions, Some(KEY)));
        assert_eq!(r.outcome, Outcome::InvalidUrl, "{base}: {r:?}");
    }
}

#[test]
fn a_key_with_a_pasted_newline_or_invisible_character_is_not_sent() {
    let fake = FakeProvider::openai().accept_key(KEY).start();
    let base = fake.base_url();
    for key in [format!("{KEY}\n"), format!("{KEY}\u{200b}")] {
        let r = probe(&target(&base, ApiStyle::OpenaiCompletions, Some(&key)));
        assert_eq!(r.outcome, Outcome::Auth, "{r:?}");
        assert!(r.detail.contains("it was not sent"), "{r:?}");
        assert_result_clean(&r, KEY);
    }
    assert_eq!(fake.request_count(), 0);
}

/// A Moonshot-like provider with two regions on two loopback fakes.
fn two_region_catalog(intl: &str, cn: &str) -> Catalog {
    let toml = format!(
        r#"
[[provider]]
id = "moonshot"
name = "Moonshot (Kimi)"
key_env = ["MOONSHOT_API_KEY"]
api = "openai-completions"
key_shapes = ["sk-"]
not_key_shapes = ["sk-kimi-"]
regions = [
  {{ id = "international", name = "international platform (platform.moonshot.ai)", base_url = "{intl}", auth_choice = "moonshot-api-key" }},
  {{ id = "cn", name = "China platform (platform.moonshot.cn)", base_url = "{cn}", auth_choice = "moonshot-api-key-cn" }},
]

[[provider]]
id = "kimi-coding"
name = "Kimi Coding"
api = "anthropic-messages"
key_shapes = ["sk-kimi-"]
models = ["k2p5"]
regions = [
  {{ id = "global", name = "Kimi Coding", base_url = "{intl}", auth_choice = "kimi-code-api-key" }},
]
"#
    );
    toml_edit::de::from_str(&toml).expect("test catalog parses")
}

#[test]
fn a_china_key_on_the_international_endpoint_is_found() {
    let intl = FakeProvider::openai()
        .accept_key("sk-intl-only-key-0000000000")
        .start();
    let cn = FakeProvider::openai().accept_key(KEY).start();
    let catalog = two_region_catalog(&intl.base_url(), &cn.base_url());
    let moonshot = catalog.get("moonshot").unwrap();

    let intl_base = intl.base_url();
    let t = target(&intl_base, ApiStyle::OpenaiCompletions, Some(KEY));
    let first = probe(&t);
    assert_eq!(first.outcome, Outcome::Auth, "{first:?}");

    let finding = diagnose_region(moonshot, &t).expect("the cn region accepts the key");
    assert_eq!(finding.works_on.id, "cn");
    assert_eq!(finding.rejected_by.id, "international");
    assert_eq!(finding.result.outcome, Outcome::Ok);
    assert!(
        finding
            .message
            .starts_with("this key belongs to the China platform (platform.moonshot.cn)"),
        "{}",
        finding.message
    );
    assert_eq!(
        finding.fix,
        format!(
            "clawctl config set models.providers.moonshot.base_url {}",
            cn.base_url()
        )
    );
    assert_eq!(
        finding.onboard_fix,
        "clawctl onboard --auth-choice moonshot-api-key-cn"
    );
    assert_eq!(cn.request_count(), 1);
    assert_no_key(&format!("{finding:?}"), KEY);
    assert_no_key(&serde_json::to_string(&finding).unwrap(), KEY);
}

#[test]
fn no_region_finding_when_every_region_rejects_the_key() {
    let intl = FakeProvider::openai().start();
    let cn = FakeProvider::openai().start();
    let catalog = two_region_catalog(&intl.base_url(), &cn.base_url());
    let intl_base = intl.base_url();
    let t = target(&intl_base, ApiStyle::OpenaiCompletions, Some(KEY));
    assert!(diagnose_region(catalog.get("moonshot").unwrap(), &t).is_none());
    assert_eq!(cn.request_count(), 1, "the other region was tried once");
}

#[test]
fn a_key_for_a_private_mirror_is_never_offered_to_the_catalog_regions() {
    let mirror = FakeProvider::openai().start();
    let intl = FakeProvider::openai().accept_key(KEY).start();
    let cn = FakeProvider::openai().accept_key(KEY).start();
    let catalog = two_region_catalog(&intl.base_url(), &cn.base_url());
    let mirror_base = mirror.base_url();
    let t = target(&mirror_base, ApiStyle::OpenaiCompletions, Some(KEY));
    assert!(diagnose_region(catalog.get("moonshot").unwrap(), &t).is_none());
    assert_eq!(intl.request_count() + cn.request_count(), 0);
}

#[test]
fn a_kimi_coding_key_for_moonshot_is_a_shape_finding() {
    let catalog = Catalog::builtin();
    let f = shape_finding(&catalog, "moonshot", KIMI_KEY).expect("finding");
    assert_eq!(f.provider_id, "moonshot");
    assert_eq!(f.belongs_to, ["kimi-coding"]);
    assert_eq!(f.key_prefix.as_deref(), Some("sk-kimi-"));
    assert_eq!(
        f.fix.as_deref(),
        Some("clawctl onboard --auth-choice kimi-code-api-key")
    );
    assert!(f.message.contains("Kimi Coding"), "{}", f.message);
    assert!(f.message.contains("kimi-coding/k2p5"), "{}", f.message);
    assert_no_key(&format!("{f:?}"), KIMI_KEY);
    // Aliases resolve (`kimi` is Kimi Coding, as in OpenClaw); a plain sk- key is a
    // fine Moonshot key.
    assert!(shape_finding(&catalog, "moonshotai", KIMI_KEY).is_some());
    assert!(shape_finding(&catalog, "kimi", KIMI_KEY).is_none());
    assert!(shape_finding(&catalog, "moonshot", KEY).is_none());
    assert!(shape_finding(&catalog, "kimi-coding", KIMI_KEY).is_none());
}

#[test]
fn other_shape_findings() {
    let catalog = Catalog::builtin();
    // An OpenAI project key configured for Moonshot.
    let f = shape_finding(&catalog, "moonshot", "sk-proj-CANARYabcdefghijklmnop0123").unwrap();
    assert_eq!(f.belongs_to, ["openai"]);
    // A Kimi Coding key for Z.AI, which has no fixed shape of its own.
    let f = shape_finding(&catalog, "zai", KIMI_KEY).unwrap();
    assert_eq!(f.belongs_to, ["kimi-coding"]);
    // Ambiguous `sk-` for Z.AI: no finding.
    assert!(shape_finding(&catalog, "zai", KEY).is_none());
    // A Moonshot-style key for Anthropic: wrong shape, several owners, no one fix.
    let f = shape_finding(&catalog, "anthropic", KEY).unwrap();
    assert!(f.fix.is_none());
    assert!(f.message.contains("not an Anthropic key"), "{}", f.message);
    // No recognised shape at all for Anthropic.
    let f = shape_finding(&catalog, "anthropic", "0123456789abcdef0123456789").unwrap();
    assert!(f.belongs_to.is_empty());
    assert!(f.message.contains("sk-ant-api03-…"), "{}", f.message);
    // Keyless, custom and unknown providers never produce one.
    assert!(shape_finding(&catalog, "ollama", KIMI_KEY).is_none());
    assert!(shape_finding(&catalog, "custom", KIMI_KEY).is_none());
    assert!(shape_finding(&catalog, "no-such-provider", KIMI_KEY).is_none());
}

#[test]
fn the_key_never_appears_even_when_the_provider_echoes_it() {
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY} (also {}***{})","type":"invalid_request_error"}}}}"#,
        &KEY[..12],
        &KEY[KEY.len() - 4..]
    );
    let fake = FakeProvider::openai().respond(401, &body).start();
    let base = fake.base_url();
    let t = target(&base, ApiStyle::OpenaiCompletions, Some(KEY));
    let r = probe(&t);
    assert_eq!(r.outcome, Outcome::Auth, "{r:?}");
    assert!(
        r.detail
            .starts_with("Incorrect API key provided: [redacted]"),
        "{r:?}"
    );
    assert_result_clean(&r, KEY);
    assert_no_key(&format!("{t:?}"), KEY);

    // The key in a base URL's userinfo or query does not survive either.
    let leaky = format!("http://user:{KEY}@{}/v1", fake.addr());
    let r = probe(&target(&leaky, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_result_clean(&r, KEY);
    let leaky = format!("{}?key={KEY}", fake.base_url());
    let r = probe(&target(&leaky, ApiStyle::OpenaiCompletions, Some(KEY)));
    assert_result_clean(&r, KEY);
}
