//! clawctl: configuration of an AI-agent gateway, with every value's origin, the
//! service's own view of it, and safe edits.
//!
//! The one idea: the environment is an input. [`load::load`] takes an
//! [`env::Environment`]; the CLI's view and the running service's view are the same
//! computation on different environments.

pub mod catalog;
pub mod cli;
pub mod diagnostics;
pub mod dotenv;
pub mod env;
pub mod env_vars;
pub mod import_openclaw;
pub mod keypath;
pub mod load;
pub mod model;
pub mod origin;
pub mod paths;
pub mod schema;
pub mod secret;
pub mod tomlconv;
pub mod validate;
