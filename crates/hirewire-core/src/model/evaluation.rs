//! Evaluations (a candidate scored against a job, kept with its history), the ranking of a
//! job's candidates, and reviews: the items a person must look at.

use chrono::{DateTime, Utc};
use hirewire_profile::Profile;
use hirewire_scoring::{
    Band, CandidateSpec, Dimension, Evaluator, JobSkillSpec, JobSpec, MissingSkill, SkillMatch,
    Weights,
};
use hirewire_taxonomy::{Mode, Taxonomy};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{DomainError, DomainResult};
use crate::model::application::ApplicationStatus;
use crate::model::candidate::skill_key;
use crate::model::job::{Job, RemoteType};
use crate::page::{Cursor, PageRequest, SortValue};

string_enum! {
    /// What made an evaluation run.
    EvaluationTrigger {
        ApplicationCreated => "application_created",
        CvParsed => "cv_parsed",
        Api => "api",
    }
}

/// One evaluation of a candidate against a job (DESIGN §6). Evaluations are never changed:
/// a re-evaluation adds a new one, so the history stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    /// The application it scored, when the candidate applied to the job.
    pub application_id: Option<String>,
    /// Overall score, 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub score: u8,
    /// `green` (85 and above), `amber` (60–84) or `red`.
    pub band: Band,
    /// Skills, experience, title, location and education, each with its score (0–1), its
    /// weight in the overall score and the evidence behind it.
    pub dimensions: Vec<Dimension>,
    /// Job skills the candidate has, fully or partly (`credit`, and `via` when not literal).
    pub matched_skills: Vec<SkillMatch>,
    /// Job skills the candidate lacks, required and preferred apart.
    pub missing_skills: Vec<MissingSkill>,
    /// Two or three sentences written from the evidence.
    pub rationale: String,
    /// How far the evaluation can be trusted, 0–1: low for thin or unparsed CVs.
    pub confidence: f64,
    /// Which evaluator produced it.
    pub evaluator: String,
    /// Version of the evaluator's rules.
    pub model_version: String,
    /// Why it ran.
    pub trigger: EvaluationTrigger,
    /// The operation that produced it, for evaluations run in the background.
    pub reference_id: Option<String>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl Evaluation {
    /// A stored evaluation from an evaluator's result.
    pub fn from_result(
        id: String,
        subject: &Subject,
        result: hirewire_scoring::Evaluation,
        trigger: EvaluationTrigger,
        reference_id: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Evaluation {
            id,
            candidate_id: subject.candidate_id.clone(),
            job_id: subject.job_id.clone(),
            application_id: subject.application_id.clone(),
            score: result.score.min(100),
            band: result.band,
            dimensions: result.dimensions,
            matched_skills: result.matched_skills,
            missing_skills: result.missing_skills,
            rationale: result.rationale,
            confidence: result.confidence,
            evaluator: result.evaluator,
            model_version: result.model_version,
            trigger,
            reference_id,
            created_at: now,
        }
    }

    /// The figures an application carries of its latest evaluation.
    pub fn summary(&self) -> EvaluationSummary {
        EvaluationSummary {
            id: self.id.clone(),
            score: self.score,
            band: self.band,
            confidence: self.confidence,
            created_at: self.created_at,
        }
    }
}

/// The breakdown of an evaluation, which stores keep as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationDetails {
    pub dimensions: Vec<Dimension>,
    pub matched_skills: Vec<SkillMatch>,
    pub missing_skills: Vec<MissingSkill>,
    pub rationale: String,
}

impl Evaluation {
    /// The breakdown, to store.
    pub fn details(&self) -> EvaluationDetails {
        EvaluationDetails {
            dimensions: self.dimensions.clone(),
            matched_skills: self.matched_skills.clone(),
            missing_skills: self.missing_skills.clone(),
            rationale: self.rationale.clone(),
        }
    }
}

/// Who is evaluated against what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub candidate_id: String,
    pub job_id: String,
    pub application_id: Option<String>,
}

/// The latest evaluation of an application, in short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationSummary {
    /// The evaluation; its breakdown is at `/api/v1/evaluations/{id}`.
    pub id: String,
    #[schema(minimum = 0, maximum = 100)]
    pub score: u8,
    pub band: Band,
    pub confidence: f64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/evaluations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    pub candidate_id: String,
    pub job_id: String,
}

/// Filters for listing evaluations (the history), newest first.
#[derive(Debug, Clone, Default)]
pub struct EvaluationQuery {
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub application_id: Option<String>,
    pub page: PageRequest,
}

impl EvaluationQuery {
    /// The sort evaluations are listed in.
    pub const SORT: &'static str = "-created_at";

    /// The cursor that resumes the listing after `e`.
    pub fn cursor_of(e: &Evaluation) -> Cursor {
        Cursor {
            sort: Self::SORT.to_string(),
            value: SortValue::Time(e.created_at),
            id: e.id.clone(),
        }
    }
}

