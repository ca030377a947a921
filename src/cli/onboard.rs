//! `clawctl onboard`: store a provider key where the service can read it, configure
//! the provider, optionally make one of its models the default, and prove it works.

use std::io::{IsTerminal, Read};

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::cli::prompt::{Prompter, Terminal};
use crate::config::keypath::KeyPath;
use crate::config::model::{AuthMode, split_model_ref};
use crate::providers::catalog::{Catalog, Provider, Region};
use crate::write::transaction::{NewCredential, edit_config_deciding};

#[derive(Debug, Args, Default)]
pub struct OnboardArgs {
    /// What to set up: moonshot-api-key, moonshot-api-key-cn, kimi-code-api-key,
    /// zai-api-key, zai-coding-global, zai-coding-cn, openai-api-key, anthropic-api-key,
    /// openrouter-api-key, ollama, custom-api-key.
    #[arg(long, value_name = "CHOICE")]
    pub auth_choice: Option<String>,
    /// Never prompt (automatic when standard input is not a terminal).
    #[arg(long)]
    pub non_interactive: bool,
    /// Read the key from standard input. Without it, the provider's variable
    /// (MOONSHOT_API_KEY, …) is used. Keys are never taken from the command line.
    #[arg(long)]
    pub api_key_stdin: bool,
    /// Model to make the default, e.g. moonshot/kimi-k2.5 (default: the provider's first).
    #[arg(long, value_name = "REF")]
    pub model: Option<String>,
    /// Make the model the default even if one is set already.
    #[arg(long)]
    pub set_default: bool,
    /// Base URL for custom-api-key (an OpenAI-compatible endpoint).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Provider id for custom-api-key (default: custom).
    #[arg(long, value_name = "ID")]
    pub provider_id: Option<String>,
    /// Do not send a test request with the key.
    #[arg(long)]
    pub no_probe: bool,
    /// Save a key even though its shape belongs to another provider.
    #[arg(long)]
    pub force: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Everything onboarding decided, before anything is written.
pub struct Plan {
    pub provider_id: String,
    pub catalog_id: String,
    pub region: Region,
    pub key: Option<SecretString>,
    pub key_source: String,
    pub base_url: Option<String>,
    pub default_model: Option<String>,
    /// `default_model` was chosen because no default was set: it is written only if
    /// config.toml still has none under the lock (a parallel onboard may have set one).
    pub default_if_unset: bool,
    pub probe: bool,
    /// Install or restart the gateway service afterwards.
    pub update_service: bool,
}

pub fn run(ctx: &Ctx, args: OnboardArgs) -> Outcome {
    // A terminal can answer questions: the whole flow without --auth-choice, only the
    // hidden key prompt (and "replace the stored key?") with it.
    let can_ask = !args.non_interactive && std::io::stdin().is_terminal();
    let mut terminal = Terminal;
    run_with(
        ctx,
        args,
        can_ask.then_some(&mut terminal as &mut dyn Prompter),
        &mut std::io::stdin(),
    )
}

/// The whole flow. `prompter`: None when nobody can be asked (not a terminal,
/// `--non-interactive`); with `--auth-choice` it is asked only for the key and before
/// replacing a stored one.
pub fn run_with(
    ctx: &Ctx,
    args: OnboardArgs,
    prompter: Option<&mut dyn Prompter>,
    stdin: &mut dyn Read,
) -> Outcome {
    let catalog = Catalog::load(&ctx.env).map_err(|e| Failure::error(e.0))?;
    let loaded = crate::config::load::load(&ctx.env, &ctx.opts)?;
    let store = crate::secrets::credentials::Store::read(&loaded.paths.credentials);
    let current_default = loaded.config.primary_model().map(String::from);
    let plan = match prompter {
        Some(p) if args.auth_choice.is_none() => {
            interactive_plan(ctx, &catalog, &store, current_default.as_deref(), p)?
        }
        p => non_interactive_plan(
            ctx,
            &catalog,
            &store,
            &args,
            current_default.as_deref(),
            stdin,
            p,
        )?,
    };
    apply(ctx, &catalog, plan, args.json)
}

/// A key as typed or piped, checked before anything is stored: surrounding whitespace
/// (a trailing newline) is dropped, anything else that cannot be part of a key stops.
fn clean_key(raw: &str) -> Result<SecretString, Failure> {
    let k = raw.trim();
    if k.is_empty() {
        return Err(Failure::error("no key was given: nothing was stored"));
    }
    if let Some(why) = crate::secrets::credentials::key_text_problem(k) {
        return Err(Failure::error(why));
    }
    Ok(SecretString::from(k.to_string()))
}

/// What replacing profile `id`'s stored key would do, worded with both fingerprints.
fn replacement(
    store: &crate::secrets::credentials::Store,
    id: &str,
    key: &SecretString,
) -> Option<(String, String)> {
    store.replacing(id, key.expose_secret())
}

fn provider_and_region<'a>(
    catalog: &'a Catalog,
    choice: &str,
) -> Result<(&'a Provider, &'a Region), Failure> {
    catalog.by_auth_choice(choice).ok_or_else(|| {
        let choices: Vec<String> = catalog
            .auth_choices()
            .into_iter()
            .map(String::from)
            .collect();
        let hint = crate::config::schema::best_match(choice, &choices)
            .map(|m| format!("did you mean `{m}`? "))
            .unwrap_or_default();
        Failure::usage(format!(
            "unknown --auth-choice `{choice}`\n  help: {hint}choices: {}",
            choices.join(", ")
        ))
    })
}

