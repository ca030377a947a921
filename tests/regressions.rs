//! Behaviours found by review, kept from coming back.

use crate::common::*;

#[test]
fn a_key_from_an_override_is_not_credited_to_the_file() {
    let mut sb = Sandbox::new();
    sb.write_config("[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[models.providers.moonshot]\napi_key = \"cred:moonshot:default\"\n");
    sb.set_var(
        "CLAWCTL__MODELS__PROVIDERS__MOONSHOT__API_KEY",
        "sk-OVERRIDEOVERRIDE0123456789abcdef",
    );
    let r = sb.run(&["models", "status"]);
    assert!(
        r.stdout
            .contains("env:CLAWCTL__MODELS__PROVIDERS__MOONSHOT__API_KEY"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("OVERRIDEOVERRIDE"));
}

#[test]
fn a_closed_pipe_or_a_full_disk_is_not_a_panic() {
    let sb = Sandbox::new();
    let mut c = sb.command(&["completions", "bash"]);
    c.stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(std::process::Stdio::piped());
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let mut c = sb.command(&["config", "path", "--json"]);
    c.stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(std::process::Stdio::piped());
    assert_eq!(c.output().unwrap().status.code(), Some(1));
}

#[test]
fn doctor_checks_the_gateway_token_and_env_file_permissions() {
    let mut sb = Sandbox::new();
    sb.write_config("[gateway.auth]\nmode = \"token\"\n");
    let r = sb.run(&["doctor"]);
    assert!(r.stdout.contains("has no gateway token"), "{}", r.stdout);
    let env = sb.clawctl_home().join(".env");
    std::fs::write(&env, "ZAI_API_KEY=zk-0123456789abcdefghijklmnop\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = sb.run(&["doctor", "--fix"]);
    assert!(r.stdout.contains("fixed: chmod 600"), "{}", r.stdout);
    assert_eq!(mode_of(&env), 0o600);
    // A shell token that differs from the service's.
    let unit = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&unit).unwrap();
    std::fs::write(unit.join("clawctl-gateway.service"), "[Service]\nExecStart=/bin/true gateway run\nEnvironment=CLAWCTL_GATEWAY_TOKEN=tok-service-0123456789\n").unwrap();
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", "tok-shell-0123456789abc");
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("another gateway token than the service expects"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("unset CLAWCTL_GATEWAY_TOKEN"),
        "{}",
        r.stdout
    );
}

#[test]
fn env_vars_keys_are_stored_as_credentials() {
    let sb = Sandbox::new();
    let r = sb.set_stdin(
        "env.vars.MOONSHOT_API_KEY",
        "sk-ENVVARENVVAR0123456789abcdefgh",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        sb.read_config()
            .contains("MOONSHOT_API_KEY = \"cred:env:MOONSHOT_API_KEY\""),
        "{}",
        sb.read_config()
    );
    assert!(!sb.read_config().contains("ENVVAR"));
}

#[test]
fn an_unreadable_service_file_is_an_error() {
    let sb = Sandbox::new();
    let r = sb.run(&["--service-file", "/nonexistent/x.plist", "doctor"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("/nonexistent/x.plist"), "{}", r.stderr);
}

#[test]
fn a_newer_config_is_not_edited() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 9\n");
    let r = sb.run(&["config", "set", "gateway.port", "1000"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("newer clawctl"), "{}", r.stderr);
    assert_eq!(sb.read_config(), "[meta]\nversion = 9\n");
}

#[test]
fn validate_json_describes_a_missing_file() {
    let sb = Sandbox::new();
    let ok = sb.dir.path().join("ok.toml");
    std::fs::write(&ok, "[gateway]\nport = 1\n").unwrap();
    let j = sb.json(&[
        "config",
        "validate",
        ok.to_str().unwrap(),
        "/nonexistent/missing.toml",
        "--json",
    ]);
    assert_eq!(j["valid"], false);
    assert_eq!(j["files"][1]["exists"], false);
    assert_eq!(j["files"][0]["valid"], true);
}
