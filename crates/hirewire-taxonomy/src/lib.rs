//! The skills taxonomy: canonical skill names with their synonyms, abbreviations,
//! categories and related skills, for normalising what candidates and jobs write
//! (`k8s` → Kubernetes, `Postgres` → PostgreSQL), autocompleting, spotting skills in
//! CV text, and giving partial credit for related skills when scoring.
//!
//! The data (`data/skills.tsv`, built by `scripts/taxonomy/build.py` from a curated core,
//! GitHub Linguist's languages and ESCO, see `data/README.md` for sources, licences and the
//! attribution to ship) is embedded in the binary and parsed once, on first use, by
//! [`Taxonomy::global`]. The sorted search index and the Aho-Corasick automaton cost more
//! than the parse, so they are built on the first `search` and `find_in_text` call instead;
//! [`Taxonomy::prepare`] builds them up front. Nothing here does I/O.
//!
//! ```
//! use hirewire_taxonomy::{Mode, Taxonomy};
//!
//! let tax = Taxonomy::global();
//! assert_eq!(tax.normalize("k8s").unwrap().name, "Kubernetes");
//! assert_eq!(tax.search("postg", 1)[0].name, "PostgreSQL");
//! assert_eq!(tax.relatedness("Postgres", "MySQL"), Some(0.5));
//! let text = "Skills: Go, C++, Node.js";
//! let found: Vec<&str> = tax
//!     .find_in_text(text, Mode::List)
//!     .iter()
//!     .map(|m| &text[m.start..m.end])
//!     .collect();
//! assert_eq!(found, ["Go", "C++", "Node.js"]);
//! ```

#![warn(missing_docs)]

mod fold;
mod matcher;

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub use fold::fold;
use matcher::Matcher;

/// The embedded data file; the build never reads the network or the disk at run time.
const DATA: &str = include_str!("../data/skills.tsv");

/// Index of a skill in [`Taxonomy`]; stable for one build of the data file only.
pub type SkillId = u32;

/// Where a skill comes from; curated skills rank first when otherwise equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Hand-curated core list (`scripts/taxonomy/curated.tsv`).
    Curated,
    /// GitHub Linguist programming and markup languages (npm `linguist-languages`).
    Linguist,
    /// ESCO skills and knowledge concepts (European Commission).
    Esco,
}

/// One skill of the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    /// This skill's index, as accepted by [`Taxonomy::get`].
    pub id: SkillId,
    /// Canonical name, as shown to users.
    pub name: &'static str,
    /// Narrow category, such as "Database" or "Programming language".
    pub category: &'static str,
    /// Synonyms and abbreviations that [`Taxonomy::normalize`] maps to this skill.
    pub aliases: Vec<&'static str>,
    /// Canonical names of curated related skills (partial credit in scoring).
    pub related: Vec<&'static str>,
    /// Which source the skill comes from.
    pub source: Source,
}

/// How [`Taxonomy::find_in_text`] reads the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A skills section or a comma/bullet list: short ambiguous names ("Go", "R") count.
    List,
    /// Free text: ambiguous names need their exact casing or are skipped.
    Prose,
}

/// A skill mentioned in a text, with byte offsets into that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SkillMatch {
    /// The skill that was found.
    pub skill: SkillId,
    /// Byte offset of the first byte of the mention.
    pub start: usize,
    /// Byte offset just past the mention.
    pub end: usize,
}

/// How a form (a name or an alias) may be used by `find_in_text`; set by a marker in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Any casing, in lists and prose.
    Normal,
    /// `~`: any casing in lists; exact casing in prose.
    ProseExact,
    /// `!`: lists only, any casing.
    ListOnly,
    /// `=`: exact casing, in lists and prose.
    Exact,
    /// `%`: lists only, exact casing.
    ListOnlyExact,
    /// `^`: never in text; normalisation and search only.
    Never,
}

/// A name or alias with its policy, kept so the matcher can be built on first use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Form {
    pub(crate) text: &'static str,
    pub(crate) policy: Policy,
    pub(crate) skill: SkillId,
}

/// One searchable key: the folded name or alias of a skill.
#[derive(Debug)]
struct Key {
    key: Box<str>,
    skill: SkillId,
    /// 0 for a canonical name, 1 for a curated alias, 2 for another alias.
    kind: u8,
}

