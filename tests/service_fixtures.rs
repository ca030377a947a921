//! Service discovery and parsing against fixture trees (tests/fixtures/services) and real
//! processes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use clawctl::env::Platform;
use clawctl::service::{
    self, EnvVar, Manager, ProcessError, ServiceDefinition, dotenv_systemd_differences, parse_any,
    parse_environment_file, parse_launchd_plist, parse_systemd_unit, parse_windows_task,
    parse_windows_wrapper, read_process,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/services")
}

fn home() -> PathBuf {
    fixtures().join("home")
}

fn corpus(name: &str) -> PathBuf {
    fixtures().join("corpus").join(name)
}

fn user_units() -> PathBuf {
    home().join(".config/systemd/user")
}

fn env_map(vars: &[EnvVar]) -> BTreeMap<&str, &str> {
    vars.iter()
        .map(|v| (v.name.as_str(), v.value.as_str()))
        .collect()
}

fn var<'a>(vars: &'a [EnvVar], name: &str) -> &'a EnvVar {
    vars.iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("{name} missing from {vars:?}"))
}

fn codes(def: &ServiceDefinition) -> Vec<&'static str> {
    def.findings.iter().map(|f| f.code).collect()
}

fn has_finding(def: &ServiceDefinition, code: &str, needle: &str) -> bool {
    def.findings
        .iter()
        .any(|f| f.code == code && f.message.contains(needle))
}

// ---------------------------------------------------------------------------------------
// systemd

#[test]
fn systemd_unit_with_drop_ins_and_environment_files() {
    let home = home();
    let def = parse_systemd_unit(
        &user_units().join("clawctl-gateway.service"),
        &home,
        "alice",
    )
    .unwrap();
    assert_eq!(def.manager, Manager::Systemd);
    assert_eq!(def.name, "clawctl-gateway.service");
    assert_eq!(
        def.program,
        vec![
            "/usr/bin/env",
            "clawctl",
            "gateway",
            "run",
            "--port",
            "18789"
        ]
    );
    assert_eq!(def.working_dir.as_deref(), Some(home.as_path()));

    let env = env_map(&def.env);
    let h = home.display().to_string();
    assert_eq!(env["CLAWCTL_HOME"], format!("{h}/.config/clawctl"));
    assert_eq!(
        env["PATH"],
        format!("{h}/.local/bin:/usr/local/bin:/usr/bin:/bin")
    );
    // unit "info json" < drop-in "debug" < gateway.env "trace" (EnvironmentFile wins).
    assert_eq!(env["CLAWCTL_LOG"], "trace");
    assert_eq!(env["LITERAL"], "$HOME/x 100%");
    assert_eq!(env["GREETING"], "hello world");
    assert_eq!(env["SINGLE"], "a b");
    // .env read by systemd's rules, not dotenv's.
    assert_eq!(env["NOTE"], "x # note");
    assert_eq!(env["QUOTED"], "double quoted");
    assert_eq!(env["SINGLE_Q"], "single # not a comment");
    assert_eq!(env["CONT"], "onetwo");
    assert!(env["MOONSHOT_API_KEY"].starts_with("sk-kimi-"));
    assert!(!env.contains_key("EXPORTED"));

    assert_eq!(
        var(&def.env, "OPENAI_API_KEY").evidence,
        "~/.config/systemd/user/clawctl-gateway.service:14 (Environment=)"
    );
    assert_eq!(
        var(&def.env, "GREETING").evidence,
        "~/.config/systemd/user/clawctl-gateway.service.d/20-more.conf:4 (Environment=)"
    );
    assert_eq!(
        var(&def.env, "NOTE").evidence,
        "~/.config/clawctl/.env:3 (EnvironmentFile=)"
    );
    assert_eq!(
        var(&def.env, "CLAWCTL_LOG").evidence,
        "~/.config/clawctl/gateway.env:1 (EnvironmentFile=)"
    );

    // Every file read, for "changed after the process started".
    let files: Vec<String> = def
        .files
        .iter()
        .map(|p| p.strip_prefix(&home).unwrap().display().to_string())
        .collect();
    assert_eq!(
        files,
        vec![
            ".config/systemd/user/clawctl-gateway.service",
            ".config/systemd/user/clawctl-gateway.service.d/10-env.conf",
            ".config/systemd/user/clawctl-gateway.service.d/20-more.conf",
            ".config/clawctl/.env",
            ".config/clawctl/gateway.env",
            ".config/environment.d/50-clawctl.conf",
        ]
    );

    // What the manager adds, minus UnsetEnvironment=LOGNAME; environment.d prepends to PATH.
    let manager = env_map(&def.manager_env);
    assert_eq!(manager["HOME"], h);
    assert_eq!(manager["USER"], "alice");
    assert!(!manager.contains_key("LOGNAME"));
    assert_eq!(
        manager["PATH"],
        format!("{h}/.local/bin:{}", service::systemd::DEFAULT_PATH)
    );
    assert_eq!(manager["EDITOR"], "vi");
    assert_eq!(def.unset, vec!["LOGNAME"]);
    assert!(!def.cannot_tell.is_empty());

    assert!(has_finding(
        &def,
        "env-override",
        "CLAWCTL_LOG is set again"
    ));
    assert!(has_finding(&def, "env-file-overrides", "CLAWCTL_LOG"));
    assert!(has_finding(
        &def,
        "env-file-optional-missing",
        "missing.env"
    ));
    assert!(has_finding(
        &def,
        "env-file-syntax",
        "`export EXPORTED=` is ignored"
    ));
    assert!(has_finding(
        &def,
        "literal-dollar",
        "LITERAL contains `$HOME`"
    ));

    let eff = env_map_owned(&def.effective_env());
    assert_eq!(
        eff["PATH"],
        format!("{h}/.local/bin:/usr/local/bin:/usr/bin:/bin")
    );
    assert_eq!(eff["EDITOR"], "vi");
}

