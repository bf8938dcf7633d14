//! Candidate search: the one tokenizer both backends index with, the query language, the
//! ranking rule, and highlighted snippets.
//!
//! Text is tokenized here, not by the database, so that SQLite FTS5 and PostgreSQL full-text
//! search see the same tokens and return the same candidates in the same order. A search
//! document has three fields: `skills` (canonical skill names), `titles` (headline and job
//! titles) and `doc` (everything, the CV's text included). A query is a list of terms, all of
//! which must match `doc` (AND); a term is a word, a quoted phrase or a skill with its
//! synonyms. A term scores 3 when it matches `skills`, else 2 when it matches `titles`, else
//! 1; ties go to the most recently added candidate (the highest `seq`: SQLite's full-text
//! rowid, PostgreSQL's `candidate_search.seq`).
//!
//! A query's score is a small integer (from the number of terms to three times it), so the
//! stores serve results one score at a time, best first ([`SearchQuery::tiers`]): each tier is
//! a condition on where the terms matched ([`SearchQuery::tier`]) that an index can
//! answer in `seq` order, and a page stops reading as soon as it is full, however many
//! candidates match.

use std::fmt::Write;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

use crate::model::Candidate;
use crate::page::{Cursor, PageRequest, SortValue};

/// The `sort` search cursors are made for. (Cursors of the earlier `relevance` order, which
/// held a timestamp, are refused rather than misread.)
pub const CURSOR_SORT: &str = "rank";

/// Queries of up to this many terms are served tier by tier ([`SearchQuery::tiers`]); longer
/// ones, whose matches are few because every term is required, score every match.
pub const MAX_TIERED_TERMS: usize = 3;

/// Separates the parts of `doc` so that no phrase matches across two of them.
pub const SEPARATOR: &str = "hwsep";
const MAX_TOKEN: usize = 40;
/// The most tokens of CV text indexed per candidate (some 30 pages): PostgreSQL records word
/// positions only up to 16,383, and both backends must match phrases alike.
pub const MAX_DOCUMENT_TOKENS: usize = 15_000;
const MAX_TERMS: usize = 12;
const MAX_ALTERNATIVES: usize = 8;
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "in", "at", "of", "with", "for", "to", "on", "or", "from", "who",
];

/// A token and where it is in the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

fn fold_char(c: char, out: &mut String) {
    for d in c.to_lowercase().nfd() {
        if !is_combining_mark(d) {
            out.push(d);
        }
    }
}

/// Splits text into search tokens: lower case, accents removed, letters and digits only.
/// `C++`, `C#` and `.NET` keep their identity (`cplusplus`, `csharp`, `dotnet`).
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if !c.is_alphanumeric() {
            prev = Some(c);
            continue;
        }
        let dotted = prev == Some('.')
            && i >= 2
            && text[..i - 1]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace);
        let mut word = String::new();
        if dotted {
            word.push_str("dot");
        }
        fold_char(c, &mut word);
        let mut end = i + c.len_utf8();
        while let Some(&(j, n)) = chars.peek() {
            if !n.is_alphanumeric() {
                break;
            }
            fold_char(n, &mut word);
            end = j + n.len_utf8();
            chars.next();
        }
        // `c++`, `c#`: the suffix is part of the name unless a word follows it directly.
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            while let Some(&(j, n)) = chars.peek() {
                let suffix = match n {
                    '+' => "plus",
                    '#' => "sharp",
                    _ => break,
                };
                word.push_str(suffix);
                end = j + 1;
                chars.next();
            }
        }
        prev = text[..end].chars().next_back();
        if word.len() <= MAX_TOKEN {
            tokens.push(Token {
                text: word,
                start: i,
                end,
            });
        }
    }
    tokens
}

