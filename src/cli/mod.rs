//! The command line: argument definitions here, one file per command beside it.

use clap::{Args, Parser, Subcommand};

use crate::config::load::LoadOptions;
use crate::env::Environment;

mod backups;
mod completions;
mod config;
mod doctor;
mod fleet;
pub(crate) mod gateway;
mod interrupt;
mod migrate;
pub(crate) mod models;
pub mod onboard;
mod openclaw;
pub mod output;
pub mod progress;
pub mod prompt;
pub(crate) mod service;
mod set_arg;
pub mod show;
mod status;
pub mod style;
mod transfer;

pub use output::{Failure, Outcome};

/// `clawctl --version`: the package version, the commit and the build date (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CLAWCTL_COMMIT"),
    " ",
    env!("CLAWCTL_BUILD_DATE"),
    ")"
);

/// Shown under every `--help`; the README's "Exit codes" table says the same.
const EXIT_CODES: &str = "Exit codes:
  0    ok
  1    invalid config, error findings, failed probe, refused write (nothing written)
  2    usage error (unknown flag or key, malformed --set, missing argument)
  78   `gateway run` on an invalid config (EX_CONFIG; the unit's RestartPreventExitStatus)
  130  interrupted (Ctrl-C); the terminal is restored and what was written is reported";

#[derive(Debug, Parser)]
#[command(
    name = "clawctl",
    version = VERSION,
    about = "Configure an AI-agent gateway, and see what its running service actually reads",
    long_about = "clawctl manages the configuration of an AI-agent gateway: layered config with the origin of every value, schema validation before every write and restart, credentials the service can read, and the service's own view of it all.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Use the profile NAME: the home `clawctl-NAME` beside the default one.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Override one config value for this run (repeatable): --set gateway.port=19001.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = set_arg::parse_set)]
    pub sets: Vec<String>,
    /// Service view: read this service definition (plist, unit, task XML, .cmd) instead of discovering it.
    #[arg(long, global = true, value_name = "PATH")]
    pub service_file: Option<std::path::PathBuf>,
    /// Service view: read this running process instead of discovering it.
    #[arg(long, global = true, value_name = "PID")]
    pub pid: Option<u32>,
    /// Read an OpenClaw install in place (read-only) instead of clawctl's own files;
    /// also CLAWCTL_TARGET=openclaw.
    #[arg(long, global = true)]
    pub openclaw: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, check and edit the config.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Store a provider key where the service can read it, and configure the provider.
    Onboard(onboard::OnboardArgs),
    /// Models and their providers' keys.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// CLI view beside service view: which config, keys and endpoint each one uses.
    Status(status::StatusArgs),
    /// Findings about the setup, each with the command that fixes it.
    Doctor(doctor::DoctorArgs),
    /// The gateway daemon.
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),
    /// Install, show or remove the gateway service definition.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Import settings from an OpenClaw config (openclaw.json) or a clawctl export bundle.
    Import(transfer::ImportArgs),
    /// Export config (and, with --include-secrets, credentials) for another machine.
    Export(transfer::ExportArgs),
    /// Bring the config to the newest layout (and out of an old location), with a preview.
    Migrate(migrate::MigrateArgs),
    /// The copies clawctl saves before every write: list them, restore one.
    #[command(subcommand)]
    Backups(backups::BackupsCommand),
    /// Print the shell's completion registration (config keys complete from the schema).
    Completions(completions::CompletionsArgs),
    /// Many gateways on one etcd: the shared layer, its members, drift between them.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Print the man page (roff): clawctl man > ~/.local/share/man/man1/clawctl.1
    Man(completions::ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show every config location considered, which one is used and why.
    Path(config::path::PathArgs),
    /// Print the effective value of a key.
    Get(config::get::GetArgs),
    /// List effective values, git-style: origin<TAB>key=value.
    List(config::list::ListArgs),
    /// Set a key in config.toml, typed by the schema, keeping comments and layout.
    Set(config::set::SetArgs),
    /// Remove a key from config.toml.
    Unset(config::unset::UnsetArgs),
    /// Check the config against the schema and cross-field rules.
    Validate(config::validate::ValidateArgs),
    /// Print the JSON Schema of config.toml.
    Schema(config::schema::SchemaArgs),
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Per provider: the key each view uses, its source, endpoint, and (--probe) whether it works.
    Status(models::status::ModelsStatusArgs),
}

