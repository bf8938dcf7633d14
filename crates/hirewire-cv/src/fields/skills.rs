//! Skills: the items of skills sections, named as the taxonomy names them (unknown items kept
//! as written when they look like a skill), plus tools the work history mentions.

use hirewire_taxonomy::{Mode, Source, Taxonomy};

/// Splits a skills-section line into items.
fn items(line: &str) -> Vec<&str> {
    line.split([',', '·', '|', '•', ';', '\t', '▪', '◦', '●'])
        .map(|s| {
            s.trim()
                .trim_start_matches(['-', '*', '–', '+', '>'])
                .trim()
                .trim_end_matches('.')
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Canonical skill names from the lines of skills sections, in order, without duplicates.
pub fn from_lists(lines: &[&str]) -> Vec<String> {
    let tax = Taxonomy::global();
    let lines = mend_wrapped(lines);
    let mut out: Vec<String> = Vec::new();
    let push = |name: String, out: &mut Vec<String>| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    };
    for line in lines.iter().map(|l| l.as_ref()) {
        // "Languages: Python, Go" inside a skills section: drop the label.
        let line = match line.split_once(':') {
            Some((label, rest))
                if label.split_whitespace().count() <= 3
                    && !rest.trim().is_empty()
                    && !rest.starts_with("//") =>
            {
                rest
            }
            _ => line,
        };
        for item in items(line) {
            // "Python (expert)", "Java — 8 years": the skill is before the qualifier.
            let core = item.split(['(', '[', '—']).next().unwrap_or(item).trim();
            if core.is_empty() {
                continue;
            }
            if let Some(s) = tax.normalize(core) {
                push(s.name.to_owned(), &mut out);
                continue;
            }
            let found = tax.find_in_text(core, Mode::List);
            // Several skills in one item ("Java/Spring", "Docker and Kubernetes") only when
            // they cover every word; "Polish GAAP" stays one skill.
            let mut uncovered = String::new();
            let mut last = 0;
            for m in &found {
                uncovered.push_str(core.get(last..m.start).unwrap_or(""));
                last = m.end;
            }
            uncovered.push_str(core.get(last..).unwrap_or(""));
            let leftover = uncovered
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| {
                    !w.is_empty()
                        && !["and", "und", "y", "et", "e", "or"]
                            .contains(&w.to_lowercase().as_str())
                })
                .count();
            // Skills side by side with only spaces between them are one name ("Polish GAAP").
            let separated = found.len() < 2
                || found.windows(2).all(|w| {
                    core.get(w[0].end..w[1].start)
                        .is_some_and(|gap| !gap.trim().is_empty())
                });
            if !found.is_empty() && leftover == 0 && separated {
                for m in found {
                    if let Some(s) = tax.get(m.skill) {
                        push(s.name.to_owned(), &mut out);
                    }
                }
                continue;
            }
            if looks_like_skill(core) {
                push(core.to_owned(), &mut out);
            }
        }
    }
    out
}

/// Joins an item that the layout wrapped ("…, SQL" / "Server"): a line of a comma list that
/// does not end with a separator, followed by a short line with no separator.
fn mend_wrapped<'a>(lines: &[&'a str]) -> Vec<std::borrow::Cow<'a, str>> {
    let seps = [',', '·', '|', ';'];
    let mut out: Vec<std::borrow::Cow<'a, str>> = Vec::new();
    for l in lines {
        let t = l.trim();
        if let Some(prev) = out.last_mut() {
            let p = prev.trim_end();
            let list_line = p.contains(seps);
            let short = !t.contains(seps) && t.split_whitespace().count() <= 2 && !t.is_empty();
            if list_line && !t.starts_with(['•', '-', '*']) && (p.ends_with(seps) || short) {
                let joined = format!("{p} {t}");
                *prev = std::borrow::Cow::Owned(joined);
                continue;
            }
        }
        out.push(std::borrow::Cow::Borrowed(t));
    }
    out
}

fn looks_like_skill(s: &str) -> bool {
    let words = s.split_whitespace().count();
    (1..=5).contains(&words)
        && s.chars().count() <= 48
        && s.chars().any(char::is_alphabetic)
        && !s.ends_with(':')
}

/// Skills named in free text (work highlights, summary). The broad ESCO vocabulary matches
/// ordinary words in prose ("management", "planning"), so an ESCO entry counts only when it
/// is written like a name: an acronym, or capitalised away from the start of a sentence.
pub fn from_prose(text: &str) -> Vec<String> {
    let tax = Taxonomy::global();
    let mut out: Vec<String> = Vec::new();
    for m in tax.find_in_text(text, Mode::Prose) {
        let span = text.get(m.start..m.end).unwrap_or("");
        if let Some(s) = tax.get(m.skill)
            && (s.source != Source::Esco || written_as_name(text, m.start, span))
            && !out.iter().any(|o| o == s.name)
        {
            out.push(s.name.to_owned());
        }
    }
    out
}

fn written_as_name(text: &str, start: usize, span: &str) -> bool {
    if span.chars().filter(|c| c.is_uppercase()).count() >= 2 {
        return true;
    }
    let before = text[..start].trim_end();
    let sentence_start =
        before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':', ';', '•', '-']);
    span.chars().next().is_some_and(char::is_uppercase) && !sentence_start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_are_split_and_normalised() {
        let s = from_lists(&[
            "• K8s",
            "Postgres, Rust · Go | Underwater basket weaving (expert)",
        ]);
        assert!(s.contains(&"Kubernetes".to_string()), "{s:?}");
        assert!(s.contains(&"PostgreSQL".to_string()), "{s:?}");
        assert!(s.contains(&"Rust".to_string()), "{s:?}");
        assert!(s.contains(&"Go".to_string()), "{s:?}");
        assert!(
            s.contains(&"Underwater basket weaving".to_string()),
            "{s:?}"
        );
    }
}
