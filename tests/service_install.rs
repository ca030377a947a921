//! End-to-end tests of `clawctl service install|print|uninstall|status`: the real
//! binary, a temp HOME, an emptied environment, and a fake `systemctl` first on PATH so
//! that no test ever talks to the developer's own user manager.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::Sandbox;
use clawctl::env::{Environment, Platform};

const MOONSHOT_KEY: &str = "sk-kimi-0123456789abcdefSECRETVALUE42";
const GATEWAY_TOKEN: &str = "gwtok-0123456789abcdefTOKENVALUE";

/// How the fake `systemctl` behaves.
enum Manager {
    /// No user manager (CI, containers): every call fails like systemctl does there.
    Absent,
    /// A user manager that answers and records every call in the sandbox's `systemctl.log`.
    Answers,
}

fn sandbox(manager: Manager) -> Sandbox {
    let mut sb = Sandbox::new();
    let bin = sb.dir.path().join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = sb.dir.path().join("systemctl.log");
    let script = match manager {
        Manager::Absent => {
            "#!/bin/sh\necho \"Failed to connect to bus: No medium found\" >&2\nexit 1\n"
                .to_string()
        }
        Manager::Answers => format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nif [ \"$2\" = show ]; then printf 'LoadState=loaded\\nActiveState=inactive\\nSubState=dead\\nMainPID=0\\n'; fi\nexit 0\n",
            log.display()
        ),
    };
    let p = bin.join("systemctl");
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.set_var("PATH", &format!("{}:/usr/bin:/bin", bin.display()));
    sb.set_var("USER", "tester");
    sb
}

fn systemctl_log(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.dir.path().join("systemctl.log")).unwrap_or_default()
}

fn unit_path(sb: &Sandbox) -> PathBuf {
    sb.home()
        .join(".config/systemd/user/clawctl-gateway.service")
}

fn plist_path(sb: &Sandbox) -> PathBuf {
    sb.home()
        .join("Library/LaunchAgents/ai.clawctl.gateway.plist")
}

fn exe() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_clawctl"))
        .canonicalize()
        .unwrap()
}

/// Every file under `dir`, with its content.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

fn install(sb: &Sandbox, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["service", "install"];
    args.extend_from_slice(extra);
    let r = sb.run(&args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.all());
    r
}

/// `systemd-analyze verify` of a user unit, as a user manager would load it. `--user`
/// needs a runtime directory; where even that cannot start a manager (some containers),
/// the system-mode check of the same file is used.
fn systemd_analyze_verify(sb: &Sandbox, unit: &Path) -> Option<(i32, String)> {
    let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let runtime = sb.dir.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let run = |user: bool| {
        let mut c = Command::new(analyze);
        c.env_clear()
            .env("HOME", sb.home())
            .env("PATH", "/usr/bin:/bin")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("SYSTEMD_LOG_COLOR", "0");
        if user {
            c.arg("--user");
        }
        let o = c.arg("verify").arg(unit).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(true);
    if code != 0 && (err.contains("initialize manager") || err.contains("RuntimeDirectory")) {
        eprintln!(
            "systemd-analyze --user cannot start a manager here ({err}); checking in system mode"
        );
        return Some(run(false));
    }
    Some((code, err))
}

#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    let mut sb = sandbox(Manager::Absent);
    sb.set_var("MOONSHOT_API_KEY", MOONSHOT_KEY);
    install(&sb, &["--platform", "systemd", "--no-start"]);
    let unit = unit_path(&sb);
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains(&format!("ExecStart={} gateway run", exe().display())));
    assert!(text.contains("RestartPreventExitStatus=78"));
    assert!(text.contains("WorkingDirectory=%h"));
    assert!(text.contains("WantedBy=default.target"));
    let Some((code, err)) = systemd_analyze_verify(&sb, &unit) else {
        eprintln!("SKIP: systemd-analyze is not installed (.ci/run installs Debian's systemd)");
        return;
    };
    let about_unit: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("clawctl-gateway"))
        .collect();
    assert!(
        code == 0 && about_unit.is_empty(),
        "systemd-analyze verify: exit {code}\n{err}\n{text}"
    );

    // The check is not vacuous: the same unit pointing at a missing binary fails it.
    let broken = text.replace(&exe().display().to_string(), "/nonexistent/clawctl");
    std::fs::write(&unit, broken).unwrap();
    let (code, err) = systemd_analyze_verify(&sb, &unit).unwrap();
    assert!(
        code != 0 || err.contains("not executable"),
        "a missing ExecStart binary must fail verify: {err}"
    );
}