/// What every command gets: the CLI's environment and the global options.
pub struct Ctx {
    pub env: Environment,
    pub opts: LoadOptions,
    pub service_opts: crate::service::view::ServiceOptions,
}

impl Ctx {
    /// Warnings for files this command wrote that the installed gateway service does
    /// not read (none when no service is found).
    pub fn writes_not_seen(&self, written: &[std::path::PathBuf]) -> Vec<String> {
        let Some(env) = self
            .views(true)
            .ok()
            .and_then(|v| v.next_start_environment())
        else {
            return Vec::new();
        };
        crate::service::view::writes_not_seen(&self.env, &env, written)
    }

    /// The CLI view and the service view from the global options: the one way a
    /// command gets them, so every command reports an unreadable `--service-file`
    /// or `--pid` the same way. `fast`: read-only commands skip the schema pass.
    pub fn views(&self, fast: bool) -> Result<crate::views::Views, Failure> {
        let opts = crate::views::ViewOptions {
            load: self.opts.clone(),
            service: self.service_opts.clone(),
            fast,
        };
        Ok(crate::views::Views::build(&self.env, &opts)?)
    }
}

pub fn main() -> i32 {
    completions::complete_from_env();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // A usage error quotes the arguments, which may hold a key typed where
            // a key path belongs: it goes through the masking sink too.
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = e.render().to_string();
            if e.use_stderr() {
                crate::secrets::sink::write_stderr(&text);
            } else {
                crate::secrets::sink::write_stdout(&text);
            }
            return code;
        }
    };
    // The gateway daemon handles its own signals (reload, graceful stop).
    if !matches!(cli.command, Command::Gateway(gateway::GatewayCommand::Run)) {
        interrupt::install();
    }
    let ctx = Ctx {
        env: Environment::current(),
        opts: LoadOptions {
            profile: cli.global.profile.clone(),
            sets: cli.global.sets.clone(),
            ..Default::default()
        },
        service_opts: crate::service::view::ServiceOptions {
            service_file: cli.global.service_file.clone(),
            pid: cli.global.pid,
        },
    };
    style::init(&ctx.env);
    match crate::dialect::Dialect::select(&ctx.env, cli.global.openclaw) {
        Ok(crate::dialect::Dialect::OpenClaw) => {
            return output::finish(openclaw::run(&ctx, cli.command));
        }
        Ok(crate::dialect::Dialect::Clawctl) => {}
        Err(e) => return output::finish(Err(Failure::usage(e.to_string()))),
    }
    let result = match cli.command {
        Command::Config(c) => match c {
            ConfigCommand::Path(a) => config::path::run(&ctx, a),
            ConfigCommand::Get(a) => config::get::run(&ctx, a),
            ConfigCommand::List(a) => config::list::run(&ctx, a),
            ConfigCommand::Set(a) => config::set::run(&ctx, a),
            ConfigCommand::Unset(a) => config::unset::run(&ctx, a),
            ConfigCommand::Validate(a) => config::validate::run(&ctx, a),
            ConfigCommand::Schema(a) => config::schema::run(&ctx, a),
        },
        Command::Onboard(a) => onboard::run(&ctx, a),
        Command::Models(ModelsCommand::Status(a)) => models::status::run(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Gateway(g) => gateway::run(&ctx, g),
        Command::Service(s) => service::run(&ctx, s),
        Command::Import(a) => transfer::import(&ctx, a),
        Command::Export(a) => transfer::export(&ctx, a),
        Command::Migrate(a) => migrate::run(&ctx, a),
        Command::Backups(b) => backups::run(&ctx, b),
        Command::Completions(a) => completions::run(a),
        Command::Fleet(f) => fleet::run(&ctx, f),
        Command::Man(a) => completions::man(a),
    };
    output::finish(result)
}
