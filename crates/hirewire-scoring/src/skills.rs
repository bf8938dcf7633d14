//! The skills dimension: job skills against the candidate's listed skills, work history and
//! CV text, normalised through the taxonomy, with partial credit for related skills.

use hirewire_profile::Profile;
use hirewire_taxonomy::{Mode, SkillId, Taxonomy};

use crate::cv::CvIndex;
use crate::dates;
use crate::text::{contains_phrase, excerpt, fmt_years, sane_years, simple_fold, stems};
use crate::{Evidence, EvidenceKind, JobSpec, MissingSkill, SkillMatch};

/// Credit for a skill the candidate lists.
const LISTED: f64 = 1.0;
/// Credit for a skill shown in the work history, or listed only inside a longer name
/// ("Manhattan WMS"): real use, but not claimed as such.
const WORKED: f64 = 0.9;
/// Credit for a skill only mentioned in the CV text: spotting in prose is less certain.
const MENTIONED: f64 = 0.8;
/// Share of the taxonomy's relatedness given as credit for a related skill.
const RELATED_SHARE: f64 = 0.5;
/// Below this a skill counts as missing: a same-category sibling alone (0.125) is not enough.
const MATCHED_AT: f64 = 0.2;
/// What one missing required skill leaves of the skills dimension; compounding, so that
/// several gaps sink a candidate however many preferred skills they have.
const REQUIRED_FLOOR: f64 = 0.6;
/// How much of a work-history text the evidence quotes.
const QUOTE: usize = 100;
/// Required skills weigh this much more than preferred ones.
const REQUIRED_BOOST: f64 = 2.0;

/// Where a candidate skill was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    /// In `profile.skills` (or their keywords).
    Listed,
    /// In a position, summary or highlight of the work history.
    Work,
    /// Only in the CV text.
    Text,
}

/// One place a candidate skill was seen.
#[derive(Debug, Clone)]
struct Mention {
    id: Option<SkillId>,
    /// Folded name, to compare skills the taxonomy does not know.
    key: String,
    /// As the candidate wrote it.
    raw: String,
    origin: Origin,
    source: String,
    line: Option<u32>,
    years: Option<f64>,
    /// Found inside a longer listed name rather than listed as itself.
    inner: bool,
    /// The work-history text it was seen in, quoted in the evidence when there is no CV line.
    quote: Option<String>,
}

/// A piece of candidate text, stemmed, for phrases the taxonomy does not resolve.
struct Passage {
    origin: Origin,
    source: String,
    raw: String,
    line: Option<u32>,
    years: Option<f64>,
    stems: Vec<u64>,
    /// Folded `raw`, for listed names only (prefix matches).
    folded: String,
}

/// What the candidate shows, gathered once per evaluation.
pub(crate) struct CandidateSkills {
    mentions: Vec<Mention>,
    /// Listed names, work texts and CV lines, stemmed.
    passages: Vec<Passage>,
}

/// The outcome of the skills dimension.
pub(crate) struct SkillsOutcome {
    pub(crate) score: f64,
    /// False when the job names no skills and none could be inferred: no information.
    pub(crate) informative: bool,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) matched: Vec<SkillMatch>,
    pub(crate) missing: Vec<MissingSkill>,
    /// Required skills: how many, how many matched.
    pub(crate) required_total: usize,
    pub(crate) required_matched: usize,
    /// Required skills met only through a related skill.
    pub(crate) required_partial: Vec<String>,
    /// Matched skills whose best evidence is only a mention, not a listed skill.
    pub(crate) inferred: usize,
    /// Whether the skills were inferred from the description.
    pub(crate) from_description: bool,
}

/// Work positions that mention each skill, for years per skill.
fn work_texts(profile: &Profile) -> impl Iterator<Item = (usize, String, &str)> {
    profile.work.iter().enumerate().flat_map(|(i, w)| {
        let pos = w
            .position
            .as_deref()
            .map(|p| (i, format!("profile.work[{i}].position"), p));
        let sum = w
            .summary
            .as_deref()
            .map(|s| (i, format!("profile.work[{i}].summary"), s));
        let hl = w
            .highlights
            .iter()
            .enumerate()
            .map(move |(j, h)| (i, format!("profile.work[{i}].highlights[{j}]"), h.as_str()));
        pos.into_iter().chain(sum).chain(hl)
    })
}

