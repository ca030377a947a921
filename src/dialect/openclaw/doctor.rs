//! `clawctl --openclaw doctor`: clawctl's findings on OpenClaw's terms. Each finding
//! names the evidence (file:line, variable, which view) and the command that fixes
//! it for an OpenClaw user (`openclaw onboard …`, `openclaw gateway install --force`,
//! `openclaw config set …`, `chmod 600 …`), plus the clawctl move where it helps.
//! Read-only: `--fix` prints these commands, it never runs them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::config::diagnostics::Severity;
use crate::doctor::Finding;
use crate::providers::catalog::Catalog;
use crate::secrets::mask;
use crate::service::Manager;

use super::env::Layer;
use super::paths::{OPENCLAW_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_TOKEN, gateway_port};
use super::providers::{self, KNOWN_CREDENTIAL_VARS};
use super::service::Role;
use super::{Install, Keys, View, at};

fn finding(code: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
    Finding::new(code, severity, message)
}

/// `openclaw …` with `--profile NAME` when the install is a named profile.
fn oc(view: &View, args: &str) -> String {
    match &view.paths.profile {
        Some(p) => format!("openclaw --profile {p} {args}"),
        None => format!("openclaw {args}"),
    }
}

/// Every check, CLI view and service view.
pub fn check(install: &Install, catalog: &Catalog) -> Vec<Finding> {
    let mut out = Vec::new();
    let cli = &install.cli;
    if !install.present() {
        out.push(
            finding(
                "openclaw-not-installed",
                Severity::Error,
                format!("no OpenClaw install here: {} does not exist", cli.show(&cli.paths.config)),
            )
            .evidence(format!("config resolved from {}", cli.paths.config_from))
            .fix("set OPENCLAW_CONFIG_PATH / OPENCLAW_STATE_DIR, or pass --profile NAME, to point at the install"),
        );
        return out;
    }
    for view in std::iter::once(cli).chain(install.service.as_ref()) {
        config_readable(view, &mut out);
        missing_substitutions(view, &mut out);
        ignored_lines(view, &mut out);
        if let Some(ign) = gateway_port(&view.env, view.config_port()).2 {
            out.push(
                finding(
                    "openclaw-invalid-port",
                    Severity::Error,
                    format!(
                        "{ign} ({}) is not a number; OpenClaw ignores it and uses {}",
                        view.label,
                        gateway_port(&view.env, view.config_port()).0
                    ),
                )
                .evidence(format!(
                    "{} ({})",
                    ign,
                    view.layered
                        .get(super::paths::OPENCLAW_GATEWAY_PORT)
                        .map(|v| v.evidence.clone())
                        .unwrap_or_else(|| view.label.clone())
                ))
                .fix(oc(view, "gateway install --force --port <PORT>")),
            );
        }
    }
    default_model(install, catalog, &mut out);
    split_views(install, &mut out);
    legacy_services(install, &mut out);
    inline_secrets(install, &mut out);
    dotenv_read_differently(install, &mut out);
    gateway_tokens(install, &mut out);
    permissions(cli, &mut out);
    out
}

fn config_readable(view: &View, out: &mut Vec<Finding>) {
    if let Some(e) = &view.config_error {
        out.push(
            finding(
                "openclaw-config-invalid",
                Severity::Error,
                format!("{} cannot read its config", view.label),
            )
            .evidence(e.clone())
            .fix(oc(view, "doctor")),
        );
    }
    for e in &view.store_errors {
        out.push(
            finding(
                "openclaw-auth-store-invalid",
                Severity::Error,
                "an auth-profiles.json store cannot be read",
            )
            .evidence(e.clone())
            .fix(oc(view, "doctor --fix")),
        );
    }
    for s in view.stores.iter().filter(|s| s.legacy_flat) {
        out.push(
            finding(
                "openclaw-auth-store-legacy",
                Severity::Warning,
                "auth-profiles.json is a legacy flat map, which OpenClaw does not read at run time",
            )
            .evidence(view.show(&s.path))
            .fix(oc(view, "doctor --fix")),
        );
    }
}

fn missing_substitutions(view: &View, out: &mut Vec<Finding>) {
    let Some(cfg) = &view.config else { return };
    let mut missing: Vec<(String, String)> = Vec::new();
    walk_strings(cfg, String::new(), &mut |path, s| {
        for m in view.substitute(s).missing {
            missing.push((path.to_string(), m));
        }
    });
    for (path, name) in missing {
        out.push(
            finding(
                "openclaw-missing-variable",
                Severity::Warning,
                format!("{path} refers to ${{{name}}}, which is not set for {}; OpenClaw keeps the text `${{{name}}}` and warns", view.label),
            )
            .evidence(view.locate(&path))
            .fix(format!("add {name}=… to {} (read by the CLI and the service)", view.show(&view.paths.state_dotenv()))),
        );
    }
}

