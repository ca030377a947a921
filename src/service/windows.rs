//! Windows: a Task Scheduler task (its XML export, or the file Task Scheduler keeps in
//! `C:\Windows\System32\Tasks`) and the `.cmd` wrapper script it runs.
//!
//! The task runs with the user's environment, which Windows builds from the registry
//! (`HKCU\Environment` over the system variables); the wrapper's `set` lines come on top.
//! The registry part can only be read on Windows itself: elsewhere it is "cannot tell".
//!
//! Task XML is UTF-16 with a byte-order mark when exported by `schtasks /Query /XML` or the
//! Task Scheduler UI, and may be UTF-8 when written by hand or by tools.
//!
//! cmd.exe rules used for the wrapper (`help set`, `help rem`): `set "NAME=value"` takes
//! what is between the first quote and the last one on the line; `set NAME=value` takes
//! everything after `=` including trailing blanks, and `set NAME =x` names a variable
//! `NAME ` with a trailing space; `set NAME=` deletes NAME; names are case-insensitive;
//! `%NAME%` is expanded when the line is read, `%%` is a percent sign; `^` escapes the
//! next character outside quotes; `rem` and `::` start comments; a leading `@` only
//! silences echo.

use std::path::{Path, PathBuf};

use quick_xml::events::Event;

use super::{EnvVar, Manager, ServiceDefinition, ServiceError, line_of_offset};

const REGISTRY_ENV: &str = "the user's environment from the registry (HKCU\\Environment over the system variables), which the task starts with";

fn registry_cannot_tell() -> String {
    if cfg!(windows) {
        format!("{REGISTRY_ENV}: not read by clawctl yet")
    } else {
        format!("{REGISTRY_ENV}: only readable on Windows itself")
    }
}

/// Decode text by its byte-order mark: UTF-16 LE/BE or UTF-8; without a mark, a NUL
/// byte in the first pair means UTF-16 (XML starts with `<`).
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |body: &[u8], le: bool| -> Result<String, String> {
        if !body.len().is_multiple_of(2) {
            return Err("odd number of bytes for UTF-16 text".into());
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|p| {
                if le {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "invalid UTF-16".to_string())
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "invalid UTF-8".into())
        }
        [a, 0, ..] if *a != 0 => utf16(bytes, true),
        [0, b, ..] if *b != 0 => utf16(bytes, false),
        _ => String::from_utf8(bytes.to_vec())
            .map_err(|_| "neither UTF-8 nor UTF-16 (no byte-order mark)".into()),
    }
}

#[derive(Debug, Default)]
struct ExecAction {
    command: String,
    arguments: String,
    working_dir: String,
}

#[derive(Debug, Default)]
struct TaskXml {
    uri: Option<String>,
    user: Option<String>,
    enabled: Option<bool>,
    execs: Vec<ExecAction>,
    other_actions: usize,
}

/// Parse a Task Scheduler XML file and follow its `<Exec><Command>` to a `.cmd`/`.bat`
/// wrapper: at that path when it exists here, else a file of the same name next to the
/// XML (how exports are usually kept, and how the fixtures are laid out).
pub fn parse_windows_task(xml_path: &Path) -> Result<ServiceDefinition, ServiceError> {
    let bytes = crate::read::bytes(xml_path).map_err(|e| ServiceError::read(xml_path, &e))?;
    let text = decode_text(&bytes).map_err(|m| {
        ServiceError::parse(
            xml_path,
            None,
            m,
            "Task Scheduler XML in UTF-16 (with byte-order mark) or UTF-8",
        )
    })?;
    let task = read_task_xml(xml_path, &text)?;
    let name = task
        .uri
        .as_deref()
        .map(|u| u.rsplit('\\').next().unwrap_or(u).to_string())
        .unwrap_or_else(|| stem(xml_path));
    let mut def = ServiceDefinition::new(Manager::WindowsTask, name, xml_path);
    def.user = task.user.clone();
    def.cannot_tell.push(registry_cannot_tell());
    let shown = xml_path.display().to_string();
    if task.enabled == Some(false) {
        def.finding(
            "disabled",
            "the task is disabled (<Settings><Enabled>false)",
            shown.clone(),
        );
    }
    if task.other_actions > 0 {
        def.finding(
            "non-exec-action",
            "the task has actions other than <Exec>, which are not read",
            shown.clone(),
        );
    }
    let Some(exec) = task.execs.first() else {
        def.finding(
            "no-exec-action",
            "the task has no <Exec> action: nothing to run",
            shown,
        );
        return Ok(def);
    };
    if task.execs.len() > 1 {
        def.finding(
            "several-exec-actions",
            "the task has several <Exec> actions; only the first is read",
            shown.clone(),
        );
    }
    def.program = std::iter::once(exec.command.clone())
        .chain(split_command_line(&exec.arguments))
        .collect();
    if !exec.working_dir.is_empty() {
        def.working_dir = Some(PathBuf::from(&exec.working_dir));
    }
    if exec.command.contains('%') {
        def.cannot_tell.push(format!(
            "<Command>{}</Command> uses environment variables that Task Scheduler expands on the machine",
            exec.command
        ));
    }
    if is_script(&exec.command) {
        follow_wrapper(&mut def, xml_path, &exec.command)?;
    }
    Ok(def)
}

