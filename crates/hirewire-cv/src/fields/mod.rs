//! Field extraction from normalised text: sections, identity and contact, skills, work
//! history, education and total experience.

pub mod contact;
pub mod dates;
pub mod education;
pub mod experience;
pub mod location;
pub mod name;
pub mod phone;
pub mod skills;
pub mod work;

use crate::profile::{Basics, Language, Profile, Skill};
use crate::sections::{self, SectionKind};

/// Reads a profile from normalised text; open-ended jobs run until `today` (year, month).
pub fn parse_text_at(text: &str, today: (i32, u32)) -> Profile {
    let lines = prepare(text);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let secs = sections::split(&refs);
    let of_kind = |k: SectionKind| -> Vec<&str> {
        secs.iter()
            .filter(|s| s.kind == k)
            .flat_map(|s| s.lines.iter().map(String::as_str))
            .collect()
    };
    let header: Vec<String> = secs
        .first()
        .filter(|s| s.kind == SectionKind::Header)
        .map(|s| s.lines.clone())
        .unwrap_or_default();

    // The contact block: the header and any contact section; the first lines of the text
    // when neither has it.
    let mut contact_lines: Vec<&str> = header.iter().map(String::as_str).collect();
    contact_lines.extend(of_kind(SectionKind::Contact));
    let contact_text = contact_lines.join("\n");
    let head_text: String = refs.iter().take(40).copied().collect::<Vec<_>>().join("\n");

    let email = contact::email(&contact_text).or_else(|| contact::email(text));
    let location = find_location(&contact_lines)
        .or_else(|| find_location(&refs.iter().take(40).copied().collect::<Vec<_>>()));
    let country = location
        .as_ref()
        .and_then(|l| l.country_code.clone())
        .or_else(|| email.as_deref().and_then(country_from_email));
    let phone = phone::find(&contact_text)
        .or_else(|| phone::find(&head_text))
        .map(|p| phone::normalize(p, country.as_deref()));
    let (profiles, url) = contact::links(text, email.as_deref());
    let name = name::find(&header, &refs);
    let label = name.as_ref().and_then(|n| {
        let i = refs.iter().position(|l| l.trim() == n)?;
        let next = refs[i + 1..].iter().find(|l| !l.trim().is_empty())?;
        (is_role_text(next) && next.len() < 90 && !next.contains('@'))
            .then(|| next.trim().to_owned())
    });
    let summary = {
        let s: Vec<&str> = of_kind(SectionKind::Summary)
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect();
        (!s.is_empty()).then(|| s.join(" "))
    };

    let work_lines = of_kind(SectionKind::Experience);
    let (work, intervals) = work::parse(&work_lines);
    let education = education::parse(&of_kind(SectionKind::Education));

    // In sidebar layouts the name and headline follow the sidebar's last section.
    let not_identity = |l: &&str| {
        let t = l.trim();
        Some(t) != name.as_deref() && Some(t) != label.as_deref()
    };
    let skill_lines: Vec<&str> = of_kind(SectionKind::Skills)
        .into_iter()
        .filter(not_identity)
        .collect();
    let mut skill_names = skills::from_lists(&skill_lines);
    if skill_names.is_empty() {
        let mut prose = String::new();
        for w in &work {
            for h in &w.highlights {
                prose.push_str(h);
                prose.push('\n');
            }
        }
        if let Some(s) = &summary {
            prose.push_str(s);
        }
        skill_names = skills::from_prose(&prose);
    }
    let language_lines: Vec<&str> = of_kind(SectionKind::Languages)
        .into_iter()
        .filter(not_identity)
        .collect();
    let languages = parse_languages(&language_lines);

    Profile {
        basics: Basics {
            name,
            label,
            email,
            phone,
            url,
            summary,
            location,
            profiles,
        },
        total_experience_years: experience::total_years(&intervals, today),
        work,
        education,
        skills: skill_names
            .into_iter()
            .map(|name| Skill {
                name,
                ..Skill::default()
            })
            .collect(),
        languages,
    }
}

