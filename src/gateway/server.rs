//! The listener, the connections and the signals of `clawctl gateway run`.
//!
//! The tokio runtime is built here and nowhere else, so no other command pays for
//! it. One task per connection (hyper's HTTP/1 server with axum's router), with:
//! - a head limit (`gateway.limits.max_header_bytes`: larger heads get 431) and a
//!   deadline for each request head (`gateway.timeouts.client_read_ms`), which
//!   also closes idle keep-alive connections;
//! - a connection cap that fits the open-file limit: past it, clients wait in the
//!   listen queue instead of costing descriptors;
//! - accept errors (EMFILE, ECONNABORTED, …) logged and retried after a pause —
//!   they never end the listener;
//! - SIGHUP: the config is loaded and checked on a blocking thread; if valid, new
//!   requests use it while requests and streams in flight finish on the old one; if
//!   not, the old one keeps serving;
//! - SIGTERM/SIGINT: stop accepting, let requests in flight finish for up to
//!   `gateway.timeouts.drain_ms`, then exit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::config::load::LoadOptions;
use crate::config::model::GatewayAuthMode;
use crate::env::Environment;

use super::failures::{self, FailureLog};
use super::log;
use super::routes::{self, App, Served};
use super::state::{GatewayState, prepare};

/// EX_CONFIG from sysexits.h: systemd's `RestartPreventExitStatus=78` stops a
/// restart loop on a config that cannot work.
pub const EXIT_CONFIG: i32 = 78;

/// Descriptors kept back from the connection cap for provider connections, the
/// log, the receipt and the config files.
const RESERVED_FDS: usize = 64;

/// The kernel's queue of connections not yet accepted.
const LISTEN_BACKLOG: u32 = 1024;

pub struct RunOptions {
    pub load: LoadOptions,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Raise the soft open-file limit to the hard one (as Go's runtime and nginx's
/// `worker_rlimit_nofile` do), and return the soft limit now in force.
fn raise_nofile() -> usize {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 1024;
        }
        // macOS refuses a soft limit above OPEN_MAX even when the hard one is
        // unlimited; a million is plenty anywhere.
        let want = rl.rlim_max.min(1 << 20);
        if want > rl.rlim_cur {
            let new = libc::rlimit {
                rlim_cur: want,
                rlim_max: rl.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &new) == 0 {
                rl.rlim_cur = want;
            }
        }
    }
    usize::try_from(rl.rlim_cur).unwrap_or(usize::MAX)
}

/// Client connections allowed at once: the configured cap, lowered so that each
/// client connection can still get a provider connection within the descriptor
/// limit.
fn connection_cap(configured: usize, nofile: usize) -> usize {
    let fit = nofile.saturating_sub(RESERVED_FDS) / 2;
    configured.min(fit).max(1)
}

fn bind(listen: &str) -> Result<std::net::TcpListener, String> {
    let fail = |e: std::io::Error| format!("cannot listen on {listen}: {e}");
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => {
            let l = std::net::TcpListener::bind(listen).map_err(fail)?;
            l.set_nonblocking(true).map_err(fail)?;
            return Ok(l);
        }
    };
    let sock = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(fail)?;
    sock.set_reuseaddr(true).map_err(fail)?;
    sock.bind(addr).map_err(fail)?;
    // `listen` needs a runtime only for registering; turn it back into a std
    // listener so binding works before the runtime exists.
    let fd = {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let raw = sock.into_raw_fd();
        // SAFETY: `raw` is the socket we own and just released from `sock`.
        let l = unsafe { std::net::TcpListener::from_raw_fd(raw) };
        // SAFETY: listen(2) on a bound socket we own.
        if unsafe { libc::listen(raw, LISTEN_BACKLOG as i32) } != 0 {
            return Err(fail(std::io::Error::last_os_error()));
        }
        l
    };
    fd.set_nonblocking(true).map_err(fail)?;
    Ok(fd)
}

/// Run until SIGTERM/SIGINT. Returns the process exit code.
pub fn run(env: &Environment, opts: RunOptions) -> i32 {
    // Key sources read "MOONSHOT_API_KEY in the gateway's environment", not "in
    // this shell": what the gateway reports is about its own process.
    let mut env = env.clone();
    env.origin = format!("the gateway's environment (pid {})", std::process::id());
    let env = &env;
    let started = unix_now();
    let state = match prepare(env, &opts.load, started) {
        Ok(s) => s,
        Err(diag) => {
            crate::errln!("{diag}");
            log::msg("error", "the config is invalid; not starting (exit 78)");
            return EXIT_CONFIG;
        }
    };
    log::init_file(log::file_path(&state.loaded.paths.home));
    let nofile = raise_nofile();
    let listener = match bind(&state.listen) {
        Ok(l) => l,
        Err(e) => {
            log::msg("error", &e);
            return 1;
        }
    };
    let receipt_path = state.loaded.paths.receipt();
    if let Err(e) = state.receipt.write(&receipt_path) {
        log::msg("error", &format!("cannot write the receipt: {e}"));
    }
    if state.auth_mode == GatewayAuthMode::Token && state.token.is_none() {
        log::msg(
            "warn",
            "gateway.auth.mode is token but no token is configured: every /v1 request will get 401",
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("clawctl-gateway")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log::msg("error", &format!("cannot start the runtime: {e}"));
            return 1;
        }
    };
    let code = runtime.block_on(serve(env.clone(), opts, started, state, listener, nofile));
    // A reload still rendering diagnostics on a blocking thread must not hold
    // the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    // Remove the receipt only if it is still ours.
    if crate::gateway::receipt::Receipt::read(&receipt_path)
        .is_ok_and(|r| r.pid == std::process::id())
    {
        let _ = std::fs::remove_file(&receipt_path);
    }
    log::msg("info", "stopped");
    code
}

