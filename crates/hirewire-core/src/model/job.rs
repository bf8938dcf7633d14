//! Jobs (requirements): Draft → Active → Closed / Expired.

use chrono::{DateTime, Duration, Utc};
pub use hirewire_scoring::Weights;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::{DomainError, DomainResult};
use crate::page::PageRequest;

/// How long a published job stays open unless told otherwise.
pub const DEFAULT_LIFETIME_DAYS: i64 = 30;
const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 100_000;
const MAX_SHORT: usize = 200;
const MAX_SKILLS: usize = 100;
const MAX_YEARS: f64 = 60.0;

string_enum! {
    /// Where a job is in its life.
    JobStatus { Draft => "draft", Active => "active", Closed => "closed", Expired => "expired" }
}
string_enum! {
    /// The contract a job offers.
    EmploymentType { FullTime => "full_time", PartTime => "part_time", Contract => "contract", Temporary => "temporary", Internship => "internship" }
}
string_enum! {
    /// Where the work happens.
    RemoteType { OnSite => "on_site", Hybrid => "hybrid", Remote => "remote" }
}
string_enum! {
    /// How candidates apply.
    ApplyMethod { Email => "email", Url => "url", Api => "api" }
}

/// A skill a job asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSkill {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Required skills must be present; the others are preferred.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Relative importance in scoring, 0–10.
    #[serde(default = "default_weight")]
    #[schema(minimum = 0.0, maximum = 10.0)]
    pub weight: f64,
    /// Minimum years of experience with the skill.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 60.0)]
    pub min_years: Option<f64>,
}

fn default_true() -> bool {
    true
}
fn default_weight() -> f64 {
    1.0
}

