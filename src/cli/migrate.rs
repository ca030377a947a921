//! `clawctl migrate [--dry-run] [--json]`: move a config out of an old location,
//! then bring it to the newest layout with the migrations in `migrations/`.

use clap::Args;
use serde_json::{Value, json};

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::config::model::CURRENT_VERSION;
use crate::env::paths::Paths;
use crate::migrate::command::{self, Outcome as Migrated};
use crate::migrate::legacy::{self, LegacyMove, Plan};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Show the pending migrations, each change and the diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: MigrateArgs) -> Outcome {
    let paths =
        Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()).map_err(|e| Failure::usage(e.0))?;
    let show = |p: &std::path::Path| ctx.env.display_path(p);
    let mut notes = Vec::new();
    let mut moved: Option<LegacyMove> = None;
    match legacy::plan(&paths, &show) {
        Plan::Nothing => {}
        Plan::Refused(msg) if !paths.config.exists() => {
            return Err(Failure::error(format!("{msg}; nothing was written")));
        }
        Plan::Refused(msg) | Plan::OtherHome(msg) => notes.push(msg),
        Plan::Move(m) => moved = Some(m),
    }

    let migrated = match &moved {
        None => command::run(&ctx.env, &ctx.opts, args.dry_run)?,
        Some(m) => {
            // Preview on the old location itself: what would land in the new home.
            let preview = command::run(&old_home_view(ctx, m), &ctx.opts, true)?;
            if args.dry_run {
                preview
            } else {
                if let Some(errors) = &preview.invalid {
                    return Err(Failure::error(format!(
                        "{errors}\nthe config in {} would not validate after migrating, so nothing was moved or written; fix it there, then run `clawctl migrate` again",
                        show(&m.from_home)
                    )));
                }
                legacy::execute(m).map_err(Failure::error)?;
                command::run(&ctx.env, &ctx.opts, false)?
            }
        }
    };

    if migrated.written {
        let mut written = vec![migrated.config.clone()];
        if migrated.credentials_changed {
            written.push(paths.credentials.clone());
        }
        notes.extend(ctx.writes_not_seen(&written));
    }
    let code = if migrated.invalid.is_some() { 1 } else { 0 };
    if args.json {
        print_json(&to_json(&migrated, moved.as_ref(), &notes, args.dry_run));
    } else {
        print_text(ctx, &migrated, moved.as_ref(), &notes, args.dry_run);
    }
    Ok(code)
}

/// The environment as if the old home were the current one (for the preview).
fn old_home_view(ctx: &Ctx, m: &LegacyMove) -> crate::env::Environment {
    let mut env = ctx.env.clone();
    env.vars.insert(
        crate::env::vars::CLAWCTL_HOME.into(),
        m.from_home.display().to_string(),
    );
    env.vars.insert(
        crate::env::vars::CLAWCTL_CONFIG.into(),
        m.from_home.join("config.toml").display().to_string(),
    );
    env.vars.remove(crate::env::vars::CLAWCTL_PROFILE);
    env
}

fn to_json(o: &Migrated, moved: Option<&LegacyMove>, notes: &[String], dry_run: bool) -> Value {
    json!({
        "config": o.config,
        "config_exists": o.exists,
        "dry_run": dry_run,
        "written": o.written,
        "nothing_to_migrate": o.nothing_to_do(),
        "from_version": o.from_version,
        "to_version": if o.nothing_to_do() { o.from_version } else { o.report.to_version },
        "current_version": CURRENT_VERSION,
        "pending": o.pending.iter().map(|m| json!({
            "file": m.file,
            "from_version": m.from_version,
            "to_version": m.to_version,
            "description": m.description,
            "ops": m.ops.iter().map(|op| op.summary()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "changes": o.report.changes().map(|(m, c)| json!({
            "migration": m.file,
            "op": c.op,
            "key": c.key.to_string(),
            "message": c.message,
        })).collect::<Vec<_>>(),
        "credentials": o.report.moved.iter().map(|s| json!({
            "profile": s.profile,
            "provider": s.provider,
            "from_key": s.key.to_string(),
            "secret": crate::secrets::mask::describe(secrecy::ExposeSecret::expose_secret(&s.secret)),
        })).collect::<Vec<_>>(),
        "credentials_changed": o.credentials_changed,
        "moved_files": moved.map(|m| m.files.iter().map(|f| json!({
            "from": f.from,
            "to": f.to,
            "mode": format!("{:04o}", f.mode),
            "old_renamed_to": f.old_renamed_to,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "notes": notes,
        "diff": o.diff,
        "backup": o.backup,
        "backup_id": backup_id(o),
        "valid": o.invalid.is_none(),
        "diagnostics": o.invalid,
    })
}

fn backup_id(o: &Migrated) -> Option<String> {
    o.backup
        .as_ref()
        .and_then(|b| b.file_name())
        .map(|n| n.to_string_lossy().into_owned())
}

fn print_text(
    ctx: &Ctx,
    o: &Migrated,
    moved: Option<&LegacyMove>,
    notes: &[String],
    dry_run: bool,
) {
    let show = |p: &std::path::Path| ctx.env.display_path(p);
    let (verb, verb_rename) = if dry_run {
        ("would copy", "would rename")
    } else {
        ("copied", "renamed")
    };
    if let Some(m) = moved {
        crate::outln!(
            "old location: {} (the current home has no config)",
            show(&m.from_home)
        );
        for f in &m.files {
            crate::outln!(
                "  {verb} {} → {} (mode {:04o})",
                show(&f.from),
                show(&f.to),
                f.mode
            );
        }
        for f in &m.files {
            crate::outln!(
                "  {verb_rename} {} → {} (kept, no longer read)",
                show(&f.from),
                show(&f.old_renamed_to)
            );
        }
    }
    for n in notes {
        crate::errln!("warning: {n}");
    }
    if !o.exists {
        crate::outln!("no config at {}: nothing to migrate", show(&o.config));
        return;
    }
    if o.nothing_to_do() {
        crate::outln!(
            "nothing to migrate: {} is at layout version {} (the newest this clawctl knows)",
            show(&o.config),
            o.from_version
        );
        return;
    }
    crate::outln!(
        "{}: layout version {} → {}",
        show(&o.config),
        o.from_version,
        o.report.to_version
    );
    crate::outln!("pending migrations:");
    for m in &o.pending {
        crate::outln!(
            "  {} ({} → {}): {}",
            m.file,
            m.from_version,
            m.to_version,
            m.description
        );
    }
    crate::outln!("changes:");
    for (_, c) in o.report.changes() {
        crate::outln!("  - {}", c.message);
    }
    crate::out!("{}", o.diff);
    if let Some(errors) = &o.invalid {
        crate::errln!("{errors}");
        crate::errln!(
            "error: after migrating, the config would still not validate (lines above are those of the migrated file); `clawctl migrate` will refuse to write it. Fix those keys by hand first"
        );
    }
    if dry_run {
        crate::outln!("(dry run: nothing was written; run `clawctl migrate` to apply)");
        return;
    }
    crate::outln!(
        "migrated {} to layout version {}",
        show(&o.config),
        o.report.to_version
    );
    if !o.report.moved.is_empty() {
        crate::outln!(
            "{} secret(s) moved to credentials.toml (mode 0600); the config refers to them as cred:…",
            o.report.moved.len()
        );
    }
    if let (Some(b), Some(id)) = (&o.backup, backup_id(o)) {
        crate::outln!("the previous file is saved as {}", show(b));
        crate::outln!("  to undo: clawctl backups restore {id}");
    }
}
