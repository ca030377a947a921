//! Moving a config out of an old location (`~/.clawctl`, macOS Application Support)
//! into the current home.
//!
//! Safety rules, in order:
//! - only when the current home has no config, credentials or `.env` — nothing in
//!   the current home is ever overwritten;
//! - only when exactly one old location holds a config (two would need a choice);
//! - every file is copied first (atomically, with its mode; credentials 0600) and
//!   read back; only when all copies are in place are the old files renamed to
//!   `NAME.moved` (`.moved.2`, … when that exists). They are renamed rather than
//!   deleted so nothing is lost, and renamed rather than kept so that `config path`
//!   and `doctor` stop reporting them and no second live copy of the keys remains.
//! - if a copy fails, the copies already made (files that did not exist before)
//!   are removed and the old files are left untouched.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::env::paths::Paths;
use crate::write::safe_write::{self, Target};

/// One file to move.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileMove {
    pub from: PathBuf,
    pub to: PathBuf,
    /// The mode the copy gets.
    pub mode: u32,
    /// Where the old file goes once everything is copied.
    pub old_renamed_to: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LegacyMove {
    pub from_home: PathBuf,
    pub files: Vec<FileMove>,
}

#[derive(Debug, Clone)]
pub enum Plan {
    /// No old config, or the current config exists and no old one does.
    Nothing,
    Move(LegacyMove),
    /// An old config exists but is not moved; the message says why and what to do.
    Refused(String),
    /// An old config exists, but this run is for a profile: old locations only ever
    /// move into the default home. Worth a note, not a failure.
    OtherHome(String),
}

/// `NAME.moved`, or `NAME.moved.N` when that exists already.
fn renamed_path(p: &Path) -> PathBuf {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = p.with_file_name(format!("{name}.moved"));
    let mut n = 2;
    while candidate.exists() {
        candidate = p.with_file_name(format!("{name}.moved.{n}"));
        n += 1;
    }
    candidate
}

fn mode_of(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

pub fn plan(paths: &Paths, show: &dyn Fn(&Path) -> String) -> Plan {
    let Some(old_config) = paths.legacy.first() else {
        return Plan::Nothing;
    };
    let list = || {
        paths
            .legacy
            .iter()
            .map(|p| show(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if paths.config.exists() {
        return Plan::Refused(format!(
            "an old config exists at {} but {} exists too, so nothing was moved (clawctl never overwrites a config); compare them, keep what you need in {}, and rename or delete the old one",
            list(),
            show(&paths.config),
            show(&paths.config)
        ));
    }
    if paths.legacy.len() > 1 {
        return Plan::Refused(format!(
            "configs exist in several old locations ({}); clawctl will not choose between them. Move the one you use to {} by hand (`clawctl config path` shows where), or rename the others, then run `clawctl migrate` again",
            list(),
            show(&paths.config)
        ));
    }
    if paths.profile.is_some() {
        return Plan::OtherHome(format!(
            "an old config exists at {}; old locations are moved into the default home only: run `clawctl migrate` without --profile",
            list()
        ));
    }
    let from_home = old_config.parent().unwrap_or(Path::new("/")).to_path_buf();
    let pairs = [
        (old_config.clone(), paths.config.clone(), false),
        (
            from_home.join("credentials.toml"),
            paths.credentials.clone(),
            true,
        ),
        (from_home.join(".env"), paths.dotenv.clone(), false),
    ];
    let mut files = Vec::new();
    for (from, to, secret) in pairs {
        if !from.exists() {
            continue;
        }
        if to.exists() {
            return Plan::Refused(format!(
                "an old config exists at {}, but {} exists in the current home and clawctl never overwrites it; merge by hand, or move {} away, then run `clawctl migrate` again",
                show(old_config),
                show(&to),
                show(&to)
            ));
        }
        let mode = match (secret, mode_of(&from)) {
            // Credentials are never more open than 0600, whatever the old file had.
            (true, Some(m)) => m & 0o600,
            (true, None) => 0o600,
            (false, m) => m.unwrap_or(0o600),
        };
        files.push(FileMove {
            old_renamed_to: renamed_path(&from),
            from,
            to,
            mode,
        });
    }
    Plan::Move(LegacyMove { from_home, files })
}

/// Copy every file, then rename the old ones. Returns an error message naming the
/// file; on a failed copy the new files are removed and the old ones untouched.
pub fn execute(m: &LegacyMove) -> Result<(), String> {
    let mut made: Vec<PathBuf> = Vec::new();
    let result = m.files.iter().try_for_each(|f| {
        copy_one(f)?;
        made.push(f.to.clone());
        Ok::<(), String>(())
    });
    if let Err(e) = result {
        for p in &made {
            let _ = std::fs::remove_file(p);
        }
        return Err(format!(
            "{e}; nothing was moved (the old files are where they were)"
        ));
    }
    for f in &m.files {
        std::fs::rename(&f.from, &f.old_renamed_to).map_err(|e| {
            format!(
                "copied {} to {}, but could not rename the old file to {}: {e}; rename or delete it by hand",
                f.from.display(),
                f.to.display(),
                f.old_renamed_to.display()
            )
        })?;
    }
    Ok(())
}

fn copy_one(f: &FileMove) -> Result<(), String> {
    let text = crate::read::string(&f.from)
        .map_err(|e| format!("cannot read {}: {e}", f.from.display()))?;
    let target = Target {
        path: f.to.clone(),
        new_mode: f.mode,
        force_mode: true,
        dir_mode: 0o700,
        backups: None,
    };
    let locked = safe_write::lock(target).map_err(|e| e.to_string())?;
    if locked.before.is_some() {
        return Err(format!(
            "{} appeared while clawctl was moving files; it was not overwritten",
            f.to.display()
        ));
    }
    locked.commit(&text).map_err(|e| e.to_string())?;
    let back = crate::read::string(&f.to)
        .map_err(|e| format!("cannot read back {}: {e}", f.to.display()))?;
    if back != text {
        return Err(format!(
            "the copy {} differs from {}",
            f.to.display(),
            f.from.display()
        ));
    }
    Ok(())
}
