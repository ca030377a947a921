//! clawctl: configuration of an AI-agent gateway, with every value's origin, the
//! service's own view of it, and safe edits.
//!
//! The one idea: the environment is an input. [`config::load::load`] takes an
//! [`env::Environment`]; the CLI's view and the running service's view are the same
//! computation on different environments.
//!
//! A folder per concern (the README's "Architecture" section is the map):
//! `env` (the only reader of the process), `config` (model, key paths, origins, layers,
//! schema, validation, editing), `write` (safe writes and transactions), `secrets`
//! (credential store, masking), `providers` (catalog, probes), `service` (definitions,
//! managers, the service view, install), `doctor`, `migrate`, `transfer` (bundles,
//! OpenClaw import), `gateway`, and `cli` (thin commands).

// Diagnostics are large on purpose (file, span, origin, help); they travel only on
// the error path, where their size costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod config;
pub mod dialect;
pub mod doctor;
pub mod env;
pub mod failure;
pub mod fix;
pub mod fleet;
pub mod gateway;
#[cfg(test)]
pub(crate) mod growth;
pub mod migrate;
pub mod providers;
pub mod read;
pub mod secrets;
pub mod service;
pub mod transfer;
pub mod views;
pub mod write;