impl CandidateSkills {
    /// Collects every skill the profile and the CV text show.
    pub(crate) fn gather(profile: &Profile, cv: Option<&CvIndex>, now: i64) -> CandidateSkills {
        let tax = Taxonomy::global();
        let mut mentions = Vec::new();

        // Years per skill from the positions that mention it, overlapping jobs once.
        let mut work_hits: Vec<(SkillId, usize, String, String)> = Vec::new();
        let mut passages: Vec<Passage> = Vec::new();
        for (i, source, text) in work_texts(profile) {
            let years = profile.work.get(i).and_then(|w| {
                let iv = dates::interval(w.start_date.as_deref(), w.end_date.as_deref(), now)?;
                Some((iv.1 - iv.0) as f64 / 12.0)
            });
            passages.push(Passage {
                origin: Origin::Work,
                source: source.clone(),
                raw: text.to_string(),
                line: None,
                years,
                stems: stems(text),
                folded: String::new(),
            });
            for m in tax.find_in_text(text, Mode::Prose) {
                if !work_hits
                    .iter()
                    .any(|(id, w, _, _)| *id == m.skill && *w == i)
                {
                    work_hits.push((m.skill, i, source.clone(), excerpt(text, QUOTE)));
                }
            }
        }
        let derived_years = |id: SkillId| -> Option<f64> {
            let mut spans: Vec<(i64, i64)> = work_hits
                .iter()
                .filter(|(s, _, _, _)| *s == id)
                .filter_map(|(_, w, _, _)| {
                    let w = profile.work.get(*w)?;
                    dates::interval(w.start_date.as_deref(), w.end_date.as_deref(), now)
                })
                .collect();
            (!spans.is_empty()).then(|| dates::union_years(&mut spans))
        };

        for (i, s) in profile.skills.iter().enumerate() {
            let names = std::iter::once((format!("profile.skills[{i}]"), s.name.as_str())).chain(
                s.keywords.iter().enumerate().map(move |(k, kw)| {
                    (format!("profile.skills[{i}].keywords[{k}]"), kw.as_str())
                }),
            );
            for (source, raw) in names {
                let key = simple_fold(raw);
                if key.is_empty() {
                    continue;
                }
                let id = tax.normalize(raw).map(|s| s.id);
                let years = sane_years(s.years).or_else(|| id.and_then(derived_years));
                // Lines are looked up only for the evidence that is shown (see `locate`).
                let line = None;
                if id.is_none() {
                    // "Manhattan WMS", "Embedded C": a known skill inside an unknown name.
                    for m in tax.find_in_text(raw, Mode::List) {
                        mentions.push(Mention {
                            id: Some(m.skill),
                            key: simple_fold(raw.get(m.start..m.end).unwrap_or_default()),
                            raw: raw.trim().to_string(),
                            origin: Origin::Listed,
                            source: source.clone(),
                            line,
                            years: sane_years(s.years).or_else(|| derived_years(m.skill)),
                            inner: true,
                            quote: None,
                        });
                    }
                }
                passages.push(Passage {
                    origin: Origin::Listed,
                    source: source.clone(),
                    raw: raw.trim().to_string(),
                    line,
                    years,
                    stems: stems(raw),
                    folded: simple_fold(raw),
                });
                mentions.push(Mention {
                    id,
                    key,
                    raw: raw.trim().to_string(),
                    origin: Origin::Listed,
                    line,
                    source,
                    years,
                    inner: false,
                    quote: None,
                });
            }
        }
        // Spoken languages are skills a job may require ("Portuguese", "English").
        for (i, l) in profile.languages.iter().enumerate() {
            let raw = l.language.trim();
            let key = simple_fold(raw);
            if key.is_empty() {
                continue;
            }
            let source = format!("profile.languages[{i}]");
            passages.push(Passage {
                origin: Origin::Listed,
                source: source.clone(),
                raw: raw.to_string(),
                line: None,
                years: None,
                stems: stems(raw),
                folded: key.clone(),
            });
            mentions.push(Mention {
                id: tax.normalize(raw).map(|s| s.id),
                key,
                raw: raw.to_string(),
                origin: Origin::Listed,
                source,
                line: None,
                years: None,
                inner: false,
                quote: None,
            });
        }
        for (id, _, source, quote) in &work_hits {
            if mentions
                .iter()
                .any(|m| m.id == Some(*id) && m.origin == Origin::Work)
            {
                continue;
            }
            let Some(skill) = tax.get(*id) else { continue };
            mentions.push(Mention {
                id: Some(*id),
                key: simple_fold(skill.name),
                raw: skill.name.to_string(),
                origin: Origin::Work,
                source: source.clone(),
                line: None,
                years: derived_years(*id),
                inner: false,
                quote: Some(quote.clone()),
            });
        }
        if let Some(cv) = cv {
            let mut found: Vec<(SkillId, usize, usize)> = tax
                .find_in_text(cv.text, Mode::Prose)
                .iter()
                .map(|m| (m.skill, m.start, m.end))
                .collect();
            // Skills lines are lists: short names ("Go", "R") count there.
            for line in 1..=cv.line_count() as u32 {
                if !cv.is_list_line(line) {
                    continue;
                }
                let Some((a, b)) = cv.line_range(line) else {
                    continue;
                };
                let Some(text) = cv.text.get(a..b) else {
                    continue;
                };
                found.extend(
                    tax.find_in_text(text, Mode::List)
                        .iter()
                        .map(|m| (m.skill, a + m.start, a + m.end)),
                );
            }
            found.sort_by_key(|&(_, start, _)| start);
            for (id, start, end) in found {
                if mentions
                    .iter()
                    .any(|m| m.id == Some(id) && m.origin == Origin::Text)
                {
                    continue;
                }
                let raw = cv.text.get(start..end).unwrap_or_default();
                mentions.push(Mention {
                    id: Some(id),
                    key: simple_fold(raw),
                    raw: raw.to_string(),
                    origin: Origin::Text,
                    source: "cv".to_string(),
                    line: Some(cv.line_of_offset(start)),
                    years: derived_years(id),
                    inner: false,
                    quote: None,
                });
            }
        }
        if let Some(cv) = cv {
            for (i, line) in cv.text.split('\n').enumerate() {
                let st = stems(line);
                if !st.is_empty() {
                    passages.push(Passage {
                        origin: Origin::Text,
                        source: "cv".to_string(),
                        raw: line.to_string(),
                        line: Some(i as u32 + 1),
                        years: None,
                        stems: st,
                        folded: String::new(),
                    });
                }
            }
        }
        for (source, text) in [
            ("profile.basics.label", profile.basics.label.as_deref()),
            ("profile.basics.summary", profile.basics.summary.as_deref()),
        ] {
            if let Some(text) = text {
                passages.push(Passage {
                    origin: Origin::Text,
                    source: source.to_string(),
                    raw: text.to_string(),
                    line: None,
                    years: None,
                    stems: stems(text),
                    folded: String::new(),
                });
            }
        }
        CandidateSkills { mentions, passages }
    }

