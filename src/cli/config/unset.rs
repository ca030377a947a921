use clap::Args;

use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::write::transaction::edit_config;

#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The key to remove from config.toml.
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::cli::completions::complete_key))]
    pub key: KeyPath,
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
    let key = args.key.clone();
    let (report, applied) = edit_config(&ctx.env, &ctx.opts, args.dry_run, Vec::new(), |doc| {
        crate::config::edit::unset(doc, &key).map_err(|e| {
            let mut m = format!("{e}; nothing was written");
            if !crate::config::schema::is_known(&key)
                && let Some(s) = crate::config::schema::suggest(&key)
            {
                m.push_str(&format!("\n  help: did you mean `{s}`?"));
            }
            Failure::error(m)
        })
    })?;
    super::set::finish(
        ctx,
        &key,
        Some(report),
        &applied,
        false,
        None,
        Vec::new(),
        args.dry_run,
        args.json,
    )
}
