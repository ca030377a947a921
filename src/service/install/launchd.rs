//! The LaunchAgent `~/Library/LaunchAgents/ai.clawctl.gateway.plist`, written with the
//! plist crate (XML).
//!
//! launchd has no `RestartPreventExitStatus`: with `KeepAlive { SuccessfulExit = false }`
//! it restarts the gateway after any failing exit, including 78 (invalid config), at most
//! every `ThrottleInterval` seconds. The header comment and `service status` say so.

use std::path::Path;

use plist::{Dictionary, Value};

use super::{Carry, Spec, names_list};
use crate::failure::Failure;
use crate::service::LAUNCHD_LABEL;

/// Seconds between restarts. launchd's own default; a crash loop on an invalid config
/// then costs one log line every ten seconds rather than a busy loop.
pub const THROTTLE_INTERVAL: u64 = 10;

/// Top-level keys clawctl writes; other keys the user added are carried over.
const GENERATED_KEYS: &[&str] = &[
    "Label",
    "ProgramArguments",
    "EnvironmentVariables",
    "WorkingDirectory",
    "RunAtLoad",
    "KeepAlive",
    "ThrottleInterval",
    "StandardOutPath",
    "StandardErrorPath",
    "SoftResourceLimits",
];

/// The gateway's open-file soft limit under launchd (its default is 256): one
/// descriptor per client and one per provider connection. 10240 is macOS's
/// OPEN_MAX, which a soft limit may always reach.
const NUMBER_OF_FILES: i64 = 10240;

/// Keys that would change what runs: never carried over (`Program` replaces
/// `ProgramArguments[0]`, the clawctl that install pins).
const DROPPED_KEYS: &[&str] = &["Program"];

/// The comment after the DOCTYPE. XML comments cannot contain `--`, so the option is
/// spelled out in words.
fn header() -> String {
    format!(
        "<!--\n  {} (clawctl service install): the clawctl gateway as a launchd agent.\n  \
         Reinstall (clawctl service install, with the force option) regenerates this file.\n  \
         Keys and EnvironmentVariables added by hand are carried over, except secrets: API\n  \
         keys and the gateway token belong in credentials.toml (clawctl onboard), which the\n  \
         gateway reads itself. CLAWCTL_HOME pins the files the gateway reads.\n  \
         launchd has no RestartPreventExitStatus: after exit 78 (invalid config) it restarts\n  \
         the gateway every ThrottleInterval seconds until the config is fixed; see the log\n  \
         in StandardErrorPath.\n-->\n",
        super::GENERATED_MARK
    )
}