/// Lines trimmed, with lines that layout wrapped joined again: a date range cut after its
/// dash, a name cut after "of"/"de", a bullet cut mid-sentence.
fn prepare(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev_bullet = false;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(last) = out.last_mut() {
            let l = last.trim_end();
            let last_word = l.rsplit(' ').next().unwrap_or("");
            let join = !line.is_empty()
                && !l.is_empty()
                && sections::heading_kind(line).is_none()
                && ((ends_with_range_separator(l) || l.ends_with(','))
                    && dates::starts_with_date(line)
                    || starts_with_range_separator(line)
                        && dates::find_ranges(l)
                            .last()
                            .is_some_and(|r| r.to == l.len())
                    || (JOINERS.contains(&last_word) && !is_bullet(line))
                    || (prev_bullet
                        && !is_bullet(line)
                        && l.chars().count() >= 45
                        && !l.ends_with(['.', '!', '?', ':'])
                        && dates::find_range(line).is_none()));
            if join {
                last.push(' ');
                last.push_str(line);
                continue;
            }
        }
        prev_bullet = is_bullet(line);
        out.push(line.to_owned());
    }
    out
}

const JOINERS: &[&str] = &[
    "de", "of", "and", "&", "für", "do", "da", "der", "del", "y", "und", "for", "in", "the", "di",
    "du", "des", "et", "e",
];

fn starts_with_range_separator(l: &str) -> bool {
    let t = l.trim_start();
    let rest = t
        .strip_prefix(['-', '–', '—'])
        .or_else(|| t.strip_prefix("to "))
        .or_else(|| t.strip_prefix("bis "));
    rest.is_some_and(|r| dates::starts_with_date(r.trim_start()))
}

fn ends_with_range_separator(l: &str) -> bool {
    let l = l.trim_end();
    l.ends_with(" -")
        || l.ends_with('–')
        || l.ends_with('—')
        || l.ends_with(" to")
        || l.ends_with(" bis")
        || l.ends_with(" a")
        || l.ends_with(" until")
}

/// Whether `line` starts with a list marker.
pub(crate) fn is_bullet(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with([
        '•', '▪', '◦', '●', '■', '►', '➢', '✓', '*', '·', '-', '–', '—', '○', '§', '>',
    ]) && !t.starts_with("--")
        && !t.starts_with("-0")
}

/// `line` without its list marker.
pub(crate) fn strip_bullet(line: &str) -> &str {
    let t = line.trim();
    if is_bullet(t) {
        let mut c = t.chars();
        c.next();
        c.as_str().trim_start()
    } else {
        t
    }
}

/// Whether `line` is running text (a bullet or a sentence) rather than a title line.
pub(crate) fn is_body(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    if is_bullet(t) {
        return true;
    }
    let words: Vec<&str> = t
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let n = words.len();
    // A heading line with its dates ("Title | Company | City | Aug 2022 — Present").
    if n < 20 && !t.ends_with('.') && dates::find_range(t).is_some() {
        return false;
    }
    let lower = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_lowercase))
        .count();
    n >= 14 || (t.ends_with('.') && n >= 5 && lower * 2 >= n) || (lower * 3 >= n * 2 && n >= 6)
}

