//! Issue 11: the faults people reported (`../shared/cases/reported/`, `found/`), each
//! kept from coming back with the case's input and one input of our own.

use crate::common::*;

use crate::fake_provider;
use fake_provider::FakeProvider;

const MS_KEY: &str = "sk-test0000000000000000000000000000000000000000INT";

fn public_catalog(intl: &str, cn: &str) -> String {
    format!(
        "[[provider]]\nid = \"moonshot\"\nname = \"Moonshot (Kimi)\"\nkey_env = [\"MOONSHOT_API_KEY\"]\napi = \"openai-completions\"\nkey_shapes = [\"sk-\"]\nmodels = [\"kimi-k2.5\"]\nregions = [\n  {{ id = \"international\", name = \"international\", base_url = \"{intl}\", auth_choice = \"moonshot-api-key\" }},\n  {{ id = \"cn\", name = \"China\", base_url = \"{cn}\", auth_choice = \"moonshot-api-key-cn\" }},\n]\n"
    )
}

// Kind 2: one bad value never turns a view into defaults, and no key goes elsewhere.

/// A private mirror's key with an unrelated typo (and, separately, an invalid value)
/// in the file: every probe goes to the mirror, none to the catalog's public hosts.
#[test]
fn a_private_mirror_key_never_reaches_another_host_when_the_file_has_errors() {
    for broken in [
        "[gateway]\nprot = 18789\n",
        "[gateway]\nport = \"oops\"\n",
        "[aliases]\nfast = \"moonshot/kimi-k2.5\"\n",
    ] {
        let intl = FakeProvider::openai().start();
        let cn = FakeProvider::openai().accept_key(MS_KEY).start();
        let mirror = FakeProvider::openai().start(); // rejects the key: 401
        let mut sb = Sandbox::new();
        let cat = sb.dir.path().join("catalog.toml");
        std::fs::write(&cat, public_catalog(&intl.base_url(), &cn.base_url())).unwrap();
        sb.set_var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
        sb.set_var("MOONSHOT_API_KEY", MS_KEY);
        sb.write_config(&format!(
            "[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[models.providers.moonshot]\nbase_url = \"{}\"\n{broken}",
            mirror.base_url()
        ));
        let st = sb.run(&["status"]);
        assert!(st.stdout.contains(&mirror.base_url()), "{}", st.stdout);
        assert!(st.stdout.contains("moonshot/kimi-k2.5"), "{}", st.stdout);
        for args in [
            &["models", "status", "--probe"][..],
            &["models", "status", "--probe-provider", "moonshot"],
            &["models", "status", "--probe", "--view", "cli", "--json"],
        ] {
            let r = sb.run(args);
            assert_eq!(r.code, 1, "{args:?}: {}", r.all());
            assert!(r.all().contains(&mirror.base_url()), "{}", r.all());
        }
        assert_eq!(mirror.request_count(), 3, "{broken}");
        assert_eq!(
            intl.request_count(),
            0,
            "{broken}: a request reached a public host"
        );
        assert_eq!(
            cn.request_count(),
            0,
            "{broken}: a request reached a public host"
        );
    }
}

/// An invalid base_url is not replaced by the catalog's: that provider is not probed.
#[test]
fn an_invalid_base_url_is_not_replaced_by_the_catalogs() {
    let intl = FakeProvider::openai().accept_key(MS_KEY).start();
    let mut sb = Sandbox::new();
    let cat = sb.dir.path().join("catalog.toml");
    std::fs::write(&cat, public_catalog(&intl.base_url(), &intl.base_url())).unwrap();
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
    sb.set_var("MOONSHOT_API_KEY", MS_KEY);
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[models.providers.moonshot]\nbase_url = 8080\n");
    let r = sb.run(&["models", "status", "--probe"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("not probed: `models.providers.moonshot.base_url` is invalid"),
        "{}",
        r.stdout
    );
    assert_eq!(intl.request_count(), 0);
    let st = sb.run(&["status"]);
    assert!(
        st.stdout
            .contains("INVALID (models.providers.moonshot.base_url)"),
        "{}",
        st.stdout
    );
}

/// Valid values keep showing (with their origin) beside an invalid one.
#[test]
fn one_invalid_leaf_leaves_every_other_value_in_place() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"zai/glm-5\"\n[gateway]\nport = \"oops\"\nbind = \"127.0.0.1\"\n");
    let st = sb.run(&["status"]);
    assert!(st.stdout.contains("zai/glm-5"), "{}", st.stdout);
    assert!(
        st.stdout.contains("127.0.0.1:INVALID (gateway.port)"),
        "{}",
        st.stdout
    );
    let ms = sb.run(&["models", "status"]);
    assert!(
        ms.stdout.contains("default model: zai/glm-5"),
        "{}",
        ms.stdout
    );
}

