//! `clawctl status`: the CLI's view beside the service's, every difference marked.

use clap::Args;
use serde_json::{Value, json};

use super::output::print_json;
use super::{Ctx, Outcome};
use crate::secrets::credentials::Resolved;
use crate::views::{Running, View, Views};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

fn key_text(r: &Resolved) -> String {
    match r.winner() {
        Some(w) => format!("{} from {}", w.describe(), w.location),
        None if !r.needs_key => "not needed".into(),
        None => "MISSING".into(),
    }
}

/// The service column shows what the running gateway loaded, when one runs (its
/// receipt is the truth); else what its files give.
fn rows(
    views: &Views,
    side: &View,
    running: Option<&Running>,
    ids: &[String],
) -> Vec<(String, String)> {
    let l = &side.loaded;
    let catalog = &views.catalog;
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
            running
                .map(|r| r.receipt.config_sha256.as_deref())
                .unwrap_or(l.config_sha256.as_deref())
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
    if let Some(f) = &l.fleet {
        // Live or cached: which copy of the fleet layer this view runs on.
        r.push(("fleet".into(), f.summary()));
    }
    for id in ids {
        let files = side.resolve(catalog, id);
        let key = match running.map(|r| r.receipt.providers.get(id)) {
            Some(Some(k)) => crate::views::receipt_key_text(k),
            Some(None) if files.winner().is_some() => "none loaded".into(),
            _ => key_text(&files),
        };
        r.push((format!("{id} key"), key));
        let ep = super::models::status::endpoint(l, catalog, id)
            .map(|e| e.base_url)
            .unwrap_or_else(|| "-".into());
        r.push((format!("{id} endpoint"), ep));
    }
    r.push((
        "gateway".into(),
        format!("{}:{}", l.config.gateway.bind, l.config.gateway.port),
    ));
    let files = side.gateway_token();
    let token = match running.map(|r| r.receipt.gateway_token.as_ref()) {
        Some(Some(k)) => crate::views::receipt_key_text(k),
        Some(None) if files.winner().is_some() => "none loaded".into(),
        _ => key_text(&files),
    };
    r.push(("gateway token".into(), token));
    r
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Outcome {
    let views = ctx.views(true)?;
    let catalog = &views.catalog;
    let cli = &views.cli;
    let view = &views.discovery;
    let service = views.service.as_ref();
    let running = views.running.as_ref();
    let ids = views.providers();
    let cli_rows = rows(&views, cli, None, &ids);
    let svc_rows = service.map(|s| rows(&views, s, running, &ids));
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
        let provider_json = |side: &View| -> Value {
            ids.iter()
                .map(|id| {
                    (
                        id.clone(),
                        serde_json::to_value(side.resolve(catalog, id)).unwrap_or_default(),
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
            "running": running.map(|r| json!({
                "pid": r.receipt.pid,
                "receipt": r.receipt_path,
                "config_sha256": r.receipt.config_sha256,
                "restart_needed": !r.drift.is_empty(),
                "drift": r.drift,
            })),
            "restart_needed": views.restart_needed(),
            "cli": {"summary": to_obj(&cli_rows), "providers": provider_json(cli), "config": cli.loaded.paths.config},
            "service_view": service.as_ref().map(|s| json!({"summary": to_obj(svc_rows.as_deref().unwrap_or(&[])), "providers": provider_json(s), "config": s.loaded.paths.config})),
            "differences": cli_rows.iter().zip(&differs).filter(|(_, d)| **d).map(|((k, _), _)| k.clone()).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    println!("service: {state}");
    for e in &view.evidence {
        println!("  from {e}");
    }
    if let Some(r) = running {
        println!(
            "  running gateway pid {} loaded {} (receipt {})",
            r.receipt.pid,
            ctx.env.display_path(&r.receipt.config_path),
            ctx.env.display_path(&r.receipt_path)
        );
        for d in &r.drift {
            println!("  ! {}", d.sentence());
        }
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
