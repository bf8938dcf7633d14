//! Times in-process evaluations and prints p50/p99 per evaluation (target: p99 ≤ 1 ms), in
//! two sets:
//!
//! * the labelled ranking set (`tests/fixtures/ranking`: 22 jobs, 261 job/candidate pairs,
//!   each candidate evaluated against its own job, as `tests/ranking.rs` does), every pair
//!   timed ROUNDS_LABELLED times, interleaved;
//! * a few hand-made pairs, among them the worst case the labelled set lacks: a two-page CV
//!   text with 18 skills and 3 positions, whose evidence is looked up line by line.
//!
//! Every pair is evaluated once untimed first (warm-up: allocator, lazily built taxonomy),
//! then each evaluation is timed alone with `Instant` (overhead ~20 ns). Release build only:
//!
//! `cargo run --release -p hirewire-scoring --example bench`

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hirewire_profile::{Basics, Education, Location, Profile, Skill, Work};
use hirewire_scoring::{
    CandidateSpec, Evaluator, JobSkillSpec, JobSpec, Matcher, RemoteKind, Weights,
};

const ROUNDS: usize = 10_000;
/// Timed evaluations of every labelled pair (261 pairs: 26,100 samples).
const ROUNDS_LABELLED: usize = 100;
/// The month the labelled set's open-ended positions run to (its README: "as of 2026-11").
const LABELLED_AS_OF: (i32, u32) = (2026, 11);

/// A two-page CV as the parser leaves it: one paragraph or bullet a line.
const CV: &str = "Jane Doe\n\
Senior Backend Engineer · London, United Kingdom · jane@example.com · +44 7700 900123\n\
Summary\n\
Backend engineer with 8 years building distributed systems in Go, Python and Rust. Led the \
migration of a monolith to microservices on Kubernetes (EKS) with Terraform and Helm, cutting \
deployment time by 60%. Mentored four engineers; ran code reviews and on-call.\n\
Skills\n\
Go, Python, Rust, C++, TypeScript, React, PostgreSQL, Redis, Kafka, Docker, k8s, AWS, GCP, CI/CD, \
GitHub Actions, Prometheus, Grafana, Linux, SQL, Agile, Scrum\n\
Experience\n\
Staff Engineer — Acme GmbH, Berlin (2019-03 – present)\n\
• Designed an event-driven billing platform on Apache Kafka and PostgreSQL.\n\
• Wrote gRPC services in Go; introduced OpenTelemetry tracing and Grafana dashboards.\n\
• Moved CI from Jenkins to GitHub Actions; cut build times by half.\n\
Software Engineer — Beta Ltd, London (2015-06 – 2019-02)\n\
• Built REST APIs with Django and Flask, and a React front end with Redux.\n\
• Data pipelines with Apache Airflow and Spark on AWS (S3, Lambda, Redshift).\n\
• Automated infrastructure with Ansible; ran A/B tests and reported in Tableau.\n\
Junior Developer — Gamma Consulting, Manchester (2013-09 – 2015-05)\n\
• PHP and MySQL web applications for retail clients.\n\
Education\n\
MSc Computer Science, ETH Zürich (2011 – 2013) — thesis on anomaly detection (PyTorch, pandas)\n\
BSc Mathematics, University of Manchester (2008 – 2011)\n\
Languages: English (native), German (fluent)\n";

fn skill(name: &str, years: Option<f64>) -> Skill {
    Skill {
        name: name.to_string(),
        years,
        ..Skill::default()
    }
}

