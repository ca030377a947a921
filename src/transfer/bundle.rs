//! Export bundles: one JSON file holding the config, optionally the credentials,
//! and the service settings needed to recreate the service on another machine.
//! Paths under the home are written as `~/…` so an import on another machine (or
//! for another user) rewrites them to that home.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "clawctl-bundle";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleCredential {
    pub id: String,
    pub provider: String,
    pub kind: String,
    pub secret: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BundleService {
    /// Whether a gateway service was installed where the bundle was made.
    pub installed: bool,
    /// systemd, launchd or Windows Task Scheduler.
    pub manager: Option<String>,
    /// The profile the CLI used (`CLAWCTL_PROFILE`), if any.
    pub profile: Option<String>,
    /// Non-secret variables a user added to the service definition.
    pub extra_env: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    pub clawctl_version: String,
    pub exported_at: String,
    /// config.toml as written, home paths as `~/…`.
    pub config: Option<String>,
    /// Present only with `--include-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<BundleCredential>>,
    #[serde(default)]
    pub service: BundleService,
    /// Variables of the home `.env` (a config layer: `CLAWCTL__…` overrides and
    /// provider keys). Without `--include-secrets`, only the ones that are not secrets.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub dotenv: std::collections::BTreeMap<String, String>,
}

/// Whether a `.env` variable holds a secret: a sensitive name (`…_KEY`, `…TOKEN`) or
/// a value of a key's shape.
pub fn dotenv_var_is_secret(name: &str, value: &str) -> bool {
    crate::secrets::mask::is_sensitive_name(name) || crate::secrets::mask::looks_secret(value)
}

/// One `.env` line that every dotenv reader (and clawctl's) reads back as `value`.
pub fn dotenv_line(name: &str, value: &str) -> String {
    if !value.contains('\'') {
        format!("{name}='{value}'")
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        format!("{name}=\"{escaped}\"")
    }
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("version", &self.version)
            .field("credentials", &self.credentials.as_ref().map(Vec::len))
            .field("dotenv", &self.dotenv.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Bundle {
    pub fn has_secrets(&self) -> bool {
        self.credentials.as_ref().is_some_and(|c| !c.is_empty())
            || self.dotenv.iter().any(|(k, v)| dotenv_var_is_secret(k, v))
    }

    pub fn parse(text: &str, path: &std::path::Path) -> Result<Bundle, String> {
        let b: Bundle = serde_json::from_str(text).map_err(|e| {
            format!(
                "{}:{}:{}: not a clawctl export bundle ({})",
                path.display(),
                e.line(),
                e.column(),
                e.classify_message()
            )
        })?;
        if b.format != FORMAT {
            return Err(format!(
                "{}: format is `{}`, expected `{FORMAT}`",
                path.display(),
                b.format
            ));
        }
        if b.version > VERSION {
            return Err(format!(
                "{}: bundle version {} was written by a newer clawctl (this one reads up to {VERSION})",
                path.display(),
                b.version
            ));
        }
        Ok(b)
    }
}

trait Classify {
    fn classify_message(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_message(&self) -> &'static str {
        // serde_json's own message may quote input (a secret); say only the kind.
        match self.classify() {
            serde_json::error::Category::Io => "could not be read",
            serde_json::error::Category::Syntax => "JSON syntax error",
            serde_json::error::Category::Data => "unexpected field or type",
            serde_json::error::Category::Eof => "the file ends early",
        }
    }
}

/// Replace the home directory with `~` in a text.
pub fn home_relative(text: &str, home: &std::path::Path) -> String {
    let h = home.display().to_string();
    if h.len() < 2 {
        return text.to_string();
    }
    text.replace(&format!("{h}/"), "~/")
}

/// A value written `~/…` by `home_relative`, under this machine's home.
pub fn home_absolute_value(value: &str, home: &std::path::Path) -> String {
    match value.strip_prefix("~/") {
        Some(rest) => home.join(rest).display().to_string(),
        None => value.to_string(),
    }
}

/// Replace `~/` with this machine's home.
pub fn home_absolute(text: &str, home: &std::path::Path) -> String {
    text.replace("\"~/", &format!("\"{}/", home.display()))
        .replace("'~/", &format!("'{}/", home.display()))
}
