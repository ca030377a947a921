//! `clawctl migrate` and `clawctl backups`: the committed corpus of old layouts, and
//! the real binary end to end in a temporary HOME.
//!
//! Expected files are committed; after a deliberate change, regenerate them with
//! `CLAWCTL_BLESS=1 cargo test --test migrate` and review the diff.

use crate::common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clawctl::config::load::{LoadOptions, load};
use clawctl::env::{Environment, Platform};
use clawctl::migrate::{self, OpContext};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

/// Errors of `text` checked alone as config.toml.
fn errors_of(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::from_parts(
        BTreeMap::new(),
        Some(dir.path().to_path_buf()),
        dir.path().to_path_buf(),
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

/// Comment text (from `#` to the end of the line) of every commented line.
fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find('#').map(|i| l[i..].to_string()))
        .collect()
}

fn check_expected(path: &Path, actual: &str) {
    if std::env::var_os("CLAWCTL_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with CLAWCTL_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs (CLAWCTL_BLESS=1 regenerates it)",
        path.display()
    );
}

#[test]
fn every_old_layout_migrates_to_the_committed_result() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") && !n.contains(".expected"))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let input = fixture(&name);
        let mut doc: toml_edit::DocumentMut = input.parse().unwrap();
        let report = migrate::migrate(&mut doc, &mut OpContext::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let output = doc.to_string();
        let stem = name.trim_end_matches(".toml");

        let errors = errors_of(&output);
        assert!(errors.is_empty(), "{name} migrated is invalid: {errors:?}");
        for c in comments(&input) {
            assert!(output.contains(&c), "{name}: comment `{c}` was lost");
        }
        let mut said = String::new();
        for (m, c) in report.changes() {
            said.push_str(&format!("{} {}: {}\n", m.file, c.op, c.message));
        }
        for s in &report.moved {
            said.push_str(&format!(
                "credentials.toml: profile {} (provider {}, {:?}) from {}\n",
                s.profile, s.provider, s.kind, s.key
            ));
        }
        for s in &report.moved {
            let secret = secrecy::ExposeSecret::expose_secret(&s.secret);
            assert!(!said.contains(secret), "{name}: the report shows a secret");
            assert!(!output.contains(secret), "{name}: the secret stayed");
        }
        check_expected(&fixtures().join(format!("{stem}.expected.toml")), &output);
        check_expected(&fixtures().join(format!("{stem}.expected.txt")), &said);

        // Migrating the result again changes nothing.
        let mut again: toml_edit::DocumentMut = output.parse().unwrap();
        let r2 = migrate::migrate(&mut again, &mut OpContext::default()).unwrap();
        assert!(r2.applied.is_empty(), "{name}");
        assert_eq!(again.to_string(), output, "{name}");
    }
}

// ---------------------------------------------------------------------------
// End to end: the real binary.

const LITERAL_KIMI: &str = "sk-kimi-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
const LITERAL_TOKEN: &str = "gw-0123456789abcdefghijklmn";

