//! The README's "JSON output" section is the contract: every command that takes
//! `--json` is listed there, and each listed command's real output has exactly the
//! documented fields (nested objects and array elements included), on a fresh home
//! and on a configured one.

use crate::common::*;
use crate::fake_provider::FakeProvider;

use std::collections::BTreeMap;

use clap::CommandFactory;
use serde_json::Value;

/// A documented shape: an object's fields (name, optional, shape), an array's element,
/// or anything (a scalar, an alternation, a free-form map).
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Obj {
        fields: Vec<(String, bool, Shape)>,
        /// `{…same as cli…}`: fields not listed here.
        open: bool,
    },
    Arr(Box<Shape>),
    Any,
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    /// A value, then whatever follows it up to `,` `}` `]` (`| null`, alternatives).
    fn value(&mut self) -> Shape {
        self.ws();
        let shape = match self.peek() {
            Some('{') => self.object(),
            Some('[') => self.array(),
            _ => Shape::Any,
        };
        let mut depth = 0;
        while let Some(c) = self.peek() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' if depth > 0 => depth -= 1,
                ',' | '}' | ']' if depth == 0 => break,
                _ => {}
            }
            self.i += 1;
        }
        shape
    }
    fn object(&mut self) -> Shape {
        self.i += 1;
        let (mut fields, mut open) = (Vec::new(), false);
        loop {
            self.ws();
            match self.peek() {
                None => break,
                Some('}') => {
                    self.i += 1;
                    break;
                }
                Some(',') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let start = self.i;
            while let Some(c) = self.peek() {
                if matches!(c, ':' | ',' | '}') {
                    break;
                }
                self.i += 1;
            }
            let name: String = self.s[start..self.i].iter().collect::<String>();
            let name = name.trim();
            let shape = if self.peek() == Some(':') {
                self.i += 1;
                self.value()
            } else {
                Shape::Any
            };
            if name.starts_with('…') || name.starts_with("..") {
                open = true;
            } else if let Some(n) = name.strip_suffix('?') {
                fields.push((n.to_string(), true, shape));
            } else {
                fields.push((name.to_string(), false, shape));
            }
        }
        Shape::Obj { fields, open }
    }
    fn array(&mut self) -> Shape {
        self.i += 1;
        let inner = self.value();
        if self.peek() == Some(']') {
            self.i += 1;
        }
        Shape::Arr(Box::new(inner))
    }
}

fn parse_shape(text: &str) -> Shape {
    let chars: Vec<char> = text.chars().collect();
    Parser { s: &chars, i: 0 }.value()
}

/// Every documented command (`config get`, `service install`, …) with its shape.
pub(crate) fn documented() -> BTreeMap<String, Shape> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## JSON output")
        .nth(1)
        .expect("README has a JSON output section");
    let section = section.split("\n## ").next().unwrap();
    // One bullet may wrap onto the next lines.
    let mut bullets: Vec<String> = Vec::new();
    for line in section.lines() {
        if let Some(b) = line.strip_prefix("- ") {
            bullets.push(b.to_string());
        } else if line.starts_with("  ")
            && let Some(last) = bullets.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    let mut out = BTreeMap::new();
    for b in bullets {
        let (names, rest) = b.split_once("`:").expect("- `CMD --json`: `{…}`");
        let shape_text = rest
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("no shape in {b}"));
        let shape = parse_shape(shape_text);
        for name in names.split('`').filter(|n| n.ends_with("--json")) {
            out.insert(
                name.trim_end_matches("--json").trim().to_string(),
                shape.clone(),
            );
        }
    }
    out
}

/// Compare an output with its documented shape; every mismatch, by JSON path.
pub(crate) fn check(shape: &Shape, v: &Value, at: &str, errors: &mut Vec<String>) {
    match (shape, v) {
        (Shape::Obj { fields, open }, Value::Object(map)) => {
            for (name, optional, sub) in fields {
                match map.get(name) {
                    None if !optional => errors.push(format!("{at}.{name}: documented, missing")),
                    None => {}
                    Some(x) => check(sub, x, &format!("{at}.{name}"), errors),
                }
            }
            if !open {
                for k in map.keys() {
                    if !fields.iter().any(|(n, _, _)| n == k) {
                        errors.push(format!("{at}.{k}: in the output, not in the README"));
                    }
                }
            }
        }
        (Shape::Arr(inner), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                check(inner, x, &format!("{at}[{i}]"), errors);
            }
        }
        // null where a value does not apply; scalars where the README names a type.
        _ => {}
    }
}

#[test]
fn every_command_with_json_is_documented() {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands() {
            let name = format!("{prefix}{}", sub.get_name()).trim().to_string();
            if sub.get_arguments().any(|a| a.get_long() == Some("json")) {
                out.push(name.clone());
            }
            walk(sub, &format!("{name} "), out);
        }
    }
    let mut with_json = Vec::new();
    walk(&clawctl::cli::Cli::command(), "", &mut with_json);
    let docs = documented();
    let missing: Vec<&String> = with_json
        .iter()
        .filter(|c| !docs.contains_key(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "take --json but are not in the README's JSON section: {missing:?}"
    );
    let stale: Vec<&String> = docs.keys().filter(|d| !with_json.contains(d)).collect();
    assert!(stale.is_empty(), "documented but take no --json: {stale:?}");
}