fn walk_strings(v: &serde_json::Value, path: String, f: &mut dyn FnMut(&str, &str)) {
    match v {
        serde_json::Value::String(s) => f(&path, s),
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk_strings(v, p, f);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk_strings(v, format!("{path}[{i}]"), f);
            }
        }
        _ => {}
    }
}

fn ignored_lines(view: &View, out: &mut Vec<Finding>) {
    for i in view
        .layered
        .ignored
        .iter()
        .filter(|i| i.why.contains("workspace .env"))
    {
        out.push(
            finding(
                "openclaw-workspace-dotenv-ignored",
                Severity::Warning,
                format!("{} in ./.env is not used: {}", i.name, i.why),
            )
            .evidence(i.evidence.clone())
            .fix(format!(
                "move {} to {} (the global .env OpenClaw trusts)",
                i.name,
                view.show(&view.paths.state_dotenv())
            )),
        );
    }
}

/// The provider of the default model and its key, in both views.
fn default_model(install: &Install, catalog: &Catalog, out: &mut Vec<Finding>) {
    let cli = &install.cli;
    let Some((model, key)) = cli.default_model() else {
        return;
    };
    let Some((raw_provider, _)) = model.split_once('/') else {
        return;
    };
    let provider = providers::normalize_provider_id(raw_provider);
    let known = catalog.get(&provider).is_some()
        || cli.provider_block(&provider).is_some()
        || cli
            .config
            .as_ref()
            .and_then(|c| at(c, "agents.defaults.cliBackends"))
            .and_then(|b| b.as_object())
            .is_some_and(|b| {
                b.keys()
                    .any(|k| providers::normalize_provider_id(k) == provider)
            });
    if !known {
        out.push(
            finding(
                "openclaw-unknown-provider",
                Severity::Error,
                format!("the default model {model} names provider `{raw_provider}`, which neither OpenClaw's built-in list (as clawctl knows it) nor models.providers defines"),
            )
            .evidence(cli.locate(&key))
            .fix(format!(
                "{}   (or define models.providers.{raw_provider} with baseUrl and api)",
                oc(cli, "models set <provider/model>")
            )),
        );
        return;
    }
    let needs_key = catalog.get(&provider).is_none_or(|p| p.needs_key);
    let cli_keys = cli.keys(&provider, catalog);
    let svc_keys = install
        .service
        .as_ref()
        .map(|s| (s, s.keys(&provider, catalog)));
    key_shape(cli, &cli_keys, &model, catalog, out);
    if let Some((s, k)) = &svc_keys {
        key_shape(s, k, &model, catalog, out);
    }
    let vars = providers::key_vars(&provider, catalog);
    let var = vars
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}_API_KEY", provider.to_uppercase()));
    let auth_choice = catalog
        .get(&provider)
        .map(|p| p.default_region().auth_choice.clone())
        .unwrap_or_else(|| format!("{provider}-api-key"));
    match &svc_keys {
        Some((s, k)) if needs_key && k.winner.is_none() => {
            let shell_only = cli_keys
                .winning()
                .is_some_and(|w| w.layer == Some(Layer::Process));
            let def = install
                .services
                .iter()
                .find(|x| x.definition.manager != Manager::Process);
            let def_path = def.map(|d| s.show(&d.definition.path)).unwrap_or_default();
            let mut f = finding(
                if shell_only {
                    "openclaw-key-only-in-shell"
                } else {
                    "openclaw-key-missing-in-service"
                },
                Severity::Error,
                if shell_only {
                    format!(
                        "{var} is set in this shell but not in the {}: the gateway has no key for {model} and answers `HTTP 401: Invalid Authentication`",
                        s.label
                    )
                } else {
                    format!("the {} has no key for {model}", s.label)
                },
            );
            if let Some(w) = cli_keys.winning() {
                f = f.evidence(format!(
                    "{}: {} — {} ({})",
                    cli.label,
                    w.source,
                    w.describe(),
                    w.evidence
                ));
            }
            f = f.evidence(format!(
                "{}: no {} in {def_path}, {} or the auth profiles",
                s.label,
                vars.join(" / "),
                s.show(&s.paths.state_dotenv())
            ));
            if let Some(why) = &s.layered.shell_import {
                // OpenClaw would run the login shell and import missing expected keys:
                // the key may still arrive from a login profile clawctl does not run.
                f.severity = Severity::Warning;
                f = f.evidence(format!(
                    "{}: {why} is on: OpenClaw would import {var} from the login shell if a login profile (~/.zprofile, ~/.bash_profile, ~/.profile) exports it — not checked, clawctl never runs a shell",
                    s.label
                ));
            }
            out.push(f.fix(format!(
                "echo '{var}=<key>' >> {} && {}   (the service reads ~/.openclaw/.env at start; or: {}; clawctl move: clawctl import {})",
                s.show(&s.paths.state_dotenv()),
                oc(s, "gateway restart"),
                oc(s, &format!("onboard --auth-choice {auth_choice}")),
                cli.show(&cli.paths.config),
            )));
        }
        None if needs_key && cli_keys.winner.is_none() => {
            out.push(
                finding(
                    "openclaw-key-missing",
                    Severity::Error,
                    format!("no key for {model} anywhere OpenClaw looks"),
                )
                .evidence(format!(
                    "{}: no {} in the environment, {}, the config or the auth profiles",
                    cli.label,
                    vars.join(" / "),
                    cli.show(&cli.paths.state_dotenv())
                ))
                .fix(oc(cli, &format!("onboard --auth-choice {auth_choice}"))),
            );
        }
        _ => {}
    }
    // Copies that disagree, within and across views.
    let mut all: Vec<(String, &super::KeyCopy)> = cli_keys
        .copies
        .iter()
        .map(|c| (cli.label.clone(), c))
        .collect();
    if let Some((s, k)) = &svc_keys {
        all.extend(k.copies.iter().map(|c| (s.label.clone(), c)));
    }
    let mut fps: Vec<String> = all
        .iter()
        .filter_map(|(_, c)| c.value.as_deref().map(mask::fingerprint))
        .collect();
    fps.sort();
    fps.dedup();
    if fps.len() > 1 {
        let mut f = finding(
            "openclaw-key-drift",
            Severity::Warning,
            format!(
                "{} different {provider} keys are configured; which one a process uses depends on where it runs",
                fps.len()
            ),
        );
        let mut seen: Vec<String> = Vec::new();
        for (label, c) in &all {
            let line = format!("{label}: {} — {} ({})", c.source, c.describe(), c.evidence);
            if c.value.is_some() && !seen.contains(&line) {
                seen.push(line.clone());
                f = f.evidence(line);
            }
        }
        if let Some((s, k)) = &svc_keys
            && let Some(w) = k.winning()
        {
            f = f.evidence(format!(
                "the {} uses {} ({})",
                s.label,
                w.source,
                w.describe()
            ));
        }
        let baked = all.iter().any(|(_, c)| {
            c.evidence.contains("LaunchAgents")
                || c.evidence.contains("systemd")
                || c.evidence.contains("service-env")
                || c.evidence.contains("gateway.cmd")
        });
        let fix = if baked {
            format!(
                "keep one key: put it in {} and remove the others, then {}",
                cli.show(&cli.paths.state_dotenv()),
                oc(cli, "gateway install --force")
            )
        } else {
            format!(
                "keep one key: remove the stale copies listed above, then {}",
                oc(cli, "gateway restart")
            )
        };
        out.push(f.fix(fix));
    }
}

