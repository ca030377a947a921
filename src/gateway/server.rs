//! The HTTP side and the signal loop of `clawctl gateway run`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::load::LoadOptions;
use crate::config::model::GatewayAuthMode;
use crate::env::Environment;

use super::state::{GatewayState, prepare, token_matches};

/// EX_CONFIG from sysexits.h: systemd's `RestartPreventExitStatus=78` stops a
/// restart loop on a config that cannot work.
pub const EXIT_CONFIG: i32 = 78;

pub struct RunOptions {
    pub load: LoadOptions,
}

fn log(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(
        e,
        "{} clawctl-gateway: {msg}",
        humantime::format_rfc3339_seconds(SystemTime::now())
    );
}

fn bind(listen: &str) -> Result<tiny_http::Server, String> {
    tiny_http::Server::http(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))
}

/// Run until SIGTERM/SIGINT. Returns the process exit code.
pub fn run(env: &Environment, opts: RunOptions) -> i32 {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut state = match prepare(env, &opts.load, started) {
        Ok(s) => s,
        Err(diag) => {
            eprintln!("{diag}");
            log("the config is invalid; not starting (exit 78)");
            return EXIT_CONFIG;
        }
    };
    let hup = Arc::new(AtomicBool::new(false));
    let term = Arc::new(AtomicBool::new(false));
    for (sig, flag) in [
        (signal_hook::consts::SIGHUP, &hup),
        (signal_hook::consts::SIGTERM, &term),
        (signal_hook::consts::SIGINT, &term),
    ] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(flag)) {
            log(&format!("cannot install a signal handler: {e}"));
            return 1;
        }
    }
    let mut server = match bind(&state.listen) {
        Ok(s) => s,
        Err(e) => {
            log(&e);
            return 1;
        }
    };
    let receipt_path = state.loaded.paths.receipt();
    if let Err(e) = state.receipt.write(&receipt_path) {
        log(&format!("cannot write the receipt: {e}"));
    }
    if state.auth_mode == GatewayAuthMode::Token && state.token.is_none() {
        log(
            "gateway.auth.mode is token but no token is configured: every /v1/status request will get 401",
        );
    }
    log(&format!(
        "listening on http://{} (config {}, pid {})",
        state.listen,
        state.loaded.paths.config.display(),
        std::process::id()
    ));
    while !term.load(Ordering::Relaxed) {
        if hup.swap(false, Ordering::Relaxed) {
            reload(env, &opts, started, &mut state, &mut server);
        }
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(req)) => handle(&state, req),
            Ok(None) => {}
            Err(e) => log(&format!("accept failed: {e}")),
        }
    }
    // Remove the receipt only if it is still ours.
    if crate::gateway::receipt::Receipt::read(&receipt_path)
        .is_ok_and(|r| r.pid == std::process::id())
    {
        let _ = std::fs::remove_file(&receipt_path);
    }
    log("stopped");
    0
}

fn reload(
    env: &Environment,
    opts: &RunOptions,
    started: u64,
    state: &mut GatewayState,
    server: &mut tiny_http::Server,
) {
    match prepare(env, &opts.load, started) {
        Err(diag) => {
            eprintln!("{diag}");
            log("reload refused: the new config is invalid; still serving the previous one");
        }
        Ok(new) => {
            if new.listen != state.listen {
                match bind(&new.listen) {
                    Ok(s) => *server = s,
                    Err(e) => {
                        log(&format!(
                            "reload refused: {e}; still serving the previous config"
                        ));
                        return;
                    }
                }
            }
            *state = new;
            if let Err(e) = state.receipt.write(&state.loaded.paths.receipt()) {
                log(&format!("cannot write the receipt: {e}"));
            }
            log(&format!("reloaded {}", state.loaded.paths.config.display()));
        }
    }
}

fn json_response(
    status: u16,
    body: &serde_json::Value,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
        .expect("static header");
    tiny_http::Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(header)
}

fn handle(state: &GatewayState, req: tiny_http::Request) {
    let path = req.url().split('?').next().unwrap_or("").to_string();
    let resp = match (req.method(), path.as_str()) {
        (tiny_http::Method::Get, "/healthz") => {
            json_response(200, &serde_json::json!({"status": "ok"}))
        }
        (tiny_http::Method::Get, "/v1/status") => {
            if authorized(state, &req) {
                json_response(
                    200,
                    &serde_json::to_value(&state.receipt).unwrap_or_default(),
                )
            } else {
                json_response(
                    401,
                    &serde_json::json!({"error": {"message": "invalid or missing gateway token", "type": "unauthorized"}}),
                )
            }
        }
        _ => json_response(404, &serde_json::json!({"error": {"message": "not found"}})),
    };
    let _ = req.respond(resp);
}

fn authorized(state: &GatewayState, req: &tiny_http::Request) -> bool {
    match state.auth_mode {
        GatewayAuthMode::None => true,
        // Password login belongs to the dashboard; the status API takes the token.
        GatewayAuthMode::Token | GatewayAuthMode::Password => {
            let given = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .and_then(|h| h.value.as_str().strip_prefix("Bearer ").map(str::to_string));
            match (&state.token, given) {
                (Some(t), Some(g)) => token_matches(t, g.trim()),
                _ => false,
            }
        }
    }
}
