//! Work history. Each date range in the experience section anchors one position; the title,
//! employer and place come from the short lines around it, whatever their order ("Title —
//! Company, City | dates", "Company\nTitle | dates", "dates\nTitle\nCompany", "Title at
//! Company"), told apart by job-title and company vocabulary; the running text below is the
//! highlights.

use super::dates::{self, End, YearMonth};
use super::{company_score, is_body, is_bullet, role_score_pub, strip_bullet};
use crate::profile::Work;
use regex::Regex;
use std::sync::LazyLock;

/// A line that can belong to an entry's heading (not running text, not blank).
pub(crate) fn is_header_line(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !is_body(t) && t.chars().count() <= 140
}

/// Groups section lines into entries: (heading lines with the anchor's index among them,
/// body lines). Shared with education.
pub(crate) struct Entry<'a> {
    pub head: Vec<&'a str>,
    pub anchor: usize,
    pub body: Vec<&'a str>,
}

pub(crate) fn group<'a>(lines: &[&'a str], anchors: &[usize]) -> Vec<Entry<'a>> {
    if anchors.is_empty() {
        return Vec::new();
    }
    let above = |a: usize, floor: usize| -> usize {
        let mut n = 0;
        let mut j = a;
        while j > floor && n < 3 && is_header_line(lines[j - 1]) {
            j -= 1;
            n += 1;
        }
        n
    };
    // The first entry shows the template: how many heading lines precede the dates.
    let before = above(anchors[0], 0);
    let starts: Vec<usize> = anchors
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let floor = if k == 0 { 0 } else { anchors[k - 1] + 1 };
            a - above(a, floor).min(before)
        })
        .collect();
    let mut out = Vec::new();
    for (k, &a) in anchors.iter().enumerate() {
        let next = starts.get(k + 1).copied().unwrap_or(lines.len());
        let mut head: Vec<&str> = lines[starts[k]..a].to_vec();
        let anchor = head.len();
        head.push(lines[a]);
        let mut i = a + 1;
        while i < next && head.len() < 5 && is_header_line(lines[i]) {
            head.push(lines[i]);
            i += 1;
        }
        let body: Vec<&str> = lines[i..next]
            .iter()
            .copied()
            .filter(|l| !l.trim().is_empty())
            .collect();
        out.push(Entry { head, anchor, body });
    }
    out
}

static SEPARATORS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*\|\s*|\s+[·•]\s+|\t|\s+[—–]\s+|\s+-\s+|\s*\s[/]\s").expect("separator regex")
});

fn clean(s: &str) -> &str {
    s.trim().trim_matches(|c: char| {
        matches!(c, ',' | ';' | ':' | '(' | ')' | '|' | '-' | '–' | '—' | '·') || c.is_whitespace()
    })
}

/// Splits "Company, City" into the company (keeping "Co., Ltd." together) and the place.
pub(crate) fn split_place(seg: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = seg
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return (seg.trim().to_owned(), None);
    }
    let mut main = parts[0].to_owned();
    let mut i = 1;
    while i < parts.len() && super::is_company_suffix(parts[i]) {
        main.push_str(", ");
        main.push_str(parts[i]);
        i += 1;
    }
    let rest = parts[i..].join(", ");
    (main, (!rest.is_empty()).then_some(rest))
}

