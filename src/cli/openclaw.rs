//! The commands under `--openclaw` / `CLAWCTL_TARGET=openclaw`: the same questions
//! (`status`, `doctor`, `models status`, `config path|get|list|validate`) asked of an
//! OpenClaw install, read-only. Secrets appear only as shape and fingerprint.

use serde_json::{Value as Json, json};

use super::output::print_json;
use super::{Command, ConfigCommand, Ctx, Failure, ModelsCommand, Outcome};
use crate::config::diagnostics::Severity;
use crate::config::model::ApiStyle;
use crate::dialect::openclaw::{self, Install, View, at, doctor, paths};
use crate::providers::catalog::Catalog;
use crate::providers::probe;
use crate::secrets::mask;

/// Run `command` against the OpenClaw install. Commands that write are refused.
pub fn run(ctx: &Ctx, command: Command) -> Outcome {
    match command {
        Command::Status(a) => status(ctx, a.json),
        Command::Doctor(a) => doctor_cmd(ctx, a.fix, a.json),
        Command::Models(ModelsCommand::Status(a)) => models_status(ctx, &a),
        Command::Config(ConfigCommand::Path(a)) => config_path(ctx, a.json),
        Command::Config(ConfigCommand::Get(a)) => {
            config_get(ctx, &a.key.to_string(), a.show_origin, a.json)
        }
        Command::Config(ConfigCommand::List(a)) => config_list(ctx, a.show_origin, a.json),
        Command::Config(ConfigCommand::Validate(a)) => config_validate(ctx, a.service, a.json),
        _ => Err(Failure::usage(
            "under --openclaw clawctl only reads (status, doctor, models status, config path|get|list|validate); nothing is written to an OpenClaw install. To manage it with clawctl: clawctl import <openclaw.json>",
        )),
    }
}

/// For clawctl's own `status` and `doctor`: when clawctl has no config here but an
/// OpenClaw install exists, the sentence that says so and names `--openclaw` and
/// `clawctl import`.
pub fn hint(ctx: &Ctx) -> Option<String> {
    let own = crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()).ok()?;
    if own.config.exists() {
        return None;
    }
    let config = openclaw::exists(&ctx.env)?;
    let shown = match &ctx.env.home {
        Some(h) => openclaw::env::display(&config, h),
        None => config.display().to_string(),
    };
    Some(format!(
        "clawctl has no config here, but an OpenClaw install is at {shown}: read it in place with `clawctl --openclaw status` / `clawctl --openclaw doctor`, or move it to clawctl with `clawctl import {shown}`"
    ))
}

fn read(ctx: &Ctx) -> Result<(Install, Catalog), Failure> {
    let catalog = Catalog::load(&ctx.env).map_err(|e| Failure::error(e.0))?;
    let proc_root = std::path::Path::new("/proc");
    let opts = openclaw::Options {
        profile: ctx.opts.profile.as_deref(),
        service_file: ctx.service_opts.service_file.as_deref(),
        pid: ctx.service_opts.pid,
        proc_root: (ctx.env.platform == crate::env::Platform::Linux
            && ctx.service_opts.service_file.is_none())
        .then_some(proc_root),
    };
    let install = Install::read(&ctx.env, opts, &catalog).map_err(|e| Failure::usage(e.0))?;
    Ok((install, catalog))
}

