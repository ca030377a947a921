//! Hostile input, kind 1: a secret is recognised by what it is, wherever it sits, and
//! every output goes through the one masking sink. A matrix of secrets (shaped key,
//! plain password under a secret-looking key, URL userinfo, base64 token) × places
//! (right key, misspelt key, wrong type, headers, unquoted syntax error, non-secret
//! field, `--set`, `.env`, usage errors, `$include`) × commands.

use crate::common::*;

const SHAPED: &str = "sk-CNRYmatrix0123456789abcdefghijklmnopq";
const PLAIN: &str = "Plain-Pa55word-NotShaped";
const URL_PASS: &str = "CNRYurlpass0123456789abcdefghij";

const READERS: &[&[&str]] = &[
    &["config", "validate"],
    &["config", "validate", "--json"],
    &["config", "list", "--show-origin"],
    &["config", "list", "--json"],
    &["config", "get", "models.providers.openai", "--json"],
    &["config", "get", "gateway.port"],
    &["config", "set", "gateway.port", "1234", "--dry-run"],
    &["status"],
    &["status", "--json"],
    &["doctor"],
    &["doctor", "--json"],
    &["models", "status", "--json"],
    &["migrate", "--dry-run"],
    &["export"],
];

fn assert_hidden(sb: &Sandbox, args: &[&str], needles: &[&str]) {
    let r = sb.run(args);
    for n in needles {
        assert!(
            !r.all().contains(n),
            "`clawctl {}` printed {n}:\n{}",
            args.join(" "),
            r.all()
        );
    }
}

fn config_with(body: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[meta]\nversion = 1\n[models.providers.openai]\n{body}\n"
    ));
    sb
}

#[test]
fn no_place_of_a_config_key_prints_it() {
    let bodies = [
        format!("api_key = \"{SHAPED}\""),
        format!("apikey = \"{SHAPED}\""),
        format!("apiKey = \"{PLAIN}\""),
        format!("api_key = [\"{SHAPED}\"]"),
        format!("api_key = {{ value = \"{PLAIN}\" }}"),
        // Pasted without quotes: a syntax error whose excerpt quotes the line.
        format!("api_key = {SHAPED}"),
        format!("password = {PLAIN}"),
        format!("base_url = \"https://proxyuser:{URL_PASS}@llm.example.com/v1\""),
        format!("[models.providers.openai.headers]\nX-Api-Key = \"{PLAIN}\""),
        format!("models = [\"{SHAPED}\"]"),
    ];
    for body in &bodies {
        let sb = config_with(body);
        for args in READERS {
            assert_hidden(&sb, args, &[SHAPED, PLAIN, URL_PASS, "CNRYmatrix"]);
        }
    }
}

#[test]
fn gateway_run_on_a_broken_config_logs_no_key() {
    let sb = config_with(&format!("api_key = {SHAPED}"));
    let r = sb.run(&["gateway", "run"]);
    assert_eq!(r.code, 78, "{}", r.all());
    assert!(r.stderr.contains("TOML syntax error"), "{}", r.stderr);
    assert!(!r.all().contains("CNRYmatrix"), "{}", r.all());
    // The excerpt keeps its columns: the masked key is as long as the key.
    let masked = format!("api_key = {}\n", "*".repeat(SHAPED.len()));
    assert!(r.stderr.contains(&masked), "{}", r.stderr);
}

#[test]
fn set_arguments_and_usage_errors_do_not_echo_a_key() {
    let sb = Sandbox::new();
    let set = format!("models.providers.moonshot.api_key={PLAIN}");
    for args in [
        &["status"][..],
        &["config", "list", "--show-origin"],
        &[
            "config",
            "get",
            "models.providers.moonshot.api_key",
            "--show-origin",
            "--json",
        ],
        &["models", "status", "--json"],
        &["config", "validate", "--json"],
        &["doctor"],
    ] {
        let mut a = vec!["--set", set.as_str()];
        a.extend_from_slice(args);
        assert_hidden(&sb, &a, &[PLAIN]);
    }
    // The origin still says where the value came from, with the value masked.
    let v = sb.json(&[
        "--set",
        &set,
        "config",
        "get",
        "models.providers.moonshot.api_key",
        "--show-origin",
        "--json",
    ]);
    assert_eq!(v["origin"]["layer"], "command-arg", "{v}");
    let keq = format!("models.providers.moonshot.api_key={SHAPED}");
    for args in [
        vec!["config", "set", keq.as_str()],
        vec!["config", "set", "--json", keq.as_str()],
        vec!["config", "get", keq.as_str()],
        vec!["config", "set", SHAPED, "models.providers.moonshot.api_key"],
        vec!["config", "set", "agents.defaults.model.primary", SHAPED],
    ] {
        let r = sb.run(&args);
        assert_ne!(r.code, 0, "{args:?}");
        assert!(!r.all().contains("CNRYmatrix"), "{args:?}: {}", r.all());
    }
}