fn profile() -> Profile {
    let work = |pos: &str, name: &str, start: &str, end: Option<&str>, hl: &[&str]| Work {
        position: Some(pos.into()),
        name: Some(name.into()),
        start_date: Some(start.into()),
        end_date: end.map(str::to_string),
        highlights: hl.iter().map(|h| h.to_string()).collect(),
        ..Work::default()
    };
    Profile {
        basics: Basics {
            name: Some("Jane Doe".into()),
            label: Some("Senior Backend Engineer".into()),
            location: Some(Location {
                city: Some("London".into()),
                country_code: Some("GB".into()),
                ..Location::default()
            }),
            ..Basics::default()
        },
        work: vec![
            work(
                "Staff Engineer",
                "Acme GmbH",
                "2019-03",
                None,
                &[
                    "Designed an event-driven billing platform on Apache Kafka and PostgreSQL.",
                    "Wrote gRPC services in Go; introduced OpenTelemetry tracing and Grafana dashboards.",
                    "Moved CI from Jenkins to GitHub Actions; cut build times by half.",
                ],
            ),
            work(
                "Software Engineer",
                "Beta Ltd",
                "2015-06",
                Some("2019-02"),
                &[
                    "Built REST APIs with Django and Flask, and a React front end with Redux.",
                    "Data pipelines with Apache Airflow and Spark on AWS (S3, Lambda, Redshift).",
                ],
            ),
            work(
                "Junior Developer",
                "Gamma Consulting",
                "2013-09",
                Some("2015-05"),
                &["PHP and MySQL web applications for retail clients."],
            ),
        ],
        education: vec![Education {
            institution: Some("ETH Zürich".into()),
            area: Some("Computer Science".into()),
            study_type: Some("MSc".into()),
            ..Education::default()
        }],
        skills: [
            "Go",
            "Python",
            "Rust",
            "C++",
            "TypeScript",
            "React",
            "PostgreSQL",
            "Redis",
            "Kafka",
            "Docker",
            "k8s",
            "AWS",
            "GCP",
            "CI/CD",
            "Prometheus",
            "Grafana",
            "Linux",
            "SQL",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| skill(n, (i % 3 == 0).then_some(4.0)))
        .collect(),
        total_experience_years: Some(12.3),
        ..Profile::default()
    }
}

fn jobs() -> Vec<JobSpec> {
    let s = |name: &str, required: bool, weight: f64, min_years: Option<f64>| JobSkillSpec {
        name: name.into(),
        required,
        weight,
        min_years,
    };
    vec![
        JobSpec {
            title: "Senior Backend Engineer (Go)".into(),
            description: Some("Payments platform; Go services on Kubernetes.".into()),
            skills: vec![
                s("Golang", true, 3.0, Some(3.0)),
                s("Kubernetes", true, 2.0, None),
                s("Postgres", true, 2.0, None),
                s("Terraform", false, 1.0, None),
                s("Kafka", false, 1.0, None),
                s("gRPC", false, 1.0, None),
            ],
            min_experience_years: Some(5.0),
            city: Some("London".into()),
            country: Some("GB".into()),
            remote_type: Some(RemoteKind::Hybrid),
            weights: None,
        },
        JobSpec {
            title: "Data Engineer".into(),
            description: Some(
                "Airflow, Spark, dbt, Snowflake; a degree in a numerate field.".into(),
            ),
            skills: vec![
                s("Python", true, 2.0, Some(3.0)),
                s("Apache Spark", true, 2.0, None),
                s("Airflow", true, 1.0, None),
                s("dbt", false, 1.0, None),
                s("Snowflake", false, 1.0, None),
                s("SQL", true, 1.0, None),
            ],
            min_experience_years: Some(3.0),
            remote_type: Some(RemoteKind::Remote),
            weights: Some(Weights {
                skills: 0.6,
                experience: 0.2,
                title: 0.1,
                location: 0.05,
                education: 0.05,
            }),
            ..JobSpec::default()
        },
        JobSpec {
            title: "Frontend Developer".into(),
            description: Some(
                "We build our product in React and TypeScript, with Next.js and GraphQL.".into(),
            ),
            city: Some("Berlin".into()),
            country: Some("Germany".into()),
            remote_type: Some(RemoteKind::OnSite),
            ..JobSpec::default()
        },
    ]
}

/// Sorted samples (µs) → value at quantile `q`.
fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// A labelled job: its id (file stem), the job, and its pool as (candidate id, profile).
type LabelledJob = (String, JobSpec, Vec<(String, Profile)>);