fn env_map_owned(vars: &[EnvVar]) -> BTreeMap<String, String> {
    vars.iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}

#[test]
fn dotenv_and_systemd_read_the_fixture_env_differently() {
    let text = std::fs::read_to_string(home().join(".config/clawctl/.env")).unwrap();
    let diffs = dotenv_systemd_differences(&text);
    let names: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["NOTE", "EXPORTED", "CONT"]);
    assert_eq!(diffs[0].dotenv.as_deref(), Some("x"));
    assert_eq!(diffs[0].systemd.as_deref(), Some("x # note"));
    assert_eq!(diffs[1].systemd, None);
    assert_eq!(diffs[2].systemd.as_deref(), Some("onetwo"));
}

#[test]
fn missing_required_environment_file_is_reported() {
    // Corpus 011 + 012: the drop-in's EnvironmentFile has no `-` and does not exist.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("openclaw-gateway.service");
    std::fs::copy(
        corpus("011-systemd-openclaw-user-placeholder-comments.service"),
        &unit,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("openclaw-gateway.service.d")).unwrap();
    std::fs::copy(
        corpus("012-systemd-openclaw-dropin-environmentfile.conf"),
        dir.path().join("openclaw-gateway.service.d/env.conf"),
    )
    .unwrap();
    let def = parse_systemd_unit(&unit, Path::new("/home/USER"), "USER").unwrap();
    assert!(has_finding(
        &def,
        "env-file-missing",
        "systemd refuses to start the service"
    ));
    assert_eq!(env_map(&def.env)["HOME"], "/home/USER");
    assert_eq!(def.files.len(), 2);
}

#[test]
fn corpus_quoted_environment_with_space() {
    let def = parse_systemd_unit(
        &corpus("009-systemd-openclaw-generated-quoted-env.service"),
        Path::new("/root"),
        "root",
    )
    .unwrap();
    let env = env_map(&def.env);
    assert_eq!(env["OPENCLAW_WINDOWS_TASK_NAME"], "OpenClaw Gateway");
    assert_eq!(env.len(), 10);
    assert_eq!(def.program[0], "/usr/bin/node");
    assert!(def.findings.is_empty(), "{:?}", def.findings);
}

