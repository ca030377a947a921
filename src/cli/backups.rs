//! `clawctl backups list|restore`: every restore is a command the user runs — clawctl
//! never rolls back by itself.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::env::paths::Paths;
use crate::write::safe_write::{self, Target};

#[derive(Debug, Subcommand)]
pub enum BackupsCommand {
    /// List the copies clawctl saved before each write, newest first: id, time, file, size.
    List(ListArgs),
    /// Put a backup back in place; the file it replaces is backed up first.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup's id, as `clawctl backups list` shows it.
    pub id: String,
    /// Show what would change; restore nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore a config backup even though it does not validate.
    #[arg(long)]
    pub force: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, cmd: BackupsCommand) -> Outcome {
    let paths =
        Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()).map_err(|e| Failure::usage(e.0))?;
    match cmd {
        BackupsCommand::List(a) => list(ctx, &paths, a),
        BackupsCommand::Restore(a) => restore(ctx, &paths, a),
    }
}

/// Which file a backup is a copy of.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Of {
    Config,
    Credentials,
    Other,
}

struct Entry {
    id: String,
    path: PathBuf,
    /// `2025-01-31 12:00:00.123 UTC`, from the name safe_write gives backups.
    time: Option<String>,
    file: String,
    of: Of,
    bytes: u64,
}

/// `20250131T120000.123Z-config.toml` or `20250131T120000.123Z.2-config.toml`.
fn parse_name(name: &str) -> Option<(String, &str)> {
    let (stamp, file) = name.split_once('-')?;
    let stamp = stamp.split('.').take(2).collect::<Vec<_>>().join(".");
    let b = stamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 15 || b[8] != b'T' || !digits(0..8) || !digits(9..15) || file.is_empty() {
        return None;
    }
    let fraction = stamp[15..].trim_end_matches('Z');
    Some((
        format!(
            "{}-{}-{} {}:{}:{}{} UTC",
            &stamp[0..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11],
            &stamp[11..13],
            &stamp[13..15],
            fraction
        ),
        file,
    ))
}

fn entries(paths: &Paths) -> Vec<Entry> {
    let config_name = paths
        .config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let mut out: Vec<Entry> = safe_write::list_backups(&paths.backups)
        .into_iter()
        .filter_map(|path| {
            let id = path.file_name()?.to_string_lossy().into_owned();
            if id.starts_with('.') {
                return None;
            }
            let (time, file) = match parse_name(&id) {
                Some((t, f)) => (Some(t), f.to_string()),
                None => (None, id.clone()),
            };
            let of = if Some(&file) == config_name.as_ref() {
                Of::Config
            } else if file == "credentials.toml" {
                Of::Credentials
            } else {
                Of::Other
            };
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            Some(Entry {
                id,
                path,
                time,
                file,
                of,
                bytes,
            })
        })
        .collect();
    // Names start with the time, so reverse name order is newest first.
    out.reverse();
    out
}

fn target_of(paths: &Paths, of: Of) -> Option<&Path> {
    match of {
        Of::Config => Some(&paths.config),
        Of::Credentials => Some(&paths.credentials),
        Of::Other => None,
    }
}

