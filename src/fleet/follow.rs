//! The gateway's side of a fleet, in one value: publish the member record (under a
//! lease kept alive), follow the layer, report reloads and refusals. The gateway's
//! server owns the reload itself (validate with `LoadOptions::fleet_layer`, swap like a
//! SIGHUP, or refuse and keep serving); this only tells it when, and tells the fleet
//! what happened.
//!
//! ```ignore
//! // after the first successful load, on the gateway's runtime:
//! let mut fleet = Follower::start(&state.loaded, &state.receipt, port); // None: no fleet
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
    member: MemberHandle,
    watch: WatchHandle,
    reporter: Reporter,
    pub fleet: String,
}

/// Reports what the gateway runs to the fleet; cheap to clone into reload tasks.
#[derive(Clone)]
pub struct Reporter {
    updates: Arc<tokio::sync::watch::Sender<MemberRecord>>,
    host: String,
    port: u16,
}

impl Reporter {
    /// A (re)load succeeded: publish what now runs.
    pub fn loaded(&self, loaded: &Loaded, receipt: &Receipt) {
        self.updates.send_replace(MemberRecord::from_loaded(
            loaded, receipt, &self.host, self.port,
        ));
    }

    /// A fleet revision was refused (the gateway keeps serving the previous config).
    pub fn refused(&self, revision: i64, errors: Vec<String>) {
        let mut r = self.updates.borrow().clone();
        r.refused = Some(Refused { revision, errors });
        self.updates.send_replace(r);
    }
}

impl Follower {
    /// `None` when `loaded` has no fleet. Never waits for etcd: the record is published
    /// as soon as an endpoint answers, and the watch retries by itself, so a gateway
    /// starts (on its cached layer) while etcd is down.
    pub fn start(loaded: &Loaded, receipt: &Receipt, port: u16) -> Option<Follower> {
        let fleet = loaded.fleet.as_ref()?;
        let host = hostname();
        let record = MemberRecord::from_loaded(loaded, receipt, &host, port);
        let member = super::member::publish_in_background(&fleet.target, record);
        // Loaded from the cache (etcd was down): the first live read is applied even at
        // the same revision, so the record stops saying "cached".
        let known = match &fleet.layer {
            Some(l) if !l.is_cached() => l.revision,
            _ => -1,
        };
        Some(Follower {
            reporter: Reporter {
                updates: member.updater(),
                host,
                port,
            },
            member,
            watch: super::watch(fleet.target.clone(), known),
            fleet: fleet.target.name.clone(),
        })
    }

    /// The next layer revision to validate and apply.
    pub async fn next_layer(&mut self) -> Option<Arc<FleetLayer>> {
        self.watch.changed().await
    }

    pub fn reporter(&self) -> Reporter {
        self.reporter.clone()
    }

    /// A (re)load succeeded: publish what now runs.
    pub fn loaded(&self, loaded: &Loaded, receipt: &Receipt) {
        self.reporter.loaded(loaded, receipt)
    }

    /// A fleet revision was refused (the gateway keeps serving the previous config).
    pub fn refused(&self, revision: i64, errors: Vec<String>) {
        self.reporter.refused(revision, errors)
    }

    /// Clean exit: the record goes at once (the lease is revoked).
    pub async fn shutdown(self) {
        self.watch.stop();
        self.member.shutdown().await;
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
