//! Checks of the service: its definitions (several, unreadable, stale, secrets
//! inlined, `.env` files read differently by systemd), and whether it reads the
//! same files as this shell.

use super::{Finding, Inputs};
use crate::config::diagnostics::Severity;

pub(super) fn check(inp: &Inputs, out: &mut Vec<Finding>) {
    let env = &inp.cli.env;
    // Several definitions; definitions that do not parse.
    if inp.view.definitions.len() > 1 {
        let mut f = Finding::new("several-services", Severity::Warning, "several gateway service definitions exist; only one should run")
            .fix("remove the old one (clawctl service uninstall removes clawctl's own; delete the others by hand)");
        for d in &inp.view.definitions {
            f = f.evidence(format!(
                "{} {} ({})",
                d.manager,
                d.name,
                env.display_path(&d.path)
            ));
        }
        out.push(f);
    }
    for e in &inp.view.errors {
        // With no definition that parses, the service manager cannot start the gateway.
        let severity = if inp.view.definitions.is_empty() {
            Severity::Error
        } else {
            Severity::Warning
        };
        out.push(
            Finding::new("service-unreadable", severity, e.clone())
                .fix("fix the line named, or regenerate it: clawctl service install --force"),
        );
    }
    if let Some(e) = &inp.view.process_error {
        out.push(Finding::new(
            "process-unreadable",
            Severity::Info,
            format!("{e}: the service view comes from its definition instead"),
        ));
    }
    if inp.view.restart_needed {
        let mut f = Finding::new(
            "restart-needed",
            Severity::Warning,
            "the service definition changed after the gateway started: it still runs the old one",
        )
        .fix("clawctl gateway restart");
        if let crate::service::view::State::RunningStale { changed, .. } = &inp.view.state {
            for c in changed {
                f = f.evidence(env.display_path(c));
            }
        }
        out.push(f);
    }
    if let Some(d) = inp.view.definition() {
        for fd in &d.findings {
            let f = Finding::new("service-definition", Severity::Info, fd.message.clone())
                .evidence(fd.evidence.clone());
            // systemd runs another definition than the files say until a daemon-reload.
            out.push(match fd.code {
                "not-reloaded" | "other-fragment" => Finding {
                    severity: Severity::Warning,
                    ..f
                }
                .fix(format!(
                    "systemctl --user daemon-reload && clawctl gateway restart ({})",
                    d.name
                )),
                _ => f,
            });
        }
        // Secrets inlined in the definition are readable by anyone who can read it.
        for v in &d.env {
            let is_key_var = inp
                .catalog
                .providers
                .iter()
                .any(|p| p.key_env.contains(&v.name));
            // Only what the definition itself (unit, drop-in, plist, wrapper) holds;
            // an EnvironmentFile is a file of its own, judged by its permissions.
            let in_file_of_its_own = v.evidence.contains("EnvironmentFile");
            if (is_key_var || crate::secrets::mask::is_sensitive_name(&v.name))
                && !in_file_of_its_own
                && !v.value.is_empty()
                && crate::secrets::mask::parse_env_ref(&v.value).is_none()
            {
                out.push(
                    Finding::new("secret-in-definition", Severity::Warning, format!("{} is written into the service definition ({}): it is exposed to anyone who can read that file and drifts from credentials.toml", v.name, crate::secrets::mask::describe(&v.value)))
                        .evidence(v.evidence.clone())
                        .fix(format!("store it with clawctl (clawctl onboard, or clawctl config set … --stdin), remove {} from the definition, then clawctl service install --force", v.name)),
                );
            }
        }
        for file in d.files.iter().filter(|f| **f != d.path) {
            if let Ok(text) = crate::read::string(file) {
                for diff in crate::service::dotenv_systemd_differences(&text) {
                    let show = |v: &Option<String>| match v {
                        None => "nothing".to_string(),
                        Some(v) if crate::secrets::mask::is_sensitive_name(&diff.name) => {
                            crate::secrets::mask::describe(v)
                        }
                        Some(v) => format!("\"{}\"", crate::secrets::mask::preview(v)),
                    };
                    out.push(
                        Finding::new("dotenv-systemd-differ", Severity::Warning, format!(
                            "{}: {} is read as {} by dotenv but {} by systemd",
                            env.display_path(file), diff.name, show(&diff.dotenv), show(&diff.systemd)
                        ))
                            .evidence(format!("{}:{}", env.display_path(file), diff.line))
                            .fix("quote the value or remove the trailing comment, so dotenv and systemd agree"),
                    );
                }
            }
        }
    }

    // The service reads other files than the CLI.
    if let Some(s) = inp.service {
        if s.paths.config != inp.cli.paths.config {
            out.push(
                Finding::new(
                    "different-config",
                    Severity::Error,
                    format!(
                        "the service reads {} but this shell reads {}",
                        env.display_path(&s.paths.config),
                        env.display_path(&inp.cli.paths.config)
                    ),
                )
                .evidence(format!("service view: {}", s.env.origin))
                .fix("clawctl service install --force && clawctl gateway restart"),
            );
        } else if s.paths.home != inp.cli.paths.home {
            out.push(
                Finding::new(
                    "different-home",
                    Severity::Error,
                    format!(
                        "the service's home is {} but this shell's is {}",
                        env.display_path(&s.paths.home),
                        env.display_path(&inp.cli.paths.home)
                    ),
                )
                .fix("clawctl service install --force && clawctl gateway restart"),
            );
        }
    }
}
