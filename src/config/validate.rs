//! Validation of a loaded config: the JSON Schema (generated from the types) and the
//! checks a schema cannot express (model references, providers, credential refs).

use jsonschema::error::{ValidationError, ValidationErrorKind};
use serde_json::Value;

use crate::config::diagnostics::Diagnostic;
use crate::config::keypath::KeyPath;
use crate::config::load::Loaded;
use crate::config::model::{CURRENT_VERSION, split_model_ref};
use crate::config::origin::Origin;
use crate::config::schema;
use crate::providers::catalog::Catalog;
use crate::secrets::mask::{self, SecretValue};

/// Attach the location of `path` in the file (when the value came from the file).
fn locate(loaded: &Loaded, mut d: Diagnostic, path: &KeyPath, key_itself: bool) -> Diagnostic {
    if loaded.brief {
        return d.with_key(path.clone());
    }
    let origin = loaded.origin_of(path);
    if let Some(Origin::File { .. }) = &origin {
        let span = if key_itself {
            loaded
                .spans()
                .key_span(path)
                .or_else(|| loaded.spans().locate(path))
        } else {
            loaded.spans().locate(path)
        };
        if let Some(span) = span {
            d = d.with_span(loaded.paths.config.clone(), span);
        }
    }
    d.with_key(path.clone()).with_origin(origin)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

fn found(path: &KeyPath, v: &Value) -> String {
    match v {
        Value::String(s) if schema::is_secret(path) => {
            format!("a string ({})", mask::describe(s))
        }
        Value::String(s) => format!("the string \"{}\"", mask::preview(s)),
        Value::Number(n) => format!("{} {n}", type_name(v)),
        Value::Bool(b) => format!("{b}"),
        other => type_name(other).to_string(),
    }
}

pub fn check_schema(loaded: &mut Loaded) {
    let value = loaded.value.clone();
    let errors: Vec<ValidationError<'static>> = schema::validator()
        .iter_errors(&value)
        .map(|e| e.to_owned())
        .collect();
    let mut out = Vec::new();
    for e in errors {
        explain(loaded, &value, e, &mut out);
    }
    // One diagnostic per key and code is enough.
    out.dedup_by(|a, b| a.key == b.key && a.code == b.code && a.message == b.message);
    loaded.diagnostics.extend(out);
}

fn explain(loaded: &Loaded, root: &Value, e: ValidationError<'static>, out: &mut Vec<Diagnostic>) {
    let path = KeyPath::from_json_pointer(e.instance_path().as_str(), root);
    let instance = e.instance().clone().into_owned();
    let instance_pointer = e.instance_path().as_str().to_string();
    let fallback_message = e.kind_message();
    match e.into_parts().kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for u in unexpected {
                let key = path.child(u.as_str());
                let mut d = Diagnostic::error("unknown-key", format!("unknown key `{key}`"));
                let known = schema::known_children(&path);
                d = match (!loaded.brief).then(|| schema::suggest(&key)).flatten() {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if !known.is_empty() => d.with_help(format!(
                        "keys allowed {}: {}",
                        if path.is_empty() {
                            "at the top level".to_string()
                        } else {
                            format!("under `{path}`")
                        },
                        known.join(", ")
                    )),
                    None => d,
                };
                out.push(locate(loaded, d, &key, true));
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // Keep the branches that fit the value's type; if one remains, its
            // errors are the real ones (a misspelt key inside the model table).
            let fitting: Vec<Vec<ValidationError<'static>>> = context
                .into_iter()
                .filter(|branch| {
                    !branch.iter().any(|be| {
                        matches!(be.kind(), ValidationErrorKind::Type { .. })
                            && be.instance_path().as_str() == instance_pointer
                    })
                })
                .collect();
            if fitting.len() == 1 {
                for be in fitting.into_iter().next().unwrap_or_default() {
                    explain(loaded, root, be, out);
                }
            } else {
                let d = Diagnostic::error(
                    "type",
                    format!(
                        "`{path}` has the wrong type: found {}",
                        found(&path, &instance)
                    ),
                )
                .with_expected(schema::expected_at(&path));
                out.push(locate(loaded, d, &path, false));
            }
        }
        ValidationErrorKind::Type { .. } => {
            let d = Diagnostic::error(
                "type",
                format!(
                    "`{path}` must be {}, found {}",
                    schema::expected_at(&path),
                    found(&path, &instance)
                ),
            )
            .with_expected(schema::expected_at(&path))
            .with_help(type_help(&path, &instance));
            out.push(locate(loaded, d, &path, false));
        }
        ValidationErrorKind::Minimum { .. }
        | ValidationErrorKind::Maximum { .. }
        | ValidationErrorKind::ExclusiveMinimum { .. }
        | ValidationErrorKind::ExclusiveMaximum { .. } => {
            let d = Diagnostic::error(
                "range",
                format!("`{path}` is out of range: {}", found(&path, &instance)),
            )
            .with_expected(schema::expected_at(&path));
            out.push(locate(loaded, d, &path, false));
        }
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
            let d = Diagnostic::error(
                "value",
                format!("`{path}` does not accept {}", found(&path, &instance)),
            )
            .with_expected(schema::expected_at(&path));
            out.push(locate(loaded, d, &path, false));
        }
        ValidationErrorKind::Pattern { .. } => {
            let desc = schema::description_at(&path).unwrap_or_default();
            let d = Diagnostic::error(
                "value",
                format!("`{path}` does not accept {}", found(&path, &instance)),
            )
            .with_expected(desc.replace('\n', " "));
            out.push(locate(loaded, d, &path, false));
        }
        ValidationErrorKind::Required { property } => {
            let key = path.child(property.as_str().unwrap_or_default());
            let d = Diagnostic::error("required", format!("`{key}` is required"));
            out.push(locate(loaded, d, &path, false));
        }
        _ => {
            let d = Diagnostic::error("schema", format!("`{path}` is invalid: {fallback_message}"));
            out.push(locate(loaded, d, &path, false));
        }
    }
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for ValidationError<'_> {
    fn kind_message(&self) -> String {
        // The validator's own text, with the instance masked: it may be a secret.
        self.masked_with("the value").to_string()
    }
}

