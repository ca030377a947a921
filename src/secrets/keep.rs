//! The rule every rewrite follows: a secret it drops or replaces is never its last
//! copy. Before a writer (`migrate`, `doctor --fix`, `import --merge`) removes a
//! value, it asks [`keep`] whether the value is a secret that nowhere else holds; if
//! so the secret is planned into credentials.toml under a free profile id and the
//! writer reports where it now lives (shape + fingerprint, never the value).

use secrecy::{ExposeSecret, SecretString};

use crate::config::model::AuthMode;
use crate::secrets::credentials::Store;
use crate::secrets::mask;
use crate::write::transaction::NewCredential;

/// Where a dropped secret lives after the rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The credentials.toml profile that holds it.
    pub profile: String,
    /// `true` when this rewrite stores it there (it was the last copy); `false` when
    /// the profile held it already.
    pub moved: bool,
    /// Shape + fingerprint (`sk-proj-… (sha256:abcd1234)`), for messages.
    pub shown: String,
}

impl Kept {
    /// One sentence for the writer's output: what `from` held and where it is now.
    pub fn sentence(&self, from: &str) -> String {
        if self.moved {
            format!(
                "{from} held the only copy of a secret ({}): moved it to credentials.toml as profile {}",
                self.shown, self.profile
            )
        } else {
            format!(
                "{from} held a secret ({}) that credentials.toml keeps as profile {}",
                self.shown, self.profile
            )
        }
    }
}

/// Whether `value` is a secret worth keeping: a literal (not a `cred:`/`${VAR}`
/// reference) that is at a secret-holding key (`sensitive`) or looks like a key.
pub fn is_secret_literal(value: &str, sensitive: bool) -> bool {
    !value.is_empty()
        && matches!(mask::classify(value), mask::SecretValue::Literal(_))
        && (sensitive || mask::looks_secret(value))
}

/// A profile that holds `secret` after the planned writes: planned ones first (they
/// replace stored ones of the same id), then stored ones no plan replaces.
fn holder(store: &Store, planned: &[NewCredential], secret: &str) -> Option<String> {
    if let Some(p) = planned.iter().find(|c| c.secret.expose_secret() == secret) {
        return Some(p.id.clone());
    }
    store
        .entries
        .iter()
        .filter(|e| !planned.iter().any(|c| c.id == e.id))
        .find(|e| e.secret.expose_secret() == secret)
        .map(|e| e.id.clone())
}

/// `wanted` if neither the store nor the plan uses it, else `PROVIDER:kept`,
/// `PROVIDER:kept-2`, …: a kept secret never replaces another one.
fn free_id(store: &Store, planned: &[NewCredential], wanted: &str) -> String {
    let provider = wanted.split(':').next().unwrap_or(wanted);
    let taken = |id: &str| store.get(id).is_some() || planned.iter().any(|c| c.id == id);
    (0..)
        .map(|n| match n {
            0 => wanted.to_string(),
            1 => format!("{provider}:kept"),
            _ => format!("{provider}:kept-{n}"),
        })
        .find(|id| !taken(id))
        .unwrap_or_else(|| wanted.to_string())
}

/// Keep `secret`, which a rewrite is about to drop: `None` when another copy stays
/// (`remaining` holds the values the rewritten files still have, outside
/// credentials.toml); else the credentials.toml profile that holds it afterwards,
/// adding a [`NewCredential`] to `planned` (under `wanted`, or a free id beside it)
/// when it was the last copy.
pub fn keep(
    store: &Store,
    planned: &mut Vec<NewCredential>,
    remaining: &[&str],
    secret: &str,
    (wanted, provider, kind): (&str, &str, AuthMode),
) -> Option<Kept> {
    if remaining.contains(&secret) {
        return None;
    }
    let shown = mask::describe(secret);
    if let Some(profile) = holder(store, planned, secret) {
        return Some(Kept {
            profile,
            moved: false,
            shown,
        });
    }
    let profile = free_id(store, planned, wanted);
    planned.push(NewCredential {
        id: profile.clone(),
        provider: provider.to_string(),
        kind,
        secret: SecretString::from(secret.to_string()),
    });
    Some(Kept {
        profile,
        moved: true,
        shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(entries: &[(&str, &str)]) -> Store {
        Store {
            entries: entries
                .iter()
                .map(|(id, s)| crate::secrets::credentials::StoredCredential {
                    id: id.to_string(),
                    provider: id.split(':').next().unwrap().to_string(),
                    kind: AuthMode::ApiKey,
                    secret: SecretString::from(s.to_string()),
                })
                .collect(),
            ..Store::default()
        }
    }

    const OLD: &str = "sk-proj-OLDOLD00000000000000000000000000000000";
    const NEW: &str = "sk-proj-NEWNEW00000000000000000000000000000000";
    const WANT: (&str, &str, AuthMode) = ("openai:default", "openai", AuthMode::ApiKey);

    #[test]
    fn another_copy_means_nothing_to_do() {
        let mut planned = Vec::new();
        assert_eq!(keep(&store(&[]), &mut planned, &[OLD], OLD, WANT), None);
        assert!(planned.is_empty());
    }

    #[test]
    fn a_stored_copy_is_named_unless_the_plan_replaces_it() {
        let s = store(&[("openai:default", OLD)]);
        let mut planned = Vec::new();
        let k = keep(&s, &mut planned, &[], OLD, WANT).unwrap();
        assert_eq!((k.profile.as_str(), k.moved), ("openai:default", false));
        // The plan replaces that profile with another key: the old one moves aside.
        let mut planned = vec![NewCredential {
            id: "openai:default".into(),
            provider: "openai".into(),
            kind: AuthMode::ApiKey,
            secret: SecretString::from(NEW.to_string()),
        }];
        let k = keep(&s, &mut planned, &[], OLD, WANT).unwrap();
        assert_eq!((k.profile.as_str(), k.moved), ("openai:kept", true));
        assert!(!k.sentence("`x`").contains(OLD));
        assert_eq!(planned.len(), 2);
    }
}