async fn serve(
    env: Environment,
    opts: RunOptions,
    started: u64,
    state: GatewayState,
    listener: std::net::TcpListener,
    nofile: usize,
) -> i32 {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::msg("error", &format!("cannot listen: {e}"));
            return 1;
        }
    };
    let cap = connection_cap(state.limits.max_connections, nofile);
    let failures_path = failures::file_path(&state.loaded.paths.receipt());
    log::line(
        "info",
        "listening",
        &[
            ("url", &format!("http://{}", state.listen)),
            ("config", &state.loaded.paths.config.display().to_string()),
            ("pid", &std::process::id().to_string()),
            ("max_connections", &cap.to_string()),
            ("nofile", &nofile.to_string()),
        ],
    );
    let served = match Served::new(state) {
        Ok(s) => s,
        Err(e) => {
            log::msg("error", &e);
            return 1;
        }
    };
    let app = Arc::new(App::new(served, FailureLog::new(failures_path)));
    let router = routes::router(Arc::clone(&app));
    let conns = Arc::new(Semaphore::new(cap));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (drain_tx, drain_rx) = watch::channel(false);
    let (relisten_tx, relisten_rx) = mpsc::unbounded_channel::<std::net::TcpListener>();

    let acceptor = tokio::spawn(accept_loop(
        listener,
        Arc::clone(&conns),
        Arc::clone(&app),
        router,
        stop_rx,
        drain_rx,
        relisten_rx,
    ));

    let signal = |k| tokio::signal::unix::signal(k);
    use tokio::signal::unix::SignalKind;
    let (mut hup, mut term, mut int) = match (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(h), Ok(t), Ok(i)) => (h, t, i),
        _ => {
            log::msg("error", "cannot install the signal handlers");
            return 1;
        }
    };
    let env = Arc::new(env);
    let opts = Arc::new(opts);
    let reloading = Arc::new(tokio::sync::Mutex::new(()));
    // A fleet: publish this member (in the background: etcd may be down) and follow
    // the layer. No fleet: nothing starts.
    let mut fleet = {
        let cur = app.current();
        if let Some(f) = &cur.state.loaded.fleet {
            log::line("info", "fleet", &[("layer", &f.summary())]);
        }
        let port = cur
            .state
            .listen
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        crate::fleet::Follower::start(&cur.state.loaded, &cur.state.receipt, port)
    };
    let reporter = fleet.as_ref().map(|f| f.reporter());
    loop {
        tokio::select! {
            _ = hup.recv() => {
                let (env, opts, app, relisten, lock, reporter) = (
                    Arc::clone(&env), Arc::clone(&opts), Arc::clone(&app), relisten_tx.clone(), Arc::clone(&reloading), reporter.clone(),
                );
                // Off the serving path, one reload at a time.
                tokio::spawn(async move {
                    let _one = lock.lock().await;
                    let _ = tokio::task::spawn_blocking(move || {
                        let result = reload(&env, &opts, started, &app, &relisten, None);
                        report(reporter.as_ref(), &app, result, None);
                    })
                    .await;
                });
            }
            Some(layer) = crate::fleet::follow::next_layer(&mut fleet) => {
                // A new fleet revision: validated with this gateway's own layers, then
                // applied like a SIGHUP reload — or refused, and reported as refused.
                let (env, opts, app, relisten, lock, reporter) = (
                    Arc::clone(&env), Arc::clone(&opts), Arc::clone(&app), relisten_tx.clone(), Arc::clone(&reloading), reporter.clone(),
                );
                tokio::spawn(async move {
                    let _one = lock.lock().await;
                    let _ = tokio::task::spawn_blocking(move || {
                        let revision = layer.revision;
                        let result = reload(&env, &opts, started, &app, &relisten, Some(layer));
                        report(reporter.as_ref(), &app, result, Some(revision));
                    })
                    .await;
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    // Leave the fleet first (the lease is revoked: the record goes at once).
    if let Some(f) = fleet.take() {
        f.shutdown().await;
    }
    // Stop accepting (the listener closes), then drain.
    let _ = stop_tx.send(true);
    let _ = acceptor.await;
    let drain = app.current().state.limits.drain;
    log::line(
        "info",
        "draining",
        &[
            ("in_flight", &(cap - conns.available_permits()).to_string()),
            ("bound_ms", &drain.as_millis().to_string()),
        ],
    );
    let _ = drain_tx.send(true);
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    match tokio::time::timeout(drain, conns.acquire_many(all)).await {
        Ok(_) => {}
        Err(_) => log::line(
            "warn",
            "drain-timeout",
            &[("still_open", &(cap - conns.available_permits()).to_string())],
        ),
    }
    0
}

async fn accept_loop(
    mut listener: TcpListener,
    conns: Arc<Semaphore>,
    app: Arc<App>,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
    drain: watch::Receiver<bool>,
    mut relisten: mpsc::UnboundedReceiver<std::net::TcpListener>,
) {
    let mut last_error_log: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&conns).acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let sock = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE/ENFILE/ENOMEM pass when connections close; ECONNABORTED
                    // is one client's problem. Log at most once a second, pause a
                    // little so a full descriptor table does not spin, carry on.
                    if last_error_log.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                        log::line("error", "accept-failed", &[("error", &e.to_string())]);
                        last_error_log = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            new = relisten.recv() => {
                if let Some(l) = new.and_then(|l| TcpListener::from_std(l).ok()) {
                    listener = l;
                }
                continue;
            }
            _ = stop.changed() => return,
        };
        tokio::spawn(connection(
            sock,
            permit,
            Arc::clone(&app),
            router.clone(),
            drain.clone(),
        ));
    }
}

async fn connection(
    sock: TcpStream,
    _permit: OwnedSemaphorePermit,
    app: Arc<App>,
    router: axum::Router,
    mut drain: watch::Receiver<bool>,
) {
    let _ = sock.set_nodelay(true);
    let limits = app.current().state.limits;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.client_read)
        // hyper refuses buffers under 8 KiB; the schema's minimum says the same.
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(sock), TowerToHyperService::new(router));
    tokio::pin!(conn);
    if *drain.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = drain.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
}

