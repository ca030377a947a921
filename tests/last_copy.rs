//! Issue 11 kind 6: a rewrite never removes the last copy of a secret. Each writer
//! that drops or replaces a value (`doctor --fix`, `import --merge`, `migrate`)
//! keeps the key in credentials.toml, says where (shape + fingerprint), and never
//! prints the key.

use crate::common::*;

const STORED: &str = "sk-proj-STOREDSTORED000000000000000000000000000";
const LITERAL: &str = "sk-proj-LITERALLITERAL0000000000000000000000000";

/// The fingerprint `models status --json` shows for `provider`'s winning key.
fn fingerprint(sb: &Sandbox, provider: &str) -> String {
    let v = sb.json(&["models", "status", "--json"]);
    let p = v["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == provider)
        .cloned()
        .unwrap_or_default();
    p["cli"]["sources"][0]["fingerprint"]
        .as_str()
        .unwrap_or_else(|| panic!("no fingerprint for {provider}: {v}"))
        .to_string()
}

/// Point `provider`'s key at credential `profile`, to show a kept key resolves.
fn point_at(sb: &Sandbox, provider: &str, profile: &str) {
    let key = format!("models.providers.{provider}.api_key");
    let r = sb.run(&["config", "set", &key, &format!("cred:{profile}")]);
    assert_eq!(r.code, 0, "{}", r.all());
}

fn creds(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.clawctl_home().join("credentials.toml")).unwrap_or_default()
}

/// A stored openai:default key, then a config that types another key literally.
fn stored_and_literal(sb: &Sandbox) {
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n");
    let r = sb.set_stdin("models.providers.openai.api_key", STORED);
    assert_eq!(r.code, 0, "{}", r.all());
    sb.write_config(&format!(
        "[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[models.providers.openai]\napi_key = \"{LITERAL}\"\n"
    ));
}

#[test]
fn doctor_fix_moves_a_literal_without_replacing_the_stored_key() {
    let sb = Sandbox::new();
    stored_and_literal(&sb);
    let before = fingerprint(&sb, "openai");
    let r = sb.run(&["doctor", "--fix"]);
    assert!(
        !r.all().contains(LITERAL) && !r.all().contains(STORED),
        "{}",
        r.all()
    );
    assert!(
        r.all()
            .contains("held the only copy of a secret (sk-proj-… (sha256:"),
        "{}",
        r.all()
    );
    assert!(r.all().contains("as profile openai:kept"), "{}", r.all());
    assert!(
        sb.read_config().contains("\"cred:openai:kept\""),
        "{}",
        sb.read_config()
    );
    let c = creds(&sb);
    assert!(c.contains(LITERAL) && c.contains(STORED));
    assert_eq!(fingerprint(&sb, "openai"), before);
}

#[test]
fn import_merge_keeps_the_literal_it_replaces() {
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[models.providers.moonshot]\napi_key = \"{LITERAL}\"\n"
    ));
    let before = fingerprint(&sb, "moonshot");
    let fixture = format!(
        "{}/tests/fixtures/transfer/openclaw.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let r = sb.run(&["import", "--merge", &fixture]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains(LITERAL), "{}", r.all());
    assert!(
        r.stdout.contains(
            "kept: `models.providers.moonshot.api_key` in config.toml held the only copy"
        ) && r.stdout.contains("as profile moonshot:default"),
        "{}",
        r.all()
    );
    assert!(creds(&sb).contains(LITERAL));
    // The kept key resolves: point the provider back at it.
    point_at(&sb, "moonshot", "moonshot:default");
    assert_eq!(fingerprint(&sb, "moonshot"), before);
}

#[test]
fn migrate_keeps_a_literal_key_resolving() {
    // The fingerprint the key has where a current config holds it.
    let reference = Sandbox::new();
    reference.write_config(&format!(
        "[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[models.providers.openai]\napi_key = \"{LITERAL}\"\n"
    ));
    let before = fingerprint(&reference, "openai");
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[agents.defaults]\nmodel = \"openai/gpt-5\"\n[models.providers.openai]\napiKey = \"{LITERAL}\"\n"
    ));
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains(LITERAL), "{}", r.all());
    assert!(!sb.read_config().contains(LITERAL));
    assert!(creds(&sb).contains(LITERAL));
    assert_eq!(fingerprint(&sb, "openai"), before);
}

#[test]
fn import_merge_keeps_a_stored_key_that_a_bundle_replaces() {
    // Machine A stores LITERAL as openai:default and exports it.
    let a = Sandbox::new();
    a.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n");
    let r = a.set_stdin("models.providers.openai.api_key", LITERAL);
    assert_eq!(r.code, 0, "{}", r.all());
    let bundle = a.dir.path().join("bundle.json");
    let r = a.run(&[
        "export",
        "--include-secrets",
        "--output",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Machine B has STORED under the same profile: merging must not lose it.
    let b = Sandbox::new();
    stored_and_literal(&b);
    b.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[models.providers.openai]\napi_key = \"cred:openai:default\"\n");
    let before = fingerprint(&b, "openai");
    let r = b.run(&["import", "--merge", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.all().contains(STORED) && !r.all().contains(LITERAL),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("kept: credentials.toml profile openai:default held the only copy")
            && r.stdout.contains("as profile openai:kept"),
        "{}",
        r.all()
    );
    let c = creds(&b);
    assert!(c.contains(STORED) && c.contains(LITERAL));
    point_at(&b, "openai", "openai:kept");
    assert_eq!(fingerprint(&b, "openai"), before);
}
