//! launchd LaunchAgents: `~/Library/LaunchAgents/*.plist`, XML or binary.
//!
//! Rules (launchd.plist(5)): the job runs `ProgramArguments` (or `Program`) with no shell,
//! so `~` and `$VAR` stay literal; its environment is launchd's own minimal one (`PATH=
//! /usr/bin:/bin:/usr/sbin:/sbin`, `HOME`, `USER`, `LOGNAME`, …) plus
//! `EnvironmentVariables` — nothing from shell rc files, which is why a key exported in
//! `~/.zshrc` never reaches the gateway. `WorkingDirectory` defaults to `/`. `UserName`
//! only applies to jobs in the system domain, not to agents.
//!
//! The plist crate reads the values. For XML plists a second pass with quick-xml finds
//! each key's line (for evidence) and duplicate keys, which every plist reader silently
//! collapses (CFPropertyList, like the plist crate, keeps the later value).

use std::io::Cursor;
use std::path::Path;

use plist::{Dictionary, Value};
use quick_xml::events::Event;

use super::{EnvVar, Manager, ServiceDefinition, ServiceError, display_path, line_of_offset};

/// launchd's `PATH` for jobs that set none (`_PATH_STDPATH` without `/usr/local/bin`).
pub const LAUNCHD_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

/// Parse a LaunchAgent plist for the user `user` whose home is `home`.
pub fn parse_launchd_plist(
    path: &Path,
    home: &Path,
    user: &str,
) -> Result<ServiceDefinition, ServiceError> {
    let bytes = crate::read::bytes(path).map_err(|e| ServiceError::read(path, &e))?;
    let binary = bytes.starts_with(b"bplist");
    if binary && let Err(why) = binary_plist_within_budget(&bytes) {
        return Err(ServiceError::parse(
            path,
            None,
            format!("not a usable binary property list: {why}"),
            "a LaunchAgent plist (a few dozen values; `plutil -convert xml1` shows it as XML)",
        ));
    }
    let keys = if binary {
        Vec::new()
    } else {
        scan_xml_keys(path, &bytes)?
    };
    let value =
        Value::from_reader(Cursor::new(&bytes)).map_err(|e| plist_error(path, &bytes, &e))?;
    let Some(dict) = value.as_dictionary() else {
        return Err(ServiceError::parse(
            path,
            None,
            "the top level of the property list is not a dictionary",
            "<plist><dict>…</dict></plist> with Label and ProgramArguments",
        ));
    };
    let mut b = Builder {
        def: ServiceDefinition::new(Manager::Launchd, label_or_stem(dict, path), path),
        shown: display_path(path, Some(home)),
        keys,
    };
    b.label(dict);
    b.program(dict);
    b.environment(dict);
    b.working_dir_and_user(dict, path, home);
    b.duplicates();
    b.def.manager_env = manager_env(home, user);
    b.def.cannot_tell.push(
        "SHELL and TMPDIR, which launchd sets from the user's account on the Mac, and variables set with `launchctl setenv` (see `launchctl getenv NAME` there)".into(),
    );
    Ok(b.def)
}