fn is_script(command: &str) -> bool {
    let lower = command.trim_matches('"').to_ascii_lowercase();
    lower.ends_with(".cmd") || lower.ends_with(".bat")
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn follow_wrapper(
    def: &mut ServiceDefinition,
    xml_path: &Path,
    command: &str,
) -> Result<(), ServiceError> {
    let command = command.trim_matches('"');
    let as_given = PathBuf::from(command);
    let file_name = command.rsplit(['\\', '/']).next().unwrap_or(command);
    let beside = xml_path.parent().map(|d| d.join(file_name));
    let found = if as_given.is_file() {
        Some(as_given)
    } else {
        beside.filter(|p| p.is_file())
    };
    let Some(wrapper_path) = found else {
        def.cannot_tell.push(format!(
            "the wrapper script {command} is not here; its `set` lines are unknown"
        ));
        return Ok(());
    };
    if wrapper_path != Path::new(command) {
        def.finding(
            "wrapper-beside-xml",
            format!("read {} for the task's {command}", wrapper_path.display()),
            xml_path.display().to_string(),
        );
    }
    let wrapper = parse_windows_wrapper(&wrapper_path)?;
    def.add_file(&wrapper_path);
    def.env = wrapper.env;
    def.unset = wrapper.unset;
    if !wrapper.program.is_empty() {
        def.program = wrapper.program;
    }
    if wrapper.working_dir.is_some() {
        def.working_dir = wrapper.working_dir;
    }
    def.findings.extend(wrapper.findings);
    for c in wrapper.cannot_tell {
        if !def.cannot_tell.contains(&c) {
            def.cannot_tell.push(c);
        }
    }
    Ok(())
}

/// The parts of the task XML that matter: `RegistrationInfo/URI`, `Principal/UserId`,
/// `Settings/Enabled` and each `Actions/Exec`.
fn read_task_xml(path: &Path, text: &str) -> Result<TaskXml, ServiceError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut task = TaskXml::default();
    let mut buf = String::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            ServiceError::parse(
                path,
                Some(line_of_offset(text.as_bytes(), at)),
                format!("malformed XML: {e}"),
                "well-formed Task Scheduler XML",
            )
        })?;
        match event {
            Event::Start(e) => {
                let name = local_name(e.name().as_ref());
                if stack.is_empty() && name != "Task" {
                    return Err(ServiceError::parse(
                        path,
                        Some(line_of_offset(
                            text.as_bytes(),
                            reader.buffer_position() as usize,
                        )),
                        format!("root element is <{name}>"),
                        "a Task Scheduler task: <Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">",
                    ));
                }
                if name == "Exec" {
                    task.execs.push(ExecAction::default());
                } else if stack.last().is_some_and(|p| p == "Actions") {
                    task.other_actions += 1;
                }
                stack.push(name);
                buf.clear();
            }
            Event::Text(t) => buf.push_str(&t.xml10_content()),
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => buf.push_str(&super::launchd::resolve_entity(&r)),
            Event::End(_) => {
                record_element(&mut task, &stack, buf.trim());
                stack.pop();
                buf.clear();
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(ServiceError::parse(
                        path,
                        Some(line_of_offset(text.as_bytes(), text.len())),
                        format!("the file ends inside <{open}>"),
                        format!("</{open}> before the end of the file"),
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if task.uri.is_none()
        && task.execs.is_empty()
        && task.user.is_none()
        && task.enabled.is_none()
        && task.other_actions == 0
    {
        return Err(ServiceError::parse(
            path,
            None,
            "no <Task> element",
            "a Task Scheduler task XML",
        ));
    }
    Ok(task)
}

fn local_name(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

fn record_element(task: &mut TaskXml, stack: &[String], text: &str) {
    let path: Vec<&str> = stack.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["Task", "RegistrationInfo", "URI"] => task.uri = Some(text.to_string()),
        ["Task", "Principals", "Principal", "UserId"] => task.user = Some(text.to_string()),
        ["Task", "Settings", "Enabled"] => task.enabled = Some(text.eq_ignore_ascii_case("true")),
        ["Task", "Actions", "Exec", field] => {
            if let Some(exec) = task.execs.last_mut() {
                match *field {
                    "Command" => exec.command = text.to_string(),
                    "Arguments" => exec.arguments = text.to_string(),
                    "WorkingDirectory" => exec.working_dir = text.to_string(),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Split a Windows command line: blanks separate, double quotes group (and are removed).
fn split_command_line(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Parse a `.cmd`/`.bat` wrapper: its `set` lines, `cd`, and the command it runs last.
pub fn parse_windows_wrapper(cmd_path: &Path) -> Result<ServiceDefinition, ServiceError> {
    let bytes = crate::read::bytes(cmd_path).map_err(|e| ServiceError::read(cmd_path, &e))?;
    let text = decode_text(&bytes).unwrap_or_else(|_| bytes.iter().map(|b| *b as char).collect());
    let mut w = Wrapper {
        def: ServiceDefinition::new(Manager::WindowsTask, stem(cmd_path), cmd_path),
        shown: cmd_path.display().to_string(),
    };
    w.def.cannot_tell.push(registry_cannot_tell());
    for (i, raw) in text.lines().enumerate() {
        w.line(i + 1, raw);
    }
    Ok(w.def)
}

struct Wrapper {
    def: ServiceDefinition,
    shown: String,
}

impl Wrapper {
    fn ev(&self, line: usize, what: &str) -> String {
        format!("{}:{line} ({what})", self.shown)
    }

    fn line(&mut self, n: usize, raw: &str) {
        // Only the start is trimmed: cmd keeps trailing blanks in `set NAME=value  `.
        let l = raw.trim_start().trim_start_matches('@').trim_start();
        let lower = l.to_ascii_lowercase();
        let first = lower.split_whitespace().next().unwrap_or("");
        match first {
            "" => {}
            _ if l.starts_with("::") || l.starts_with(':') => {}
            "rem" | "echo" | "setlocal" | "endlocal" | "exit" | "title" | "chcp" | "cls" => {}
            "set" => self.set(n, l[3..].trim_start()),
            "cd" | "chdir" | "pushd" => self.cd(n, l[first.len()..].trim()),
            _ if l.trim_end().is_empty() => {}
            "if" | "for" | "goto" | "call" => {
                let msg = format!(
                    "`{first}` on line {n} is not evaluated; the wrapper may do more than read here"
                );
                if !self.def.cannot_tell.contains(&msg) {
                    self.def.cannot_tell.push(msg);
                }
            }
            _ => {
                let expanded = self.expand(n, l.trim_end());
                self.def.program = split_command_line(&expanded);
            }
        }
    }

    fn set(&mut self, n: usize, rest: &str) {
        let ev = self.ev(n, "set");
        if rest.starts_with('/') {
            self.def.finding(
                "wrapper-set-switch",
                "`set /a` or `set /p` is not evaluated",
                ev,
            );
            return;
        }
        let body = match rest.strip_prefix('"') {
            // cmd takes everything up to the last quote and ignores what follows it.
            Some(q) => q.rfind('"').map_or(q, |end| &q[..end]).to_string(),
            None => unescape_carets(rest),
        };
        let Some((name, value)) = body.split_once('=') else {
            return; // `set NAME` only prints variables.
        };
        if name.is_empty() {
            self.def.finding(
                "wrapper-syntax",
                "`set =…` has no variable name; cmd rejects it",
                ev,
            );
            return;
        }
        if name != name.trim_end() {
            let msg = format!(
                "`set {name}=` defines a variable named `{name}` with a trailing space, not `{}`",
                name.trim_end()
            );
            self.def.finding("wrapper-name-space", msg, ev.clone());
        }
        if value.ends_with([' ', '\t']) {
            let msg = format!(
                "the value of {} ends with blanks, which cmd keeps (quote the whole assignment: set \"NAME=value\")",
                name.trim_end()
            );
            self.def.finding("wrapper-trailing-space", msg, ev.clone());
        }
        let value = self.expand(n, value);
        self.def.env.retain(|v| !v.name.eq_ignore_ascii_case(name));
        if value.is_empty() {
            self.def.unset.push(name.to_string());
        } else {
            self.def.unset.retain(|u| !u.eq_ignore_ascii_case(name));
            self.def.env.push(EnvVar::new(name, value, ev));
        }
    }

    fn cd(&mut self, n: usize, rest: &str) {
        let rest = rest
            .strip_prefix("/d ")
            .or_else(|| rest.strip_prefix("/D "))
            .unwrap_or(rest)
            .trim();
        let dir = self.expand(n, rest.trim_matches('"'));
        if !dir.is_empty() {
            self.def.working_dir = Some(PathBuf::from(dir));
        }
    }

    /// `%NAME%` from variables set earlier in the script; others stay literal and are
    /// reported, since their values come from the registry.
    fn expand(&mut self, n: usize, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(a) = after.strip_prefix('%') {
                out.push('%');
                rest = a;
                continue;
            }
            match after.find('%') {
                Some(end)
                    if !after[..end].is_empty() && !after[..end].contains(char::is_whitespace) =>
                {
                    let name = &after[..end];
                    let deleted = self.def.unset.iter().any(|u| u.eq_ignore_ascii_case(name));
                    match self
                        .def
                        .env
                        .iter()
                        .rev()
                        .find(|v| v.name.eq_ignore_ascii_case(name))
                    {
                        // Deleted earlier by `set NAME=`: a batch file expands it to nothing.
                        None if deleted => {}
                        Some(v) => out.push_str(&v.value.clone()),
                        None => {
                            out.push_str(&rest[i..i + end + 2]);
                            let msg = format!(
                                "%{name}% on line {n} of {} comes from the user's environment",
                                self.shown
                            );
                            if !self.def.cannot_tell.contains(&msg) {
                                self.def.cannot_tell.push(msg);
                            }
                        }
                    }
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn unescape_carets(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '^' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapper(text: &str) -> ServiceDefinition {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gateway.cmd");
        std::fs::write(&p, text).unwrap();
        parse_windows_wrapper(&p).unwrap()
    }

    fn get<'a>(d: &'a ServiceDefinition, name: &str) -> Option<&'a str> {
        d.env
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    #[test]
    fn set_forms() {
        let d = wrapper(
            "@echo off\r\nrem c\r\n:: c2\r\nset \"A=one two\" trailing ignored\r\nset B=x y  \r\nset C = z\r\nset D=a^&b\r\nset \"E=%A%;%NOPE%;100%%\"\r\nset \"d=lower\"\r\nset F=1\r\nset F=\r\nset G=a^&b\r\ncd /d \"C:\\work dir\"\r\n\"C:\\Program Files\\nodejs\\node.exe\" x.js gateway --port %F%\r\n",
        );
        assert_eq!(get(&d, "A"), Some("one two"));
        assert_eq!(get(&d, "B"), Some("x y  "));
        assert_eq!(get(&d, "C "), Some(" z"));
        assert_eq!(get(&d, "D"), None);
        assert_eq!(get(&d, "d"), Some("lower"));
        assert_eq!(get(&d, "G"), Some("a&b"));
        assert_eq!(get(&d, "E"), Some("one two;%NOPE%;100%"));
        assert_eq!(get(&d, "F"), None);
        assert_eq!(d.unset, vec!["F"]);
        assert_eq!(d.working_dir.as_deref(), Some(Path::new("C:\\work dir")));
        assert_eq!(
            d.program,
            vec![
                "C:\\Program Files\\nodejs\\node.exe",
                "x.js",
                "gateway",
                "--port",
            ]
        );
        assert!(d.findings.iter().any(|f| f.code == "wrapper-name-space"));
        assert!(
            d.findings
                .iter()
                .any(|f| f.code == "wrapper-trailing-space")
        );
        assert!(!d.cannot_tell.iter().any(|c| c.contains("%F%")));
        assert!(d.cannot_tell.iter().any(|c| c.contains("%NOPE%")));
        assert!(d.cannot_tell.iter().any(|c| c.contains("registry")));
        assert!(
            d.env
                .iter()
                .find(|v| v.name == "A")
                .unwrap()
                .evidence
                .ends_with("gateway.cmd:4 (set)")
        );
    }

    #[test]
    fn decodes_by_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<a/>".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode_text(&le).unwrap(), "<a/>");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("<a/>".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode_text(&be).unwrap(), "<a/>");
        let no_bom: Vec<u8> = "<a/>"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode_text(&no_bom).unwrap(), "<a/>");
        assert_eq!(decode_text(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
        assert!(decode_text(&[0xFF, 0xFE, 0x41]).is_err());
        assert!(decode_text(&[0xC3, 0x28]).is_err());
    }

    #[test]
    fn task_xml_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.xml");
        std::fs::write(&p, "<?xml version=\"1.0\"?>\n<Other/>").unwrap();
        assert!(parse_windows_task(&p).is_err());
        std::fs::write(&p, "<?xml version=\"1.0\"?>\n<NotTask></NotTask>").unwrap();
        let e = parse_windows_task(&p).unwrap_err().to_string();
        assert!(e.contains(":2: root element is <NotTask>"), "{e}");
        std::fs::write(
            &p,
            "<Task><Actions><Exec><Command>a</Command></Exec></Actions>",
        )
        .unwrap();
        assert!(parse_windows_task(&p).is_err());
    }

    #[test]
    fn command_line_split() {
        assert_eq!(
            split_command_line(r#""C:\a b\c.exe" --x "y z" w"#),
            vec![r"C:\a b\c.exe", "--x", "y z", "w"]
        );
        assert_eq!(split_command_line(r#"a "" b"#), vec!["a", "", "b"]);
        assert!(split_command_line("  ").is_empty());
    }
}
