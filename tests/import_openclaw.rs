//! Importing OpenClaw configs: fixtures written from OpenClaw's documented format,
//! copies of the real-world corpus, and (when `../shared/corpus/openclaw` is beside
//! the checkout) the whole corpus.

use std::path::{Path, PathBuf};

use clawctl::config::keypath::KeyPath;
use clawctl::config::model::{Config, ModelSetting};
use clawctl::providers::catalog::Catalog;
use clawctl::secrets::mask;
use clawctl::transfer::openclaw::json5::{self, Kind, Node};
use clawctl::transfer::openclaw::{
    CredentialKind, ImportError, ImportErrorKind, OpenClawImport, import_openclaw,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openclaw")
}

fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

fn import(rel: &str) -> OpenClawImport {
    import_openclaw(&fixture(rel), &Catalog::builtin())
        .unwrap_or_else(|e| panic!("{rel} should import: {e}"))
}

fn import_err(rel: &str) -> ImportError {
    match import_openclaw(&fixture(rel), &Catalog::builtin()) {
        Ok(_) => panic!("{rel} should not import"),
        Err(e) => e,
    }
}

fn text(r: &OpenClawImport) -> String {
    r.document.to_string()
}

/// The document as clawctl reads it: typed, and valid against the schema.
fn config_of(r: &OpenClawImport) -> Config {
    let json = clawctl::config::tomlconv::item_to_json(r.document.as_item());
    let errors: Vec<String> = clawctl::config::schema::validator()
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e.masked(), e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:?}\n{}", text(r));
    toml_edit::de::from_document::<Config>(r.document.clone())
        .unwrap_or_else(|e| panic!("does not deserialize: {e}\n{}", text(r)))
}

fn unmapped_reason<'a>(r: &'a OpenClawImport, path: &str) -> Option<&'a str> {
    r.unmapped
        .iter()
        .find(|u| u.path == path)
        .map(|u| u.reason.as_str())
}

fn is_mapped(r: &OpenClawImport, from: &str) -> bool {
    r.mapped.iter().any(|m| m.from == from)
}

fn warned(r: &OpenClawImport, needle: &str) -> bool {
    r.warnings.iter().any(|w| w.contains(needle))
}

/// Whether a reported path (minus any `file: ` prefix) lies at or under `top`.
fn covers(path: &str, top: &str) -> bool {
    let path = match path.split_once(": ") {
        Some((file, rest)) if file.ends_with(".json") || file.ends_with(".json5") => rest,
        _ => path,
    };
    path == top || path.starts_with(&format!("{top}.")) || path.starts_with(&format!("{top}["))
}

/// Every top-level key of the file (as written; `$include` is resolved, not
/// imported) is mapped or reported.
fn assert_top_level_accounted(file: &Path, r: &OpenClawImport) {
    let raw = std::fs::read_to_string(file).unwrap();
    let parsed = json5::parse(&raw, 0).unwrap();
    for m in parsed.value.as_object().unwrap() {
        if m.key == "$include" {
            continue;
        }
        let top = KeyPath::root().child(m.key.as_str()).to_string();
        let accounted = r.mapped.iter().any(|x| covers(&x.from, &top))
            || r.unmapped.iter().any(|x| covers(&x.path, &top));
        assert!(
            accounted,
            "{}: top-level key `{top}` is neither mapped nor reported",
            file.display()
        );
    }
}

/// Strings in the input under secret-sounding keys that are real values (not
/// references, env names or placeholders).
fn input_secrets(node: &Node, key: Option<&str>, out: &mut Vec<String>) {
    match &node.kind {
        Kind::String(s) => {
            let Some(k) = key else { return };
            let secretish = mask::is_sensitive_name(k) || matches!(k, "access" | "refresh");
            let t = s.trim();
            if secretish
                && t.chars().count() >= 10
                && !t.contains("${")
                && !t.starts_with("{env:")
                && !clawctl::transfer::openclaw::is_placeholder(t)
                && !t
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                out.push(t.to_string());
            }
        }
        Kind::Array(items) => items.iter().for_each(|i| input_secrets(i, key, out)),
        Kind::Object(members) => members
            .iter()
            .for_each(|m| input_secrets(&m.value, Some(&m.key), out)),
        _ => {}
    }
}

