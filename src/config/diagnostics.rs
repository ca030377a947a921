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
            message = message.snippet(
                Snippet::source(text)
                    .line_start(1)
                    .origin(&origin_label)
                    .fold(true)
                    .annotation(level.span(span).label(self.expected_label())),
            );
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
                    let pos = crate::config::tomlconv::offset_to_pos(text, span.start);
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
