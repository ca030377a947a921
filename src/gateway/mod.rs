//! The gateway daemon (`clawctl gateway run`): a small HTTP service that loads the
//! config exactly as the CLI does, from its own environment, and reports what it
//! loaded — so "which config and which key does the running service use?" has an
//! answer from the service itself.

pub mod receipt;
pub mod server;
pub mod state;

pub use server::{RunOptions, run};
