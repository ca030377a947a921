//! The service view end to end: the seed scenario (the shell has the key, the
//! service does not), status, validate --service, and a real process read back.

use crate::common::*;

const KEY: &str = "sk-SEEDSEEDSEED0123456789abcdefghijklmnopqrstuv";

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/seed/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn seed_home(sb: &mut Sandbox) {
    sb.write_config(
        "[meta]\nversion = 1\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n",
    );
    sb.set_var("MOONSHOT_API_KEY", KEY);
}

fn install_unit(sb: &Sandbox) {
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("clawctl-gateway.service"),
        dir.join("clawctl-gateway.service"),
    )
    .unwrap();
}

#[test]
fn seed_scenario_with_a_systemd_unit() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    install_unit(&sb);
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("the service would not see a moonshot key, but this shell does"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("fix: clawctl onboard --auth-choice moonshot-api-key"),
        "{}",
        r.stdout
    );
    let j = sb.json(&["doctor", "--json"]);
    assert_eq!(j["ok"], false);
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "missing-key" && f["severity"] == "error")
    );
    let r = sb.run(&["models", "status", "--check"]);
    assert_eq!(r.code, 1, "{}", r.all());
    // The fix: store the key where the service reads it.
    let r = sb.run(&[
        "onboard",
        "--non-interactive",
        "--auth-choice",
        "moonshot-api-key",
        "--no-probe",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("service (systemd clawctl-gateway.service"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(sb.run(&["models", "status", "--check"]).code, 0);
    for out in [
        r.all(),
        sb.run(&["status"]).all(),
        sb.run(&["status", "--json"]).all(),
    ] {
        assert!(!out.contains("SEEDSEED"), "secret leaked: {out}");
    }
}

#[test]
fn seed_scenario_with_a_launch_agent_plist() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    let plist = fixture("ai.clawctl.gateway.plist");
    let r = sb.run(&["--service-file", &plist, "doctor"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("service would not see a moonshot key"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("launchd"), "{}", r.stdout);
    let r = sb.run(&[
        "onboard",
        "--non-interactive",
        "--auth-choice",
        "moonshot-api-key",
        "--no-probe",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = sb.run(&["--service-file", &plist, "doctor"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn status_marks_what_differs() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    install_unit(&sb);
    let r = sb.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("installed, not running"), "{}", r.stdout);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("moonshot key"))
        .unwrap();
    assert!(line.starts_with('!') && line.contains("MISSING"), "{line}");
    let j = sb.json(&["status", "--json"]);
    assert_eq!(j["service"]["state"]["state"], "installed");
    assert_eq!(
        j["differences"],
        serde_json::json!(["providers.moonshot.key"])
    );
    assert_eq!(j["cli"]["config"], j["service_view"]["config"]);
}

#[test]
fn a_service_reading_another_home_is_found() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    let other = sb.dir.path().join("old-home");
    std::fs::write(
        dir.join("clawctl-gateway.service"),
        format!(
            "[Service]\nExecStart=/bin/true gateway run\nEnvironment=CLAWCTL_HOME={}\n",
            other.display()
        ),
    )
    .unwrap();
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("the service reads") && r.stdout.contains("old-home"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("clawctl service install --force"),
        "{}",
        r.stdout
    );
}

#[test]
fn validate_service_checks_the_service_environment() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clawctl-gateway.service"),
        "[Service]\nExecStart=/bin/true gateway run\nEnvironment=CLAWCTL__GATEWAY__PORT=notaport\n",
    )
    .unwrap();
    assert_eq!(sb.run(&["config", "validate"]).code, 0);
    let r = sb.run(&["config", "validate", "--service"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("CLAWCTL__GATEWAY__PORT"), "{}", r.stderr);
}

#[test]
fn a_running_process_is_read_through_proc() {
    let mut sb = Sandbox::new();
    seed_home(&mut sb);
    // A "service" started as a manager would: chosen env and cwd, no MOONSHOT key.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .env_clear()
        .env("HOME", sb.home())
        .env("CLAWCTL__GATEWAY__PORT", "19555")
        .current_dir(sb.dir.path())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let j = sb.json(&["--pid", &pid, "status", "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(j["service"]["state"]["state"], "running", "{j}");
    assert_eq!(
        j["service_view"]["summary"]["gateway"], "loopback:19555",
        "{j}"
    );
    assert!(
        j["service_view"]["summary"]["providers"]["moonshot"]["key"] == "MISSING",
        "{j}"
    );
}

/// An unreadable `--pid` or `--service-file` is the same error, exit 1, from every
/// command that shows the service view (they all build it through `Views`).
#[test]
fn an_unreadable_pid_or_service_file_is_the_same_error_everywhere() {
    let sb = Sandbox::new();
    let commands = [
        &["doctor"][..],
        &["status"],
        &["models", "status"],
        &["gateway", "status"],
        &["gateway", "restart"],
        &["config", "validate", "--service"],
    ];
    let options = [
        (
            ["--pid", "4000000"],
            "--pid 4000000: cannot read process 4000000",
        ),
        (
            ["--service-file", "/nonexistent.service"],
            "/nonexistent.service",
        ),
    ];
    for (option, expected) in options {
        for cmd in commands {
            let mut args = option.to_vec();
            args.extend_from_slice(cmd);
            let r = sb.run(&args);
            assert_eq!(r.code, 1, "{args:?}: {}", r.all());
            assert!(r.stderr.contains(expected), "{args:?}: {}", r.all());
        }
    }
}

/// `status --json` is keyed by field names (not the table's labels), nested per
/// provider, with `differences` naming summary fields — as the README documents.
#[test]
fn status_json_uses_field_names() {
    let sb = Sandbox::new();
    sb.write_config(
        "[meta]\nversion = 1\n[models.providers.\"my.proxy\"]\nbase_url = \"https://llm.example.com/v1\"\n",
    );
    let j = sb.json(&["status", "--json"]);
    let summary = j["cli"]["summary"].as_object().unwrap();
    let mut keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "config",
            "config_sha256",
            "default_model",
            "gateway",
            "gateway_token",
            "home",
            "providers",
            "valid"
        ]
    );
    assert_eq!(
        summary["providers"]["my.proxy"]["endpoint"],
        "https://llm.example.com/v1"
    );
    assert!(summary["providers"]["my.proxy"]["key"].is_string(), "{j}");
    assert!(j["differences"].is_array() && j["running"].is_null(), "{j}");
    assert_eq!(j["restart_needed"], false);
}
