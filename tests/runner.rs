#![allow(
    clippy::disallowed_methods,
    reason = "tests set up and read their own process environment; the rule is for src/"
)]
//! The one integration-test binary (as jj and uv do): every test module below runs the
//! real `clawctl` binary with a temp HOME and a scrubbed environment. One binary means
//! one link after a library change instead of one per file.
//!
//! `Cargo.toml` sets `autotests = false`, so a new `tests/*.rs` file runs only once it
//! is listed here; `every_test_file_is_a_module` fails when one is forgotten.

mod common;
#[path = "support/etcd.rs"]
mod etcd;
#[path = "support/fake_provider.rs"]
mod fake_provider;

mod config_cli;
mod config_set;
mod edit_props;
mod fleet;
mod gateway;
mod gateway_chat;
mod gateway_hostile;
mod hostile_files;
mod hostile_secrets;
mod hostile_writes;
mod import_openclaw;
mod json_contract;
mod last_copy;
mod migrate;
mod migrate_props;
mod models_probe;
mod newcomer;
mod no_panic;
mod onboard;
mod openclaw;
mod probe;
mod regressions;
mod reported;
mod running_truth;
mod screens;
mod secret_canary;
mod service_fixtures;
mod service_install;
mod service_view;
mod systemd_real;
mod transfer;

#[test]
fn every_test_file_is_a_module() {
    let runner = include_str!("runner.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(&dir).expect("tests/") {
        let path = entry.expect("entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "runner" {
            assert!(
                runner.contains(&format!("mod {stem};")),
                "tests/{stem}.rs is not listed in tests/runner.rs, so it never runs"
            );
        }
    }
}
