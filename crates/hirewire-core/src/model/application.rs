//! Applications: a candidate in a job's pipeline, moved through its stages with a full history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{DomainError, DomainResult};
use crate::model::evaluation::EvaluationSummary;
use crate::model::job::clean_text;
use crate::page::{Cursor, PageRequest, SortValue};
use hirewire_scoring::Band;

string_enum! {
    /// Where an application is: the pipeline stages in order, then the two ways out.
    ApplicationStatus {
        New => "new",
        Screened => "screened",
        Shortlisted => "shortlisted",
        Interviewed => "interviewed",
        Offered => "offered",
        Hired => "hired",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
}

string_enum! {
    /// How the application came in.
    ApplicationSource { Direct => "direct", Vendor => "vendor", JobBoard => "job_board", Api => "api", Integration => "integration" }
}

impl ApplicationStatus {
    /// The stage's place in the pipeline; `None` for rejected and withdrawn.
    fn stage(self) -> Option<usize> {
        match self {
            Self::New => Some(0),
            Self::Screened => Some(1),
            Self::Shortlisted => Some(2),
            Self::Interviewed => Some(3),
            Self::Offered => Some(4),
            Self::Hired => Some(5),
            Self::Rejected | Self::Withdrawn => None,
        }
    }

    /// Rejected and withdrawn: out of the running.
    pub fn is_out(self) -> bool {
        matches!(self, Self::Rejected | Self::Withdrawn)
    }

    /// Hired, rejected and withdrawn end an application; only a reopen leaves them.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Hired | Self::Rejected | Self::Withdrawn)
    }

    /// The statuses an application in this one may move to without reopening: any later
    /// stage (skipping forward is allowed), or out.
    pub fn forward_moves(self) -> Vec<ApplicationStatus> {
        if self.is_terminal() {
            return vec![];
        }
        let at = self.stage().unwrap_or(0);
        Self::ALL
            .iter()
            .copied()
            .filter(|s| match s.stage() {
                Some(i) => i > at,
                None => true,
            })
            .collect()
    }
}

/// One move of an application, as its history records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `null` for the first entry, when the application was created.
    pub from: Option<ApplicationStatus>,
    pub to: ApplicationStatus,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The API key that made the move (`null` for the system).
    pub actor_key_id: Option<String>,
    /// `X-ATS-User-ID` of the call: the person on whose behalf it was made.
    pub user_id: Option<String>,
    pub reason: Option<String>,
    /// Whether the move went back (or out of an ended application) with `reopen`.
    #[serde(default)]
    pub reopened: bool,
}

/// An application: one candidate for one job.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    /// The current stage.
    pub status: ApplicationStatus,
    pub source: ApplicationSource,
    /// Why it was rejected, while it is.
    pub rejection_reason: Option<String>,
    /// Every move, oldest first; the first entry is the creation.
    pub status_history: Vec<StatusChange>,
    /// The latest evaluation of the candidate against the job; `null` until the first one
    /// is done (shortly after the application is created). Scoring does not change the
    /// application's `revision`: it is not an edit.
    pub latest_evaluation: Option<EvaluationSummary>,
    /// The operation that last scored (or is scoring) the application: follow it at
    /// `/api/v1/operations/{reference_id}`.
    pub evaluation_reference_id: Option<String>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/applications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub candidate_id: String,
    pub job_id: String,
    /// Default `api`.
    #[serde(default)]
    pub source: Option<ApplicationSource>,
}

/// The body of `POST /api/v1/applications/{id}/status`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusMove {
    /// The new status.
    pub status: ApplicationStatus,
    /// Why; required to reject.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// Allows going back to an earlier stage, or out of hired, rejected or withdrawn.
    #[serde(default)]
    pub reopen: bool,
    /// The revision the move is based on; an alternative to `If-Match`.
    #[serde(default)]
    pub revision: Option<i64>,
}

/// Who moves an application.
#[derive(Debug, Clone, Default)]
pub struct Mover {
    pub key_id: Option<String>,
    pub user_id: Option<String>,
}