/// A key of one provider's shape configured for another (the seed's Kimi Coding /
/// Moonshot mix-up).
fn key_shape(view: &View, keys: &Keys, model: &str, catalog: &Catalog, out: &mut Vec<Finding>) {
    let Some(w) = keys.winning() else { return };
    let Some(value) = w.value.as_deref() else {
        return;
    };
    let Some(p) = catalog.get(&keys.provider) else {
        return;
    };
    if p.key_shapes.is_empty() || p.shape_match(value).is_some() || w.note.is_some() {
        return;
    }
    let owners = catalog.providers_for_key(value);
    let owner = owners
        .first()
        .filter(|o| o.id != p.id && !o.key_shapes.is_empty() && owners.len() == 1);
    let (what, fix) = match owner {
        Some(o) => (
            format!("it has the shape of a {} key", o.name),
            format!(
                "{}   (a {} key needs model {}/…; for {} get a {} key: {})",
                oc(
                    view,
                    &format!("onboard --auth-choice {}", p.default_region().auth_choice)
                ),
                o.name,
                o.id,
                model,
                p.name,
                p.docs
            ),
        ),
        None => (
            format!("{} keys begin {}", p.name, p.key_shapes.join(" or ")),
            oc(
                view,
                &format!("onboard --auth-choice {}", p.default_region().auth_choice),
            ),
        ),
    };
    out.push(
        finding(
            "openclaw-key-wrong-provider",
            Severity::Error,
            format!(
                "the {} key the {} uses for {model} is not a {} key: {what}",
                p.id, view.label, p.name
            ),
        )
        .evidence(format!(
            "{}: {} — {} ({})",
            view.label,
            w.source,
            w.describe(),
            w.evidence
        ))
        .fix(fix),
    );
}

