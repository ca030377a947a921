//! OpenClaw's provider ids and the environment variables it reads keys from.
//!
//! Reference: `openclaw/openclaw` `src/agents/model-selection.ts`
//! (`normalizeProviderId`), `src/secrets/provider-env-vars.ts` (`PROVIDER_ENV_VARS`:
//! for each provider the variables consulted in order, the first non-empty wins),
//! the provider table of <https://docs.openclaw.ai/concepts/model-providers> and the
//! workspace-`.env` block list of <https://docs.openclaw.ai/help/environment>.

use crate::providers::catalog::Catalog;

/// `normalizeProviderId`: trim, lowercase, then OpenClaw's renames
/// (`z.ai`/`z-ai` → `zai`, `opencode-zen` → `opencode`, `qwen` → `qwen-portal` in the
/// releases that had the Qwen portal, `kimi-code` → `kimi-coding`, `bedrock` /
/// `aws-bedrock` → `amazon-bedrock`, `bytedance` / `doubao` → `volcengine`).
/// The `qwen` rename is left out: current OpenClaw's `qwen` is Qwen Cloud
/// (<https://docs.openclaw.ai/providers/qwen>), not the portal.
pub fn normalize_provider_id(id: &str) -> String {
    let n = id.trim().to_ascii_lowercase();
    match n.as_str() {
        "z.ai" | "z-ai" => "zai".into(),
        "opencode-zen" => "opencode".into(),
        "kimi-code" => "kimi-coding".into(),
        "bedrock" | "aws-bedrock" => "amazon-bedrock".into(),
        "bytedance" | "doubao" => "volcengine".into(),
        _ => n,
    }
}

/// The catalog id for an OpenClaw provider id: OpenClaw's normalisation, then the
/// catalog's aliases (`kimi` → `kimi-coding`, `dashscope` → `qwen`, …).
pub fn catalog_id(id: &str, catalog: &Catalog) -> String {
    let n = normalize_provider_id(id);
    catalog.get(&n).map(|p| p.id.clone()).unwrap_or(n)
}

