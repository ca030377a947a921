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
        let committed = std::fs::read_to_string(&path)
            .map_err(|e| Failure::error(format!("cannot read {}: {e}", path.display())))?;
        if committed == text {
            println!("{} is up to date", path.display());
            return Ok(0);
        }
        return Err(Failure::error(format!(
            "{} differs from the schema this clawctl generates\n  help: clawctl config schema > {}",
            path.display(),
            path.display()
        )));
    }
    print!("{text}");
    Ok(0)
}