fn type_help(path: &KeyPath, instance: &Value) -> String {
    let types = schema::types_at(path);
    match instance {
        Value::String(s)
            if types.iter().any(|t| t == "integer") && s.trim().parse::<i64>().is_ok() =>
        {
            format!(
                "write it without quotes: {} = {}",
                path.last_key().unwrap_or("key"),
                s.trim()
            )
        }
        _ => format!("set it with `clawctl config set {path} VALUE` (typed for you)"),
    }
}

/// The schema's range and pattern rules that deserializing does not enforce, for
/// the fast path (the typed config already rules out wrong types and unknown keys).
pub fn check_ranges(loaded: &mut Loaded) {
    let mut out = Vec::new();
    let port_key = KeyPath::parse("gateway.port").expect("static key");
    if loaded.get(&port_key).and_then(Value::as_u64) == Some(0) {
        out.push(locate(
            loaded,
            Diagnostic::error("range", "`gateway.port` is out of range: an integer 0")
                .with_expected(schema::expected_at(&port_key)),
            &port_key,
            false,
        ));
    }
    let t_key = KeyPath::parse("env.shell_env.timeout_ms").expect("static key");
    if let Some(t) = loaded.get(&t_key).and_then(Value::as_u64)
        && !(1..=600_000).contains(&t)
    {
        out.push(locate(
            loaded,
            Diagnostic::error(
                "range",
                format!("`env.shell_env.timeout_ms` is out of range: an integer {t}"),
            )
            .with_expected(schema::expected_at(&t_key)),
            &t_key,
            false,
        ));
    }
    loaded.diagnostics.extend(out);
}

