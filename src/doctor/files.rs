//! Permissions of the files and the home that hold secrets.

use std::os::unix::fs::PermissionsExt;

use super::{AutoFix, Finding, Inputs};
use crate::config::diagnostics::Severity;
use crate::config::load::Loaded;

fn unreadable(inp: &Inputs, error: &str, foreign_owner: Option<u32>, out: &mut Vec<Finding>) {
    let path = &inp.cli.paths.credentials;
    let fix = match foreign_owner {
        Some(uid) => format!(
            "sudo chown $(id -u):$(id -g) {} (it is owned by uid {uid}, not you)",
            path.display()
        ),
        None => format!(
            "fix or replace {} (clawctl backups list shows earlier copies)",
            path.display()
        ),
    };
    out.push(
        Finding::new(
            "credentials-unreadable",
            Severity::Error,
            format!("credentials.toml cannot be read, so no stored key can be used: {error}"),
        )
        .evidence(inp.cli.env.display_path(path))
        .fix(fix),
    );
}

pub(super) fn check(inp: &Inputs, out: &mut Vec<Finding>) {
    let env = &inp.cli.env;
    // A store that cannot be read makes every profile look missing: say why first,
    // with the owner when it is not this user (a `sudo clawctl …` left it root-owned).
    if let Some(e) = &inp.cli_store.error {
        let path = &inp.cli.paths.credentials;
        let owner = std::os::unix::fs::MetadataExt::uid(&match std::fs::metadata(path) {
            Ok(m) => m,
            Err(_) => return unreadable(inp, e, None, out),
        });
        let me = unsafe { libc::geteuid() };
        unreadable(inp, e, (owner != me).then_some(owner), out);
    }
    // Permissions.
    let dotenv_has_secret = inp.cli.dotenv.iter().any(|(k, v)| {
        crate::secrets::mask::is_sensitive_name(k) || crate::secrets::mask::looks_secret(&v.value)
    });
    for (path, what, has_secret) in [
        (&inp.cli.paths.credentials, "credentials.toml", true),
        (&inp.cli.paths.dotenv, ".env", dotenv_has_secret),
        (
            &inp.cli.paths.config,
            "config.toml",
            config_has_literal_secret(inp.cli),
        ),
    ] {
        if let Ok(m) = std::fs::metadata(path) {
            let mode = m.permissions().mode() & 0o777;
            if has_secret && mode & 0o077 != 0 {
                out.push(
                    Finding::new(
                        "readable-by-others",
                        Severity::Error,
                        format!("{what} holds secrets and is readable by others (mode {mode:o})"),
                    )
                    .evidence(env.display_path(path))
                    .fix(format!("chmod 600 {}", path.display()))
                    .auto(AutoFix::Chmod {
                        path: path.clone(),
                        mode: 0o600,
                    }),
                );
            }
        }
    }
    if let Ok(m) = std::fs::metadata(&inp.cli.paths.home)
        && inp.cli_store.exists
        && m.permissions().mode() & 0o077 != 0
    {
        out.push(
            Finding::new(
                "home-open",
                Severity::Warning,
                format!(
                    "{} is open to others (mode {:o}); credentials belong in a 0700 directory",
                    env.display_path(&inp.cli.paths.home),
                    m.permissions().mode() & 0o777
                ),
            )
            .fix(format!("chmod 700 {}", inp.cli.paths.home.display()))
            .auto(AutoFix::Chmod {
                path: inp.cli.paths.home.clone(),
                mode: 0o700,
            }),
        );
    }
}

fn config_has_literal_secret(l: &Loaded) -> bool {
    let mut v = Vec::new();
    if let Some(fv) = l.file_value() {
        crate::write::transaction::collect_secret_literals(
            fv,
            &crate::config::keypath::KeyPath::root(),
            &mut v,
        );
    }
    !v.is_empty()
}