/// What `search` needs beyond the exact-lookup map; built on first use because sorting
/// every key costs more than the whole parse.
#[derive(Debug)]
struct SearchIndex {
    /// Folded names and aliases, sorted: prefix ranges by binary search.
    keys: Vec<Key>,
    /// Folded words of names after the first word, sorted: "word prefix inside a name".
    words: Vec<(Box<str>, SkillId)>,
    /// Every folded name followed by `\n`, for the substring pass, with each name's start.
    blob: String,
    starts: Vec<u32>,
}

/// The whole taxonomy; get the embedded one with [`Taxonomy::global`].
#[derive(Debug)]
pub struct Taxonomy {
    skills: Vec<Skill>,
    related_ids: Vec<Vec<SkillId>>,
    /// Digest of a folded name or alias → skill; the first (most trusted) skill keeps a
    /// shared key.
    exact: HashMap<u64, SkillId, fold::FxBuild>,
    /// Index of each skill's first form in `forms` (its name; its aliases follow).
    form_start: Vec<u32>,
    forms: Vec<Form>,
    index: OnceLock<SearchIndex>,
    matcher: OnceLock<Matcher>,
}

static GLOBAL: OnceLock<Taxonomy> = OnceLock::new();

fn split_marker(form: &'static str) -> (&'static str, Policy) {
    let policy = match form.as_bytes().last() {
        Some(b'~') => Policy::ProseExact,
        Some(b'!') => Policy::ListOnly,
        Some(b'=') => Policy::Exact,
        Some(b'%') => Policy::ListOnlyExact,
        Some(b'^') => Policy::Never,
        _ => return (form, default_policy(form, Policy::Normal)),
    };
    let text = &form[..form.len() - 1];
    (text, default_policy(text, policy))
}

/// Forms of one or two characters are ambiguous whatever the data says ("Go", "R", "S3").
fn default_policy(text: &str, policy: Policy) -> Policy {
    let chars = text.chars().count();
    match policy {
        Policy::Normal if chars <= 2 => Policy::ProseExact,
        Policy::ListOnly if chars <= 1 => Policy::ListOnlyExact,
        p => p,
    }
}