// Kind 9: health checks fail when nothing can route (reported/01).

#[test]
fn check_and_probe_fail_on_a_bare_model_id() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"kimi-k2.5\"\n[gateway.auth]\nmode = \"none\"\n");
    let r = sb.run(&["models", "status", "--check"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("the default model \"kimi-k2.5\" names no provider"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.run(&["models", "status", "--probe"]).code, 1);
    // Without --check or --probe, the report itself still succeeds.
    assert_eq!(sb.run(&["models", "status"]).code, 0);
}

#[test]
fn check_fails_on_an_unknown_provider_or_one_without_endpoint() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"nosuch/model-1\"\n[gateway.auth]\nmode = \"none\"\n");
    let r = sb.run(&["models", "status", "--check"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("uses provider `nosuch`"), "{}", r.stderr);
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"mine/model-1\"\n[models.providers.mine]\napi_key = \"sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n[gateway.auth]\nmode = \"none\"\n");
    let r = sb.run(&["models", "status", "--check"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("provider `mine` has no endpoint"),
        "{}",
        r.stderr
    );
    let r = sb.run(&["models", "status", "--probe"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("not probed: mine has no endpoint"),
        "{}",
        r.stdout
    );
}

// Kind 10: checking stays complete when the file has errors (reported/03).

#[test]
fn a_write_adding_a_cross_field_error_is_refused_beside_a_schema_error() {
    let sb = Sandbox::new();
    let before = "[meta]\nversion = 1\n[aliases]\nfast = \"anthropic/claude-haiku-4-5\"\n";
    sb.write_config(before);
    let r = sb.run(&["config", "set", "agents.defaults.model.primary", "fast"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("is not a model reference"), "{}", r.all());
    assert_eq!(sb.read_config(), before);
    // Our own: an auth.order entry naming no profile, beside an invalid port.
    let before = "[meta]\nversion = 1\n[gateway]\nport = \"oops\"\n";
    sb.write_config(before);
    let r = sb.run(&[
        "config",
        "set",
        "auth.order.moonshot",
        "[\"moonshot:nosuch\"]",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("names profile `moonshot:nosuch`"),
        "{}",
        r.all()
    );
    assert_eq!(sb.read_config(), before);
}

#[test]
fn no_finding_is_drawn_from_a_default_standing_in_for_an_invalid_value() {
    let sb = Sandbox::new();
    // mode "tokn" is invalid: the default mode (token) must not yield "no gateway token".
    sb.write_config("[meta]\nversion = 1\n[gateway.auth]\nmode = \"tokn\"\n");
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("gateway.auth.mode"), "{}", r.all());
    assert!(!r.all().contains("has no gateway token"), "{}", r.all());
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1);
    assert!(!v.all().contains("no base_url"), "{}", v.all());
}

// Kind 7: every layer file's errors are located; a symptom never replaces its cause.

const BROKEN_CREDENTIALS: &str = "[profiles.\"moonshot:default\"]\nprovider = \"moonshot\"\nkind = \"api_key\"\nsecret = \"sk-test0000000000000000000000000000000000000000INT\n";

#[test]
fn a_credentials_syntax_error_fails_validate_and_doctor_names_it() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[models.providers.moonshot]\napi_key = \"cred:moonshot:default\"\n[gateway]\nport = 1\n[gateway.auth]\nmode = \"none\"\n");
    std::fs::write(
        sb.clawctl_home().join("credentials.toml"),
        BROKEN_CREDENTIALS,
    )
    .unwrap();
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stderr
            .contains("credentials.toml: TOML syntax error at line 4, column 61"),
        "{}",
        v.stderr
    );
    assert!(
        v.stdout
            .contains("config.toml with ~/.config/clawctl/credentials.toml: invalid, 1 error(s)"),
        "{}",
        v.stdout
    );
    let d = sb.run(&["doctor"]);
    assert_eq!(d.code, 1);
    assert!(
        d.stdout.contains("TOML syntax error at line 4"),
        "{}",
        d.stdout
    );
    assert!(
        !d.stdout.contains("is not in credentials.toml"),
        "{}",
        d.stdout
    );
    assert!(!d.stdout.contains("fix: clawctl onboard"), "{}", d.stdout);
    let ms = sb.run(&["models", "status"]);
    assert!(
        ms.stdout.contains("credentials.toml cannot be used"),
        "{}",
        ms.stdout
    );
    let g = sb.run(&["gateway", "run"]);
    assert_eq!(g.code, 78, "{}", g.all());
    for r in [&v, &d, &ms, &g] {
        assert!(!r.all().contains("sk-test000"), "{}", r.all());
    }
    // Our own: a profile without its secret.
    std::fs::write(
        sb.clawctl_home().join("credentials.toml"),
        "[profiles.\"moonshot:default\"]\nprovider = \"moonshot\"\n",
    )
    .unwrap();
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stderr
            .contains("profiles.\"moonshot:default\".secret is missing"),
        "{}",
        v.stderr
    );
}

