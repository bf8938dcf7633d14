//! The CV parsing worker: leases queued parse operations (from any process's uploads), runs
//! the parser on a blocking thread under a time limit and a panic guard, and hands the result
//! to the domain, which merges it into the candidate in one transaction.

use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use hirewire_core::model::StoredOperation;
use hirewire_core::service::documents::{self, ParseFailure, Parsed};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long a worker holds an operation before another process may take it over.
const LEASE_SECS: i64 = 120;
/// A document whose parse was interrupted this many times (the process died each time) is
/// given up on rather than retried forever.
const MAX_ATTEMPTS: i64 = 3;
/// How often to look for work that another process queued.
const POLL: Duration = Duration::from_secs(1);

/// Starts the worker.
pub fn start(state: &AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(state.config.parse_workers()));
        loop {
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match documents::claim_parses(state.store.as_ref(), LEASE_SECS, free as i64).await {
                    Ok(ops) => ops,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim parse operations");
                        Vec::new()
                    }
                }
            };
            let idle = claimed.is_empty();
            for op in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let s = state.clone();
                tokio::spawn(async move {
                    run(&s, op).await;
                    drop(permit);
                });
            }
            if idle || slots.available_permits() == 0 {
                tokio::select! {
                    _ = state.wake.operations_notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    })
}

async fn run(state: &AppState, op: StoredOperation) {
    let outcome = if op.attempts > MAX_ATTEMPTS {
        Err(ParseFailure {
            code: "parse_interrupted",
            message: format!(
                "Parsing this document was interrupted {MAX_ATTEMPTS} times; it is not retried again."
            ),
        })
    } else {
        parse(state, &op).await
    };
    let ok = outcome.is_ok();
    match documents::finish_parse(state.store.as_ref(), &op, outcome).await {
        Ok(()) => {
            state.wake.events_written();
            if ok {
                state.wake.evaluations_queued();
            }
            metrics::counter!("documents_parsed_total", "outcome" => if ok { "parsed" } else { "failed" })
                .increment(1);
        }
        // The lease runs out and the operation is taken again.
        Err(e) => {
            tracing::warn!(error = %e, reference_id = %op.operation.reference_id, "could not record a parse")
        }
    }
}

async fn parse(state: &AppState, op: &StoredOperation) -> Result<Parsed, ParseFailure> {
    let document_id = op.subject_id.clone().unwrap_or_default();
    let bytes = state
        .store
        .document_content(&op.tenant_id, &document_id)
        .await
        .map_err(|e| ParseFailure {
            code: "internal",
            message: format!("The document could not be read: {e}"),
        })?
        .ok_or(ParseFailure {
            code: "not_found",
            message: "The document was deleted before it could be parsed.".into(),
        })?;
    let today = hirewire_core::time::now();
    let limits = hirewire_cv::Limits {
        max_bytes: state.config.document_body_limit,
        ..hirewire_cv::Limits::with_today(today.year(), today.month())
    };
    let timeout = Duration::from_secs(state.config.parse_timeout_secs.max(1));
    let work = tokio::task::spawn_blocking(move || {
        // The parser is fuzzed not to panic; this guard keeps a bug from killing the worker.
        std::panic::catch_unwind(|| hirewire_cv::parse(&bytes, &limits))
    });
    match tokio::time::timeout(timeout, work).await {
        Err(_) => Err(ParseFailure {
            code: "parse_timeout",
            message: format!(
                "Parsing took longer than {} s; the document may be unusually complex.",
                timeout.as_secs()
            ),
        }),
        Ok(Err(e)) => Err(ParseFailure {
            code: "internal",
            message: format!("The parser stopped: {e}"),
        }),
        Ok(Ok(Err(_panic))) => Err(ParseFailure {
            code: "unparseable",
            message:
                "The document could not be read (the parser met something it does not handle)."
                    .into(),
        }),
        Ok(Ok(Ok(Err(e)))) => Err(failure(&e)),
        Ok(Ok(Ok(Ok(cv)))) => Ok(Parsed {
            profile: cv.profile,
            text: cv.text,
            warnings: cv.warnings,
        }),
    }
}

fn failure(e: &hirewire_cv::CvError) -> ParseFailure {
    use hirewire_cv::CvError;
    let code = match e {
        CvError::Unsupported => "unsupported_format",
        CvError::TooLarge { .. } => "too_large",
        CvError::Encrypted(_) => "encrypted",
        CvError::Corrupt(_) => "corrupt",
        CvError::TooManyPages { .. } => "too_many_pages",
        CvError::Bomb { .. } => "decompression_bomb",
    };
    let text = e.to_string();
    let mut message = text.clone();
    if let Some(first) = message.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    ParseFailure { code, message }
}