    /// How many distinct skills the candidate lists.
    pub(crate) fn listed_count(&self) -> usize {
        self.mentions
            .iter()
            .filter(|m| m.origin == Origin::Listed)
            .count()
    }
}

/// A job skill to score, from the job's list or inferred from its description.
struct Wanted {
    raw: String,
    required: bool,
    weight: f64,
    min_years: Option<f64>,
}

/// The best way the candidate meets one job skill.
struct Best {
    credit: f64,
    mention: Option<Mention>,
    related: bool,
    years_short: Option<(f64, f64)>,
    years_unknown: bool,
}

/// Scores the skills dimension.
pub(crate) fn score(job: &JobSpec, cand: &CandidateSkills, cv: Option<&CvIndex>) -> SkillsOutcome {
    let tax = Taxonomy::global();
    let mut from_description = false;
    let mut wanted: Vec<Wanted> = job
        .skills
        .iter()
        .filter(|s| !s.name.trim().is_empty())
        .map(|s| Wanted {
            raw: s.name.trim().to_string(),
            required: s.required,
            weight: if s.weight.is_finite() {
                s.weight.clamp(0.0, 10.0)
            } else {
                1.0
            },
            min_years: sane_years(s.min_years).filter(|&y| y > 0.0),
        })
        .collect();
    if wanted.is_empty() {
        // A job without structured skills still says what it wants in its description.
        let text = format!(
            "{}\n{}",
            job.title,
            job.description.as_deref().unwrap_or("")
        );
        let mut seen: Vec<SkillId> = Vec::new();
        for m in tax.find_in_text(&text, Mode::Prose) {
            if seen.contains(&m.skill) {
                continue;
            }
            seen.push(m.skill);
            if let Some(s) = tax.get(m.skill) {
                wanted.push(Wanted {
                    raw: s.name.to_string(),
                    required: false,
                    weight: 1.0,
                    min_years: None,
                });
            }
        }
        from_description = !wanted.is_empty();
    }
    // Zero weights everywhere would make a 0/0; then every skill counts the same.
    if wanted.iter().all(|w| w.weight <= 0.0) {
        for w in &mut wanted {
            w.weight = 1.0;
        }
    }

    let mut out = SkillsOutcome {
        score: 0.5,
        informative: !wanted.is_empty(),
        evidence: Vec::new(),
        matched: Vec::new(),
        missing: Vec::new(),
        required_total: wanted.iter().filter(|w| w.required).count(),
        required_matched: 0,
        required_partial: Vec::new(),
        inferred: 0,
        from_description,
    };
    if wanted.is_empty() {
        out.evidence.push(info(
            "The job lists no skills and its description names none; skills not scored.",
            "job",
        ));
        return out;
    }
    if from_description {
        out.evidence.push(info(
            &format!(
                "The job lists no skills; {} taken from its description as preferred.",
                wanted.len()
            ),
            "job.description",
        ));
    }

    let (mut num, mut den, mut penalty) = (0.0, 0.0, 1.0);
    for w in &wanted {
        let job_skill = tax.normalize(&w.raw);
        let job_id = job_skill.map(|s| s.id);
        let name = job_skill.map_or(w.raw.clone(), |s| s.name.to_string());
        let job_key = simple_fold(&w.raw);
        let best = best_match(w, job_id, &job_key, cand);
        let eff = w.weight * if w.required { REQUIRED_BOOST } else { 1.0 };
        num += eff * best.credit;
        den += eff;
        if w.required {
            penalty *= REQUIRED_FLOOR + (1.0 - REQUIRED_FLOOR) * (best.credit / MENTIONED).min(1.0);
        }
        let label = describe_need(&name, w);
        let located = best.mention.as_ref().map(|m| locate(m, &name, cv));
        let mention = located.as_ref();
        if best.credit >= MATCHED_AT {
            // A related skill earns credit, not the requirement: it stays unmet for counts.
            if w.required && !best.related {
                out.required_matched += 1;
            }
            if w.required && best.related {
                let rel = mention.map_or("", |m| m.raw.as_str());
                out.required_partial.push(format!("{name} ({rel})"));
            }
            let via = via(&w.raw, &name, mention, best.related);
            if mention.is_some_and(|m| m.origin != Origin::Listed) && !best.related {
                out.inferred += 1;
            }
            out.matched.push(SkillMatch {
                name: name.clone(),
                required: w.required,
                credit: round3(best.credit),
                via: via.clone(),
            });
            out.evidence
                .push(match_evidence(&label, &best, mention, via, w.min_years, cv));
        } else {
            out.missing.push(MissingSkill {
                name: name.clone(),
                required: w.required,
            });
            let text = match mention {
                Some(m) if best.credit > 0.0 => format!(
                    "{label}: not found; only {} from the same category (credit {:.2}).",
                    m.raw, best.credit
                ),
                _ => format!("{label}: not found in the profile or the CV."),
            };
            out.evidence.push(Evidence {
                kind: EvidenceKind::Missing,
                text,
                source: mention.map_or("profile".to_string(), |m| m.source.clone()),
                line: mention.and_then(|m| m.line),
                excerpt: mention.and_then(|m| m.line).and_then(|l| cv?.excerpt(l)),
            });
        }
    }
    let raw = if den > 0.0 { num / den } else { 0.0 };
    out.score = (raw * penalty).clamp(0.0, 1.0);
    out
}