fn check_shape(
    catalog: &Catalog,
    provider: &Provider,
    key: &str,
    force: bool,
) -> Result<(), Failure> {
    if provider.accepts_key_shape(key) || force {
        return Ok(());
    }
    let owners = catalog.providers_for_key(key);
    let hint = match owners.first() {
        Some(o) => format!(
            "it has the shape of a {} key; use: clawctl onboard --auth-choice {}",
            o.name,
            o.default_region().auth_choice
        ),
        None => format!(
            "{} keys start with {}",
            provider.name,
            provider.key_shapes.join(" or ")
        ),
    };
    Err(Failure::error(format!(
        "this key ({}) does not look like a {} key: {hint}\n  help: keys are not interchangeable between providers; pass --force to save it anyway",
        crate::secrets::mask::describe(key),
        provider.name
    )))
}

fn non_interactive_plan(
    ctx: &Ctx,
    catalog: &Catalog,
    store: &crate::secrets::credentials::Store,
    args: &OnboardArgs,
    current_default: Option<&str>,
    stdin: &mut dyn Read,
    mut prompter: Option<&mut dyn Prompter>,
) -> Result<Plan, Failure> {
    let choice = args.auth_choice.as_deref().ok_or_else(|| {
        Failure::usage(format!(
            "--auth-choice is required without a terminal\n  help: choices: {}",
            catalog.auth_choices().join(", ")
        ))
    })?;
    let (provider, region) = provider_and_region(catalog, choice)?;
    let provider_id = if provider.custom {
        args.provider_id
            .clone()
            .unwrap_or_else(|| provider.id.clone())
    } else {
        provider.id.clone()
    };
    let (key, key_source) = if !provider.needs_key {
        (None, String::new())
    } else if args.api_key_stdin && prompter.is_none() {
        let mut s = String::new();
        stdin
            .read_to_string(&mut s)
            .map_err(|e| Failure::error(format!("cannot read the key from standard input: {e}")))?;
        if s.trim().is_empty() {
            return Err(Failure::error("standard input was empty: no key to store"));
        }
        (Some(clean_key(&s)?), "standard input".to_string())
    } else {
        let found = provider
            .key_env
            .iter()
            .find_map(|v| ctx.env.var(v).map(|k| (v.clone(), k.to_string())));
        match (found, prompter.as_deref_mut()) {
            // --api-key-stdin on a terminal means "I will type it": ask, hidden.
            (Some((var, k)), _) if !args.api_key_stdin => (Some(clean_key(&k)?), format!("${var}")),
            (_, Some(p)) => {
                let typed = p
                    .secret(&format!("{} API key", provider.name))?
                    .ok_or_else(|| Failure::error("no key entered (Esc): nothing was written"))?;
                (Some(clean_key(&typed)?), "prompt".to_string())
            }
            (_, None) => {
                return Err(Failure::error(format!(
                    "no {} key: pipe it in with --api-key-stdin, or set {}",
                    provider.name,
                    provider.key_env.join(" or ")
                )));
            }
        }
    };
    if let Some(k) = &key {
        check_shape(catalog, provider, k.expose_secret(), args.force)?;
        let profile = format!("{provider_id}:default");
        if let Some((old, new)) = replacement(store, &profile, k) {
            let replace = match prompter {
                Some(p) => p
                    .confirm(
                        &format!("Replace the stored {profile} key {old} with {new}?"),
                        false,
                    )?
                    .unwrap_or(false),
                None => args.force,
            };
            if !replace {
                return Err(Failure::error(format!(
                    "profile {profile} already holds another key: {old}; the new one is {new}. Nothing was written\n  help: pass --force to replace it (the old credentials.toml goes to backups/)"
                )));
            }
        }
    }
    let base_url = if provider.custom {
        Some(
            args.base_url
                .clone()
                .ok_or_else(|| Failure::usage("custom-api-key needs --base-url https://…"))?,
        )
    } else {
        args.base_url
            .clone()
            .or_else(|| Some(region.base_url.clone()))
    };
    let default_model = if args.set_default || current_default.is_none() {
        Some(match &args.model {
            Some(m) => m.clone(),
            None => match provider.models.first() {
                Some(m) => format!("{provider_id}/{m}"),
                None => {
                    return Err(Failure::usage(format!(
                        "{} has no catalog models: pass --model {provider_id}/MODEL",
                        provider.name
                    )));
                }
            },
        })
    } else {
        None
    };
    Ok(Plan {
        provider_id,
        catalog_id: provider.id.clone(),
        region: region.clone(),
        key,
        key_source,
        base_url,
        default_if_unset: !args.set_default,
        default_model,
        probe: !args.no_probe,
        update_service: false,
    })
}

