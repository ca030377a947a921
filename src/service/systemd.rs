//! systemd user units: the unit file, its drop-ins, `EnvironmentFile=`s and what the user
//! manager adds, read with systemd's rules — which are not a shell's and not dotenv's.
//!
//! Where each rule comes from (systemd sources, checked against v252–v257):
//!
//! - Unit file syntax, `src/shared/conf-parser.c` (`config_parse`, `parse_line`) and
//!   systemd.syntax(7): lines whose first non-blank character is `#` or `;` are comments,
//!   also in the middle of a continuation; a line ending in an unescaped `\` is joined
//!   with the next one, the backslash becoming a space; key and value are trimmed; an
//!   assignment outside a section or without `=` is ignored; a `[` line not ending in
//!   `]` makes the whole file fail to load.
//! - Drop-ins, systemd.unit(5): `NAME.service.d/*.conf` (also `service.d/` and the
//!   dash-prefix dirs `clawctl-.service.d/`) applied after the unit, all sorted by file
//!   name; for one file name the most specific directory wins.
//! - `Environment=`, `src/core/load-fragment.c` (`config_parse_environ`): words are split
//!   with `extract_first_word(EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE)` — quotes may open
//!   anywhere in a word and are removed, C escapes are decoded; specifiers are resolved per
//!   word, and a word with a bad specifier or an invalid `NAME=value` is skipped; an
//!   unbalanced quote or bad escape drops the rest of the line; an empty assignment resets
//!   the list; a later assignment of a name replaces the earlier one. `$VAR` is NOT
//!   expanded (systemd.exec(5)): `PATH=/home/$USER/bin` keeps the literal `$USER`.
//! - `EnvironmentFile=`, systemd.exec(5) and `config_parse_unit_env_file`: specifiers
//!   resolved, a `-` prefix makes a missing file fine, the path must be absolute, an empty
//!   assignment resets the list; files are read at start in the order listed and their
//!   variables override `Environment=` ("Settings from these files override settings made
//!   with Environment="). A missing non-optional file makes the start fail.
//! - `EnvironmentFile=` contents, `src/basic/env-file.c` (`parse_env_file_internal`), see
//!   [`parse_environment_file`]; variables with invalid names (`export KEY`) are dropped by
//!   `strv_env_clean_with_callback` in `src/core/execute.c`. Verified empirically against
//!   systemd 252's `systemd-environment-d-generator`, which uses the same parser.
//! - `UnsetEnvironment=`, systemd.exec(5): names remove every assignment of the name,
//!   `NAME=VALUE` only that exact assignment; applied last, to everything including the
//!   manager's variables.
//! - `WorkingDirectory=`: `-` prefix tolerates a missing directory, `~` is the user's home.
//! - Specifiers, systemd.unit(5) "Specifiers": `%h` home, `%u` user name, `%%` a percent;
//!   see [`Specifiers`] for the full set handled here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{EnvVar, Finding, Manager, ServiceDefinition, ServiceError, display_path};

/// systemd's compiled-in `PATH` for services (`DEFAULT_PATH` in `src/basic/path-util.h`
/// on merged-/usr systems). Distributions built with split /usr append `:/sbin:/bin`; the
/// real value is in `systemctl --user show-environment`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";

const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

// ---------------------------------------------------------------------------------------
// Unit file syntax

#[derive(Debug, Clone)]
struct Directive {
    file: PathBuf,
    /// Line where the (possibly continued) assignment starts.
    line: usize,
    section: String,
    key: String,
    value: String,
}

/// Directives of one file, and `(line, message)` for lines systemd ignores.
type UnitText = (Vec<Directive>, Vec<(usize, String)>);

/// Split unit text into directives by systemd's conf-parser rules. Non-fatal problems
/// are returned as `(line, message)`; a broken section header is fatal, as in systemd.
fn parse_unit_text(text: &str, file: &Path) -> Result<UnitText, ServiceError> {
    let mut directives = Vec::new();
    let mut issues = Vec::new();
    let mut section: Option<String> = None;
    let mut continuation: Option<(usize, String)> = None;

    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let raw = if idx == 0 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        if raw.trim_start_matches(WHITESPACE).starts_with(['#', ';']) {
            continue;
        }
        let (start, mut joined) = match continuation.take() {
            Some((start, mut acc)) => {
                acc.push_str(raw);
                (start, acc)
            }
            None => (line_no, raw.to_string()),
        };
        if ends_with_unescaped_backslash(&joined) {
            joined.pop();
            joined.push(' ');
            continuation = Some((start, joined));
            continue;
        }
        parse_logical_line(
            &joined,
            start,
            file,
            &mut section,
            &mut directives,
            &mut issues,
        )?;
    }
    if let Some((start, joined)) = continuation {
        parse_logical_line(
            &joined,
            start,
            file,
            &mut section,
            &mut directives,
            &mut issues,
        )?;
    }
    Ok((directives, issues))
}

fn ends_with_unescaped_backslash(s: &str) -> bool {
    let trailing = s.chars().rev().take_while(|c| *c == '\\').count();
    trailing % 2 == 1
}

