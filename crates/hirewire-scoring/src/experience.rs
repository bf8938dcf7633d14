//! The experience dimension: total years (overlapping positions once) against the minimum.

use hirewire_profile::Profile;

use crate::cv::CvIndex;
use crate::dates;
use crate::text::{fmt_years, sane_years};
use crate::title::seniority_of;
use crate::{Evidence, EvidenceKind, JobSpec};

/// The outcome of the experience dimension.
pub(crate) struct ExperienceOutcome {
    pub(crate) score: f64,
    pub(crate) evidence: Vec<Evidence>,
    /// Years of experience, when known.
    pub(crate) years: Option<f64>,
    /// The minimum asked (or inferred from the title's seniority).
    pub(crate) min: Option<f64>,
    /// Whether any position carries a usable start date.
    pub(crate) dated: bool,
}

/// Beyond both this multiple of the minimum and this margin over it, a candidate is likely
/// overqualified: recruiters rank them a little below a close fit.
const OVER_RATIO: f64 = 3.0;
const OVER_MARGIN: f64 = 12.0;
/// Experience score of an overqualified candidate.
const OVER_SCORE: f64 = 0.8;

/// Years a seniority word implies when the job states no minimum.
fn implied_min(title: &str) -> Option<f64> {
    match seniority_of(title)? {
        0 => Some(0.0),
        1 => Some(0.0),
        2 => Some(2.0),
        3 => Some(5.0),
        4 => Some(7.0),
        _ => Some(8.0),
    }
}

/// Score for `years` against a minimum: full at the minimum, graceful just below, steeper far
/// below, because a little short is often fine and far short rarely is.
pub(crate) fn curve(years: f64, min: f64) -> f64 {
    if min <= 0.0 || years >= min {
        return 1.0;
    }
    let r = (years / min).clamp(0.0, 1.0);
    if r >= 0.5 { 0.4 + 0.6 * r } else { 1.4 * r }
}

/// Scores the experience dimension.
pub(crate) fn score(
    job: &JobSpec,
    profile: &Profile,
    cv: Option<&CvIndex>,
    now: i64,
) -> ExperienceOutcome {
    let mut spans = Vec::new();
    let mut earliest: Option<(i64, usize)> = None;
    for (i, w) in profile.work.iter().enumerate() {
        if let Some(iv) = dates::interval(w.start_date.as_deref(), w.end_date.as_deref(), now) {
            spans.push(iv);
            if earliest.is_none_or(|(a, _)| iv.0 < a) {
                earliest = Some((iv.0, i));
            }
        }
    }
    let dated = !spans.is_empty();
    let years = if dated {
        Some(dates::union_years(&mut spans))
    } else {
        sane_years(profile.total_experience_years)
    };
    let stated = sane_years(job.min_experience_years);
    let min = stated.or_else(|| implied_min(&job.title));
    let (source, line) = match earliest {
        Some((_, i)) => {
            let line = profile
                .work
                .get(i)
                .and_then(|w| w.position.as_deref().or(w.name.as_deref()))
                .and_then(|p| cv?.find(p));
            (format!("profile.work[{i}].startDate"), line)
        }
        None => ("profile.total_experience_years".to_string(), None),
    };
    let excerpt = line.and_then(|l| cv?.excerpt(l));
    let asked = match (stated, min) {
        (Some(m), _) => format!("{} required", fmt_years(m)),
        (None, Some(m)) => format!("about {} implied by the title", fmt_years(m)),
        (None, None) => String::new(),
    };
    let Some(years) = years else {
        return ExperienceOutcome {
            score: 0.4,
            evidence: vec![Evidence {
                kind: EvidenceKind::Info,
                text: "Years of experience unknown: no dated positions.".to_string(),
                source: "profile.work".to_string(),
                line: None,
                excerpt: None,
            }],
            years: None,
            min,
            dated,
        };
    };
    let (score, kind, text) = match min {
        Some(m) if m > 0.0 && years > (m * OVER_RATIO).max(m + OVER_MARGIN) => (
            OVER_SCORE,
            EvidenceKind::Partial,
            format!(
                "{} years of experience against {asked}: far more than asked, the role may be a step down.",
                fmt_years(years)
            ),
        ),
        Some(m) if m > 0.0 => {
            let s = curve(years, m);
            let kind = if years >= m {
                EvidenceKind::Match
            } else {
                EvidenceKind::Partial
            };
            (
                s,
                kind,
                format!("{} years of experience against {asked}.", fmt_years(years)),
            )
        }
        _ => {
            // No minimum: some experience still beats none, but gently.
            let s = 0.7 + 0.3 * (years / 3.0).min(1.0);
            let text = if asked.is_empty() {
                format!(
                    "{} years of experience; no minimum stated.",
                    fmt_years(years)
                )
            } else {
                format!("{} years of experience against {asked}.", fmt_years(years))
            };
            (s, EvidenceKind::Info, text)
        }
    };
    ExperienceOutcome {
        score,
        evidence: vec![Evidence {
            kind,
            text,
            source,
            line,
            excerpt,
        }],
        years: Some(years),
        min,
        dated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hirewire_profile::Work;

    fn profile(ranges: &[(&str, Option<&str>)]) -> Profile {
        Profile {
            work: ranges
                .iter()
                .map(|(s, e)| Work {
                    start_date: Some(s.to_string()),
                    end_date: e.map(str::to_string),
                    ..Work::default()
                })
                .collect(),
            ..Profile::default()
        }
    }

    #[test]
    fn full_at_minimum_graceful_below() {
        assert_eq!(curve(6.0, 5.0), 1.0);
        assert!((curve(4.0, 5.0) - 0.88).abs() < 1e-9);
        assert!(curve(1.0, 5.0) < 0.3);
        assert_eq!(curve(0.0, 0.0), 1.0);
    }

    #[test]
    fn years_from_dates_against_min() {
        let job = JobSpec {
            title: "Engineer".into(),
            min_experience_years: Some(5.0),
            ..JobSpec::default()
        };
        let p = profile(&[("2018-01", Some("2020-12")), ("2020-06", None)]);
        let out = score(&job, &p, None, dates::now_index((2024, 12)));
        assert_eq!(out.years, Some(7.0));
        assert_eq!(out.score, 1.0);
        assert!(out.evidence[0].text.contains("7 years"));
    }

    #[test]
    fn seniority_implies_a_minimum() {
        let job = JobSpec {
            title: "Senior Engineer".into(),
            ..JobSpec::default()
        };
        let p = profile(&[("2022-01", None)]);
        let out = score(&job, &p, None, dates::now_index((2024, 1)));
        assert_eq!(out.min, Some(5.0));
        assert!(out.score < 0.6);
    }

    #[test]
    fn far_above_is_a_little_less() {
        let job = JobSpec {
            title: "Engineer".into(),
            min_experience_years: Some(4.0),
            ..JobSpec::default()
        };
        let p = profile(&[("1998-01", None)]);
        let out = score(&job, &p, None, dates::now_index((2024, 1)));
        assert_eq!(out.score, OVER_SCORE);
    }

    #[test]
    fn undated_is_unknown() {
        let out = score(&JobSpec::default(), &Profile::default(), None, 0);
        assert_eq!(out.years, None);
        assert!(!out.dated);
    }
}
