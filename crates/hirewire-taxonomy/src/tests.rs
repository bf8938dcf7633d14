use super::*;
use proptest::prelude::*;

fn tax() -> &'static Taxonomy {
    Taxonomy::global()
}

fn norm(raw: &str) -> Option<&'static str> {
    tax().normalize(raw).map(|s| s.name)
}

/// The skills `find_in_text` names, in text order.
fn found(text: &str, mode: Mode) -> Vec<&'static str> {
    tax()
        .find_in_text(text, mode)
        .iter()
        .map(|m| tax().get(m.skill).unwrap().name)
        .collect()
}

#[test]
fn normalizes_the_issue_examples() {
    assert_eq!(norm("k8s"), Some("Kubernetes"));
    assert_eq!(norm("K8S"), Some("Kubernetes"));
    assert_eq!(norm("postgres"), Some("PostgreSQL"));
    assert_eq!(norm("Postgres"), Some("PostgreSQL"));
    assert_eq!(norm("psql"), Some("PostgreSQL"));
    assert_eq!(norm("JS"), Some("JavaScript"));
    assert_eq!(norm("TS"), Some("TypeScript"));
    assert_eq!(norm("GCP"), Some("Google Cloud Platform"));
    assert_eq!(norm("aws"), Some("Amazon Web Services"));
    assert_eq!(norm("ReactJS"), Some("React"));
    assert_eq!(norm("react.js"), Some("React"));
    assert_eq!(norm("Vue"), Some("Vue.js"));
    assert_eq!(norm("Golang"), Some("Go"));
    assert_eq!(norm("ML"), Some("Machine learning"));
    assert_eq!(norm("NLP"), Some("Natural language processing"));
    assert_eq!(norm("CI/CD"), Some("CI/CD"));
    assert_eq!(norm("cicd"), Some("CI/CD"));
    assert_eq!(norm("dotnet"), Some(".NET"));
    assert_eq!(norm(".NET Core"), Some(".NET"));
    assert_eq!(norm("cpp"), Some("C++"));
    assert_eq!(norm("csharp"), Some("C#"));
}

#[test]
fn folds_case_separators_and_surrounding_punctuation() {
    for raw in [
        "Node.js",
        "nodejs",
        "node js",
        "Node-JS",
        "NODE.JS",
        "  (Node.js),  ",
        "node_js",
    ] {
        assert_eq!(norm(raw), Some("Node.js"), "{raw:?}");
    }
    assert_eq!(norm("Kubernetes."), Some("Kubernetes"));
    assert_eq!(norm("• PostgreSQL;"), Some("PostgreSQL"));
    assert_eq!(
        norm("Amazon Web Services (AWS)"),
        Some("Amazon Web Services")
    );
    assert_eq!(norm("Elastic Kubernetes Service (EKS)"), Some("Amazon EKS"));
    assert_eq!(norm("Java 17"), Some("Java"));
    assert_eq!(norm("PHP 8.2"), Some("PHP"));
    assert_eq!(norm("Angular v15"), Some("Angular"));
    assert_eq!(norm("Windows 10"), Some("Microsoft Windows"));
    assert_eq!(norm("S3"), Some("Amazon S3"));
    assert_eq!(norm(""), None);
    assert_eq!(norm(" ,;- "), None);
    assert_eq!(norm("definitely not a skill xyz"), None);
}

#[test]
fn c_family_and_dotnet_stay_distinct() {
    let names: Vec<_> = [
        "C", "C#", "C++", "F#", ".NET", "R", "c", "c #", "c++ ", "Go",
    ]
    .iter()
    .map(|r| norm(r))
    .collect();
    assert_eq!(
        names,
        [
            Some("C"),
            Some("C#"),
            Some("C++"),
            Some("F#"),
            Some(".NET"),
            Some("R"),
            Some("C"),
            Some("C#"),
            Some("C++"),
            Some("Go"),
        ]
    );
    assert_eq!(norm("NET"), None, "only the dotted form is .NET");
    assert_ne!(norm("C"), norm("C++"));
}