/// The steps of the interactive flow, in order; Esc goes back one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Provider,
    Region,
    BaseUrl,
    Key,
    DefaultModel,
    Probe,
    Service,
    Done,
}

impl Step {
    const ALL: [Step; 8] = [
        Step::Provider,
        Step::Region,
        Step::BaseUrl,
        Step::Key,
        Step::DefaultModel,
        Step::Probe,
        Step::Service,
        Step::Done,
    ];
    fn next(self) -> Step {
        Step::ALL[(self as usize + 1).min(Step::ALL.len() - 1)]
    }
    fn back(self) -> Step {
        Step::ALL[(self as usize).saturating_sub(1)]
    }
}

fn interactive_plan(
    ctx: &Ctx,
    catalog: &Catalog,
    store: &crate::secrets::credentials::Store,
    current_default: Option<&str>,
    p: &mut dyn Prompter,
) -> Result<Plan, Failure> {
    let providers: Vec<&Provider> = catalog.providers.iter().collect();
    let names: Vec<String> = providers
        .iter()
        .map(|p| format!("{} ({})", p.name, p.id))
        .collect();
    let mut provider = providers[0];
    let mut region = provider.default_region().clone();
    let mut base_url: Option<String> = None;
    let mut key: Option<(SecretString, String)> = None;
    let mut default_model: Option<String> = None;
    let (mut probe, mut update_service) = (true, false);
    let mut step = Step::Provider;
    // Steps that do not apply (one region, not custom, no key) are passed through in the
    // direction of travel, so Esc from the key goes back to the last question asked.
    let mut forward = true;
    while step != Step::Done {
        let answered: bool = match step {
            Step::Provider => {
                p.explain("Which provider's key do you have? Moonshot (Kimi) and Kimi Coding are different providers with different keys.");
                match p.select("Provider", &names, 0, true)? {
                    Some(i) => {
                        provider = providers[i];
                        region = provider.default_region().clone();
                        true
                    }
                    None => return Err(Failure::error("cancelled (Esc): nothing was written")),
                }
            }
            Step::Region if provider.regions.len() > 1 => {
                p.explain("Keys belong to one platform: a China-platform key is rejected by the international endpoint and the other way round.");
                let regions: Vec<String> = provider
                    .regions
                    .iter()
                    .map(|r| format!("{} — {}", r.name, r.base_url))
                    .collect();
                match p.select("Platform", &regions, 0, false)? {
                    Some(i) => {
                        region = provider.regions[i].clone();
                        true
                    }
                    None => false,
                }
            }
            Step::Region => {
                step = if forward { step.next() } else { step.back() };
                continue;
            }
            Step::BaseUrl if provider.custom => {
                p.explain(
                    "The base URL of your OpenAI-compatible endpoint, e.g. https://llm.example.com/v1",
                );
                match p.input("Base URL", None)? {
                    Some(u) => {
                        base_url = Some(u);
                        true
                    }
                    None => false,
                }
            }
            Step::BaseUrl => {
                base_url = Some(region.base_url.clone());
                step = if forward { step.next() } else { step.back() };
                continue;
            }
            Step::Key if provider.needs_key => match ask_key(ctx, catalog, store, provider, p)? {
                Some(k) => {
                    key = Some(k);
                    true
                }
                None => false,
            },
            Step::Key => {
                key = None;
                step = if forward { step.next() } else { step.back() };
                continue;
            }
            Step::DefaultModel => {
                let mut models: Vec<String> = provider
                    .models
                    .iter()
                    .map(|m| format!("{}/{m}", provider.id))
                    .collect();
                let keep = current_default.map(|c| format!("keep the current default ({c})"));
                if let Some(k) = &keep {
                    models.insert(0, k.clone());
                }
                if models.is_empty() {
                    default_model = None;
                    step = if forward { step.next() } else { step.back() };
                    continue;
                }
                p.explain("The default model is what every agent uses unless it says otherwise.");
                match p.select("Default model", &models, 0, true)? {
                    Some(i) => {
                        default_model = (keep.is_none() || i != 0).then(|| models[i].clone());
                        true
                    }
                    None => false,
                }
            }
            Step::Probe => {
                p.explain(
                    "A probe sends one cheap authenticated request (list models) to check the key.",
                );
                match p.confirm("Probe the key now?", true)? {
                    Some(b) => {
                        probe = b;
                        true
                    }
                    None => false,
                }
            }
            Step::Service => {
                p.explain("The gateway service reads these same files once it is (re)started: install it if it is not, restart it if it is.");
                match p.confirm("Update the gateway service now?", false)? {
                    Some(b) => {
                        update_service = b;
                        true
                    }
                    None => false,
                }
            }
            Step::Done => unreachable!("the loop ends at Done"),
        };
        forward = answered;
        step = if answered { step.next() } else { step.back() };
    }
    let (key, key_source) = match key {
        Some((k, s)) => (Some(k), s),
        None => (None, String::new()),
    };
    Ok(Plan {
        provider_id: provider.id.clone(),
        catalog_id: provider.id.clone(),
        region,
        key,
        key_source,
        base_url,
        default_model,
        default_if_unset: false,
        probe,
        update_service,
    })
}

