//! The service's side of a key, for the closing lines of `onboard` and the write
//! commands: will the service see it, and does the running gateway already use it?

use serde_json::json;

use crate::views::Views;

/// Whether the service would see a key for `provider`, and the commands that make it.
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

/// What the service would load for `provider` (its files now), and what the running
/// gateway loaded, when one runs: a difference is "restart needed".
pub fn key_visibility(views: &Views, provider: &str) -> Visibility {
    let Some(service) = &views.service else {
        return Visibility {
            summary: "service: no gateway service is installed; `clawctl service install` creates one that reads these files".into(),
            fix: vec!["clawctl service install".into()],
            json: json!({"installed": false}),
        };
    };
    let label = service.label().to_string();
    let r = service.resolve(&views.catalog, provider);
    let running_drift = views.running.as_ref().and_then(|run| {
        run.drift
            .iter()
            .find(|d| d.subject == format!("{provider} key"))
            .map(|d| (run.receipt.pid, d))
    });
    let restart = views.discovery.restart_needed || running_drift.is_some();
    match r.winner() {
        Some(w) => {
            let mut summary = format!(
                "service ({label}) will use {} from {}",
                w.describe(),
                w.location
            );
            if let Some((pid, d)) = running_drift {
                summary.push_str(&format!(
                    "\nthe running gateway (pid {pid}) still uses {}: restart needed (`clawctl gateway restart`)",
                    d.running
                ));
            }
            Visibility {
                summary,
                fix: if restart {
                    vec!["clawctl gateway restart".into()]
                } else {
                    Vec::new()
                },
                json: json!({"installed": true, "sees_key": true, "key": w.describe(), "from": w.location, "restart_needed": restart}),
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
