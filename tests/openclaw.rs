//! `clawctl --openclaw`: OpenClaw homes built in a sandbox (JSON5 configs with
//! comments and `$include`, `.env` files, `auth-profiles.json`, the shared corpus's
//! plists and units adapted to the sandbox), one test per finding. Each asserts the
//! finding, its evidence and its fix, and that no file under the home changed
//! (content hash and mode).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{Run, Sandbox};

const MOONSHOT_KEY: &str = "sk-fake0000000000000000000000000000000000000000001";
const OTHER_MOONSHOT_KEY: &str = "sk-fake0000000000000000000000000000000000000000002";
const KIMI_KEY: &str = "sk-kimi-fake000000000000000000000000000000000000000000003";
const TOKEN: &str = "000000000000000000000000000000000000000000000018";
const CORPUS_SERVICES: &str = "../shared/corpus/services";

struct OcHome {
    sb: Sandbox,
}

impl OcHome {
    fn new() -> OcHome {
        let sb = Sandbox::new();
        let h = sb.home();
        std::fs::create_dir_all(h.join(".openclaw")).unwrap();
        std::fs::set_permissions(h.join(".openclaw"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        OcHome { sb }
    }

    fn home(&self) -> PathBuf {
        self.sb.home()
    }

    /// Write `rel` under the home (mode 600 unless told).
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.home().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// A corpus service file with its author's home replaced by the sandbox's.
    fn corpus_service(&self, name: &str, rel: &str, author_home: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(CORPUS_SERVICES)
            .join(name);
        let text = std::fs::read_to_string(&src).unwrap();
        let p = self.write(
            rel,
            &text.replace(author_home, &self.home().display().to_string()),
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p
    }

    fn config(&self, text: &str) -> PathBuf {
        self.write(".openclaw/openclaw.json", text)
    }

    fn var(&mut self, k: &str, v: &str) -> &mut Self {
        self.sb.set_var(k, v);
        self
    }

    /// Every file and dir under the sandbox: sha256 and mode.
    fn snapshot(&self) -> BTreeMap<PathBuf, (String, u32)> {
        fn walk(p: &Path, out: &mut BTreeMap<PathBuf, (String, u32)>) {
            let m = std::fs::symlink_metadata(p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.is_dir() {
                out.insert(p.to_path_buf(), ("dir".into(), mode));
                for e in std::fs::read_dir(p).unwrap() {
                    walk(&e.unwrap().path(), out);
                }
            } else {
                let bytes = std::fs::read(p).unwrap_or_default();
                out.insert(
                    p.to_path_buf(),
                    (format!("{:x}", Sha256::digest(&bytes)), mode),
                );
            }
        }
        let mut out = BTreeMap::new();
        walk(self.sb.dir.path(), &mut out);
        out
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut a = vec!["--openclaw"];
        a.extend_from_slice(args);
        self.sb.run(&a)
    }

    /// `doctor --json`, with the proof that nothing changed on disk.
    fn doctor(&self) -> Vec<Value> {
        let before = self.snapshot();
        let r = self.run(&["doctor", "--json"]);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", r.stdout, r.stderr));
        assert_eq!(before, self.snapshot(), "doctor --openclaw changed a file");
        v["findings"].as_array().cloned().unwrap_or_default()
    }
}

fn find<'a>(findings: &'a [Value], code: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| {
            panic!(
                "no {code} finding in {}",
                serde_json::to_string_pretty(findings).unwrap()
            )
        })
}

fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn fix(f: &Value) -> &str {
    f["fix"].as_str().unwrap_or("")
}

const SEED_CONFIG: &str = r#"// The seed thread: switched the default model to Kimi.
{
  agents: {
    defaults: {
      model: { primary: "moonshot/kimi-k2.5", fallbacks: [] }, // was zai/glm-4.7
    },
  },
  gateway: { port: 18789, auth: { mode: "token", token: "${OPENCLAW_GATEWAY_TOKEN}" } },
}
"#;

/// The seed on macOS terms: a generated LaunchAgent plist without the key, the key
/// only in the shell, default model moonshot/kimi-k2.5.
fn seed() -> OcHome {
    let mut h = OcHome::new();
    h.config(SEED_CONFIG);
    h.corpus_service(
        "001-launchd-openclaw-generated-inline-token.plist",
        "Library/LaunchAgents/ai.openclaw.gateway.plist",
        "/Users/aayan",
    );
    h.var("MOONSHOT_API_KEY", MOONSHOT_KEY)
        .var("OPENCLAW_GATEWAY_TOKEN", TOKEN);
    h
}

#[test]
fn seed_key_only_in_the_shell_names_the_variable_the_service_and_the_fix() {
    let h = seed();
    let findings = h.doctor();
    let f = find(&findings, "openclaw-key-only-in-shell");
    assert_eq!(f["severity"], "error");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("MOONSHOT_API_KEY"), "{msg}");
    assert!(msg.contains("launchd ai.openclaw.gateway"), "{msg}");
    let ev = evidence(f);
    assert!(
        ev.contains("~/Library/LaunchAgents/ai.openclaw.gateway.plist"),
        "{ev}"
    );
    assert!(ev.contains("this shell: env MOONSHOT_API_KEY"), "{ev}");
    assert!(fix(f).contains("~/.openclaw/.env"), "{}", fix(f));
    assert!(fix(f).contains("openclaw gateway restart"));
    assert!(fix(f).contains("openclaw onboard --auth-choice moonshot-api-key"));
    // Text output names the same, exit 1.
    let r = h.run(&["doctor"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("fix: echo 'MOONSHOT_API_KEY=<key>' >> ~/.openclaw/.env")
    );
}

#[test]
fn seed_fixed_by_the_state_dotenv_is_quiet_about_keys() {
    let h = seed();
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    let findings = h.doctor();
    assert!(
        !findings
            .iter()
            .any(|f| f["code"].as_str().unwrap().starts_with("openclaw-key")),
        "{findings:?}"
    );
    let s: Value = serde_json::from_str(&h.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(s["service"]["key"]["source"], "env MOONSHOT_API_KEY");
    assert!(
        s["service"]["key"]["evidence"]
            .as_str()
            .unwrap()
            .ends_with("/.openclaw/.env:1")
    );
    assert_eq!(
        s["cli"]["endpoint"]["base_url"],
        "https://api.moonshot.ai/v1"
    );
}

#[test]
fn service_and_cli_read_different_installs() {
    let mut h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    // The hand-written corpus plist sets OPENCLAW_HOME / OPENCLAW_STATE_DIR.
    let plist = h.corpus_service(
        "003-launchd-openclaw-handwritten-state-dir.plist",
        "Library/LaunchAgents/ai.openclaw.gateway.plist",
        "/Users/YOUR_USERNAME",
    );
    let text = std::fs::read_to_string(&plist).unwrap();
    assert!(text.contains("OPENCLAW_STATE_DIR"), "{text}");
    h.var("OPENCLAW_GATEWAY_TOKEN", TOKEN);
    let findings = h.doctor();
    let f = find(&findings, "openclaw-config-split");
    let ev = evidence(f);
    assert!(
        ev.contains("this shell: config ~/.openclaw/openclaw.json"),
        "{ev}"
    );
    assert!(ev.contains("launchd ai.openclaw.gateway: config"), "{ev}");
    assert!(fix(f).contains("openclaw gateway install --force"));
}

#[test]
fn key_copies_that_disagree_across_service_env_dotenv_and_auth_profiles() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    let state = h.home().join(".openclaw");
    // A current LaunchAgent: env values in the generated service-env file.
    h.write(
        "Library/LaunchAgents/ai.openclaw.gateway.plist",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>Label</key><string>ai.openclaw.gateway</string>
<key>ProgramArguments</key><array>
<string>/bin/sh</string>
<string>{s}/service-env/ai.openclaw.gateway-env-wrapper.sh</string>
<string>{s}/service-env/ai.openclaw.gateway.env</string>
<string>/opt/homebrew/bin/node</string><string>/opt/homebrew/lib/node_modules/openclaw/dist/index.js</string><string>gateway</string>
</array>
<key>EnvironmentVariables</key><dict><key>HOME</key><string>{h}</string></dict>
</dict></plist>
"#,
            s = state.display(),
            h = h.home().display()
        ),
    );
    h.write(
        ".openclaw/service-env/ai.openclaw.gateway.env",
        &format!("# Generated by OpenClaw. Do not edit while the gateway service is installed.\nexport MOONSHOT_API_KEY='{OTHER_MOONSHOT_KEY}'\nexport OPENCLAW_SERVICE_MANAGED_ENV_KEYS='MOONSHOT_API_KEY'\n"),
    );
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    h.write(
        ".openclaw/agents/main/agent/auth-profiles.json",
        r#"{ "version": 1, "profiles": { "moonshot:default": { "type": "api_key", "provider": "moonshot", "keyRef": { "source": "env", "provider": "default", "id": "MOONSHOT_API_KEY" } } } }"#,
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-key-drift");
    let ev = evidence(f);
    assert!(ev.contains("(service-env)"), "{ev}");
    assert!(ev.contains("~/.openclaw/.env:1"), "{ev}");
    assert!(ev.contains("auth profile moonshot:default"), "{ev}");
    assert!(
        fix(f).contains("openclaw gateway install --force"),
        "{}",
        fix(f)
    );
}

#[test]
fn a_kimi_coding_key_configured_for_moonshot() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/agents/main/agent/auth-profiles.json",
        &format!(r#"{{ "version": 1, "profiles": {{ "moonshot:default": {{ "type": "api_key", "provider": "moonshot", "key": "{KIMI_KEY}" }} }} }}"#),
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-key-wrong-provider");
    assert!(
        f["message"].as_str().unwrap().contains("Kimi Coding"),
        "{f}"
    );
    assert!(
        evidence(f).contains("auth-profiles.json:1"),
        "{}",
        evidence(f)
    );
    assert!(evidence(f).contains("sk-kimi-…"));
    assert!(
        fix(f).contains("openclaw onboard --auth-choice moonshot-api-key"),
        "{}",
        fix(f)
    );
}

#[test]
fn a_moonshot_key_configured_for_kimi_coding() {
    let h = OcHome::new();
    h.config(r#"{ agents: { defaults: { model: { primary: "kimi-coding/k2p5" } } } }"#);
    // corpus 032: a plain sk- key in the Kimi Coding slot.
    h.write(
        ".openclaw/agents/main/agent/auth-profiles.json",
        &format!(r#"{{ "version": 1, "profiles": {{ "kimi-coding:default": {{ "type": "api_key", "provider": "kimi-coding", "key": "{MOONSHOT_KEY}" }} }} }}"#),
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-key-wrong-provider");
    assert!(f["message"].as_str().unwrap().contains("sk-kimi-"), "{f}");
    assert!(
        fix(f).contains("openclaw onboard --auth-choice kimi-code-api-key"),
        "{}",
        fix(f)
    );
}

#[test]
fn dotenv_lines_systemd_reads_differently() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY} # rotated in May\n"),
    );
    h.write(
        ".config/systemd/user/openclaw-gateway.service",
        "[Unit]\nDescription=OpenClaw Gateway\n\n[Service]\nExecStart=/usr/bin/node /opt/openclaw/dist/index.js gateway --port 18789\nEnvironmentFile=%h/.openclaw/.env\n\n[Install]\nWantedBy=default.target\n",
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-dotenv-systemd-differ");
    let ev = evidence(f);
    assert!(ev.contains("~/.openclaw/.env:1: MOONSHOT_API_KEY"), "{ev}");
    assert!(fix(f).contains("quote the value"), "{}", fix(f));
}

#[test]
fn inline_secrets_in_the_unit() {
    let mut h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    h.corpus_service(
        "010-systemd-openclaw-generated-inline-secrets.service",
        ".config/systemd/user/openclaw-gateway.service",
        "/home/duanz",
    );
    h.var(
        "OPENCLAW_GATEWAY_TOKEN",
        "000000000000000000000000000000000000000000000019",
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-inline-secret");
    let ev = evidence(f);
    assert!(ev.contains("JINA_API_KEY = "), "{ev}");
    assert!(!ev.contains("jina_fake"), "{ev}");
    assert!(ev.contains("OPENCLAW_GATEWAY_TOKEN"), "{ev}");
    assert!(ev.contains("openclaw-gateway.service:"), "{ev}");
    assert!(
        fix(f).contains("chmod 600 ~/.config/systemd/user/openclaw-gateway.service"),
        "{}",
        fix(f)
    );
}

#[test]
fn world_readable_config_and_state_dir() {
    let h = OcHome::new();
    let cfg = h.config(SEED_CONFIG);
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(
        h.home().join(".openclaw"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let findings = h.doctor();
    let f = find(&findings, "openclaw-file-readable");
    assert!(
        evidence(f).contains("~/.openclaw/openclaw.json mode 644"),
        "{}",
        evidence(f)
    );
    assert_eq!(fix(f), "chmod 600 ~/.openclaw/openclaw.json");
    let d = find(&findings, "openclaw-state-dir-readable");
    assert_eq!(fix(d), "chmod 700 ~/.openclaw");
    // --fix prints, never runs.
    let r = h.run(&["doctor", "--fix"]);
    assert!(r.stdout.contains("changes nothing"), "{}", r.all());
    assert_eq!(crate::common::mode_of(&cfg), 0o644);
}

#[test]
fn unknown_provider_in_the_default_model() {
    let h = OcHome::new();
    h.config(r#"{ agents: { defaults: { model: "nowhere-ai/model-x" } } }"#);
    let findings = h.doctor();
    let f = find(&findings, "openclaw-unknown-provider");
    assert!(
        evidence(f).contains("~/.openclaw/openclaw.json:1:32 (agents.defaults.model)"),
        "{}",
        evidence(f)
    );
    assert!(fix(f).contains("openclaw models set"), "{}", fix(f));
}

#[test]
fn invalid_port_in_the_service_env() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    h.write(
        ".config/systemd/user/openclaw-gateway.service",
        "[Service]\nExecStart=/usr/bin/openclaw gateway\nEnvironment=OPENCLAW_GATEWAY_PORT=abc\n",
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-invalid-port");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("OPENCLAW_GATEWAY_PORT=abc"),
        "{f}"
    );
    assert!(f["message"].as_str().unwrap().contains("18789"));
    assert!(
        evidence(f).contains("openclaw-gateway.service:3"),
        "{}",
        evidence(f)
    );
    assert!(fix(f).contains("openclaw gateway install --force"));
}

#[test]
fn legacy_unit_beside_the_current_one() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    let unit = "[Service]\nExecStart=/usr/bin/openclaw gateway --port 18789\n";
    h.write(".config/systemd/user/openclaw-gateway.service", unit);
    h.write(".config/systemd/user/clawdbot-gateway.service", unit);
    let findings = h.doctor();
    let f = find(&findings, "openclaw-legacy-service");
    let ev = evidence(f);
    assert!(ev.contains("clawdbot-gateway.service"), "{ev}");
    assert!(ev.contains("openclaw-gateway.service"), "{ev}");
    assert!(
        fix(f).contains("systemctl --user disable --now clawdbot-gateway.service"),
        "{}",
        fix(f)
    );
}

#[test]
fn gateway_token_copies_that_differ() {
    let mut h = seed();
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    h.var(
        "OPENCLAW_GATEWAY_TOKEN",
        "111111111111111111111111111111111111111111111111",
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-token-drift");
    let ev = evidence(f);
    assert!(ev.contains("this shell:"), "{ev}");
    assert!(ev.contains("ai.openclaw.gateway.plist"), "{ev}");
    assert!(fix(f).contains("openclaw gateway install --force"));
}

#[test]
fn provider_key_in_the_workspace_dotenv_is_ignored() {
    let h = OcHome::new();
    h.config(SEED_CONFIG);
    // The sandbox's cwd is the workspace.
    std::fs::write(
        h.sb.dir.path().join(".env"),
        format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    )
    .unwrap();
    let findings = h.doctor();
    let f = find(&findings, "openclaw-workspace-dotenv-ignored");
    assert!(f["message"].as_str().unwrap().contains("MOONSHOT_API_KEY"));
    assert!(fix(f).contains("~/.openclaw/.env"));
    find(&findings, "openclaw-key-missing");
}

#[test]
fn profile_and_include_and_substitution() {
    let mut h = OcHome::new();
    h.write(
        ".openclaw-work/openclaw.json",
        r#"// work profile
{ agents: { $include: "./agents.json5" }, models: { providers: { moonshot: { baseUrl: "https://api.moonshot.cn/v1", apiKey: "${WORK_MOONSHOT_KEY}" } } } }"#,
    );
    h.write(
        ".openclaw-work/agents.json5",
        r#"{ defaults: { model: { primary: "moonshot/kimi-k2.5" } } }"#,
    );
    h.var("WORK_MOONSHOT_KEY", MOONSHOT_KEY);
    let r = h.run(&["--profile", "work", "config", "path", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["config"]
            .as_str()
            .unwrap()
            .ends_with("/.openclaw-work/openclaw.json"),
        "{v}"
    );
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    let s: Value =
        serde_json::from_str(&h.run(&["--profile", "work", "status", "--json"]).stdout).unwrap();
    assert_eq!(s["cli"]["default_model"], "moonshot/kimi-k2.5");
    assert_eq!(
        s["cli"]["endpoint"]["base_url"],
        "https://api.moonshot.cn/v1"
    );
    assert_eq!(
        s["cli"]["key"]["source"],
        "config models.providers.moonshot.apiKey"
    );
    let ev = s["cli"]["key"]["evidence"].as_str().unwrap();
    assert!(
        ev.starts_with("~/.openclaw-work/openclaw.json:2:")
            && ev.ends_with("(models.providers.moonshot.apiKey)"),
        "{ev}"
    );
    // A value from an included file is located in that file.
    let o = h.run(&[
        "--profile",
        "work",
        "config",
        "get",
        "agents.defaults.model.primary",
        "--show-origin",
    ]);
    assert!(
        o.stdout
            .starts_with("file ~/.openclaw-work/agents.json5:1:"),
        "{}",
        o.all()
    );
    let g = h.run(&[
        "--profile",
        "work",
        "config",
        "get",
        "models.providers.moonshot.apiKey",
    ]);
    assert_eq!(g.stdout.trim(), "${WORK_MOONSHOT_KEY}");
    let ok = h.run(&["--profile", "work", "config", "validate"]);
    assert_eq!(ok.code, 0, "{}", ok.all());
}

#[test]
fn invalid_json5_is_located_and_writes_are_refused() {
    let h = OcHome::new();
    h.config("{ agents: { defaults: { model: `x` } } }");
    let r = h.run(&["config", "validate"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("openclaw.json:1:"), "{}", r.all());
    let w = h.run(&["config", "set", "gateway.port", "1"]);
    assert_eq!(w.code, 2, "{}", w.all());
    assert!(w.all().contains("clawctl import"));
    // CLAWCTL_TARGET does the same as --openclaw.
    let mut sb = Sandbox::new();
    sb.set_var("CLAWCTL_TARGET", "openclaw");
    let p = sb.run(&["config", "path"]);
    assert!(
        p.stdout.trim().ends_with(".openclaw/openclaw.json"),
        "{}",
        p.all()
    );
}

/// The secret canary: no command under --openclaw prints a secret, in any format.
#[test]
fn secret_canary_under_openclaw() {
    let canary = "sk-kimi-CANARYcanary0000000000000000000000000000000000042";
    let mut h = seed();
    h.config(&format!(
        r#"{{ agents: {{ defaults: {{ model: "moonshot/kimi-k2.5" }} }}, env: {{ vars: {{ MOONSHOT_API_KEY: "{canary}" }} }},
          models: {{ providers: {{ moonshot: {{ apiKey: "{canary}" }} }} }}, gateway: {{ auth: {{ token: "{canary}" }} }} }}"#
    ));
    h.write(".openclaw/.env", &format!("ZAI_API_KEY={canary}\n"));
    h.var("KIMI_API_KEY", canary);
    let before = h.snapshot();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["doctor"],
        &["doctor", "--json"],
        &["models", "status"],
        &["models", "status", "--json"],
        &["config", "list"],
        &["config", "list", "--json"],
        &["config", "get", "env"],
        &[
            "config",
            "get",
            "models.providers.moonshot.apiKey",
            "--json",
        ],
        &["config", "path", "--json"],
    ] {
        let r = h.run(args);
        assert!(
            !r.all().contains("CANARY"),
            "{args:?} printed the secret:\n{}",
            r.all()
        );
    }
    assert_eq!(before, h.snapshot());
}

/// Without a clawctl config but with an OpenClaw install, status and doctor point
/// at --openclaw and clawctl import.
#[test]
fn native_commands_point_at_an_openclaw_install() {
    let h = seed();
    for cmd in ["status", "doctor"] {
        let r = h.sb.run(&[cmd]);
        assert!(r.all().contains("--openclaw"), "{cmd}: {}", r.all());
        assert!(r.all().contains("clawctl import"), "{cmd}: {}", r.all());
    }
}

/// The running gateway is the strongest evidence: its `/proc/PID/environ`.
#[test]
fn running_gateway_process_is_the_service_view() {
    let mut h = OcHome::new();
    h.config(SEED_CONFIG);
    h.var("MOONSHOT_API_KEY", MOONSHOT_KEY);
    // A stand-in gateway: `sh -c … openclaw gateway` keeps that command line.
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", "sleep 60; true", "openclaw", "gateway"])
        .env_clear()
        .env("HOME", h.home())
        .env("PATH", "/usr/bin:/bin")
        .env("MOONSHOT_API_KEY", OTHER_MOONSHOT_KEY)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let s: Value = serde_json::from_str(&h.run(&["status", "--json"]).stdout).unwrap();
    let findings = h.doctor();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        s["service"]["view"],
        format!("running gateway (pid {})", child.id()),
        "{s}"
    );
    let f = find(&findings, "openclaw-key-drift");
    assert!(
        evidence(f).contains(&format!("/proc/{}/environ", child.id())),
        "{}",
        evidence(f)
    );
}

/// `$include` outside the config's directory is refused unless OPENCLAW_INCLUDE_ROOTS
/// lists its root, as OpenClaw does.
#[test]
fn include_confinement_follows_openclaw_include_roots() {
    let mut h = OcHome::new();
    h.config(r#"{ agents: { $include: "../shared/agents.json5" } }"#);
    h.write(
        "shared/agents.json5",
        r#"{ defaults: { model: "moonshot/kimi-k2.5" } }"#,
    );
    let r = h.run(&["config", "validate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("OPENCLAW_INCLUDE_ROOTS"), "{}", r.all());
    assert!(r.stdout.contains("openclaw.json:1:"), "{}", r.all());
    let root = h.home().join("shared").display().to_string();
    h.var("OPENCLAW_INCLUDE_ROOTS", &root);
    let ok = h.run(&["config", "validate"]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let g = h.run(&["config", "get", "agents.defaults.model"]);
    assert_eq!(g.stdout.trim(), "moonshot/kimi-k2.5");
}

/// With `env.shellEnv.enabled`, the service may still get the key from the login
/// shell: reported as "would import", a warning rather than an error.
#[test]
fn shell_env_import_is_reported_as_would_import() {
    let h = seed();
    h.config(&SEED_CONFIG.replace(
        "gateway:",
        "env: { shellEnv: { enabled: true } },\n  gateway:",
    ));
    let findings = h.doctor();
    let f = find(&findings, "openclaw-key-only-in-shell");
    assert_eq!(f["severity"], "warning");
    assert!(
        evidence(f).contains("env.shellEnv.enabled is on: OpenClaw would import MOONSHOT_API_KEY"),
        "{}",
        evidence(f)
    );
    let s: Value = serde_json::from_str(&h.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(s["service"]["shell_import"], "env.shellEnv.enabled");
}

/// Region mismatch, with --probe: the service's Moonshot key is rejected by the
/// endpoint it uses and accepted by the other region's.
#[test]
fn region_mismatch_with_probe() {
    use crate::fake_provider::FakeProvider;
    let cn = FakeProvider::openai().accept_key(MOONSHOT_KEY).start();
    let intl = FakeProvider::openai().start();
    let mut h = OcHome::new();
    let cat = h.sb.dir.path().join("catalog.toml");
    std::fs::write(
        &cat,
        format!(
            "[[provider]]\nid = \"moonshot\"\nname = \"Moonshot (Kimi)\"\nkey_env = [\"MOONSHOT_API_KEY\"]\napi = \"openai-completions\"\nkey_shapes = [\"sk-\"]\nnot_key_shapes = [\"sk-kimi-\"]\nregions = [\n  {{ id = \"international\", name = \"international platform\", base_url = \"{}\", auth_choice = \"moonshot-api-key\" }},\n  {{ id = \"cn\", name = \"China platform\", base_url = \"{}\", auth_choice = \"moonshot-api-key-cn\" }},\n]\n",
            intl.base_url(),
            cn.base_url()
        ),
    )
    .unwrap();
    h.var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
    h.config(SEED_CONFIG);
    h.write(
        ".openclaw/.env",
        &format!("MOONSHOT_API_KEY={MOONSHOT_KEY}\n"),
    );
    let before = h.snapshot();
    let r = h.run(&["models", "status", "--probe"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("probe: auth"), "{}", r.stdout);
    assert!(
        r.stdout.contains("this key belongs to the China platform"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "fix: openclaw config set models.providers.moonshot.baseUrl {}",
            cn.base_url()
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("openclaw onboard --auth-choice moonshot-api-key-cn")
    );
    assert!(!r.all().contains(MOONSHOT_KEY));
    assert!(cn.requests()[0].key_accepted);
    assert_eq!(before, h.snapshot());
}

/// A real Windows install from the corpus: config 031, its auth store 032 and its
/// task script `gateway.cmd` 019 (the same gateway token in the config and the
/// script): the inline token is reported, the tokens agree, the keys resolve from
/// the auth profiles.
#[test]
fn windows_gateway_cmd_from_the_corpus() {
    let h = OcHome::new();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let copy = |from: &str, to: &str| {
        h.write(to, &std::fs::read_to_string(corpus.join(from)).unwrap());
    };
    copy(
        "openclaw/031-kimi-coding-and-moonshot-cn-feishu.json5",
        ".openclaw/openclaw.json",
    );
    copy(
        "openclaw/032-auth-profiles-kimi-coding-plain-sk.json5",
        ".openclaw/agents/main/agent/auth-profiles.json",
    );
    copy(
        "services/019-windows-gateway-cmd-inline-token.cmd",
        ".openclaw/gateway.cmd",
    );
    let findings = h.doctor();
    let f = find(&findings, "openclaw-inline-secret");
    assert!(
        evidence(f).contains("OPENCLAW_GATEWAY_TOKEN"),
        "{}",
        evidence(f)
    );
    assert!(
        evidence(f).contains(".openclaw/gateway.cmd:6"),
        "{}",
        evidence(f)
    );
    assert!(
        !findings.iter().any(|f| f["code"] == "openclaw-token-drift"),
        "{findings:?}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f["code"] == "openclaw-key-missing-in-service"),
        "{findings:?}"
    );
    let s: Value = serde_json::from_str(&h.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(
        s["service"]["view"], "Windows Task Scheduler OpenClaw Gateway",
        "{s}"
    );
    assert_eq!(
        s["service"]["key"]["source"],
        "auth profile moonshot:default"
    );
    assert_eq!(
        s["cli"]["endpoint"]["base_url"],
        "https://api.moonshot.cn/v1"
    );
}
