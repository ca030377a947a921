//! `clawctl --version` names the commit it was built from and the build date:
//! `clawctl 0.1.0 (3c16bbe1a2 2026-11-30)`. Both come from here; a source tree without
//! git (a tarball, a crate download) builds too and says `unknown` for the commit.
#![allow(
    clippy::disallowed_methods,
    reason = "a build script reads cargo's own environment, not the user's"
)]

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// `git ARGS` in the package directory: trimmed stdout, None when git is missing,
/// this is not a repository, or the command fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Civil date (UTC) of a Unix time, as YYYY-MM-DD (Howard Hinnant's days-to-civil).
fn date_of(secs: u64) -> String {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = git(&["rev-parse", "--short=10", "HEAD"]);
    // Rebuild when the commit changes: HEAD (a checkout) and the branch it points to (a
    // commit). Only files that exist: cargo reruns every time for a missing one.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut watch = vec![dir.join("HEAD")];
        if let (Some(common), Some(branch)) = (
            git(&["rev-parse", "--git-common-dir"]),
            git(&["symbolic-ref", "-q", "HEAD"]),
        ) {
            let common = Path::new(env!("CARGO_MANIFEST_DIR")).join(common);
            watch.push(common.join(branch));
            watch.push(common.join("packed-refs"));
        }
        for p in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    // Reproducible builds set SOURCE_DATE_EPOCH; else the time of this build.
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    println!(
        "cargo:rustc-env=CLAWCTL_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=CLAWCTL_BUILD_DATE={}", date_of(secs));
}
