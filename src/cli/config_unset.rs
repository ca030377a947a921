use clap::Args;

use super::{Ctx, Failure, Outcome};
use crate::keypath::KeyPath;
use crate::writer::edit_config;

#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The key to remove from config.toml.
    pub key: String,
    /// Print the diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: UnsetArgs) -> Outcome {
    // A key that the schema does not know may still be in the file (a typo to
    // remove), so unset accepts any well-formed key that is present.
    let key = KeyPath::parse(&args.key).map_err(|e| Failure::usage(e.to_string()))?;
    let (report, applied) = edit_config(&ctx.env, &ctx.opts, args.dry_run, Vec::new(), |doc| {
        crate::edit::unset(doc, &key).map_err(|e| {
            let mut m = format!("{e}; nothing was written");
            if !crate::schema::is_known(&key)
                && let Some(s) = crate::schema::suggest(&key)
            {
                m.push_str(&format!("\n  help: did you mean `{s}`?"));
            }
            Failure::error(m)
        })
    })?;
    super::config_set::finish(
        ctx,
        &key,
        Some(report),
        &applied,
        false,
        Vec::new(),
        args.dry_run,
        args.json,
    )
}
