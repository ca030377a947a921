use clap::Args;
use serde_json::json;

use crate::cli::output::print_json;
use crate::cli::show::value_text;
use crate::cli::{Ctx, Failure, Outcome};
use crate::config::keypath::KeyPath;
use crate::config::load::load;
use crate::config::schema;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key, e.g. `gateway.port` or `models.providers."my.proxy".base_url`.
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::cli::completions::complete_key))]
    pub key: KeyPath,
    /// Also print where the value comes from.
    #[arg(long)]
    pub show_origin: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: GetArgs) -> Outcome {
    let key = args.key.clone();
    if !schema::is_known(&key) {
        let mut msg = format!("unknown key `{key}`");
        if let Some(s) = schema::suggest(&key) {
            msg.push_str(&format!("\n  help: did you mean `{s}`?"));
        }
        return Err(Failure::error(msg));
    }
    let loaded = load(&ctx.env, &ctx.opts.fast())?;
    // Errors that make this value unknowable stop us; others are mentioned.
    let blocking: Vec<_> = loaded
        .errors()
        .filter(|d| {
            d.code == "syntax"
                || d.code == "unreadable"
                || d.code == "encoding"
                || d.code == "not-a-file"
                || d.code == "too-large"
                || d.code == "usage"
                || d.key
                    .as_ref()
                    .is_some_and(|k| k.starts_with(&key) || key.starts_with(k))
        })
        .collect();
    if !blocking.is_empty() {
        let text: Vec<String> = blocking
            .iter()
            .map(|d| d.render(&loaded.env, loaded.sources()))
            .collect();
        return Err(Failure::error(text.join("\n")));
    }
    let others = loaded.errors().count();
    if others > 0 && !args.json {
        crate::errln!(
            "warning: the config has {others} other error(s); run `clawctl config validate`"
        );
    }
    let key = same_key_any_case(&loaded, key);
    let Some(value) = loaded.get(&key) else {
        let msg = format!(
            "`{key}` is not set, and it has no default\n  help: clawctl config set {key} VALUE{}",
            schema::description_at(&key)
                .map(|d| format!("\n  about: {}", d.replace('\n', " ")))
                .unwrap_or_default()
        );
        if args.json {
            print_json(&json!({"key": key.to_string(), "set": false, "value": null}));
            return Ok(1);
        }
        return Err(Failure::error(msg));
    };
    let origin = loaded.origin_of(&key);
    if args.json {
        print_json(&json!({
            "key": key.to_string(),
            "set": true,
            "value": crate::secrets::mask::redact_tree(&key, value),
            "secret": crate::secrets::mask::is_secret_leaf(&key, value.as_str().unwrap_or_default()),
            "origin": origin.as_ref().map(|o| o.to_json()),
        }));
        return Ok(0);
    }
    let text = value_text(&key, value);
    if args.show_origin {
        let label = origin
            .map(|o| o.label(&loaded.env))
            .unwrap_or_else(|| "default".into());
        crate::outln!("{label}\t{text}");
    } else {
        crate::outln!("{text}");
    }
    Ok(0)
}

/// `key`, or the one key of the same open map that differs from it only in case
/// (`env.vars.http_proxy` finds `env.vars.HTTP_PROXY`, which an override named
/// `CLAWCTL__ENV__VARS__HTTP_PROXY` sets). The output names the key found.
fn same_key_any_case(loaded: &crate::config::load::Loaded, key: KeyPath) -> KeyPath {
    if loaded.get(&key).is_some() {
        return key;
    }
    let (Some(parent), Some(last)) = (key.parent(), key.last_key()) else {
        return key;
    };
    if !schema::is_open_map(&parent) {
        return key;
    }
    let Some(serde_json::Value::Object(map)) = loaded.get(&parent) else {
        return key;
    };
    let mut same = map.keys().filter(|k| k.eq_ignore_ascii_case(last));
    match (same.next(), same.next()) {
        (Some(only), None) => parent.child(only.as_str()),
        _ => key,
    }
}
