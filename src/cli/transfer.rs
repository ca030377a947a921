//! `clawctl import PATH` and `clawctl export`: move settings across reinstalls and
//! machines, from an OpenClaw `openclaw.json` or a clawctl bundle.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use secrecy::SecretString;
use serde_json::json;
use toml_edit::DocumentMut;

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::config::keypath::{KeyPath, Segment};
use crate::config::model::AuthMode;
use crate::providers::catalog::Catalog;
use crate::secrets::mask;
use crate::transfer::bundle::{self, Bundle, BundleCredential, BundleService};
use crate::write::transaction::{NewCredential, edit_config};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    Openclaw,
    Bundle,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An OpenClaw config (openclaw.json, JSON5) or a clawctl export bundle.
    pub path: PathBuf,
    /// What PATH is (default: guessed from its content).
    #[arg(long, value_enum)]
    pub from: Option<Source>,
    /// Merge into the existing config (imported values win); without it an
    /// existing config is never overwritten.
    #[arg(long)]
    pub merge: bool,
    /// Show the diff and the report; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the bundle here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include the credentials (the file is then written 0600).
    #[arg(long)]
    pub include_secrets: bool,
}

/// What an import brings, whatever its source.
struct Incoming {
    document: DocumentMut,
    /// Variables for the home `.env` (from a bundle).
    dotenv: std::collections::BTreeMap<String, String>,
    credentials: Vec<NewCredential>,
    report: Vec<String>,
    unmapped: Vec<(String, String)>,
    warnings: Vec<String>,
}

fn guess(path: &std::path::Path, text: &str) -> Source {
    if text.contains("\"format\"") && text.contains(bundle::FORMAT) {
        Source::Bundle
    } else {
        let _ = path;
        Source::Openclaw
    }
}

fn from_openclaw(ctx: &Ctx, path: &std::path::Path) -> Result<Incoming, Failure> {
    let catalog = Catalog::load(&ctx.env).map_err(|e| Failure::error(e.0))?;
    let imp = crate::transfer::openclaw::import_openclaw(path, &catalog)
        .map_err(|e| Failure::error(e.to_string()))?;
    let credentials = imp
        .credentials
        .iter()
        .map(|c| NewCredential {
            id: c.profile_id.clone(),
            provider: c.provider.clone(),
            kind: if c.kind.as_str() == "token" {
                AuthMode::Token
            } else {
                AuthMode::ApiKey
            },
            secret: SecretString::from(c.secret.clone()),
        })
        .collect();
    let mut report: Vec<String> = imp
        .mapped
        .iter()
        .map(|m| format!("{} → {}", m.from, m.to))
        .collect();
    for c in &imp.credentials {
        report.push(format!(
            "{} → credentials.toml profile {} ({})",
            c.from,
            c.profile_id,
            crate::secrets::mask::describe(&c.secret)
        ));
    }
    Ok(Incoming {
        document: imp.document,
        dotenv: Default::default(),
        credentials,
        report,
        unmapped: imp
            .unmapped
            .iter()
            .map(|u| (u.path.clone(), u.reason.clone()))
            .collect(),
        warnings: imp.warnings,
    })
}

