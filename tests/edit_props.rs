//! Property tests: random set/unset sequences on commented documents keep every
//! comment and untouched line, and always leave a file that parses and validates.

use clawctl::config::edit;
use clawctl::config::keypath::KeyPath;
use proptest::prelude::*;
use serde_json::json;

const BASE: &str = "#:schema ./config.schema.json\n# header comment\n\n[meta]\nversion = 1 # layout\n\n# agents\n[agents.defaults.model]\nprimary = \"zai/glm-5\" # current\n\n# gateway section\n[gateway]\nport = 18789\n";

fn op() -> impl Strategy<Value = (bool, usize, u16)> {
    (any::<bool>(), 0usize..6, 1u16..u16::MAX)
}

fn key_and_value(i: usize, n: u16) -> (&'static str, serde_json::Value) {
    match i {
        0 => ("gateway.port", json!(n)),
        1 => (
            "gateway.bind",
            json!(if n.is_multiple_of(2) {
                "lan"
            } else {
                "loopback"
            }),
        ),
        2 => (
            "agents.defaults.model.primary",
            json!(format!("moonshot/m{n}")),
        ),
        3 => ("env.vars.X", json!(format!("v{n}"))),
        4 => (
            "models.providers.moonshot.base_url",
            json!(format!("https://h{n}.example/v1")),
        ),
        _ => (
            "agents.defaults.model.fallbacks",
            json!([format!("zai/g{n}")]),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn comments_survive_and_results_validate(ops in proptest::collection::vec(op(), 1..12)) {
        let mut doc: toml_edit::DocumentMut = BASE.parse().unwrap();
        for (is_set, i, n) in ops {
            let (k, v) = key_and_value(i, n);
            let path = KeyPath::parse(k).unwrap();
            let before = doc.to_string();
            if is_set {
                edit::set(&mut doc, &path, &v, false, false).unwrap();
            } else if edit::unset(&mut doc, &path).is_err() {
                prop_assert_eq!(doc.to_string(), before.clone());
            }
            let text = doc.to_string();
            // Every comment of the base document is still there, in order.
            let comments: Vec<&str> = BASE.lines().filter(|l| l.trim_start().starts_with('#')).collect();
            let mut at = 0;
            for c in &comments {
                let found = text[at..].find(c);
                prop_assert!(found.is_some(), "lost comment {:?}\n{}", c, text);
                at += found.unwrap() + c.len();
            }
            // Lines that do not mention the edited key are unchanged.
            let leaf = k.rsplit('.').next().unwrap();
            for line in before.lines().filter(|l| !l.contains(leaf) && !l.starts_with('[') && !l.trim().is_empty()) {
                prop_assert!(text.contains(line), "line {:?} changed\n{}", line, text);
            }
            let reparsed: toml_edit::DocumentMut = text.parse().unwrap();
            let value = clawctl::config::tomlconv::item_to_json(reparsed.as_item());
            prop_assert!(clawctl::config::schema::validator().is_valid(&value), "invalid:\n{}", text);
        }
    }
}
