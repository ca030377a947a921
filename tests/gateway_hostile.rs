//! Hostile clients against a real `clawctl gateway run` (the kinds of
//! `shared/cases/hostile/` 11, 12, 13, 34, 36): none of them may stop the gateway
//! from serving everyone else.

use crate::common::{Sandbox, free_port};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Gw(Child);

impl Drop for Gw {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A gateway with `auth.mode = none` on a free port; `nofile` caps its open files
/// (soft and hard) before it starts.
fn start(extra: &str, nofile: Option<u64>) -> (Sandbox, Gw, u16) {
    let sb = Sandbox::new();
    let port = free_port();
    sb.write_config(&format!(
        "[meta]\nversion = 1\n[gateway]\nport = {port}\n[gateway.auth]\nmode = \"none\"\n{extra}"
    ));
    let mut c = sb.command(&["gateway", "run"]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(n) = nofile {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
        unsafe {
            c.pre_exec(move || {
                let rl = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
                Ok(())
            });
        }
    }
    let gw = Gw(c.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthz(port, Duration::from_millis(300)) != Some(200) {
        assert!(Instant::now() < deadline, "the gateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (sb, gw, port)
}

fn healthz(port: u16, timeout: Duration) -> Option<u16> {
    ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
        .timeout(timeout)
        .call()
        .ok()
        .map(|r| r.status())
}

#[test]
fn a_client_that_never_sends_its_body_blocks_nobody() {
    let (_sb, _gw, port) = start("", None);
    let mut hold = TcpStream::connect(("127.0.0.1", port)).unwrap();
    hold.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{",
    )
    .unwrap();
    for _ in 0..5 {
        assert_eq!(healthz(port, Duration::from_secs(2)), Some(200));
    }
}

#[test]
fn an_endless_header_gets_431_and_the_connection_closed() {
    let (_sb, gw, port) = start("", None);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    // The gateway answers and closes long before 8 MiB: writes start failing.
    for _ in 0..128 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", gw.0.id()))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        });
    if let Some(kb) = rss_kb {
        assert!(kb < 100_000, "RSS {kb} kB after one oversized header");
    }
    assert_eq!(healthz(port, Duration::from_secs(2)), Some(200));
}

#[test]
fn more_connections_than_descriptors_do_not_kill_the_listener() {
    let (_sb, _gw, port) = start("", Some(256));
    let mut held = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
        {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    assert!(held.len() > 256, "only {} connections opened", held.len());
    std::thread::sleep(Duration::from_millis(300));
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while healthz(port, Duration::from_secs(1)) != Some(200) {
        assert!(Instant::now() < deadline, "the listener did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn http_1_0_keep_alive_is_answered_as_keep_alive() {
    let (_sb, _gw, port) = start("", None);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        assert!(
            head.starts_with("http/1.0 200") || head.starts_with("http/1.1 200"),
            "{head}"
        );
        assert!(head.contains("connection: keep-alive"), "{head}");
        assert!(head.contains("content-length"), "{head}");
    }
}

#[test]
fn a_refused_reload_does_not_stall_serving() {
    let (sb, gw, port) = start("", None);
    let mut text = sb.read_config();
    text.push_str("[agents.defaults.model]\nfallbacks = [");
    for i in 0..15000 {
        text.push_str(&format!("\"p{i}/m\","));
    }
    text.push_str("]\n[gateway.bogus]\nx = 1\n");
    sb.write_config(&text);
    unsafe { libc::kill(gw.0.id() as i32, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(100));
    // Served while the refused config is checked and its diagnostics rendered.
    for _ in 0..10 {
        assert_eq!(healthz(port, Duration::from_secs(2)), Some(200));
    }
}
