//! Diagnostics people can act on: what is wrong, where (file, line, column, with the
//! source line and a caret), which key, what was expected, where the value came
//! from, and how to fix it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use annotate_snippets::{Level, Renderer, Snippet};
use serde_json::json;

use crate::config::keypath::KeyPath;
use crate::config::origin::Origin;
use crate::env::Environment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier for scripts: `syntax`, `unknown-key`, `type`, `range`, …
    pub code: &'static str,
    pub message: String,
    pub key: Option<KeyPath>,
    pub origin: Option<Origin>,
    /// Byte range in a file, for the source excerpt.
    pub span: Option<(PathBuf, Range<usize>)>,
    pub expected: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            key: None,
            origin: None,
            span: None,
            expected: None,
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn with_key(mut self, key: KeyPath) -> Self {
        self.key = Some(key);
        self
    }
    pub fn with_origin(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin;
        self
    }
    pub fn with_span(mut self, path: PathBuf, span: Range<usize>) -> Self {
        self.span = Some((path, span));
        self
    }
    pub fn with_expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render for a terminal. `sources` holds the text of files that spans point into.
    pub fn render(&self, env: &Environment, sources: &BTreeMap<PathBuf, String>) -> String {
        let level = match self.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Info,
        };
        let title = match &self.key {
            Some(k) if !self.message.contains(&format!("`{k}`")) => {
                format!("{} (key `{k}`)", self.message)
            }
            _ => self.message.clone(),
        };
        let mut footers: Vec<String> = Vec::new();
        if let Some(e) = &self.expected {
            footers.push(format!("expected {e}"));
        }
        if let Some(o) = &self.origin
            && !matches!(o, Origin::File { .. })
            && !self.message.contains(&o.label(env))
        {
            footers.push(format!("the value comes from {}", o.label(env)));
        }
        let help = self.help.clone();
        let mut message = level.title(&title);
        let origin_label;
        if let Some((path, span)) = &self.span
            && let Some(text) = sources.get(path)
        {
            origin_label = env.display_path(path);
            let mut span = span.clone();
            span.end = span.end.min(text.len());
            span.start = span.start.min(span.end);
            // Only the lines the span covers are handed to the renderer: rendering N
            // diagnostics of one file costs N × excerpt, not N × file.
            let (excerpt, first_line, offset) = with_line_index(text, |idx| {
                let first = idx.line_of(span.start);
                let last = idx.line_of(span.end);
                let from = idx.line_start(first);
                let to = idx.line_end(last);
                (&text[from..to], first, from)
            });
            if excerpt.len() <= MAX_EXCERPT_BYTES {
                let span = span.start - offset..span.end - offset;
                message = message.snippet(
                    Snippet::source(excerpt)
                        .line_start(first_line)
                        .origin(&origin_label)
                        .fold(true)
                        .annotation(level.span(span).label(self.expected_label())),
                );
            } else {
                // A very long line (a 150 KB array on one line): its location and a
                // window around the span, so the cost stays per diagnostic, not per line.
                let pos = with_line_index(text, |idx| idx.pos(span.start));
                footers.insert(
                    0,
                    format!(
                        "in {origin_label}:{}:{}: {}",
                        pos.line,
                        pos.col,
                        window(text, span.clone())
                    ),
                );
            }
        } else if let Some(o @ Origin::File { .. }) = &self.origin {
            footers.insert(0, format!("in {}", o.label(env)));
        }
        for f in &footers {
            message = message.footer(Level::Note.title(f));
        }
        if let Some(h) = &help {
            message = message.footer(Level::Help.title(h));
        }
        Renderer::plain().render(message).to_string()
    }

    fn expected_label(&self) -> &str {
        match self.code {
            "unknown-key" => "unknown key",
            "syntax" => "here",
            _ => "this value",
        }
    }

    pub fn to_json(&self, sources: &BTreeMap<PathBuf, String>) -> serde_json::Value {
        let (file, line, column) = match &self.span {
            Some((path, span)) => match sources.get(path) {
                Some(text) => {
                    let pos = with_line_index(text, |idx| idx.pos(span.start));
                    (Some(path.clone()), Some(pos.line), Some(pos.col))
                }
                None => (Some(path.clone()), None, None),
            },
            None => match &self.origin {
                Some(Origin::File { path, line, col }) => {
                    (Some(path.clone()), Some(*line), Some(*col))
                }
                Some(Origin::DotEnv { path, line, .. }) => (Some(path.clone()), Some(*line), None),
                _ => (None, None, None),
            },
        };
        json!({
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "key": self.key.as_ref().map(|k| k.to_string()),
            "file": file,
            "line": line,
            "column": column,
            "origin": self.origin.as_ref().map(Origin::to_json),
            "expected": self.expected,
            "help": self.help,
        })
    }
}

