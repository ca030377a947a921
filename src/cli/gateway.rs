//! `clawctl gateway run|status|restart`.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::config::load::{LoadOptions, load};
use crate::gateway::receipt::Receipt;

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Run the gateway in the foreground (what the service manager starts).
    #[command(
        after_help = "Exit codes:\n  0    stopped cleanly (SIGTERM, SIGINT)\n  1    could not start (port in use, unreadable files)\n  78   invalid config (EX_CONFIG): the unit's RestartPreventExitStatus=78 keeps systemd from restarting it"
    )]
    Run,
    /// Is it up, which config does it serve, and does the CLI's token work?
    Status(StatusArgs),
    /// Validate the config as the service will load it, then restart it.
    Restart(RestartArgs),
    /// The gateway's log: one line per request and per provider failure.
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing lines as the gateway writes them.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// One JSON object per line (`time`, `level`, `event` and the line's fields).
    #[arg(long)]
    pub json: bool,
    /// How many of the last lines to print first.
    #[arg(long, short = 'n', default_value_t = 100)]
    pub lines: usize,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for the gateway to come back.
    #[arg(long, default_value_t = 10)]
    pub wait: u64,
    /// Machine-readable output: {restarted, method, config, config_sha256, up, pid,
    /// listen, error}, the same fields whether it worked or not.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, cmd: GatewayCommand) -> Outcome {
    match cmd {
        GatewayCommand::Run => Ok(crate::gateway::run(
            &ctx.env,
            crate::gateway::RunOptions {
                load: ctx.opts.clone(),
            },
        )),
        GatewayCommand::Status(a) => status(ctx, a),
        GatewayCommand::Restart(a) => restart(ctx, a),
        GatewayCommand::Logs(a) => logs(ctx, a),
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build()
}

pub fn healthz(listen: &str) -> bool {
    let url = format!("http://{}/healthz", connect_host(listen));
    agent(Duration::from_secs(2)).get(&url).call().is_ok()
}

/// A listen address as a client connects to it (0.0.0.0 → 127.0.0.1).
fn connect_host(listen: &str) -> String {
    listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]")
}

/// GET /v1/status with a token: Ok(status code).
pub fn status_with_token(listen: &str, token: Option<&str>) -> Result<u16, String> {
    let url = format!("http://{}/v1/status", connect_host(listen));
    let mut req = agent(Duration::from_secs(3)).get(&url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(code, _)) => Ok(code),
        Err(e) => Err(crate::providers::probe::scrub(
            &e.to_string(),
            &token.into_iter().collect::<Vec<_>>(),
        )),
    }
}

struct Finding {
    ok: bool,
    text: String,
    fix: Option<String>,
}

