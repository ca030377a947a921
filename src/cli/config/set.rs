use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use crate::cli::output::print_json;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::{KeyPath, Segment};
use crate::config::schema;
use crate::secrets::mask::{self, SecretValue};
use crate::write::transaction::{Applied, NewCredential, edit_config};

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The key, e.g. `agents.defaults.model.primary`, `models.providers."my.proxy".base_url`, `a.list[0]`.
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::cli::completions::complete_key))]
    pub key: KeyPath,
    /// The value, typed by the schema: `8080` is an integer for `gateway.port`, a string
    /// for a string key. Arrays and tables in TOML or JSON syntax: '["a/b","c/d"]'.
    pub value: Option<String>,
    /// Add the value to the array at KEY instead of replacing it.
    #[arg(long)]
    pub append: bool,
    /// Read the value from FILE (`-`: standard input), so shell quoting cannot mangle it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "stdin"])]
    pub value_file: Option<PathBuf>,
    /// Read the value from standard input (for secrets: keeps them out of shell history).
    #[arg(long, conflicts_with = "value")]
    pub stdin: bool,
    /// Replace a whole table with a single value.
    #[arg(long)]
    pub force: bool,
    /// Print the diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// A key the schema knows (parsing already happened in clap: a malformed key is a
/// usage error, exit 2); else "unknown key" with a "did you mean".
pub fn known_key(key: &KeyPath) -> Result<KeyPath, Failure> {
    let key = key.clone();
    if !schema::is_known(&key) {
        let mut msg = format!("unknown key `{key}`; nothing was written");
        if let Some(s) = schema::suggest(&key) {
            msg.push_str(&format!("\n  help: did you mean `{s}`?"));
        } else if let Some(parent) = key.parent() {
            let known = schema::known_children(&parent);
            if !known.is_empty() {
                msg.push_str(&format!(
                    "\n  help: keys under `{parent}`: {}",
                    known.join(", ")
                ));
            }
        }
        return Err(Failure::error(msg));
    }
    Ok(key)
}

fn read_value(args: &SetArgs, secret_key: bool) -> Result<(String, bool), Failure> {
    if let Some(v) = &args.value {
        return Ok((v.clone(), true));
    }
    let from_stdin = args.stdin || args.value_file.as_deref() == Some(std::path::Path::new("-"));
    // A secret "from stdin" on a terminal is typed by a person: ask for it hidden (and
    // say so) instead of waiting silently with the typed key echoed.
    if secret_key && std::io::stdin().is_terminal() && (from_stdin || args.value_file.is_none()) {
        let v = crate::cli::prompt::read_hidden(&format!(
            "Value for {} (hidden; Esc: cancel): ",
            args.key
        ))?
        .ok_or_else(|| Failure::error("no value entered (Esc): nothing was written"))?;
        if let Some(why) = crate::secrets::credentials::key_text_problem(v.trim()) {
            return Err(Failure::error(why));
        }
        return Ok((v.trim().to_string(), false));
    }
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::error(format!("cannot read the value from standard input: {e}"))
        })?;
        return Ok((trim_newline(s), false));
    }
    if let Some(f) = &args.value_file {
        let s = crate::read::string(f)
            .map_err(|e| Failure::error(format!("cannot read {}: {e}", f.display())))?;
        return Ok((trim_newline(s), false));
    }
    Err(Failure::usage(format!(
        "no value given for `{}`: pass VALUE, --value-file FILE or --stdin",
        args.key
    )))
}

fn trim_newline(mut s: String) -> String {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    s
}

