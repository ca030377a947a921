//! Config key paths as a type: `models.providers."my.proxy".base_url`, `a.b[2]`.
//!
//! Anything path-like (CLI argument, env override, JSON pointer from the schema
//! validator) converts into `KeyPath`, so dotted strings are split in one place.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A key in the config: segments are private, so the only ways to make one are
/// parsing (`KeyPath::parse`, also the clap argument type of `config get/set/unset`)
/// and building from segments (`child`, `index`, `of`) — never a dotted string made
/// with `format!`. `Display` quotes segments that need it, so a printed key can be
/// pasted back.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPathError {
    pub input: String,
    pub position: usize,
    pub reason: String,
}

impl fmt::Display for KeyPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid key `{}` at character {}: {} (keys look like `gateway.port`, `models.providers.\"my.proxy\".base_url` or `a.list[0]`)",
            self.input,
            self.position + 1,
            self.reason
        )
    }
}

impl std::error::Error for KeyPathError {}

fn is_bare_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl KeyPath {
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// A path of plain keys: `KeyPath::of(&["models", "providers", id, "api_key"])`.
    pub fn of(keys: &[&str]) -> KeyPath {
        KeyPath(keys.iter().map(|k| Segment::Key(k.to_string())).collect())
    }

    /// A path from its segments.
    pub fn from_segments(segments: Vec<Segment>) -> KeyPath {
        KeyPath(segments)
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Append one segment in place (walking a path step by step).
    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    /// The first `n` segments.
    pub fn prefix(&self, n: usize) -> KeyPath {
        KeyPath(self.0[..n.min(self.0.len())].to_vec())
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `models.providers.<id>`, quoted as needed.
    pub fn provider(id: &str) -> KeyPath {
        KeyPath::of(&["models", "providers", id])
    }

    pub fn parse(input: &str) -> Result<KeyPath, KeyPathError> {
        let err = |position: usize, reason: &str| KeyPathError {
            input: input.to_string(),
            position,
            reason: reason.to_string(),
        };
        let chars: Vec<char> = input.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        if chars.is_empty() {
            return Err(err(0, "the key is empty"));
        }
        loop {
            // One key segment: bare, "basic" or 'literal'.
            match chars.get(i) {
                Some('"') => {
                    let mut s = String::new();
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(err(i, "unterminated quoted key")),
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some('\\') => {
                                match chars.get(i + 1) {
                                    Some('"') => s.push('"'),
                                    Some('\\') => s.push('\\'),
                                    Some('n') => s.push('\n'),
                                    Some('t') => s.push('\t'),
                                    _ => return Err(err(i, "unknown escape in quoted key")),
                                }
                                i += 2;
                            }
                            Some(c) => {
                                s.push(*c);
                                i += 1;
                            }
                        }
                    }
                    segments.push(Segment::Key(s));
                }
                Some('\'') => {
                    let start = i + 1;
                    let end = chars[start..]
                        .iter()
                        .position(|c| *c == '\'')
                        .ok_or_else(|| err(i, "unterminated quoted key"))?;
                    segments.push(Segment::Key(chars[start..start + end].iter().collect()));
                    i = start + end + 1;
                }
                Some(c) if is_bare_char(*c) => {
                    let start = i;
                    while chars.get(i).is_some_and(|c| is_bare_char(*c)) {
                        i += 1;
                    }
                    segments.push(Segment::Key(chars[start..i].iter().collect()));
                }
                Some(_) => return Err(err(i, "expected a key name")),
                None => return Err(err(i, "the key ends with a dot")),
            }
            // Any number of [N] indexes.
            while chars.get(i) == Some(&'[') {
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or_else(|| err(i, "missing `]`"))?;
                let digits: String = chars[start..start + end].iter().collect();
                let n = digits
                    .parse::<usize>()
                    .map_err(|_| err(start, "an index must be a non-negative integer"))?;
                segments.push(Segment::Index(n));
                i = start + end + 1;
            }
            match chars.get(i) {
                None => break,
                Some('.') => i += 1,
                Some(_) => return Err(err(i, "expected `.` or `[`")),
            }
        }
        Ok(KeyPath(segments))
    }

    /// From a JSON pointer (`/models/providers/my.proxy/base_url`), as the schema
    /// validator reports instance locations.
    pub fn from_json_pointer(pointer: &str, value: &serde_json::Value) -> KeyPath {
        let mut segments = Vec::new();
        let mut current = Some(value);
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let is_array = matches!(current, Some(serde_json::Value::Array(_)));
            match (is_array, token.parse::<usize>()) {
                (true, Ok(n)) => {
                    current = current.and_then(|v| v.get(n));
                    segments.push(Segment::Index(n));
                }
                _ => {
                    current = current.and_then(|v| v.get(&token));
                    segments.push(Segment::Key(token));
                }
            }
        }
        KeyPath(segments)
    }

    pub fn child(&self, key: impl Into<String>) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Segment::Key(key.into()));
        KeyPath(v)
    }

    pub fn index(&self, n: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Segment::Index(n));
        KeyPath(v)
    }

    pub fn parent(&self) -> Option<KeyPath> {
        if self.0.is_empty() {
            None
        } else {
            Some(KeyPath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// Only the key segments (indexes dropped), for schema lookups of arrays.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    if !k.is_empty() && k.chars().all(is_bare_char) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))?;
                    }
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for KeyPath {
    type Err = KeyPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_quoted_and_indexed_keys() {
        let p = KeyPath::parse("models.providers.\"my.proxy\".base_url").unwrap();
        assert_eq!(
            p.0,
            vec![
                Segment::Key("models".into()),
                Segment::Key("providers".into()),
                Segment::Key("my.proxy".into()),
                Segment::Key("base_url".into())
            ]
        );
        assert_eq!(p.to_string(), "models.providers.\"my.proxy\".base_url");
        let q = KeyPath::parse("agents.defaults.model.fallbacks[1]").unwrap();
        assert_eq!(q.0.last(), Some(&Segment::Index(1)));
        assert_eq!(q.to_string(), "agents.defaults.model.fallbacks[1]");
        assert_eq!(KeyPath::parse("a.'b c'").unwrap().to_string(), "a.\"b c\"");
    }

    #[test]
    fn rejects_malformed_keys_with_position() {
        for bad in ["", "a.", ".a", "a..b", "a[x]", "a[1", "\"a", "a b"] {
            let e = KeyPath::parse(bad).unwrap_err();
            assert!(!e.reason.is_empty(), "{bad}");
        }
        assert_eq!(KeyPath::parse("a..b").unwrap_err().position, 2);
    }

    #[test]
    fn json_pointer_distinguishes_indexes_from_numeric_keys() {
        let v = serde_json::json!({"a": {"0": [1, 2]}});
        let p = KeyPath::from_json_pointer("/a/0/1", &v);
        assert_eq!(p.to_string(), "a.0[1]");
    }
}
