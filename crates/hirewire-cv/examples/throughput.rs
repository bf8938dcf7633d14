//! Documents parsed per second on one thread, per format, over the fixture corpus:
//! `cargo run --release -p hirewire-cv --example throughput [seconds per format]`.

use std::time::{Duration, Instant};

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let only = std::env::args().nth(2);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cvs");
    let limits = hirewire_cv::Limits::default();
    // Warm the taxonomy and the regexes once, as a server would.
    let _ = hirewire_cv::parse_text("Jane Doe\nSkills\nRust");
    for ext in ["pdf", "docx", "odt", "html", "txt"] {
        if only.as_deref().is_some_and(|o| o != ext) {
            continue;
        }
        let mut docs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == ext))
                    .filter_map(|p| std::fs::read(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        docs.sort();
        if docs.is_empty() {
            continue;
        }
        let budget = Duration::from_secs_f64(secs);
        let start = Instant::now();
        let mut n = 0usize;
        let mut failed = 0usize;
        while start.elapsed() < budget {
            for d in &docs {
                if hirewire_cv::parse(d, &limits).is_err() {
                    failed += 1;
                }
                n += 1;
            }
        }
        let el = start.elapsed().as_secs_f64();
        println!(
            "{ext:>4}: {:>8.0} docs/s on one thread ({n} parses of {} files in {el:.2} s, {failed} failed)",
            n as f64 / el,
            docs.len()
        );
    }
}
