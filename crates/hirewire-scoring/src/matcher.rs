//! The built-in evaluator: combines the five dimensions, caps candidates who miss a required
//! skill, and writes the rationale and confidence from the evidence.

use hirewire_taxonomy::{Mode, Taxonomy};

use crate::cv::CvIndex;
use crate::skills::{CandidateSkills, SkillsOutcome};
use crate::text::fmt_years;
use crate::{
    Band, CandidateSpec, Dimension, Evaluation, Evaluator, Evidence, EvidenceKind, JobSpec, dates,
    education, experience, location, skills, title,
};

/// Name recorded in `Evaluation::evaluator`.
const NAME: &str = "builtin-matcher";
/// Bump whenever a rule or constant changes a score, so stored evaluations can be told apart.
const MODEL_VERSION: &str = "matcher-1.0.0";
/// Highest score a candidate missing a required skill may get: never green.
const MISSING_REQUIRED_CAP: f64 = 84.0;
/// Share of the skills dimension kept when the candidate recruits for or sells the skills.
const VOCABULARY_DISCOUNT: f64 = 0.5;
/// What a hopeless location leaves of the overall score.
const LOCATION_GATE: f64 = 0.75;

/// The built-in, network-free evaluator; durations are measured against `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matcher {
    as_of: (i32, u32),
}

impl Matcher {
    /// A matcher measuring open-ended positions up to `as_of` (year, month 1–12).
    pub fn new(as_of: (i32, u32)) -> Matcher {
        // Build the taxonomy's text matcher now, not during the first evaluation.
        let _ = Taxonomy::global().find_in_text("", Mode::List);
        Matcher {
            as_of: (as_of.0, as_of.1.clamp(1, 12)),
        }
    }

    /// The month durations are measured against.
    pub fn as_of(&self) -> (i32, u32) {
        self.as_of
    }
}

impl Evaluator for Matcher {
    fn name(&self) -> &str {
        NAME
    }

    fn model_version(&self) -> &str {
        MODEL_VERSION
    }

    fn evaluate(&self, job: &JobSpec, candidate: &CandidateSpec) -> Evaluation {
        let profile = candidate.profile;
        let now = dates::now_index(self.as_of);
        let cv = candidate
            .cv_text
            .filter(|t| !t.trim().is_empty())
            .map(CvIndex::new);
        let cv = cv.as_ref();

        let cand = CandidateSkills::gather(profile, cv, now);
        let mut sk = skills::score(job, &cand, cv);
        if let Some(role) = title::vocabulary_role(&job.title, profile) {
            sk.score *= VOCABULARY_DISCOUNT;
            sk.evidence.push(Evidence {
                kind: EvidenceKind::Info,
                text: format!(
                    "Current role \"{role}\" recruits for or sells these skills; the listed skills may describe that work rather than hands-on use, so they count half."
                ),
                source: "profile.work[0].position".to_string(),
                line: None,
                excerpt: None,
            });
        }
        let ex = experience::score(job, profile, cv, now);
        let ti = title::score(&job.title, profile, cv);
        let lo = location::score(job, profile, cv);
        let (ed_score, ed_evidence) = education::score(job, profile, cv);

        let mut w = job.weights.unwrap_or_default().normalized();
        // A dimension the job gives no information on must not dilute the others.
        if !sk.informative {
            w.skills = 0.0;
        }
        if !lo.informative {
            w.location = 0.0;
        }
        let w = w.normalized();

        let finite = |x: f64| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let round4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
        let dims = [
            ("skills", sk.score, w.skills, sk.evidence.clone()),
            ("experience", ex.score, w.experience, ex.evidence.clone()),
            ("title", ti.score, w.title, ti.evidence.clone()),
            ("location", lo.score, w.location, lo.evidence.clone()),
            ("education", ed_score, w.education, ed_evidence),
        ];
        let total: f64 = dims.iter().map(|(_, s, w, _)| finite(*s) * w).sum();
        // Location is a constraint more than a preference: far from an on-site job, a great
        // profile is still a long shot, whatever weight the dimension carries.
        let gate = if lo.informative {
            LOCATION_GATE + (1.0 - LOCATION_GATE) * finite(lo.score)
        } else {
            1.0
        };
        let mut score = (finite(total) * gate * 100.0).round();
        if sk.required_matched < sk.required_total {
            score = score.min(MISSING_REQUIRED_CAP);
        }
        let score = score.clamp(0.0, 100.0) as u8;
        let dimensions: Vec<Dimension> = dims
            .into_iter()
            .map(|(name, s, w, evidence)| Dimension {
                name: name.to_string(),
                score: round4(finite(s)),
                weight: round4(w),
                evidence,
            })
            .collect();

        let confidence = confidence(candidate, &cand, &sk, &ex, lo.unknown, cv.is_some());
        let rationale = rationale(&sk, &ex, &lo, ti.best_title.as_deref());
        Evaluation {
            score,
            band: Band::of(score),
            dimensions,
            matched_skills: sk.matched,
            missing_skills: sk.missing,
            rationale,
            confidence,
            evaluator: NAME.to_string(),
            model_version: MODEL_VERSION.to_string(),
        }
    }
}