#[test]
fn dotenv_errors_do_not_echo_values() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    let token = "c2stQ05SWWRvdGVudjAxMjM0NTY3ODlhYmNkZWZnaGlq";
    std::fs::write(
        sb.clawctl_home().join(".env"),
        format!("OPENAI_API_KEY: {token}==\n"),
    )
    .unwrap();
    let r = sb.run(&["config", "validate"]);
    assert!(r.all().contains(".env:1"), "{}", r.all());
    for args in [
        &["config", "validate"][..],
        &["status"],
        &["doctor", "--json"],
    ] {
        assert_hidden(&sb, args, &[&token[..24]]);
    }
}

#[test]
fn export_of_an_unparsable_config_refuses_and_leaks_nothing() {
    let sb = config_with(&format!("api_key = \"{SHAPED}\"\n[gateway]\nport = \n"));
    let r = sb.run(&["export"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("does not parse"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(!r.all().contains("CNRYmatrix"));
    // Misspelt and wrong-typed keys are left out of the bundle, named on stderr.
    for body in [
        format!("apikey = \"{SHAPED}\""),
        format!("api_key = [\"{SHAPED}\"]"),
    ] {
        let sb = config_with(&body);
        let out = sb.dir.path().join("b.json");
        let r = sb.run(&["export", "--output", out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.all());
        let bundle = std::fs::read_to_string(&out).unwrap();
        assert!(!bundle.contains("CNRYmatrix"), "{bundle}");
        assert!(
            r.stderr
                .contains("not exported: `models.providers.openai.api")
        );
        assert_eq!(mode_of(&out), 0o644);
    }
}

#[test]
fn literal_secret_headers_are_reported_and_moved() {
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[meta]\nversion = 1\n[models.providers.openai.headers]\nAuthorization = \"Bearer {SHAPED}\"\nX-Title = \"clawctl\"\n"
    ));
    std::fs::set_permissions(
        sb.config_path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let v = sb.json(&["config", "validate", "--json"]);
    let codes: Vec<&str> = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["secret-in-config"], "{v}");
    sb.run(&["doctor", "--fix"]);
    let cfg = sb.read_config();
    assert!(
        cfg.contains("Authorization = \"cred:header:openai.authorization\""),
        "{cfg}"
    );
    assert!(cfg.contains("X-Title = \"clawctl\""), "{cfg}");
    let creds = std::fs::read_to_string(sb.clawctl_home().join("credentials.toml")).unwrap();
    assert!(creds.contains(&format!("Bearer {SHAPED}")), "{creds}");
    // The moved header is not taken for openai's own key.
    let v = sb.json(&["models", "status", "--json"]);
    let openai = v["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "openai")
        .cloned()
        .unwrap_or_default();
    assert!(!openai.to_string().contains("header:openai"), "{openai}");
}

#[test]
fn an_included_token_file_is_not_quoted() {
    let sb = Sandbox::new();
    let token = "ghp_CNRY3c2a7b1d8e4f60a5b7c9d1e3f5a7b9c1";
    let oc = sb.dir.path().join("oc");
    std::fs::create_dir_all(&oc).unwrap();
    let tok = sb.dir.path().join("token");
    std::fs::write(&tok, format!("{token}\n")).unwrap();
    std::fs::write(
        oc.join("openclaw.json"),
        format!(
            "{{ gateway: {{ auth: {{ \"$include\": \"{}\" }} }} }}",
            tok.display()
        ),
    )
    .unwrap();
    let r = sb.run(&[
        "import",
        "--dry-run",
        oc.join("openclaw.json").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("token"), "{}", r.all());
    assert!(!r.all().contains("CNRY3c2a"), "{}", r.all());
}
