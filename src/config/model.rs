//! The config model. Every field's doc comment becomes its description in
//! `schema/config.schema.json`, so the schema, `--help` of `config set` and the
//! README's key reference come from here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The config layout version this clawctl writes.
pub const CURRENT_VERSION: u32 = 1;
pub const DEFAULT_GATEWAY_PORT: u16 = 18789;
/// Default lease time-to-live of a fleet member's record, in seconds.
pub const DEFAULT_MEMBER_TTL_SECS: u64 = 10;

/// clawctl configuration (config.toml). Unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(title = "clawctl config")]
pub struct Config {
    /// About this file itself.
    pub meta: Meta,
    /// Agent settings.
    pub agents: Agents,
    /// Model providers: endpoints, API styles and which key each uses.
    pub models: Models,
    /// Credential profiles and the order in which they are tried per provider.
    pub auth: Auth,
    /// The gateway service: where it listens and how clients authenticate.
    pub gateway: Gateway,
    /// Environment handed to the gateway.
    pub env: EnvSection,
    /// A fleet of gateways sharing one layer of config in etcd.
    pub fleet: Fleet,
}

/// About this file itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Meta {
    /// Config layout version. A missing version means 0 (written before versioning);
    /// `clawctl migrate` brings older files to the current version (1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub version: Option<u32>,
}

/// Agent settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Agents {
    /// Settings every agent starts from.
    pub defaults: AgentDefaults,
}

/// Settings every agent starts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AgentDefaults {
    /// The default model: a `"provider/model"` reference such as `"moonshot/kimi-k2.5"`,
    /// or a table `{ primary = "provider/model", fallbacks = ["provider/model", …] }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSetting>,
    /// Model aliases: `alias = "provider/model"`, usable wherever a model reference is.
    pub models: BTreeMap<String, String>,
}

/// A model reference, or a primary model with fallbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ModelSetting {
    /// `"provider/model"`, e.g. `"moonshot/kimi-k2.5"`.
    Ref(String),
    /// A primary model and the models tried when it fails.
    Table(ModelTable),
}

impl ModelSetting {
    pub fn primary(&self) -> Option<&str> {
        match self {
            ModelSetting::Ref(r) => Some(r),
            ModelSetting::Table(t) => t.primary.as_deref(),
        }
    }

    pub fn fallbacks(&self) -> &[String] {
        match self {
            ModelSetting::Ref(_) => &[],
            ModelSetting::Table(t) => &t.fallbacks,
        }
    }
}

/// A primary model and the models tried when it fails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelTable {
    /// The model agents use: `"provider/model"`, e.g. `"moonshot/kimi-k2.5"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Models tried in order when the primary fails: `["provider/model", …]`.
    #[serde(default)]
    pub fallbacks: Vec<String>,
}

/// Model providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Models {
    /// Providers by id (`moonshot`, `kimi-coding`, `zai`, `openai`, or your own id).
    pub providers: BTreeMap<String, ProviderConfig>,
}

/// One model provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    /// Endpoint base URL, e.g. `https://api.moonshot.ai/v1` (international) or
    /// `https://api.moonshot.cn/v1` (China). Unset: the catalog's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(url)]
    pub base_url: Option<String>,
    /// API style the endpoint speaks. Unset: the catalog's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiStyle>,
    /// The key: a credential reference `"cred:moonshot:default"` (stored in
    /// credentials.toml), an env reference `"${MOONSHOT_API_KEY}"`, or a literal key
    /// (allowed, but `doctor` offers to move it to credentials.toml).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-secret" = true))]
    pub api_key: Option<String>,
    /// Extra HTTP headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Model ids this provider serves (without the provider prefix).
    pub models: Vec<String>,
}

/// The wire protocol of a provider endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApiStyle {
    /// OpenAI chat completions (`POST /chat/completions`, Bearer key).
    OpenaiCompletions,
    /// OpenAI responses API.
    OpenaiResponses,
    /// Anthropic messages (`POST /v1/messages`, `x-api-key`).
    AnthropicMessages,
    /// Ollama's native API.
    Ollama,
}

