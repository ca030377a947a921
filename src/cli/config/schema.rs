use clap::Args;

use crate::cli::{Ctx, Failure, Outcome};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Exit 1 if FILE differs from the schema this clawctl generates (drift check).
    #[arg(long, value_name = "FILE")]
    pub check: Option<std::path::PathBuf>,
}

pub fn run(_ctx: &Ctx, args: SchemaArgs) -> Outcome {
    let text = crate::config::schema::generate_text();
    if let Some(path) = args.check {
        let committed = crate::read::string(&path)
            .map_err(|e| Failure::error(format!("cannot read {}: {e}", path.display())))?;
        if committed == text {
            crate::outln!("{} is up to date", path.display());
            return Ok(0);
        }
        // Suggest regenerating only a file that is a JSON Schema: `--check config.toml`
        // must never be answered with a command that overwrites the user's config.
        let is_schema = serde_json::from_str::<serde_json::Value>(&committed)
            .ok()
            .is_some_and(|v| v.get("$schema").is_some());
        if !is_schema {
            return Err(Failure::error(format!(
                "{} is not a JSON Schema, so it cannot match the one clawctl generates
  help: to check a config file, use `clawctl config validate {}`",
                path.display(),
                path.display()
            )));
        }
        return Err(Failure::error(format!(
            "{} differs from the schema this clawctl generates\n  help: regenerate it: clawctl config schema > {}",
            path.display(),
            path.display()
        )));
    }
    crate::out!("{text}");
    Ok(0)
}