#[test]
fn systemd_quoting_survives_spaces_and_percent_in_the_home() {
    let mut sb = sandbox(Manager::Absent);
    let odd_home = sb.dir.path().join("odd home/100% \"q\"");
    sb.set_var("CLAWCTL_HOME", &odd_home.display().to_string());
    install(&sb, &["--platform", "systemd", "--no-start"]);
    let unit = unit_path(&sb);
    let def = clawctl::service::parse_systemd_unit(&unit, &sb.home(), "tester").unwrap();
    assert_eq!(
        def.var("CLAWCTL_HOME").unwrap().value,
        odd_home.display().to_string()
    );
    if let Some((code, err)) = systemd_analyze_verify(&sb, &unit) {
        assert!(
            code == 0 && !err.contains("clawctl-gateway"),
            "exit {code}: {err}\n{}",
            std::fs::read_to_string(&unit).unwrap()
        );
    }
}

#[test]
fn launchd_plist_loads_with_the_plist_crate_and_python_plistlib() {
    let mut sb = sandbox(Manager::Absent);
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", GATEWAY_TOKEN);
    let r = install(&sb, &["--platform", "launchd"]);
    assert!(
        r.stdout.contains("not on macOS") && r.stdout.contains("Library/LaunchAgents"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("launchctl bootstrap gui/"), "{}", r.all());
    let path = plist_path(&sb);
    let home = sb.clawctl_home().display().to_string();

    let v = plist::Value::from_file(&path).unwrap();
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["Label"].as_string(), Some("ai.clawctl.gateway"));
    let args: Vec<&str> = d["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_string().unwrap())
        .collect();
    assert_eq!(
        args,
        vec![exe().to_str().unwrap(), "gateway", "run"],
        "ProgramArguments"
    );
    let env = d["EnvironmentVariables"].as_dictionary().unwrap();
    assert_eq!(env["CLAWCTL_HOME"].as_string(), Some(home.as_str()));
    assert_eq!(env.len(), 1, "only the pinning variable: {env:?}");
    assert_eq!(
        d["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(),
        Some(false)
    );
    assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
    assert!(d["ThrottleInterval"].as_unsigned_integer().is_some());
    assert_eq!(
        d["StandardErrorPath"].as_string(),
        Some(format!("{home}/logs/gateway.err.log").as_str())
    );
    assert!(
        sb.clawctl_home().join("logs").is_dir(),
        "launchd does not create the log dir"
    );

    // Our own parser reads it back the same way.
    let def = clawctl::service::parse_launchd_plist(&path, &sb.home(), "tester").unwrap();
    assert_eq!(def.var("CLAWCTL_HOME").unwrap().value, home);
    assert!(def.findings.is_empty(), "{:?}", def.findings);

    let py = r#"
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
assert d["Label"] == "ai.clawctl.gateway", d
assert d["ProgramArguments"] == [sys.argv[2], "gateway", "run"], d["ProgramArguments"]
assert d["EnvironmentVariables"] == {"CLAWCTL_HOME": sys.argv[3]}, d["EnvironmentVariables"]
assert d["KeepAlive"] == {"SuccessfulExit": False}
assert d["WorkingDirectory"] == sys.argv[4]
print("ok")
"#;
    match Command::new("python3")
        .arg("-c")
        .arg(py)
        .arg(&path)
        .arg(exe())
        .arg(&home)
        .arg(sb.home())
        .output()
    {
        Ok(o) => assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "ok",
            "plistlib: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("SKIP plistlib: cannot run python3: {e}"),
    }
}

#[test]
fn windows_task_xml_is_utf16_with_bom_and_reads_back() {
    let sb = sandbox(Manager::Absent);
    let r = install(&sb, &["--platform", "windows"]);
    assert!(
        r.stdout
            .contains("schtasks /Create /TN clawctl-gateway /XML")
    );
    let dir = sb.clawctl_home().join("service");
    let xml_path = dir.join("clawctl-gateway.xml");
    let cmd_path = dir.join("gateway.cmd");
    let bytes = std::fs::read(&xml_path).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE byte-order mark");
    assert_eq!(bytes.len() % 2, 0);
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("valid UTF-16");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));

    // Parse it as XML: the Task element in its namespace, a logon trigger, and the
    // wrapper as the command.
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<String> = Vec::new();
    let mut namespace = None;
    let mut command = None;
    let mut logon_trigger = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "Task" {
                    for a in e.attributes() {
                        let a = a.unwrap();
                        if a.key.as_ref() == "xmlns" {
                            // The namespace URI has no entities to resolve.
                            namespace = Some(a.value.into_owned());
                        }
                    }
                }
                logon_trigger |= name == "LogonTrigger";
                stack.push(name);
            }
            quick_xml::events::Event::Text(t) if stack.join("/") == "Task/Actions/Exec/Command" => {
                command = Some(t.xml10_content().into_owned());
            }
            quick_xml::events::Event::End(_) => {
                stack.pop();
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        namespace.as_deref(),
        Some("http://schemas.microsoft.com/windows/2004/02/mit/task")
    );
    assert!(logon_trigger, "{text}");
    assert_eq!(command.as_deref(), Some(cmd_path.to_str().unwrap()));

    let cmd = std::fs::read_to_string(&cmd_path).unwrap();
    assert!(cmd.starts_with("@echo off\r\n"), "{cmd:?}");
    assert!(cmd.contains(&format!(
        "set \"CLAWCTL_HOME={}\"\r\n",
        sb.clawctl_home().display()
    )));
    assert!(cmd.ends_with(&format!("\"{}\" gateway run\r\n", exe().display())));

    let def = clawctl::service::parse_windows_task(&xml_path).unwrap();
    assert_eq!(def.name, "clawctl-gateway");
    assert_eq!(
        def.var("CLAWCTL_HOME").unwrap().value,
        sb.clawctl_home().display().to_string()
    );
    assert_eq!(
        def.program,
        vec![exe().display().to_string(), "gateway".into(), "run".into()]
    );

    // status reads the files clawctl wrote (Task Scheduler's store is not here).
    let r = sb.run(&["service", "status", "--platform", "windows"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("current: yes"), "{}", r.all());
}

