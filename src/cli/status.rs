//! `clawctl status`: the CLI's view beside the service's, every difference marked.

use clap::Args;
use serde_json::{Value, json};

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::config::load::Loaded;
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::{self, Resolved, Store};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

fn key_text(r: &Resolved) -> String {
    match r.winner() {
        Some(w) => format!("{} ({})", w.describe(), w.location),
        None if !r.needs_key => "not needed".into(),
        None => "MISSING".into(),
    }
}

struct Side {
    loaded: Loaded,
    store: Store,
}

fn rows(catalog: &Catalog, side: &Side, ids: &[String]) -> Vec<(String, String)> {
    let l = &side.loaded;
    let mut r = vec![
        (
            "config".to_string(),
            format!(
                "{}{}",
                l.env.display_path(&l.paths.config),
                if l.config_exists {
                    ""
                } else {
                    " (missing: defaults)"
                }
            ),
        ),
        ("home".into(), l.env.display_path(&l.paths.home)),
        (
            "config sha256".into(),
            l.config_sha256
                .as_deref()
                .map(|h| h[..12].to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "valid".into(),
            if l.is_valid() {
                "yes".into()
            } else {
                format!("NO ({} errors)", l.errors().count())
            },
        ),
        (
            "default model".into(),
            l.config.primary_model().unwrap_or("(not set)").to_string(),
        ),
    ];
    for id in ids {
        let k = credentials::resolve_provider(l, &side.store, catalog, id);
        r.push((format!("{id} key"), key_text(&k)));
        let ep = super::models::status::endpoint(l, catalog, id)
            .map(|e| e.base_url)
            .unwrap_or_else(|| "-".into());
        r.push((format!("{id} endpoint"), ep));
    }
    r.push((
        "gateway".into(),
        format!("{}:{}", l.config.gateway.bind, l.config.gateway.port),
    ));
    let t = credentials::resolve_gateway_token(l, &side.store);
    r.push(("gateway token".into(), key_text(&t)));
    r
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Outcome {
    if let Some(h) = super::openclaw::hint(ctx) {
        if args.json {
            eprintln!("note: {h}");
        } else {
            println!("note: {h}");
        }
    }
    let catalog = Catalog::load(&ctx.env).map_err(|e| Failure::error(e.0))?;
    let cli_loaded = crate::config::load::load(&ctx.env, &ctx.opts.fast())?;
    let cli = Side {
        store: Store::read(&cli_loaded.paths.credentials),
        loaded: cli_loaded,
    };
    let view = crate::service::view::discover(&ctx.env, &ctx.service_opts);
    view.require_given_file(&ctx.service_opts)
        .map_err(Failure::error)?;
    let service = match &view.environment {
        Some(env) => {
            let l = crate::config::load::load(
                env,
                &crate::config::load::LoadOptions::default().fast(),
            )?;
            Some(Side {
                store: Store::read(&l.paths.credentials),
                loaded: l,
            })
        }
        None => None,
    };
    let mut ids = credentials::relevant_providers(&cli.loaded, &cli.store, &catalog);
    if let Some(s) = &service {
        for id in credentials::relevant_providers(&s.loaded, &s.store, &catalog) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let cli_rows = rows(&catalog, &cli, &ids);
    let svc_rows = service.as_ref().map(|s| rows(&catalog, s, &ids));
    let differs: Vec<bool> = cli_rows
        .iter()
        .enumerate()
        .map(|(i, (_, v))| svc_rows.as_ref().is_some_and(|s| s[i].1 != *v))
        .collect();
    let state = view.state.describe();
    if args.json {
        let to_obj = |rs: &[(String, String)]| -> Value {
            Value::Object(rs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
        };
        let provider_json = |side: &Side| -> Value {
            ids.iter()
                .map(|id| {
                    (
                        id.clone(),
                        serde_json::to_value(credentials::resolve_provider(
                            &side.loaded,
                            &side.store,
                            &catalog,
                            id,
                        ))
                        .unwrap_or_default(),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        print_json(&json!({
            "service": {
                "state": view.state,
                "description": state,
                "definition": view.definition().map(|d| json!({"manager": d.manager, "name": d.name, "path": d.path})),
                "evidence": view.evidence,
                "view": service.as_ref().map(|s| s.loaded.env.origin.clone()),
            },
            "cli": {"summary": to_obj(&cli_rows), "providers": provider_json(&cli), "config": cli.loaded.paths.config},
            "service_view": service.as_ref().map(|s| json!({"summary": to_obj(svc_rows.as_deref().unwrap_or(&[])), "providers": provider_json(s), "config": s.loaded.paths.config})),
            "differences": cli_rows.iter().zip(&differs).filter(|(_, d)| **d).map(|((k, _), _)| k.clone()).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    println!("service: {state}");
    for e in &view.evidence {
        println!("  from {e}");
    }
    let w = cli_rows.iter().map(|(k, _)| k.len()).max().unwrap_or(10);
    let cw = cli_rows
        .iter()
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 60);
    println!();
    println!(
        "  {:w$}  {:cw$}  {}",
        "",
        "this shell",
        if service.is_some() {
            "service"
        } else {
            "service (not found)"
        }
    );
    for (i, (k, v)) in cli_rows.iter().enumerate() {
        let s = svc_rows.as_ref().map(|r| r[i].1.as_str()).unwrap_or("-");
        println!(
            "{} {k:w$}  {v:cw$}  {s}",
            if differs[i] { "!" } else { " " }
        );
    }
    if differs.iter().any(|d| *d) {
        println!();
        println!(
            "lines marked ! differ between this shell and the service: `clawctl doctor` says what to do"
        );
    }
    Ok(0)
}
