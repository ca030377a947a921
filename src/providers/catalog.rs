//! The provider catalog: ids, aliases, key variables, endpoints per region, API
//! styles, key shapes and model ids — data in `catalog/providers.toml`, embedded at
//! build time, replaceable with `CLAWCTL_PROVIDER_CATALOG=path`.

use serde::Deserialize;

use crate::config::model::ApiStyle;
use crate::env::Environment;

const BUILTIN: &str = include_str!("../../catalog/providers.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(rename = "provider")]
    pub providers: Vec<Provider>,
    #[serde(skip)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub key_env: Vec<String>,
    pub api: ApiStyle,
    #[serde(default)]
    pub key_shapes: Vec<String>,
    /// Prefixes that look like `key_shapes` but belong to another provider.
    #[serde(default)]
    pub not_key_shapes: Vec<String>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default = "yes")]
    pub needs_key: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub docs: String,
    pub regions: Vec<Region>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub base_url: String,
    pub auth_choice: String,
}

#[derive(Debug, Clone)]
pub struct CatalogError(pub String);

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Catalog {
    pub fn builtin() -> Catalog {
        // Parsed once per process: `fleet set` validates a thousand members' layers,
        // each load asks for the catalog, and parsing it cost more than cloning.
        static PARSED: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        PARSED
            .get_or_init(|| {
                let mut c: Catalog =
                    toml_edit::de::from_str(BUILTIN).expect("built-in catalog parses");
                c.source = "built-in".into();
                c
            })
            .clone()
    }

    /// The built-in catalog, or the file named by `CLAWCTL_PROVIDER_CATALOG`.
    pub fn load(env: &Environment) -> Result<Catalog, CatalogError> {
        let Some(path) = env.var(crate::env::vars::CLAWCTL_PROVIDER_CATALOG) else {
            return Ok(Catalog::builtin());
        };
        let path = env.resolve_path(path);
        let text = crate::read::string(&path).map_err(|e| {
            CatalogError(format!(
                "cannot read the provider catalog {} (from $CLAWCTL_PROVIDER_CATALOG): {e}",
                path.display()
            ))
        })?;
        let mut c: Catalog = toml_edit::de::from_str(&text).map_err(|e| {
            CatalogError(format!(
                "the provider catalog {} (from $CLAWCTL_PROVIDER_CATALOG) is invalid: {e}",
                path.display()
            ))
        })?;
        c.source = path.display().to_string();
        crate::secrets::detect::register_shapes(
            c.providers
                .iter()
                .flat_map(|p| p.key_shapes.iter().map(String::as_str)),
        );
        Ok(c)
    }

    /// A provider by id or alias.
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id).or_else(|| {
            self.providers
                .iter()
                .find(|p| p.aliases.iter().any(|a| a == id))
        })
    }

    /// The canonical id for an id or alias.
    pub fn canonical<'a>(&'a self, id: &'a str) -> &'a str {
        self.get(id).map(|p| p.id.as_str()).unwrap_or(id)
    }

    /// Which provider and region an `--auth-choice` configures.
    pub fn by_auth_choice(&self, choice: &str) -> Option<(&Provider, &Region)> {
        self.providers.iter().find_map(|p| {
            p.regions
                .iter()
                .find(|r| r.auth_choice == choice)
                .map(|r| (p, r))
        })
    }

    pub fn auth_choices(&self) -> Vec<&str> {
        self.providers
            .iter()
            .flat_map(|p| p.regions.iter().map(|r| r.auth_choice.as_str()))
            .collect()
    }

    /// Providers whose key shape this key has (longest matching prefix first).
    pub fn providers_for_key(&self, key: &str) -> Vec<&Provider> {
        let mut matches: Vec<(usize, &Provider)> = self
            .providers
            .iter()
            .filter_map(|p| p.shape_match(key).map(|len| (len, p)))
            .collect();
        matches.sort_by_key(|m| std::cmp::Reverse(m.0));
        let best = matches.first().map(|m| m.0).unwrap_or(0);
        matches
            .into_iter()
            .filter(|m| m.0 == best)
            .map(|m| m.1)
            .collect()
    }
}

impl Provider {
    /// Length of the longest of this provider's key prefixes the key has, if any,
    /// unless the key carries a prefix that belongs to another provider.
    pub fn shape_match(&self, key: &str) -> Option<usize> {
        if self
            .not_key_shapes
            .iter()
            .any(|n| key.starts_with(n.as_str()))
        {
            return None;
        }
        self.key_shapes
            .iter()
            .filter(|s| key.starts_with(s.as_str()))
            .map(String::len)
            .max()
    }

    /// Whether a key could belong to this provider by its shape. Providers without
    /// fixed shapes accept anything.
    pub fn accepts_key_shape(&self, key: &str) -> bool {
        self.key_shapes.is_empty() || self.shape_match(key).is_some()
    }

    pub fn default_region(&self) -> &Region {
        &self.regions[0]
    }

    /// The region whose base URL this is (trailing slashes ignored).
    pub fn region_for_url(&self, url: &str) -> Option<&Region> {
        let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
        self.regions.iter().find(|r| norm(&r.base_url) == norm(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_the_seed_providers() {
        let c = Catalog::builtin();
        assert_eq!(c.canonical("kimi-code"), "kimi-coding");
        let (p, r) = c.by_auth_choice("moonshot-api-key-cn").unwrap();
        assert_eq!(
            (p.id.as_str(), r.base_url.as_str()),
            ("moonshot", "https://api.moonshot.cn/v1")
        );
        assert_eq!(
            c.get("kimi-coding").unwrap().key_env,
            ["KIMI_API_KEY", "KIMICODE_API_KEY"]
        );
        assert!(c.by_auth_choice("zai-coding-cn").is_some());
    }

    #[test]
    fn key_shapes_point_at_the_right_provider() {
        let c = Catalog::builtin();
        let ids = |k: &str| {
            c.providers_for_key(k)
                .iter()
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("sk-kimi-abc"), ["kimi-coding"]);
        assert_eq!(ids("sk-ant-api03-x"), ["anthropic"]);
        assert_eq!(ids("sk-or-v1-x"), ["openrouter"]);
        assert!(!c.get("moonshot").unwrap().accepts_key_shape("sk-kimi-abc"));
        assert!(c.get("moonshot").unwrap().accepts_key_shape("sk-abc"));
    }
}
