//! A JSON5 parser that keeps where every key and value sits.
//!
//! The `json5` crate (0.4) parses to plain values: it reports a line and column for
//! syntax errors only, and its error text quotes the offending source line, which in
//! an OpenClaw config may hold a literal API key. The importer needs positions for
//! every value (a wrong shape, a missing `$include` target, a duplicate key must name
//! file, line and column) and error messages that never echo source text, so it
//! parses with this small recursive-descent parser instead. It follows
//! <https://spec.json5.org/>; tests compare its values with the `json5` crate's on
//! the real-world corpus.

use std::ops::Range;

/// A parsed value with the byte range it covers and the file it came from (an index
/// into the importer's list of files; values from `$include` targets keep theirs).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Range<usize>,
    pub file: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Node>),
    /// Members in file order. A key written twice keeps its first position and its
    /// last value, as `JSON5.parse` does; the parser reports the duplicate.
    Object(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Node,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
}

/// A key written twice in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub key: String,
    /// The first occurrence (whose position is kept) and the later one (whose value wins).
    pub first: Range<usize>,
    pub second: Range<usize>,
}

/// A syntax error: where, what was found (never more than one character of the
/// source) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
    pub expected: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Node,
    pub duplicates: Vec<Duplicate>,
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 200;

pub fn parse(text: &str, file: usize) -> Result<Parsed, ParseError> {
    let mut p = Parser {
        text,
        pos: 0,
        file,
        depth: 0,
        duplicates: Vec::new(),
    };
    p.skip_trivia()?;
    let value = p.value()?;
    p.skip_trivia()?;
    if let Some(c) = p.peek() {
        return Err(p.error_at(
            p.pos,
            format!("unexpected {} after the value", describe_char(c)),
            "the end of the file (the top-level value is complete)",
        ));
    }
    Ok(Parsed {
        value,
        duplicates: p.duplicates,
    })
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            Kind::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as an integer, if it is one (a float with no fraction counts, as
    /// JavaScript does not tell them apart).
    pub fn as_i64(&self) -> Option<i64> {
        match self.kind {
            Kind::Number(Number::Int(i)) => Some(i),
            Kind::Number(Number::UInt(u)) => i64::try_from(u).ok(),
            Kind::Number(Number::Float(f))
                if f.fract() == 0.0 && f.abs() < 9.0e15 && f.is_finite() =>
            {
                Some(f as i64)
            }
            _ => None,
        }
    }

    /// A member of an object by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// "a string", "an object", … for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Array(_) => "an array",
            Kind::Object(_) => "an object",
        }
    }

    /// The plain JSON value (NaN and infinities, which JSON cannot hold, become null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(Number::Int(i)) => Value::from(*i),
            Kind::Number(Number::UInt(u)) => Value::from(*u),
            Kind::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Kind::String(s) => Value::String(s.clone()),
            Kind::Array(a) => Value::Array(a.iter().map(Node::to_json).collect()),
            Kind::Object(m) => Value::Object(
                m.iter()
                    .map(|m| (m.key.clone(), m.value.to_json()))
                    .collect(),
            ),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    file: usize,
    depth: usize,
    duplicates: Vec<Duplicate>,
}

fn describe_char(c: char) -> String {
    match c {
        '`' => "backtick '`'".to_string(),
        '\n' | '\r' => "line break".to_string(),
        c if c.is_control() => format!("control character U+{:04X}", c as u32),
        c => format!("character '{c}'"),
    }
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn is_json5_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | ' ' | '\u{A0}' | '\u{FEFF}')
        || is_line_terminator(c)
        || (c.is_whitespace() && !c.is_ascii())
}

fn is_identifier_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic()
}

