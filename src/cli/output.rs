//! How commands end: an exit code, or a failure whose message is already worded for
//! the user. Printing happens here so stdout/stderr discipline lives in one place.

use std::io::Write;

pub use crate::failure::{Failure, Outcome};

pub fn finish(result: Outcome) -> i32 {
    match result {
        Ok(code) => code,
        Err(f) => {
            let msg = f.message.trim_end();
            // The "error:"/"warning:" tag styled as clap styles its own.
            let (tag, rest) = if let Some(r) = msg.strip_prefix("error:") {
                ("error:", r)
            } else if let Some(r) = msg.strip_prefix("warning:") {
                ("warning:", r)
            } else if f.code == 130 {
                ("", msg)
            } else {
                ("error:", msg)
            };
            let painted = match tag {
                "" => String::new(),
                "warning:" => super::style::paint_err(super::style::WARNING, tag),
                t => super::style::paint_err(super::style::ERROR, t),
            };
            let sep = if tag.is_empty() || rest.starts_with(' ') {
                ""
            } else {
                " "
            };
            crate::errln!("{painted}{sep}{rest}");
            f.code
        }
    }
}

/// Write `bytes` to stdout *unmasked* and flush — only for what the user asked to
/// hold secrets (`export --include-secrets`); everything else goes through the sink
/// (`outln!`, [`print_json`]). Err (exit 1, with the reason) when the write fails — a
/// full disk (`ENOSPC`), a closed pipe when SIGPIPE is ignored — so output a caller
/// redirected to a file is never lost silently.
pub fn write_stdout_unmasked(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| Failure::error(format!("cannot write the output to standard output: {e}")))
}

/// Print JSON to stdout, pretty, with a trailing newline, every secret masked field by
/// field (`secrets::sink::scrub_json`). A failed write (full disk, closed pipe) ends the
/// process with exit 1, never a silent success.
pub fn print_json(value: &serde_json::Value) {
    let mut value = value.clone();
    crate::secrets::sink::scrub_json(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    if let Err(f) = write_stdout_unmasked(text.as_bytes()) {
        std::process::exit(finish(Err(f)));
    }
}