/// Word stems that make a line a job title (several languages; German and Spanish feminine
/// and masculine endings are accepted by [`is_role_text`]).
const ROLES: &[&str] = &[
    "engineer",
    "developer",
    "manager",
    "designer",
    "analyst",
    "scientist",
    "nurse",
    "accountant",
    "consultant",
    "teacher",
    "intern",
    "director",
    "lead",
    "head",
    "coordinator",
    "planner",
    "specialist",
    "architect",
    "administrator",
    "supervisor",
    "assistant",
    "associate",
    "representative",
    "executive",
    "officer",
    "researcher",
    "technician",
    "pharmacist",
    "generalist",
    "tester",
    "werkstudent",
    "konstrukteur",
    "ingenier",
    "jefe",
    "especialista",
    "becari",
    "lehrer",
    "anwärter",
    "programmer",
    "partner",
    "advisor",
    "adviser",
    "clerk",
    "operator",
    "buyer",
    "controller",
    "auditor",
    "editor",
    "writer",
    "artist",
    "photographer",
    "chef",
    "driver",
    "mechanic",
    "electrician",
    "agent",
    "founder",
    "cto",
    "ceo",
    "cfo",
    "coo",
    "vp",
    "president",
    "secretary",
    "receptionist",
    "therapist",
    "physician",
    "doctor",
    "lawyer",
    "attorney",
    "paralegal",
    "instructor",
    "lecturer",
    "professor",
    "postdoc",
    "student",
    "trainee",
    "apprentice",
    "leiter",
    "referent",
    "sachbearbeiter",
    "entwickler",
    "berater",
    "mitarbeiter",
    "ingénieur",
    "développeur",
    "chargé",
    "responsable",
    "desarrollador",
    "analista",
    "gerente",
    "coordinador",
    "técnico",
    "enfermer",
    "enfermeir",
    "ontwikkelaar",
    "medewerker",
    "adviseur",
    "recruiter",
    "stylist",
    "cashier",
    "merchandiser",
    "sre",
    "devops",
    "owner",
    "scrum",
    "product",
    "projektmanager",
    "projektleiter",
    "kaufmann",
    "kauffrau",
    "fachinformatiker",
    "comptable",
    "cook",
    "waiter",
    "barista",
    "teamleiter",
    "geschäftsführer",
    "abteilungsleiter",
    "contador",
    "contable",
    "vendedor",
    "diseñador",
    "programador",
    "profesor",
    "maestr",
    "docente",
    "médico",
    "abogad",
    "auxiliar",
    "asistente",
    "informatiker",
];

// Singular forms only: "Chartered Accountants" is a firm, "Accountant" a job.
const ROLE_SUFFIXES: &[&str] = &["", "in", "a", "o", "e", "er", "ra"];

/// Whether `s` names a job ("Senior Backend Engineer", "IT-Projektmanagerin").
pub(crate) fn is_role_text(s: &str) -> bool {
    role_score(s) > 0
}

fn role_score(s: &str) -> i32 {
    let lower = s.to_lowercase();
    let mut score = 0;
    for tok in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        // The stem exactly, or ending a compound ("grundschullehrerin"), with an inflection.
        if ROLES.iter().any(|r| {
            ROLE_SUFFIXES.iter().any(|suf| {
                tok.strip_suffix(suf).is_some_and(|stem| {
                    stem == *r || (r.len() >= 5 && stem.len() > r.len() && stem.ends_with(r))
                })
            })
        }) {
            score += 3;
        }
    }
    score
}

const COMPANY_SUFFIXES: &[&str] = &[
    "gmbh",
    "ag",
    "ltd",
    "limited",
    "sl",
    "sa",
    "bv",
    "ab",
    "as",
    "inc",
    "llc",
    "sp",
    "pvt",
    "co",
    "lda",
    "ltda",
    "plc",
    "oy",
    "kg",
    "sas",
    "sarl",
    "nv",
    "spa",
    "srl",
    "corp",
    "corporation",
    "company",
    "group",
    "holding",
    "holdings",
    "gbr",
    "ohg",
    "ug",
    "kft",
    "sro",
    "aps",
    "asa",
    "pte",
    "pty",
    "lp",
    "llp",
    "ev",
    "gmbh & co",
];

