//! The real `systemd --user`, end to end (issue 11, item 12): parsing units is not
//! the same as running them. `tests/systemd/harness.sh` boots Debian's systemd as a
//! user manager in a private pid + mount namespace and walks install → start →
//! status/doctor on the live process → key rotated in the EnvironmentFile → restart
//! needed → `gateway restart` through systemd → the receipt matches; then a drop-in
//! pointing the unit at another home. Needs root, `unshare` and /lib/systemd/systemd
//! (`.ci/run` installs systemd); elsewhere it is skipped, saying why.

use std::process::Command;

#[test]
fn real_systemd_user_manager_end_to_end() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!(
            "SKIPPED real_systemd_user_manager_end_to_end: needs root (unshare of pid and mount namespaces)"
        );
        return;
    }
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/systemd/harness.sh");
    let out = match Command::new("unshare")
        .args([
            "--fork",
            "--pid",
            "--mount-proc",
            "--mount",
            "bash",
            harness,
        ])
        .arg(env!("CARGO_BIN_EXE_clawctl"))
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED real_systemd_user_manager_end_to_end: cannot run unshare: {e}");
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => assert!(text.contains("PASS: real systemd --user"), "{text}"),
        Some(2) => eprintln!(
            "SKIPPED real_systemd_user_manager_end_to_end: {}",
            text.trim()
        ),
        _ => panic!("the real-systemd harness failed:\n{text}"),
    }
}