/// The key step: the shell's variable (offered first) or the hidden prompt, then the
/// shape check and, when another key is stored under the profile, the question whether
/// to replace it (both fingerprints shown). `Ok(None)`: Esc, or "no" to a question that
/// leaves no key to store — back to the previous step.
fn ask_key(
    ctx: &Ctx,
    catalog: &Catalog,
    store: &crate::secrets::credentials::Store,
    provider: &Provider,
    p: &mut dyn Prompter,
) -> Result<Option<(SecretString, String)>, Failure> {
    let env_key = provider
        .key_env
        .iter()
        .find_map(|v| ctx.env.var(v).map(|k| (v.clone(), k.to_string())));
    let use_env = match &env_key {
        Some((var, k)) => {
            p.explain(&format!(
                "${var} is set in this shell: {}.",
                crate::secrets::mask::describe(k)
            ));
            match p.confirm(
                &format!("Store the key from ${var} (so the service can read it)?"),
                true,
            )? {
                Some(b) => b,
                None => return Ok(None),
            }
        }
        None => false,
    };
    let (k, source) = match env_key.filter(|_| use_env) {
        Some((var, k)) => (k, format!("${var}")),
        None => {
            p.explain("Paste the key; it is hidden as you type and stored in credentials.toml (0600), never in config.toml.");
            loop {
                let Some(typed) = p.secret("API key")? else {
                    return Ok(None);
                };
                match clean_key(&typed) {
                    Ok(_) => break (typed.trim().to_string(), "prompt".to_string()),
                    // Say why and ask again: a stray key press is no reason to start over.
                    Err(f) => {
                        p.explain(&format!("{}; type it again, or Esc to go back", f.message))
                    }
                }
            }
        }
    };
    let k = clean_key(&k)?;
    if let Err(f) = check_shape(catalog, provider, k.expose_secret(), false) {
        p.explain(&f.message);
        if !p.confirm("Save it anyway?", false)?.unwrap_or(false) {
            return Err(Failure::error("nothing was written"));
        }
    }
    let profile = format!("{}:default", provider.id);
    if let Some((old, new)) = replacement(store, &profile, &k) {
        p.explain(&format!(
            "credentials.toml already holds a different {profile} key: {old}"
        ));
        if !p
            .confirm(&format!("Replace it with {new}?"), false)?
            .unwrap_or(false)
        {
            return Err(Failure::error(format!(
                "kept the stored {profile} key {old}: nothing was written"
            )));
        }
    }
    Ok(Some((k, source)))
}

