//! Hostile file systems, issue 12 kinds 5 and 6: a two-file write (credentials.toml +
//! config.toml) lands whole or not at all, a killed writer's temp files are removed by
//! the next writer, and parallel `onboard`s decide under the lock.

use crate::common::*;

const OLD_CREDS: &str = "[profiles.\"zai:default\"]\nprovider = \"zai\"\nkind = \"api_key\"\nsecret = \"sk-zai0123456789abcdefghijklmnopq\"\n";
const OLD_CONFIG: &str = "[meta]\nversion = 1\n[gateway]\nport = 18789\n";

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// A tiny tmpfs mounted over the sandbox's ~/.config, unmounted on drop.
struct TinyDisk(std::path::PathBuf);

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Case hostile/18: the disk fills up between credentials.toml and config.toml. At
/// every amount of free space `onboard` either succeeds, or fails with both files as
/// they were (the new key must not become the provider's key through `openai:default`).
#[test]
fn a_full_disk_during_onboard_leaves_both_files_as_they_were() {
    if !is_root() {
        eprintln!("skipped: needs root to mount a tmpfs");
        return;
    }
    let sb = Sandbox::new();
    let dot_config = sb.home().join(".config");
    std::fs::create_dir_all(&dot_config).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&dot_config)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let _disk = TinyDisk(dot_config.clone());
    let key = "sk-proj-ENOSPC0123456789abcdefghijklmnopqrs";
    let (mut failed, mut succeeded) = (0, 0);
    for free_kb in 6..=14u64 {
        let _ = std::fs::remove_dir_all(sb.clawctl_home());
        let _ = std::fs::remove_file(dot_config.join("filler"));
        sb.write_config(OLD_CONFIG);
        let creds = sb.clawctl_home().join("credentials.toml");
        std::fs::write(&creds, OLD_CREDS).unwrap();
        let st = nix_statvfs(&dot_config);
        if st > free_kb {
            std::fs::write(
                dot_config.join("filler"),
                vec![0u8; ((st - free_kb) * 1024) as usize],
            )
            .ok();
        }
        let r = sb.run_stdin(
            &[
                "onboard",
                "--non-interactive",
                "--auth-choice",
                "openai-api-key",
                "--api-key-stdin",
                "--no-probe",
            ],
            Some(key),
        );
        let _ = std::fs::remove_file(dot_config.join("filler"));
        let creds_now = std::fs::read_to_string(&creds).unwrap();
        if r.code == 0 {
            succeeded += 1;
            assert!(creds_now.contains(key), "free={free_kb}k: {}", r.all());
            assert!(sb.read_config().contains("cred:openai:default"));
        } else {
            failed += 1;
            assert_eq!(creds_now, OLD_CREDS, "free={free_kb}k: {}", r.all());
            assert_eq!(sb.read_config(), OLD_CONFIG, "free={free_kb}k: {}", r.all());
            assert!(
                !r.all().contains(key),
                "the key is never printed: {}",
                r.all()
            );
            let leftovers: Vec<_> = std::fs::read_dir(sb.clawctl_home())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect();
            assert!(leftovers.is_empty(), "free={free_kb}k: {leftovers:?}");
        }
    }
    assert!(
        failed > 0,
        "the disk never filled up ({succeeded} succeeded)"
    );
}

/// Free space of the file system holding `dir`, in KiB.
fn nix_statvfs(dir: &std::path::Path) -> u64 {
    let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s.f_bavail as u64 * s.f_frsize as u64 / 1024
}

/// Case hostile/29: temp files a `kill -9`ed writer left (one holds a copy of
/// credentials.toml) are removed by the next write; a temp file whose writer still
/// holds its lock, and files that are not clawctl's temp files, are kept.
#[test]
fn the_next_writer_removes_temp_files_a_killed_writer_left() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    let h = sb.clawctl_home();
    let secret = "sk-proj-KILL0123456789abcdefghijklmnopqrstu";
    // A killed writer of credentials.toml: its lock file exists, nobody holds it.
    std::fs::write(h.join(".credentials.toml.lock"), "").unwrap();
    std::fs::write(h.join(".credentials.toml.Ab12Cd.tmp"), secret).unwrap();
    std::fs::write(h.join(".config.toml.x9Y8z7.tmp"), "[meta]\n").unwrap();
    // A live writer of another file (this test holds its lock).
    let live_lock = std::fs::File::create(h.join(".other.toml.lock")).unwrap();
    live_lock.lock().unwrap();
    std::fs::write(h.join(".other.toml.QwErTy.tmp"), "in progress").unwrap();
    // Not clawctl's temp names.
    std::fs::write(h.join(".notes.tmp"), "mine").unwrap();
    std::fs::write(h.join(".nolock.toml.abcdef.tmp"), "mine").unwrap();

    let r = sb.run(&["config", "set", "gateway.port", "1234"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(sb.read_config().contains("port = 1234"));
    let mut left: Vec<String> = std::fs::read_dir(&h)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".nolock.toml.abcdef.tmp",
            ".notes.tmp",
            ".other.toml.QwErTy.tmp"
        ]
    );
    drop(live_lock);
}

/// Case hostile/28: four `onboard`s in parallel on an empty home. Exactly one generates
/// (and reports) the gateway token, the token stored is the one it reported, and every
/// run reports the default model that is in config.toml.
#[test]
fn parallel_onboards_decide_token_and_default_model_under_the_lock() {
    for _trial in 0..2 {
        let sb = Sandbox::new();
        let choices = [
            "moonshot-api-key",
            "zai-api-key",
            "openai-api-key",
            "openrouter-api-key",
        ];
        let children: Vec<_> = choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut cmd = sb.command(&[
                    "onboard",
                    "--non-interactive",
                    "--auth-choice",
                    c,
                    "--api-key-stdin",
                    "--no-probe",
                    "--force",
                ]);
                cmd.stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                let mut child = cmd.spawn().unwrap();
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("sk-or-v1-PAR{i}abcdefghijklmnopqrstuvwxyz0123").as_bytes())
                    .unwrap();
                child
            })
            .collect();
        let outs: Vec<String> = children
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                assert!(o.status.success(), "{text}");
                text
            })
            .collect();
        let token_lines: Vec<&str> = outs
            .iter()
            .flat_map(|o| o.lines())
            .filter(|l| l.starts_with("generated a gateway token"))
            .collect();
        assert_eq!(token_lines.len(), 1, "{outs:#?}");
        let config = sb.read_config();
        let primary = config
            .lines()
            .find(|l| l.starts_with("primary"))
            .expect("a default model")
            .split('"')
            .nth(1)
            .unwrap()
            .to_string();
        for o in &outs {
            assert!(
                o.lines().any(|l| l == format!("default model: {primary}")),
                "reports {primary}: {o}"
            );
        }
        // The stored token is the one reported (same shape and fingerprint).
        let described = token_lines[0]
            .trim_start_matches("generated a gateway token ")
            .split(" (profile")
            .next()
            .unwrap();
        let status = sb.json(&["status", "--json"]);
        let stored = status["cli"]["summary"]["gateway_token"].as_str().unwrap();
        assert!(
            stored.starts_with(described),
            "reported {described}, stored {stored}"
        );
    }
}
