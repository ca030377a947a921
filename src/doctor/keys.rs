//! Provider keys and the gateway token in both views: missing, different between
//! the views, copies that disagree, a key of another provider's shape.

use super::{Finding, Inputs};
use crate::config::diagnostics::Severity;
use crate::config::keypath::KeyPath;
use crate::config::load::Loaded;
use crate::config::model::split_model_ref;
use crate::providers::catalog::Catalog;
use crate::secrets::credentials::{self, Resolved};

pub(super) fn check(inp: &Inputs, out: &mut Vec<Finding>) {
    // Keys per provider, in both views.
    let ids = inp.views.providers();
    let default = inp
        .service
        .and_then(default_provider)
        .or_else(|| default_provider(inp.cli));
    for id in &ids {
        // A key setting that is invalid is reported as such (config-invalid); what
        // its default would resolve to is no finding.
        let key_paths = [KeyPath::provider(id), KeyPath::of(&["auth"])];
        if views_of(inp).any(|l| key_paths.iter().any(|k| l.invalid_near(k).is_some())) {
            continue;
        }
        let cli_r = credentials::resolve_provider(inp.cli, inp.cli_store, inp.catalog, id);
        let svc_r = match (inp.service, inp.svc_store) {
            (Some(s), Some(st)) => Some(credentials::resolve_provider(s, st, inp.catalog, id)),
            _ => None,
        };
        key_findings(
            inp,
            id,
            &cli_r,
            svc_r.as_ref(),
            default.as_deref() == Some(id.as_str()),
            out,
        );
    }

    // The gateway token: needed in token mode, and the same in both views.
    let cli_token = credentials::resolve_gateway_token(inp.cli, inp.cli_store);
    let svc_token = match (inp.service, inp.svc_store) {
        (Some(s), Some(st)) => Some(credentials::resolve_gateway_token(s, st)),
        _ => None,
    };
    for (label, t) in std::iter::once(("this shell", &cli_token))
        .chain(svc_token.as_ref().map(|t| ("the service", t)))
    {
        out.extend(copies_disagree(
            label,
            "the gateway token",
            t,
            "keep one copy: clawctl config set gateway.auth.token --stdin, remove the others (then clawctl gateway restart)".into(),
        ));
    }
    let main_token = svc_token.as_ref().unwrap_or(&cli_token);
    let auth_key = KeyPath::of(&["gateway", "auth"]);
    let auth_invalid = views_of(inp).any(|l| l.invalid_near(&auth_key).is_some());
    if main_token.needs_key && main_token.winner().is_none() && !auth_invalid {
        out.push(
            Finding::new(
                "gateway-token-missing",
                Severity::Warning,
                format!(
                    "gateway.auth.mode is token but {} has no gateway token: every client (dashboard, CLI) will get 401",
                    if svc_token.is_some() { "the service" } else { "this shell" }
                ),
            )
            .fix("clawctl config set gateway.auth.token --stdin   (then clawctl gateway restart)"),
        );
    }
    if let (Some(s), Some(c)) = (
        svc_token.as_ref().and_then(|t| t.winner()),
        cli_token.winner(),
    ) && s.fingerprint != c.fingerprint
    {
        out.push(
            Finding::new(
                "gateway-token-mismatch",
                Severity::Error,
                format!(
                    "this shell would send another gateway token than the service expects: shell {} from {}; service {} from {}",
                    c.describe(),
                    c.location,
                    s.describe(),
                    s.location
                ),
            )
            .fix(match &c.variable {
                Some(v) => format!("unset {v} in your shell, or store one token for both: clawctl config set gateway.auth.token --stdin"),
                None => "store one token for both: clawctl config set gateway.auth.token --stdin, then clawctl gateway restart".into(),
            }),
        );
    }
}

/// "copies differ, this one wins" for any secret with several copies (a provider
/// key, the gateway token): each usable copy as evidence, shape and fingerprint only.
fn copies_disagree(label: &str, what: &str, r: &Resolved, fix: String) -> Option<Finding> {
    if !r.disagree {
        return None;
    }
    let mut f = Finding::new(
        "copies-disagree",
        Severity::Warning,
        format!("{label}: copies of {what} differ; the first one wins"),
    )
    .fix(fix);
    for s in r.sources.iter().filter(|s| s.usable()) {
        f = f.evidence(format!(
            "{}{} from {}",
            if s.wins { "wins: " } else { "" },
            s.describe(),
            s.location
        ));
    }
    Some(f)
}