/// Checks the schema cannot express.
pub fn check_cross_fields(loaded: &mut Loaded) {
    let catalog = match Catalog::load(&loaded.env) {
        Ok(c) => c,
        Err(e) => {
            loaded.diagnostics.push(Diagnostic::error("catalog", e.0));
            Catalog::builtin()
        }
    };
    let mut out = Vec::new();
    let cfg = loaded.config.clone();
    let version = loaded
        .get(&KeyPath::parse("meta.version").expect("static key"))
        .and_then(Value::as_u64)
        .map(|v| v as u32);

    if let Some(v) = version
        && v > CURRENT_VERSION
    {
        out.push(locate(
            loaded,
            Diagnostic::error(
                "newer-version",
                format!(
                    "this config was written by a newer clawctl (layout version {v}; this clawctl knows up to {CURRENT_VERSION})"
                ),
            )
            .with_help("upgrade clawctl; nothing was changed"),
            &KeyPath::parse("meta.version").expect("static key"),
            false,
        ));
    } else if loaded.file_value().is_some() && version.unwrap_or(0) < CURRENT_VERSION {
        out.push(
            Diagnostic::warning(
                "old-version",
                format!(
                    "the config's layout version is {} (current: {CURRENT_VERSION})",
                    version.unwrap_or(0)
                ),
            )
            .with_help(
                "run `clawctl migrate --dry-run` to see the changes, then `clawctl migrate`",
            ),
        );
    }

    let model_key = if matches!(
        cfg.agents.defaults.model,
        Some(crate::config::model::ModelSetting::Ref(_))
    ) {
        "agents.defaults.model"
    } else {
        "agents.defaults.model.primary"
    };
    let mut refs: Vec<(KeyPath, String)> = Vec::new();
    if let Some(p) = cfg.primary_model() {
        refs.push((
            KeyPath::parse(model_key).expect("static key"),
            p.to_string(),
        ));
    }
    for (i, f) in cfg.fallback_models().iter().enumerate() {
        refs.push((
            KeyPath::parse("agents.defaults.model.fallbacks")
                .expect("static key")
                .index(i),
            f.clone(),
        ));
    }
    for (alias, target) in &cfg.agents.defaults.models {
        refs.push((
            KeyPath::parse("agents.defaults.models")
                .expect("static key")
                .child(alias.as_str()),
            target.clone(),
        ));
    }
    for (path, reference) in refs {
        let resolved = cfg.resolve_model(&reference).to_string();
        let Some((provider, _model)) = split_model_ref(&resolved) else {
            out.push(locate(
                loaded,
                Diagnostic::error(
                    "model-ref",
                    format!("`{path}` = \"{reference}\" is not a model reference"),
                )
                .with_expected("\"provider/model\", e.g. \"moonshot/kimi-k2.5\", or an alias from agents.defaults.models"),
                &path,
                false,
            ));
            continue;
        };
        let configured = cfg.models.providers.contains_key(provider);
        if !configured && catalog.get(provider).is_none() {
            let ids: Vec<String> = catalog.providers.iter().map(|p| p.id.clone()).collect();
            let mut d = Diagnostic::error(
                "unknown-provider",
                format!(
                    "`{path}` uses provider `{provider}`, which is neither in the catalog nor under models.providers"
                ),
            );
            d = match schema::best_match(provider, &ids) {
                Some(m) => d.with_help(format!(
                    "did you mean `{m}`? Known providers: {}",
                    ids.join(", ")
                )),
                None => d.with_help(format!(
                    "add [{}] with a base_url, or use one of: {}",
                    KeyPath::provider(provider),
                    ids.join(", ")
                )),
            };
            out.push(locate(loaded, d, &path, false));
        } else if !configured
            && let Some(p) = catalog.get(provider)
            && p.id != provider
        {
            out.push(locate(
                loaded,
                Diagnostic::warning(
                    "provider-alias",
                    format!("`{path}` uses `{provider}`, an alias of `{}`", p.id),
                )
                .with_help(format!(
                    "write `{}` (clawctl migrate does this for you)",
                    resolved.replacen(provider, &p.id, 1)
                )),
                &path,
                false,
            ));
        }
    }

    let mut secret_keys: Vec<(KeyPath, String)> = Vec::new();
    for (id, p) in &cfg.models.providers {
        if let Some(k) = &p.api_key {
            secret_keys.push((KeyPath::provider(id).child("api_key"), k.clone()));
        }
        for (name, value) in &p.headers {
            let path = KeyPath::provider(id).child("headers").child(name.as_str());
            // `Bearer ${TOKEN}` is a reference inside a header, not a literal.
            if mask::is_secret_leaf(&path, value) && !value.contains("${") {
                secret_keys.push((path, value.clone()));
            }
        }
        if p.base_url.is_none() && catalog.get(id).is_none() {
            out.push(locate(
                loaded,
                Diagnostic::error(
                    "base-url",
                    format!("provider `{id}` is not in the catalog and has no base_url"),
                )
                .with_help(
                    crate::fix::FixCommand::config_set(
                        &KeyPath::provider(id).child("base_url"),
                        "https://…",
                    )
                    .to_string(),
                ),
                &KeyPath::provider(id),
                false,
            ));
        }
    }
    if let Some(t) = &cfg.gateway.auth.token {
        secret_keys.push((
            KeyPath::parse("gateway.auth.token").expect("static key"),
            t.clone(),
        ));
    }
    for (name, value) in &cfg.env.vars {
        let path = KeyPath::parse("env.vars")
            .expect("static key")
            .child(name.as_str());
        if mask::is_secret_leaf(&path, value) {
            secret_keys.push((path, value.clone()));
        }
    }
    for (path, value) in secret_keys {
        match mask::classify(&value) {
            SecretValue::Malformed(_) => out.push(locate(
                loaded,
                Diagnostic::error("reference", format!("`{path}` holds a malformed reference"))
                    .with_expected("\"cred:PROVIDER:NAME\" or \"${ENV_VAR}\"")
                    .with_help("for an env variable write \"${MOONSHOT_API_KEY}\"; for a stored key run `clawctl onboard`"),
                &path,
                false,
            )),
            SecretValue::Literal(_) => out.push(locate(
                loaded,
                Diagnostic::warning("secret-in-config", format!("`{path}` holds a literal secret"))
                    .with_help("`clawctl doctor --fix` moves it to credentials.toml (0600) and leaves a cred: reference"),
                &path,
                false,
            )),
            _ => {}
        }
    }

    for (id, profile) in &cfg.auth.profiles {
        let path = KeyPath::parse("auth.profiles")
            .expect("static key")
            .child(id.as_str());
        if !mask::is_valid_profile_id(id) {
            out.push(locate(
                loaded,
                Diagnostic::error(
                    "profile-id",
                    format!("profile id `{id}` is not PROVIDER:NAME"),
                )
                .with_expected("an id like \"moonshot:default\""),
                &path,
                true,
            ));
        } else if id.split(':').next() != Some(profile.provider.as_str()) {
            out.push(locate(
                loaded,
                Diagnostic::warning(
                    "profile-provider",
                    format!("profile `{id}` says provider = \"{}\"", profile.provider),
                )
                .with_help(
                    "the part before `:` in a profile id names its provider; make them agree",
                ),
                &path,
                false,
            ));
        }
    }
    for (provider, ids) in &cfg.auth.order {
        for (i, id) in ids.iter().enumerate() {
            if !cfg.auth.profiles.contains_key(id) {
                let path = KeyPath::parse("auth.order")
                    .expect("static key")
                    .child(provider.as_str())
                    .index(i);
                out.push(locate(
                    loaded,
                    Diagnostic::error(
                        "profile-ref",
                        format!("`{path}` names profile `{id}`, which is not in auth.profiles"),
                    ),
                    &path,
                    false,
                ));
            }
        }
    }
    let bind = &cfg.gateway.bind;
    if bind != "loopback" && bind != "lan" && bind.parse::<std::net::IpAddr>().is_err() {
        out.push(locate(
            loaded,
            Diagnostic::error(
                "value",
                format!("`gateway.bind` = \"{bind}\" is not an IP address"),
            )
            .with_expected("`loopback`, `lan` or an IP address such as 127.0.0.1"),
            &KeyPath::parse("gateway.bind").expect("static key"),
            false,
        ));
    }
    if let Some(d) = unauthenticated_exposure(loaded) {
        out.push(d);
    }
    // The typed config holds defaults where values are invalid: a check that touches
    // one of those keys would judge a default the file does not have.
    out.retain(|d| {
        d.key
            .as_ref()
            .is_none_or(|k| loaded.invalid_near(k).is_none())
    });
    loaded.diagnostics.extend(out);
}

