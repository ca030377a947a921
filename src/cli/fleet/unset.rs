use clap::Args;

use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;

#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The key (a table removes everything under it).
    pub key: String,
    /// Check the change against every live member and show it; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: UnsetArgs) -> Outcome {
    let key = KeyPath::parse(&args.key).map_err(|e| Failure::usage(e.to_string()))?;
    super::set::change(ctx, &key, None, args.dry_run, args.json)
}