const ORG_WORDS: &[&str] = &[
    "technologies",
    "technology",
    "tech",
    "labs",
    "lab",
    "software",
    "systems",
    "solutions",
    "studio",
    "studios",
    "hospital",
    "hospitals",
    "clinic",
    "clínica",
    "centro",
    "center",
    "centre",
    "bank",
    "banque",
    "banco",
    "media",
    "digital",
    "insurance",
    "consulting",
    "consultora",
    "services",
    "analytics",
    "academy",
    "school",
    "schule",
    "grundschule",
    "university",
    "universität",
    "universidad",
    "agency",
    "agence",
    "agência",
    "apps",
    "cloud",
    "health",
    "shipping",
    "logistics",
    "logistik",
    "transport",
    "transports",
    "retail",
    "games",
    "partners",
    "associates",
    "associés",
    "stores",
    "industries",
    "manufacturing",
    "fulfilment",
    "fulfillment",
    "marketplaces",
    "payments",
    "house",
    "éditions",
    "editions",
    "verzekeringen",
    "szpital",
    "handelshaus",
    "beratung",
    "outfitters",
    "supply",
    "goods",
    "petrochemical",
    "aérospatiale",
    "ambiente",
    "águas",
    "labs",
    "viajes",
    "ingeniería",
    "obras",
    "sistemas",
    "vendas",
    "community",
    "housing",
    "accountants",
    "controls",
    "electronics",
    "automotive",
    "antriebstechnik",
    "präzisionsteile",
    "pumpteknik",
    "automation",
    "fintech",
    "infotech",
    "consultancy",
    "foundation",
    "council",
    "ministry",
    "museum",
    "press",
    "publishing",
    "airlines",
    "rail",
    "railway",
    "energy",
    "pharma",
    "telecom",
    "bank",
    "medical",
    "tecnología",
    "marketplace",
    "engineering",
    "inc",
    "cabinet",
    "magazyny",
    "distributie",
    "mobility",
    "insights",
    "creative",
    "sports",
    "garden",
    "home",
    "gmbh",
    "college",
    "institute",
    "office",
    "government",
    "hotel",
    "restaurant",
    "store",
    "shop",
    "factory",
    "plant",
    "verlag",
    "werk",
    "werke",
];

/// Whether `s` is only a legal-form suffix ("Ltd.", "Inc", "GmbH & Co. KG"), which belongs
/// to the name before its comma.
pub(crate) fn is_company_suffix(s: &str) -> bool {
    let toks: Vec<String> = s
        .to_lowercase()
        .split_whitespace()
        .map(|t| t.replace('.', ""))
        .filter(|t| !t.is_empty() && t != "&")
        .collect();
    !toks.is_empty() && toks.iter().all(|t| COMPANY_SUFFIXES.contains(&t.as_str()))
}

/// How much `s` reads like an employer ("Pagalia Payments S.L.", "Acme GmbH").
pub(crate) fn company_score(s: &str) -> i32 {
    let lower = s.to_lowercase();
    let mut score = 0;
    let toks: Vec<String> = lower
        .split([' ', ',', '(', ')'])
        .map(|t| t.replace('.', ""))
        .filter(|t| !t.is_empty())
        .collect();
    if toks.iter().any(|t| COMPANY_SUFFIXES.contains(&t.as_str()))
        || lower.contains("a/s")
        || lower.contains("z o.o")
    {
        score += 3;
    }
    if toks.iter().any(|t| ORG_WORDS.contains(&t.as_str())) {
        score += 2;
    }
    score
}

fn find_location(lines: &[&str]) -> Option<crate::profile::Location> {
    for l in lines {
        if l.contains('@') && !l.contains(['|', '·', '•', '\t']) {
            continue;
        }
        for seg in l.split(['|', '·', '•', '\t', ';']) {
            if let Some(loc) = location::parse_location(seg) {
                return Some(loc);
            }
        }
    }
    None
}

fn country_from_email(email: &str) -> Option<String> {
    let tld = email.rsplit('.').next()?;
    if tld.len() != 2 {
        return None;
    }
    let code = if tld.eq_ignore_ascii_case("uk") {
        "GB"
    } else {
        tld
    };
    location::country_by_code(code).map(|c| c.code.to_owned())
}