/// The CLI's view, then the service's when there is one.
fn views_of<'a>(inp: &'a Inputs) -> impl Iterator<Item = &'a Loaded> {
    std::iter::once(inp.cli).chain(inp.service)
}

fn default_provider(l: &Loaded) -> Option<String> {
    l.config
        .primary_model()
        .and_then(|m| split_model_ref(l.config.resolve_model(m)).map(|(p, _)| p.to_string()))
}

/// The command that stores a key for `provider`.
pub(super) fn onboard_fix(catalog: &Catalog, provider: &str) -> String {
    match catalog.get(provider) {
        Some(p) => crate::fix::FixCommand::onboard(&p.default_region().auth_choice).to_string(),
        None => crate::fix::FixCommand::config_set_stdin(
            &crate::config::keypath::KeyPath::provider(provider).child("api_key"),
        )
        .to_string(),
    }
}

fn describe_winner(r: &Resolved) -> String {
    r.winner()
        .map(|w| format!("{} from {}", w.describe(), w.location))
        .unwrap_or_else(|| "none".into())
}

fn key_findings(
    inp: &Inputs,
    id: &str,
    cli: &Resolved,
    svc: Option<&Resolved>,
    is_default: bool,
    out: &mut Vec<Finding>,
) {
    let catalog = inp.catalog;
    let service_label = inp
        .service
        .map(|s| s.env.origin.clone())
        .unwrap_or_default();
    let main = svc.unwrap_or(cli);
    if main.needs_key && main.winner().is_none() {
        let why = main.sources.iter().find_map(|s| s.problem.clone());
        let severity = if is_default {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = match (svc.is_some(), cli.winner()) {
            (true, Some(c)) => format!(
                "the service would not see a {id} key, but this shell does ({}){}",
                describe_winner(cli),
                match c.kind {
                    credentials::SourceKind::ProcessEnv =>
                        " — only in this shell's environment, which the service never sees",
                    credentials::SourceKind::DotEnv => "",
                    _ => "",
                }
            ),
            (true, None) => format!("no {id} key in the service view or this shell"),
            (false, _) => format!("no {id} key in this shell"),
        };
        let mut f = Finding::new(
            "missing-key",
            severity,
            format!(
                "{message}{}",
                if is_default {
                    " — the default model uses it, so every request will fail with 401"
                } else {
                    ""
                }
            ),
        )
        .fix(match why.as_deref() {
            // The key may be in a store that cannot be read: fixing it comes first.
            Some(w) if w.contains("credentials.toml cannot be used") => {
                "fix credentials.toml first (see the error above); the key may already be in it"
                    .to_string()
            }
            _ => onboard_fix(catalog, id),
        });
        if svc.is_some() {
            f = f.evidence(format!("service view: {service_label}"));
        }
        if let Some(w) = why {
            f = f.evidence(w);
        }
        out.push(f);
    }
    if let (Some(s), Some(sw), Some(cw)) = (svc, svc.and_then(|s| s.winner()), cli.winner())
        && sw.fingerprint != cw.fingerprint
    {
        let _ = s;
        out.push(
            Finding::new(
                "views-disagree",
                Severity::Error,
                format!(
                    "the service uses a different {id} key than this shell: service {} ; shell {}",
                    describe_winner(svc.unwrap_or(cli)),
                    describe_winner(cli)
                ),
            )
            .evidence(format!("service view: {service_label}"))
            .fix(format!(
                "{} then clawctl gateway restart",
                onboard_fix(catalog, id)
            )),
        );
    }
    for (label, r) in std::iter::once(("this shell", cli)).chain(svc.map(|s| ("the service", s))) {
        out.extend(copies_disagree(
            label,
            &format!("the {id} key"),
            r,
            format!(
                "keep one copy: {} and remove the others",
                onboard_fix(catalog, id)
            ),
        ));
        if let Some(k) = r.secret()
            && let Some(sf) = crate::providers::probe::shape_finding(catalog, id, k)
        {
            let mut f = Finding::new(
                "key-shape",
                Severity::Error,
                format!("{label}: {}", sf.message),
            )
            .evidence(describe_winner(r));
            if let Some(fix) = sf.fix {
                f = f.fix(fix);
            }
            out.push(f);
        }
        if svc.is_none() {
            break;
        }
    }
}
