//! The evaluation worker: leases queued evaluation operations (an application created, a CV
//! parsed, in any process) and runs them. One evaluation takes well under a millisecond, so
//! operations run one after another in this task, a batch per lease.

use std::time::Duration;

use hirewire_core::model::evaluation::builtin_evaluator;
use hirewire_core::service::evaluations;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long a worker holds an operation before another process may take it over.
const LEASE_SECS: i64 = 60;
/// An operation taken this many times without finishing (its process died, or it failed
/// each time) is given up on rather than retried forever.
const MAX_ATTEMPTS: i64 = 5;
/// Operations leased at once.
const BATCH: i64 = 32;
/// How often to look for work that another process queued.
const POLL: Duration = Duration::from_secs(1);

/// Starts the worker.
pub fn start(state: &AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let claimed = match evaluations::claim(state.store.as_ref(), LEASE_SECS, BATCH).await {
                Ok(ops) => ops,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim evaluation operations");
                    Vec::new()
                }
            };
            let idle = claimed.is_empty();
            if !idle {
                // The matcher measures durations up to the current month: built per batch.
                let evaluator = builtin_evaluator();
                let policy = state.config.evaluation_policy();
                for op in &claimed {
                    if op.attempts > MAX_ATTEMPTS {
                        let message = format!(
                            "Scoring failed {MAX_ATTEMPTS} times; it is not retried again (see the server log)."
                        );
                        if let Err(e) = evaluations::give_up(
                            state.store.as_ref(),
                            op,
                            "evaluation_failed",
                            &message,
                        )
                        .await
                        {
                            tracing::warn!(error = %e, reference_id = %op.operation.reference_id, "could not give up an evaluation");
                        }
                        continue;
                    }
                    match evaluations::run(state.store.as_ref(), &evaluator, policy, op).await {
                        Ok(()) => metrics::counter!("evaluations_runs_total").increment(1),
                        // The lease runs out and the operation is taken again.
                        Err(e) => {
                            tracing::warn!(error = %e, reference_id = %op.operation.reference_id, "could not run an evaluation")
                        }
                    }
                }
                state.wake.events_written();
            }
            if idle {
                tokio::select! {
                    _ = state.wake.evaluations_notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    })
}
