//! Questions asked of a person. The real terminal uses dialoguer for menus and its own
//! hidden-input reader for keys; tests script the answers, so the onboarding flow is
//! tested without a terminal (and in a real pseudo-terminal by tests/newcomer.rs).
//!
//! Every question answers `Ok(Some(answer))`, `Ok(None)` when the person pressed Esc
//! (go back one step), or `Err` with exit code 130 when they pressed Ctrl-C — after the
//! terminal is put back as it was (cursor shown, echo on).

use std::collections::VecDeque;
use std::io::Write;

use crate::failure::Failure;

/// A question's answer: `None` is Esc (back one step).
pub type Answer<T> = Result<Option<T>, Failure>;

pub trait Prompter {
    /// Pick one of `items`; `fuzzy` lets the user type to filter.
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        fuzzy: bool,
    ) -> Answer<usize>;
    /// Hidden input (keys): nothing is echoed.
    fn secret(&mut self, prompt: &str) -> Answer<String>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool>;
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Answer<String>;
    /// A one-line explanation shown before a step.
    fn explain(&mut self, text: &str);
}

/// Ctrl-C at a prompt: exit 130, and the caller has written nothing yet.
pub fn interrupted() -> Failure {
    Failure {
        message: "interrupted (Ctrl-C): nothing was written".into(),
        code: 130,
    }
}

/// The real terminal.
pub struct Terminal;

/// dialoguer leaves the cursor hidden when a menu ends in an error (Ctrl-C arrives
/// as an `Interrupted` read in its raw mode): show it again, then say what happened.
fn menu_err(e: dialoguer::Error) -> Failure {
    let _ = console::Term::stderr().show_cursor();
    let dialoguer::Error::IO(io) = e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        crate::errln!();
        return interrupted();
    }
    Failure::error(format!("the prompt failed: {io}"))
}

impl Prompter for Terminal {
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        fuzzy: bool,
    ) -> Answer<usize> {
        let theme = dialoguer::theme::SimpleTheme;
        let r = if fuzzy {
            dialoguer::FuzzySelect::with_theme(&theme)
                .with_prompt(format!("{prompt} (type to filter, Esc: back)"))
                .items(items)
                .default(default)
                .interact_opt()
        } else {
            dialoguer::Select::with_theme(&theme)
                .with_prompt(format!("{prompt} (Esc: back)"))
                .items(items)
                .default(default)
                .interact_opt()
        };
        r.map_err(menu_err)
    }
    fn secret(&mut self, prompt: &str) -> Answer<String> {
        read_hidden(&format!("{prompt} (hidden; Esc: back): "))
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool> {
        dialoguer::Confirm::with_theme(&dialoguer::theme::SimpleTheme)
            .with_prompt(prompt)
            .default(default)
            .interact_opt()
            .map_err(menu_err)
    }
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Answer<String> {
        let mut i = dialoguer::Input::<String>::new().with_prompt(prompt);
        if let Some(d) = default {
            i = i.default(d.to_string());
        }
        i.interact_text().map(Some).map_err(menu_err)
    }
    fn explain(&mut self, text: &str) {
        crate::errln!("{text}");
    }
}

