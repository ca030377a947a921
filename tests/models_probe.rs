//! `models status --probe` against loopback fake providers pointed at through the
//! catalog override: ok, auth, region mismatch, key-shape mismatch, timeout.

use crate::common::*;

use crate::fake_provider;
use fake_provider::FakeProvider;

const CN_KEY: &str = "sk-CHINACHINACHINA0123456789abcdefghijk";

fn catalog(intl: &str, cn: &str) -> String {
    format!(
        "[[provider]]\nid = \"moonshot\"\nname = \"Moonshot (Kimi)\"\nkey_env = [\"MOONSHOT_API_KEY\"]\napi = \"openai-completions\"\nkey_shapes = [\"sk-\"]\nnot_key_shapes = [\"sk-kimi-\"]\nmodels = [\"kimi-k2.5\"]\nregions = [\n  {{ id = \"international\", name = \"international platform (platform.moonshot.ai)\", base_url = \"{intl}\", auth_choice = \"moonshot-api-key\" }},\n  {{ id = \"cn\", name = \"China platform (platform.moonshot.cn)\", base_url = \"{cn}\", auth_choice = \"moonshot-api-key-cn\" }},\n]\n\n[[provider]]\nid = \"kimi-coding\"\nname = \"Kimi Coding\"\naliases = [\"kimi-code\"]\nkey_env = [\"KIMI_API_KEY\"]\napi = \"anthropic-messages\"\nkey_shapes = [\"sk-kimi-\"]\nmodels = [\"k2p5\"]\nregions = [ {{ id = \"global\", name = \"Kimi Coding\", base_url = \"{cn}\", auth_choice = \"kimi-code-api-key\" }} ]\n"
    )
}

fn setup(sb: &mut Sandbox, intl: &str, cn: &str, key: &str, choice: &str) {
    let cat = sb.dir.path().join("catalog.toml");
    std::fs::write(&cat, catalog(intl, cn)).unwrap();
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
    let r = sb.run_stdin(
        &[
            "onboard",
            "--auth-choice",
            choice,
            "--api-key-stdin",
            "--no-probe",
            "--force",
        ],
        Some(key),
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn ok_when_the_provider_accepts_the_key() {
    let cn = FakeProvider::openai().accept_key(CN_KEY).start();
    let intl = FakeProvider::openai().start();
    let mut sb = Sandbox::new();
    setup(
        &mut sb,
        &intl.base_url(),
        &cn.base_url(),
        CN_KEY,
        "moonshot-api-key-cn",
    );
    let r = sb.run(&["models", "status", "--probe"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("probe: ok"), "{}", r.stdout);
    assert!(cn.requests()[0].bearer);
    assert!(!r.all().contains("CHINACHINA"));
}

#[test]
fn a_china_key_on_the_international_endpoint_is_diagnosed() {
    let cn = FakeProvider::openai().accept_key(CN_KEY).start();
    let intl = FakeProvider::openai().start();
    let mut sb = Sandbox::new();
    setup(
        &mut sb,
        &intl.base_url(),
        &cn.base_url(),
        CN_KEY,
        "moonshot-api-key",
    );
    let r = sb.run(&["models", "status", "--probe-provider", "moonshot"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("probe: auth"), "{}", r.stdout);
    assert!(r.stdout.contains("Invalid Authentication"), "{}", r.stdout);
    assert!(r.stdout.contains("China platform"), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "clawctl config set models.providers.moonshot.base_url {}",
            cn.base_url()
        )),
        "{}",
        r.stdout
    );
    let j = sb.json(&["models", "status", "--probe", "--json"]);
    let p = &j["providers"][0]["probe"];
    assert_eq!(p["outcome"], "auth");
    assert_eq!(p["findings"][0]["kind"], "region");
    assert!(!j.to_string().contains("CHINACHINA"));
}

#[test]
fn a_kimi_coding_key_configured_for_moonshot_is_found() {
    let intl = FakeProvider::openai().start();
    let cn = FakeProvider::openai().start();
    let mut sb = Sandbox::new();
    setup(
        &mut sb,
        &intl.base_url(),
        &cn.base_url(),
        "sk-kimi-SHAPESHAPE0123456789abcdefghijklm",
        "moonshot-api-key",
    );
    let r = sb.run(&["models", "status", "--probe"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("--auth-choice kimi-code-api-key"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("kimi-code-api-key"), "{}", r.stdout);
}

#[test]
fn a_provider_that_never_answers_times_out() {
    let hole = FakeProvider::black_hole();
    let mut sb = Sandbox::new();
    setup(
        &mut sb,
        &hole.base_url(),
        &hole.base_url(),
        CN_KEY,
        "moonshot-api-key",
    );
    let r = sb.run(&["models", "status", "--probe", "--timeout", "1"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("probe: timeout"), "{}", r.stdout);
}

#[test]
fn check_fails_without_a_key_for_the_default_model() {
    let sb = Sandbox::new();
    sb.write_config("[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n");
    let r = sb.run(&["models", "status", "--check"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("MISSING"), "{}", r.stdout);
    assert_eq!(sb.run(&["models", "status"]).code, 0);
}
