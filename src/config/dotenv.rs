//! `.env` files, read by dotenv rules, with the line each variable is on.
//!
//! Hand-written rather than dotenvy: dotenvy substitutes `$VAR` from the *calling
//! process's* environment (which breaks "the environment is an input" — the service
//! view must not see the CLI's variables) and does not report line numbers, which
//! origins need. The rules follow dotenv/dotenvy: `export` prefix allowed, `#` starts
//! a comment at line start or after whitespace in an unquoted value, single quotes
//! are literal, double quotes take `\n \" \\` escapes and may span lines.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    /// 1-based line where the entry starts.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parse dotenv text. Bad lines are reported and skipped, never fatal, as dotenv does.
pub fn parse(text: &str) -> (Vec<Entry>, Vec<ParseError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let raw = lines[i].trim_start_matches('\u{feff}');
        i += 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        let Some((name, rest)) = body.split_once('=') else {
            errors.push(ParseError {
                line: line_no,
                message: "expected NAME=value".into(),
            });
            continue;
        };
        let name = name.trim();
        if !crate::secrets::mask::is_valid_env_name(name) {
            errors.push(ParseError {
                line: line_no,
                message: format!("`{name}` is not a valid variable name"),
            });
            continue;
        }
        let rest = rest.trim_start();
        let value = if let Some(q) = rest.strip_prefix('\'') {
            match q.find('\'') {
                Some(end) => q[..end].to_string(),
                None => {
                    errors.push(ParseError {
                        line: line_no,
                        message: "unterminated single quote".into(),
                    });
                    continue;
                }
            }
        } else if let Some(q) = rest.strip_prefix('"') {
            // Double quotes may continue over following lines. Each line is scanned
            // once (the state carries over), so an unterminated quote costs O(file).
            let mut scan = DoubleQuoted::default();
            let mut piece = q;
            loop {
                if scan.feed(piece) {
                    break Some(std::mem::take(&mut scan.out));
                }
                if i >= lines.len() {
                    break None;
                }
                scan.feed("\n");
                piece = lines[i];
                i += 1;
            }
            .unwrap_or_else(|| {
                errors.push(ParseError {
                    line: line_no,
                    message: "unterminated double quote".into(),
                });
                String::new()
            })
        } else {
            strip_inline_comment(rest).trim_end().to_string()
        };
        entries.push(Entry {
            name: name.to_string(),
            value,
            line: line_no,
        });
    }
    (entries, errors)
}

/// A double-quoted value read piece by piece: `\n \t \" \\` escapes, other
/// backslashes kept.
#[derive(Default)]
struct DoubleQuoted {
    out: String,
    escape: bool,
}

impl DoubleQuoted {
    /// Take `piece`; true once the closing quote is reached (the rest is ignored).
    fn feed(&mut self, piece: &str) -> bool {
        for c in piece.chars() {
            if std::mem::take(&mut self.escape) {
                match c {
                    'n' => self.out.push('\n'),
                    't' => self.out.push('\t'),
                    '"' => self.out.push('"'),
                    '\\' => self.out.push('\\'),
                    o => {
                        self.out.push('\\');
                        self.out.push(o);
                    }
                }
            } else if c == '\\' {
                self.escape = true;
            } else if c == '"' {
                return true;
            } else {
                self.out.push(c);
            }
        }
        false
    }
}

fn strip_inline_comment(v: &str) -> &str {
    let bytes = v.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &v[..i];
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_rules() {
        let text = "# c\nA=1\nexport B = two # note\nC='x # y'\nD=\"l1\\nl2\"\nE=\"multi\nline\"\nbad line\nF=x#y\n";
        let (e, errs) = parse(text);
        let get = |n: &str| e.iter().find(|x| x.name == n).unwrap().value.clone();
        assert_eq!(get("A"), "1");
        assert_eq!(get("B"), "two");
        assert_eq!(get("C"), "x # y");
        assert_eq!(get("D"), "l1\nl2");
        assert_eq!(get("E"), "multi\nline");
        assert_eq!(get("F"), "x#y");
        assert_eq!(e.iter().find(|x| x.name == "B").unwrap().line, 3);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 8);
    }

    #[test]
    fn an_unterminated_quote_costs_linear_time() {
        let (e, errs) = parse("A=\"\nline\nB=1\n");
        assert!(e.iter().any(|x| x.name == "A" && x.value.is_empty()));
        assert_eq!(errs[0].message, "unterminated double quote");
        crate::growth::assert_linear(
            "dotenv with an unterminated quote",
            20_000,
            |n| format!("A=\"\n{}", "line of text here\n".repeat(n)),
            |t| {
                parse(t);
            },
        );
    }
}
