//! Talking to the service manager (systemctl, launchctl, schtasks). Every call says
//! what it ran; when the manager does not answer (no user systemd, not macOS), the
//! caller gets the command to run instead of a guess.

use std::process::Command;

use crate::service::{Manager, ServiceDefinition};

/// Run a command; Ok(()) when it exits 0, Err(message with stderr) otherwise.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "`{shown}` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run `{shown}`: {e}")),
    }
}

/// The commands that restart a definition's service.
pub fn restart_commands(d: &ServiceDefinition) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match d.manager {
        Manager::Systemd => vec![s(&["systemctl", "--user", "restart", &d.name])],
        Manager::Launchd => {
            let uid = unsafe { libc::getuid() };
            vec![s(&[
                "launchctl",
                "kickstart",
                "-k",
                &format!("gui/{uid}/{}", d.name),
            ])]
        }
        Manager::WindowsTask => vec![
            s(&["schtasks", "/End", "/TN", &d.name]),
            s(&["schtasks", "/Run", "/TN", &d.name]),
        ],
        Manager::Process => Vec::new(),
    }
}

/// Restart through the manager; Ok(what was done).
pub fn restart(d: &ServiceDefinition) -> Result<String, String> {
    let cmds = restart_commands(d);
    for c in &cmds {
        let args: Vec<&str> = c[1..].iter().map(String::as_str).collect();
        run(&c[0], &args).map_err(|e| {
            format!(
                "{e}\n  help: the {} manager did not answer here; run it where the service lives: {}",
                d.manager,
                cmds.iter().map(|c| c.join(" ")).collect::<Vec<_>>().join(" && ")
            )
        })?;
    }
    Ok(format!(
        "restarted through {}: {}",
        d.manager,
        cmds.iter()
            .map(|c| c.join(" "))
            .collect::<Vec<_>>()
            .join(" && ")
    ))
}
