//! The education dimension: deliberately simple and lightly weighted — degree level against
//! what the description asks, and whether the field is related.

use hirewire_profile::Profile;

use crate::cv::CvIndex;
use crate::text::{contains_word, words};
use crate::{Evidence, EvidenceKind, JobSpec};

/// Level of a degree name: 4 doctorate, 3 master, 2 bachelor, 1 associate/diploma.
fn level(s: &str) -> Option<u8> {
    let ws = words(s);
    let has = |xs: &[&str]| ws.iter().any(|w| xs.contains(&w.as_str()));
    let l = s.to_lowercase();
    if has(&["phd", "ph", "dphil", "doctorate", "doctor", "dr"]) || l.contains("ph.d") {
        Some(4)
    } else if has(&[
        "master", "masters", "msc", "ma", "mba", "meng", "mphil", "ms", "mres", "mtech", "m",
    ]) || l.contains("m.sc")
        || l.contains("master")
    {
        Some(3)
    } else if has(&[
        "bachelor",
        "bachelors",
        "bsc",
        "ba",
        "beng",
        "bs",
        "btech",
        "be",
        "licenciatura",
        "licence",
        "degree",
        "undergraduate",
        "b",
    ]) || l.contains("b.sc")
        || l.contains("bachelor")
    {
        Some(2)
    } else if has(&[
        "associate",
        "diploma",
        "hnd",
        "hnc",
        "foundation",
        "certificate",
    ]) {
        Some(1)
    } else {
        None
    }
}

/// Fields close to most technical jobs.
const TECH_FIELDS: &[&str] = &[
    "computer",
    "computing",
    "software",
    "informatics",
    "information",
    "mathematics",
    "math",
    "maths",
    "statistics",
    "physics",
    "electrical",
    "electronic",
    "electronics",
    "engineering",
    "data",
    "science",
    "technology",
];

/// The level the description asks for, if it says.
fn asked_level(description: &str) -> Option<u8> {
    let d = description.to_lowercase();
    if contains_word(&d, "phd") || d.contains("doctorate") {
        Some(4)
    } else if d.contains("master's") || contains_word(&d, "msc") || contains_word(&d, "masters") {
        Some(3)
    } else if d.contains("bachelor") || contains_word(&d, "degree") || contains_word(&d, "bsc") {
        Some(2)
    } else {
        None
    }
}

/// Scores the education dimension.
pub(crate) fn score(
    job: &JobSpec,
    profile: &Profile,
    cv: Option<&CvIndex>,
) -> (f64, Vec<Evidence>) {
    let asked = job.description.as_deref().and_then(asked_level);
    let mut best: Option<(u8, usize)> = None;
    for (i, e) in profile.education.iter().enumerate() {
        let l = e
            .study_type
            .as_deref()
            .and_then(level)
            .or_else(|| e.area.as_deref().and_then(level))
            .or_else(|| e.area.as_ref().map(|_| 2));
        if let Some(l) = l
            && best.is_none_or(|(b, _)| l > b)
        {
            best = Some((l, i));
        }
    }
    let Some((lvl, i)) = best else {
        let s = if asked.is_some() { 0.2 } else { 0.5 };
        return (
            s,
            vec![Evidence {
                kind: if asked.is_some() {
                    EvidenceKind::Missing
                } else {
                    EvidenceKind::Info
                },
                text: "No degree listed.".to_string(),
                source: "profile.education".to_string(),
                line: None,
                excerpt: None,
            }],
        );
    };
    let e = &profile.education[i];
    let area = e.area.as_deref().unwrap_or("");
    let job_words = words(&format!(
        "{} {}",
        job.title,
        job.description.as_deref().unwrap_or("")
    ));
    let area_words = words(area);
    let related = area_words
        .iter()
        .any(|w| w.len() > 3 && job_words.contains(w))
        || area_words.iter().any(|w| TECH_FIELDS.contains(&w.as_str()));
    let need = asked.unwrap_or(2);
    let base: f64 = if lvl >= need {
        0.8
    } else {
        0.8 - 0.2 * (need - lvl) as f64
    };
    let s = (base + if related { 0.2 } else { 0.0 }).clamp(0.0, 1.0);
    let degree = [e.study_type.as_deref(), e.area.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let line = e
        .institution
        .as_deref()
        .and_then(|n| cv?.find(n))
        .or_else(|| cv?.find(area));
    let kind = if s >= 0.99 {
        EvidenceKind::Match
    } else {
        EvidenceKind::Partial
    };
    let text = format!(
        "{}{}{}.",
        degree.trim(),
        if related { ", a related field" } else { "" },
        if lvl < need {
            ", below the level asked"
        } else {
            ""
        }
    );
    (
        s,
        vec![Evidence {
            kind,
            text,
            source: format!("profile.education[{i}]"),
            excerpt: line.and_then(|l| cv?.excerpt(l)),
            line,
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hirewire_profile::Education;

    fn with(study: &str, area: &str) -> Profile {
        Profile {
            education: vec![Education {
                study_type: Some(study.into()),
                area: Some(area.into()),
                ..Education::default()
            }],
            ..Profile::default()
        }
    }

    #[test]
    fn levels() {
        assert_eq!(level("PhD"), Some(4));
        assert_eq!(level("MSc"), Some(3));
        assert_eq!(level("Bachelor of Science"), Some(2));
        assert_eq!(level("HND"), Some(1));
    }

    #[test]
    fn related_degree_scores_full() {
        let job = JobSpec {
            title: "Backend Engineer".into(),
            ..JobSpec::default()
        };
        assert_eq!(score(&job, &with("BSc", "Computer Science"), None).0, 1.0);
        assert!(score(&job, &with("BA", "History"), None).0 < 1.0);
        assert!(score(&job, &Profile::default(), None).0 <= 0.5);
    }
}