fn parse_logical_line(
    line: &str,
    line_no: usize,
    file: &Path,
    section: &mut Option<String>,
    directives: &mut Vec<Directive>,
    issues: &mut Vec<(usize, String)>,
) -> Result<(), ServiceError> {
    let l = line.trim_matches(WHITESPACE);
    if l.is_empty() {
        return Ok(());
    }
    if let Some(rest) = l.strip_prefix('[') {
        let Some(name) = rest.strip_suffix(']') else {
            return Err(ServiceError::parse(
                file,
                Some(line_no),
                "invalid section header; systemd refuses to load this file",
                "a section header like [Service]",
            ));
        };
        *section = Some(name.to_string());
        return Ok(());
    }
    let Some(section) = section.as_ref() else {
        issues.push((
            line_no,
            "assignment outside of any section; systemd ignores it".into(),
        ));
        return Ok(());
    };
    match l.split_once('=') {
        None => issues.push((line_no, "missing '='; systemd ignores the line".into())),
        Some((k, _)) if k.trim_matches(WHITESPACE).is_empty() => issues.push((
            line_no,
            "missing key name before '='; systemd ignores the line".into(),
        )),
        Some((k, v)) => directives.push(Directive {
            file: file.to_path_buf(),
            line: line_no,
            section: section.clone(),
            key: k.trim_matches(WHITESPACE).to_string(),
            value: v.trim_matches(WHITESPACE).to_string(),
        }),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Words: extract_first_word(EXTRACT_CUNESCAPE | EXTRACT_UNQUOTE)

/// Words parsed before a syntax error, and the error. systemd keeps the former and
/// ignores the rest of the line.
#[derive(Debug, PartialEq, Eq)]
struct WordsError {
    words: Vec<String>,
    message: String,
}

fn extract_words(s: &str) -> Result<Vec<String>, WordsError> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| WHITESPACE.contains(c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        match extract_one_word(&mut chars) {
            Ok(w) => words.push(w),
            Err(message) => return Err(WordsError { words, message }),
        }
    }
}

fn extract_one_word(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::new();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                let decoded = cunescape_one(chars)?;
                out.extend_from_slice(&decoded);
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => push_char(&mut out, c),
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if WHITESPACE.contains(&c) => break,
            (None, c) => push_char(&mut out, c),
        }
    }
    if quote.is_some() {
        return Err("unbalanced quotes".into());
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// One C escape after a backslash, as `cunescape_one` in `src/basic/escape.c`.
fn cunescape_one(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Vec<u8>, String> {
    let Some(c) = chars.next() else {
        return Err("trailing backslash".into());
    };
    let simple = match c {
        'a' => Some(7u8),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(11),
        '\\' => Some(b'\\'),
        '"' => Some(b'"'),
        '\'' => Some(b'\''),
        's' => Some(b' '),
        _ => None,
    };
    if let Some(b) = simple {
        return Ok(vec![b]);
    }
    let mut take = |n: usize, radix: u32| -> Result<u32, String> {
        let digits: String = (0..n).filter_map(|_| chars.next()).collect();
        if digits.len() != n {
            return Err(format!("incomplete escape \\{c}"));
        }
        u32::from_str_radix(&digits, radix).map_err(|_| format!("invalid escape \\{c}{digits}"))
    };
    let code = match c {
        'x' => take(2, 16)?,
        'u' => take(4, 16)?,
        'U' => take(8, 16)?,
        '0'..='7' => {
            let rest = take(2, 8)?;
            (c as u32 - '0' as u32) * 64 + rest
        }
        _ => return Err(format!("unknown escape sequence \\{c}")),
    };
    if code == 0 {
        return Err("escape sequence for a NUL byte".into());
    }
    if matches!(c, '0'..='7') && code > 0xFF {
        return Err(format!("octal escape \\{c}… is larger than a byte"));
    }
    match c {
        // \x and octal give raw bytes, which may form UTF-8 with their neighbours.
        'x' | '0'..='7' => Ok(vec![code as u8]),
        _ => {
            let ch = char::from_u32(code).ok_or_else(|| format!("invalid code point in \\{c}"))?;
            let mut out = Vec::new();
            push_char(&mut out, ch);
            Ok(out)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Specifiers

/// The specifiers of systemd.unit(5) for a unit run by the *user* manager.
///
/// Resolved: `%%`, `%h` (home), `%u` (user), `%n %N %p %i %I %j %J` (from the unit name),
/// `%E %S %C %L` (`~/.config`, `~/.local/state`, `~/.cache`, `~/.local/state/log`,
/// the XDG defaults), `%T` (`/tmp`), `%V` (`/var/tmp`). Valid but machine-specific ones
/// (`%H` host, `%m` machine id, `%t` runtime dir, `%U` uid, …) stay literal with a
/// finding. Any other letter is invalid: systemd skips the word or directive.
pub struct Specifiers<'a> {
    pub home: &'a Path,
    pub user: &'a str,
    pub unit: &'a str,
}

const KNOWN_UNRESOLVED: &str = "aAbBdfgGHlmMoqstUvwWyY";

impl Specifiers<'_> {
    /// The expanded text and the valid specifiers left literal, or the first invalid
    /// specifier letter.
    pub fn expand(&self, s: &str) -> Result<(String, Vec<char>), char> {
        let mut out = String::with_capacity(s.len());
        let mut unresolved = Vec::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(spec) = chars.next() else {
                return Err('%');
            };
            match self.resolve(spec) {
                Some(v) => out.push_str(&v),
                None if KNOWN_UNRESOLVED.contains(spec) => {
                    out.push('%');
                    out.push(spec);
                    if !unresolved.contains(&spec) {
                        unresolved.push(spec);
                    }
                }
                None => return Err(spec),
            }
        }
        Ok((out, unresolved))
    }

    fn resolve(&self, spec: char) -> Option<String> {
        let home = || (!self.home.as_os_str().is_empty()).then(|| self.home.display().to_string());
        let under_home = |rel: &str| home().map(|h| format!("{h}/{rel}"));
        let (prefix, instance) = self.prefix_and_instance();
        Some(match spec {
            '%' => "%".into(),
            'h' => home()?,
            'u' if !self.user.is_empty() => self.user.into(),
            'n' => self.unit.into(),
            'N' => self
                .unit
                .rsplit_once('.')
                .map_or(self.unit, |(n, _)| n)
                .into(),
            'p' => prefix.into(),
            'i' => instance.into(),
            'I' => unescape_unit_part(instance),
            'j' => prefix.rsplit('-').next().unwrap_or(prefix).into(),
            'J' => unescape_unit_part(prefix.rsplit('-').next().unwrap_or(prefix)),
            'E' => under_home(".config")?,
            'S' => under_home(".local/state")?,
            'C' => under_home(".cache")?,
            'L' => under_home(".local/state/log")?,
            'T' => "/tmp".into(),
            'V' => "/var/tmp".into(),
            _ => return None,
        })
    }

    fn prefix_and_instance(&self) -> (&str, &str) {
        let stem = self.unit.rsplit_once('.').map_or(self.unit, |(n, _)| n);
        match stem.split_once('@') {
            Some((p, i)) => (p, i),
            None => (stem, ""),
        }
    }
}

/// `unit_name_unescape`: `-` is `/`, `\xNN` a byte.
fn unescape_unit_part(s: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = (b == b'\\' && tail.first() == Some(&b'x'))
            .then(|| std::str::from_utf8(tail.get(1..3)?).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (_, Some(byte)) => {
                out.push(byte);
                rest = &tail[3..];
                continue;
            }
            (b'-', None) => out.push(b'/'),
            (other, None) => out.push(other),
        }
        rest = tail;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// EnvironmentFile= contents

/// One variable read from an environment file.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvFileEntry {
    pub name: String,
    pub value: String,
    /// 1-based line where the assignment starts.
    pub line: usize,
}

impl std::fmt::Debug for EnvFileEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvFileEntry")
            .field("name", &self.name)
            .field("value", &crate::secrets::mask::describe(&self.value))
            .field("line", &self.line)
            .finish()
    }
}

/// A line systemd ignores or reads surprisingly. Never contains a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileIssue {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvState {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
    CommentEscape,
}

/// The raw `(key, value, line)` triples of systemd's env-file state machine, before
/// name validation.
struct RawAssignment {
    key: String,
    value: String,
    line: usize,
}

/// Read `EnvironmentFile=` text the way systemd does (`parse_env_file_internal`).
///
/// Differences from dotenv that matter in practice:
/// - `#` starts a comment only where a key could start: `KEY=x # note` is `x # note`;
/// - after a closing quote, parsing continues in the same value with blanks skipped:
///   `KEY='a b' # note` is `a b# note`;
/// - `export KEY=1` is read as a key `export KEY`, which is invalid, so it is dropped;
/// - unquoted and double-quoted values decode backslashes differently: `\x` → `x`
///   unquoted; in double quotes only `\" \\ \` \$` are unescaped and other backslashes kept;
/// - a backslash-newline continues an unquoted or double-quoted value;
/// - quoted values may span lines; an unterminated quote runs to the end of the file.
///
/// A comment line ending in a backslash: systemd < 254 also treats the following line as
/// comment; 254 and later do not. This follows 254+ and reports the line.
pub fn parse_environment_file(text: &str) -> (Vec<EnvFileEntry>, Vec<EnvFileIssue>) {
    let (raw, mut issues) = scan_env_file(text);
    let mut entries: Vec<EnvFileEntry> = Vec::new();
    for a in raw {
        if !crate::secrets::mask::is_valid_env_name(&a.key) {
            let message = match a.key.strip_prefix("export") {
                Some(rest) if rest.starts_with(WHITESPACE) => format!(
                    "`export {}=` is ignored by systemd (`export` is not allowed in an EnvironmentFile)",
                    rest.trim_matches(WHITESPACE)
                ),
                _ => format!(
                    "`{}` is not a valid variable name; systemd ignores it",
                    crate::secrets::mask::preview(&a.key)
                ),
            };
            issues.push(EnvFileIssue {
                line: a.line,
                message,
            });
            continue;
        }
        if !env_value_is_valid(&a.value) {
            issues.push(EnvFileIssue {
                line: a.line,
                message: format!(
                    "the value of {} contains control characters; systemd ignores it",
                    a.key
                ),
            });
            continue;
        }
        if let Some(prev) = entries.iter().position(|e| e.name == a.key) {
            issues.push(EnvFileIssue {
                line: a.line,
                message: format!(
                    "{} is set again (first on line {}); systemd uses this line",
                    a.key, entries[prev].line
                ),
            });
            entries.remove(prev);
        }
        entries.push(EnvFileEntry {
            name: a.key,
            value: a.value,
            line: a.line,
        });
    }
    issues.sort_by_key(|i| i.line);
    (entries, issues)
}

