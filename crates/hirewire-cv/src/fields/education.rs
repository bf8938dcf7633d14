//! Education: institution, degree as written (BSc, MSc, PhD, MBA, Licenciatura, Dipl.-Ing.,
//! …), field of study and dates.

use super::dates::{self, End};
use super::work::{group, is_header_line};
use super::{is_bullet, strip_bullet};
use crate::profile::Education;
use regex::Regex;
use std::sync::LazyLock;

static DEGREE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"(?:Master|Bachelor|Doctor)(?:'s|’s)?\s+(?:of|in)\s+(?:Science|Arts|Engineering|Business Administration|Laws|Education|Fine Arts|Philosophy|Technology|Commerce|Nursing|Music|Public Health|Architecture)(?:\s*\([^)]*\))?",
        r"|Associate(?:'s)? Degree|AP Degree|Diplôme d'ingénieur|Diplôme d’ingénieur",
        r"|B\.?\s?Sc\.?|M\.?\s?Sc\.?|B\.?\s?A\.?(?:\s*\(Hons\.?\))?|M\.?\s?A\.?|Ph\.?\s?D\.?|D\.?Phil\.?|M\.?Phil\.?|M\.?B\.?A\.?|BBA|BSN|MSN",
        r"|B\.?\s?S\.?|M\.?\s?S\.?|B\.?\s?Eng\.?|M\.?\s?Eng\.?|B\.?\s?Tech\.?|M\.?\s?Tech\.?|B\.?\s?E\.?|M\.?\s?E\.?|B\.?\s?Com\.?|M\.?\s?Com\.?|LL\.?\s?B\.?|LL\.?\s?M\.?|PGCE|PGDip|HND|MRes|MFA|BFA|MPH|JD|MD",
        r"|Dipl\.?-\s?Ing\.?(?:\s*\(FH\))?|Dipl\.?-\s?\w+\.?|Diplom(?:-\w+)?|Staatsexamen|Abitur|Magister|Magistra|Máster|Master(?:'s)?|Mestrado|Mestre|Licenciatura|Licenciado|Licenciada|Grado|Bacharelado|Doutorado|Doctorado|Doctorat|Licence|DUT|BTS|DSAA|Bachelor(?:'s)?|Technik|ACCA|CPA|CFA|MBA|Ausbildung|Fachabitur|Matura|Baccalauréat|Bac",
        r")(?:\b|$|[\s,])"
    ))
    .expect("degree regex")
});

const INSTITUTION_WORDS: &[&str] = &[
    "univ",
    "universit",
    "college",
    "institut",
    "school",
    "academy",
    "akademie",
    "escola",
    "escuela",
    "école",
    "ecole",
    "hochschule",
    "politecnico",
    "politècnica",
    "politécnica",
    "polytechnic",
    "gymnasium",
    "technikum",
    "lyceum",
    "liceo",
    "iut",
    "insa",
    "kth",
    "association",
    "fundação",
    "fundación",
    "conservator",
    "faculdade",
    "facultad",
    "faculté",
    "seminar",
    "campus",
    "berufsschule",
    "realschule",
    "gesamtschule",
    "instituto",
    "colegio",
    "lycée",
    "hogeschool",
    "universiteit",
    "rwth",
    "eth",
    "epfl",
    "mit",
    "ucl",
    "lse",
    "business school",
    "uniwersytet",
    "politechnika",
    "akademia",
    "szkoła",
    "universitat",
    "università",
    "universidade",
    "université",
    "universität",
    "högskola",
    "ntnu",
    "dtu",
];

fn institution_score(s: &str) -> i32 {
    let l = s.to_lowercase();
    let words: Vec<&str> = l
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    INSTITUTION_WORDS
        .iter()
        .filter(|w| {
            if w.len() <= 4 {
                words.iter().any(|x| x == *w)
            } else {
                l.contains(*w)
            }
        })
        .count() as i32
}

