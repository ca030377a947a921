//! Findings about a setup: each with a severity, the evidence (file/line, variable,
//! view), and the exact command that fixes it. `doctor --fix` applies the ones
//! marked safe.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::diagnostics::Severity;
use crate::config::load::{LoadOptions, Loaded};
use crate::config::model::split_model_ref;
use crate::env::Environment;
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::{self, Resolved, Store};
use crate::service::view::ServiceView;

/// A change `doctor --fix` may make by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AutoFix {
    /// chmod the file to this mode.
    Chmod { path: PathBuf, mode: u32 },
    /// Move the literal secret at this config key into credentials.toml.
    MoveSecret { key: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where this was seen: file:line, variable, view.
    pub evidence: Vec<String>,
    /// The command that fixes it.
    pub fix: Option<String>,
    pub auto_fix: Option<AutoFix>,
}

impl Finding {
    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
            auto_fix: None,
        }
    }
    fn evidence(mut self, e: impl Into<String>) -> Self {
        self.evidence.push(e.into());
        self
    }
    fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = Some(f.into());
        self
    }
    fn auto(mut self, a: AutoFix) -> Self {
        self.auto_fix = Some(a);
        self
    }
}

pub struct Inputs<'a> {
    pub cli: &'a Loaded,
    pub service: Option<&'a Loaded>,
    pub view: &'a ServiceView,
    pub catalog: &'a Catalog,
}

/// Providers whose keys matter: the default model's and fallbacks' providers, and
/// every configured one.
fn providers_in_use(l: &Loaded) -> Vec<String> {
    let cfg = &l.config;
    let mut out: Vec<String> = Vec::new();
    for r in cfg
        .primary_model()
        .into_iter()
        .chain(cfg.fallback_models().iter().map(String::as_str))
    {
        if let Some((p, _)) = split_model_ref(cfg.resolve_model(r))
            && !out.iter().any(|o| o == p)
        {
            out.push(p.to_string());
        }
    }
    for p in cfg.models.providers.keys() {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

fn default_provider(l: &Loaded) -> Option<String> {
    l.config
        .primary_model()
        .and_then(|m| split_model_ref(l.config.resolve_model(m)).map(|(p, _)| p.to_string()))
}

fn onboard_fix(catalog: &Catalog, provider: &str) -> String {
    match catalog.get(provider) {
        Some(p) => format!(
            "clawctl onboard --auth-choice {}",
            p.default_region().auth_choice
        ),
        None => format!("clawctl config set models.providers.{provider}.api_key --stdin"),
    }
}

/// The CLI's view, then the service's when there is one.
fn views_of<'a>(inp: &'a Inputs) -> impl Iterator<Item = &'a Loaded> {
    std::iter::once(inp.cli).chain(inp.service)
}

