//! Every file clawctl writes goes through here: lock → read → change → (caller
//! validates) → back up → temp file in the same directory with the final mode →
//! fsync → compare-and-set → rename → fsync the directory.
//!
//! The lock is a sidecar file (`.NAME.lock`) rather than the file itself, because the
//! rename replaces the file's inode: a lock on the old inode would not exclude a
//! writer that opened the new one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::load::sha256_hex;

/// How many backups of each file are kept.
pub const BACKUPS_KEPT: usize = 20;

#[derive(Debug)]
pub enum WriteError {
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    /// The file changed on disk while we were working on it.
    Changed(PathBuf),
    /// The caller refused the change (validation failed); nothing was written.
    Rejected(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Io {
                path,
                action,
                error,
            } => {
                write!(f, "cannot {action} {}: {error}", path.display())
            }
            WriteError::Changed(p) => write!(
                f,
                "{} changed on disk while clawctl was updating it; nothing was written. Run the command again",
                p.display()
            ),
            WriteError::Rejected(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for WriteError {}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> WriteError + 'a {
    move |error| WriteError::Io {
        path: path.to_path_buf(),
        action,
        error,
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The path as given (may be a symlink).
    pub path: PathBuf,
    /// Mode for a new file; an existing file keeps its mode unless `force_mode`.
    pub new_mode: u32,
    /// Always set this mode (credentials: 0600).
    pub force_mode: bool,
    /// Directory mode when the parent must be created.
    pub dir_mode: u32,
    /// Where backups go; None: no backup (files we generate, like the schema).
    pub backups: Option<PathBuf>,
}

impl Target {
    pub fn config(path: &Path, backups: &Path) -> Target {
        Target {
            path: path.to_path_buf(),
            new_mode: 0o600,
            force_mode: false,
            dir_mode: 0o700,
            backups: Some(backups.to_path_buf()),
        }
    }

    pub fn secret(path: &Path, backups: &Path) -> Target {
        Target {
            path: path.to_path_buf(),
            new_mode: 0o600,
            force_mode: true,
            dir_mode: 0o700,
            backups: Some(backups.to_path_buf()),
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
    pub changed: bool,
}

/// The lock held over a read-modify-write, released on drop.
pub struct Locked {
    _lock: File,
    pub real_path: PathBuf,
    /// Content when locked; None if the file did not exist (or, for a
    /// `lock_bytes` lock, is not UTF-8).
    pub before: Option<String>,
    /// The same content as bytes.
    pub before_bytes: Option<Vec<u8>>,
    before_hash: Option<String>,
    target: Target,
}

/// Follow symlinks so that a linked config is updated, not replaced by a file.
pub fn resolve_target(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..32 {
        match fs::read_link(&p) {
            Ok(link) => {
                p = if link.is_absolute() {
                    link
                } else {
                    p.parent().unwrap_or(Path::new("/")).join(link)
                }
            }
            Err(_) => break,
        }
    }
    p
}

fn ensure_dir(dir: &Path, mode: u32) -> Result<(), WriteError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(io(dir, "create directory"))
}

/// Lock `target` and read its current content, which must be UTF-8 text.
pub fn lock(target: Target) -> Result<Locked, WriteError> {
    lock_impl(target, true)
}

/// Lock a file whose content is not text (the UTF-16 task XML).
pub fn lock_bytes(target: Target) -> Result<Locked, WriteError> {
    lock_impl(target, false)
}

/// Refuse a target that is not a regular file (a device, FIFO, socket, directory) —
/// renaming a file over it would replace the node — and a dangling symlink, which would
/// make clawctl create directories and write wherever the link points.
fn check_target(given: &Path, real: &Path) -> Result<(), WriteError> {
    match fs::metadata(real) {
        Ok(m) if !m.file_type().is_file() => Err(WriteError::Rejected(format!(
            "{} is {}, not a regular file; clawctl writes only regular files — nothing was written",
            real.display(),
            crate::read::kind_name(m.file_type())
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && real != given => {
            Err(WriteError::Rejected(format!(
                "{} is a symlink to {}, which does not exist; clawctl will not create files through a dangling link — nothing was written (remove the link, or create the file it points to)",
                given.display(),
                real.display()
            )))
        }
        _ => Ok(()),
    }
}

fn lock_impl(target: Target, text: bool) -> Result<Locked, WriteError> {
    let real_path = resolve_target(&target.path);
    check_target(&target.path, &real_path)?;
    let dir = real_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    ensure_dir(&dir, target.dir_mode)?;
    let name = real_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lock_path = dir.join(format!(".{name}.lock"));
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io(&lock_path, "open lock file"))?;
    lock_file.lock().map_err(io(&lock_path, "lock"))?;
    remove_stale_temps(&dir, &name);
    let before_bytes = match crate::read::bytes(&real_path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&real_path, "read")(e)),
    };
    let before = match &before_bytes {
        Some(b) => match String::from_utf8(b.clone()) {
            Ok(t) => Some(t),
            Err(e) if text => {
                let pos = crate::config::load::first_invalid_utf8(b, &e.utf8_error());
                return Err(WriteError::Rejected(format!(
                    "{} is not valid UTF-8 (line {}, column {}); clawctl will not rewrite it: save it as UTF-8 first",
                    real_path.display(),
                    pos.line,
                    pos.col
                )));
            }
            Err(_) => None,
        },
        None => None,
    };
    let before_hash = before_bytes.as_ref().map(|b| sha256_hex(b));
    Ok(Locked {
        _lock: lock_file,
        real_path,
        before,
        before_bytes,
        before_hash,
        target,
    })
}

impl Locked {
    /// Write `new_text` if it differs. The caller has validated it already.
    pub fn commit(&self, new_text: &str) -> Result<Written, WriteError> {
        self.commit_bytes(new_text.as_bytes())
    }

    /// Write `new` if it differs from what was there when locked.
    pub fn commit_bytes(&self, new: &[u8]) -> Result<Written, WriteError> {
        match self.prepare(new)? {
            Some(p) => p.persist(),
            None => Ok(Written {
                path: self.real_path.clone(),
                backup: None,
                changed: false,
            }),
        }
    }

    /// The first half of a write: back up the old content and write `new` to a temp
    /// file beside the target (final mode, fsynced), renaming nothing. None: `new` is
    /// what is there already. Dropping the result removes the temp file, so a
    /// two-file change prepares both before persisting either (a full disk fails here).
    pub fn prepare(&self, new: &[u8]) -> Result<Option<Prepared<'_>>, WriteError> {
        if self.before_bytes.as_deref() == Some(new) {
            return Ok(None);
        }
        let path = &self.real_path;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mode = match (self.target.force_mode, fs::metadata(path)) {
            (false, Ok(m)) => m.permissions().mode() & 0o7777,
            _ => self.target.new_mode,
        };
        let backup = match (&self.target.backups, &self.before_bytes) {
            (Some(dir), Some(old)) => Some(write_backup(dir, path, old)?),
            _ => None,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(&temp_prefix(path))
            .suffix(TEMP_SUFFIX)
            .permissions(fs::Permissions::from_mode(mode))
            .tempfile_in(dir)
            .map_err(io(dir, "create a temporary file in"))?;
        tmp.write_all(new).map_err(io(path, "write"))?;
        tmp.as_file().sync_all().map_err(io(path, "fsync"))?;
        // umask may have narrowed the mode at creation; set it exactly.
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))
            .map_err(io(path, "chmod"))?;
        Ok(Some(Prepared {
            locked: self,
            tmp,
            backup,
        }))
    }
    /// Put back what was there before (used to undo the first file of a two-file
    /// change when the second fails).
    pub fn restore_before(&self) -> Result<(), WriteError> {
        match &self.before_bytes {
            Some(old) => {
                let again = Locked {
                    _lock: self
                        ._lock
                        .try_clone()
                        .map_err(io(&self.real_path, "reopen lock"))?,
                    real_path: self.real_path.clone(),
                    before: None,
                    before_bytes: None,
                    before_hash: crate::read::bytes(&self.real_path)
                        .ok()
                        .map(|b| sha256_hex(&b)),
                    target: Target {
                        backups: None,
                        ..self.target.clone()
                    },
                };
                again.commit_bytes(old).map(|_| ())
            }
            None => fs::remove_file(&self.real_path).map_err(io(&self.real_path, "remove")),
        }
    }
}

/// A write whose temp file is ready; `persist` renames it into place.
pub struct Prepared<'a> {
    locked: &'a Locked,
    tmp: tempfile::NamedTempFile,
    backup: Option<PathBuf>,
}

impl Prepared<'_> {
    /// Where the old content was backed up, if it existed.
    pub fn backup(&self) -> Option<&PathBuf> {
        self.backup.as_ref()
    }

