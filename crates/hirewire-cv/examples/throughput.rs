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
        run(ext, &docs, secs, &limits);
        if ext == "pdf" {
            // The fixture PDFs have one page; the figure is for two-page CVs.
            let two: Vec<Vec<u8>> = docs.iter().filter_map(|d| two_pages(d)).collect();
            run("pdf, 2 pages", &two, secs, &limits);
        }
    }
}

/// The same PDF with its first page repeated as a second page.
fn two_pages(pdf: &[u8]) -> Option<Vec<u8>> {
    let mut doc = lopdf::Document::load_mem(pdf).ok()?;
    let first = *doc.get_pages().get(&1)?;
    let page = doc.get_object(first).ok()?.clone();
    let parent = page
        .as_dict()
        .ok()?
        .get(b"Parent")
        .ok()?
        .as_reference()
        .ok()?;
    let copy = doc.add_object(page);
    let pages = doc.get_object_mut(parent).ok()?.as_dict_mut().ok()?;
    let mut kids = pages.get(b"Kids").ok()?.as_array().ok()?.clone();
    kids.push(lopdf::Object::Reference(copy));
    let count = kids.len() as i64;
    pages.set("Kids", lopdf::Object::Array(kids));
    pages.set("Count", lopdf::Object::Integer(count));
    let mut out = Vec::new();
    doc.save_to(&mut out).ok()?;
    Some(out)
}

fn run(ext: &str, docs: &[Vec<u8>], secs: f64, limits: &hirewire_cv::Limits) {
    {
        let budget = Duration::from_secs_f64(secs);
        let start = Instant::now();
        let mut n = 0usize;
        let mut failed = 0usize;
        while start.elapsed() < budget {
            for d in docs {
                if hirewire_cv::parse(d, limits).is_err() {
                    failed += 1;
                }
                n += 1;
            }
        }
        let el = start.elapsed().as_secs_f64();
        println!(
            "{ext:>12}: {:>8.0} docs/s on one thread ({n} parses of {} files in {el:.2} s, {failed} failed)",
            n as f64 / el,
            docs.len()
        );
    }
}