fn push_tokens(out: &mut String, text: &str) {
    for t in tokenize(text) {
        if t.text == SEPARATOR {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
}

/// The tokens of a text, space-separated: the form both backends index.
pub fn token_string(text: &str) -> String {
    let mut out = String::new();
    push_tokens(&mut out, text);
    out
}

/// The indexed text of a document's extracted text, capped at [`MAX_DOCUMENT_TOKENS`].
pub fn document_tokens(text: &str) -> String {
    let mut out = String::new();
    for (n, t) in tokenize(text).into_iter().enumerate() {
        if n >= MAX_DOCUMENT_TOKENS {
            break;
        }
        if t.text == SEPARATOR {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
    out
}

/// What a candidate contributes to the search index, as token strings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchText {
    pub skills: String,
    pub titles: String,
    /// Everything from the candidate record; the store appends the latest CV's tokens.
    pub doc: String,
}

/// The search text of a candidate's record.
pub fn search_text(c: &Candidate) -> SearchText {
    let p = &c.profile;
    let mut skills = String::new();
    for s in &p.skills {
        if !skills.is_empty() {
            skills.push(' ');
            skills.push_str(SEPARATOR);
            skills.push(' ');
        }
        push_tokens(&mut skills, &canonical_skill(&s.name));
        for k in &s.keywords {
            skills.push(' ');
            push_tokens(&mut skills, k);
        }
    }
    let mut titles = String::new();
    let mut title_parts: Vec<&str> = Vec::new();
    if let Some(l) = &p.basics.label {
        title_parts.push(l);
    }
    title_parts.extend(p.work.iter().filter_map(|w| w.position.as_deref()));
    for t in title_parts {
        if !titles.is_empty() {
            titles.push(' ');
            titles.push_str(SEPARATOR);
            titles.push(' ');
        }
        push_tokens(&mut titles, t);
    }
    let mut doc = String::new();
    let mut add = |s: &str| {
        if s.trim().is_empty() {
            return;
        }
        if !doc.is_empty() {
            doc.push(' ');
            doc.push_str(SEPARATOR);
            doc.push(' ');
        }
        push_tokens(&mut doc, s);
    };
    add(&skills);
    add(&titles);
    for v in [&c.first_name, &c.last_name, &c.email, &c.source]
        .into_iter()
        .flatten()
    {
        add(v);
    }
    for t in &c.tags {
        add(t);
    }
    let b = &p.basics;
    for v in [&b.name, &b.summary].into_iter().flatten() {
        add(v);
    }
    if let Some(l) = &b.location {
        for v in [&l.city, &l.region, &l.country_code, &l.address]
            .into_iter()
            .flatten()
        {
            add(v);
        }
    }
    for w in &p.work {
        for v in [&w.name, &w.location, &w.summary].into_iter().flatten() {
            add(v);
        }
        for h in &w.highlights {
            add(h);
        }
    }
    for e in &p.education {
        for v in [&e.institution, &e.area, &e.study_type]
            .into_iter()
            .flatten()
        {
            add(v);
        }
    }
    for l in &p.languages {
        add(&l.language);
    }
    SearchText {
        skills,
        titles,
        doc,
    }
}

/// The taxonomy's name for a skill, or the name as given.
pub fn canonical_skill(name: &str) -> String {
    hirewire_taxonomy::Taxonomy::global()
        .normalize(name)
        .map_or_else(|| name.to_string(), |s| s.name.to_string())
}

/// One term of a query: it matches when any of its alternatives (each a phrase of tokens)
/// does.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// As the user typed it.
    pub raw: String,
    pub alternatives: Vec<Vec<String>>,
}

impl QueryTerm {
    /// The alternatives an index needs: one that contains another (`java se` holds `java`)
    /// matches nothing the shorter one does not, so it is left out. (Highlights still mark
    /// every alternative.)
    pub fn index_alternatives(&self) -> Vec<&Vec<String>> {
        let contains = |long: &Vec<String>, short: &Vec<String>| {
            short.len() < long.len() && long.windows(short.len()).any(|w| w == short.as_slice())
        };
        self.alternatives
            .iter()
            .filter(|a| !a.is_empty())
            .filter(|a| {
                !self
                    .alternatives
                    .iter()
                    .any(|b| !b.is_empty() && contains(a, b))
            })
            .collect()
    }

    /// The term in FTS5 syntax: `("k8s" OR "kubernetes")`.
    pub fn fts5(&self) -> String {
        let alts: Vec<String> = self
            .index_alternatives()
            .iter()
            .map(|a| format!("\"{}\"", a.join(" ")))
            .collect();
        format!("({})", alts.join(" OR "))
    }

    /// The term in PostgreSQL `tsquery` syntax: `('k8s' | 'kubernetes')`.
    pub fn tsquery(&self) -> String {
        let alts: Vec<String> = self
            .index_alternatives()
            .iter()
            .map(|a| {
                let words: Vec<String> = a.iter().map(|w| format!("'{w}'")).collect();
                format!("({})", words.join(" <-> "))
            })
            .collect();
        format!("({})", alts.join(" | "))
    }
}

/// A field of the search document, as the stores index it (one column each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Skills,
    Titles,
    /// Everything, `skills` and `titles` included.
    Doc,
}

/// One test of a tier: term `term` (an index into [`SearchQuery::terms`]) matches `field`, or
/// with `negated`, does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub term: usize,
    pub field: Field,
    pub negated: bool,
}

