//! `clawctl models status`: per provider, which key each view uses, where it comes
//! from, which endpoint it goes to, and — with `--probe` — whether the provider
//! accepts it, and if not, why.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::cli::output::print_json;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::config::load::Loaded;
use crate::config::model::{ApiStyle, split_model_ref};
use crate::providers::catalog::Catalog;
use crate::providers::probe::{self, ProbeTarget};
use crate::secrets::credentials::Resolved;
use crate::secrets::mask::SecretValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum View {
    Cli,
    Service,
}

#[derive(Debug, Args)]
pub struct ModelsStatusArgs {
    /// Send one cheap authenticated request per provider.
    #[arg(long)]
    pub probe: bool,
    /// Probe only this provider (implies --probe).
    #[arg(long, value_name = "ID")]
    pub probe_provider: Option<String>,
    /// Whose key to probe with: the service's (default, when a service is found) or the CLI's.
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// Exit 1 when the default model's provider has no usable key in the service view.
    #[arg(long)]
    pub check: bool,
    /// Probe timeout in seconds.
    #[arg(long, default_value_t = 8, value_name = "SECONDS")]
    pub timeout: u64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Do not wrap long lines to the terminal's width.
    #[arg(long)]
    pub wide: bool,
}

/// The endpoint a provider's requests go to in a view.
pub struct Endpoint {
    pub base_url: String,
    pub api: ApiStyle,
    pub region: Option<String>,
    pub headers: BTreeMap<String, String>,
}