/// The properties every successful import has: no input secret in the document
/// text or in anything printable, each literal secret stored as a credential, every
/// top-level key accounted for, and a document clawctl accepts.
fn assert_import_properties(files: &[PathBuf], r: &OpenClawImport) {
    let doc = text(r);
    // Everything printable about the result, credentials included (their Debug
    // describes the secret).
    let printable = format!("{r:?}");
    for f in files {
        let raw = std::fs::read_to_string(f).unwrap();
        let Ok(parsed) = json5::parse(&raw, 0) else {
            continue;
        };
        let mut secrets = Vec::new();
        input_secrets(&parsed.value, None, &mut secrets);
        for s in secrets {
            assert!(
                !doc.contains(&s),
                "{}: a secret ({}) is in the document:\n{doc}",
                f.display(),
                mask::describe(&s)
            );
            assert!(
                !printable.contains(&s),
                "{}: a secret ({}) is in the report",
                f.display(),
                mask::describe(&s)
            );
        }
    }
    assert!(doc.starts_with("[meta]\nversion = 1\n"), "{doc}");
    for c in &r.credentials {
        assert!(mask::is_valid_profile_id(&c.profile_id), "{c:?}");
        // Short dummy keys ("lmstudio") may equal a provider id; real keys are longer.
        if c.secret.len() >= 10 {
            assert!(!doc.contains(&c.secret), "{c:?} leaked");
        }
    }
    // Secret fields hold references only.
    let cfg = config_of(r);
    let refs = cfg
        .models
        .providers
        .values()
        .filter_map(|p| p.api_key.as_deref())
        .chain(cfg.gateway.auth.token.as_deref());
    for v in refs {
        assert!(
            matches!(
                mask::classify(v),
                mask::SecretValue::CredRef(_) | mask::SecretValue::EnvRef(_)
            ),
            "secret field holds {v:?}"
        );
    }
    assert_top_level_accounted(&files[0], r);
}

// ---------------------------------------------------------------------------
// The issue's done-when scenario
// ---------------------------------------------------------------------------

#[test]
fn done_when_literal_moonshot_key_and_zai_reference() {
    let path = fixture("done-when/openclaw.json");
    let r = import("done-when/openclaw.json");
    let literal = "sk-FIXTUREmoonshotKEY0123456789abcdefghijklmnopqrs";

    // The literal key becomes a credential for moonshot, referred to by cred:.
    assert_eq!(r.credentials.len(), 1, "{:?}", r.credentials);
    let c = &r.credentials[0];
    assert_eq!(c.profile_id, "moonshot:imported");
    assert_eq!(c.provider, "moonshot");
    assert_eq!(c.kind, CredentialKind::ApiKey);
    assert_eq!(c.secret, literal);
    assert_eq!(c.from, "models.providers.moonshot.apiKey");

    let doc = text(&r);
    assert!(!doc.contains(literal), "{doc}");
    assert!(!doc.contains("FIXTUREmoonshot"), "{doc}");
    assert!(
        doc.contains("[models.providers.moonshot]"),
        "tables, not inline: {doc}"
    );
    assert!(doc.contains("[agents.defaults.model]"), "{doc}");

    let cfg = config_of(&r);
    assert_eq!(cfg.meta.version, Some(1));
    let moonshot = &cfg.models.providers["moonshot"];
    assert_eq!(moonshot.api_key.as_deref(), Some("cred:moonshot:imported"));
    assert_eq!(
        moonshot.base_url.as_deref(),
        Some("https://api.moonshot.ai/v1")
    );
    assert_eq!(moonshot.models, ["kimi-k2.5"]);
    assert_eq!(
        cfg.models.providers["zai"].api_key.as_deref(),
        Some("${ZAI_API_KEY}")
    );
    assert_eq!(cfg.primary_model(), Some("moonshot/kimi-k2.5"));
    assert_eq!(cfg.fallback_models(), ["zai/glm-4.7"]);
    assert_eq!(cfg.gateway.port, 18789);

    // Unknown keys are listed, one per entry, with a reason.
    for p in [
        "channels.discord",
        "session.scope",
        "agents.defaults.workspace",
        "models.providers.moonshot.models[0]",
    ] {
        let reason =
            unmapped_reason(&r, p).unwrap_or_else(|| panic!("{p} not reported: {:?}", r.unmapped));
        assert!(!reason.is_empty());
    }
    assert!(is_mapped(&r, "models.providers.zai.apiKey"));
    assert_eq!(r.files, vec![path.clone()]);
    // The secret check below is not vacuous: it sees the literal.
    let parsed = json5::parse(&std::fs::read_to_string(&path).unwrap(), 0).unwrap();
    let mut secrets = Vec::new();
    input_secrets(&parsed.value, None, &mut secrets);
    assert_eq!(secrets, [literal]);
    assert_import_properties(&[path], &r);
}

