//! The configuration: its typed model, key paths, origins and layer order, the
//! layered load, the JSON Schema, validation with located diagnostics, the `.env`
//! layer, and comment-keeping TOML edits.

pub mod diagnostics;
pub mod dotenv;
pub mod edit;
pub mod keypath;
pub mod load;
pub mod model;
pub mod origin;
pub mod schema;
pub mod tomlconv;
pub mod validate;