/// `PROVIDER_ENV_VARS` (src/secrets/provider-env-vars.ts), with the providers the
/// current docs table adds (deepseek, github-copilot, groq, google's
/// `GOOGLE_API_KEY`, qwen's compat names).
pub const PROVIDER_ENV_VARS: &[(&str, &[&str])] = &[
    ("openai", &["OPENAI_API_KEY"]),
    ("anthropic", &["ANTHROPIC_API_KEY"]),
    ("google", &["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
    ("minimax", &["MINIMAX_API_KEY"]),
    ("minimax-cn", &["MINIMAX_API_KEY"]),
    ("moonshot", &["MOONSHOT_API_KEY"]),
    ("kimi-coding", &["KIMI_API_KEY", "KIMICODE_API_KEY"]),
    ("synthetic", &["SYNTHETIC_API_KEY"]),
    ("venice", &["VENICE_API_KEY"]),
    ("zai", &["ZAI_API_KEY", "Z_AI_API_KEY"]),
    ("xiaomi", &["XIAOMI_API_KEY"]),
    ("openrouter", &["OPENROUTER_API_KEY"]),
    ("cloudflare-ai-gateway", &["CLOUDFLARE_AI_GATEWAY_API_KEY"]),
    ("litellm", &["LITELLM_API_KEY"]),
    ("vercel-ai-gateway", &["AI_GATEWAY_API_KEY"]),
    ("opencode", &["OPENCODE_API_KEY", "OPENCODE_ZEN_API_KEY"]),
    ("together", &["TOGETHER_API_KEY"]),
    ("huggingface", &["HUGGINGFACE_HUB_TOKEN", "HF_TOKEN"]),
    ("qianfan", &["QIANFAN_API_KEY"]),
    ("xai", &["XAI_API_KEY"]),
    ("mistral", &["MISTRAL_API_KEY"]),
    ("kilocode", &["KILOCODE_API_KEY"]),
    ("modelstudio", &["MODELSTUDIO_API_KEY"]),
    (
        "qwen",
        &["QWEN_API_KEY", "MODELSTUDIO_API_KEY", "DASHSCOPE_API_KEY"],
    ),
    ("volcengine", &["VOLCANO_ENGINE_API_KEY"]),
    ("byteplus", &["BYTEPLUS_API_KEY"]),
    ("deepseek", &["DEEPSEEK_API_KEY"]),
    ("groq", &["GROQ_API_KEY"]),
    (
        "github-copilot",
        &["COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"],
    ),
    ("ollama", &["OLLAMA_API_KEY"]),
    ("lmstudio", &["LM_API_TOKEN"]),
];

/// The variables OpenClaw reads a provider's key from, first wins: its own table for
/// the normalised id, else the catalog's `key_env`.
pub fn key_vars(id: &str, catalog: &Catalog) -> Vec<String> {
    let n = normalize_provider_id(id);
    if let Some((_, vars)) = PROVIDER_ENV_VARS.iter().find(|(p, _)| *p == n) {
        return vars.iter().map(|v| v.to_string()).collect();
    }
    let c = catalog_id(&n, catalog);
    if let Some((_, vars)) = PROVIDER_ENV_VARS.iter().find(|(p, _)| *p == c) {
        return vars.iter().map(|v| v.to_string()).collect();
    }
    catalog
        .get(&c)
        .map(|p| p.key_env.clone())
        .unwrap_or_default()
}

/// Every provider credential variable OpenClaw knows (environment.md, "Provider
/// credentials"): what a workspace `.env` may not set.
pub const KNOWN_CREDENTIAL_VARS: &[&str] = &[
    "AI_GATEWAY_API_KEY",
    "ANTHROPIC_ADMIN_API_KEY",
    "ANTHROPIC_ADMIN_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_OAUTH_TOKEN",
    "ARCEEAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_SPEECH_API_KEY",
    "AZURE_SPEECH_KEY",
    "BASETEN_API_KEY",
    "BRAVE_API_KEY",
    "BYTEPLUS_API_KEY",
    "BYTEPLUS_SEED_SPEECH_API_KEY",
    "CEREBRAS_API_KEY",
    "CHUTES_API_KEY",
    "CHUTES_OAUTH_TOKEN",
    "CLAWROUTER_API_KEY",
    "CLOUDFLARE_AI_GATEWAY_API_KEY",
    "CODEX_API_KEY",
    "COHERE_API_KEY",
    "COMFY_API_KEY",
    "COMFY_CLOUD_API_KEY",
    "COPILOT_GITHUB_TOKEN",
    "DASHSCOPE_API_KEY",
    "DEEPGRAM_API_KEY",
    "DEEPINFRA_API_KEY",
    "DEEPSEEK_API_KEY",
    "ELEVENLABS_API_KEY",
    "EXA_API_KEY",
    "FAL_API_KEY",
    "FAL_KEY",
    "FEATHERLESS_API_KEY",
    "FIRECRAWL_API_KEY",
    "FIREWORKS_API_KEY",
    "GEMINI_API_KEY",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GMI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_API_KEY",
    "GRADIUM_API_KEY",
    "GROQ_API_KEY",
    "HF_TOKEN",
    "HUGGINGFACE_HUB_TOKEN",
    "INWORLD_API_KEY",
    "KILOCODE_API_KEY",
    "KIMICODE_API_KEY",
    "KIMI_API_KEY",
    "LITELLM_API_KEY",
    "LM_API_TOKEN",
    "LONGCAT_API_KEY",
    "MINIMAX_API_KEY",
    "MINIMAX_CODE_PLAN_KEY",
    "MINIMAX_CODING_API_KEY",
    "MINIMAX_OAUTH_TOKEN",
    "MISTRAL_API_KEY",
    "MODELSTUDIO_API_KEY",
    "MODEL_API_KEY",
    "MOONSHOT_API_KEY",
    "NOVITA_API_KEY",
    "NVIDIA_API_KEY",
    "OLLAMA_API_KEY",
    "OPENAI_ADMIN_KEY",
    "OPENAI_API_KEY",
    "OPENCODE_API_KEY",
    "OPENCODE_ZEN_API_KEY",
    "OPENROUTER_API_KEY",
    "PARALLEL_API_KEY",
    "PERPLEXITY_API_KEY",
    "PIXVERSE_API_KEY",
    "QIANFAN_API_KEY",
    "QWEN_API_KEY",
    "QWEN_TOKEN_PLAN_API_KEY",
    "RUNWAYML_API_SECRET",
    "RUNWAY_API_KEY",
    "SENSEAUDIO_API_KEY",
    "SGLANG_API_KEY",
    "SPEECH_KEY",
    "STEPFUN_API_KEY",
    "SYNTHETIC_API_KEY",
    "TAVILY_API_KEY",
    "TOGETHER_API_KEY",
    "TOKENHUB_API_KEY",
    "TOKENPLAN_API_KEY",
    "VENICE_API_KEY",
    "VLLM_API_KEY",
    "VOLCANO_ENGINE_API_KEY",
    "VOLCENGINE_TTS_API_KEY",
    "VOLCENGINE_TTS_TOKEN",
    "VOYAGE_API_KEY",
    "VYDRA_API_KEY",
    "XAI_API_KEY",
    "XIAOMI_API_KEY",
    "XIAOMI_TOKEN_PLAN_API_KEY",
    "XI_API_KEY",
    "ZAI_API_KEY",
    "Z_AI_API_KEY",
];

/// Why OpenClaw ignores this variable in a workspace (`./.env`) file, if it does:
/// provider credentials, endpoint redirects (`*_API_HOST`, `*_BASE_URL`,
/// `*_ENDPOINT`, `*_HOMESERVER`) and the `OPENCLAW_*`, `CLAWHUB_*`,
/// `ANTHROPIC_API_KEY_*`, `OPENAI_API_KEY_*` namespaces.
pub fn workspace_block_reason(name: &str, catalog: &Catalog) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    if KNOWN_CREDENTIAL_VARS.contains(&upper.as_str())
        || catalog.providers.iter().any(|p| p.key_env.contains(&upper))
    {
        return Some("a provider credential");
    }
    if ["_API_HOST", "_BASE_URL", "_ENDPOINT", "_HOMESERVER"]
        .iter()
        .any(|s| upper.ends_with(s))
    {
        return Some("an endpoint redirect");
    }
    if [
        "OPENCLAW_",
        "CLAWHUB_",
        "ANTHROPIC_API_KEY_",
        "OPENAI_API_KEY_",
    ]
    .iter()
    .any(|p| upper.starts_with(p))
    {
        return Some("a protected runtime control");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openclaw_normalisation() {
        assert_eq!(normalize_provider_id(" Z-AI "), "zai");
        assert_eq!(normalize_provider_id("z.ai"), "zai");
        assert_eq!(normalize_provider_id("kimi-code"), "kimi-coding");
        assert_eq!(normalize_provider_id("doubao"), "volcengine");
        assert_eq!(normalize_provider_id("Moonshot"), "moonshot");
        let c = Catalog::builtin();
        assert_eq!(catalog_id("kimi", &c), "kimi-coding");
        assert_eq!(catalog_id("kimi-code", &c), "kimi-coding");
        assert_eq!(catalog_id("dashscope", &c), "qwen");
        assert_eq!(catalog_id("claude-cli", &c), "claude-cli");
    }

    #[test]
    fn key_variables_in_openclaw_order() {
        let c = Catalog::builtin();
        assert_eq!(key_vars("kimi", &c), ["KIMI_API_KEY", "KIMICODE_API_KEY"]);
        assert_eq!(key_vars("z-ai", &c), ["ZAI_API_KEY", "Z_AI_API_KEY"]);
        assert_eq!(key_vars("moonshot", &c), ["MOONSHOT_API_KEY"]);
        assert_eq!(
            key_vars("github-copilot", &c),
            ["COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"]
        );
        assert!(key_vars("nobody", &c).is_empty());
    }

    #[test]
    fn workspace_dotenv_filter() {
        let c = Catalog::builtin();
        assert_eq!(
            workspace_block_reason("MOONSHOT_API_KEY", &c),
            Some("a provider credential")
        );
        assert_eq!(
            workspace_block_reason("MOONSHOT_BASE_URL", &c),
            Some("an endpoint redirect")
        );
        assert_eq!(
            workspace_block_reason("OPENCLAW_GATEWAY_TOKEN", &c),
            Some("a protected runtime control")
        );
        assert_eq!(workspace_block_reason("GAMEREG_VAULT", &c), None);
    }
}