#[test]
fn has_at_least_2000_skills_from_three_sources() {
    let t = tax();
    assert!(t.len() >= 2000, "{}", t.len());
    assert!(!t.is_empty());
    let count = |src| t.iter().filter(|s| s.source == src).count();
    assert!(count(Source::Curated) >= 400, "{}", count(Source::Curated));
    assert!(
        count(Source::Linguist) >= 300,
        "{}",
        count(Source::Linguist)
    );
    assert!(count(Source::Esco) >= 1000, "{}", count(Source::Esco));
    for (i, s) in t.iter().enumerate() {
        assert_eq!(s.id as usize, i);
        assert_eq!(t.get(s.id), Some(s));
        assert!(!s.name.is_empty() && !s.category.is_empty(), "{s:?}");
    }
    assert_eq!(t.get(u32::MAX), None);
}

#[test]
fn every_name_and_alias_maps_back_to_its_skill() {
    let t = tax();
    let mut collisions = Vec::new();
    for s in t.iter() {
        for form in std::iter::once(&s.name).chain(&s.aliases) {
            let got = t.normalize(form).map(|o| o.id);
            if got != Some(s.id) {
                collisions.push(format!(
                    "{:?} of {:?} ({:?}) -> {:?}",
                    form,
                    s.name,
                    s.source,
                    got.and_then(|id| t.get(id)).map(|o| o.name)
                ));
            }
        }
    }
    // The build deduplicates with the same folding, so nothing may collide.
    assert!(
        collisions.is_empty(),
        "{} collisions: {collisions:#?}",
        collisions.len()
    );
}

#[test]
fn curated_related_links_resolve_and_are_symmetric() {
    let t = tax();
    for s in t.iter() {
        for r in &s.related {
            let other = t
                .normalize(r)
                .unwrap_or_else(|| panic!("{r:?} of {:?}", s.name));
            assert_eq!(other.name, *r);
            assert!(other.related.contains(&s.name), "{:?} ~ {r:?}", s.name);
        }
    }
}

#[test]
fn relatedness_scores() {
    let t = tax();
    assert_eq!(t.relatedness("k8s", "Kubernetes"), Some(1.0));
    assert_eq!(t.relatedness("Postgres", "MySQL"), Some(0.5));
    assert_eq!(t.relatedness("MySQL", "postgres"), Some(0.5));
    assert_eq!(t.relatedness("React", "Vue"), Some(0.5));
    assert_eq!(t.relatedness("AWS", "GCP"), Some(0.5));
    assert_eq!(t.relatedness("Docker", "k8s"), Some(0.5));
    assert_eq!(
        t.relatedness("Redis", "SQLite"),
        Some(0.25),
        "same category: Database"
    );
    assert_eq!(t.relatedness("Kubernetes", "Nursing"), None);
    assert_eq!(t.relatedness("not a skill", "Kubernetes"), None);
}

#[test]
fn search_puts_exact_then_prefixes_then_words_then_substrings() {
    let t = tax();
    let names = |q: &str, n| t.search(q, n).iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names("k8s", 5)[0], "Kubernetes");
    assert_eq!(names("postgres", 5)[0], "PostgreSQL");
    assert_eq!(names("js", 5)[0], "JavaScript");
    let java = names("java", 10);
    assert_eq!(java[0], "Java");
    assert_eq!(java[1], "JavaScript", "{java:?}");
    // Curated before obscure sources at equal rank, then shorter first.
    let py = names("py", 10);
    assert_eq!(
        &py[..4],
        ["Python", "pytest", "PyCharm", "PyTorch"],
        "{py:?}"
    );
    // "learning" is a word inside "Machine learning"; "script" is only a substring.
    assert!(names("learning", 50).contains(&"Machine learning"));
    assert!(names("script", 50).contains(&"TypeScript"));
    assert_eq!(names("Java 17", 5), ["Java"]);
    assert!(t.search("", 10).is_empty());
    assert!(t.search("java", 0).is_empty());
    assert_eq!(t.search("a", 7).len(), 7);
}

/// A tiny taxonomy in the data format, so each rank can be checked in isolation.
const SMALL: &str = "# test data\n\
Alpha Beta\tX\tesco\t\t\n\
Zeta alp\tX\tcurated\t\t\n\
Alpaca\tX\tesco\t\t\n\
Alp\tX\tesco\t\t\n\
Gamma\tX\tcurated\talpine^\t\n\
Ralph\tX\tcurated\t\t\n\
Alpha\tX\tcurated\t\t\n";

