use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::show::value_text;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::config::origin::Origin;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key, e.g. `agents.defaults.model.primary`.
    pub key: String,
    /// Also print the etcd key and revision the value comes from.
    #[arg(long)]
    pub show_origin: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: GetArgs) -> Outcome {
    let key = KeyPath::parse(&args.key).map_err(|e| Failure::usage(e.to_string()))?;
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
    let Some(e) = layer.get(&key) else {
        if args.json {
            print_json(&json!({"key": key.to_string(), "set": false, "value": null}));
            return Ok(1);
        }
        return Err(Failure::error(format!(
            "`{key}` is not set in fleet `{}` (@rev {})",
            state.target.name, layer.revision
        )));
    };
    let origin: Origin = layer.origin_of(e);
    if args.json {
        print_json(&json!({
            "key": key.to_string(),
            "set": true,
            "value": crate::secrets::mask::redact_tree(&key, &e.value),
            "origin": origin.to_json(),
        }));
    } else if args.show_origin {
        println!("{}\t{}", origin.label(&ctx.env), value_text(&key, &e.value));
    } else {
        println!("{}", value_text(&key, &e.value));
    }
    Ok(0)
}