pub fn run(ctx: &Ctx, args: SetArgs) -> Outcome {
    let key = known_key(&args.key)?;
    // env.vars entries that hold keys are stored like api_key (as `env:NAME`).
    let env_var_key = matches!(
        key.keys().collect::<Vec<_>>().as_slice(),
        ["env", "vars", _]
    );
    let secret_key = schema::is_secret(&key)
        || (env_var_key
            && key
                .last_key()
                .is_some_and(crate::secrets::mask::is_sensitive_name));
    let (raw, on_command_line) = read_value(&args, secret_key)?;
    let type_path = if args.append && !matches!(key.segments().last(), Some(Segment::Index(_))) {
        key.index(0)
    } else {
        key.clone()
    };
    let value = schema::coerce(&type_path, &raw).map_err(|e| {
        let shown = if secret_key {
            String::new()
        } else {
            format!(" for `{key}`")
        };
        Failure::error(format!(
            "{e}{shown}; nothing was written\n  expected: {}",
            schema::expected_at(&type_path)
        ))
    })?;
    let mut creds = Vec::new();
    let mut stored_value = value.clone();
    let mut warnings: Vec<String> = Vec::new();
    let mut stored: Option<String> = None;
    let secret_key = secret_key
        || (env_var_key
            && value
                .as_str()
                .is_some_and(|v| crate::secrets::mask::is_secret_leaf(&key, v)));
    if secret_key && let Value::String(s) = &value {
        match mask::classify(s) {
            SecretValue::Literal(lit) => {
                let (id, provider, kind) =
                    crate::secrets::credentials::profile_for_secret_key(&key);
                creds.push(NewCredential {
                    id: id.clone(),
                    provider,
                    kind,
                    secret: secrecy::SecretString::from(lit.to_string()),
                });
                stored_value = Value::String(format!("cred:{id}"));
                stored = Some(stored_sentence(ctx, &id, lit));
                if on_command_line {
                    warnings.push("the secret was given on the command line, where shell history may keep it; next time use --stdin or let clawctl prompt".into());
                }
            }
            SecretValue::Malformed(_) => {
                return Err(Failure::error(format!(
                    "`{key}` takes \"cred:PROVIDER:NAME\", \"${{ENV_VAR}}\" or the key itself; the value looks like a malformed reference; nothing was written"
                )));
            }
            _ => {}
        }
    }

    let (report, applied) = edit_config(&ctx.env, &ctx.opts, args.dry_run, creds, |doc| {
        let before = match key
            .segments()
            .iter()
            .any(|s| matches!(s, Segment::Index(_)))
        {
            true => crate::config::load::get_path(
                &crate::config::tomlconv::item_to_json(doc.as_item()),
                &key,
            )
            .cloned(),
            false => crate::config::tomlconv::item_at(doc.as_item(), &key)
                .map(crate::config::tomlconv::item_to_json),
        };
        if !args.append && before.as_ref() == Some(&stored_value) {
            return Ok(None);
        }
        crate::config::edit::set(doc, &key, &stored_value, args.append, args.force)
            .map(Some)
            .map_err(|e| Failure::error(format!("{e}; nothing was written")))
    })?;
    let unchanged = report.is_none() && !applied.credentials_changed;
    finish(
        ctx,
        &key,
        report,
        &applied,
        unchanged,
        stored.filter(|_| applied.credentials_changed),
        warnings,
        args.dry_run,
        args.json,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn finish(
    ctx: &Ctx,
    key: &KeyPath,
    report: Option<crate::config::edit::EditReport>,
    applied: &Applied,
    unchanged: bool,
    stored: Option<String>,
    mut warnings: Vec<String>,
    dry_run: bool,
    json_out: bool,
) -> Outcome {
    let show = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| crate::secrets::mask::redact_tree(key, v))
    };
    let (old, new, notes) = match &report {
        Some(r) => (show(&r.old), show(&r.new), r.notes.clone()),
        None => (None, None, Vec::new()),
    };
    // Only these keys can change whether the default model's provider has a key.
    let affects_keys = ["agents", "models", "auth", "env"]
        .iter()
        .any(|k| key.keys().next() == Some(*k));
    if !unchanged && !dry_run && affects_keys {
        warnings.extend(view_warnings(ctx));
    }
    if !unchanged && !dry_run {
        warnings.extend(ctx.writes_not_seen(&applied.files()));
    }
    if json_out {
        print_json(&json!({
            "key": key.to_string(),
            "changed": !unchanged,
            "written": applied.written,
            "dry_run": dry_run,
            "old": old,
            "new": new,
            "file": applied.config,
            "backup": applied.backup,
            "credentials_changed": applied.credentials_changed,
            "notes": notes,
            "warnings": warnings,
            "diff": if dry_run { Some(applied.diff()) } else { None },
        }));
        return Ok(0);
    }
    let file = ctx.env.display_path(&applied.config);
    if unchanged {
        crate::outln!("no change: `{key}` already has that value in {file}");
        return Ok(0);
    }
    if dry_run {
        crate::out!("{}", applied.diff());
        crate::outln!("(dry run: nothing was written)");
        return Ok(0);
    }
    let fmt = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| crate::cli::show::value_text(key, v))
            .unwrap_or_default()
    };
    match (&old, &new) {
        (Some(_), Some(_)) => crate::outln!("{file}: {key} = {} (was {})", fmt(&new), fmt(&old)),
        (None, Some(_)) => crate::outln!("{file}: {key} = {}", fmt(&new)),
        (Some(_), None) => crate::outln!("{file}: removed {key} (was {})", fmt(&old)),
        // Only credentials.toml changed (the config already refers to the profile).
        (None, None) if !applied.changed => {}
        (None, None) => crate::outln!("{file}: updated"),
    }
    if let Some(s) = stored {
        crate::outln!("{s}");
    }
    for n in notes {
        crate::outln!("note: {n}");
    }
    for w in warnings {
        crate::errln!("warning: {w}");
    }
    if applied.preexisting_errors > 0 {
        crate::errln!(
            "warning: the config still has {} error(s) from before; run `clawctl config validate`",
            applied.preexisting_errors
        );
    }
    Ok(0)
}

