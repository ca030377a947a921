//! Showing config values: plain text the way git prints them, secrets redacted.

use serde_json::Value;

use crate::config::keypath::KeyPath;

/// One value as text: strings bare, arrays and tables as inline JSON.
pub fn value_text(path: &KeyPath, value: &Value) -> String {
    match crate::secrets::mask::redact_tree(path, value) {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
