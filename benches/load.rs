//! Load + validate of realistic configs (5 KB and 50 KB): the work behind every
//! command. `cargo bench`.

use std::collections::BTreeMap;

use clawctl::config::load::{LoadOptions, load};
use clawctl::env::{Environment, Platform};

fn main() {
    divan::main();
}

/// A commented config of about `kb` KB, shaped like tests/common's.
fn realistic(kb: usize) -> String {
    let mut s = String::from(
        "#:schema ./config.schema.json\n[meta]\nversion = 1\n\n[agents.defaults.model]\nprimary = \"moonshot/kimi-k2.5\" # main\nfallbacks = [\"zai/glm-5\"]\n\n[gateway]\nport = 18789\n\n[models.providers.moonshot]\nbase_url = \"https://api.moonshot.ai/v1\"\napi_key = \"cred:moonshot:default\"\n",
    );
    let mut i = 0;
    while s.len() < kb * 1024 {
        s.push_str(&format!(
            "\n# proxy {i}\n[models.providers.proxy{i}]\nbase_url = \"https://proxy{i}.example.com/v1\"\napi = \"openai-completions\"\napi_key = \"${{PROXY{i}_API_KEY}}\"\nmodels = [\"m-{i}-a\", \"m-{i}-b\"]\n\n[models.providers.proxy{i}.headers]\nX-Team = \"team-{i}\"\n"
        ));
        i += 1;
    }
    s
}

struct Fixture {
    _dir: tempfile::TempDir,
    env: Environment,
}

fn fixture(kb: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("clawctl");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("config.toml"), realistic(kb)).unwrap();
    let mut vars = BTreeMap::new();
    vars.insert("CLAWCTL_HOME".to_string(), home.display().to_string());
    let env = Environment::from_parts(
        vars,
        Some(dir.path().to_path_buf()),
        dir.path().to_path_buf(),
        Platform::Linux,
        "bench",
    );
    Fixture { _dir: dir, env }
}

#[divan::bench(args = [5, 50])]
fn load_and_validate(bencher: divan::Bencher, kb: usize) {
    let f = fixture(kb);
    bencher.bench(|| {
        let l = load(&f.env, &LoadOptions::default()).unwrap();
        assert!(l.is_valid());
        l
    });
}

#[divan::bench(args = [5, 50])]
fn parse_and_edit_document(bencher: divan::Bencher, kb: usize) {
    let text = realistic(kb);
    let key = clawctl::config::keypath::KeyPath::parse("agents.defaults.model.primary").unwrap();
    bencher.bench(|| {
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        clawctl::config::edit::set(
            &mut doc,
            &key,
            &serde_json::json!("zai/glm-5"),
            false,
            false,
        )
        .unwrap();
        doc.to_string()
    });
}
