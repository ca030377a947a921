//! Onboarding: non-interactive end to end, the interactive flow through a scripted
//! prompter, and real pseudo-terminal sessions typing into the binary.

use crate::common::*;

use std::collections::BTreeMap;

use clawctl::cli::Ctx;
use clawctl::cli::onboard::{OnboardArgs, run_with};
use clawctl::cli::prompt::Scripted;
use clawctl::env::{Environment, Platform};

const MOONSHOT_KEY: &str = "sk-ONBOARDONBOARD0123456789abcdefghijklmnopqrs";

#[test]
fn non_interactive_done_when() {
    let sb = Sandbox::new();
    let r = sb.run_stdin(
        &[
            "onboard",
            "--non-interactive",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--set-default",
            "--model",
            "moonshot/kimi-k2.5",
            "--no-probe",
        ],
        Some(&format!("{MOONSHOT_KEY}\n")),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("ONBOARDONBOARD"));
    assert_eq!(sb.run(&["config", "validate"]).code, 0);
    let creds = sb.clawctl_home().join("credentials.toml");
    assert_eq!(mode_of(&creds), 0o600);
    assert!(
        std::fs::read_to_string(&creds)
            .unwrap()
            .contains(MOONSHOT_KEY)
    );
    let cfg = sb.read_config();
    assert!(cfg.starts_with("#:schema ./config.schema.json\n"), "{cfg}");
    assert!(cfg.contains("primary = \"moonshot/kimi-k2.5\""), "{cfg}");
    assert!(cfg.contains("api_key = \"cred:moonshot:default\""), "{cfg}");
    assert!(!cfg.contains("ONBOARD"));
    assert!(sb.clawctl_home().join("config.schema.json").exists());
    // Token mode had no token: onboarding made one, stored like any secret.
    assert!(cfg.contains("token = \"cred:gateway:default\""), "{cfg}");
    assert!(
        std::fs::read_to_string(&creds)
            .unwrap()
            .contains("[profiles.\"gateway:default\"]")
    );
    assert!(
        r.stdout.contains("generated a gateway token"),
        "{}",
        r.stdout
    );
    // Twice is harmless: nothing changes.
    let before = sb.read_config();
    let r = sb.run_stdin(
        &[
            "onboard",
            "--non-interactive",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some(MOONSHOT_KEY),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(sb.read_config(), before);
}

#[test]
fn onboarding_never_resets_other_keys() {
    let sb = Sandbox::new();
    sb.write_config("# mine\n[gateway]\nport = 19999 # keep\n\n[agents.defaults.model]\nprimary = \"zai/glm-5\"\n");
    let r = sb.run_stdin(
        &[
            "onboard",
            "--auth-choice",
            "moonshot-api-key-cn",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some(MOONSHOT_KEY),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let cfg = sb.read_config();
    assert!(
        cfg.contains("port = 19999 # keep") && cfg.contains("# mine"),
        "{cfg}"
    );
    assert!(
        cfg.contains("primary = \"zai/glm-5\""),
        "the default is kept unless asked: {cfg}"
    );
    assert!(
        cfg.contains("base_url = \"https://api.moonshot.cn/v1\""),
        "{cfg}"
    );
}

#[test]
fn a_kimi_coding_key_for_moonshot_is_stopped() {
    let sb = Sandbox::new();
    let r = sb.run_stdin(
        &[
            "onboard",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some("sk-kimi-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("--auth-choice kimi-code-api-key"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("ABCDEFGHIJ"));
    assert!(!sb.config_path().exists(), "nothing written");
    let r = sb.run_stdin(
        &[
            "onboard",
            "--auth-choice",
            "kimi-code-api-key",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some("sk-kimi-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(sb.read_config().contains("primary = \"kimi-coding/k2p5\""));
}

#[test]
fn usage_errors() {
    let sb = Sandbox::new();
    let r = sb.run(&["onboard", "--non-interactive"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("moonshot-api-key"), "{}", r.stderr);
    let r = sb.run(&["onboard", "--auth-choice", "moonshot-api-kye"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `moonshot-api-key`"),
        "{}",
        r.stderr
    );
    let r = sb.run(&["onboard", "--auth-choice", "openai-api-key"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.stderr);
}

fn ctx_for(sb: &Sandbox, extra: &[(&str, &str)]) -> Ctx {
    let mut vars: BTreeMap<String, String> = sb.vars.clone().into_iter().collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Ctx {
        env: Environment::from_parts(
            vars,
            Some(sb.home()),
            sb.dir.path().to_path_buf(),
            Platform::Linux,
            "test shell",
        ),
        opts: Default::default(),
        service_opts: Default::default(),
    }
}

#[test]
fn interactive_flow_with_a_scripted_prompter() {
    let sb = Sandbox::new();
    let ctx = ctx_for(&sb, &[]);
    // Provider, platform (China), key, default model, probe?, update the service?
    let mut p = Scripted::new(&[
        "Moonshot",
        "China",
        MOONSHOT_KEY,
        "moonshot/kimi-k2.5",
        "n",
        "n",
    ]);
    let code = run_with(
        &ctx,
        OnboardArgs::default(),
        Some(&mut p),
        &mut std::io::empty(),
    )
    .unwrap();
    assert_eq!(code, 0);
    assert!(p.answers.is_empty());
    assert!(
        p.transcript
            .iter()
            .any(|t| t.contains("China-platform key is rejected by the international endpoint"))
    );
    let cfg = sb.read_config();
    assert!(
        cfg.contains("https://api.moonshot.cn/v1") && cfg.contains("moonshot/kimi-k2.5"),
        "{cfg}"
    );
}

#[test]
fn interactive_flow_offers_the_shell_key_and_warns_on_shape() {
    let sb = Sandbox::new();
    let ctx = ctx_for(
        &sb,
        &[(
            "MOONSHOT_API_KEY",
            "sk-kimi-WRONGPROVIDER0123456789abcdefghij",
        )],
    );
    // Use the env key? yes → shape warning → save anyway? no.
    let mut p = Scripted::new(&["Moonshot", "", "y", "n"]);
    let r = run_with(
        &ctx,
        OnboardArgs::default(),
        Some(&mut p),
        &mut std::io::empty(),
    );
    assert!(r.is_err());
    assert!(
        p.transcript.iter().any(|t| t.contains("kimi-code-api-key")),
        "{:?}",
        p.transcript
    );
    assert!(!sb.config_path().exists());
}

#[cfg(unix)]
mod pty {
    use super::*;
    use expectrl::Session;

    fn spawn(sb: &Sandbox, args: &[&str]) -> Session {
        sb.pty(args)
    }

    #[test]
    fn onboard_in_a_real_terminal() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["onboard"]);
        s.expect("Provider").unwrap();
        s.send("Kimi Coding").unwrap();
        s.send("\r").unwrap();
        s.expect("API key").unwrap();
        s.send("sk-kimi-PTYPTYPTY0123456789abcdefghijklmn\r")
            .unwrap();
        s.expect("Default model").unwrap();
        s.send("\r").unwrap();
        s.expect("Probe the key now?").unwrap();
        s.send("n\r").unwrap();
        s.expect("Update the gateway service now?").unwrap();
        s.send("n\r").unwrap();
        s.expect("default model: kimi-coding/k2p5").unwrap();
        s.expect(expectrl::Eof).unwrap();
        let cfg = sb.read_config();
        assert!(
            cfg.contains("api_key = \"cred:kimi-coding:default\""),
            "{cfg}"
        );
        assert!(
            std::fs::read_to_string(sb.clawctl_home().join("credentials.toml"))
                .unwrap()
                .contains("PTYPTYPTY")
        );
    }

    #[test]
    fn config_set_prompts_for_a_secret_without_echo() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["config", "set", "gateway.auth.token"]);
        s.expect("hidden").unwrap();
        // The prompt is printed before echo is switched off: give the terminal mode
        // change a moment, as a person's typing always does.
        std::thread::sleep(std::time::Duration::from_millis(300));
        s.send("tok-HIDDENHIDDEN-0123456789\r").unwrap();
        let out = s.expect(expectrl::Eof).unwrap();
        let text = String::from_utf8_lossy(out.before()).to_string();
        assert!(
            !text.contains("HIDDENHIDDEN"),
            "the secret was echoed: {text}"
        );
        assert!(
            sb.read_config()
                .contains("token = \"cred:gateway:default\"")
        );
    }
}