// ---------------------------------------------------------------------------
// The documented format, end to end
// ---------------------------------------------------------------------------

#[test]
fn documented_format_with_includes_and_auth_profile_stores() {
    let r = import("documented/openclaw.json");
    let cfg = config_of(&r);
    let doc = text(&r);

    // $include: agents.defaults comes from agent-defaults.json5, gateway from
    // gateway.json5 with the sibling `bind` winning.
    assert_eq!(cfg.primary_model(), Some("moonshot/kimi-k2.5"));
    assert_eq!(cfg.fallback_models(), ["zai/glm-4.7", "kimi-coding/k2p5"]);
    assert_eq!(cfg.gateway.port, 18790);
    assert_eq!(cfg.gateway.bind, "loopback");
    assert_eq!(
        cfg.gateway.auth.token.as_deref(),
        Some("${OPENCLAW_GATEWAY_TOKEN}")
    );
    let names: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            f.strip_prefix(fixture("documented"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "openclaw.json",
            "agent-defaults.json5",
            "gateway.json5",
            "agents/main/agent/auth-profiles.json",
            "agents/work/agent/auth-profiles.json",
        ]
    );

    // Aliases: OpenClaw's { "provider/model": { alias } } turned around.
    assert_eq!(cfg.agents.defaults.models["kimi"], "moonshot/kimi-k2.5");
    assert_eq!(cfg.agents.defaults.models["glm"], "zai/glm-4.7");
    assert!(
        unmapped_reason(&r, "agents.defaults.models.\"kimi-code/k2p5\"")
            .unwrap()
            .contains("no alias")
    );
    assert!(unmapped_reason(&r, "agents.defaults.models.\"zai/glm-4.7\".params").is_some());

    // Provider ids: kimi-code is the old id of kimi-coding.
    assert!(warned(
        &r,
        "provider id `kimi-code` imported as `kimi-coding`"
    ));
    let kimi = &cfg.models.providers["kimi-coding"];
    assert_eq!(kimi.api_key.as_deref(), Some("${KIMI_API_KEY}"));
    assert_eq!(kimi.headers["User-Agent"], "openclaw");
    assert_eq!(
        kimi.headers["X-Api-Token"],
        "cred:kimi-coding:header-x-api-token"
    );
    assert!(unmapped_reason(&r, "models.providers.kimi-code.timeoutSeconds").is_some());
    assert_eq!(cfg.models.providers["zai"].models, ["glm-4.7", "glm-4.6"]);

    // env: a provider key moves to credentials under its provider, another secret
    // under env:<VAR>; shellEnv becomes shell_env.
    let cred = |id: &str| {
        r.credentials
            .iter()
            .find(|c| c.profile_id == id)
            .unwrap_or_else(|| panic!("no credential {id}: {:?}", r.credentials))
    };
    assert_eq!(cred("openrouter:imported").provider, "openrouter");
    assert_eq!(
        cfg.env.vars["OPENROUTER_API_KEY"],
        "cred:openrouter:imported"
    );
    assert_eq!(
        cred("env:BRAVE_API_KEY").secret,
        "BSAfixture000000000000000000001"
    );
    assert_eq!(cfg.env.vars["BRAVE_API_KEY"], "cred:env:BRAVE_API_KEY");
    assert_eq!(cfg.env.vars["NODE_ENV"], "production");
    assert!(cfg.env.shell_env.enabled);
    assert_eq!(cfg.env.shell_env.timeout_ms, 20000);
    assert!(warned(
        &r,
        "moved to credentials.toml as `openrouter:imported`"
    ));

    // auth-profiles.json: literal keys become credentials + profiles; a keyRef goes
    // on the provider; OAuth is reported; the same id from another agent with a
    // different key is kept under a new id.
    assert_eq!(
        cred("zai:default").secret,
        "0000000000000000000000000000fix0.fixture00000001"
    );
    assert_eq!(cred("zai:default").kind, CredentialKind::ApiKey);
    assert_eq!(
        cred("zai:work").secret,
        "0000000000000000000000000000fix0.fixture00000002"
    );
    assert_eq!(
        cred("zai:default-2").secret,
        "0000000000000000000000000000fix0.fixture00000003"
    );
    assert!(cfg.auth.profiles.contains_key("zai:default"));
    assert!(cfg.auth.profiles.contains_key("zai:work"));
    assert!(cfg.auth.profiles.contains_key("zai:default-2"));
    assert!(r.mapped.iter().any(|m| m.from
        == "agents/work/agent/auth-profiles.json: profiles.\"zai:default\".key"
        && m.to == "auth.profiles.\"zai:default-2\""));
    assert!(warned(&r, "stored as `zai:default-2`"));
    assert_eq!(cfg.auth.order["zai"], ["zai:default", "zai:work"]);
    assert_eq!(
        cfg.models.providers["anthropic"].api_key.as_deref(),
        Some("${ANTHROPIC_API_KEY}")
    );
    assert!(
        unmapped_reason(
            &r,
            "agents/main/agent/auth-profiles.json: profiles.\"openai-codex:default\""
        )
        .unwrap()
        .contains("OAuth")
    );
    assert!(unmapped_reason(&r, "auth.profiles.\"openai-codex:default\"").is_some());
    // The order named only the OAuth profile, so it is left out.
    assert!(!cfg.auth.order.contains_key("openai-codex"));
    assert!(unmapped_reason(&r, "auth.order.openai-codex").is_some());
    assert!(!is_mapped(&r, "auth.order.openai-codex"));

    // Everything else is reported.
    for p in [
        "\"$schema\"",
        "meta.lastTouchedVersion",
        "agents.list",
        "agents.defaults.heartbeat",
        "models.mode",
        "gateway.controlUi",
        "channels.telegram",
        "tools.web",
        "plugins",
    ] {
        assert!(
            unmapped_reason(&r, p).is_some(),
            "{p} not reported: {:?}",
            r.unmapped
        );
    }
    assert!(
        !doc.contains("0000000099:AAFixture"),
        "channel token leaked"
    );
    let files = r.files.clone();
    assert_import_properties(&files, &r);
}