fn label_or_stem(dict: &Dictionary, path: &Path) -> String {
    dict.get("Label")
        .and_then(Value::as_string)
        .map(str::to_string)
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

fn manager_env(home: &Path, user: &str) -> Vec<EnvVar> {
    let by = "added by launchd";
    let mut env = vec![EnvVar::new("PATH", LAUNCHD_PATH, by)];
    if !home.as_os_str().is_empty() {
        env.push(EnvVar::new("HOME", home.display().to_string(), by));
    }
    if !user.is_empty() {
        env.push(EnvVar::new("USER", user, by));
        env.push(EnvVar::new("LOGNAME", user, by));
    }
    env
}

struct Builder {
    def: ServiceDefinition,
    shown: String,
    keys: Vec<KeyLoc>,
}

impl Builder {
    /// `file:line (what)` when the key's line is known, else `file (what)`.
    fn evidence(&self, parent: Option<&str>, key: &str, what: &str) -> String {
        match self.line_of(parent, key) {
            Some(line) => format!("{}:{line} ({what})", self.shown),
            None => format!("{} ({what})", self.shown),
        }
    }

    /// The line of the last occurrence, the one plist readers keep.
    fn line_of(&self, parent: Option<&str>, key: &str) -> Option<usize> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.key == key && k.parent.as_deref() == parent)
            .map(|k| k.line)
    }

    fn label(&mut self, dict: &Dictionary) {
        if dict.get("Label").and_then(Value::as_string).is_none() {
            let ev = self.shown.clone();
            self.def.finding(
                "no-label",
                "no Label string: launchd refuses to load the job",
                ev,
            );
        }
        if dict.get("Disabled").and_then(Value::as_boolean) == Some(true) {
            let ev = self.evidence(None, "Disabled", "Disabled");
            self.def.finding(
                "disabled",
                "Disabled is true: launchd does not load the job",
                ev,
            );
        }
    }

    fn program(&mut self, dict: &Dictionary) {
        let args: Vec<String> = dict
            .get("ProgramArguments")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_string)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let program = dict.get("Program").and_then(Value::as_string);
        self.def.program = match (program, args.split_first()) {
            // Program is what runs; ProgramArguments then only supplies argv.
            (Some(p), Some((_, rest))) => std::iter::once(p.to_string())
                .chain(rest.iter().cloned())
                .collect(),
            (Some(p), None) => vec![p.to_string()],
            (None, _) => args,
        };
        if self.def.program.is_empty() {
            let ev = self.shown.clone();
            self.def.finding(
                "no-program",
                "neither Program nor ProgramArguments: launchd has nothing to run",
                ev,
            );
        }
        let ev = self.evidence(None, "ProgramArguments", "ProgramArguments");
        for arg in self.def.program.clone() {
            if arg.starts_with('~') {
                self.def.finding(
                    "literal-tilde",
                    format!("`{arg}`: launchd runs no shell, so `~` is not expanded and the path is taken literally"),
                    ev.clone(),
                );
            }
            for r in super::dollar_references(&arg) {
                self.def.finding(
                    "literal-dollar",
                    format!("an argument contains `${r}`: launchd runs no shell, the program gets the literal text"),
                    ev.clone(),
                );
            }
        }
    }

    fn environment(&mut self, dict: &Dictionary) {
        let Some(vars) = dict.get("EnvironmentVariables") else {
            return;
        };
        let Some(vars) = vars.as_dictionary() else {
            let ev = self.evidence(None, "EnvironmentVariables", "EnvironmentVariables");
            self.def.finding(
                "plist-type",
                "EnvironmentVariables is not a dictionary; launchd ignores it",
                ev,
            );
            return;
        };
        let parent = Some("EnvironmentVariables");
        for (name, value) in vars {
            let ev = self.evidence(parent, name, "EnvironmentVariables");
            let Some(value) = value.as_string() else {
                self.def.finding(
                    "plist-type",
                    format!("{name} in EnvironmentVariables is not a <string>; launchd ignores it"),
                    ev,
                );
                continue;
            };
            for r in super::dollar_references(value) {
                self.def.finding(
                    "literal-dollar",
                    format!("{name} contains `${r}`: launchd does not expand variables, the service gets the literal text"),
                    ev.clone(),
                );
            }
            self.def.env.push(EnvVar::new(name, value, ev));
        }
    }

    fn working_dir_and_user(&mut self, dict: &Dictionary, path: &Path, home: &Path) {
        let wd = dict
            .get("WorkingDirectory")
            .and_then(Value::as_string)
            .unwrap_or("/");
        self.def.working_dir = Some(wd.into());
        if let Some(u) = dict.get("UserName").and_then(Value::as_string) {
            self.def.user = Some(u.to_string());
            let agent = path.parent().is_some_and(|d| {
                d.ends_with("Library/LaunchAgents") || d.starts_with(home.join("Library"))
            });
            if agent {
                let ev = self.evidence(None, "UserName", "UserName");
                self.def.finding(
                    "username-ignored",
                    format!("UserName={u} only applies to jobs in the system domain; an agent runs as the user who loads it"),
                    ev,
                );
            }
        }
    }

    fn duplicates(&mut self) {
        let mut seen: Vec<&KeyLoc> = Vec::new();
        let mut found = Vec::new();
        for k in &self.keys {
            if let Some(first) = seen.iter().find(|s| s.key == k.key && s.parent == k.parent) {
                let place = match &k.parent {
                    Some(p) => format!(" in {p}"),
                    None => String::new(),
                };
                found.push((
                    format!(
                        "key {}{place} appears twice (lines {} and {}); launchd keeps the later one",
                        k.key, first.line, k.line
                    ),
                    format!("{}:{}", self.shown, k.line),
                ));
            } else {
                seen.push(k);
            }
        }
        for (msg, ev) in found {
            self.def.finding("duplicate-key", msg, ev);
        }
    }
}