fn from_bundle(ctx: &Ctx, path: &std::path::Path, text: &str) -> Result<Incoming, Failure> {
    let b = Bundle::parse(text, path).map_err(Failure::error)?;
    let home = ctx.env.home.clone().unwrap_or_default();
    let config = bundle::home_absolute(b.config.as_deref().unwrap_or(""), &home);
    let document: DocumentMut = config.parse().map_err(|e: toml_edit::TomlError| {
        Failure::error(format!(
            "{}: the bundle's config does not parse: {}",
            path.display(),
            e.message()
        ))
    })?;
    let credentials: Vec<NewCredential> = b
        .credentials
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|c| NewCredential {
            id: c.id,
            provider: c.provider,
            kind: if c.kind == "token" {
                AuthMode::Token
            } else {
                AuthMode::ApiKey
            },
            secret: SecretString::from(c.secret),
        })
        .collect();
    let mut report = vec![format!(
        "config from a bundle made by clawctl {} at {}",
        b.clawctl_version, b.exported_at
    )];
    report.push(match &b.credentials {
        Some(c) => format!("{} credential(s)", c.len()),
        None => "no credentials in the bundle (exported without --include-secrets): run `clawctl onboard` for each provider".into(),
    });
    let mut warnings = Vec::new();
    if b.service.installed {
        warnings.push(format!(
            "the source machine ran the gateway as a {} service: run `clawctl service install` here{}",
            b.service.manager.clone().unwrap_or_else(|| "managed".into()),
            if b.service.extra_env.is_empty() { String::new() } else { format!(" (it also set: {})", b.service.extra_env.keys().cloned().collect::<Vec<_>>().join(", ")) }
        ));
    }
    if !b.dotenv.is_empty() {
        report.push(format!(
            "{} variable(s) for the home .env: {}",
            b.dotenv.len(),
            b.dotenv.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let dotenv = b
        .dotenv
        .iter()
        .map(|(k, v)| (k.clone(), bundle::home_absolute_value(v, &home)))
        .collect();
    Ok(Incoming {
        document,
        dotenv,
        credentials,
        report,
        unmapped: Vec::new(),
        warnings,
    })
}

/// Every leaf of a document, for merging key by key.
fn leaves(value: &serde_json::Value, base: &KeyPath, out: &mut Vec<(KeyPath, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaves(v, &base.child(k.as_str()), out);
            }
        }
        other => out.push((base.clone(), other.clone())),
    }
}

pub fn import(ctx: &Ctx, args: ImportArgs) -> Outcome {
    let path = ctx.env.resolve_path(&args.path.to_string_lossy());
    let text = crate::config::load::read_text_file(&path, "import file")
        .map_err(|d| Failure::error(d.message))?
        .ok_or_else(|| Failure::error(format!("{}: no such file", path.display())))?;
    let source = args.from.unwrap_or_else(|| guess(&path, &text));
    let incoming = match source {
        Source::Openclaw => from_openclaw(ctx, &path)?,
        Source::Bundle => from_bundle(ctx, &path, &text)?,
    };
    let paths = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref())
        .map_err(|e| Failure::usage(e.0))?;
    let existing = crate::read::string(&paths.config).ok();
    if existing.is_some() && !args.merge && !args.dry_run {
        return Err(Failure::error(format!(
            "{} already exists; importing would overwrite it\n  help: `clawctl import --merge {}` merges (imported values win), `--dry-run` shows the diff first",
            ctx.env.display_path(&paths.config),
            args.path.display()
        )));
    }
    let merge = existing.is_some();
    let new_doc = incoming.document.clone();
    let mut credentials = incoming.credentials;
    let kept = keep_replaced_secrets(
        &paths,
        existing.as_deref(),
        &new_doc,
        merge,
        &mut credentials,
    );
    let (_, applied) = edit_config(&ctx.env, &ctx.opts, args.dry_run, credentials, |doc| {
        if merge {
            let mut items = Vec::new();
            leaves(
                &crate::config::tomlconv::item_to_json(new_doc.as_item()),
                &KeyPath::root(),
                &mut items,
            );
            for (k, v) in items {
                if k.is_empty() {
                    continue;
                }
                crate::config::edit::set(doc, &k, &v, false, true)
                    .map_err(|e| Failure::error(format!("cannot merge `{k}`: {e}")))?;
            }
        } else {
            let mut text = new_doc.to_string();
            if !text.starts_with("#:schema") {
                text = format!(
                    "#:schema ./config.schema.json\n# Imported by clawctl from {}.\n\n{text}",
                    path.display()
                );
            }
            *doc = text
                .parse()
                .map_err(|_| Failure::error("the imported config does not parse"))?;
        }
        Ok(())
    })?;
    let mut warnings = incoming.warnings.clone();
    let mut written = applied.files();
    if applied.written && !incoming.dotenv.is_empty() {
        let (added, kept) = merge_dotenv(&paths, &incoming.dotenv)?;
        if !added.is_empty() {
            written.push(paths.dotenv.clone());
            println!(
                "{}: added {} (mode 0600)",
                ctx.env.display_path(&paths.dotenv),
                added.join(", ")
            );
        }
        for k in kept {
            warnings.push(format!(
                "{k} is already in {} with another value: kept yours, the bundle's is not imported",
                ctx.env.display_path(&paths.dotenv)
            ));
        }
    }
    if applied.written {
        warnings.extend(ctx.writes_not_seen(&written));
    }
    if args.json {
        print_json(&json!({
            "source": format!("{source:?}").to_lowercase(),
            "dry_run": args.dry_run,
            "written": applied.written,
            "config": applied.config,
            "credentials_changed": applied.credentials_changed,
            "mapped": incoming.report,
            "kept": kept,
            "unmapped": incoming.unmapped.iter().map(|(p, r)| json!({"path": p, "reason": r})).collect::<Vec<_>>(),
            "warnings": warnings,
            "diff": args.dry_run.then_some(applied.diff()),
        }));
        return Ok(0);
    }
    if args.dry_run {
        crate::out!("{}", applied.diff());
    }
    for r in &incoming.report {
        crate::outln!("imported: {r}");
    }
    for k in &kept {
        crate::outln!("kept: {k}");
    }
    for (p, r) in &incoming.unmapped {
        crate::outln!("not imported: {p} — {r}");
    }
    for w in &warnings {
        crate::errln!("warning: {w}");
    }
    if args.dry_run {
        crate::outln!("(dry run: nothing was written)");
    } else {
        crate::outln!(
            "{} {}{}",
            if merge { "merged into" } else { "wrote" },
            ctx.env.display_path(&applied.config),
            if applied.credentials_changed {
                "; secrets are in credentials.toml (0600)"
            } else {
                ""
            }
        );
    }
    Ok(0)
}