/// `env_value_is_valid`: no control characters other than tab and newline.
fn env_value_is_valid(v: &str) -> bool {
    !v.chars().any(|c| c.is_control() && c != '\t' && c != '\n')
}

fn scan_env_file(text: &str) -> (Vec<RawAssignment>, Vec<EnvFileIssue>) {
    use EnvState::*;
    let is_nl = |c: char| c == '\n' || c == '\r';
    let is_ws = |c: char| WHITESPACE.contains(&c);

    let mut out = Vec::new();
    let mut issues = Vec::new();
    let mut state = PreKey;
    let mut key = String::new();
    let mut key_ws: Option<usize> = None;
    let mut value = String::new();
    let mut value_ws: Option<usize> = None;
    let mut line = 1;
    let mut start = 1;

    let mut push = |key: &mut String, key_ws: Option<usize>, value: &mut String, start: usize| {
        if let Some(n) = key_ws {
            key.truncate(n);
        }
        out.push(RawAssignment {
            key: std::mem::take(key),
            value: std::mem::take(value),
            line: start,
        });
    };

    for c in text.chars() {
        match state {
            PreKey => {
                if c == '#' || c == ';' {
                    state = Comment;
                } else if !is_ws(c) {
                    state = Key;
                    key_ws = None;
                    key.push(c);
                    start = line;
                }
            }
            Key => {
                if is_nl(c) {
                    issues.push(EnvFileIssue {
                        line: start,
                        message: "line without '='; systemd ignores it".into(),
                    });
                    key.clear();
                    state = PreKey;
                } else if c == '=' {
                    state = PreValue;
                    value_ws = None;
                } else {
                    if !is_ws(c) {
                        key_ws = None;
                    } else if key_ws.is_none() {
                        key_ws = Some(key.len());
                    }
                    key.push(c);
                }
            }
            PreValue => {
                if is_nl(c) {
                    push(&mut key, key_ws, &mut value, start);
                    state = PreKey;
                } else if c == '\'' {
                    state = SingleQuote;
                } else if c == '"' {
                    state = DoubleQuote;
                } else if c == '\\' {
                    state = ValueEscape;
                } else if !is_ws(c) {
                    state = Value;
                    value.push(c);
                }
            }
            Value => {
                if is_nl(c) {
                    if let Some(n) = value_ws {
                        value.truncate(n);
                    }
                    push(&mut key, key_ws, &mut value, start);
                    state = PreKey;
                } else if c == '\\' {
                    state = ValueEscape;
                    value_ws = None;
                } else {
                    if !is_ws(c) {
                        value_ws = None;
                    } else if value_ws.is_none() {
                        value_ws = Some(value.len());
                    }
                    value.push(c);
                }
            }
            ValueEscape => {
                state = Value;
                if !is_nl(c) {
                    value.push(c);
                }
            }
            SingleQuote => {
                if c == '\'' {
                    state = PreValue;
                } else {
                    value.push(c);
                }
            }
            DoubleQuote => {
                if c == '"' {
                    state = PreValue;
                } else if c == '\\' {
                    state = DoubleQuoteEscape;
                } else {
                    value.push(c);
                }
            }
            DoubleQuoteEscape => {
                state = DoubleQuote;
                if "\"\\`$".contains(c) {
                    value.push(c);
                } else if c != '\n' {
                    value.push('\\');
                    value.push(c);
                }
            }
            Comment => {
                if c == '\\' {
                    state = CommentEscape;
                } else if is_nl(c) {
                    state = PreKey;
                }
            }
            CommentEscape => {
                if is_nl(c) {
                    issues.push(EnvFileIssue {
                        line,
                        message: "comment ends with a backslash: systemd before v254 also treats the next line as comment".into(),
                    });
                    state = PreKey;
                } else {
                    state = Comment;
                }
            }
        }
        if c == '\n' {
            line += 1;
        }
    }

    match state {
        SingleQuote | DoubleQuote | DoubleQuoteEscape => {
            issues.push(EnvFileIssue {
                line: start,
                message: "unterminated quote; systemd reads to the end of the file".into(),
            });
            push(&mut key, key_ws, &mut value, start);
        }
        Value => {
            if let Some(n) = value_ws {
                value.truncate(n);
            }
            push(&mut key, key_ws, &mut value, start);
        }
        PreValue | ValueEscape => push(&mut key, key_ws, &mut value, start),
        Key => issues.push(EnvFileIssue {
            line: start,
            message: "line without '='; systemd ignores it".into(),
        }),
        PreKey | Comment | CommentEscape => {}
    }
    (out, issues)
}

/// A variable that dotenv and systemd's `EnvironmentFile=` read differently from the
/// same text. `None` means that reader does not set the variable at all.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadDifference {
    pub name: String,
    pub line: usize,
    pub dotenv: Option<String>,
    pub systemd: Option<String>,
}

impl std::fmt::Debug for ReadDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.as_deref().map(crate::secrets::mask::describe);
        f.debug_struct("ReadDifference")
            .field("name", &self.name)
            .field("line", &self.line)
            .field("dotenv", &show(&self.dotenv))
            .field("systemd", &show(&self.systemd))
            .finish()
    }
}

/// Read one `.env` text by dotenv rules ([`crate::config::dotenv::parse`]) and by systemd's
/// `EnvironmentFile=` rules, and return the variables whose values differ, in line order.
pub fn dotenv_systemd_differences(text: &str) -> Vec<ReadDifference> {
    let (dotenv_entries, _) = crate::config::dotenv::parse(text);
    let (systemd_entries, _) = parse_environment_file(text);
    let mut dotenv: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for e in &dotenv_entries {
        dotenv.insert(&e.name, (&e.value, e.line));
    }
    let mut systemd: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for e in &systemd_entries {
        systemd.insert(&e.name, (&e.value, e.line));
    }
    let names: std::collections::BTreeSet<&str> =
        dotenv.keys().chain(systemd.keys()).copied().collect();
    let mut diffs: Vec<ReadDifference> = names
        .into_iter()
        .filter_map(|name| {
            let d = dotenv.get(name);
            let s = systemd.get(name);
            if d.map(|x| x.0) == s.map(|x| x.0) {
                return None;
            }
            Some(ReadDifference {
                name: name.to_string(),
                line: d.or(s).map_or(0, |x| x.1),
                dotenv: d.map(|x| x.0.to_string()),
                systemd: s.map(|x| x.0.to_string()),
            })
        })
        .collect();
    diffs.sort_by_key(|d| d.line);
    diffs
}

// ---------------------------------------------------------------------------------------
// The unit as a ServiceDefinition

/// Parse a user unit and the drop-ins next to it (`NAME.service.d/*.conf`, plus
/// `service.d/` and dash-prefix dirs), for the user `user` whose home is `home`.
pub fn parse_systemd_unit(
    unit_path: &Path,
    home: &Path,
    user: &str,
) -> Result<ServiceDefinition, ServiceError> {
    let drop_ins = find_drop_ins(unit_path);
    parse_systemd_unit_files(unit_path, &drop_ins, home, user)
}

