//! Spotting skills in text with one Aho-Corasick automaton over every matchable form.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::fold::is_word;
use crate::{Form, Mode, Policy, Skill, SkillId, SkillMatch, Source};

/// A pattern of the automaton and what it stands for.
#[derive(Debug)]
struct Pat {
    skill: SkillId,
    policy: Policy,
    source: Source,
    /// The spelling with its data casing, for the exact-casing policies.
    text: Box<str>,
    /// A single capitalised word ("Swift", "Spring"), doubtful at the start of a sentence.
    title_word: bool,
    /// The skill's category: an ambiguous mention in prose counts next to a sure one of the
    /// same category ("C, C++ and Python").
    category: &'static str,
}

/// How far a candidate mention may be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Counts on its own.
    Sure,
    /// Counts only in an enumeration next to a sure mention of the same category.
    Weak,
    /// Never counts.
    No,
}

/// Words after a hyphen that still leave the skill standing alone ("React-based").
const HYPHEN_SUFFIXES: &[&str] = &[
    "based",
    "driven",
    "powered",
    "backed",
    "native",
    "first",
    "centric",
    "focused",
    "related",
    "certified",
    "compatible",
    "enabled",
    "friendly",
    "specific",
    "ready",
    "style",
    "heavy",
];

#[derive(Debug)]
pub(crate) struct Matcher {
    ac: AhoCorasick,
    pats: Vec<Pat>,
}