/// The issue's done-when: a unit installed by `service install`, read back by the
/// service-view code, gives a service view whose config path equals the CLI's.
#[test]
fn installed_unit_gives_a_service_view_with_the_clis_config() {
    for (label, vars, global) in [
        ("default home", vec![], vec![]),
        (
            "CLAWCTL_CONFIG relative to the shell's cwd, and a profile",
            vec![("CLAWCTL_CONFIG", "elsewhere/my-config.toml")],
            vec!["--profile", "work"],
        ),
        (
            "XDG_CONFIG_HOME and CLAWCTL_PROFILE",
            vec![("XDG_CONFIG_HOME", "xdg"), ("CLAWCTL_PROFILE", "lab")],
            vec![],
        ),
    ] {
        let mut sb = sandbox(Manager::Absent);
        for (k, v) in &vars {
            sb.set_var(k, v);
        }
        sb.set_var("MOONSHOT_API_KEY", MOONSHOT_KEY);
        let mut args = global.clone();
        args.extend(["service", "install", "--no-start"]);
        let r = sb.run(&args);
        assert_eq!(r.code, 0, "{label}: {}", r.all());
        assert!(
            r.stdout.contains("the same config as this shell"),
            "{label}: {}",
            r.all()
        );

        let mut status_args = global.clone();
        status_args.extend(["status", "--json"]);
        let j = sb.json(&status_args);
        let cli_config = j["cli"]["config"].as_str().unwrap().to_string();
        assert_eq!(
            j["service_view"]["config"].as_str(),
            Some(cli_config.as_str()),
            "{label}: {j:#}"
        );
        assert_eq!(
            j["service"]["definition"]["path"].as_str(),
            Some(unit_path(&sb).to_str().unwrap()),
            "{label}"
        );

        // The same through the library: the unit's environment, loaded.
        let cli_env = Environment::from_parts(
            sb.vars.clone(),
            Some(sb.home()),
            sb.dir.path().to_path_buf(),
            Platform::Linux,
            "test shell",
        );
        let profile = global.get(1).copied();
        let cli_paths = clawctl::env::paths::Paths::resolve(&cli_env, profile).unwrap();
        assert_eq!(
            cli_paths.config.display().to_string(),
            cli_config,
            "{label}"
        );
        let def =
            clawctl::service::parse_systemd_unit(&unit_path(&sb), &sb.home(), "tester").unwrap();
        let svc_env = clawctl::service::view::definition_environment(&cli_env, &def);
        let loaded = clawctl::config::load::load(&svc_env, &Default::default()).unwrap();
        assert_eq!(loaded.paths.config, cli_paths.config, "{label}");
        assert_eq!(loaded.paths.home, cli_paths.home, "{label}");
        assert!(
            svc_env.var("MOONSHOT_API_KEY").is_none(),
            "{label}: the unit must not carry the shell's key"
        );
    }
}

