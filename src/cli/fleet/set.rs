use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::fleet::commands::{self, FleetError, Plan};

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The key, e.g. `agents.defaults.model.primary`.
    pub key: String,
    /// The value, typed by the schema as for `config set` (`8080`, `'["a/b","c/d"]'`).
    pub value: String,
    /// Check the change against every live member and show it; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: SetArgs) -> Outcome {
    let key = KeyPath::parse(&args.key).map_err(|e| Failure::usage(e.to_string()))?;
    // Refuse what the layer may never hold before touching the network.
    commands::typed_value(&key, &args.value).map_err(super::fleet_error)?;
    change(ctx, &key, Some(&args.value), args.dry_run, args.json)
}

/// Shared by set and unset: plan (read + check every member), then write with a
/// transaction that compares the revision read.
pub(crate) fn change(
    ctx: &Ctx,
    key: &KeyPath,
    raw: Option<&str>,
    dry_run: bool,
    json: bool,
) -> Outcome {
    let state = super::fleet_of(ctx)?;
    super::require_live(&state)?;
    let target = state.target.clone();
    let by = super::operator(ctx);
    let result: Result<(Plan, Option<i64>), FleetError> = crate::fleet::block_on(async {
        let mut client = crate::fleet::connect(&target)
            .await
            .map_err(FleetError::Unreachable)?;
        let plan = commands::plan(&mut client, &target, key, raw).await?;
        if dry_run || !plan.checks.broken.is_empty() {
            return Ok((plan, None));
        }
        let rev = commands::commit(&mut client, &target, &plan, &by).await?;
        Ok((plan, Some(rev)))
    });
    let (plan, written) = result.map_err(super::fleet_error)?;
    let refused = !plan.checks.broken.is_empty();
    if json {
        print_json(&json!({
            "fleet": target.name,
            "plan": plan,
            "dry_run": dry_run,
            "written": written.is_some(),
            "revision": written,
            "refused": refused,
        }));
        return Ok(if refused { 1 } else { 0 });
    }
    let what = match &plan.value {
        Some(v) => format!("{} = {}", plan.key, crate::cli::show::value_text(key, v)),
        None => format!("unset {}", plan.key),
    };
    let was = plan
        .old_value
        .as_ref()
        .map(|v| format!(" (was {})", crate::cli::show::value_text(key, v)))
        .unwrap_or_default();
    if refused {
        return Err(super::fleet_error(FleetError::Breaks(plan.checks)));
    }
    let checked = format!(
        "checked against {} live member(s) ({} distinct local configs): none breaks",
        plan.checks.members, plan.checks.distinct
    );
    match written {
        None => {
            println!(
                "dry run: fleet `{}` @rev {}: {what}{was}",
                target.name, plan.read_revision
            );
            println!("{checked}");
        }
        Some(rev) => {
            println!("fleet `{}`: {what}{was} — now @rev {rev}", target.name);
            println!("{checked}");
        }
    }
    if !plan.overridden_by.is_empty() {
        println!(
            "note: {} member(s) set this key locally, so it does not reach them: {}",
            plan.overridden_by.len(),
            plan.overridden_by.join(", ")
        );
    }
    Ok(0)
}