#[test]
fn write_path_errors_carry_line_and_column() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.clawctl_home()).unwrap();
    std::fs::write(
        sb.config_path(),
        b"[meta]\nversion = 1\n[gateway]\nbind = \"lo\xffp\"\n",
    )
    .unwrap();
    let r = sb.run(&["config", "set", "gateway.port", "1234"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("line 4, column"), "{}", r.stderr);
    sb.write_config("[meta]\nversion = 1\n");
    std::fs::write(
        sb.clawctl_home().join("credentials.toml"),
        "[profiles.\"zai:default\"\nprovider = \"zai\"\n",
    )
    .unwrap();
    let r = sb.set_stdin(
        "models.providers.openai.api_key",
        "sk-proj-x0123456789abcdefghijklmnopqrstu",
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("at line 1, column"), "{}", r.stderr);
}

#[test]
fn a_unit_that_does_not_parse_is_installed_and_broken_not_missing() {
    let sb = Sandbox::new();
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clawctl-gateway.service"),
        "[Service\nExecStart=/usr/bin/clawctl gateway run\n",
    )
    .unwrap();
    let st = sb.run(&["status"]);
    let first = st.stdout.lines().next().unwrap_or_default().to_string();
    assert!(
        first.starts_with("service: installed, but its definition does not parse:")
            && first.contains("clawctl-gateway.service:1:"),
        "{first}"
    );
    let v = sb.run(&["config", "validate", "--service"]);
    assert_eq!(v.code, 1);
    assert!(v.stderr.contains("does not parse"), "{}", v.stderr);
    assert!(
        v.stderr.contains("clawctl-gateway.service:1:"),
        "{}",
        v.stderr
    );
    let d = sb.run(&["doctor"]);
    assert_eq!(d.code, 1, "{}", d.all());
    assert!(d.stdout.contains("error: "), "{}", d.stdout);
}

