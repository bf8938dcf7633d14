//! Recognises a document's format from its bytes. The declared Content-Type and file name
//! are never trusted: a renamed `.exe` must not reach a parser.

use crate::Format;
use std::io::Cursor;

/// The format of `bytes`, or `None` for anything the parser does not read (images, legacy
/// `.doc`, spreadsheets, executables, binary noise).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if find_pdf_header(bytes) {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return sniff_zip(bytes);
    }
    let text = crate::extract::txt::decode_strict(bytes)?;
    if looks_like_html(&text) {
        return Some(Format::Html);
    }
    if looks_like_text(&text) {
        return Some(Format::Txt);
    }
    None
}

fn find_pdf_header(bytes: &[u8]) -> bool {
    // Some producers put a few junk bytes before the header; readers accept it within 1 KiB.
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

fn sniff_zip(bytes: &[u8]) -> Option<Format> {
    // ODF requires `mimetype` to be the first entry, stored uncompressed: check it raw first.
    if bytes.len() > 38 && &bytes[30..38] == b"mimetype" {
        let rest = &bytes[38..bytes.len().min(38 + 64)];
        if rest
            .windows(39)
            .any(|w| w == b"application/vnd.oasis.opendocument.text")
        {
            // `…opendocument.text-template` and `…text-master` are text documents too.
            return Some(Format::Odt);
        }
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut has_docx = false;
    let mut has_mimetype = false;
    let mut has_content = false;
    for name in archive.file_names_raw() {
        match name {
            b"word/document.xml" => has_docx = true,
            b"mimetype" => has_mimetype = true,
            b"content.xml" => has_content = true,
            _ => {}
        }
    }
    if has_docx {
        return Some(Format::Docx);
    }
    if has_mimetype && has_content {
        return Some(Format::Odt);
    }
    None
}

fn looks_like_html(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let head: String = t.chars().take(512).collect::<String>().to_ascii_lowercase();
    const STARTS: [&str; 12] = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<meta",
        "<title",
        "<div",
        "<p>",
        "<h1",
        "<table",
        "<section",
        "<article",
    ];
    if STARTS.iter().any(|s| head.starts_with(s)) {
        return true;
    }
    // An XML prolog or a comment before the root element.
    (head.starts_with("<?xml") || head.starts_with("<!--"))
        && (head.contains("<html") || head.contains("<!doctype html"))
}

fn looks_like_text(text: &str) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars().take(64 * 1024) {
        total += 1;
        if (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c')) || c == '\u{fffd}' {
            bad += 1;
        }
    }
    bad * 100 <= total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(Format::Pdf));
        assert_eq!(
            sniff(b"\xef\xbb\xbf <!DOCTYPE html><p>x"),
            Some(Format::Html)
        );
        assert_eq!(sniff(b"<html><body>Jane</body></html>"), Some(Format::Html));
        assert_eq!(sniff(b"Jane Doe\njane@example.com\n"), Some(Format::Txt));
        assert_eq!(sniff(b"Ren\xe9e Dupont\nParis\n"), Some(Format::Txt));
    }

    #[test]
    fn refuses_binaries_and_images() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0"), None);
        assert_eq!(sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0"), None);
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"PK\x03\x04garbage"), None);
    }
}