/// Excerpts longer than this are shown as a window around the span.
const MAX_EXCERPT_BYTES: usize = 2048;

/// `…text around the span…` on one line, at most ~120 bytes, cut on char boundaries.
fn window(text: &str, span: std::ops::Range<usize>) -> String {
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start.min(text.len()));
    let mut from = floor(start.saturating_sub(40));
    if let Some(nl) = text[from..start].rfind('\n') {
        from += nl + 1;
    }
    let end = floor((span.end.max(span.start + 1) + 40).min(text.len()));
    let to = start + text[start..end].find('\n').unwrap_or(end - start);
    let piece = &text[from..to];
    format!(
        "{}{piece}{}",
        if from > 0 && !text[..from].ends_with('\n') {
            "…"
        } else {
            ""
        },
        if to < text.len() && !text[to..].starts_with('\n') {
            "…"
        } else {
            ""
        }
    )
}

/// Run `f` with the line index of `text`, built once per text and kept for the next
/// diagnostic of the same file (a thread-local cache keyed by the text's address and
/// length: the sources map outlives every render of one command).
fn with_line_index<R>(text: &str, f: impl FnOnce(&crate::config::tomlconv::LineIndex) -> R) -> R {
    use crate::config::tomlconv::LineIndex;
    thread_local! {
        #[allow(clippy::type_complexity, reason = "one private cache")]
        static CACHE: std::cell::RefCell<Option<((usize, usize), (Vec<usize>, Vec<bool>))>> =
            const { std::cell::RefCell::new(None) };
    }
    let key = (text.as_ptr() as usize, text.len());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let parts = match c.take() {
            Some((k, parts)) if k == key => parts,
            _ => LineIndex::new(text).into_parts(),
        };
        let idx = LineIndex::from_parts(text, parts);
        let r = f(&idx);
        *c = Some((key, idx.into_parts()));
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Platform;

    fn env() -> Environment {
        Environment::from_parts(
            Default::default(),
            Some(PathBuf::from("/h")),
            PathBuf::from("/cwd"),
            Platform::Linux,
            "test",
        )
    }

    /// One diagnostic per array element of `text` (`"pN/m"` strings).
    fn render_all(text: &str) -> String {
        let path = PathBuf::from("/x/config.toml");
        let sources = BTreeMap::from([(path.clone(), text.to_string())]);
        let env = env();
        let text = &sources[&path];
        text.match_indices("\"p")
            .map(|(i, _)| {
                Diagnostic::error("provider", "unknown provider")
                    .with_span(path.clone(), i..i + 6)
                    .render(&env, &sources)
            })
            .collect()
    }

    #[test]
    fn excerpts_are_located_and_cut_to_their_lines() {
        let out = render_all("[a]\nx = 1\nf = [\"p1/m\"]\ny = 2\n");
        assert!(out.contains("--> /x/config.toml:3:6"), "{out}");
        assert!(out.contains("3 | f = [\"p1/m\"]"), "{out}");
        assert!(!out.contains("y = 2"), "{out}");
        let long = format!(
            "[a]\nf = [{}]\n",
            (0..2000)
                .map(|i| format!("\"p{i}/m\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let first = render_all(&long)
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            first.contains("in /x/config.toml:2:6: f = [\"p0/m\",\"p1/m\""),
            "{first}"
        );
    }

    #[test]
    fn rendering_many_diagnostics_is_linear() {
        let one_line = |n: usize| {
            format!(
                "f = [{}]\n",
                (0..n)
                    .map(|i| format!("\"p{i}/m\""))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        crate::growth::assert_linear("diagnostics on one long line", 2000, one_line, |t| {
            render_all(t);
        });
        let many_lines = |n: usize| {
            (0..n)
                .map(|i| format!("k{i} = \"p{i}/m\"\n"))
                .collect::<String>()
        };
        crate::growth::assert_linear("diagnostics on many lines", 2000, many_lines, |t| {
            render_all(t);
        });
    }
}
