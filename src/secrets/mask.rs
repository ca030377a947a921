//! How a secret may be shown: its known prefix shape, a sha256 fingerprint and its
//! length. Never the value: not in output, logs, errors, JSON or backups listings.

use sha2::{Digest, Sha256};

/// Prefixes that say which kind of key a value is, longest first so that
/// `sk-kimi-` wins over `sk-`. Kept here (not in the catalog) because redaction must
/// work even when the catalog fails to load.
const KNOWN_PREFIXES: &[&str] = &[
    "sk-ant-api03-",
    "sk-ant-oat01-",
    "sk-or-v1-",
    "sk-proj-",
    "sk-kimi-",
    "sk-ant-",
    "sk-or-",
    "sk-cp-",
    "sk-",
    "gsk_",
    "xai-",
    "AIza",
    "ghp_",
    "hf_",
];

/// `sha256:` and the first 8 hex digits of the value's SHA-256.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The known prefix of a key, if it has one.
pub fn shape(secret: &str) -> Option<&'static str> {
    KNOWN_PREFIXES
        .iter()
        .copied()
        .find(|p| secret.starts_with(p))
}

/// `sk-kimi-… (sha256:3f9a1c2e, 51 chars)`.
pub fn describe(secret: &str) -> String {
    let n = secret.chars().count();
    match shape(secret) {
        Some(p) => format!("{p}… ({}, {n} chars)", fingerprint(secret)),
        None => format!("… ({}, {n} chars)", fingerprint(secret)),
    }
}

/// Whether a value looks like a credential (for values that reach an error message
/// from a place where we cannot know the key is secret, such as a wrong-typed env var).
/// URLs and absolute paths are not keys (a URL's userinfo is masked by the sink).
pub fn looks_secret(value: &str) -> bool {
    let v = value.trim();
    !v.contains("://") && !v.starts_with('/') && crate::secrets::detect::is_secret_word(v)
}

/// A value as it may appear in an error message: itself, or its description when it
/// looks like a secret; long values are cut.
pub fn preview(value: &str) -> String {
    if looks_secret(value) {
        return describe(value);
    }
    if value.chars().count() > 60 {
        let cut: String = value.chars().take(57).collect();
        format!("{cut}…")
    } else {
        value.to_string()
    }
}

/// A reference to a stored credential: `cred:PROVIDER:NAME`.
pub fn parse_cred_ref(value: &str) -> Option<&str> {
    value
        .strip_prefix("cred:")
        .filter(|id| is_valid_profile_id(id))
}

/// An env reference: `${NAME}`.
pub fn parse_env_ref(value: &str) -> Option<&str> {
    let name = value.strip_prefix("${")?.strip_suffix('}')?;
    is_valid_env_name(name).then_some(name)
}

pub fn is_valid_profile_id(id: &str) -> bool {
    let mut parts = id.splitn(2, ':');
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if ok(a) && ok(b))
}

pub fn is_valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What kind of value a secret-holding key has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue<'a> {
    CredRef(&'a str),
    EnvRef(&'a str),
    Literal(&'a str),
    /// Looks like a reference but is malformed (`{env:X}`, `${X`, `cred:x`).
    Malformed(&'a str),
}

pub fn classify(value: &str) -> SecretValue<'_> {
    if let Some(id) = parse_cred_ref(value) {
        SecretValue::CredRef(id)
    } else if let Some(name) = parse_env_ref(value) {
        SecretValue::EnvRef(name)
    } else if value.starts_with("cred:")
        || value.starts_with("${")
        || value.starts_with("{env:")
        || value.starts_with("$")
    {
        SecretValue::Malformed(value)
    } else {
        SecretValue::Literal(value)
    }
}

/// How a secret-holding config value is displayed: references as themselves,
/// literals as their description.
pub fn display_config_secret(value: &str) -> String {
    match classify(value) {
        SecretValue::CredRef(_) | SecretValue::EnvRef(_) => value.to_string(),
        SecretValue::Malformed(v) => format!("malformed reference {}", preview(v)),
        SecretValue::Literal(v) => format!("literal {}", describe(v)),
    }
}

/// Names of variables or headers whose values are secrets (see `detect::is_sensitive_name`).
pub fn is_sensitive_name(name: &str) -> bool {
    crate::secrets::detect::is_sensitive_name(name)
}

/// Replace every secret in a config (sub)tree rooted at `path` with its description.
pub fn redact_tree(
    path: &crate::config::keypath::KeyPath,
    value: &serde_json::Value,
) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if is_secret_leaf(path, s) => Value::String(display_config_secret(s)),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redact_tree(&path.child(k.as_str()), v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| redact_tree(&path.index(i), v))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether the string at `path` must not be shown: schema-marked secrets; values under
/// any key that looks like a secret key (`apikey`, `api_key = ["…"]`, `api_key = { value
/// = "…" }`, `headers.Authorization`, `env.vars.X_TOKEN`); and, in free-form maps
/// (`env.vars`, `headers`), values that look like keys. References are not secrets.
pub fn is_secret_leaf(path: &crate::config::keypath::KeyPath, value: &str) -> bool {
    if crate::config::schema::is_secret(path) {
        return true;
    }
    if matches!(
        classify(value),
        SecretValue::EnvRef(_) | SecretValue::CredRef(_)
    ) {
        return false;
    }
    let keys: Vec<&str> = path.keys().collect();
    let in_free_map = matches!(keys.as_slice(), ["env", "vars", ..]) || keys.contains(&"headers");
    keys.iter().any(|k| is_sensitive_name(k)) || (in_free_map && looks_secret(value))
}

/// Mask secrets inside a source text kept for diagnostics, without moving any byte
/// offset: each secret keeps its known prefix and the rest becomes `*`. Both the
/// known secret values and anything the sink would mask (shaped keys, high-entropy
/// words, URL userinfo — quoted or not: a file with a syntax error cannot tell us which
/// values are secrets).
pub fn mask_in_source(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for s in known.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), &mask_one(s));
    }
    let mut out = crate::secrets::sink::scrub(&out).into_owned();
    mask_sensitive_assignments(&mut out);
    out
}

