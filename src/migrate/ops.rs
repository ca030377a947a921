//! The operations a migration file can list. Each one describes itself
//! ([`Op::summary`]), changes a toml_edit document, and returns one sentence per
//! change it made — none when there was nothing to do, so a second run is a no-op.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value as Json;
use toml_edit::{Item, Value};

use super::pattern::{Match, Pattern, fill_template, template_arity};
use super::tree::{self, TreeError};
use super::{Change, MigrateError, Removed, show};
use crate::config::keypath::KeyPath;
use crate::config::load::sha256_hex;
use crate::config::model::{AuthMode, split_model_ref};
use crate::config::tomlconv::{item_to_json, json_to_toml_value, value_to_json};
use crate::secrets::mask::{self, SecretValue};

/// One `[[op]]` entry of a migration file. `kind` selects the operation; `reason`
/// (required for `delete`) is added to each sentence the operation reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Move a key (and its comments) to a new name or place. A `*` in `to` stands
    /// for the key the `*` in `from` matched. When both exist with the same value the
    /// old one is dropped; different values stop the migration (nothing is guessed).
    Rename {
        from: Pattern,
        to: Pattern,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Remove a key. The old value is printed in the report and stays in the backup.
    Delete { path: Pattern, reason: String },
    /// Add a key that is missing; with `when_present`, only where that key exists
    /// (its `*` segments fill the ones of `path`).
    SetIfMissing {
        path: Pattern,
        value: Json,
        #[serde(default)]
        when_present: Option<Pattern>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A string becomes a one-key table: `model = "x"` → `model.primary = "x"`.
    Wrap {
        path: Pattern,
        into: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Rename a provider id `from` → `to` wherever it is used: the provider part of
    /// `"provider/model"` references (`model_refs`), whole string values (`values`),
    /// and keys of the tables in `keys_of`.
    MapValue {
        from: String,
        to: String,
        #[serde(default)]
        model_refs: Vec<Pattern>,
        #[serde(default)]
        values: Vec<Pattern>,
        #[serde(default)]
        keys_of: Vec<Pattern>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Move a literal secret into credentials.toml as profile `profile` (with
    /// `{1}`… standing for the keys `*` matched) and leave `"cred:<profile>"` in its
    /// place. References (`cred:…`, `${VAR}`) are left alone.
    MoveSecret {
        path: Pattern,
        profile: String,
        provider: String,
        /// `api_key` or `token`, as credentials.toml records it.
        credential_kind: AuthMode,
        #[serde(default)]
        reason: Option<String>,
    },
}

/// A secret a migration takes out of config.toml, for credentials.toml.
pub struct MovedSecret {
    pub profile: String,
    pub provider: String,
    pub kind: AuthMode,
    /// Where it was in the config.
    pub key: KeyPath,
    pub secret: SecretString,
}

impl std::fmt::Debug for MovedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use secrecy::ExposeSecret;
        f.debug_struct("MovedSecret")
            .field("profile", &self.profile)
            .field("key", &self.key.to_string())
            .field("secret", &mask::describe(self.secret.expose_secret()))
            .finish()
    }
}

/// What operations share while a migration runs.
#[derive(Debug, Default)]
pub struct OpContext {
    /// Profiles in credentials.toml (and those planned in this run): id → sha256 of
    /// the secret, so a moved key never replaces a different stored one.
    pub stored: BTreeMap<String, String>,
    pub moved: Vec<MovedSecret>,
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Rename { .. } => "rename",
            Op::Delete { .. } => "delete",
            Op::SetIfMissing { .. } => "set_if_missing",
            Op::Wrap { .. } => "wrap",
            Op::MapValue { .. } => "map_value",
            Op::MoveSecret { .. } => "move_secret",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Op::Rename { reason, .. }
            | Op::SetIfMissing { reason, .. }
            | Op::Wrap { reason, .. }
            | Op::MapValue { reason, .. }
            | Op::MoveSecret { reason, .. } => reason.as_deref(),
            Op::Delete { reason, .. } => Some(reason),
        }
    }

    /// What the operation does, in one line (for `migrate --json` and the docs).
    pub fn summary(&self) -> String {
        let s = match self {
            Op::Rename { from, to, .. } => format!("rename `{from}` to `{to}`"),
            Op::Delete { path, .. } => format!("delete `{path}`"),
            Op::SetIfMissing {
                path,
                value,
                when_present,
                ..
            } => match when_present {
                Some(w) => format!("set `{path}` = {value} where `{w}` is set and it is not"),
                None => format!("set `{path}` = {value} if it is not set"),
            },
            Op::Wrap { path, into, .. } => {
                format!("turn a string `{path}` into the table `{path}.{into}`")
            }
            Op::MapValue { from, to, .. } => {
                format!("rename the provider id `{from}` to `{to}` wherever it is used")
            }
            Op::MoveSecret { path, profile, .. } => format!(
                "move a literal secret in `{path}` to credentials.toml (profile `{profile}`)"
            ),
        };
        match self.reason() {
            Some(r) => format!("{s}: {r}"),
            None => s,
        }
    }

    /// Rules a migration file's author can get wrong, checked when it is read.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Op::Rename { from, to, .. } => {
                if from.wildcards() != to.wildcards() {
                    return Err(format!(
                        "rename: `{from}` and `{to}` must have the same number of `*`"
                    ));
                }
                if from.0.is_empty() || to.0.is_empty() || from == to {
                    return Err("rename: `from` and `to` must be different keys".into());
                }
            }
            Op::Delete { reason, .. } if reason.trim().is_empty() => {
                return Err("delete: `reason` must say why the key goes".into());
            }
            Op::Delete { .. } => {}
            Op::SetIfMissing {
                path,
                value,
                when_present,
                ..
            } => {
                let w = when_present.as_ref().map(Pattern::wildcards).unwrap_or(0);
                if path.wildcards() != w {
                    return Err(format!(
                        "set_if_missing: every `*` in `{path}` must come from `when_present`"
                    ));
                }
                if json_to_toml_value(value).is_none() {
                    return Err("set_if_missing: `value` has no TOML form".into());
                }
            }
            Op::Wrap { into, .. } if into.is_empty() => {
                return Err("wrap: `into` names the key the string goes to".into());
            }
            Op::Wrap { .. } => {}
            Op::MapValue {
                from,
                to,
                model_refs,
                values,
                keys_of,
                ..
            } => {
                if from == to || from.is_empty() || to.is_empty() || from.contains('/') {
                    return Err("map_value: `from` and `to` must be different ids".into());
                }
                if model_refs.is_empty() && values.is_empty() && keys_of.is_empty() {
                    return Err(
                        "map_value: list where the id is used: model_refs, values or keys_of"
                            .into(),
                    );
                }
            }
            Op::MoveSecret {
                path,
                profile,
                provider,
                ..
            } => {
                let n = template_arity(profile).max(template_arity(provider));
                if n > path.wildcards() {
                    return Err(format!(
                        "move_secret: `{{{n}}}` has no `*` in `{path}` to stand for"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Apply to `root`; one change per thing changed.
    pub fn apply(&self, root: &mut Item, cx: &mut OpContext) -> Result<Vec<Change>, MigrateError> {
        let mut changes = match self {
            Op::Rename { from, to, .. } => rename(root, from, to)?,
            Op::Delete { path, .. } => delete(root, path, cx),
            Op::SetIfMissing {
                path,
                value,
                when_present,
                ..
            } => set_if_missing(root, path, value, when_present.as_ref())?,
            Op::Wrap { path, into, .. } => wrap(root, path, into)?,
            Op::MapValue {
                from,
                to,
                model_refs,
                values,
                keys_of,
                ..
            } => {
                let mut out = map_refs(root, from, to, model_refs);
                out.extend(map_values(root, from, to, values));
                out.extend(map_keys(root, from, to, keys_of)?);
                out
            }
            Op::MoveSecret {
                path,
                profile,
                provider,
                credential_kind,
                ..
            } => move_secret(root, path, profile, provider, *credential_kind, cx),
        };
        let op = self.kind();
        for c in &mut changes {
            c.op = op;
            if let Some(r) = self.reason() {
                c.message = format!("{}: {r}", c.message);
            }
        }
        Ok(changes)
    }
}

fn change(key: KeyPath, message: String) -> Change {
    Change {
        op: "",
        key,
        message,
        removed: Vec::new(),
    }
}

fn tree_error(e: TreeError, what: &str) -> MigrateError {
    let key = match &e {
        TreeError::NotATable { at, .. } | TreeError::BadPath(at) => at.clone(),
    };
    MigrateError::at(key, format!("{e}; {what}"))
        .with_help("fix that key by hand (`clawctl config validate` shows where it is), then run `clawctl migrate` again")
}

/// Move the entry at `old` to `new` (comments kept). When `new` is set already, the
/// old entry is dropped if both hold the same value (`same` words it), and anything
/// else stops the migration with `conflict()`: nothing is guessed.
fn move_key(
    root: &mut Item,
    old: &KeyPath,
    new: &KeyPath,
    same: &str,
    conflict: impl FnOnce() -> MigrateError,
) -> Result<Change, MigrateError> {
    if let Some(existing) = tree::get(root, new) {
        if tree::get(root, old).map(item_to_json) != Some(item_to_json(existing)) {
            return Err(conflict());
        }
        tree::remove(root, old);
        return Ok(change(
            new.clone(),
            format!("removed `{old}`: `{new}` already has {same}"),
        ));
    }
    tree::move_entry(root, old, new, None)
        .map_err(|e| tree_error(e, &format!("`{old}` cannot move to `{new}`")))?;
    Ok(change(new.clone(), format!("renamed `{old}` to `{new}`")))
}

fn rename(root: &mut Item, from: &Pattern, to: &Pattern) -> Result<Vec<Change>, MigrateError> {
    let mut out = Vec::new();
    for Match { path, captures } in from.expand(root) {
        let dest = to.fill(&captures);
        out.push(move_key(root, &path, &dest, "the same value", || {
            MigrateError::at(
                path.clone(),
                format!("`{path}` and `{dest}` are both set, to different values; `{path}` is the old name of `{dest}`"),
            )
            .with_help(format!(
                "keep the value you want in `{dest}`, delete `{path}`, then run `clawctl migrate` again"
            ))
        })?);
    }
    Ok(out)
}

/// Remove every match. A literal secret whose only copy it was moves into
/// credentials.toml first (never deleted outright): the config keeps no reference to
/// it, but the key stays and the change names the profile that holds it.
fn delete(root: &mut Item, path: &Pattern, cx: &mut OpContext) -> Vec<Change> {
    let mut out = Vec::new();
    for m in path.expand(root) {
        if let Some(old) = tree::remove(root, &m.path) {
            let value = item_to_json(&old);
            let mut message = format!("removed `{}` (was {})", m.path, show(&m.path, &value));
            let kept = match &value {
                Json::String(s)
                    if super::is_sensitive(&m.path, s)
                        && !super::sensitive_strings(root).contains(s) =>
                {
                    Some(keep_secret(cx, &m.path, s, &mut message))
                }
                _ => None,
            };
            let mut c = change(m.path.clone(), message);
            c.removed.push(Removed {
                key: m.path,
                value,
                to_credentials: kept,
            });
            out.push(c);
        }
    }
    out
}

/// Plan `secret`, which left the config at `key`, into credentials.toml (unless a
/// profile holds it already) and say where it lives in `message`. Returns the profile.
fn keep_secret(cx: &mut OpContext, key: &KeyPath, secret: &str, message: &mut String) -> String {
    let (wanted, provider, kind) = crate::secrets::credentials::profile_for_secret_key(key);
    let (id, already) = allocate(cx, &wanted, secret);
    if already {
        message.push_str(&format!("; credentials.toml keeps it as profile `{id}`"));
    } else {
        message.push_str(&format!(
            "; it was the only copy of that secret, so it moved to credentials.toml as profile `{id}`"
        ));
        cx.moved.push(MovedSecret {
            profile: id.clone(),
            provider,
            kind,
            key: key.clone(),
            secret: SecretString::from(secret.to_string()),
        });
    }
    id
}

fn set_if_missing(
    root: &mut Item,
    path: &Pattern,
    value: &Json,
    when_present: Option<&Pattern>,
) -> Result<Vec<Change>, MigrateError> {
    let targets: Vec<KeyPath> = match when_present {
        Some(w) => w
            .expand(root)
            .iter()
            .map(|m| path.fill(&m.captures))
            .collect(),
        None => path.as_path().into_iter().collect(),
    };
    let mut out = Vec::new();
    for target in targets {
        if tree::get(root, &target).is_some() {
            continue;
        }
        let Some(v) = json_to_toml_value(value) else {
            continue;
        };
        tree::insert_new(root, &target, Item::Value(v))
            .map_err(|e| tree_error(e, &format!("`{target}` cannot be added")))?;
        out.push(change(
            target.clone(),
            format!("set `{target}` = {} (it was not set)", show(&target, value)),
        ));
    }
    Ok(out)
}

fn wrap(root: &mut Item, path: &Pattern, into: &str) -> Result<Vec<Change>, MigrateError> {
    let mut out = Vec::new();
    for m in path.expand(root) {
        if tree::wrap(root, &m.path, into)
            .map_err(|e| tree_error(e, &format!("`{}` cannot become a table", m.path)))?
        {
            let inner = m.path.child(into);
            out.push(change(
                inner.clone(),
                format!(
                    "`{}` was a string; it is now a table and its value is `{inner}`",
                    m.path
                ),
            ));
        }
    }
    Ok(out)
}

/// `"from/model"` → `"to/model"`; None when the reference uses another provider.
fn mapped_ref(reference: &str, from: &str, to: &str) -> Option<String> {
    let (provider, model) = split_model_ref(reference)?;
    (provider == from).then(|| format!("{to}/{model}"))
}

fn map_strings(
    root: &mut Item,
    patterns: &[Pattern],
    map: &dyn Fn(&str) -> Option<String>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for p in patterns {
        for m in p.expand(root) {
            let Some(Item::Value(v)) = tree::get_mut(root, &m.path) else {
                continue;
            };
            let mut one = |slot: &mut Value, key: KeyPath| {
                let Some(new) = slot.as_str().and_then(map) else {
                    return;
                };
                let old = value_to_json(slot);
                let mut c = change(
                    key.clone(),
                    format!(
                        "`{key}`: {} → {}",
                        show(&key, &old),
                        show(&key, &Json::String(new.clone()))
                    ),
                );
                c.removed.push(Removed {
                    key,
                    value: old,
                    to_credentials: None,
                });
                tree::replace_value(slot, new);
                out.push(c);
            };
            match v {
                Value::Array(a) => {
                    for (i, slot) in a.iter_mut().enumerate() {
                        one(slot, m.path.index(i));
                    }
                }
                slot => one(slot, m.path.clone()),
            }
        }
    }
    out
}

fn map_refs(root: &mut Item, from: &str, to: &str, patterns: &[Pattern]) -> Vec<Change> {
    map_strings(root, patterns, &|s| mapped_ref(s, from, to))
}

fn map_values(root: &mut Item, from: &str, to: &str, patterns: &[Pattern]) -> Vec<Change> {
    map_strings(root, patterns, &|s| (s == from).then(|| to.to_string()))
}

fn map_keys(
    root: &mut Item,
    from: &str,
    to: &str,
    tables: &[Pattern],
) -> Result<Vec<Change>, MigrateError> {
    let mut out = Vec::new();
    for p in tables {
        for m in p.expand(root) {
            let old = m.path.child(from);
            let new = m.path.child(to);
            if tree::get(root, &old).is_none() {
                continue;
            }
            out.push(move_key(root, &old, &new, "the same settings", || {
                MigrateError::at(
                    old.clone(),
                    format!("`{old}` and `{new}` are both set; `{from}` is the old id of `{to}`"),
                )
                .with_help(format!(
                    "merge the settings of `{old}` into `{new}` and delete `{old}`, then run `clawctl migrate` again"
                ))
            })?);
        }
    }
    Ok(out)
}

/// A profile id that `cred:` references accept: `PROVIDER:NAME` of letters, digits,
/// `-`, `_` and `.`; anything else becomes `-`.
fn sanitize_profile(id: &str) -> String {
    let clean = |s: &str| -> String {
        let c: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if c.is_empty() { "x".into() } else { c }
    };
    match id.split_once(':') {
        Some((p, n)) => format!("{}:{}", clean(p), clean(n)),
        None => format!("{}:default", clean(id)),
    }
}

/// The profile id to store `secret` under: `wanted` unless credentials.toml holds a
/// different secret there. Returns the id and whether that profile already holds
/// exactly this secret (nothing to store).
fn allocate(cx: &mut OpContext, wanted: &str, secret_value: &str) -> (String, bool) {
    let hash = sha256_hex(secret_value.as_bytes());
    let provider = wanted.split(':').next().unwrap_or(wanted);
    let mut n = 0;
    loop {
        let id = match n {
            0 => wanted.to_string(),
            1 => format!("{provider}:from-config"),
            _ => format!("{provider}:from-config-{n}"),
        };
        match cx.stored.get(&id) {
            None => {
                cx.stored.insert(id.clone(), hash);
                return (id, false);
            }
            Some(h) if *h == hash => return (id, true),
            Some(_) => n += 1,
        }
    }
}

fn move_secret(
    root: &mut Item,
    path: &Pattern,
    profile: &str,
    provider: &str,
    kind: AuthMode,
    cx: &mut OpContext,
) -> Vec<Change> {
    let mut out = Vec::new();
    for m in path.expand(root) {
        let Some(Item::Value(slot)) = tree::get_mut(root, &m.path) else {
            continue;
        };
        let Some(literal) = slot.as_str().map(String::from) else {
            continue;
        };
        if literal.is_empty() || !matches!(mask::classify(&literal), SecretValue::Literal(_)) {
            continue;
        }
        let wanted = sanitize_profile(&fill_template(profile, &m.captures));
        let (id, already) = allocate(cx, &wanted, &literal);
        tree::replace_value(slot, format!("cred:{id}"));
        let shown = mask::describe(&literal);
        let mut message = if already {
            format!(
                "`{}` held a literal secret ({shown}); credentials.toml already has it as profile `{id}`, and the config now says \"cred:{id}\"",
                m.path
            )
        } else {
            format!(
                "moved the literal secret in `{}` ({shown}) to credentials.toml as profile `{id}`; the config now says \"cred:{id}\"",
                m.path
            )
        };
        if id != wanted {
            message.push_str(&format!(
                " (credentials.toml already has a different secret under `{wanted}`)"
            ));
        }
        let mut c = change(m.path.clone(), message);
        c.removed.push(Removed {
            key: m.path.clone(),
            value: Json::String(literal.clone()),
            to_credentials: Some(id.clone()),
        });
        out.push(c);
        if !already {
            cx.moved.push(MovedSecret {
                profile: id,
                provider: fill_template(provider, &m.captures),
                kind,
                key: m.path,
                secret: SecretString::from(literal),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml_edit::DocumentMut;

    fn op(text: &str) -> Op {
        let op: Op = toml_edit::de::from_str(text).unwrap();
        op.check().unwrap();
        op
    }

    fn run(op: &Op, text: &str) -> (String, Vec<String>) {
        let mut doc: DocumentMut = text.parse().unwrap();
        let mut cx = OpContext::default();
        let changes = op.apply(doc.as_item_mut(), &mut cx).unwrap();
        (
            doc.to_string(),
            changes.into_iter().map(|c| c.message).collect(),
        )
    }

    #[test]
    fn each_op_reports_and_is_idempotent() {
        let cases = [
            (
                "kind = \"rename\"\nfrom = \"p.*.baseUrl\"\nto = \"p.*.base_url\"",
                "[p.a]\nbaseUrl = \"u\" # c\n",
                "[p.a]\nbase_url = \"u\" # c\n",
            ),
            (
                "kind = \"delete\"\npath = \"a.old\"\nreason = \"unused since 0.3\"",
                "[a]\nold = 1\nkeep = 2\n",
                "[a]\nkeep = 2\n",
            ),
            (
                "kind = \"set_if_missing\"\npath = \"g.mode\"\nvalue = \"token\"\nwhen_present = \"g.token\"",
                "[g]\ntoken = \"${T}\"\n",
                "[g]\ntoken = \"${T}\"\nmode = \"token\"\n",
            ),
            (
                "kind = \"wrap\"\npath = \"a.model\"\ninto = \"primary\"",
                "[a]\nmodel = \"x/y\"\n",
                "[a]\nmodel.primary = \"x/y\"\n",
            ),
            (
                "kind = \"map_value\"\nfrom = \"old\"\nto = \"new\"\nmodel_refs = [\"m.primary\", \"m.fallbacks\"]\nvalues = [\"auth.*.provider\"]\nkeys_of = [\"providers\"]",
                "[m]\nprimary = \"old/a\"\nfallbacks = [\"x/old\", \"old/b\"] # f\n[auth.p]\nprovider = \"old\"\n[providers.old]\nu = 1\n",
                "[m]\nprimary = \"new/a\"\nfallbacks = [\"x/old\", \"new/b\"] # f\n[auth.p]\nprovider = \"new\"\n[providers.new]\nu = 1\n",
            ),
            (
                "kind = \"move_secret\"\npath = \"providers.*.api_key\"\nprofile = \"{1}:default\"\nprovider = \"{1}\"\nkind_ = 1",
                "",
                "",
            ),
        ];
        for (spec, input, expected) in cases.iter().take(5) {
            let o = op(spec);
            let (out, said) = run(&o, input);
            assert_eq!(&out, expected, "{spec}");
            assert!(!said.is_empty(), "{spec}");
            let (again, said_again) = run(&o, &out);
            assert_eq!(again, out, "{spec}");
            assert!(said_again.is_empty(), "{spec}: {said_again:?}");
        }
        // Unknown fields in an op are refused.
        assert!(toml_edit::de::from_str::<Op>(cases[5].0).is_err());
    }

    #[test]
    fn delete_reports_the_old_value_and_needs_a_reason() {
        let o = op("kind = \"delete\"\npath = \"a.old\"\nreason = \"gone\"");
        let (_, said) = run(&o, "[a]\nold = [1, 2]\n");
        assert_eq!(said, ["removed `a.old` (was [1,2]): gone"]);
        let bad: Op =
            toml_edit::de::from_str("kind = \"delete\"\npath = \"a\"\nreason = \" \"").unwrap();
        assert!(bad.check().is_err());
        assert!(toml_edit::de::from_str::<Op>("kind = \"delete\"\npath = \"a\"").is_err());
    }

    #[test]
    fn delete_never_drops_the_last_copy_of_a_secret() {
        const KEY: &str = "sk-proj-DELETED0000000000000000000000000000000";
        let o = op("kind = \"delete\"\npath = \"models.providers.*.apiKey\"\nreason = \"gone\"");
        let mut doc: DocumentMut = format!("[models.providers.openai]\napiKey = \"{KEY}\"\n")
            .parse()
            .unwrap();
        let mut cx = OpContext::default();
        let changes = o.apply(doc.as_item_mut(), &mut cx).unwrap();
        assert!(!doc.to_string().contains(KEY));
        assert_eq!(cx.moved.len(), 1);
        assert_eq!(cx.moved[0].profile, "openai:default");
        assert_eq!(
            changes[0].removed[0].to_credentials.as_deref(),
            Some("openai:default")
        );
        assert!(
            changes[0]
                .message
                .contains("moved to credentials.toml as profile `openai:default`")
        );
        assert!(!changes[0].message.contains(KEY), "{}", changes[0].message);
        // Another copy stays in the config: nothing to move.
        let mut doc: DocumentMut =
            format!("[models.providers.openai]\napiKey = \"{KEY}\"\napi_key = \"{KEY}\"\n")
                .parse()
                .unwrap();
        let mut cx = OpContext::default();
        o.apply(doc.as_item_mut(), &mut cx).unwrap();
        assert!(cx.moved.is_empty());
    }

    #[test]
    fn rename_conflicts_stop_and_duplicates_merge() {
        let o = op("kind = \"rename\"\nfrom = \"g.token\"\nto = \"g.auth.token\"");
        let mut doc: DocumentMut = "[g]\ntoken = \"a\"\nauth.token = \"b\"\n".parse().unwrap();
        let e = o
            .apply(doc.as_item_mut(), &mut OpContext::default())
            .unwrap_err();
        assert!(e.message.contains("both set"), "{e}");
        let (out, said) = run(&o, "[g]\ntoken = \"a\"\nauth.token = \"a\"\n");
        assert_eq!(out, "[g]\nauth.token = \"a\"\n");
        assert_eq!(said.len(), 1);
    }

    #[test]
    fn move_secret_never_replaces_a_different_stored_key() {
        let o = op(
            "kind = \"move_secret\"\npath = \"p.*.api_key\"\nprofile = \"{1}:default\"\nprovider = \"{1}\"\ncredential_kind = \"api_key\"",
        );
        let mut cx = OpContext::default();
        cx.stored
            .insert("m:default".into(), sha256_hex(b"sk-other-0123456789"));
        let mut doc: DocumentMut =
            "[p.m]\napi_key = \"sk-lit-0123456789abcdef\" # k\n[p.e]\napi_key = \"${E}\"\n"
                .parse()
                .unwrap();
        let changes = o.apply(doc.as_item_mut(), &mut cx).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(
            doc.to_string()
                .contains("api_key = \"cred:m:from-config\" # k")
        );
        assert!(!changes[0].message.contains("0123456789abcdef"));
        assert_eq!(cx.moved.len(), 1);
        assert_eq!(cx.moved[0].profile, "m:from-config");
        // The same key already stored: referenced, not stored twice.
        let mut cx2 = OpContext::default();
        cx2.stored
            .insert("m:default".into(), sha256_hex(b"sk-lit-0123456789abcdef"));
        let mut doc: DocumentMut = "[p.m]\napi_key = \"sk-lit-0123456789abcdef\"\n"
            .parse()
            .unwrap();
        o.apply(doc.as_item_mut(), &mut cx2).unwrap();
        assert!(cx2.moved.is_empty());
        assert!(doc.to_string().contains("cred:m:default"));
        assert_eq!(sanitize_profile("my proxy:default"), "my-proxy:default");
    }
}
