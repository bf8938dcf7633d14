//! Candidate search latency over generated candidates (bench/search.sh runs it; issue
//! "Candidates, CV parsing and candidate search", criterion 8: p95 ≤ 20 ms over 100,000
//! candidates on SQLite and PostgreSQL).
//!
//! 1. Loads `--candidates` generated candidates (deterministic: seeded per candidate, so the
//!    same N gives the same data whatever the loaders' interleaving) into a SQLite file or a
//!    PostgreSQL schema through the domain service `candidates::create`, the path the API's
//!    `POST /api/v1/candidates` takes, with `--loaders` concurrent tasks. Loading time is
//!    reported, not judged. `--reuse` keeps a database that already holds the N candidates,
//!    because loading 100,000 takes minutes. On PostgreSQL the schema's tables are then
//!    ANALYZEd (`--analyze 0` skips it), as autovacuum would have done in production; this
//!    machine's server runs with autovacuum off. SQLite gets nothing: Hirewire never runs
//!    ANALYZE there, so its planner works without statistics in production too.
//! 2. Starts a Hirewire server in this process (as webhook-bench does) with the candidate
//!    search rate limit raised out of the way, and sends `GET /api/v1/candidates/search`
//!    requests over HTTP on 127.0.0.1, one at a time (latency, not throughput), cycling
//!    through a fixed list of realistic queries: `--warmup` requests, then `--requests`
//!    measured ones. Latency is from sending the request to having read the whole body.
//!
//! Output: one `query …` line per query (its p50/p95 and the hits on its first page) and one
//! `summary …` line, as `key=value` pairs for the script to read.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hirewire_core::Actor;
use hirewire_core::model::candidate::{Basics, Location, ProfileSkill, Work};
use hirewire_core::model::{NewCandidate, NewKey, Profile};
use hirewire_core::scope::Scope;
use hirewire_core::service::{candidates, keys, tenants, webhooks};
use hirewire_core::store::Store;
use hirewire_server::{Config, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The tenant the candidates belong to; found again by name on `--reuse`.
const TENANT: &str = "search-bench";

/// The queries, as query strings after `?`; `limit=20` is added to each. They cover what the
/// criterion names: a common skill, a rare one, two skills, skill + city, a phrase, a
/// synonym, `5+ years`, filters alone and the `skills` filter.
const QUERIES: &[&str] = &[
    "q=java",
    "q=python",
    "q=cobol",
    "q=java%20kubernetes",
    "q=python%20sql",
    "q=java%20london",
    "q=react%20berlin",
    "q=%22platform%20engineer%22",
    "q=%22data%20engineer%22",
    "q=k8s",
    "q=postgres",
    "q=python%205%2B%20years",
    "q=java%2010%2B%20years",
    "location=london&min_years=5",
    "location=berlin",
    "skills=python,sql",
    "skills=java&location=paris",
    "q=rust&skills=docker",
    "q=engineer",
    "q=senior%20backend",
    "q=m%C3%BCller",
    "q=terraform%20aws%20kubernetes",
];

struct Args {
    backend: String,
    pg_url: String,
    candidates: usize,
    loaders: usize,
    requests: usize,
    warmup: usize,
    seed: u64,
    reuse: bool,
    analyze: bool,
    db: Option<String>,
    schema: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        pg_url: "postgres://postgres@127.0.0.1:5432/test".into(),
        candidates: 100_000,
        loaders: 4,
        requests: 2_000,
        warmup: 200,
        seed: 42,
        reuse: false,
        analyze: true,
        db: None,
        schema: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--backend" => a.backend = v(),
            "--pg-url" => a.pg_url = v(),
            "--candidates" => a.candidates = v().parse().expect("--candidates N"),
            "--loaders" => a.loaders = v().parse::<usize>().expect("--loaders N").max(1),
            "--requests" => a.requests = v().parse().expect("--requests N"),
            "--warmup" => a.warmup = v().parse().expect("--warmup N"),
            "--seed" => a.seed = v().parse().expect("--seed N"),
            "--db" => a.db = Some(v()),
            "--schema" => a.schema = Some(v()),
            "--reuse" => a.reuse = true,
            "--analyze" => a.analyze = v() != "0",
            other => panic!(
                "unknown argument {other}; use --backend sqlite|postgres [--pg-url URL] [--candidates N] [--loaders N] [--requests N] [--warmup N] [--seed N] [--db FILE] [--schema NAME] [--reuse] [--analyze 1|0]"
            ),
        }
    }
    a
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

