//! Following the fleet layer: a task on the current tokio runtime watches
//! `/clawctl/<fleet>/config/` and hands over each new layer, read whole at one
//! revision. The gateway validates it against its own full config (`load` with
//! `LoadOptions::fleet_layer`) and applies it like a SIGHUP reload, or refuses it.
//!
//! ```ignore
//! let mut w = clawctl::fleet::watch(target, loaded_revision);
//! while let Some(layer) = w.changed().await {
//!     // load with `fleet_layer: Some(layer)`; valid → swap; invalid → keep serving,
//!     // `member.update(record with refused = Some(..))`
//! }
//! ```

use std::sync::Arc;
use std::time::Duration;

use super::{FleetLayer, FleetTarget};

pub struct WatchHandle {
    rx: tokio::sync::mpsc::Receiver<Arc<FleetLayer>>,
    task: tokio::task::JoinHandle<()>,
}

impl WatchHandle {
    /// The next layer whose revision differs from the last one handed over.
    pub async fn changed(&mut self) -> Option<Arc<FleetLayer>> {
        self.rx.recv().await
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watch `target`'s layer; `known_revision` is the revision already loaded (a layer at
/// that revision is not handed over again). Reconnects by itself (every second) while
/// etcd is unreachable.
pub fn watch(target: FleetTarget, known_revision: i64) -> WatchHandle {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let task = tokio::spawn(async move {
        let mut last = known_revision;
        loop {
            if let Err(e) = follow(&target, &mut last, &tx).await {
                if tx.is_closed() {
                    return;
                }
                let _ = e; // unreachable etcd: try again shortly
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    WatchHandle { rx, task }
}

async fn follow(
    target: &FleetTarget,
    last: &mut i64,
    tx: &tokio::sync::mpsc::Sender<Arc<FleetLayer>>,
) -> Result<(), String> {
    let mut client = super::connect(target).await?;
    let mut stream = super::timed(
        target,
        client.watch(
            target.config_prefix(),
            Some(etcd_client::WatchOptions::new().with_prefix()),
        ),
    )
    .await?;
    // Anything that changed before the watch started.
    deliver(&mut client, target, last, tx).await?;
    loop {
        match stream.message().await {
            Ok(Some(resp)) => {
                if resp.canceled() {
                    return Err(format!("watch canceled: {}", resp.cancel_reason()));
                }
                if !resp.events().is_empty() {
                    deliver(&mut client, target, last, tx).await?;
                }
            }
            Ok(None) => return Err("watch ended".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

async fn deliver(
    client: &mut etcd_client::Client,
    target: &FleetTarget,
    last: &mut i64,
    tx: &tokio::sync::mpsc::Sender<Arc<FleetLayer>>,
) -> Result<(), String> {
    let layer = super::layer::fetch(client, target, None).await?;
    if layer.revision != *last {
        *last = layer.revision;
        if tx.send(Arc::new(layer)).await.is_err() {
            return Err("closed".to_string());
        }
    }
    Ok(())
}