pub fn check(inp: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let env = &inp.cli.env;
    let cli_store = Store::read(&inp.cli.paths.credentials);

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
    }

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
        out.push(Finding::new(
            "service-unreadable",
            Severity::Warning,
            e.clone(),
        ));
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
            if let Ok(text) = std::fs::read_to_string(file) {
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

    // Keys per provider, in both views.
    let svc_store = inp.service.map(|s| Store::read(&s.paths.credentials));
    let mut ids = providers_in_use(inp.cli);
    if let Some(s) = inp.service {
        for p in providers_in_use(s) {
            if !ids.contains(&p) {
                ids.push(p);
            }
        }
    }
    let default = inp
        .service
        .and_then(default_provider)
        .or_else(|| default_provider(inp.cli));
    for id in &ids {
        // A key setting that is invalid is reported as such above; what its default
        // would resolve to is no finding.
        let key_paths = [
            crate::config::keypath::KeyPath::parse("models.providers")
                .expect("static key")
                .child(id.as_str()),
            crate::config::keypath::KeyPath::parse("auth").expect("static key"),
        ];
        if views_of(inp).any(|l| key_paths.iter().any(|k| l.invalid_near(k).is_some())) {
            continue;
        }
        let cli_r = credentials::resolve_provider(inp.cli, &cli_store, inp.catalog, id);
        let svc_r = match (inp.service, &svc_store) {
            (Some(s), Some(st)) => Some(credentials::resolve_provider(s, st, inp.catalog, id)),
            _ => None,
        };
        key_findings(
            inp,
            id,
            &cli_r,
            svc_r.as_ref(),
            default.as_deref() == Some(id.as_str()),
            &mut out,
        );
    }

    // The gateway token: needed in token mode, and the same in both views.
    let cli_token = credentials::resolve_gateway_token(inp.cli, &cli_store);
    let svc_token = match (inp.service, &svc_store) {
        (Some(s), Some(st)) => Some(credentials::resolve_gateway_token(s, st)),
        _ => None,
    };
    let main_token = svc_token.as_ref().unwrap_or(&cli_token);
    let auth_key = crate::config::keypath::KeyPath::parse("gateway.auth").expect("static key");
    let auth_invalid = views_of(inp).any(|l| l.invalid_near(&auth_key).is_some());
    if main_token.needs_key && main_token.winner().is_none() && !auth_invalid {
        out.push(
            Finding::new(
                "gateway-token-missing",
                Severity::Warning,
                format!(
                    "gateway.auth.mode is token but {} has no gateway token: every client (dashboard, CLI) will get 401",
                    if svc_token.is_some() { "the service" } else { "this shell" }
                ),
            )
            .fix("clawctl config set gateway.auth.token --stdin   (then clawctl gateway restart)"),
        );
    }
    if let (Some(s), Some(c)) = (
        svc_token.as_ref().and_then(|t| t.winner()),
        cli_token.winner(),
    ) && s.fingerprint != c.fingerprint
    {
        out.push(
            Finding::new(
                "gateway-token-mismatch",
                Severity::Error,
                format!(
                    "this shell would send another gateway token than the service expects: shell {} from {}; service {} from {}",
                    c.describe(),
                    c.location,
                    s.describe(),
                    s.location
                ),
            )
            .fix(match &c.variable {
                Some(v) => format!("unset {v} in your shell, or store one token for both: clawctl config set gateway.auth.token --stdin"),
                None => "store one token for both: clawctl config set gateway.auth.token --stdin, then clawctl gateway restart".into(),
            }),
        );
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
        && cli_store.exists
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
    out
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

fn describe_winner(r: &Resolved) -> String {
    r.winner()
        .map(|w| format!("{} from {}", w.describe(), w.location))
        .unwrap_or_else(|| "none".into())
}

fn key_findings(
    inp: &Inputs,
    id: &str,
    cli: &Resolved,
    svc: Option<&Resolved>,
    is_default: bool,
    out: &mut Vec<Finding>,
) {
    let catalog = inp.catalog;
    let service_label = inp
        .service
        .map(|s| s.env.origin.clone())
        .unwrap_or_default();
    let main = svc.unwrap_or(cli);
    if main.needs_key && main.winner().is_none() {
        let why = main.sources.iter().find_map(|s| s.problem.clone());
        let severity = if is_default {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = match (svc.is_some(), cli.winner()) {
            (true, Some(c)) => format!(
                "the service would not see a {id} key, but this shell does ({}){}",
                describe_winner(cli),
                match c.kind {
                    credentials::SourceKind::ProcessEnv =>
                        " — only in this shell's environment, which the service never sees",
                    credentials::SourceKind::DotEnv => "",
                    _ => "",
                }
            ),
            (true, None) => format!("no {id} key in the service view or this shell"),
            (false, _) => format!("no {id} key in this shell"),
        };
        let mut f = Finding::new(
            "missing-key",
            severity,
            format!(
                "{message}{}",
                if is_default {
                    " — the default model uses it, so every request will fail with 401"
                } else {
                    ""
                }
            ),
        )
        .fix(onboard_fix(catalog, id));
        if svc.is_some() {
            f = f.evidence(format!("service view: {service_label}"));
        }
        if let Some(w) = why {
            f = f.evidence(w);
        }
        out.push(f);
    }
    if let (Some(s), Some(sw), Some(cw)) = (svc, svc.and_then(|s| s.winner()), cli.winner())
        && sw.fingerprint != cw.fingerprint
    {
        let _ = s;
        out.push(
            Finding::new(
                "views-disagree",
                Severity::Error,
                format!(
                    "the service uses a different {id} key than this shell: service {} ; shell {}",
                    describe_winner(svc.unwrap_or(cli)),
                    describe_winner(cli)
                ),
            )
            .evidence(format!("service view: {service_label}"))
            .fix(format!(
                "{} then clawctl gateway restart",
                onboard_fix(catalog, id)
            )),
        );
    }
    for (label, r) in std::iter::once(("this shell", cli)).chain(svc.map(|s| ("the service", s))) {
        if r.disagree {
            let mut f = Finding::new(
                "copies-disagree",
                Severity::Warning,
                format!("{label}: copies of the {id} key differ; the first one wins"),
            )
            .fix(format!(
                "keep one copy: {} and remove the others",
                onboard_fix(catalog, id)
            ));
            for s in r.sources.iter().filter(|s| s.usable()) {
                f = f.evidence(format!(
                    "{}{} from {}",
                    if s.wins { "wins: " } else { "" },
                    s.describe(),
                    s.location
                ));
            }
            out.push(f);
        }
        if let Some(k) = r.secret()
            && let Some(sf) = crate::providers::probe::shape_finding(catalog, id, k)
        {
            let mut f = Finding::new(
                "key-shape",
                Severity::Error,
                format!("{label}: {}", sf.message),
            )
            .evidence(describe_winner(r));
            if let Some(fix) = sf.fix {
                f = f.fix(fix);
            }
            out.push(f);
        }
        if svc.is_none() {
            break;
        }
    }
}

/// Apply a safe fix; returns what was done.
pub fn apply(env: &Environment, opts: &LoadOptions, fix: &AutoFix) -> Result<String, String> {
    match fix {
        AutoFix::Chmod { path, mode } => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
            Ok(format!("chmod {mode:o} {}", path.display()))
        }
        AutoFix::MoveSecret { key } => move_secret(env, opts, key),
    }
}

fn move_secret(env: &Environment, opts: &LoadOptions, key: &str) -> Result<String, String> {
    let path = crate::config::keypath::KeyPath::parse(key).map_err(|e| e.to_string())?;
    let loaded = crate::config::load::load(env, opts).map_err(|d| d.message)?;
    let Some(serde_json::Value::String(secret)) = loaded
        .file_value()
        .and_then(|v| crate::config::load::get_path(v, &path))
        .cloned()
    else {
        return Err(format!("`{key}` is no longer a literal"));
    };
    let (id, provider, kind) = crate::secrets::credentials::profile_for_secret_key(&path);
    let cred = crate::write::transaction::NewCredential {
        id: id.clone(),
        provider,
        kind,
        secret: secrecy::SecretString::from(secret),
    };
    crate::write::transaction::edit_config(env, opts, false, vec![cred], |doc| {
        crate::config::edit::set(
            doc,
            &path,
            &serde_json::json!(format!("cred:{id}")),
            false,
            false,
        )
        .map_err(|e| crate::failure::Failure::error(e.to_string()))
    })
    .map_err(|f| f.message)?;
    Ok(format!(
        "moved `{key}` to credentials.toml profile {id}; config.toml now says \"cred:{id}\""
    ))
}

/// For messages: a path relative to home.
pub fn show(env: &Environment, p: &Path) -> String {
    env.display_path(p)
}