// --- the generator ----------------------------------------------------------------------------

const FIRST: &[&str] = &[
    "Ana",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "François",
    "Katrin",
    "Priya",
    "Lucas",
    "Emma",
    "Daan",
    "Hiroshi",
    "Chloé",
    "Michael",
    "Sarah",
    "Carlos",
    "Ingrid",
    "Rahul",
    "Beatriz",
    "Tomasz",
    "Marta",
    "Aisha",
    "Jürgen",
    "Emily",
    "Sofía",
    "Oliver",
    "Ayşe",
    "Pierre",
    "Giulia",
    "David",
    "Anna",
    "Kwame",
    "Laura",
    "Mia",
    "Arjun",
    "Jessica",
    "Fernanda",
    "Sanne",
    "Lars",
    "Ewa",
    "Ryan",
    "Deepika",
    "Magdalena",
    "Inês",
    "Tim",
    "Björn",
    "Zsófia",
    "Mátyás",
    "Nguyễn",
    "Ömer",
    "Chiara",
    "Mateusz",
    "Élodie",
    "Jonas",
    "Noor",
    "Yuki",
    "Olumide",
    "Siobhán",
    "Raúl",
    "Agnieszka",
];

const LAST: &[&str] = &[
    "Martínez",
    "Brontë",
    "Wójcik",
    "Ørsted",
    "Conceição",
    "Lefèvre",
    "Müller",
    "Raghunathan",
    "Santos",
    "Lindqvist",
    "de Vries",
    "Tanaka",
    "Dubois",
    "O'Connor",
    "Kim",
    "Fernández",
    "Svensson",
    "Mehta",
    "Almeida",
    "Kowalczyk",
    "Nowak",
    "Bello",
    "Weiß",
    "Carter",
    "Ramírez",
    "Bennett",
    "Yılmaz",
    "Rousseau",
    "Rossi",
    "Chen",
    "Schröder",
    "Mensah",
    "García",
    "Hoffmann",
    "Nair",
    "Álvarez",
    "Ribeiro",
    "Bakker",
    "Eriksson",
    "Kamińska",
    "Thompson",
    "Sharma",
    "Dąbrowska",
    "Carvalho",
    "Krüger",
    "Szabó",
    "Kovács",
    "Novák",
    "Dvořák",
    "Jensen",
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Taylor",
    "Nguyen",
    "Patel",
    "Okafor",
    "van der Berg",
    "Costa",
];

/// City, country code and a weight: a few large cities hold many candidates, most few.
const CITIES: &[(&str, &str, u32)] = &[
    ("London", "GB", 40),
    ("Berlin", "DE", 25),
    ("Paris", "FR", 22),
    ("Madrid", "ES", 18),
    ("Amsterdam", "NL", 16),
    ("Manchester", "GB", 12),
    ("München", "DE", 12),
    ("Warszawa", "PL", 12),
    ("Lisboa", "PT", 10),
    ("Barcelona", "ES", 10),
    ("Dublin", "IE", 10),
    ("Stockholm", "SE", 9),
    ("Kraków", "PL", 9),
    ("Hamburg", "DE", 8),
    ("Milano", "IT", 8),
    ("Zürich", "CH", 8),
    ("Wien", "AT", 7),
    ("København", "DK", 7),
    ("Praha", "CZ", 7),
    ("Bruxelles", "BE", 6),
    ("Leeds", "GB", 6),
    ("Edinburgh", "GB", 6),
    ("Lyon", "FR", 5),
    ("Rotterdam", "NL", 5),
    ("Göteborg", "SE", 5),
    ("Oslo", "NO", 5),
    ("Helsinki", "FI", 5),
    ("Budapest", "HU", 5),
    ("Bucureşti", "RO", 5),
    ("Porto", "PT", 4),
    ("Valencia", "ES", 4),
    ("Köln", "DE", 4),
    ("Frankfurt am Main", "DE", 4),
    ("Bristol", "GB", 4),
    ("Glasgow", "GB", 3),
    ("Toulouse", "FR", 3),
    ("Nantes", "FR", 3),
    ("Torino", "IT", 3),
    ("Roma", "IT", 3),
    ("Gdańsk", "PL", 3),
    ("Wrocław", "PL", 3),
    ("Brno", "CZ", 2),
    ("Tallinn", "EE", 2),
    ("Riga", "LV", 2),
    ("Vilnius", "LT", 2),
    ("Sevilla", "ES", 2),
    ("Málaga", "ES", 2),
    ("Utrecht", "NL", 2),
    ("Aarhus", "DK", 2),
    ("Cork", "IE", 2),
];

