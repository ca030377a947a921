use clap::Args;
use serde_json::json;

use super::output::print_json;
use super::{Ctx, Failure, Outcome};
use crate::config::diagnostics::Severity;
use crate::doctor::{self, Finding};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Apply the fixes that are safe (permissions, moving literal secrets to
    /// credentials.toml), with backups; print the rest as commands.
    #[arg(long)]
    pub fix: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Do not wrap long lines to the terminal's width.
    #[arg(long)]
    pub wide: bool,
}

fn gather(ctx: &Ctx) -> Result<Vec<Finding>, Failure> {
    let mut findings = doctor::check(&ctx.views(false)?);
    if let Some(h) = super::openclaw::hint(ctx) {
        findings.insert(
            0,
            Finding {
                code: "openclaw-install-found",
                severity: Severity::Info,
                message: h,
                evidence: Vec::new(),
                fix: None,
                auto_fix: None,
            },
        );
    }
    Ok(findings)
}

pub fn run(ctx: &Ctx, args: DoctorArgs) -> Outcome {
    let mut findings = gather(ctx)?;
    let mut applied = Vec::new();
    if args.fix {
        for f in findings.iter().filter_map(|f| f.auto_fix.clone()) {
            match doctor::apply(&ctx.env, &ctx.opts, &f) {
                Ok(done) => applied.push(done),
                Err(e) => applied.push(format!("could not fix: {e}")),
            }
        }
        if !applied.is_empty() {
            findings = gather(ctx)?;
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if args.json {
        print_json(
            &json!({"ok": errors == 0, "errors": errors, "fixed": applied, "findings": findings}),
        );
        return Ok(if errors > 0 { 1 } else { 0 });
    }
    for a in &applied {
        crate::outln!("fixed: {a}");
    }
    if findings.is_empty() {
        crate::outln!("no problems found");
    }
    use super::style::{self, paint, wrap};
    let width = style::width(&ctx.env, args.wide);
    for f in &findings {
        let (tag, st) = match f.severity {
            Severity::Error => ("error", style::ERROR),
            Severity::Warning => ("warning", style::WARNING),
            Severity::Info => ("note", style::NOTE),
        };
        // Wrapped before painting, so escape codes do not count as columns.
        let text = wrap(&format!("{tag}: {}", f.message), width, 4);
        crate::outln!("{}{}", paint(st, tag), &text[tag.len()..]);
        for e in &f.evidence {
            crate::outln!("{}", wrap(&format!("    evidence: {e}"), width, 4));
        }
        // A fix is a command to copy: never broken across lines.
        if let Some(fix) = &f.fix {
            crate::outln!("    fix: {fix}");
        }
    }
    if errors > 0 {
        crate::outln!("{errors} error(s)");
    }
    Ok(if errors > 0 { 1 } else { 0 })
}