/// How far the evaluation can be trusted: thin profiles, missing dates, no CV to check
/// against and skills seen only in prose all lower it.
fn confidence(
    candidate: &CandidateSpec,
    cand: &CandidateSkills,
    sk: &SkillsOutcome,
    ex: &experience::ExperienceOutcome,
    location_unknown: bool,
    has_cv: bool,
) -> f64 {
    let p = candidate.profile;
    let mut c: f64 = 1.0;
    if p.work.is_empty() {
        c -= 0.25;
        // Nothing at all backs the listed skills: no history and no CV text to read.
        if !has_cv {
            c -= 0.15;
        }
    } else if !ex.dated {
        c -= 0.15;
    }
    match cand.listed_count() {
        0 => c -= 0.2,
        1..=2 => c -= 0.1,
        _ => {}
    }
    if !candidate.parsed && !has_cv {
        c -= 0.15;
    } else if !has_cv {
        c -= 0.05;
    }
    let matched = sk.matched.len();
    if matched > 0 && sk.inferred * 2 > matched {
        c -= 0.1;
    }
    if !sk.informative {
        c -= 0.2;
    } else if sk.from_description {
        c -= 0.1;
    }
    if location_unknown {
        c -= 0.05;
    }
    (c.clamp(0.05, 1.0) * 100.0).round() / 100.0
}

/// Two or three sentences from the evidence: skills, experience, location.
fn rationale(
    sk: &SkillsOutcome,
    ex: &experience::ExperienceOutcome,
    lo: &location::LocationOutcome,
    best_title: Option<&str>,
) -> String {
    let mut out = Vec::new();
    let vias: Vec<String> = sk
        .matched
        .iter()
        .filter_map(|m| {
            let v = m.via.as_deref()?;
            v.strip_prefix("synonym ")
                .map(|syn| format!("{} via {syn}", m.name))
        })
        .take(3)
        .collect();
    let missing_req: Vec<&str> = sk
        .missing
        .iter()
        .filter(|m| m.required)
        .map(|m| m.name.as_str())
        .collect();
    if sk.required_total > 0 {
        let mut s = format!(
            "Matches {} of {} required skills",
            sk.required_matched, sk.required_total
        );
        if !vias.is_empty() {
            s.push_str(&format!(" ({})", vias.join(", ")));
        }
        let pref_total = (sk.matched.len() + sk.missing.len()).saturating_sub(sk.required_total);
        if pref_total > 0 {
            let pref = sk.matched.iter().filter(|m| !m.required).count();
            s.push_str(&format!(" and {pref} of {pref_total} preferred"));
        }
        if !sk.required_partial.is_empty() {
            let partial: Vec<&str> = sk.required_partial.iter().map(String::as_str).collect();
            s.push_str(&format!("; only related skills for {}", list(&partial)));
        }
        if missing_req.is_empty() {
            s.push('.');
        } else {
            s.push_str(&format!("; missing {}.", list(&missing_req)));
        }
        out.push(s);
    } else if sk.informative {
        let n = sk.matched.len() + sk.missing.len();
        let mut s = format!("Matches {} of {} skills", sk.matched.len(), n);
        if !vias.is_empty() {
            s.push_str(&format!(" ({})", vias.join(", ")));
        }
        if sk.from_description {
            s.push_str(" named in the description");
        }
        s.push('.');
        out.push(s);
    } else {
        out.push("The job lists no skills to match.".to_string());
    }
    out.push(match (ex.years, ex.min) {
        (Some(y), Some(m)) if m > 0.0 => {
            let mut s = format!(
                "{} years of experience against {} required",
                fmt_years(y),
                fmt_years(m)
            );
            if let Some(t) = best_title {
                s.push_str(&format!(", as {t}"));
            }
            s.push('.');
            s
        }
        (Some(y), _) => match best_title {
            Some(t) => format!("{} years of experience, as {t}.", fmt_years(y)),
            None => format!("{} years of experience.", fmt_years(y)),
        },
        (None, _) => "Experience could not be measured: no dated positions.".to_string(),
    });
    if !lo.summary.is_empty() {
        out.push(lo.summary.clone());
    }
    out.join(" ")
}