/// Secrets the import would drop: literals in the existing config that an imported
/// value replaces, and stored credentials an imported one of the same profile
/// replaces. Each one that has no other copy afterwards (in the merged config, the
/// imported config, or credentials.toml) is added to `credentials` under a free
/// profile. Returns one sentence per dropped secret saying where it lives now.
fn keep_replaced_secrets(
    paths: &crate::env::paths::Paths,
    existing: Option<&str>,
    new_doc: &DocumentMut,
    merge: bool,
    credentials: &mut Vec<NewCredential>,
) -> Vec<String> {
    use crate::secrets::keep;
    use secrecy::ExposeSecret;
    let leaves_of = |doc: &toml_edit::Item| {
        let mut out = Vec::new();
        leaves(
            &crate::config::tomlconv::item_to_json(doc),
            &KeyPath::root(),
            &mut out,
        );
        out
    };
    let old_leaves = existing
        .and_then(|t| t.parse::<DocumentMut>().ok())
        .map(|d| leaves_of(d.as_item()))
        .unwrap_or_default();
    let new_leaves = leaves_of(new_doc.as_item());
    let replaced = |k: &KeyPath| {
        !merge
            || new_leaves.iter().any(|(n, _)| {
                let (n, k) = (n.to_string(), k.to_string());
                k == n || k.starts_with(&format!("{n}.")) || n.starts_with(&format!("{k}."))
            })
    };
    // What the merged config still holds: the imported leaves, and the old ones no
    // imported leaf replaces.
    let mut remaining: Vec<String> = new_leaves
        .iter()
        .chain(old_leaves.iter().filter(|(k, _)| !replaced(k)))
        .filter_map(|(_, v)| v.as_str().map(String::from))
        .collect();
    let store = crate::secrets::credentials::Store::read(&paths.credentials);
    let mut out = Vec::new();
    for (k, v) in &old_leaves {
        let Some(s) = v.as_str() else { continue };
        if !replaced(k)
            || !keep::is_secret_literal(s, crate::migrate::is_sensitive(k, s))
            || new_leaves.iter().any(|(n, nv)| n == k && nv == v)
        {
            continue;
        }
        let rest: Vec<&str> = remaining.iter().map(String::as_str).collect();
        let (wanted, provider, kind) = crate::secrets::credentials::profile_for_secret_key(k);
        if let Some(kept) = keep::keep(&store, credentials, &rest, s, (&wanted, &provider, kind)) {
            out.push(kept.sentence(&format!("`{k}` in config.toml")));
            remaining.push(s.to_string());
        }
    }
    // Stored profiles an imported credential replaces with another secret.
    for e in &store.entries {
        let old = e.secret.expose_secret();
        let replaced_by_import = credentials
            .iter()
            .any(|c| c.id == e.id && c.secret.expose_secret() != old);
        if !replaced_by_import {
            continue;
        }
        let rest: Vec<&str> = remaining.iter().map(String::as_str).collect();
        if let Some(kept) = keep::keep(
            &store,
            credentials,
            &rest,
            old,
            (&e.id, &e.provider, e.kind),
        ) {
            out.push(kept.sentence(&format!("credentials.toml profile {}", e.id)));
        }
    }
    out
}