/// A condition in disjunctive normal form: it holds when every hit of any one conjunction
/// does. Each conjunction has at least one hit that is not negated.
pub type Dnf = Vec<Vec<Hit>>;

/// A parsed search request.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub terms: Vec<QueryTerm>,
    /// Skill keys the candidate must all have (exact, after synonyms).
    pub skills: Vec<String>,
    /// A city, region or country code, folded.
    pub location: Option<String>,
    pub min_years: Option<f64>,
    pub page: PageRequest,
}

impl SearchQuery {
    /// Every term, ANDed, in FTS5 syntax.
    pub fn fts5(&self) -> String {
        let parts: Vec<String> = self.terms.iter().map(QueryTerm::fts5).collect();
        parts.join(" AND ")
    }

    /// Every term, ANDed, in `tsquery` syntax.
    pub fn tsquery(&self) -> String {
        let parts: Vec<String> = self.terms.iter().map(QueryTerm::tsquery).collect();
        parts.join(" & ")
    }

    /// The cursor that resumes the results after the candidate with this score and `seq`.
    pub fn cursor_of(score: i64, seq: i64, candidate_id: &str) -> Cursor {
        Cursor {
            sort: CURSOR_SORT.into(),
            value: SortValue::Text(format!("{score}|{seq}")),
            id: candidate_id.to_string(),
        }
    }

    /// Where the page starts: after (score, seq), in descending order.
    pub fn after(&self) -> Option<(i64, i64)> {
        let c = self.page.after.as_ref()?;
        let SortValue::Text(v) = &c.value else {
            return None;
        };
        let (score, seq) = v.split_once('|')?;
        Some((score.parse().ok()?, seq.parse().ok()?))
    }

    /// The largest score a candidate can reach.
    pub fn max_score(&self) -> i64 {
        3 * self.terms.len() as i64
    }

    /// The smallest score a match can have: every term matched outside skills and titles.
    pub fn min_score(&self) -> i64 {
        self.terms.len() as i64
    }

    /// Whether the stores serve this query tier by tier (see [`MAX_TIERED_TERMS`]).
    pub fn tiered(&self) -> bool {
        !self.terms.is_empty() && self.terms.len() <= MAX_TIERED_TERMS
    }

    /// The scores to read, best first, each with the `seq` its candidates must stay below
    /// (the cursor's, on the cursor's own score only).
    pub fn tiers(&self) -> Vec<(i64, Option<i64>)> {
        let after = self.after();
        (self.min_score()..=self.max_score())
            .rev()
            .filter_map(|s| match after {
                Some((score, _)) if s > score => None,
                Some((score, seq)) if s == score => Some((s, Some(seq))),
                _ => Some((s, None)),
            })
            .collect()
    }