const KEY: &str = "sk-CONTRACTCONTRACT0123456789abcdefghijk";

/// Run `args` and compare with the README's shape for `doc`.
fn assert_contract(
    sb: &Sandbox,
    doc: &str,
    args: &[&str],
    stdin: Option<&str>,
    errors: &mut Vec<String>,
) {
    let docs = documented();
    let shape = docs
        .get(doc)
        .unwrap_or_else(|| panic!("`{doc} --json` is not in the README"));
    let r = sb.run_stdin(args, stdin);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?} (exit {}): not JSON ({e}): {}", r.code, r.all()));
    assert!(
        !r.all().contains("CONTRACTCONTRACT"),
        "{args:?} shows the key"
    );
    check(shape, &v, &format!("`{}`", args.join(" ")), errors);
}

fn every_command(sb: &Sandbox, errors: &mut Vec<String>) {
    let runs: &[(&str, &[&str])] = &[
        ("config path", &["config", "path", "--json"]),
        ("config get", &["config", "get", "gateway.port", "--json"]),
        ("config list", &["config", "list", "--json"]),
        ("config validate", &["config", "validate", "--json"]),
        ("status", &["status", "--json"]),
        ("doctor", &["doctor", "--json"]),
        ("models status", &["models", "status", "--json"]),
        ("gateway status", &["gateway", "status", "--json"]),
        (
            "gateway restart",
            &["gateway", "restart", "--wait", "1", "--json"],
        ),
        ("service print", &["service", "print", "--json"]),
        ("service status", &["service", "status", "--json"]),
        ("migrate", &["migrate", "--dry-run", "--json"]),
        ("backups list", &["backups", "list", "--json"]),
    ];
    for (doc, args) in runs {
        assert_contract(sb, doc, args, None, errors);
    }
}

#[test]
fn every_documented_output_has_the_documented_fields() {
    let mut errors = Vec::new();
    // A fresh home: nothing configured, no service, no gateway.
    let fresh = Sandbox::new();
    every_command(&fresh, &mut errors);

    // A configured home: a key, a probe against a loopback provider, a written unit,
    // a backup to restore, an OpenClaw file to import.
    let provider = FakeProvider::openai().accept_key(KEY).start();
    let mut sb = Sandbox::new();
    let cat = sb.dir.path().join("catalog.toml");
    std::fs::write(
        &cat,
        format!(
            "[[provider]]\nid = \"moonshot\"\nname = \"Moonshot (Kimi)\"\nkey_env = [\"MOONSHOT_API_KEY\"]\napi = \"openai-completions\"\nkey_shapes = [\"sk-\"]\nmodels = [\"kimi-k2.5\"]\nregions = [ {{ id = \"international\", name = \"international\", base_url = \"{}\", auth_choice = \"moonshot-api-key\" }} ]\n",
            provider.base_url()
        ),
    )
    .unwrap();
    sb.set_var("CLAWCTL_PROVIDER_CATALOG", cat.to_str().unwrap());
    assert_contract(
        &sb,
        "onboard",
        &[
            "onboard",
            "--auth-choice",
            "moonshot-api-key",
            "--api-key-stdin",
            "--no-probe",
            "--json",
        ],
        Some(KEY),
        &mut errors,
    );
    assert_contract(
        &sb,
        "config set",
        &["config", "set", "gateway.port", "19555", "--json"],
        None,
        &mut errors,
    );
    assert_contract(
        &sb,
        "config unset",
        &["config", "unset", "gateway.port", "--json"],
        None,
        &mut errors,
    );
    assert_contract(
        &sb,
        "models status",
        &["models", "status", "--probe", "--json"],
        None,
        &mut errors,
    );
    assert_contract(
        &sb,
        "service install",
        &["service", "install", "--no-start", "--json"],
        None,
        &mut errors,
    );
    every_command(&sb, &mut errors);
    assert_contract(
        &sb,
        "service uninstall",
        &["service", "uninstall", "--json"],
        None,
        &mut errors,
    );
    let list = sb.json(&["backups", "list", "--json"]);
    let id = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["id"].as_str())
        .find(|i| i.ends_with("-config.toml"))
        .expect("a config backup")
        .to_string();
    assert_contract(
        &sb,
        "backups restore",
        &["backups", "restore", &id, "--dry-run", "--json"],
        None,
        &mut errors,
    );
    let oc = sb.dir.path().join("openclaw.json");
    std::fs::write(&oc, r#"{"gateway": {"port": 18790}}"#).unwrap();
    assert_contract(
        &sb,
        "import",
        &[
            "import",
            oc.to_str().unwrap(),
            "--dry-run",
            "--merge",
            "--json",
        ],
        None,
        &mut errors,
    );

    assert!(
        errors.is_empty(),
        "README and output disagree:\n{}",
        errors.join("\n")
    );
}

#[test]
fn gateway_status_has_one_shape_without_a_gateway() {
    let sb = Sandbox::new();
    let v = sb.json(&["gateway", "status", "--json"]);
    assert_eq!(v["running"], false);
    assert_eq!(v["reachable"], false);
    assert!(v["receipt"].is_null(), "{v}");
    assert!(
        v["receipt_path"]
            .as_str()
            .unwrap()
            .ends_with("run/gateway.json")
    );
    assert_eq!(v["findings"][0]["ok"], false);
    assert!(
        v["findings"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("clawctl gateway run")
    );
}