fn list(ctx: &Ctx, paths: &Paths, args: ListArgs) -> Outcome {
    let all = entries(paths);
    if args.json {
        print_json(&json!({
            "dir": paths.backups,
            "kept_per_file": safe_write::BACKUPS_KEPT,
            "backups": all.iter().map(|e| json!({
                "id": e.id,
                "time": e.time,
                "file": e.file,
                "restores_to": target_of(paths, e.of),
                "bytes": e.bytes,
            })).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    let dir = ctx.env.display_path(&paths.backups);
    if all.is_empty() {
        crate::outln!("no backups in {dir}");
        return Ok(0);
    }
    let width = all.iter().map(|e| e.id.len()).max().unwrap_or(2).max(2);
    crate::outln!("{:<width$}  {:<27}  {:<18}  SIZE", "ID", "TIME", "FILE");
    for e in &all {
        crate::outln!(
            "{:<width$}  {:<27}  {:<18}  {} bytes",
            e.id,
            e.time.as_deref().unwrap_or("?"),
            e.file,
            e.bytes
        );
    }
    crate::outln!(
        "{} backup(s) in {dir}, newest first ({} kept per file). Restore one with `clawctl backups restore ID`; the file it replaces is backed up first",
        all.len(),
        safe_write::BACKUPS_KEPT
    );
    Ok(0)
}

/// A diff of two config texts with every secret in either replaced by its description.
fn config_diff(before: &str, after: &str, name: &str) -> String {
    let mut secrets = Vec::new();
    for t in [before, after] {
        if let Ok(doc) = t.parse::<toml_edit::DocumentMut>() {
            secrets.extend(crate::migrate::sensitive_strings(doc.as_item()));
        }
    }
    let diff = crate::write::transaction::scrub(
        &crate::write::transaction::unified_diff(before, after, name),
        &secrets,
    );
    // A text that does not parse cannot tell which values are secrets: mask anything
    // that looks like a key as well.
    crate::secrets::mask::mask_in_source(&diff, &[])
}

/// What changes in credentials.toml, by profile id and fingerprint only.
fn credentials_summary(before: Option<&Path>, after: &Path) -> Vec<String> {
    use secrecy::ExposeSecret;
    let read = |p: &Path| {
        crate::secrets::credentials::Store::read(p)
            .entries
            .into_iter()
            .map(|e| {
                (
                    e.id.clone(),
                    crate::secrets::mask::describe(e.secret.expose_secret()),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let old = before.map(read).unwrap_or_default();
    let new = read(after);
    let mut out = Vec::new();
    for (id, d) in &new {
        match old.get(id) {
            None => out.push(format!("+ profile {id}: {d}")),
            Some(o) if o != d => out.push(format!("~ profile {id}: {o} → {d}")),
            _ => {}
        }
    }
    for (id, d) in &old {
        if !new.contains_key(id) {
            out.push(format!("- profile {id}: {d}"));
        }
    }
    out
}

fn restore(ctx: &Ctx, paths: &Paths, args: RestoreArgs) -> Outcome {
    let id = args.id.trim();
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        return Err(Failure::usage(format!(
            "`{id}` is not a backup id; `clawctl backups list` shows them"
        )));
    }
    let Some(entry) = entries(paths).into_iter().find(|e| e.id == id) else {
        return Err(Failure::error(format!(
            "no backup `{id}` in {}; `clawctl backups list` shows the ids",
            ctx.env.display_path(&paths.backups)
        )));
    };
    let Some(target_path) = target_of(paths, entry.of) else {
        return Err(Failure::error(format!(
            "backup `{id}` is a copy of `{}`, which is neither this config ({}) nor credentials.toml; copy it back by hand if you need it",
            entry.file,
            ctx.env.display_path(&paths.config)
        )));
    };
    let text = crate::read::string(&entry.path).map_err(|e| {
        Failure::error(format!(
            "cannot read {}: {e}",
            ctx.env.display_path(&entry.path)
        ))
    })?;

    // Check the backup before anything is touched.
    let problems = match entry.of {
        Of::Config => {
            let l = crate::config::load::load(&ctx.env, &ctx.opts.for_file_text(&text))
                .map_err(Failure::from)?;
            let errs: Vec<String> = l.errors().map(|d| d.render(&l.env, l.sources())).collect();
            (!errs.is_empty()).then(|| errs.join("\n"))
        }
        _ => crate::secrets::credentials::Store::read(&entry.path).error,
    };
    if let Some(p) = &problems
        && !args.force
    {
        return Err(Failure::error(format!(
            "{p}\nbackup `{id}` does not validate, so nothing was restored. Restore it anyway with --force (then fix it with `clawctl config validate`), or pick another backup"
        )));
    }

    let target = match entry.of {
        Of::Credentials => Target::secret(target_path, &paths.backups),
        _ => Target::config(target_path, &paths.backups),
    };
    let locked = safe_write::lock(target).map_err(Failure::from)?;
    let shown = ctx.env.display_path(&locked.real_path);
    let changes: Vec<String> = match entry.of {
        Of::Credentials => {
            let current = locked.before.as_ref().map(|_| locked.real_path.as_path());
            credentials_summary(current, &entry.path)
        }
        _ => {
            let d = config_diff(locked.before.as_deref().unwrap_or(""), &text, &shown);
            if d.is_empty() { Vec::new() } else { vec![d] }
        }
    };
    let identical = locked.before.as_deref() == Some(text.as_str());
    let mut written = None;
    if !identical && !args.dry_run {
        written = Some(locked.commit(&text).map_err(Failure::from)?);
    }
    let backup = written.as_ref().and_then(|w| w.backup.clone());
    let backup_id = backup
        .as_ref()
        .and_then(|b| b.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if args.json {
        print_json(&json!({
            "id": id,
            "file": locked.real_path,
            "dry_run": args.dry_run,
            "changed": !identical,
            "written": written.is_some(),
            "valid": problems.is_none(),
            "changes": changes,
            "backup": backup,
            "backup_id": backup_id,
        }));
        return Ok(0);
    }
    if identical {
        crate::outln!("{shown} is already identical to backup {id}; nothing to restore");
        return Ok(0);
    }
    for c in &changes {
        if c.ends_with('\n') {
            crate::out!("{c}");
        } else {
            crate::outln!("{c}");
        }
    }
    if args.dry_run {
        crate::outln!("(dry run: nothing was restored)");
        return Ok(0);
    }
    crate::outln!("restored {shown} from backup {id}");
    if let Some(b) = backup_id {
        crate::outln!(
            "the file it replaced is saved as backup {b} (undo: clawctl backups restore {b})"
        );
    }
    if problems.is_some() {
        crate::errln!(
            "warning: the restored config does not validate; run `clawctl config validate`"
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names_give_time_and_file() {
        assert_eq!(
            parse_name("20250131T120304.567Z-config.toml"),
            Some(("2025-01-31 12:03:04.567 UTC".to_string(), "config.toml"))
        );
        assert_eq!(
            parse_name("20250131T120304.567Z.2-credentials.toml").map(|p| p.1),
            Some("credentials.toml")
        );
        assert_eq!(parse_name("notes.txt"), None);
    }
}