fn parse_languages(lines: &[&str]) -> Vec<Language> {
    let mut out = Vec::new();
    for l in lines {
        for item in l.split(['·', ',', '|', ';', '•', '\t']) {
            let item = strip_bullet(item).trim();
            if item.is_empty() || item.len() > 60 {
                continue;
            }
            let (lang, fluency) = match item.split_once(['(', ':', '–', '—']) {
                Some((a, b)) => (
                    a.trim().trim_end_matches(['-', ' ']).to_owned(),
                    Some(b.trim().trim_end_matches(')').trim().to_owned())
                        .filter(|f| !f.is_empty()),
                ),
                None => match item.split_once(" - ") {
                    Some((a, b)) => (a.trim().to_owned(), Some(b.trim().to_owned())),
                    None => (item.to_owned(), None),
                },
            };
            if lang.is_empty() || lang.split_whitespace().count() > 3 {
                continue;
            }
            out.push(Language {
                language: lang,
                fluency,
            });
        }
    }
    out
}

/// [`role_score`] for sibling modules.
pub(crate) fn role_score_pub(s: &str) -> i32 {
    role_score(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_companies() {
        assert!(is_role_text("Senior Backend Engineer"));
        assert!(is_role_text("IT-Projektmanagerin"));
        assert!(is_role_text("Grundschullehrerin"));
        assert!(is_role_text("Becaria de Análisis de Datos"));
        assert!(!is_role_text("Västkust Engineering AB"));
        assert!(company_score("Pagalia Payments S.L.") >= 3);
        assert!(company_score("Kansai Motion Controls Co., Ltd.") >= 3);
        assert_eq!(company_score("Senior Backend Engineer"), 0);
    }

    #[test]
    fn wrapped_lines_are_mended() {
        let l = prepare(
            "MSc Software Engineering | 09/2013 -\n07/2015\nUniversidad Politécnica de\nMadrid\n• Led the migration of the settlement service from a monolith to\nSpring Boot on Kubernetes.\nNext Co",
        );
        assert_eq!(
            l,
            vec![
                "MSc Software Engineering | 09/2013 - 07/2015",
                "Universidad Politécnica de Madrid",
                "• Led the migration of the settlement service from a monolith to Spring Boot on Kubernetes.",
                "Next Co"
            ]
        );
    }

    #[test]
    fn whole_profile_from_text() {
        let cv = "Jane Doe\nBackend Engineer\njane@example.com | +44 7700 900123 | London, United Kingdom | github.com/janedoe\n\nExperience\nSenior Engineer at Acme Ltd\nJan 2020 – Present, London\n• Built Rust services on Kubernetes.\nEngineer — Beta GmbH, Berlin | 03/2017 - 12/2019\n\nEducation\nMSc Computer Science\nUniversity of Leeds, 2015 – 2016\n\nSkills\nRust, K8s, Postgres\n";
        let p = parse_text_at(cv, (2024, 12));
        assert_eq!(p.basics.name.as_deref(), Some("Jane Doe"));
        assert_eq!(p.basics.email.as_deref(), Some("jane@example.com"));
        assert_eq!(p.basics.phone.as_deref(), Some("+447700900123"));
        assert_eq!(
            p.basics
                .location
                .as_ref()
                .and_then(|l| l.country_code.as_deref()),
            Some("GB")
        );
        assert_eq!(p.basics.profiles[0].network, "GitHub");
        assert_eq!(p.work.len(), 2, "{:?}", p.work);
        assert_eq!(p.work[0].position.as_deref(), Some("Senior Engineer"));
        assert_eq!(p.work[0].name.as_deref(), Some("Acme Ltd"));
        assert_eq!(p.work[0].start_date.as_deref(), Some("2020-01"));
        assert!(p.work[0].current);
        assert_eq!(p.work[1].position.as_deref(), Some("Engineer"));
        assert_eq!(p.work[1].name.as_deref(), Some("Beta GmbH"));
        assert_eq!(p.work[1].location.as_deref(), Some("Berlin"));
        assert_eq!(
            p.education[0].institution.as_deref(),
            Some("University of Leeds")
        );
        assert_eq!(p.education[0].study_type.as_deref(), Some("MSc"));
        assert_eq!(p.education[0].area.as_deref(), Some("Computer Science"));
        let names: Vec<&str> = p.skills.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Rust", "Kubernetes", "PostgreSQL"]);
        // 2017-03..2024-12 = 94 months.
        assert_eq!(p.total_experience_years, Some(7.8));
    }
}
