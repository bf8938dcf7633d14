//! The import worker: takes queued imports (from any process's uploads) and applies them
//! chunk by chunk, each chunk in one transaction with the import's progress.

use std::time::Duration;

use hirewire_core::model::StoredOperation;
use hirewire_core::service::imports;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long a worker holds an import between two chunks before another process may take
/// it over.
const LEASE_SECS: i64 = 300;
/// How often to look for imports that another process queued.
const POLL: Duration = Duration::from_secs(1);

/// Starts the worker; one import at a time per process, so that imports do not starve the
/// API of the database.
pub fn start(state: &AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let claimed = match imports::claim(state.store.as_ref(), LEASE_SECS, 1).await {
                Ok(ops) => ops,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim imports");
                    vec![]
                }
            };
            let idle = claimed.is_empty();
            for op in claimed {
                tokio::select! {
                    _ = run(&state, op) => {}
                    _ = stop.changed() => return,
                }
            }
            if idle {
                tokio::select! {
                    _ = state.wake.operations_notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    })
}

async fn run(state: &AppState, mut op: StoredOperation) {
    let store = state.store.as_ref();
    let reference_id = op.operation.reference_id.clone();
    match imports::progress(&op) {
        Ok(p) if p.uploading => {
            // Its upload was cut off (the process that received it stopped): nothing to apply.
            if let Err(e) = imports::abandon(
                store,
                &op,
                "The upload of this import did not complete; send the file again.",
            )
            .await
            {
                tracing::warn!(error = %e, %reference_id, "could not fail an abandoned import");
            }
            return;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, %reference_id, "an import without progress");
            return;
        }
    }
    loop {
        match imports::apply_chunk(store, &op, LEASE_SECS).await {
            Ok(Some(next)) => {
                op = next;
                state.wake.events_written();
            }
            Ok(None) => {
                if let Err(e) = imports::complete(store, &op).await {
                    tracing::warn!(error = %e, %reference_id, "could not complete an import");
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, %reference_id, "an import chunk failed; retrying it record by record");
                match imports::apply_chunk_by_row(store, &op).await {
                    Ok(next) => {
                        op = next;
                        state.wake.events_written();
                    }
                    // The lease runs out and the import is taken up again from this chunk.
                    Err(e) => {
                        tracing::warn!(error = %e, %reference_id, "an import stopped; it will resume");
                        return;
                    }
                }
            }
        }
    }
}