#[test]
fn a_malformed_plist_is_located_by_line() {
    let sb = Sandbox::new();
    let p = sb.dir.path().join("x.plist");
    // A key without its value (the case), then our own: a file cut short.
    std::fs::write(&p, "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n<key>Label</key>\n<string>x</string>\n<key>ProgramArguments</key>\n</dict>\n</plist>\n").unwrap();
    let r = sb.run(&["--service-file", p.to_str().unwrap(), "status"]);
    assert!(r.stderr.contains("x.plist:7:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("<key>ProgramArguments</key> has no value"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("UnexpectedEventType"), "{}", r.stderr);
    std::fs::write(&p, "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n<key>Label</key>\n<string>x</string>\n").unwrap();
    let r = sb.run(&["--service-file", p.to_str().unwrap(), "status"]);
    assert!(r.stderr.contains("x.plist:"), "{}", r.stderr);
    assert!(!r.stderr.contains("{ expected"), "{}", r.stderr);
}

#[test]
fn an_unterminated_dotenv_quote_skips_only_its_line() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[gateway.auth]\nmode = \"none\"\n");
    std::fs::write(
        sb.clawctl_home().join(".env"),
        format!("OPENAI_API_KEY=\"sk-proj-test000000000000000000000000000000000000\nMOONSHOT_API_KEY={MS_KEY}\nCLAWCTL__GATEWAY__PORT='19001\nCLAWCTL__GATEWAY__BIND=127.0.0.1\n"),
    )
    .unwrap();
    let ms = sb.run(&["models", "status"]);
    assert!(
        ms.stdout
            .contains("from MOONSHOT_API_KEY in ~/.config/clawctl/.env:2"),
        "{}",
        ms.stdout
    );
    // Our own: a single quote left open on line 3; line 4 is still read.
    let bind = sb.run(&["config", "get", "gateway.bind"]);
    assert_eq!(bind.stdout.trim(), "127.0.0.1", "{}", bind.all());
    assert_eq!(
        sb.run(&["config", "get", "gateway.port"]).stdout.trim(),
        "18789"
    );
    let d = sb.run(&["doctor"]);
    assert!(
        d.stdout.contains(".env:1: unterminated double quote"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout.contains(".env:3: unterminated single quote"),
        "{}",
        d.stdout
    );
    assert!(!d.all().contains("sk-proj-test"), "{}", d.all());
}

// found/01 and found/02: the .env layer and env overrides.

#[test]
fn an_override_keeps_the_case_of_open_map_keys() {
    let mut sb = Sandbox::new();
    sb.set_var("CLAWCTL__ENV__VARS__HTTP_PROXY", "http://127.0.0.1:3128");
    sb.set_var(
        "CLAWCTL__MODELS__PROVIDERS__MOONSHOT__HEADERS__X_Team",
        "blue",
    );
    let r = sb.run(&["config", "list"]);
    assert!(
        r.stdout
            .contains("env.vars.HTTP_PROXY=\"http://127.0.0.1:3128\"")
            || r.stdout
                .contains("env.vars.HTTP_PROXY=http://127.0.0.1:3128"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("models.providers.moonshot.headers.X_Team"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_dotenv_layer_reads_values_as_python_dotenv_does() {
    // Each value is what python-dotenv 1.x's dotenv_values gives (None: skipped).
    for (line, want) in [
        ("V='multi\nline'", Some("multi\nline")),
        ("V=\"a\"b", None),
        ("V=\"unterminated", None),
        ("V= #not-a-comment", Some("#not-a-comment")),
        ("V=\"a\\tb\" # note", Some("a\tb")),
    ] {
        let sb = Sandbox::new();
        std::fs::create_dir_all(sb.clawctl_home()).unwrap();
        std::fs::write(
            sb.clawctl_home().join(".env"),
            format!("{}\n", line.replacen('V', "CLAWCTL__ENV__VARS__V", 1)),
        )
        .unwrap();
        let j = sb.json(&["config", "get", "env.vars.v", "--json"]);
        assert_eq!(j["value"].as_str(), want, "{line:?}: {j}");
        if want.is_some() {
            assert_eq!(j["key"], "env.vars.V", "{j}");
        }
    }
}

// Kind 5: exposure needs authentication (reported/08), by every way to reach it.

#[test]
fn a_network_bind_without_auth_is_refused_everywhere() {
    let mut sb = Sandbox::new();
    let before = "[meta]\nversion = 1\n[gateway.auth]\nmode = \"none\"\n";
    sb.write_config(before);
    let r = sb.run(&["config", "set", "gateway.bind", "lan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("listens on the network, but `gateway.auth.mode` is \"none\""),
        "{}",
        r.stderr
    );
    assert_eq!(sb.read_config(), before);
    // The file itself: validate locates it, doctor names it, the gateway refuses.
    sb.write_config(
        "[meta]\nversion = 1\n[gateway]\nbind = \"0.0.0.0\"\n[gateway.auth]\nmode = \"none\"\n",
    );
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1);
    assert!(v.stderr.contains("config.toml:4:8"), "{}", v.stderr);
    let d = sb.run(&["doctor"]);
    assert_eq!(d.code, 1);
    assert!(d.stdout.contains("unauthenticated"), "{}", d.stdout);
    assert_eq!(sb.run(&["gateway", "run"]).code, 78);
    // Loopback addresses are fine.
    sb.write_config(
        "[meta]\nversion = 1\n[gateway]\nbind = \"127.0.0.1\"\n[gateway.auth]\nmode = \"none\"\n",
    );
    assert_eq!(sb.run(&["config", "validate"]).code, 0);
    // An environment override and --set reach it too.
    sb.set_var("CLAWCTL__GATEWAY__BIND", "lan");
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1);
    assert!(
        v.stderr.contains("env:CLAWCTL__GATEWAY__BIND"),
        "{}",
        v.stderr
    );
    sb.vars.remove("CLAWCTL__GATEWAY__BIND");
    assert_eq!(
        sb.run(&["--set", "gateway.bind=::", "gateway", "run"]).code,
        78
    );
}

#[test]
fn an_import_of_an_exposed_unauthenticated_gateway_is_refused() {
    let sb = Sandbox::new();
    let oc = sb.home().join(".openclaw");
    std::fs::create_dir_all(&oc).unwrap();
    std::fs::write(
        oc.join("openclaw.json"),
        "{ gateway: { bind: \"lan\", auth: { mode: \"none\" } } }\n",
    )
    .unwrap();
    let r = sb.run(&["import", oc.join("openclaw.json").to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("listens on the network"), "{}", r.stderr);
    assert!(!sb.config_path().exists());
}

#[test]
fn password_mode_needs_a_password_somewhere() {
    let mut sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[gateway.auth]\nmode = \"password\"\n");
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stderr
            .contains("is \"password\" but no password is set anywhere"),
        "{}",
        v.stderr
    );
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", "tok-0123456789abcdefghij");
    assert_eq!(sb.run(&["config", "validate"]).code, 0);
}

// Kind 6: a rewrite never removes the last copy of a secret (reported/10).

fn hand_written_unit(sb: &Sandbox, env_lines: &str) {
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clawctl-gateway.service"),
        format!(
            "[Unit]\nDescription=clawctl gateway (set up by hand)\n[Service]\nExecStart={} gateway run\nEnvironment=CLAWCTL_HOME=%h/.config/clawctl\n{env_lines}[Install]\nWantedBy=default.target\n",
            env!("CARGO_BIN_EXE_clawctl")
        ),
    )
    .unwrap();
}

/// `service install --force` over the hand-written unit; it must succeed.
fn reinstall(sb: &Sandbox) -> Run {
    let r = sb.run(&[
        "service",
        "install",
        "--platform",
        "systemd",
        "--force",
        "--no-start",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    r
}

#[test]
fn reinstall_moves_the_only_copy_of_a_key_into_credentials() {
    const KEY: &str = "sk-proj-test00000000000000000000000000000000000000";
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[gateway.auth]\nmode = \"none\"\n");
    hand_written_unit(&sb, &format!("Environment=OPENAI_API_KEY={KEY}\n"));
    assert_eq!(sb.run(&["models", "status", "--check"]).code, 0);
    let r = reinstall(&sb);
    assert!(
        r.all().contains("moved OPENAI_API_KEY (sk-proj-… (sha256:"),
        "{}",
        r.all()
    );
    assert!(r.all().contains("as profile openai:default"), "{}", r.all());
    assert!(!r.all().contains(KEY), "{}", r.all());
    let creds = sb.clawctl_home().join("credentials.toml");
    assert!(std::fs::read_to_string(&creds).unwrap().contains(KEY));
    assert_eq!(mode_of(&creds), 0o600);
    assert_eq!(sb.run(&["models", "status", "--check"]).code, 0);
}

#[test]
fn reinstall_keeps_the_gateway_token_and_warns_when_another_copy_takes_over() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[models.providers.openai]\napi_key = \"${OPENAI_API_KEY}\"\n[gateway.auth]\nmode = \"token\"\n");
    // The token is only in the unit; the OpenAI key is in the unit and (another one)
    // in credentials.toml, which the config reaches once ${OPENAI_API_KEY} is gone.
    hand_written_unit(
        &sb,
        "Environment=CLAWCTL_GATEWAY_TOKEN=tok-unit-0123456789abcdefghij\nEnvironment=OPENAI_API_KEY=sk-proj-UNITUNIT0000000000000000000000000000000\n",
    );
    let r = sb.set_stdin(
        "models.providers.openai.api_key",
        "sk-proj-STORESTORE000000000000000000000000000000",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    sb.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"openai/gpt-5\"\n[models.providers.openai]\napi_key = \"${OPENAI_API_KEY}\"\n[gateway.auth]\nmode = \"token\"\n");
    let r = reinstall(&sb);
    assert!(
        r.all().contains("moved CLAWCTL_GATEWAY_TOKEN")
            && r.all().contains("as profile gateway:default"),
        "{}",
        r.all()
    );
    assert!(
        r.all()
            .contains("OPENAI_API_KEY in the old definition was the openai key the service used"),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("UNITUNIT") && !r.all().contains("STORESTORE"));
    let creds = std::fs::read_to_string(sb.clawctl_home().join("credentials.toml")).unwrap();
    assert!(creds.contains("tok-unit-0123456789abcdefghij"));
}