#[test]
fn search_ranks_in_a_small_taxonomy() {
    let t = Taxonomy::parse(SMALL);
    let got: Vec<_> = t.search("alp", 10).iter().map(|s| s.name).collect();
    // exact, name prefix (curated, then shorter), alias prefix, word prefix, substring.
    assert_eq!(
        got,
        [
            "Alp",
            "Alpha",
            "Alpaca",
            "Alpha Beta",
            "Gamma",
            "Zeta alp",
            "Ralph"
        ]
    );
    assert_eq!(t.search("alp", 2).len(), 2);
}

#[test]
fn finds_skills_in_a_list_with_byte_offsets() {
    let t = tax();
    let text =
        "Skills: Go, Rust, C, C++, C#, .NET, Node.js, k8s, Postgres, Excel, R, Swift, Spring Boot";
    let ms = t.find_in_text(text, Mode::List);
    let got: Vec<(&str, &str)> = ms
        .iter()
        .map(|m| (&text[m.start..m.end], t.get(m.skill).unwrap().name))
        .collect();
    assert_eq!(
        got,
        [
            ("Go", "Go"),
            ("Rust", "Rust"),
            ("C", "C"),
            ("C++", "C++"),
            ("C#", "C#"),
            (".NET", ".NET"),
            ("Node.js", "Node.js"),
            ("k8s", "Kubernetes"),
            ("Postgres", "PostgreSQL"),
            ("Excel", "Microsoft Excel"),
            ("R", "R"),
            ("Swift", "Swift"),
            ("Spring Boot", "Spring Boot"),
        ]
    );
}

#[test]
fn prose_skips_ambiguous_words_but_keeps_clear_mentions() {
    let prose = "I go to great lengths to excel at swift delivery and rust removal in spring. \
                 Word of mouth helped sales. I like C. We built services in Go and Rust on Kubernetes \
                 with PostgreSQL, deployed with CI/CD from GitHub Actions.";
    assert_eq!(
        found(prose, Mode::Prose),
        [
            "Go",
            "Rust",
            "Kubernetes",
            "PostgreSQL",
            "CI/CD",
            "GitHub Actions"
        ]
    );
    // The same ambiguous words as a list are skills.
    assert_eq!(
        found("go, excel, swift, rust, spring", Mode::List),
        ["Go", "Microsoft Excel", "Swift", "Rust", "Spring"]
    );
}

#[test]
fn ambiguous_names_count_in_prose_enumerations() {
    assert_eq!(
        found(
            "Wrote firmware in C, C++ and Python; some R and Go.",
            Mode::Prose
        ),
        ["Embedded systems", "C", "C++", "Python", "R", "Go"]
    );
    assert_eq!(
        found("Fluent in Python, C, and Rust.", Mode::Prose),
        ["Python", "C", "Rust"]
    );
    assert_eq!(
        found("Reports in Word, Excel and PowerPoint.", Mode::Prose),
        ["Microsoft Word", "Microsoft Excel", "Microsoft PowerPoint"]
    );
    // Next to a skill of another kind, or with no separator, a plain word stays a word.
    assert_eq!(found("Grade C and Kubernetes", Mode::Prose), ["Kubernetes"]);
    assert_eq!(found("vitamin C", Mode::Prose), Vec::<&str>::new());
    assert_eq!(found("Python go", Mode::Prose), ["Python"]);
}

#[test]
fn word_boundaries_and_longest_match() {
    assert_eq!(
        found("Javanese JavaScript java", Mode::List),
        ["JavaScript", "Java"]
    );
    assert_eq!(found("T-SQL and SQL", Mode::List), ["T-SQL", "SQL"]);
    assert_eq!(found("ASP.NET Core apps", Mode::List), ["ASP.NET"]);
    assert_eq!(
        found("Spring Boot microservices", Mode::List),
        ["Spring Boot", "Microservices"]
    );
    assert_eq!(
        found("React-based UI; Go-live", Mode::List),
        ["React", "UI design"]
    );
    assert_eq!(
        found("node js and vue js", Mode::List),
        ["Node.js", "Vue.js"]
    );
    assert_eq!(
        found("machine   learning", Mode::Prose),
        ["Machine learning"]
    );
    assert_eq!(
        found("mail me: bob@python.org", Mode::List),
        Vec::<&str>::new()
    );
    assert!(found("", Mode::Prose).is_empty());
    assert_eq!(found("R&D, P&L, C-level, C/C++", Mode::List), ["C", "C++"]);
}

