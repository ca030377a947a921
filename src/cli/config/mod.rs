//! `clawctl config …`: one file per subcommand.

pub mod get;
pub mod list;
pub mod path;
pub mod schema;
pub mod set;
pub mod unset;
pub mod validate;
