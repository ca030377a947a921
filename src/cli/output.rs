//! How commands end: an exit code, or a failure whose message is already worded for
//! the user. Printing happens here so stdout/stderr discipline lives in one place.

use std::io::Write;

/// Exit status of a command that ran: 0 ok, 1 findings/invalid.
pub type Outcome = Result<i32, Failure>;

#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// 1: error; 2: usage.
    pub code: i32,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

impl From<crate::diagnostics::Diagnostic> for Failure {
    fn from(d: crate::diagnostics::Diagnostic) -> Failure {
        let code = if d.code == "usage" { 2 } else { 1 };
        let mut message = format!("error: {}", d.message);
        if let Some(h) = &d.help {
            message.push_str(&format!("\n  help: {h}"));
        }
        Failure { message, code }
    }
}

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

/// Print JSON to stdout, pretty, with a trailing newline.
pub fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}
