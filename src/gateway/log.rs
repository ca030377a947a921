//! The gateway's log: one line per event, `TIME clawctl-gateway: event=NAME key=value …`
//! (logfmt: values with spaces or quotes are JSON strings). Lines go to stderr (the
//! journal under systemd, `StandardErrorPath` under launchd) and to
//! `<home>/logs/gateway.log` (0600, rotated to `gateway.log.1` past
//! [`FILE_MAX_BYTES`]) so `clawctl gateway logs` finds them however the gateway
//! was started.
//!
//! Callers pass names and fingerprints, never a key; provider texts are scrubbed
//! before they get here.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

/// Past this size the file is renamed to `gateway.log.1` and a new one started.
pub const FILE_MAX_BYTES: u64 = 8 * 1024 * 1024;

struct Sink {
    path: PathBuf,
    file: Option<File>,
    written: u64,
}

static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();

/// `<home>/logs/gateway.log`.
pub fn file_path(home: &Path) -> PathBuf {
    home.join("logs").join("gateway.log")
}

fn open(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).ok()?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .ok()
}

/// Start writing the log file too (once, at start; later calls are ignored).
pub fn init_file(path: PathBuf) {
    let file = open(&path);
    let written = file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map_or(0, |m| m.len());
    let _ = SINK.set(Mutex::new(Sink {
        path,
        file,
        written,
    }));
}

/// A value as logfmt writes it: bare when it is one plain word, else a JSON string.
fn value(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\')
    {
        v.to_string()
    } else {
        serde_json::Value::String(v.to_string()).to_string()
    }
}

/// Format one line (without the newline).
pub fn format_line(time: SystemTime, level: &str, event: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!(
        "{} clawctl-gateway: level={level} event={event}",
        humantime::format_rfc3339_millis(time)
    );
    for (k, v) in fields {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(&value(v));
    }
    s
}

/// Write one line to stderr and the log file.
pub fn line(level: &str, event: &str, fields: &[(&str, &str)]) {
    let mut text = format_line(SystemTime::now(), level, event, fields);
    text.push('\n');
    // Logs are output too (journald, gateway.err.log): through the masking sink.
    let text = crate::secrets::sink::scrub(&text).into_owned();
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    if let Some(sink) = SINK.get()
        && let Ok(mut s) = sink.lock()
    {
        if s.written + text.len() as u64 > FILE_MAX_BYTES {
            let rotated = s.path.with_extension("log.1");
            let _ = std::fs::rename(&s.path, rotated);
            s.file = open(&s.path);
            s.written = 0;
        }
        if let Some(f) = s.file.as_mut()
            && f.write_all(text.as_bytes()).is_ok()
        {
            s.written += text.len() as u64;
        }
    }
}

/// A plain message (`event=message msg="…"`).
pub fn msg(level: &str, text: &str) {
    line(level, "message", &[("msg", text)]);
}

/// Parse a line written by [`format_line`] into `{"time", "level", "event", …}`;
/// None for lines of another shape (a panic message, an old clawctl's text line).
pub fn parse_line(line: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let (time, rest) = line.split_once(" clawctl-gateway: ")?;
    let mut map = serde_json::Map::new();
    map.insert("time".into(), time.into());
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        if key.is_empty() || key.contains(' ') {
            return None;
        }
        let (val, next) = if after.starts_with('"') {
            // A JSON string: find its end by letting serde read one value.
            let mut de = serde_json::Deserializer::from_str(after).into_iter::<String>();
            let v = de.next()?.ok()?;
            let used = de.byte_offset();
            (v, &after[used..])
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        map.insert(key.to_string(), val.into());
        rest = next.trim_start();
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let l = format_line(
            SystemTime::UNIX_EPOCH,
            "info",
            "request",
            &[
                ("route", "/v1/chat"),
                ("msg", "a \"quoted\" = b"),
                ("e", ""),
            ],
        );
        let m = parse_line(&l).unwrap();
        assert_eq!(m["event"], "request");
        assert_eq!(m["route"], "/v1/chat");
        assert_eq!(m["msg"], "a \"quoted\" = b");
        assert_eq!(m["e"], "");
    }
}
