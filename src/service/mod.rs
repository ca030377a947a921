//! Service discovery and parsing: what the gateway *service* is told to run with.
//!
//! This layer only reads and parses; it decides nothing. `status`/`doctor` combine its
//! results into a service view (`Environment`) and findings with severities.
//!
//! # Sources
//!
//! - [`systemd`]: a user unit + its drop-ins + `EnvironmentFile=`s, with systemd's own
//!   rules (quoting, specifiers, resets, `UnsetEnvironment=`), and `systemctl --user show`
//!   when a user manager answers ([`systemctl_show`]).
//! - [`launchd`]: a LaunchAgent plist, XML or binary.
//! - [`windows`]: a Task Scheduler XML export (UTF-16 or UTF-8) and the `.cmd` wrapper
//!   script it runs.
//! - [`process`]: a running process through `/proc` (Linux).
//!
//! All parsers are plain code that runs on every platform, so the Linux test suite covers
//! the macOS and Windows formats with fixture files.
//!
//! # API
//!
//! ```text
//! discover(home, platform) -> Vec<PathBuf>            the gateway's definitions, current one first
//! parse_any(path, home, user) -> Result<ServiceDefinition, ServiceError>
//! parse_systemd_unit(unit, home, user)                 unit + NAME.service.d/*.conf
//! parse_systemd_unit_files(unit, drop_ins, home, user) with drop-ins from `systemctl show`
//! systemctl_show(unit) -> Option<SystemdShow>          None without a user manager (CI)
//! show_differences(&def, &show) -> Vec<Finding>        unit files edited but not reloaded
//! parse_environment_file(text)                         EnvironmentFile= rules
//! dotenv_systemd_differences(text) -> Vec<ReadDifference>
//! parse_launchd_plist(path, home, user)
//! parse_windows_task(xml) / parse_windows_wrapper(cmd)
//! read_process(pid) / read_process_at(proc_root, pid) -> Result<ProcessInfo, ProcessError>
//! runs_clawctl_gateway(&program) -> bool               is this command line our gateway?
//! ServiceDefinition::{var, effective_env, files_changed_since}
//! ```
//!
//! # Finding codes
//!
//! Stable strings in [`Finding::code`], for mapping to severities and fixes:
//!
//! - would stop the service from starting: `env-file-missing`, `working-dir-missing`,
//!   `user-mismatch`, `no-label`, `no-program`, `no-exec-action`, `disabled`;
//! - the file says one thing, the manager does another: `env-override`, `env-reset`,
//!   `env-file-overrides`, `duplicate-key`, `literal-dollar`, `literal-tilde`,
//!   `specifier-invalid`, `specifier-unresolved`, `invalid-assignment`, `unset-no-match`,
//!   `username-ignored`, `wrapper-name-space`, `wrapper-trailing-space`, `plist-type`;
//! - lines the manager ignores: `unit-syntax`, `env-file-syntax`, `env-file-relative`,
//!   `environment-d-syntax`, `wrapper-syntax`, `wrapper-set-switch`;
//! - informational: `env-file-optional-missing`, `env-file-unreadable`,
//!   `wrapper-beside-xml`, `several-exec-actions`, `non-exec-action`;
//! - from [`show_differences`]: `not-reloaded`, `other-fragment`.
//!
//! A [`ServiceDefinition`] keeps three environments apart, because they have different
//! strengths as evidence: `env` (what the definition sets, after the manager's own
//! override/reset rules), `manager_env` (what the manager adds by itself) and
//! `cannot_tell` (parts nobody can know from here). [`ServiceDefinition::effective_env`]
//! merges the first two the way the manager does.
//!
//! Secret values live in [`EnvVar::value`] and nowhere else: messages, findings and
//! errors name variables, never values, and `Debug` of an [`EnvVar`] shows only
//! [`crate::secrets::mask::describe`].

pub mod launchd;
pub mod process;
pub mod systemd;
pub mod windows;

pub mod install;
pub mod manager;
pub mod view;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::env::Platform;

pub use launchd::parse_launchd_plist;
pub use process::{ProcessError, ProcessInfo, read_process, read_process_at};
pub use systemd::{
    EnvFileEntry, EnvFileIssue, ReadDifference, SystemdShow, dotenv_systemd_differences,
    parse_environment_file, parse_systemctl_show, parse_systemd_unit, parse_systemd_unit_files,
    show_differences, systemctl_show,
};
pub use windows::{parse_windows_task, parse_windows_wrapper};

/// The launchd label of the gateway clawctl installs.
pub const LAUNCHD_LABEL: &str = "ai.clawctl.gateway";
/// The systemd user unit of the gateway clawctl installs.
pub const SYSTEMD_UNIT: &str = "clawctl-gateway.service";
/// The Task Scheduler task of the gateway clawctl installs.
pub const WINDOWS_TASK: &str = "clawctl-gateway";