/// The evaluator's view of a job.
pub fn job_spec(job: &Job) -> JobSpec {
    JobSpec {
        title: job.title.clone(),
        description: job.description.clone(),
        skills: job
            .skills
            .iter()
            .map(|s| JobSkillSpec {
                name: s.name.clone(),
                required: s.required,
                weight: s.weight,
                min_years: s.min_years,
            })
            .collect(),
        min_experience_years: job.min_experience_years,
        city: job.city.clone(),
        country: job.country.clone(),
        remote_type: job.remote_type.map(|r| match r {
            RemoteType::OnSite => hirewire_scoring::RemoteKind::OnSite,
            RemoteType::Hybrid => hirewire_scoring::RemoteKind::Hybrid,
            RemoteType::Remote => hirewire_scoring::RemoteKind::Remote,
        }),
        weights: job.scoring_weights,
    }
}

/// Evaluates a candidate's profile and CV text against a job.
pub fn evaluate(
    evaluator: &dyn Evaluator,
    job: &JobSpec,
    profile: &Profile,
    cv_text: Option<&str>,
) -> hirewire_scoring::Evaluation {
    evaluator.evaluate(
        job,
        &CandidateSpec {
            profile,
            cv_text,
            parsed: cv_text.is_some(),
        },
    )
}

/// The built-in evaluator, measuring durations up to the current month.
pub fn builtin_evaluator() -> hirewire_scoring::Matcher {
    use chrono::Datelike;
    let now = crate::time::now();
    hirewire_scoring::Matcher::new((now.year(), now.month()))
}

/// Checks per-job dimension weights: each between 0 and 100, not all zero.
pub fn check_weights(w: &Weights) -> DomainResult<()> {
    let all = [
        ("skills", w.skills),
        ("experience", w.experience),
        ("title", w.title),
        ("location", w.location),
        ("education", w.education),
    ];
    for (name, v) in all {
        if !v.is_finite() || !(0.0..=100.0).contains(&v) {
            return Err(DomainError::invalid(
                format!("scoring_weights.{name}"),
                format!("`scoring_weights.{name}` must be between 0 and 100"),
            ));
        }
    }
    if all.iter().all(|(_, v)| *v == 0.0) {
        return Err(DomainError::invalid(
            "scoring_weights",
            "at least one of the `scoring_weights` must be above 0",
        ));
    }
    Ok(())
}

/// Where a ranking draws its candidates from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankingPool {
    /// The job's applicants.
    Applicants,
    /// Every candidate of the tenant.
    All,
}

/// What a ranking asks for.
#[derive(Debug, Clone)]
pub struct RankingRequest {
    pub pool: RankingPool,
    pub limit: usize,
    pub min_score: Option<u8>,
    /// Whether rejected and withdrawn applicants take part.
    pub include_rejected: bool,
}

/// A job's candidates, best first, with their breakdowns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ranking {
    pub job_id: String,
    pub pool: RankingPool,
    /// How many candidates the pool holds.
    pub pool_size: u64,
    /// How many of them were evaluated in full (see `prescreened`).
    pub evaluated: u64,
    /// Whether the pool was first narrowed to the candidates whose indexed skills best match
    /// the job's (skills, synonyms and related skills), the most recently updated filling any
    /// room left; only the whole talent pool is narrowed, and only when it is large.
    pub prescreened: bool,
    pub evaluator: String,
    pub model_version: String,
    pub items: Vec<RankedCandidate>,
}

/// One ranked candidate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedCandidate {
    /// 1 for the best.
    pub rank: u32,
    pub candidate_id: String,
    /// The candidate's name, to read the ranking without another call.
    pub name: Option<String>,
    /// The candidate's application to this job, if any.
    pub application_id: Option<String>,
    pub application_status: Option<ApplicationStatus>,
    #[schema(minimum = 0, maximum = 100)]
    pub score: u8,
    pub band: Band,
    pub confidence: f64,
    pub dimensions: Vec<Dimension>,
    pub matched_skills: Vec<SkillMatch>,
    pub missing_skills: Vec<MissingSkill>,
    pub rationale: String,
}

/// The skill keys a talent-pool prescreen looks for, with their weight: the job's skills
/// (required ones count double) and, at half weight, their curated related skills. A job
/// without structured skills contributes the skills its description names.
pub fn prescreen_keys(job: &Job) -> Vec<(String, f64)> {
    let tax = Taxonomy::global();
    let mut wanted: Vec<(String, f64)> = job
        .skills
        .iter()
        .map(|s| {
            let importance = if s.required { 2.0 } else { 1.0 };
            (s.name.clone(), importance * s.weight.max(0.1))
        })
        .collect();
    if wanted.is_empty()
        && let Some(d) = job.description.as_deref()
    {
        for m in tax.find_in_text(d, Mode::Prose) {
            if let Some(s) = tax.get(m.skill) {
                wanted.push((s.name.to_string(), 1.0));
            }
        }
    }
    let mut keys: Vec<(String, f64)> = Vec::new();
    let mut add = |key: String, w: f64| {
        if key.is_empty() {
            return;
        }
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = old.max(w),
            None => keys.push((key, w)),
        }
    };
    for (name, w) in wanted {
        add(skill_key(&name), w);
        if let Some(skill) = tax.normalize(&name) {
            for related in &skill.related {
                add(skill_key(related), w * 0.5);
            }
        }
    }
    keys
}