// Kind 11: every secret with several copies is compared (the gateway token too).

#[test]
fn copies_of_the_gateway_token_that_differ_are_named_with_the_winner() {
    let mut sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[gateway.auth]\nmode = \"token\"\n");
    let r = sb.set_stdin("gateway.auth.token", "tok-STORED-0123456789abcdefghij");
    assert_eq!(r.code, 0, "{}", r.all());
    // A second copy in the home .env, another in the shell.
    std::fs::write(
        sb.clawctl_home().join(".env"),
        "CLAWCTL_GATEWAY_TOKEN=tok-DOTENV-0123456789abcdefghij\n",
    )
    .unwrap();
    let d = sb.run(&["doctor"]);
    assert!(
        d.stdout
            .contains("this shell: copies of the gateway token differ; the first one wins"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout
            .contains("from ~/.config/clawctl/credentials.toml profile gateway:default"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("evidence: wins: "), "{}", d.stdout);
    assert!(d.stdout.contains(".env:1"), "{}", d.stdout);
    // The service definition holds yet another one.
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("clawctl-gateway.service"), "[Service]\nExecStart=/bin/true gateway run\nEnvironment=CLAWCTL_GATEWAY_TOKEN=tok-UNIT-0123456789abcdefghijk\n").unwrap();
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", "tok-SHELL-0123456789abcdefghij");
    let d = sb.run(&["doctor"]);
    assert!(
        d.stdout
            .contains("the service: copies of the gateway token differ"),
        "{}",
        d.stdout
    );
    for s in ["STORED", "DOTENV", "UNIT-0", "SHELL-0"] {
        assert!(!d.all().contains(s), "{s}: {}", d.all());
    }
}

