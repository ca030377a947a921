use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::{Ctx, Failure, Outcome};
use crate::env::paths::Paths;

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: PathArgs) -> Outcome {
    let paths =
        Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()).map_err(|e| Failure::usage(e.0))?;
    let exists = paths.config.exists();
    if args.json {
        print_json(&json!({
            "config": paths.config,
            "config_exists": exists,
            "chosen_by": paths.config_reason,
            "home": paths.home,
            "home_chosen_by": paths.home_reason,
            "profile": paths.profile,
            "credentials": paths.credentials,
            "dotenv": paths.dotenv,
            "backups": paths.backups,
            "receipt": paths.receipt(),
            "candidates": paths.candidates,
            "legacy": paths.legacy,
        }));
        return Ok(0);
    }
    let env = &ctx.env;
    crate::outln!("{}", paths.config.display());
    crate::outln!(
        "  {} (chosen by {})",
        if exists {
            "exists"
        } else {
            "does not exist: defaults apply; `clawctl config set` or `clawctl onboard` creates it"
        },
        paths.config_reason
    );
    crate::outln!(
        "home: {} (from {})",
        env.display_path(&paths.home),
        paths.home_reason
    );
    crate::outln!("candidates, in order:");
    for (var, what) in [
        (crate::env::vars::CLAWCTL_CONFIG, "the config file"),
        (crate::env::vars::CLAWCTL_HOME, "the home"),
        (crate::env::vars::XDG_CONFIG_HOME, "the base of the home"),
    ] {
        if env.var(var).is_none() {
            crate::outln!("    ${var} is not set (it would choose {what})");
        }
    }
    for c in &paths.candidates {
        crate::outln!(
            "  {} {}  [{}] {}",
            if c.chosen { "*" } else { " " },
            env.display_path(&c.path),
            c.reason,
            if c.exists { "exists" } else { "missing" }
        );
    }
    for l in &paths.legacy {
        crate::outln!(
            "legacy config found: {} (`clawctl migrate` moves it)",
            env.display_path(l)
        );
    }
    Ok(0)
}
