//! Hostile and broken inputs: decompression bombs, huge page counts, encryption, truncation,
//! and random bytes. None may panic, hang or be read at length.

use hirewire_cv::{CvError, Format, Limits, parse, sniff};
use lopdf::{Dictionary, Document, Object, Stream};
use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zip::write::SimpleFileOptions;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cvs")
}

fn fixture(ext: &str) -> Option<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(fixtures())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    std::fs::read(paths.first()?).ok()
}

/// A DOCX whose `word/document.xml` inflates to 1 GiB of zeros, streamed through the
/// compressor so that the test itself stays small.
fn bomb_docx() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    zip.start_file("[Content_Types].xml", opts).expect("entry");
    zip.write_all(b"<Types/>").expect("write");
    zip.start_file("word/document.xml", opts).expect("entry");
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&chunk).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn decompression_bomb_docx_is_refused_quickly() {
    let bomb = bomb_docx();
    assert!(bomb.len() < 4 << 20, "bomb is {} bytes", bomb.len());
    assert_eq!(sniff(&bomb), Some(Format::Docx));
    let t = Instant::now();
    let err = parse(&bomb, &Limits::default()).expect_err("a bomb must be refused");
    let took = t.elapsed();
    assert!(matches!(err, CvError::Bomb { .. }), "{err:?}");
    assert!(err.to_string().contains("decompression bomb"), "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?}");

    // The same archive with the sizes in its headers forged small: the reader's budget, not
    // the header, has to stop it.
    let mut forged = bomb.clone();
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let mut at = 0;
        while let Some(p) = forged[at..].windows(4).position(|w| w == sig) {
            let h = at + p;
            let size_at = if sig[2] == 3 { h + 22 } else { h + 24 };
            if size_at + 4 <= forged.len() {
                forged[size_at..size_at + 4].copy_from_slice(&1000u32.to_le_bytes());
            }
            at = h + 4;
        }
    }
    let t = Instant::now();
    let r = parse(&forged, &Limits::default());
    assert!(r.is_err(), "{r:?}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
}

fn pdf_with_pages(n: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::with_capacity(n);
    for _ in 0..n {
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set(
            "MediaBox",
            Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
        );
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(kids));
    pages.set("Count", Object::Integer(n as i64));
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

#[test]
fn ten_thousand_page_pdf_is_refused_in_milliseconds() {
    let pdf = pdf_with_pages(10_000);
    let t = Instant::now();
    let err = parse(&pdf, &Limits::default()).expect_err("too many pages");
    let took = t.elapsed();
    assert_eq!(
        err,
        CvError::TooManyPages {
            pages: 10_000,
            max: 50
        }
    );
    println!("10,000-page PDF refused in {took:?}");
    // ~100 ms is the goal in release builds; debug builds get slack.
    assert!(
        took < Duration::from_millis(if cfg!(debug_assertions) { 1000 } else { 100 }),
        "took {took:?}"
    );
}

/// A one-page PDF that prints `text` in Helvetica.
fn pdf_with_text(text: &str) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    let font_id = doc.add_object(font);
    let mut f = Dictionary::new();
    f.set("F1", Object::Reference(font_id));
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(f));
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let mut page = Dictionary::new();
    page.set("Type", Object::Name(b"Page".to_vec()));
    page.set("Parent", Object::Reference(pages_id));
    page.set("Contents", Object::Reference(content_id));
    page.set("Resources", Object::Dictionary(resources));
    page.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
    );
    let page_id = doc.add_object(page);
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(vec![Object::Reference(page_id)]));
    pages.set("Count", Object::Integer(1));
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    doc
}

#[test]
fn a_generated_pdf_reads() {
    let mut out = Vec::new();
    pdf_with_text("Jane Doe").save_to(&mut out).expect("save");
    let p = parse(&out, &Limits::default()).expect("parse");
    assert_eq!(p.format, Format::Pdf);
    assert_eq!(p.text.trim(), "Jane Doe");
}