const TITLES: &[&str] = &[
    "Backend Engineer",
    "Frontend Engineer",
    "Full Stack Developer",
    "Software Engineer",
    "Platform Engineer",
    "Data Engineer",
    "Data Scientist",
    "Machine Learning Engineer",
    "DevOps Engineer",
    "Site Reliability Engineer",
    "Mobile Developer",
    "QA Engineer",
    "Security Engineer",
    "Cloud Architect",
    "Solutions Architect",
    "Engineering Manager",
    "Product Manager",
    "Product Designer",
    "UX Designer",
    "Business Analyst",
    "Data Analyst",
    "Database Administrator",
    "Embedded Software Engineer",
    "Technical Writer",
    "Scrum Master",
    "IT Support Specialist",
    "Network Engineer",
    "Systems Administrator",
    "Project Manager",
    "Recruiter",
];

const SENIORITY: &[&str] = &[
    "Junior ",
    "",
    "",
    "Senior ",
    "Senior ",
    "Lead ",
    "Principal ",
];

const COMPANY_A: &[&str] = &[
    "Northwind",
    "Bluefin",
    "Pagalia",
    "Brightside",
    "Helix",
    "Nordlys",
    "Kestrel",
    "Vértice",
    "Ostara",
    "Lumen",
    "Quartzite",
    "Sólido",
    "Fjord",
    "Meridiano",
    "Atlas",
    "Cobalt",
    "Tangerine",
    "Żuraw",
    "Halcyon",
    "Orbital",
];

const COMPANY_B: &[&str] = &[
    "Payments",
    "Labs",
    "Systems",
    "Digital",
    "Analytics",
    "Health",
    "Logistics",
    "Software",
    "Insurance",
    "Energy",
    "Retail",
    "Mobility",
    "Media",
    "Robotics",
    "Bank",
];

const COMPANY_C: &[&str] = &[
    "Ltd",
    "GmbH",
    "S.L.",
    "B.V.",
    "SA",
    "AB",
    "Sp. z o.o.",
    "plc",
    "",
];

/// Skills the market asks for most, in order; the rest of the curated taxonomy follows them
/// in a fixed shuffled order, and a draw's chance falls with its rank.
const POPULAR: &[&str] = &[
    "JavaScript",
    "Docker",
    "Git",
    "Amazon Web Services",
    "TypeScript",
    "Linux",
    "React",
    "PostgreSQL",
    "Agile",
    "REST API",
    "Node.js",
    "Kubernetes",
    "C#",
    "Go",
    "Terraform",
    "Spring Boot",
    "Microsoft Azure",
    "Apache Kafka",
    "MySQL",
    "HTML",
];

/// The three skills the benchmark makes common: each is in about a fifth of the candidates.
const HOT: &[&str] = &["Java", "Python", "SQL"];

