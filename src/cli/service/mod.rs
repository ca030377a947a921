//! `clawctl service install|print|uninstall|status`: the gateway's service definition.
//! Generation and writing live in [`crate::service::install`]; this file decides what to
//! say and which exit code to return.

use std::path::PathBuf;

use clap::{Args, Subcommand};
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
    Print(PrintArgs),
    /// Stop the service and remove the definition clawctl wrote (drop-ins stay).
    Uninstall(PrintArgs),
    /// Installed? Current? Loaded and running? Exit 0 when installed and current.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct PlatformArgs {
    /// The service manager [default: this machine's].
    #[arg(long, value_enum, value_name = "MANAGER")]
    pub platform: Option<Kind>,
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
    /// Machine-readable output: {platform, change, files[{path, changed, backup}], diff,
    /// config, same_config_as_cli, config_valid, started, commands[], messages[],
    /// warnings[], error}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PrintArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Machine-readable output. print: {platform, files[{path, state, encoding, text}],
    /// notes[]}; uninstall: {platform, removed[{path, backup}], commands[], ran[],
    /// messages[], warnings[], error}.
    #[arg(long)]
    pub json: bool,
}

/// What a service command says: printed as it goes, or (`--json`) collected into the
/// one object printed at the end, so stdout holds nothing but JSON. Warnings go to
/// stderr either way.
struct Report {
    json: bool,
    fields: serde_json::Map<String, serde_json::Value>,
    messages: Vec<String>,
    warnings: Vec<String>,
}

impl Report {
    fn new(json: bool) -> Report {
        Report {
            json,
            fields: serde_json::Map::new(),
            messages: Vec::new(),
            warnings: Vec::new(),
        }
    }
    fn say(&mut self, line: String) {
        if !self.json {
            crate::outln!("{line}");
        }
        self.messages.push(line);
    }
    fn warn(&mut self, line: String) {
        crate::errln!("warning: {line}");
        self.warnings.push(line);
    }
    fn set(&mut self, key: &str, value: serde_json::Value) {
        self.fields.insert(key.to_string(), value);
    }
    /// End the command: in JSON mode print the object (with `error`) and exit with the
    /// failure's code; else hand the outcome on.
    fn finish(mut self, result: Outcome) -> Outcome {
        if !self.json {
            return result;
        }
        let (code, error) = match result {
            Ok(c) => (c, None),
            Err(f) => (f.code, Some(f.message)),
        };
        self.fields.insert("messages".into(), json!(self.messages));
        self.fields.insert("warnings".into(), json!(self.warnings));
        self.fields.insert("error".into(), json!(error));
        print_json(&serde_json::Value::Object(self.fields));
        Ok(code)
    }
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
        ServiceCommand::Uninstall(a) => {
            let mut r = Report::new(a.json);
            let result = uninstall(ctx, &a.platform, &mut r);
            r.finish(result)
        }
        ServiceCommand::Status(a) => status(ctx, a),
    }
}

/// The definition for this shell, running [`service_exe`].
fn spec(ctx: &Ctx) -> Result<Spec, Failure> {
    Spec::for_cli(&ctx.env, ctx.opts.profile.as_deref(), &service_exe(ctx)?.0)
}

/// Whether `exe` sits in a cargo build directory (`target/debug`, `target/release`, a
/// `CARGO_TARGET_DIR`): cargo keeps its `.fingerprint/` beside the binaries there, and
/// `cargo clean` or the next build removes or replaces them under a running service.
fn in_build_dir(exe: &std::path::Path) -> bool {
    exe.parent()
        .is_some_and(|d| d.join(".fingerprint").is_dir())
}

