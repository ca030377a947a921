use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::show::value_text;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::load::load;
use crate::config::origin::Origin;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Prefix each line with where the value comes from.
    #[arg(long)]
    pub show_origin: bool,
    /// Include values that come from defaults.
    #[arg(long)]
    pub include_defaults: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> Outcome {
    let loaded = load(&ctx.env, &ctx.opts.fast())?;
    if loaded
        .errors()
        .any(|d| d.code == "syntax" || d.code == "unreadable" || d.code == "encoding")
    {
        return Err(Failure::error(loaded.render_diagnostics()));
    }
    let mut rows = Vec::new();
    for (key, origin) in loaded.origins() {
        if *origin == Origin::Default && !args.include_defaults {
            continue;
        }
        let Some(value) = loaded.get(key) else {
            continue;
        };
        rows.push((key, origin, value));
    }
    if args.json {
        let items: Vec<_> = rows
            .iter()
            .map(|(k, o, v)| {
                json!({"key": k.to_string(), "value": crate::secrets::mask::redact_tree(k, v), "origin": o.to_json()})
            })
            .collect();
        print_json(&json!({ "config": loaded.paths.config, "values": items }));
        return Ok(0);
    }
    for (k, o, v) in rows {
        if args.show_origin {
            crate::outln!("{}\t{k}={}", o.label(&loaded.env), value_text(k, v));
        } else {
            crate::outln!("{k}={}", value_text(k, v));
        }
    }
    if !loaded.is_valid() {
        crate::errln!("warning: the config has errors; run `clawctl config validate`");
    }
    Ok(0)
}