#[test]
fn corpus_ollama_literal_user_and_drop_in_override() {
    // 013 keeps `$USER` literally; 014 is its override.conf drop-in.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("ollama.service");
    std::fs::copy(
        corpus("013-systemd-ollama-unexpanded-user-var.service"),
        &unit,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("ollama.service.d")).unwrap();
    std::fs::copy(
        corpus("014-systemd-ollama-dropin-override.conf"),
        dir.path().join("ollama.service.d/override.conf"),
    )
    .unwrap();
    let def = parse_systemd_unit(&unit, Path::new("/home/alice"), "alice").unwrap();
    let env = env_map(&def.env);
    assert_eq!(
        env["PATH"],
        "/home/$USER/.local/bin:/home/$USER/bin:/usr/local/bin:/usr/bin"
    );
    assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "q4_0");
    assert_eq!(env.len(), 9);
    assert!(has_finding(&def, "literal-dollar", "`$USER`"));
    // A user unit cannot switch to User=ollama.
    assert!(has_finding(&def, "user-mismatch", "User=ollama"));
    assert_eq!(def.user.as_deref(), Some("ollama"));
}

#[test]
fn corpus_continuations_comments_and_specifiers() {
    let def = parse_systemd_unit(
        &corpus("015-systemd-podman-environmentfile-continuations.service"),
        Path::new("/root"),
        "root",
    )
    .unwrap();
    assert_eq!(
        def.program.first().map(String::as_str),
        Some("/usr/bin/podman")
    );
    assert_eq!(
        def.program.last().map(String::as_str),
        Some("quay.io/crunchtools/openclaw:latest")
    );
    assert!(
        def.program
            .contains(&"GOOGLE_AI_API_KEY=${GOOGLE_AI_API_KEY}".to_string())
    );
    assert!(has_finding(
        &def,
        "env-file-missing",
        "/srv/openclaw.crunchtools.com/config/env"
    ));

    let def = parse_systemd_unit(
        &corpus("016-systemd-openclaw-bash-c-multiline-comments.service"),
        Path::new("/home/k"),
        "k",
    )
    .unwrap();
    assert_eq!(
        def.program[..2],
        ["/bin/bash".to_string(), "-c".to_string()]
    );
    assert!(def.program[2].contains("exec openclaw gateway start"));

    let def = parse_systemd_unit(
        &corpus("017-systemd-openclaw-specifiers-hardening.service"),
        Path::new("/home/n"),
        "n",
    )
    .unwrap();
    assert_eq!(def.user.as_deref(), Some("n"));
    assert_eq!(def.working_dir.as_deref(), Some(Path::new("/home/n")));
    assert_eq!(
        env_map(&def.env)["PATH"],
        "/home/n/.local/bin:/home/n/.local/npm-global/bin:/usr/local/bin:/usr/bin:/bin"
    );
    assert_eq!(def.program[0], "/home/n/.local/npm-global/bin/openclaw");
    assert!(!codes(&def).contains(&"user-mismatch"));
}

/// The fixture units are real units: systemd's own verifier accepts them, drop-ins
/// included (it loads `NAME.service.d/` next to the unit).
#[test]
fn systemd_analyze_verify_accepts_fixture_units() {
    let Some(analyze) = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("note: systemd-analyze not installed; skipping the unit verification test");
        return;
    };
    // `--user` needs a runtime dir even offline; a private one works as root in a
    // container without a user manager.
    let runtime = tempfile::tempdir().unwrap();
    let units: Vec<PathBuf> = std::fs::read_dir(user_units())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    assert_eq!(units.len(), 3);
    for unit in units {
        let out = Command::new(analyze)
            .args(["--user", "verify"])
            .arg(&unit)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env("SYSTEMD_LOG_LEVEL", "notice")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "systemd-analyze rejected {}: {stderr}",
            unit.display()
        );
        let fixture_dir = user_units().display().to_string();
        assert!(
            !stderr.contains(&fixture_dir),
            "systemd-analyze warned about {}: {stderr}",
            unit.display()
        );
    }
}

