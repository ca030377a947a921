//! `clawctl completions SHELL` and `clawctl man`: the shell's completion registration
//! and the man page, both generated from the clap definitions.
//!
//! Completion is dynamic (clap_complete's engine): the registration script calls
//! `COMPLETE=SHELL clawctl -- WORDS…` at each Tab, which [`complete_from_env`] answers
//! at start-up — so config keys complete from the schema this clawctl was built with.

use std::ffi::OsStr;

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter;

use super::{Cli, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::config::schema;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

/// The variable the registration script sets when it asks clawctl for completions.
const COMPLETE_VAR: &str = "COMPLETE";

pub fn run(args: CompletionsArgs) -> Outcome {
    let shell: &dyn EnvCompleter = match args.shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Powershell => &clap_complete::env::Powershell,
        Shell::Elvish => &clap_complete::env::Elvish,
    };
    let mut buf = Vec::new();
    // `clawctl` from PATH at completion time: the script survives reinstalls.
    shell
        .write_registration(COMPLETE_VAR, "clawctl", "clawctl", "clawctl", &mut buf)
        .map_err(|e| Failure::error(format!("cannot write the completion script: {e}")))?;
    super::output::write_stdout_unmasked(&buf)?;
    Ok(0)
}

/// Answer a completion request (`COMPLETE=bash clawctl -- …`) and exit; return
/// normally when the process was not started for completion.
pub fn complete_from_env() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

/// Every fixed key path of the schema (free-form maps such as provider ids end the
/// walk), for completion.
fn schema_keys() -> Vec<String> {
    fn walk(path: &KeyPath, depth: usize, out: &mut Vec<String>) {
        if depth > 8 {
            return;
        }
        for child in schema::known_children(path) {
            let p = path.child(child.as_str());
            out.push(p.to_string());
            walk(&p, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(&KeyPath::root(), 0, &mut out);
    out
}

/// Completion candidates for a config key argument: schema keys starting with what is
/// typed so far.
pub fn complete_key(current: &OsStr) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    schema_keys()
        .into_iter()
        .filter(|k| k.starts_with(typed.as_ref()))
        .map(|k| {
            let help =
                schema::description_at(&KeyPath::parse(&k).unwrap_or_else(|_| KeyPath::root()))
                    .map(|d| d.lines().next().unwrap_or_default().to_string());
            CompletionCandidate::new(k).help(help.map(Into::into))
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct ManArgs {}

/// `clawctl man`: the man page (roff), from the same definitions as `--help`.
pub fn man(_args: ManArgs) -> Outcome {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Failure::error(format!("cannot render the man page: {e}")))?;
    super::output::write_stdout_unmasked(&buf)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_complete_from_the_schema() {
        let got: Vec<String> = complete_key(OsStr::new("gateway.p"))
            .into_iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert!(got.contains(&"gateway.port".to_string()), "{got:?}");
        assert!(got.iter().all(|k| k.starts_with("gateway.p")), "{got:?}");
    }
}
