//! Property tests for migrations, on random configs in the old (version 0) shapes:
//! - migrating twice equals migrating once, and re-running every operation on the
//!   result changes nothing;
//! - every value of the input is in the output, or in the report (replaced or
//!   deleted values), or in credentials.toml (moved secrets);
//! - the result validates and every comment survives.

use std::collections::BTreeMap;

use clawctl::config::load::{LoadOptions, load};
use clawctl::env::{Environment, Platform};
use clawctl::migrate::{self, OpContext};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::Value as Json;

/// Provider ids by group: an old id and the current one (never both in one file,
/// which would be a conflict migrate refuses by design).
const GROUPS: &[&[&str]] = &[
    &["kimi-code", "kimi-coding"],
    &["moonshotai", "moonshot"],
    &["z-ai", "zai"],
    &["openai"],
    &["myproxy"],
];
const REF_PROVIDERS: &[&str] = &[
    "kimi-code",
    "kimi-coding",
    "moonshotai",
    "moonshot",
    "z-ai",
    "zai",
    "openai",
];
const MODELS: &[&str] = &["k2", "glm-4.6", "gpt-5", "kimi-for-coding"];

#[derive(Debug, Clone)]
enum Key {
    None,
    Literal(String),
    Env,
    Cred,
}

#[derive(Debug, Clone)]
struct Provider {
    pick: usize,
    url: Option<bool>,
    camel_key: bool,
    key: Key,
    ordered: bool,
}

#[derive(Debug, Clone)]
struct Old {
    meta: bool,
    model: u8,
    primary: usize,
    fallbacks: Vec<usize>,
    aliases: Vec<usize>,
    gateway: Option<(Option<u16>, Key, bool)>,
    providers: Vec<Option<Provider>>,
    env: Option<(bool, bool, u64)>,
    comments: Vec<bool>,
}

fn secret_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        Just(Key::None),
        "[A-Za-z0-9]{24,40}".prop_map(|s| Key::Literal(format!("sk-{s}"))),
        Just(Key::Env),
        Just(Key::Cred),
    ]
}

fn provider() -> impl Strategy<Value = Provider> {
    (
        0usize..2,
        prop::option::of(any::<bool>()),
        any::<bool>(),
        secret_key(),
        any::<bool>(),
    )
        .prop_map(|(pick, url, camel_key, key, ordered)| Provider {
            pick,
            url,
            camel_key,
            key,
            ordered,
        })
}

fn old() -> impl Strategy<Value = Old> {
    (
        any::<bool>(),
        0u8..3,
        0..REF_PROVIDERS.len() * MODELS.len(),
        prop::collection::vec(0..REF_PROVIDERS.len() * MODELS.len(), 0..3),
        prop::collection::vec(0..REF_PROVIDERS.len() * MODELS.len(), 0..3),
        prop::option::of((prop::option::of(1u16..), secret_key(), any::<bool>())),
        prop::collection::vec(prop::option::of(provider()), GROUPS.len()),
        prop::option::of((any::<bool>(), any::<bool>(), 1u64..600_000)),
        prop::collection::vec(any::<bool>(), 40),
    )
        .prop_map(
            |(meta, model, primary, fallbacks, aliases, gateway, providers, env, comments)| Old {
                meta,
                model,
                primary,
                fallbacks,
                aliases,
                gateway,
                providers,
                env,
                comments,
            },
        )
}

fn model_ref(i: usize) -> String {
    format!(
        "{}/{}",
        REF_PROVIDERS[i % REF_PROVIDERS.len()],
        MODELS[i / REF_PROVIDERS.len()]
    )
}

/// The TOML text, with a numbered comment on some lines.
fn render(o: &Old) -> String {
    let mut n = 0;
    let mut c = |line: String| {
        n += 1;
        if o.comments[n % o.comments.len()] {
            format!("{line} # c{n}\n")
        } else {
            format!("{line}\n")
        }
    };
    let mut s = String::from("# h0 an old config\n\n");
    if o.meta {
        s += "[meta]\n";
        s += &c("version = 0".into());
        s += "\n";
    }
    match o.model {
        1 => {
            s += "# h1\n[agents.defaults]\n";
            s += &c(format!("model = \"{}\"", model_ref(o.primary)));
        }
        2 => {
            s += "[agents.defaults.model]\n";
            s += &c(format!("primary = \"{}\"", model_ref(o.primary)));
            let f: Vec<String> = o
                .fallbacks
                .iter()
                .map(|i| format!("\"{}\"", model_ref(*i)))
                .collect();
            s += &c(format!("fallbacks = [{}]", f.join(", ")));
        }
        _ => {}
    }
    if !o.aliases.is_empty() {
        s += "\n[agents.defaults.models]\n";
        for (i, a) in o.aliases.iter().enumerate() {
            s += &c(format!("alias{i} = \"{}\"", model_ref(*a)));
        }
    }
    if let Some((port, key, old_place)) = &o.gateway {
        s += "\n# h2 gateway\n[gateway]\n";
        if let Some(p) = port {
            s += &c(format!("port = {p}"));
        }
        let value = match key {
            Key::None => None,
            Key::Literal(l) => Some(l.clone()),
            Key::Env => Some("${CLAWCTL_GATEWAY_TOKEN}".into()),
            Key::Cred => Some("cred:gateway:default".into()),
        };
        if let Some(v) = value {
            s += &c(format!(
                "{} = \"{v}\"",
                if *old_place { "token" } else { "auth.token" }
            ));
        }
    }
    let mut order = String::new();
    for (g, p) in GROUPS.iter().zip(&o.providers) {
        let Some(p) = p else { continue };
        let id = g[p.pick.min(g.len() - 1)];
        s += &format!("\n[models.providers.{id}]\n");
        // A provider the catalog does not know needs its endpoint.
        let url = if id == "myproxy" {
            Some(p.url.unwrap_or(true))
        } else {
            p.url
        };
        if let Some(camel) = url {
            s += &c(format!(
                "{} = \"https://{id}.example.com/v1\"",
                if camel { "baseUrl" } else { "base_url" }
            ));
        }
        let name = if p.camel_key { "apiKey" } else { "api_key" };
        match &p.key {
            Key::None => {}
            Key::Literal(l) => s += &c(format!("{name} = \"{l}\"")),
            Key::Env => {
                s += &c(format!(
                    "{name} = \"${{X_{}_KEY}}\"",
                    id.replace('-', "_").to_uppercase()
                ))
            }
            Key::Cred => s += &c(format!("{name} = \"cred:{id}:default\"")),
        }
        if p.ordered {
            s += &format!("\n[auth.profiles.\"{id}:default\"]\nprovider = \"{id}\"\n");
            order += &c(format!("{id} = [\"{id}:default\"]"));
        }
    }
    if !order.is_empty() {
        s += "\n[auth.order]\n";
        s += &order;
    }
    if let Some((camel, enabled, timeout)) = o.env {
        s += if camel {
            "\n[env.shellEnv]\n"
        } else {
            "\n[env.shell_env]\n"
        };
        s += &c(format!("enabled = {enabled}"));
        s += &c(format!(
            "{} = {timeout}",
            if camel { "timeoutMs" } else { "timeout_ms" }
        ));
    }
    s
}

