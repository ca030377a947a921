//! Hostile input, kinds 2 and 4: only regular files are read, always with a bound, and
//! writes go only onto regular files inside their places.

use crate::common::*;

fn mkfifo(p: &std::path::Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn run_with_deadline(sb: &Sandbox, args: &[&str]) -> Run {
    // A hang is the fault: give each command a generous deadline, then kill it.
    let mut c = sb.command(args);
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("`clawctl {}` hung on a special file", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_fifo_where_a_file_belongs_is_named_not_waited_on() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    mkfifo(&sb.clawctl_home().join(".env"));
    let r = run_with_deadline(&sb, &["config", "validate"]);
    assert!(
        r.all().contains(".env") && r.all().contains("named pipe (FIFO), not a regular file"),
        "{}",
        r.all()
    );
    run_with_deadline(&sb, &["status"]);
    std::fs::remove_file(sb.clawctl_home().join(".env")).unwrap();
    mkfifo(&sb.clawctl_home().join("credentials.toml"));
    let r = run_with_deadline(&sb, &["models", "status"]);
    assert!(r.all().contains("not a regular file"), "{}", r.all());
    let unit = sb.dir.path().join("unit.service");
    mkfifo(&unit);
    let r = run_with_deadline(&sb, &["--service-file", unit.to_str().unwrap(), "status"]);
    assert!(r.all().contains("not a regular file"), "{}", r.all());
    let import = sb.dir.path().join("openclaw.json");
    mkfifo(&import);
    let r = run_with_deadline(&sb, &["import", "--dry-run", import.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("not a regular file"), "{}", r.all());
}

#[test]
fn a_device_config_is_refused_before_reading() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.clawctl_home()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", sb.config_path()).unwrap();
    let r = run_with_deadline(&sb, &["config", "validate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("is a character device, not a regular file"),
        "{}",
        r.stderr
    );
    // The write path refuses too, and leaves the device alone.
    let r = run_with_deadline(&sb, &["config", "set", "gateway.port", "1234"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(std::fs::read_link(sb.config_path()).is_ok());
}

#[test]
fn writes_go_only_onto_regular_files_inside_their_places() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    // A dangling credentials.toml link is not followed to create a file elsewhere.
    let outside = sb.dir.path().join("outside/a/b/creds.toml");
    std::os::unix::fs::symlink(&outside, sb.clawctl_home().join("credentials.toml")).unwrap();
    let r = sb.run_stdin(
        &[
            "onboard",
            "--non-interactive",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--no-probe",
        ],
        Some("sk-CNRYlink0123456789abcdefghijklmnopqrs"),
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("dangling link"), "{}", r.all());
    assert!(!sb.dir.path().join("outside").exists());
    // export --output: a FIFO (not a stream name) is refused, `-` writes to stdout.
    let fifo = sb.dir.path().join("pipe");
    mkfifo(&fifo);
    let r = run_with_deadline(&sb, &["export", "--output", fifo.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("named pipe (FIFO), not a regular file"),
        "{}",
        r.stderr
    );
    let r = sb.run(&["export", "--output", "-"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let bundle: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(bundle["format"], "clawctl-bundle");
    assert!(!sb.dir.path().join("-").exists());
}

#[test]
fn write_path_errors_name_line_and_column() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.clawctl_home()).unwrap();
    std::fs::write(
        sb.config_path(),
        b"[meta]\nversion = 1\n[gateway]\nbind = \"lo\xffp\"\n",
    )
    .unwrap();
    let r = sb.run(&["config", "set", "gateway.port", "1234"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is not valid UTF-8 (line 4, column 11)"),
        "{}",
        r.stderr
    );
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
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("credentials.toml does not parse (TOML syntax error at line 1, column 24)"),
        "{}",
        r.stderr
    );
}

#[test]
fn include_fan_out_is_bounded() {
    let sb = Sandbox::new();
    let oc = sb.dir.path().join("oc");
    std::fs::create_dir_all(&oc).unwrap();
    let ten = |name: &str| {
        format!(
            "{{\"$include\": [{}]}}",
            vec![format!("\"./{name}\""); 10].join(",")
        )
    };
    std::fs::write(oc.join("openclaw.json"), ten("f1.json5")).unwrap();
    for i in 1..6 {
        std::fs::write(
            oc.join(format!("f{i}.json5")),
            ten(&format!("f{}.json5", i + 1)),
        )
        .unwrap();
    }
    std::fs::write(oc.join("f6.json5"), "{gateway:{port:1}}").unwrap();
    let r = run_with_deadline(
        &sb,
        &[
            "import",
            "--dry-run",
            oc.join("openclaw.json").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("expands to more than 256 files"),
        "{}",
        r.all()
    );
}