/// Segments of the heading lines, the date range removed. The text beside a range that opens
/// its line ("Apr 2021 – Present, Manchester") is a place.
fn segments(
    head: &[&str],
    anchor: usize,
) -> (Vec<(String, bool)>, Vec<String>, Option<dates::DateRange>) {
    let mut segs = Vec::new();
    let mut places = Vec::new();
    let mut range = None;
    for (k, line) in head.iter().enumerate() {
        let line = strip_bullet(line);
        let mut text = line.to_owned();
        let mut place_line = false;
        if k == anchor
            && let Some(r) =
                dates::find_range(line).or_else(|| dates::find_ranges(line).into_iter().next())
        {
            let before = clean(&line[..r.from]);
            let after = clean(&line[r.to..]);
            // "Apr 2021 – Present, Manchester": a short remainder with no title or employer in
            // it; "2019 – 2021: Engineer at Acme" is not a place.
            place_line = before.is_empty()
                && !after.is_empty()
                && after.split_whitespace().count() <= 4
                && role_score_pub(after) == 0
                && company_score(after) == 0;
            text = format!("{before} | {after}");
            range = Some(r);
        }
        let mut last = 0;
        let mut pieces: Vec<(&str, bool)> = Vec::new();
        for m in SEPARATORS.find_iter(&text) {
            pieces.push((&text[last..m.start()], false));
            last = m.end();
            let dash = m.as_str().contains(['—', '–']) || m.as_str().trim() == "-";
            pieces.push(("", dash));
        }
        pieces.push((&text[last..], false));
        // Each text piece with whether a dash (not a bar) separates it from the previous one.
        let mut dash_before = false;
        let mut first_in_line = true;
        for (p, sep_dash) in pieces {
            if p.is_empty() && sep_dash {
                dash_before = true;
                continue;
            }
            let s = clean(p);
            if s.is_empty() || dates::has_current_word(s) && s.split_whitespace().count() <= 2 {
                dash_before = false;
                continue;
            }
            if place_line {
                places.push(s.to_owned());
            } else {
                segs.push((s.to_owned(), dash_before && !first_in_line));
            }
            first_in_line = false;
            dash_before = false;
        }
    }
    (segs, places, range)
}

/// The positions in the lines of an experience section, and their intervals for the total.
pub fn parse(lines: &[&str]) -> (Vec<Work>, Vec<(YearMonth, Option<YearMonth>)>) {
    // Blank lines carry no structure that the anchors do not (HTML puts them everywhere).
    let lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let lines = &lines[..];
    let anchors: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_header_line(l) && !is_bullet(l) && dates::find_range(l).is_some())
        .map(|(i, _)| i)
        .collect();
    let mut work = Vec::new();
    let mut intervals = Vec::new();
    for e in group(lines, &anchors) {
        let (segs, places, range) = segments(&e.head, e.anchor);
        let Some(range) = range else { continue };
        let segs = glue_dashed(segs);
        let (position, name, mut location) = assign(&segs);
        if location.is_none() {
            location = places.into_iter().next();
        }
        let mut highlights: Vec<String> = Vec::new();
        for b in &e.body {
            let t = strip_bullet(b);
            if t.is_empty() {
                continue;
            }
            highlights.push(t.to_owned());
        }
        let (end_date, current) = match range.end {
            End::Date(d) => (Some(d.iso()), false),
            End::Current => (None, true),
            End::None => (None, false),
        };
        intervals.push(super::experience::interval(range.start, range.end));
        work.push(Work {
            name,
            position,
            location,
            start_date: Some(range.start.iso()),
            end_date,
            current,
            summary: None,
            highlights,
        });
    }
    (work, intervals)
}

/// "Registered Nurse – Oncology": a piece after a dash that is neither a title nor an employer
/// belongs to the piece before it, when another piece already names the employer.
fn glue_dashed(segs: Vec<(String, bool)>) -> Vec<String> {
    let has_company = segs.iter().any(|(s, _)| company_score(s) > 0);
    let mut out: Vec<String> = Vec::new();
    for (s, dashed) in segs {
        if dashed
            && has_company
            && company_score(&s) == 0
            && role_score_pub(&s) == 0
            && !s.contains(',')
            && let Some(prev) = out.last_mut()
            && role_score_pub(prev) > 0
        {
            prev.push_str(" – ");
            prev.push_str(&s);
            continue;
        }
        out.push(s);
    }
    out
}

