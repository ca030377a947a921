//! `.env` files, read by python-dotenv's rules (the most used dotenv parser), with the
//! line each variable starts on.
//!
//! Hand-written rather than dotenvy: dotenvy substitutes `$VAR` from the *calling
//! process's* environment (which breaks "the environment is an input" — the service
//! view must not see the CLI's variables) and does not report line numbers, which
//! origins need. The rules are python-dotenv's (1.x), checked against it:
//!
//! - `export ` prefix allowed; a line starting with `#` is a comment.
//! - Unquoted values run to the end of the line; ` #…` (whitespace, then `#`) starts
//!   a comment, a `#` inside a word does not (`A=x#y` is `x#y`).
//! - `'single'` quotes are literal except `\'` and `\\`; `"double"` quotes take
//!   `\n \t \r \" \\ \' \a \b \f \v`; both may span lines.
//! - After a closing quote only whitespace and a `# comment` may follow: `A="a"b` is
//!   an error and the line is skipped.
//! - A quote that is never closed skips only its own line; the next lines are read.
//! - **Not** python-dotenv's: `${VAR}` is kept literally, never expanded (as systemd's
//!   `EnvironmentFile=` does too): the file's meaning must not depend on the shell
//!   that happens to read it.
//!
//! One pass over the text: every byte is looked at a bounded number of times, so a
//! file of many unterminated quotes is still read in linear time.

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
    let mut p = Parser {
        text: text.strip_prefix('\u{feff}').unwrap_or(text),
        pos: 0,
        line: 1,
        unclosed_from: [None, None],
    };
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    loop {
        p.skip_while(char::is_whitespace);
        if p.pos >= p.text.len() {
            break;
        }
        let line = p.line;
        match p.binding() {
            Ok(Some(e)) => entries.push(Entry {
                name: e.0,
                value: e.1,
                line,
            }),
            Ok(None) => {}
            Err(message) => {
                p.rest_of_line();
                errors.push(ParseError { line, message });
            }
        }
    }
    (entries, errors)
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    /// Line of `pos` (1-based).
    line: usize,
    /// For `'` and `"`: a position from which no closing quote exists to the end of
    /// the text. Any later opening quote has none either (it would have closed the
    /// earlier one), so each unterminated quote costs no second scan.
    unclosed_from: [Option<usize>; 2],
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn advance(&mut self, bytes: usize) {
        let end = self.pos + bytes;
        self.line += self.text[self.pos..end].matches('\n').count();
        self.pos = end;
    }

    fn skip_while(&mut self, f: impl Fn(char) -> bool) {
        let n = self
            .rest()
            .find(|c: char| !f(c))
            .unwrap_or(self.rest().len());
        self.advance(n);
    }

    fn skip_blanks(&mut self) {
        self.skip_while(|c| c.is_whitespace() && c != '\n' && c != '\r');
    }

    fn rest_of_line(&mut self) {
        let n = self
            .rest()
            .find(['\n', '\r'])
            .map(|i| {
                i + if self.rest()[i..].starts_with("\r\n") {
                    2
                } else {
                    1
                }
            })
            .unwrap_or(self.rest().len());
        self.advance(n);
    }

    /// One `NAME=value` (or a comment: `None`).
    fn binding(&mut self) -> Result<Option<(String, String)>, String> {
        if let Some(after) = self.rest().strip_prefix("export")
            && after.starts_with([' ', '\t'])
        {
            self.advance("export".len());
            self.skip_blanks();
        }
        let name = match self.rest().chars().next() {
            Some('#') => {
                self.rest_of_line();
                return Ok(None);
            }
            Some('\'') => {
                let line_end = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
                let Some(close) = self.rest()[1..line_end].find('\'') else {
                    return Err("unterminated quoted name".into());
                };
                let name = self.rest()[1..1 + close].to_string();
                self.advance(close + 2);
                name
            }
            _ => {
                let n = self
                    .rest()
                    .find(|c: char| c == '=' || c == '#' || c.is_whitespace())
                    .unwrap_or(self.rest().len());
                let name = self.rest()[..n].to_string();
                self.advance(n);
                name
            }
        };
        if name.is_empty() {
            return Err("expected NAME=value".into());
        }
        self.skip_blanks();
        if !self.rest().starts_with('=') {
            return Err(format!(
                "`{}` has no `=`: expected NAME=value",
                crate::secrets::mask::preview(&name)
            ));
        }
        self.advance(1);
        self.skip_blanks();
        let value = match self.rest().chars().next() {
            Some(q @ ('\'' | '"')) => {
                let value = self.quoted(q)?;
                // Only blanks and a comment may follow the closing quote.
                self.skip_blanks();
                if self.rest().starts_with('#') {
                    let n = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
                    self.advance(n);
                }
                if !(self.rest().is_empty() || self.rest().starts_with(['\n', '\r'])) {
                    return Err(format!(
                        "text after the closing {q} (quote the whole value, or put a space and `#` before a comment)"
                    ));
                }
                value
            }
            _ => {
                let n = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
                let raw = &self.rest()[..n];
                let value = strip_comment(raw).trim_end().to_string();
                self.advance(n);
                value
            }
        };
        if !crate::secrets::mask::is_valid_env_name(&name) {
            return Err(format!("`{name}` is not a valid variable name"));
        }
        Ok(Some((name, value)))
    }

    /// A value in `q` quotes starting at `pos`; on success `pos` is after the
    /// closing quote. Unterminated: an error, `pos` unchanged.
    fn quoted(&mut self, q: char) -> Result<String, String> {
        let slot = usize::from(q == '"');
        let unterminated = || {
            Err(format!(
                "unterminated {} quote (the next lines are still read)",
                if q == '"' { "double" } else { "single" }
            ))
        };
        if self.unclosed_from[slot].is_some_and(|p| p <= self.pos) {
            return unterminated();
        }
        let body = &self.rest()[1..];
        let mut chars = body.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                if body[i + 1..].starts_with(q) {
                    chars.next();
                }
            } else if c == q {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            self.unclosed_from[slot] = Some(self.pos);
            return unterminated();
        };
        let value = unescape(&body[..end], q);
        self.advance(end + 2);
        Ok(value)
    }
}

