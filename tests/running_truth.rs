//! The running gateway's receipt is the service view's truth: after a key rotation
//! or a config edit, every command that shows the service says "running with X; the
//! files now say Y: restart needed", and a restart makes them agree again.

use crate::common::*;
use clawctl::secrets::mask::fingerprint;

const OLD_KEY: &str = "sk-OLDOLDOLDOLD000000000000000000000000000000000000";
const NEW_KEY: &str = "sk-NEWNEWNEWNEW111111111111111111111111111111111111";

fn config(port: u16) -> String {
    format!(
        "[meta]\nversion = 1\n\n[gateway]\nport = {port}\n\n[gateway.auth]\nmode = \"none\"\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n"
    )
}

fn set_key(sb: &Sandbox, key: &str) {
    let r = sb.set_stdin("models.providers.moonshot.api_key", key);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn a_key_rotated_after_start_is_restart_needed_everywhere() {
    let sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    set_key(&sb, OLD_KEY);
    let gw = Daemon::start(sb.command(&["gateway", "run"]), port);

    // Nothing changed yet: no drift anywhere.
    let j = sb.json(&["status", "--json"]);
    assert_eq!(j["restart_needed"], false, "{j}");
    assert_eq!(j["running"]["pid"], gw.pid(), "{j}");

    set_key(&sb, NEW_KEY);
    let old_fp = fingerprint(OLD_KEY);
    let new_fp = fingerprint(NEW_KEY);

    let j = sb.json(&["status", "--json"]);
    assert_eq!(j["restart_needed"], true, "{j}");
    let drift = j["running"]["drift"].as_array().unwrap();
    let key = drift
        .iter()
        .find(|d| d["subject"] == "moonshot key")
        .unwrap_or_else(|| panic!("no moonshot key drift: {j}"));
    assert!(key["running"].as_str().unwrap().contains(&old_fp), "{j}");
    assert!(key["files"].as_str().unwrap().contains(&new_fp), "{j}");
    // The service column shows what the process loaded.
    let svc_key = j["service_view"]["summary"]["providers"]["moonshot"]["key"]
        .as_str()
        .unwrap();
    assert!(svc_key.contains(&old_fp), "{j}");

    let st = sb.run(&["status"]);
    assert!(
        st.stdout.contains("moonshot key: running with")
            && st
                .stdout
                .contains("restart needed (`clawctl gateway restart`)"),
        "{}",
        st.stdout
    );
    let dr = sb.run(&["doctor"]);
    assert!(dr.stdout.contains("restart needed"), "{}", dr.stdout);
    assert!(
        dr.stdout.contains("fix: clawctl gateway restart"),
        "{}",
        dr.stdout
    );
    let dj = sb.json(&["doctor", "--json"]);
    assert!(
        dj["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "restart-needed"),
        "{dj}"
    );
    let ms = sb.run(&["models", "status"]);
    assert!(
        ms.stdout.contains("running gateway (pid") && ms.stdout.contains(&old_fp),
        "{}",
        ms.stdout
    );
    for out in [st.all(), dr.all(), ms.all(), j.to_string(), dj.to_string()] {
        assert!(!out.contains(OLD_KEY) && !out.contains(NEW_KEY), "{out}");
    }

    // A restart (no service manager here: SIGHUP to the process) makes them agree.
    let r = sb.run(&["gateway", "restart", "--wait", "10"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("SIGHUP"), "{}", r.stdout);
    let j = sb.json(&["status", "--json"]);
    assert_eq!(j["restart_needed"], false, "{j}");
}

#[test]
fn an_edited_config_is_restart_needed_in_doctor() {
    let sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&config(port));
    let _gw = Daemon::start(sb.command(&["gateway", "run"]), port);
    let r = sb.run(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "zai/glm-5",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let dj = sb.json(&["doctor", "--json"]);
    let f = dj["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "restart-needed")
        .unwrap_or_else(|| panic!("{dj}"))
        .clone();
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("config: running with")),
        "{f}"
    );
}
