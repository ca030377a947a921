//! The JSON Schema generated from the config types: generation, validation, and
//! lookups by key path (which type a key expects, which keys exist, which hold secrets).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::config::keypath::{KeyPath, Segment};
use crate::config::model::Config;

/// The schema as committed in `schema/config.schema.json`.
pub fn generate() -> Value {
    let schema = schemars::schema_for!(Config);
    serde_json::to_value(schema).expect("a generated schema is always JSON")
}

/// Pretty JSON with a trailing newline, exactly as committed.
pub fn generate_text() -> String {
    let mut s = serde_json::to_string_pretty(&generate()).expect("schema serializes");
    s.push('\n');
    s
}

pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generate)
}

pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // The validator gets a copy with every `$ref` inlined: jsonschema resolves
        // each `$ref` by cloning the document it points into, which made compiling
        // this small schema cost ~25 ms — more than everything else a command does.
        // Our schema has no recursive types, so inlining is exact.
        // It is also checked as draft 7: the builder always validates a schema against
        // its meta-schema first, and the 2020-12 meta-schema (with $dynamicRef) costs
        // far more to compile than our schema. Every keyword we use means the same
        // in draft 7.
        let mut inlined = inline_refs(schema(), 0);
        if let Value::Object(m) = &mut inlined {
            m.remove("$defs");
            m.insert(
                "$schema".into(),
                Value::String("http://json-schema.org/draft-07/schema#".into()),
            );
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(false)
            .build(&inlined)
            .expect("the generated schema is a valid JSON Schema")
    })
}

/// `{"$ref": "#/$defs/X", …}` → X's schema merged with the sibling keywords.
fn inline_refs(node: &Value, depth: usize) -> Value {
    match node {
        Value::Object(m) => {
            let mut out = Map::new();
            if let Some(r) = m.get("$ref").and_then(Value::as_str)
                && depth < 32
            {
                let name = r.rsplit('/').next().unwrap_or_default();
                if let Some(Value::Object(target)) = schema().get("$defs").and_then(|d| d.get(name))
                {
                    for (k, v) in target {
                        out.insert(k.clone(), inline_refs(v, depth + 1));
                    }
                }
            }
            for (k, v) in m {
                if k != "$ref" {
                    out.insert(k.clone(), inline_refs(v, depth + 1));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline_refs(v, depth + 1)).collect()),
        other => other.clone(),
    }
}

/// Follow `$ref` into `$defs`.
fn deref(node: &Value) -> &Value {
    let mut node = node;
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                match schema().get("$defs").and_then(|d| d.get(name)) {
                    Some(target) => node = target,
                    None => return node,
                }
            }
            None => return node,
        }
    }
    node
}

/// All alternatives a node stands for (anyOf/oneOf flattened, refs followed).
fn alternatives(node: &Value) -> Vec<&Value> {
    let node = deref(node);
    let mut out = Vec::new();
    let mut pushed_branch = false;
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = node.get(key) {
            for item in items {
                out.extend(alternatives(item));
            }
            pushed_branch = true;
        }
    }
    if !pushed_branch || node.get("type").is_some() || node.get("properties").is_some() {
        out.push(node);
    }
    out
}

fn child_of<'a>(node: &'a Value, seg: &Segment) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for alt in alternatives(node) {
        match seg {
            Segment::Key(k) => {
                if let Some(p) = alt.get("properties").and_then(|p| p.get(k)) {
                    out.push(p);
                } else if let Some(ap) = alt.get("additionalProperties")
                    && ap.is_object()
                {
                    out.push(ap);
                }
            }
            Segment::Index(_) => {
                if let Some(items) = alt.get("items")
                    && items.is_object()
                {
                    out.push(items);
                }
            }
        }
    }
    out
}

/// The schema nodes that describe the value at `path` (several when a key accepts
/// alternatives, e.g. `agents.defaults.model`: string or table). Empty: unknown key.
pub fn nodes_at(path: &KeyPath) -> Vec<&'static Value> {
    let mut current: Vec<&'static Value> = vec![schema()];
    for seg in path.segments() {
        let next: Vec<&'static Value> = current.iter().flat_map(|n| child_of(n, seg)).collect();
        if next.is_empty() {
            return next;
        }
        current = next;
    }
    current.into_iter().flat_map(alternatives).collect()
}

pub fn is_known(path: &KeyPath) -> bool {
    path.is_empty() || !nodes_at(path).is_empty()
}

/// JSON types the value at `path` may have ("string", "integer", "object", …).
pub fn types_at(path: &KeyPath) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for node in nodes_at(path) {
        let mut add = |t: &str| {
            if t != "null" && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        };
        match node.get("type") {
            Some(Value::String(t)) => add(t),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).for_each(&mut add),
            _ => {
                if node.get("enum").is_some() || node.get("const").is_some() {
                    add("string")
                }
            }
        }
    }
    out
}