    /// The candidates scoring exactly `s`: one conjunction per way of giving each term 3, 2
    /// or 1 point summing to `s`, each asking every term for exactly its points: 3 is a match
    /// in `skills`; 2 in `titles` and not `skills`; 1 in `doc` and neither of the others.
    /// The conjunctions exclude one another, so a planner's estimate of each is a fair one.
    /// Within one, the tests of the small fields come first and `doc`, which may hold a
    /// whole CV, last.
    ///
    /// `absent` names (term, field) pairs known to match no candidate at all: conjunctions
    /// that need one are left out, and tests that one does not match are dropped.
    pub fn tier(&self, s: i64, absent: &[(usize, Field)]) -> Dnf {
        let n = self.terms.len();
        let hit = |term, field, negated| Hit {
            term,
            field,
            negated,
        };
        let mut out = Vec::new();
        let mut levels = vec![1i64; n];
        // Every vector of levels in {1, 2, 3}ⁿ, as an odometer.
        loop {
            if levels.iter().sum::<i64>() == s {
                let mut c = Vec::new();
                let mut anywhere = Vec::new();
                for (i, l) in levels.iter().enumerate() {
                    match l {
                        3 => c.push(hit(i, Field::Skills, false)),
                        2 => c.extend([hit(i, Field::Titles, false), hit(i, Field::Skills, true)]),
                        _ => {
                            c.extend([hit(i, Field::Skills, true), hit(i, Field::Titles, true)]);
                            anywhere.push(hit(i, Field::Doc, false));
                        }
                    }
                }
                c.extend(anywhere);
                let known_absent = |h: &Hit| absent.contains(&(h.term, h.field));
                if !c.iter().any(|h| !h.negated && known_absent(h)) {
                    c.retain(|h| !(h.negated && known_absent(h)));
                    out.push(c);
                }
            }
            let Some(i) = levels.iter().position(|l| *l < 3) else {
                break;
            };
            levels[i] += 1;
            for l in &mut levels[..i] {
                *l = 1;
            }
        }
        out
    }

    /// [`SearchQuery::tier`] as an FTS5 query over the `skills`, `titles` and `doc` columns:
    /// `(a AND b) NOT (c OR d)` per conjunction, the conjunctions ORed; empty when no
    /// candidate can score `s`.
    pub fn fts5_tier(&self, s: i64, absent: &[(usize, Field)]) -> String {
        let render = |h: &Hit| {
            let column = match h.field {
                Field::Skills => "skills",
                Field::Titles => "titles",
                Field::Doc => "doc",
            };
            format!("{{{column}}} : {}", self.terms[h.term].fts5())
        };
        let conjunctions: Vec<String> = self
            .tier(s, absent)
            .iter()
            .map(|c| {
                let (not, yes): (Vec<&Hit>, Vec<&Hit>) = c.iter().partition(|h| h.negated);
                let yes: Vec<String> = yes.into_iter().map(render).collect();
                let not: Vec<String> = not.into_iter().map(render).collect();
                if not.is_empty() {
                    format!("({})", yes.join(" AND "))
                } else {
                    format!("(({}) NOT ({}))", yes.join(" AND "), not.join(" OR "))
                }
            })
            .collect();
        conjunctions.join(" OR ")
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError(pub String);

fn tokens_of(s: &str) -> Vec<String> {
    tokenize(s)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| t != SEPARATOR)
        .collect()
}

fn skill_alternatives(raw: &str, tokens: Vec<String>) -> Vec<Vec<String>> {
    let mut alts = vec![tokens];
    if let Some(skill) = hirewire_taxonomy::Taxonomy::global().normalize(raw) {
        for form in std::iter::once(skill.name).chain(skill.aliases.iter().copied()) {
            let t = tokens_of(form);
            if !t.is_empty() && !alts.contains(&t) && alts.len() < MAX_ALTERNATIVES {
                alts.push(t);
            }
        }
    }
    alts
}

/// Reads `5+ years`, `3 yrs`, `10y` as a minimum of years of experience.
fn years_at(words: &[&str], i: usize) -> Option<(f64, usize)> {
    let w = words[i].trim_end_matches('+');
    let unit = |s: &str| {
        matches!(
            s.to_lowercase().trim_end_matches(['.', ',']),
            "year" | "years" | "yr" | "yrs" | "y" | "jahre" | "años" | "ans"
        )
    };
    if let Some(n) = w.strip_suffix(['y', 'Y'])
        && let Ok(v) = n.trim_end_matches('+').parse::<f64>()
    {
        return Some((v, 1));
    }
    let v: f64 = w.parse().ok()?;
    (words.get(i + 1).is_some_and(|u| unit(u))).then_some((v, 2))
}

/// Parses the `q` of a search: words and `"quoted phrases"`, all required; skills match their
/// synonyms (`k8s` finds Kubernetes); `5+ years` sets a minimum experience.
pub fn parse_query(q: &str) -> Result<(Vec<QueryTerm>, Option<f64>), QueryError> {
    if q.chars().count() > 500 {
        return Err(QueryError("`q` is longer than 500 characters".into()));
    }
    let mut terms = Vec::new();
    let mut min_years: Option<f64> = None;
    for (n, part) in q.split('"').enumerate() {
        if n % 2 == 1 {
            let tokens = tokens_of(part);
            if !tokens.is_empty() {
                terms.push(QueryTerm {
                    raw: part.trim().to_string(),
                    alternatives: skill_alternatives(part, tokens),
                });
            }
            continue;
        }
        let words: Vec<&str> = part.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            if let Some((years, used)) = years_at(&words, i) {
                min_years = Some(min_years.map_or(years, |m: f64| m.max(years)));
                i += used;
                continue;
            }
            // The longest run of up to three words that names a skill is one term.
            let mut taken = 1;
            for len in (2..=3).rev() {
                if i + len <= words.len() {
                    let joined = words[i..i + len].join(" ");
                    if hirewire_taxonomy::Taxonomy::global()
                        .normalize(&joined)
                        .is_some_and(|s| s.source == hirewire_taxonomy::Source::Curated)
                    {
                        taken = len;
                        break;
                    }
                }
            }
            let raw = words[i..i + taken].join(" ");
            i += taken;
            let tokens = tokens_of(&raw);
            if tokens.is_empty() || (taken == 1 && STOP_WORDS.contains(&tokens[0].as_str())) {
                continue;
            }
            terms.push(QueryTerm {
                alternatives: skill_alternatives(&raw, tokens),
                raw,
            });
        }
    }
    terms.dedup();
    if terms.len() > MAX_TERMS {
        return Err(QueryError(format!(
            "`q` has more than {MAX_TERMS} terms; narrow it with filters instead"
        )));
    }
    Ok((terms, min_years))
}