fn info(text: &str, source: &str) -> Evidence {
    Evidence {
        kind: EvidenceKind::Info,
        text: text.to_string(),
        source: source.to_string(),
        line: None,
        excerpt: None,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// "Kubernetes (required, 3+ years)".
fn describe_need(name: &str, w: &Wanted) -> String {
    let kind = if w.required { "required" } else { "preferred" };
    match w.min_years {
        Some(y) => format!("{name} ({kind}, {}+ years)", fmt_years(y)),
        None => format!("{name} ({kind})"),
    }
}

/// How the skill matched when not literally.
fn via(job_raw: &str, name: &str, m: Option<&Mention>, related: bool) -> Option<String> {
    let m = m?;
    if related {
        return Some(format!("related: {}", m.raw));
    }
    if m.inner {
        return Some(format!("within {}", m.raw));
    }
    let job_form = simple_fold(job_raw);
    let cand_form = simple_fold(&m.raw);
    let canon = simple_fold(name);
    if job_form != cand_form {
        // Name the form that is not the canonical one: "synonym k8s" either way round.
        let other = if job_form != canon { job_raw } else { &m.raw };
        return Some(format!("synonym {}", other.trim()));
    }
    match m.origin {
        Origin::Listed => None,
        Origin::Work => Some("work history".to_string()),
        Origin::Text => Some("cv text".to_string()),
    }
}

fn match_evidence(
    label: &str,
    best: &Best,
    m: Option<&Mention>,
    via: Option<String>,
    min_years: Option<f64>,
    cv: Option<&CvIndex>,
) -> Evidence {
    let (source, line, raw, origin) = match m {
        Some(m) => (m.source.clone(), m.line, m.raw.as_str(), m.origin),
        None => ("cv".to_string(), None, "", Origin::Text),
    };
    let quote = m
        .and_then(|m| m.quote.as_deref())
        .filter(|_| line.is_none());
    let place = match (origin, quote) {
        (Origin::Listed, _) => "listed in the skills".to_string(),
        (Origin::Work, Some(q)) => format!("mentioned in the work history (\"{q}\")"),
        (Origin::Work, None) => "mentioned in the work history".to_string(),
        (Origin::Text, Some(q)) => format!("mentioned only in \"{q}\""),
        (Origin::Text, None) => "mentioned in the CV text only".to_string(),
    };
    let mut text = if best.related {
        format!(
            "{label}: not found, but the related {raw} is {place}; partial credit {:.2}.",
            best.credit
        )
    } else {
        match via.as_deref() {
            Some(v) if v.starts_with("synonym") => format!("{label}: {place} as {raw} ({v})."),
            _ => format!("{label}: {place}."),
        }
    };
    if let Some((have, need)) = best.years_short {
        text.push_str(&format!(
            " {} years shown against {} asked.",
            fmt_years(have),
            fmt_years(need)
        ));
    } else if best.years_unknown {
        text.push_str(" Years of use not shown.");
    } else if let (Some(_), Some(y)) = (min_years, m.and_then(|m| m.years))
        && !best.related
    {
        text.push_str(&format!(" {} years shown.", fmt_years(y)));
    }
    if !best.related && origin != Origin::Listed {
        text.push_str(&format!(" Credit {:.2}.", best.credit));
    }
    let kind = if best.credit >= 0.999 {
        EvidenceKind::Match
    } else {
        EvidenceKind::Partial
    };
    Evidence {
        kind,
        text,
        source,
        excerpt: line.and_then(|l| cv?.excerpt(l)),
        line,
    }
}

/// The best credit any mention gives this job skill; ties keep the earlier (stronger) source.
fn best_match(w: &Wanted, job_id: Option<SkillId>, job_key: &str, cand: &CandidateSkills) -> Best {
    let tax = Taxonomy::global();
    let mut best = Best {
        credit: 0.0,
        mention: None,
        related: false,
        years_short: None,
        years_unknown: false,
    };
    for m in &cand.mentions {
        let same = match (job_id, m.id) {
            (Some(a), Some(b)) => a == b,
            _ => !job_key.is_empty() && m.key == job_key,
        };
        let base = match m.origin {
            Origin::Listed if !m.inner => LISTED,
            Origin::Listed | Origin::Work => WORKED,
            Origin::Text => MENTIONED,
        };
        if same {
            let (factor, short, unknown) = years_factor(w.min_years, m.years);
            let credit = base * factor;
            if credit > best.credit {
                best = Best {
                    credit,
                    mention: Some(m.clone()),
                    related: false,
                    years_short: short,
                    years_unknown: unknown,
                };
            }
        } else if let (Some(a), Some(b)) = (job_id, m.id)
            && let Some(rel) = tax.relatedness_ids(a, b)
        {
            let credit = RELATED_SHARE * rel as f64 * base;
            if credit > best.credit {
                best = Best {
                    credit,
                    mention: Some(m.clone()),
                    related: true,
                    years_short: None,
                    years_unknown: false,
                };
            }
        }
    }
    // Names the taxonomy cannot resolve, or resolves differently, can still be written in
    // the profile: "ARM Cortex-M4" for "ARM Cortex-M", "site manager" for "Site management".
    if best.credit < WORKED {
        let needle = stems(&w.raw);
        for p in &cand.passages {
            let prefix = p.origin == Origin::Listed
                && job_key.len() >= 4
                && (p.folded.starts_with(job_key) || acronym_head(&p.raw, &w.raw));
            if !(prefix || contains_phrase(&p.stems, &needle)) {
                continue;
            }
            let base = match p.origin {
                Origin::Listed | Origin::Work => WORKED,
                Origin::Text => MENTIONED,
            };
            let (factor, short, unknown) = years_factor(w.min_years, p.years);
            let credit = base * factor;
            if credit > best.credit {
                best = Best {
                    credit,
                    mention: Some(Mention {
                        id: None,
                        key: job_key.to_string(),
                        raw: if p.origin == Origin::Listed {
                            p.raw.clone()
                        } else {
                            w.raw.clone()
                        },
                        origin: p.origin,
                        source: p.source.clone(),
                        line: p.line,
                        years: p.years,
                        inner: p.origin == Origin::Listed,
                        quote: (p.origin != Origin::Listed).then(|| excerpt(&p.raw, QUOTE)),
                    }),
                    related: false,
                    years_short: short,
                    years_unknown: unknown,
                };
            }
        }
    }
    best
}

/// Credit factor for a minimum number of years: full when met, graceful below, a mild
/// discount when the years are not shown at all.
fn years_factor(min: Option<f64>, have: Option<f64>) -> (f64, Option<(f64, f64)>, bool) {
    match (min, have) {
        (None, _) => (1.0, None, false),
        (Some(need), Some(have)) if have >= need => (1.0, None, false),
        (Some(need), Some(have)) => (0.5 + 0.5 * (have / need), Some((have, need)), false),
        (Some(_), None) => (0.9, None, true),
    }
}

/// Whether a listed acronym ("CAN") is the head of the job's name ("CAN bus").
fn acronym_head(listed: &str, wanted: &str) -> bool {
    let listed = listed.trim();
    listed.len() >= 2
        && listed
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && wanted
            .split_whitespace()
            .next()
            .is_some_and(|head| head == listed)
        && wanted.split_whitespace().count() > 1
}

/// The mention with the CV line where it appears, looked up now that it is shown.
fn locate(m: &Mention, canonical: &str, cv: Option<&CvIndex>) -> Mention {
    let mut m = m.clone();
    if m.line.is_none()
        && let Some(cv) = cv
    {
        m.line = cv.find(&m.raw).or_else(|| cv.find(canonical));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JobSkillSpec;
    use hirewire_profile::{Skill, Work};

    fn job(skills: &[(&str, bool, Option<f64>)]) -> JobSpec {
        JobSpec {
            title: "Engineer".into(),
            skills: skills
                .iter()
                .map(|(n, r, y)| JobSkillSpec {
                    name: n.to_string(),
                    required: *r,
                    weight: 1.0,
                    min_years: *y,
                })
                .collect(),
            ..JobSpec::default()
        }
    }

    fn listing(names: &[&str]) -> Profile {
        Profile {
            skills: names
                .iter()
                .map(|n| Skill {
                    name: n.to_string(),
                    ..Skill::default()
                })
                .collect(),
            ..Profile::default()
        }
    }

    fn run(j: &JobSpec, p: &Profile, cv: Option<&str>) -> SkillsOutcome {
        let cv = cv.map(CvIndex::new);
        let cand = CandidateSkills::gather(p, cv.as_ref(), dates::now_index((2025, 1)));
        score(j, &cand, cv.as_ref())
    }

    #[test]
    fn synonyms_match_fully_and_say_so() {
        let out = run(
            &job(&[("k8s", true, None)]),
            &listing(&["Kubernetes"]),
            None,
        );
        assert_eq!(out.score, 1.0);
        assert_eq!(out.matched[0].via.as_deref(), Some("synonym k8s"));
    }

    #[test]
    fn missing_required_sinks_the_dimension() {
        let j = job(&[("Go", true, None), ("Terraform", true, None)]);
        let out = run(&j, &listing(&["Go"]), None);
        assert!(out.score < 0.35, "{}", out.score);
        assert_eq!(out.missing[0].name, "Terraform");
        assert_eq!(out.required_matched, 1);
    }

    #[test]
    fn related_skills_get_stated_partial_credit() {
        let out = run(
            &job(&[("PostgreSQL", false, None)]),
            &listing(&["MySQL"]),
            None,
        );
        assert!(out.score > 0.0 && out.score < 0.5);
        assert_eq!(out.matched[0].via.as_deref(), Some("related: MySQL"));
        assert_eq!(out.evidence[0].kind, EvidenceKind::Partial);
    }

    #[test]
    fn cv_text_counts_a_little_less_and_points_at_the_line() {
        let out = run(
            &job(&[("Kafka", false, None)]),
            &Profile::default(),
            Some("Jane\nBuilt pipelines on Kafka and Flink"),
        );
        assert_eq!(out.score, MENTIONED);
        assert_eq!(out.evidence[0].line, Some(2));
        assert!(
            out.evidence[0]
                .excerpt
                .as_deref()
                .unwrap_or("")
                .contains("Kafka")
        );
    }

    #[test]
    fn years_from_work_history_and_shortfall() {
        let p = Profile {
            work: vec![Work {
                position: Some("Engineer".into()),
                start_date: Some("2023-01".into()),
                highlights: vec!["Wrote services in Rust".into()],
                ..Work::default()
            }],
            ..Profile::default()
        };
        let met = run(&job(&[("Rust", true, Some(2.0))]), &p, None);
        let short = run(&job(&[("Rust", true, Some(8.0))]), &p, None);
        assert_eq!(met.score, WORKED);
        assert!(short.score < met.score);
        assert!(short.evidence[0].text.contains("years shown against 8"));
    }

    #[test]
    fn variants_the_taxonomy_lacks() {
        // A longer listed name, a word form, an acronym head.
        let p = listing(&["ARM Cortex-M4", "Manhattan WMS", "CAN"]);
        let j = job(&[
            ("ARM Cortex-M", true, None),
            ("WMS", true, None),
            ("CAN bus", false, None),
        ]);
        let out = run(&j, &p, None);
        assert_eq!(out.missing.len(), 0, "{:?}", out.missing);
        let p = Profile {
            work: vec![Work {
                position: Some("Site Manager".into()),
                ..Work::default()
            }],
            ..Profile::default()
        };
        let out = run(&job(&[("Site management", true, None)]), &p, None);
        assert_eq!(out.required_matched, 1);
    }

    #[test]
    fn no_skills_anywhere_is_not_informative() {
        let out = run(&JobSpec::default(), &Profile::default(), None);
        assert!(!out.informative);
        let j = JobSpec {
            title: "Engineer".into(),
            description: Some("You will write Python and SQL.".into()),
            ..JobSpec::default()
        };
        let out = run(&j, &listing(&["Python"]), None);
        assert!(out.from_description);
        assert_eq!(out.matched.len(), 1);
    }
}
