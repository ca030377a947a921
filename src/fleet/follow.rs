//! The gateway's side of a fleet, in one value: publish the member record (under a
//! lease kept alive), follow the layer, report reloads and refusals. The gateway's
//! server owns the reload itself (validate with `LoadOptions::fleet_layer`, swap like a
//! SIGHUP, or refuse and keep serving); this only tells it when, and tells the fleet
//! what happened.
//!
//! ```ignore
//! // after the first successful load, on the gateway's runtime:
//! let mut fleet = Follower::start(&state.loaded, &state.receipt, port).await; // None: no fleet
//! loop {
//!     tokio::select! {
//!         Some(layer) = next_layer(&mut fleet) => {
//!             // load with LoadOptions { fleet_layer: Some(layer.clone()), ..opts.load.clone() }
//!             // valid   → swap state; fleet.loaded(&new.loaded, &new.receipt)
//!             // invalid → keep serving; fleet.refused(layer.revision, errors)
//!         }
//!         _ = hup.recv() => { /* reload as today; on success fleet.loaded(..) */ }
//!         _ = term.recv() => break,
//!     }
//! }
//! if let Some(f) = fleet { f.shutdown().await } // revokes the lease: the record goes at once
//! ```

use std::sync::Arc;

use super::member::{MemberHandle, MemberRecord, Refused};
use super::watch::WatchHandle;
use super::{FleetLayer, hostname};
use crate::config::load::Loaded;
use crate::gateway::receipt::Receipt;

pub struct Follower {
    member: Option<MemberHandle>,
    watch: WatchHandle,
    host: String,
    port: u16,
    /// Problems worth a log line (etcd unreachable at start: the record is not published
    /// yet; the watch keeps retrying by itself).
    pub warnings: Vec<String>,
}

impl Follower {
    /// `None` when `loaded` has no fleet. Publishing failures do not stop the gateway:
    /// they are in `warnings`, and the gateway keeps serving on the layer it loaded.
    pub async fn start(loaded: &Loaded, receipt: &Receipt, port: u16) -> Option<Follower> {
        let fleet = loaded.fleet.as_ref()?;
        let host = hostname();
        let record = MemberRecord::from_loaded(loaded, receipt, &host, port);
        let mut warnings = Vec::new();
        let member = match super::publish(&fleet.target, record).await {
            Ok(h) => Some(h),
            Err(e) => {
                warnings.push(format!(
                    "fleet `{}`: cannot publish this member: {e}",
                    fleet.target.name
                ));
                None
            }
        };
        let known = fleet.layer.as_ref().map(|l| l.revision).unwrap_or(0);
        Some(Follower {
            member,
            watch: super::watch(fleet.target.clone(), known),
            host,
            port,
            warnings,
        })
    }

    /// The next layer revision to validate and apply.
    pub async fn next_layer(&mut self) -> Option<Arc<FleetLayer>> {
        self.watch.changed().await
    }

    /// A (re)load succeeded: publish what now runs.
    pub fn loaded(&self, loaded: &Loaded, receipt: &Receipt) {
        if let Some(m) = &self.member {
            m.update(MemberRecord::from_loaded(
                loaded, receipt, &self.host, self.port,
            ));
        }
    }

    /// A fleet revision was refused (the gateway keeps serving the previous config).
    pub fn refused(&self, revision: i64, errors: Vec<String>) {
        if let Some(m) = &self.member {
            let mut r = m.record();
            r.refused = Some(Refused { revision, errors });
            m.update(r);
        }
    }

    pub async fn shutdown(self) {
        self.watch.stop();
        if let Some(m) = self.member {
            m.shutdown().await;
        }
    }
}

/// `follower.next_layer()` when there is a follower, pending forever when there is none:
/// one `select!` arm serves both.
pub async fn next_layer(f: &mut Option<Follower>) -> Option<Arc<FleetLayer>> {
    match f {
        Some(f) => f.next_layer().await,
        None => std::future::pending().await,
    }
}