/// Whether token mode is on and no gateway token exists in this view.
fn gateway_token_needed(ctx: &Ctx) -> Result<bool, Failure> {
    let loaded = crate::config::load::load(&ctx.env, &ctx.opts.fast())?;
    let store = crate::secrets::credentials::Store::read(&loaded.paths.credentials);
    let r = crate::secrets::credentials::resolve_gateway_token(&loaded, &store);
    Ok(r.needs_key && r.winner().is_none() && loaded.config.gateway.auth.token.is_none())
}

/// 32 random bytes from the kernel, hex: a token nobody has to type.
fn generate_token() -> Result<SecretString, Failure> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            Failure::error(format!("cannot read /dev/urandom for a gateway token: {e}"))
        })?;
    Ok(SecretString::from(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

/// Restart the installed service, or install it; a failure is reported, not fatal:
/// the key is stored either way.
fn update_service(ctx: &Ctx) {
    let view = crate::service::view::discover(&ctx.env, &ctx.service_opts);
    let result = if view.definition().is_some() {
        super::gateway::restart(
            ctx,
            super::gateway::RestartArgs {
                wait: 10,
                json: false,
            },
        )
    } else {
        super::service::install(
            ctx,
            super::service::InstallArgs {
                platform: super::service::PlatformArgs { platform: None },
                force: false,
                no_start: false,
                json: false,
            },
        )
    };
    if let Err(f) = result {
        crate::errln!("warning: the service was not updated: {}", f.message);
    }
}

fn kp(s: &str) -> KeyPath {
    KeyPath::parse(s).expect("static key")
}

fn apply(ctx: &Ctx, catalog: &Catalog, plan: Plan, json_out: bool) -> Outcome {
    let id = plan.provider_id.clone();
    let profile = format!("{id}:default");
    let provider_path = kp("models.providers").child(id.as_str());
    let mut creds = Vec::new();
    if let Some(k) = &plan.key {
        creds.push(NewCredential {
            id: profile.clone(),
            provider: id.clone(),
            kind: AuthMode::ApiKey,
            secret: k.clone(),
        });
    }
    let catalog_entry = catalog.get(&plan.catalog_id);
    // Known before the write, reported after it: which stored key this replaces.
    let replaced = match (
        &plan.key,
        crate::env::paths::Paths::resolve(&ctx.env, ctx.opts.profile.as_deref()),
    ) {
        (Some(k), Ok(paths)) => crate::secrets::credentials::Store::read(&paths.credentials)
            .replacing(&profile, k.expose_secret()),
        _ => None,
    };
    // Decided under the lock (read, decide, write in one transaction), so parallel
    // onboards do not each generate a token or each set the default model.
    let decided = edit_config_deciding(&ctx.env, &ctx.opts, false, true, |doc, more| {
        more.extend(creds);
        // The gateway needs a token for its clients (dashboard, CLI); onboarding makes
        // one when token mode has none anywhere, as the peer tool's onboarding does.
        let new_token = gateway_token_needed(ctx)?
            .then(generate_token)
            .transpose()?;
        if let Some(t) = &new_token {
            more.push(NewCredential {
                id: "gateway:default".into(),
                provider: "gateway".into(),
                kind: AuthMode::Token,
                secret: t.clone(),
            });
        }
        let primary = kp("agents.defaults.model.primary");
        let default_model = plan.default_model.clone().filter(|_| {
            !plan.default_if_unset
                || crate::config::tomlconv::item_at(doc.as_item(), &primary).is_none()
        });
        let mut set = |path: KeyPath, v: Value| -> Result<(), Failure> {
            let current = crate::config::tomlconv::item_at(doc.as_item(), &path)
                .map(crate::config::tomlconv::item_to_json);
            if current.as_ref() != Some(&v) {
                crate::config::edit::set(doc, &path, &v, false, false)
                    .map_err(|e| Failure::error(e.to_string()))?;
            }
            Ok(())
        };
        if let Some(url) = &plan.base_url {
            // The catalog's default endpoint needs no line in the file unless the
            // file says otherwise already (switching platforms must be written).
            let is_default = catalog_entry
                .is_some_and(|p| p.default_region().base_url == *url && p.regions.len() == 1);
            if !is_default || catalog_entry.is_some_and(|p| p.custom) {
                set(provider_path.child("base_url"), json!(url))?;
            }
        }
        if catalog_entry.is_some_and(|p| p.custom) {
            set(provider_path.child("api"), json!("openai-completions"))?;
        }
        if plan.key.is_some() {
            set(
                provider_path.child("api_key"),
                json!(format!("cred:{profile}")),
            )?;
            set(
                kp("auth.profiles")
                    .child(profile.as_str())
                    .child("provider"),
                json!(id),
            )?;
            set(
                kp("auth.profiles").child(profile.as_str()).child("mode"),
                json!("api_key"),
            )?;
        }
        if let Some(m) = &default_model {
            set(primary, json!(m))?;
        }
        if new_token.is_some() {
            set(kp("gateway.auth.token"), json!("cred:gateway:default"))?;
        }
        if catalog_entry.is_none_or(|p| p.custom)
            && let Some(m) = default_model.as_deref().and_then(split_model_ref)
            && m.0 == id
        {
            let models_path = provider_path.child("models");
            let cur = crate::config::tomlconv::item_at(doc.as_item(), &models_path)
                .map(crate::config::tomlconv::item_to_json);
            if !cur
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == m.1))
            {
                crate::config::edit::set(doc, &models_path, &json!(m.1), true, false)
                    .map_err(|e| Failure::error(e.to_string()))?;
            }
        }
        Ok(new_token)
    });
    let (new_token, applied) = decided?;

    // What the views see now.
    let views = ctx.views(false)?;
    let cli_view = views.cli.resolve(catalog, &id);
    let env = &ctx.env;
    // Say what was written before the slow part (probe, service): a Ctrl-C there
    // must not leave a stored key unreported.
    if !json_out {
        if let Some(k) = &plan.key {
            let name = catalog_entry.map(|p| p.name.as_str()).unwrap_or(&id);
            let file = env.display_path(&views.cli.loaded.paths.credentials);
            match &replaced {
                Some((old, new)) => crate::outln!(
                    "replaced the stored {name} key {old} with {new} (from {}) in profile {profile} in {file}; the old file is in backups/",
                    plan.key_source
                ),
                None if applied.credentials_changed => crate::outln!(
                    "stored the {name} key {} (from {}) as profile {profile} in {file}",
                    crate::secrets::mask::describe(k.expose_secret()),
                    plan.key_source
                ),
                None => crate::outln!(
                    "the {name} key {} is already stored as profile {profile} in {file}",
                    crate::secrets::mask::describe(k.expose_secret())
                ),
            }
        }
        if let Some(t) = &new_token {
            crate::outln!(
                "generated a gateway token {} (profile gateway:default) for the dashboard and the CLI",
                crate::secrets::mask::describe(t.expose_secret())
            );
        }
        crate::outln!(
            "{} {}: provider {id} ({}){}",
            if applied.changed {
                "updated"
            } else {
                "unchanged"
            },
            env.display_path(&applied.config),
            plan.region.name,
            plan.base_url
                .as_ref()
                .map(|u| format!(", {u}"))
                .unwrap_or_default()
        );
    }
    let probe = if plan.probe {
        let _spinner = super::progress::Spinner::start(format!("probing {id}"));
        super::models::status::probe_provider(&views, &id)
    } else {
        None
    };
    let views = if plan.update_service {
        update_service(ctx);
        ctx.views(false)?
    } else {
        views
    };
    if !plan.update_service {
        for w in ctx.writes_not_seen(&applied.files()) {
            eprintln!("warning: {w}");
        }
    }
    let loaded = &views.cli.loaded;
    let service = super::service::check::key_visibility(&views, &id);
    let probe_failed = probe.as_ref().is_some_and(|p| !p.ok);

    if json_out {
        print_json(&json!({
            "provider": id,
            "region": plan.region.id,
            "profile": if plan.key.is_some() { Some(profile.clone()) } else { None },
            "key": plan.key.as_ref().map(|k| crate::secrets::mask::describe(k.expose_secret())),
            "key_from": plan.key_source,
            "replaced": replaced.as_ref().map(|(old, _)| old),
            "gateway_token_generated": new_token.as_ref().map(|t| crate::secrets::mask::describe(t.expose_secret())),
            "config": applied.config,
            "config_changed": applied.changed,
            "credentials_changed": applied.credentials_changed,
            "default_model": loaded.config.primary_model(),
            "cli_view": cli_view,
            "probe": probe.as_ref().map(|p| p.to_json()),
            "service": service.to_json(),
        }));
        return Ok(if probe_failed { 1 } else { 0 });
    }
    match loaded.config.primary_model() {
        Some(m) => crate::outln!("default model: {m}"),
        None => crate::outln!(
            "default model: not set (clawctl config set agents.defaults.model.primary {id}/MODEL)"
        ),
    }
    if let Some(p) = &probe {
        crate::outln!("probe: {}", p.summary);
        for line in &p.findings {
            crate::outln!("  {line}");
        }
    }
    crate::outln!("{}", service.summary);
    for c in &service.fix {
        crate::outln!("  fix: {c}");
    }
    Ok(if probe_failed { 1 } else { 0 })
}
