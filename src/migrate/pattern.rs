//! Key patterns for migration operations: a [`KeyPath`] in which a bare `*` segment
//! stands for any key (`models.providers.*.baseUrl`). Quoted `"*"` is the literal
//! key `*`. Patterns are parsed by [`KeyPath::parse`] so that keys are split in one
//! place only; array indexes are not allowed (an operation that reaches an array
//! handles the array as a whole).

use std::fmt;

use toml_edit::Item;

use crate::config::keypath::{KeyPath, Segment};

/// A pattern segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Key(String),
    /// `*`: any key of the table at this point.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(pub Vec<Part>);

/// A concrete key a pattern matched, and the keys its `*` segments stood for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub path: KeyPath,
    pub captures: Vec<String>,
}

/// Stands in for an unquoted `*` while KeyPath parses the pattern. A control
/// character cannot appear in a TOML key without an escape, and KeyPath's quoted
/// keys take any character, so the sentinel survives the parse and cannot collide
/// with a key written in a migration file.
const WILDCARD: &str = "\u{1}";

impl Pattern {
    pub fn parse(input: &str) -> Result<Pattern, String> {
        let mut rewritten = String::with_capacity(input.len() + 4);
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in input.chars() {
            match quote {
                Some(q) => {
                    rewritten.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None if c == '*' => {
                    rewritten.push('"');
                    rewritten.push_str(WILDCARD);
                    rewritten.push('"');
                }
                None => {
                    if c == '"' || c == '\'' {
                        quote = Some(c);
                    }
                    if c == '\u{1}' {
                        return Err(format!("invalid key pattern `{input}`"));
                    }
                    rewritten.push(c);
                }
            }
        }
        let path = KeyPath::parse(&rewritten).map_err(|e| {
            // Report against the text as written, not the rewritten one.
            format!(
                "invalid key pattern `{input}`: {} (patterns look like `models.providers.*.base_url`)",
                e.reason
            )
        })?;
        let mut parts = Vec::with_capacity(path.segments().len());
        for seg in path.segments() {
            match seg {
                Segment::Key(k) if k == WILDCARD => parts.push(Part::Any),
                Segment::Key(k) => parts.push(Part::Key(k.clone())),
                Segment::Index(_) => {
                    return Err(format!(
                        "invalid key pattern `{input}`: patterns name keys, not array elements"
                    ));
                }
            }
        }
        Ok(Pattern(parts))
    }

    pub fn wildcards(&self) -> usize {
        self.0.iter().filter(|p| matches!(p, Part::Any)).count()
    }

    /// The concrete path when the pattern has no `*`.
    pub fn as_path(&self) -> Option<KeyPath> {
        self.0
            .iter()
            .map(|p| match p {
                Part::Key(k) => Some(Segment::Key(k.clone())),
                Part::Any => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(KeyPath::from_segments)
    }

    /// This pattern with its `*` segments replaced by `captures`, in order.
    pub fn fill(&self, captures: &[String]) -> KeyPath {
        let mut next = captures.iter();
        KeyPath::from_segments(
            self.0
                .iter()
                .map(|p| match p {
                    Part::Key(k) => Segment::Key(k.clone()),
                    Part::Any => Segment::Key(next.next().cloned().unwrap_or_default()),
                })
                .collect(),
        )
    }

    /// Every key in `root` this pattern matches, in document order.
    pub fn expand(&self, root: &Item) -> Vec<Match> {
        let mut out = Vec::new();
        walk(root, &self.0, KeyPath::root(), Vec::new(), &mut out);
        out
    }
}

fn walk(item: &Item, rest: &[Part], at: KeyPath, captures: Vec<String>, out: &mut Vec<Match>) {
    let Some((first, rest)) = rest.split_first() else {
        if !item.is_none() {
            out.push(Match { path: at, captures });
        }
        return;
    };
    let Some(table) = item.as_table_like() else {
        return;
    };
    match first {
        Part::Key(k) => {
            if let Some(child) = table.get(k) {
                walk(child, rest, at.child(k.as_str()), captures, out);
            }
        }
        Part::Any => {
            for (k, child) in table.iter() {
                let mut c = captures.clone();
                c.push(k.to_string());
                walk(child, rest, at.child(k), c, out);
            }
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match p {
                Part::Any => f.write_str("*")?,
                Part::Key(k) => write!(
                    f,
                    "{}",
                    KeyPath::from_segments(vec![Segment::Key(k.clone())])
                )?,
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Pattern::parse(&s)
    }
}

impl<'de> serde::Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Fill `{1}`, `{2}`, … in a template with the keys a pattern's `*` segments matched.
pub fn fill_template(template: &str, captures: &[String]) -> String {
    let mut out = template.to_string();
    for (i, c) in captures.iter().enumerate() {
        out = out.replace(&format!("{{{}}}", i + 1), c);
    }
    out
}

/// The highest `{N}` a template uses (0: none), to check it against the pattern.
pub fn template_arity(template: &str) -> usize {
    (1..=9)
        .filter(|n| template.contains(&format!("{{{n}}}")))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_quotes_and_display() {
        let p = Pattern::parse("models.providers.*.baseUrl").unwrap();
        assert_eq!(p.wildcards(), 1);
        assert_eq!(p.to_string(), "models.providers.*.baseUrl");
        let q = Pattern::parse("a.\"*\".'x.y'").unwrap();
        assert_eq!(q.wildcards(), 0);
        assert_eq!(q.as_path().unwrap().to_string(), "a.\"*\".\"x.y\"");
        assert!(Pattern::parse("a.*b").is_err());
        assert!(Pattern::parse("a[0]").is_err());
        assert!(Pattern::parse("a..b").is_err());
    }

    #[test]
    fn expands_in_document_order_and_fills() {
        let doc: toml_edit::DocumentMut =
            "[models.providers.b]\nbaseUrl = 1\n[models.providers.a]\nx = 1\n[models.providers.c]\nbaseUrl = 2\n"
                .parse()
                .unwrap();
        let p = Pattern::parse("models.providers.*.baseUrl").unwrap();
        let m = p.expand(doc.as_item());
        let got: Vec<String> = m.iter().map(|m| m.path.to_string()).collect();
        assert_eq!(
            got,
            ["models.providers.b.baseUrl", "models.providers.c.baseUrl"]
        );
        let to = Pattern::parse("models.providers.*.base_url").unwrap();
        assert_eq!(
            to.fill(&m[1].captures).to_string(),
            "models.providers.c.base_url"
        );
        assert_eq!(fill_template("{1}:default", &m[0].captures), "b:default");
        assert_eq!(template_arity("{1}:{2}"), 2);
    }
}