/// Splits a " | "-separated field (the build replaces `|` inside forms, so one char will do).
fn split_list(field: &'static str) -> impl Iterator<Item = &'static str> {
    field.split('|').map(str::trim).filter(|s| !s.is_empty())
}

impl Taxonomy {
    /// The embedded taxonomy, parsed on first call and shared afterwards.
    pub fn global() -> &'static Taxonomy {
        GLOBAL.get_or_init(|| Taxonomy::parse(DATA))
    }

    /// Builds now what `search` and `find_in_text` would otherwise build on first use
    /// (tens of milliseconds), e.g. at server start-up.
    pub fn prepare(&self) {
        self.search_index();
        self.matcher();
    }

    /// Parses the data file format (see `data/README.md`); malformed lines are skipped.
    fn parse(data: &'static str) -> Taxonomy {
        let mut skills = Vec::with_capacity(16_384);
        let mut forms = Vec::with_capacity(32_768);
        for line in data.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(name), Some(category), Some(source)) =
                (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let aliases = cols.next().unwrap_or("");
            let related = cols.next().unwrap_or("");
            let source = match source {
                "curated" => Source::Curated,
                "linguist" => Source::Linguist,
                _ => Source::Esco,
            };
            let id = skills.len() as SkillId;
            let (name, policy) = split_marker(name);
            forms.push(Form {
                text: name,
                policy,
                skill: id,
            });
            let mut alias_texts = Vec::new();
            for alias in split_list(aliases) {
                let (text, policy) = split_marker(alias);
                forms.push(Form {
                    text,
                    policy,
                    skill: id,
                });
                alias_texts.push(text);
            }
            skills.push(Skill {
                id,
                name,
                category,
                aliases: alias_texts,
                related: split_list(related).collect(),
                source,
            });
        }
        let mut exact = HashMap::with_capacity_and_hasher(forms.len(), fold::FxBuild::default());
        let mut form_start = Vec::with_capacity(skills.len() + 1);
        let mut buf = String::new();
        for (i, f) in forms.iter().enumerate() {
            if form_start.len() == f.skill as usize {
                form_start.push(i as u32);
            }
            fold::fold_into(f.text, &mut buf);
            if !buf.is_empty() {
                exact.entry(fold::key_hash(&buf)).or_insert(f.skill);
            }
        }
        form_start.push(forms.len() as u32);
        let mut tax = Taxonomy {
            skills,
            related_ids: Vec::new(),
            exact,
            form_start,
            forms,
            index: OnceLock::new(),
            matcher: OnceLock::new(),
        };
        tax.related_ids = tax
            .skills
            .iter()
            .map(|s| s.related.iter().filter_map(|n| tax.lookup(n)).collect())
            .collect();
        tax
    }

    fn search_index(&self) -> &SearchIndex {
        self.index.get_or_init(|| {
            let mut keys: Vec<Key> = Vec::with_capacity(self.forms.len());
            for (i, f) in self.forms.iter().enumerate() {
                let key = fold(f.text);
                // Only the key's owner lists it, as `normalize` would answer.
                if key.is_empty() || self.exact.get(&fold::key_hash(&key)) != Some(&f.skill) {
                    continue;
                }
                let is_name = i == 0 || self.forms[i - 1].skill != f.skill;
                let kind = if is_name {
                    0
                } else if self.skills[f.skill as usize].source == Source::Curated {
                    1
                } else {
                    2
                };
                keys.push(Key {
                    key: key.into_boxed_str(),
                    skill: f.skill,
                    kind,
                });
            }
            keys.sort_unstable_by(|a, b| a.key.cmp(&b.key).then(a.skill.cmp(&b.skill)));
            let mut words = Vec::new();
            let mut blob = String::new();
            let mut starts = Vec::with_capacity(self.skills.len());
            for s in &self.skills {
                starts.push(blob.len() as u32);
                blob.push_str(&fold(s.name));
                blob.push('\n');
                for w in s.name.split([' ', '-', '/']).skip(1) {
                    let w = fold(w);
                    if w.len() >= 2 {
                        words.push((w.into_boxed_str(), s.id));
                    }
                }
            }
            words.sort_unstable();
            words.dedup();
            SearchIndex {
                keys,
                words,
                blob,
                starts,
            }
        })
    }

    fn matcher(&self) -> &Matcher {
        self.matcher
            .get_or_init(|| Matcher::new(&self.forms, &self.skills))
    }

    /// Number of skills.
    pub fn len(&self) -> usize {
        self.skills.len()
    }

    /// Whether the taxonomy is empty (never, for the embedded one).
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// The skill with this id, if any.
    pub fn get(&self, id: SkillId) -> Option<&Skill> {
        self.skills.get(id as usize)
    }

    /// All skills, in data file order (curated first).
    pub fn iter(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter()
    }

    fn lookup(&self, raw: &str) -> Option<SkillId> {
        self.lookup_exact(raw).or_else(|| {
            // CVs write "Amazon Web Services (AWS)" and "Java 17": try the name without the
            // parenthesis, then inside it, then without a trailing version number.
            if let Some((outer, inner)) = raw.split_once('(') {
                let inner = inner.split(')').next().unwrap_or("");
                return self
                    .lookup_exact(outer)
                    .or_else(|| self.lookup_exact(inner));
            }
            let trimmed = raw.trim_end();
            let (head, last) = trimmed.rsplit_once(char::is_whitespace)?;
            let version = last.strip_prefix(['v', 'V']).unwrap_or(last);
            let is_version = !version.is_empty()
                && version.starts_with(|c: char| c.is_ascii_digit())
                && version
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == 'x');
            if is_version {
                self.lookup_exact(head)
            } else {
                None
            }
        })
    }

    fn lookup_exact(&self, raw: &str) -> Option<SkillId> {
        let key = fold(raw);
        if key.is_empty() {
            return None;
        }
        let id = *self.exact.get(&fold::key_hash(&key))?;
        let forms = &self.forms[self.form_start[id as usize] as usize..][..self.forms_len(id)];
        forms.iter().any(|f| fold(f.text) == key).then_some(id)
    }

    /// How many forms (name and aliases) the skill has.
    fn forms_len(&self, id: SkillId) -> usize {
        (self.form_start[id as usize + 1] - self.form_start[id as usize]) as usize
    }

    /// The skill whose name or alias equals `raw` after folding case, separators and
    /// surrounding punctuation ("node js" = "Node.js"; "C", "C#", "C++", ".NET" stay distinct),
    /// else the one named before or inside a parenthesis, or before a version ("Java 17").
    pub fn normalize(&self, raw: &str) -> Option<&Skill> {
        self.lookup(raw).and_then(|id| self.get(id))
    }

    /// Autocomplete, best first: exact name or alias, name prefix, alias prefix, word prefix
    /// inside a name, substring; curated before other sources, then shorter names first.
    pub fn search(&self, q: &str, limit: usize) -> Vec<&Skill> {
        let q_raw = q;
        let q = fold(q);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let ix = self.search_index();
        // (rank, source, name length, id): sorting these tuples is the whole ordering.
        let mut cands: Vec<(u8, Source, u32, SkillId)> = Vec::new();
        let cand = |rank: u8, id: SkillId| {
            let s = &self.skills[id as usize];
            (rank, s.source, s.name.len() as u32, id)
        };
        let lo = ix.keys.partition_point(|k| *k.key < *q);
        for k in &ix.keys[lo..] {
            if !k.key.starts_with(&*q) {
                break;
            }
            // Another source's alias ("man" for Roff) is too obscure to win outright.
            let rank = match (*k.key == *q, k.kind) {
                (true, 0 | 1) => 0,
                (_, 0) => 1,
                _ => 2,
            };
            cands.push(cand(rank, k.skill));
        }
        // Lower ranks only matter when the higher ones cannot fill the page.
        if distinct_count(&cands) < limit {
            let lo = ix.words.partition_point(|(w, _)| **w < *q);
            for (w, id) in &ix.words[lo..] {
                if !w.starts_with(&*q) {
                    break;
                }
                cands.push(cand(3, *id));
            }
        }
        if distinct_count(&cands) < limit {
            for pos in memchr::memmem::find_iter(ix.blob.as_bytes(), q.as_bytes()) {
                let id = ix.starts.partition_point(|&st| st as usize <= pos) - 1;
                cands.push(cand(4, id as SkillId));
            }
        }
        let found: Vec<&Skill> = finish(&mut cands, limit)
            .into_iter()
            .map(|id| &self.skills[id as usize])
            .collect();
        if found.is_empty() {
            // "Java 17", "Amazon Web Services (AWS)": no key starts so, but it normalises.
            return self.normalize(q_raw).into_iter().collect();
        }
        found
    }

    /// Skills mentioned in `text`, in text order: longest match first, on word boundaries
    /// ("C#", "C++", ".NET" and "Node.js" included), never overlapping.
    pub fn find_in_text(&self, text: &str, mode: Mode) -> Vec<SkillMatch> {
        self.matcher().find(text, mode)
    }

    /// 1.0 for the same skill after normalisation, 0.5 for curated related skills, 0.25 for
    /// skills in the same curated or Linguist category, otherwise `None`.
    pub fn relatedness(&self, a: &str, b: &str) -> Option<f32> {
        self.relatedness_ids(self.lookup(a)?, self.lookup(b)?)
    }

    /// [`Taxonomy::relatedness`] for skills already resolved to ids.
    pub fn relatedness_ids(&self, a: SkillId, b: SkillId) -> Option<f32> {
        let (sa, sb) = (self.get(a)?, self.get(b)?);
        if a == b {
            Some(1.0)
        } else if self.related_ids[a as usize].contains(&b) {
            Some(0.5)
        } else if sa.category == sb.category
            && sa.source != Source::Esco
            && sb.source != Source::Esco
        {
            // ESCO's categories here are broad guesses, too coarse for credit.
            Some(0.25)
        } else {
            None
        }
    }
}