/// Allowed values when the key is an enumeration.
pub fn enum_values_at(path: &KeyPath) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes_at(path) {
        if let Some(Value::Array(vals)) = node.get("enum") {
            out.extend(vals.iter().filter_map(Value::as_str).map(String::from));
        }
        if let Some(Value::String(c)) = node.get("const") {
            out.push(c.clone());
        }
    }
    out
}

/// Whether the key holds a secret (`x-secret` in the schema).
pub fn is_secret(path: &KeyPath) -> bool {
    // The schema marks exactly these two places `x-secret` (a unit test compares
    // this with the schema); matching the shape keeps the schema walk off the hot
    // path, where every string of a 50 KB config is asked.
    let keys: Vec<&str> = match path.last_key() {
        Some("api_key" | "token") => path.keys().collect(),
        _ => return false,
    };
    matches!(
        keys.as_slice(),
        ["models", "providers", _, "api_key"] | ["gateway", "auth", "token"]
    )
}

/// The schema's own answer, for the test that keeps `is_secret` honest.
#[cfg(test)]
fn is_secret_by_schema(path: &KeyPath) -> bool {
    nodes_at(path)
        .iter()
        .any(|n| n.get("x-secret").and_then(Value::as_bool) == Some(true))
        || parent_property(path).is_some_and(|n| n.get("x-secret") == Some(&Value::Bool(true)))
}

fn parent_property(path: &KeyPath) -> Option<&'static Value> {
    let parent = path.parent()?;
    let key = path.last_key()?;
    nodes_at(&parent)
        .into_iter()
        .find_map(|n| n.get("properties").and_then(|p| p.get(key)))
}

pub fn description_at(path: &KeyPath) -> Option<String> {
    if let Some(d) = parent_property(path).and_then(|n| n.get("description")) {
        return d.as_str().map(String::from);
    }
    nodes_at(path).iter().find_map(|n| {
        n.get("description")
            .and_then(Value::as_str)
            .map(String::from)
    })
}