/// The plist text.
pub fn render(
    spec: &Spec,
    kept: &[(String, String)],
    extra_keys: &[(String, Value)],
) -> Result<String, Failure> {
    let mut d = Dictionary::new();
    d.insert("Label".into(), Value::String(LAUNCHD_LABEL.into()));
    d.insert(
        "ProgramArguments".into(),
        Value::Array(spec.program.iter().cloned().map(Value::String).collect()),
    );
    let mut env = Dictionary::new();
    for (k, v) in spec.env.iter().chain(kept) {
        env.insert(k.clone(), Value::String(v.clone()));
    }
    d.insert("EnvironmentVariables".into(), Value::Dictionary(env));
    d.insert(
        "WorkingDirectory".into(),
        Value::String(spec.user_home.display().to_string()),
    );
    d.insert("RunAtLoad".into(), Value::Boolean(true));
    let mut keep_alive = Dictionary::new();
    keep_alive.insert("SuccessfulExit".into(), Value::Boolean(false));
    d.insert("KeepAlive".into(), Value::Dictionary(keep_alive));
    d.insert(
        "ThrottleInterval".into(),
        Value::Integer(THROTTLE_INTERVAL.into()),
    );
    let logs = spec.logs_dir();
    d.insert(
        "StandardOutPath".into(),
        Value::String(logs.join("gateway.out.log").display().to_string()),
    );
    d.insert(
        "StandardErrorPath".into(),
        Value::String(logs.join("gateway.err.log").display().to_string()),
    );
    let mut limits = Dictionary::new();
    limits.insert(
        "NumberOfFiles".into(),
        Value::Integer(NUMBER_OF_FILES.into()),
    );
    d.insert("SoftResourceLimits".into(), Value::Dictionary(limits));
    for (k, v) in extra_keys {
        d.insert(k.clone(), v.clone());
    }
    let mut buf = Vec::new();
    Value::Dictionary(d)
        .to_writer_xml(&mut buf)
        .map_err(|e| Failure::error(format!("cannot write the launchd plist: {e}")))?;
    let mut text = String::from_utf8(buf)
        .map_err(|_| Failure::error("the plist writer produced invalid UTF-8"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    // The comment goes after the DOCTYPE, before <plist>: every plist reader skips it.
    let at = text
        .find("<plist")
        .ok_or_else(|| Failure::error("the plist writer produced no <plist> element"))?;
    text.insert_str(at, &header());
    Ok(text)
}

/// Read the old plist: carry over its extra `EnvironmentVariables` (secrets dropped) and
/// its extra top-level keys.
pub fn carry_over(spec: &Spec, plist: &Path, carry: &mut Carry) -> Vec<(String, Value)> {
    let value = match Value::from_file(plist) {
        Ok(v) => v,
        Err(e) => {
            carry.warnings.push(format!(
                "{}: cannot read it as a property list ({e}); nothing in it is carried over",
                plist.display()
            ));
            return Vec::new();
        }
    };
    let Some(dict) = value.as_dictionary() else {
        carry.warnings.push(format!(
            "{}: the top level is not a dictionary; nothing in it is carried over",
            plist.display()
        ));
        return Vec::new();
    };
    if let Some(env) = dict
        .get("EnvironmentVariables")
        .and_then(Value::as_dictionary)
    {
        let mut vars = Vec::new();
        let mut not_strings = Vec::new();
        for (k, v) in env {
            match v.as_string() {
                Some(s) => vars.push((k.clone(), s.to_string())),
                None => not_strings.push(k.clone()),
            }
        }
        spec.sort_existing(vars, plist, carry);
        if !not_strings.is_empty() {
            carry.not_kept.push(format!(
                "EnvironmentVariables {} in {} are not strings (launchd ignores them) and are not carried over",
                names_list(&not_strings),
                crate::service::display_path(plist, Some(&spec.user_home))
            ));
        }
    }
    let mut extra = Vec::new();
    let mut dropped = Vec::new();
    for (k, v) in dict {
        if GENERATED_KEYS.contains(&k.as_str()) {
            continue;
        }
        if DROPPED_KEYS.contains(&k.as_str()) {
            dropped.push(k.clone());
        } else {
            extra.push((k.clone(), v.clone()));
        }
    }
    if !extra.is_empty() {
        let names: Vec<String> = extra.iter().map(|(k, _)| k.clone()).collect();
        carry
            .kept_other
            .push(format!("kept your own keys {}", names_list(&names)));
    }
    if !dropped.is_empty() {
        carry.not_kept.push(format!(
            "{} in {} would replace the program clawctl pins; not carried over",
            names_list(&dropped),
            crate::service::display_path(plist, Some(&spec.user_home))
        ));
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_plist_the_parser_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("h");
        let env = crate::service::install::tests::env_with(&[], &home);
        let spec = Spec::for_cli(&env, None, Path::new("/opt/clawctl & co/clawctl")).unwrap();
        let kept = vec![("FOO".to_string(), "<bar> & \"baz\"".to_string())];
        let extra = vec![("Nice".to_string(), Value::Integer(5.into()))];
        let text = render(&spec, &kept, &extra).unwrap();
        assert!(text.contains("<!--\n  Generated by clawctl"));
        let p = dir.path().join("ai.clawctl.gateway.plist");
        std::fs::write(&p, &text).unwrap();
        let def = crate::service::parse_launchd_plist(&p, &home, "u").unwrap();
        assert_eq!(def.name, LAUNCHD_LABEL);
        assert_eq!(def.program, spec.program);
        assert_eq!(def.var("FOO").unwrap().value, "<bar> & \"baz\"");
        assert_eq!(
            def.var("CLAWCTL_HOME").unwrap().value,
            home.join(".config/clawctl").display().to_string()
        );
        let mut carry = Carry::default();
        let again = carry_over(&spec, &p, &mut carry);
        assert_eq!(carry.kept, kept);
        assert_eq!(again, extra);
        assert_eq!(render(&spec, &carry.kept, &again).unwrap(), text);
    }
}
