//! The candidate's name: the first prominent line that reads like a person's name.

use super::is_role_text;

const PARTICLES: &[&str] = &[
    "van", "der", "den", "de", "del", "della", "la", "le", "da", "das", "dos", "do", "di", "von",
    "zu", "du", "des", "ten", "ter", "bin", "binti", "al", "el", "y", "e", "af", "av",
];

const NOT_NAMES: &[&str] = &[
    "curriculum vitae",
    "resume",
    "résumé",
    "cv",
    "lebenslauf",
    "currículum",
    "curriculum",
    "hoja de vida",
    "personal details",
    "contact details",
];

/// Whether `line` could be a person's name.
pub fn looks_like_name(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() || t.chars().count() > 60 {
        return false;
    }
    let lower = t.to_lowercase();
    if NOT_NAMES.contains(&lower.as_str()) || crate::sections::heading_kind(t).is_some() {
        return false;
    }
    if t.chars().any(|c| {
        c.is_ascii_digit()
            || matches!(
                c,
                '@' | ',' | '|' | ':' | '(' | ')' | '/' | '•' | '·' | '+' | '&'
            )
    }) {
        return false;
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    if !(2..=5).contains(&words.len()) {
        return false;
    }
    let mut capitalised = 0;
    for w in &words {
        if PARTICLES.contains(&w.to_lowercase().as_str())
            && w.chars().next().is_some_and(char::is_lowercase)
        {
            continue;
        }
        let first = w.chars().next().unwrap_or(' ');
        if !first.is_uppercase() {
            return false;
        }
        if !w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’' | '.'))
        {
            return false;
        }
        capitalised += 1;
    }
    if capitalised < 2 {
        return false;
    }
    !is_role_text(t) && super::location::country_by_name(t).is_none()
}

/// The name among `header` lines (the text before the first heading), else the first
/// name-like line of the whole text that a headline follows, else the first name-like line.
pub fn find(header: &[String], all: &[&str]) -> Option<String> {
    if let Some(n) = header.iter().take(8).find(|l| looks_like_name(l)) {
        return Some(tidy(n));
    }
    let candidates: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| looks_like_name(l))
        .map(|(i, _)| i)
        .collect();
    for &i in &candidates {
        let next = all[i + 1..].iter().find(|l| !l.trim().is_empty());
        if next.is_some_and(|n| is_role_text(n) && n.len() < 80) {
            return Some(tidy(all[i]));
        }
    }
    candidates.first().map(|&i| tidy(all[i]))
}

fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "José Martínez-López",
            "Daan de Vries",
            "Nguyễn Thị Hương",
            "Michael O'Connor",
            "Laura García Sánchez",
            "Pierre-Antoine Rousseau",
            "Ludwig van der Berg",
        ] {
            assert!(looks_like_name(n), "{n}");
        }
        for n in [
            "Curriculum Vitae",
            "Senior Backend Engineer",
            "Professional Experience",
            "Madrid, España",
            "jane@example.com",
            "Polish (Native)",
            "Data Engineer",
        ] {
            assert!(!looks_like_name(n), "{n}");
        }
    }

    #[test]
    fn sidebar_first() {
        let all = [
            "Contact",
            "jane@x.com",
            "Skills",
            "• Rust",
            "Jane Doe",
            "Backend Engineer",
        ];
        assert_eq!(find(&[], &all).as_deref(), Some("Jane Doe"));
    }
}
