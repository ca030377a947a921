//! End-to-end: the real binary, a temp HOME, an emptied environment.

use crate::common::*;

#[test]
fn env_override_wins_and_names_its_variable() {
    let mut sb = Sandbox::new();
    sb.write_config("[gateway]\nport = 18790\n");
    sb.set_var("CLAWCTL__GATEWAY__PORT", "19001");
    let r = sb.run(&["config", "get", "gateway.port", "--show-origin"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "env:CLAWCTL__GATEWAY__PORT\t19001\n");
}

#[test]
fn precedence_across_all_five_layers() {
    let mut sb = Sandbox::new();
    sb.write_config("[gateway]\nport = 1001\nbind = \"lan\"\n\n[env.shell_env]\ntimeout_ms = 5\n");
    std::fs::write(
        sb.clawctl_home().join(".env"),
        "# dotenv layer\nCLAWCTL__GATEWAY__PORT=1002\nCLAWCTL__ENV__SHELL_ENV__TIMEOUT_MS=6\n",
    )
    .unwrap();
    sb.set_var("CLAWCTL__GATEWAY__PORT", "1003");
    let get = |args: &[&str]| sb.run(args).stdout;
    assert_eq!(
        get(&["config", "get", "gateway.bind", "--show-origin"]),
        "file:~/.config/clawctl/config.toml:3:8\tlan\n"
    );
    assert_eq!(
        get(&["config", "get", "env.shell_env.timeout_ms", "--show-origin"]),
        "dotenv:~/.config/clawctl/.env:3 (CLAWCTL__ENV__SHELL_ENV__TIMEOUT_MS)\t6\n"
    );
    assert_eq!(get(&["config", "get", "gateway.port"]), "1003\n");
    assert_eq!(
        get(&[
            "--set",
            "gateway.port=1004",
            "config",
            "get",
            "gateway.port",
            "--show-origin"
        ]),
        "command line:--set gateway.port\t1004\n"
    );
    assert_eq!(
        get(&["config", "get", "gateway.auth.mode", "--show-origin"]),
        "default\ttoken\n"
    );
}

#[test]
fn misspelt_key_is_located_with_a_suggestion() {
    let sb = Sandbox::new();
    sb.write_config("#:schema ./config.schema.json\n[meta]\nversion = 1\n\n[agents.defaults.model]\nprimry = \"moonshot/kimi-k2.5\"\n");
    let r = sb.run(&["config", "validate"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("unknown key `agents.defaults.model.primry`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("config.toml:6:1"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("did you mean `agents.defaults.model.primary`?"),
        "{}",
        r.stderr
    );
    let j = sb.json(&["config", "validate", "--json"]);
    let d = &j["files"][0]["diagnostics"][0];
    assert_eq!(j["valid"], false);
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(d["code"], "unknown-key");
}

#[test]
fn error_cases_have_clear_messages_and_exit_codes() {
    let mut sb = Sandbox::new();
    // Bad env override names the variable.
    sb.set_var("CLAWCTL__GATEWAY__PORT", "abc");
    let r = sb.run(&["config", "get", "gateway.port"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("CLAWCTL__GATEWAY__PORT") && r.stderr.contains("integer"),
        "{}",
        r.stderr
    );
    sb.vars.remove("CLAWCTL__GATEWAY__PORT");
    // Syntax error: line, column, caret.
    sb.write_config("[gateway]\nport = = 1\n");
    let r = sb.run(&["config", "validate"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("TOML syntax error") && r.stderr.contains("config.toml:2:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains('^'), "{}", r.stderr);
    // Wrong type and range.
    sb.write_config("[gateway]\nport = \"8080\"\n");
    let r = sb.run(&["config", "validate"]);
    assert!(
        r.stderr
            .contains("`gateway.port` must be an integer from 1 to 65535")
            && r.stderr.contains("port = 8080"),
        "{}",
        r.stderr
    );
    sb.write_config("[gateway]\nport = 0\n");
    assert!(
        sb.run(&["config", "validate"])
            .stderr
            .contains("out of range")
    );
    // A directory in place of the file; invalid UTF-8; too large.
    std::fs::remove_file(sb.config_path()).unwrap();
    std::fs::create_dir(sb.config_path()).unwrap();
    let r = sb.run(&["config", "validate"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    std::fs::remove_dir(sb.config_path()).unwrap();
    std::fs::write(sb.config_path(), b"[gateway]\nbind = \"\xff\"\n").unwrap();
    let r = sb.run(&["config", "validate"]);
    assert!(r.stderr.contains("not valid UTF-8 (line 2"), "{}", r.stderr);
    std::fs::write(sb.config_path(), vec![b'#'; 11 * 1024 * 1024]).unwrap();
    assert!(
        sb.run(&["config", "validate"])
            .stderr
            .contains("over 10 MiB")
    );
    // Usage errors exit 2.
    assert_eq!(sb.run(&["config", "get"]).code, 2);
    assert_eq!(sb.run(&["config", "get", "a..b"]).code, 2);
}

#[test]
fn missing_config_is_not_an_error() {
    let sb = Sandbox::new();
    let r = sb.run(&["config", "validate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("does not exist: defaults apply"));
    let r = sb.run(&["config", "path"]);
    assert!(r.stdout.contains("does not exist"), "{}", r.stdout);
    let j = sb.json(&["config", "path", "--json"]);
    assert_eq!(j["config_exists"], false);
    assert_eq!(j["candidates"][0]["chosen"], true);
    let r = sb.run(&["config", "get", "agents.defaults.model"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not set"), "{}", r.stderr);
    let r = sb.run(&["config", "get", "gateway.portt"]);
    assert!(
        r.stderr.contains("did you mean `gateway.port`"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_path_explains_the_choice() {
    let mut sb = Sandbox::new();
    let custom = sb.dir.path().join("elsewhere.toml");
    sb.set_var("CLAWCTL_CONFIG", custom.to_str().unwrap());
    let j = sb.json(&["config", "path", "--json"]);
    assert_eq!(j["chosen_by"], "$CLAWCTL_CONFIG");
    assert_eq!(j["config"], custom.to_str().unwrap());
    sb.vars.remove("CLAWCTL_CONFIG");
    let j = sb.json(&["--profile", "work", "config", "path", "--json"]);
    assert!(
        j["home"]
            .as_str()
            .unwrap()
            .ends_with(".config/clawctl-work")
    );
}

#[test]
fn list_is_git_style_sorted_and_json_round_trips() {
    let sb = Sandbox::new();
    sb.write_config(
        "[gateway]\nport = 18790\n\n[agents.defaults.model]\nprimary = \"zai/glm-5\"\n",
    );
    let r = sb.run(&["config", "list", "--show-origin"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "file:~/.config/clawctl/config.toml:5:11\tagents.defaults.model.primary=zai/glm-5",
            "file:~/.config/clawctl/config.toml:2:8\tgateway.port=18790"
        ]
    );
    let j = sb.json(&["config", "list", "--include-defaults", "--json"]);
    let keys: Vec<&str> = j["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"gateway.bind"));
}

#[test]
fn secrets_are_never_printed_by_get_or_list() {
    let mut sb = Sandbox::new();
    let key = "sk-kimi-SECRETSECRETSECRET0123456789abcdef";
    sb.write_config(&format!("[models.providers.moonshot]\napi_key = \"{key}\"\n[env.vars]\nMOONSHOT_API_KEY = \"{key}\"\n"));
    sb.set_var(
        "CLAWCTL__GATEWAY__AUTH__TOKEN",
        "tok-SECRETSECRETSECRET-0123456789",
    );
    for args in [
        vec!["config", "get", "models.providers.moonshot.api_key"],
        vec!["config", "get", "models.providers.moonshot", "--json"],
        vec!["config", "list", "--show-origin", "--include-defaults"],
        vec!["config", "list", "--json"],
        vec!["config", "get", "gateway.auth.token", "--show-origin"],
        vec!["config", "validate", "--json"],
        vec!["config", "validate"],
    ] {
        let r = sb.run(&args);
        assert!(
            !r.all().contains("SECRETSECRET"),
            "{args:?} leaked: {}",
            r.all()
        );
    }
    let r = sb.run(&["config", "get", "models.providers.moonshot.api_key"]);
    assert!(
        r.stdout.starts_with("literal sk-kimi-… (sha256:"),
        "{}",
        r.stdout
    );
}

#[test]
fn committed_schema_matches_the_code() {
    let sb = Sandbox::new();
    let r = sb.run(&["config", "schema"]);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/config.schema.json"
    ))
    .unwrap();
    assert!(
        r.stdout == committed,
        "schema/config.schema.json is stale: run `cargo run -- config schema > schema/config.schema.json`"
    );
}

#[test]
fn sample_configs_validate_as_labelled() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sample-configs");
    let sb = Sandbox::new();
    for kind in ["valid", "invalid"] {
        for entry in std::fs::read_dir(format!("{dir}/{kind}")).unwrap() {
            let p = entry.unwrap().path();
            let r = sb.run(&["config", "validate", p.to_str().unwrap()]);
            let want = if kind == "valid" { 0 } else { 1 };
            assert_eq!(r.code, want, "{}: {}", p.display(), r.all());
        }
    }
}

#[test]
fn completions_are_generated() {
    let sb = Sandbox::new();
    let r = sb.run(&["completions", "bash"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("clawctl"));
}