/// "Title at Company" (and "bei", "chez", "en", …): the split whose right side reads most
/// like an employer, the first one on a tie.
fn split_at(s: &str, other_employer: bool) -> Option<(String, String)> {
    let lower = s.to_lowercase();
    let mut best: Option<(i32, usize, usize)> = None;
    // "en", "em", "na", "w" also join words inside Spanish, Portuguese and Polish titles
    // ("Especialista en Marketing Digital"): they split only when no other piece is the employer.
    let preps: &[&str] = if other_employer {
        &[" at ", " @ ", " bei ", " chez ", " bij "]
    } else {
        &[
            " at ", " @ ", " bei ", " chez ", " bij ", " en ", " em ", " na ", " w ",
        ]
    };
    for prep in preps {
        let mut from = 0;
        while let Some(p) = lower[from..].find(prep) {
            let at = from + p;
            from = at + prep.len();
            let (left, right) = (&s[..at], &s[at + prep.len()..]);
            if role_score_pub(left) == 0 || right.trim().is_empty() {
                continue;
            }
            let score = company_score(right);
            if best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, at, at + prep.len()));
            }
        }
    }
    let (_, a, b) = best?;
    Some((clean(&s[..a]).to_owned(), clean(&s[b..]).to_owned()))
}

/// Picks the title, the employer and the place among heading segments.
fn assign(segs: &[String]) -> (Option<String>, Option<String>, Option<String>) {
    // "Title at Company": the preposition decides.
    for s in segs {
        let other_employer = segs.iter().any(|o| o != s && company_score(o) > 0);
        if let Some((title, right)) = split_at(s, other_employer) {
            {
                let (company, place) = split_place(&right);
                let place = place.or_else(|| {
                    segs.iter()
                        .find(|o| *o != s)
                        .filter(|o| company_score(o) == 0 && role_score_pub(o) == 0)
                        .cloned()
                });
                return (Some(title), Some(company), place);
            }
        }
    }
    let mut cands: Vec<(String, Option<String>)> = segs.iter().map(|s| split_place(s)).collect();
    let employer_elsewhere = |k: usize, cands: &[(String, Option<String>)]| {
        cands
            .iter()
            .enumerate()
            .any(|(j, c)| j != k && role_score_pub(&c.0) == 0)
    };
    // "Senior Engineer, Acme Corp": with no other piece to be the employer, what follows the
    // title's comma is the employer. Otherwise a title keeps its comma ("Registered Nurse,
    // BSN") rather than losing a part to the place.
    let mut k = 0;
    while k < cands.len() {
        if role_score_pub(&cands[k].0) > company_score(&cands[k].0) && cands[k].1.is_some() {
            if !employer_elsewhere(k, &cands) {
                let place = cands[k].1.take().unwrap_or_default();
                let (company, rest) = split_place(&place);
                cands.insert(k + 1, (company, rest));
            } else if let Some(p) = cands[k].1.take() {
                cands[k].0.push_str(", ");
                cands[k].0.push_str(&p);
            }
        }
        k += 1;
    }
    match cands.len() {
        0 => (None, None, None),
        1 => {
            let (t, p) = cands.remove(0);
            if role_score_pub(&t) >= company_score(&t) && role_score_pub(&t) > 0 {
                (Some(t), None, p)
            } else {
                (None, Some(t), p)
            }
        }
        n => {
            let mut best = (i32::MIN, 0, 1);
            for i in 0..n {
                for j in 0..n {
                    if i == j {
                        continue;
                    }
                    let score = role_score_pub(&cands[i].0) - company_score(&cands[i].0)
                        + company_score(&cands[j].0) - role_score_pub(&cands[j].0)
                        // Ties: the usual order is title then employer, adjacent.
                        - (i as i32 + j as i32) * 2
                        + if i < j { 1 } else { 0 };
                    if score > best.0 {
                        best = (score, i, j);
                    }
                }
            }
            let (_, ti, ci) = best;
            let place = cands[ci]
                .1
                .clone()
                .or_else(|| cands[ti].1.clone())
                .or_else(|| {
                    cands
                        .iter()
                        .enumerate()
                        .find(|(k, _)| *k != ti && *k != ci)
                        .map(|(_, c)| c.0.clone())
                });
            (Some(cands[ti].0.clone()), Some(cands[ci].0.clone()), place)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(String, String, String)> {
        let lines: Vec<&str> = text.lines().collect();
        parse(&lines)
            .0
            .into_iter()
            .map(|w| {
                (
                    w.position.unwrap_or_default(),
                    w.name.unwrap_or_default(),
                    w.start_date.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn layouts() {
        assert_eq!(
            one(
                "Pagalia Payments S.L., Madrid\nSenior Backend Engineer | 03/2021 - actualidad\n• Led things.\nViajes Brisa Tecnología, Madrid\nBackend Engineer | 06/2017 - 02/2021\n• Built."
            ),
            vec![
                t(
                    "Senior Backend Engineer",
                    "Pagalia Payments S.L.",
                    "2021-03"
                ),
                t("Backend Engineer", "Viajes Brisa Tecnología", "2017-06")
            ]
        );
        assert_eq!(
            one(
                "Senior UX Designer at Northern Rail Digital\nApr 2021 – Present, Manchester\nRedesigned the ticket purchase flow in Figma, raising conversion.\nUX Designer at Brightside Insurance\nJan 2018 – Mar 2021, Leeds"
            ),
            vec![
                t("Senior UX Designer", "Northern Rail Digital", "2021-04"),
                t("UX Designer", "Brightside Insurance", "2018-01")
            ]
        );
        assert_eq!(
            one(
                "04.2020 - heute\nSenior IT-Projektmanagerin\nHanseatische Handelshaus GmbH, Hamburg\n• Leitung.\n09.2016 - 03.2020\nIT-Projektmanagerin\nElbe Logistik AG, Hamburg"
            ),
            vec![
                t(
                    "Senior IT-Projektmanagerin",
                    "Hanseatische Handelshaus GmbH",
                    "2020-04"
                ),
                t("IT-Projektmanagerin", "Elbe Logistik AG", "2016-09")
            ]
        );
        assert_eq!(
            one(
                "Data Engineer\nKoszyk Analytics Sp. z o.o., Kraków | 2021-10 — Present\n• Designed.\nBig Data Developer\nWisła Software House, Kraków | 2019-02 — 2021-09"
            ),
            vec![
                t("Data Engineer", "Koszyk Analytics Sp. z o.o.", "2021-10"),
                t("Big Data Developer", "Wisła Software House", "2019-02")
            ]
        );
        assert_eq!(
            one(
                "Kansai Motion Controls Co., Ltd., Osaka\nLead Embedded Engineer | Apr 2019 — Present"
            ),
            vec![t(
                "Lead Embedded Engineer",
                "Kansai Motion Controls Co., Ltd.",
                "2019-04"
            )]
        );
        assert_eq!(
            one("Senior Engineer — Acme GmbH, Berlin | Jan 2020 – Present"),
            vec![t("Senior Engineer", "Acme GmbH", "2020-01")]
        );
        assert_eq!(
            one("Senior Engineer, Initech (Jan 2019 – Mar 2021)\n• Built things."),
            vec![t("Senior Engineer", "Initech", "2019-01")]
        );
        assert_eq!(
            one("Jan 2018 - Present  Senior Engineer, Acme Inc., New York, NY\n• Led."),
            vec![t("Senior Engineer", "Acme Inc.", "2018-01")]
        );
        assert_eq!(
            one("2019 – 2021: Product Designer at Hooli\n• Designed."),
            vec![t("Product Designer", "Hooli", "2019")]
        );
        assert_eq!(
            one("Initech\tMarch 2018 – June 2019\nQA Analyst\n• Tested."),
            vec![t("QA Analyst", "Initech", "2018-03")]
        );
    }
}