/// The CLI and the service read different configs or state dirs.
fn split_views(install: &Install, out: &mut Vec<Finding>) {
    let Some(s) = &install.service else { return };
    let c = &install.cli;
    if c.paths.config == s.paths.config && c.paths.state_dir == s.paths.state_dir {
        return;
    }
    let mut f = finding(
        "openclaw-config-split",
        Severity::Error,
        format!("the CLI and the {} read different OpenClaw installs: changes made with `openclaw config set` here do not reach the gateway", s.label),
    )
    .evidence(format!("{}: config {} ({}), state {}", c.label, c.show(&c.paths.config), c.paths.config_from, c.show(&c.paths.state_dir)))
    .evidence(format!("{}: config {} ({}), state {}", s.label, s.show(&s.paths.config), s.paths.config_from, s.show(&s.paths.state_dir)));
    if !s.config_exists {
        f = f.evidence(format!("{} does not exist", s.show(&s.paths.config)));
    }
    let fix = match &c.paths.profile {
        Some(p) => format!("openclaw --profile {p} gateway install --force   (reinstalls the service for the install this shell uses)"),
        None => "openclaw gateway install --force   (from this shell: the service then uses the same OPENCLAW_STATE_DIR / OPENCLAW_CONFIG_PATH)".to_string(),
    };
    out.push(f.fix(fix));
}

fn legacy_services(install: &Install, out: &mut Vec<Finding>) {
    let current = install.services.iter().find(|s| s.role == Role::Current);
    for l in install.services.iter().filter(|s| s.role == Role::Legacy) {
        let d = &l.definition;
        let remove = match d.manager {
            Manager::Launchd => format!(
                "launchctl bootout gui/$UID/{name} && rm {path}",
                name = d.name,
                path = install.cli.show(&d.path)
            ),
            _ => format!(
                "systemctl --user disable --now {name} && rm {path} && systemctl --user daemon-reload",
                name = d.name,
                path = install.cli.show(&d.path)
            ),
        };
        let mut f = finding(
            "openclaw-legacy-service",
            Severity::Warning,
            format!(
                "a pre-rename (Clawdbot) gateway service {} is installed{}",
                d.name,
                if current.is_some() {
                    " beside the current one: two gateways compete for the port"
                } else {
                    ""
                }
            ),
        )
        .evidence(install.cli.show(&d.path));
        if let Some(c) = current {
            f = f.evidence(install.cli.show(&c.definition.path));
        }
        out.push(f.fix(format!(
            "openclaw gateway uninstall && openclaw gateway install   (or by hand: {remove})"
        )));
    }
}

fn is_secret_name(name: &str) -> bool {
    name == OPENCLAW_GATEWAY_TOKEN
        || name == OPENCLAW_GATEWAY_PASSWORD
        || KNOWN_CREDENTIAL_VARS.contains(&name)
        || name.ends_with("_API_KEY")
        || name.ends_with("_TOKEN") && !name.ends_with("_PATH")
}

