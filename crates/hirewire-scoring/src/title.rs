//! The title dimension: the job title against the candidate's headline and positions, by
//! role words (with synonyms such as developer ~ engineer) and seniority.

use hirewire_profile::Profile;

use crate::cv::CvIndex;
use crate::text::words;
use crate::{Evidence, EvidenceKind};

/// Seniority of a word: 0 intern … 5 head/director.
fn seniority_word(w: &str) -> Option<u8> {
    Some(match w {
        "intern" | "internship" | "trainee" | "apprentice" | "werkstudent" => 0,
        "junior" | "jr" | "graduate" | "entry" | "associate" => 1,
        "mid" | "intermediate" | "ii" => 2,
        "senior" | "sr" | "snr" | "iii" | "experienced" => 3,
        "lead" | "staff" | "principal" | "architect" => 4,
        "head" | "director" | "vp" | "chief" | "cto" => 5,
        _ => return None,
    })
}

/// The highest seniority a title states.
pub(crate) fn seniority_of(title: &str) -> Option<u8> {
    words(title).iter().filter_map(|w| seniority_word(w)).max()
}

/// Role words of a title, synonyms folded ("developer" → "engineer", "front end" → "frontend").
pub(crate) fn role_words(title: &str) -> Vec<String> {
    let ws = words(title);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i].as_str();
        let next = ws.get(i + 1).map(String::as_str);
        let joined = match (w, next) {
            ("front", Some("end")) => Some("frontend"),
            ("back", Some("end")) => Some("backend"),
            ("full", Some("stack")) => Some("fullstack"),
            ("dev", Some("ops")) => Some("devops"),
            ("machine", Some("learning")) => Some("ml"),
            ("data", Some("scientist")) => Some("datascientist"),
            _ => None,
        };
        if let Some(j) = joined {
            out.push(j.to_string());
            i += 2;
            continue;
        }
        i += 1;
        if seniority_word(w).is_some() {
            continue;
        }
        let mapped: &[&str] = match w {
            "developer" | "dev" | "programmer" | "coder" | "engineering" => &["engineer"],
            "swe" | "sde" => &["software", "engineer"],
            "sre" => &["reliability", "engineer"],
            "mgr" | "management" => &["manager"],
            "ui" | "ux" => &["design"],
            "designer" => &["design"],
            "analytics" => &["analyst"],
            "administrator" | "admin" | "sysadmin" => &["administrator"],
            "front-end" | "frontend" => &["frontend"],
            "back-end" | "backend" => &["backend"],
            "fullstack" | "full-stack" => &["fullstack"],
            "of" | "and" | "the" | "for" | "with" | "in" | "at" | "a" | "an" | "to" | "m" | "f"
            | "d" | "w" | "x" | "remote" | "hybrid" => &[],
            _ => {
                out.push(w.to_string());
                continue;
            }
        };
        out.extend(mapped.iter().map(|m| m.to_string()));
    }
    out.sort();
    out.dedup();
    out
}

/// Generic words say little about the role, so they weigh less.
fn word_weight(w: &str) -> f64 {
    match w {
        "engineer" | "specialist" | "consultant" | "professional" | "expert" | "officer" => 0.5,
        _ => 1.0,
    }
}

/// Weighted similarity of role words: mostly how much of the job title the candidate's covers.
pub(crate) fn similarity(job: &[String], cand: &[String]) -> f64 {
    let total = |ws: &[String]| ws.iter().map(|w| word_weight(w)).sum::<f64>();
    let (tj, tc) = (total(job), total(cand));
    if tj <= 0.0 || tc <= 0.0 {
        return 0.0;
    }
    let common: f64 = job
        .iter()
        .filter(|w| cand.contains(w))
        .map(|w| word_weight(w))
        .sum();
    0.75 * (common / tj) + 0.25 * (common / tc)
}

/// Roles whose CVs list the skills of the people they hire or the products they sell: such a
/// list is vocabulary, not evidence of hands-on work.
const VOCABULARY_ROLES: &[&[&str]] = &[
    &["recruiter"],
    &["recruitment"],
    &["recruiting"],
    &["sourcer"],
    &["headhunter"],
    &["talent", "acquisition"],
    &["account", "executive"],
    &["business", "development"],
];

/// The vocabulary role the candidate currently holds, unless the job is that kind of role too.
pub(crate) fn vocabulary_role(job_title: &str, profile: &Profile) -> Option<String> {
    let current = profile
        .work
        .first()
        .and_then(|w| w.position.as_deref())
        .or(profile.basics.label.as_deref())?;
    let has = |title: &str, role: &[&str]| {
        let ws = words(title);
        role.iter().all(|r| ws.iter().any(|w| w == r))
    };
    let holds = VOCABULARY_ROLES.iter().any(|r| has(current, r));
    let hires_one = VOCABULARY_ROLES.iter().any(|r| has(job_title, r));
    (holds && !hires_one).then(|| current.to_string())
}

/// The outcome of the title dimension.
pub(crate) struct TitleOutcome {
    pub(crate) score: f64,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) best_title: Option<String>,
}

