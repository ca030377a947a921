//! A newcomer's first ten minutes (issue 13): the README's set-up and quick start as
//! written, first-run advice, usage errors, messages that say what happened, output
//! that fits 80 columns, and the interactive flows in a real pseudo-terminal.

use crate::common::*;
use crate::fake_provider::FakeProvider;

use std::time::{Duration, Instant};

const KEY_A: &str = "sk-NEWCOMERAAAAAAAA0123456789abcdefghijk";
const KEY_B: &str = "sk-NEWCOMERBBBBBBBB0123456789abcdefghijk";

/// A catalog whose Moonshot answers on a loopback fake provider.
fn fake_catalog(sb: &mut Sandbox, base_url: &str) {
    let cat = sb.dir.path().join("catalog.toml");
    std::fs::write(
        &cat,
        format!(
            "[[provider]]\nid = \"moonshot\"\nname = \"Moonshot (Kimi)\"\nkey_env = [\"MOONSHOT_API_KEY\"]\napi = \"openai-completions\"\nkey_shapes = [\"sk-\"]\nnot_key_shapes = [\"sk-kimi-\"]\nmodels = [\"kimi-k2.5\"]\nregions = [\n  {{ id = \"international\", name = \"international platform\", base_url = \"{base_url}\", auth_choice = \"moonshot-api-key\" }},\n  {{ id = \"cn\", name = \"China platform\", base_url = \"{base_url}\", auth_choice = \"moonshot-api-key-cn\" }},\n]\n"
        ),
    )
    .unwrap();
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
}

fn onboard_piped(sb: &Sandbox, key: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "onboard",
        "--auth-choice",
        "moonshot-api-key",
        "--api-key-stdin",
        "--no-probe",
    ];
    args.extend_from_slice(extra);
    sb.run_stdin(&args, Some(&format!("{key}\n")))
}

fn credentials(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.clawctl_home().join("credentials.toml")).unwrap_or_default()
}