/// A piece of a candidate's profile or CV where the query matched, with the matches wrapped
/// in `<em>…</em>` and the rest HTML-escaped.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Highlight {
    /// `skills`, `label`, `work`, `summary`, `location`, `education` or `document`.
    pub field: String,
    pub snippet: String,
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// The byte ranges in `text` that match any alternative of any term.
fn matches_in(text: &str, terms: &[QueryTerm]) -> (Vec<(usize, usize)>, Vec<usize>) {
    let tokens = tokenize(text);
    let mut spans = Vec::new();
    let mut hit_terms = Vec::new();
    for (ti, term) in terms.iter().enumerate() {
        for alt in &term.alternatives {
            if alt.is_empty() || alt.len() > tokens.len() {
                continue;
            }
            for start in 0..=tokens.len() - alt.len() {
                if tokens[start..start + alt.len()]
                    .iter()
                    .zip(alt)
                    .all(|(t, a)| &t.text == a)
                {
                    spans.push((tokens[start].start, tokens[start + alt.len() - 1].end));
                    if !hit_terms.contains(&ti) {
                        hit_terms.push(ti);
                    }
                }
            }
        }
    }
    spans.sort_unstable();
    spans.dedup();
    (spans, hit_terms)
}

const SNIPPET: usize = 160;

/// Cuts `text` to about [`SNIPPET`] bytes around its first match and marks every match.
fn snippet(text: &str, spans: &[(usize, usize)]) -> String {
    let first = spans.first().map_or(0, |s| s.0);
    let mut from = first.saturating_sub(SNIPPET / 3);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    if from > 0 {
        from = text[..from]
            .rfind(char::is_whitespace)
            .map_or(from, |p| p + 1);
    }
    let mut to = (from + SNIPPET).min(text.len());
    while !text.is_char_boundary(to) {
        to += 1;
    }
    if to < text.len() {
        to = text[..to]
            .rfind(char::is_whitespace)
            .filter(|p| *p > first)
            .unwrap_or(to);
    }
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for &(s, e) in spans {
        if s < at || e > to {
            continue;
        }
        escape(&text[at..s], &mut out);
        out.push_str("<em>");
        escape(&text[s..e], &mut out);
        out.push_str("</em>");
        at = e;
    }
    escape(&text[at..to], &mut out);
    if to < text.len() {
        out.push('…');
    }
    out
}

