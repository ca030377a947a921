//! `clawctl service install|print|uninstall|status`: the gateway's service definition.
//! Generation and writing live in [`crate::service::install`]; this file decides what to
//! say and which exit code to return.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::cli::output::print_json;

pub mod check;
use crate::cli::{Ctx, Failure, Outcome};
use crate::service::SYSTEMD_UNIT;
use crate::service::install::{
    self as install, Change, Encoding, Kind, ManagerCommand, Plan, Spec,
};
use crate::service::view::{self, ServiceOptions, State};

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the gateway's service definition, pinned to this shell's files, and start it.
    Install(InstallArgs),
    /// Show exactly what `install` would write (paths and content); write nothing.
    Print(PlatformArgs),
    /// Stop the service and remove the definition clawctl wrote (drop-ins stay).
    Uninstall(PlatformArgs),
    /// Installed? Current? Loaded and running? Exit 0 when installed and current.
    Status(StatusArgs),
}

/// Which service manager's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    /// macOS LaunchAgent (~/Library/LaunchAgents/ai.clawctl.gateway.plist).
    Launchd,
    /// systemd user unit (~/.config/systemd/user/clawctl-gateway.service).
    Systemd,
    /// Windows Task Scheduler task + wrapper script (under the clawctl home's service/).
    Windows,
}