fn backups(sb: &Sandbox) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sb.clawctl_home().join("backups"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn assert_no_secret(r: &Run) {
    for s in [LITERAL_KIMI, LITERAL_TOKEN] {
        assert!(!r.all().contains(s), "a secret was printed:\n{}", r.all());
        // Not even a long piece of it.
        assert!(!r.all().contains(&s[8..24]), "part of a secret was printed");
    }
}

#[test]
fn dry_run_shows_the_plan_and_the_diff_and_writes_nothing() {
    let sb = Sandbox::new();
    let input = fixture("v0-everything.toml");
    sb.write_config(&input);
    let r = sb.run(&["migrate", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_no_secret(&r);
    assert!(r.stdout.contains("layout version 0 → 1"), "{}", r.stdout);
    assert!(r.stdout.contains("0001-before-versioning.toml (0 → 1)"));
    assert!(
        r.stdout.contains("+[models.providers.kimi-coding]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-token = \"… (sha256:"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("renamed `gateway.token` to `gateway.auth.token`")
    );
    assert!(r.stdout.contains("dry run: nothing was written"));
    assert_eq!(sb.read_config(), input);
    assert!(!sb.clawctl_home().join("credentials.toml").exists());
    assert!(backups(&sb).is_empty());

    let j = sb.json(&["migrate", "--dry-run", "--json"]);
    assert_eq!(j["from_version"], 0);
    assert_eq!(j["to_version"], 1);
    assert_eq!(j["written"], false);
    assert_eq!(j["pending"][0]["file"], "0001-before-versioning.toml");
    assert!(j["changes"].as_array().unwrap().len() >= 10);
    assert_eq!(j["credentials"][0]["profile"], "kimi-coding:default");
    let text = j.to_string();
    assert!(!text.contains(LITERAL_KIMI) && !text.contains(LITERAL_TOKEN));
    assert_eq!(sb.read_config(), input);
}

#[test]
fn migrate_applies_once_and_then_is_a_no_op() {
    let sb = Sandbox::new();
    sb.write_config(&fixture("v0-everything.toml"));
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_no_secret(&r);
    assert_eq!(sb.read_config(), fixture("v0-everything.expected.toml"));
    let creds = sb.clawctl_home().join("credentials.toml");
    assert_eq!(mode_of(&creds), 0o600);
    let stored = std::fs::read_to_string(&creds).unwrap();
    assert!(stored.contains(LITERAL_KIMI) && stored.contains(LITERAL_TOKEN));
    assert!(stored.contains("[profiles.\"kimi-coding:default\"]"));
    let made = backups(&sb);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        r.stdout
            .contains(&format!("clawctl backups restore {}", made[0]))
    );
    // The migrated config validates, and the key resolves through the credential.
    let v = sb.run(&["config", "validate"]);
    assert_eq!(v.code, 0, "{}", v.all());

    let after = sb.read_config();
    let again = sb.run(&["migrate"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stdout.contains("nothing to migrate"),
        "{}",
        again.stdout
    );
    assert_eq!(sb.read_config(), after);
    assert_eq!(backups(&sb), made, "a no-op makes no backup");
    let j = sb.json(&["migrate", "--json"]);
    assert_eq!(j["nothing_to_migrate"], true);
}

#[test]
fn a_config_from_a_newer_clawctl_is_refused() {
    let sb = Sandbox::new();
    let text = "[meta]\nversion = 99\n\n[gateway]\nport = 1234\n";
    sb.write_config(text);
    for args in [&["migrate"][..], &["migrate", "--dry-run"][..]] {
        let r = sb.run(args);
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(
            r.stderr
                .contains("written by a newer clawctl (version 99; this one knows up to 1)"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("config.toml:2:"), "{}", r.stderr);
    }
    assert_eq!(sb.read_config(), text);
    assert!(backups(&sb).is_empty());
}

#[test]
fn a_result_that_does_not_validate_writes_nothing() {
    let sb = Sandbox::new();
    // `colour` is no key any migration knows, and the model has no provider.
    let text = format!(
        "[agents.defaults]\nmodel = \"kimi-code/k2\"\n\n[gateway]\ncolour = \"red\"\ntoken = \"{LITERAL_TOKEN}\"\n"
    );
    sb.write_config(&text);
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_no_secret(&r);
    assert!(r.stderr.contains("gateway.colour"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert_eq!(sb.read_config(), text);
    assert!(!sb.clawctl_home().join("credentials.toml").exists());
    assert!(backups(&sb).is_empty());

    // The preview still shows what would change, and says it would be refused.
    let d = sb.run(&["migrate", "--dry-run"]);
    assert_eq!(d.code, 1, "{}", d.all());
    assert_no_secret(&d);
    assert!(
        d.stdout.contains("+model.primary = \"kimi-coding/k2\""),
        "{}",
        d.stdout
    );
    assert!(d.stderr.contains("gateway.colour"), "{}", d.stderr);
    assert_eq!(sb.read_config(), text);
}

#[test]
fn conflicting_old_and_new_keys_stop_with_the_line_and_the_fix() {
    let sb = Sandbox::new();
    let text = "[gateway]\ntoken = \"${A}\"\n\n[gateway.auth]\ntoken = \"${B}\"\n";
    sb.write_config(text);
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("config.toml:2:"), "{}", r.stderr);
    assert!(r.stderr.contains("are both set"), "{}", r.stderr);
    assert!(
        r.stderr.contains("help: keep the value you want"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.read_config(), text);
}

fn write_with_mode(p: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn an_old_location_is_moved_with_its_credentials_and_modes() {
    let sb = Sandbox::new();
    let old = sb.home().join(".clawctl");
    let old_config = fixture("v0-model-string.toml");
    write_with_mode(&old.join("config.toml"), &old_config, 0o640);
    let creds = format!(
        "[profiles.\"moonshot:default\"]\nprovider = \"moonshot\"\nsecret = \"{LITERAL_KIMI}\"\n"
    );
    // Too open: the copy is 0600 whatever the old file had.
    write_with_mode(&old.join("credentials.toml"), &creds, 0o644);
    write_with_mode(&old.join(".env"), "MOONSHOT_API_KEY=x\n", 0o600);

    let p = sb.json(&["config", "path", "--json"]);
    assert_eq!(
        p["legacy"][0],
        old.join("config.toml").display().to_string()
    );

    let d = sb.run(&["migrate", "--dry-run"]);
    assert_eq!(d.code, 0, "{}", d.all());
    assert_no_secret(&d);
    assert!(d.stdout.contains("would copy ~/.clawctl/credentials.toml → ~/.config/clawctl/credentials.toml (mode 0600)"), "{}", d.stdout);
    assert!(
        d.stdout.contains("+model.primary = \"moonshot/kimi-k2.5\""),
        "{}",
        d.stdout
    );
    assert!(!sb.config_path().exists(), "dry run moved nothing");
    assert!(old.join("config.toml").exists());

    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_no_secret(&r);
    let home = sb.clawctl_home();
    assert_eq!(mode_of(&home.join("config.toml")), 0o640);
    assert_eq!(mode_of(&home.join("credentials.toml")), 0o600);
    assert_eq!(mode_of(&home.join(".env")), 0o600);
    assert_eq!(
        std::fs::read_to_string(home.join("credentials.toml")).unwrap(),
        creds
    );
    assert_eq!(sb.read_config(), fixture("v0-model-string.expected.toml"));
    // The old files are kept under another name and no longer reported.
    assert!(!old.join("config.toml").exists());
    assert_eq!(
        std::fs::read_to_string(old.join("config.toml.moved")).unwrap(),
        old_config
    );
    assert!(old.join("credentials.toml.moved").exists());
    assert!(old.join(".env.moved").exists());
    let p = sb.json(&["config", "path", "--json"]);
    assert_eq!(p["legacy"], serde_json::json!([]));
    let again = sb.run(&["migrate"]);
    assert!(
        again.stdout.contains("nothing to migrate"),
        "{}",
        again.all()
    );
}

#[test]
fn an_old_location_never_overwrites_the_current_config() {
    let sb = Sandbox::new();
    let old = sb.home().join(".clawctl");
    write_with_mode(&old.join("config.toml"), "[gateway]\nport = 1\n", 0o600);
    let current = "[meta]\nversion = 1\n\n[gateway]\nport = 2\n";
    sb.write_config(current);
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("nothing was moved"), "{}", r.stderr);
    assert_eq!(sb.read_config(), current);
    assert!(old.join("config.toml").exists());

    // Without a current config, but with credentials in both places: refused too.
    std::fs::remove_file(sb.config_path()).unwrap();
    write_with_mode(&sb.clawctl_home().join("credentials.toml"), "", 0o600);
    write_with_mode(&old.join("credentials.toml"), "", 0o600);
    let r = sb.run(&["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);
    assert!(!sb.config_path().exists());
}

#[test]
fn backups_list_and_restore_round_trip() {
    let sb = Sandbox::new();
    let original = "[meta]\nversion = 1\n\n[gateway]\nport = 18789 # default\n";
    sb.write_config(original);
    let s = sb.run(&["config", "set", "gateway.port", "19000"]);
    assert_eq!(s.code, 0, "{}", s.all());
    let changed = sb.read_config();

    let list = sb.json(&["backups", "list", "--json"]);
    let entries = list["backups"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{list}");
    assert_eq!(entries[0]["file"], "config.toml");
    assert_eq!(entries[0]["bytes"], original.len());
    assert!(entries[0]["time"].as_str().unwrap().ends_with("UTC"));
    let id = entries[0]["id"].as_str().unwrap().to_string();
    let text = sb.run(&["backups", "list"]);
    assert!(text.stdout.contains(&id) && text.stdout.contains("config.toml"));

    let d = sb.run(&["backups", "restore", &id, "--dry-run"]);
    assert_eq!(d.code, 0, "{}", d.all());
    assert!(d.stdout.contains("-port = 19000 # default"), "{}", d.stdout);
    assert!(d.stdout.contains("+port = 18789 # default"), "{}", d.stdout);
    assert_eq!(sb.read_config(), changed);

    let r = sb.run(&["backups", "restore", &id]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(sb.read_config(), original);
    // The file it replaced was backed up first, so the restore can be undone.
    let list = sb.json(&["backups", "list", "--json"]);
    assert_eq!(list["backups"].as_array().unwrap().len(), 2);
    let newest = list["backups"][0]["id"].as_str().unwrap().to_string();
    assert!(
        r.stdout
            .contains(&format!("clawctl backups restore {newest}"))
    );
    let u = sb.run(&["backups", "restore", &newest]);
    assert_eq!(u.code, 0, "{}", u.all());
    assert_eq!(sb.read_config(), changed);

    let missing = sb.run(&["backups", "restore", "nope-config.toml"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("backups list"),
        "{}",
        missing.stderr
    );
    assert_eq!(sb.run(&["backups", "restore", "../config.toml"]).code, 2);
}

#[test]
fn an_invalid_backup_is_restored_only_with_force() {
    let sb = Sandbox::new();
    let good = "[meta]\nversion = 1\n";
    sb.write_config(good);
    let dir = sb.clawctl_home().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = "[gateway]\nport = \"high\"\n";
    std::fs::write(dir.join("20200101T000000.000Z-config.toml"), bad).unwrap();
    let r = sb.run(&["backups", "restore", "20200101T000000.000Z-config.toml"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert!(r.stderr.contains("gateway.port"), "{}", r.stderr);
    assert_eq!(sb.read_config(), good);
    let f = sb.run(&[
        "backups",
        "restore",
        "20200101T000000.000Z-config.toml",
        "--force",
    ]);
    assert_eq!(f.code, 0, "{}", f.all());
    assert_eq!(sb.read_config(), bad);
}

#[test]
fn credentials_backups_restore_without_showing_a_secret() {
    let sb = Sandbox::new();
    sb.write_config("[meta]\nversion = 1\n");
    let first = "sk-first-key-0123456789abcdefghij";
    let second = "sk-second-key-0123456789abcdefghij";
    for key in [first, second] {
        let r = sb.set_stdin("models.providers.moonshot.api_key", key);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    let list = sb.json(&["backups", "list", "--json"]);
    let cred = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["file"] == "credentials.toml")
        .expect("a credentials backup")
        .clone();
    let id = cred["id"].as_str().unwrap();
    let listed = sb.run(&["backups", "list"]);
    let r = sb.run(&["backups", "restore", id]);
    assert_eq!(r.code, 0, "{}", r.all());
    for out in [&listed, &r] {
        for k in [first, second] {
            assert!(!out.all().contains(k), "{}", out.all());
        }
    }
    assert!(
        r.stdout.contains("~ profile moonshot:default: sk-…"),
        "{}",
        r.stdout
    );
    let creds = sb.clawctl_home().join("credentials.toml");
    assert_eq!(mode_of(&creds), 0o600);
    assert!(std::fs::read_to_string(&creds).unwrap().contains(first));
}