/// A job (requirement).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub title: String,
    /// The client's own reference for the job.
    pub reference: Option<String>,
    pub description: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub employment_type: Option<EmploymentType>,
    pub remote_type: Option<RemoteType>,
    pub apply_method: Option<ApplyMethod>,
    pub apply_email: Option<String>,
    pub apply_url: Option<String>,
    pub skills: Vec<JobSkill>,
    pub min_experience_years: Option<f64>,
    /// Weights of the evaluation dimensions for this job; the defaults when `null`.
    pub scoring_weights: Option<Weights>,
    pub status: JobStatus,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub posted_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<DateTime<Utc>>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/jobs`: a draft needs only a title.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub city: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub country: Option<String>,
    #[serde(default)]
    pub employment_type: Option<EmploymentType>,
    #[serde(default)]
    pub remote_type: Option<RemoteType>,
    #[serde(default)]
    pub apply_method: Option<ApplyMethod>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub apply_email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub apply_url: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub skills: Vec<JobSkill>,
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 60.0)]
    pub min_experience_years: Option<f64>,
    /// Weights of the evaluation dimensions (each 0–100, relative; an absent one takes its
    /// default: skills 0.5, experience 0.2, title 0.15, location 0.1, education 0.05).
    #[serde(default)]
    pub scoring_weights: Option<Weights>,
    #[serde(default, with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The body of `PATCH /api/v1/jobs/{id}`: any subset of the mutable fields; `null` clears one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<EmploymentType>)]
    pub employment_type: Option<Option<EmploymentType>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<RemoteType>)]
    pub remote_type: Option<Option<RemoteType>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ApplyMethod>)]
    pub apply_method: Option<Option<ApplyMethod>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub apply_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub apply_url: Option<Option<String>>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub skills: Option<Vec<JobSkill>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 60.0)]
    pub min_experience_years: Option<Option<f64>>,
    /// `null` goes back to the default weights.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Weights>)]
    pub scoring_weights: Option<Option<Weights>>,
    #[serde(default, deserialize_with = "nullable_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// The revision the change is based on; an alternative to `If-Match`.
    #[serde(default)]
    pub revision: Option<i64>,
    /// Read-only here: a job's status changes through `publish` and `close`.
    #[serde(default)]
    #[schema(value_type = Option<JobStatus>, read_only)]
    pub status: Option<serde_json::Value>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in a patch.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nullable_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    crate::time::rfc3339::option::deserialize(d).map(Some)
}

/// Sort orders for listing jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobSortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    Title,
}

/// Filters and order for listing jobs.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub statuses: Vec<JobStatus>,
    pub employment_type: Option<EmploymentType>,
    pub remote_type: Option<RemoteType>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub reference: Option<String>,
    pub sort: JobSortField,
    pub descending: bool,
    pub page: PageRequest,
}

impl JobQuery {
    /// The cursor that resumes this query's order after `job`.
    pub fn cursor_of(&self, job: &Job) -> crate::page::Cursor {
        use crate::page::SortValue;
        let value = match self.sort {
            JobSortField::CreatedAt => SortValue::Time(job.created_at),
            JobSortField::UpdatedAt => SortValue::Time(job.updated_at),
            JobSortField::Title => SortValue::Text(job.title.clone()),
        };
        let sort = format!(
            "{}{}",
            if self.descending { "-" } else { "" },
            self.sort.as_str()
        );
        crate::page::Cursor {
            sort,
            value,
            id: job.id.clone(),
        }
    }
}

impl JobSortField {
    /// Parses `created_at`, `-updated_at`, `title`… into a field and a direction.
    pub fn parse(s: &str) -> Option<(Self, bool)> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "title" => Self::Title,
            _ => return None,
        };
        Some((field, desc))
    }

    /// The wire name, also the column name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Title => "title",
        }
    }
}

pub(crate) fn clean_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> DomainResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = v.trim().to_string();
            if v.is_empty() {
                return Ok(None);
            }
            if v.chars().count() > max {
                return Err(DomainError::invalid(
                    field,
                    format!("`{field}` is longer than {max} characters"),
                ));
            }
            if v.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err(DomainError::invalid(
                    field,
                    format!("`{field}` contains control characters"),
                ));
            }
            Ok(Some(v))
        }
    }
}

fn clean_title(title: String) -> DomainResult<String> {
    clean_text("title", Some(title), MAX_TITLE)?
        .ok_or_else(|| DomainError::invalid("title", "`title` must not be empty"))
}

fn check_years(field: &str, years: Option<f64>) -> DomainResult<Option<f64>> {
    match years {
        Some(y) if !(0.0..=MAX_YEARS).contains(&y) || !y.is_finite() => Err(DomainError::invalid(
            field,
            format!("`{field}` must be between 0 and {MAX_YEARS}"),
        )),
        other => Ok(other),
    }
}

fn checked_weights(w: Option<Weights>) -> DomainResult<Option<Weights>> {
    if let Some(w) = &w {
        crate::model::evaluation::check_weights(w)?;
    }
    Ok(w)
}

fn clean_skills(skills: Vec<JobSkill>) -> DomainResult<Vec<JobSkill>> {
    if skills.len() > MAX_SKILLS {
        return Err(DomainError::invalid(
            "skills",
            format!("a job has at most {MAX_SKILLS} skills"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    skills
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let field = format!("skills[{i}].name");
            let name = clean_text(&field, Some(s.name), 100)?.ok_or_else(|| {
                DomainError::invalid(&field, format!("`{field}` must not be empty"))
            })?;
            if !seen.insert(name.to_lowercase()) {
                return Err(DomainError::invalid(
                    &field,
                    format!("skill `{name}` is listed twice"),
                ));
            }
            if !(0.0..=10.0).contains(&s.weight) || !s.weight.is_finite() {
                return Err(DomainError::invalid(
                    format!("skills[{i}].weight"),
                    format!("`skills[{i}].weight` must be between 0 and 10"),
                ));
            }
            let min_years = check_years(&format!("skills[{i}].min_years"), s.min_years)?;
            Ok(JobSkill {
                name,
                required: s.required,
                weight: s.weight,
                min_years,
            })
        })
        .collect()
}

pub(crate) fn check_email(field: &str, v: &str) -> DomainResult<()> {
    let ok = v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !v.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("`{field}` is not an email address"),
        ))
    }
}

pub(crate) fn check_url(field: &str, v: &str) -> DomainResult<()> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > 10
        && !v.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("`{field}` must be an http(s) URL"),
        ))
    }
}

impl Job {
    /// A new draft from a create request, validated.
    pub fn new_draft(id: String, input: NewJob, now: DateTime<Utc>) -> DomainResult<Self> {
        let job = Job {
            id,
            title: clean_title(input.title)?,
            reference: clean_text("reference", input.reference, MAX_SHORT)?,
            description: clean_text("description", input.description, MAX_TEXT)?,
            city: clean_text("city", input.city, MAX_SHORT)?,
            country: clean_text("country", input.country, MAX_SHORT)?,
            employment_type: input.employment_type,
            remote_type: input.remote_type,
            apply_method: input.apply_method,
            apply_email: clean_text("apply_email", input.apply_email, MAX_SHORT)?,
            apply_url: clean_text("apply_url", input.apply_url, 2000)?,
            skills: clean_skills(input.skills)?,
            min_experience_years: check_years("min_experience_years", input.min_experience_years)?,
            scoring_weights: checked_weights(input.scoring_weights)?,
            status: JobStatus::Draft,
            posted_at: None,
            expires_at: input.expires_at,
            closed_at: None,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        job.check_consistency(now)?;
        Ok(job)
    }

    fn check_consistency(&self, now: DateTime<Utc>) -> DomainResult<()> {
        if let Some(e) = &self.apply_email {
            check_email("apply_email", e)?;
        }
        if let Some(u) = &self.apply_url {
            check_url("apply_url", u)?;
        }
        match self.apply_method {
            Some(ApplyMethod::Email) if self.apply_email.is_none() => {
                return Err(DomainError::invalid(
                    "apply_email",
                    "`apply_email` is needed when `apply_method` is `email`",
                ));
            }
            Some(ApplyMethod::Url) if self.apply_url.is_none() => {
                return Err(DomainError::invalid(
                    "apply_url",
                    "`apply_url` is needed when `apply_method` is `url`",
                ));
            }
            _ => {}
        }
        if let Some(e) = self.expires_at
            && e <= now
            && matches!(self.status, JobStatus::Draft | JobStatus::Active)
        {
            return Err(DomainError::invalid(
                "expires_at",
                "`expires_at` must be in the future",
            ));
        }
        Ok(())
    }

    /// The job after a patch; the names of the fields that changed. Closed and expired jobs
    /// are frozen.
    pub fn patched(
        &self,
        patch: JobPatch,
        now: DateTime<Utc>,
    ) -> DomainResult<(Job, Vec<&'static str>)> {
        if patch.status.is_some() {
            return Err(DomainError::invalid(
                "status",
                "`status` is read-only here: use POST /api/v1/jobs/{id}/publish or /close",
            ));
        }
        if matches!(self.status, JobStatus::Closed | JobStatus::Expired) {
            return Err(DomainError::InvalidState(format!(
                "a {} job cannot be changed",
                self.status.as_str()
            )));
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        macro_rules! set {
            ($field:ident, $value:expr) => {{
                let v = $value;
                if next.$field != v {
                    next.$field = v;
                    changed.push(stringify!($field));
                }
            }};
        }
        if let Some(t) = patch.title {
            set!(title, clean_title(t)?);
        }
        if let Some(v) = patch.reference {
            set!(reference, clean_text("reference", v, MAX_SHORT)?);
        }
        if let Some(v) = patch.description {
            set!(description, clean_text("description", v, MAX_TEXT)?);
        }
        if let Some(v) = patch.city {
            set!(city, clean_text("city", v, MAX_SHORT)?);
        }
        if let Some(v) = patch.country {
            set!(country, clean_text("country", v, MAX_SHORT)?);
        }
        if let Some(v) = patch.employment_type {
            set!(employment_type, v);
        }
        if let Some(v) = patch.remote_type {
            set!(remote_type, v);
        }
        if let Some(v) = patch.apply_method {
            set!(apply_method, v);
        }
        if let Some(v) = patch.apply_email {
            set!(apply_email, clean_text("apply_email", v, MAX_SHORT)?);
        }
        if let Some(v) = patch.apply_url {
            set!(apply_url, clean_text("apply_url", v, 2000)?);
        }
        if let Some(v) = patch.skills {
            set!(skills, clean_skills(v)?);
        }
        if let Some(v) = patch.min_experience_years {
            set!(
                min_experience_years,
                check_years("min_experience_years", v)?
            );
        }
        if let Some(v) = patch.scoring_weights {
            set!(scoring_weights, checked_weights(v)?);
        }
        if let Some(v) = patch.expires_at {
            if v.is_none() && self.status == JobStatus::Active {
                return Err(DomainError::invalid(
                    "expires_at",
                    "an active job must keep an `expires_at`",
                ));
            }
            set!(expires_at, v);
        }
        next.check_consistency(now)?;
        if !changed.is_empty() {
            next.revision += 1;
            next.updated_at = now;
        }
        Ok((next, changed))
    }

    /// The job once published: Draft → Active, `posted_at` now, `expires_at` from the
    /// request, else from the draft, else 30 days on.
    pub fn published(
        &self,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DomainResult<Job> {
        if self.status != JobStatus::Draft {
            return Err(DomainError::InvalidState(format!(
                "only a draft can be published; this job is {}",
                self.status.as_str()
            )));
        }
        let expires_at = match expires_at.or(self.expires_at) {
            Some(e) if e <= now => {
                return Err(DomainError::invalid(
                    "expires_at",
                    "`expires_at` must be in the future",
                ));
            }
            Some(e) => e,
            None => now + Duration::days(DEFAULT_LIFETIME_DAYS),
        };
        Ok(Job {
            status: JobStatus::Active,
            posted_at: Some(now),
            expires_at: Some(expires_at),
            revision: self.revision + 1,
            updated_at: now,
            ..self.clone()
        })
    }

    /// The job once closed by a person; drafts and active jobs can be closed.
    pub fn closed(&self, now: DateTime<Utc>) -> DomainResult<Job> {
        if !matches!(self.status, JobStatus::Draft | JobStatus::Active) {
            return Err(DomainError::InvalidState(format!(
                "only a draft or active job can be closed; this job is {}",
                self.status.as_str()
            )));
        }
        Ok(Job {
            status: JobStatus::Closed,
            closed_at: Some(now),
            revision: self.revision + 1,
            updated_at: now,
            ..self.clone()
        })
    }

    /// The job once its `expires_at` has passed, if it is active and due.
    pub fn expired(&self, now: DateTime<Utc>) -> Option<Job> {
        (self.status == JobStatus::Active && self.expires_at.is_some_and(|e| e <= now)).then(|| {
            Job {
                status: JobStatus::Expired,
                closed_at: Some(now),
                revision: self.revision + 1,
                updated_at: now,
                ..self.clone()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Job {
        Job::new_draft(
            "job_x".into(),
            NewJob {
                title: "Rust engineer".into(),
                ..Default::default()
            },
            crate::time::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_draft_needs_only_a_title() {
        let j = draft();
        assert_eq!(j.status, JobStatus::Draft);
        assert_eq!(j.revision, 1);
        assert!(
            Job::new_draft(
                "job_y".into(),
                NewJob {
                    title: "  ".into(),
                    ..Default::default()
                },
                crate::time::now()
            )
            .is_err()
        );
    }

    #[test]
    fn publish_then_close_walks_the_lifecycle() {
        let now = crate::time::now();
        let p = draft().published(None, now).unwrap();
        assert_eq!(p.status, JobStatus::Active);
        assert_eq!(p.expires_at, Some(now + Duration::days(30)));
        assert!(matches!(
            p.published(None, now),
            Err(DomainError::InvalidState(_))
        ));
        let c = p.closed(now).unwrap();
        assert_eq!(c.status, JobStatus::Closed);
        assert_eq!(c.revision, 3);
        assert!(c.closed(now).is_err());
    }

    #[test]
    fn expiry_applies_only_to_due_active_jobs() {
        let now = crate::time::now();
        let p = draft()
            .published(Some(now + Duration::seconds(5)), now)
            .unwrap();
        assert!(p.expired(now).is_none());
        assert_eq!(
            p.expired(now + Duration::seconds(5)).unwrap().status,
            JobStatus::Expired
        );
        assert!(draft().expired(now + Duration::days(999)).is_none());
    }

    #[test]
    fn patch_changes_only_what_it_names() {
        let now = crate::time::now();
        let j = draft();
        let patch: JobPatch =
            serde_json::from_str(r#"{"city":"Leeds","description":null}"#).unwrap();
        let (next, changed) = j.patched(patch, now).unwrap();
        assert_eq!(changed, vec!["city"]);
        assert_eq!(next.city.as_deref(), Some("Leeds"));
        assert_eq!(next.revision, 2);
        let (same, none) = next.patched(JobPatch::default(), now).unwrap();
        assert!(none.is_empty());
        assert_eq!(same.revision, 2);
    }

    #[test]
    fn apply_method_needs_its_target() {
        let input = NewJob {
            title: "x".into(),
            apply_method: Some(ApplyMethod::Email),
            ..Default::default()
        };
        let err = Job::new_draft("job_z".into(), input, crate::time::now()).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field: Some(f), .. } if f == "apply_email"));
    }
}