/// A `<key>` in an XML plist: its text, the key of the dictionary holding it (`None` at
/// the top level) and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyLoc {
    parent: Option<String>,
    key: String,
    line: usize,
}

/// Walk the XML, recording every dictionary key with its line. Also the well-formedness
/// check: quick-xml's messages (mismatched tags) are clearer than the plist crate's.
fn scan_xml_keys(path: &Path, bytes: &[u8]) -> Result<Vec<KeyLoc>, ServiceError> {
    let text = String::from_utf8_lossy(bytes);
    let mut reader = quick_xml::Reader::from_str(&text);
    // Frames of open elements; for a <dict>, the key naming it and the last key read.
    let mut stack: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut keys = Vec::new();
    let mut in_key: Option<(String, usize)> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            xml_error(path, bytes, at, &e.to_string())
        })?;
        let pos = reader.buffer_position() as usize;
        match event {
            Event::Start(e) => {
                let tag = e.name().as_ref().to_string();
                if tag == "key" {
                    in_key = Some((String::new(), line_of_offset(bytes, pos)));
                } else {
                    // A value: it takes the pending key of the dict it sits in.
                    let name = stack.last_mut().and_then(|f| f.2.take());
                    stack.push((tag, name, None));
                }
            }
            Event::Empty(_) => {
                if let Some(f) = stack.last_mut() {
                    f.2 = None;
                }
            }
            Event::Text(t) => {
                if let Some((k, _)) = in_key.as_mut() {
                    k.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((k, _)) = in_key.as_mut() {
                    k.push_str(&resolve_entity(&r));
                }
            }
            Event::End(e) => {
                if e.name().as_ref() == "key" {
                    if let Some((key, line)) = in_key.take() {
                        let parent = stack.last().and_then(|f| f.1.clone());
                        if let Some(f) = stack.last_mut() {
                            f.2 = Some(key.clone());
                        }
                        keys.push(KeyLoc { parent, key, line });
                    }
                } else if let Some((tag, _, Some(key))) = stack.pop()
                    && tag == "dict"
                {
                    // The plist crate reports this as an unexpected event, with no place.
                    return Err(ServiceError::parse(
                        path,
                        Some(line_of_offset(bytes, pos)),
                        format!("<key>{key}</key> has no value before </dict>"),
                        "every <key> in a <dict> is followed by its value (<string>, <array>, <dict>, <true/>, …)",
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(keys)
}

pub(crate) fn resolve_entity(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    match &**r {
        "lt" => "<".into(),
        "gt" => ">".into(),
        "amp" => "&".into(),
        "apos" => "'".into(),
        "quot" => "\"".into(),
        other => format!("&{other};"),
    }
}

fn xml_error(path: &Path, bytes: &[u8], offset: usize, detail: &str) -> ServiceError {
    ServiceError::parse(
        path,
        Some(line_of_offset(bytes, offset)),
        format!("malformed XML: {detail}"),
        "well-formed XML; inside <string> a `<` must be written &lt; and a `&` &amp;",
    )
}

/// Values a binary plist may expand to. Objects may be referenced many times (a DAG), and
/// the plist crate expands every reference: 60 objects referencing the next one twice
/// make 2^60 values. A LaunchAgent has a few dozen.
const MAX_PLIST_NODES: u64 = 100_000;

/// Walk the object table of a binary plist (`bplist00`) without expanding it: count the
/// values it expands to (each object once, with memoized child counts) and refuse
/// cycles and counts over [`MAX_PLIST_NODES`]. Malformed tables are left to the parser.
fn binary_plist_within_budget(b: &[u8]) -> Result<(), String> {
    if b.len() < 40 {
        return Ok(());
    }
    let t = &b[b.len() - 32..];
    let be = |s: &[u8]| s.iter().fold(0u64, |n, x| (n << 8) | u64::from(*x));
    let (off_size, ref_size) = (t[6] as usize, t[7] as usize);
    let (count, top, table) = (be(&t[8..16]), be(&t[16..24]), be(&t[24..32]) as usize);
    if !(1..=8).contains(&off_size) || !(1..=8).contains(&ref_size) || count > b.len() as u64 {
        return Ok(());
    }
    let offset_of = |i: u64| -> Option<usize> {
        let at = table + i as usize * off_size;
        b.get(at..at + off_size).map(|s| be(s) as usize)
    };
    // Children of object `i` (arrays, sets, dictionaries; other values have none).
    let children = |i: u64| -> Vec<u64> {
        let Some(at) = offset_of(i) else {
            return Vec::new();
        };
        let Some(&marker) = b.get(at) else {
            return Vec::new();
        };
        let (kind, low) = (marker >> 4, (marker & 0x0f) as usize);
        if !matches!(kind, 0xA | 0xC | 0xD) {
            return Vec::new();
        }
        let (n, mut p) = if low == 0x0f {
            match b.get(at + 1) {
                Some(m) if m >> 4 == 1 => {
                    let w = 1usize << (m & 0x0f);
                    (
                        b.get(at + 2..at + 2 + w).map(be).unwrap_or(0) as usize,
                        at + 2 + w,
                    )
                }
                _ => return Vec::new(),
            }
        } else {
            (low, at + 1)
        };
        let refs = if kind == 0xD { 2 * n } else { n };
        let mut out = Vec::with_capacity(refs.min(1024));
        for _ in 0..refs {
            match b.get(p..p + ref_size) {
                Some(s) => out.push(be(s)),
                None => break,
            }
            p += ref_size;
        }
        out
    };
    // Iterative post-order walk; `state`: 0 new, 1 on the stack, 2 counted.
    let n = count as usize;
    let mut state = vec![0u8; n];
    let mut size = vec![0u64; n];
    let mut stack = vec![(top, false)];
    while let Some((i, done)) = stack.pop() {
        let Some(iu) = usize::try_from(i).ok().filter(|i| *i < n) else {
            continue;
        };
        if done {
            let total = children(i)
                .iter()
                .filter(|c| (**c as usize) < n)
                .fold(1u64, |s, c| s.saturating_add(size[*c as usize]));
            if total > MAX_PLIST_NODES {
                return Err(format!(
                    "its objects expand to more than {MAX_PLIST_NODES} values (objects referenced over and over)"
                ));
            }
            size[iu] = total;
            state[iu] = 2;
            continue;
        }
        match state[iu] {
            2 => continue,
            1 => return Err("an object contains itself".into()),
            _ => {}
        }
        state[iu] = 1;
        stack.push((i, true));
        for c in children(i) {
            if (c as usize) < n && state[c as usize] == 1 {
                return Err("an object contains itself".into());
            }
            stack.push((c, false));
        }
    }
    Ok(())
}

/// The plist crate's errors say "Kind (offset N)"; turn the offset into a line.
fn plist_error(path: &Path, bytes: &[u8], e: &plist::Error) -> ServiceError {
    let text = e.to_string();
    let line = text
        .rsplit_once("(offset ")
        .and_then(|(_, rest)| rest.trim_end_matches(')').parse::<usize>().ok())
        .map(|offset| line_of_offset(bytes, offset));
    let kind = text.split(" (offset").next().unwrap_or(&text);
    // The crate's kinds are Debug dumps (`UnexpectedEventType { expected: … }`): say
    // it in words, and without a line fall back to the end of the document.
    let words = if kind.starts_with("UnexpectedEventType") {
        "an element where another was expected (a <key> without its value, or a value without its <key>)"
    } else if kind.starts_with("UnexpectedEof") {
        "the file ends in the middle of the property list"
    } else {
        kind
    };
    let line = line
        .or_else(|| (!bytes.starts_with(b"bplist")).then(|| line_of_offset(bytes, bytes.len())));
    ServiceError::parse(
        path,
        line,
        format!("not a valid property list: {words}"),
        "an XML or binary property list (<plist><dict>…</dict></plist>)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_plist_reference_bombs_are_refused_before_expansion() {
        // 60 arrays, each holding the next one twice: 2^60 values once expanded.
        let n = 60u8;
        let (mut objs, mut offs) = (Vec::new(), Vec::new());
        for i in 0..n {
            offs.push(8 + objs.len() as u8);
            if i < n - 1 {
                objs.extend([0xa2, i + 1, i + 1]);
            } else {
                objs.extend([0x51, b'a']);
            }
        }
        let mut b = b"bplist00".to_vec();
        let table = b.len() + objs.len();
        b.extend(&objs);
        b.extend(&offs);
        b.extend([0u8; 6]);
        b.extend([1, 1]);
        b.extend((n as u64).to_be_bytes());
        b.extend(0u64.to_be_bytes());
        b.extend((table as u64).to_be_bytes());
        let e = binary_plist_within_budget(&b).unwrap_err();
        assert!(e.contains("expand to more than 100000 values"), "{e}");
        // A real LaunchAgent written as a binary plist passes.
        let mut d = Dictionary::new();
        d.insert("Label".into(), Value::String("ai.clawctl.gateway".into()));
        d.insert(
            "ProgramArguments".into(),
            Value::Array(vec![Value::String("/bin/clawctl".into()); 3]),
        );
        let mut out = Vec::new();
        Value::Dictionary(d).to_writer_binary(&mut out).unwrap();
        assert_eq!(binary_plist_within_budget(&out), Ok(()));
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const HEAD: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n";

    #[test]
    fn reads_program_env_defaults_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEAD}  <key>Label</key><string>ai.clawctl.gateway</string>\n  <key>ProgramArguments</key>\n  <array><string>~/bin/clawctl</string><string>gateway</string></array>\n  <key>EnvironmentVariables</key>\n  <dict>\n    <key>A&amp;B</key><string>x</string>\n    <key>P</key><string>$HOME/bin</string>\n    <key>N</key><integer>3</integer>\n  </dict>\n</dict>\n</plist>\n"
        );
        let p = write(dir.path(), "a.plist", &text);
        let d = parse_launchd_plist(&p, Path::new("/Users/u"), "u").unwrap();
        assert_eq!(d.name, "ai.clawctl.gateway");
        assert_eq!(d.program, vec!["~/bin/clawctl", "gateway"]);
        assert_eq!(d.working_dir.as_deref(), Some(Path::new("/")));
        assert_eq!(d.env.len(), 2);
        assert_eq!(d.env[0].name, "A&B");
        assert!(
            d.env[1].evidence.ends_with(":10 (EnvironmentVariables)"),
            "{}",
            d.env[1].evidence
        );
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec!["literal-tilde", "literal-dollar", "plist-type"]);
        assert_eq!(d.manager_env[0].value, LAUNCHD_PATH);
        assert!(
            d.manager_env
                .iter()
                .all(|v| v.evidence == "added by launchd")
        );
    }

    #[test]
    fn program_key_wins_over_argv0() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEAD}<key>Label</key><string>x</string><key>Program</key><string>/bin/real</string><key>ProgramArguments</key><array><string>argv0</string><string>a</string></array></dict></plist>"
        );
        let p = write(dir.path(), "p.plist", &text);
        let d = parse_launchd_plist(&p, Path::new(""), "").unwrap();
        assert_eq!(d.program, vec!["/bin/real", "a"]);
        assert!(d.manager_env.iter().all(|v| v.name == "PATH"));
    }

    #[test]
    fn not_a_dict_and_garbage_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "s.plist",
            "<?xml version=\"1.0\"?><plist><string>x</string></plist>",
        );
        let e = parse_launchd_plist(&p, Path::new(""), "").unwrap_err();
        assert!(e.to_string().contains("not a dictionary"), "{e}");
        for junk in [
            "",
            "bplist00garbage",
            "<plist><dict><key>a</key>",
            "\u{0}\u{1}\u{2}",
        ] {
            let p = write(dir.path(), "j.plist", junk);
            assert!(
                parse_launchd_plist(&p, Path::new(""), "").is_err(),
                "{junk:?}"
            );
        }
    }
}