/// Whether `bind` (`loopback`, `lan` or an IP address) listens beyond this machine.
pub fn bind_is_exposed(bind: &str) -> bool {
    match bind {
        "loopback" => false,
        "lan" => true,
        ip => ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| !ip.is_loopback()),
    }
}

/// A gateway reachable from the network with `gateway.auth.mode = "none"`: anyone who
/// can reach the port can spend the provider keys. Located at whichever of the two
/// settings is not a default (the one the user chose last, usually).
fn unauthenticated_exposure(loaded: &Loaded) -> Option<Diagnostic> {
    let g = &loaded.config.gateway;
    if g.auth.mode != crate::config::model::GatewayAuthMode::None || !bind_is_exposed(&g.bind) {
        return None;
    }
    let bind_key = KeyPath::parse("gateway.bind").expect("static key");
    let mode_key = KeyPath::parse("gateway.auth.mode").expect("static key");
    let key = if matches!(loaded.origin_of(&bind_key), Some(Origin::Default) | None) {
        mode_key
    } else {
        bind_key
    };
    let d = Diagnostic::error(
        "exposed-without-auth",
        format!(
            "`gateway.bind` = \"{}\" listens on the network, but `gateway.auth.mode` is \"none\": anyone who can reach port {} would use your provider keys unauthenticated",
            g.bind, g.port
        ),
    )
    .with_expected("gateway.auth.mode = \"token\" (or \"password\") when gateway.bind is not loopback")
    .with_help(
        "clawctl config set gateway.auth.mode token (then `clawctl onboard` generates the token), or clawctl config set gateway.bind loopback",
    );
    Some(locate(loaded, d, &key, false))
}