fn is_identifier_part(c: char) -> bool {
    is_identifier_start(c) || c.is_alphanumeric() || matches!(c, '\u{200C}' | '\u{200D}')
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error_at(&self, offset: usize, message: String, expected: &str) -> ParseError {
        ParseError {
            offset,
            message,
            expected: expected.to_string(),
        }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        match self.peek() {
            None => self.error_at(self.pos, "unexpected end of the file".to_string(), expected),
            Some('`') => self.error_at(
                self.pos,
                "unexpected backtick '`': JSON5 has no template strings".to_string(),
                "a string in \"double\" or 'single' quotes",
            ),
            Some(c) => self.error_at(
                self.pos,
                format!("unexpected {}", describe_char(c)),
                expected,
            ),
        }
    }

    /// Whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(c) if is_json5_whitespace(c) => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => {
                    while let Some(c) = self.peek() {
                        if is_line_terminator(c) {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let start = self.pos;
                    match self.text[self.pos + 2..].find("*/") {
                        Some(end) => self.pos += 2 + end + 2,
                        None => {
                            return Err(self.error_at(
                                start,
                                "this comment is never closed".to_string(),
                                "`*/` closing the comment",
                            ));
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn node(&self, kind: Kind, start: usize) -> Node {
        Node {
            kind,
            span: start..self.pos,
            file: self.file,
        }
    }

    fn value(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some('"') | Some('\'') => {
                let s = self.string()?;
                Ok(self.node(Kind::String(s), start))
            }
            Some(c) if c.is_ascii_digit() || matches!(c, '+' | '-' | '.') => self.number(),
            Some(c) if is_identifier_start(c) => {
                let word = self.word();
                let kind = match word.as_str() {
                    "null" => Kind::Null,
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    "Infinity" => Kind::Number(Number::Float(f64::INFINITY)),
                    "NaN" => Kind::Number(Number::Float(f64::NAN)),
                    _ => {
                        return Err(self.error_at(
                            start,
                            format!("unexpected word `{}`", truncate(&word, 20)),
                            "a value: a string in quotes, a number, true, false, null, an object or an array",
                        ));
                    }
                };
                Ok(self.node(kind, start))
            }
            _ => Err(self.unexpected(
                "a value: a string in quotes, a number, true, false, null, an object or an array",
            )),
        }
    }

    /// A run of identifier characters (for keywords; keys use `identifier`).
    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_identifier_part(c) {
                self.bump();
            } else {
                break;
            }
        }
        self.text[start..self.pos].to_string()
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(
                self.pos,
                format!("nested more than {MAX_DEPTH} levels deep"),
                "a shallower structure",
            ));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        self.enter()?;
        self.bump(); // {
        let mut members: Vec<Member> = Vec::new();
        loop {
            self.skip_trivia()?;
            if self.peek() == Some('}') {
                self.bump();
                break;
            }
            let key_start = self.pos;
            let key = match self.peek() {
                Some('"') | Some('\'') => self.string()?,
                Some(c) if is_identifier_start(c) || c == '\\' => self.identifier()?,
                _ => {
                    return Err(self.unexpected(
                        "a key (a name or a quoted string) or `}` closing the object",
                    ));
                }
            };
            let key_span = key_start..self.pos;
            self.skip_trivia()?;
            if self.peek() != Some(':') {
                return Err(self.unexpected("`:` after the key"));
            }
            self.bump();
            self.skip_trivia()?;
            let value = self.value()?;
            if let Some(existing) = members.iter_mut().find(|m| m.key == key) {
                self.duplicates.push(Duplicate {
                    key: key.clone(),
                    first: existing.key_span.clone(),
                    second: key_span,
                });
                existing.value = value;
            } else {
                members.push(Member {
                    key,
                    key_span,
                    value,
                });
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ => return Err(self.unexpected("`,` or `}` after the value")),
            }
        }
        self.depth -= 1;
        Ok(self.node(Kind::Object(members), start))
    }

    fn array(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        self.enter()?;
        self.bump(); // [
        let mut items = Vec::new();
        loop {
            self.skip_trivia()?;
            if self.peek() == Some(']') {
                self.bump();
                break;
            }
            items.push(self.value()?);
            self.skip_trivia()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                _ => return Err(self.unexpected("`,` or `]` after the value")),
            }
        }
        self.depth -= 1;
        Ok(self.node(Kind::Array(items), start))
    }

    /// An unquoted key: an ECMAScript IdentifierName, `\uXXXX` escapes allowed.
    fn identifier(&mut self) -> Result<String, ParseError> {
        let mut s = String::new();
        let mut first = true;
        loop {
            match self.peek() {
                Some('\\') => {
                    let at = self.pos;
                    self.bump();
                    if self.bump() != Some('u') {
                        return Err(self.error_at(
                            at,
                            "invalid escape in a key name".to_string(),
                            "`\\uXXXX`",
                        ));
                    }
                    let c = self.unicode_escape(at)?;
                    let ok = if first {
                        is_identifier_start(c)
                    } else {
                        is_identifier_part(c)
                    };
                    if !ok {
                        return Err(self.error_at(
                            at,
                            "the escaped character cannot be part of a key name".to_string(),
                            "a letter, digit, `$` or `_`",
                        ));
                    }
                    s.push(c);
                }
                Some(c)
                    if (first && is_identifier_start(c)) || (!first && is_identifier_part(c)) =>
                {
                    self.bump();
                    s.push(c);
                }
                _ => break,
            }
            first = false;
        }
        Ok(s)
    }

    fn hex_digits(&mut self, n: usize, at: usize) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    self.bump();
                    v = v * 16 + d;
                }
                None => {
                    return Err(self.error_at(
                        at,
                        "invalid escape sequence".to_string(),
                        &format!("{n} hexadecimal digits"),
                    ));
                }
            }
        }
        Ok(v)
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self, at: usize) -> Result<char, ParseError> {
        if self.peek() == Some('{') {
            return Err(self.error_at(
                at,
                "`\\u{…}` code point escapes are JavaScript (ES6), not JSON5".to_string(),
                "`\\uXXXX` with four hex digits (two of them, a surrogate pair, above U+FFFF)",
            ));
        }
        let hi = self.hex_digits(4, at)?;
        if (0xD800..0xDC00).contains(&hi)
            && self.peek() == Some('\\')
            && self.peek_at(1) == Some('u')
        {
            let save = self.pos;
            self.bump();
            self.bump();
            let lo = self.hex_digits(4, at)?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        // A lone surrogate has no UTF-8 form; JavaScript would keep it, we replace it.
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let quote = self.bump().unwrap_or('"');
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(
                    start,
                    "this string is never closed".to_string(),
                    &format!("the closing {quote}"),
                ));
            };
            if c == quote {
                self.bump();
                return Ok(s);
            }
            if c == '\n' || c == '\r' {
                return Err(self.error_at(
                    self.pos,
                    "line break inside a string".to_string(),
                    &format!(
                        "the closing {quote} on the same line (continue a line with a backslash)"
                    ),
                ));
            }
            if c != '\\' {
                self.bump();
                s.push(c);
                continue;
            }
            let at = self.pos;
            self.bump();
            let Some(e) = self.bump() else {
                return Err(self.error_at(
                    start,
                    "this string is never closed".to_string(),
                    &format!("the closing {quote}"),
                ));
            };
            match e {
                'b' => s.push('\u{08}'),
                'f' => s.push('\u{0C}'),
                'n' => s.push('\n'),
                'r' => {
                    s.push('\r');
                }
                't' => s.push('\t'),
                'v' => s.push('\u{0B}'),
                '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => s.push('\0'),
                'x' => {
                    let v = self.hex_digits(2, at)?;
                    s.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                }
                'u' => s.push(self.unicode_escape(at)?),
                // Line continuation: the backslash and the line break vanish.
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.bump();
                    }
                }
                '\n' | '\u{2028}' | '\u{2029}' => {}
                c if c.is_ascii_digit() => {
                    return Err(self.error_at(
                        at,
                        "digits cannot be escaped in a JSON5 string".to_string(),
                        "an escape such as \\n, \\t, \\\\, \\\" or \\uXXXX",
                    ));
                }
                other => s.push(other),
            }
        }
    }

    fn number(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        let negative = match self.peek() {
            Some('+') => {
                self.bump();
                false
            }
            Some('-') => {
                self.bump();
                true
            }
            _ => false,
        };
        let expected = "a number: digits, 0x hex digits, Infinity or NaN";
        if self.peek().is_some_and(is_identifier_start) {
            let word = self.word();
            let f = match word.as_str() {
                "Infinity" if negative => f64::NEG_INFINITY,
                "Infinity" => f64::INFINITY,
                "NaN" => f64::NAN,
                _ => {
                    return Err(self.error_at(start, "malformed number".to_string(), expected));
                }
            };
            return Ok(self.node(Kind::Number(Number::Float(f)), start));
        }
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x') | Some('X')) {
            self.bump();
            self.bump();
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
            }
            let digits = &self.text[digits_start..self.pos];
            if digits.is_empty() {
                return Err(self.error_at(start, "malformed hex number".to_string(), expected));
            }
            self.no_identifier_after(expected)?;
            let kind = match u64::from_str_radix(digits, 16) {
                Ok(u) if negative => match i64::try_from(u) {
                    Ok(i) => Number::Int(-i),
                    Err(_) => Number::Float(-(u as f64)),
                },
                Ok(u) => match i64::try_from(u) {
                    Ok(i) => Number::Int(i),
                    Err(_) => Number::UInt(u),
                },
                Err(_) => {
                    // Too long for 64 bits: keep the magnitude as JavaScript would.
                    let f = digits.chars().fold(0f64, |acc, c| {
                        acc * 16.0 + c.to_digit(16).unwrap_or(0) as f64
                    });
                    Number::Float(if negative { -f } else { f })
                }
            };
            return Ok(self.node(Kind::Number(kind), start));
        }
        let mut int_digits = 0;
        if self.peek() == Some('0') {
            self.bump();
            int_digits = 1;
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error_at(
                    start,
                    "a number cannot start with 0 followed by digits".to_string(),
                    expected,
                ));
            }
        } else {
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
                int_digits += 1;
            }
        }
        let mut is_float = false;
        let mut frac_digits = 0;
        if self.peek() == Some('.') {
            self.bump();
            is_float = true;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
                frac_digits += 1;
            }
        }
        if int_digits == 0 && frac_digits == 0 {
            return Err(self.error_at(start, "malformed number".to_string(), expected));
        }
        if matches!(self.peek(), Some('e') | Some('E')) {
            self.bump();
            is_float = true;
            if matches!(self.peek(), Some('+') | Some('-')) {
                self.bump();
            }
            let exp_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            if self.pos == exp_start {
                return Err(self.error_at(start, "malformed exponent".to_string(), expected));
            }
        }
        self.no_identifier_after(expected)?;
        let raw = &self.text[start..self.pos];
        let raw = raw.strip_prefix('+').unwrap_or(raw);
        let kind = if is_float {
            Number::Float(parse_float(raw))
        } else if let Ok(i) = raw.parse::<i64>() {
            Number::Int(i)
        } else if let Ok(u) = raw.parse::<u64>() {
            Number::UInt(u)
        } else {
            Number::Float(parse_float(raw))
        };
        Ok(self.node(Kind::Number(kind), start))
    }

    fn no_identifier_after(&self, expected: &str) -> Result<(), ParseError> {
        match self.peek() {
            Some(c) if is_identifier_part(c) => Err(self.error_at(
                self.pos,
                format!("unexpected {} in a number", describe_char(c)),
                expected,
            )),
            _ => Ok(()),
        }
    }
}