/// "A", "A and B", "A, B and C".
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [a] => a.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobSkillSpec, RemoteKind, Weights};
    use hirewire_profile::{Basics, Location, Profile, Skill, Work};

    fn job() -> JobSpec {
        JobSpec {
            title: "Senior Backend Engineer".into(),
            skills: ["k8s", "Go", "PostgreSQL", "Terraform"]
                .iter()
                .map(|n| JobSkillSpec {
                    name: n.to_string(),
                    required: *n != "Terraform",
                    weight: 1.0,
                    min_years: None,
                })
                .collect(),
            min_experience_years: Some(5.0),
            city: Some("London".into()),
            country: Some("GB".into()),
            remote_type: Some(RemoteKind::Hybrid),
            ..JobSpec::default()
        }
    }

    fn profile() -> Profile {
        Profile {
            basics: Basics {
                label: Some("Backend Developer".into()),
                location: Some(Location {
                    city: Some("London".into()),
                    country_code: Some("GB".into()),
                    ..Location::default()
                }),
                ..Basics::default()
            },
            work: vec![Work {
                position: Some("Senior Backend Engineer".into()),
                start_date: Some("2017-01".into()),
                highlights: vec!["Ran MySQL on Kubernetes".into()],
                ..Work::default()
            }],
            skills: ["Kubernetes", "Golang"]
                .iter()
                .map(|n| Skill {
                    name: n.to_string(),
                    ..Skill::default()
                })
                .collect(),
            ..Profile::default()
        }
    }

    #[test]
    fn explains_synonyms_related_and_missing() {
        let p = profile();
        let cv = "Jane Doe\nSkills: Kubernetes, Golang\nSenior Backend Engineer, Acme, 2017–now\nRan MySQL on Kubernetes";
        let m = Matcher::new((2024, 6));
        let e = m.evaluate(
            &job(),
            &CandidateSpec {
                profile: &p,
                cv_text: Some(cv),
                parsed: true,
            },
        );
        let k8s = e
            .matched_skills
            .iter()
            .find(|s| s.name == "Kubernetes")
            .unwrap();
        assert_eq!(k8s.via.as_deref(), Some("synonym k8s"));
        let pg = e
            .matched_skills
            .iter()
            .find(|s| s.name == "PostgreSQL")
            .unwrap();
        assert!(
            pg.via.as_deref().unwrap().starts_with("related: MySQL"),
            "{pg:?}"
        );
        assert!(
            e.rationale
                .contains("only related skills for PostgreSQL (MySQL)"),
            "{}",
            e.rationale
        );
        assert!(
            e.missing_skills
                .iter()
                .any(|s| s.name == "Terraform" && !s.required)
        );
        let skills = &e.dimensions[0];
        let ev = skills
            .evidence
            .iter()
            .find(|e| e.text.starts_with("Kubernetes"))
            .unwrap();
        assert_eq!(ev.line, Some(2));
        assert!(
            e.rationale.contains("Kubernetes via k8s"),
            "{}",
            e.rationale
        );
        assert!(e.rationale.contains("London"), "{}", e.rationale);
        assert_eq!(e.evaluator, "builtin-matcher");
        assert!(e.confidence > 0.5);
    }

    #[test]
    fn missing_required_is_never_green() {
        let mut j = job();
        j.skills.push(JobSkillSpec {
            name: "COBOL".into(),
            required: true,
            weight: 1.0,
            min_years: None,
        });
        let p = profile();
        let e = Matcher::new((2024, 6)).evaluate(
            &j,
            &CandidateSpec {
                profile: &p,
                cv_text: None,
                parsed: false,
            },
        );
        assert!(e.score <= 84);
        assert!(e.rationale.contains("COBOL"), "{}", e.rationale);
    }

    #[test]
    fn thin_profiles_are_less_confident() {
        let empty = Profile::default();
        let m = Matcher::new((2024, 6));
        let thin = m.evaluate(
            &job(),
            &CandidateSpec {
                profile: &empty,
                cv_text: None,
                parsed: false,
            },
        );
        let p = profile();
        let rich = m.evaluate(
            &job(),
            &CandidateSpec {
                profile: &p,
                cv_text: Some("Kubernetes"),
                parsed: true,
            },
        );
        assert!(thin.confidence < 0.5, "{}", thin.confidence);
        assert!(rich.confidence > thin.confidence);
    }

    #[test]
    fn weights_are_per_job_and_normalised() {
        let mut j = job();
        j.weights = Some(Weights {
            skills: 1.0,
            experience: 0.0,
            title: 0.0,
            location: 0.0,
            education: f64::NAN,
        });
        let p = profile();
        let e = Matcher::new((2024, 6)).evaluate(
            &j,
            &CandidateSpec {
                profile: &p,
                cv_text: None,
                parsed: true,
            },
        );
        assert_eq!(e.dimensions[0].weight, 1.0);
        assert_eq!(e.dimensions[4].weight, 0.0);
    }
}
