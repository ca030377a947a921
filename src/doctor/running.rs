//! The running gateway against the files it would load next: what the process loaded
//! (its receipt) is the truth; a difference means it must restart.

use super::{Finding, Inputs};
use crate::config::diagnostics::Severity;

pub(super) fn check(inp: &Inputs, out: &mut Vec<Finding>) {
    let Some(running) = &inp.views.running else {
        return;
    };
    if running.drift.is_empty() {
        return;
    }
    let env = &inp.cli.env;
    let mut f = Finding::new(
        "restart-needed",
        Severity::Warning,
        format!(
            "the running gateway (pid {}) loaded another config than its files now give: restart needed",
            running.receipt.pid
        ),
    )
    .evidence(format!(
        "receipt {}",
        env.display_path(&running.receipt_path)
    ))
    .fix("clawctl gateway restart");
    for d in &running.drift {
        f = f.evidence(d.sentence());
    }
    out.push(f);
}