fn status(ctx: &Ctx, args: StatusArgs) -> Outcome {
    let views = ctx.views(false)?;
    let cli = &views.cli.loaded;
    // The receipt where the service writes it (its home), else where the CLI looks.
    let receipt_path = views.service_or_cli().loaded.paths.receipt();
    let receipt = Receipt::read(&receipt_path);
    let mut findings: Vec<Finding> = Vec::new();
    let Ok(receipt) = receipt else {
        let msg = format!(
            "no gateway is running: no receipt at {}",
            ctx.env.display_path(&receipt_path)
        );
        let fix = "clawctl gateway run   (or install the service: clawctl service install)";
        if args.json {
            // The same fields as when a gateway runs: scripts need no second shape.
            print_json(&json!({
                "running": false,
                "reachable": false,
                "receipt": null,
                "receipt_path": receipt_path,
                "config_current": null,
                "same_config_as_cli": null,
                "token": null,
                "findings": [{"ok": false, "message": msg, "fix": fix}],
            }));
        } else {
            crate::outln!("{msg}");
            crate::outln!("  start it: {fix}");
        }
        return Ok(1);
    };
    let alive = receipt.pid_alive();
    findings.push(Finding {
        ok: alive,
        text: format!(
            "pid {} {}",
            receipt.pid,
            if alive {
                "is alive"
            } else {
                "is gone (stale receipt)"
            }
        ),
        fix: (!alive).then(|| "clawctl gateway run".to_string()),
    });
    let reachable = alive && healthz(&receipt.listen);
    findings.push(Finding {
        ok: reachable,
        text: format!(
            "http://{} {}",
            receipt.listen,
            if reachable {
                "answers /healthz"
            } else {
                "does not answer"
            }
        ),
        fix: None,
    });
    let same_file = receipt.config_path == cli.paths.config;
    findings.push(Finding {
        ok: same_file,
        text: if same_file {
            format!("serves {}", ctx.env.display_path(&receipt.config_path))
        } else {
            format!(
                "serves {} but this shell uses {}",
                ctx.env.display_path(&receipt.config_path),
                ctx.env.display_path(&cli.paths.config)
            )
        },
        fix: (!same_file)
            .then(|| "clawctl service install --force && clawctl gateway restart".into()),
    });
    let current_hash = crate::config::load::read_text_file(&receipt.config_path, "config")
        .ok()
        .flatten()
        .map(|t| crate::config::load::sha256_hex(t.as_bytes()));
    let fresh = current_hash == receipt.config_sha256;
    findings.push(Finding {
        ok: fresh,
        text: if fresh {
            "the running config equals the file on disk".into()
        } else {
            "the config file changed since the gateway loaded it: restart needed".into()
        },
        fix: (!fresh).then(|| "clawctl gateway restart".into()),
    });
    let cli_token = views.cli.gateway_token();
    let mut token_json = json!(null);
    if reachable {
        match status_with_token(&receipt.listen, cli_token.secret()) {
            Ok(200) => findings.push(Finding {
                ok: true,
                text: "the CLI's token is accepted".into(),
                fix: None,
            }),
            Ok(401) => {
                let cli_desc = cli_token
                    .winner()
                    .map(|w| format!("{} from {}", w.describe(), w.location))
                    .unwrap_or_else(|| "none".into());
                let svc_desc = receipt
                    .gateway_token
                    .as_ref()
                    .map(|k| {
                        format!(
                            "{}… ({}, {} chars) from {}",
                            k.shape.clone().unwrap_or_default(),
                            k.fingerprint.clone().unwrap_or_default(),
                            k.length.unwrap_or(0),
                            k.source
                        )
                    })
                    .unwrap_or_else(|| "none".into());
                token_json = json!({"cli": cli_desc, "service": svc_desc});
                let text = match (cli_token.winner(), &receipt.gateway_token) {
                    (None, None) => "HTTP 401: gateway.auth.mode is token but neither this shell nor the gateway has a token".to_string(),
                    (None, Some(_)) => format!("HTTP 401: this shell has no gateway token; the gateway expects {svc_desc}"),
                    _ => format!("token mismatch (HTTP 401): the CLI sends {cli_desc}; the gateway expects {svc_desc}"),
                };
                findings.push(Finding {
                    ok: false,
                    text,
                    fix: Some(if same_file {
                        "make both read one token: `clawctl config set gateway.auth.token --stdin` then `clawctl gateway restart`".into()
                    } else {
                        "clawctl service install --force && clawctl gateway restart (so the service reads this shell's files)".into()
                    }),
                });
            }
            Ok(code) => findings.push(Finding {
                ok: false,
                text: format!("/v1/status answered HTTP {code}"),
                fix: None,
            }),
            Err(e) => findings.push(Finding {
                ok: false,
                text: format!("/v1/status failed: {e}"),
                fix: None,
            }),
        }
    }
    let ok = findings.iter().all(|f| f.ok);
    if args.json {
        print_json(&json!({
            "running": alive,
            "reachable": reachable,
            "receipt": receipt,
            "receipt_path": receipt_path,
            "config_current": fresh,
            "same_config_as_cli": same_file,
            "token": token_json,
            "findings": findings.iter().map(|f| json!({"ok": f.ok, "message": f.text, "fix": f.fix})).collect::<Vec<_>>(),
        }));
    } else {
        crate::outln!(
            "gateway: pid {}, http://{}, clawctl {}",
            receipt.pid,
            receipt.listen,
            receipt.version
        );
        for f in &findings {
            crate::outln!("  {} {}", if f.ok { "ok " } else { "!! " }, f.text);
            if let Some(fix) = &f.fix {
                crate::outln!("       fix: {fix}");
            }
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// What `gateway restart` did, printed as text or (`--json`) as one object.
#[derive(Default)]
struct Restarted {
    method: Option<String>,
    config: Option<std::path::PathBuf>,
    config_sha256: Option<String>,
    up: bool,
    pid: Option<u32>,
    listen: Option<String>,
}

pub(crate) fn restart(ctx: &Ctx, args: RestartArgs) -> Outcome {
    let mut done = Restarted::default();
    let result = restart_inner(ctx, &args, &mut done);
    if args.json {
        print_json(&json!({
            "restarted": done.method.is_some(),
            "method": done.method,
            "config": done.config,
            "config_sha256": done.config_sha256,
            "up": done.up,
            "pid": done.pid,
            "listen": done.listen,
            "error": result.as_ref().err().map(|f| f.message.clone()),
        }));
        return Ok(if result.is_ok() { 0 } else { 1 });
    }
    result?;
    crate::outln!(
        "gateway is up (pid {}, http://{}) serving the current config",
        done.pid.unwrap_or_default(),
        done.listen.as_deref().unwrap_or_default()
    );
    Ok(0)
}

fn restart_inner(ctx: &Ctx, args: &RestartArgs, done: &mut Restarted) -> Result<(), Failure> {
    let views = ctx.views(false)?;
    // What the *next* start will read: the definition's environment when there is a
    // manager; the running process's own (SIGHUP reload) when started by hand.
    let next_env = views
        .next_start_environment()
        .unwrap_or_else(|| ctx.env.clone());
    let loaded = load(&next_env, &LoadOptions::default())?;
    if !loaded.is_valid() {
        return Err(Failure::error(format!(
            "{}\nthe config the service would load ({}) is invalid; the running gateway was left alone",
            loaded.render_diagnostics(),
            ctx.env.display_path(&loaded.paths.config)
        )));
    }
    done.config = Some(loaded.paths.config.clone());
    done.config_sha256 = loaded.config_sha256.clone();
    let receipt_path = loaded.paths.receipt();
    let running_pid = views.running_pid();
    let method = match (views.discovery.definition(), running_pid) {
        (Some(d), pid) => match crate::service::manager::restart(d) {
            Ok(how) => how,
            // No reachable manager (a container, an SSH session, a unit on disk with
            // no user manager) but a live gateway: reload the process we can see.
            Err(e) => match pid {
                Some(pid) => format!("{e}\n{}", sighup(pid)?),
                None => return Err(Failure::error(e)),
            },
        },
        (None, Some(pid)) => sighup(pid)?,
        (None, None) => {
            return Err(Failure::error(
                "no gateway service is installed and no gateway is running (clawctl gateway run, or clawctl service install)",
            ));
        }
    };
    if !args.json {
        crate::outln!("{method}");
    }
    done.method = Some(method);
    // Up means: alive, answering, and what it loaded is what its files give now
    // (config hash, every key and the token), not merely the same config file.
    let next = crate::views::View::load(&next_env, &LoadOptions::default())?;
    let want = loaded.config_sha256.clone();
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    let short = want
        .as_deref()
        .map(|h| &h[..h.len().min(12)])
        .unwrap_or("-");
    let spinner = super::progress::Spinner::start(format!(
        "waiting for the gateway to write {} for config sha256 {short}",
        ctx.env.display_path(&receipt_path)
    ));
    loop {
        if let Ok(r) = Receipt::read(&receipt_path) {
            done.pid = Some(r.pid);
            done.listen = Some(r.listen.clone());
            let drift = views.drift(&r, &next);
            let what = if !r.pid_alive() {
                format!("pid {} (in the receipt) is not running", r.pid)
            } else if !drift.is_empty() {
                format!("pid {} still serves what it loaded before", r.pid)
            } else if !healthz(&r.listen) {
                format!("http://{}/healthz does not answer yet", r.listen)
            } else {
                done.up = true;
                drop(spinner);
                return Ok(());
            };
            spinner.set_message(format!(
                "waiting for the gateway to serve config sha256 {short}: {what}"
            ));
        }
        if Instant::now() > deadline {
            return Err(Failure::error(format!(
                "the gateway did not come back with the current config within {} s; see its log (journalctl --user -u clawctl-gateway, or its stderr)",
                args.wait
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reload a gateway process in place: it re-reads its files, validates them and
/// keeps serving the old config if they are invalid.
fn sighup(pid: u32) -> Result<String, Failure> {
    if !crate::gateway::receipt::pid_alive(pid) {
        return Err(Failure::error(format!(
            "the gateway (pid {pid}) is not running"
        )));
    }
    // SAFETY: kill(2) with a valid signal number has no memory effects.
    let r = unsafe { libc::kill(pid as i32, libc::SIGHUP) };
    if r != 0 {
        return Err(Failure::error(format!(
            "cannot signal pid {pid}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(format!("sent SIGHUP to pid {pid}"))
}

fn print_log_line(line: &str, json: bool) {
    if !json {
        crate::outln!("{line}");
        return;
    }
    let v = match crate::gateway::log::parse_line(line) {
        Some(m) => serde_json::Value::Object(m),
        None => json!({"time": null, "text": line}),
    };
    crate::outln!("{v}");
}

/// `gateway logs`: the file the gateway writes beside its stderr
/// (`<home>/logs/gateway.log`, the service's home when a service is installed),
/// whichever manager started it; under systemd without that file, the user journal.
fn logs(ctx: &Ctx, args: LogsArgs) -> Outcome {
    use std::io::{Read, Seek, SeekFrom};
    let views = ctx.views(false)?;
    let home = views.service_or_cli().loaded.paths.home.clone();
    let path = crate::gateway::log::file_path(&home);
    let Ok(mut file) = std::fs::File::open(&path) else {
        if views.discovery.definition().is_some() && ctx.env.platform == crate::env::Platform::Linux
        {
            let mut cmd = std::process::Command::new("journalctl");
            cmd.args(["--user", "-u", "clawctl-gateway.service", "-o", "cat", "-n"])
                .arg(args.lines.to_string());
            if args.follow {
                cmd.arg("-f");
            }
            let status = cmd
                .status()
                .map_err(|e| Failure::error(format!("cannot run journalctl: {e}")))?;
            return Ok(status.code().unwrap_or(1));
        }
        return Err(Failure::error(format!(
            "no gateway log at {}: the gateway has not run with this home (start it: clawctl gateway run)",
            ctx.env.display_path(&path)
        )));
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Failure::error(format!("cannot read {}: {e}", path.display())))?;
    let all: Vec<&str> = text.lines().collect();
    for l in &all[all.len().saturating_sub(args.lines)..] {
        print_log_line(l, args.json);
    }
    if !args.follow {
        return Ok(0);
    }
    let mut pos = text.len() as u64;
    let mut partial = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if len < pos {
            // Rotated: the new file starts from its beginning.
            match std::fs::File::open(&path) {
                Ok(f) => file = f,
                Err(_) => continue,
            }
            pos = 0;
        }
        if len == pos {
            continue;
        }
        let _ = file.seek(SeekFrom::Start(pos));
        let mut chunk = String::new();
        let n = file.read_to_string(&mut chunk).unwrap_or(0);
        pos += n as u64;
        partial.push_str(&chunk);
        while let Some(i) = partial.find('\n') {
            let line: String = partial.drain(..=i).collect();
            print_log_line(line.trim_end(), args.json);
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
}