fn names(statuses: &[ApplicationStatus]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Application {
    /// A new application, in `new`.
    pub fn new(
        id: String,
        input: &NewApplication,
        mover: &Mover,
        now: DateTime<Utc>,
    ) -> Application {
        Application {
            id,
            candidate_id: input.candidate_id.clone(),
            job_id: input.job_id.clone(),
            status: ApplicationStatus::New,
            source: input.source.unwrap_or(ApplicationSource::Api),
            rejection_reason: None,
            status_history: vec![StatusChange {
                from: None,
                to: ApplicationStatus::New,
                at: now,
                actor_key_id: mover.key_id.clone(),
                user_id: mover.user_id.clone(),
                reason: None,
                reopened: false,
            }],
            latest_evaluation: None,
            evaluation_reference_id: None,
            revision: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The application after a move, validated against the pipeline's order.
    pub fn moved(
        &self,
        m: &StatusMove,
        mover: &Mover,
        now: DateTime<Utc>,
    ) -> DomainResult<Application> {
        let from = self.status;
        let to = m.status;
        let reason = clean_text("reason", m.reason.clone(), 2000)?;
        if to == from {
            return Err(DomainError::InvalidState(format!(
                "the application is already {}",
                from.as_str()
            )));
        }
        let forward = from.forward_moves();
        let allowed = forward.contains(&to);
        let going_back = !allowed;
        if going_back {
            if !m.reopen {
                let hint = if from.is_terminal() {
                    format!(
                        "the application is {}; send `\"reopen\": true` to move it back into the pipeline",
                        from.as_str()
                    )
                } else {
                    format!(
                        "from {} it may move to {}; an earlier stage needs `\"reopen\": true`",
                        from.as_str(),
                        names(&forward)
                    )
                };
                return Err(DomainError::InvalidState(format!(
                    "cannot move from {} to {}: {hint}",
                    from.as_str(),
                    to.as_str()
                )));
            }
            if to.stage().is_none() {
                return Err(DomainError::InvalidState(format!(
                    "a reopen moves the application back into the pipeline ({}), not to {}",
                    names(&ApplicationStatus::ALL[..6]),
                    to.as_str()
                )));
            }
        }
        if to == ApplicationStatus::Rejected && reason.is_none() {
            return Err(DomainError::invalid(
                "reason",
                "a rejection needs a `reason`",
            ));
        }
        let mut next = self.clone();
        next.status = to;
        next.rejection_reason = (to == ApplicationStatus::Rejected)
            .then(|| reason.clone())
            .flatten();
        next.status_history.push(StatusChange {
            from: Some(from),
            to,
            at: now,
            actor_key_id: mover.key_id.clone(),
            user_id: mover.user_id.clone(),
            reason,
            reopened: going_back,
        });
        next.revision += 1;
        next.updated_at = now;
        Ok(next)
    }
}

/// Sort orders for listing applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplicationSortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    /// The latest evaluation's score; unscored applications count as -1.
    Score,
}

impl ApplicationSortField {
    /// Parses `created_at` or `-updated_at` into a field and a direction.
    pub fn parse(s: &str) -> Option<(Self, bool)> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "score" => Self::Score,
            _ => return None,
        };
        Some((field, desc))
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Score => "score",
        }
    }

    /// The SQL expression sorted on (the same in every backend).
    pub fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Score => "COALESCE(score, -1)",
        }
    }
}

/// Filters and order for listing applications.
#[derive(Debug, Clone, Default)]
pub struct ApplicationQuery {
    pub job_id: Option<String>,
    pub candidate_id: Option<String>,
    pub statuses: Vec<ApplicationStatus>,
    pub source: Option<ApplicationSource>,
    /// Bands of the latest evaluation (any of them).
    pub bands: Vec<Band>,
    /// Latest evaluation's score at least this.
    pub min_score: Option<u8>,
    pub sort: ApplicationSortField,
    pub descending: bool,
    pub page: PageRequest,
}

impl ApplicationQuery {
    /// The cursor that resumes this query's order after `a`.
    pub fn cursor_of(&self, a: &Application) -> Cursor {
        let value = match self.sort {
            ApplicationSortField::CreatedAt => SortValue::Time(a.created_at),
            ApplicationSortField::UpdatedAt => SortValue::Time(a.updated_at),
            ApplicationSortField::Score => SortValue::Int(
                a.latest_evaluation
                    .as_ref()
                    .map_or(-1, |e| i64::from(e.score)),
            ),
        };
        Cursor {
            sort: format!(
                "{}{}",
                if self.descending { "-" } else { "" },
                self.sort.as_str()
            ),
            value,
            id: a.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> Application {
        Application::new(
            "app_1".into(),
            &NewApplication {
                candidate_id: "cand_1".into(),
                job_id: "job_1".into(),
                source: None,
            },
            &Mover::default(),
            crate::time::now(),
        )
    }

    fn mv(status: ApplicationStatus, reason: Option<&str>, reopen: bool) -> StatusMove {
        StatusMove {
            status,
            reason: reason.map(str::to_string),
            reopen,
            revision: None,
        }
    }

    #[test]
    fn moves_skip_forward_and_need_reopen_to_go_back() {
        use ApplicationStatus::*;
        let now = crate::time::now();
        let a = app()
            .moved(&mv(Shortlisted, None, false), &Mover::default(), now)
            .unwrap();
        assert_eq!(a.status, Shortlisted);
        let err = a
            .moved(&mv(Screened, None, false), &Mover::default(), now)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("interviewed, offered, hired, rejected, withdrawn"),
            "{err}"
        );
        let back = a
            .moved(
                &mv(Screened, Some("more checks"), true),
                &Mover::default(),
                now,
            )
            .unwrap();
        assert!(back.status_history.last().unwrap().reopened);
        assert!(
            a.moved(&mv(Shortlisted, None, false), &Mover::default(), now)
                .is_err()
        );
    }

    #[test]
    fn rejections_need_a_reason_and_end_the_pipeline() {
        use ApplicationStatus::*;
        let now = crate::time::now();
        assert!(matches!(
            app().moved(&mv(Rejected, None, false), &Mover::default(), now),
            Err(DomainError::Invalid { .. })
        ));
        let r = app()
            .moved(
                &mv(Rejected, Some("No visa"), false),
                &Mover::default(),
                now,
            )
            .unwrap();
        assert_eq!(r.rejection_reason.as_deref(), Some("No visa"));
        assert!(
            r.moved(&mv(Offered, None, false), &Mover::default(), now)
                .is_err()
        );
        assert!(
            r.moved(&mv(Withdrawn, None, true), &Mover::default(), now)
                .is_err()
        );
        let again = r
            .moved(
                &mv(Screened, Some("visa sorted"), true),
                &Mover::default(),
                now,
            )
            .unwrap();
        assert_eq!(again.rejection_reason, None);
        assert_eq!(again.status_history.len(), 3);
    }
}
