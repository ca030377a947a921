//! A real `clawctl gateway run` on a free loopback port: healthz, token checks,
//! refused invalid restarts, SIGHUP reloads, exit 78. Every daemon is stopped by pid.

use crate::common::*;

use std::time::Duration;

fn get(port: u16, path: &str, token: Option<&str>) -> u16 {
    let mut req =
        ureq::get(&format!("http://127.0.0.1:{port}{path}")).timeout(Duration::from_secs(3));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{path}: {e}"),
    }
}

fn start(sb: &Sandbox, token: &str, port: u16) -> Daemon {
    let mut c = sb.command(&["gateway", "run"]);
    c.env("CLAWCTL_GATEWAY_TOKEN", token);
    Daemon::start(c, port)
}

fn config(port: u16) -> String {
    format!(
        "[meta]\nversion = 1\n\n[gateway]\nport = {port}\n\n[gateway.auth]\nmode = \"token\"\ntoken = \"${{CLAWCTL_GATEWAY_TOKEN}}\"\n"
    )
}

const SERVICE_TOKEN: &str = "tok-SERVICESERVICE-0123456789";
const SHELL_TOKEN: &str = "tok-SHELLSHELLSHELL-9876543210";

#[test]
fn healthz_status_and_the_token_mismatch_explained() {
    let mut sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    let _d = start(&sb, SERVICE_TOKEN, port);
    assert_eq!(get(port, "/healthz", None), 200);
    assert_eq!(get(port, "/v1/status", Some(SERVICE_TOKEN)), 200);
    assert_eq!(get(port, "/v1/status", Some(SHELL_TOKEN)), 401);
    assert_eq!(get(port, "/v1/status", None), 401);
    let receipt = sb.clawctl_home().join("run/gateway.json");
    assert_eq!(mode_of(&receipt), 0o600);
    let text = std::fs::read_to_string(&receipt).unwrap();
    assert!(!text.contains("SERVICESERVICE"), "{text}");
    assert!(
        text.contains("CLAWCTL_GATEWAY_TOKEN"),
        "the variable's name is recorded: {text}"
    );

    // Same token in the shell: all good.
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", SERVICE_TOKEN);
    let r = sb.run(&["gateway", "status"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("the CLI's token is accepted"),
        "{}",
        r.stdout
    );
    // A different token in the shell: 401, explained with both sources.
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", SHELL_TOKEN);
    let r = sb.run(&["gateway", "status"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("token mismatch"), "{}", r.stdout);
    assert!(
        r.stdout.contains("CLAWCTL_GATEWAY_TOKEN in this shell"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("/proc/") || r.stdout.contains("CLAWCTL_GATEWAY_TOKEN"),
        "{}",
        r.stdout
    );
    assert!(
        !r.all().contains("SHELLSHELL") && !r.all().contains("SERVICESERVICE"),
        "{}",
        r.all()
    );
    let j = sb.json(&["gateway", "status", "--json"]);
    assert!(j["token"]["cli"].as_str().unwrap().contains("sha256:"));
}

#[test]
fn an_invalid_edit_is_refused_and_a_valid_one_is_picked_up() {
    let mut sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    let _d = start(&sb, SERVICE_TOKEN, port);
    sb.set_var("CLAWCTL_GATEWAY_TOKEN", SERVICE_TOKEN);
    let receipt = sb.clawctl_home().join("run/gateway.json");
    let hash_before =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&receipt).unwrap())
            .unwrap()["config_sha256"]
            .clone();

    // Broken by hand: restart refuses, the gateway keeps serving.
    sb.write_config(&format!("{}\n[gateway]\nbogus = 1\n", config(port)));
    let r = sb.run(&["gateway", "restart"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("left alone"), "{}", r.stderr);
    assert_eq!(get(port, "/healthz", None), 200);

    // A valid edit: SIGHUP reload, the receipt's hash follows the file.
    sb.write_config(&format!(
        "{}\n[env.vars]\nNODE_ENV = \"production\"\n",
        config(port)
    ));
    let r = sb.run(&["gateway", "restart"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("SIGHUP"), "{}", r.stdout);
    let hash_after =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&receipt).unwrap())
            .unwrap()["config_sha256"]
            .clone();
    assert_ne!(hash_before, hash_after);
    let on_disk = clawctl::config::load::sha256_hex(sb.read_config().as_bytes());
    assert_eq!(hash_after, serde_json::json!(on_disk));
    assert_eq!(sb.run(&["gateway", "status"]).code, 0);
}

#[test]
fn a_reload_with_an_invalid_config_keeps_the_old_one() {
    let sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    let d = start(&sb, SERVICE_TOKEN, port);
    sb.write_config("[gateway]\nport = \"nope\"\n");
    unsafe { libc::kill(d.0.id() as i32, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        get(port, "/v1/status", Some(SERVICE_TOKEN)),
        200,
        "the old config keeps serving"
    );
}

#[test]
fn gateway_run_exits_78_on_an_invalid_config() {
    let sb = Sandbox::new();
    sb.write_config("[gateway]\nport = 0\n");
    let r = sb.run(&["gateway", "run"]);
    assert_eq!(r.code, 78, "{}", r.all());
    assert!(r.stderr.contains("gateway.port"), "{}", r.stderr);
}

#[test]
fn the_receipt_is_removed_on_clean_exit() {
    let sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    let d = start(&sb, SERVICE_TOKEN, port);
    let receipt = sb.clawctl_home().join("run/gateway.json");
    assert!(receipt.exists());
    drop(d);
    assert!(!receipt.exists());
    let r = sb.run(&["gateway", "status"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("no gateway is running"), "{}", r.stdout);
}
