//! Writing files safely: lock, compare-and-set, backups, fsync and rename
//! (`safe_write`), and config changes as one validated transaction (`transaction`).

pub mod safe_write;
pub mod transaction;