/// How many distinct skills the candidates hold.
fn distinct_count(cands: &[(u8, Source, u32, SkillId)]) -> usize {
    let mut ids: Vec<SkillId> = cands.iter().map(|c| c.3).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// The best `limit` distinct skills of the candidates, best first.
fn finish(cands: &mut [(u8, Source, u32, SkillId)], limit: usize) -> Vec<SkillId> {
    // A skill's best entry sorts before its others, so the top entries hold the answer as
    // long as they contain `limit` distinct skills; otherwise sort everything.
    let keep = limit.saturating_mul(8);
    if cands.len() > keep {
        cands.select_nth_unstable(keep);
    }
    let top = cands.len().min(keep.saturating_add(1));
    let mut out = pick(&mut cands[..top], limit);
    if out.len() < limit && cands.len() > top {
        out = pick(cands, limit);
    }
    out
}

/// Sorts the candidates and keeps each skill's first (best) entry, up to `limit`.
fn pick(cands: &mut [(u8, Source, u32, SkillId)], limit: usize) -> Vec<SkillId> {
    cands.sort_unstable();
    let mut seen = HashSet::with_capacity_and_hasher(cands.len(), fold::FxBuild::default());
    cands
        .iter()
        .filter(|c| seen.insert(c.3))
        .map(|c| c.3)
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests;