#[test]
fn include_semantics_follow_openclaw() {
    let r = import("include-merge/openclaw.json5");
    let cfg = config_of(&r);
    // Keys beside $include win over both included files.
    assert_eq!(cfg.gateway.port, 19000);
    // Of the array, the later file wins.
    assert_eq!(cfg.gateway.bind, "loopback");
    // Arrays concatenate (included first, then the including file's).
    assert_eq!(cfg.fallback_models(), ["zai/glm-4.7", "zai/glm-4.6"]);
    assert_eq!(cfg.primary_model(), Some("moonshot/kimi-k2.5"));
    // Nested includes resolve relative to the file that holds them.
    assert_eq!(
        cfg.models.providers["zai"].base_url.as_deref(),
        Some("https://open.bigmodel.cn/api/paas/v4")
    );
    let names: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            f.strip_prefix(fixture("include-merge"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "openclaw.json5",
            "base.json5",
            "nested/models.json5",
            "nested/zai.json5",
            "override.json5"
        ]
    );
}

#[test]
fn include_cycle_is_an_error_naming_the_chain_and_the_spot() {
    let e = import_err("include-cycle/openclaw.json5");
    assert_eq!(e.kind, ImportErrorKind::IncludeCycle);
    assert_eq!(e.file, fixture("include-cycle/b.json5"));
    assert_eq!((e.line(), e.column()), (Some(2), Some(13)));
    assert!(e.message.contains("a.json5 → b.json5 → a.json5"), "{e}");
    let shown = e.to_string();
    assert!(shown.contains("b.json5:2:13:"), "{shown}");
}

#[test]
fn missing_include_names_the_file_and_the_include() {
    let e = import_err("include-missing/openclaw.json5");
    assert_eq!(e.kind, ImportErrorKind::Include);
    assert_eq!(e.file, fixture("include-missing/openclaw.json5"));
    assert_eq!((e.line(), e.column()), (Some(3), Some(23)));
    assert!(e.message.contains("agents.json5"), "{e}");
    // The documented example (corpus 048) fails the same way, its targets absent.
    let e = import_err("corpus/048-docs-include-directive.json5");
    assert_eq!(e.kind, ImportErrorKind::Include);
    assert_eq!(e.line(), Some(4));
}

#[test]
fn broken_files_fail_with_file_line_and_what_was_expected() {
    let e = import_err("broken/top-level-array.json5");
    assert_eq!(e.kind, ImportErrorKind::NotAnObject);
    assert_eq!((e.line(), e.column()), (Some(1), Some(1)));
    assert!(e.expected.contains("object"));

    let e = import_err("broken/missing-comma.json5");
    assert_eq!(e.kind, ImportErrorKind::Syntax);
    assert_eq!((e.line(), e.column()), (Some(6), Some(9)));
    assert!(e.expected.contains("`,` or `}`"), "{e}");
    // The key on the line before is never echoed.
    let shown = format!("{e} {e:?} {:?}", e.to_diagnostic());
    assert!(!shown.contains("FIXTUREbroken"), "{shown}");

    let e = import_err("broken/template-string.json5");
    assert_eq!(e.kind, ImportErrorKind::Syntax);
    assert_eq!((e.line(), e.column()), (Some(2), Some(20)));
    assert!(e.message.contains("backtick"), "{e}");

    let e = import_err("does-not-exist/openclaw.json");
    assert_eq!(e.kind, ImportErrorKind::Read);
    assert_eq!(e.line(), None);
}