/// The binary the service runs, canonical (a symlink moved later, a package manager's
/// `bin/`, still resolves), and a warning when it is not a stable one. A build's binary
/// is replaced by an installed `clawctl` on `PATH` when there is one (what
/// `cargo install --path . --locked` puts in `~/.cargo/bin`).
fn service_exe(ctx: &Ctx) -> Result<(PathBuf, Option<String>), Failure> {
    let running = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| {
            Failure::error(format!(
                "cannot tell where this clawctl binary is ({e}); the service definition must name it"
            ))
        })?;
    if !in_build_dir(&running) {
        return Ok((running, None));
    }
    let installed = ctx.env.var("PATH").and_then(|path| {
        std::env::split_paths(path)
            .map(|d| d.join("clawctl"))
            .filter_map(|p| p.canonicalize().ok())
            .find(|p| p.is_file() && !in_build_dir(p))
    });
    Ok(match installed {
        Some(p) => {
            let note = format!(
                "this clawctl runs from a build directory ({}); the service runs the installed {} instead, which `cargo clean` cannot remove",
                ctx.env.display_path(&running),
                ctx.env.display_path(&p)
            );
            (p, Some(note))
        }
        None => {
            let note = format!(
                "the service will run {}, a binary in a cargo build directory: `cargo clean` or the next build removes or replaces it under the service\n  fix: cargo install --path . --locked && clawctl service install --force   (pins the installed ~/.cargo/bin/clawctl)",
                ctx.env.display_path(&running)
            );
            (running, Some(note))
        }
    })
}

/// The warning of [`service_exe`], for `install`.
fn build_dir_warning(ctx: &Ctx) -> Option<String> {
    service_exe(ctx).ok().and_then(|(_, w)| w)
}

fn kind_of(ctx: &Ctx, a: &PlatformArgs) -> Kind {
    a.platform
        .unwrap_or_else(|| Kind::for_platform(ctx.env.platform))
}

fn here(ctx: &Ctx) -> Kind {
    Kind::for_platform(ctx.env.platform)
}