/// The spellings of a form to look for: itself, and for curated and Linguist forms with inner
/// separators the spaced and joined variants ("Node.js" → "Node js", "Nodejs").
fn variants(form: &str, source: Source) -> Vec<String> {
    let mut out = vec![form.to_string()];
    if source == Source::Esco {
        return out;
    }
    let chars: Vec<char> = form.chars().collect();
    let inner_sep = |i: usize| {
        i > 0
            && i + 1 < chars.len()
            && matches!(chars[i], '.' | '-' | '_' | '/' | ' ')
            && chars[i - 1].is_alphanumeric()
            && chars[i + 1].is_alphanumeric()
    };
    if !(0..chars.len()).any(inner_sep) {
        return out;
    }
    let spaced: String = (0..chars.len())
        .map(|i| if inner_sep(i) { ' ' } else { chars[i] })
        .collect();
    let joined: String = (0..chars.len())
        .filter(|&i| !inner_sep(i))
        .map(|i| chars[i])
        .collect();
    let hyphened: String = (0..chars.len())
        .map(|i| if inner_sep(i) { '-' } else { chars[i] })
        .collect();
    for v in [spaced, joined, hyphened] {
        if v.len() >= 3 && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl Matcher {
    pub(crate) fn new(forms: &[Form], skills: &[Skill]) -> Matcher {
        let mut seen = HashSet::new();
        let mut pats = Vec::new();
        let mut texts = Vec::new();
        for f in forms {
            if f.policy == Policy::Never || f.text.is_empty() {
                continue;
            }
            let source = skills[f.skill as usize].source;
            for v in variants(f.text, source) {
                // Earlier forms (curated first) keep a spelling that later ones repeat.
                if !seen.insert(v.to_ascii_lowercase()) {
                    continue;
                }
                let mut cs = v.chars();
                let title_word = cs.next().is_some_and(|c| c.is_ascii_uppercase())
                    && cs.all(|c| c.is_ascii_lowercase());
                pats.push(Pat {
                    skill: f.skill,
                    policy: f.policy,
                    source,
                    text: v.clone().into_boxed_str(),
                    title_word,
                    category: skills[f.skill as usize].category,
                });
                texts.push(v);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(texts.iter().map(|t| t.to_ascii_lowercase()))
            .expect("skill patterns build an automaton");
        Matcher { ac, pats }
    }

    pub(crate) fn find(&self, text: &str, mode: Mode) -> Vec<SkillMatch> {
        let (norm, map) = squeeze(text, mode);
        // Patterns are lower case: a case-sensitive automaton builds several times faster
        // than an ASCII-case-insensitive one; ASCII lowering keeps every byte offset.
        let lower = norm.to_ascii_lowercase();
        let mut sure: Vec<(usize, usize, usize)> = Vec::new();
        let mut weak: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.ac.find_overlapping_iter(lower.as_str()) {
            let (s, e, p) = (m.start(), m.end(), m.pattern().as_usize());
            match verdict(&self.pats[p], mode, &norm, s, e) {
                Verdict::Sure => sure.push((s, e, p)),
                Verdict::Weak => weak.push((s, e, p)),
                Verdict::No => {}
            }
        }
        // Longest first, then leftmost, then the more trusted source.
        let order =
            |&(s, e, p): &(usize, usize, usize)| (usize::MAX - (e - s), s, self.pats[p].source, p);
        sure.sort_unstable_by_key(order);
        weak.sort_unstable_by_key(order);
        // Per byte of `norm`: 1 + the pattern of the accepted mention covering it, or 0.
        let mut owner = vec![0u32; norm.len()];
        let mut accepted = Vec::new();
        let mut take = |(s, e, p): (usize, usize, usize), owner: &mut [u32]| {
            if owner[s..e].iter().any(|&o| o != 0) {
                return false;
            }
            owner[s..e].iter_mut().for_each(|o| *o = p as u32 + 1);
            accepted.push((s, e, p));
            true
        };
        for c in sure {
            take(c, &mut owner);
        }
        // Weak mentions join an enumeration one neighbour at a time ("C, R, Go and Python").
        let mut changed = !weak.is_empty();
        while changed {
            changed = false;
            for c in &mut weak {
                let (s, e, p) = *c;
                if p != usize::MAX
                    && self.beside_same_category(&norm, &owner, s, e, p)
                    && take(*c, &mut owner)
                {
                    c.2 = usize::MAX;
                    changed = true;
                }
            }
        }
        let mut out: Vec<SkillMatch> = accepted
            .into_iter()
            .map(|(s, e, p)| SkillMatch {
                skill: self.pats[p].skill,
                start: map[s],
                end: map[e - 1] + 1,
            })
            .collect();
        out.sort_unstable_by_key(|m| (m.start, m.end));
        out
    }

    /// Whether `norm[s..e]` is separated only by a list separator from an accepted mention of
    /// a skill in the same category as pattern `p`.
    fn beside_same_category(
        &self,
        norm: &str,
        owner: &[u32],
        s: usize,
        e: usize,
        p: usize,
    ) -> bool {
        let category = self.pats[p].category;
        let same = |o: u32| o != 0 && self.pats[o as usize - 1].category == category;
        let left = norm[..s].trim_end();
        if let Some(rest) = strip_separator_end(left) {
            let end = rest.trim_end().len();
            if end > 0 && same(owner[end - 1]) {
                return true;
            }
        }
        let right = &norm[e..];
        if let Some(rest) = strip_separator_start(right.trim_start()) {
            let start = norm.len() - rest.trim_start().len();
            if start < norm.len() && same(owner[start]) {
                return true;
            }
        }
        false
    }
}

/// Punctuation that separates the items of an enumeration.
const LIST_PUNCT: [char; 5] = [',', '/', '&', ';', '|'];

/// `text` (trimmed at its end) without a trailing list separator: ",", "/", "and", ", or"…
fn strip_separator_end(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_suffix(LIST_PUNCT) {
        return Some(rest);
    }
    ["and", "or"].iter().find_map(|w| {
        // A whole word: "brand" does not end in "and".
        let rest = text.strip_suffix(w)?.strip_suffix(' ')?.trim_end();
        Some(rest.strip_suffix(',').unwrap_or(rest))
    })
}

/// `text` (trimmed at its start) without a leading list separator: ",", "/", "and", ", or"…
fn strip_separator_start(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix(LIST_PUNCT) {
        return Some(strip_word_start(rest.trim_start()).unwrap_or(rest));
    }
    strip_word_start(text)
}

/// `text` without a leading "and" or "or" followed by a space.
fn strip_word_start(text: &str) -> Option<&str> {
    ["and", "or"]
        .iter()
        .find_map(|w| text.strip_prefix(w).filter(|r| r.starts_with(' ')))
}

/// Collapses runs of blanks to one space (in prose also a single line break, which PDF
/// extraction puts inside phrases), so multi-word skills match; returns the new text and, per
/// byte of it, the byte offset in the original.
fn squeeze(text: &str, mode: Mode) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let blank = |c: char| c == ' ' || c == '\t' || c == '\u{a0}' || c == '\r';
        let joinable = |c: char| blank(c) || (mode == Mode::Prose && c == '\n');
        if joinable(c) && !(c == '\n' && chars.peek().is_some_and(|&(_, n)| n == '\n')) {
            let mut newlines = usize::from(c == '\n');
            while let Some(&(_, n)) = chars.peek() {
                if blank(n) || (joinable(n) && newlines == 0) {
                    newlines += usize::from(n == '\n');
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(' ');
            map.push(i);
        } else {
            out.push(c);
            for k in 0..c.len_utf8() {
                map.push(i + k);
            }
        }
    }
    (out, map)
}

fn verdict(pat: &Pat, mode: Mode, norm: &str, s: usize, e: usize) -> Verdict {
    if !on_boundaries(norm, s, e) {
        return Verdict::No;
    }
    let exact = norm[s..e] == *pat.text;
    let sure_or = |weak| if exact { Verdict::Sure } else { weak };
    match (pat.policy, mode) {
        (Policy::Normal, _) | (Policy::ProseExact | Policy::ListOnly, Mode::List) => Verdict::Sure,
        (Policy::Exact, _) | (Policy::ListOnlyExact, Mode::List) => sure_or(Verdict::No),
        (Policy::ProseExact, Mode::Prose) if exact && !doubtful_title(pat, norm, s, e) => {
            Verdict::Sure
        }
        // ESCO's categories are too broad to vouch for a neighbour.
        _ if pat.source == Source::Esco => Verdict::No,
        (Policy::ProseExact | Policy::ListOnly, Mode::Prose) => Verdict::Weak,
        (Policy::ListOnlyExact, Mode::Prose) if exact => Verdict::Weak,
        _ => Verdict::No,
    }
}

/// Whether a mention stands alone: not glued to a word on either side ("Javanese", "T-SQL",
/// "C++" for C).
fn on_boundaries(norm: &str, s: usize, e: usize) -> bool {
    let before = norm[..s].chars().next_back();
    let after = norm[e..].chars().next();
    let before_ok = match before {
        None => true,
        Some(c) if is_word(c) => false,
        Some('@') => false,
        Some('-' | '.' | '&') => !norm[..s - 1].chars().next_back().is_some_and(is_word),
        Some(_) => true,
    };
    if !before_ok {
        return false;
    }
    match after {
        None => true,
        Some(c) if is_word(c) => false,
        Some('+' | '#') => false,
        // "Node.js" is not "Node"; "R&D" is not R.
        Some('.' | '&') => !norm[e + 1..].chars().next().is_some_and(is_word),
        Some('-') => {
            let rest = &norm[e + 1..];
            let word_end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
            let word = &rest[..word_end];
            word.is_empty()
                || HYPHEN_SUFFIXES
                    .iter()
                    .any(|suffix| word.eq_ignore_ascii_case(suffix))
        }
        Some(_) => true,
    }
}

/// A capitalised ambiguous word in prose that is probably just a word: "Swift delivery…" at
/// the start of a sentence, or part of a capitalised name run ("Spring Street").
fn doubtful_title(pat: &Pat, norm: &str, s: usize, e: usize) -> bool {
    if !pat.title_word {
        return false;
    }
    let prev = norm[..s].trim_end().chars().next_back();
    let next = norm[e..].strip_prefix(' ').and_then(|r| r.chars().next());
    matches!(prev, None | Some('.' | '!' | '?')) || next.is_some_and(char::is_uppercase)
}