/// `gateway.auth.mode = "password"` with no password anywhere (the gateway takes its
/// token as the password: `gateway.auth.token`, profile `gateway:default`,
/// `CLAWCTL_GATEWAY_TOKEN`): no client could ever log in. Needs the credential store
/// and the environment, so it runs on a full load only.
pub fn check_password(loaded: &mut Loaded, store: &crate::secrets::credentials::Store) {
    let mode_key = KeyPath::parse("gateway.auth").expect("static key");
    if loaded.config.gateway.auth.mode != crate::config::model::GatewayAuthMode::Password
        || loaded.invalid_near(&mode_key).is_some()
        || store.error.is_some()
    {
        return;
    }
    let token = crate::secrets::credentials::resolve_gateway_token(loaded, store);
    if token.winner().is_some() {
        return;
    }
    let d = Diagnostic::error(
        "password-missing",
        "`gateway.auth.mode` is \"password\" but no password is set anywhere (gateway.auth.token, credential profile gateway:default, CLAWCTL_GATEWAY_TOKEN): no client could log in",
    )
    .with_help("clawctl config set gateway.auth.token --stdin   (the password clients send), or clawctl config set gateway.auth.mode token");
    let d = locate(
        loaded,
        d,
        &KeyPath::parse("gateway.auth.mode").expect("static key"),
        false,
    );
    loaded.diagnostics.push(d);
}
