//! How commands end: an exit code, or a failure whose message is already worded for
//! the user. Printing happens here so stdout/stderr discipline lives in one place.

use std::io::Write;

pub use crate::failure::{Failure, Outcome};

pub fn finish(result: Outcome) -> i32 {
    match result {
        Ok(code) => code,
        Err(f) => {
            let mut err = std::io::stderr().lock();
            let msg = f.message.trim_end();
            if msg.starts_with("error") || msg.starts_with("warning") {
                let _ = writeln!(err, "{msg}");
            } else {
                let _ = writeln!(err, "error: {msg}");
            }
            f.code
        }
    }
}

/// Print JSON to stdout, pretty, with a trailing newline. A failed write (full disk,
/// closed pipe) ends the process with exit 1, never a silent success.
pub fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
        .and_then(|_| out.flush());
    if let Err(e) = written {
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}