#[test]
fn wrong_shape_is_rejected_clearly() {
    let e = import_err("corpus/013-wrong-shape-agents-map.json5");
    assert_eq!(e.kind, ImportErrorKind::Shape);
    assert_eq!((e.line(), e.column()), (Some(3), Some(5)));
    assert!(e.message.contains("not OpenClaw's config format"), "{e}");
    assert!(e.expected.contains("defaults"), "{e}");
}

// ---------------------------------------------------------------------------
// Legacy shapes and common mistakes
// ---------------------------------------------------------------------------

#[test]
fn legacy_shapes_and_mistakes_are_mapped_with_warnings() {
    let r = import("legacy/openclaw.json");
    let cfg = config_of(&r);

    // Top-level `agent` with a string model.
    assert_eq!(
        cfg.agents.defaults.model,
        Some(ModelSetting::Table(clawctl::config::model::ModelTable {
            primary: Some("anthropic/claude-opus-4-5".into()),
            fallbacks: vec![],
        }))
    );
    assert!(warned(&r, "top-level `agent` is the legacy"));
    assert!(unmapped_reason(&r, "agent.workspace").is_some());

    // gateway.token → gateway.auth.token; port as a string; tailnet reported.
    let gw = r
        .credentials
        .iter()
        .find(|c| c.profile_id == "gateway:imported")
        .unwrap();
    assert_eq!(gw.kind, CredentialKind::Token);
    assert_eq!(gw.secret, "legacy-gateway-token-0123456789abcdef");
    assert_eq!(
        cfg.gateway.auth.token.as_deref(),
        Some("cred:gateway:imported")
    );
    assert!(warned(&r, "legacy place of the gateway token"));
    assert_eq!(cfg.gateway.port, 18789);
    assert!(
        unmapped_reason(&r, "gateway.bind")
            .unwrap()
            .contains("tailnet")
    );

    // Flat env form: a provider key moves to credentials; placeholders are not stored.
    assert_eq!(
        cfg.env.vars["OPENROUTER_API_KEY"],
        "cred:openrouter:imported"
    );
    assert_eq!(cfg.env.vars["SHELL"], "/bin/zsh");
    assert!(!cfg.env.vars.contains_key("GROQ_API_KEY"));
    assert!(
        unmapped_reason(&r, "env.vars.GROQ_API_KEY")
            .unwrap()
            .contains("placeholder")
    );

    // {env:X} is wrong syntax: imported as ${X} with a warning.
    assert_eq!(
        cfg.models.providers["minimax"].api_key.as_deref(),
        Some("${MINIMAX_API_KEY}")
    );
    assert!(warned(&r, "{env:MINIMAX_API_KEY}"));
    // A bare env variable name is a reference.
    let proxy = &cfg.models.providers["custom-proxy"];
    assert_eq!(proxy.api_key.as_deref(), Some("${LITELLM_KEY}"));
    assert!(warned(&r, "bare name `LITELLM_KEY`"));
    assert!(proxy.api.is_none());
    assert!(
        unmapped_reason(&r, "models.providers.custom-proxy.api")
            .unwrap()
            .contains("google-generative-ai")
    );

    // OpenClaw's `kimi` is Kimi Coding.
    let kimi = r
        .credentials
        .iter()
        .find(|c| c.profile_id == "kimi-coding:imported")
        .unwrap();
    assert_eq!(kimi.provider, "kimi-coding");
    assert_eq!(
        cfg.models.providers["kimi-coding"].api_key.as_deref(),
        Some("cred:kimi-coding:imported")
    );
    assert!(warned(&r, "provider id `kimi` imported as `kimi-coding`"));

    // A base URL from an env variable and a placeholder key leave nothing for ollama.
    assert!(!cfg.models.providers.contains_key("ollama"));
    assert!(unmapped_reason(&r, "models.providers.ollama.baseUrl").is_some());
    assert!(
        unmapped_reason(&r, "models.providers.ollama.apiKey")
            .unwrap()
            .contains("placeholder")
    );
    assert!(warned(&r, "\"REPLACE_ME\""));
    assert!(
        r.credentials
            .iter()
            .all(|c| !c.secret.contains("REPLACE_ME"))
    );

    // Legacy top-level channel keys are reported.
    assert!(unmapped_reason(&r, "whatsapp.allowFrom").is_some());
    let files = r.files.clone();
    assert_import_properties(&files, &r);
}