/// Splits a degree line into the degree as written and the field of study.
pub fn split_degree(seg: &str) -> (Option<String>, Option<String>) {
    let seg = seg.trim();
    let tidy_area = |s: &str| -> Option<String> {
        let mut a = s
            .trim()
            .trim_start_matches([',', ':', '-', '–', '—', '|'])
            .trim();
        for p in ["in ", "of ", "en ", "em ", "im ", "de ", "in:", "— ", "- "] {
            if let Some(r) = a.strip_prefix(p) {
                a = r.trim();
            }
        }
        let a = a.trim_end_matches([',', ';']).trim();
        (!a.is_empty()).then(|| a.to_owned())
    };
    if let Some(m) = DEGREE.find(seg) {
        let degree = m.as_str().trim().trim_end_matches(',').trim();
        let rest = &seg[m.end()..];
        // "Magister farmacji, Pharmacy": lower-case words up to a comma qualify the degree.
        if !m.as_str().ends_with(',')
            && let Some((q, area)) = rest.split_once(',')
            && !q.trim().is_empty()
            && q.split_whitespace().count() <= 2
            && q.split_whitespace()
                .all(|w| w.chars().next().is_some_and(char::is_lowercase))
        {
            return (Some(format!("{degree} {}", q.trim())), tidy_area(area));
        }
        return (Some(degree.to_owned()), tidy_area(rest));
    }
    if let Some((d, a)) = seg.split_once(',')
        && d.split_whitespace().count() <= 4
    {
        return (Some(d.trim().to_owned()), tidy_area(a));
    }
    if let Some((d, a)) = seg.split_once(" in ") {
        return (Some(d.trim().to_owned()), tidy_area(a));
    }
    (Some(seg.to_owned()), None)
}

static SEPARATORS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*\|\s*|\s+[·•]\s+|\t|\s+[—–]\s+|\s+-\s+").expect("separator regex")
});

/// "BSc in Computer Science, Stanford University": when no piece is the school alone, a comma
/// separates it from the degree.
fn split_institution_by_comma(segs: &mut Vec<String>) {
    let alone = segs
        .iter()
        .any(|s| institution_score(s) > 0 && !DEGREE.is_match(s) && !s.contains(','));
    if alone {
        return;
    }
    let Some(k) = segs
        .iter()
        .position(|s| s.contains(',') && institution_score(s) > 0)
    else {
        return;
    };
    let parts: Vec<&str> = segs[k]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let Some(p) = parts.iter().position(|x| institution_score(x) > 0) else {
        return;
    };
    let q = (p + 1..parts.len())
        .find(|&i| DEGREE.is_match(parts[i]))
        .unwrap_or(parts.len());
    let rest: Vec<&str> = parts[..p].iter().chain(&parts[q..]).copied().collect();
    if rest.is_empty() {
        return;
    }
    let inst = parts[p..q].join(", ");
    segs[k] = rest.join(", ");
    segs.insert(k + 1, inst);
}

