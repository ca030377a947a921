use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::{Ctx, Outcome};
use crate::config::load::{Loaded, load};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files to check on their own (defaults only beneath them); none: the effective
    /// config with every layer.
    pub files: Vec<PathBuf>,
    /// Validate what the gateway service will load on its next start: its config
    /// path and its environment (from its definition), not this shell's.
    #[arg(long, conflicts_with = "files")]
    pub service: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ValidateArgs) -> Outcome {
    let mut results: Vec<Loaded> = Vec::new();
    if args.service {
        let views = ctx.views(true)?;
        // The next start uses the definition's environment, not the running process's.
        let Some(env) = views.next_start_environment() else {
            if !views.discovery.errors.is_empty() {
                return Err(crate::cli::Failure::error(format!(
                    "the gateway service's definition does not parse, so the service cannot start: {}",
                    views.discovery.errors.join("; ")
                )));
            }
            return Err(crate::cli::Failure::error(
                "no gateway service was found (looked for clawctl-gateway.service / ai.clawctl.gateway.plist); use --service-file PATH, or `clawctl service install`",
            ));
        };
        if !args.json {
            crate::outln!("service view: {}", env.origin);
        }
        results.push(load(&env, &Default::default())?);
    } else if args.files.is_empty() {
        results.push(load(&ctx.env, &ctx.opts)?);
    } else {
        for f in &args.files {
            results.push(load_file_alone(ctx, f)?);
        }
    }
    report(&results, args.json)
}

/// Check one file as if it were the config, with no env or .env layers.
pub fn load_file_alone(ctx: &Ctx, file: &std::path::Path) -> Result<Loaded, crate::cli::Failure> {
    let mut env = ctx.env.clone();
    env.vars
        .retain(|k, _| k == "HOME" || k == "CLAWCTL_PROVIDER_CATALOG");
    let path = ctx.env.resolve_path(&file.to_string_lossy());
    env.vars
        .insert("CLAWCTL_CONFIG".into(), path.display().to_string());
    // A home that has no .env: the file is checked on its own.
    env.vars.insert(
        "CLAWCTL_HOME".into(),
        "/nonexistent/clawctl-validate".into(),
    );
    let mut loaded = load(&env, &Default::default())?;
    if !path.exists() {
        // Reported like any other finding, so `--json` still describes every file.
        loaded.diagnostics.push(
            crate::config::diagnostics::Diagnostic::error(
                "missing",
                format!("{}: no such file", path.display()),
            )
            .with_help("check the path"),
        );
    }
    loaded.env.home = ctx.env.home.clone();
    Ok(loaded)
}

pub fn report(results: &[Loaded], json_out: bool) -> Outcome {
    let all_valid = results.iter().all(Loaded::is_valid);
    if json_out {
        let files: Vec<_> = results
            .iter()
            .map(|l| {
                json!({
                    "path": l.paths.config,
                    "exists": l.config_exists,
                    "valid": l.is_valid(),
                    "diagnostics": l.diagnostics.iter().map(|d| d.to_json(l.sources())).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({"valid": all_valid, "files": files}));
    } else {
        for l in results {
            if !l.diagnostics.is_empty() {
                crate::errln!("{}", l.render_diagnostics());
            }
            let errors = l.errors().count();
            let warnings = l.diagnostics.len() - errors;
            // Errors that come from .env, the environment or --set are not the
            // file's: say that the effective config is what failed.
            let from_layers = l.errors().any(|d| {
                matches!(
                    d.origin,
                    Some(
                        crate::config::origin::Origin::Env { .. }
                            | crate::config::origin::Origin::DotEnv { .. }
                            | crate::config::origin::Origin::Set { .. }
                    )
                )
            });
            // An error in credentials.toml is that file's, not config.toml's.
            let creds = l.paths.credentials.display().to_string();
            let from_credentials = l.errors().any(|d| d.message.contains(&creds));
            let name = if from_credentials {
                format!(
                    "{} with {}",
                    l.env.display_path(&l.paths.config),
                    l.env.display_path(&l.paths.credentials)
                )
            } else if from_layers {
                format!(
                    "{} with .env, environment and --set",
                    l.env.display_path(&l.paths.config)
                )
            } else {
                l.env.display_path(&l.paths.config)
            };
            if errors == 0 {
                let note = if l.config_exists {
                    ""
                } else {
                    " (file does not exist: defaults apply)"
                };
                crate::outln!("{name}: valid{note}{}", plural(warnings, "warning"));
            } else {
                crate::outln!(
                    "{name}: invalid, {errors} error(s){}",
                    plural(warnings, "warning")
                );
            }
        }
    }
    Ok(if all_valid { 0 } else { 1 })
}

fn plural(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", 1 {what}"),
        n => format!(", {n} {what}s"),
    }
}