/// Parse a unit with an explicit list of drop-ins (as `systemctl show -p DropInPaths`
/// reports them), applied in the order given.
pub fn parse_systemd_unit_files(
    unit_path: &Path,
    drop_ins: &[PathBuf],
    home: &Path,
    user: &str,
) -> Result<ServiceDefinition, ServiceError> {
    let unit_name = unit_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut def = ServiceDefinition::new(Manager::Systemd, unit_name.clone(), unit_path);
    let mut directives = Vec::new();
    for file in std::iter::once(unit_path).chain(drop_ins.iter().map(PathBuf::as_path)) {
        let text = crate::read::bytes(file).map_err(|e| ServiceError::read(file, &e))?;
        let text = String::from_utf8_lossy(&text);
        let (ds, issues) = parse_unit_text(&text, file)?;
        def.add_file(file);
        for (line, message) in issues {
            let ev = format!("{}:{line}", display_path(file, Some(home)));
            def.finding("unit-syntax", message, ev);
        }
        directives.extend(ds);
    }
    let spec = Specifiers {
        home,
        user,
        unit: &unit_name,
    };
    let mut b = UnitBuilder::new(def, &spec, home, user);
    for d in directives.iter().filter(|d| d.section == "Service") {
        b.apply(d);
    }
    Ok(b.finish())
}

/// Drop-in files in systemd's order: sorted by file name over `service.d/`, the
/// dash-prefix dirs and `NAME.service.d/`; for one file name the most specific dir wins.
fn find_drop_ins(unit_path: &Path) -> Vec<PathBuf> {
    let Some(dir) = unit_path.parent() else {
        return Vec::new();
    };
    let Some(name) = unit_path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Some((stem, suffix)) = name.rsplit_once('.') else {
        return Vec::new();
    };
    // Least specific first, so that inserting later overrides.
    let mut dirs = vec![dir.join(format!("{suffix}.d"))];
    let stem_no_instance = stem.split('@').next().unwrap_or(stem);
    let parts: Vec<&str> = stem_no_instance.split('-').collect();
    for i in 1..parts.len() {
        dirs.push(dir.join(format!("{}-.{suffix}.d", parts[..i].join("-"))));
    }
    if stem.contains('@') {
        dirs.push(dir.join(format!("{stem_no_instance}@.{suffix}.d")));
    }
    dirs.push(dir.join(format!("{name}.d")));

    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let file_name = e.file_name().to_string_lossy().into_owned();
            if file_name.ends_with(".conf") && e.path().is_file() {
                by_name.insert(file_name, e.path());
            }
        }
    }
    by_name.into_values().collect()
}

/// Accumulates the `[Service]` directives with systemd's semantics.
struct UnitBuilder<'a> {
    def: ServiceDefinition,
    spec: &'a Specifiers<'a>,
    home: &'a Path,
    user: &'a str,
    /// `Environment=` assignments, in systemd's list order.
    env: Vec<EnvVar>,
    /// `EnvironmentFile=`: path, optional, evidence.
    env_files: Vec<(PathBuf, bool, String)>,
    /// `UnsetEnvironment=` entries and their evidence.
    unset: Vec<(String, String)>,
    exec_start: Vec<Vec<String>>,
    working_dir: Option<(PathBuf, bool, String)>,
}

impl<'a> UnitBuilder<'a> {
    fn new(
        def: ServiceDefinition,
        spec: &'a Specifiers<'a>,
        home: &'a Path,
        user: &'a str,
    ) -> Self {
        UnitBuilder {
            def,
            spec,
            home,
            user,
            env: Vec::new(),
            env_files: Vec::new(),
            unset: Vec::new(),
            exec_start: Vec::new(),
            working_dir: None,
        }
    }

    fn evidence(&self, d: &Directive) -> String {
        format!(
            "{}:{} ({}=)",
            display_path(&d.file, Some(self.home)),
            d.line,
            d.key
        )
    }

    fn apply(&mut self, d: &Directive) {
        match d.key.as_str() {
            "Environment" => self.environment(d),
            "EnvironmentFile" => self.environment_file(d),
            "UnsetEnvironment" => self.unset_environment(d),
            "WorkingDirectory" => self.working_directory(d),
            "User" => self.user_directive(d),
            "ExecStart" => self.exec_start(d),
            _ => {}
        }
    }

    fn environment(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if d.value.is_empty() {
            if !self.env.is_empty() {
                let names: Vec<&str> = self.env.iter().map(|v| v.name.as_str()).collect();
                let msg = format!(
                    "empty Environment= resets the list: {} set before it {} dropped",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are" }
                );
                self.def.finding("env-reset", msg, ev);
            }
            self.env.clear();
            return;
        }
        for (n, word) in self.words(d, &ev).into_iter().enumerate() {
            let Some(resolved) = self.expand(&word, &ev) else {
                continue;
            };
            let Some((name, value)) = resolved.split_once('=').filter(|(k, v)| {
                crate::secrets::mask::is_valid_env_name(k) && env_value_is_valid(v)
            }) else {
                let msg = format!(
                    "word {} of Environment= is not a valid NAME=value assignment; systemd ignores it",
                    n + 1
                );
                self.def.finding("invalid-assignment", msg, ev.clone());
                continue;
            };
            for r in super::dollar_references(value) {
                let msg = format!(
                    "{name} contains `${r}`: systemd does not expand variables in Environment=, the service gets the literal text"
                );
                self.def.finding("literal-dollar", msg, ev.clone());
            }
            self.set_env(EnvVar::new(name, value, ev.clone()));
        }
    }

    fn set_env(&mut self, var: EnvVar) {
        match self.env.iter_mut().find(|v| v.name == var.name) {
            Some(old) => {
                let msg = format!(
                    "{} is set again; systemd uses this assignment, not the one at {}",
                    var.name, old.evidence
                );
                self.def
                    .findings
                    .push(Finding::new("env-override", msg, var.evidence.clone()));
                *old = var;
            }
            None => self.env.push(var),
        }
    }

    /// Words of a list-valued directive; on a syntax error, the words before it (systemd
    /// keeps those) and a finding.
    fn words(&mut self, d: &Directive, ev: &str) -> Vec<String> {
        match extract_words(&d.value) {
            Ok(w) => w,
            Err(e) => {
                let msg = format!(
                    "{} in {}=: systemd ignores the rest of the line",
                    e.message, d.key
                );
                self.def.finding("unit-syntax", msg, ev);
                e.words
            }
        }
    }

    /// Resolve specifiers; `None` (and a finding) when systemd would skip the text.
    fn expand(&mut self, s: &str, ev: &str) -> Option<String> {
        match self.spec.expand(s) {
            Ok((out, unresolved)) => {
                for c in unresolved {
                    let msg = format!(
                        "specifier %{c} depends on the machine systemd runs on; left as written"
                    );
                    self.def.finding("specifier-unresolved", msg, ev);
                }
                Some(out)
            }
            Err(c) => {
                let msg = format!(
                    "%{c} is not a systemd specifier; systemd ignores this assignment (write %% for a literal %)"
                );
                self.def.finding("specifier-invalid", msg, ev);
                None
            }
        }
    }

    fn environment_file(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if d.value.is_empty() {
            self.env_files.clear();
            return;
        }
        let Some(resolved) = self.expand(&d.value, &ev) else {
            return;
        };
        let (optional, path) = match resolved.strip_prefix('-') {
            Some(p) => (true, p.to_string()),
            None => (false, resolved),
        };
        if !path.starts_with('/') {
            let msg = "EnvironmentFile= needs an absolute path; systemd ignores this line";
            self.def.finding("env-file-relative", msg, ev);
            return;
        }
        if path.contains(['*', '?', '[']) {
            self.def.cannot_tell.push(format!(
                "EnvironmentFile={path} is a glob pattern; the files it matches are not read here ({ev})"
            ));
            return;
        }
        self.env_files.push((PathBuf::from(path), optional, ev));
    }

    fn unset_environment(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if d.value.is_empty() {
            self.unset.clear();
            return;
        }
        for word in self.words(d, &ev) {
            let Some(w) = self.expand(&word, &ev) else {
                continue;
            };
            let name = w.split_once('=').map_or(w.as_str(), |(k, _)| k);
            if crate::secrets::mask::is_valid_env_name(name) {
                self.unset.push((w, ev.clone()));
            } else {
                let msg = "UnsetEnvironment= entry is not a variable name or NAME=value; systemd ignores it";
                self.def.finding("invalid-assignment", msg, ev.clone());
            }
        }
    }