/// Scores the title dimension.
pub(crate) fn score(job_title: &str, profile: &Profile, cv: Option<&CvIndex>) -> TitleOutcome {
    let job_words = role_words(job_title);
    let mut titles: Vec<(String, &str, f64)> = Vec::new();
    if let Some(l) = profile.basics.label.as_deref() {
        titles.push(("profile.basics.label".to_string(), l, 1.0));
    }
    for (i, w) in profile.work.iter().enumerate().take(8) {
        if let Some(p) = w.position.as_deref() {
            // Older positions say less about what the candidate does now.
            let recency = match i {
                0 => 1.0,
                1 => 0.85,
                2 => 0.75,
                _ => 0.65,
            };
            titles.push((format!("profile.work[{i}].position"), p, recency));
        }
    }
    if job_words.is_empty() || titles.is_empty() {
        let text = if titles.is_empty() {
            "No headline or positions to compare with the job title."
        } else {
            "The job title has no role words to compare."
        };
        return TitleOutcome {
            score: 0.4,
            evidence: vec![Evidence {
                kind: EvidenceKind::Info,
                text: text.to_string(),
                source: "profile.work".to_string(),
                line: None,
                excerpt: None,
            }],
            best_title: None,
        };
    }
    let mut best = (0.0, 0usize);
    for (k, (_, t, recency)) in titles.iter().enumerate() {
        let s = similarity(&job_words, &role_words(t)) * recency;
        if s > best.0 {
            best = (s, k);
        }
    }
    let (role, k) = best;
    // Seniority of the current title (headline or latest position).
    let job_level = seniority_of(job_title);
    let cand_level = titles.iter().find_map(|(_, t, _)| seniority_of(t));
    let level = match (job_level, cand_level) {
        (Some(j), Some(c)) => (1.0 - 0.25 * (j as f64 - c as f64).abs()).max(0.0),
        (Some(_), None) => 0.7,
        // A title without a seniority word is an individual-contributor role: a head or
        // director applying is a step down.
        (None, Some(c)) if c >= 4 => (1.0 - 0.25 * (c as f64 - 2.0)).max(0.0),
        _ => 1.0,
    };
    let score = (0.8 * role + 0.2 * level).clamp(0.0, 1.0);
    let (source, title, _) = &titles[k.min(titles.len() - 1)];
    let line = cv.and_then(|cv| cv.find(title));
    let kind = if role >= 0.85 {
        EvidenceKind::Match
    } else if role > 0.2 {
        EvidenceKind::Partial
    } else {
        EvidenceKind::Missing
    };
    let mut text = if role > 0.2 {
        format!("Title \"{title}\" is close to \"{job_title}\" (similarity {role:.2}).")
    } else {
        format!("No title resembles \"{job_title}\"; closest is \"{title}\".")
    };
    if let (Some(j), Some(c)) = (job_level, cand_level)
        && j != c
    {
        text.push_str(" Seniority differs.");
    }
    TitleOutcome {
        score,
        evidence: vec![Evidence {
            kind,
            text,
            source: source.clone(),
            excerpt: line.and_then(|l| cv?.excerpt(l)),
            line,
        }],
        best_title: (role > 0.2).then(|| title.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hirewire_profile::{Basics, Work};

    fn with_positions(ps: &[&str]) -> Profile {
        Profile {
            work: ps
                .iter()
                .map(|p| Work {
                    position: Some(p.to_string()),
                    ..Work::default()
                })
                .collect(),
            ..Profile::default()
        }
    }

    #[test]
    fn developer_is_engineer() {
        assert_eq!(
            role_words("Senior Back-end Developer"),
            ["backend", "engineer"]
        );
        let out = score(
            "Backend Engineer",
            &with_positions(&["Backend Developer"]),
            None,
        );
        assert!(out.score > 0.95, "{}", out.score);
    }

    #[test]
    fn unrelated_titles_score_low() {
        let out = score("Data Scientist", &with_positions(&["Sales Manager"]), None);
        assert!(out.score < 0.3, "{}", out.score);
    }

    #[test]
    fn seniority_matters_a_little() {
        let senior = score(
            "Senior Engineer",
            &with_positions(&["Senior Engineer"]),
            None,
        );
        let junior = score(
            "Senior Engineer",
            &with_positions(&["Junior Engineer"]),
            None,
        );
        assert!(senior.score > junior.score);
    }

    #[test]
    fn recruiters_are_not_practitioners() {
        let p = with_positions(&["Senior Technical Recruiter"]);
        assert!(vocabulary_role("Backend Engineer", &p).is_some());
        assert!(vocabulary_role("Recruitment Consultant", &p).is_none());
        assert!(vocabulary_role("Backend Engineer", &with_positions(&["Engineer"])).is_none());
    }

    #[test]
    fn headline_counts() {
        let p = Profile {
            basics: Basics {
                label: Some("Frontend Developer".into()),
                ..Basics::default()
            },
            ..Profile::default()
        };
        assert!(score("Front End Engineer", &p, None).score > 0.9);
    }
}