/// The indented command lines of one README section.
fn readme_commands(section: &str) -> Vec<String> {
    let readme = include_str!("../README.md");
    let body = readme
        .split(&format!("## {section}"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has no {section} section"));
    let body = body.split("\n## ").next().unwrap();
    body.lines()
        .filter_map(|l| l.strip_prefix("    "))
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A sandbox whose PATH holds the clawctl under test, as `cargo install` would.
fn with_clawctl_on_path(sb: &mut Sandbox) {
    let bin = sb.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_clawctl"));
    // A hard link (same file system) or a copy: an installed binary, outside the build
    // directory, so `service install` pins it.
    if std::fs::hard_link(exe, bin.join("clawctl")).is_err() {
        std::fs::copy(exe, bin.join("clawctl")).unwrap();
    }
    sb.set_var(
        "PATH",
        &format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
    );
}

fn sh(sb: &Sandbox, line: &str) -> Run {
    let mut c = std::process::Command::new("sh");
    c.env_clear()
        .envs(&sb.vars)
        .args(["-c", line])
        .current_dir(sb.dir.path())
        .stdin(std::process::Stdio::null());
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn readme_set_up_is_two_commands_install_then_test() {
    let cmds = readme_commands("Set up");
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    let (install, first) = cmds[0]
        .split_once(" && ")
        .expect("install && a first real command");
    assert_eq!(install, "cargo install --path . --locked");
    assert!(first.starts_with("clawctl "), "{first}");
    assert_eq!(cmds[1], "cargo test");
    let ci = include_str!("../.ci/run");
    assert!(
        ci.lines()
            .any(|l| l.trim_start().starts_with(&cmds[1]) && !l.trim_start().starts_with('#')),
        ".ci/run must run the README's test command"
    );
    // The first real command, as written, with clawctl on PATH.
    let mut sb = Sandbox::new();
    with_clawctl_on_path(&mut sb);
    let r = sh(&sb, first);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("clawctl onboard"), "{}", r.stdout);
}

#[test]
fn readme_quick_start_runs_as_written() {
    let provider = FakeProvider::openai().accept_key(KEY_A).start();
    let mut sb = Sandbox::new();
    with_clawctl_on_path(&mut sb);
    fake_catalog(&mut sb, &provider.base_url());
    sb.set_var("MOONSHOT_API_KEY", KEY_A);
    // The gateway must not collide with anything else on this machine.
    let port = free_port();
    sb.write_config(&format!("[gateway]\nport = {port}\n"));
    let mut daemon: Option<Daemon> = None;
    let cmds = readme_commands("Quick start: the 401 from the seed thread");
    assert!(cmds.len() >= 7, "{cmds:?}");
    for line in &cmds {
        if line.starts_with("clawctl gateway restart") {
            // What the installed service would be doing: a gateway running on these files.
            daemon = Some(Daemon::start(sb.command(&["gateway", "run"]), port));
        }
        let r = sh(&sb, line);
        assert_eq!(r.code, 0, "`{line}` failed:\n{}", r.all());
        assert!(!r.all().contains("NEWCOMERAAAA"), "`{line}` shows the key");
    }
    drop(daemon);
    let unit = std::fs::read_to_string(
        sb.home()
            .join(".config/systemd/user/clawctl-gateway.service"),
    )
    .unwrap();
    let installed = sb.dir.path().join("bin/clawctl");
    assert!(
        unit.contains(&format!("ExecStart={} gateway run", installed.display())),
        "the unit pins the installed binary: {unit}"
    );
}

#[test]
fn service_install_from_a_build_directory_warns_with_the_fix() {
    let sb = Sandbox::new();
    let r = sb.run(&["service", "install", "--no-start"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("cargo build directory")
            && r.stderr.contains("cargo install --path . --locked"),
        "{}",
        r.stderr
    );
}

#[test]
fn first_run_names_onboard_and_nothing_else() {
    let sb = Sandbox::new();
    let r = sb.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.starts_with("nothing is configured yet") && r.stdout.contains("clawctl onboard"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["doctor"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("fix: clawctl onboard"), "{}", r.stdout);
    assert!(!r.stdout.contains("gateway.auth.token"), "{}", r.stdout);
    let v = sb.json(&["doctor", "--json"]);
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["not-configured"]);
}

#[test]
fn set_overrides_are_checked_as_usage() {
    let sb = Sandbox::new();
    let r = sb.run(&["--set", "gateway.prot=1", "status"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("did you mean `gateway.port`"),
        "{}",
        r.stderr
    );
    let r = sb.run(&["--set", "gateway.port=abc", "status"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("gateway.port"), "{}", r.stderr);
    let r = sb.run(&["--set", "gateway.port", "status"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(sb.run(&["--set", "gateway.port=19001", "status"]).code, 0);
}

#[test]
fn every_exit_code_is_in_help_and_readme() {
    let sb = Sandbox::new();
    let help = sb.run(&["--help"]).stdout;
    let readme = include_str!("../README.md");
    for code in ["0", "1", "2", "78", "130"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "--help lacks exit code {code}:\n{help}"
        );
        assert!(
            readme.contains(&format!("| {code} |")),
            "README lacks {code}"
        );
    }
    let run_help = sb.run(&["gateway", "run", "--help"]).stdout;
    assert!(run_help.contains("78   invalid config"), "{run_help}");
}

#[test]
fn version_names_commit_and_build_date() {
    let v = Sandbox::new().run(&["--version"]).stdout;
    // clawctl 0.1.0 (COMMIT YYYY-MM-DD)
    let inner = v
        .trim()
        .split_once(" (")
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{v}"));
    let (commit, date) = inner.split_once(' ').unwrap();
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{v}"
    );
    assert_eq!(date.len(), 10, "{v}");
    assert_eq!(&date[4..5], "-");
}

#[test]
fn man_page_and_completions_work_on_a_fresh_home() {
    let mut sb = Sandbox::new();
    with_clawctl_on_path(&mut sb);
    for line in readme_commands("completions, man page, version") {
        if line.starts_with("clawctl --version") {
            continue;
        }
        let r = sh(&sb, &line);
        assert_eq!(r.code, 0, "`{line}`: {}", r.all());
    }
    let man = std::fs::read_to_string(sb.home().join(".local/share/man/man1/clawctl.1")).unwrap();
    assert!(man.contains(".TH clawctl 1"), "{man}");
    let script = std::fs::read_to_string(
        sb.home()
            .join(".local/share/bash-completion/completions/clawctl"),
    )
    .unwrap();
    assert!(script.contains("COMPLETE"), "{script}");
    // What the script asks at a Tab: keys complete from the schema.
    let mut c = sb.command(&["--", "clawctl", "config", "get", "gateway.p"]);
    c.env("COMPLETE", "bash").env("_CLAP_COMPLETE_INDEX", "3");
    let out = c.output().unwrap();
    let got = String::from_utf8_lossy(&out.stdout).replace('\u{b}', "\n");
    assert!(got.lines().any(|l| l == "gateway.port"), "{got}");
}

#[test]
fn export_to_a_full_disk_fails() {
    let sb = Sandbox::new();
    sb.write_config("[gateway]\nport = 19001\n");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = sb
        .command(&["export"])
        .stdin(std::process::Stdio::null())
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write the output") && err.contains("No space left"),
        "{err}"
    );
}

#[test]
fn config_set_stdin_names_credentials_and_what_it_replaced() {
    let sb = Sandbox::new();
    let key = "models.providers.moonshot.api_key";
    let r = sb.run_stdin(&["config", "set", key, "--stdin"], Some(KEY_A));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("credentials.toml: stored"),
        "{}",
        r.stdout
    );
    let r = sb.run_stdin(&["config", "set", key, "--stdin"], Some(KEY_B));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("config.toml: updated"), "{}", r.stdout);
    let a = r.stdout.contains(&fingerprint(KEY_A));
    let b = r.stdout.contains(&fingerprint(KEY_B));
    assert!(
        r.stdout.contains("credentials.toml: replaced") && a && b,
        "{}",
        r.stdout
    );
    assert!(!r.all().contains("NEWCOMER"));
}

fn fingerprint(key: &str) -> String {
    clawctl::secrets::mask::fingerprint(key)
}

#[test]
fn a_key_copy_is_listed_once_and_differs_only_when_it_differs() {
    let mut sb = Sandbox::new();
    sb.write_config(
        "[models.providers.moonshot]\napi_key = \"${MOONSHOT_API_KEY}\"\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n",
    );
    sb.set_var("MOONSHOT_API_KEY", KEY_A);
    std::fs::write(
        sb.clawctl_home().join(".env"),
        format!("MOONSHOT_API_KEY={KEY_A}\n"),
    )
    .unwrap();
    let r = sb.run(&["models", "status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("MOONSHOT_API_KEY") && !l.contains(".env"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(!r.stdout.contains("(differs)"), "{}", r.stdout);
    std::fs::write(
        sb.clawctl_home().join(".env"),
        format!("MOONSHOT_API_KEY={KEY_B}\n"),
    )
    .unwrap();
    let r = sb.run(&["models", "status"]);
    assert!(r.stdout.contains("(differs)"), "{}", r.stdout);
}

#[test]
fn service_print_never_says_it_writes() {
    let sb = Sandbox::new();
    for p in ["launchd", "windows", "systemd"] {
        let r = sb.run(&["service", "print", "--platform", p]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(!r.all().contains("writing"), "{p}: {}", r.all());
    }
    assert!(!sb.home().join("Library").exists());
}

#[test]
fn schema_check_never_suggests_overwriting_a_config() {
    let sb = Sandbox::new();
    let cfg = sb.write_config("[gateway]\nport = 19001\n");
    let r = sb.run(&["config", "schema", "--check", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("config schema >"), "{}", r.stderr);
    assert!(r.stderr.contains("clawctl config validate"), "{}", r.stderr);
}

#[test]
fn replacing_a_stored_key_needs_force_and_says_so() {
    let sb = Sandbox::new();
    assert_eq!(onboard_piped(&sb, KEY_A, &[]).code, 0);
    let r = onboard_piped(&sb, KEY_B, &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains(&fingerprint(KEY_A)) && r.stderr.contains(&fingerprint(KEY_B)),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert!(credentials(&sb).contains(KEY_A));
    let r = onboard_piped(&sb, KEY_B, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("replaced the stored"), "{}", r.stdout);
    assert!(credentials(&sb).contains(KEY_B));
    // The same key again is no replacement.
    assert_eq!(onboard_piped(&sb, KEY_B, &[]).code, 0);
}

#[test]
fn control_characters_in_a_key_are_refused() {
    let sb = Sandbox::new();
    for bad in [
        "sk-ESC\u{1b}APE0123456789abcdefghij",
        "sk-TWO WORDS0123456789abcdefgh",
    ] {
        let r = onboard_piped(&sb, bad, &[]);
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
        assert!(!r.all().contains("ESC\u{1b}APE") && !r.all().contains("TWO WORDS"));
    }
    assert!(credentials(&sb).is_empty());
}

#[test]
fn probes_run_concurrently_within_the_timeout() {
    let holes: Vec<FakeProvider> = (0..4).map(|_| FakeProvider::black_hole()).collect();
    let sb = Sandbox::new();
    let mut cfg = String::new();
    for (i, h) in holes.iter().enumerate() {
        cfg.push_str(&format!(
            "[models.providers.slow{i}]\nbase_url = \"{}\"\napi = \"openai-completions\"\napi_key = \"sk-SLOW{i}0123456789abcdefghijklmnop\"\nmodels = [\"m\"]\n\n",
            h.base_url()
        ));
    }
    sb.write_config(&cfg);
    let t = Instant::now();
    let r = sb.run(&["models", "status", "--probe", "--timeout", "2"]);
    let took = t.elapsed();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stdout.matches("probe: timeout").count(),
        4,
        "{}",
        r.stdout
    );
    // One after another would take 4 × 2 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Piped: no spinner, no control sequences.
    assert!(!r.all().contains('\u{1b}'), "{:?}", r.stderr);
}

#[test]
fn status_fits_80_columns() {
    let mut sb = Sandbox::new();
    sb.write_config(
        "[models.providers.moonshot]\nbase_url = \"https://api.moonshot.ai/v1\"\napi_key = \"cred:moonshot:default\"\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n",
    );
    std::fs::write(
        sb.clawctl_home().join("credentials.toml"),
        format!("[profiles.\"moonshot:default\"]\nprovider = \"moonshot\"\nkind = \"api_key\"\nsecret = \"{KEY_A}\"\n"),
    )
    .unwrap();
    sb.set_var("COLUMNS", "80");
    let r = sb.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for l in r.stdout.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    let home = regex_escape(&sb.home().display().to_string());
    insta::with_settings!({filters => vec![
        (home.as_str(), "[HOME]"),
        (r"[0-9a-f]{12}", "[SHA]"),
    ]}, {
        insta::assert_snapshot!(r.stdout, @r"
        service: not installed

                             this shell                              service (not found)
          config             ~/.config/clawctl/config.toml           -
          home               ~/.config/clawctl                       -
          config sha256      [SHA]                            -
          valid              yes                                     -
          default model      moonshot/kimi-k2.5                      -
          moonshot key       sk-… (sha256:656db86e, 40 chars) from…  -
          moonshot endpoint  https://api.moonshot.ai/v1              -
          gateway            loopback:18789                          -
          gateway token      MISSING                                 -
        (… marks a shortened value: --wide or --json shows it whole)
        ");
    });
    let wide = sb.run(&["status", "--wide"]);
    assert!(
        wide.stdout
            .contains("from ~/.config/clawctl/credentials.toml profile moonshot:default"),
        "{}",
        wide.stdout
    );
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let mut sb = Sandbox::new();
    sb.set_var("CLICOLOR_FORCE", "1");
    let r = sb.run(&["config", "get", "no.such.key"]);
    assert!(
        r.stderr.contains("\u{1b}["),
        "forced colour: {:?}",
        r.stderr
    );
    sb.set_var("NO_COLOR", "1");
    let r = sb.run(&["config", "get", "no.such.key"]);
    assert!(!r.stderr.contains('\u{1b}'), "NO_COLOR: {:?}", r.stderr);
}

#[cfg(unix)]
mod pty {
    use super::*;
    use expectrl::{Eof, Session};

    fn spawn(sb: &Sandbox, args: &[&str]) -> Session {
        sb.pty(args)
    }

    /// Everything a capture holds: the text before the match and the match.
    fn text(c: &expectrl::Captures) -> String {
        let mut b = c.before().to_vec();
        for m in c.matches() {
            b.extend_from_slice(m);
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Whether the pseudo-terminal is in line mode (ICANON), as a shell leaves it.
    fn canonical(s: &Session) -> bool {
        use std::os::fd::AsRawFd;
        let f = s.get_process().get_raw_handle().unwrap();
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(f.as_raw_fd(), &mut t) }, 0);
        t.c_lflag & libc::ICANON != 0
    }

    fn exit_code(s: &mut Session) -> i32 {
        match s.get_process().wait().unwrap() {
            expectrl::WaitStatus::Exited(_, c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auth_choice_prompts_for_the_key_hidden() {
        let sb = Sandbox::new();
        let mut s = spawn(
            &sb,
            &["onboard", "--auth-choice", "moonshot-api-key", "--no-probe"],
        );
        s.expect("API key (hidden").unwrap();
        s.send(format!("{KEY_A}\r")).unwrap();
        let text = text(&s.expect(Eof).unwrap());
        assert!(!text.contains("NEWCOMERAAAA"), "echoed: {text}");
        assert!(text.contains("stored the Moonshot"), "{text}");
        assert!(credentials(&sb).contains(KEY_A));
    }

    #[test]
    fn api_key_stdin_on_a_terminal_prompts_hidden() {
        let sb = Sandbox::new();
        let mut s = spawn(
            &sb,
            &[
                "onboard",
                "--auth-choice",
                "moonshot-api-key",
                "--api-key-stdin",
                "--no-probe",
            ],
        );
        s.expect("(hidden").unwrap();
        s.send(format!("{KEY_A}\r")).unwrap();
        assert!(!text(&s.expect(Eof).unwrap()).contains("NEWCOMERAAAA"));
        assert!(credentials(&sb).contains(KEY_A));
    }

    #[test]
    fn esc_at_the_key_prompt_goes_back_and_stores_no_escape() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["onboard"]);
        s.expect("Provider").unwrap();
        s.send("Moonshot\r").unwrap();
        s.expect("Platform").unwrap();
        s.send("\r").unwrap();
        s.expect("API key (hidden").unwrap();
        s.send("\x1b").unwrap();
        // Back one step: the platform is asked again.
        s.expect("Platform").unwrap();
        s.send("\r").unwrap();
        s.expect("API key (hidden").unwrap();
        s.send(format!("{KEY_A}\r")).unwrap();
        s.expect("Default model").unwrap();
        s.send("\r").unwrap();
        s.expect("Probe the key now?").unwrap();
        s.send("n").unwrap();
        s.expect("Update the gateway service now?").unwrap();
        s.send("n").unwrap();
        s.expect(Eof).unwrap();
        let creds = credentials(&sb);
        assert!(creds.contains(KEY_A), "{creds}");
        assert!(!creds.contains('\u{1b}') && !creds.contains("\\u001b") && !creds.contains("\\e"));
    }

    #[test]
    fn esc_in_a_menu_goes_back_one_step() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["onboard"]);
        s.expect("Provider").unwrap();
        s.send("Moonshot\r").unwrap();
        s.expect("Platform").unwrap();
        s.send("\x1b").unwrap();
        s.expect("Provider").unwrap();
        // Esc at the first question cancels; nothing is written.
        s.send("\x1b").unwrap();
        let out = text(&s.expect(Eof).unwrap());
        assert!(out.contains("nothing was written"), "{out}");
        assert_eq!(exit_code(&mut s), 1);
        assert!(!sb.config_path().exists());
    }

    #[test]
    fn ctrl_c_in_a_menu_restores_the_terminal() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["onboard"]);
        let first = text(&s.expect("Provider").unwrap());
        s.send("\x03").unwrap();
        let text = first + &text(&s.expect(Eof).unwrap());
        let hidden = text.rfind("\x1b[?25l").expect("the menu hid the cursor");
        let shown = text.rfind("\x1b[?25h").expect("the cursor is shown again");
        assert!(shown > hidden, "{text:?}");
        // Ctrl-C reaches the menu as a key (raw mode) or, between two reads, as SIGINT:
        // either way the cursor comes back and nothing is written.
        assert!(text.contains("interrupted (Ctrl-C)"), "{text}");
        assert_eq!(exit_code(&mut s), 130);
        assert!(!sb.config_path().exists());
    }

    #[test]
    fn ctrl_c_at_the_hidden_prompt_restores_the_terminal() {
        let sb = Sandbox::new();
        let mut s = spawn(&sb, &["onboard", "--auth-choice", "moonshot-api-key"]);
        s.expect("(hidden").unwrap();
        // Line editing (ICANON) is off while the key is read, key by key...
        std::thread::sleep(Duration::from_millis(300));
        assert!(!canonical(&s));
        s.send("sk-partial\x03").unwrap();
        s.expect(Eof).unwrap();
        // ...and the terminal is back as it was after Ctrl-C.
        assert!(canonical(&s));
        assert_eq!(exit_code(&mut s), 130);
        assert!(credentials(&sb).is_empty());
    }

    #[test]
    fn replacing_a_stored_key_asks_with_both_fingerprints() {
        let sb = Sandbox::new();
        assert_eq!(onboard_piped(&sb, KEY_A, &[]).code, 0);
        // No: the stored key stays.
        let mut s = spawn(
            &sb,
            &["onboard", "--auth-choice", "moonshot-api-key", "--no-probe"],
        );
        s.expect("(hidden").unwrap();
        s.send(format!("{KEY_B}\r")).unwrap();
        s.expect(fingerprint(KEY_A).as_str()).unwrap();
        s.expect(fingerprint(KEY_B).as_str()).unwrap();
        s.send("n").unwrap();
        s.expect(Eof).unwrap();
        assert_eq!(exit_code(&mut s), 1);
        assert!(credentials(&sb).contains(KEY_A));
        // Yes: replaced, and said so.
        let mut s = spawn(
            &sb,
            &["onboard", "--auth-choice", "moonshot-api-key", "--no-probe"],
        );
        s.expect("(hidden").unwrap();
        s.send(format!("{KEY_B}\r")).unwrap();
        s.expect("Replace").unwrap();
        s.send("y").unwrap();
        let out = text(&s.expect(Eof).unwrap());
        assert!(out.contains("replaced the stored"), "{out}");
        assert!(credentials(&sb).contains(KEY_B));
    }

    #[test]
    fn ctrl_c_during_the_probe_comes_after_the_stored_lines() {
        let hole = FakeProvider::black_hole();
        let mut sb = Sandbox::new();
        fake_catalog(&mut sb, &hole.base_url());
        sb.set_var("MOONSHOT_API_KEY", KEY_A);
        let mut s = spawn(&sb, &["onboard", "--auth-choice", "moonshot-api-key"]);
        // What was written is said before the slow probe starts.
        s.expect("stored the Moonshot").unwrap();
        s.expect("probing moonshot").unwrap();
        s.send("\x03").unwrap();
        let out = text(&s.expect(Eof).unwrap());
        assert!(out.contains("interrupted (Ctrl-C)"), "{out}");
        assert!(out.contains("\x1b[?25h"), "cursor shown: {out:?}");
        assert_eq!(exit_code(&mut s), 130);
        assert!(credentials(&sb).contains(KEY_A));
    }

    #[test]
    fn config_set_stdin_on_a_terminal_asks_hidden() {
        let sb = Sandbox::new();
        let mut s = spawn(
            &sb,
            &[
                "config",
                "set",
                "models.providers.moonshot.api_key",
                "--stdin",
            ],
        );
        s.expect("(hidden").unwrap();
        s.send(format!("{KEY_A}\r")).unwrap();
        let out = text(&s.expect(Eof).unwrap());
        assert!(!out.contains("NEWCOMERAAAA"), "echoed: {out}");
        assert!(out.contains("credentials.toml: stored"), "{out}");
        assert!(credentials(&sb).contains(KEY_A));
    }
}