#[test]
fn a_kimi_provider_pointing_at_moonshot_becomes_moonshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(
        &path,
        r#"{ models: { providers: { kimi: { baseUrl: "https://api.moonshot.cn/v1", apiKey: "${MOONSHOT_API_KEY}" },
                                    claude: { baseUrl: "https://proxy.example.com", apiKey: "${PROXY_KEY}" } } },
             agents: { defaults: { model: "kimi/kimi-k2.5" } } }"#,
    )
    .unwrap();
    let r = import_openclaw(&path, &Catalog::builtin()).unwrap();
    let cfg = config_of(&r);
    // The endpoint decides: Moonshot's China platform.
    assert!(cfg.models.providers.contains_key("moonshot"));
    assert_eq!(cfg.primary_model(), Some("moonshot/kimi-k2.5"));
    // An alias id pointing at some other host is the user's own provider.
    assert!(cfg.models.providers.contains_key("claude"));
}

// ---------------------------------------------------------------------------
// Real configs
// ---------------------------------------------------------------------------

#[test]
fn real_install_config_with_its_auth_profiles_store() {
    // Corpus 026 + 027: zai key only in auth-profiles.json, gateway token inline.
    let r = import("corpus-pairs/zhipuclaw/openclaw.json");
    let cfg = config_of(&r);
    let zai = r
        .credentials
        .iter()
        .find(|c| c.profile_id == "zai:default")
        .unwrap();
    assert_eq!(
        zai.secret,
        "0000000000000000000000000000000f.fake000000000016"
    );
    assert_eq!(cfg.auth.profiles["zai:default"].provider, "zai");
    let gw = r
        .credentials
        .iter()
        .find(|c| c.profile_id == "gateway:imported")
        .unwrap();
    assert_eq!(
        gw.secret,
        "000000000000000000000000000000000000000000000012"
    );
    assert_eq!(
        cfg.models.providers["zai"].base_url.as_deref(),
        Some("https://api.z.ai/api/coding/paas/v4")
    );
    assert!(!warned(&r, "no secret in the input"), "{:?}", r.warnings);
    assert!(unmapped_reason(&r, "channels.telegram").is_some());
    let files = r.files.clone();
    assert_import_properties(&files, &r);

    // Corpus 031 + 032: a plain sk- key in the Kimi Coding slot is flagged.
    let r = import("corpus-pairs/backup/openclaw.json");
    config_of(&r);
    assert!(warned(&r, "not one for Kimi Coding"), "{:?}", r.warnings);
    assert_eq!(
        r.credentials
            .iter()
            .map(|c| c.profile_id.as_str())
            .collect::<Vec<_>>(),
        [
            "gateway:imported",
            "kimi-coding:default",
            "moonshot:default"
        ]
    );
    let files = r.files.clone();
    assert_import_properties(&files, &r);
}

#[test]
fn corpus_specific_behaviour() {
    // 021: a bare env variable name as apiKey.
    let r = import("corpus/021-four-space-indent-env-name-as-key.json5");
    assert_eq!(
        config_of(&r).models.providers["ppio"].api_key.as_deref(),
        Some("${PPIO_API_KEY}")
    );
    // 029: a duplicate top-level key is warned about with both lines.
    let r = import("corpus/029-moonshot-cn-minimax-dashscope-windows.json5");
    assert!(
        warned(&r, "key `tools` is written twice"),
        "{:?}",
        r.warnings
    );
    assert!(warned(&r, "again at line 557"));
    // 030: an auth-profiles.json given directly.
    let r = import("corpus/030-auth-profiles-keyref-and-oauth.json5");
    assert!(warned(&r, "auth-profiles.json store"));
    assert_eq!(
        config_of(&r).models.providers["moonshot"]
            .api_key
            .as_deref(),
        Some("${OPENCLAW_MAIN_MOONSHOT_API_KEY}")
    );
    assert!(r.credentials.is_empty(), "OAuth tokens are not imported");
    // 006: an ES6 code point escape is not JSON5.
    let e = import_err("corpus/006-json5-backtick-string-zai-deepseek.json5");
    assert_eq!((e.line(), e.column()), (Some(117), Some(19)));
    assert!(e.message.contains("\\u{…}"), "{e}");
    // 052: OpenClaw's docs use `kimi/…` for Kimi Coding.
    let r = import("corpus/052-docs-kimi-coding.json5");
    assert_eq!(
        config_of(&r).primary_model(),
        Some("kimi-coding/kimi-for-coding")
    );
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json" || e == "json5") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures(), &mut out);
    out
}

