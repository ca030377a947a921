//! Secrets: the credential store (`credentials.toml`) with its resolver, and how a
//! secret may be shown (shape and fingerprint, never the value).

pub mod credentials;
pub mod detect;
pub mod keep;
pub mod mask;
pub mod sink;