#[test]
fn section_headings_are_not_skills() {
    let section = "TECHNICAL SKILLS\nProgramming Languages: Python, Java\nFrameworks: Django\n\
                   Databases: MySQL\nCloud: AWS\nTools: VS Code, Git\nSoft skills: Teamwork\n\
                   Other: First aid\nInterests: football, chess, photography";
    assert_eq!(
        found(section, Mode::List),
        [
            "Python",
            "Java",
            "Django",
            "MySQL",
            "Amazon Web Services",
            "Visual Studio Code",
            "Git",
            "Teamwork",
            "First aid"
        ]
    );
}

#[test]
fn generic_esco_phrases_stay_quiet_in_prose() {
    let prose = "I manage staff, use spreadsheets software and teach music at weekends, \
                 prepare premises and manage habitats.";
    assert!(
        tax()
            .find_in_text(prose, Mode::Prose)
            .iter()
            .all(|m| tax().get(m.skill).unwrap().source != Source::Esco),
        "{:?}",
        found(prose, Mode::Prose)
    );
}

#[test]
fn offsets_are_char_boundaries_in_non_ascii_text() {
    let t = tax();
    let text = "Zürich – Ingénieur: Python, PostgreSQL ✓ 東京で Kubernetes と Docker を使用。日本語 Ünïcode";
    let ms = t.find_in_text(text, Mode::Prose);
    let got: Vec<&str> = ms.iter().map(|m| &text[m.start..m.end]).collect();
    assert_eq!(
        got,
        ["Python", "PostgreSQL", "Kubernetes", "Docker", "日本語"]
    );
    for m in &ms {
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
    }
}

#[test]
#[ignore = "timing, run with --release --ignored --nocapture"]
fn parse_timing() {
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let tax = Taxonomy::parse(DATA);
        let parse = t.elapsed();
        tax.search_index();
        let index = t.elapsed() - parse;
        tax.matcher();
        let matcher = t.elapsed() - parse - index;
        eprintln!("parse {parse:?}, search index {index:?}, matcher {matcher:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_and_matches_never_overlap(text in "\\PC{0,200}", list in any::<bool>()) {
        let t = tax();
        let mode = if list { Mode::List } else { Mode::Prose };
        let ms = t.find_in_text(&text, mode);
        let mut prev_end = 0;
        for m in &ms {
            prop_assert!(m.start < m.end && m.end <= text.len());
            prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
            prop_assert!(m.start >= prev_end, "overlap in {:?}", ms);
            prop_assert!(t.get(m.skill).is_some());
            prev_end = m.end;
        }
        let _ = t.normalize(&text);
        prop_assert!(t.search(&text, 5).len() <= 5);
    }

    #[test]
    fn skill_soup_never_overlaps(words in proptest::collection::vec(
        prop::sample::select(vec!["C", "C++", "C#", ".NET", "Node.js", "Go", "go", "k8s", "  ",
            ", ", "-", ".", "Spring Boot", "Java", "Script", "é", "日本", "machine", "learning",
            "\n", "•", "SQL", "T-", "+", "#"]), 0..40), list in any::<bool>()) {
        let text: String = words.concat();
        let mode = if list { Mode::List } else { Mode::Prose };
        let ms = tax().find_in_text(&text, mode);
        for w in ms.windows(2) {
            prop_assert!(w[0].end <= w[1].start, "{:?} in {:?}", ms, text);
        }
        for m in &ms {
            prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
            // A found mention always normalises back to its skill.
            let s = tax().normalize(&text[m.start..m.end]).map(|s| s.id);
            prop_assert_eq!(s, Some(m.skill), "{:?}", &text[m.start..m.end]);
        }
    }

    #[test]
    fn search_and_normalize_never_panic(q in "\\PC{0,40}", n in 0usize..30) {
        let t = tax();
        let r = t.search(&q, n);
        prop_assert!(r.len() <= n);
        if let Some(s) = t.normalize(&q) {
            prop_assert!(t.search(&q, 1).len() == 1, "{:?} normalises to {:?}", q, s.name);
        }
    }
}