/// The labelled set's jobs, each with its pool.
fn labelled_set() -> Vec<LabelledJob> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ranking");
    let json_files = |d: PathBuf| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        v.sort();
        v
    };
    let stem = |p: &Path| {
        p.file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    json_files(dir.join("jobs"))
        .into_iter()
        .map(|job_path| {
            let id = stem(&job_path);
            let job: JobSpec = serde_json::from_str(&fs::read_to_string(&job_path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", job_path.display()));
            let pool = json_files(dir.join("candidates").join(&id))
                .into_iter()
                .map(|p| {
                    let profile: Profile = serde_json::from_str(&fs::read_to_string(&p).unwrap())
                        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    (stem(&p), profile)
                })
                .collect();
            (id, job, pool)
        })
        .collect()
}

/// Times every labelled pair ROUNDS_LABELLED times (round-robin over the pairs) and prints
/// p50/p99/max over all samples and the slowest pair by its own median.
fn bench_labelled() {
    let matcher = Matcher::new(LABELLED_AS_OF);
    let set = labelled_set();
    let pairs: Vec<(&str, &JobSpec, &str, CandidateSpec)> = set
        .iter()
        .flat_map(|(jid, job, pool)| {
            pool.iter().map(move |(cid, profile)| {
                (
                    jid.as_str(),
                    job,
                    cid.as_str(),
                    CandidateSpec {
                        profile,
                        cv_text: None,
                        parsed: true,
                    },
                )
            })
        })
        .collect();
    for (_, j, _, c) in &pairs {
        black_box(matcher.evaluate(j, c));
    }
    let mut per_pair: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS_LABELLED); pairs.len()];
    let started = Instant::now();
    for _ in 0..ROUNDS_LABELLED {
        for (i, (_, j, _, c)) in pairs.iter().enumerate() {
            let t = Instant::now();
            black_box(matcher.evaluate(black_box(j), black_box(c)));
            per_pair[i].push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let mut all: Vec<f64> = per_pair.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let (worst, _) = per_pair
        .iter_mut()
        .enumerate()
        .map(|(i, v)| {
            v.sort_by(f64::total_cmp);
            (i, pct(v, 0.50))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    println!(
        "labelled set: {} evaluations ({} jobs, {} pairs x {ROUNDS_LABELLED}): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs; {:.0} evaluations/s on one thread",
        all.len(),
        set.len(),
        pairs.len(),
        pct(&all, 0.50),
        pct(&all, 0.99),
        all[all.len() - 1],
        all.len() as f64 / wall
    );
    println!(
        "  slowest pair by its median: {}/{} p50 {:.1} µs, p99 {:.1} µs",
        pairs[worst].0,
        pairs[worst].2,
        pct(&per_pair[worst], 0.50),
        pct(&per_pair[worst], 0.99)
    );
}

fn main() {
    bench_labelled();
    let matcher = Matcher::new((2026, 1));
    let p = profile();
    let thin = Profile {
        skills: vec![skill("Python", None)],
        ..Profile::default()
    };
    let jobs = jobs();
    let candidates = [
        CandidateSpec {
            profile: &p,
            cv_text: Some(CV),
            parsed: true,
        },
        CandidateSpec {
            profile: &p,
            cv_text: None,
            parsed: false,
        },
        CandidateSpec {
            profile: &thin,
            cv_text: None,
            parsed: false,
        },
    ];
    let pairs: Vec<(&JobSpec, &CandidateSpec)> = jobs
        .iter()
        .flat_map(|j| candidates.iter().map(move |c| (j, c)))
        .collect();
    // Warm caches and the allocator so that the first samples are not outliers by design.
    for (j, c) in &pairs {
        black_box(matcher.evaluate(j, c));
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let (j, c) = pairs[i % pairs.len()];
        let t = Instant::now();
        black_box(matcher.evaluate(black_box(j), black_box(c)));
        samples.push(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let with_cv: Vec<f64> = {
        let mut v = Vec::with_capacity(ROUNDS / 3);
        for _ in 0..ROUNDS / 3 {
            let t = Instant::now();
            black_box(matcher.evaluate(black_box(&jobs[0]), black_box(&candidates[0])));
            v.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        v.sort_by(f64::total_cmp);
        v
    };
    println!(
        "hand-made pairs: {ROUNDS} evaluations over {} job/candidate pairs: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        pairs.len(),
        pct(&samples, 0.50),
        pct(&samples, 0.99),
        samples[samples.len() - 1]
    );
    println!(
        "  worst pair (2-page CV text, 18 skills, 3 positions): p50 {:.1} µs, p99 {:.1} µs",
        pct(&with_cv, 0.50),
        pct(&with_cv, 0.99)
    );
    let e = matcher.evaluate(&jobs[0], &candidates[0]);
    println!(
        "  sample: score {} ({:?}): {}",
        e.score, e.band, e.rationale
    );
}
