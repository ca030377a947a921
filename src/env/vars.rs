//! Every environment variable clawctl itself reads, in one registry (as uv does),
//! so the README's table and the code cannot disagree.
//! Provider key variables (`MOONSHOT_API_KEY`, …) live in the provider catalog.

/// Directory holding config.toml, credentials.toml, .env, backups/ and run/.
pub const CLAWCTL_HOME: &str = "CLAWCTL_HOME";
/// Path of the config file; overrides `$CLAWCTL_HOME/config.toml`.
pub const CLAWCTL_CONFIG: &str = "CLAWCTL_CONFIG";
/// Profile name: selects the home `clawctl-NAME` beside the default home.
pub const CLAWCTL_PROFILE: &str = "CLAWCTL_PROFILE";
/// Path of a provider catalog (TOML) that replaces the built-in one.
pub const CLAWCTL_PROVIDER_CATALOG: &str = "CLAWCTL_PROVIDER_CATALOG";
/// Prefix of config overrides: `CLAWCTL__GATEWAY__PORT=19001` sets `gateway.port`.
pub const CONFIG_OVERRIDE_PREFIX: &str = "CLAWCTL__";
/// The gateway token, when the config refers to it as `${CLAWCTL_GATEWAY_TOKEN}` or
/// has none.
pub const CLAWCTL_GATEWAY_TOKEN: &str = "CLAWCTL_GATEWAY_TOKEN";
/// The fleet's name (overrides `fleet.name`): the shared layer is read from
/// `/clawctl/<name>/config/` in etcd.
pub const CLAWCTL_FLEET: &str = "CLAWCTL_FLEET";
/// The fleet's etcd endpoints, comma-separated (overrides `fleet.etcd.endpoints`).
pub const CLAWCTL_FLEET_ETCD: &str = "CLAWCTL_FLEET_ETCD";
/// The XDG base directory for configuration (used when `CLAWCTL_HOME` is unset).
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The user's home directory.
pub const HOME: &str = "HOME";
/// Which install commands read: `clawctl` (default) or `openclaw` (as `--openclaw`).
pub const CLAWCTL_TARGET: &str = "CLAWCTL_TARGET";

/// (name, description): the single source of the README's "Environment variables"
/// table (`markdown_table`, checked by a test).
pub const ALL: &[(&str, &str)] = &[
    (
        CLAWCTL_TARGET,
        "which install to read: `clawctl` (default) or `openclaw` (an OpenClaw install, read-only; as --openclaw)",
    ),
    (
        CLAWCTL_HOME,
        "directory holding config.toml, credentials.toml, .env, backups/ and run/",
    ),
    (
        CLAWCTL_CONFIG,
        "path of the config file (overrides $CLAWCTL_HOME/config.toml)",
    ),
    (
        CLAWCTL_PROFILE,
        "profile name: uses the home `clawctl-NAME` beside the default one",
    ),
    (
        CLAWCTL_PROVIDER_CATALOG,
        "a provider catalog TOML file replacing the built-in one",
    ),
    (
        CLAWCTL_GATEWAY_TOKEN,
        "the gateway token, when the config refers to it as `${CLAWCTL_GATEWAY_TOKEN}` or has none",
    ),
    (
        CLAWCTL_FLEET,
        "fleet name (overrides fleet.name): the layer under /clawctl/<name>/config/ in etcd",
    ),
    (
        CLAWCTL_FLEET_ETCD,
        "etcd endpoints of the fleet, comma-separated (overrides fleet.etcd.endpoints)",
    ),
    (
        "CLAWCTL__<KEY>__<PATH>",
        "one config value, e.g. CLAWCTL__GATEWAY__PORT=19001",
    ),
    (
        XDG_CONFIG_HOME,
        "base directory for the default home ($XDG_CONFIG_HOME/clawctl)",
    ),
];

/// The README's table of variables, generated from `ALL` (provider key variables
/// live in the catalog and are listed by `clawctl models status`).
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | meaning |\n|---|---|\n");
    for (name, what) in ALL {
        out.push_str(&format!("| `{name}` | {what} |\n"));
    }
    out.push_str(
        "| provider variables | each provider's key variables (`MOONSHOT_API_KEY`, `KIMI_API_KEY`, …) come from the provider catalog (`catalog/providers.toml`) |\n",
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_table_is_generated_from_the_registry() {
        let readme = include_str!("../../README.md");
        let table = super::markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's \"Environment variables\" table is out of date; replace it with:\n\n{table}"
        );
    }
}
