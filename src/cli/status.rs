//! `clawctl status`: the CLI's view beside the service's, every difference marked.

use clap::Args;
use serde_json::{Value, json};

use super::output::print_json;
use super::{Ctx, Outcome};
use crate::config::keypath::KeyPath;
use crate::config::load::Loaded;
use crate::secrets::credentials::Resolved;
use crate::views::{Running, View, Views};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Full values, however wide (default: fit the terminal, eliding long values).
    #[arg(long)]
    pub wide: bool,
}

fn key_text(r: &Resolved) -> String {
    match r.winner() {
        Some(w) => format!("{} from {}", w.describe(), w.location),
        None if !r.needs_key => "not needed".into(),
        None => "MISSING".into(),
    }
}

/// One line of the table: its field path in `--json` (`providers.moonshot.key`),
/// its label on screen (`moonshot key`), and its value.
struct Row {
    field: KeyPath,
    label: String,
    value: String,
}

fn row(field: KeyPath, label: impl Into<String>, value: String) -> Row {
    Row {
        field,
        label: label.into(),
        value,
    }
}

/// The rows as one JSON object keyed by field names (nested: `providers.<id>.key`).
fn summary_json(rows: &[Row]) -> Value {
    let mut out = Value::Object(Default::default());
    for r in rows {
        let mut cur = &mut out;
        for seg in r.field.segments() {
            if let crate::config::keypath::Segment::Key(k) = seg {
                cur = cur
                    .as_object_mut()
                    .expect("summary fields are objects")
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Default::default()));
            }
        }
        *cur = json!(r.value);
    }
    out
}

