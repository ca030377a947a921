//! Nothing panics on any input: random text, random bytes and random mutations of a
//! real config go through the loader and the validator, which must answer with
//! diagnostics, never a panic.

use std::collections::BTreeMap;

use clawctl::config::load::{LoadOptions, load};
use clawctl::env::{Environment, Platform};
use proptest::prelude::*;

const SEED: &str = "#:schema ./config.schema.json\n[meta]\nversion = 1\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\" # main\nfallbacks = [\"zai/glm-5\"]\n\n[models.providers.moonshot]\nbase_url = \"https://api.moonshot.cn/v1\"\napi_key = \"cred:moonshot:default\"\n\n[gateway]\nport = 18789\nbind = \"loopback\"\n\n[env.vars]\nA = \"b\"\n";

fn env_for(dir: &std::path::Path, extra: &[(String, String)]) -> Environment {
    let mut vars = BTreeMap::new();
    vars.insert("CLAWCTL_HOME".to_string(), dir.display().to_string());
    for (k, v) in extra {
        vars.insert(k.clone(), v.clone());
    }
    Environment::from_parts(
        vars,
        Some(dir.to_path_buf()),
        dir.to_path_buf(),
        Platform::Linux,
        "test",
    )
}

fn check(bytes: &[u8], extra: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), bytes).unwrap();
    let env = env_for(dir.path(), extra);
    for opts in [LoadOptions::default(), LoadOptions::default().fast()] {
        if let Ok(l) = load(&env, &opts) {
            // Rendering every diagnostic must not panic either.
            let _ = l.render_diagnostics();
            for d in &l.diagnostics {
                let _ = d.to_json(l.sources());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_text(s in "\\PC{0,400}") {
        check(s.as_bytes(), &[]);
    }

    #[test]
    fn random_bytes(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&b, &[]);
    }

    #[test]
    fn mutated_real_config(cut in 0usize..400, insert in "[\\[\\]=\"'.#a-z0-9 \\n{}]{0,12}") {
        let at = cut.min(SEED.len());
        let at = (0..=at).rev().find(|i| SEED.is_char_boundary(*i)).unwrap_or(0);
        let text = format!("{}{}{}", &SEED[..at], insert, &SEED[at..]);
        check(text.as_bytes(), &[]);
    }

    #[test]
    fn random_overrides(key in "[A-Z_]{1,30}", value in "\\PC{0,40}") {
        check(SEED.as_bytes(), &[(format!("CLAWCTL__{key}"), value)]);
    }
}
