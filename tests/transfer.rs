//! `import` (OpenClaw, bundles) and `export`, end to end.

use crate::common::*;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/transfer/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

const LITERAL: &str = "sk-LITERALMOONSHOTKEY0123456789abcdefghij";

#[test]
fn openclaw_import_done_when() {
    let sb = Sandbox::new();
    let r = sb.run(&["import", &fixture("openclaw.json")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("LITERALMOONSHOT"), "{}", r.all());
    assert!(
        r.stdout.contains("not imported: channels.telegram"),
        "{}",
        r.stdout
    );
    let creds = sb.clawctl_home().join("credentials.toml");
    assert_eq!(mode_of(&creds), 0o600);
    assert!(std::fs::read_to_string(&creds).unwrap().contains(LITERAL));
    let cfg = sb.read_config();
    assert!(!cfg.contains("LITERALMOONSHOT"), "{cfg}");
    assert!(cfg.contains("api_key = \"${ZAI_API_KEY}\""), "{cfg}");
    assert!(cfg.starts_with("#:schema"), "{cfg}");
    assert_eq!(
        sb.run(&["config", "validate"]).code,
        0,
        "{}",
        sb.run(&["config", "validate"]).all()
    );
    assert_eq!(
        sb.run(&["config", "get", "agents.defaults.model.primary"])
            .stdout,
        "moonshot/kimi-k2.5\n"
    );
}

#[test]
fn import_never_overwrites_without_merge_and_dry_run_writes_nothing() {
    let sb = Sandbox::new();
    sb.write_config("# mine\n[gateway]\nport = 19000 # keep the comment\n");
    let r = sb.run(&["import", &fixture("openclaw.json")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--merge"), "{}", r.stderr);
    let r = sb.run(&["import", "--dry-run", "--merge", &fixture("openclaw.json")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("+primary = \"moonshot/kimi-k2.5\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("-port = 19000 # keep the comment\n+port = 18789 # keep the comment"),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains("LITERALMOONSHOT"));
    assert_eq!(
        sb.read_config(),
        "# mine\n[gateway]\nport = 19000 # keep the comment\n"
    );
    assert!(!sb.clawctl_home().join("credentials.toml").exists());
    let r = sb.run(&["import", "--merge", &fixture("openclaw.json")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        sb.read_config()
            .starts_with("# mine\n[gateway]\nport = 18789 # keep the comment"),
        "{}",
        sb.read_config()
    );
}

#[test]
fn export_import_round_trip_with_secrets() {
    let a = Sandbox::new();
    assert_eq!(a.run(&["import", &fixture("openclaw.json")]).code, 0);
    let bundle = a.dir.path().join("bundle.json");
    let r = a.run(&[
        "export",
        "--include-secrets",
        "--output",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mode_of(&bundle), 0o600);
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        !text.contains(a.home().to_str().unwrap()),
        "home paths are relative"
    );

    let b = Sandbox::new();
    let r = b.run(&["import", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        a.run(&["config", "list"]).stdout,
        b.run(&["config", "list"]).stdout
    );
    let ja = a.json(&["models", "status", "--json"]);
    let jb = b.json(&["models", "status", "--json"]);
    assert_eq!(
        ja["providers"][0]["cli"]["sources"][0]["fingerprint"],
        jb["providers"][0]["cli"]["sources"][0]["fingerprint"]
    );
    assert!(
        jb["providers"][0]["cli"]["sources"][0]["fingerprint"].is_string(),
        "{jb}"
    );
}

#[test]
fn export_without_secrets_holds_none() {
    let a = Sandbox::new();
    assert_eq!(a.run(&["import", &fixture("openclaw.json")]).code, 0);
    let r = a.run(&["export"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.stdout.contains("LITERALMOONSHOT") && !r.stdout.contains("\"credentials\""),
        "{}",
        r.stdout
    );
    let bundle = a.dir.path().join("b.json");
    std::fs::write(&bundle, &r.stdout).unwrap();
    let b = Sandbox::new();
    let r = b.run(&["import", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("clawctl onboard"), "{}", r.stdout);
    assert_eq!(
        a.run(&["config", "list"]).stdout,
        b.run(&["config", "list"]).stdout
    );
}

#[test]
fn a_broken_import_names_file_and_line() {
    let sb = Sandbox::new();
    let f = sb.dir.path().join("openclaw.json");
    std::fs::write(&f, "{\n  gateway: { port: 1 }\n  agents: {}\n}\n").unwrap();
    let r = sb.run(&["import", f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("openclaw.json:3:"), "{}", r.stderr);
    assert!(!sb.config_path().exists());
}
