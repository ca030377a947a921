//! The receipt a running gateway writes (`run/gateway.json`, 0600): what it loaded,
//! so the CLI can compare it with the files on disk. Names and fingerprints only —
//! never a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptKey {
    /// Where the key came from ("credentials.toml profile moonshot:default").
    pub source: String,
    pub fingerprint: Option<String>,
    pub shape: Option<String>,
    pub length: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub started_unix: u64,
    pub started_at: String,
    pub version: String,
    pub config_path: PathBuf,
    pub config_sha256: Option<String>,
    pub home: PathBuf,
    /// `host:port` the gateway listens on.
    pub listen: String,
    /// Names (never values) of the environment variables the gateway's config used.
    pub env_vars_used: Vec<String>,
    /// Per provider: the key the gateway uses.
    pub providers: BTreeMap<String, ReceiptKey>,
    pub gateway_token: Option<ReceiptKey>,
    /// When the config in force was loaded (start or last SIGHUP reload),
    /// milliseconds since the Unix epoch; 0 in receipts written before this field
    /// existed.
    #[serde(default)]
    pub loaded_unix_ms: u64,
}

impl Receipt {
    pub fn read(path: &Path) -> Result<Receipt, String> {
        let text = crate::read::string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a gateway receipt: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())? + "\n";
        crate::write::safe_write::write_generated(path, &text, 0o600).map_err(|e| e.to_string())
    }

    /// Whether the process that wrote the receipt still exists.
    pub fn pid_alive(&self) -> bool {
        pid_alive(self.pid)
    }
}

pub fn pid_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // Signal 0 checks existence and permission without delivering anything.
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