impl From<PlatformArg> for Kind {
    fn from(p: PlatformArg) -> Kind {
        match p {
            PlatformArg::Launchd => Kind::Launchd,
            PlatformArg::Systemd => Kind::Systemd,
            PlatformArg::Windows => Kind::Windows,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlatformArgs {
    /// The service manager [default: this machine's].
    #[arg(long, value_enum, value_name = "MANAGER")]
    pub platform: Option<PlatformArg>,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Replace a definition that differs from what clawctl writes now (your drop-ins and
    /// non-secret variables are kept).
    #[arg(long)]
    pub force: bool,
    /// Write the definition but do not load or start it.
    #[arg(long)]
    pub no_start: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Machine-readable output: platform, path, installed, generated_by_clawctl, current,
    /// definitions[{path, manager, name, clawctl}], errors, drop_ins, manager{reachable,
    /// …}, state, pid, stale, config, same_config_as_cli, files[{path, exists, current}],
    /// fix[], notes[].
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, cmd: ServiceCommand) -> Outcome {
    match cmd {
        ServiceCommand::Install(a) => install(ctx, a),
        ServiceCommand::Print(a) => print(ctx, a),
        ServiceCommand::Uninstall(a) => uninstall(ctx, a),
        ServiceCommand::Status(a) => status(ctx, a),
    }
}

/// The definition for this shell. The running binary is what the service will run:
/// canonical, so a symlink moved later (a package manager's `bin/`) still resolves.
fn spec(ctx: &Ctx) -> Result<Spec, Failure> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| {
            Failure::error(format!(
                "cannot tell where this clawctl binary is ({e}); the service definition must name it"
            ))
        })?;
    Spec::for_cli(&ctx.env, ctx.opts.profile.as_deref(), &exe)
}

fn kind_of(ctx: &Ctx, a: &PlatformArgs) -> Kind {
    a.platform
        .map(Kind::from)
        .unwrap_or_else(|| Kind::for_platform(ctx.env.platform))
}

fn here(ctx: &Ctx) -> Kind {
    Kind::for_platform(ctx.env.platform)
}

/// Why a definition for another platform is written here, and what it is good for.
fn elsewhere_note(ctx: &Ctx, kind: Kind, plan: &Plan) -> Option<String> {
    if kind == here(ctx) {
        return None;
    }
    let main = ctx.env.display_path(&plan.locations.main);
    Some(match kind {
        Kind::Launchd => format!(
            "not on macOS ({}): writing the LaunchAgent under $HOME/Library/LaunchAgents anyway ({main}), to inspect it or to prepare a Mac's home; nothing here loads it",
            ctx.env.platform
        ),
        Kind::Systemd => format!(
            "not on Linux ({}): writing the systemd user unit anyway ({main}); nothing here loads it",
            ctx.env.platform
        ),
        Kind::Windows => format!(
            "not on Windows ({}): the task XML and its wrapper are written under {} with this machine's paths, to inspect them; on Windows, register the task with schtasks",
            ctx.env.platform,
            ctx.env
                .display_path(plan.locations.main.parent().unwrap_or(&plan.locations.main))
        ),
    })
}

fn show_commands(cmds: &[ManagerCommand]) -> String {
    cmds.iter()
        .map(|c| {
            if c.may_fail {
                // Copy-pastable: its failure (nothing loaded yet) must not stop the rest.
                format!("  {} || true", c.shown())
            } else {
                format!("  {}", c.shown())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn file_state(f: &install::PlannedFile) -> &'static str {
    match (f.exists(), f.changed()) {
        (false, _) => "new file",
        (true, true) => "replaces the existing file, which differs",
        (true, false) => "unchanged",
    }
}

fn print(ctx: &Ctx, a: PlatformArgs) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a);
    let plan = install::plan(&spec, kind)?;
    for f in &plan.files {
        let enc = match f.encoding {
            Encoding::Utf8 => "",
            Encoding::Utf16Le => ", written as UTF-16LE with a byte-order mark",
        };
        println!("==> {} ({}{enc}) <==", f.path.display(), file_state(f));
        print!("{}", f.text);
        if !f.text.ends_with('\n') {
            println!();
        }
        println!();
    }
    for n in elsewhere_note(ctx, kind, &plan).iter().chain(&plan.notes) {
        println!("note: {n}");
    }
    if !plan.carry.kept.is_empty() {
        let names: Vec<String> = plan.carry.kept.iter().map(|(k, _)| k.clone()).collect();
        println!(
            "note: carried over from the installed definition: {}",
            install::names_list(&names)
        );
    }
    for w in plan
        .secret_warnings(&ctx.env)
        .iter()
        .chain(&plan.carry.not_kept)
    {
        println!("note: {w}");
    }
    Ok(0)
}

/// Load the config as the installed definition makes the service load it. Ok(Some(text))
/// when it is invalid (the gateway would exit 78 at start).
fn check_service_config(
    ctx: &Ctx,
    spec: &Spec,
    plan: &Plan,
) -> Result<(Option<String>, Option<PathBuf>), Failure> {
    // Parsed with drop-ins: they may override what the unit pins.
    let def = crate::service::parse_any(&plan.locations.main, &spec.user_home, &spec.user)
        .map_err(|e| {
            Failure::error(format!(
                "{e}\nclawctl wrote this definition but cannot read it back; please report it"
            ))
        })?;
    let env = view::definition_environment(&ctx.env, &def);
    let loaded = crate::config::load::load(&env, &Default::default())?;
    let config = Some(loaded.paths.config.clone());
    if loaded.is_valid() {
        Ok((None, config))
    } else {
        Ok((Some(loaded.render_diagnostics()), config))
    }
}

pub(crate) fn install(ctx: &Ctx, a: InstallArgs) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a.platform);
    let plan = install::plan(&spec, kind)?;
    if !ctx.opts.sets.is_empty() {
        eprintln!(
            "warning: --set applies to this run only; it is not written into the service definition (use `clawctl config set`)"
        );
    }
    for n in elsewhere_note(ctx, kind, &plan).iter().chain(&plan.notes) {
        println!("note: {n}");
    }
    for w in &plan.carry.warnings {
        eprintln!("warning: {w}");
    }
    let differing: Vec<String> = plan
        .differing()
        .map(|f| ctx.env.display_path(&f.path))
        .collect();
    if !differing.is_empty() && !a.force {
        let mut msg = format!(
            "{} {} from what clawctl would write now:\n{}",
            differing.join(", "),
            if differing.len() == 1 {
                "differs"
            } else {
                "differ"
            },
            plan.diff(&ctx.env).trim_end()
        );
        for w in plan
            .secret_warnings(&ctx.env)
            .iter()
            .chain(&plan.carry.not_kept)
        {
            msg.push_str(&format!("\nwarning: {w}"));
        }
        msg.push_str("\nnothing was written.\n  help: use --force to replace it: drop-ins and the variables you added are kept, secrets are dropped, and the diff above is what changes");
        return Err(Failure::error(msg));
    }
    for w in plan.secret_warnings(&ctx.env) {
        eprintln!("warning: {w}");
    }
    for n in &plan.carry.not_kept {
        eprintln!("warning: {n}");
    }

    let change = if !plan.installed() {
        Change::Created
    } else if plan.files.iter().any(|f| f.changed()) {
        Change::Replaced
    } else {
        Change::Unchanged
    };
    let diff = plan.diff(&ctx.env);
    let written = install::apply(&plan, &spec.backups)?;
    for w in &written {
        let shown = ctx.env.display_path(&w.path);
        match (&w.backup, w.changed) {
            (_, false) => println!("{shown} is already current"),
            (Some(b), true) => println!(
                "replaced {shown} (the old one is in {})",
                ctx.env.display_path(b)
            ),
            (None, true) => println!("wrote {shown}"),
        }
    }
    if change == Change::Replaced && !diff.is_empty() {
        println!("changes:\n{}", diff.trim_end());
    }
    if !plan.carry.kept.is_empty() {
        let names: Vec<String> = plan.carry.kept.iter().map(|(k, _)| k.clone()).collect();
        println!(
            "kept the variables you added: {}",
            install::names_list(&names)
        );
    }
    for k in &plan.carry.kept_other {
        println!("{k}");
    }
    if !plan.drop_ins.is_empty() {
        println!(
            "left your drop-ins alone: {}",
            plan.drop_ins
                .iter()
                .map(|p| ctx.env.display_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let (invalid, config) = check_service_config(ctx, &spec, &plan)?;
    if let Some(c) = &config {
        let cli = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref())
            .map(|p| p.config)
            .ok();
        if cli.as_ref() == Some(c) {
            println!(
                "the service reads {}, the same config as this shell",
                ctx.env.display_path(c)
            );
        } else {
            eprintln!(
                "warning: the service would read {}, but this shell reads {}; a drop-in or a variable you kept may override CLAWCTL_HOME/CLAWCTL_CONFIG (`clawctl status` compares both views)",
                ctx.env.display_path(c),
                cli.map(|p| ctx.env.display_path(&p)).unwrap_or_default()
            );
        }
    }
    let cmds = install::load_commands(kind, &plan.locations, change);
    if let Some(diags) = invalid {
        eprintln!("{}", diags.trim_end());
        eprintln!(
            "error: the definition is written, but the config it points to is invalid: the gateway would exit 78 at start. Fix it (`clawctl config validate`), then start it:\n{}",
            show_commands(&cmds)
        );
        return Ok(1);
    }
    if a.no_start {
        println!(
            "not started (--no-start); load and start it with:\n{}",
            show_commands(&cmds)
        );
        return Ok(0);
    }
    if kind != here(ctx) {
        println!(
            "on the machine that runs it, load it with:\n{}",
            show_commands(&cmds)
        );
        return Ok(0);
    }
    if !install::manager_answers(kind, ctx.env.platform) {
        println!(
            "the systemd user manager does not answer here (no user session bus, as in CI and containers): the unit is written but not loaded. Where the service runs, load it with:\n{}",
            show_commands(&cmds)
        );
        return Ok(0);
    }
    match install::run_commands(&cmds) {
        Ok(done) => {
            for d in done {
                println!("ran: {d}");
            }
            println!("the gateway service is loaded; `clawctl service status` shows it");
            Ok(0)
        }
        Err((e, rest)) => Err(Failure::error(format!(
            "{e}\nthe definition is written but not loaded. Run:\n{}",
            rest.iter()
                .map(|c| format!("  {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

fn uninstall(ctx: &Ctx, a: PlatformArgs) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a);
    let locations = spec.locations(kind);
    let present: Vec<&PathBuf> = locations.files.iter().filter(|p| p.exists()).collect();
    if present.is_empty() {
        return Err(Failure::error(format!(
            "nothing to uninstall: there is no {kind} definition at {}. `clawctl service status` shows what is installed",
            ctx.env.display_path(&locations.main)
        )));
    }
    let cmds = install::unload_commands(kind);
    let answered = kind == here(ctx) && install::manager_answers(kind, ctx.env.platform);
    let mut code = 0;
    if answered {
        match install::run_commands(&cmds) {
            Ok(done) => done.iter().for_each(|d| println!("ran: {d}")),
            Err((e, _)) => {
                // Remove the file anyway: a definition that cannot be stopped now is
                // still not wanted, and the manager forgets it at the next reload.
                eprintln!("warning: {e}");
                code = 1;
            }
        }
    } else if kind != here(ctx) {
        println!(
            "{} is not this machine's service manager; where the service runs, stop it with:\n{}",
            kind.manager(),
            show_commands(&cmds)
        );
    } else {
        println!(
            "no {} manager answers here (no user session bus, as in CI and containers); if the service runs elsewhere, stop it there with:\n{}",
            kind.manager(),
            show_commands(&cmds)
        );
    }
    for p in present {
        if let Some(b) = install::remove_with_backup(p, &spec.backups)? {
            println!(
                "removed {} (a copy is in {})",
                ctx.env.display_path(p),
                ctx.env.display_path(&b)
            );
        }
    }
    if kind == Kind::Systemd {
        if answered
            && let Err(e) = crate::service::manager::run("systemctl", &["--user", "daemon-reload"])
        {
            eprintln!("warning: {e}");
        }
        let drop_ins = install::systemd::drop_ins(&locations.main);
        if !drop_ins.is_empty() {
            println!(
                "left your drop-ins alone: {} (remove {}.d/ yourself if you no longer need them)",
                drop_ins
                    .iter()
                    .map(|p| ctx.env.display_path(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                ctx.env.display_path(&locations.main)
            );
        }
    }
    if kind == Kind::Launchd && spec.logs_dir().is_dir() {
        println!(
            "left the gateway's logs in {}",
            ctx.env.display_path(&spec.logs_dir())
        );
    }
    Ok(code)
}

/// What the manager says about the service, when it is this machine's manager.
fn manager_state(ctx: &Ctx, kind: Kind) -> serde_json::Value {
    if kind != here(ctx) {
        return json!({"reachable": false, "why": format!("{kind} is not this machine's service manager")});
    }
    match kind {
        Kind::Systemd => match crate::service::systemctl_show(SYSTEMD_UNIT) {
            Some(s) => json!({
                "reachable": true,
                "load_state": s.load_state,
                "active_state": s.active_state,
                "sub_state": s.sub_state,
                "main_pid": s.main_pid,
                "need_daemon_reload": s.need_daemon_reload,
            }),
            None => {
                json!({"reachable": false, "why": "no systemd user manager answers here (no user session bus, as in CI and containers)"})
            }
        },
        Kind::Launchd => {
            let target = format!(
                "{}/{}",
                install::launchd_domain(),
                crate::service::LAUNCHD_LABEL
            );
            let loaded = crate::service::manager::run("launchctl", &["print", &target]).is_ok();
            json!({"reachable": true, "loaded": loaded})
        }
        Kind::Windows => {
            let loaded = crate::service::manager::run(
                "schtasks",
                &["/Query", "/TN", crate::service::WINDOWS_TASK],
            )
            .is_ok();
            json!({"reachable": true, "loaded": loaded})
        }
    }
}

fn describe_manager(kind: Kind, m: &serde_json::Value) -> String {
    if m["reachable"] != true {
        return format!(
            "not asked: {}",
            m["why"].as_str().unwrap_or("not reachable")
        );
    }
    match kind {
        Kind::Systemd => {
            let s = |k: &str| m[k].as_str().unwrap_or("?").to_string();
            let mut t = format!(
                "systemd user manager: {}, {} ({})",
                s("load_state"),
                s("active_state"),
                s("sub_state")
            );
            if let Some(p) = m["main_pid"].as_u64() {
                t.push_str(&format!(", main pid {p}"));
            }
            if m["need_daemon_reload"] == true {
                t.push_str("; unit files changed since it last read them");
            }
            t
        }
        _ if m["loaded"] == true => "loaded".into(),
        _ => "not loaded".into(),
    }
}

fn status(ctx: &Ctx, a: StatusArgs) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a.platform);
    let plan = install::plan(&spec, kind)?;
    let main = plan.locations.main.clone();

    // Discover the way the service view does, for the chosen manager. Windows tasks live
    // in Task Scheduler's store; the files clawctl wrote are read instead.
    let mut env = ctx.env.clone();
    env.platform = kind.platform();
    let opts = match (&ctx.service_opts.service_file, kind) {
        (None, Kind::Windows) => ServiceOptions {
            service_file: main.exists().then(|| main.clone()),
            pid: ctx.service_opts.pid,
        },
        _ => ctx.service_opts.clone(),
    };
    let view = view::discover(&env, &opts);
    let installed = plan.locations.main.exists();
    let current = plan.current();
    let ours = view.definitions.iter().find(|d| d.path == main);
    let generated = std::fs::read(&main)
        .ok()
        .and_then(|b| crate::service::windows::decode_text(&b).ok())
        .is_some_and(|t| t.contains(install::GENERATED_MARK));
    let others: Vec<&crate::service::ServiceDefinition> =
        view.definitions.iter().filter(|d| d.path != main).collect();
    let manager = manager_state(ctx, kind);
    let (pid, stale) = match &view.state {
        State::Running { pid } => (Some(*pid), false),
        State::RunningStale { pid, .. } => (Some(*pid), true),
        _ => (None, false),
    };
    let cli_config = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref())
        .map(|p| p.config)
        .ok();
    let svc_config = view
        .environment
        .as_ref()
        .and_then(|e| crate::env::paths::Paths::resolve(e, None).ok())
        .map(|p| p.config);
    let same_config = svc_config.is_some() && svc_config == cli_config;
    let drop_ins: Vec<PathBuf> = ours
        .map(|d| {
            d.files
                .iter()
                .filter(|f| {
                    f.parent()
                        .and_then(|p| p.file_name())
                        .is_some_and(|n| n.to_string_lossy().ends_with(".d"))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();

    let mut fix: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if !installed {
        fix.push(format!("clawctl service install --platform {kind}"));
    } else if !current {
        fix.push(format!("clawctl service install --force --platform {kind}"));
    }
    if stale {
        fix.push("clawctl gateway restart".into());
    }
    if manager["need_daemon_reload"] == true {
        fix.push("systemctl --user daemon-reload && clawctl gateway restart".into());
    }
    if kind == Kind::Launchd {
        notes.push(format!(
            "launchd has no RestartPreventExitStatus: after exit 78 (invalid config) it restarts the gateway every {} s until the config is fixed; `clawctl config validate` first, and see {}",
            install::launchd::THROTTLE_INTERVAL,
            ctx.env
                .display_path(&spec.logs_dir().join("gateway.err.log"))
        ));
    }
    notes.extend(plan.secret_warnings(&ctx.env));
    if installed && !generated {
        notes.push(format!(
            "{} was not generated by clawctl; `clawctl service install --force` replaces it (variables you added are kept)",
            ctx.env.display_path(&main)
        ));
    }
    for d in &others {
        notes.push(format!(
            "{} also runs `clawctl gateway`: two definitions may start two gateways on one port",
            ctx.env.display_path(&d.path)
        ));
    }
    let ok = installed && current;

    if a.json {
        print_json(&json!({
            "platform": kind,
            "path": main,
            "installed": installed,
            "generated_by_clawctl": generated,
            "current": current,
            "definitions": view.definitions.iter().map(|d| json!({
                "path": d.path,
                "manager": d.manager,
                "name": d.name,
                "clawctl": d.path == main,
            })).collect::<Vec<_>>(),
            "errors": view.errors,
            "drop_ins": drop_ins,
            "manager": manager,
            "state": view.state,
            "pid": pid,
            "stale": stale,
            "config": svc_config,
            "same_config_as_cli": same_config,
            "files": plan.files.iter().map(|f| json!({"path": f.path, "exists": f.exists(), "current": f.exists() && !f.changed()})).collect::<Vec<_>>(),
            "fix": fix,
            "notes": notes,
        }));
        return Ok(if ok { 0 } else { 1 });
    }

    if installed {
        println!(
            "{kind} definition: {}{}",
            ctx.env.display_path(&main),
            if generated {
                " (written by clawctl)"
            } else {
                " (at clawctl's path, not written by clawctl)"
            }
        );
    } else {
        println!(
            "{kind} definition: not installed ({} does not exist)",
            ctx.env.display_path(&main)
        );
    }
    for d in &drop_ins {
        println!("  drop-in: {}", ctx.env.display_path(d));
    }
    for d in &others {
        println!(
            "  also found: {} ({} {})",
            ctx.env.display_path(&d.path),
            d.manager,
            d.name
        );
    }
    for e in &view.errors {
        println!("  cannot read: {e}");
    }
    println!("manager: {}", describe_manager(kind, &manager));
    println!(
        "process: {}",
        match &view.state {
            State::NotInstalled | State::Installed => "not running".to_string(),
            s => s.describe(),
        }
    );
    if let Some(c) = &svc_config {
        println!(
            "config: {}{}",
            ctx.env.display_path(c),
            if same_config {
                " (the same as this shell's)"
            } else {
                " (NOT the one this shell reads)"
            }
        );
    }
    if installed {
        if current {
            println!("current: yes, it equals what `clawctl service install` writes now");
        } else {
            println!("current: no, it differs from what `clawctl service install` writes now:");
            println!("{}", plan.diff(&ctx.env).trim_end());
        }
    }
    for n in &notes {
        println!("note: {n}");
    }
    for f in &fix {
        println!("fix: {f}");
    }
    Ok(if ok { 0 } else { 1 })
}
