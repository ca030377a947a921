//! `config set` / `config unset` end to end.

use crate::common::*;

const COMMENTED: &str = "#:schema ./config.schema.json\n# Team gateway.\n\n[meta]\nversion = 1\n\n# Which model agents use.\n[agents.defaults.model]\nprimary = 'zai/glm-5'   # GLM for now\nfallbacks = [\"openai/gpt-5\"]\n\n[gateway]\nport = 18789 # default port\nbind = \"loopback\"\n\n# end of file\n";

#[test]
fn the_seed_edit_changes_exactly_one_line() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    let r = sb.run(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "moonshot/kimi-k2.5",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let after = sb.read_config();
    let diff: Vec<(&str, &str)> = COMMENTED
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(COMMENTED.lines().count(), after.lines().count());
    assert_eq!(
        diff,
        [(
            "primary = 'zai/glm-5'   # GLM for now",
            "primary = \"moonshot/kimi-k2.5\"   # GLM for now"
        )]
    );
    // A warning names the fix when the provider has no key.
    assert!(
        r.stderr
            .contains("clawctl onboard --auth-choice moonshot-api-key"),
        "{}",
        r.stderr
    );
}

#[test]
fn values_are_typed_by_the_schema() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    assert_eq!(sb.run(&["config", "set", "gateway.port", "8080"]).code, 0);
    assert!(sb.read_config().contains("port = 8080 # default port"));
    assert_eq!(
        sb.run(&["config", "set", "gateway.bind", "0123"]).code,
        1,
        "bind must be an address"
    );
    assert_eq!(sb.run(&["config", "set", "env.vars.DEBUG", "true"]).code, 0);
    assert!(
        sb.read_config().contains("DEBUG = \"true\""),
        "a string key keeps the text"
    );
    assert_eq!(
        sb.run(&["config", "set", "env.shell_env.enabled", "true"])
            .code,
        0
    );
    assert!(sb.read_config().contains("enabled = true"));
    assert_eq!(
        sb.run(&[
            "config",
            "set",
            "agents.defaults.model.fallbacks",
            "[\"zai/glm-5\", 'openai/gpt-5']"
        ])
        .code,
        0
    );
    assert!(
        sb.read_config()
            .contains("fallbacks = [\"zai/glm-5\", \"openai/gpt-5\"]")
    );
    assert_eq!(
        sb.run(&[
            "config",
            "set",
            "--append",
            "agents.defaults.model.fallbacks",
            "moonshot/kimi-k2.5"
        ])
        .code,
        0
    );
    let j = sb.json(&["config", "get", "agents.defaults.model.fallbacks", "--json"]);
    assert_eq!(
        j["value"],
        serde_json::json!(["zai/glm-5", "openai/gpt-5", "moonshot/kimi-k2.5"])
    );
    assert_eq!(
        sb.run(&[
            "config",
            "set",
            "models.providers.\"my.proxy\".base_url",
            "https://p.example/v1"
        ])
        .code,
        0
    );
    assert!(
        sb.read_config()
            .contains("[models.providers.\"my.proxy\"]\nbase_url = \"https://p.example/v1\""),
        "{}",
        sb.read_config()
    );
}

#[test]
fn bad_input_writes_nothing() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    for (args, needle) in [
        (vec!["config", "set", "gateway.port", "abc"], "integer"),
        (
            vec!["config", "set", "gateway.port", "70000"],
            "out of range",
        ),
        (
            vec!["config", "set", "gatway.port", "1"],
            "did you mean `gateway.port`",
        ),
        (
            vec!["config", "set", "agents.defaults.model.primary", "kimi"],
            "not a model reference",
        ),
        (vec!["config", "set", "gateway.port.x", "1"], "unknown key"),
    ] {
        let r = sb.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert_eq!(sb.read_config(), COMMENTED, "{args:?} changed the file");
    }
    assert!(!sb.clawctl_home().join("backups").exists());
}