/// Fixed property names under `path` (empty for free-form maps).
pub fn known_children(path: &KeyPath) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes_at(path) {
        if let Some(Value::Object(props)) = node.get("properties") {
            out.extend(props.keys().cloned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether `path` is a free-form map (provider ids, aliases, env vars).
pub fn is_open_map(path: &KeyPath) -> bool {
    nodes_at(path)
        .iter()
        .any(|n| n.get("additionalProperties").is_some_and(Value::is_object))
}

/// "did you mean" for an unknown key among its siblings.
pub fn suggest(path: &KeyPath) -> Option<String> {
    let parent = path.parent()?;
    let key = path.last_key()?;
    // Walk up to the deepest known ancestor.
    let mut known = KeyPath::root();
    for seg in path.segments() {
        let next = KeyPath::from_segments([known.segments(), std::slice::from_ref(seg)].concat());
        if !is_known(&next) {
            break;
        }
        known = next;
    }
    let _ = (parent, key);
    let bad_at = known.segments().len();
    let word = match path.segments().get(bad_at) {
        Some(Segment::Key(k)) => k.clone(),
        _ => return None,
    };
    let replacement = best_match(&word, &known_children(&known))?;
    let mut fixed = known.child(replacement);
    for seg in &path.segments()[bad_at + 1..] {
        fixed.push(seg.clone());
    }
    Some(fixed.to_string())
}

/// The closest candidate by Jaro-Winkler similarity, when close enough to be useful.
pub fn best_match(word: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// Human phrase of what a key expects: "an integer from 1 to 65535", "one of: a, b".
pub fn expected_at(path: &KeyPath) -> String {
    let enums = enum_values_at(path);
    let mut parts: Vec<String> = Vec::new();
    let types = types_at(path);
    for t in &types {
        match t.as_str() {
            "string" if !enums.is_empty() => parts.push(format!(
                "one of {}",
                enums
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            "integer" => {
                let (min, max) = range_at(path);
                parts.push(match (min, max) {
                    (Some(a), Some(b)) => format!("an integer from {a} to {b}"),
                    (Some(a), None) => format!("an integer ≥ {a}"),
                    _ => "an integer".into(),
                })
            }
            "string" => parts.push("a string".into()),
            "boolean" => parts.push("a boolean (true or false)".into()),
            "array" => parts.push("an array".into()),
            "object" => parts.push("a table".into()),
            "number" => parts.push("a number".into()),
            other => parts.push(other.to_string()),
        }
    }
    if parts.is_empty() {
        "a value".into()
    } else {
        parts.join(" or ")
    }
}

fn range_at(path: &KeyPath) -> (Option<i64>, Option<i64>) {
    let mut min = None;
    let mut max = None;
    for n in nodes_at(path) {
        if let Some(v) = n.get("minimum").and_then(Value::as_i64) {
            min = Some(min.map_or(v, |m: i64| m.max(v)));
        }
        if let Some(v) = n.get("maximum").and_then(Value::as_i64) {
            max = Some(max.map_or(v, |m: i64| m.min(v)));
        }
    }
    (min, max)
}

/// Convert a raw string (env var, `--set`, `config set` argument) into the typed
/// value the schema expects at `path`. Figment's own env parsing guesses types
/// (`"0123"` becomes 123); this asks the schema instead.
pub fn coerce(path: &KeyPath, raw: &str) -> Result<Value, String> {
    let types = types_at(path);
    if types.is_empty() {
        return Err("unknown key".into());
    }
    let expected = expected_at(path);
    // Strings first: a key that accepts a string takes the text verbatim.
    let trimmed = raw.trim();
    let wants = |t: &str| types.iter().any(|x| x == t);
    if (wants("array") || wants("object")) && (trimmed.starts_with('[') || trimmed.starts_with('{'))
    {
        return parse_structured(trimmed).map_err(|e| format!("expected {expected}: {e}"));
    }
    if wants("string") {
        return Ok(Value::String(raw.to_string()));
    }
    if wants("integer")
        && let Ok(n) = trimmed.parse::<i64>()
    {
        return Ok(Value::from(n));
    }
    if wants("number")
        && let Ok(n) = trimmed.parse::<f64>()
        && let Some(v) = serde_json::Number::from_f64(n)
    {
        return Ok(Value::Number(v));
    }
    if wants("boolean") {
        match trimmed {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
    }
    Err(format!(
        "expected {expected}, got `{}`",
        crate::secrets::mask::preview(raw)
    ))
}

/// Arrays and tables in TOML inline syntax or JSON.
pub fn parse_structured(text: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let doc = format!("v = {text}");
    match doc.parse::<toml_edit::DocumentMut>() {
        Ok(d) => Ok(crate::config::tomlconv::item_to_json(&d["v"])),
        Err(e) => Err(format!(
            "not valid TOML or JSON ({})",
            e.message().trim_end()
        )),
    }
}

/// Object keys of a JSON object, for tests and listings.
pub fn object_keys(v: &Map<String, Value>) -> Vec<String> {
    v.keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn types_follow_the_model() {
        assert_eq!(types_at(&kp("gateway.port")), vec!["integer"]);
        let model = types_at(&kp("agents.defaults.model"));
        assert!(model.contains(&"string".to_string()) && model.contains(&"object".to_string()));
        assert_eq!(
            types_at(&kp("agents.defaults.model.primary")),
            vec!["string"]
        );
        assert_eq!(types_at(&kp("models.providers.x.base_url")), vec!["string"]);
        assert_eq!(
            types_at(&kp("agents.defaults.model.fallbacks[0]")),
            vec!["string"]
        );
        assert!(types_at(&kp("gateway.nope")).is_empty());
    }

    #[test]
    fn every_secret_field_is_named_api_key_or_token() {
        fn walk(v: &Value, name: Option<&str>) {
            if v.get("x-secret") == Some(&Value::Bool(true)) {
                assert!(
                    matches!(name, Some("api_key" | "token")),
                    "x-secret on {name:?}"
                );
            }
            match v {
                Value::Object(m) => m.iter().for_each(|(k, c)| walk(c, Some(k))),
                Value::Array(a) => a.iter().for_each(|c| walk(c, name)),
                _ => {}
            }
        }
        walk(schema(), None);
    }

    #[test]
    fn the_secret_shortcut_agrees_with_the_schema() {
        for k in [
            "models.providers.moonshot.api_key",
            "models.providers.\"my.proxy\".api_key",
            "gateway.auth.token",
            "gateway.auth.mode",
            "models.providers.x.base_url",
            "models.providers.x.headers.api_key",
            "env.vars.token",
            "auth.profiles.x.provider",
        ] {
            let p = kp(k);
            assert_eq!(is_secret(&p), is_secret_by_schema(&p), "{k}");
        }
    }

    #[test]
    fn secrets_are_marked() {
        assert!(is_secret(&kp("models.providers.moonshot.api_key")));
        assert!(is_secret(&kp("gateway.auth.token")));
        assert!(!is_secret(&kp("gateway.port")));
    }

    #[test]
    fn coercion_is_typed_by_the_schema() {
        assert_eq!(
            coerce(&kp("gateway.port"), "0123").unwrap(),
            Value::from(123)
        );
        assert_eq!(
            coerce(&kp("gateway.bind"), "0123").unwrap(),
            Value::String("0123".into())
        );
        assert_eq!(
            coerce(&kp("env.shell_env.enabled"), "true").unwrap(),
            Value::Bool(true)
        );
        assert!(
            coerce(&kp("gateway.port"), "abc")
                .unwrap_err()
                .contains("integer")
        );
        assert_eq!(
            coerce(&kp("agents.defaults.model.fallbacks"), "[\"a/b\", 'c/d']").unwrap(),
            serde_json::json!(["a/b", "c/d"])
        );
    }

    #[test]
    fn suggestions_for_misspelt_keys() {
        assert_eq!(
            suggest(&kp("agents.defaults.model.primry")).as_deref(),
            Some("agents.defaults.model.primary")
        );
        assert_eq!(suggest(&kp("gatway.port")).as_deref(), Some("gateway.port"));
    }
}
