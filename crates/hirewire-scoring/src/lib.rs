//! Explainable evaluation of a candidate against a job (DESIGN §6).
//!
//! An [`Evaluator`] turns a [`JobSpec`] and a [`CandidateSpec`] into an [`Evaluation`]: a
//! 0–100 score, a band, per-dimension scores with their weights and the evidence behind
//! them (pointing at CV lines), matched and missing skills, a rationale and a confidence.
//! [`Matcher`] is the built-in evaluator: deterministic, no network, no clock (durations
//! are measured against the `as_of` month it is built with). Other evaluators (an LLM
//! service) implement the same trait.
//!
//! This crate owns its input types so that it does not depend on the domain crate; the
//! domain maps its `Job` onto [`JobSpec`] (the JSON shapes agree, so jobs in the Jobs API
//! shape deserialize directly).

#![warn(missing_docs)]

mod cv;
mod dates;
mod education;
mod experience;
mod location;
mod matcher;
mod skills;
mod text;
mod title;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use matcher::Matcher;

/// What the job asks for, in the Jobs API shape (unknown fields are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobSpec {
    /// The job title, e.g. "Senior Backend Engineer".
    pub title: String,
    /// Free-text description; skills are inferred from it when `skills` is empty.
    #[serde(default)]
    pub description: Option<String>,
    /// Structured skills, required and preferred.
    #[serde(default)]
    pub skills: Vec<JobSkillSpec>,
    /// Minimum years of overall experience.
    #[serde(default)]
    pub min_experience_years: Option<f64>,
    /// Where the job is.
    #[serde(default)]
    pub city: Option<String>,
    /// Country name or ISO 3166-1 alpha-2 code.
    #[serde(default)]
    pub country: Option<String>,
    /// Where the work happens.
    #[serde(default)]
    pub remote_type: Option<RemoteKind>,
    /// Dimension weights for this job; the defaults when absent.
    #[serde(default)]
    pub weights: Option<Weights>,
}

/// A skill a job asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobSkillSpec {
    /// The skill as the job writes it; normalised through the taxonomy.
    pub name: String,
    /// Required skills must be present; the others are preferred.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Relative importance, 0–10.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Minimum years with the skill.
    #[serde(default)]
    pub min_years: Option<f64>,
}

fn default_true() -> bool {
    true
}

fn default_weight() -> f64 {
    1.0
}

/// Where the work happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemoteKind {
    /// At the job's location.
    OnSite,
    /// Partly at the job's location.
    Hybrid,
    /// Anywhere.
    Remote,
}

/// Relative weights of the five dimensions; normalised before use, settable per job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Weight of the skills dimension.
    pub skills: f64,
    /// Weight of the experience dimension.
    pub experience: f64,
    /// Weight of the title dimension.
    pub title: f64,
    /// Weight of the location dimension.
    pub location: f64,
    /// Weight of the education dimension.
    pub education: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            skills: 0.5,
            experience: 0.2,
            title: 0.15,
            location: 0.1,
            education: 0.05,
        }
    }
}

impl Weights {
    /// These weights summing to 1; non-finite or negative weights count as 0, and all-zero
    /// weights fall back to the defaults so that a score always means something.
    pub fn normalized(&self) -> Weights {
        let clean = |w: f64| {
            if w.is_finite() && w > 0.0 {
                w.min(1e6)
            } else {
                0.0
            }
        };
        let w = Weights {
            skills: clean(self.skills),
            experience: clean(self.experience),
            title: clean(self.title),
            location: clean(self.location),
            education: clean(self.education),
        };
        let sum = w.skills + w.experience + w.title + w.location + w.education;
        if sum <= 0.0 {
            return Weights::default().normalized();
        }
        Weights {
            skills: w.skills / sum,
            experience: w.experience / sum,
            title: w.title / sum,
            location: w.location / sum,
            education: w.education / sum,
        }
    }
}