    /// Compare-and-set, then rename the temp file over the target and fsync the
    /// directory.
    pub fn persist(self) -> Result<Written, WriteError> {
        let path = &self.locked.real_path;
        let dir = path.parent().unwrap_or(Path::new("."));
        // Refuse if someone else changed the file meanwhile.
        let now = match crate::read::bytes(path) {
            Ok(b) => Some(sha256_hex(&b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(path, "re-read")(e)),
        };
        if now != self.locked.before_hash {
            return Err(WriteError::Changed(path.clone()));
        }
        self.tmp.persist(path).map_err(|e| WriteError::Io {
            path: path.clone(),
            action: "rename into place",
            error: e.error,
        })?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(Written {
            path: path.clone(),
            backup: self.backup,
            changed: true,
        })
    }
}

const TEMP_SUFFIX: &str = ".tmp";

/// Temp files of `path` are `.NAME.XXXXXX.tmp` beside it.
fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    )
}

/// Remove temp files a killed writer left in `dir` (they may hold a copy of
/// credentials.toml). Only clawctl's own names are touched: `.NAME.XXXXXX.tmp` where
/// `.NAME.lock` exists beside it. Rule: a temp file is stale when nobody holds its
/// file's lock — writers create temp files only while holding that lock, and the
/// kernel drops a flock when its process dies, so a free lock means the writer is gone.
/// This needs no clock (a slow writer is never raced) and no pid (no pid reuse).
/// `own` is the file whose lock the caller holds already.
fn remove_stale_temps(dir: &Path, own: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(stem) = file
            .to_str()
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        else {
            continue;
        };
        // NAME, then `.` and the random part tempfile adds (alphanumeric).
        let Some((name, random)) = stem.rsplit_once('.') else {
            continue;
        };
        if name.is_empty()
            || random.len() != 6
            || !random.bytes().all(|b| b.is_ascii_alphanumeric())
            || !e.file_type().is_ok_and(|t| t.is_file())
        {
            continue;
        }
        let stale = name == own
            || OpenOptions::new()
                .write(true)
                .open(dir.join(format!(".{name}.lock")))
                .is_ok_and(|l| l.try_lock().is_ok());
        if stale {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Lock, transform, write. `change` gets the current text (None: no file) and
/// returns the new text, or None for "no change"; an Err writes nothing.
pub fn update<E: From<WriteError>>(
    target: Target,
    change: impl FnOnce(Option<&str>) -> Result<Option<String>, E>,
) -> Result<Written, E> {
    let locked = lock(target)?;
    match change(locked.before.as_deref())? {
        None => Ok(Written {
            path: locked.real_path.clone(),
            backup: None,
            changed: false,
        }),
        Some(text) => Ok(locked.commit(&text)?),
    }
}

/// Atomically replace a file clawctl generates (no lock, no backup). A target that is
/// not a regular file is refused (see `write_output` for user-named outputs).
pub fn write_generated(path: &Path, text: &str, mode: u32) -> Result<(), WriteError> {
    check_target(path, &resolve_target(path))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir, 0o700)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".clawctl-")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(io(dir, "create a temporary file in"))?;
    tmp.write_all(text.as_bytes()).map_err(io(path, "write"))?;
    tmp.as_file().sync_all().map_err(io(path, "fsync"))?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode)).map_err(io(path, "chmod"))?;
    tmp.persist(path).map_err(|e| WriteError::Io {
        path: path.to_path_buf(),
        action: "rename into place",
        error: e.error,
    })?;
    Ok(())
}