struct Generator {
    /// Curated skills by popularity, with the cumulative weights of a Zipf-like law.
    ranked: Vec<&'static str>,
    cumulative: Vec<f64>,
    /// Every skill of the taxonomy, for the occasional rare one.
    all: Vec<&'static str>,
    cities: Vec<(&'static str, &'static str)>,
    city_cumulative: Vec<u32>,
    seed: u64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        let tax = hirewire_taxonomy::Taxonomy::global();
        let name = |s: &str| {
            tax.normalize(s)
                .map_or_else(|| panic!("{s} is not in the taxonomy"), |k| k.name)
        };
        let hot: Vec<&str> = HOT.iter().map(|s| name(s)).collect();
        let mut ranked: Vec<&'static str> = POPULAR.iter().map(|s| name(s)).collect();
        let mut rest: Vec<&'static str> = tax
            .iter()
            .filter(|s| s.source == hirewire_taxonomy::Source::Curated)
            .map(|s| s.name)
            .filter(|n| !ranked.contains(n) && !hot.contains(n))
            .collect();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        // Fisher–Yates with our RNG, so the order depends on the seed alone.
        for i in (1..rest.len()).rev() {
            rest.swap(i, rng.random_range(0..=i));
        }
        ranked.extend(rest);
        let mut cumulative = Vec::with_capacity(ranked.len());
        let mut total = 0.0;
        for r in 0..ranked.len() {
            total += 1.0 / (r as f64 + 4.0);
            cumulative.push(total);
        }
        let all: Vec<&'static str> = tax
            .iter()
            .map(|s| s.name)
            .filter(|n| !hot.contains(n))
            .collect();
        let mut city_cumulative = Vec::new();
        let mut c = 0;
        for (_, _, w) in CITIES {
            c += w;
            city_cumulative.push(c);
        }
        Generator {
            ranked,
            cumulative,
            all,
            cities: CITIES.iter().map(|(c, cc, _)| (*c, *cc)).collect(),
            city_cumulative,
            seed,
        }
    }

    fn skill(&self, rng: &mut StdRng) -> &'static str {
        // One draw in eight is anywhere in the taxonomy (ESCO's long tail): rare on purpose.
        if rng.random_bool(0.125) {
            return self.all[rng.random_range(0..self.all.len())];
        }
        let x = rng.random::<f64>() * self.cumulative.last().unwrap();
        let i = self.cumulative.partition_point(|c| *c < x);
        self.ranked[i.min(self.ranked.len() - 1)]
    }

    fn city(&self, rng: &mut StdRng) -> (&'static str, &'static str) {
        let x = rng.random_range(0..*self.city_cumulative.last().unwrap());
        self.cities[self.city_cumulative.partition_point(|c| *c <= x)]
    }

    /// Candidate `i`: the same for the same seed and `i`, whoever generates it.
    fn candidate(&self, i: usize) -> NewCandidate {
        let mut rng =
            StdRng::seed_from_u64(self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64);
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        let (city, country) = self.city(&mut rng);

        // Skills: each hot skill in ~20 %, then the rest up to 3–12 from the ranked law.
        let want = rng.random_range(3..=12usize);
        let mut skills: Vec<&str> = HOT
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.2))
            .collect();
        let mut guard = 0;
        while skills.len() < want && guard < 100 {
            let s = self.skill(&mut rng);
            if !skills.contains(&s) {
                skills.push(s);
            }
            guard += 1;
        }

        // Jobs, newest first, walking back from November 2026.
        let jobs = rng.random_range(1..=4usize);
        let family = TITLES[rng.random_range(0..TITLES.len())];
        let mut month = 2026 * 12 + 10; // months since year 0, zero-based
        let mut total_months = 0;
        let mut work = Vec::with_capacity(jobs);
        for j in 0..jobs {
            let current = j == 0 && rng.random_bool(0.7);
            if !(j == 0 && current) {
                month -= rng.random_range(0..=6); // a gap (or the time since leaving)
            }
            let len = rng.random_range(6..=72);
            let end = month;
            let start = end - len;
            total_months += len;
            month = start - 1;
            // Most careers stay in one family; one job in four is elsewhere.
            let title_family = if rng.random_bool(0.25) {
                TITLES[rng.random_range(0..TITLES.len())]
            } else {
                family
            };
            let seniority = if j == 0 {
                SENIORITY[rng.random_range(1..SENIORITY.len())]
            } else {
                SENIORITY[rng.random_range(0..SENIORITY.len() - 2)]
            };
            let company = format!(
                "{} {} {}",
                COMPANY_A[rng.random_range(0..COMPANY_A.len())],
                COMPANY_B[rng.random_range(0..COMPANY_B.len())],
                COMPANY_C[rng.random_range(0..COMPANY_C.len())]
            );
            let used: Vec<&str> = skills
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.4))
                .take(3)
                .collect();
            let highlight = if used.is_empty() {
                "Worked closely with product and operations to ship on time.".to_string()
            } else {
                format!("Built and ran services with {}.", used.join(", "))
            };
            let ym = |m: i32| format!("{}-{:02}", m / 12, m % 12 + 1);
            work.push(Work {
                name: Some(company.trim().to_string()),
                position: Some(format!("{seniority}{title_family}")),
                location: Some(city.to_string()),
                start_date: Some(ym(start)),
                end_date: (!current).then(|| ym(end)),
                current,
                summary: None,
                highlights: vec![highlight],
            });
        }
        let years = (total_months as f64 / 12.0 * 10.0).round() / 10.0;
        let label = work[0].position.clone();
        let summary = format!(
            "{} with {years} years of experience, mostly {} and {}, based in {city}.",
            label.as_deref().unwrap_or(family),
            skills[0],
            skills[skills.len() / 2]
        );
        let ascii: String = format!("{first}.{last}")
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '.')
            .collect::<String>()
            .to_lowercase();
        let email = format!("{ascii}.{i}@example.com");
        let profile = Profile {
            basics: Basics {
                name: Some(format!("{first} {last}")),
                label,
                email: Some(email.clone()),
                summary: Some(summary),
                location: Some(Location {
                    city: Some(city.to_string()),
                    country_code: Some(country.to_string()),
                    ..Location::default()
                }),
                ..Basics::default()
            },
            work,
            skills: skills
                .iter()
                .map(|s| ProfileSkill {
                    name: s.to_string(),
                    years: Some(rng.random_range(1..=(years.ceil() as i64).max(1)) as f64),
                    ..ProfileSkill::default()
                })
                .collect(),
            total_experience_years: Some(years),
            ..Profile::default()
        };
        NewCandidate {
            first_name: Some(first.to_string()),
            last_name: Some(last.to_string()),
            email: Some(email),
            phone: Some(format!("+44 7700 {:06}", i % 1_000_000)),
            source: Some(["linkedin", "referral", "job_board", "career_site"][i % 4].to_string()),
            profile: Some(profile),
            ..NewCandidate::default()
        }
    }
}

