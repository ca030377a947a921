//! The service view as the CLI commands use it: find the gateway service, build its
//! environment, and load the config the way it will.

use super::Ctx;
use crate::config::load::Loaded;

pub struct ServiceLoaded {
    pub loaded: Loaded,
    /// "systemd unit clawctl-gateway.service", "running process 1234", …
    pub label: String,
}

/// The service's view, when a service definition or process is found.
pub fn service_loaded(ctx: &Ctx) -> Option<ServiceLoaded> {
    let view = crate::service::view::discover(&ctx.env, &ctx.service_opts);
    let env = view.environment?;
    let label = env.origin.clone();
    let loaded =
        crate::config::load::load(&env, &crate::config::load::LoadOptions::default()).ok()?;
    Some(ServiceLoaded { loaded, label })
}

/// Whether the service would see a key for `provider`, and the command that makes it.
pub struct Visibility {
    pub summary: String,
    pub fix: Vec<String>,
    pub json: serde_json::Value,
}

impl Visibility {
    pub fn to_json(&self) -> serde_json::Value {
        self.json.clone()
    }
}

pub fn key_visibility(
    ctx: &Ctx,
    catalog: &crate::providers::catalog::Catalog,
    provider: &str,
) -> Visibility {
    use serde_json::json;
    let view = crate::service::view::discover(&ctx.env, &ctx.service_opts);
    let Some(env) = view.environment else {
        return Visibility {
            summary: "service: no gateway service is installed; `clawctl service install` creates one that reads these files".into(),
            fix: vec!["clawctl service install".into()],
            json: json!({"installed": false}),
        };
    };
    let label = env.origin.clone();
    let Ok(loaded) = crate::config::load::load(&env, &crate::config::load::LoadOptions::default())
    else {
        return Visibility {
            summary: format!("service ({label}): cannot load its config"),
            fix: vec![],
            json: json!({"installed": true, "loadable": false}),
        };
    };
    let store = crate::secrets::credentials::Store::read(&loaded.paths.credentials);
    let r = crate::secrets::credentials::resolve_provider(&loaded, &store, catalog, provider);
    match r.winner() {
        Some(w) => {
            let mut fix = Vec::new();
            if view.restart_needed {
                fix.push("clawctl gateway restart".into());
            }
            Visibility {
                summary: format!(
                    "service ({label}) will use {} from {}",
                    w.describe(),
                    w.location
                ),
                fix,
                json: json!({"installed": true, "sees_key": true, "key": w.describe(), "from": w.location, "restart_needed": view.restart_needed}),
            }
        }
        None if !r.needs_key => Visibility {
            summary: format!("service ({label}): no key needed"),
            fix: vec![],
            json: json!({"installed": true, "sees_key": true}),
        },
        None => Visibility {
            summary: format!("service ({label}) would NOT see a {provider} key"),
            fix: vec![
                "clawctl service install --force".into(),
                "clawctl gateway restart".into(),
            ],
            json: json!({"installed": true, "sees_key": false}),
        },
    }
}