/// The service column shows what the running gateway loaded, when one runs (its
/// receipt is the truth); else what its files give.
fn rows(views: &Views, side: &View, running: Option<&Running>, ids: &[String]) -> Vec<Row> {
    let l = &side.loaded;
    let catalog = &views.catalog;
    let mut r = vec![
        row(
            KeyPath::of(&["config"]),
            "config",
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
        row(
            KeyPath::of(&["home"]),
            "home",
            l.env.display_path(&l.paths.home),
        ),
        row(
            KeyPath::of(&["config_sha256"]),
            "config sha256",
            running
                .map(|r| r.receipt.config_sha256.as_deref())
                .unwrap_or(l.config_sha256.as_deref())
                .map(|h| h[..12].to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        row(
            KeyPath::of(&["valid"]),
            "valid",
            if l.is_valid() {
                "yes".into()
            } else {
                format!("NO ({} errors)", l.errors().count())
            },
        ),
        row(
            KeyPath::of(&["default_model"]),
            "default model",
            or_invalid(l, &["agents", "defaults", "model"], || {
                l.config.primary_model().unwrap_or("(not set)").to_string()
            }),
        ),
    ];
    if let Some(f) = &l.fleet {
        // Live or cached: which copy of the fleet layer this view runs on.
        r.push(row(KeyPath::of(&["fleet"]), "fleet", f.summary()));
    }
    for id in ids {
        let files = side.resolve(catalog, id);
        let key = match running.map(|r| r.receipt.providers.get(id)) {
            Some(Some(k)) => crate::views::receipt_key_text(k),
            Some(None) if files.winner().is_some() => "none loaded".into(),
            _ => key_text(&files),
        };
        r.push(row(
            KeyPath::of(&["providers", id, "key"]),
            format!("{id} key"),
            key,
        ));
        let ep = match super::models::status::invalid_setting(l, id) {
            Some(bad) => format!("INVALID ({bad})"),
            None => super::models::status::endpoint(l, catalog, id)
                .map(|e| e.base_url)
                .unwrap_or_else(|| "-".into()),
        };
        r.push(row(
            KeyPath::of(&["providers", id, "endpoint"]),
            format!("{id} endpoint"),
            ep,
        ));
    }
    r.push(row(
        KeyPath::of(&["gateway"]),
        "gateway",
        format!(
            "{}:{}",
            or_invalid(l, &["gateway", "bind"], || l.config.gateway.bind.clone()),
            or_invalid(l, &["gateway", "port"], || l
                .config
                .gateway
                .port
                .to_string())
        ),
    ));
    let files = side.gateway_token();
    let token = match running.map(|r| r.receipt.gateway_token.as_ref()) {
        Some(Some(k)) => crate::views::receipt_key_text(k),
        Some(None) if files.winner().is_some() => "none loaded".into(),
        _ => key_text(&files),
    };
    r.push(row(KeyPath::of(&["gateway_token"]), "gateway token", token));
    r
}

/// `value()`, or `INVALID (key)` when the setting at `key` is invalid (its default
/// stands in the typed config and must not be shown as if it were configured).
fn or_invalid(l: &Loaded, key: &[&str], value: impl FnOnce() -> String) -> String {
    match l.invalid_near(&KeyPath::of(key)) {
        Some(bad) => format!("INVALID ({bad})"),
        None => value(),
    }
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Outcome {
    if let Some(h) = super::openclaw::hint(ctx) {
        if args.json {
            crate::errln!("note: {h}");
        } else {
            crate::outln!("note: {h}");
        }
    }
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
        .map(|(i, r)| svc_rows.as_ref().is_some_and(|s| s[i].value != r.value))
        .collect();
    let state = view.state.describe();
    if args.json {
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
            "cli": {"summary": summary_json(&cli_rows), "providers": provider_json(cli), "config": cli.loaded.paths.config},
            "service_view": service.as_ref().map(|s| json!({"summary": summary_json(svc_rows.as_deref().unwrap_or(&[])), "providers": provider_json(s), "config": s.loaded.paths.config})),
            "differences": cli_rows.iter().zip(&differs).filter(|(_, d)| **d).map(|(r, _)| r.field.to_string()).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    let width = super::style::width(&ctx.env, args.wide);
    let say = |line: String| crate::outln!("{}", super::style::wrap(&line, width, 4));
    // A fresh machine: the table below is all defaults and "MISSING"; say the one next step.
    let fresh = cli.loaded.is_valid()
        && crate::doctor::nothing_configured(
            &cli.loaded,
            &cli.store,
            // A definition that does not parse is still a service someone set up.
            service.is_some() || !view.errors.is_empty(),
        );
    if fresh {
        say(format!(
            "nothing is configured yet (no {}, no stored key): start with `clawctl onboard`",
            cli.loaded.env.display_path(&cli.loaded.paths.config)
        ));
        crate::outln!();
    }
    say(format!("service: {state}"));
    for e in &view.evidence {
        say(format!("  from {e}"));
    }
    if let Some(r) = running {
        say(format!(
            "  running gateway pid {} loaded {} (receipt {})",
            r.receipt.pid,
            ctx.env.display_path(&r.receipt.config_path),
            ctx.env.display_path(&r.receipt_path)
        ));
        for d in &r.drift {
            say(format!("  ! {}", d.sentence()));
        }
    }
    let w = cli_rows.iter().map(|r| r.label.len()).max().unwrap_or(10);
    let longest = |rows: &[Row]| {
        rows.iter()
            .map(|r| r.value.chars().count())
            .max()
            .unwrap_or(10)
    };
    // Two value columns share what the labels leave: the service column takes what it
    // needs up to half, the CLI's the rest; long values are elided (…). --wide (or a
    // pipe without COLUMNS) shows them whole.
    let (cw, sw) = match width {
        Some(total) => {
            let room = total.saturating_sub(2 + w + 2 + 2).max(20);
            let svc_need = svc_rows.as_deref().map_or(19, longest).max(7);
            let cw = longest(&cli_rows)
                .min(room.saturating_sub(svc_need.min(room / 2)))
                .max(10);
            (cw, room.saturating_sub(cw).max(10))
        }
        None => (longest(&cli_rows).max(10), usize::MAX),
    };
    crate::outln!();
    let service_title = if service.is_some() {
        "service"
    } else {
        "service (not found)"
    };
    crate::outln!("  {:w$}  {:cw$}  {service_title}", "", "this shell");
    for (
        i,
        Row {
            label: k, value: v, ..
        },
    ) in cli_rows.iter().enumerate()
    {
        let s = svc_rows
            .as_ref()
            .map(|r| r[i].value.as_str())
            .unwrap_or("-");
        // A key's shape and fingerprint matter more than where it comes from; a
        // path's both ends matter.
        let cut = if k.ends_with(" key") || k.ends_with(" token") {
            super::style::elide_end
        } else {
            super::style::elide
        };
        let (v, s) = (cut(v, cw), cut(s, sw));
        let mark = if differs[i] {
            super::style::paint(super::style::MARK, "!")
        } else {
            " ".into()
        };
        let line = format!("{mark} {k:w$}  {v:cw$}  {s}");
        crate::outln!("{}", line.trim_end());
    }
    if differs.iter().any(|d| *d) {
        crate::outln!();
        say("lines marked ! differ between this shell and the service: `clawctl doctor` says what to do".into());
    }
    if width.is_some()
        && (longest(&cli_rows) > cw || svc_rows.as_deref().is_some_and(|r| longest(r) > sw))
    {
        say("(… marks a shortened value: --wide or --json shows it whole)".into());
    }
    Ok(0)
}