/// How often the skills and cities the queries name occur in the data, so that a reader can
/// tell a common term from a rare one without querying the database.
fn print_shares(generator: &Generator, n: usize) {
    let tax = hirewire_taxonomy::Taxonomy::global();
    let watched = [
        "Java",
        "Python",
        "SQL",
        "JavaScript",
        "Docker",
        "Kubernetes",
        "PostgreSQL",
        "React",
        "Terraform",
        "Amazon Web Services",
        "Rust",
        "COBOL",
    ];
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut skills_total = 0usize;
    for i in 0..n {
        let c = generator.candidate(i);
        let p = c.profile.as_ref().expect("profile");
        skills_total += p.skills.len();
        for s in &p.skills {
            if let Some(w) = watched
                .iter()
                .find(|w| tax.normalize(w).map(|k| k.name) == Some(s.name.as_str()))
            {
                *counts.entry(*w).or_default() += 1;
            }
        }
        if let Some(city) = p.basics.location.as_ref().and_then(|l| l.city.as_deref())
            && (city == "London" || city == "Berlin" || city == "Paris")
        {
            *counts
                .entry(if city == "London" {
                    "city London"
                } else if city == "Berlin" {
                    "city Berlin"
                } else {
                    "city Paris"
                })
                .or_default() += 1;
        }
    }
    let mut shares: Vec<String> = watched
        .iter()
        .chain(["city London", "city Berlin", "city Paris"].iter())
        .map(|w| {
            format!(
                "{w} {:.2}%",
                100.0 * *counts.get(w).unwrap_or(&0) as f64 / n as f64
            )
        })
        .collect();
    shares.push(format!(
        "skills per candidate {:.1}",
        skills_total as f64 / n as f64
    ));
    eprintln!("data: {}", shares.join(", "));
}

// --- the database -----------------------------------------------------------------------------

