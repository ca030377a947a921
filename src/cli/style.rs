//! How human output fits the terminal: its width (`COLUMNS`, else the terminal's, else
//! unlimited when piped; `--wide`: unlimited), eliding or wrapping long values, and
//! colour by the ecosystem's conventions — `NO_COLOR` turns it off, `CLICOLOR_FORCE`
//! on, and it is off when the stream is not a terminal — styled like clap's own
//! messages (`anstyle`, written through `anstream`).

use std::io::IsTerminal;
use std::sync::OnceLock;

use anstyle::{AnsiColor, Effects, Style};

use crate::env::Environment;

pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
pub const WARNING: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
pub const NOTE: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
pub const GOOD: Style = AnsiColor::Green.on_default();
/// A line or value that differs or is missing.
pub const MARK: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
pub const DIM: Style = Style::new().effects(Effects::DIMMED);

/// Whether each stream gets colour, decided once from the command's environment.
#[derive(Debug, Clone, Copy, Default)]
struct Colour {
    stdout: bool,
    stderr: bool,
}

static COLOUR: OnceLock<Colour> = OnceLock::new();

/// Decide colour for stdout and stderr from `env` (the process's variables, read once
/// into the [`Environment`]). Call once at start-up; later calls change nothing.
pub fn init(env: &Environment) {
    let set = |name: &str| env.var(name).is_some_and(|v| !v.is_empty());
    let decide = |tty: bool| {
        if set("NO_COLOR") {
            false
        } else if set("CLICOLOR_FORCE") && env.var("CLICOLOR_FORCE") != Some("0") {
            true
        } else if env.var("CLICOLOR") == Some("0") || env.var("TERM") == Some("dumb") {
            false
        } else {
            tty
        }
    };
    let _ = COLOUR.set(Colour {
        stdout: decide(std::io::stdout().is_terminal()),
        stderr: decide(std::io::stderr().is_terminal()),
    });
}

fn colour() -> Colour {
    COLOUR.get().copied().unwrap_or_default()
}

/// `text` in `style` for stdout (plain when stdout gets no colour).
pub fn paint(style: Style, text: &str) -> String {
    paint_if(colour().stdout, style, text)
}

/// `text` in `style` for stderr.
pub fn paint_err(style: Style, text: &str) -> String {
    paint_if(colour().stderr, style, text)
}

fn paint_if(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// Columns available on stdout: `None` is unlimited (`--wide`, or piped with no
/// `COLUMNS`). `COLUMNS` wins over the terminal's size, as for other tools, so output
/// can be made to fit a given width (and tested at 80 columns).
pub fn width(env: &Environment, wide: bool) -> Option<usize> {
    if wide {
        return None;
    }
    if let Some(n) = env
        .var("COLUMNS")
        .and_then(|c| c.trim().parse::<usize>().ok())
        && n > 0
    {
        return Some(n.max(40));
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| (w as usize).max(40))
}

/// `s` in at most `max` characters: the middle replaced by `…`, so both the start
/// (a key's shape, a path's root) and the end (a file name, a fingerprint) stay.
pub fn elide(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return s.to_string();
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let chars: Vec<char> = s.chars().collect();
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

/// `s` in at most `max` characters, cut at the end (`…`): for values whose start
/// matters most, such as a key's shape and fingerprint before its source.
pub fn elide_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max || max < 2 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `text` wrapped at `width` (unlimited: as is), continuation lines indented by the
/// line's own indent plus `hang` spaces.
pub fn wrap(text: &str, width: Option<usize>, hang: usize) -> String {
    let Some(w) = width else {
        return text.to_string();
    };
    let indent: String = text.chars().take_while(|c| *c == ' ').collect();
    let rest = " ".repeat(indent.len() + hang);
    let opts = textwrap::Options::new(w)
        .initial_indent(&indent)
        .subsequent_indent(&rest)
        .break_words(false);
    textwrap::fill(text.trim_start(), opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elide_keeps_both_ends() {
        assert_eq!(elide("abcdefghij", 7), "abc…hij");
        assert_eq!(elide("short", 10), "short");
        assert_eq!(elide("abcdefghij", 7).chars().count(), 7);
        assert_eq!(elide_end("abcdefghij", 7), "abcdef…");
    }

    #[test]
    fn wrap_hangs_under_the_indent() {
        let w = wrap("  one two three four five six", Some(14), 2);
        assert_eq!(w, "  one two\n    three four\n    five six");
        assert!(w.lines().all(|l| l.chars().count() <= 14));
    }
}
