use clap::Args;

use crate::cli::output::print_json;
use crate::cli::show::value_text;
use crate::cli::{Ctx, Outcome};
use crate::config::keypath::KeyPath;
use crate::fleet::commands;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: DiffArgs) -> Outcome {
    let state = super::fleet_of(ctx)?;
    super::require_live(&state)?;
    let target = state.target.clone();
    let diffs = crate::fleet::block_on(async {
        let (mut client, snap) = commands::snapshot(&target).await?;
        Ok::<_, String>(commands::diff(&mut client, &target, &snap).await)
    })
    .map_err(crate::cli::Failure::error)?;
    if args.json {
        print_json(&serde_json::to_value(&diffs).unwrap_or_default());
        return Ok(0);
    }
    if diffs.is_empty() {
        println!("no live members");
    }
    let show = |k: &str, v: &Option<serde_json::Value>| match v {
        Some(v) => value_text(&KeyPath::parse(k).unwrap_or_else(|_| KeyPath::root()), v),
        None => "(unset)".into(),
    };
    for d in &diffs {
        if d.changes.is_empty() && d.note.is_none() {
            println!("{}: up to date (@rev {})", d.member, d.to_revision);
            continue;
        }
        println!(
            "{}: @rev {} → @rev {}",
            d.member, d.from_revision, d.to_revision
        );
        if let Some(n) = &d.note {
            println!("  note: {n}");
        }
        for c in &d.changes {
            println!(
                "  {} {}: {} → {}{}",
                if c.overridden_locally { " " } else { "~" },
                c.key,
                show(&c.key, &c.from),
                show(&c.key, &c.to),
                if c.overridden_locally {
                    "  (overridden locally: no effect)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(0)
}