async fn open_store(a: &Args) -> (Arc<dyn Store>, String) {
    match a.backend.as_str() {
        "sqlite" => {
            let path = a.db.clone().unwrap_or_else(|| {
                std::env::temp_dir()
                    .join(format!("hirewire-search-bench-{}.db", a.candidates))
                    .display()
                    .to_string()
            });
            if !a.reuse {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            let s = hirewire_store_sqlite::SqliteStore::connect(&format!("sqlite://{path}"))
                .await
                .expect("sqlite");
            s.migrate().await.expect("migrate");
            (Arc::new(s), path)
        }
        "postgres" => {
            let schema = a
                .schema
                .clone()
                .unwrap_or_else(|| format!("search_bench_{}", a.candidates));
            if !a.reuse {
                let pool = sqlx::PgPool::connect(&a.pg_url).await.expect("postgres");
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                )))
                .execute(&pool)
                .await
                .expect("drop schema");
                pool.close().await;
            }
            let s = hirewire_store_postgres::PostgresStore::connect_in_schema(&a.pg_url, &schema)
                .await
                .expect("postgres");
            s.migrate().await.expect("migrate");
            (Arc::new(s), schema)
        }
        other => panic!("--backend sqlite|postgres, not {other}"),
    }
}

/// How many candidates the tenant has, read straight from the database (the API has no count).
async fn count_candidates(a: &Args, location: &str, tenant_id: &str) -> i64 {
    let sql = "SELECT count(*) FROM candidates WHERE tenant_id = $1";
    match a.backend.as_str() {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{location}?mode=ro"))
                .await
                .expect("sqlite");
            let n: i64 = sqlx::query_scalar(sql)
                .bind(tenant_id)
                .fetch_one(&pool)
                .await
                .expect("count");
            pool.close().await;
            n
        }
        _ => {
            let pool = sqlx::PgPool::connect(&a.pg_url).await.expect("postgres");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM \"{location}\".candidates WHERE tenant_id = $1"
            )))
            .bind(tenant_id)
            .fetch_one(&pool)
            .await
            .expect("count");
            pool.close().await;
            n
        }
    }
}