/// Add the bundle's `.env` variables to the home `.env` (created 0600; an existing
/// file keeps its lines and gets the missing variables appended, backed up first).
/// Returns the names added and the names already there with another value (kept).
fn merge_dotenv(
    paths: &crate::env::paths::Paths,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<(Vec<String>, Vec<String>), Failure> {
    use crate::write::safe_write::{self, Target};
    let lock = safe_write::lock(Target::secret(&paths.dotenv, &paths.backups))?;
    let before = lock.before.clone().unwrap_or_default();
    let (existing, _) = crate::config::dotenv::parse(&before);
    let (mut added, mut kept) = (Vec::new(), Vec::new());
    let mut text = before.clone();
    for (name, value) in vars {
        match existing.iter().rev().find(|e| &e.name == name) {
            Some(e) if &e.value == value => {}
            Some(_) => kept.push(name.clone()),
            None => {
                if added.is_empty() {
                    if !text.is_empty() && !text.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str("# imported by clawctl from an export bundle\n");
                }
                text.push_str(&bundle::dotenv_line(name, value));
                text.push('\n');
                added.push(name.clone());
            }
        }
    }
    if !added.is_empty() {
        lock.commit(&text)?;
    }
    Ok((added, kept))
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> Outcome {
    let paths = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref())
        .map_err(|e| Failure::usage(e.0))?;
    let home = ctx.env.home.clone().unwrap_or_default();
    let config = crate::config::load::read_text_file(&paths.config, "config file")
        .map_err(|d| Failure::error(d.message))?;
    let loaded = crate::config::load::load(&ctx.env, &ctx.opts)?;
    // A file that does not parse cannot be searched for secrets by key: it
    // is not exported at all rather than exported with whatever it holds.
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.code == "syntax")
        && !args.include_secrets
    {
        return Err(Failure::error(format!(
            "not exported: {} does not parse ({}), so its secrets cannot be told apart\n  help: fix it first (`clawctl config validate` shows where), or export with --include-secrets",
            ctx.env.display_path(&paths.config),
            d.message.lines().next().unwrap_or_default()
        )));
    }
    if !loaded.is_valid() {
        crate::errln!("warning: the config has errors; they are exported as they are");
    }
    let credentials = if args.include_secrets {
        use secrecy::ExposeSecret;
        let store = crate::secrets::credentials::Store::read(&paths.credentials);
        if let Some(e) = &store.error {
            return Err(Failure::error(e.clone()));
        }
        Some(
            store
                .entries
                .iter()
                .map(|c| BundleCredential {
                    id: c.id.clone(),
                    provider: c.provider.clone(),
                    kind: match c.kind {
                        AuthMode::Token => "token".into(),
                        AuthMode::ApiKey => "api_key".into(),
                    },
                    secret: c.secret.expose_secret().to_string(),
                })
                .collect(),
        )
    } else {
        None
    };
    // Without --include-secrets, literal secrets typed into config.toml stay behind
    // too (dropped from the bundle's copy, named on stderr) — never a placeholder.
    let config = match (config, args.include_secrets) {
        (Some(text), false) => {
            let mut paths_out = Vec::new();
            if let Some(v) = loaded.file_value() {
                crate::write::transaction::secret_literal_paths(
                    v,
                    &KeyPath::root(),
                    &mut paths_out,
                );
            }
            if paths_out.is_empty() {
                Some(text)
            } else {
                let mut doc: DocumentMut = text
                    .parse()
                    .map_err(|_| Failure::error("config.toml does not parse"))?;
                // A secret inside an array or table (`api_key = ["…"]`) goes with the
                // whole value of its key: an element cannot always be removed alone.
                let mut whole: Vec<KeyPath> = paths_out
                    .iter()
                    .map(|p| {
                        let mut top = p.clone();
                        while let Some(parent) = top.parent() {
                            if !matches!(top.segments().last(), Some(Segment::Index(_)))
                                && parent
                                    .last_key()
                                    .is_none_or(|k| !mask::is_sensitive_name(k))
                            {
                                break;
                            }
                            top = parent;
                        }
                        top
                    })
                    .collect();
                whole.dedup();
                for p in &whole {
                    crate::config::edit::unset(&mut doc, p).map_err(|e| {
                        Failure::error(format!(
                            "not exported: `{p}` holds a literal secret that could not be left out ({e})"
                        ))
                    })?;
                    crate::errln!(
                        "not exported: `{p}` holds a literal secret (move it with `clawctl doctor --fix`, or export with --include-secrets)"
                    );
                }
                Some(doc.to_string())
            }
        }
        (c, _) => c,
    };
    let view = crate::service::view::discover(&ctx.env, &ctx.service_opts);
    let ours = [
        crate::env::vars::CLAWCTL_HOME,
        crate::env::vars::CLAWCTL_CONFIG,
        crate::env::vars::CLAWCTL_PROFILE,
    ];
    let service = BundleService {
        installed: view.definition().is_some(),
        manager: view.definition().map(|d| d.manager.to_string()),
        profile: paths.profile.clone(),
        extra_env: view
            .definition()
            .map(|d| {
                d.env
                    .iter()
                    .filter(|v| {
                        !ours.contains(&v.name.as_str())
                            && !crate::secrets::mask::is_sensitive_name(&v.name)
                            && !crate::secrets::mask::looks_secret(&v.value)
                    })
                    .map(|v| (v.name.clone(), bundle::home_relative(&v.value, &home)))
                    .collect()
            })
            .unwrap_or_default(),
    };
    // The home .env is a layer too: carried whole with --include-secrets; without,
    // its secrets stay behind, each named.
    let mut dotenv = std::collections::BTreeMap::new();
    for (name, v) in &loaded.dotenv {
        if args.include_secrets || !bundle::dotenv_var_is_secret(name, &v.value) {
            dotenv.insert(name.clone(), bundle::home_relative(&v.value, &home));
        } else {
            eprintln!(
                "not exported: {name} from {}:{} holds a secret (export with --include-secrets, or store it with clawctl onboard)",
                ctx.env.display_path(&paths.dotenv),
                v.line
            );
        }
    }
    let b = Bundle {
        dotenv,
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        clawctl_version: env!("CARGO_PKG_VERSION").into(),
        exported_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        config: config.map(|c| bundle::home_relative(&c, &home)),
        credentials,
        service,
    };
    let mut text =
        serde_json::to_string_pretty(&b).map_err(|e| Failure::error(e.to_string()))? + "\n";
    if !args.include_secrets
        && let std::borrow::Cow::Owned(masked) = crate::secrets::sink::scrub(&text)
    {
        // Something that looks like a key sits where no key was expected (a model
        // name, a free-form value): the bundle carries it masked, and says so.
        crate::errln!(
            "warning: values that look like secrets were masked in the bundle (export with --include-secrets to keep them)"
        );
        text = masked;
    }
    match &args.output {
        Some(out) => {
            let out = if crate::write::safe_write::is_stream_target(out) {
                out.clone()
            } else {
                ctx.env.resolve_path(&out.to_string_lossy())
            };
            let mode = if b.has_secrets() { 0o600 } else { 0o644 };
            crate::write::safe_write::write_output(&out, &text, mode)
                .map_err(|e| Failure::error(e.to_string()))?;
            crate::errln!(
                "exported to {}{}",
                ctx.env.display_path(&out),
                if b.has_secrets() {
                    " (holds secrets: mode 0600; keep it private)"
                } else {
                    " (no secrets: import it, then run `clawctl onboard` on the new machine)"
                }
            );
        }
        None => {
            if b.has_secrets() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                return Err(Failure::usage(
                    "refusing to print secrets to a terminal: use --output FILE",
                ));
            }
            // A bundle lost to a full disk or a closed pipe must not end in exit 0.
            super::output::write_stdout_unmasked(text.as_bytes())?;
        }
    }
    Ok(0)
}
