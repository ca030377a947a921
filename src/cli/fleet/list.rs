use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::show::value_text;
use crate::cli::{Ctx, Outcome};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Prefix each line with the etcd key and revision.
    #[arg(long)]
    pub show_origin: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> Outcome {
    let state = super::fleet_of(ctx)?;
    let Some(layer) = &state.layer else {
        super::require_live(&state)?;
        return Ok(1);
    };
    if let crate::fleet::LayerSource::Cached { error, .. } = &layer.source {
        eprintln!(
            "warning: etcd unreachable ({error}); showing the cached layer @rev {}",
            layer.revision
        );
    }
    for r in &layer.refused {
        eprintln!("warning: {} is not used: {}", r.key, r.reason);
    }
    if args.json {
        let values: Vec<_> = layer
            .entries
            .iter()
            .map(|e| {
                json!({
                    "key": e.path.to_string(),
                    "value": crate::secrets::mask::redact_tree(&e.path, &e.value),
                    "origin": layer.origin_of(e).to_json(),
                })
            })
            .collect();
        print_json(&json!({
            "fleet": state.target.name,
            "revision": layer.revision,
            "cached": layer.is_cached(),
            "values": values,
            "refused": layer.refused,
        }));
        return Ok(0);
    }
    for e in &layer.entries {
        let v = value_text(&e.path, &e.value);
        if args.show_origin {
            println!("{}\t{}={v}", layer.origin_of(e).label(&ctx.env), e.path);
        } else {
            println!("{}={v}", e.path);
        }
    }
    Ok(0)
}