/// Gives the planner statistics on the schema's tables, as autovacuum would in production:
/// the development server runs with `autovacuum = off`, and without statistics PostgreSQL
/// plans every search as a walk over all of the tenant's candidates.
async fn analyze(pg_url: &str, schema: &str) {
    let started = Instant::now();
    let pool = sqlx::PgPool::connect(pg_url).await.expect("postgres");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
            .bind(schema)
            .fetch_all(&pool)
            .await
            .expect("tables");
    for t in &tables {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE \"{schema}\".\"{t}\"")))
            .execute(&pool)
            .await
            .expect("analyze");
    }
    pool.close().await;
    eprintln!(
        "analyzed {} tables of {schema} in {:.1} s",
        tables.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Loads candidates `0..n` with `loaders` concurrent tasks; returns the seconds it took.
async fn load(
    store: Arc<dyn Store>,
    tenant_id: &str,
    generator: Arc<Generator>,
    n: usize,
    loaders: usize,
) -> f64 {
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..loaders {
        let (store, generator, done) = (store.clone(), generator.clone(), done.clone());
        let actor = Actor::system(tenant_id);
        tasks.spawn(async move {
            for i in (k..n).step_by(loaders) {
                let input = generator.candidate(i);
                candidates::create(store.as_ref(), &actor, input, false)
                    .await
                    .unwrap_or_else(|e| panic!("candidate {i}: {e}"));
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d % 10_000 == 0 {
                    let s = started.elapsed().as_secs_f64();
                    eprintln!("  … {d} of {n} loaded in {s:.0} s ({:.0}/s)", d as f64 / s);
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("loader");
    }
    started.elapsed().as_secs_f64()
}

// --- the measurement --------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let (store, location) = open_store(&a).await;
    let generator = Arc::new(Generator::new(a.seed));
    print_shares(&generator, a.candidates);

    let existing = store.tenant_by_name(TENANT).await.expect("tenant lookup");
    let (tenant_id, load_s) = match existing {
        Some(t) if a.reuse => {
            let n = count_candidates(&a, &location, &t.id).await;
            assert!(
                n == a.candidates as i64,
                "--reuse: {location} holds {n} candidates, not {}; run once without --reuse",
                a.candidates
            );
            eprintln!("reusing {location}: {n} candidates");
            (t.id, None)
        }
        Some(_) => panic!("{location} already has tenant {TENANT}; pass --reuse"),
        None => {
            let t = tenants::create(store.as_ref(), TENANT, 0, false)
                .await
                .expect("tenant");
            eprintln!(
                "loading {} candidates into {} ({location}) with {} loaders",
                a.candidates, a.backend, a.loaders
            );
            let s = load(
                store.clone(),
                &t.id,
                generator.clone(),
                a.candidates,
                a.loaders,
            )
            .await;
            eprintln!(
                "loaded {} in {s:.1} s ({:.0}/s)",
                a.candidates,
                a.candidates as f64 / s
            );
            (t.id, Some(s))
        }
    };
    // Every create wrote a `candidate.created` event; with no subscription the server's
    // dispatcher would still walk them at start, competing with the searches. Done here,
    // through the same function, so that the measurement sees a settled server.
    let drain = Instant::now();
    let mut drained = 0;
    loop {
        let n = webhooks::dispatch(store.as_ref(), 500)
            .await
            .expect("dispatch");
        drained += n;
        if n == 0 {
            break;
        }
    }
    if drained > 0 {
        eprintln!(
            "dispatched {drained} pending events in {:.1} s",
            drain.elapsed().as_secs_f64()
        );
    }
    if a.backend == "postgres" && a.analyze {
        analyze(&a.pg_url, &location).await;
    }
    let rss_after_load = rss_kb();

    // A client's key with the scope search needs, not the admin key.
    let (_, key) = keys::create(
        store.as_ref(),
        &Actor::system(&tenant_id),
        None,
        NewKey {
            name: "search bench".into(),
            scopes: vec![Scope::CvSearch],
            expires_at: None,
            allowed_ips: vec![],
        },
    )
    .await
    .expect("key");

    let mut config = Config::default();
    config.rate_limits.candidate_search = 1_000_000_000;
    config.rate_limits.candidate_read = 1_000_000_000;
    config.rate_limits.default = 1_000_000_000;
    let server = Server::new(config, store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}/api/v1/candidates/search",
        listener.local_addr().unwrap()
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let rss_server_started = rss_kb();

    // Warm-up: also checks every query answers 200, and notes its first page's size.
    let mut hits: Vec<(usize, bool)> = vec![(0, false); QUERIES.len()];
    for i in 0..a.warmup.max(QUERIES.len()) {
        let qi = i % QUERIES.len();
        let res = client
            .get(format!("{base}?{}&limit=20", QUERIES[qi]))
            .bearer_auth(&key)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let body: serde_json::Value = res.json().await.expect("json");
        assert!(status.is_success(), "{}: {status} {body}", QUERIES[qi]);
        hits[qi] = (
            body["items"].as_array().map_or(0, Vec::len),
            !body["next_cursor"].is_null(),
        );
    }

    let mut per_query: Vec<Vec<Duration>> = vec![Vec::new(); QUERIES.len()];
    let mut all = Vec::with_capacity(a.requests);
    let mut errors = 0usize;
    let started = Instant::now();
    for i in 0..a.requests {
        let qi = i % QUERIES.len();
        let url = format!("{base}?{}&limit=20", QUERIES[qi]);
        let t0 = Instant::now();
        let res = client.get(url).bearer_auth(&key).send().await;
        let ok = match res {
            Ok(r) => {
                let status = r.status();
                r.bytes().await.is_ok() && status.is_success()
            }
            Err(_) => false,
        };
        let took = t0.elapsed();
        if !ok {
            errors += 1;
        }
        per_query[qi].push(took);
        all.push(took);
    }
    let wall = started.elapsed().as_secs_f64();
    let rss_end = rss_kb();

    for (qi, lat) in per_query.iter_mut().enumerate() {
        lat.sort();
        println!(
            "query backend={} i={qi:02} p50_ms={:.2} p95_ms={:.2} max_ms={:.2} samples={} first_page={}{} q={}",
            a.backend,
            percentile(lat, 0.50),
            percentile(lat, 0.95),
            percentile(lat, 1.0),
            lat.len(),
            hits[qi].0,
            if hits[qi].1 { "+" } else { "" },
            QUERIES[qi]
        );
    }
    all.sort();
    let load_field = load_s.map_or_else(|| "reused".to_string(), |s| format!("{s:.1}"));
    println!(
        "summary backend={} candidates={} requests={} errors={errors} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2} req_per_s={:.0} load_s={load_field} rss_after_load_kb={rss_after_load} rss_server_started_kb={rss_server_started} rss_end_kb={rss_end}",
        a.backend,
        a.candidates,
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
        all.len() as f64 / wall,
    );

    let _ = stop_tx.send(());
    let _ = running.await;
}
