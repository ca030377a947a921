//! A real single-node etcd for tests: Debian's `etcd` binary on PATH, free loopback
//! ports, a temp data dir, stopped (by pid) on drop. `Etcd::start()` returns `None`
//! — and the test prints why and passes — when there is no etcd binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Etcd {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub client_port: u16,
    pub peer_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn on_path(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

impl Etcd {
    /// Start etcd, or `None` (with a message on stderr) when it is not installed.
    pub fn start() -> Option<Etcd> {
        if on_path("etcd").is_none() {
            eprintln!(
                "SKIPPED: no `etcd` on PATH (Debian: apt-get install etcd-server etcd-client); fleet tests need a real etcd"
            );
            return None;
        }
        let mut e = Etcd {
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
            client_port: free_port(),
            peer_port: free_port(),
        };
        e.spawn();
        Some(e)
    }

    fn spawn(&mut self) {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::File::create(self.dir.path().join("etcd.log")).unwrap();
        let child = Command::new("etcd")
            .args(["--name", "t"])
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("t={peer}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn etcd");
        self.child = Some(child);
        self.wait_healthy();
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.ctl(&["endpoint", "health"]).0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "etcd did not become healthy: {}",
            std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default()
        );
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// `etcdctl` against this server: (success, stdout).
    pub fn ctl(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &self.endpoint(), "--dial-timeout", "1s"])
            .args(args)
            .output();
        match out {
            Ok(o) => (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            ),
            Err(_) => (false, String::new()),
        }
    }

    /// Stop the server (SIGTERM, then SIGKILL); the data dir stays for `restart`.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A three-node (or N-node) etcd cluster on loopback, for losing one node.
pub struct Cluster {
    pub nodes: Vec<Option<Child>>,
    pub dir: tempfile::TempDir,
    pub client_ports: Vec<u16>,
    pub peer_ports: Vec<u16>,
}

impl Cluster {
    pub fn start(n: usize) -> Option<Cluster> {
        if on_path("etcd").is_none() {
            eprintln!(
                "SKIPPED: no `etcd` on PATH (Debian: apt-get install etcd-server etcd-client)"
            );
            return None;
        }
        let client_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peer_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let initial: Vec<String> = peer_ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("n{i}=http://127.0.0.1:{p}"))
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut nodes = Vec::new();
        for i in 0..n {
            let client = format!("http://127.0.0.1:{}", client_ports[i]);
            let peer = format!("http://127.0.0.1:{}", peer_ports[i]);
            let log = std::fs::File::create(dir.path().join(format!("n{i}.log"))).unwrap();
            let child = Command::new("etcd")
                .args(["--name", &format!("n{i}")])
                .arg("--data-dir")
                .arg(dir.path().join(format!("n{i}")))
                .args(["--listen-client-urls", &client])
                .args(["--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer])
                .args(["--initial-advertise-peer-urls", &peer])
                .args(["--initial-cluster", &initial.join(",")])
                .args(["--initial-cluster-state", "new"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn etcd");
            nodes.push(Some(child));
        }
        let c = Cluster {
            nodes,
            dir,
            client_ports,
            peer_ports,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("etcdctl")
                .env("ETCDCTL_API", "3")
                .args([
                    "--endpoints",
                    &c.endpoints().join(","),
                    "--dial-timeout",
                    "1s",
                ])
                .args(["endpoint", "health"])
                .output();
            if out.is_ok_and(|o| o.status.success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the etcd cluster did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(c)
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.client_ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect()
    }

    /// Kill node `i` (SIGKILL: a crashed machine).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