#[test]
fn reinstall_keeps_drop_ins_and_hand_added_variables_and_drops_secrets() {
    let sb = sandbox(Manager::Absent);
    install(&sb, &["--platform", "systemd", "--no-start"]);
    let unit = unit_path(&sb);
    let original = std::fs::read_to_string(&unit).unwrap();
    let drop_in_dir = unit.with_file_name("clawctl-gateway.service.d");
    std::fs::create_dir_all(&drop_in_dir).unwrap();
    let drop_in = drop_in_dir.join("override.conf");
    std::fs::write(&drop_in, "[Service]\nEnvironment=FROM_DROP_IN=1\nNice=5\n").unwrap();
    let edited = original.replace(
        "WorkingDirectory=%h\n",
        &format!(
            "Environment=FOO=bar\nEnvironment=MOONSHOT_API_KEY={MOONSHOT_KEY}\nWorkingDirectory=%h\n"
        ),
    );
    assert_ne!(edited, original);
    std::fs::write(&unit, &edited).unwrap();
    let backups = sb.clawctl_home().join("backups");
    let before = tree(&sb.home());

    // Without --force: refused with the diff, nothing changes.
    let r = sb.run(&["service", "install", "--platform", "systemd", "--no-start"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--force"), "{}", r.all());
    assert!(
        r.stderr.contains("-Environment=MOONSHOT_API_KEY=sk-kimi-…"),
        "the diff, secret described: {}",
        r.all()
    );
    assert!(r.stderr.contains("nothing was written"), "{}", r.all());
    assert!(!r.all().contains(MOONSHOT_KEY), "{}", r.all());
    assert_eq!(
        tree(&sb.home()),
        before,
        "a refused install changes nothing"
    );

    let st = sb.run(&["service", "status", "--platform", "systemd"]);
    assert_eq!(st.code, 1, "{}", st.all());
    assert!(
        st.stdout.contains("service install --force"),
        "{}",
        st.all()
    );
    assert!(!st.all().contains(MOONSHOT_KEY));

    // With --force: FOO and the drop-in stay, the key goes, with a warning naming it.
    let r = sb.run(&[
        "service",
        "install",
        "--platform",
        "systemd",
        "--no-start",
        "--force",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains(MOONSHOT_KEY), "{}", r.all());
    // The unit held the service's only copy of the key: it moves to credentials.toml.
    assert!(
        r.stdout
            .contains("moved MOONSHOT_API_KEY (sk-kimi-… (sha256:")
            && r.stdout.contains("as profile moonshot:default"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("--- a/~/.config/systemd/user/clawctl-gateway.service")
            && r.stdout
                .contains("-Environment=MOONSHOT_API_KEY=sk-kimi-… (sha256:"),
        "a diff of what changed: {}",
        r.all()
    );
    assert!(r.stdout.contains("kept the variables you added: `FOO`"));
    assert!(r.stdout.contains("left your drop-ins alone"), "{}", r.all());
    let after = std::fs::read_to_string(&unit).unwrap();
    assert!(after.contains("Environment=FOO=bar\n"), "{after}");
    assert!(!after.contains("MOONSHOT_API_KEY"), "{after}");
    assert_eq!(
        std::fs::read_to_string(&drop_in).unwrap(),
        "[Service]\nEnvironment=FROM_DROP_IN=1\nNice=5\n"
    );
    let saved: Vec<String> = clawctl::write::safe_write::list_backups(&backups)
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(saved, vec![edited], "the replaced unit is backed up");

    // The result is what install writes now, and a second install leaves it alone.
    let st = sb.run(&["service", "status", "--platform", "systemd"]);
    assert_eq!(st.code, 0, "{}", st.all());
    assert!(
        st.stdout
            .contains("drop-in: ~/.config/systemd/user/clawctl-gateway.service.d/override.conf"),
        "{}",
        st.all()
    );
    let r = install(&sb, &["--platform", "systemd", "--no-start"]);
    assert!(r.stdout.contains("is already current"), "{}", r.all());
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), after);

    // The drop-in is part of what the service reads.
    let def = clawctl::service::parse_systemd_unit(&unit, &sb.home(), "tester").unwrap();
    assert_eq!(def.var("FROM_DROP_IN").unwrap().value, "1");
    assert_eq!(def.var("FOO").unwrap().value, "bar");
}

#[test]
fn launchd_reinstall_keeps_extra_variables_and_keys() {
    let sb = sandbox(Manager::Absent);
    install(&sb, &["--platform", "launchd", "--no-start"]);
    let path = plist_path(&sb);
    let mut v = plist::Value::from_file(&path).unwrap();
    let d = v.as_dictionary_mut().unwrap();
    let env = d
        .get_mut("EnvironmentVariables")
        .unwrap()
        .as_dictionary_mut()
        .unwrap();
    env.insert("FOO".into(), "bar".into());
    env.insert("MOONSHOT_API_KEY".into(), MOONSHOT_KEY.into());
    d.insert("Nice".into(), plist::Value::Integer(5.into()));
    d.insert("Program".into(), "/usr/bin/false".into());
    v.to_file_xml(&path).unwrap();

    let r = sb.run(&["service", "install", "--platform", "launchd", "--no-start"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains(MOONSHOT_KEY));
    let r = install(&sb, &["--platform", "launchd", "--no-start", "--force"]);
    assert!(!r.all().contains(MOONSHOT_KEY), "{}", r.all());
    assert!(r.stdout.contains("moved MOONSHOT_API_KEY"), "{}", r.all());
    assert!(r.stderr.contains("`Program`"), "{}", r.all());
    let v = plist::Value::from_file(&path).unwrap();
    let d = v.as_dictionary().unwrap();
    let env = d["EnvironmentVariables"].as_dictionary().unwrap();
    assert_eq!(env["FOO"].as_string(), Some("bar"));
    assert!(!env.contains_key("MOONSHOT_API_KEY"));
    assert_eq!(d["Nice"].as_signed_integer(), Some(5));
    assert!(!d.contains_key("Program"));
    let st = sb.run(&["service", "status", "--platform", "launchd"]);
    assert_eq!(st.code, 0, "{}", st.all());
    assert!(
        st.stdout
            .contains("launchd has no RestartPreventExitStatus"),
        "{}",
        st.all()
    );
}

#[test]
fn no_secret_reaches_any_generated_file_or_output() {
    let mut sb = sandbox(Manager::Absent);
    sb.set_var("MOONSHOT_API_KEY", MOONSHOT_KEY);
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", GATEWAY_TOKEN);
    sb.write_config(
        "[meta]\nversion = 1\n\n[gateway.auth]\nmode = \"token\"\ntoken = \"${CLAWCTL_GATEWAY_TOKEN}\"\n\n[models.providers.moonshot]\napi_key = \"${MOONSHOT_API_KEY}\"\n",
    );
    let mut outputs = String::new();
    for p in ["systemd", "launchd", "windows"] {
        outputs.push_str(&sb.run(&["service", "print", "--platform", p]).all());
        outputs.push_str(&install(&sb, &["--platform", p, "--no-start"]).all());
        outputs.push_str(
            &sb.run(&["service", "status", "--platform", p, "--json"])
                .all(),
        );
    }
    for secret in [MOONSHOT_KEY, GATEWAY_TOKEN] {
        assert!(
            !outputs.contains(secret),
            "output shows a secret:\n{outputs}"
        );
    }
    let files = tree(&sb.home());
    let generated: Vec<&PathBuf> = files
        .keys()
        .filter(|p| {
            let s = p.display().to_string();
            // Not safe_write's empty `.NAME.lock` sidecars.
            let hidden = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            !hidden && (s.ends_with(".service") || s.ends_with(".plist") || s.contains("/service/"))
        })
        .collect();
    assert_eq!(generated.len(), 4, "{generated:?}");
    for p in generated {
        let bytes = &files[p];
        let text = if bytes.starts_with(&[0xFF, 0xFE]) {
            String::from_utf16(
                &bytes[2..]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect::<Vec<_>>(),
            )
            .unwrap()
        } else {
            String::from_utf8(bytes.clone()).unwrap()
        };
        for needle in [
            MOONSHOT_KEY,
            GATEWAY_TOKEN,
            "MOONSHOT_API_KEY",
            "CLAWCTL_GATEWAY_TOKEN",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains {needle}:\n{text}",
                p.display()
            );
        }
        // The task XML only points at the wrapper, which pins the files.
        if !text.contains("<Task") {
            assert!(text.contains("CLAWCTL_HOME"), "{}", p.display());
        }
    }
}

#[test]
fn print_writes_nothing_and_shows_exactly_what_install_writes() {
    for platform in ["systemd", "launchd", "windows"] {
        let sb = sandbox(Manager::Absent);
        let before = tree(sb.dir.path());
        let r = sb.run(&["service", "print", "--platform", platform]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(
            tree(sb.dir.path()),
            before,
            "{platform}: print wrote something"
        );
        assert!(
            !sb.home().join(".config").exists() && !sb.home().join("Library").exists(),
            "{platform}: print created directories"
        );
        install(&sb, &["--platform", platform, "--no-start"]);
        // Each `==> path (…) <==` section is the file's text.
        let mut sections = r.stdout.split("==> ").skip(1);
        let mut count = 0;
        for path in [
            unit_path(&sb),
            plist_path(&sb),
            sb.clawctl_home().join("service/gateway.cmd"),
            sb.clawctl_home().join("service/clawctl-gateway.xml"),
        ] {
            if !path.exists() {
                continue;
            }
            count += 1;
            let section = sections.next().unwrap();
            let (header, body) = section.split_once(" <==\n").unwrap();
            assert!(header.starts_with(path.to_str().unwrap()), "{header}");
            assert!(header.contains("(new file"), "{header}");
            let bytes = std::fs::read(&path).unwrap();
            let written = if bytes.starts_with(&[0xFF, 0xFE]) {
                assert!(header.contains("UTF-16LE"));
                String::from_utf16(
                    &bytes[2..]
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>(),
                )
                .unwrap()
            } else {
                String::from_utf8(bytes).unwrap()
            };
            assert!(
                body.starts_with(&written),
                "{platform}: print differs from {}",
                path.display()
            );
        }
        assert!(count >= 1, "{platform}");
    }
}

#[test]
fn uninstall_removes_the_definition_and_leaves_drop_ins() {
    let sb = sandbox(Manager::Absent);
    let r = sb.run(&["service", "uninstall", "--platform", "systemd"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("nothing to uninstall"), "{}", r.all());

    install(&sb, &["--platform", "systemd", "--no-start"]);
    let unit = unit_path(&sb);
    let content = std::fs::read_to_string(&unit).unwrap();
    let drop_in = unit.with_file_name("clawctl-gateway.service.d/10-mine.conf");
    std::fs::create_dir_all(drop_in.parent().unwrap()).unwrap();
    std::fs::write(&drop_in, "[Service]\nNice=5\n").unwrap();
    let r = sb.run(&["service", "uninstall", "--platform", "systemd"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!unit.exists());
    assert!(drop_in.exists());
    assert!(r.stdout.contains("left your drop-ins alone"), "{}", r.all());
    assert!(
        r.stdout
            .contains("systemctl --user disable --now clawctl-gateway.service"),
        "no manager here: the command to run is printed: {}",
        r.all()
    );
    let backups = clawctl::write::safe_write::list_backups(&sb.clawctl_home().join("backups"));
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), content);

    let st = sb.run(&["service", "status", "--platform", "systemd", "--json"]);
    assert_eq!(st.code, 1);
    let j: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(j["installed"], false);
    assert_eq!(j["fix"][0], "clawctl service install --platform systemd");
}

#[test]
fn status_reports_installed_current_and_exits_accordingly() {
    let sb = sandbox(Manager::Absent);
    let r = sb.run(&["service", "status", "--platform", "systemd"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("not installed"), "{}", r.all());

    install(&sb, &["--platform", "systemd", "--no-start"]);
    let j = sb.json(&["service", "status", "--platform", "systemd", "--json"]);
    assert_eq!(j["installed"], true, "{j:#}");
    assert_eq!(j["current"], true);
    assert_eq!(j["generated_by_clawctl"], true);
    assert_eq!(j["definitions"][0]["clawctl"], true);
    assert_eq!(j["state"]["state"], "installed");
    assert_eq!(j["stale"], false);
    assert_eq!(j["manager"]["reachable"], false);
    assert_eq!(j["same_config_as_cli"], true);
    assert_eq!(
        j["config"].as_str(),
        Some(sb.config_path().to_str().unwrap())
    );

    // A shell that now uses another config: the installed unit is no longer current.
    let mut sb2 = sb;
    sb2.set_var("CLAWCTL_CONFIG", "/tmp/other-config.toml");
    let r = sb2.run(&["service", "status", "--platform", "systemd"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("+Environment=CLAWCTL_CONFIG=/tmp/other-config.toml"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("NOT the one this shell reads"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("fix: clawctl service install --force --platform systemd"),
        "{}",
        r.all()
    );
}

#[test]
fn install_loads_the_unit_when_the_user_manager_answers() {
    if !cfg!(target_os = "linux") {
        return; // The default manager is launchd on macOS.
    }
    let sb = sandbox(Manager::Answers);
    let r = sb.run(&["service", "install"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let log = systemctl_log(&sb);
    assert!(
        log.contains("--user daemon-reload\n--user enable --now clawctl-gateway.service\n"),
        "{log}"
    );
    assert!(
        r.stdout.contains("ran: systemctl --user enable --now"),
        "{}",
        r.all()
    );

    // Replacing a unit restarts the service so it runs the new definition.
    std::fs::write(
        unit_path(&sb),
        std::fs::read_to_string(unit_path(&sb))
            .unwrap()
            .replace("RestartSec=2", "RestartSec=5"),
    )
    .unwrap();
    let r = sb.run(&["service", "install", "--force"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        systemctl_log(&sb).ends_with(
            "--user daemon-reload\n--user enable clawctl-gateway.service\n--user restart clawctl-gateway.service\n"
        ),
        "{}",
        systemctl_log(&sb)
    );

    let r = sb.run(&["service", "status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("manager: systemd user manager: loaded, inactive (dead)"),
        "{}",
        r.all()
    );

    let r = sb.run(&["service", "uninstall"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        systemctl_log(&sb)
            .ends_with("--user disable --now clawctl-gateway.service\n--user daemon-reload\n"),
        "{}",
        systemctl_log(&sb)
    );
}

#[test]
fn install_without_a_user_manager_prints_the_commands_and_succeeds() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let sb = sandbox(Manager::Absent);
    let r = sb.run(&["service", "install"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(unit_path(&sb).exists());
    assert!(
        r.stdout.contains("does not answer here")
            && r.stdout.contains("  systemctl --user daemon-reload\n")
            && r.stdout
                .contains("  systemctl --user enable --now clawctl-gateway.service"),
        "{}",
        r.all()
    );
}

#[test]
fn an_invalid_config_is_written_but_not_started() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let sb = sandbox(Manager::Answers);
    sb.write_config("[meta]\nversion = 1\n\n[gateway]\nport = 99999\n");
    let r = sb.run(&["service", "install"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(unit_path(&sb).exists());
    assert!(r.stderr.contains("would exit 78"), "{}", r.all());
    assert!(
        !systemctl_log(&sb).contains("enable"),
        "{}",
        systemctl_log(&sb)
    );
}

#[test]
fn usage_errors_exit_2() {
    let sb = sandbox(Manager::Absent);
    let r = sb.run(&["service", "install", "--platform", "upstart"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = sb.run(&["service"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

/// A hand-made unit at clawctl's path with a key in two places: no service command
/// prints any part of it, whatever it shows (diffs included).
#[test]
fn a_hand_made_unit_with_keys_never_leaks_them() {
    const NEEDLE: &str = "c4n4ry";
    let canary = format!("sk-CANARY{NEEDLE}CANARY{NEEDLE}0123456789");
    let sb = sandbox(Manager::Absent);
    let unit = unit_path(&sb);
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(
        &unit,
        format!(
            "[Service]\nExecStart=/bin/true gateway run --token {canary}\nEnvironment=MOONSHOT_API_KEY={canary} \"PLAIN=x y\"\n"
        ),
    )
    .unwrap();
    let mut all = String::new();
    for args in [
        &["service", "status", "--platform", "systemd"][..],
        &["service", "status", "--platform", "systemd", "--json"],
        &["service", "print", "--platform", "systemd"],
        &["service", "install", "--platform", "systemd", "--no-start"],
        &[
            "service",
            "install",
            "--platform",
            "systemd",
            "--no-start",
            "--force",
        ],
        &["service", "uninstall", "--platform", "systemd"],
    ] {
        let r = sb.run(args);
        assert!(!r.all().contains(NEEDLE), "{args:?} leaked:\n{}", r.all());
        all.push_str(&r.all());
    }
    assert!(all.contains("not written by clawctl"), "{all}");
    assert!(
        all.contains("kept the variables you added: `PLAIN`"),
        "{all}"
    );
}
