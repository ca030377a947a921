//! Windows: a Task Scheduler task (XML, UTF-16LE with a byte-order mark, as
//! `schtasks /Query /XML` exports it) that runs a `gateway.cmd` wrapper at logon; the
//! wrapper sets the pinning variables and runs `clawctl gateway run`.
//!
//! Both files are written under the clawctl home's `service/` directory; Task Scheduler
//! keeps its own copy of the task once `schtasks /Create /XML` registers it, so the
//! wrapper is the file that must stay where the task points.
//!
//! cmd.exe rules used for the wrapper: in `set "NAME=value"` everything between the
//! first and the last quote is the assignment, so `&|<>^` need no escaping there; `%` is
//! expanded when the line is read, so a literal `%` is written `%%`.

use std::path::Path;

use super::{Carry, Spec};
use crate::failure::Failure;
use crate::service::WINDOWS_TASK;

/// The Task Scheduler schema namespace of the `<Task>` element.
pub const TASK_NAMESPACE: &str = "http://schemas.microsoft.com/windows/2004/02/mit/task";

/// UTF-16LE bytes with a byte-order mark.
pub fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn cmd_escape(s: &str, what: &str) -> Result<String, Failure> {
    if s.contains(['\n', '\r', '"']) {
        return Err(Failure::error(format!(
            "{what} contains a line break or a double quote, which a cmd.exe wrapper cannot hold: {}",
            crate::secrets::mask::preview(s)
        )));
    }
    Ok(s.replace('%', "%%"))
}

/// `gateway.cmd` (CRLF line ends, as cmd.exe expects).
pub fn render_cmd(spec: &Spec, kept: &[(String, String)]) -> Result<String, Failure> {
    let mut lines = vec![
        "@echo off".to_string(),
        format!(
            "rem {} (clawctl service install): the wrapper the Task Scheduler task",
            super::GENERATED_MARK
        ),
        format!(
            "rem {WINDOWS_TASK} runs. Reinstalling (clawctl service install --force) regenerates it."
        ),
        "rem set lines added by hand are carried over, except secrets: API keys and the gateway"
            .to_string(),
        "rem token belong in credentials.toml (clawctl onboard), which the gateway reads itself."
            .to_string(),
    ];
    for (k, v) in &spec.env {
        lines.push(format!("set \"{k}={}\"", cmd_escape(v, k)?));
    }
    if !kept.is_empty() {
        lines.push("rem Added by hand to an earlier version of this file, carried over:".into());
        for (k, v) in kept {
            lines.push(format!(
                "set \"{}={}\"",
                cmd_escape(k, "a variable name")?,
                cmd_escape(v, k)?
            ));
        }
    }
    let exe = cmd_escape(&spec.program[0], "the clawctl path")?;
    lines.push(format!("\"{exe}\" {}", spec.program[1..].join(" ")));
    Ok(lines.join("\r\n") + "\r\n")
}

/// The task XML (text; the caller encodes it as UTF-16LE).
pub fn render_xml(spec: &Spec, wrapper: &Path) -> Result<String, Failure> {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let wrapper = super::path_text(wrapper)?;
    let home = super::path_text(&spec.user_home)?;
    let user = spec
        .windows_user
        .as_deref()
        .map(|u| format!("      <UserId>{}</UserId>\n", esc(u)))
        .unwrap_or_default();
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="{TASK_NAMESPACE}">
  <RegistrationInfo>
    <Description>clawctl gateway. {mark} (clawctl service install); regenerate it with clawctl service install --force. It runs gateway.cmd, which pins the files the gateway reads; keys stay in credentials.toml.</Description>
    <URI>\{WINDOWS_TASK}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
{user}    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
{user}      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{wrapper}</Command>
      <WorkingDirectory>{home}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"#,
        mark = super::GENERATED_MARK,
        wrapper = esc(&wrapper),
        home = esc(&home),
    );
    Ok(text.replace('\n', "\r\n"))
}

/// `schtasks /Create /XML`: registers (or, with `/F`, replaces) the task.
pub fn create_command(xml: &Path) -> Vec<String> {
    vec![
        "schtasks".into(),
        "/Create".into(),
        "/TN".into(),
        WINDOWS_TASK.into(),
        "/XML".into(),
        xml.display().to_string(),
        "/F".into(),
    ]
}

/// Carry over the `set` lines of the old wrapper.
pub fn carry_over(spec: &Spec, cmd: &Path, carry: &mut Carry) {
    match crate::service::parse_windows_wrapper(cmd) {
        Ok(def) => {
            let vars = def
                .env
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect();
            spec.sort_existing(vars, cmd, carry);
        }
        Err(e) => carry
            .warnings
            .push(format!("{e}; none of its set lines are carried over")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_and_wrapper_round_trip_through_the_parser() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("h");
        let env = crate::service::install::tests::env_with(&[], &home);
        let spec = Spec::for_cli(&env, None, Path::new("/opt/100% sure/clawctl")).unwrap();
        let svc = dir.path().join("service");
        std::fs::create_dir_all(&svc).unwrap();
        let cmd = svc.join("gateway.cmd");
        let xml = svc.join("clawctl-gateway.xml");
        let kept = vec![("FOO".to_string(), "a & b | 50%".to_string())];
        std::fs::write(&cmd, render_cmd(&spec, &kept).unwrap()).unwrap();
        std::fs::write(&xml, utf16le_with_bom(&render_xml(&spec, &cmd).unwrap())).unwrap();
        let def = crate::service::parse_windows_task(&xml).unwrap();
        assert_eq!(def.name, WINDOWS_TASK);
        assert_eq!(def.program, spec.program);
        assert_eq!(def.var("FOO").unwrap().value, "a & b | 50%");
        assert_eq!(
            def.var("CLAWCTL_HOME").unwrap().value,
            home.join(".config/clawctl").display().to_string()
        );
        let mut carry = Carry::default();
        carry_over(&spec, &cmd, &mut carry);
        assert_eq!(carry.kept, kept);
    }

    #[test]
    fn refuses_what_cmd_cannot_hold() {
        assert!(cmd_escape("a\"b", "X").is_err());
        assert!(cmd_escape("a\nb", "X").is_err());
        assert_eq!(cmd_escape("50%", "X").unwrap(), "50%%");
    }
}