    fn working_directory(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if d.value.is_empty() {
            self.working_dir = None;
            return;
        }
        let Some(resolved) = self.expand(&d.value, &ev) else {
            return;
        };
        let (optional, raw) = match resolved.strip_prefix('-') {
            Some(p) => (true, p.to_string()),
            None => (false, resolved),
        };
        let path = if raw == "~" {
            self.home.to_path_buf()
        } else if raw.starts_with('/') {
            PathBuf::from(raw)
        } else {
            let msg = "WorkingDirectory= must be an absolute path or ~; systemd ignores it";
            self.def.finding("unit-syntax", msg, ev);
            return;
        };
        self.working_dir = Some((path, optional, ev));
    }

    fn user_directive(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if let Some(u) = self.expand(&d.value, &ev) {
            self.def.user = (!u.is_empty()).then_some(u);
        }
    }

    fn exec_start(&mut self, d: &Directive) {
        let ev = self.evidence(d);
        if d.value.is_empty() {
            self.exec_start.clear();
            return;
        }
        // Prefixes: @ - : + ! !! (systemd.service(5) "ExecStart=").
        let body = d.value.trim_start_matches(['@', '-', ':', '+', '!']);
        let prefixes = &d.value[..d.value.len() - body.len()];
        let mut words: Vec<String> = self
            .words(
                &Directive {
                    value: body.to_string(),
                    ..d.clone()
                },
                &ev,
            )
            .iter()
            .map(|w| match self.spec.expand(w) {
                Ok((s, _)) => s,
                Err(_) => w.clone(),
            })
            .collect();
        // With @ the second word is argv[0], not an argument.
        if prefixes.contains('@') && words.len() > 1 {
            words.remove(1);
        }
        self.exec_start.push(words);
    }

    fn finish(mut self) -> ServiceDefinition {
        self.def.program = self.exec_start.first().cloned().unwrap_or_default();
        self.finish_working_dir();
        self.check_user();
        let file_env = self.read_env_files();
        let mut env = std::mem::take(&mut self.env);
        for var in file_env {
            match env.iter_mut().find(|v| v.name == var.name) {
                Some(old) => {
                    let msg = format!(
                        "{} is set by both Environment= ({}) and an EnvironmentFile; systemd uses the EnvironmentFile's value",
                        var.name, old.evidence
                    );
                    self.def
                        .finding("env-file-overrides", msg, var.evidence.clone());
                    *old = var;
                }
                None => env.push(var),
            }
        }
        self.def.env = env;
        self.def.manager_env = manager_env(self.home, self.user, &mut self.def);
        self.def.cannot_tell.push(
            "the user manager's own environment (PAM, /etc/environment.d, `systemctl --user set-environment`/`import-environment`); `systemctl --user show-environment` lists it on that machine".into(),
        );
        apply_unset(&mut self.def, &self.unset);
        self.def
    }

    fn finish_working_dir(&mut self) {
        let Some((path, optional, ev)) = self.working_dir.take() else {
            return;
        };
        if !optional && !path.is_dir() {
            let msg = format!(
                "WorkingDirectory {} does not exist here; systemd fails to start the service (200/CHDIR) unless it is prefixed with -",
                path.display()
            );
            self.def.finding("working-dir-missing", msg, ev);
        }
        self.def.working_dir = Some(path);
    }

    fn check_user(&mut self) {
        if let Some(u) = &self.def.user
            && !self.user.is_empty()
            && u != self.user
        {
            let msg = format!(
                "User={u} in a user unit of {}: the user manager cannot switch users, the service fails to start (216/GROUP or 217/USER)",
                self.user
            );
            self.def
                .finding("user-mismatch", msg, self.def.path.display().to_string());
        }
    }

    /// Read the `EnvironmentFile=`s in order; a later file overrides an earlier one.
    fn read_env_files(&mut self) -> Vec<EnvVar> {
        let mut out: Vec<EnvVar> = Vec::new();
        for (path, optional, ev) in std::mem::take(&mut self.env_files) {
            let shown = display_path(&path, Some(self.home));
            let bytes = match crate::read::bytes(&path) {
                Ok(b) => b,
                Err(e) => {
                    self.env_file_unreadable(&shown, optional, &e, ev);
                    continue;
                }
            };
            self.def.add_file(&path);
            let (entries, issues) = parse_environment_file(&String::from_utf8_lossy(&bytes));
            for i in issues {
                let ev = format!("{shown}:{} (EnvironmentFile=)", i.line);
                self.def.finding("env-file-syntax", i.message, ev);
            }
            for e in entries {
                let var = EnvVar::new(
                    e.name,
                    e.value,
                    format!("{shown}:{} (EnvironmentFile=)", e.line),
                );
                match out.iter_mut().find(|v| v.name == var.name) {
                    Some(old) => *old = var,
                    None => out.push(var),
                }
            }
        }
        out
    }

    fn env_file_unreadable(&mut self, shown: &str, optional: bool, e: &std::io::Error, ev: String) {
        let missing = e.kind() == std::io::ErrorKind::NotFound;
        let (code, msg) = match (optional, missing) {
            (true, true) => (
                "env-file-optional-missing",
                format!("optional EnvironmentFile {shown} does not exist; systemd skips it"),
            ),
            (true, false) => (
                "env-file-unreadable",
                format!("optional EnvironmentFile {shown} cannot be read ({e}); systemd skips it"),
            ),
            (false, _) => (
                "env-file-missing",
                format!(
                    "EnvironmentFile {shown} cannot be read ({e}); systemd refuses to start the service (prefix the path with - to make it optional)"
                ),
            ),
        };
        self.def.finding(code, msg, ev);
    }
}

/// What the user manager gives every service: HOME, USER, LOGNAME, its PATH, and the
/// variables of `~/.config/environment.d/*.conf`.
fn manager_env(home: &Path, user: &str, def: &mut ServiceDefinition) -> Vec<EnvVar> {
    let by = "added by systemd";
    let mut env = Vec::new();
    if !home.as_os_str().is_empty() {
        env.push(EnvVar::new("HOME", home.display().to_string(), by));
    }
    if !user.is_empty() {
        env.push(EnvVar::new("USER", user, by));
        env.push(EnvVar::new("LOGNAME", user, by));
    }
    env.push(EnvVar::new(
        "PATH",
        DEFAULT_PATH,
        "added by systemd (compiled-in default PATH)",
    ));
    environment_d(home, &mut env, def);
    env
}

/// `~/.config/environment.d/*.conf`, read by systemd-environment-d-generator(8) into the
/// user manager's environment: env-file syntax, files in file-name order, and
/// `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternate}` expanded against the
/// variables known so far.
fn environment_d(home: &Path, env: &mut Vec<EnvVar>, def: &mut ServiceDefinition) {
    if home.as_os_str().is_empty() {
        return;
    }
    let dir = home.join(".config/environment.d");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf") && p.is_file())
        .collect();
    files.sort();
    for file in files {
        let Ok(bytes) = crate::read::bytes(&file) else {
            continue;
        };
        def.add_file(&file);
        let shown = display_path(&file, Some(home));
        let (entries, _) = parse_environment_file(&String::from_utf8_lossy(&bytes));
        for e in entries {
            let ev = format!("{shown}:{} (environment.d)", e.line);
            if e.value.is_empty() {
                let msg = format!(
                    "{} has an empty value; systemd-environment-d-generator ignores it",
                    e.name
                );
                def.finding("environment-d-syntax", msg, ev);
                continue;
            }
            let value = replace_env(&e.value, env);
            let var = EnvVar::new(e.name, value, ev);
            match env.iter_mut().find(|v| v.name == var.name) {
                Some(old) => *old = var,
                None => env.push(var),
            }
        }
    }
}