#[test]
fn password_protected_pdf_is_reported_as_such() {
    let mut doc = pdf_with_text("Jane Doe");
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(
                b"0123456789abcdef".to_vec(),
                lopdf::StringFormat::Hexadecimal,
            ),
            Object::String(
                b"0123456789abcdef".to_vec(),
                lopdf::StringFormat::Hexadecimal,
            ),
        ]),
    );
    let version = lopdf::encryption::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "secret",
        key_length: 128,
        permissions: lopdf::encryption::Permissions::all(),
    };
    let state = lopdf::encryption::EncryptionState::try_from(version).expect("state");
    doc.encrypt(&state).expect("encrypt");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    let err = parse(&out, &Limits::default()).expect_err("encrypted");
    assert_eq!(err, CvError::Encrypted("PDF"));
    assert_eq!(
        err.to_string(),
        "the PDF is password-protected; send a copy without a password"
    );
}

#[test]
fn truncated_documents_are_corrupt_not_panics() {
    for ext in ["pdf", "docx", "odt"] {
        let Some(bytes) = fixture(ext) else { continue };
        for cut in [bytes.len() / 2, bytes.len() - 30, 100] {
            let r = parse(&bytes[..cut], &Limits::default());
            match r {
                Err(CvError::Corrupt(_)) => {}
                other => panic!("{ext} cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn legacy_and_binary_formats_are_unsupported() {
    let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0\0\0\0\0";
    assert_eq!(parse(ole, &Limits::default()), Err(CvError::Unsupported));
    let mut xlsx = zip::ZipWriter::new(Cursor::new(Vec::new()));
    xlsx.start_file("xl/workbook.xml", SimpleFileOptions::default())
        .expect("entry");
    xlsx.write_all(b"<workbook/>").expect("write");
    let xlsx = xlsx.finish().expect("zip").into_inner();
    assert_eq!(sniff(&xlsx), None);
    let big = vec![b'a'; 11 << 20];
    assert!(matches!(
        parse(&big, &Limits::default()),
        Err(CvError::TooLarge { .. })
    ));
}

#[test]
fn encrypted_docx_container_is_reported_as_encrypted() {
    let mut ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    ole.resize(1024, 0);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(
        parse(&ole, &Limits::default()),
        Err(CvError::Encrypted("DOCX"))
    );
}

#[test]
fn long_texts_parse_in_bounded_time() {
    let Some(txt) = fixture("txt") else { return };
    let text = String::from_utf8_lossy(&txt).repeat(300);
    let t = Instant::now();
    let p = hirewire_cv::parse_text(&text);
    assert!(p.basics.name.is_some());
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "{} bytes took {:?}",
        text.len(),
        t.elapsed()
    );
    // One very long line and one line per character.
    let _ = hirewire_cv::parse_text(&"word ".repeat(200_000));
    let _ = hirewire_cv::parse_text(&"a\n".repeat(200_000));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn bounded(bytes: &[u8]) {
        let t = Instant::now();
        let _ = sniff(bytes);
        let _ = parse(bytes, &Limits::default());
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
    }

    fn real_fixtures() -> Vec<Vec<u8>> {
        ["pdf", "docx", "odt", "html", "txt"]
            .iter()
            .filter_map(|e| fixture(e))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            bounded(&bytes);
        }

        #[test]
        fn arbitrary_bytes_after_a_pdf_header(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut v = b"%PDF-1.7\n".to_vec();
            v.extend(bytes);
            bounded(&v);
        }

        #[test]
        fn arbitrary_text(s in "\\PC{0,2000}") {
            let p = hirewire_cv::parse_text(&s);
            let _ = serde_json::to_string(&p);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn mutated_fixtures(which in 0usize..5, flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24), cut in any::<prop::sample::Index>()) {
            let all = real_fixtures();
            prop_assume!(!all.is_empty());
            let mut doc = all[which % all.len()].clone();
            for (i, b) in flips {
                let at = i.index(doc.len());
                doc[at] = b;
            }
            if which % 2 == 0 {
                let keep = cut.index(doc.len()).max(1);
                doc.truncate(keep);
            }
            bounded(&doc);
        }
    }
}