/// Our EnvironmentFile= reader against systemd's own parser: the environment.d generator
/// uses the same `parse_env_file_internal`, and prints what it read.
#[test]
fn env_file_reader_agrees_with_systemd_parser() {
    let Some(generator) = [
        "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator",
        "/lib/systemd/user-environment-generators/30-systemd-environment-d-generator",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists()) else {
        eprintln!("note: systemd-environment-d-generator not installed; skipping");
        return;
    };
    // No `$` (the generator expands variables, EnvironmentFile= does not) and no empty
    // values (the generator drops them).
    let text = "# comment\n; comment\nPLAIN=x # note\nSQ='a b' # after\nDQ=\"a \\\"q\\\" \\n\" tail\nexport EXP=1\n  LEAD = spaced  \nCONT=one\\\ntwo\nBS=a\\b\nMULTI=\"line1\nline2\"\nSEMI=a;b\nHASH=#start\nTAB=\"t\\tx\"\nNOEQ\nKEY WITH SPACE=1\nLAST=no newline";
    let dir = tempfile::tempdir().unwrap();
    let conf_dir = dir.path().join(".config/environment.d");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::write(conf_dir.join("50-test.conf"), text).unwrap();
    let out = Command::new(generator)
        .env_clear()
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join(".config"))
        .output()
        .unwrap();
    let theirs = parse_generator_output(&String::from_utf8_lossy(&out.stdout));
    let (entries, _) = parse_environment_file(text);
    assert!(entries.len() >= 10);
    for e in &entries {
        assert_eq!(
            theirs.get(&e.name),
            Some(&e.value),
            "{} differs from systemd's reading",
            e.name
        );
    }
    for name in ["EXP", "export EXP", "NOEQ", "KEY WITH SPACE"] {
        assert!(!theirs.contains_key(name));
        assert!(!entries.iter().any(|e| e.name == name));
    }
}

/// The generator prints `NAME=value` or `NAME="c-escaped value"`.
fn parse_generator_output(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let value = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(inner) => {
                    let mut out = String::new();
                    let mut chars = inner.chars();
                    while let Some(c) = chars.next() {
                        if c != '\\' {
                            out.push(c);
                            continue;
                        }
                        match chars.next() {
                            Some('n') => out.push('\n'),
                            Some('t') => out.push('\t'),
                            Some(o) => out.push(o),
                            None => {}
                        }
                    }
                    out
                }
                None => v.to_string(),
            };
            (k.to_string(), value)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// launchd

#[test]
fn launchd_xml_fixture() {
    let home = Path::new("/Users/alice");
    let path = fixtures().join("home/Library/LaunchAgents/ai.clawctl.gateway.plist");
    let def = parse_launchd_plist(&path, home, "alice").unwrap();
    assert_eq!(def.manager, Manager::Launchd);
    assert_eq!(def.name, "ai.clawctl.gateway");
    assert_eq!(def.program[4], "~/.config/clawctl/config.toml");
    assert_eq!(def.working_dir.as_deref(), Some(Path::new("/")));
    let env = env_map(&def.env);
    assert_eq!(env["PATH"], "/opt/homebrew/bin:/usr/bin:/bin");
    assert_eq!(env["CLAWCTL_LOG"], "debug");
    assert!(
        var(&def.env, "CLAWCTL_LOG")
            .evidence
            .ends_with("ai.clawctl.gateway.plist:25 (EnvironmentVariables)"),
        "{}",
        var(&def.env, "CLAWCTL_LOG").evidence
    );
    assert!(has_finding(
        &def,
        "duplicate-key",
        "CLAWCTL_LOG in EnvironmentVariables appears twice (lines 23 and 25)"
    ));
    assert!(has_finding(
        &def,
        "literal-tilde",
        "~/.config/clawctl/config.toml"
    ));
    let manager = env_map(&def.manager_env);
    assert_eq!(manager["PATH"], "/usr/bin:/bin:/usr/sbin:/sbin");
    assert_eq!(manager["HOME"], "/Users/alice");
    assert_eq!(manager["USER"], "alice");
    assert!(
        def.manager_env
            .iter()
            .all(|v| v.evidence == "added by launchd")
    );
    // The plist's PATH replaces launchd's.
    assert_eq!(
        env_map_owned(&def.effective_env())["PATH"],
        "/opt/homebrew/bin:/usr/bin:/bin"
    );
}

