//! `hirewire parse FILE…`: what the CV parser makes of files, without a server.

use std::io::Write;
use std::path::PathBuf;

use chrono::Datelike;
use serde_json::json;

/// Parses each file and prints one JSON object per file, one per line (or indented with
/// `pretty`). Fails when any file could not be parsed, after printing every result.
pub fn run(files: &[PathBuf], with_text: bool, pretty: bool) -> anyhow::Result<()> {
    let today = chrono::Utc::now();
    let limits = hirewire_cv::Limits::with_today(today.year(), today.month());
    let mut failed = 0;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        let result = match std::fs::read(file) {
            Err(e) => {
                failed += 1;
                json!({"file": file, "error": {"code": "unreadable", "message": e.to_string()}})
            }
            Ok(bytes) => match hirewire_cv::parse(&bytes, &limits) {
                Ok(cv) => {
                    let mut v = json!({
                        "file": file,
                        "format": cv.format,
                        "profile": cv.profile,
                        "warnings": cv.warnings,
                    });
                    if with_text {
                        v["text"] = json!(cv.text);
                    }
                    v
                }
                Err(e) => {
                    failed += 1;
                    json!({"file": file, "error": {"message": e.to_string()}})
                }
            },
        };
        let line = if pretty {
            serde_json::to_string_pretty(&result)?
        } else {
            serde_json::to_string(&result)?
        };
        writeln!(out, "{line}")?;
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} files could not be parsed",
        files.len()
    );
    Ok(())
}