/// python-dotenv's escapes: in single quotes `\'` and `\\` only; in double quotes
/// also `\" \a \b \f \n \r \t \v`. Any other backslash stays as it is.
fn unescape(raw: &str, q: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match (q, chars.peek()) {
            (_, Some('\\')) => Some('\\'),
            (_, Some('\'')) => Some('\''),
            ('"', Some('"')) => Some('"'),
            ('"', Some('a')) => Some('\u{7}'),
            ('"', Some('b')) => Some('\u{8}'),
            ('"', Some('f')) => Some('\u{c}'),
            ('"', Some('n')) => Some('\n'),
            ('"', Some('r')) => Some('\r'),
            ('"', Some('t')) => Some('\t'),
            ('"', Some('v')) => Some('\u{b}'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                chars.next();
                out.push(d);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// An unquoted value without its comment: from the first whitespace followed by `#`.
fn strip_comment(v: &str) -> &str {
    let bytes = v.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            let start = v[..i].trim_end().len();
            return &v[..start];
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

    /// Each expected value is python-dotenv 1.x's `dotenv_values` on the same text
    /// (`None`: the line is skipped).
    #[test]
    fn agrees_with_python_dotenv() {
        let cases: &[(&str, Option<&str>)] = &[
            ("V='multi\nline'", Some("multi\nline")),
            ("V=\"a\"b", None),
            ("V=\"unterminated", None),
            ("V='unterminated", None),
            ("V=\"a\" # note", Some("a")),
            ("V= #x", Some("#x")),
            ("V=a #x", Some("a")),
            ("V=a\t#x", Some("a")),
            ("V='a\\'b'", Some("a'b")),
            ("V='a\\nb'", Some("a\\nb")),
            ("V=\"a\\tb\\\"c\"", Some("a\tb\"c")),
            ("V=\"a\\qb\"", Some("a\\qb")),
            ("V=${HOME}/x", Some("${HOME}/x")),
            ("export V=1", Some("1")),
            ("V", None),
            ("V=", Some("")),
            ("V=  spaced out  ", Some("spaced out")),
        ];
        for (text, want) in cases {
            let (e, _) = parse(&format!("{text}\nNEXT=1\n"));
            let got = e.iter().find(|x| x.name == "V").map(|x| x.value.as_str());
            assert_eq!(got, *want, "{text:?}");
            let next = e.iter().find(|x| x.name == "NEXT").map(|x| x.line);
            assert_eq!(
                next,
                Some(2 + text.matches('\n').count()),
                "{text:?}: the next line is read"
            );
        }
    }

    #[test]
    fn an_unterminated_quote_skips_only_its_line_with_its_line_number() {
        let (e, errs) = parse("A=\"open\nB=2\nC='also open\nD=4\n");
        let names: Vec<_> = e.iter().map(|x| (x.name.as_str(), x.line)).collect();
        assert_eq!(names, vec![("B", 2), ("D", 4)]);
        assert_eq!(errs.iter().map(|x| x.line).collect::<Vec<_>>(), vec![1, 3]);
        assert!(errs[0].message.contains("unterminated double quote"));
    }

    #[test]
    fn many_unterminated_quotes_make_one_error_per_pair() {
        let text = "A=\"x\n".repeat(200_000);
        let (e, errs) = parse(&text);
        assert!(e.is_empty());
        // As python-dotenv: each quote closes at the next line's, and the text after it
        // makes that pair of lines one error.
        assert_eq!(errs.len(), 100_000);
    }

    /// Growth, not wall-clock: doubling the input at most doubles the time.
    #[test]
    fn unterminated_quotes_cost_linear_time() {
        crate::growth::assert_linear(
            "dotenv with many unterminated quotes",
            20_000,
            |n| "A=\"x\n".repeat(n),
            |t| {
                parse(t);
            },
        );
    }

    #[test]
    fn an_unterminated_quote_costs_linear_time() {
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