/// Load, check and swap in the config (on a blocking thread).
/// What a member reports after a reload: what it now runs, or the fleet revision it
/// refused and why.
fn report(
    reporter: Option<&crate::fleet::follow::Reporter>,
    app: &App,
    result: Result<(), String>,
    fleet_revision: Option<i64>,
) {
    let Some(r) = reporter else { return };
    match (result, fleet_revision) {
        (Ok(()), _) => {
            let cur = app.current();
            r.loaded(&cur.state.loaded, &cur.state.receipt);
        }
        (Err(e), Some(rev)) => {
            let errors: Vec<String> = e
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("error"))
                .take(5)
                .map(str::to_string)
                .collect();
            r.refused(rev, if errors.is_empty() { vec![e] } else { errors });
        }
        (Err(_), None) => {}
    }
}

/// Load, check and swap in the config (SIGHUP), or the config with a new fleet layer
/// (`fleet_layer`: handed over by the watch). `Err`: refused, still serving the old one.
fn reload(
    env: &Environment,
    opts: &RunOptions,
    started: u64,
    app: &App,
    relisten: &mpsc::UnboundedSender<std::net::TcpListener>,
    fleet_layer: Option<Arc<crate::fleet::FleetLayer>>,
) -> Result<(), String> {
    let old_listen = app.current().state.listen.clone();
    let what = match &fleet_layer {
        Some(l) => format!("fleet `{}` @rev {}", l.target.name, l.revision),
        None => "the config".to_string(),
    };
    let load_opts = match fleet_layer {
        Some(l) => LoadOptions {
            fleet_layer: Some(l),
            ..opts.load.clone()
        },
        None => opts.load.clone(),
    };
    let new = match prepare(env, &load_opts, started) {
        Err(diag) => {
            crate::errln!("{diag}");
            log::msg(
                "error",
                &format!(
                    "reload refused: {what} makes the config invalid; still serving the previous one"
                ),
            );
            return Err(diag);
        }
        Ok(n) => n,
    };
    if new.listen != old_listen {
        match bind(&new.listen) {
            Ok(l) => {
                let _ = relisten.send(l);
            }
            Err(e) => {
                log::msg(
                    "error",
                    &format!("reload refused: {e}; still serving the previous config"),
                );
                return Err(format!("error: {e}"));
            }
        }
    }
    if let Err(e) = new.receipt.write(&new.loaded.paths.receipt()) {
        log::msg("error", &format!("cannot write the receipt: {e}"));
    }
    let config = new.loaded.paths.config.display().to_string();
    match Served::new(new) {
        Ok(s) => {
            app.replace(s);
            log::line("info", "reloaded", &[("config", &config), ("what", &what)]);
            Ok(())
        }
        Err(e) => {
            log::msg("error", &format!("reload refused: {e}"));
            Err(format!("error: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_descriptor_limit() {
        assert_eq!(connection_cap(4096, 1024), 480);
        assert_eq!(connection_cap(100, 1 << 20), 100);
        assert_eq!(connection_cap(4096, 10), 1);
    }
}
