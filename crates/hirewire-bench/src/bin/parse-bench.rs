//! CV parse throughput on one thread (bench/parse.sh runs it; issue "Candidates, CV parsing
//! and candidate search", criterion 8: ≥ 200 documents/s per core).
//!
//! Reads every CV of the chosen formats from a directory into memory (by default
//! `crates/hirewire-bench/fixtures/two-page/cvs/`: the parser's fixture CVs, which are all one
//! page, rendered again at two pages by that folder's `generate.py`), then, per format, calls
//! `hirewire_cv::parse` on them round-robin on this one thread for `--seconds`, and prints
//! documents per second. A second loop of the same length times the two halves of a parse
//! apart: text extraction (`hirewire_cv::extract_text`, layout and normalisation included)
//! and field extraction (`hirewire_cv::fields::parse_text_at`), so that a miss can be pinned
//! on one of them. Each run repeats both loops; the summary is the median over runs.
//!
//! Output: one `run=… format=…` line per run and format, then one `summary format=…` line per
//! format, as `key=value` pairs for the script to read.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hirewire_cv::{Format, Limits};

struct Args {
    dir: PathBuf,
    formats: Vec<String>,
    seconds: f64,
    runs: usize,
    split: bool,
}

fn args() -> Args {
    let mut a = Args {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/two-page/cvs"),
        formats: vec!["pdf".into(), "docx".into()],
        seconds: 10.0,
        runs: 1,
        split: true,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.chunks(2);
    while let Some([k, v]) = it.next() {
        match k.as_str() {
            "--dir" => a.dir = PathBuf::from(v),
            "--formats" => a.formats = v.split(',').map(|s| s.trim().to_lowercase()).collect(),
            "--seconds" => a.seconds = v.parse().expect("--seconds N"),
            "--runs" => a.runs = v.parse::<usize>().expect("--runs N").max(1),
            "--split" => a.split = v == "1" || v == "true",
            other => panic!(
                "unknown argument {other}; use --dir DIR --formats pdf,docx --seconds 10 --runs 1 --split 1"
            ),
        }
    }
    a
}

fn format_of(ext: &str) -> Format {
    match ext {
        "pdf" => Format::Pdf,
        "docx" => Format::Docx,
        "odt" => Format::Odt,
        "html" => Format::Html,
        "txt" => Format::Txt,
        other => panic!("unknown format {other}"),
    }
}

/// The documents of one format, sorted by name so that every run parses them in one order.
fn load(dir: &std::path::Path, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut docs: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read fixture");
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    docs.sort();
    docs
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// This thread's CPU time (user + system) in seconds, from /proc in USER_HZ ticks (100 a
/// second on Linux): on a machine shared with other work, documents per CPU-second is the
/// closer estimate of "per core" than documents per wall-clock second.
fn thread_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after the name.
    (tick(11) + tick(12)) / 100.0
}

/// Whole parses for `budget`: documents per wall-clock second, per CPU-second of this
/// thread, mean milliseconds per document, and the number of parses.
fn whole(docs: &[(String, Vec<u8>)], limits: &Limits, budget: Duration) -> (f64, f64, f64, usize) {
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let mut n = 0usize;
    // Whole passes over the corpus, so that every document weighs the same in the figure.
    while start.elapsed() < budget {
        for (name, bytes) in docs {
            let parsed = hirewire_cv::parse(bytes, limits)
                .unwrap_or_else(|e| panic!("{name} did not parse: {e}"));
            black_box(&parsed);
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_secs() - cpu0;
    (n as f64 / secs, n as f64 / cpu, secs * 1000.0 / n as f64, n)
}

/// The same work cut in two: time in text extraction and in field extraction, per document.
fn split(docs: &[(String, Vec<u8>)], limits: &Limits, budget: Duration) -> (f64, f64) {
    let start = Instant::now();
    let (mut extract, mut fields) = (Duration::ZERO, Duration::ZERO);
    let mut n = 0usize;
    while start.elapsed() < budget {
        for (name, bytes) in docs {
            let t0 = Instant::now();
            let format = hirewire_cv::sniff(bytes).expect("a known format");
            let text = hirewire_cv::extract_text(bytes, format, limits)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let t1 = Instant::now();
            let profile = hirewire_cv::fields::parse_text_at(&text, limits.today);
            let t2 = Instant::now();
            black_box((&text, &profile));
            extract += t1 - t0;
            fields += t2 - t1;
            n += 1;
        }
    }
    (
        extract.as_secs_f64() * 1000.0 / n as f64,
        fields.as_secs_f64() * 1000.0 / n as f64,
    )
}

fn main() {
    let a = args();
    let limits = Limits::with_today(2026, 11);
    // The taxonomy and the regexes are built on first use; a server pays that once at start.
    let _ = hirewire_cv::parse_text("Jane Doe\nSkills\nRust, Java");

    let mut corpus = Vec::new();
    for ext in &a.formats {
        let _ = format_of(ext);
        let docs = load(&a.dir, ext);
        if docs.is_empty() {
            eprintln!("no .{ext} files in {}", a.dir.display());
            continue;
        }
        // One checked parse each before timing: a document that fails would make the figure
        // meaningless, and the size tells the reader what was parsed.
        let mut text_chars = 0usize;
        for (name, bytes) in &docs {
            let p = hirewire_cv::parse(bytes, &limits)
                .unwrap_or_else(|e| panic!("{name} did not parse: {e}"));
            text_chars += p.text.chars().count();
        }
        let bytes: usize = docs.iter().map(|(_, b)| b.len()).sum();
        eprintln!(
            "{ext}: {} documents, {:.0} KiB on average, {:.0} characters of text on average",
            docs.len(),
            bytes as f64 / docs.len() as f64 / 1024.0,
            text_chars as f64 / docs.len() as f64
        );
        corpus.push((ext.clone(), docs, text_chars));
    }

    let budget = Duration::from_secs_f64(a.seconds);
    // Per format: documents/s (wall), documents per CPU-second, extraction ms, fields ms.
    type Figures = (String, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let mut results: Vec<Figures> = corpus
        .iter()
        .map(|(ext, _, _)| (ext.clone(), vec![], vec![], vec![], vec![]))
        .collect();
    for run in 1..=a.runs {
        for (i, (ext, docs, _)) in corpus.iter().enumerate() {
            let (per_s, per_cpu_s, ms, n) = whole(docs, &limits, budget);
            let (ex_ms, fi_ms) = if a.split {
                split(docs, &limits, budget)
            } else {
                (f64::NAN, f64::NAN)
            };
            println!(
                "run={run} format={ext} documents={} parses={n} docs_per_s={per_s:.1} docs_per_cpu_s={per_cpu_s:.1} ms_per_doc={ms:.3} extract_ms={ex_ms:.3} fields_ms={fi_ms:.3}",
                docs.len()
            );
            results[i].1.push(per_s);
            results[i].2.push(per_cpu_s);
            results[i].3.push(ex_ms);
            results[i].4.push(fi_ms);
        }
    }
    for ((ext, per_s, per_cpu_s, ex, fi), (_, docs, _)) in results.iter().zip(&corpus) {
        let runs: Vec<String> = per_s.iter().map(|v| format!("{v:.0}")).collect();
        let cpu_runs: Vec<String> = per_cpu_s.iter().map(|v| format!("{v:.0}")).collect();
        let (ex, fi) = (median(ex), median(fi));
        println!(
            "summary format={ext} documents={} runs={} docs_per_s={:.0} per_run={} docs_per_cpu_s={:.0} cpu_per_run={} extract_ms={ex:.3} fields_ms={fi:.3} extract_share={:.0}%",
            docs.len(),
            per_s.len(),
            median(per_s),
            runs.join(","),
            median(per_cpu_s),
            cpu_runs.join(","),
            100.0 * ex / (ex + fi)
        );
    }
}