#[test]
fn launchd_binary_fixture() {
    let path = fixtures().join("home/Library/LaunchAgents/com.clawctl.gateway.plist");
    assert!(std::fs::read(&path).unwrap().starts_with(b"bplist00"));
    let def = parse_launchd_plist(&path, Path::new("/Users/alice"), "alice").unwrap();
    assert_eq!(def.name, "com.clawctl.gateway");
    assert_eq!(
        def.program,
        vec!["/usr/local/bin/clawctl", "gateway", "run"]
    );
    assert_eq!(def.working_dir.as_deref(), Some(Path::new("/Users/alice")));
    assert_eq!(def.user.as_deref(), Some("alice"));
    let env = env_map(&def.env);
    assert_eq!(env["HOME"], "/Users/alice");
    assert!(env["MOONSHOT_API_KEY"].starts_with("sk-kimi-fake"));
    // No line numbers in a binary plist.
    assert!(
        var(&def.env, "HOME")
            .evidence
            .ends_with("com.clawctl.gateway.plist (EnvironmentVariables)")
    );
    assert!(has_finding(&def, "username-ignored", "UserName=alice"));
}

/// A binary plist made on the spot by Python's plistlib reads the same as its XML twin.
#[test]
fn launchd_binary_made_by_plistlib_matches_xml() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import plistlib, sys
d = {"Label": "ai.clawctl.gateway", "ProgramArguments": ["/usr/bin/clawctl", "gateway"],
     "EnvironmentVariables": {"A": "1", "B": "two words", "U": "\u00e9"}, "WorkingDirectory": "/tmp"}
for fmt, name in ((plistlib.FMT_BINARY, "b.plist"), (plistlib.FMT_XML, "x.plist")):
    with open(sys.argv[1] + "/" + name, "wb") as f:
        plistlib.dump(d, f, fmt=fmt)
"#;
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("note: python3 with plistlib not available; skipping");
        return;
    }
    let b = parse_launchd_plist(&dir.path().join("b.plist"), Path::new(""), "").unwrap();
    let x = parse_launchd_plist(&dir.path().join("x.plist"), Path::new(""), "").unwrap();
    assert_eq!(env_map(&b.env), env_map(&x.env));
    assert_eq!(b.program, x.program);
    assert_eq!(b.working_dir, x.working_dir);
    assert_eq!(env_map(&b.env)["U"], "é");
}

#[test]
fn corpus_launchd_files() {
    let def = parse_launchd_plist(
        &corpus("001-launchd-openclaw-generated-inline-token.plist"),
        Path::new("/Users/aayan"),
        "aayan",
    )
    .unwrap();
    assert_eq!(def.name, "ai.openclaw.gateway");
    assert_eq!(def.env.len(), 9);
    assert_eq!(def.program.len(), 5);
    assert!(
        var(&def.env, "OPENCLAW_GATEWAY_TOKEN")
            .evidence
            .ends_with(":35 (EnvironmentVariables)")
    );

    let def = parse_launchd_plist(
        &corpus("005-launchd-homebrew-ollama-duplicate-env-key.plist"),
        Path::new(""),
        "",
    )
    .unwrap();
    assert!(has_finding(
        &def,
        "duplicate-key",
        "OLLAMA_FLASH_ATTENTION in EnvironmentVariables appears twice (lines 7 and 19)"
    ));
    assert_eq!(def.env.len(), 6);
    assert_eq!(
        def.working_dir.as_deref(),
        Some(Path::new("/opt/homebrew/var"))
    );

    // A key commented out inside <!-- --> is not a key.
    let def = parse_launchd_plist(
        &corpus("008-launchd-openclaw-watchdog-commented-key.plist"),
        Path::new(""),
        "",
    )
    .unwrap();
    assert!(def.findings.is_empty(), "{:?}", def.findings);
    assert_eq!(env_map(&def.env).len(), 1);

    for f in ["002", "003", "004", "006"] {
        let path = std::fs::read_dir(fixtures().join("corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(f))
            .unwrap();
        let def = parse_launchd_plist(&path, Path::new(""), "").unwrap();
        assert!(!def.program.is_empty(), "{}", path.display());
    }
}

#[test]
fn corpus_malformed_plist_names_file_and_line() {
    let path = corpus("007-launchd-malformed-xml-placeholder.plist");
    let err = parse_launchd_plist(&path, Path::new(""), "").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}:13: malformed XML", path.display())),
        "{msg}"
    );
    assert!(msg.contains("expected well-formed XML"), "{msg}");
    assert_eq!(err.path(), path);
}

