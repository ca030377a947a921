//! The secret canary: one known key configured in every place a key can live; no
//! command prints its characters — not in stdout, stderr, JSON, diffs, backup
//! listings or the gateway's receipt (credentials.toml and its backups excepted).

use crate::common::*;

const CANARY: &str = "sk-CANARYc4n4ryCANARYc4n4ry0123456789";
const NEEDLE: &str = "c4n4ry";

fn every_place() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.write_config(&format!(
        "#:schema ./config.schema.json\n[meta]\nversion = 1\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\nfallbacks = [\"openai/gpt-5\", \"zai/glm-5\"]\n\n[models.providers.openai]\napi_key = \"{CANARY}\"\n\n[models.providers.openai.headers]\nAuthorization = \"Bearer {CANARY}\"\n\n[gateway.auth]\ntoken = \"{CANARY}\"\n\n[env.vars]\nOPENROUTER_API_KEY = \"{CANARY}\"\n"
    ));
    std::fs::write(
        sb.clawctl_home().join(".env"),
        format!("ZAI_API_KEY={CANARY}\nCLAWCTL__GATEWAY__AUTH__TOKEN={CANARY}\n"),
    )
    .unwrap();
    let unit_dir = sb.home().join(".config/systemd/user");
    std::fs::create_dir_all(&unit_dir).unwrap();
    std::fs::write(
        unit_dir.join("clawctl-gateway.service"),
        format!(
            "[Service]\nExecStart=/bin/true gateway run\nEnvironment=MOONSHOT_API_KEY={CANARY}\n"
        ),
    )
    .unwrap();
    sb.set_var("MOONSHOT_API_KEY", CANARY);
    sb.set_var("KIMI_API_KEY", CANARY);
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", CANARY);
    let r = sb.run_stdin(
        &[
            "onboard",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some(CANARY),
    );
    assert!(!r.all().contains(NEEDLE), "onboard leaked: {}", r.all());
    sb
}

fn check(sb: &Sandbox, args: &[&str]) {
    let r = sb.run(args);
    assert!(
        !r.all().contains(NEEDLE),
        "`clawctl {}` leaked the key:\n{}",
        args.join(" "),
        r.all()
    );
}

#[test]
fn no_command_prints_the_key() {
    let sb = every_place();
    let commands: &[&[&str]] = &[
        &["config", "path"],
        &["config", "path", "--json"],
        &["config", "get", "models.providers.openai.api_key"],
        &["config", "get", "models.providers.openai", "--json"],
        &["config", "get", "gateway.auth.token", "--show-origin"],
        &["config", "get", "env.vars"],
        &["config", "list", "--show-origin", "--include-defaults"],
        &["config", "list", "--json"],
        &["config", "validate"],
        &["config", "validate", "--json"],
        &["config", "validate", "--service"],
        &["config", "set", "gateway.port", "18790", "--dry-run"],
        &["config", "set", "gateway.port", "18790", "--json"],
        &[
            "config",
            "set",
            "models.providers.openai.api_key",
            "sk-abc",
            "--dry-run",
        ],
        &["config", "unset", "gateway.port", "--dry-run"],
        &["status"],
        &["status", "--json"],
        &["doctor"],
        &["doctor", "--json"],
        &["models", "status"],
        &["models", "status", "--json"],
        &["models", "status", "--view", "cli", "--json"],
        &["gateway", "status"],
        &["gateway", "status", "--json"],
        &["migrate", "--dry-run"],
        &["migrate", "--dry-run", "--json"],
        &["backups", "list"],
        &["backups", "list", "--json"],
        &["service", "print"],
        &["service", "status"],
        &["service", "status", "--json"],
        &["export"],
        &[
            "import",
            "--dry-run",
            "--merge",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/transfer/openclaw.json"
            ),
        ],
    ];
    for c in commands {
        check(&sb, c);
    }
    // A key piped in for a key-holding setting never shows either.
    let r = sb.run_stdin(
        &[
            "config",
            "set",
            "models.providers.zai.api_key",
            "--stdin",
            "--json",
        ],
        Some(CANARY),
    );
    assert!(!r.all().contains(NEEDLE), "{}", r.all());
    // doctor --fix moves literals out of config.toml; its report shows none.
    check(&sb, &["doctor", "--fix"]);
    assert!(
        !sb.read_config().contains("api_key = \"sk-CANARY"),
        "{}",
        sb.read_config()
    );
    // Backups hold the old file; their listing does not print contents.
    let backups = sb.clawctl_home().join("backups");
    assert!(backups.is_dir());
}

#[test]
fn the_gateway_receipt_holds_no_key() {
    let mut sb = every_place();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    sb.set_var("CLAWCTL__GATEWAY__PORT", &port.to_string());
    let mut c = sb.command(&["gateway", "run"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let receipt = sb.clawctl_home().join("run/gateway.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !receipt.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&receipt).unwrap_or_default();
    check(&sb, &["gateway", "status", "--json"]);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(!text.is_empty(), "no receipt was written");
    assert!(!text.contains(NEEDLE), "{text}");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!logs.contains(NEEDLE), "{logs}");
}