/// Every fixture file that is a config: imports with the properties above, or fails
/// with an error naming the file and a line.
#[test]
fn every_fixture_imports_safely_or_fails_with_a_position() {
    let entry_points: Vec<PathBuf> = fixture_files()
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            // Included files and stores are read through their config.
            !s.contains("/agents/")
                && !s.contains("include-merge/")
                && !s.contains("include-cycle/a.")
                && !s.contains("include-cycle/b.")
                && !s.contains("documented/agent-defaults")
                && !s.contains("documented/gateway")
        })
        .collect();
    assert!(entry_points.len() >= 20, "{entry_points:?}");
    for p in entry_points {
        match import_openclaw(&p, &Catalog::builtin()) {
            Ok(r) => assert_import_properties(&r.files.clone(), &r),
            Err(e) => assert!(e.line().is_some(), "{}: {e}", p.display()),
        }
    }
}

/// The hand-written parser agrees with the `json5` crate on every fixture and
/// corpus file both accept, and rejects what it rejects.
#[test]
fn parser_agrees_with_the_json5_crate() {
    let mut files = fixture_files();
    if let Some(dir) = shared_corpus() {
        files.extend(corpus_files(&dir));
    }
    for f in files {
        let raw = std::fs::read_to_string(&f).unwrap();
        let ours = json5::parse(&raw, 0).map(|p| p.value.to_json());
        let theirs = ::json5::from_str::<serde_json::Value>(&raw);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", f.display()),
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "{}: ours {:?}, json5 crate {:?}",
                f.display(),
                a.err(),
                b.err()
                    .map(|e| e.to_string().lines().next().unwrap_or_default().to_string())
            ),
        }
    }
}

fn shared_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/openclaw");
    dir.is_dir().then_some(dir)
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json5"))
        .collect();
    files.sort();
    files
}

/// The whole shared corpus, when it is beside the checkout: no panic; each file
/// imports (with every top-level key accounted for and a valid document) or fails
/// with an error naming the file and a line.
#[test]
fn whole_shared_corpus() {
    let Some(dir) = shared_corpus() else {
        eprintln!("../shared/corpus/openclaw is absent; skipped");
        return;
    };
    let files = corpus_files(&dir);
    assert!(!files.is_empty());
    let (mut ok, mut failed) = (0, 0);
    for f in files {
        let result = std::panic::catch_unwind(|| import_openclaw(&f, &Catalog::builtin()));
        match result {
            Err(_) => panic!("{}: the importer panicked", f.display()),
            Ok(Ok(r)) => {
                ok += 1;
                assert_import_properties(&r.files.clone(), &r);
            }
            Ok(Err(e)) => {
                failed += 1;
                assert!(e.line().is_some(), "{}: {e}", f.display());
                assert!(e.to_string().starts_with(&f.display().to_string()), "{e}");
            }
        }
    }
    assert!(ok > failed, "{ok} imported, {failed} failed");
}

fn import_text(text: &str) -> Result<OpenClawImport, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, text).unwrap();
    import_openclaw(&path, &Catalog::builtin())
}

#[test]
fn gateway_bind_forms() {
    let bind = |g: &str| {
        let r = import_text(&format!("{{ gateway: {g} }}")).unwrap();
        let cfg = config_of(&r);
        (cfg.gateway.bind, r.unmapped)
    };
    assert_eq!(
        bind("{ bind: 'custom', customBindHost: '192.168.1.5' }").0,
        "192.168.1.5"
    );
    assert_eq!(bind("{ bind: '::1' }").0, "::1");
    let (b, unmapped) = bind("{ bind: 'custom', customBindHost: 'myhost.local' }");
    assert_eq!(b, "loopback");
    assert!(unmapped.iter().any(|u| u.path == "gateway.bind"));
    assert!(unmapped.iter().any(|u| u.path == "gateway.customBindHost"));
    let (b, unmapped) = bind("{ bind: 'auto' }");
    assert_eq!(b, "loopback");
    assert!(
        unmapped
            .iter()
            .any(|u| u.path == "gateway.bind" && u.reason.contains("auto"))
    );
}