// ---------------------------------------------------------------------------------------
// Windows

fn check_task_with_wrapper(def: &ServiceDefinition) {
    assert_eq!(def.manager, Manager::WindowsTask);
    assert_eq!(def.name, "clawctl-gateway");
    assert_eq!(
        def.program,
        vec![r"C:\Users\alice\.cargo\bin\clawctl.exe", "gateway", "run"]
    );
    assert_eq!(
        def.working_dir.as_deref(),
        Some(Path::new(r"C:\Users\alice\.config\clawctl"))
    );
    let env = env_map(&def.env);
    assert_eq!(env["TMPDIR"], r"C:\Users\alice\AppData\Local\Temp");
    assert_eq!(env["PATH"], r"C:\Users\alice\.cargo\bin;%PATH%");
    assert_eq!(env["CLAWCTL_TASK_NAME"], "clawctl gateway");
    assert!(env["MOONSHOT_API_KEY"].starts_with("sk-kimi-fake"));
    assert!(
        var(&def.env, "MOONSHOT_API_KEY")
            .evidence
            .ends_with("gateway.cmd:6 (set)")
    );
    assert!(def.cannot_tell.iter().any(|c| c.contains("registry")));
    assert!(def.cannot_tell.iter().any(|c| c.contains("%PATH%")));
    assert!(def.files.iter().any(|f| f.ends_with("gateway.cmd")));
    assert!(codes(def).contains(&"wrapper-beside-xml"));
}

#[test]
fn windows_task_utf16_with_wrapper() {
    let def = parse_windows_task(&fixtures().join("windows/clawctl-gateway.xml")).unwrap();
    check_task_with_wrapper(&def);
    assert_eq!(
        def.user.as_deref(),
        Some("S-1-5-21-1000000000-1000000000-1000000000-1001")
    );
    assert!(!codes(&def).contains(&"disabled"));
}

#[test]
fn windows_task_utf8_with_wrapper() {
    let def = parse_windows_task(&fixtures().join("windows/clawctl-gateway-utf8.xml")).unwrap();
    check_task_with_wrapper(&def);
    assert_eq!(def.user.as_deref(), Some("alice"));
    assert!(codes(&def).contains(&"disabled"));
}

#[test]
fn windows_task_without_its_wrapper_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("t.xml");
    std::fs::copy(fixtures().join("windows/clawctl-gateway.xml"), &xml).unwrap();
    let def = parse_windows_task(&xml).unwrap();
    assert_eq!(def.program, vec![r"C:\Users\alice\.clawctl\gateway.cmd"]);
    assert!(def.env.is_empty());
    assert!(
        def.cannot_tell
            .iter()
            .any(|c| c.contains("gateway.cmd is not here"))
    );
}

#[test]
fn corpus_windows_wrappers() {
    let def = parse_windows_wrapper(&corpus("019-windows-gateway-cmd-inline-token.cmd")).unwrap();
    let env = env_map(&def.env);
    assert_eq!(env.len(), 8);
    assert!(env["PATH"].starts_with(r"C:\Python314\Scripts\;"));
    assert_eq!(env["OPENCLAW_GATEWAY_TOKEN"].len(), 48);
    assert_eq!(def.program[0], r"C:\Program Files\nodejs\node.exe");
    assert_eq!(
        def.program[2..],
        ["gateway", "--port", "18789"].map(String::from)
    );

    let def = parse_windows_wrapper(&corpus("020-windows-gateway-cmd-short-path.cmd")).unwrap();
    let env = env_map(&def.env);
    assert_eq!(env["TMPDIR"], r"C:\Users\CVETAN~1\AppData\Local\Temp");
    assert_eq!(env["OPENCLAW_WINDOWS_TASK_NAME"], "OpenClaw Gateway");
    assert!(def.findings.is_empty());
}

// ---------------------------------------------------------------------------------------
// discovery, parse_any, robustness

