//! Section detection: heading lines in English, German, Spanish, French, Dutch and
//! Portuguese split the text into the header (name and contact block) and named sections.

use std::collections::HashMap;
use std::sync::LazyLock;

/// What a section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Everything before the first heading: name, headline, contact block.
    Header,
    /// Summary, profile, about me.
    Summary,
    /// Work experience.
    Experience,
    /// Education.
    Education,
    /// Skills, competencies, tools.
    Skills,
    /// Spoken languages.
    Languages,
    /// Contact details.
    Contact,
    /// Anything else with a heading (certifications, interests, projects, …).
    Other,
}

/// A run of lines under one heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// What the heading says the section holds.
    pub kind: SectionKind,
    /// The heading as written.
    pub heading: Option<String>,
    /// The section's lines, heading excluded.
    pub lines: Vec<String>,
}

use SectionKind as K;

/// Heading words: `Some(kind)` for words that name a section, `None` for words that may
/// appear in a heading without naming it ("professional", "and", "key").
static WORDS: LazyLock<HashMap<&'static str, Option<SectionKind>>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    let kinds: &[(SectionKind, &[&str])] = &[
        (
            K::Experience,
            &[
                "experience",
                "experiences",
                "employment",
                "career",
                "work",
                "history",
                "jobs",
                "berufserfahrung",
                "werdegang",
                "erfahrung",
                "berufspraxis",
                "experiencia",
                "expérience",
                "expériences",
                "experiência",
                "werkervaring",
                "ervaring",
                "arbeitserfahrung",
                "trayectoria",
                "parcours",
                "loopbaan",
                "positions",
            ],
        ),
        (
            K::Education,
            &[
                "education",
                "qualifications",
                "academic",
                "academics",
                "studies",
                "training",
                "ausbildung",
                "studium",
                "schulbildung",
                "bildung",
                "bildungsweg",
                "formación",
                "formacion",
                "educación",
                "educacion",
                "estudios",
                "formation",
                "formations",
                "opleiding",
                "opleidingen",
                "educação",
                "formação",
                "formacao",
                "académica",
                "acadêmica",
                "academica",
                "académique",
                "schooling",
            ],
        ),
        (
            K::Skills,
            &[
                "skills",
                "skill",
                "competencies",
                "competences",
                "competence",
                "kenntnisse",
                "it-kenntnisse",
                "fähigkeiten",
                "kompetenzen",
                "habilidades",
                "competencias",
                "aptitudes",
                "compétences",
                "vaardigheden",
                "competências",
                "tools",
                "technologies",
                "stack",
                "expertise",
                "conocimientos",
                "tecnologías",
                "strengths",
                "abilities",
                "know-how",
                "skillset",
                "vaardigheden",
            ],
        ),
        (
            K::Summary,
            &[
                "summary",
                "profile",
                "about",
                "über",
                "profil",
                "perfil",
                "resumen",
                "objective",
                "kurzprofil",
                "sobre",
                "mí",
                "mim",
                "mij",
                "propos",
                "résumé",
                "overview",
                "introduction",
                "zusammenfassung",
                "samenvatting",
                "resumo",
                "objetivo",
            ],
        ),
        (
            K::Languages,
            &[
                "languages",
                "language",
                "sprachen",
                "sprachkenntnisse",
                "idiomas",
                "langues",
                "talen",
                "línguas",
                "linguas",
                "talenkennis",
            ],
        ),
        (
            K::Contact,
            &[
                "contact",
                "contacto",
                "kontakt",
                "contato",
                "contactgegevens",
                "coordonnées",
                "kontaktdaten",
                "contacts",
            ],
        ),
        (
            K::Other,
            &[
                "certifications",
                "certification",
                "certificates",
                "licenses",
                "licences",
                "projects",
                "interests",
                "hobbies",
                "references",
                "awards",
                "publications",
                "volunteering",
                "volunteer",
                "courses",
                "zertifikate",
                "zertifizierungen",
                "interessen",
                "hobbys",
                "projekte",
                "intereses",
                "certificaciones",
                "proyectos",
                "referencias",
                "intérêts",
                "loisirs",
                "certificats",
                "projets",
                "interesses",
                "certificações",
                "projetos",
                "achievements",
                "honours",
                "honors",
                "activities",
                "memberships",
                "affiliations",
                "additional",
                "miscellaneous",
                "sonstiges",
                "weiterbildung",
                "weiterbildungen",
                "portfolio",
                "links",
            ],
        ),
    ];
    for (k, ws) in kinds {
        for w in *ws {
            m.insert(*w, Some(*k));
        }
    }
    for w in [
        "professional",
        "key",
        "core",
        "technical",
        "and",
        "&",
        "+",
        "/",
        "details",
        "background",
        "personal",
        "information",
        "info",
        "me",
        "my",
        "relevant",
        "selected",
        "other",
        "beruflicher",
        "berufliche",
        "persönliche",
        "daten",
        "und",
        "profesional",
        "laboral",
        "académica",
        "y",
        "e",
        "et",
        "en",
        "de",
        "la",
        "professionnelle",
        "professionnelles",
        "profissional",
        "profissionais",
        "mich",
        "à",
        "of",
        "it",
        "soft",
        "hard",
        "tech",
        "digital",
        "computer",
        "software",
        "main",
        "areas",
        "area",
        "work",
        "employment",
        "-",
        "–",
        "|",
        "previous",
        "recent",
        "prior",
    ] {
        m.entry(w).or_insert(None);
    }
    m
});