/// `None` when the provider has no endpoint, or when one of its settings is invalid:
/// the catalog's URL is then not the one the view would use, and no key may go there.
pub fn endpoint(loaded: &Loaded, catalog: &Catalog, id: &str) -> Option<Endpoint> {
    if invalid_setting(loaded, id).is_some() {
        return None;
    }
    let cfg = loaded.config.models.providers.get(id);
    let entry = catalog.get(id);
    let base_url = cfg
        .and_then(|c| c.base_url.clone())
        .or_else(|| entry.map(|e| e.default_region().base_url.clone()))
        .filter(|u| !u.is_empty())?;
    let api = cfg
        .and_then(|c| c.api)
        .or(entry.map(|e| e.api))
        .unwrap_or(ApiStyle::OpenaiCompletions);
    let region = entry
        .and_then(|e| e.region_for_url(&base_url))
        .map(|r| r.name.clone());
    // credentials.toml is read only when a header refers to it (`doctor --fix` moves
    // literal secret headers there).
    let store = std::cell::OnceCell::new();
    let headers = cfg
        .map(|c| {
            c.headers
                .iter()
                .map(|(k, v)| {
                    use secrecy::ExposeSecret;
                    let v = match crate::secrets::mask::classify(v) {
                        SecretValue::EnvRef(name) => {
                            loaded.env.vars.get(name).cloned().unwrap_or_default()
                        }
                        SecretValue::CredRef(id) => store
                            .get_or_init(|| {
                                crate::secrets::credentials::Store::read(&loaded.paths.credentials)
                            })
                            .get(id)
                            .map(|c| c.secret.expose_secret().to_string())
                            .unwrap_or_default(),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Endpoint {
        base_url,
        api,
        region,
        headers,
    })
}

/// The invalid key among `models.providers.<id>`'s settings (or above them).
pub fn invalid_setting<'l>(loaded: &'l Loaded, id: &str) -> Option<&'l KeyPath> {
    let path = KeyPath::parse("models.providers")
        .expect("static key")
        .child(id);
    loaded.invalid_near(&path)
}

/// What a probe found, ready to print.
pub struct ProbeReport {
    pub ok: bool,
    pub summary: String,
    pub findings: Vec<String>,
    pub json: Value,
}

impl ProbeReport {
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }
}

pub fn probe_with(
    loaded: &Loaded,
    catalog: &Catalog,
    id: &str,
    keys: &Resolved,
    timeout: Duration,
) -> Option<ProbeReport> {
    if let Some(bad) = invalid_setting(loaded, id) {
        return Some(ProbeReport {
            ok: false,
            summary: format!(
                "not probed: `{bad}` is invalid, so where {id}'s requests go is unknown (clawctl config validate shows why)"
            ),
            findings: Vec::new(),
            json: json!({"provider": id, "outcome": "invalid-config", "key": bad.to_string()}),
        });
    }
    let Some(ep) = endpoint(loaded, catalog, id) else {
        return Some(ProbeReport {
            ok: false,
            summary: format!(
                "not probed: {id} has no endpoint (clawctl config set models.providers.{id}.base_url https://…)"
            ),
            findings: Vec::new(),
            json: json!({"provider": id, "outcome": "no-endpoint"}),
        });
    };
    let key = keys.secret();
    if keys.needs_key && key.is_none() {
        return Some(ProbeReport {
            ok: false,
            summary: format!("not probed: no {id} key in {}", loaded.env.origin),
            findings: Vec::new(),
            json: json!({"provider": id, "outcome": "no-key"}),
        });
    }
    let target = ProbeTarget {
        provider_id: id,
        base_url: &ep.base_url,
        api: ep.api,
        key,
        headers: &ep.headers,
        timeout,
    };
    let result = probe::probe(&target);
    let mut findings = Vec::new();
    let mut fj = Vec::new();
    if let Some(k) = key
        && let Some(s) = probe::shape_finding(catalog, id, k)
    {
        findings.push(match &s.fix {
            Some(f) => format!("{} — fix: {f}", s.message),
            None => s.message.clone(),
        });
        fj.push(json!({"kind": "key-shape", "message": s.message, "fix": s.fix}));
    }
    if result.outcome == probe::Outcome::Auth
        && let Some(p) = catalog.get(id)
        && let Some(r) = probe::diagnose_region(p, &target)
    {
        findings.push(format!(
            "{} — fix: {} (or {})",
            r.message, r.fix, r.onboard_fix
        ));
        fj.push(json!({"kind": "region", "message": r.message, "fix": r.fix, "onboard_fix": r.onboard_fix, "works_on": r.works_on.base_url}));
    }
    let mut summary = format!("{} {}", result.outcome.as_str(), result.url);
    if let Some(s) = result.status {
        summary.push_str(&format!(" → HTTP {s}"));
    }
    if !result.outcome.is_ok() {
        summary.push_str(&format!(": {}", result.outcome.explain()));
        if !result.detail.is_empty() {
            summary.push_str(&format!(" ({})", result.detail));
        }
    }
    summary.push_str(&format!(
        " [{} ms, key {}]",
        result.elapsed_ms,
        keys.winner()
            .map(|w| w.describe())
            .unwrap_or_else(|| "none".into())
    ));
    Some(ProbeReport {
        ok: result.outcome.is_ok(),
        summary,
        findings,
        json: json!({"provider": id, "outcome": result.outcome.as_str(), "result": result, "findings": fj, "key": keys.winner().map(|w| w.describe()), "view": loaded.env.origin}),
    })
}

/// Probe one provider with the key of the service view when there is one, else the CLI's.
pub fn probe_provider(views: &crate::views::Views, id: &str) -> Option<ProbeReport> {
    let view = views.service_or_cli();
    let keys = view.resolve(&views.catalog, id);
    probe_with(
        &view.loaded,
        &views.catalog,
        id,
        &keys,
        Duration::from_secs(8),
    )
}

/// Why requests for the default model cannot be routed in this view: a bare model id,
/// an unknown provider, a provider with no endpoint, or an invalid model setting.
/// `None` when they can (or when no default model is set).
pub fn route_problem(loaded: &Loaded, catalog: &Catalog) -> Option<String> {
    let model_key = KeyPath::parse("agents.defaults.model").expect("static key");
    if let Some(bad) = loaded.invalid_near(&model_key) {
        return Some(format!(
            "the default model cannot be used: `{bad}` is invalid (clawctl config validate shows why)"
        ));
    }
    let cfg = &loaded.config;
    let model = cfg.primary_model()?;
    let resolved = cfg.resolve_model(model);
    let Some((provider, _)) = split_model_ref(resolved) else {
        return Some(format!(
            "the default model \"{model}\" names no provider, so no request can be routed; write \"provider/model\" (clawctl config set agents.defaults.model.primary moonshot/kimi-k2.5) or define the alias in agents.defaults.models"
        ));
    };
    let configured = cfg.models.providers.contains_key(provider);
    if !configured && catalog.get(provider).is_none() {
        return Some(format!(
            "the default model \"{resolved}\" uses provider `{provider}`, which is neither in the catalog nor under models.providers (clawctl config validate shows the known ones)"
        ));
    }
    let id = if configured {
        provider
    } else {
        catalog.canonical(provider)
    };
    if endpoint(loaded, catalog, id).is_none() {
        return Some(format!(
            "the default model's provider `{id}` has no endpoint: clawctl config set models.providers.{id}.base_url https://…"
        ));
    }
    None
}

fn users_of(loaded: &Loaded, id: &str) -> Vec<String> {
    let cfg = &loaded.config;
    let mut out = Vec::new();
    let uses = |r: &str| split_model_ref(cfg.resolve_model(r)).is_some_and(|(p, _)| p == id);
    if let Some(p) = cfg.primary_model().filter(|p| uses(p)) {
        out.push(format!("default {}", cfg.resolve_model(p)));
    }
    for f in cfg.fallback_models().iter().filter(|f| uses(f)) {
        out.push(format!("fallback {}", cfg.resolve_model(f)));
    }
    out
}

type Row = (
    String,
    Resolved,
    Option<Resolved>,
    Option<Endpoint>,
    bool,
    Option<ProbeReport>,
);

pub fn run(ctx: &Ctx, args: ModelsStatusArgs) -> Outcome {
    let views = ctx.views(true)?;
    let catalog = &views.catalog;
    let cli = &views.cli.loaded;
    if !cli.is_valid() {
        crate::errln!("{}", cli.render_diagnostics());
    }
    let service = views.service.as_ref();
    let mut ids = views.providers();
    if let Some(p) = &args.probe_provider {
        let canon = if cli.config.models.providers.contains_key(p) {
            p.clone()
        } else {
            catalog.canonical(p).to_string()
        };
        if catalog.get(&canon).is_none() && !cli.config.models.providers.contains_key(&canon) {
            return Err(Failure::usage(format!("unknown provider `{p}`")));
        }
        if !ids.contains(&canon) {
            ids.push(canon);
        }
    }
    let do_probe = args.probe || args.probe_provider.is_some();
    let use_service = match (args.view, &service) {
        (Some(View::Cli), _) | (None, None) => false,
        (Some(View::Service), None) => {
            return Err(Failure::error(
                "--view service: no gateway service was found (clawctl status tells more)",
            ));
        }
        (_, Some(_)) => true,
    };
    let default_provider = cli
        .config
        .primary_model()
        .and_then(|m| split_model_ref(cli.config.resolve_model(m)).map(|(p, _)| p.to_string()));
    let route_view = service
        .as_ref()
        .filter(|_| use_service)
        .map(|s| &s.loaded)
        .unwrap_or(cli);
    let unroutable = route_problem(route_view, catalog);
    let mut rows: Vec<Row> = Vec::new();
    let mut check_failed = false;
    let mut jobs: Vec<ProbeJob> = Vec::new();
    let cli_arc = std::sync::Arc::new(cli.clone());
    let svc_arc = service.map(|s| std::sync::Arc::new(s.loaded.clone()));
    for id in &ids {
        let cli_keys = views.cli.resolve(catalog, id);
        let svc_keys = service.map(|s| s.resolve(catalog, id));
        let drift = match &svc_keys {
            Some(s) => {
                s.winner().map(|w| &w.fingerprint) != cli_keys.winner().map(|w| &w.fingerprint)
            }
            None => false,
        };
        let wanted = args
            .probe_provider
            .as_deref()
            .is_none_or(|p| p == id || catalog.canonical(p) == id);
        if do_probe && wanted {
            let (loaded, keys) = match (use_service, &svc_arc, &svc_keys) {
                (true, Some(s), Some(k)) => (s.clone(), k.clone()),
                _ => (cli_arc.clone(), cli_keys.clone()),
            };
            jobs.push(ProbeJob {
                index: rows.len(),
                id: id.clone(),
                loaded,
                keys,
            });
        }
        if default_provider.as_deref() == Some(id.as_str()) {
            let k = svc_keys.as_ref().unwrap_or(&cli_keys);
            check_failed |= k.needs_key && k.winner().is_none();
        }
        let ep = endpoint(
            service
                .filter(|_| use_service)
                .map(|s| &s.loaded)
                .unwrap_or(cli),
            catalog,
            id,
        );
        rows.push((id.clone(), cli_keys, svc_keys, ep, drift, None));
    }
    let width = crate::cli::style::width(&ctx.env, args.wide);
    // Human output: what needs no probe now, each probed provider as its answer arrives.
    let probed: Vec<usize> = jobs.iter().map(|j| j.index).collect();
    if !args.json {
        print_header(cli, service.map(|s| s.label()));
        for (i, row) in rows.iter().enumerate() {
            if !probed.contains(&i) {
                print_row(cli, row, width);
            }
        }
    }
    let timeout = Duration::from_secs(args.timeout);
    let spinner = (!jobs.is_empty()).then(|| {
        super::super::progress::Spinner::start(format!(
            "probing {}",
            jobs.iter()
                .map(|j| j.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    });
    let unanswered = probe_all(jobs, catalog, timeout, |i, report| {
        rows[i].5 = report;
        if !args.json {
            let print = || print_row(cli, &rows[i], width);
            match &spinner {
                Some(s) => s.suspend(print),
                None => print(),
            }
        }
    });
    drop(spinner);
    for (i, id) in unanswered {
        rows[i].5 = Some(no_answer(&id, timeout));
        if !args.json {
            print_row(cli, &rows[i], width);
        }
    }
    let any_probe_failed = rows.iter().any(|r| r.5.as_ref().is_some_and(|p| !p.ok));
    if args.json {
        let items: Vec<Value> = rows
            .iter()
            .map(|(id, c, s, ep, drift, p)| {
                json!({
                    "provider": id,
                    "base_url": ep.as_ref().map(|e| e.base_url.clone()),
                    "api": ep.as_ref().map(|e| e.api.as_str()),
                    "region": ep.as_ref().and_then(|e| e.region.clone()),
                    "used_by": users_of(cli, id),
                    "cli": c,
                    "service": s,
                    "drift": drift,
                    "probe": p.as_ref().map(ProbeReport::to_json),
                })
            })
            .collect();
        print_json(&json!({
            "default_model": cli.config.primary_model(),
            "fallbacks": cli.config.fallback_models(),
            "service_view": service.map(|s| s.label().to_string()),
            "running": views.running.as_ref().map(|r| json!({"pid": r.receipt.pid, "drift": r.drift})),
            "providers": items,
        }));
    } else {
        if let Some(e) = &views.cli.store.error {
            crate::errln!(
                "warning: credentials.toml cannot be read, so no stored key can be used: {e}"
            );
        }
        if let Some(r) = &views.running {
            for d in r.drift.iter().filter(|d| d.subject.ends_with(" key")) {
                crate::outln!("running gateway (pid {}): {}", r.receipt.pid, d.sentence());
            }
        }
    }
    if let Some(why) = &unroutable {
        crate::errln!("error: {why}");
    }
    let fail = (do_probe && any_probe_failed)
        || (args.check && check_failed)
        || ((do_probe || args.check) && unroutable.is_some());
    Ok(if fail { 1 } else { 0 })
}

fn print_header(cli: &Loaded, service: Option<&str>) {
    crate::outln!(
        "default model: {}",
        cli.config.primary_model().unwrap_or("(not set)")
    );
    if !cli.config.fallback_models().is_empty() {
        crate::outln!("fallbacks: {}", cli.config.fallback_models().join(", "));
    }
    match service {
        Some(s) => crate::outln!("service view: {s}"),
        None => crate::outln!("service view: no gateway service found (CLI view only)"),
    }
}

/// One provider's block, wrapped to `width` (None: as is).
fn print_row(cli: &Loaded, (id, c, s, ep, drift, p): &Row, width: Option<usize>) {
    use std::fmt::Write;
    let mut buf = String::new();
    let _ = writeln!(buf);
    let users = users_of(cli, id);
    let _ = writeln!(
        buf,
        "{id}{}",
        if users.is_empty() {
            String::new()
        } else {
            format!("  (used by: {})", users.join(", "))
        }
    );
    if let Some(e) = ep {
        let _ = writeln!(
            buf,
            "  endpoint: {} [{}]{}",
            e.base_url,
            e.api.as_str(),
            e.region
                .as_ref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
    }
    print_keys(&mut buf, "cli", c);
    if let Some(s) = s {
        print_keys(&mut buf, "service", s);
    }
    if *drift {
        let _ = writeln!(
            buf,
            "  ! the service would use a different key than this shell"
        );
    }
    if let Some(p) = p {
        let _ = writeln!(buf, "  probe: {}", p.summary);
        for f in &p.findings {
            let _ = writeln!(buf, "  ! {f}");
        }
    }
    for line in buf.lines() {
        crate::outln!("{}", crate::cli::style::wrap(line, width, 4));
    }
}

/// One provider to probe, with everything it needs owned (it runs on its own thread).
struct ProbeJob {
    /// Its row in the output.
    index: usize,
    id: String,
    loaded: std::sync::Arc<Loaded>,
    keys: Resolved,
}

/// At most this many probes at once: a handful of providers all answer within one
/// timeout, and a config with hundreds does not open hundreds of connections.
const PROBE_WORKERS: usize = 8;

/// Run the probes concurrently (bounded by [`PROBE_WORKERS`]); `arrived(row, report)`
/// is called on this thread as each answer comes in (None: nothing to probe). The whole run ends by `timeout`
/// (plus a moment to collect): what has not answered by then is returned, with its
/// provider id, and its thread is left to end on its own request timeout.
fn probe_all(
    jobs: Vec<ProbeJob>,
    catalog: &Catalog,
    timeout: Duration,
    mut arrived: impl FnMut(usize, Option<ProbeReport>),
) -> Vec<(usize, String)> {
    use std::sync::{Arc, Mutex, mpsc};
    let deadline = std::time::Instant::now() + timeout + Duration::from_millis(500);
    let mut pending: Vec<(usize, String)> = jobs.iter().map(|j| (j.index, j.id.clone())).collect();
    let workers = PROBE_WORKERS.min(jobs.len());
    let queue = Arc::new(Mutex::new(std::collections::VecDeque::from(jobs)));
    let catalog = Arc::new(catalog.clone());
    let (tx, rx) = mpsc::channel::<(usize, Option<ProbeReport>)>();
    for _ in 0..workers {
        let (queue, catalog, tx) = (queue.clone(), catalog.clone(), tx.clone());
        std::thread::spawn(move || {
            loop {
                let Some(job) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    break;
                };
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                let r = probe_with(&job.loaded, &catalog, &job.id, &job.keys, timeout.min(left));
                if tx.send((job.index, r)).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, report)) => {
                pending.retain(|(p, _)| *p != i);
                arrived(i, report);
            }
            Err(_) => break,
        }
    }
    pending
}

/// The report of a probe that did not answer within the command's `--timeout`, in the
/// shape of every other probe report.
fn no_answer(id: &str, timeout: Duration) -> ProbeReport {
    let detail = format!("no answer within --timeout {} s", timeout.as_secs());
    ProbeReport {
        ok: false,
        summary: format!("timeout: {detail}"),
        findings: Vec::new(),
        json: json!({"provider": id, "outcome": "timeout", "result": {"outcome": "timeout", "status": null, "url": null, "elapsed_ms": timeout.as_millis() as u64, "detail": detail}, "findings": [], "key": null, "view": null}),
    }
}

fn print_keys(buf: &mut String, view: &str, r: &Resolved) {
    use std::fmt::Write;
    match r.winner() {
        Some(w) => {
            let _ = writeln!(buf, "  {view} key: {} from {}", w.describe(), w.location);
        }
        None if !r.needs_key => {
            let _ = writeln!(buf, "  {view} key: none needed");
        }
        None => {
            let why = r
                .sources
                .iter()
                .find_map(|s| s.problem.clone())
                .unwrap_or_else(|| "no key found".into());
            let _ = writeln!(buf, "  {view} key: MISSING — {why}");
        }
    }
    for s in r.sources.iter().filter(|s| !s.wins) {
        if !s.usable() {
            let _ = writeln!(
                buf,
                "    also tried: {} — {}",
                s.location,
                s.problem.as_deref().unwrap_or("missing")
            );
            continue;
        }
        let _ = writeln!(
            buf,
            "    also: {} from {}{}",
            s.describe(),
            s.location,
            if s.fingerprint.is_some()
                && s.fingerprint != r.winner().and_then(|w| w.fingerprint.clone())
            {
                " (differs)"
            } else {
                ""
            }
        );
    }
}