/// Why a definition for another platform is written here, and what it is good for.
/// `writes`: whether this command writes it (`install`) or only shows it (`print`).
fn elsewhere_note(ctx: &Ctx, kind: Kind, plan: &Plan, writes: bool) -> Option<String> {
    if kind == here(ctx) {
        return None;
    }
    let main = ctx.env.display_path(&plan.locations.main);
    let (write, written) = if writes {
        ("writing", "are written")
    } else {
        ("`service install` would write", "would be written")
    };
    Some(match kind {
        Kind::Launchd => format!(
            "not on macOS ({}): {write} the LaunchAgent under $HOME/Library/LaunchAgents anyway ({main}), to inspect it or to prepare a Mac's home; nothing here loads it",
            ctx.env.platform
        ),
        Kind::Systemd => format!(
            "not on Linux ({}): {write} the systemd user unit anyway ({main}); nothing here loads it",
            ctx.env.platform
        ),
        Kind::Windows => format!(
            "not on Windows ({}): the task XML and its wrapper {written} under {} with this machine's paths, to inspect them; on Windows, register the task with schtasks",
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

fn print(ctx: &Ctx, a: PrintArgs) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a.platform);
    let plan = install::plan(&spec, kind)?;
    let mut notes: Vec<String> = elsewhere_note(ctx, kind, &plan, false)
        .into_iter()
        .chain(plan.notes.iter().cloned())
        .collect();
    if !plan.carry.kept.is_empty() {
        let names: Vec<String> = plan.carry.kept.iter().map(|(k, _)| k.clone()).collect();
        notes.push(format!(
            "carried over from the installed definition: {}",
            install::names_list(&names)
        ));
    }
    notes.extend(
        plan.secret_warnings(&ctx.env)
            .into_iter()
            .chain(plan.carry.not_kept.iter().cloned()),
    );
    if a.json {
        print_json(&json!({
            "platform": kind,
            "files": plan.files.iter().map(|f| json!({
                "path": f.path,
                "state": match (f.exists(), f.changed()) {
                    (false, _) => "new",
                    (true, true) => "differs",
                    (true, false) => "unchanged",
                },
                "encoding": match f.encoding {
                    Encoding::Utf8 => "utf-8",
                    Encoding::Utf16Le => "utf-16le",
                },
                "text": f.text,
            })).collect::<Vec<_>>(),
            "notes": notes,
        }));
        return Ok(0);
    }
    for f in &plan.files {
        let enc = match f.encoding {
            Encoding::Utf8 => "",
            Encoding::Utf16Le => ", written as UTF-16LE with a byte-order mark",
        };
        crate::outln!("==> {} ({}{enc}) <==", f.path.display(), file_state(f));
        crate::out!("{}", f.text);
        if !f.text.ends_with('\n') {
            crate::outln!();
        }
        crate::outln!();
    }
    for n in &notes {
        crate::outln!("note: {n}");
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

/// Store each secret that only the old definition held (see [`install::rescues`]) in
/// credentials.toml, saying where it now lives; the names of the variables moved.
fn rescue_secrets(
    ctx: &Ctx,
    spec: &Spec,
    plan: &install::Plan,
    out: &mut Report,
) -> Result<Vec<String>, Failure> {
    if plan.carry.dropped_secrets.is_empty() {
        return Ok(Vec::new());
    }
    let Ok(old) = crate::service::parse_any(&plan.locations.main, &spec.user_home, &spec.user)
    else {
        return Ok(Vec::new());
    };
    let old_env = view::definition_environment(&ctx.env, &old);
    let (rescues, warnings) = install::rescues(plan, spec, &old_env)?;
    for w in warnings {
        out.warn(w);
    }
    if rescues.is_empty() {
        return Ok(Vec::new());
    }
    let creds = rescues
        .iter()
        .map(|r| crate::write::transaction::NewCredential {
            id: r.profile.clone(),
            provider: r.provider.clone(),
            kind: r.kind,
            secret: r.secret.clone(),
        })
        .collect();
    let mut env = ctx.env.clone();
    env.vars.insert(
        crate::env::vars::CLAWCTL_HOME.into(),
        spec.clawctl_home.display().to_string(),
    );
    crate::write::transaction::edit_config(&env, &ctx.opts, false, creds, |_| Ok(()))?;
    let store = env.display_path(&spec.clawctl_home.join("credentials.toml"));
    for r in &rescues {
        use secrecy::ExposeSecret;
        out.say(format!(
            "moved {} ({}) from {} into {store} as profile {}: the service used it and it was its only copy; the gateway reads it from there",
            r.var,
            crate::secrets::mask::describe(r.secret.expose_secret()),
            ctx.env.display_path(&plan.locations.main),
            r.profile
        ));
    }
    Ok(rescues.into_iter().map(|r| r.var).collect())
}

pub(crate) fn install(ctx: &Ctx, a: InstallArgs) -> Outcome {
    let mut r = Report::new(a.json);
    let result = install_with(ctx, &a, &mut r);
    r.finish(result)
}

fn install_with(ctx: &Ctx, a: &InstallArgs, out: &mut Report) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, &a.platform);
    let plan = install::plan(&spec, kind)?;
    out.set("platform", json!(kind));
    if !ctx.opts.sets.is_empty() {
        out.warn(
            "--set applies to this run only; it is not written into the service definition (use `clawctl config set`)".into()
        );
    }
    if let Some(w) = build_dir_warning(ctx) {
        out.warn(w);
    }
    for n in elsewhere_note(ctx, kind, &plan, true)
        .iter()
        .chain(&plan.notes)
    {
        out.say(format!("note: {n}"));
    }
    for w in &plan.carry.warnings {
        out.warn(w.clone());
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
        out.set("change", json!("refused"));
        out.set("diff", json!(plan.diff(&ctx.env)));
        msg.push_str("\nnothing was written.\n  help: use --force to replace it: drop-ins and the variables you added are kept, secrets are dropped, and the diff above is what changes");
        return Err(Failure::error(msg));
    }
    // A secret only the old definition held is moved into credentials.toml first:
    // a rewrite never removes the last copy of a key the service uses.
    let rescued = rescue_secrets(ctx, &spec, &plan, out)?;
    for (w, s) in plan
        .secret_warnings(&ctx.env)
        .into_iter()
        .zip(&plan.carry.dropped_secrets)
    {
        if !rescued.contains(&s.name) {
            out.warn(w);
        }
    }
    for n in &plan.carry.not_kept {
        out.warn(n.clone());
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
    out.set(
        "change",
        json!(match change {
            Change::Created => "created",
            Change::Replaced => "replaced",
            Change::Unchanged => "unchanged",
        }),
    );
    out.set(
        "files",
        json!(
            written
                .iter()
                .map(|w| json!({"path": w.path, "changed": w.changed, "backup": w.backup}))
                .collect::<Vec<_>>()
        ),
    );
    out.set("diff", json!(diff));
    for w in &written {
        let shown = ctx.env.display_path(&w.path);
        match (&w.backup, w.changed) {
            (_, false) => out.say(format!("{shown} is already current")),
            (Some(b), true) => out.say(format!(
                "replaced {shown} (the old one is in {})",
                ctx.env.display_path(b)
            )),
            (None, true) => out.say(format!("wrote {shown}")),
        }
    }
    if change == Change::Replaced && !diff.is_empty() {
        out.say(format!("changes:\n{}", diff.trim_end()));
    }
    if !plan.carry.kept.is_empty() {
        let names: Vec<String> = plan.carry.kept.iter().map(|(k, _)| k.clone()).collect();
        out.say(format!(
            "kept the variables you added: {}",
            install::names_list(&names)
        ));
    }
    for k in &plan.carry.kept_other {
        out.say(k.clone());
    }
    if !plan.drop_ins.is_empty() {
        out.say(format!(
            "left your drop-ins alone: {}",
            plan.drop_ins
                .iter()
                .map(|p| ctx.env.display_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let (invalid, config) = check_service_config(ctx, &spec, &plan)?;
    out.set("config", json!(config));
    out.set("config_valid", json!(invalid.is_none()));
    out.set("started", json!(false));
    if let Some(c) = &config {
        let cli = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref())
            .map(|p| p.config)
            .ok();
        out.set("same_config_as_cli", json!(cli.as_ref() == Some(c)));
        if cli.as_ref() == Some(c) {
            out.say(format!(
                "the service reads {}, the same config as this shell",
                ctx.env.display_path(c)
            ));
        } else {
            out.warn(format!(
                "the service would read {}, but this shell reads {}; a drop-in or a variable you kept may override CLAWCTL_HOME/CLAWCTL_CONFIG (`clawctl status` compares both views)",
                ctx.env.display_path(c),
                cli.map(|p| ctx.env.display_path(&p)).unwrap_or_default()
            ));
        }
    }
    let cmds = install::load_commands(kind, &plan.locations, change);
    out.set(
        "commands",
        json!(cmds.iter().map(ManagerCommand::shown).collect::<Vec<_>>()),
    );
    if let Some(diags) = invalid {
        if !out.json {
            crate::errln!("{}", diags.trim_end());
        }
        out.set("diagnostics", json!(diags));
        crate::errln!(
            "error: the definition is written, but the config it points to is invalid: the gateway would exit 78 at start. Fix it (`clawctl config validate`), then start it:\n{}",
            show_commands(&cmds)
        );
        return Ok(1);
    }
    if a.no_start {
        out.say(format!(
            "not started (--no-start); load and start it with:\n{}",
            show_commands(&cmds)
        ));
        return Ok(0);
    }
    if kind != here(ctx) {
        out.say(format!(
            "on the machine that runs it, load it with:\n{}",
            show_commands(&cmds)
        ));
        return Ok(0);
    }
    if !install::manager_answers(kind, ctx.env.platform) {
        out.say(format!(
            "the systemd user manager does not answer here (no user session bus, as in CI and containers): the unit is written but not loaded. Where the service runs, load it with:\n{}",
            show_commands(&cmds)
        ));
        return Ok(0);
    }
    match install::run_commands(&cmds) {
        Ok(done) => {
            for d in done {
                out.say(format!("ran: {d}"));
            }
            out.set("started", json!(true));
            out.say("the gateway service is loaded; `clawctl service status` shows it".into());
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

fn uninstall(ctx: &Ctx, a: &PlatformArgs, out: &mut Report) -> Outcome {
    let spec = spec(ctx)?;
    let kind = kind_of(ctx, a);
    out.set("platform", json!(kind));
    out.set("removed", json!([]));
    out.set("ran", json!([]));
    let locations = spec.locations(kind);
    let present: Vec<&PathBuf> = locations.files.iter().filter(|p| p.exists()).collect();
    if present.is_empty() {
        return Err(Failure::error(format!(
            "nothing to uninstall: there is no {kind} definition at {}. `clawctl service status` shows what is installed",
            ctx.env.display_path(&locations.main)
        )));
    }
    let cmds = install::unload_commands(kind);
    out.set(
        "commands",
        json!(cmds.iter().map(ManagerCommand::shown).collect::<Vec<_>>()),
    );
    let answered = kind == here(ctx) && install::manager_answers(kind, ctx.env.platform);
    let mut code = 0;
    if answered {
        match install::run_commands(&cmds) {
            Ok(done) => {
                out.set("ran", json!(done));
                done.iter().for_each(|d| out.say(format!("ran: {d}")));
            }
            Err((e, _)) => {
                // Remove the file anyway: a definition that cannot be stopped now is
                // still not wanted, and the manager forgets it at the next reload.
                out.warn(e.to_string());
                code = 1;
            }
        }
    } else if kind != here(ctx) {
        out.say(format!(
            "{} is not this machine's service manager; where the service runs, stop it with:\n{}",
            kind.manager(),
            show_commands(&cmds)
        ));
    } else {
        out.say(format!(
            "no {} manager answers here (no user session bus, as in CI and containers); if the service runs elsewhere, stop it there with:\n{}",
            kind.manager(),
            show_commands(&cmds)
        ));
    }
    let mut removed = Vec::new();
    for p in present {
        if let Some(b) = install::remove_with_backup(p, &spec.backups)? {
            removed.push(json!({"path": p, "backup": b}));
            out.set("removed", json!(removed));
            out.say(format!(
                "removed {} (a copy is in {})",
                ctx.env.display_path(p),
                ctx.env.display_path(&b)
            ));
        }
    }
    if kind == Kind::Systemd {
        if answered
            && let Err(e) = crate::service::manager::run("systemctl", &["--user", "daemon-reload"])
        {
            out.warn(e.to_string());
        }
        let drop_ins = install::systemd::drop_ins(&locations.main);
        if !drop_ins.is_empty() {
            out.say(format!(
                "left your drop-ins alone: {} (remove {}.d/ yourself if you no longer need them)",
                drop_ins
                    .iter()
                    .map(|p| ctx.env.display_path(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                ctx.env.display_path(&locations.main)
            ));
        }
    }
    if kind == Kind::Launchd && spec.logs_dir().is_dir() {
        out.say(format!(
            "left the gateway's logs in {}",
            ctx.env.display_path(&spec.logs_dir())
        ));
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
    let generated = crate::read::bytes(&main)
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
        crate::outln!(
            "{kind} definition: {}{}",
            ctx.env.display_path(&main),
            if generated {
                " (written by clawctl)"
            } else {
                " (at clawctl's path, not written by clawctl)"
            }
        );
    } else {
        crate::outln!(
            "{kind} definition: not installed ({} does not exist)",
            ctx.env.display_path(&main)
        );
    }
    for d in &drop_ins {
        crate::outln!("  drop-in: {}", ctx.env.display_path(d));
    }
    for d in &others {
        crate::outln!(
            "  also found: {} ({} {})",
            ctx.env.display_path(&d.path),
            d.manager,
            d.name
        );
    }
    for e in &view.errors {
        crate::outln!("  cannot read: {e}");
    }
    crate::outln!("manager: {}", describe_manager(kind, &manager));
    crate::outln!(
        "process: {}",
        match &view.state {
            State::NotInstalled | State::Unparsable { .. } | State::Installed => {
                "not running".to_string()
            }
            s => s.describe(),
        }
    );
    if let Some(c) = &svc_config {
        crate::outln!(
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
            crate::outln!("current: yes, it equals what `clawctl service install` writes now");
        } else {
            crate::outln!(
                "current: no, it differs from what `clawctl service install` writes now:"
            );
            crate::outln!("{}", plan.diff(&ctx.env).trim_end());
        }
    }
    for n in &notes {
        crate::outln!("note: {n}");
    }
    for f in &fix {
        crate::outln!("fix: {f}");
    }
    Ok(if ok { 0 } else { 1 })
}
