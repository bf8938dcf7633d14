//! PDF: the text layer, laid out in reading order by [`crate::layout`].
//!
//! `pdf-extract` interprets the content streams and hands each glyph with its position to
//! a glyph collector; its own text output is not used because it interleaves columns. The page
//! count is checked from the trailer before the document is loaded, so a 10,000-page file is
//! refused in milliseconds; compressed streams are inflated here through a byte budget, so a
//! stream bomb is refused too. `pdf-extract` and `lopdf` can panic on malformed files: every
//! call into them runs under `catch_unwind` and a panic becomes [`CvError::Corrupt`].

use crate::layout::{Glyph, Page};
use crate::{CvError, Limits};
use lopdf::{Document, Object};
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Extracts the text of a PDF in reading order.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<String, CvError> {
    let pages = collect_pages(bytes, limits)?;
    Ok(crate::layout::pages_to_text(&pages))
}

/// The positioned glyphs of every page.
pub fn collect_pages(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, CvError> {
    let encrypted_marker = memchr::memmem::find(bytes, b"/Encrypt").is_some();
    if let Some(pages) = quick_page_count(bytes)
        && pages > limits.max_pages
    {
        return Err(CvError::TooManyPages {
            pages,
            max: limits.max_pages,
        });
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes)));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            return Err(match e {
                lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => {
                    CvError::Encrypted("PDF")
                }
                _ if encrypted_marker => CvError::Encrypted("PDF"),
                e => CvError::Corrupt(format!("the PDF is damaged ({e})")),
            });
        }
        Err(_) => return Err(CvError::Corrupt("the PDF is damaged".into())),
    };
    // A document that needed a password keeps its /Encrypt entry; one opened with the empty
    // user password (print/copy restrictions only) has it removed and reads normally.
    if doc.is_encrypted() {
        return Err(CvError::Encrypted("PDF"));
    }
    let page_count = catch_unwind(AssertUnwindSafe(|| doc.get_pages().len()))
        .map_err(|_| CvError::Corrupt("the PDF's page tree is damaged".into()))?;
    if page_count > limits.max_pages {
        return Err(CvError::TooManyPages {
            pages: page_count,
            max: limits.max_pages,
        });
    }
    inflate_streams(&mut doc, limits.max_uncompressed)?;
    let mut collector = Collector {
        pages: Vec::new(),
        page_height: 0.0,
        chars: 0,
        max_chars: limits.max_text_chars,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::output_doc(&doc, &mut collector)
    }));
    match run {
        Ok(Ok(())) => {}
        // The collector stops the interpreter once it has enough text: keep what it has.
        Ok(Err(_)) if collector.chars >= collector.max_chars => {}
        Ok(Err(e)) if collector.pages.iter().all(|p| p.glyphs.is_empty()) => {
            return Err(CvError::Corrupt(format!("the PDF is damaged ({e})")));
        }
        Ok(Err(_)) => {}
        Err(_) if collector.pages.iter().any(|p| !p.glyphs.is_empty()) => {}
        Err(_) => return Err(CvError::Corrupt("the PDF is damaged".into())),
    }
    Ok(collector.pages)
}

/// The page count from the trailer and the root page node, without loading the document.
fn quick_page_count(bytes: &[u8]) -> Option<usize> {
    let meta = catch_unwind(AssertUnwindSafe(|| Document::load_metadata_mem(bytes)));
    if let Ok(Ok(m)) = meta {
        return Some(m.page_count as usize);
    }
    // A damaged cross-reference table: the largest `/Count` of a page-tree node will do.
    let mut best: Option<usize> = None;
    for at in memchr::memmem::find_iter(bytes, b"/Count") {
        let from = at.saturating_sub(300);
        let to = (at + 300).min(bytes.len());
        if memchr::memmem::find(&bytes[from..to], b"/Kids").is_none() {
            continue;
        }
        let digits: String = bytes[at + 6..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take_while(|b| b.is_ascii_digit())
            .take(9)
            .map(|&b| b as char)
            .collect();
        if let Ok(n) = digits.parse::<usize>() {
            best = Some(best.map_or(n, |b| b.max(n)));
        }
    }
    best
}

/// Inflates every Flate stream through one budget, so that a small file whose streams expand
/// to gigabytes is refused instead of exhausting memory inside `lopdf`.
fn inflate_streams(doc: &mut Document, budget: u64) -> Result<(), CvError> {
    let mut left = budget;
    for obj in doc.objects.values_mut() {
        let Object::Stream(stream) = obj else {
            continue;
        };
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Image");
        if is_image {
            // Images are never decoded for text; drop their data to keep memory flat.
            stream.content = Vec::new();
            continue;
        }
        let plain = stream.dict.get(b"Filter").is_err();
        let flate_only = matches!(stream.filters().as_deref(), Ok([b"FlateDecode"]));
        if plain {
            compact_cmap(stream);
            continue;
        }
        if !flate_only || stream.dict.get(b"DecodeParms").is_ok() {
            continue;
        }
        let mut out = Vec::new();
        let mut dec = flate2::read::ZlibDecoder::new(stream.content.as_slice()).take(left + 1);
        match dec.read_to_end(&mut out) {
            Ok(n) if n as u64 > left => {
                return Err(CvError::Bomb {
                    format: "PDF",
                    limit_mib: budget.div_ceil(1024 * 1024),
                });
            }
            Ok(n) => {
                left -= n as u64;
                stream.set_plain_content(out);
                compact_cmap(stream);
            }
            // Damaged data: leave it to lopdf, which keeps what it can.
            Err(_) => {}
        }
    }
    Ok(())
}

/// Replaces a ToUnicode CMap by its compact form (see `cmap.rs`).
fn compact_cmap(stream: &mut lopdf::Stream) {
    let c = &stream.content;
    if c.len() > (1 << 20) || memchr::memmem::find(c, b"begincmap").is_none() {
        return;
    }
    if let Some(small) = super::cmap::compact(c) {
        stream.set_plain_content(small);
    }
}

/// Receives positioned glyphs from `pdf-extract`.
struct Collector {
    pages: Vec<Page>,
    page_height: f64,
    chars: usize,
    max_chars: usize,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page_height = media_box.ury - media_box.lly;
        self.pages.push(Page {
            width: (media_box.urx - media_box.llx) as f32,
            glyphs: Vec::new(),
            text: String::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        if self.chars >= self.max_chars {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        let Some(page) = self.pages.last_mut() else {
            return Ok(());
        };
        if ch.trim().is_empty() || ch.len() > 16 {
            return Ok(());
        }
        // Rotated text (vertical labels in margins) would scramble the lines it crosses.
        if trm.m12.abs() > 0.2 * trm.m11.abs() || trm.m11 <= 0.0 {
            return Ok(());
        }
        let scale = ((trm.m11 + trm.m21) * (trm.m12 + trm.m22)).abs().sqrt();
        let size = (font_size * scale).abs();
        let size = if size.is_finite() && size > 0.1 {
            size
        } else {
            1.0
        };
        let x = trm.m31;
        let y = self.page_height - trm.m32;
        if !x.is_finite() || !y.is_finite() {
            return Ok(());
        }
        let start = page.text.len() as u32;
        page.text.push_str(ch);
        page.glyphs.push(Glyph {
            x: x as f32,
            y: y as f32,
            w: (width * size).max(0.0) as f32,
            size: size as f32,
            start,
            len: ch.len() as u8,
        });
        self.chars += 1;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