/// `replace_env` with braceless and extended forms; unknown variables expand to "".
fn replace_env(value: &str, env: &[EnvVar]) -> String {
    let lookup = |n: &str| {
        env.iter()
            .rev()
            .find(|v| v.name == n)
            .map(|v| v.value.as_str())
    };
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let expr = &inner[..end];
            let expanded = if let Some((n, def)) = expr.split_once(":-") {
                lookup(n)
                    .filter(|v| !v.is_empty())
                    .unwrap_or(def)
                    .to_string()
            } else if let Some((n, alt)) = expr.split_once(":+") {
                if lookup(n).is_some_and(|v| !v.is_empty()) {
                    alt.to_string()
                } else {
                    String::new()
                }
            } else {
                lookup(expr).unwrap_or("").to_string()
            };
            out.push_str(&expanded);
            rest = &inner[end + 1..];
        } else {
            let n: String = after.chars().take_while(|c| is_name(*c)).collect();
            if n.is_empty() {
                out.push('$');
            } else {
                out.push_str(lookup(&n).unwrap_or(""));
            }
            rest = &after[n.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// `UnsetEnvironment=`: names remove all assignments, `NAME=VALUE` only that one.
fn apply_unset(def: &mut ServiceDefinition, unset: &[(String, String)]) {
    let matches = |v: &EnvVar, pattern: &str| match pattern.split_once('=') {
        Some((n, val)) => v.name == n && v.value == val,
        None => v.name == pattern,
    };
    for (pattern, ev) in unset {
        let before = def.env.len() + def.manager_env.len();
        def.env.retain(|v| !matches(v, pattern));
        def.manager_env.retain(|v| !matches(v, pattern));
        let removed = before != def.env.len() + def.manager_env.len();
        // Only names go into `unset` and messages: a NAME=VALUE pattern may hold a secret.
        let (name, exact) = match pattern.split_once('=') {
            Some((n, _)) => (n, true),
            None => (pattern.as_str(), false),
        };
        if exact && !removed {
            let msg = format!(
                "UnsetEnvironment={name}=… removes nothing: no assignment of {name} has exactly that value"
            );
            def.finding("unset-no-match", msg, ev.clone());
            continue;
        }
        if !def.unset.iter().any(|u| u == name) {
            def.unset.push(name.to_string());
        }
    }
}

// ---------------------------------------------------------------------------------------
// systemctl --user show

/// What a running user manager says about a unit: the authoritative file list and the
/// `Environment=` it has loaded (which lags behind the files until `daemon-reload`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemdShow {
    pub unit: String,
    pub load_state: Option<String>,
    pub active_state: Option<String>,
    pub sub_state: Option<String>,
    pub fragment_path: Option<PathBuf>,
    pub drop_in_paths: Vec<PathBuf>,
    /// The loaded `Environment=` list (not EnvironmentFile contents, not the manager's).
    pub environment: Vec<EnvVar>,
    /// `EnvironmentFile=` paths and whether each is optional (`-`).
    pub environment_files: Vec<(PathBuf, bool)>,
    pub unset_environment: Vec<String>,
    pub working_directory: Option<String>,
    pub user: Option<String>,
    /// `None` when not running (systemd reports 0).
    pub main_pid: Option<u32>,
    pub exec_main_start_timestamp: Option<String>,
    /// systemd's own "unit files changed on disk, run daemon-reload".
    pub need_daemon_reload: Option<bool>,
}

const SHOW_PROPERTIES: &[&str] = &[
    "LoadState",
    "ActiveState",
    "SubState",
    "FragmentPath",
    "DropInPaths",
    "Environment",
    "EnvironmentFiles",
    "UnsetEnvironment",
    "WorkingDirectory",
    "User",
    "MainPID",
    "ExecMainStartTimestamp",
    "NeedDaemonReload",
];

/// Ask the user manager about `unit`. `None` when there is no user manager to ask (no
/// session bus, as in CI and containers), `systemctl` is missing, or it does not answer
/// within two seconds.
pub fn systemctl_show(unit: &str) -> Option<SystemdShow> {
    let mut cmd = Command::new("systemctl");
    cmd.args(["--user", "show", unit, "--no-pager"]);
    for p in SHOW_PROPERTIES {
        cmd.args(["-p", p]);
    }
    let out = run_with_timeout(cmd, Duration::from_secs(2))?;
    if !out.status.success() {
        return None;
    }
    let mut show = parse_systemctl_show(&String::from_utf8_lossy(&out.stdout));
    show.unit = unit.to_string();
    Some(show)
}

fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Option<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Parse `systemctl show` output (`Key=value` lines).
pub fn parse_systemctl_show(text: &str) -> SystemdShow {
    let mut show = SystemdShow::default();
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "Id" => show.unit = value.to_string(),
            "LoadState" => show.load_state = some(value),
            "ActiveState" => show.active_state = some(value),
            "SubState" => show.sub_state = some(value),
            "FragmentPath" => show.fragment_path = some(value).map(PathBuf::from),
            "DropInPaths" => {
                show.drop_in_paths = value.split_whitespace().map(PathBuf::from).collect()
            }
            "Environment" => {
                let words = extract_words(value).unwrap_or_else(|e| e.words);
                show.environment = words
                    .iter()
                    .filter_map(|w| w.split_once('='))
                    .map(|(k, v)| EnvVar::new(k, v, "systemctl --user show (Environment=)"))
                    .collect();
            }
            // One line per file: "/path (ignore_errors=yes)".
            "EnvironmentFiles" if !value.is_empty() => {
                let (path, optional) = match value.rsplit_once(" (ignore_errors=") {
                    Some((p, flag)) => (p, flag.starts_with("yes")),
                    None => (value, false),
                };
                show.environment_files.push((PathBuf::from(path), optional));
            }
            "UnsetEnvironment" => {
                show.unset_environment = extract_words(value).unwrap_or_else(|e| e.words)
            }
            "WorkingDirectory" => show.working_directory = some(value),
            "User" => show.user = some(value),
            "MainPID" => show.main_pid = value.parse().ok().filter(|p| *p != 0),
            "ExecMainStartTimestamp" => show.exec_main_start_timestamp = some(value),
            "NeedDaemonReload" => show.need_daemon_reload = Some(value == "yes"),
            _ => {}
        }
    }
    show
}

