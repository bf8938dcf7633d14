//! Reads CVs into structured profiles: text extraction from PDF, DOCX, ODT, HTML and TXT in
//! reading order, section detection, and extraction of identity, links, skills, work history
//! and education. Pure: bytes in, profile out, no file system, network or clock.
//!
//! Robustness: every entry point is meant to return (never panic, never run unbounded) on any
//! input. The PDF backend (`pdf-extract`/`lopdf`) can panic on malformed files; those panics
//! are caught with [`std::panic::catch_unwind`] and reported as [`CvError::Corrupt`]. This
//! library installs no panic hook, so the process's hook (by default one that prints the panic
//! message to stderr) still runs for a caught panic; a server that wants silence installs its
//! own hook.
#![warn(missing_docs)]

pub mod extract;
pub mod fields;
pub mod layout;
pub mod profile;
pub mod sections;
pub mod sniff;
mod text;

pub use profile::Profile;
pub use sniff::sniff;

use serde::{Deserialize, Serialize};

/// A document format the parser reads, recognised from the content, never from a name or a
/// declared Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PDF with a text layer.
    Pdf,
    /// Office Open XML word-processing document.
    Docx,
    /// OpenDocument text.
    Odt,
    /// An HTML page.
    Html,
    /// Plain text.
    Txt,
}

impl Format {
    /// The usual media type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Html => "text/html",
            Format::Txt => "text/plain",
        }
    }

    /// The upper-case short name used in messages ("PDF", "DOCX", …).
    pub fn label(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Odt => "ODT",
            Format::Html => "HTML",
            Format::Txt => "text file",
        }
    }
}

/// Bounds on the work one document may cause; the defaults suit CVs.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Most PDF pages accepted; longer documents are refused before any page is read.
    pub max_pages: usize,
    /// Most bytes a DOCX/ODT may inflate to, all entries read together.
    pub max_uncompressed: u64,
    /// Largest inflated/compressed ratio one ZIP entry may declare.
    pub max_entry_ratio: u64,
    /// Most entries a DOCX/ODT archive may have.
    pub max_entries: usize,
    /// Most characters of text kept; the rest is dropped with a warning.
    pub max_text_chars: usize,
    /// The date open-ended jobs run until, as (year, month). The crate reads no clock, so the
    /// default is a fixed date (2026-01); callers pass the real one with [`Limits::with_today`].
    pub today: (i32, u32),
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_pages: 50,
            max_uncompressed: 50 * 1024 * 1024,
            max_entry_ratio: 1000,
            max_entries: 5000,
            max_text_chars: 500_000,
            today: (2026, 1),
        }
    }
}

impl Limits {
    /// The defaults with `today` set, which is what a caller with a clock should use.
    pub fn with_today(year: i32, month: u32) -> Self {
        Limits {
            today: (year, month.clamp(1, 12)),
            ..Limits::default()
        }
    }
}

/// Why a document could not be read; the messages are meant for a recruiter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CvError {
    /// Not a PDF, DOCX, ODT, HTML or text file.
    #[error("unsupported document type; send a PDF, DOCX, ODT, HTML or plain-text CV")]
    Unsupported,
    /// Larger than `Limits::max_bytes`.
    #[error("the document is {size} bytes, more than the {max} bytes accepted")]
    TooLarge {
        /// The input's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A password-protected PDF (or an encrypted Office file).
    #[error("the {0} is password-protected; send a copy without a password")]
    Encrypted(&'static str),
    /// The file is damaged or not what it claims to be.
    #[error("the document could not be read: {0}")]
    Corrupt(String),
    /// A PDF with more pages than `Limits::max_pages`.
    #[error("the PDF has {pages} pages, more than the {max} accepted for a CV")]
    TooManyPages {
        /// Pages in the document.
        pages: usize,
        /// The limit.
        max: usize,
    },
    /// A ZIP-based document that inflates past the limits.
    #[error("the {format} expands beyond {limit_mib} MiB; it looks like a decompression bomb")]
    Bomb {
        /// "DOCX" or "ODT".
        format: &'static str,
        /// `Limits::max_uncompressed` in MiB.
        limit_mib: u64,
    },
}

/// A parsed document: its format, its text in reading order and the profile read from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedCv {
    /// The format recognised from the content.
    pub format: Format,
    /// The extracted text, in reading order, lines separated by `\n`.
    pub text: String,
    /// The structured profile.
    pub profile: Profile,
    /// Things a reviewer should know (text cut short, no text layer, …).
    pub warnings: Vec<String>,
}

/// Recognises the format of `bytes`, then extracts the text and reads the profile from it.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedCv, CvError> {
    if bytes.len() > limits.max_bytes {
        return Err(CvError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or_else(|| unreadable(bytes))?;
    let mut warnings = Vec::new();
    let text = extract_text_with_warnings(bytes, format, limits, &mut warnings)?;
    if text.trim().is_empty() {
        warnings.push(match format {
            Format::Pdf => "the PDF has no text layer (a scan?); nothing could be read".into(),
            _ => "the document contains no text".into(),
        });
    }
    let profile = fields::parse_text_at(&text, limits.today);
    Ok(ParsedCv {
        format,
        text,
        profile,
        warnings,
    })
}

/// Why bytes that no reader accepted were refused: an office document whose archive is damaged
/// (a truncated upload) is corrupt, anything else unsupported.
fn unreadable(bytes: &[u8]) -> CvError {
    let head = &bytes[..bytes.len().min(4096)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if bytes.starts_with(b"PK\x03\x04") {
        if has(b"word/") || has(b"[Content_Types].xml") {
            return CvError::Corrupt("the DOCX is damaged or incomplete".into());
        }
        if has(b"opendocument.text") {
            return CvError::Corrupt("the ODT is damaged or incomplete".into());
        }
    }
    // An encrypted DOCX is an OLE compound file holding an "EncryptedPackage" stream.
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        let name: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        if bytes.windows(name.len()).any(|w| w == name.as_slice()) {
            return CvError::Encrypted("DOCX");
        }
    }
    CvError::Unsupported
}

/// Extracts the text of a document of a known format, in reading order.
pub fn extract_text(bytes: &[u8], format: Format, limits: &Limits) -> Result<String, CvError> {
    if bytes.len() > limits.max_bytes {
        return Err(CvError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    extract_text_with_warnings(bytes, format, limits, &mut Vec::new())
}

fn extract_text_with_warnings(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    warnings: &mut Vec<String>,
) -> Result<String, CvError> {
    let raw = match format {
        Format::Pdf => extract::pdf::extract(bytes, limits)?,
        Format::Docx => extract::docx::extract(bytes, limits)?,
        Format::Odt => extract::odt::extract(bytes, limits)?,
        Format::Html => extract::html::extract(&extract::txt::decode(bytes)),
        Format::Txt => extract::txt::decode(bytes),
    };
    let (text, cut) = text::normalize(&raw, limits.max_text_chars);
    if cut {
        warnings.push(format!(
            "the text was cut after {} characters",
            limits.max_text_chars
        ));
    }
    Ok(text)
}

/// Reads a profile from plain text (one line per line), with open-ended jobs counted up to
/// `Limits::default().today`; use [`fields::parse_text_at`] to give the date.
pub fn parse_text(text: &str) -> Profile {
    let (text, _) = text::normalize(text, Limits::default().max_text_chars);
    fields::parse_text_at(&text, Limits::default().today)
}