/// The kind of section `line` opens, if it is a heading.
pub fn heading_kind(line: &str) -> Option<SectionKind> {
    let t = line
        .trim()
        .trim_start_matches(['#', '•', '*', '-', '=', '▪', '■', '►', ' '])
        .trim_end_matches([':', ' ', '=', '-', '#', '*'])
        .trim();
    if t.is_empty() || t.chars().count() > 48 || t.contains('@') {
        return None;
    }
    if t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let lower = t.to_lowercase();
    let mut kind = None;
    let mut words = 0;
    for w in lower.split([' ', '/', ',']).filter(|w| !w.is_empty()) {
        words += 1;
        if words > 5 {
            return None;
        }
        match WORDS.get(w) {
            Some(Some(k)) => {
                kind.get_or_insert(*k);
            }
            Some(None) => {}
            None => return None,
        }
    }
    kind
}

/// Splits lines into sections; text before the first heading is the header.
pub fn split(lines: &[&str]) -> Vec<Section> {
    let mut out = vec![Section {
        kind: K::Header,
        heading: None,
        lines: Vec::new(),
    }];
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        // Underlines under plain-text headings.
        if !line.is_empty()
            && line
                .chars()
                .all(|c| matches!(c, '-' | '=' | '_' | '*' | '~'))
        {
            continue;
        }
        if let Some(kind) = heading_kind(line) {
            // "Work" alone could be a word in a sentence broken by wrapping; a heading is a
            // line of its own after a break, or in capitals, or before the next content.
            let _ = i;
            out.push(Section {
                kind,
                heading: Some(line.to_owned()),
                lines: Vec::new(),
            });
            continue;
        }
        // "Skills: Rust, Go" — an inline heading.
        if let Some((head, rest)) = line.split_once(':')
            && !rest.trim().is_empty()
            && !rest.starts_with("//")
            && let Some(kind) = heading_kind(head)
            && matches!(kind, K::Skills | K::Languages)
        {
            out.push(Section {
                kind,
                heading: Some(head.trim().to_owned()),
                lines: vec![rest.trim().to_owned()],
            });
            continue;
        }
        if let Some(s) = out.last_mut() {
            s.lines.push(line.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_in_several_languages() {
        for (h, k) in [
            ("Professional Experience", K::Experience),
            ("WORK EXPERIENCE", K::Experience),
            ("## Work Experience", K::Experience),
            ("Beruflicher Werdegang", K::Experience),
            ("Experiencia Profesional", K::Experience),
            ("Expérience professionnelle", K::Experience),
            ("Werkervaring", K::Experience),
            ("Education & Qualifications", K::Education),
            ("Studium und Schulbildung", K::Education),
            ("Formación Académica", K::Education),
            ("Academic Background", K::Education),
            ("Core Competencies", K::Skills),
            ("IT-Kenntnisse", K::Skills),
            ("Conocimientos", K::Skills),
            ("Über mich", K::Summary),
            ("Sobre mí", K::Summary),
            ("About Me", K::Summary),
            ("Sprachen", K::Languages),
            ("Contact Details", K::Contact),
            ("Certifications", K::Other),
            ("Skills:", K::Skills),
        ] {
            assert_eq!(heading_kind(h), Some(k), "{h}");
        }
        for l in [
            "Education Consultant",
            "Senior Backend Engineer",
            "2019 Skills",
        ] {
            assert_eq!(heading_kind(l), None, "{l}");
        }
    }

    #[test]
    fn splits_with_inline_headings() {
        let s = split(&["Jane Doe", "Skills: Rust, Go", "Experience", "Engineer"]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].lines, vec!["Jane Doe"]);
        assert_eq!(s[1].kind, K::Skills);
        assert_eq!(s[1].lines, vec!["Rust, Go"]);
        assert_eq!(s[2].kind, K::Experience);
    }
}
