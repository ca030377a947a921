//! The one way clawctl reads a file it was pointed at: config, `.env`, credentials,
//! import files, `$include`s, `EnvironmentFile=`s, `--service-file`s, backups.
//!
//! Only regular files are read (a device, FIFO or socket is refused before any byte is
//! read, and a FIFO is opened non-blocking so that opening it cannot hang), and never
//! more than [`MAX_FILE_BYTES`], whatever `stat` says (a character device reports
//! length 0; `/proc` files do too and are read within the same bound).

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The documented size limit of every file clawctl reads: 10 MiB. A config is a few
/// KB; a larger file is a mistake (or an attack).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Why a file was not read although it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a regular file: what it is instead ("a directory", "a named pipe (FIFO)", …).
    NotRegular(&'static str),
    /// Longer than [`MAX_FILE_BYTES`].
    TooLarge,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            Refusal::TooLarge => write!(
                f,
                "it is larger than {} MiB, the limit for files clawctl reads",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// The refusal inside an error returned by [`bytes`] / [`string`], if it is one.
pub fn refusal(e: &std::io::Error) -> Option<Refusal> {
    e.get_ref()
        .and_then(|r| r.downcast_ref::<Refusal>())
        .copied()
}

/// What a file that is not a regular file is, for messages: "a directory", "a named
/// pipe (FIFO)", "a socket", "a character device", "a block device".
pub fn kind_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a named pipe (FIFO)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

/// Read a regular file (symlinks followed), at most [`MAX_FILE_BYTES`].
/// Errors: the open/read error (`NotFound` included), or [`Refusal`] as
/// `ErrorKind::InvalidInput` (not regular) / `ErrorKind::FileTooLarge`.
pub fn bytes(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    bytes_limited(path.as_ref(), MAX_FILE_BYTES)
}

/// [`bytes`] with another bound (in bytes).
pub fn bytes_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        // Opening a FIFO for reading blocks until a writer comes; non-blocking, it
        // returns at once and fstat tells what it is.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            Refusal::NotRegular(kind_name(meta.file_type())),
        ));
    }
    let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            Refusal::TooLarge,
        ));
    }
    Ok(buf)
}

/// [`bytes`] as UTF-8 (`ErrorKind::InvalidData` when it is not).
pub fn string(path: impl AsRef<Path>) -> std::io::Result<String> {
    String::from_utf8(bytes(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Would block forever with a plain open.
        let e = bytes(&fifo).unwrap_err();
        assert_eq!(
            refusal(&e),
            Some(Refusal::NotRegular("a named pipe (FIFO)"))
        );
        let e = bytes(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(refusal(&e), Some(Refusal::NotRegular("a character device")));
        let e = bytes(dir.path()).unwrap_err();
        assert_eq!(refusal(&e), Some(Refusal::NotRegular("a directory")));
    }

    #[test]
    fn reads_are_bounded_whatever_stat_says() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        std::fs::write(&f, vec![b'a'; 2048]).unwrap();
        assert_eq!(bytes_limited(&f, 2048).unwrap().len(), 2048);
        let e = bytes_limited(&f, 2047).unwrap_err();
        assert_eq!(refusal(&e), Some(Refusal::TooLarge));
        // /proc files say length 0 and are read all the same.
        assert!(!bytes(Path::new("/proc/self/status")).unwrap().is_empty());
    }
}
