//! Model providers: the catalog (every provider fact in one place) and probes that
//! say why a key is rejected.

pub mod catalog;
pub mod probe;
