//! A fleet on a real single-node etcd (skipped, with a message, when `etcd` is not
//! installed): the layer's origins, secrets refused, the cache when etcd is stopped,
//! two operators racing, a change refused because it breaks a named member, and a
//! member's record vanishing when its lease expires.

use crate::common::*;
use crate::etcd::Etcd;

use std::time::{Duration, Instant};

use clawctl::config::keypath::KeyPath;
use clawctl::fleet::commands::{self, FleetError};
use clawctl::fleet::{FleetTarget, MemberRecord};

const FLEET: &str = "t";
const CANARY: &str = "sk-CANARYfleet0123456789abcdef0123456789abcdef";

fn sandbox(etcd: &Etcd) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set_var("CLAWCTL_FLEET", FLEET);
    sb.set_var("CLAWCTL_FLEET_ETCD", &etcd.endpoint());
    sb.set_var("USER", "tester");
    sb
}

fn target(etcd: &Etcd, ttl: u64) -> FleetTarget {
    FleetTarget {
        name: FLEET.into(),
        endpoints: vec![etcd.endpoint()],
        member_ttl_secs: ttl,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn record(id: &str, local: serde_json::Value, rev: i64) -> MemberRecord {
    MemberRecord {
        id: id.into(),
        host: id.into(),
        port: 18789,
        pid: 1,
        started_unix: 0,
        started_at: "2026-01-01T00:00:00Z".into(),
        version: "test".into(),
        config_path: None,
        config_sha256: None,
        config_current: Some(true),
        fleet_revision: rev,
        fleet_cached: false,
        default_model: Some("moonshot/kimi-k2.5".into()),
        providers: Default::default(),
        local,
        refused: None,
        updated_unix: 0,
    }
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn layer_values_carry_their_etcd_key_and_revision() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    ok(&sb.run(&["fleet", "set", "agents.defaults.model.primary", "zai/glm-5"]));
    ok(&sb.run(&["fleet", "set", "gateway.port", "19001"]));
    // An integer, typed by the schema.
    let j = sb.json(&["config", "get", "gateway.port", "--json"]);
    assert_eq!(j["value"], 19001, "{j}");
    assert_eq!(j["origin"]["layer"], "fleet", "{j}");
    assert_eq!(j["origin"]["key"], "/clawctl/t/config/gateway/port", "{j}");
    let rev = j["origin"]["revision"].as_i64().unwrap();
    assert!(rev > 0);
    let r = sb.run(&[
        "config",
        "get",
        "agents.defaults.model.primary",
        "--show-origin",
    ]);
    ok(&r);
    assert!(
        r.stdout
            .starts_with("etcd /clawctl/t/config/agents/defaults/model/primary @rev "),
        "{}",
        r.all()
    );
    // config.toml is above the fleet layer.
    sb.write_config("[meta]\nversion = 1\n\n[gateway]\nport = 18000\n");
    let j = sb.json(&["config", "get", "gateway.port", "--json"]);
    assert_eq!(j["value"], 18000);
    assert_eq!(j["origin"]["layer"], "file");
    let r = sb.run(&["config", "list", "--show-origin"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("etcd /clawctl/t/config/agents/defaults/model/primary @rev"),
        "{}",
        r.stdout
    );
    // fleet get/list show the layer itself.
    let r = sb.run(&["fleet", "get", "gateway.port", "--show-origin"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!("etcd /clawctl/t/config/gateway/port @rev {rev}\t19001\n")
    );
    let r = sb.run(&["fleet", "list"]);
    assert_eq!(
        r.stdout,
        "agents.defaults.model.primary=zai/glm-5\ngateway.port=19001\n"
    );
    // status says which copy of the layer it runs on.
    let r = sb.run(&["status"]);
    assert!(r.stdout.contains("t @rev"), "{}", r.all());
    // A wrong type is refused before anything is written.
    let r = sb.run(&["fleet", "set", "gateway.port", "many"]);
    assert_eq!(r.code, 1, "{}", r.all());
    // The fleet cannot move itself.
    let r = sb.run(&["fleet", "set", "fleet.name", "other"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("local config"), "{}", r.stderr);
}

#[test]
fn no_fleet_configured_reads_no_etcd() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    let r = sb.run(&["status"]);
    ok(&r);
    assert!(!r.stdout.contains("fleet"), "{}", r.stdout);
    let r = sb.run(&["fleet", "status"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no fleet is configured"), "{}", r.stderr);
}

#[test]
fn secrets_are_refused_in_the_fleet_layer() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let r = sb.run(&["fleet", "set", "models.providers.openai.api_key", CANARY]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("secret"), "{}", r.stderr);
    assert!(!r.all().contains("CANARY"), "{}", r.all());
    let r = sb.run(&["fleet", "set", "gateway.auth.token", CANARY]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains("CANARY"));
    // References are fine.
    ok(&sb.run(&[
        "fleet",
        "set",
        "models.providers.openai.api_key",
        "${OPENAI_API_KEY}",
    ]));
    ok(&sb.run(&["fleet", "set", "gateway.auth.token", "cred:gateway:default"]));
    // A literal written behind clawctl's back is not used, and never shown.
    assert!(
        etcd.ctl(&[
            "put",
            "/clawctl/t/config/models/providers/zai/api_key",
            CANARY
        ])
        .0
    );
    for args in [
        &["config", "list", "--show-origin"][..],
        &["config", "get", "models.providers.zai.api_key"],
        &["config", "validate"],
        &["fleet", "list", "--json"],
        &["fleet", "status"],
        &["fleet", "status", "--json"],
        &["status", "--json"],
    ] {
        let r = sb.run(args);
        assert!(!r.all().contains("CANARY"), "{args:?}: {}", r.all());
    }
    let r = sb.run(&["config", "validate"]);
    assert!(
        r.all()
            .contains("/clawctl/t/config/models/providers/zai/api_key is not used"),
        "{}",
        r.all()
    );
    let r = sb.run(&["fleet", "list"]);
    assert!(
        r.stderr
            .contains("/clawctl/t/config/models/providers/zai/api_key is not used"),
        "{}",
        r.all()
    );
    let cache = sb.clawctl_home().join("fleet/t.json");
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(!text.contains("CANARY"), "{text}");
    assert!(text.contains("${OPENAI_API_KEY}"));
}

#[test]
fn unreachable_etcd_uses_the_cached_layer_and_says_so() {
    let Some(mut etcd) = Etcd::start() else {
        return;
    };
    let sb = sandbox(&etcd);
    ok(&sb.run(&["fleet", "set", "agents.defaults.model.primary", "zai/glm-5"]));
    let live = sb.json(&["config", "get", "agents.defaults.model.primary", "--json"]);
    let rev = live["origin"]["revision"].as_i64().unwrap();
    let cache = sb.clawctl_home().join("fleet/t.json");
    assert_eq!(mode_of(&cache), 0o600);
    etcd.stop();
    let r = sb.run(&[
        "config",
        "get",
        "agents.defaults.model.primary",
        "--show-origin",
    ]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!(
            "etcd /clawctl/t/config/agents/defaults/model/primary @rev {rev} (cached)\tzai/glm-5\n"
        )
    );
    let r = sb.run(&["config", "validate"]);
    assert!(r.all().contains("using the cached layer"), "{}", r.all());
    let r = sb.run(&["status"]);
    assert!(r.stdout.contains("from the CACHE"), "{}", r.all());
    let r = sb.run(&["fleet", "status"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("UNREACHABLE"), "{}", r.stdout);
    assert!(r.stdout.contains("CACHED copy"), "{}", r.stdout);
    // Writes need etcd.
    let r = sb.run(&["fleet", "set", "gateway.port", "19002"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unreachable"), "{}", r.stderr);
    etcd.restart();
    let r = sb.run(&[
        "config",
        "get",
        "agents.defaults.model.primary",
        "--show-origin",
    ]);
    assert!(!r.stdout.contains("cached"), "{}", r.all());
}

#[test]
fn two_operators_setting_at_once_one_wins_the_other_is_told() {
    let Some(etcd) = Etcd::start() else { return };
    let t = target(&etcd, 10);
    let key = KeyPath::parse("agents.defaults.model.primary").unwrap();
    rt().block_on(async {
        let mut a = clawctl::fleet::connect(&t).await.unwrap();
        let mut b = clawctl::fleet::connect(&t).await.unwrap();
        // Both read the same revision and check their change...
        let pa = commands::plan(&mut a, &t, &key, Some("zai/glm-5"))
            .await
            .unwrap();
        let pb = commands::plan(&mut b, &t, &key, Some("openai/gpt-5"))
            .await
            .unwrap();
        assert_eq!(pa.read_revision, pb.read_revision);
        // ...the first write wins, the second is refused with both revisions.
        let rev = commands::commit(&mut a, &t, &pa, "alice@a").await.unwrap();
        match commands::commit(&mut b, &t, &pb, "bob@b").await {
            Err(FleetError::Conflict { read, now }) => {
                assert_eq!(read, pb.read_revision);
                assert_eq!(now, rev);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        // A change to another key, or an unset, moves the revision too.
        let pc = commands::plan(&mut b, &t, &key, None).await.unwrap();
        let pd = commands::plan(
            &mut a,
            &t,
            &KeyPath::parse("gateway.port").unwrap(),
            Some("1"),
        )
        .await
        .unwrap();
        commands::commit(&mut b, &t, &pc, "bob@b").await.unwrap();
        assert!(matches!(
            commands::commit(&mut a, &t, &pd, "alice@a").await,
            Err(FleetError::Conflict { .. })
        ));
    });
    let r = std::process::Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", &etcd.endpoint(), "get", "/clawctl/t/config/"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&r.stdout).contains("bob@b"));
}

#[test]
fn a_change_that_breaks_a_member_is_refused_naming_it() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let t = target(&etcd, 30);
    ok(&sb.run(&[
        "fleet",
        "set",
        "models.providers.myproxy.base_url",
        "https://proxy.example.com/v1",
    ]));
    let rt = rt();
    let (a, b) = rt.block_on(async {
        // hostb relies on the fleet for myproxy's endpoint; hosta does not use myproxy.
        let a = clawctl::fleet::publish(&t, record("hosta-18789", serde_json::json!({}), 2))
            .await
            .unwrap();
        let b = clawctl::fleet::publish(
            &t,
            record(
                "hostb-18789",
                serde_json::json!({"models": {"providers": {"myproxy": {"api": "openai-completions", "api_key": clawctl::fleet::member::REDACTED}}}}),
                2,
            ),
        )
        .await
        .unwrap();
        (a, b)
    });
    let before = sb.run(&[
        "fleet",
        "get",
        "models.providers.myproxy.base_url",
        "--show-origin",
    ]);
    let r = sb.run(&[
        "fleet",
        "unset",
        "models.providers.myproxy.base_url",
        "--dry-run",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("would break 1 of 2 live member(s)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hostb-18789: provider `myproxy`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("hosta"), "{}", r.stderr);
    // Without --dry-run the same check runs first, and nothing is written.
    let r = sb.run(&["fleet", "unset", "models.providers.myproxy.base_url"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        sb.run(&[
            "fleet",
            "get",
            "models.providers.myproxy.base_url",
            "--show-origin"
        ])
        .stdout,
        before.stdout
    );
    // A change no member minds goes through, and says what it checked.
    let r = sb.run(&["fleet", "set", "gateway.bind", "lan"]);
    ok(&r);
    assert!(
        r.stdout.contains("checked against 2 live member(s)"),
        "{}",
        r.stdout
    );
    // status lists both; both run an older revision now; diff shows the change.
    let j = sb.json(&["fleet", "status", "--json"]);
    assert_eq!(j["members"].as_array().unwrap().len(), 2, "{j}");
    assert!(j["drift"].to_string().contains("stale-revision"), "{j}");
    let r = sb.run(&["fleet", "diff"]);
    ok(&r);
    assert!(
        r.stdout.contains("gateway.bind: (unset) → lan"),
        "{}",
        r.stdout
    );
    rt.block_on(async {
        a.shutdown().await;
        b.shutdown().await;
    });
}

#[test]
fn a_dead_members_record_expires_with_its_lease() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let t = target(&etcd, 2);
    let rt = rt();
    rt.block_on(async {
        let alive = clawctl::fleet::publish(&t, record("alive-1", serde_json::json!({}), 0))
            .await
            .unwrap();
        let dead = clawctl::fleet::publish(&t, record("dead-1", serde_json::json!({}), 0))
            .await
            .unwrap();
        let clean = clawctl::fleet::publish(&t, record("clean-1", serde_json::json!({}), 0))
            .await
            .unwrap();
        let members = |sb: &Sandbox| {
            sb.json(&["fleet", "status", "--json"])["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(members(&sb), ["alive-1", "clean-1", "dead-1"]);
        // A clean exit revokes the lease: gone at once.
        clean.shutdown().await;
        assert_eq!(members(&sb), ["alive-1", "dead-1"]);
        // A killed gateway stops renewing: gone when the lease runs out, while the
        // live one, renewed every third of its TTL, stays.
        dead.abandon();
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let m = members(&sb);
            if m == ["alive-1"] {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(8),
                "still listed: {m:?}"
            );
        }
        assert!(start.elapsed() >= Duration::from_millis(500));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(members(&sb), ["alive-1"]);
        alive.shutdown().await;
    });
}

#[test]
fn a_watch_hands_over_each_new_layer() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let t = target(&etcd, 10);
    let rt = rt();
    rt.block_on(async {
        let mut w = clawctl::fleet::watch(t.clone(), 0);
        ok(&sb.run(&["fleet", "set", "gateway.port", "19005"]));
        let layer = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let l = w.changed().await.unwrap();
                if !l.entries.is_empty() {
                    return l;
                }
            }
        })
        .await
        .expect("a layer within 10 s");
        assert_eq!(layer.entries[0].value, 19005);
    });
}

/// The gateway's hook (`Follower`), driven as the server drives it: publish, follow a
/// `fleet set`, apply it (load with the handed-over layer), refuse an invalid revision
/// written behind clawctl's back, notice an edited config.toml.
#[test]
fn a_follower_publishes_applies_and_refuses() {
    use clawctl::config::load::{LoadOptions, load};
    use clawctl::env::{Environment, Platform};
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let cfg = sb.write_config(
        &format!("[meta]\nversion = 1\n\n[fleet]\nmember_ttl_secs = 2\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\"\n\n[models.providers.openai]\napi_key = \"{CANARY}\"\n"),
    );
    ok(&sb.run(&["fleet", "set", "gateway.bind", "loopback"]));
    let env = Environment::from_parts(
        sb.vars.clone(),
        Some(sb.home()),
        sb.dir.path().to_path_buf(),
        Platform::Linux,
        "gateway",
    );
    let loaded = load(&env, &LoadOptions::default()).unwrap();
    assert!(loaded.is_valid(), "{}", loaded.render_diagnostics());
    let receipt: clawctl::gateway::receipt::Receipt = serde_json::from_value(serde_json::json!({
        "pid": std::process::id(), "started_unix": 1, "started_at": "x", "version": "test",
        "config_path": cfg, "config_sha256": loaded.config_sha256, "home": sb.clawctl_home(),
        "listen": "127.0.0.1:18789", "env_vars_used": [], "providers": {}, "gateway_token": null
    }))
    .unwrap();
    let rt = rt();
    rt.block_on(async {
        let mut f = clawctl::fleet::Follower::start(&loaded, &receipt, 18789)
            .expect("a fleet is configured");
        let me = format!("{}-18789", clawctl::fleet::hostname());
        let status = |sb: &Sandbox| sb.json(&["fleet", "status", "--json"]);
        // Published in the background, within moments.
        let start = Instant::now();
        while status(&sb)["members"].as_array().unwrap().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(5), "not published");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let j = status(&sb);
        assert_eq!(j["members"][0]["id"], me.as_str(), "{j}");
        assert_eq!(j["members"][0]["stale"], false, "{j}");
        // The record carries the local layers, never a secret from them.
        let (_, records) = etcd.ctl(&["get", "--prefix", "/clawctl/t/members/"]);
        assert!(records.contains("CLAWCTL_FLEET_REDACTED"), "{records}");
        assert!(!records.contains("CANARY"), "{records}");
        assert!(!j.to_string().contains("CANARY"));
        // A change reaches the follower; the gateway applies it and says so.
        ok(&sb.run(&["fleet", "set", "gateway.port", "19010"]));
        let layer = tokio::time::timeout(Duration::from_secs(10), f.next_layer())
            .await
            .unwrap()
            .unwrap();
        let opts = LoadOptions {
            fleet_layer: Some(layer.clone()),
            ..Default::default()
        };
        let next = load(&env, &opts).unwrap();
        assert!(next.is_valid());
        assert_eq!(next.config.gateway.port, 19010);
        f.loaded(&next, &receipt);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let j = status(&sb);
        assert_eq!(j["members"][0]["fleet_revision"], layer.revision, "{j}");
        // An invalid revision (written with etcdctl, unchecked) is refused and reported.
        assert!(etcd.ctl(&["put", "/clawctl/t/config/gateway/port", "0"]).0);
        let bad = tokio::time::timeout(Duration::from_secs(10), f.next_layer())
            .await
            .unwrap()
            .unwrap();
        let opts = LoadOptions {
            fleet_layer: Some(bad.clone()),
            ..Default::default()
        };
        let refused = load(&env, &opts).unwrap();
        assert!(!refused.is_valid());
        f.refused(
            bad.revision,
            refused.errors().map(|d| d.message.clone()).collect(),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = sb.run(&["fleet", "status"]);
        assert!(
            r.stdout
                .contains(&format!("REFUSING @rev {}", bad.revision)),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains(&format!("{me} refused @rev {}", bad.revision)),
            "{}",
            r.stdout
        );
        // config.toml edited on the member: noticed at the next keep-alive.
        std::fs::write(
            &cfg,
            "[meta]\nversion = 1\n\n[fleet]\nmember_ttl_secs = 2\n",
        )
        .unwrap();
        let start = Instant::now();
        while status(&sb)["members"][0]["config_current"] != false {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "config change not noticed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        f.shutdown().await;
        assert_eq!(status(&sb)["members"].as_array().unwrap().len(), 0);
    });
}

#[test]
fn member_records_are_read_in_pages_at_one_revision() {
    let Some(etcd) = Etcd::start() else { return };
    let t = target(&etcd, 30);
    for i in 0..5 {
        let r =
            serde_json::to_string(&record(&format!("h{i}-1"), serde_json::json!({}), 0)).unwrap();
        assert!(
            etcd.ctl(&["put", &format!("/clawctl/t/members/h{i}-1"), &r])
                .0
        );
    }
    // Neighbours of the prefix are not members.
    assert!(etcd.ctl(&["put", "/clawctl/t/members0", "x"]).0);
    assert!(etcd.ctl(&["put", "/clawctl/t/member", "x"]).0);
    assert!(etcd.ctl(&["put", "/clawctl/t/members/bad-1", "not json"]).0);
    rt().block_on(async {
        let mut c = clawctl::fleet::connect(&t).await.unwrap();
        let (all, bad) = clawctl::fleet::member::read_paged(&mut c, &t, 2)
            .await
            .unwrap();
        let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["h0-1", "h1-1", "h2-1", "h3-1", "h4-1"]);
        assert_eq!(bad, 1);
    });
}

#[test]
fn a_member_survives_the_loss_of_one_etcd_node() {
    let Some(mut cluster) = crate::etcd::Cluster::start(3) else {
        return;
    };
    let t = FleetTarget {
        name: FLEET.into(),
        endpoints: cluster.endpoints(),
        member_ttl_secs: 2,
    };
    let mut sb = Sandbox::new();
    sb.set_var("CLAWCTL_FLEET", FLEET);
    sb.set_var("CLAWCTL_FLEET_ETCD", &cluster.endpoints().join(","));
    ok(&sb.run(&["fleet", "set", "gateway.port", "19020"]));
    let rt = rt();
    rt.block_on(async {
        let m = clawctl::fleet::publish(&t, record("survivor-1", serde_json::json!({}), 0))
            .await
            .unwrap();
        // The node the member most likely talks to first goes away.
        cluster.kill(0);
        // Several TTLs later the record is still there: keep-alives reach the others.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let j = sb.json(&["fleet", "status", "--json"]);
            assert_eq!(j["reachable"], true, "{j}");
            assert_eq!(j["members"][0]["id"], "survivor-1", "{j}");
        }
        // Writes still work with two of three nodes (a quorum).
        ok(&sb.run(&["fleet", "set", "gateway.port", "19021"]));
        m.shutdown().await;
    });
}

/// Three real gateways (`clawctl gateway run`) on loopback sharing a fleet: a
/// `fleet set` reaches all three and their records show the new revision; a gateway
/// killed with SIGKILL leaves the fleet when its lease expires.
#[test]
fn three_gateways_follow_a_fleet_set_and_a_killed_one_leaves() {
    let Some(etcd) = Etcd::start() else { return };
    let op = sandbox(&etcd);
    ok(&op.run(&["fleet", "set", "agents.defaults.model.primary", "zai/glm-5"]));
    let mut gateways = Vec::new();
    for _ in 0..3 {
        let sb = sandbox(&etcd);
        let port = free_port();
        sb.write_config(&format!(
            "[meta]\nversion = 1\n\n[fleet]\nmember_ttl_secs = 2\n\n[gateway]\nport = {port}\n\n[gateway.auth]\nmode = \"none\"\n"
        ));
        let d = Daemon::start(sb.command(&["gateway", "run"]), port);
        gateways.push((sb, d, port));
    }
    let wait_for = |what: &str, ok: &dyn Fn(&serde_json::Value) -> bool| {
        let start = Instant::now();
        loop {
            let j = op.json(&["fleet", "status", "--json"]);
            if ok(&j) {
                return j;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "{what}: {j}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let members = |j: &serde_json::Value| j["members"].as_array().unwrap().clone();
    wait_for("three members", &|j| members(j).len() == 3);
    let r = op.run(&[
        "fleet",
        "set",
        "agents.defaults.model.primary",
        "openai/gpt-5",
    ]);
    ok(&r);
    assert!(
        r.stdout.contains("checked against 3 live member(s)"),
        "{}",
        r.stdout
    );
    let j = wait_for("all three on the new revision", &|j| {
        let head = j["layer"]["revision"].as_i64().unwrap();
        members(j).iter().all(|m| {
            m["fleet_revision"].as_i64() == Some(head) && m["default_model"] == "openai/gpt-5"
        })
    });
    assert!(!j["drift"].to_string().contains("stale-revision"), "{j}");
    // An invalid revision written behind clawctl's back: every gateway refuses it,
    // says so in its record, and keeps serving.
    assert!(
        etcd.ctl(&["put", "/clawctl/t/config/gateway/bind", "not an address"])
            .0
    );
    let j = wait_for("all three refusing", &|j| {
        members(j).iter().all(|m| !m["refused"].is_null())
    });
    assert!(j["drift"].to_string().contains("refusing"), "{j}");
    for (_, _, port) in &gateways {
        let r = ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
            .timeout(Duration::from_secs(3))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // SIGKILL: no clean exit, no revoked lease; the record goes when the lease expires.
    let (_, first, port) = &gateways[0];
    let dead = format!("{}-{port}", clawctl::fleet::hostname());
    unsafe { libc::kill(first.pid() as i32, libc::SIGKILL) };
    let j = wait_for("the killed member gone", &|j| members(j).len() == 2);
    assert!(!j.to_string().contains(&dead), "{j}");
    // A clean stop (SIGTERM) revokes the lease: gone at once.
    drop(gateways.pop());
    let j = op.json(&["fleet", "status", "--json"]);
    assert_eq!(members(&j).len(), 1, "{j}");
}

/// etcd stopped: a gateway starts and serves on the cached layer, `status` says so;
/// when etcd is back the gateway publishes itself and leaves the cache behind.
#[test]
fn a_gateway_serves_on_the_cached_layer_while_etcd_is_down() {
    let Some(mut etcd) = Etcd::start() else {
        return;
    };
    let sb = sandbox(&etcd);
    let port = free_port();
    sb.write_config(
        "[meta]\nversion = 1\n\n[fleet]\nmember_ttl_secs = 2\n\n[gateway]\nbind = \"loopback\"\n\n[gateway.auth]\nmode = \"none\"\n",
    );
    ok(&sb.run(&["fleet", "set", "gateway.port", &port.to_string()]));
    // The first read caches the layer.
    ok(&sb.run(&["config", "get", "gateway.port"]));
    etcd.stop();
    // The port comes from the fleet layer: served from the cache.
    let _d = Daemon::start(sb.command(&["gateway", "run"]), port);
    let r = sb.run(&["status"]);
    assert!(r.stdout.contains("from the CACHE"), "{}", r.all());
    etcd.restart();
    let start = Instant::now();
    loop {
        let j = sb.json(&["fleet", "status", "--json"]);
        if j["members"][0]["fleet_cached"] == false {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{j}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The README's JSON section is the contract for the fleet commands too (they need an
/// etcd, so `json_contract` cannot run them).
#[test]
fn fleet_json_outputs_match_the_readme() {
    let Some(etcd) = Etcd::start() else { return };
    let sb = sandbox(&etcd);
    let t = target(&etcd, 30);
    let docs = crate::json_contract::documented();
    let mut errors = Vec::new();
    let mut run = |doc: &str, args: &[&str]| {
        let r = sb.run(args);
        let v: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", r.all()));
        let shape = docs
            .get(doc)
            .unwrap_or_else(|| panic!("{doc} not in the README"));
        crate::json_contract::check(shape, &v, &format!("`{}`", args.join(" ")), &mut errors);
    };
    run(
        "fleet set",
        &["fleet", "set", "gateway.port", "19030", "--json"],
    );
    run(
        "fleet set",
        &["fleet", "set", "--dry-run", "gateway.bind", "lan", "--json"],
    );
    run("fleet get", &["fleet", "get", "gateway.port", "--json"]);
    run("fleet get", &["fleet", "get", "gateway.bind", "--json"]);
    run("fleet list", &["fleet", "list", "--json"]);
    let rt = rt();
    let m = rt
        .block_on(clawctl::fleet::publish(
            &t,
            record("contract-1", serde_json::json!({"gateway": {"port": 1}}), 1),
        ))
        .unwrap();
    run("fleet status", &["fleet", "status", "--json"]);
    run("fleet diff", &["fleet", "diff", "--json"]);
    run("fleet unset", &["fleet", "unset", "gateway.port", "--json"]);
    rt.block_on(m.shutdown());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
