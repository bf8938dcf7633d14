//! Properties every evaluation must have, whatever the input.

use hirewire_profile::{Basics, Education, Location, Profile, Skill, Work};
use hirewire_scoring::{
    CandidateSpec, Evaluator, JobSkillSpec, JobSpec, Matcher, RemoteKind, Weights,
};
use proptest::prelude::*;

/// Skill names the generator draws from: canonical names, synonyms, related skills and
/// names the taxonomy does not know.
const SKILLS: &[&str] = &[
    "Rust",
    "Go",
    "Golang",
    "Python",
    "Java",
    "Kotlin",
    "k8s",
    "Kubernetes",
    "Docker",
    "PostgreSQL",
    "Postgres",
    "MySQL",
    "Redis",
    "Kafka",
    "Terraform",
    "AWS",
    "GCP",
    "React",
    "TypeScript",
    "JavaScript",
    "SQL",
    "Linux",
    "Spark",
    "Flakeworks",
    "",
];
const TITLES: &[&str] = &[
    "Senior Backend Engineer",
    "Backend Developer",
    "Data Engineer",
    "Junior Frontend Developer",
    "Staff Software Engineer",
    "Sales Manager",
    "",
    "Lead DevOps Engineer",
];
const CITIES: &[&str] = &["London", "Berlin", "Madrid", "Zürich", "", "Lima"];
const DATES: &[&str] = &[
    "2010",
    "2015-03",
    "2018-01-15",
    "2021-07",
    "garbage",
    "",
    "2999-01",
];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(SKILLS).prop_map(str::to_string)
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..10.0f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-5.0),
        Just(1e300),
    ]
}

fn job_skill() -> impl Strategy<Value = JobSkillSpec> {
    (
        name(),
        any::<bool>(),
        any_f64(),
        prop::option::of(any_f64()),
    )
        .prop_map(|(name, required, weight, min_years)| JobSkillSpec {
            name,
            required,
            weight,
            min_years,
        })
}

fn job() -> impl Strategy<Value = JobSpec> {
    (
        prop::sample::select(TITLES),
        prop::collection::vec(job_skill(), 0..8),
        prop::option::of(any_f64()),
        prop::sample::select(CITIES),
        prop::option::of(prop_oneof![
            Just(RemoteKind::OnSite),
            Just(RemoteKind::Hybrid),
            Just(RemoteKind::Remote)
        ]),
        prop::option::of((any_f64(), any_f64(), any_f64(), any_f64(), any_f64())),
    )
        .prop_map(|(title, skills, min, city, remote, w)| JobSpec {
            title: title.to_string(),
            description: Some("We use Kafka and need a degree.".into()),
            skills,
            min_experience_years: min,
            city: (!city.is_empty()).then(|| city.to_string()),
            country: None,
            remote_type: remote,
            weights: w.map(|(a, b, c, d, e)| Weights {
                skills: a,
                experience: b,
                title: c,
                location: d,
                education: e,
            }),
        })
}

fn work() -> impl Strategy<Value = Work> {
    (
        prop::sample::select(TITLES),
        prop::sample::select(DATES),
        prop::option::of(prop::sample::select(DATES)),
        prop::collection::vec(name(), 0..3),
    )
        .prop_map(|(title, start, end, hl)| Work {
            position: Some(title.to_string()),
            start_date: Some(start.to_string()),
            end_date: end.map(str::to_string),
            highlights: hl
                .into_iter()
                .map(|s| format!("Built things with {s}"))
                .collect(),
            ..Work::default()
        })
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        prop::collection::vec((name(), prop::option::of(any_f64())), 0..8),
        prop::collection::vec(work(), 0..4),
        prop::sample::select(CITIES),
        prop::option::of(prop::sample::select(TITLES)),
        prop::option::of(any_f64()),
        any::<bool>(),
    )
        .prop_map(|(skills, work, city, label, total, edu)| Profile {
            basics: Basics {
                label: label.map(str::to_string),
                location: Some(Location {
                    city: Some(city.to_string()),
                    ..Location::default()
                }),
                ..Basics::default()
            },
            work,
            education: if edu {
                vec![Education {
                    study_type: Some("BSc".into()),
                    area: Some("Computer Science".into()),
                    ..Education::default()
                }]
            } else {
                Vec::new()
            },
            skills: skills
                .into_iter()
                .map(|(name, years)| Skill {
                    name,
                    years,
                    ..Skill::default()
                })
                .collect(),
            total_experience_years: total,
            ..Profile::default()
        })
}

/// A CV text made from the profile, as a parser would leave it.
fn cv_of(p: &Profile) -> String {
    let mut s = String::from("Curriculum vitae\n");
    let names: Vec<&str> = p.skills.iter().map(|s| s.name.as_str()).collect();
    s.push_str(&format!("Skills: {}\n", names.join(", ")));
    for w in &p.work {
        s.push_str(w.position.as_deref().unwrap_or(""));
        s.push('\n');
        for h in &w.highlights {
            s.push_str(h);
            s.push('\n');
        }
    }
    s
}

