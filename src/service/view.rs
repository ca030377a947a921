//! The service view: the `Environment` the gateway service runs with, built from the
//! strongest evidence available — its running process (`/proc`), else its
//! definition (launchd plist, systemd unit + drop-ins, Windows task) plus what the
//! manager adds — so that the same `load` answers "what does the service read?".

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::env::{Environment, Platform};
use crate::service::{self, Manager, ServiceDefinition};

/// `--service-file` / `--pid`: look at this definition or process instead of discovering.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    pub service_file: Option<PathBuf>,
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    NotInstalled,
    /// A definition exists where the gateway's would be, but it cannot be read or
    /// parsed (the service manager refuses it too): `error` names file and line.
    Unparsable {
        error: String,
    },
    /// Defined but no process found.
    Installed,
    Running {
        pid: u32,
    },
    /// Running, but a file of its definition changed after it started.
    RunningStale {
        pid: u32,
        changed: Vec<PathBuf>,
    },
}

impl State {
    pub fn describe(&self) -> String {
        match self {
            State::NotInstalled => "not installed".into(),
            State::Unparsable { error } => {
                format!("installed, but its definition does not parse: {error}")
            }
            State::Installed => "installed, not running".into(),
            State::Running { pid } => format!("running (pid {pid})"),
            State::RunningStale { pid, changed } => format!(
                "running (pid {pid}) a stale definition: {} changed after it started",
                changed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[derive(Debug)]
pub struct ServiceView {
    pub definitions: Vec<ServiceDefinition>,
    /// Definitions that could not be read or parsed (message names the file).
    pub errors: Vec<String>,
    /// Index into `definitions` of the one the view is built from.
    pub chosen: Option<usize>,
    pub process: Option<service::ProcessInfo>,
    /// Why the process could not be read ("permission denied for pid 1").
    pub process_error: Option<String>,
    pub environment: Option<Environment>,
    /// What the environment was built from, strongest first.
    pub evidence: Vec<String>,
    pub state: State,
    pub restart_needed: bool,
}

impl ServiceView {
    /// With `--service-file`, a file that cannot be read or parsed is the answer
    /// (an error), not a reason to fall back to "no service".
    pub fn require_given_file(&self, opts: &ServiceOptions) -> Result<(), String> {
        match (&opts.service_file, self.definitions.is_empty()) {
            (Some(p), true) => Err(self.errors.first().cloned().unwrap_or_else(|| {
                format!("{}: no service definition could be read", p.display())
            })),
            _ => Ok(()),
        }
    }

    pub fn definition(&self) -> Option<&ServiceDefinition> {
        self.chosen.map(|i| &self.definitions[i])
    }
}

fn platform_of(m: Manager, fallback: Platform) -> Platform {
    match m {
        Manager::Launchd => Platform::Macos,
        Manager::Systemd => Platform::Linux,
        Manager::WindowsTask => Platform::Windows,
        Manager::Process => fallback,
    }
}

fn user_name(env: &Environment) -> String {
    env.var("USER")
        .or_else(|| env.var("LOGNAME"))
        .unwrap_or_default()
        .to_string()
}

/// Find the gateway service and build its environment.
pub fn discover(cli: &Environment, opts: &ServiceOptions) -> ServiceView {
    let home = cli.home.clone().unwrap_or_else(|| PathBuf::from("/"));
    let user = user_name(cli);
    let paths: Vec<PathBuf> = match &opts.service_file {
        Some(p) => vec![cli.resolve_path(&p.to_string_lossy())],
        None => service::discover(&home, cli.platform),
    };
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match service::parse_any(&p, &home, &user) {
            Ok(d) => definitions.push(d),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let chosen = definitions
        .iter()
        .position(|d| {
            [
                service::LAUNCHD_LABEL,
                service::SYSTEMD_UNIT,
                service::WINDOWS_TASK,
            ]
            .iter()
            .any(|n| {
                d.name == *n
                    || d.name.trim_end_matches(".service") == n.trim_end_matches(".service")
            })
        })
        .or(if definitions.is_empty() {
            None
        } else {
            Some(0)
        });

    // The running process: --pid, else what systemd says, else the gateway's receipt.
    let mut pid = opts.pid;
    if let Some(i) = chosen
        && definitions[i].manager == Manager::Systemd
        && let Some(show) = service::systemctl_show(&definitions[i].name)
    {
        // The loaded unit is what runs: where it differs from the files on disk
        // (no daemon-reload yet), say so with the rest of the definition's findings.
        let differences = service::show_differences(&definitions[i], &show);
        definitions[i].findings.extend(differences);
        if pid.is_none() {
            pid = show.main_pid.filter(|p| *p > 0);
        }
    }
    let mut view = ServiceView {
        definitions,
        errors,
        chosen,
        process: None,
        process_error: None,
        environment: None,
        evidence: Vec::new(),
        state: State::NotInstalled,
        restart_needed: false,
    };
    let from_definition = view.definition().map(|d| definition_environment(cli, d));
    if pid.is_none() {
        let home_env = from_definition.as_ref().unwrap_or(cli);
        pid = receipt_pid(home_env);
    }
    if let Some(pid) = pid {
        match service::read_process(pid) {
            Ok(info) => view.process = Some(info),
            Err(e) => {
                let text = e.to_string();
                view.process_error = Some(if text.contains(&pid.to_string()) {
                    text
                } else {
                    format!("cannot read process {pid}: {text}")
                });
            }
        }
    }
    let def_owned = view.definition().cloned();
    let process = view.process.clone();
    match (&process, def_owned.as_ref()) {
        (Some(p), def) => {
            let changed = match (def, p.start_time) {
                (Some(d), Some(t)) => d.files_changed_since(t),
                _ => Vec::new(),
            };
            view.restart_needed = !changed.is_empty();
            view.state = if changed.is_empty() {
                State::Running { pid: p.pid }
            } else {
                State::RunningStale {
                    pid: p.pid,
                    changed,
                }
            };
            view.environment = Some(process_environment(cli, p, def));
            view.evidence.push(format!(
                "running process {} (/proc/{}/environ)",
                p.pid, p.pid
            ));
            if let Some(d) = def {
                view.evidence.push(format!(
                    "{} definition {}",
                    d.manager,
                    cli.display_path(&d.path)
                ));
            }
        }
        (None, Some(d)) => {
            view.state = State::Installed;
            view.evidence.push(format!(
                "{} definition {}",
                d.manager,
                cli.display_path(&d.path)
            ));
            if let Some(e) = &view.process_error {
                view.evidence.push(e.clone());
            }
            view.environment = from_definition;
        }
        (None, None) => {
            if let Some(error) = view.errors.first() {
                view.state = State::Unparsable {
                    error: error.clone(),
                };
            }
        }
    }
    view
}

/// The environment a definition gives its process, each variable with its evidence.
pub fn definition_environment(cli: &Environment, d: &ServiceDefinition) -> Environment {
    let mut vars = std::collections::BTreeMap::new();
    let mut evidence = std::collections::BTreeMap::new();
    for v in d.effective_env() {
        evidence.insert(v.name.clone(), v.evidence.clone());
        vars.insert(v.name, v.value);
    }
    let home = vars
        .get("HOME")
        .map(PathBuf::from)
        .or_else(|| cli.home.clone());
    let platform = platform_of(d.manager, cli.platform);
    let cwd = d.working_dir.clone().unwrap_or_else(|| match d.manager {
        // systemd user services start in the user's home; launchd jobs in `/`.
        Manager::Systemd => home.clone().unwrap_or_else(|| PathBuf::from("/")),
        _ => PathBuf::from("/"),
    });
    let mut env = Environment::from_parts(
        vars,
        home,
        cwd,
        platform,
        format!("{} {} (its definition)", d.manager, d.name),
    );
    env.var_evidence = evidence;
    env
}

fn process_environment(
    cli: &Environment,
    p: &service::ProcessInfo,
    def: Option<&ServiceDefinition>,
) -> Environment {
    let label = match def {
        Some(d) => format!("running process {} ({} {})", p.pid, d.manager, d.name),
        None => format!("running process {}", p.pid),
    };
    live_process_environment(cli, p, label)
}

/// The environment of a live process (`/proc/PID/environ` and cwd), each variable
/// with its evidence; HOME falls back to the CLI's. `label` names the view.
pub fn live_process_environment(
    cli: &Environment,
    p: &service::ProcessInfo,
    label: String,
) -> Environment {
    let mut vars = std::collections::BTreeMap::new();
    let mut evidence = std::collections::BTreeMap::new();
    for v in &p.env {
        evidence.insert(v.name.clone(), v.evidence.clone());
        vars.insert(v.name.clone(), v.value.clone());
    }
    let home = vars
        .get("HOME")
        .map(PathBuf::from)
        .or_else(|| cli.home.clone());
    let cwd = p.cwd.clone().unwrap_or_else(|| PathBuf::from("/"));
    let mut env = Environment::from_parts(vars, home, cwd, cli.platform, label);
    env.var_evidence = evidence;
    env
}

/// The pid in the gateway's receipt, if that process is alive.
fn receipt_pid(env: &Environment) -> Option<u32> {
    let paths = crate::env::paths::Paths::resolve(env, None).ok()?;
    let receipt = crate::gateway::receipt::Receipt::read(&paths.receipt()).ok()?;
    receipt.pid_alive().then_some(receipt.pid)
}

/// Whether `path` was modified after `t`.
pub fn modified_after(path: &Path, t: SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|m| m > t)
}

/// The files written by a command that the service does not read: for each, a
/// sentence naming the file the service reads instead and the fix. `service` is the
/// environment of the service's next start (its definition), `written` the files the
/// command changed (config.toml, credentials.toml, .env).
pub fn writes_not_seen(
    cli: &Environment,
    service: &Environment,
    written: &[PathBuf],
) -> Vec<String> {
    let Ok(paths) = crate::env::paths::Paths::resolve(service, None) else {
        return Vec::new();
    };
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    let reads = [
        ("config", &paths.config),
        ("credentials", &paths.credentials),
        (".env", &paths.dotenv),
    ];
    written
        .iter()
        .filter(|w| !reads.iter().any(|(_, r)| same(w, r)))
        .map(|w| {
            let name = w.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            let instead = reads
                .iter()
                .find(|(_, r)| r.file_name().is_some_and(|n| n.to_string_lossy() == name))
                .map(|(_, r)| *r)
                .unwrap_or(&paths.config);
            format!(
                "the gateway service will not see this change: it reads {} ({}), not {}; fix: clawctl service install --force && clawctl gateway restart (so the service reads this shell's files)",
                cli.display_path(instead),
                service.origin,
                cli.display_path(w)
            )
        })
        .collect()
}