/// The candidate as the evaluator sees it.
#[derive(Debug, Clone, Copy)]
pub struct CandidateSpec<'a> {
    /// The structured profile (JSON Resume shape).
    pub profile: &'a hirewire_profile::Profile,
    /// The parsed CV's text, lines separated by `\n`; evidence points at its lines.
    pub cv_text: Option<&'a str>,
    /// Whether a CV was parsed into the profile (rather than typed in by hand or empty).
    pub parsed: bool,
}

/// The result of evaluating one candidate against one job (DESIGN §6, less the ids and
/// `created_at` that the domain adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// Overall score, 0–100.
    pub score: u8,
    /// Traffic light derived from the score.
    pub band: Band,
    /// Per-dimension scores, weights and evidence, in a fixed order.
    pub dimensions: Vec<Dimension>,
    /// Job skills the candidate has, fully or partly.
    pub matched_skills: Vec<SkillMatch>,
    /// Job skills the candidate lacks.
    pub missing_skills: Vec<MissingSkill>,
    /// Two or three sentences written from the evidence.
    pub rationale: String,
    /// How far the evaluation can be trusted, 0–1; low for thin or unparsed CVs.
    pub confidence: f64,
    /// Which evaluator produced this, e.g. "builtin-matcher".
    pub evaluator: String,
    /// Version of the scoring rules, e.g. "matcher-1.0.0".
    pub model_version: String,
}

/// Traffic light of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// 85 and above.
    Green,
    /// 60 to 84.
    Amber,
    /// Below 60.
    Red,
}

impl Band {
    /// Every band, best first.
    pub const ALL: [Band; 3] = [Band::Green, Band::Amber, Band::Red];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Amber => "amber",
            Band::Red => "red",
        }
    }

    /// Parses a wire or storage name.
    pub fn parse(s: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The band of a 0–100 score.
    pub fn of(score: u8) -> Band {
        match score {
            85.. => Band::Green,
            60..=84 => Band::Amber,
            _ => Band::Red,
        }
    }
}

/// One scored dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dimension {
    /// "skills", "experience", "title", "location" or "education".
    pub name: String,
    /// 0–1.
    pub score: f64,
    /// Normalised weight of this dimension in the overall score.
    pub weight: f64,
    /// Why the dimension scored as it did.
    pub evidence: Vec<Evidence>,
}

/// What kind of finding a piece of evidence records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The requirement is met.
    Match,
    /// The requirement is partly met (related skill, too few years, same country only).
    Partial,
    /// The requirement is not met.
    Missing,
    /// Context without credit or blame.
    Info,
}

/// One finding, pointing at where in the profile or CV it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// Match, partial, missing or info.
    pub kind: EvidenceKind,
    /// A human sentence.
    pub text: String,
    /// Where it was found: "profile.skills[2]", "profile.work[0].highlights[1]",
    /// "profile.languages[0]", "profile.basics.location", "cv", "job.description".
    pub source: String,
    /// 1-based line of the CV text where it was found.
    pub line: Option<u32>,
    /// That CV line, trimmed to about 160 characters.
    pub excerpt: Option<String>,
}

/// A job skill the candidate has, fully or partly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SkillMatch {
    /// The skill's canonical name (the job's own wording when the taxonomy lacks it).
    pub name: String,
    /// Whether the job requires it.
    pub required: bool,
    /// Credit given, 0–1.
    pub credit: f64,
    /// How it matched when not literally: "synonym k8s", "related: MySQL", "within Manhattan
    /// WMS", "work history", "cv text".
    pub via: Option<String>,
}

/// A job skill the candidate lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MissingSkill {
    /// The skill's canonical name (the job's own wording when the taxonomy lacks it).
    pub name: String,
    /// Whether the job requires it.
    pub required: bool,
}

/// Evaluates candidates against jobs; the built-in [`Matcher`] is one, an LLM service another.
pub trait Evaluator: Send + Sync {
    /// Stable name recorded in each evaluation's `evaluator`.
    fn name(&self) -> &str;
    /// Version of the scoring rules, recorded in each evaluation's `model_version`.
    fn model_version(&self) -> &str;
    /// Evaluates one candidate against one job; never panics.
    fn evaluate(&self, job: &JobSpec, candidate: &CandidateSpec) -> Evaluation;
}