#[test]
fn includes_nest_at_most_ten_levels() {
    let dir = tempfile::tempdir().unwrap();
    let chain = |dir: &Path, n: usize| {
        for i in 0..n {
            std::fs::write(
                dir.join(format!("{i}.json5")),
                format!("{{ $include: './{}.json5' }}", i + 1),
            )
            .unwrap();
        }
        std::fs::write(dir.join(format!("{n}.json5")), "{ port: 18800 }").unwrap();
        std::fs::write(
            dir.join("openclaw.json"),
            "{ gateway: { $include: './0.json5' } }",
        )
        .unwrap();
        import_openclaw(&dir.join("openclaw.json"), &Catalog::builtin())
    };
    // Ten files deep (openclaw.json → 0 → … → 9) is allowed.
    let r = chain(dir.path(), 9).unwrap();
    assert_eq!(config_of(&r).gateway.port, 18800);
    let deeper = tempfile::tempdir().unwrap();
    let e = chain(deeper.path(), 10).unwrap_err();
    assert_eq!(e.kind, ImportErrorKind::Include);
    assert!(e.message.contains("more than 10 levels"), "{e}");
    assert_eq!(e.line(), Some(1));
}

#[test]
fn sibling_keys_need_an_object_to_merge_into() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list.json5"), "[1, 2]").unwrap();
    std::fs::write(
        dir.path().join("openclaw.json"),
        "{\n  agents: { $include: './list.json5', defaults: {} },\n}",
    )
    .unwrap();
    let e = import_openclaw(&dir.path().join("openclaw.json"), &Catalog::builtin()).unwrap_err();
    assert_eq!(e.kind, ImportErrorKind::Include);
    assert_eq!(e.line(), Some(2));
    assert!(e.message.contains("sibling keys"), "{e}");
}

/// Issue 15: `clawctl import` of every shared-corpus config either succeeds (with
/// warnings for what it cannot map) or fails with a located error (syntax, a shape
/// that is not OpenClaw's, a missing `$include` target) — never because a provider
/// is missing from the catalog (11 of 60 were refused for that before).
#[test]
fn every_corpus_config_imports_through_the_cli_or_fails_located() {
    let Some(dir) = shared_corpus() else {
        eprintln!("../shared/corpus/openclaw is absent; skipped");
        return;
    };
    let mut ok = 0;
    let mut located = Vec::new();
    for f in corpus_files(&dir) {
        let sb = crate::common::Sandbox::new();
        let run = sb.run(&[
            "import",
            "--dry-run",
            "--from",
            "openclaw",
            &f.display().to_string(),
        ]);
        if run.code == 0 {
            ok += 1;
            continue;
        }
        let all = run.all();
        assert!(
            !all.contains("neither in the catalog") && !all.contains("not in the catalog"),
            "{}: refused for a provider the catalog lacks:\n{all}",
            f.display()
        );
        assert!(
            all.contains(&format!("{}:", f.display())),
            "{}: the error names no file and line:\n{all}",
            f.display()
        );
        located.push(f.file_name().unwrap().to_string_lossy().into_owned());
    }
    // 006 (ES6 escape), 013 and 041 (not OpenClaw's shape), 048 (docs fragment whose
    // `$include` targets are absent).
    assert_eq!(
        located,
        [
            "006-json5-backtick-string-zai-deepseek.json5",
            "013-wrong-shape-agents-map.json5",
            "041-json5-hallucinated-schema.json5",
            "048-docs-include-directive.json5"
        ],
        "{ok} imported"
    );
}

/// A model reference whose provider nobody defines is left out with a warning that
/// carries the fix; the rest of the config imports (corpus 028: `claude-cli/…`).
#[test]
fn unknown_provider_in_the_default_model_is_a_warning_with_the_fix() {
    let r = import_text(
        r#"{ agents: { defaults: { model: { primary: "claude-cli/claude-sonnet-4-6", fallbacks: ["moonshot/kimi-k2.5"] } } } }"#,
    )
    .unwrap();
    assert!(warned(&r, "uses provider `claude-cli`"), "{:?}", r.warnings);
    assert!(warned(
        &r,
        "clawctl config set models.providers.claude-cli.base_url"
    ));
    assert!(
        unmapped_reason(&r, "agents.defaults.model.primary").is_some(),
        "{:?}",
        r.unmapped
    );
    let cfg = config_of(&r);
    assert_eq!(cfg.primary_model(), None);
    assert_eq!(cfg.fallback_models(), ["moonshot/kimi-k2.5".to_string()]);
}