/// The courses of study in the lines of an education section.
pub fn parse(lines: &[&str]) -> Vec<Education> {
    let lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let lines = &lines[..];
    let mut anchors: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_header_line(l) && !dates::find_ranges(l).is_empty())
        .map(|(i, _)| i)
        .collect();
    if anchors.is_empty() {
        anchors = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| is_header_line(l) && institution_score(l) > 0)
            .map(|(i, _)| i)
            .collect();
    }
    let mut out = Vec::new();
    for e in group(lines, &anchors) {
        let mut segs: Vec<String> = Vec::new();
        let mut range = None;
        for (k, line) in e.head.iter().enumerate() {
            let line = strip_bullet(line);
            let mut text = line.to_owned();
            if k == e.anchor
                && let Some(r) =
                    dates::find_range(line).or_else(|| dates::find_ranges(line).into_iter().next())
            {
                text = format!("{} | {}", &line[..r.from], &line[r.to..]);
                range = Some(r);
            }
            for s in SEPARATORS.split(&text) {
                let s = s.trim().trim_matches(|c: char| {
                    matches!(c, ',' | ';' | '(' | ')' | '|') || c.is_whitespace()
                });
                if !(s.is_empty()
                    || dates::has_current_word(s) && s.split_whitespace().count() <= 2)
                {
                    segs.push(s.to_owned());
                }
            }
        }
        if segs.is_empty() {
            continue;
        }
        split_institution_by_comma(&mut segs);
        // The institution: the segment that names a school; the degree: the one that starts
        // with a degree, else the other one.
        let inst_i = segs
            .iter()
            .enumerate()
            .filter(|(_, s)| !DEGREE.is_match(s) || institution_score(s) > 1)
            .max_by_key(|(i, s)| (institution_score(s), -(*i as i32)))
            .filter(|(_, s)| institution_score(s) > 0)
            .map(|(i, _)| i);
        let deg_i = segs
            .iter()
            .enumerate()
            .find(|(i, s)| Some(*i) != inst_i && DEGREE.is_match(s))
            .or_else(|| segs.iter().enumerate().find(|(i, _)| Some(*i) != inst_i))
            .map(|(i, _)| i);
        let inst_i = inst_i.or_else(|| (0..segs.len()).find(|i| Some(*i) != deg_i));
        let institution = inst_i.map(|i| segs[i].clone());
        let (study_type, area) = deg_i
            .map(|i| split_degree(&segs[i]))
            .unwrap_or((None, None));
        let (start_date, end_date) = match range {
            Some(r) => match r.end {
                End::Date(d) => (Some(r.start.iso()), Some(d.iso())),
                End::Current => (Some(r.start.iso()), None),
                End::None => (None, Some(r.start.iso())),
            },
            None => (None, None),
        };
        let score = e
            .body
            .iter()
            .map(|b| strip_bullet(b))
            .find(|b| {
                let l = b.to_lowercase();
                l.starts_with("gpa")
                    || l.starts_with("grade")
                    || l.starts_with("note")
                    || l.contains("honours")
            })
            .map(str::to_owned);
        let _ = is_bullet;
        out.push(Education {
            institution,
            area,
            study_type,
            start_date,
            end_date,
            score,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(String, String, String, String)> {
        let lines: Vec<&str> = text.lines().collect();
        parse(&lines)
            .into_iter()
            .map(|e| {
                (
                    e.institution.unwrap_or_default(),
                    e.study_type.unwrap_or_default(),
                    e.area.unwrap_or_default(),
                    e.start_date.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn t(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
        (a.into(), b.into(), c.into(), d.into())
    }

    #[test]
    fn layouts() {
        assert_eq!(
            one(
                "Universidad Politécnica de Madrid\nMSc Software Engineering | 09/2013 - 07/2015\nUniversidad de Alcalá\nBSc Computer Engineering | 09/2009 - 06/2013"
            ),
            vec![
                t(
                    "Universidad Politécnica de Madrid",
                    "MSc",
                    "Software Engineering",
                    "2013-09"
                ),
                t(
                    "Universidad de Alcalá",
                    "BSc",
                    "Computer Engineering",
                    "2009-09"
                )
            ]
        );
        assert_eq!(
            one(
                "BA (Hons), Graphic and Communication Design\nUniversity of Leeds, Sep 2013 – Jun 2016"
            ),
            vec![t(
                "University of Leeds",
                "BA (Hons)",
                "Graphic and Communication Design",
                "2013-09"
            )]
        );
        assert_eq!(
            one(
                "Osaka University\nMaster of Engineering in Electronic Engineering | Apr 2011 — Mar 2013"
            ),
            vec![t(
                "Osaka University",
                "Master of Engineering",
                "Electronic Engineering",
                "2011-04"
            )]
        );
        assert_eq!(
            one("Magister farmacji, Pharmacy\nMedical University of Warsaw, Oct '13 to Sep '18"),
            vec![t(
                "Medical University of Warsaw",
                "Magister farmacji",
                "Pharmacy",
                "2013-10"
            )]
        );
        assert_eq!(
            one("Master Comptabilité, Contrôle, Audit\nUniversité Lumière Lyon 2, 2010 - 2012"),
            vec![t(
                "Université Lumière Lyon 2",
                "Master",
                "Comptabilité, Contrôle, Audit",
                "2010"
            )]
        );
        assert_eq!(
            one("Bachelor of Science in Computer Science, Stanford University, 2011 – 2015"),
            vec![t(
                "Stanford University",
                "Bachelor of Science",
                "Computer Science",
                "2011"
            )]
        );
        assert_eq!(
            one("Stanford University, BSc Computer Science (2011 – 2015)"),
            vec![t("Stanford University", "BSc", "Computer Science", "2011")]
        );
        assert_eq!(
            one("Vietnam National University, Hanoi, Sep 2014 — Jun 2018\nBSc, Mathematics"),
            vec![t(
                "Vietnam National University, Hanoi",
                "BSc",
                "Mathematics",
                "2014-09"
            )]
        );
    }
}