/// Whether a user-named output is a stream to write in place: `-`, `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N`.
pub fn is_stream_target(path: &Path) -> bool {
    let p = path.to_string_lossy();
    matches!(p.as_ref(), "-" | "/dev/stdout" | "/dev/stderr") || p.starts_with("/dev/fd/")
}

/// Write a file the user named (`export --output`): a stream target (`-`,
/// `/dev/stdout`, …) is written in place, never replaced; any other non-regular
/// target is refused; a regular file is replaced atomically with `mode`.
pub fn write_output(path: &Path, text: &str, mode: u32) -> Result<(), WriteError> {
    if is_stream_target(path) {
        let mut out: Box<dyn Write> = match path.to_string_lossy().as_ref() {
            "-" | "/dev/stdout" => Box::new(std::io::stdout().lock()),
            "/dev/stderr" => Box::new(std::io::stderr().lock()),
            _ => Box::new(
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io(path, "open"))?,
            ),
        };
        return out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(io(path, "write"));
    }
    write_generated(path, text, mode)
}

fn backup_stamp() -> String {
    let now = std::time::SystemTime::now();
    // RFC 3339 without characters that are awkward in file names.
    humantime::format_rfc3339_millis(now)
        .to_string()
        .replace([':', '-'], "")
}

/// Copy the old content of `source` into `dir` (0600), named by time, keeping the
/// newest `BACKUPS_KEPT` per file name.
pub fn write_backup(dir: &Path, source: &Path, content: &[u8]) -> Result<PathBuf, WriteError> {
    ensure_dir(dir, 0o700)?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let stamp = backup_stamp();
    let mut path = dir.join(format!("{stamp}-{name}"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{stamp}.{n}-{name}"));
    }
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(io(&path, "create backup"))?;
    f.write_all(content).map_err(io(&path, "write backup"))?;
    f.sync_all().map_err(io(&path, "fsync backup"))?;
    prune_backups(dir, &name);
    Ok(path)
}

/// Backups of `name`, oldest first.
pub fn list_backups(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn prune_backups(dir: &Path, name: &str) {
    let suffix = format!("-{name}");
    let mine: Vec<PathBuf> = list_backups(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(&suffix))
        })
        .collect();
    if mine.len() > BACKUPS_KEPT {
        for old in &mine[..mine.len() - BACKUPS_KEPT] {
            let _ = fs::remove_file(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_with_backup_and_mode() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("home/config.toml");
        let backups = d.path().join("home/backups");
        let w = update::<WriteError>(Target::config(&f, &backups), |old| {
            assert!(old.is_none());
            Ok(Some("a = 1\n".into()))
        })
        .unwrap();
        assert!(w.changed && w.backup.is_none());
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let w = update::<WriteError>(Target::config(&f, &backups), |_| Ok(Some("a = 2\n".into())))
            .unwrap();
        assert_eq!(fs::read_to_string(w.backup.unwrap()).unwrap(), "a = 1\n");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o644,
            "mode kept"
        );
        let w = update::<WriteError>(Target::config(&f, &backups), |_| Ok(Some("a = 2\n".into())))
            .unwrap();
        assert!(!w.changed, "same content is not rewritten");
    }

    #[test]
    fn refuses_when_the_file_changed_meanwhile() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c.toml");
        fs::write(&f, "a = 1\n").unwrap();
        let r = update::<WriteError>(Target::config(&f, &d.path().join("b")), |_| {
            fs::write(&f, "a = 99\n").unwrap();
            Ok(Some("a = 2\n".into()))
        });
        assert!(matches!(r, Err(WriteError::Changed(_))));
        assert_eq!(fs::read_to_string(&f).unwrap(), "a = 99\n");
    }

    #[test]
    fn follows_symlinks_and_keeps_the_link() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.toml");
        let link = d.path().join("link.toml");
        fs::write(&real, "a = 1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        update::<WriteError>(Target::config(&link, &d.path().join("b")), |_| {
            Ok(Some("a = 3\n".into()))
        })
        .unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "a = 3\n");
    }

    #[test]
    fn keeps_twenty_backups() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c.toml");
        let b = d.path().join("b");
        for i in 0..25 {
            update::<WriteError>(Target::config(&f, &b), |_| Ok(Some(format!("a = {i}\n"))))
                .unwrap();
        }
        assert_eq!(list_backups(&b).len(), BACKUPS_KEPT);
        for p in list_backups(&b) {
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