#[test]
fn discover_reports_current_and_old_definitions() {
    let home = home();
    let linux = service::discover(&home, Platform::Linux);
    let names: Vec<String> = linux
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["clawctl-gateway.service", "clawctl.service"]);

    let mac = service::discover(&home, Platform::Macos);
    let names: Vec<String> = mac
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["ai.clawctl.gateway.plist", "com.clawctl.gateway.plist"]
    );

    let empty = tempfile::tempdir().unwrap();
    assert!(service::discover(empty.path(), Platform::Linux).is_empty());
    assert!(service::discover(empty.path(), Platform::Macos).is_empty());
}

#[test]
fn parse_any_by_extension_and_content() {
    let home = home();
    let d = parse_any(&user_units().join("clawctl.service"), &home, "alice").unwrap();
    assert_eq!(d.manager, Manager::Systemd);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "home/Library/LaunchAgents/com.clawctl.gateway.plist",
            Manager::Launchd,
        ),
        (
            "home/Library/LaunchAgents/ai.clawctl.gateway.plist",
            Manager::Launchd,
        ),
        ("windows/clawctl-gateway.xml", Manager::WindowsTask),
        (
            "home/.config/systemd/user/unrelated.service",
            Manager::Systemd,
        ),
    ];
    for (i, (rel, manager)) in cases.iter().enumerate() {
        let noext = dir.path().join(format!("def{i}"));
        std::fs::copy(fixtures().join(rel), &noext).unwrap();
        assert_eq!(
            parse_any(&noext, &home, "alice").unwrap().manager,
            *manager,
            "{rel}"
        );
    }
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "hello").unwrap();
    let err = parse_any(&junk, &home, "alice").unwrap_err();
    assert!(
        err.to_string().contains("not a service definition"),
        "{err}"
    );
    let missing = parse_any(&dir.path().join("nope.service"), &home, "alice").unwrap_err();
    assert!(
        missing.to_string().contains("nope.service: cannot read"),
        "{missing}"
    );
}

#[test]
fn definition_files_changed_since() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("clawctl-gateway.service");
    std::fs::copy(user_units().join("clawctl.service"), &unit).unwrap();
    let def = parse_systemd_unit(&unit, dir.path(), "alice").unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(def.files_changed_since(long_ago), vec![unit.clone()]);
    let later = SystemTime::now() + Duration::from_secs(3600);
    assert!(def.files_changed_since(later).is_empty());
}

fn all_fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures(), &mut out);
    out.sort();
    out
}

/// Truncated and bit-flipped copies of every fixture: results or errors, never a panic.
#[test]
fn never_panics_on_damaged_input() {
    let dir = tempfile::tempdir().unwrap();
    for file in all_fixture_files() {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let _ = parse_any(&file, &home(), "alice");
        for cut in [
            1,
            7,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(3),
        ] {
            let mut variants = vec![bytes[..cut.min(bytes.len())].to_vec()];
            let mut flipped = bytes.clone();
            if let Some(b) = flipped.get_mut(cut) {
                *b ^= 0x55;
            }
            variants.push(flipped);
            for v in variants {
                let p = dir.path().join(&name);
                std::fs::write(&p, &v).unwrap();
                let _ = parse_any(&p, dir.path(), "alice");
            }
        }
    }
}

/// Findings, "cannot tell" notes and errors name variables, never their values.
#[test]
fn no_secret_value_in_findings_or_errors() {
    let home = home();
    for file in all_fixture_files() {
        let text = match parse_any(&file, &home, "alice") {
            Ok(def) => {
                let mut t: Vec<String> = def
                    .findings
                    .iter()
                    .flat_map(|f| [f.message.clone(), f.evidence.clone()])
                    .collect();
                t.extend(def.cannot_tell.clone());
                t.push(format!("{def:?}"));
                let secrets: Vec<&str> = def
                    .env
                    .iter()
                    .map(|v| v.value.as_str())
                    .filter(|v| clawctl::secrets::mask::looks_secret(v))
                    .collect();
                (
                    t.join("\n"),
                    secrets.into_iter().map(String::from).collect::<Vec<_>>(),
                )
            }
            Err(e) => (e.to_string(), Vec::new()),
        };
        for s in &text.1 {
            assert!(
                !text.0.contains(s.as_str()),
                "{} leaks a secret",
                file.display()
            );
        }
        assert!(
            !text.0.contains("fake00000000000000000000"),
            "{}: {}",
            file.display(),
            text.0
        );
    }
}

