//! The gateway daemon (`clawctl gateway run`): an OpenAI-compatible model gateway
//! that loads the config exactly as the CLI does, from its own environment, calls
//! the configured providers in their own protocols with the keys the service view
//! shows, falls back over `agents.defaults.model.fallbacks`, explains every
//! provider failure where it happens, and reports what it loaded.

pub mod failures;
pub mod findings;
pub mod log;
pub mod receipt;
pub mod routes;
pub mod server;
pub mod state;
pub mod upstream;

pub use server::{RunOptions, run};