#[test]
fn table_replacement_needs_force() {
    let sb = Sandbox::new();
    sb.write_config("[agents.defaults.model]\nprimary = \"zai/glm-5\"\n");
    let r = sb.run(&[
        "config",
        "set",
        "agents.defaults.model",
        "moonshot/kimi-k2.5",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let r = sb.run(&[
        "config",
        "set",
        "--force",
        "agents.defaults.model",
        "moonshot/kimi-k2.5",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        sb.run(&["config", "get", "agents.defaults.model"]).stdout,
        "moonshot/kimi-k2.5\n"
    );
}

#[test]
fn a_string_model_becomes_a_table_and_says_so() {
    let sb = Sandbox::new();
    sb.write_config("[agents.defaults]\nmodel = \"zai/glm-5\"\n");
    let r = sb.run(&[
        "config",
        "set",
        "agents.defaults.model.fallbacks",
        "[\"openai/gpt-5\"]",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("was a string"), "{}", r.stdout);
    assert_eq!(
        sb.run(&["config", "get", "agents.defaults.model.primary"])
            .stdout,
        "zai/glm-5\n"
    );
}

#[test]
fn no_change_and_dry_run_leave_the_file_alone() {
    let sb = Sandbox::new();
    let p = sb.write_config(COMMENTED);
    let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
    let r = sb.run(&["config", "set", "gateway.port", "18789"]);
    assert!(r.stdout.starts_with("no change"), "{}", r.stdout);
    let r = sb.run(&["config", "set", "--dry-run", "gateway.port", "9"]);
    assert!(
        r.stdout
            .contains("-port = 18789 # default port\n+port = 9 # default port"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), mtime);
    assert_eq!(sb.read_config(), COMMENTED);
    let j = sb.json(&["config", "set", "--json", "gateway.port", "9"]);
    assert_eq!(
        (j["changed"].as_bool(), j["old"].as_i64(), j["new"].as_i64()),
        (Some(true), Some(18789), Some(9))
    );
}

#[test]
fn value_file_and_stdin() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    let f = sb.dir.path().join("v.txt");
    std::fs::write(&f, "[\"zai/glm-5\", \"openai/gpt-5\"]\n").unwrap();
    let r = sb.run(&[
        "config",
        "set",
        "agents.defaults.model.fallbacks",
        "--value-file",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = sb.set_stdin("agents.defaults.model.primary", "moonshot/kimi-k2.5\n");
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        sb.run(&["config", "get", "agents.defaults.model.primary"])
            .stdout,
        "moonshot/kimi-k2.5\n"
    );
}

#[test]
fn secrets_go_to_credentials_with_0600() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    let key = "sk-TESTKEYTESTKEYTESTKEY0123456789";
    let r = sb.set_stdin("models.providers.moonshot.api_key", key);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("TESTKEY"));
    assert!(
        sb.read_config()
            .contains("api_key = \"cred:moonshot:default\"")
    );
    let creds = sb.clawctl_home().join("credentials.toml");
    assert_eq!(mode_of(&creds), 0o600);
    // A home clawctl creates is 0700.
    let fresh = Sandbox::new();
    let r = fresh.set_stdin("gateway.auth.token", "tok-0123456789abcdef0123");
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mode_of(&fresh.clawctl_home()), 0o700);
    assert_eq!(
        mode_of(&fresh.clawctl_home().join("credentials.toml")),
        0o600
    );
    assert!(std::fs::read_to_string(&creds).unwrap().contains(key));
    // On the command line: accepted with a warning.
    let r = sb.run(&[
        "config",
        "set",
        "gateway.auth.token",
        "tok-abcdefabcdefabcdef0123",
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("shell history"), "{}", r.stderr);
    assert!(!r.all().contains("abcdefabcdef"));
}

#[test]
fn unset_removes_and_reports_missing_keys() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    let r = sb.run(&["config", "unset", "gateway.bind"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!sb.read_config().contains("bind"));
    assert!(sb.read_config().contains("port = 18789 # default port"));
    let r = sb.run(&["config", "unset", "gateway.bind"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not set"), "{}", r.stderr);
}

#[test]
fn twenty_concurrent_writers_all_land() {
    let sb = Sandbox::new();
    sb.write_config(COMMENTED);
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut c = sb.command(&[
                "config",
                "set",
                &format!("env.vars.VAR_{i}"),
                &format!("value-{i}"),
            ]);
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = sb.read_config();
    text.parse::<toml_edit::DocumentMut>().expect("parses");
    for i in 0..20 {
        assert!(
            text.contains(&format!("VAR_{i} = \"value-{i}\"")),
            "VAR_{i} missing:\n{text}"
        );
    }
}

#[test]
fn sigkill_never_leaves_a_partial_file() {
    use std::time::Duration;
    let sb = Sandbox::new();
    sb.write_config(&realistic_config(50));
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut killed = 0;
    for i in 0..200 {
        let before = sb.read_config();
        let mut c = sb.command(&["config", "set", "gateway.port", &format!("{}", 20000 + i)]);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = c.spawn().unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 15_000));
        if child.try_wait().unwrap().is_none() {
            let _ = child.kill();
            killed += 1;
        }
        let _ = child.wait();
        let after = sb.read_config();
        assert!(!after.is_empty(), "empty after run {i}");
        let expected_new = before.replacen(
            &format!("port = {}", port_of(&before)),
            &format!("port = {}", 20000 + i),
            1,
        );
        assert!(
            after == before || after == expected_new,
            "run {i}: neither old nor new content"
        );
    }
    assert!(killed > 0, "no writer was killed; the test proved nothing");
}

fn port_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("port = "))
        .unwrap()
        .to_string()
}