/// Which service manager a definition belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    Launchd,
    Systemd,
    WindowsTask,
    /// A running process read through `/proc`, with no definition behind it.
    Process,
}

impl fmt::Display for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Manager::Launchd => "launchd",
            Manager::Systemd => "systemd",
            Manager::WindowsTask => "Windows Task Scheduler",
            Manager::Process => "process",
        })
    }
}

/// One environment variable and where it came from.
///
/// `evidence` reads like `~/.config/systemd/user/clawctl-gateway.service:12 (Environment=)`,
/// `/home/u/.env:3 (EnvironmentFile=)`, `~/Library/LaunchAgents/ai.clawctl.gateway.plist:31
/// (EnvironmentVariables)`, `/proc/1234/environ` or `added by launchd`.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    pub evidence: String,
}

impl EnvVar {
    pub fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        evidence: impl Into<String>,
    ) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.into(),
            evidence: evidence.into(),
        }
    }
}

/// Redacted on purpose: a `{:?}` in a log line or a failed assertion must not print a key.
impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVar")
            .field("name", &self.name)
            .field("value", &crate::secrets::mask::describe(&self.value))
            .field("evidence", &self.evidence)
            .finish()
    }
}

/// A parser-level observation: something the manager will do that a reader of the file
/// may not expect (an override, a reset, an ignored line, a missing file …).
///
/// `code` is stable for callers that map findings to severities and fixes; `message`
/// never contains a variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    pub evidence: String,
}

impl Finding {
    pub fn new(
        code: &'static str,
        message: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            message: message.into(),
            evidence: evidence.into(),
        }
    }
}

/// What a service definition tells its manager to run, and with which environment.
#[derive(Debug, Clone)]
pub struct ServiceDefinition {
    pub manager: Manager,
    /// Unit name, launchd label or task name.
    pub name: String,
    /// The main definition file.
    pub path: PathBuf,
    /// Every file read (unit, drop-ins, EnvironmentFiles, wrapper script), for "changed
    /// after the process started" checks.
    pub files: Vec<PathBuf>,
    /// The command line, as the manager will exec it (no shell expansion applied).
    pub program: Vec<String>,
    pub working_dir: Option<PathBuf>,
    pub user: Option<String>,
    /// Variables the definition sets, after the manager's own rules: later assignment
    /// wins, empty `Environment=` resets, `EnvironmentFile=` overrides `Environment=`,
    /// `UnsetEnvironment=` applied. In the order the manager would apply them.
    pub env: Vec<EnvVar>,
    /// Names (or `NAME=VALUE` patterns) removed by the definition (`UnsetEnvironment=`,
    /// `set NAME=` in a wrapper).
    pub unset: Vec<String>,
    /// What the manager adds by itself (evidence `added by launchd` / `added by systemd`).
    pub manager_env: Vec<EnvVar>,
    /// Parts of the environment nobody can know from here, as sentences.
    pub cannot_tell: Vec<String>,
    pub findings: Vec<Finding>,
}

impl ServiceDefinition {
    pub(crate) fn new(manager: Manager, name: impl Into<String>, path: &Path) -> Self {
        ServiceDefinition {
            manager,
            name: name.into(),
            path: path.to_path_buf(),
            files: vec![path.to_path_buf()],
            program: Vec::new(),
            working_dir: None,
            user: None,
            env: Vec::new(),
            unset: Vec::new(),
            manager_env: Vec::new(),
            cannot_tell: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// The variable as the definition sets it (not counting what the manager adds).
    pub fn var(&self, name: &str) -> Option<&EnvVar> {
        self.env.iter().rev().find(|v| v.name == name)
    }

    /// What the process would get: the manager's variables, overridden by the
    /// definition's, sorted by name.
    pub fn effective_env(&self) -> Vec<EnvVar> {
        let mut merged: BTreeMap<&str, &EnvVar> = BTreeMap::new();
        for v in self.manager_env.iter().chain(&self.env) {
            merged.insert(&v.name, v);
        }
        merged.into_values().cloned().collect()
    }

    /// Files read for this definition whose modification time is after `t` (typically
    /// the running process's start time: those changes are not live yet).
    /// The definition's files modified after `t`, a process start time from /proc:
    /// that is only known to the second (the kernel's boot time is whole seconds), so
    /// a file must be newer by more than that. Without the margin, a unit written and
    /// started in the same second (what `service install` does) looks stale at once.
    pub fn files_changed_since(&self, t: SystemTime) -> Vec<PathBuf> {
        let t = t + crate::service::process::START_TIME_PRECISION;
        self.files
            .iter()
            .filter(|p| {
                std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m > t)
            })
            .cloned()
            .collect()
    }

    pub(crate) fn add_file(&mut self, path: &Path) {
        if !self.files.iter().any(|f| f == path) {
            self.files.push(path.to_path_buf());
        }
    }

    pub(crate) fn finding(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        evidence: impl Into<String>,
    ) {
        self.findings.push(Finding::new(code, message, evidence));
    }
}

/// A definition file that cannot be read or understood. Always names the file, the line
/// when there is one, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    Read {
        path: PathBuf,
        message: String,
    },
    Parse {
        path: PathBuf,
        line: Option<usize>,
        message: String,
        expected: String,
    },
    /// `parse_any` could not tell which manager the file is for.
    Unrecognized {
        path: PathBuf,
    },
}