impl ApiStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiStyle::OpenaiCompletions => "openai-completions",
            ApiStyle::OpenaiResponses => "openai-responses",
            ApiStyle::AnthropicMessages => "anthropic-messages",
            ApiStyle::Ollama => "ollama",
        }
    }
}

/// Credential profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// Profiles by id (`moonshot:default`); the secret itself lives in credentials.toml.
    pub profiles: BTreeMap<String, AuthProfile>,
    /// Per provider, the profile ids to try in order.
    pub order: BTreeMap<String, Vec<String>>,
}

/// One credential profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthProfile {
    /// Provider id this profile authenticates (`moonshot`).
    pub provider: String,
    /// What kind of credential the profile holds.
    #[serde(default)]
    pub mode: AuthMode,
}

/// Kind of credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// A provider API key.
    #[default]
    ApiKey,
    /// A bearer token.
    Token,
}

/// The gateway service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Gateway {
    /// TCP port the gateway listens on (1–65535).
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Where to listen: `loopback` (127.0.0.1, the default), `lan` (all interfaces),
    /// or an IP address.
    #[schemars(regex(
        pattern = r"^(loopback|lan|[0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"
    ))]
    pub bind: String,
    /// How clients (dashboard, CLI) authenticate to the gateway.
    pub auth: GatewayAuth,
    /// Deadlines of the model gateway, per client request and per provider attempt.
    pub timeouts: GatewayTimeouts,
    /// Size and connection limits that keep one client from starving the others.
    pub limits: GatewayLimits,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            port: DEFAULT_GATEWAY_PORT,
            bind: "loopback".to_string(),
            auth: GatewayAuth::default(),
            timeouts: GatewayTimeouts::default(),
            limits: GatewayLimits::default(),
        }
    }
}

/// Deadlines of the model gateway, in milliseconds. A provider attempt that misses
/// one counts as a `timeout` failure and the next fallback model is tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayTimeouts {
    /// Opening a connection to a provider (TCP and TLS), per attempt, in milliseconds.
    #[schemars(range(min = 1, max = 600000))]
    pub connect_ms: u64,
    /// From sending a request to a provider until its response headers, per attempt,
    /// in milliseconds. A non-streamed completion arrives whole, so this bounds the
    /// whole generation for those.
    #[schemars(range(min = 1, max = 3600000))]
    pub first_byte_ms: u64,
    /// The longest silence between two chunks of a provider's answer (streamed, or
    /// the rest of a non-streamed body), in milliseconds.
    #[schemars(range(min = 1, max = 3600000))]
    pub idle_ms: u64,
    /// How long a client may take to send its request headers, and then its body,
    /// in milliseconds; a slower client is disconnected.
    #[schemars(range(min = 1, max = 600000))]
    pub client_read_ms: u64,
    /// On SIGTERM, how long requests in flight may take to finish before the gateway
    /// exits anyway, in milliseconds.
    #[schemars(range(min = 0, max = 600000))]
    pub drain_ms: u64,
}

impl Default for GatewayTimeouts {
    fn default() -> Self {
        GatewayTimeouts {
            connect_ms: 10_000,
            first_byte_ms: 300_000,
            idle_ms: 120_000,
            client_read_ms: 15_000,
            drain_ms: 15_000,
        }
    }
}

/// Size and connection limits of the model gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayLimits {
    /// The largest request body accepted, in bytes; larger requests get 413.
    #[schemars(range(min = 1024, max = 1073741824))]
    pub max_body_bytes: u64,
    /// The largest request head (request line and headers), in bytes; larger heads
    /// get 431 and the connection is closed.
    #[schemars(range(min = 8192, max = 16777216))]
    pub max_header_bytes: u64,
    /// Client connections open at once. The gateway lowers it to fit its open-file
    /// limit (keeping descriptors for provider connections); further clients wait in
    /// the listen queue.
    #[schemars(range(min = 1, max = 1000000))]
    pub max_connections: u32,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        GatewayLimits {
            max_body_bytes: 8 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_connections: 4096,
        }
    }
}