/// Secrets written into the plist, unit or `gateway.cmd` (readable by every process of
/// the user; the plist is 0644 by launchd's rules), not the 0600 service-env file.
fn inline_secrets(install: &Install, out: &mut Vec<Finding>) {
    for s in &install.services {
        let d = &s.definition;
        let inline: Vec<&crate::service::EnvVar> = d
            .env
            .iter()
            .filter(|v| is_secret_name(&v.name) && !v.value.trim().is_empty())
            .filter(|v| {
                !v.evidence.contains("(service-env)") && !v.evidence.contains("EnvironmentFile")
            })
            .filter(|v| mask::parse_env_ref(v.value.trim()).is_none() && !v.value.contains("${"))
            .collect();
        if inline.is_empty() {
            continue;
        }
        let mut f = finding(
            "openclaw-inline-secret",
            Severity::Warning,
            format!(
                "the {} {} holds {} secret(s) in the definition itself",
                d.manager,
                d.name,
                inline.len()
            ),
        );
        for v in &inline {
            f = f.evidence(format!(
                "{} = {} ({})",
                v.name,
                mask::describe(&v.value),
                v.evidence
            ));
        }
        let target = install.cli.show(&install.cli.paths.state_dotenv());
        let path = install.cli.show(&d.path);
        out.push(f.fix(format!(
            "move them to {target} (chmod 600), then {}; until then: chmod 600 {path}",
            oc(&install.cli, "gateway install --force")
        )));
    }
}

/// `.env` files that systemd (`EnvironmentFile=`) and dotenv read differently.
fn dotenv_read_differently(install: &Install, out: &mut Vec<Finding>) {
    for s in install
        .services
        .iter()
        .filter(|s| s.definition.manager == Manager::Systemd)
    {
        for file in s.definition.files.iter().skip(1) {
            let Ok(text) = crate::read::string(file) else {
                continue;
            };
            let diffs = crate::service::systemd::dotenv_systemd_differences(&text);
            if diffs.is_empty() {
                continue;
            }
            let shown = install.cli.show(file);
            let mut f = finding(
                "openclaw-dotenv-systemd-differ",
                Severity::Warning,
                format!(
                    "{shown} is read by systemd (EnvironmentFile= of {}) and by OpenClaw's dotenv, which give different values",
                    s.definition.name
                ),
            );
            for d in &diffs {
                let show = |v: &Option<String>| {
                    v.as_deref()
                        .map(mask::describe)
                        .unwrap_or_else(|| "unset".into())
                };
                f = f.evidence(format!(
                    "{shown}:{}: {}: systemd {} / dotenv {}",
                    d.line,
                    d.name,
                    show(&d.systemd),
                    show(&d.dotenv)
                ));
            }
            out.push(f.fix(format!("quote the value(s) on those lines (KEY=\"value\") and drop trailing comments, then {}", oc(&install.cli, "gateway restart"))));
        }
    }
}

fn gateway_tokens(install: &Install, out: &mut Vec<Finding>) {
    let Some(s) = &install.service else { return };
    let (Some((ct, cfrom)), Some((st, sfrom))) = (install.cli.gateway_token(), s.gateway_token())
    else {
        return;
    };
    if ct == st {
        return;
    }
    out.push(
        finding(
            "openclaw-token-drift",
            Severity::Error,
            format!("the CLI and the {} use different gateway tokens: the CLI's calls are refused as unauthorized", s.label),
        )
        .evidence(format!("{}: {} ({cfrom})", install.cli.label, mask::describe(&ct)))
        .evidence(format!("{}: {} ({sfrom})", s.label, mask::describe(&st)))
        .fix(format!("keep one token (gateway.auth.token or OPENCLAW_GATEWAY_TOKEN), then {}", oc(&install.cli, "gateway install --force"))),
    );
}

fn mode(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

fn permissions(cli: &View, out: &mut Vec<Finding>) {
    let mut files: Vec<&Path> = vec![cli.paths.config.as_path()];
    let dotenv = cli.paths.state_dotenv();
    files.push(&dotenv);
    let stores: Vec<&Path> = cli.stores.iter().map(|s| s.path.as_path()).collect();
    files.extend(stores);
    for f in files {
        if let Some(m) = mode(f)
            && m & 0o077 != 0
        {
            out.push(
                finding(
                    "openclaw-file-readable",
                    Severity::Warning,
                    format!(
                        "{} is readable by other users (mode {m:o}) and may hold keys",
                        cli.show(f)
                    ),
                )
                .evidence(format!("{} mode {m:o}", cli.show(f)))
                .fix(format!("chmod 600 {}", cli.show(f))),
            );
        }
    }
    if let Some(m) = mode(&cli.paths.state_dir)
        && m & 0o077 != 0
    {
        out.push(
            finding(
                "openclaw-state-dir-readable",
                Severity::Warning,
                format!(
                    "the state dir {} is open to other users (mode {m:o})",
                    cli.show(&cli.paths.state_dir)
                ),
            )
            .evidence(format!("{} mode {m:o}", cli.show(&cli.paths.state_dir)))
            .fix(format!("chmod 700 {}", cli.show(&cli.paths.state_dir))),
        );
    }
}