string_enum! {
    /// What a review item asks a person to look at.
    ReviewKind { LowConfidenceEvaluation => "low_confidence_evaluation" }
}

string_enum! {
    /// Where a review item is.
    ReviewStatus { Open => "open", Resolved => "resolved" }
}

string_enum! {
    /// How a person resolved a review item.
    ReviewResolution { Accepted => "accepted", Dismissed => "dismissed" }
}

/// An item for a person to look at: for now, an evaluation whose confidence is below the
/// tenant's threshold. One open item per candidate and job; a re-evaluation that is still
/// unsure updates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Review {
    pub id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    /// `evaluation` for low-confidence evaluations.
    pub subject_type: String,
    /// The latest evaluation the item is about.
    pub subject_id: String,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub application_id: Option<String>,
    /// Why the item was opened, in a sentence.
    pub reason: String,
    /// What the reviewer needs at hand (for evaluations: score, band, confidence, threshold).
    #[schema(value_type = Object)]
    pub details: Value,
    pub resolution: Option<ReviewResolution>,
    pub resolution_note: Option<String>,
    /// The key that resolved it.
    pub resolved_by_key_id: Option<String>,
    /// `X-ATS-User-ID` of the call that resolved it.
    pub resolved_by_user_id: Option<String>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<DateTime<Utc>>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/reviews/{id}/resolve`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveReview {
    /// `accepted` (the evaluation stands) or `dismissed` (it should not be relied on).
    pub resolution: ReviewResolution,
    /// Free text for the record, up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The revision the resolution is based on; an alternative to `If-Match`.
    #[serde(default)]
    pub revision: Option<i64>,
}

/// Filters for listing reviews, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReviewQuery {
    pub status: Option<ReviewStatus>,
    pub kind: Option<ReviewKind>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub page: PageRequest,
}

impl ReviewQuery {
    /// The sort reviews are listed in.
    pub const SORT: &'static str = "-created_at";

    /// The cursor that resumes the listing after `r`.
    pub fn cursor_of(r: &Review) -> Cursor {
        Cursor {
            sort: Self::SORT.to_string(),
            value: SortValue::Time(r.created_at),
            id: r.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::job::{JobSkill, NewJob};

    fn job(skills: &[(&str, bool)], description: Option<&str>) -> Job {
        Job::new_draft(
            "job_1".into(),
            NewJob {
                title: "Backend Engineer".into(),
                description: description.map(str::to_string),
                skills: skills
                    .iter()
                    .map(|(n, r)| JobSkill {
                        name: n.to_string(),
                        required: *r,
                        weight: 1.0,
                        min_years: None,
                    })
                    .collect(),
                ..NewJob::default()
            },
            crate::time::now(),
        )
        .unwrap()
    }

    #[test]
    fn prescreen_keys_are_canonical_and_weigh_required_skills_double() {
        let keys = prescreen_keys(&job(&[("k8s", true), ("Postgres", false)], None));
        let get = |k: &str| keys.iter().find(|(key, _)| key == k).map(|(_, w)| *w);
        assert_eq!(get("kubernetes"), Some(2.0));
        assert_eq!(get("postgresql"), Some(1.0));
        // Related skills come in at half weight, never above the skill itself.
        assert!(keys.len() > 2, "{keys:?}");
        assert!(keys.iter().all(|(_, w)| *w <= 2.0));
    }

    #[test]
    fn a_job_without_skills_is_prescreened_on_its_description() {
        let keys = prescreen_keys(&job(&[], Some("You will write Python and SQL daily.")));
        assert!(keys.iter().any(|(k, _)| k == "python"), "{keys:?}");
    }

    #[test]
    fn weights_are_checked() {
        let ok = Weights::default();
        assert!(check_weights(&ok).is_ok());
        let neg = Weights { title: -1.0, ..ok };
        assert!(check_weights(&neg).is_err());
        let zero = Weights {
            skills: 0.0,
            experience: 0.0,
            title: 0.0,
            location: 0.0,
            education: 0.0,
        };
        assert!(check_weights(&zero).is_err());
        let nan = Weights {
            skills: f64::NAN,
            ..ok
        };
        assert!(check_weights(&nan).is_err());
    }
}