/// What storing `secret` as profile `id` does to credentials.toml, said before the
/// write so a replaced key is never replaced silently: both fingerprints, no values.
fn stored_sentence(ctx: &Ctx, id: &str, secret: &str) -> String {
    let Ok(paths) = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()) else {
        return format!("the secret is stored as profile {id} in credentials.toml (mode 0600)");
    };
    let file = ctx.env.display_path(&paths.credentials);
    let store = crate::secrets::credentials::Store::read(&paths.credentials);
    match store.replacing(id, secret) {
        Some((old, new)) => format!(
            "{file}: replaced the secret of profile {id}: {old} → {new} (the old file is in backups/: clawctl backups list)"
        ),
        None => format!(
            "{file}: stored the secret as profile {id} ({}, mode 0600); the config refers to it as cred:{id}",
            crate::secrets::mask::describe(secret)
        ),
    }
}

/// Valid but suspicious: the default model's provider has no key in this view.
pub fn view_warnings(ctx: &Ctx) -> Vec<String> {
    let Ok(loaded) = crate::config::load::load(&ctx.env, &ctx.opts.fast()) else {
        return Vec::new();
    };
    let catalog = crate::providers::catalog::Catalog::load(&ctx.env)
        .unwrap_or_else(|_| crate::providers::catalog::Catalog::builtin());
    let store = crate::secrets::credentials::Store::read(&loaded.paths.credentials);
    let mut out = Vec::new();
    if let Some(primary) = loaded.config.primary_model()
        && let Some((provider, _)) =
            crate::config::model::split_model_ref(loaded.config.resolve_model(primary))
    {
        let r = crate::secrets::credentials::resolve_provider(&loaded, &store, &catalog, provider);
        if r.needs_key && r.winner().is_none() {
            let choice = catalog
                .get(provider)
                .map(|p| p.default_region().auth_choice.clone())
                .unwrap_or_else(|| "custom-api-key".into());
            out.push(format!(
                "the default model {primary} uses provider `{provider}`, which has no key in {}; fix: clawctl onboard --auth-choice {choice}",
                loaded.env.origin
            ));
        }
    }
    out
}
