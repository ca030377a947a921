//! `clawctl fleet …`: many gateways on one etcd. Thin: the logic is in `crate::fleet`.

use clap::Subcommand;

use crate::cli::{Ctx, Failure};
use crate::config::load::load;
use crate::fleet::FleetState;

pub mod diff;
pub mod get;
pub mod list;
pub mod set;
pub mod status;
pub mod unset;

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Every member: the layer revision it runs, its config, drift between members.
    Status(status::StatusArgs),
    /// Print a value of the fleet layer.
    Get(get::GetArgs),
    /// List the fleet layer: origin<TAB>key=value.
    List(list::ListArgs),
    /// Set a key in the fleet layer, typed by the schema, checked against every live member first.
    Set(set::SetArgs),
    /// Remove a key from the fleet layer, checked against every live member first.
    Unset(unset::UnsetArgs),
    /// Per member: what the newest layer revision changes compared with the one it runs.
    Diff(diff::DiffArgs),
}

pub fn run(ctx: &Ctx, cmd: FleetCommand) -> crate::cli::Outcome {
    match cmd {
        FleetCommand::Status(a) => status::run(ctx, a),
        FleetCommand::Get(a) => get::run(ctx, a),
        FleetCommand::List(a) => list::run(ctx, a),
        FleetCommand::Set(a) => set::run(ctx, a),
        FleetCommand::Unset(a) => unset::run(ctx, a),
        FleetCommand::Diff(a) => diff::run(ctx, a),
    }
}

/// The fleet this config belongs to, as `load` found it (with the layer it read).
pub(crate) fn fleet_of(ctx: &Ctx) -> Result<FleetState, Failure> {
    let loaded = load(&ctx.env, &ctx.opts.fast())?;
    if let Some(d) = loaded.errors().find(|d| d.code == "fleet") {
        return Err(Failure::error(d.message.clone()));
    }
    loaded.fleet.ok_or_else(|| {
        Failure::error(
            "no fleet is configured\n  help: clawctl config set fleet.name prod && clawctl config set fleet.etcd.endpoints '[\"http://127.0.0.1:2379\"]' (or CLAWCTL_FLEET / CLAWCTL_FLEET_ETCD)",
        )
    })
}

/// Commands that write or need a live view refuse to work from the cache.
pub(crate) fn require_live(state: &FleetState) -> Result<(), Failure> {
    match (&state.layer, &state.unavailable) {
        (Some(l), _) if !l.is_cached() => Ok(()),
        (Some(l), _) => Err(Failure::error(format!(
            "fleet `{}`: etcd {} is unreachable (only the cached layer @rev {} is available)\n  help: `clawctl fleet list` shows the cached layer; start or reach etcd, then run this again",
            state.target.name,
            state.target.endpoints_text(),
            l.revision
        ))),
        (None, e) => Err(Failure::error(format!(
            "fleet `{}`: {}",
            state.target.name,
            e.clone().unwrap_or_else(|| "no layer".into())
        ))),
    }
}

pub(crate) fn fleet_error(e: crate::fleet::commands::FleetError) -> Failure {
    Failure::error(e.to_string())
}

/// `user@host` for the layer's head: who made the last change.
pub(crate) fn operator(ctx: &Ctx) -> String {
    let user = ctx
        .env
        .var("USER")
        .or_else(|| ctx.env.var("LOGNAME"))
        .unwrap_or("someone");
    format!("{user}@{}", crate::fleet::hostname())
}
