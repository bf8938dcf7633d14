//! The candidate profile in the JSON Resume shape (<https://jsonresume.org/schema>), plus the
//! derived `total_experience_years`. Keys keep JSON Resume's own spelling (`startDate`,
//! `studyType`, `countryCode`) so that JSON Resume files and tools work unchanged.
//!
//! Dates are partial ISO 8601 strings as JSON Resume has them: `"2020"`, `"2020-01"` or
//! `"2020-01-15"`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A structured CV.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub basics: Basics,
    #[serde(default)]
    pub work: Vec<Work>,
    #[serde(default)]
    pub education: Vec<Education>,
    #[serde(default)]
    pub skills: Vec<Skill>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// Years of work experience, overlapping jobs counted once; derived from `work`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_experience_years: Option<f64>,
}

/// Who the candidate is and how to reach them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Basics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A headline such as "Senior Backend Engineer".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// E.164 (`+447700900123`) when a country could be inferred, otherwise as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A personal site or portfolio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Profiles on other sites (LinkedIn, GitHub, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<SocialProfile>,
}

/// Where someone lives or a job was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `GB`.
    #[serde(
        default,
        rename = "countryCode",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(rename = "countryCode")]
    pub country_code: Option<String>,
    #[serde(
        default,
        rename = "postalCode",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(rename = "postalCode")]
    pub postal_code: Option<String>,
}

/// A profile on another site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SocialProfile {
    /// `LinkedIn`, `GitHub`, `GitLab`, `Stack Overflow`, `X`, …
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub url: String,
}

/// One position held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Work {
    /// The employer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, rename = "startDate", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "startDate")]
    pub start_date: Option<String>,
    /// Absent while the position is current.
    #[serde(default, rename = "endDate", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "endDate")]
    pub end_date: Option<String>,
    /// Whether the candidate still holds the position.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub current: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub highlights: Vec<String>,
}

/// One course of study.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    /// The field of study, e.g. "Computer Science".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The degree, e.g. "BSc", "MSc", "PhD".
    #[serde(default, rename = "studyType", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "studyType")]
    pub study_type: Option<String>,
    #[serde(default, rename = "startDate", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "startDate")]
    pub start_date: Option<String>,
    #[serde(default, rename = "endDate", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "endDate")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
}

/// A skill, named as the skills taxonomy names it where it knows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Years of use, when the CV says or the work history shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

/// A spoken language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Language {
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fluency: Option<String>,
}