fn matcher() -> Matcher {
    Matcher::new((2025, 6))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_and_stays_in_range(job in job(), p in profile(), with_cv in any::<bool>(), parsed in any::<bool>()) {
        let cv = cv_of(&p);
        let e = matcher().evaluate(&job, &CandidateSpec { profile: &p, cv_text: with_cv.then_some(cv.as_str()), parsed });
        prop_assert!(e.score <= 100);
        prop_assert!((0.0..=1.0).contains(&e.confidence));
        prop_assert_eq!(e.dimensions.len(), 5);
        let wsum: f64 = e.dimensions.iter().map(|d| d.weight).sum();
        prop_assert!((wsum - 1.0).abs() < 1e-3, "weights sum {}", wsum);
        for d in &e.dimensions {
            prop_assert!(d.score.is_finite() && (0.0..=1.0).contains(&d.score));
            prop_assert!(d.weight.is_finite());
        }
        for m in &e.matched_skills {
            prop_assert!(m.credit.is_finite() && m.credit > 0.0 && m.credit <= 1.0);
        }
        prop_assert!(serde_json::to_string(&e).is_ok());
    }

    #[test]
    fn same_input_same_output(job in job(), p in profile()) {
        let cv = cv_of(&p);
        let c = CandidateSpec { profile: &p, cv_text: Some(&cv), parsed: true };
        let a = serde_json::to_string(&matcher().evaluate(&job, &c)).unwrap();
        let b = serde_json::to_string(&matcher().evaluate(&job, &c)).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn adding_a_required_skill_never_lowers_the_score(job in job(), p in profile(), pick in any::<prop::sample::Index>(), years in prop::option::of(0.0..20.0f64)) {
        let required: Vec<&JobSkillSpec> = job.skills.iter().filter(|s| s.required).collect();
        prop_assume!(!required.is_empty());
        let added = required[pick.index(required.len())];
        let mut q = p.clone();
        q.skills.push(Skill { name: added.name.clone(), years, ..Skill::default() });
        let (cv_p, cv_q) = (cv_of(&p), cv_of(&q));
        let before = matcher().evaluate(&job, &CandidateSpec { profile: &p, cv_text: Some(&cv_p), parsed: true });
        let after = matcher().evaluate(&job, &CandidateSpec { profile: &q, cv_text: Some(&cv_q), parsed: true });
        prop_assert!(after.score >= before.score, "{} < {}", after.score, before.score);
    }

    #[test]
    fn every_required_skill_outranks_missing_one(
        p in profile(),
        req in prop::collection::btree_set(prop::sample::select(&["Rust", "Kubernetes", "PostgreSQL", "Terraform", "Kafka", "React", "Python", "COBOL", "Flakeworks"][..]), 1..5),
        drop in any::<prop::sample::Index>(),
        min in prop::option::of(0.0..10.0f64),
    ) {
        let req: Vec<&str> = req.into_iter().collect();
        let job = JobSpec {
            title: "Backend Engineer".into(),
            skills: req.iter().map(|n| JobSkillSpec { name: n.to_string(), required: true, weight: 1.0, min_years: None }).collect(),
            min_experience_years: min,
            ..JobSpec::default()
        };
        // Otherwise equal: the same profile without anything that names the required skills.
        let mut base = p.clone();
        base.skills.clear();
        for w in &mut base.work {
            w.highlights.clear();
        }
        let mut full = base.clone();
        let mut partial = base.clone();
        let dropped = drop.index(req.len());
        for (i, n) in req.iter().enumerate() {
            full.skills.push(Skill { name: n.to_string(), ..Skill::default() });
            if i != dropped {
                partial.skills.push(Skill { name: n.to_string(), ..Skill::default() });
            }
        }
        let a = matcher().evaluate(&job, &CandidateSpec { profile: &full, cv_text: Some(&cv_of(&full)), parsed: true });
        let b = matcher().evaluate(&job, &CandidateSpec { profile: &partial, cv_text: Some(&cv_of(&partial)), parsed: true });
        prop_assert!(a.score > b.score, "{} <= {}\n{}\n{}", a.score, b.score, a.rationale, b.rationale);
    }
}

#[test]
fn huge_and_empty_inputs_are_sane() {
    let job = JobSpec {
        title: String::new(),
        description: Some(String::new()),
        skills: vec![JobSkillSpec {
            name: String::new(),
            required: true,
            weight: f64::NAN,
            min_years: Some(f64::INFINITY),
        }],
        min_experience_years: Some(1e308),
        weights: Some(Weights {
            skills: f64::NAN,
            experience: f64::NAN,
            title: f64::NAN,
            location: f64::NAN,
            education: f64::NAN,
        }),
        ..JobSpec::default()
    };
    let p = Profile {
        total_experience_years: Some(f64::NAN),
        skills: vec![Skill {
            name: "x".repeat(100_000),
            years: Some(f64::NEG_INFINITY),
            ..Skill::default()
        }],
        ..Profile::default()
    };
    let text = "\n".repeat(10_000);
    let e = matcher().evaluate(
        &job,
        &CandidateSpec {
            profile: &p,
            cv_text: Some(&text),
            parsed: false,
        },
    );
    assert!(e.score <= 100);
    assert!(
        e.dimensions
            .iter()
            .all(|d| d.score.is_finite() && d.weight.is_finite())
    );
}