fn errors_of(text: &str) -> Vec<String> {
    let env = Environment::from_parts(
        BTreeMap::new(),
        Some("/nonexistent-home".into()),
        "/".into(),
        Platform::Linux,
        "test",
    );
    let opts = LoadOptions {
        config_text: Some(text.to_string()),
        file_only: true,
        ..Default::default()
    };
    let l = load(&env, &opts).unwrap();
    l.errors()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn leaves(v: &Json, out: &mut Vec<Json>) {
    match v {
        Json::Object(m) => m.values().for_each(|v| leaves(v, out)),
        Json::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        other => out.push(other.clone()),
    }
}

fn leaves_of(text: &str) -> Vec<Json> {
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let mut out = Vec::new();
    leaves(
        &clawctl::config::tomlconv::item_to_json(doc.as_item()),
        &mut out,
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn migrating_is_idempotent_keeps_every_value_and_validates(o in old()) {
        let input = render(&o);
        let mut doc: toml_edit::DocumentMut = input.parse().unwrap();
        let report = migrate::migrate(&mut doc, &mut OpContext::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{input}")))?;
        let output = doc.to_string();

        // Valid, with every comment.
        let errors = errors_of(&output);
        prop_assert!(errors.is_empty(), "{errors:?}\n--- input\n{input}\n--- output\n{output}");
        for line in input.lines() {
            if let Some(i) = line.find('#') {
                prop_assert!(output.contains(&line[i..]), "lost `{}`\n{output}", &line[i..]);
            }
        }

        // Twice = once, and every operation is a no-op on the result.
        let mut again: toml_edit::DocumentMut = output.parse().unwrap();
        let r2 = migrate::migrate(&mut again, &mut OpContext::default()).unwrap();
        prop_assert!(r2.applied.is_empty());
        prop_assert_eq!(again.to_string(), output.clone());
        let every: Vec<&'static migrate::Migration> = migrate::all().iter().collect();
        let r3 = migrate::apply(&mut again, &every, &mut OpContext::default()).unwrap();
        let non_stamp: Vec<String> = r3
            .changes()
            .filter(|(_, c)| c.op != "stamp")
            .map(|(_, c)| c.message.clone())
            .collect();
        prop_assert!(non_stamp.is_empty(), "{non_stamp:?}");
        prop_assert_eq!(again.to_string(), output.clone());

        // No value lost: each is in the output, in the report, or in credentials.
        let out_leaves = leaves_of(&output);
        let moved: Vec<String> = report
            .moved
            .iter()
            .map(|m| m.secret.expose_secret().to_string())
            .collect();
        let mut removed: Vec<Json> = Vec::new();
        for (_, c) in report.changes() {
            for r in &c.removed {
                match &r.to_credentials {
                    Some(profile) => {
                        let s = r.value.as_str().unwrap_or_default();
                        prop_assert!(moved.iter().any(|m| m == s), "{profile}: secret not stored");
                        prop_assert!(!c.message.contains(s), "the report shows a secret");
                    }
                    None => prop_assert!(
                        c.message.contains(&migrate::show(&r.key, &r.value)),
                        "`{}` does not name the value it replaced",
                        c.message
                    ),
                }
                removed.push(r.value.clone());
            }
        }
        for v in leaves_of(&input) {
            let kept = out_leaves.contains(&v)
                || removed.contains(&v)
                || v.as_str().is_some_and(|s| moved.iter().any(|m| m == s));
            prop_assert!(kept, "{v} is gone\n--- input\n{input}\n--- output\n{output}");
        }
        for m in &moved {
            prop_assert!(!output.contains(m.as_str()), "a moved secret stayed in the file");
        }
    }
}
