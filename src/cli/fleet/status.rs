use clap::Args;

use crate::cli::output::print_json;
use crate::cli::{Ctx, Outcome};
use crate::fleet::commands::{self, StatusReport};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Outcome {
    let state = super::fleet_of(ctx)?;
    let target = state.target.clone();
    let report = if state.layer.as_ref().is_some_and(|l| !l.is_cached()) {
        match crate::fleet::block_on(commands::snapshot(&target)) {
            Ok((_, snap)) => commands::status_report(&target, &snap),
            Err(e) => offline(&state, e),
        }
    } else {
        let e = match (&state.layer, &state.unavailable) {
            (Some(l), _) => match &l.source {
                crate::fleet::LayerSource::Cached { error, .. } => error.clone(),
                _ => String::new(),
            },
            (None, Some(e)) => e.clone(),
            (None, None) => "no layer".into(),
        };
        offline(&state, e)
    };
    if args.json {
        print_json(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(if report.reachable { 0 } else { 1 });
    }
    print_text(&report);
    Ok(if report.reachable { 0 } else { 1 })
}

fn offline(state: &crate::fleet::FleetState, error: String) -> StatusReport {
    StatusReport {
        fleet: state.target.name.clone(),
        endpoints: state.target.endpoints.clone(),
        reachable: false,
        error: Some(error),
        layer: state.layer.as_deref().map(commands::layer_info),
        members: vec![],
        unreadable_members: 0,
        drift: vec![],
    }
}

fn print_text(r: &StatusReport) {
    println!("fleet     {}", r.fleet);
    println!(
        "etcd      {}{}",
        r.endpoints.join(","),
        if r.reachable { "" } else { "  UNREACHABLE" }
    );
    if let Some(e) = &r.error {
        println!("error     {e}");
    }
    match &r.layer {
        Some(l) => {
            let src = match &l.source {
                crate::fleet::LayerSource::Live => "live".to_string(),
                crate::fleet::LayerSource::Cached { fetched_at, .. } => format!(
                    "CACHED copy, read {} (members cannot be listed)",
                    crate::fleet::cache::age_text(*fetched_at)
                ),
            };
            println!("layer     @rev {} — {} keys — {src}", l.revision, l.keys);
            for x in &l.refused {
                println!("  ! {} is not used: {}", x.key, x.reason);
            }
        }
        None => println!("layer     unavailable (no cache)"),
    }
    if !r.reachable {
        return;
    }
    println!("members   {}", r.members.len());
    if !r.members.is_empty() {
        println!(
            "  {:<28} {:>6}  {:<9} {:<28} state",
            "member", "rev", "config", "default model"
        );
        for m in &r.members {
            let rev = format!("{}{}", m.fleet_revision, if m.stale { "!" } else { "" });
            let cfg = match m.config_current {
                Some(true) => "current",
                Some(false) => "CHANGED",
                None => "?",
            };
            let state = match &m.refused {
                Some(x) => format!("REFUSING @rev {}", x.revision),
                None if m.fleet_cached => "serving cached layer".into(),
                None => "ok".into(),
            };
            println!(
                "  {:<28} {:>6}  {:<9} {:<28} {state}",
                m.id,
                rev,
                cfg,
                m.default_model.as_deref().unwrap_or("-")
            );
        }
    }
    if r.unreadable_members > 0 {
        println!(
            "  ! {} member record(s) could not be read",
            r.unreadable_members
        );
    }
    if r.drift.is_empty() {
        println!("drift     none");
    } else {
        println!("drift");
        for d in &r.drift {
            println!("  ! {}", d.message);
        }
    }
}
