//! `--set KEY=VALUE` checked while the command line is parsed, so a malformed or
//! misspelt override is a usage error (exit 2, with "did you mean") before any command
//! runs, instead of a diagnostic about a config that was never wrong.

use crate::config::keypath::KeyPath;
use crate::config::schema;

/// clap value parser for `--set`: `Ok(arg)` unchanged when KEY is a known key and VALUE
/// has the type the schema expects there; else the message clap prints after
/// "invalid value … for '--set <KEY=VALUE>':". Values never appear in it, only their
/// masked preview (`--set models.providers.x.api_key=…` may carry a secret).
pub fn parse_set(arg: &str) -> Result<String, String> {
    let Some((k, v)) = arg.split_once('=') else {
        return Err("expected KEY=VALUE, for example --set gateway.port=19001".into());
    };
    let key = KeyPath::parse(k.trim()).map_err(|e| e.to_string())?;
    if !schema::is_known(&key) {
        let mut msg = format!("unknown key `{key}`");
        match schema::suggest(&key) {
            Some(s) => msg.push_str(&format!("; did you mean `{s}`?")),
            None => {
                if let Some(parent) = key.parent() {
                    let known = schema::known_children(&parent);
                    if !known.is_empty() {
                        msg.push_str(&format!("; keys under `{parent}`: {}", known.join(", ")));
                    }
                }
            }
        }
        return Err(msg);
    }
    schema::coerce(&key, v).map_err(|e| format!("`{key}`: {e}"))?;
    Ok(arg.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_set;

    #[test]
    fn known_and_typed() {
        assert!(parse_set("gateway.port=19001").is_ok());
        assert!(parse_set("env.vars.DEBUG=true").is_ok());
    }

    #[test]
    fn typo_gets_did_you_mean() {
        let e = parse_set("gateway.prot=1").unwrap_err();
        assert!(e.contains("did you mean `gateway.port`"), "{e}");
    }

    #[test]
    fn malformed() {
        assert!(parse_set("gateway.port").unwrap_err().contains("KEY=VALUE"));
        let e = parse_set("gateway.port=abc").unwrap_err();
        assert!(e.contains("gateway.port") && e.contains("integer"), "{e}");
    }
}