impl ServiceError {
    pub fn path(&self) -> &Path {
        match self {
            ServiceError::Read { path, .. }
            | ServiceError::Parse { path, .. }
            | ServiceError::Unrecognized { path } => path,
        }
    }

    pub(crate) fn read(path: &Path, err: &std::io::Error) -> ServiceError {
        ServiceError::Read {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }

    pub(crate) fn parse(
        path: &Path,
        line: Option<usize>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> ServiceError {
        ServiceError::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
            expected: expected.into(),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Read { path, message } => {
                write!(f, "{}: cannot read: {message}", path.display())
            }
            ServiceError::Parse {
                path,
                line,
                message,
                expected,
            } => {
                match line {
                    Some(l) => write!(f, "{}:{l}: {message}", path.display())?,
                    None => write!(f, "{}: {message}", path.display())?,
                }
                write!(f, " (expected {expected})")
            }
            ServiceError::Unrecognized { path } => write!(
                f,
                "{}: not a service definition clawctl knows (expected a launchd .plist, a systemd .service unit, a Task Scheduler .xml export or a .cmd wrapper)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ServiceError {}

/// Where the gateway's definitions are on this platform: the one clawctl installs
/// first (if it exists), then any other definition in the same directory whose
/// program runs `clawctl … gateway` (an old label or a hand-made unit; more than one
/// result is a finding for the caller).
pub fn discover(home: &Path, platform: Platform) -> Vec<PathBuf> {
    match platform {
        Platform::Macos => discover_in(
            &home.join("Library/LaunchAgents"),
            &format!("{LAUNCHD_LABEL}.plist"),
            "plist",
            home,
        ),
        Platform::Linux | Platform::Other => discover_in(
            &home.join(".config/systemd/user"),
            SYSTEMD_UNIT,
            "service",
            home,
        ),
        // Task Scheduler keeps each task as an XML file without extension here; the
        // wrapper script is found through the task's <Command>.
        Platform::Windows => {
            let task = Path::new(r"C:\Windows\System32\Tasks").join(WINDOWS_TASK);
            if task.is_file() { vec![task] } else { vec![] }
        }
    }
}

fn discover_in(dir: &Path, canonical: &str, ext: &str, home: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let canonical_path = dir.join(canonical);
    if canonical_path.is_file() {
        found.push(canonical_path.clone());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut others: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p != &canonical_path && p.is_file())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter(|p| {
            // Only the program matters here; the user name is irrelevant to it.
            parse_any(p, home, "")
                .map(|d| runs_clawctl_gateway(&d.program))
                .unwrap_or(false)
        })
        .collect();
    others.sort();
    found.extend(others);
    found
}

/// The words of a command line as a shell would split them, roughly: arguments split
/// at whitespace, `;` and `'`, surrounding double quotes dropped
/// (`/bin/sh -c "exec clawctl gateway run"` → `/bin/sh`, `-c`, `exec`, `clawctl`, …).
pub fn command_tokens(cmdline: &[String]) -> Vec<&str> {
    cmdline
        .iter()
        .flat_map(|a| a.split(|c: char| c.is_whitespace() || c == ';' || c == '\''))
        .map(|t| t.trim_matches('"'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// A program token's file name without directories or `.exe`.
pub fn program_name(token: &str) -> &str {
    let base = token.rsplit(['/', '\\']).next().unwrap_or(token);
    base.strip_suffix(".exe").unwrap_or(base)
}

/// Whether a command line runs `clawctl … gateway`, directly or through a shell
/// (`/bin/sh -c "exec clawctl gateway run"`).
pub fn runs_clawctl_gateway(program: &[String]) -> bool {
    let tokens = command_tokens(program);
    tokens
        .iter()
        .enumerate()
        .any(|(i, t)| program_name(t) == "clawctl" && tokens[i + 1..].contains(&"gateway"))
}

/// Parse a definition of any supported kind, chosen by extension, then by content.
pub fn parse_any(path: &Path, home: &Path, user: &str) -> Result<ServiceDefinition, ServiceError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("plist") => parse_launchd_plist(path, home, user),
        Some("service") => parse_systemd_unit(path, home, user),
        Some("cmd") | Some("bat") => parse_windows_wrapper(path),
        Some("xml") => parse_windows_task(path),
        _ => parse_by_content(path, home, user),
    }
}

fn parse_by_content(
    path: &Path,
    home: &Path,
    user: &str,
) -> Result<ServiceDefinition, ServiceError> {
    let bytes = crate::read::bytes(path).map_err(|e| ServiceError::read(path, &e))?;
    if bytes.starts_with(b"bplist") {
        return parse_launchd_plist(path, home, user);
    }
    let text = windows::decode_text(&bytes).unwrap_or_default();
    if text.contains("<plist") {
        parse_launchd_plist(path, home, user)
    } else if text.contains("<Task") {
        parse_windows_task(path)
    } else if text.lines().any(|l| l.trim() == "[Service]") {
        parse_systemd_unit(path, home, user)
    } else {
        Err(ServiceError::Unrecognized {
            path: path.to_path_buf(),
        })
    }
}

/// `~/…` for paths under home, for evidence strings people read.
pub(crate) fn display_path(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home.filter(|h| !h.as_os_str().is_empty())
        && let Ok(rest) = path.strip_prefix(home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// 1-based line of a byte offset.
pub(crate) fn line_of_offset(text: &[u8], offset: usize) -> usize {
    let end = offset.min(text.len());
    text[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// `$NAME` / `${NAME}` references in a value that no manager expands (launchd
/// `EnvironmentVariables`, systemd `Environment=`), for findings.
pub(crate) fn dollar_references(value: &str) -> Vec<String> {
    let name_at = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut refs: Vec<String> = Vec::new();
    for (i, _) in value.match_indices('$') {
        let rest = &value[i + 1..];
        let name = match rest.strip_prefix('{') {
            Some(r) => {
                let n = name_at(r);
                if r[n.len()..].starts_with('}') {
                    n
                } else {
                    String::new()
                }
            }
            None => name_at(rest),
        };
        if crate::secrets::mask::is_valid_env_name(&name) && !refs.contains(&name) {
            refs.push(name);
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_clawctl_gateway_command_lines() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(runs_clawctl_gateway(&s(&[
            "/usr/local/bin/clawctl",
            "gateway",
            "run"
        ])));
        assert!(runs_clawctl_gateway(&s(&[
            "/bin/sh",
            "-c",
            "exec ~/.cargo/bin/clawctl --profile x gateway run"
        ])));
        assert!(runs_clawctl_gateway(&s(&[
            r"C:\Users\u\bin\clawctl.exe",
            "gateway"
        ])));
        assert!(!runs_clawctl_gateway(&s(&["/usr/bin/openclaw", "gateway"])));
        assert!(!runs_clawctl_gateway(&s(&["/usr/bin/clawctl", "status"])));
        assert!(!runs_clawctl_gateway(&[]));
    }

    #[test]
    fn dollar_references_are_names_only() {
        assert_eq!(
            dollar_references("/home/$USER/bin:${HOME}/x:$:${bad"),
            vec!["USER".to_string(), "HOME".to_string()]
        );
        assert!(dollar_references("no refs").is_empty());
    }

    #[test]
    fn env_var_debug_never_shows_the_value() {
        let v = EnvVar::new("MOONSHOT_API_KEY", "sk-kimi-secretsecretsecret", "x");
        let dbg = format!("{v:?}");
        assert!(!dbg.contains("secretsecret"), "{dbg}");
        assert!(dbg.contains("sk-kimi-"));
    }

    #[test]
    fn error_names_file_line_and_expectation() {
        let e = ServiceError::parse(Path::new("/x/a.plist"), Some(13), "bad tag", "a string");
        assert_eq!(e.to_string(), "/x/a.plist:13: bad tag (expected a string)");
    }

    #[test]
    fn effective_env_lets_the_definition_win() {
        let mut d = ServiceDefinition::new(Manager::Launchd, "x", Path::new("/x"));
        d.manager_env
            .push(EnvVar::new("PATH", "/usr/bin", "added by launchd"));
        d.manager_env
            .push(EnvVar::new("HOME", "/Users/u", "added by launchd"));
        d.env.push(EnvVar::new("PATH", "/opt/bin", "plist"));
        let eff = d.effective_env();
        assert_eq!(eff.len(), 2);
        assert_eq!(eff[1].name, "PATH");
        assert_eq!(eff[1].value, "/opt/bin");
    }
}