/// Where the loaded unit (per `systemctl show`) and the files on disk disagree: the
/// service runs with the old definition until `systemctl --user daemon-reload` and a
/// restart.
pub fn show_differences(def: &ServiceDefinition, show: &SystemdShow) -> Vec<Finding> {
    let mut out = Vec::new();
    let ev = format!("systemctl --user show {}", show.unit);
    let reload = "run `systemctl --user daemon-reload`, then restart the service";
    if show.need_daemon_reload == Some(true) {
        out.push(Finding::new(
            "not-reloaded",
            format!("systemd reports the unit files changed since they were loaded; {reload}"),
            ev.clone(),
        ));
    }
    if let Some(fragment) = &show.fragment_path
        && fragment != &def.path
    {
        out.push(Finding::new(
            "other-fragment",
            format!(
                "systemd loaded {} for this unit, not {}",
                fragment.display(),
                def.path.display()
            ),
            ev.clone(),
        ));
    }
    let from_environment = |v: &&EnvVar| v.evidence.ends_with("(Environment=)");
    let on_disk: BTreeMap<&str, &str> = def
        .env
        .iter()
        .filter(from_environment)
        .map(|v| (v.name.as_str(), v.value.as_str()))
        .collect();
    let loaded: BTreeMap<&str, &str> = show
        .environment
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_str()))
        .collect();
    let names: std::collections::BTreeSet<&str> =
        on_disk.keys().chain(loaded.keys()).copied().collect();
    for name in names {
        // A variable also set by an EnvironmentFile is overridden there; its
        // Environment= value is not in def.env to compare against.
        let overridden = !on_disk.contains_key(name) && def.var(name).is_some();
        if on_disk.get(name) != loaded.get(name) && !overridden {
            out.push(Finding::new(
                "not-reloaded",
                format!("Environment= for {name} differs between the unit files and what systemd loaded; {reload}"),
                ev.clone(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        extract_words(s).unwrap()
    }

    #[test]
    fn unit_comments_sections_and_continuations() {
        let text = "# c\n; c2\n[Unit]\nDescription=x\n[Service]\nExecStart=/bin/a \\\n  b \\\n# comment inside\n  c\n  Environment = A=1  \nnoequals\n";
        let (ds, issues) = parse_unit_text(text, Path::new("/u")).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[1].key, "ExecStart");
        assert_eq!(ds[1].value, "/bin/a    b    c");
        assert_eq!(ds[1].line, 6);
        assert_eq!(ds[2].key, "Environment");
        assert_eq!(ds[2].value, "A=1");
        assert_eq!(ds[2].line, 10);
        assert_eq!(
            issues,
            vec![(11, "missing '='; systemd ignores the line".to_string())]
        );
    }

    #[test]
    fn unit_outside_section_and_bad_header() {
        let (ds, issues) = parse_unit_text("A=1\n[Service]\nB=2\n", Path::new("/u")).unwrap();
        assert_eq!(ds.len(), 1);
        assert_eq!(issues[0].0, 1);
        let err = parse_unit_text("[Service\nA=1\n", Path::new("/u")).unwrap_err();
        assert!(
            err.to_string().starts_with("/u:1: invalid section header"),
            "{err}"
        );
    }

    #[test]
    fn escaped_backslash_does_not_continue() {
        let (ds, _) = parse_unit_text("[Service]\nA=x\\\\\nB=y\n", Path::new("/u")).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[0].value, "x\\\\");
    }

    #[test]
    fn words_follow_systemd_quoting() {
        assert_eq!(
            words("A=1 \"B=two words\" C='x y'"),
            vec!["A=1", "B=two words", "C=x y"]
        );
        // Quotes may open in the middle of a word.
        assert_eq!(words("A=\"b c\"d"), vec!["A=b cd"]);
        assert_eq!(
            words(r#"A=tab\there B=\x41\101\u00e9"#),
            vec!["A=tab\there", "B=AAé"]
        );
        assert_eq!(words(r#""A=q\"uote""#), vec!["A=q\"uote"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert!(extract_words(r"A=\777").is_err());
        let e = extract_words("A=1 \"B=2").unwrap_err();
        assert_eq!(e.words, vec!["A=1"]);
        let e = extract_words(r"A=1 B=\q C=3").unwrap_err();
        assert_eq!(e.words, vec!["A=1"]);
        assert!(e.message.contains("unknown escape"));
    }

    fn spec<'a>(home: &'a Path, unit: &'a str) -> Specifiers<'a> {
        Specifiers {
            home,
            user: "alice",
            unit,
        }
    }

    #[test]
    fn specifiers() {
        let home = Path::new("/home/alice");
        let s = spec(home, "clawctl-gateway.service");
        assert_eq!(
            s.expand("%h/x %u 100%% %n %N %p %j").unwrap().0,
            "/home/alice/x alice 100% clawctl-gateway.service clawctl-gateway clawctl-gateway gateway"
        );
        assert_eq!(
            s.expand("%E/clawctl").unwrap().0,
            "/home/alice/.config/clawctl"
        );
        let (out, unresolved) = s.expand("%t/sock %H").unwrap();
        assert_eq!(out, "%t/sock %H");
        assert_eq!(unresolved, vec!['t', 'H']);
        assert_eq!(s.expand("%z"), Err('z'));
        assert_eq!(s.expand("trailing %"), Err('%'));
        let t = spec(home, "web@a-b.service");
        assert_eq!(t.expand("%p %i %I").unwrap().0, "web a-b a/b");
    }

    fn env_file(text: &str) -> BTreeMap<String, String> {
        parse_environment_file(text)
            .0
            .into_iter()
            .map(|e| (e.name, e.value))
            .collect()
    }

    #[test]
    fn env_file_rules_match_systemd() {
        // Expected values checked against systemd 252's parser (environment.d generator).
        let text = "# comment\n; also comment\nPLAIN=x # note\nSQ='a b' # after\nDQ=\"a \\\"q\\\" \\$d \\n\" tail\nexport EXP=1\n  LEAD = spaced  \nEMPTY=\nCONT=one\\\ntwo\nBS=a\\b\nMULTI=\"line1\nline2\"\nSEMI=a;b\nHASH=#start\n";
        let m = env_file(text);
        assert_eq!(m["PLAIN"], "x # note");
        assert_eq!(m["SQ"], "a b# after");
        assert_eq!(m["DQ"], "a \"q\" $d \\ntail");
        assert!(!m.contains_key("EXP"));
        assert!(!m.contains_key("export EXP"));
        assert_eq!(m["LEAD"], "spaced");
        assert_eq!(m["EMPTY"], "");
        assert_eq!(m["CONT"], "onetwo");
        assert_eq!(m["BS"], "ab");
        assert_eq!(m["MULTI"], "line1\nline2");
        assert_eq!(m["SEMI"], "a;b");
        assert_eq!(m["HASH"], "#start");
    }

    #[test]
    fn env_file_lines_and_issues() {
        let (entries, issues) = parse_environment_file("A=1\nexport B=2\nnoeq\nA=3\r\nC=\"open\n");
        let lines: Vec<(String, usize)> =
            entries.iter().map(|e| (e.name.clone(), e.line)).collect();
        assert_eq!(lines, vec![("A".to_string(), 4), ("C".to_string(), 5)]);
        assert_eq!(entries[0].value, "3");
        let msgs: Vec<(usize, &str)> = issues
            .iter()
            .map(|i| (i.line, i.message.as_str()))
            .collect();
        assert_eq!(msgs[0].0, 2);
        assert!(msgs[0].1.contains("`export B=` is ignored"));
        assert_eq!(msgs[1].0, 3);
        assert!(msgs[2].1.contains("set again (first on line 1)"));
        assert!(msgs[3].1.contains("unterminated quote"));
    }

    #[test]
    fn env_file_comment_ending_in_backslash() {
        let (entries, issues) = parse_environment_file("# note \\\nA=1\n");
        assert_eq!(entries.len(), 1);
        assert!(issues[0].message.contains("before v254"));
    }

    #[test]
    fn dotenv_and_systemd_differences() {
        let text = "SAME=1\nNOTE=x # note\nexport EXP=1\nQ='a' b\nD=\"x\\ty\"\n";
        let diffs = dotenv_systemd_differences(text);
        let names: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["NOTE", "EXP", "Q", "D"]);
        assert_eq!(diffs[0].dotenv.as_deref(), Some("x"));
        assert_eq!(diffs[0].systemd.as_deref(), Some("x # note"));
        assert_eq!(diffs[1].systemd, None);
        assert_eq!(diffs[3].dotenv.as_deref(), Some("x\ty"));
        assert_eq!(diffs[3].systemd.as_deref(), Some("x\\ty"));
        assert!(!format!("{:?}", diffs[0]).contains("# note"));
    }

    #[test]
    fn replace_env_forms() {
        let env = vec![EnvVar::new("HOME", "/h", "x"), EnvVar::new("E", "", "x")];
        assert_eq!(
            replace_env("$HOME/bin:${HOME}/b:$$:$NOPE.", &env),
            "/h/bin:/h/b:$:."
        );
        assert_eq!(
            replace_env("${E:-def} ${HOME:+alt} ${NOPE:+x}", &env),
            "def alt "
        );
    }

    #[test]
    fn systemctl_show_output() {
        let text = "Id=clawctl-gateway.service\nLoadState=loaded\nActiveState=active\nFragmentPath=/home/u/.config/systemd/user/clawctl-gateway.service\nDropInPaths=/a/10-env.conf /a/20-more.conf\nEnvironment=A=1 \"B=two words\"\nEnvironmentFiles=/home/u/.env (ignore_errors=yes)\nEnvironmentFiles=/etc/x (ignore_errors=no)\nMainPID=0\nNeedDaemonReload=no\nWorkingDirectory=!/srv\n";
        let s = parse_systemctl_show(text);
        assert_eq!(s.load_state.as_deref(), Some("loaded"));
        assert_eq!(s.drop_in_paths.len(), 2);
        assert_eq!(s.environment[1].name, "B");
        assert_eq!(s.environment[1].value, "two words");
        assert_eq!(
            s.environment_files,
            vec![
                (PathBuf::from("/home/u/.env"), true),
                (PathBuf::from("/etc/x"), false)
            ]
        );
        assert_eq!(s.main_pid, None);
        assert_eq!(s.need_daemon_reload, Some(false));
        assert_eq!(parse_systemctl_show("MainPID=42\n").main_pid, Some(42));
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn values(vars: &[EnvVar]) -> Vec<(String, String)> {
        vars.iter()
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect()
    }

    fn codes(def: &ServiceDefinition) -> Vec<&'static str> {
        def.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn service_directives_follow_systemd_semantics() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        write(&home.join("a.env"), "A=from-file\nF=1\n");
        write(&home.join("b.env"), "F=2\n");
        let unit = home.join("u/x.service");
        write(
            &unit,
            "[Unit]\nEnvironment=IGNORED=1\n[Service]\nEnvironment=A=1 B=2\nEnvironment=B=3 \"C=x y\" P=/home/$USER/bin\n\
             EnvironmentFile=%h/a.env\nEnvironmentFile=-%h/missing.env\nEnvironmentFile=%h/b.env\n\
             EnvironmentFile=relative.env\nEnvironment=D=%z E=ok H=%t/x K=v\n\
             UnsetEnvironment=C LOGNAME K=v E=other\nWorkingDirectory=-~\nUser=bob\n",
        );
        let def = parse_systemd_unit(&unit, home, "alice").unwrap();
        let want = [
            ("A", "from-file"),
            ("B", "3"),
            ("P", "/home/$USER/bin"),
            ("E", "ok"),
            ("H", "%t/x"),
            ("F", "2"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(values(&def.env), want);
        assert_eq!(def.unset, vec!["C", "LOGNAME", "K"]);
        assert!(!def.manager_env.iter().any(|v| v.name == "LOGNAME"));
        assert_eq!(def.working_dir.as_deref(), Some(home));
        assert_eq!(def.user.as_deref(), Some("bob"));
        assert_eq!(def.files.len(), 3);
        assert_eq!(
            codes(&def),
            vec![
                "env-override",
                "literal-dollar",
                "env-file-relative",
                "specifier-invalid",
                "specifier-unresolved",
                "user-mismatch",
                "env-file-optional-missing",
                "env-file-overrides",
                "unset-no-match",
            ]
        );
        assert_eq!(def.env[0].evidence, "~/a.env:1 (EnvironmentFile=)");
        assert_eq!(def.env[1].evidence, "~/u/x.service:5 (Environment=)");
    }

    #[test]
    fn empty_assignments_reset() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        write(&home.join("a.env"), "A=1\n");
        let unit = home.join("x.service");
        write(
            &unit,
            "[Service]\nEnvironment=A=1 B=2\nEnvironment=\nEnvironment=C=3\nEnvironmentFile=%h/a.env\nEnvironmentFile=\n\
             UnsetEnvironment=C\nUnsetEnvironment=\nExecStart=/bin/old\nExecStart=\nExecStart=@/bin/real argv0 --flag\n",
        );
        let def = parse_systemd_unit(&unit, home, "alice").unwrap();
        assert_eq!(values(&def.env), vec![("C".to_string(), "3".to_string())]);
        assert!(def.unset.is_empty());
        assert_eq!(def.program, vec!["/bin/real", "--flag"]);
        assert!(
            def.findings[0]
                .message
                .contains("A, B set before it are dropped")
        );
        assert_eq!(def.files.len(), 1);
    }

    #[test]
    fn missing_working_directory_and_required_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("x.service");
        write(
            &unit,
            "[Service]\nWorkingDirectory=/nonexistent/dir\nEnvironmentFile=/nonexistent/env\n",
        );
        let def = parse_systemd_unit(&unit, dir.path(), "alice").unwrap();
        assert_eq!(codes(&def), vec!["working-dir-missing", "env-file-missing"]);
    }

    #[test]
    fn drop_ins_sorted_by_name_across_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let unit = d.join("clawctl-gateway.service");
        write(&unit, "[Service]\nEnvironment=UNIT=1\n");
        write(
            &d.join("service.d/05-top.conf"),
            "[Service]\nEnvironment=TOP=1\n",
        );
        write(
            &d.join("service.d/20-b.conf"),
            "[Service]\nEnvironment=SHADOWED=1\n",
        );
        write(
            &d.join("clawctl-gateway.service.d/10-a.conf"),
            "[Service]\nEnvironment=A=1\n",
        );
        write(
            &d.join("clawctl-.service.d/15-prefix.conf"),
            "[Service]\nEnvironment=\nEnvironment=P=1\n",
        );
        write(
            &d.join("clawctl-gateway.service.d/20-b.conf"),
            "[Service]\nEnvironment=B=1\n",
        );
        write(
            &d.join("clawctl-gateway.service.d/not-a-conf.txt"),
            "[Service]\nEnvironment=NO=1\n",
        );
        let def = parse_systemd_unit(&unit, d, "alice").unwrap();
        let names: Vec<String> = def.env.iter().map(|v| v.name.clone()).collect();
        assert_eq!(names, vec!["P", "B"]);
        let files: Vec<String> = def
            .files
            .iter()
            .map(|f| f.strip_prefix(d).unwrap().display().to_string())
            .collect();
        assert_eq!(
            files,
            vec![
                "clawctl-gateway.service",
                "service.d/05-top.conf",
                "clawctl-gateway.service.d/10-a.conf",
                "clawctl-.service.d/15-prefix.conf",
                "clawctl-gateway.service.d/20-b.conf",
            ]
        );
    }

    #[test]
    fn show_differences_spot_unreloaded_units() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("x.service");
        write(&dir.path().join("f.env"), "FROMFILE=1\n");
        write(
            &unit,
            "[Service]\nEnvironment=A=new FROMFILE=unit\nEnvironmentFile=%h/f.env\n",
        );
        let def = parse_systemd_unit(&unit, dir.path(), "alice").unwrap();
        let mut show = parse_systemctl_show(&format!(
            "Id=x.service\nFragmentPath={}\nEnvironment=A=new FROMFILE=unit\nNeedDaemonReload=no\n",
            unit.display()
        ));
        assert!(show_differences(&def, &show).is_empty());
        show.environment[0].value = "old".into();
        show.need_daemon_reload = Some(true);
        let f = show_differences(&def, &show);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.code == "not-reloaded"));
        assert!(f[1].message.contains("for A differs"));
        assert!(!f[1].message.contains("old"));
    }

    #[test]
    fn systemctl_show_without_user_manager_is_none_or_answers() {
        // In CI there is no user bus: None. On a desktop it answers; both are fine, but it
        // must not hang or panic.
        let _ = systemctl_show("clawctl-test-nonexistent.service");
    }
}
