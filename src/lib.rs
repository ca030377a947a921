//! clawctl: configuration of an AI-agent gateway, with every value's origin, the
//! service's own view of it, and safe edits.
//!
//! The one idea: the environment is an input. [`load::load`] takes an
//! [`env::Environment`]; the CLI's view and the running service's view are the same
//! computation on different environments.

// Diagnostics are large on purpose (file, span, origin, help); they travel only on
// the error path, where their size costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod bundle;
pub mod catalog;
pub mod cli;
pub mod credentials;
pub mod diagnostics;
pub mod doctor;
pub mod dotenv;
pub mod edit;
pub mod env;
pub mod env_vars;
pub mod failure;
pub mod gateway;
pub mod import_openclaw;
pub mod keypath;
pub mod load;
pub mod migrate;
pub mod model;
pub mod origin;
pub mod paths;
pub mod probe;
pub mod prompt;
pub mod receipt;
pub mod safe_write;
pub mod schema;
pub mod secret;
pub mod service;
pub mod service_install;
pub mod service_manager;
pub mod service_view;
pub mod shell;
pub mod tomlconv;
pub mod validate;
pub mod writer;
