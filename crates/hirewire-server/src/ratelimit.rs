//! Rate limits per key and endpoint family (DESIGN §3, §9), with the `X-RateLimit-*` headers
//! on every authenticated response. A limited request is answered before its handler runs, so
//! it has no effect and spends no credit.
//!
//! Limits are kept in this process's memory (GCRA via `governor`): with several processes
//! behind a load balancer, each enforces the limit on the traffic it sees.

use std::num::NonZeroU32;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::RateLimits;
use crate::http::error::{ApiError, Code};
use crate::http::extract::Auth;
use crate::state::AppState;

/// The endpoint families that have their own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Jobs,
    CandidateSearch,
    CandidateRead,
    Default,
}

impl Family {
    /// The family a path belongs to.
    pub fn of(path: &str) -> Family {
        let rest = path.strip_prefix("/api/v1/").unwrap_or(path);
        if rest == "jobs" || rest.starts_with("jobs/") {
            Family::Jobs
        } else if rest.starts_with("candidates/search") {
            Family::CandidateSearch
        } else if rest == "candidates" || rest.starts_with("candidates/") {
            Family::CandidateRead
        } else {
            Family::Default
        }
    }
}

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

struct FamilyLimiter {
    per_minute: u32,
    limiter: Limiter,
}

/// One keyed limiter per family.
pub struct RateLimiters {
    jobs: FamilyLimiter,
    candidate_search: FamilyLimiter,
    candidate_read: FamilyLimiter,
    default: FamilyLimiter,
    clock: DefaultClock,
}

fn family_limiter(per_minute: u32) -> FamilyLimiter {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    FamilyLimiter {
        per_minute: n.get(),
        limiter: RateLimiter::keyed(Quota::per_minute(n))
            .with_middleware::<StateInformationMiddleware>(),
    }
}

/// The outcome of one check, ready to become headers.
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    /// Set when the request is refused: whole seconds until one more is allowed.
    pub retry_after_secs: Option<u64>,
}

impl RateLimiters {
    /// Limiters with the configured per-minute quotas.
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            jobs: family_limiter(limits.jobs),
            candidate_search: family_limiter(limits.candidate_search),
            candidate_read: family_limiter(limits.candidate_read),
            default: family_limiter(limits.default),
            clock: DefaultClock::default(),
        }
    }

    fn family(&self, f: Family) -> &FamilyLimiter {
        match f {
            Family::Jobs => &self.jobs,
            Family::CandidateSearch => &self.candidate_search,
            Family::CandidateRead => &self.candidate_read,
            Family::Default => &self.default,
        }
    }

    /// Counts one request of `key_id` in `family`.
    pub fn check(&self, key_id: &str, family: Family) -> Verdict {
        let fl = self.family(family);
        // Each request refills after this many seconds.
        let per_request = 60.0 / f64::from(fl.per_minute);
        match fl.limiter.check_key(&key_id.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = (f64::from(fl.per_minute - remaining) * per_request).ceil() as u64;
                Verdict {
                    limit: fl.per_minute,
                    remaining,
                    reset_secs: reset,
                    retry_after_secs: None,
                }
            }
            Err(not_until) => {
                let wait = not_until
                    .wait_time_from(self.clock.now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64;
                let reset = (f64::from(fl.per_minute) * per_request).ceil() as u64;
                Verdict {
                    limit: fl.per_minute,
                    remaining: 0,
                    reset_secs: reset.max(wait),
                    retry_after_secs: Some(wait),
                }
            }
        }
    }

    /// Drops the state of keys that have been idle long enough to be back at full capacity.
    pub fn shrink(&self) {
        for f in [
            &self.jobs,
            &self.candidate_search,
            &self.candidate_read,
            &self.default,
        ] {
            f.limiter.retain_recent();
            f.limiter.shrink_to_fit();
        }
    }
}

fn set(res: &mut Response, name: &'static str, value: u64) {
    res.headers_mut().insert(name, HeaderValue::from(value));
}

/// Refuses requests over the limit with 429 and `Retry-After`; adds the headers to every answer.
pub async fn middleware(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(auth) = req.extensions().get::<Auth>() else {
        return next.run(req).await;
    };
    let verdict = app.limits.check(&auth.key_id, Family::of(req.uri().path()));
    let mut res = match verdict.retry_after_secs {
        Some(wait) => {
            let mut res = ApiError::new(
                Code::RateLimited,
                format!("Too many requests; retry in {wait} s."),
            )
            .into_response();
            set(&mut res, "retry-after", wait);
            res
        }
        None => next.run(req).await,
    };
    set(&mut res, "x-ratelimit-limit", u64::from(verdict.limit));
    set(
        &mut res,
        "x-ratelimit-remaining",
        u64::from(verdict.remaining),
    );
    set(&mut res, "x-ratelimit-reset", verdict.reset_secs);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_follow_the_path() {
        assert_eq!(Family::of("/api/v1/jobs"), Family::Jobs);
        assert_eq!(Family::of("/api/v1/jobs/job_1/publish"), Family::Jobs);
        assert_eq!(
            Family::of("/api/v1/candidates/search"),
            Family::CandidateSearch
        );
        assert_eq!(
            Family::of("/api/v1/candidates/cand_1"),
            Family::CandidateRead
        );
        assert_eq!(Family::of("/api/v1/keys"), Family::Default);
        assert_eq!(Family::of("/api/v1/jobsearch"), Family::Default);
    }

    #[test]
    fn the_limit_refuses_the_request_after_the_quota() {
        let limits = RateLimiters::new(&RateLimits {
            jobs: 3,
            ..RateLimits::default()
        });
        let seen: Vec<u32> = (0..3)
            .map(|_| limits.check("k", Family::Jobs).remaining)
            .collect();
        assert_eq!(seen, vec![2, 1, 0]);
        let refused = limits.check("k", Family::Jobs);
        assert_eq!(refused.retry_after_secs, Some(20));
        assert!(
            limits
                .check("other", Family::Jobs)
                .retry_after_secs
                .is_none()
        );
        assert!(
            limits
                .check("k", Family::Default)
                .retry_after_secs
                .is_none()
        );
    }
}