/// The terminal's settings, put back when dropped (also on an early return).
struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    /// No echo, no line editing, no signals from keys (Ctrl-C is read as 0x03 and
    /// handled here, after which the settings are restored).
    fn enter(fd: i32) -> std::io::Result<RawMode> {
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let saved = t;
        t.c_lflag &= !(libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN);
        t.c_iflag &= !(libc::ICRNL | libc::IXON);
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode { fd, saved })
    }

    fn read_byte(&self) -> std::io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        let n = unsafe { libc::read(self.fd, b.as_mut_ptr().cast(), 1) };
        match n {
            1 => Ok(Some(b[0])),
            0 => Ok(None),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Whether another byte arrives within `ms` (an escape sequence, not a lone Esc).
    fn more_within(&self, ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        unsafe { libc::poll(&mut p, 1, ms) > 0 }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}

/// Read a line from the terminal without echoing it. Esc alone → `Ok(None)`; Ctrl-C →
/// exit 130; Backspace and Ctrl-U edit; escape sequences (arrow keys, the bracketed
/// paste markers a terminal wraps a paste in) are skipped, never kept in the value.
pub fn read_hidden(prompt: &str) -> Answer<String> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let fd = libc::STDIN_FILENO;
    let raw = RawMode::enter(fd).map_err(|e| {
        Failure::error(format!("cannot read a hidden value from the terminal: {e}"))
    })?;
    let mut bytes: Vec<u8> = Vec::new();
    let result = loop {
        let b = match raw.read_byte() {
            Ok(Some(b)) => b,
            Ok(None) => break Ok(Some(())),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(Failure::error(format!("cannot read the terminal: {e}"))),
        };
        match b {
            b'\r' | b'\n' => break Ok(Some(())),
            0x03 => break Err(interrupted()),
            0x04 if bytes.is_empty() => break Ok(None),
            0x1b => {
                if !raw.more_within(30) {
                    break Ok(None);
                }
                // CSI / SS3 sequence: skip up to its final byte.
                if let Ok(Some(b'[' | b'O')) = raw.read_byte() {
                    while let Ok(Some(c)) = raw.read_byte() {
                        if (0x40..=0x7e).contains(&c) {
                            break;
                        }
                    }
                }
            }
            0x7f | 0x08 => {
                // One character, not one byte, goes.
                let s = String::from_utf8_lossy(&bytes).into_owned();
                let mut chars: Vec<char> = s.chars().collect();
                chars.pop();
                bytes = chars.into_iter().collect::<String>().into_bytes();
            }
            0x15 => bytes.clear(),
            b => bytes.push(b),
        }
    };
    drop(raw);
    let _ = writeln!(err);
    Ok(result?.map(|()| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Answers given in advance, for tests. Selects match an item by its text prefix;
/// the answer `<esc>` is Esc (back one step), `<ctrl-c>` an interrupt.
#[derive(Debug, Default)]
pub struct Scripted {
    pub answers: VecDeque<String>,
    /// Every prompt and explanation seen, for assertions.
    pub transcript: Vec<String>,
}

impl Scripted {
    pub fn new(answers: &[&str]) -> Scripted {
        Scripted {
            answers: answers.iter().map(|s| s.to_string()).collect(),
            transcript: Vec::new(),
        }
    }

    fn next(&mut self, prompt: &str) -> Answer<String> {
        self.transcript.push(prompt.to_string());
        match self.answers.pop_front() {
            None => Err(Failure::error(format!("no scripted answer for {prompt:?}"))),
            Some(a) if a == "<esc>" => Ok(None),
            Some(a) if a == "<ctrl-c>" => Err(interrupted()),
            Some(a) => Ok(Some(a)),
        }
    }
}

impl Prompter for Scripted {
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        _fuzzy: bool,
    ) -> Answer<usize> {
        let Some(a) = self.next(prompt)? else {
            return Ok(None);
        };
        if a.is_empty() {
            return Ok(Some(default));
        }
        items
            .iter()
            .position(|i| i.starts_with(&a))
            .map(Some)
            .ok_or_else(|| {
                Failure::error(format!("scripted answer {a:?} matches none of {items:?}"))
            })
    }
    fn secret(&mut self, prompt: &str) -> Answer<String> {
        self.next(prompt)
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool> {
        Ok(self.next(prompt)?.map(|a| match a.as_str() {
            "" => default,
            a => a.starts_with('y'),
        }))
    }
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Answer<String> {
        Ok(self.next(prompt)?.map(|a| {
            if a.is_empty() {
                default.unwrap_or_default().to_string()
            } else {
                a
            }
        }))
    }
    fn explain(&mut self, text: &str) {
        self.transcript.push(text.to_string());
    }
}
