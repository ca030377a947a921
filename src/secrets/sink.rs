//! The one masking sink: every line clawctl prints (stdout, stderr, JSON, the gateway's
//! log lines) and every generated file that must not hold secrets passes through
//! [`scrub`] or [`scrub_json`]. What counts as secret is decided in `secrets::detect`.
//!
//! Masking keeps the text's length in bytes (each secret byte becomes `*`, a key's
//! known prefix stays), so excerpts keep their columns and JSON stays valid.
//!
//! Commands print with [`outln!`](crate::outln) / [`errln!`](crate::errln) (stdout /
//! stderr) instead of `println!` / `eprintln!`.

use std::borrow::Cow;
use std::io::Write;

use crate::secrets::detect;

/// `text` with every secret masked. Borrowed when there is nothing to mask.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let ranges = detect::secret_ranges(text);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.extend(std::iter::repeat_n('*', r.end - r.start));
        at = r.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Mask every secret in a JSON tree, in its strings and its object keys. Fields that
/// name a hash (`…sha256`) keep their hex: a digest is not a secret and scripts compare it.
pub fn scrub_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Cow::Owned(m) = scrub(s) {
                *s = m;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(scrub_json),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut v) in old {
                let hash = k.ends_with("sha256") && v.as_str().is_some_and(is_hex_digest);
                if !hash {
                    scrub_json(&mut v);
                }
                m.insert(scrub(&k).into_owned(), v);
            }
        }
        _ => {}
    }
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Write `text` (scrubbed) to stdout. A failed write (full disk, closed pipe) ends the
/// process with exit 1, never a silent success.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_all(scrub(text).as_bytes())
        .and_then(|_| out.flush())
    {
        let _ = writeln!(
            std::io::stderr(),
            "error: cannot write the output to standard output: {e}"
        );
        std::process::exit(1);
    }
}

/// Write `text` (scrubbed) to stderr; errors writing stderr have nowhere to go.
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(scrub(text).as_bytes());
}

/// `println!` through the masking sink.
#[macro_export]
macro_rules! outln {
    () => { $crate::secrets::sink::write_stdout("\n") };
    ($($arg:tt)*) => {{
        let mut s = format!($($arg)*);
        s.push('\n');
        $crate::secrets::sink::write_stdout(&s)
    }};
}

/// `print!` through the masking sink.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::secrets::sink::write_stdout(&format!($($arg)*)) };
}

/// `eprintln!` through the masking sink.
#[macro_export]
macro_rules! errln {
    () => { $crate::secrets::sink::write_stderr("\n") };
    ($($arg:tt)*) => {{
        let mut s = format!($($arg)*);
        s.push('\n');
        $crate::secrets::sink::write_stderr(&s)
    }};
}

/// `eprint!` through the masking sink.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::secrets::sink::write_stderr(&format!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_in_place_keeping_length_and_prefix() {
        let t = "api_key = sk-CNRYunquoted0123456789abcdefghijklmnopq\n";
        let m = scrub(t);
        assert_eq!(m.len(), t.len());
        assert!(m.starts_with("api_key = sk-****"), "{m}");
        assert!(!m.contains("CNRY"));
    }

    #[test]
    fn json_strings_and_keys_are_masked_hashes_kept() {
        let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let mut v = serde_json::json!({
            "origin": "command line:--set a.api_key=sk-CNRYsetarg0123456789abcdefghij",
            "config_sha256": digest,
            "https://u:pw1234@h/": 1,
        });
        scrub_json(&mut v);
        let s = v.to_string();
        assert!(!s.contains("CNRY") && !s.contains("pw1234"), "{s}");
        assert!(s.contains(digest));
    }
}