// ---------------------------------------------------------------------------------------
// /proc

/// A child killed (and reaped) when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn reads_a_real_child_process_environment_and_cwd() {
    let cwd = tempfile::tempdir().unwrap();
    let child = Reaped(
        Command::new("sleep")
            .arg("30")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("MOONSHOT_API_KEY", "sk-kimi-fake-child")
            .env("CLAWCTL_HOME", "/srv/clawctl home")
            .current_dir(cwd.path())
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let p = read_process(pid).unwrap();
    assert_eq!(p.pid, pid);
    let env = env_map(&p.env);
    assert_eq!(env.len(), 3, "{:?}", p.env);
    assert_eq!(env["MOONSHOT_API_KEY"], "sk-kimi-fake-child");
    assert_eq!(env["CLAWCTL_HOME"], "/srv/clawctl home");
    assert_eq!(p.env[0].evidence, format!("/proc/{pid}/environ"));
    assert_eq!(p.cwd.unwrap(), cwd.path().canonicalize().unwrap());
    assert_eq!(p.cmdline, vec!["sleep", "30"]);
    // SAFETY: getuid has no preconditions.
    assert_eq!(p.uid, Some(unsafe { libc::getuid() }));
    let started = p.start_time.unwrap();
    let age = SystemTime::now()
        .duration_since(started)
        .unwrap_or_default();
    assert!(
        age < Duration::from_secs(60),
        "start time {started:?} is off"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn vanished_and_zombie_processes_are_not_found() {
    let mut done = Command::new("true").spawn().unwrap();
    let pid = done.id();
    done.wait().unwrap();
    assert_eq!(read_process(pid), Err(ProcessError::NotFound(pid)));

    // Exited but not reaped: a zombie, whose empty environ must not be taken as real.
    let zombie = Reaped(Command::new("true").spawn().unwrap());
    let pid = zombie.0.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !proc_state_is_zombie(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(read_process(pid), Err(ProcessError::NotFound(pid)));
}

fn proc_state_is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

const PROBE_PID: &str = "CLAWCTL_TEST_PROBE_PID";

/// Not a test on its own: the body of `another_users_process_is_permission_denied`, run
/// as `nobody` in a re-executed copy of this test binary.
#[test]
fn probe_read_process_as_other_user() {
    let Ok(pid) = std::env::var(PROBE_PID) else {
        return;
    };
    let result = read_process(pid.parse().unwrap());
    let tag = match result {
        Ok(_) => "read".to_string(),
        Err(e) => format!("{e:?}"),
    };
    println!("PROBE-RESULT:{tag}");
}

/// A process of another user is reported as unreadable. As root (CI), start a root-owned
/// `sleep` and read it from a copy of this test binary running as `nobody` through
/// setpriv; as an ordinary user, read pid 1.
#[cfg(target_os = "linux")]
#[test]
fn another_users_process_is_permission_denied() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        let owner = std::fs::metadata("/proc/1").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
        if owner.is_ok_and(|o| o != euid) {
            assert_eq!(read_process(1), Err(ProcessError::PermissionDenied(1)));
        } else {
            eprintln!("note: pid 1 is ours; nothing of another user to read");
        }
        return;
    }
    if !Path::new("/usr/bin/setpriv").exists() && !Path::new("/bin/setpriv").exists() {
        eprintln!("note: setpriv not installed; skipping the other-user test");
        return;
    }
    let target = Reaped(
        Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // nobody must be able to execute the probe; when the target dir is private, run a
    // copy from a 0755 temp dir.
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let probe = if others_can_execute(&exe) {
        exe
    } else {
        use std::os::unix::fs::PermissionsExt;
        let copy = dir.path().join("probe");
        std::fs::copy(&exe, &copy).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    };

    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&probe)
        .args([
            "--exact",
            "service_fixtures::probe_read_process_as_other_user",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_PID, target.0.id().to_string())
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("PROBE-RESULT:PermissionDenied({})", target.0.id());
    assert!(
        stdout.contains(&expected),
        "expected {expected}; probe said: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
fn others_can_execute(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}
