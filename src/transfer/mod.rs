//! Moving settings across machines and tools: export bundles and the OpenClaw import.

pub mod bundle;
pub mod openclaw;
