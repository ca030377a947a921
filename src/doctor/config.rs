//! Checks of the config itself: errors in either view, literal secrets, old
//! locations and layouts.

use super::{AutoFix, Finding, Inputs};
use crate::config::diagnostics::Severity;

/// Errors in either view's config.
pub(super) fn invalid(inp: &Inputs, out: &mut Vec<Finding>) {
    let env = &inp.cli.env;
    for (label, l) in
        std::iter::once(("this shell", inp.cli)).chain(inp.service.map(|s| ("the service", s)))
    {
        for d in l.errors() {
            let mut f = Finding::new(
                "config-invalid",
                Severity::Error,
                format!("{label}: {}", d.message),
            )
            .evidence(format!("view: {}", l.env.origin));
            if let Some(o) = &d.origin {
                f = f.evidence(o.label(env));
            }
            if let Some(h) = &d.help {
                f = f.fix(h.clone());
            }
            out.push(f);
        }
        // A .env line that is skipped or a .env that cannot be read: keys and
        // overrides in it are missing, and this is the cause to name.
        for d in l.diagnostics.iter().filter(|d| {
            !d.is_error()
                && matches!(
                    d.code,
                    "dotenv-syntax" | "unreadable" | "encoding" | "too-large" | "not-a-file"
                )
        }) {
            out.push(
                Finding::new(
                    "dotenv-unreadable",
                    Severity::Warning,
                    format!("{label}: {}", d.message),
                )
                .evidence(format!("view: {}", l.env.origin))
                .fix(d.help.clone().unwrap_or_else(|| {
                    "fix that line of .env (python-dotenv's rules: quote values that hold spaces or #, close every quote)".into()
                })),
            );
        }
    }
}

/// Literal secrets in config.toml, legacy locations, old layout versions.
pub(super) fn secrets_and_layout(inp: &Inputs, out: &mut Vec<Finding>) {
    let env = &inp.cli.env;
    for d in inp
        .cli
        .diagnostics
        .iter()
        .filter(|d| d.code == "secret-in-config")
    {
        let key = d.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
        if d.origin
            .as_ref()
            .is_some_and(|o| matches!(o, crate::config::origin::Origin::File { .. }))
        {
            out.push(
                Finding::new("secret-in-config", Severity::Warning, format!("`{key}` holds a literal secret in config.toml"))
                    .evidence(d.origin.as_ref().map(|o| o.label(env)).unwrap_or_default())
                    .fix(format!("clawctl doctor --fix (moves it to credentials.toml and writes `{key} = \"cred:…\"`)"))
                    .auto(AutoFix::MoveSecret { key }),
            );
        }
    }
    for l in &inp.cli.paths.legacy {
        out.push(
            Finding::new(
                "legacy-location",
                Severity::Warning,
                format!(
                    "a config in an old location exists: {}",
                    env.display_path(l)
                ),
            )
            .fix("clawctl migrate"),
        );
    }
    for d in inp
        .cli
        .diagnostics
        .iter()
        .filter(|d| d.code == "old-version")
    {
        out.push(
            Finding::new("old-version", Severity::Warning, d.message.clone())
                .fix("clawctl migrate --dry-run && clawctl migrate"),
        );
    }
}