/// In `NAME = value` / `NAME: value` / `NAME=value` lines whose name looks like a secret
/// key (`password = hunter2` pasted without quotes into a file that then fails to
/// parse), mask the value but its quotes; references (`cred:…`, `${…}`) stay.
fn mask_sensitive_assignments(text: &mut String) {
    let mut spans = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let Some(sep) = line.find(['=', ':']) else {
            at += line.len();
            continue;
        };
        let name = line[..sep]
            .trim()
            .trim_start_matches("export ")
            .trim_matches(['"', '\'', ' ']);
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or(name)
            .trim_matches(['"', '\'']);
        let value = &line[sep + 1..];
        let v = value.trim().trim_matches(['"', '\'']);
        if is_sensitive_name(name)
            && !name.contains(char::is_whitespace)
            && !matches!(
                classify(v),
                SecretValue::CredRef(_) | SecretValue::EnvRef(_)
            )
        {
            let lead = value.len() - value.trim_start().len();
            let start = at + sep + 1 + lead;
            let body = value.trim();
            for (i, b) in body.bytes().enumerate() {
                if !matches!(b, b'"' | b'\'' | b'[' | b']' | b'{' | b'}' | b',' | b' ') {
                    spans.push(start + i);
                }
            }
        }
        at += line.len();
    }
    // Masking keeps byte offsets: only ASCII bytes of the value are replaced, and a
    // multi-byte character is replaced whole (all its bytes become `*`).
    let mut bytes = std::mem::take(text).into_bytes();
    for i in spans {
        bytes[i] = b'*';
    }
    *text = String::from_utf8_lossy(&bytes).into_owned();
}

fn mask_one(s: &str) -> String {
    let keep = shape(s).map(str::len).unwrap_or(0);
    let mut m = String::with_capacity(s.len());
    m.push_str(&s[..keep]);
    m.extend(std::iter::repeat_n('*', s.len() - keep));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_without_revealing() {
        let key = "sk-kimi-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
        let d = describe(key);
        assert!(d.starts_with("sk-kimi-… (sha256:"), "{d}");
        assert!(d.ends_with(&format!("{} chars)", key.len())));
        assert!(!d.contains("abcdefgh"));
        assert_eq!(fingerprint(key).len(), "sha256:".len() + 8);
    }

    #[test]
    fn classifies_references() {
        assert_eq!(
            classify("cred:moonshot:default"),
            SecretValue::CredRef("moonshot:default")
        );
        assert_eq!(
            classify("${MOONSHOT_API_KEY}"),
            SecretValue::EnvRef("MOONSHOT_API_KEY")
        );
        assert!(matches!(classify("{env:X}"), SecretValue::Malformed(_)));
        assert!(matches!(
            classify("cred:nocolon"),
            SecretValue::Malformed(_)
        ));
        assert!(matches!(classify("sk-abc"), SecretValue::Literal(_)));
    }

    #[test]
    fn preview_hides_key_like_values() {
        assert_eq!(preview("abc"), "abc");
        assert!(preview("sk-0123456789abcdefghijkl").contains("sha256:"));
    }
}