/// Rust's float parser rejects `5.` and `.5`; JSON5 allows both.
fn parse_float(raw: &str) -> f64 {
    let (sign, body) = match raw.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, raw),
    };
    let mut fixed = String::with_capacity(body.len() + 2);
    if body.starts_with('.') {
        fixed.push('0');
    }
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        fixed.push(c);
        if c == '.' && !chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            fixed.push('0');
        }
    }
    sign * fixed.parse::<f64>().unwrap_or(f64::NAN)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let cut: String = s.chars().take(n).collect();
        format!("{cut}…")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(text: &str) -> serde_json::Value {
        parse(text, 0).unwrap().value.to_json()
    }

    #[test]
    fn parses_the_json5_features() {
        let text = r#"
        // line comment
        /* block
           comment */
        {
          unquoted: 'single',
          "double": "a\"b\\c\u0041\x42",
          $dollar_1: +1,
          hex: 0x1F,
          neg: -0x10,
          lead: .5,
          trail: 5.,
          exp: 1e3,
          inf: -Infinity,
          cont: "one \
two",
          arr: [1, 2, ],
          nested: { a: null, b: true, c: false, },
        }
        "#;
        let got = v(text);
        assert_eq!(got["unquoted"], "single");
        assert_eq!(got["double"], "a\"b\\cAB");
        assert_eq!(got["$dollar_1"], 1);
        assert_eq!(got["hex"], 31);
        assert_eq!(got["neg"], -16);
        assert_eq!(got["lead"], 0.5);
        assert_eq!(got["trail"], 5.0);
        assert_eq!(got["exp"], 1000.0);
        assert_eq!(got["inf"], serde_json::Value::Null);
        assert_eq!(got["cont"], "one two");
        assert_eq!(got["arr"], json!([1, 2]));
        assert_eq!(got["nested"], json!({"a": null, "b": true, "c": false}));
    }

    #[test]
    fn keeps_spans_and_reports_duplicates() {
        let text = "{a: 1, b: {c: 'x'}, a: 2}";
        let parsed = parse(text, 3).unwrap();
        assert_eq!(parsed.value.to_json(), json!({"a": 2, "b": {"c": "x"}}));
        let b = parsed.value.get("b").unwrap();
        assert_eq!(&text[b.span.clone()], "{c: 'x'}");
        assert_eq!(b.file, 3);
        let members = parsed.value.as_object().unwrap();
        assert_eq!(members[0].key, "a");
        assert_eq!(&text[members[0].key_span.clone()], "a");
        assert_eq!(parsed.duplicates.len(), 1);
        assert_eq!(parsed.duplicates[0].key, "a");
        assert_eq!(parsed.duplicates[0].second.start, 20);
    }

    #[test]
    fn errors_say_where_and_what_was_expected_without_quoting_source() {
        let secret = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
        let text = format!("{{\n  apiKey: \"{secret}\"\n  other: 1\n}}");
        let e = parse(&text, 0).unwrap_err();
        assert_eq!(
            crate::config::tomlconv::offset_to_pos(&text, e.offset),
            crate::config::tomlconv::Pos { line: 3, col: 3 }
        );
        assert!(e.expected.contains("`,` or `}`"), "{e:?}");
        assert!(!format!("{e:?}").contains(secret));

        let e = parse("{ a: `tmpl` }", 0).unwrap_err();
        assert!(e.message.contains("backtick"), "{e:?}");
        assert_eq!(e.offset, 5);

        for bad in [
            "", "{", "{a}", "{a:}", "[1 2]", "'open", "/* open", "01", "{a: tru}", "1 2",
            "\"a\nb\"", "{'a' 1}", "0x", "1e", ".", "+",
        ] {
            assert!(parse(bad, 0).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn refuses_absurd_nesting_instead_of_overflowing() {
        let text = "[".repeat(10_000);
        assert!(parse(&text, 0).is_err());
    }

    #[test]
    fn big_and_unusual_numbers() {
        assert_eq!(v("18446744073709551615"), json!(18446744073709551615u64));
        assert_eq!(v("-9223372036854775808"), json!(i64::MIN));
        assert_eq!(v("1.5E-3"), json!(0.0015));
        assert_eq!(v("-0"), json!(0));
    }
}