fn tag(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn doctor_cmd(ctx: &Ctx, fix: bool, as_json: bool) -> Outcome {
    let (install, catalog) = read(ctx)?;
    let findings = doctor::check(&install, &catalog);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if as_json {
        print_json(
            &json!({"ok": errors == 0, "errors": errors, "target": "openclaw", "findings": findings}),
        );
        return Ok(if errors > 0 { 1 } else { 0 });
    }
    crate::outln!(
        "OpenClaw install: {} ({})",
        install.cli.show(&install.cli.paths.config),
        install.cli.paths.config_from
    );
    if findings.is_empty() {
        crate::outln!("no problems found");
    }
    for f in &findings {
        crate::outln!("{}: {}", tag(f.severity), f.message);
        for e in &f.evidence {
            crate::outln!("    evidence: {e}");
        }
        if let Some(fix) = &f.fix {
            crate::outln!("    fix: {fix}");
        }
    }
    if fix && findings.iter().any(|f| f.fix.is_some()) {
        crate::outln!(
            "--fix under --openclaw changes nothing: run the fix commands above yourself."
        );
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

fn view_json(v: &View, catalog: &Catalog) -> Json {
    let model = v.default_model();
    let provider = model.as_ref().and_then(|(m, _)| {
        m.split_once('/')
            .map(|(p, _)| openclaw::providers::normalize_provider_id(p))
    });
    let keys = provider.as_ref().map(|p| v.keys(p, catalog));
    let endpoint = provider.as_ref().and_then(|p| {
        v.provider_block(p)
            .and_then(|(_, b)| b.get("baseUrl").and_then(Json::as_str))
            .map(|u| (v.substitute(u).value, "models.providers".to_string()))
            .or_else(|| {
                catalog.get(p).map(|c| {
                    (
                        c.default_region().base_url.clone(),
                        "catalog default".to_string(),
                    )
                })
            })
    });
    let (port, port_from, _) = paths::gateway_port(&v.env, v.config_port());
    json!({
        "view": v.label,
        "config": v.paths.config.display().to_string(),
        "config_from": v.paths.config_from.to_string(),
        "config_exists": v.config_exists,
        "state_dir": v.paths.state_dir.display().to_string(),
        "profile": v.paths.profile,
        "default_model": model.as_ref().map(|(m, _)| m.clone()),
        "provider": provider,
        "key": keys.as_ref().and_then(|k| k.winning()).map(|w| json!({
            "source": w.source, "evidence": w.evidence, "key": w.describe(),
        })),
        "key_copies": keys.as_ref().map(|k| k.copies.len()).unwrap_or(0),
        "endpoint": endpoint.as_ref().map(|(u, from)| json!({"base_url": u, "from": from})),
        "port": port,
        "port_from": port_from,
        "gateway_token": v.gateway_token().map(|(t, from)| json!({"token": mask::describe(&t), "from": from})),
        "shell_import": v.layered.shell_import,
    })
}

fn status(ctx: &Ctx, as_json: bool) -> Outcome {
    let (install, catalog) = read(ctx)?;
    let cli = view_json(&install.cli, &catalog);
    let svc = install.service.as_ref().map(|s| view_json(s, &catalog));
    if as_json {
        print_json(&json!({
            "target": "openclaw",
            "cli": cli,
            "service": svc,
            "services": install.services.iter().map(|s| json!({
                "manager": s.definition.manager.to_string(),
                "name": s.definition.name,
                "path": s.definition.path.display().to_string(),
                "role": s.role,
            })).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    let rows: [(&str, &str); 9] = [
        ("config", "config"),
        ("from", "config_from"),
        ("state dir", "state_dir"),
        ("default model", "default_model"),
        ("key", "key"),
        ("endpoint", "endpoint"),
        ("port", "port"),
        ("gateway token", "gateway_token"),
        ("view", "view"),
    ];
    let cell = |v: &Json, k: &str| -> String {
        match v.get(k) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Null) | None => "-".into(),
            Some(Json::Object(o)) if k == "key" => format!(
                "{} ({}, {})",
                o.get("key").and_then(Json::as_str).unwrap_or(""),
                o.get("source").and_then(Json::as_str).unwrap_or(""),
                o.get("evidence").and_then(Json::as_str).unwrap_or("")
            ),
            Some(Json::Object(o)) if k == "endpoint" => format!(
                "{} ({})",
                o.get("base_url").and_then(Json::as_str).unwrap_or(""),
                o.get("from").and_then(Json::as_str).unwrap_or("")
            ),
            Some(Json::Object(o)) => format!(
                "{} ({})",
                o.get("token").and_then(Json::as_str).unwrap_or(""),
                o.get("from").and_then(Json::as_str).unwrap_or("")
            ),
            Some(other) => other.to_string(),
        }
    };
    crate::outln!("OpenClaw install (read-only)");
    for (label, key) in rows {
        crate::outln!("{label:>14}  CLI:     {}", cell(&cli, key));
        match &svc {
            Some(s) => crate::outln!("{:>14}  service: {}", "", cell(s, key)),
            None if key == "config" => {
                crate::outln!("{:>14}  service: no OpenClaw service definition found", "")
            }
            None => {}
        }
    }
    for s in &install.services {
        crate::outln!(
            "service definition: {} {} ({}){}",
            s.definition.manager,
            s.definition.name,
            install.cli.show(&s.definition.path),
            if s.role == openclaw::service::Role::Legacy {
                " [legacy]"
            } else {
                ""
            }
        );
    }
    for e in &install.service_errors {
        crate::outln!("service definition error: {e}");
    }
    Ok(0)
}

/// The endpoint a view sends `provider`'s requests to: `models.providers.<id>`
/// `baseUrl` / `api` (after `${VAR}`), else the catalog's default region.
fn endpoint(v: &View, provider: &str, catalog: &Catalog) -> Option<(String, ApiStyle)> {
    let block = v.provider_block(provider).map(|(_, b)| b);
    let base = block
        .and_then(|b| b.get("baseUrl").and_then(Json::as_str))
        .map(|u| v.substitute(u).value)
        .or_else(|| {
            catalog
                .get(provider)
                .map(|c| c.default_region().base_url.clone())
        })
        .filter(|u| !u.trim().is_empty())?;
    let api = block
        .and_then(|b| b.get("api").cloned())
        .and_then(|a| serde_json::from_value::<ApiStyle>(a).ok())
        .or_else(|| catalog.get(provider).map(|c| c.api))
        .unwrap_or(ApiStyle::OpenaiCompletions);
    Some((base, api))
}

/// Probe `provider` with the key `v` would use; on a 401/403 try the catalog's other
/// regions (`diagnose_region`) and phrase the fix for an OpenClaw user.
fn probe_json(v: &View, provider: &str, catalog: &Catalog, timeout: u64) -> Json {
    let keys = v.keys(provider, catalog);
    let key = keys.winning().and_then(|w| w.value.clone());
    let needs_key = catalog.get(provider).is_none_or(|p| p.needs_key);
    if needs_key && key.is_none() {
        return json!({"view": v.label, "outcome": "no_key"});
    }
    let Some((base, api)) = endpoint(v, provider, catalog) else {
        return json!({"view": v.label, "outcome": "no_endpoint"});
    };
    let mut target = probe::ProbeTarget::new(provider, &base, api, key.as_deref());
    target.timeout = std::time::Duration::from_secs(timeout.max(1));
    let result = probe::probe(&target);
    let mut out = json!({
        "view": v.label,
        "outcome": result.outcome.as_str(),
        "status": result.status,
        "url": result.url,
        "detail": result.detail,
        "explain": result.outcome.explain(),
    });
    if result.outcome == probe::Outcome::Auth
        && let Some(p) = catalog.get(provider)
        && let Some(r) = probe::diagnose_region(p, &target)
    {
        let id = v
            .provider_block(provider)
            .map(|(id, _)| id.to_string())
            .unwrap_or_else(|| provider.to_string());
        out["region"] = json!({
            "message": r.message,
            "works_on": r.works_on.base_url,
            "rejected_by": r.rejected_by.base_url,
            "fix": format!(
                "openclaw config set models.providers.{id}.baseUrl {}   (or: openclaw onboard --auth-choice {})",
                r.works_on.base_url, r.works_on.auth_choice
            ),
        });
    }
    out
}

fn models_status(ctx: &Ctx, a: &crate::cli::models::status::ModelsStatusArgs) -> Outcome {
    let as_json = a.json;
    let probing = a.probe || a.probe_provider.is_some();
    let (install, catalog) = read(ctx)?;
    let views: Vec<&View> = std::iter::once(&install.cli)
        .chain(install.service.as_ref())
        .collect();
    let mut providers: Vec<String> = Vec::new();
    if let Some((m, _)) = install.cli.default_model()
        && let Some((p, _)) = m.split_once('/')
    {
        providers.push(openclaw::providers::normalize_provider_id(p));
    }
    if let Some(ps) = install
        .cli
        .config
        .as_ref()
        .and_then(|c| at(c, "models.providers"))
        .and_then(Json::as_object)
    {
        for k in ps.keys() {
            let n = openclaw::providers::normalize_provider_id(k);
            if !providers.contains(&n) {
                providers.push(n);
            }
        }
    }
    let mut out = Vec::new();
    for p in &providers {
        let per_view: Vec<Json> = views
            .iter()
            .map(|v| {
                let k = v.keys(p, &catalog);
                json!({
                    "view": v.label,
                    "winner": k.winning().map(|w| json!({"source": w.source, "evidence": w.evidence, "key": w.describe()})),
                    "copies": k.copies.iter().map(|c| json!({"source": c.source, "evidence": c.evidence, "key": c.describe()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut entry = json!({"provider": p, "views": per_view});
        let selected = a
            .probe_provider
            .as_deref()
            .is_none_or(|only| openclaw::providers::normalize_provider_id(only) == *p);
        if probing && selected {
            // The service's key by default (what the gateway sends), else the CLI's.
            let v = match (a.view, &install.service) {
                (Some(crate::cli::models::status::View::Cli), _) | (_, None) => &install.cli,
                (_, Some(s)) => s,
            };
            entry["probe"] = probe_json(v, p, &catalog, a.timeout);
        }
        out.push(entry);
    }
    let failed = out
        .iter()
        .filter_map(|e| e.get("probe"))
        .any(|p| p["outcome"] != "ok");
    let code = if failed { 1 } else { 0 };
    if as_json {
        print_json(&json!({"target": "openclaw", "providers": out}));
        return Ok(code);
    }
    for p in &out {
        crate::outln!("{}", p["provider"].as_str().unwrap_or(""));
        for v in p["views"].as_array().into_iter().flatten() {
            match v["winner"].as_object() {
                Some(w) => crate::outln!(
                    "  {}: {} ({}, {})",
                    v["view"].as_str().unwrap_or(""),
                    w["key"].as_str().unwrap_or(""),
                    w["source"].as_str().unwrap_or(""),
                    w["evidence"].as_str().unwrap_or("")
                ),
                None => crate::outln!("  {}: no key", v["view"].as_str().unwrap_or("")),
            }
        }
        if let Some(pr) = p.get("probe") {
            println!(
                "  probe: {} ({}) {} {}",
                pr["outcome"].as_str().unwrap_or(""),
                pr["view"].as_str().unwrap_or(""),
                pr["url"].as_str().unwrap_or(""),
                pr["detail"].as_str().unwrap_or("")
            );
            if let Some(r) = pr.get("region") {
                println!("  region: {}", r["message"].as_str().unwrap_or(""));
                println!("    fix: {}", r["fix"].as_str().unwrap_or(""));
            }
        }
    }
    Ok(code)
}

fn config_path(ctx: &Ctx, as_json: bool) -> Outcome {
    let (install, _) = read(ctx)?;
    let c = &install.cli;
    if as_json {
        print_json(&json!({
            "target": "openclaw",
            "config": c.paths.config.display().to_string(),
            "config_from": c.paths.config_from.to_string(),
            "exists": c.config_exists,
            "state_dir": c.paths.state_dir.display().to_string(),
            "state_dir_from": c.paths.state_dir_from.to_string(),
            "home": c.paths.home.display().to_string(),
            "files": c.config_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "service_config": install.service.as_ref().map(|s| s.paths.config.display().to_string()),
        }));
        return Ok(0);
    }
    crate::outln!("{}", c.paths.config.display());
    Ok(0)
}

/// Secret-bearing keys are masked wherever they sit.
fn masked(key: &str, v: &Json) -> Json {
    match v {
        Json::String(s) => {
            let k = key.to_ascii_lowercase();
            let secret_key = ["apikey", "token", "password", "secret", "key"]
                .iter()
                .any(|n| k.ends_with(n));
            if (secret_key || mask::shape(s).is_some()) && !s.contains("${") && !s.is_empty() {
                Json::String(mask::describe(s))
            } else {
                v.clone()
            }
        }
        Json::Object(o) => Json::Object(o.iter().map(|(k, v)| (k.clone(), masked(k, v))).collect()),
        Json::Array(a) => Json::Array(a.iter().map(|x| masked(key, x)).collect()),
        other => other.clone(),
    }
}

fn config_value(ctx: &Ctx) -> Result<(Install, Json), Failure> {
    let (install, _) = read(ctx)?;
    if let Some(e) = &install.cli.config_error {
        return Err(Failure::error(e.clone()));
    }
    let Some(cfg) = install.cli.config.clone() else {
        return Err(Failure::error(format!(
            "no OpenClaw config at {}",
            install.cli.paths.config.display()
        )));
    };
    Ok((install, masked("", &cfg)))
}

fn config_get(ctx: &Ctx, key: &str, show_origin: bool, as_json: bool) -> Outcome {
    let (install, cfg) = config_value(ctx)?;
    let Some(v) = at(&cfg, key) else {
        return Err(Failure::error(format!(
            "{key} is not set in {}",
            install.cli.paths.config.display()
        )));
    };
    let origin = format!("file {}", install.cli.locate(key));
    if as_json {
        print_json(&json!({"key": key, "value": v, "origin": origin}));
    } else if show_origin {
        crate::outln!("{origin}\t{}", plain(v));
    } else {
        crate::outln!("{}", plain(v));
    }
    Ok(0)
}

fn plain(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn config_list(ctx: &Ctx, show_origin: bool, as_json: bool) -> Outcome {
    let (install, cfg) = config_value(ctx)?;
    let mut rows = Vec::new();
    flatten(&cfg, String::new(), &mut rows);
    let origin = format!("file {}", install.cli.show(&install.cli.paths.config));
    if as_json {
        print_json(
            &json!({"origin": origin, "values": rows.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()}),
        );
        return Ok(0);
    }
    for (k, v) in rows {
        if show_origin {
            crate::outln!("file {}\t{k}={}", install.cli.locate(&k), plain(&v));
        } else {
            crate::outln!("{k}={}", plain(&v));
        }
    }
    Ok(0)
}

fn flatten(v: &Json, path: String, out: &mut Vec<(String, Json)>) {
    match v {
        Json::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(v, p, out);
            }
        }
        other => out.push((path, other.clone())),
    }
}

fn config_validate(ctx: &Ctx, service: bool, as_json: bool) -> Outcome {
    let (install, _) = read(ctx)?;
    let view = if service {
        install.service.as_ref().ok_or_else(|| {
            Failure::error("no OpenClaw service definition found (looked for ai.openclaw.gateway, openclaw-gateway.service, gateway.cmd)")
        })?
    } else {
        &install.cli
    };
    let problem = match (&view.config_error, view.config_exists) {
        (Some(e), _) => Some(e.clone()),
        (None, false) => Some(format!("{} does not exist", view.paths.config.display())),
        (None, true) => None,
    };
    if as_json {
        print_json(
            &json!({"ok": problem.is_none(), "view": view.label, "config": view.paths.config.display().to_string(), "error": problem}),
        );
    } else {
        match &problem {
            None => crate::outln!(
                "{}: valid JSON5 ({} file(s) read)",
                view.paths.config.display(),
                view.config_files.len()
            ),
            Some(e) => crate::outln!("error: {e}"),
        }
    }
    Ok(if problem.is_some() { 1 } else { 0 })
}
