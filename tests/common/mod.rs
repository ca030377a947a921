//! Shared helpers for end-to-end tests: the real binary, a temp HOME, and an
//! environment emptied of everything the developer's shell has.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub vars: BTreeMap<String, String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vars = BTreeMap::new();
        vars.insert("HOME".into(), dir.path().join("home").display().to_string());
        vars.insert("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into());
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Sandbox { dir, vars }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn clawctl_home(&self) -> PathBuf {
        self.home().join(".config/clawctl")
    }

    pub fn config_path(&self) -> PathBuf {
        self.clawctl_home().join("config.toml")
    }

    pub fn write_config(&self, text: &str) -> PathBuf {
        let p = self.config_path();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    pub fn set_var(&mut self, k: &str, v: &str) -> &mut Self {
        self.vars.insert(k.into(), v.into());
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clawctl"));
        c.env_clear()
            .envs(&self.vars)
            .args(args)
            .current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.command(args);
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn clawctl");
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out: Output = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `clawctl ARGS` in a real pseudo-terminal (TERM=xterm), for prompts and menus.
    #[cfg(unix)]
    pub fn pty(&self, args: &[&str]) -> expectrl::Session {
        let mut c = self.command(args);
        c.env("TERM", "xterm");
        let mut s = expectrl::Session::spawn(c).expect("spawn in a pty");
        // Generous: under a loaded CI machine a debug build can take seconds per step.
        s.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
        s
    }

    /// `clawctl config set KEY --stdin` with `value` on standard input (how secrets
    /// are set without ever being on the command line).
    pub fn set_stdin(&self, key: &str, value: &str) -> Run {
        self.run_stdin(&["config", "set", key, "--stdin"], Some(value))
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let r = self.run(args);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}{}", r.stdout, r.stderr))
    }
}

pub fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A realistic, commented config of about `kb` kilobytes (providers repeated).
pub fn realistic_config(kb: usize) -> String {
    let mut s = String::from(
        "#:schema ./config.schema.json\n# Gateway config for the team box.\n\n[meta]\nversion = 1\n\n# Default model for every agent\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\" # switched from glm\nfallbacks = [\"zai/glm-5\", \"openai/gpt-5\"]\n\n[agents.defaults.models]\nkimi = \"moonshot/kimi-k2.5\"\nglm = \"zai/glm-5\"\n\n[gateway]\nport = 18789\nbind = \"loopback\"\n\n[gateway.auth]\nmode = \"token\"\ntoken = \"${CLAWCTL_GATEWAY_TOKEN}\"\n\n[models.providers.moonshot]\nbase_url = \"https://api.moonshot.ai/v1\" # international\napi = \"openai-completions\"\napi_key = \"cred:moonshot:default\"\nmodels = [\"kimi-k2.5\"]\n",
    );
    let mut i = 0;
    while s.len() < kb * 1024 {
        s.push_str(&format!(
            "\n# proxy number {i}\n[models.providers.proxy{i}]\nbase_url = \"https://proxy{i}.example.com/v1\"\napi = \"openai-completions\"\napi_key = \"${{PROXY{i}_API_KEY}}\"\nmodels = [\"m-{i}-a\", \"m-{i}-b\"]\n\n[models.providers.proxy{i}.headers]\nX-Team = \"team-{i}\"\n"
        ));
        i += 1;
    }
    s
}

/// A daemon started by a test (`clawctl gateway run`), stopped with SIGTERM (then
/// SIGKILL after 5 s) when dropped.
pub struct Daemon(pub std::process::Child);

impl Daemon {
    /// Spawn `cmd` (output discarded) and wait up to 10 s for `/healthz` on `port`.
    pub fn start(mut cmd: Command, port: u16) -> Daemon {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let d = Daemon(cmd.spawn().expect("spawn the daemon"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
                .timeout(std::time::Duration::from_millis(300))
                .call()
                .is_ok()
            {
                return d;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the daemon did not come up on port {port}");
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
