//! A running process, read through `/proc` (Linux): the strongest evidence of what the
//! service actually got.
//!
//! Hand-written rather than the procfs crate: five small files are read, and the parsing
//! that matters (`stat` with a `comm` containing spaces or parentheses, the start time, the
//! "did the pid change under us" check) is a few lines each — and taking a proc root path
//! lets tests run on fixture trees.
//!
//! Note for callers: `/proc/PID/environ` is the environment the process was *started*
//! with. Variables the program sets on itself later (a dotenv loader inside the gateway)
//! do not show here.
//!
//! Anything that cannot be read is an error, never a guess: another user's process is
//! [`ProcessError::PermissionDenied`] (the kernel's ptrace access check), a pid that is
//! gone, a zombie, or a pid reused while we read it is [`ProcessError::NotFound`].

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::EnvVar;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// `/proc/PID/environ`, in order; evidence `/proc/PID/environ`.
    pub env: Vec<EnvVar>,
    pub cwd: Option<PathBuf>,
    pub cmdline: Vec<String>,
    /// When the process started (boot time + field 22 of `/proc/PID/stat`).
    pub start_time: Option<SystemTime>,
    /// Real uid of the process.
    pub uid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessError {
    /// No such process (or it exited, or the pid was reused while reading).
    NotFound(u32),
    /// The process belongs to another user: only that user or root can read it.
    PermissionDenied(u32),
    /// Not on Linux.
    Unsupported,
    Other(String),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::NotFound(pid) => {
                write!(f, "cannot read process {pid}: it is not running")
            }
            ProcessError::PermissionDenied(pid) => write!(
                f,
                "cannot read process {pid}: permission denied (it runs as another user; run clawctl as that user or as root)"
            ),
            ProcessError::Unsupported => f.write_str(
                "cannot read a running process's environment on this platform (Linux only)",
            ),
            ProcessError::Other(m) => write!(f, "cannot read process: {m}"),
        }
    }
}

impl std::error::Error for ProcessError {}

/// Read a process through `/proc`. On other platforms: [`ProcessError::Unsupported`].
pub fn read_process(pid: u32) -> Result<ProcessInfo, ProcessError> {
    if !cfg!(target_os = "linux") {
        return Err(ProcessError::Unsupported);
    }
    match read_process_at(Path::new("/proc"), pid) {
        // With /proc mounted hidepid=2, another user's process has no /proc entry at all;
        // kill(pid, 0) still tells "exists, not yours" (EPERM) from "gone" (ESRCH).
        Err(ProcessError::NotFound(_)) if exists_but_not_ours(pid) => {
            Err(ProcessError::PermissionDenied(pid))
        }
        other => other,
    }
}

#[cfg(unix)]
fn exists_but_not_ours(pid: u32) -> bool {
    // pid 0 and negative pids address process groups: never probe those.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission; nothing is delivered.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn exists_but_not_ours(_pid: u32) -> bool {
    false
}

/// Read a process from a proc filesystem mounted at `proc_root`.
pub fn read_process_at(proc_root: &Path, pid: u32) -> Result<ProcessInfo, ProcessError> {
    let dir = proc_root.join(pid.to_string());
    let before = read_stat(&dir, pid)?;
    if before.state == 'Z' {
        // A zombie has exited; its environ reads as empty, which would be a lie.
        return Err(ProcessError::NotFound(pid));
    }
    let evidence = dir.join("environ").display().to_string();
    let env = split_nul(&read(&dir.join("environ"), pid)?)
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some(EnvVar::new(k, v, evidence.clone()))
        })
        .collect();
    let cmdline = split_nul(&read(&dir.join("cmdline"), pid)?);
    let cwd = std::fs::read_link(dir.join("cwd")).map_err(|e| map_err(&e, pid))?;
    let uid = read_uid(&dir);
    // The pid may have been reused between the reads: the start time tells.
    let after = read_stat(&dir, pid)?;
    if after.start_ticks != before.start_ticks {
        return Err(ProcessError::NotFound(pid));
    }
    Ok(ProcessInfo {
        pid,
        env,
        cwd: Some(cwd),
        cmdline,
        start_time: start_time(proc_root, before.start_ticks),
        uid,
    })
}

fn read(path: &Path, pid: u32) -> Result<Vec<u8>, ProcessError> {
    crate::read::bytes(path).map_err(|e| map_err(&e, pid))
}

