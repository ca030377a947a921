//! Ctrl-C (and SIGTERM/SIGHUP) anywhere in an interactive command: put the terminal
//! back as it was when clawctl started (echo, line editing, a visible cursor, no
//! spinner left half drawn), then exit 128 + the signal (130 for Ctrl-C).
//!
//! Prompts in raw mode read Ctrl-C as a key and end with exit 130 themselves
//! ([`super::prompt`]); this covers everything else: a probe, a restart wait, a signal
//! sent while a hidden prompt has echo off.

use std::io::{IsTerminal, Write};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The terminal settings of standard input, saved now to be restored on a signal.
fn saved_termios() -> Option<libc::termios> {
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    (unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } == 0).then_some(t)
}

/// Install the handler (a thread waiting for the signals). Only when standard input or
/// standard error is a terminal: scripts keep the default behaviour.
pub fn install() {
    let stderr_tty = std::io::stderr().is_terminal();
    if !std::io::stdin().is_terminal() && !stderr_tty {
        return;
    }
    let saved = saved_termios();
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            if let Some(t) = saved {
                unsafe {
                    libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t);
                }
            }
            let mut err = std::io::stderr();
            if stderr_tty {
                // Clear a spinner line, show the cursor.
                let _ = write!(err, "\r\x1b[2K\x1b[?25h");
            }
            let what = if sig == SIGINT { "Ctrl-C" } else { "a signal" };
            let _ = writeln!(
                err,
                "interrupted ({what}): what was written is reported above; nothing else was"
            );
            std::process::exit(128 + sig);
        }
    });
}