// Kind 3: writes the service will not see are said so.

fn unit_pinning_home(sb: &Sandbox, home: &std::path::Path) {
    let dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clawctl-gateway.service"),
        format!(
            "[Service]\nExecStart=/bin/true gateway run\nEnvironment=CLAWCTL_HOME={}\n",
            home.display()
        ),
    )
    .unwrap();
}

#[test]
fn a_write_the_service_does_not_read_ends_with_a_warning_and_the_fix() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n[gateway.auth]\nmode = \"none\"\n");
    let other = sb.dir.path().join("other-home");
    std::fs::create_dir_all(&other).unwrap();
    unit_pinning_home(&sb, &other);
    let r = sb.run(&["config", "set", "gateway.port", "19001"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let want = format!(
        "warning: the gateway service will not see this change: it reads {}",
        other.join("config.toml").display()
    );
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(
        r.stderr.contains("fix: clawctl service install --force"),
        "{}",
        r.stderr
    );
    // A secret: credentials.toml is named too, with the service's own.
    let r = sb.set_stdin(
        "models.providers.openai.api_key",
        "sk-proj-0123456789abcdefghijklmnopqrstuvwxyz",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains(&format!(
            "it reads {}",
            other.join("credentials.toml").display()
        )),
        "{}",
        r.stderr
    );
    let r = sb.run(&["config", "unset", "gateway.port"]);
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    // The same files: nothing to say.
    unit_pinning_home(&sb, &sb.clawctl_home());
    let r = sb.run(&["config", "set", "gateway.port", "19002"]);
    assert!(!r.stderr.contains("will not see"), "{}", r.stderr);
}

// Kind 8: moving settings carries every layer (reported/05, reported/12).

#[test]
fn openclaw_import_brings_the_state_dirs_dotenv_values_or_names_them() {
    let sb = Sandbox::new();
    let oc = sb.home().join(".openclaw");
    std::fs::create_dir_all(&oc).unwrap();
    std::fs::write(oc.join("openclaw.json"), "{\n  agents: { defaults: { model: { primary: \"moonshot/kimi-k2.5\" } } },\n  models: { providers: { moonshot: { baseUrl: \"https://api.moonshot.ai/v1\", apiKey: \"${MOONSHOT_API_KEY}\" }, zai: { apiKey: \"${ZAI_API_KEY}\" } } },\n  gateway: { auth: { mode: \"token\", token: \"${OPENCLAW_GATEWAY_TOKEN}\" } },\n}\n").unwrap();
    std::fs::write(
        oc.join(".env"),
        format!("MOONSHOT_API_KEY={MS_KEY}\nOPENCLAW_GATEWAY_TOKEN=tok-test-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
    )
    .unwrap();
    let r = sb.run(&["import", oc.join("openclaw.json").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("sk-test000"), "{}", r.all());
    let ms = sb.run(&["models", "status"]);
    assert!(
        ms.stdout
            .contains("credentials.toml profile moonshot:imported"),
        "{}",
        ms.stdout
    );
    let st = sb.run(&["status"]);
    assert!(
        st.stdout.contains("profile gateway:imported"),
        "{}",
        st.stdout
    );
    // Our own: ZAI_API_KEY is in no .env: named, with what it feeds.
    assert!(
        r.stderr
            .contains("refers to ${ZAI_API_KEY}, which is not set in"),
        "{}",
        r.stderr
    );
}

#[test]
fn export_carries_the_home_dotenv_and_names_what_it_leaves_behind() {
    let a = Sandbox::new();
    a.write_config("[meta]\nversion = 1\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n[gateway.auth]\nmode = \"none\"\n");
    std::fs::write(
        a.clawctl_home().join(".env"),
        format!("MOONSHOT_API_KEY={MS_KEY}\nCLAWCTL__GATEWAY__PORT=19001\n"),
    )
    .unwrap();
    let bundle = a.dir.path().join("bundle.json");
    let r = a.run(&[
        "export",
        "--output",
        bundle.to_str().unwrap(),
        "--include-secrets",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("holds secrets: mode 0600"),
        "{}",
        r.stderr
    );
    assert_eq!(mode_of(&bundle), 0o600);
    let b = Sandbox::new();
    let r = b.run(&["import", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        b.run(&["config", "get", "gateway.port"]).stdout.trim(),
        "19001"
    );
    let ms = b.run(&["models", "status"]);
    assert!(
        ms.stdout
            .contains("from MOONSHOT_API_KEY in ~/.config/clawctl/.env"),
        "{}",
        ms.stdout
    );
    assert_eq!(mode_of(&b.clawctl_home().join(".env")), 0o600);
    // Our own: without secrets, the key is named and left behind, the port travels;
    // a target .env with another port keeps its own, said so.
    let r = a.run(&["export", "--output", bundle.to_str().unwrap()]);
    assert!(
        r.stderr.contains(
            "not exported: MOONSHOT_API_KEY from ~/.config/clawctl/.env:1 holds a secret"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !std::fs::read_to_string(&bundle)
            .unwrap()
            .contains("sk-test")
    );
    let c = Sandbox::new();
    std::fs::create_dir_all(c.clawctl_home()).unwrap();
    std::fs::write(
        c.clawctl_home().join(".env"),
        "CLAWCTL__GATEWAY__PORT=19555\n",
    )
    .unwrap();
    let r = c.run(&["import", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains(
            "CLAWCTL__GATEWAY__PORT is already in ~/.config/clawctl/.env with another value"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(
        c.run(&["config", "get", "gateway.port"]).stdout.trim(),
        "19555"
    );
}