fn map_err(e: &std::io::Error, pid: u32) -> ProcessError {
    match e.kind() {
        ErrorKind::NotFound => ProcessError::NotFound(pid),
        ErrorKind::PermissionDenied => ProcessError::PermissionDenied(pid),
        // ESRCH: the process exited between open and read.
        _ if e.raw_os_error() == Some(libc::ESRCH) => ProcessError::NotFound(pid),
        _ => ProcessError::Other(format!("process {pid}: {e}")),
    }
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

struct Stat {
    state: char,
    start_ticks: u64,
}

/// `/proc/PID/stat`: `pid (comm) state ppid …`; `comm` may hold spaces and `)`, so the
/// fields are counted from the *last* `)`. Field 3 is the state, field 22 the start time
/// in clock ticks since boot (proc(5)).
fn read_stat(dir: &Path, pid: u32) -> Result<Stat, ProcessError> {
    let text = String::from_utf8_lossy(&read(&dir.join("stat"), pid)?).into_owned();
    parse_stat(&text)
        .ok_or_else(|| ProcessError::Other(format!("process {pid}: unexpected /proc stat format")))
}

fn parse_stat(text: &str) -> Option<Stat> {
    let (_, after_comm) = text.rsplit_once(')')?;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        start_ticks: fields.get(22 - 3)?.parse().ok()?,
    })
}

/// The real uid from the `Uid:` line of `/proc/PID/status`.
fn read_uid(dir: &Path) -> Option<u32> {
    let status = crate::read::string(dir.join("status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How far a start time from [`start_time`] may lie before the real start: the
/// kernel's boot time (`btime`) is whole seconds.
pub const START_TIME_PRECISION: Duration = Duration::from_secs(1);

fn start_time(proc_root: &Path, ticks: u64) -> Option<SystemTime> {
    let stat = crate::read::string(proc_root.join("stat")).ok()?;
    let btime: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let hz = clock_ticks_per_second()?;
    let since_boot =
        Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz);
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(btime) + since_boot)
}

#[cfg(unix)]
fn clock_ticks_per_second() -> Option<u64> {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|h| *h > 0)
}

#[cfg(not(unix))]
fn clock_ticks_per_second() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_proc(pid: u32, stat: &str, environ: &[u8]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(pid.to_string());
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("environ"), environ).unwrap();
        std::fs::write(dir.join("cmdline"), b"/usr/bin/clawctl\0gateway\0run\0").unwrap();
        std::fs::write(
            dir.join("status"),
            "Name:\tx\nUid:\t1000\t1000\t1000\t1000\n",
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/srv/gw", dir.join("cwd")).unwrap();
        std::fs::write(root.path().join("stat"), "cpu 1 2 3\nbtime 1700000000\n").unwrap();
        root
    }

    // 52 fields like a real stat line; field 22 (start time) is 500.
    fn stat_line(comm: &str, state: char) -> String {
        let mut fields: Vec<String> = (4..=52).map(|n| n.to_string()).collect();
        fields[22 - 4] = "500".into();
        format!("42 ({comm}) {state} {}\n", fields.join(" "))
    }

    #[cfg(unix)]
    #[test]
    fn reads_a_fake_proc_tree() {
        let root = fake_proc(
            42,
            &stat_line("node) (x y", 'S'),
            b"A=1\0B=x=y\0NOEQ\0\0EMPTY=\0",
        );
        let p = read_process_at(root.path(), 42).unwrap();
        let env: Vec<(&str, &str)> = p
            .env
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(env, vec![("A", "1"), ("B", "x=y"), ("EMPTY", "")]);
        assert!(p.env[0].evidence.ends_with("/42/environ"));
        assert_eq!(p.cmdline, vec!["/usr/bin/clawctl", "gateway", "run"]);
        assert_eq!(p.cwd.as_deref(), Some(Path::new("/srv/gw")));
        assert_eq!(p.uid, Some(1000));
        let hz = clock_ticks_per_second().unwrap();
        let expected = SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_700_000_000)
            + Duration::from_millis(500 * 1000 / hz);
        assert_eq!(p.start_time, Some(expected));
    }

    #[cfg(unix)]
    #[test]
    fn zombie_missing_and_garbage() {
        let root = fake_proc(42, &stat_line("sleep", 'Z'), b"");
        assert_eq!(
            read_process_at(root.path(), 42),
            Err(ProcessError::NotFound(42))
        );
        assert_eq!(
            read_process_at(root.path(), 43),
            Err(ProcessError::NotFound(43))
        );
        let root = fake_proc(42, "42 (x) S 1 2", b"");
        assert!(matches!(
            read_process_at(root.path(), 42),
            Err(ProcessError::Other(_))
        ));
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("").is_none());
    }

    #[test]
    fn messages_say_cannot_read() {
        assert!(
            ProcessError::PermissionDenied(7)
                .to_string()
                .starts_with("cannot read process 7: permission denied")
        );
        assert!(
            ProcessError::NotFound(7)
                .to_string()
                .contains("not running")
        );
    }
}
