//! Documents: the files (CVs) attached to a candidate, kept byte for byte, and what parsing
//! made of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum! {
    /// Where a document is in parsing.
    ParseStatus { Pending => "pending", Parsed => "parsed", Failed => "failed" }
}

string_enum! {
    /// The formats Hirewire reads, told from the content, never from the declared type.
    DocumentFormat { Pdf => "pdf", Docx => "docx", Odt => "odt", Html => "html", Txt => "txt" }
}

impl DocumentFormat {
    /// The media type a document of this format is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Html => "text/html; charset=utf-8",
            Self::Txt => "text/plain; charset=utf-8",
        }
    }
}

/// A file attached to a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Document {
    pub id: String,
    pub candidate_id: String,
    /// The name the file was uploaded with, if any.
    pub filename: Option<String>,
    /// The media type of the content as sniffed (not as declared).
    pub content_type: String,
    pub format: DocumentFormat,
    pub size_bytes: i64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub parse_status: ParseStatus,
    /// Why parsing failed, for `parse_status: failed`.
    pub parse_error: Option<String>,
    /// The operation that parses the document.
    pub reference_id: String,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}