/// Client authentication to the gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayAuth {
    /// `token` (clients send `Authorization: Bearer <token>`), `password`, or `none`.
    pub mode: GatewayAuthMode,
    /// The token clients must send: `"cred:gateway:default"` or `"${CLAWCTL_GATEWAY_TOKEN}"`
    /// (a literal is allowed but flagged).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-secret" = true))]
    pub token: Option<String>,
}

/// Gateway client authentication mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GatewayAuthMode {
    /// Bearer token (default).
    #[default]
    Token,
    /// Password.
    Password,
    /// No authentication (loopback only is sensible).
    None,
}

/// Environment handed to the gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnvSection {
    /// Variables set for the gateway process (names → values). Prefer `cred:` references
    /// over keys here.
    pub vars: BTreeMap<String, String>,
    /// Importing the login shell's environment into the gateway.
    pub shell_env: ShellEnv,
}

/// Importing the login shell's environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ShellEnv {
    /// Run the login shell once at gateway start and import its variables.
    pub enabled: bool,
    /// How long to wait for the shell, in milliseconds.
    #[schemars(range(min = 1, max = 600000))]
    pub timeout_ms: u64,
}

impl Default for ShellEnv {
    fn default() -> Self {
        ShellEnv {
            enabled: false,
            timeout_ms: 15000,
        }
    }
}

/// A fleet of gateways sharing one layer of config in etcd: the keys under
/// `/clawctl/<name>/config/` sit between the defaults and config.toml, and each gateway
/// publishes what it runs under `/clawctl/<name>/members/`. Set these in each gateway's
/// local config (or `CLAWCTL_FLEET` / `CLAWCTL_FLEET_ETCD`), never in the fleet layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Fleet {
    /// The fleet's name, e.g. `"prod"`: the layer is read from `/clawctl/<name>/config/`.
    /// Unset: no fleet (nothing is read from etcd).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"))]
    pub name: Option<String>,
    /// The etcd cluster holding the fleet.
    pub etcd: FleetEtcd,
    /// Seconds a member's record outlives its gateway: the lease the gateway keeps alive
    /// (1–3600).
    #[schemars(range(min = 1, max = 3600))]
    pub member_ttl_secs: u64,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet {
            name: None,
            etcd: FleetEtcd::default(),
            member_ttl_secs: DEFAULT_MEMBER_TTL_SECS,
        }
    }
}

/// The etcd cluster holding the fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FleetEtcd {
    /// Client URLs of the etcd members, e.g. `["http://10.0.0.5:2379", "http://10.0.0.6:2379"]`.
    pub endpoints: Vec<String>,
}

impl Config {
    /// The default model's primary reference, if any.
    pub fn primary_model(&self) -> Option<&str> {
        self.agents
            .defaults
            .model
            .as_ref()
            .and_then(|m| m.primary())
    }

    pub fn fallback_models(&self) -> &[String] {
        self.agents
            .defaults
            .model
            .as_ref()
            .map(|m| m.fallbacks())
            .unwrap_or(&[])
    }

    /// Resolve an alias to its `provider/model` reference.
    pub fn resolve_model<'a>(&'a self, reference: &'a str) -> &'a str {
        self.agents
            .defaults
            .models
            .get(reference)
            .map(String::as_str)
            .unwrap_or(reference)
    }
}

/// Split `provider/model`. Model ids may themselves contain `/` (openrouter).
pub fn split_model_ref(reference: &str) -> Option<(&str, &str)> {
    let (p, m) = reference.split_once('/')?;
    if p.is_empty() || m.is_empty() {
        None
    } else {
        Some((p, m))
    }
}
