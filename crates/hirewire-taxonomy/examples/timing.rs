//! Prints how long the taxonomy takes to parse and to scan a two-page CV.
//!
//! `cargo run --release -p hirewire-taxonomy --example timing`

use std::time::Instant;

use hirewire_taxonomy::{Mode, Taxonomy};

const CV: &str = "Jane Doe — Senior Backend Engineer, Zürich. jane@example.com\n\
Summary: Backend engineer with 8 years building distributed systems in Go, Python and Rust. \
Led the migration of a monolith to microservices on Kubernetes (EKS) with Terraform and Helm, \
cutting deployment time by 60%. Mentored four engineers; ran code reviews and on-call.\n\
Skills: Go, Python, Rust, C++, C#, .NET, Node.js, TypeScript, React, PostgreSQL, Redis, Kafka, \
Docker, k8s, AWS, GCP, CI/CD, GitHub Actions, Prometheus, Grafana, Linux, SQL, Agile, Scrum\n\
Experience\n\
2019–2024 Acme GmbH, Berlin — Staff engineer. Designed an event-driven billing platform on \
Apache Kafka and PostgreSQL; wrote gRPC services in Go; introduced OpenTelemetry tracing and \
Grafana dashboards; moved CI from Jenkins to GitHub Actions. Worked with product managers and \
stakeholders to plan quarterly roadmaps; improved customer service response times.\n\
2015–2019 Beta Ltd, London — Software engineer. Built REST APIs with Django and Flask, a React \
front end with Redux, and data pipelines with Apache Airflow and Spark on AWS (S3, Lambda, \
Redshift). Ran A/B tests and reported results in Tableau. Automated infrastructure with Ansible.\n\
Education: MSc Computer Science, ETH Zürich — thesis on machine learning for anomaly detection \
(PyTorch, scikit-learn, pandas). Languages: English (native), German (fluent), 日本語 (basic).\n";

fn main() {
    let t = Instant::now();
    let tax = Taxonomy::global();
    let parse = t.elapsed();
    let t = Instant::now();
    let _ = tax.normalize("k8s");
    let first_normalize = t.elapsed();
    let t = Instant::now();
    let _ = tax.search("k8s", 10);
    let index = t.elapsed();
    let t = Instant::now();
    let _ = tax.find_in_text("warm up", Mode::List);
    let matcher = t.elapsed();
    let mut text = String::new();
    while text.len() < 8 * 1024 {
        text.push_str(CV);
    }
    let rounds = 200;
    for mode in [Mode::List, Mode::Prose] {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..rounds {
            n = tax.find_in_text(&text, mode).len();
        }
        println!(
            "find_in_text {mode:?} on {} bytes: {:?} per call, {n} matches",
            text.len(),
            t.elapsed() / rounds
        );
    }
    for q in ["ja", "co", "k8s", "py", "postgres", "man", "xq", "learning"] {
        let t = Instant::now();
        let mut names = Vec::new();
        for _ in 0..rounds {
            names = tax.search(q, 10).iter().map(|s| s.name).collect();
        }
        println!(
            "search({q:?}, 10): {:?} per call: {names:?}",
            t.elapsed() / rounds
        );
    }
    println!(
        "{} skills; parse once {parse:?}; first normalize {first_normalize:?}; \
         search index on first search {index:?}; matcher on first find_in_text {matcher:?}",
        tax.len()
    );
    let t = Instant::now();
    for _ in 0..rounds {
        let _ = tax.normalize("Postgres");
    }
    println!("normalize: {:?} per call", t.elapsed() / rounds);
    let first = CV.len();
    for m in tax.find_in_text(&text[..first], Mode::Prose) {
        print!("{} | ", &text[m.start..m.end]);
    }
    println!();
}