/// Up to three snippets showing where the terms matched, each adding a term not shown yet.
pub fn highlights(
    c: &Candidate,
    document_text: Option<&str>,
    terms: &[QueryTerm],
) -> Vec<Highlight> {
    if terms.is_empty() {
        return vec![];
    }
    let p = &c.profile;
    let mut sources: Vec<(&str, String)> = Vec::new();
    if !p.skills.is_empty() {
        let names: Vec<&str> = p.skills.iter().map(|s| s.name.as_str()).collect();
        sources.push(("skills", names.join(", ")));
    }
    if let Some(l) = &p.basics.label {
        sources.push(("label", l.clone()));
    }
    for w in &p.work {
        let mut line = String::new();
        if let Some(t) = &w.position {
            line.push_str(t);
        }
        if let Some(n) = &w.name {
            let _ = write!(line, "{}{n}", if line.is_empty() { "" } else { " at " });
        }
        if !line.is_empty() {
            sources.push(("work", line));
        }
    }
    if let Some(s) = &p.basics.summary {
        sources.push(("summary", s.clone()));
    }
    if let Some(l) = &p.basics.location {
        let parts: Vec<&str> = [&l.city, &l.region, &l.country_code]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        sources.push(("location", parts.join(", ")));
    }
    for e in &p.education {
        let parts: Vec<&str> = [&e.study_type, &e.area, &e.institution]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        sources.push(("education", parts.join(", ")));
    }
    if let Some(text) = document_text {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            sources.push(("document", line.to_string()));
        }
    }
    let mut shown: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for (field, text) in sources {
        let (spans, hit) = matches_in(&text, terms);
        if spans.is_empty() || hit.iter().all(|t| shown.contains(t)) {
            continue;
        }
        shown.extend(hit);
        out.push(Highlight {
            field: field.to_string(),
            snippet: snippet(&text, &spans),
        });
        if out.len() == 3 || shown.len() == terms.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn tokens_fold_case_and_accents_and_keep_c_sharp_apart() {
        assert_eq!(toks("José Müller-Łukasz"), ["jose", "muller", "łukasz"]);
        assert_eq!(
            toks("C, C++, C#, .NET and Node.js"),
            ["c", "cplusplus", "csharp", "dotnet", "and", "node", "js"]
        );
        assert_eq!(toks("5+ years"), ["5", "years"]);
        let t = tokenize("Zoë Brontë");
        assert_eq!(&"Zoë Brontë"[t[1].start..t[1].end], "Brontë");
    }

    #[test]
    fn queries_expand_skills_and_read_years() {
        let (terms, years) = parse_query("rust k8s london 5+ years").unwrap();
        assert_eq!(years, Some(5.0));
        let raws: Vec<&str> = terms.iter().map(|t| t.raw.as_str()).collect();
        assert_eq!(raws, ["rust", "k8s", "london"]);
        assert!(
            terms[1]
                .alternatives
                .contains(&vec!["kubernetes".to_string()])
        );
        let (terms, _) = parse_query("\"machine learning\" in Berlin").unwrap();
        assert_eq!(terms[0].alternatives[0], ["machine", "learning"]);
        assert_eq!(terms.len(), 2, "the stop word is dropped");
        assert!(terms[0].tsquery().contains("'machine' <-> 'learning'"));
        // `Java SE` and `Core Java` match nothing `java` does not: the index is not asked.
        let (terms, _) = parse_query("java").unwrap();
        assert!(
            terms[0]
                .alternatives
                .contains(&vec!["core".into(), "java".into()])
        );
        let fts = terms[0].fts5();
        assert!(
            fts.contains("\"java\"") && fts.contains("\"jdk\"") && !fts.contains("core"),
            "{fts}"
        );
        assert_eq!(parse_query("10y").unwrap().1, Some(10.0));
        // Repeated words are one term; more than twelve distinct terms are refused.
        assert_eq!(parse_query(&"x ".repeat(30)).unwrap().0.len(), 1);
        let many: Vec<String> = (0..13).map(|i| format!("word{i}")).collect();
        assert!(parse_query(&many.join(" ")).is_err());
    }

    #[test]
    fn tiers_hold_exactly_for_the_scores_they_name() {
        for q in ["rust", "rust london", "rust \"platform team\" k8s"] {
            let (terms, _) = parse_query(q).unwrap();
            let query = SearchQuery {
                terms,
                ..SearchQuery::default()
            };
            let n = query.terms.len() as u32;
            // Every way the terms can have matched: in skills (and so in doc), in titles (and
            // doc), both, in doc alone, or not at all.
            let ways = [
                (true, false, true),
                (false, true, true),
                (true, true, true),
                (false, false, true),
                (false, false, false),
            ];
            for code in 0..5u32.pow(n) {
                let found: Vec<(bool, bool, bool)> = (0..n)
                    .map(|i| ways[(code / 5u32.pow(i) % 5) as usize])
                    .collect();
                let score: Option<i64> = found
                    .iter()
                    .map(|&(skills, titles, doc)| match (skills, titles, doc) {
                        (true, _, _) => Some(3),
                        (_, true, _) => Some(2),
                        (_, _, true) => Some(1),
                        _ => None,
                    })
                    .sum();
                // Fields no candidate matches the term in, as a store may find them.
                let absent: Vec<(usize, Field)> = (0..n as usize)
                    .flat_map(|i| [(i, Field::Skills), (i, Field::Titles)])
                    .filter(|&(i, f)| {
                        !found
                            .iter()
                            .enumerate()
                            .any(|(j, m)| j == i && if f == Field::Skills { m.0 } else { m.1 })
                    })
                    .collect();
                for s in 0..=query.max_score() + 1 {
                    let pruned = query.tier(s, &absent);
                    assert!(pruned.len() <= query.tier(s, &[]).len());
                    let holds = pruned.iter().any(|c| {
                        c.iter().all(|h| {
                            let (skills, titles, doc) = found[h.term];
                            let m = match h.field {
                                Field::Skills => skills,
                                Field::Titles => titles,
                                Field::Doc => doc,
                            };
                            m != h.negated
                        })
                    });
                    assert_eq!(holds, score == Some(s), "{q} {found:?} {s}");
                }
            }
        }
        let term = |raw: &str, alts: &[&str]| QueryTerm {
            raw: raw.into(),
            alternatives: alts.iter().map(|a| vec![a.to_string()]).collect(),
        };
        let mut query = SearchQuery {
            terms: vec![term("rust", &["rust"]), term("k8s", &["k8s", "kubernetes"])],
            ..SearchQuery::default()
        };
        assert_eq!(
            query.tiers(),
            [(6, None), (5, None), (4, None), (3, None), (2, None)]
        );
        assert_eq!(
            query.fts5_tier(6, &[]),
            r#"({skills} : ("rust") AND {skills} : ("k8s" OR "kubernetes"))"#
        );
        assert_eq!(
            query.fts5_tier(5, &[]),
            r#"(({skills} : ("rust") AND {titles} : ("k8s" OR "kubernetes")) NOT ({skills} : ("k8s" OR "kubernetes"))) OR (({titles} : ("rust") AND {skills} : ("k8s" OR "kubernetes")) NOT ({skills} : ("rust")))"#
        );
        assert_eq!(
            query.fts5_tier(2, &[]),
            r#"(({doc} : ("rust") AND {doc} : ("k8s" OR "kubernetes")) NOT ({skills} : ("rust") OR {titles} : ("rust") OR {skills} : ("k8s" OR "kubernetes") OR {titles} : ("k8s" OR "kubernetes")))"#
        );
        assert!(query.tier(7, &[]).is_empty() && query.tier(1, &[]).is_empty());
        // `rust` in no one's titles and `k8s` in no one's skills.
        assert_eq!(
            query.fts5_tier(5, &[(0, Field::Titles), (1, Field::Skills)]),
            r#"({skills} : ("rust") AND {titles} : ("k8s" OR "kubernetes"))"#
        );
        assert_eq!(query.fts5_tier(6, &[(1, Field::Skills)]), "");
        // A cursor resumes inside its own score's tier.
        query.page.after = Some(SearchQuery::cursor_of(4, 17, "cand_x"));
        assert_eq!(query.tiers(), [(4, Some(17)), (3, None), (2, None)]);
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        let (terms, _) = parse_query("kubernetes").unwrap();
        let (spans, _) = matches_in("Ran <b>K8s</b> & Kubernetes clusters", &terms);
        let s = snippet("Ran <b>K8s</b> & Kubernetes clusters", &spans);
        assert_eq!(
            s,
            "Ran &lt;b&gt;<em>K8s</em>&lt;/b&gt; &amp; <em>Kubernetes</em> clusters"
        );
    }
}
