//! Document uploads: a multipart form with a `file` part, or the raw file as the body. The
//! format is told from the bytes; the declared type is not trusted.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use hirewire_core::model::DocumentFormat;
use hirewire_core::service::documents::Upload;
use http_body_util::{BodyExt, Limited};

use crate::http::error::{ApiError, Code};
use crate::state::AppState;

const MAX_FILENAME: usize = 255;

/// What a request to create a candidate carries: JSON fields, or a CV to create it from.
pub enum CandidateBody {
    Json(Bytes),
    File(Upload),
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("The request body is larger than the {limit} bytes accepted."),
    )
}

fn mime(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
}

fn is_multipart(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|m| m.starts_with("multipart/form-data"))
}

fn is_json(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|m| {
        let m = m.split(';').next().unwrap_or_default().trim().to_string();
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(ApiError::new(
            Code::InvalidRequest,
            format!("The request body could not be read: {e}"),
        )),
    }
}

/// Keeps the last path component of a client's file name, without control characters.
fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILENAME)
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The `filename` of a `Content-Disposition: attachment; filename=…` header.
fn disposition_filename(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    v.split(';').find_map(|part| {
        let (k, val) = part.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case("filename"))
            .then(|| clean_filename(val.trim().trim_matches('"')))
            .flatten()
    })
}

/// Tells the format from the bytes: 415 for anything Hirewire does not read.
pub fn sniff(bytes: &[u8]) -> Result<DocumentFormat, ApiError> {
    use hirewire_cv::Format;
    let unsupported = || {
        ApiError::new(
            Code::UnsupportedMediaType,
            "The file is not a PDF, DOCX, ODT, HTML or plain-text document (its content was checked, not its name or declared type).",
        )
    };
    if bytes.is_empty() {
        return Err(ApiError::new(Code::InvalidRequest, "The file is empty."));
    }
    Ok(match hirewire_cv::sniff(bytes).ok_or_else(unsupported)? {
        Format::Pdf => DocumentFormat::Pdf,
        Format::Docx => DocumentFormat::Docx,
        Format::Odt => DocumentFormat::Odt,
        Format::Html => DocumentFormat::Html,
        Format::Txt => DocumentFormat::Txt,
    })
}

async fn from_multipart(
    headers: &HeaderMap,
    bytes: Bytes,
    limit: usize,
) -> Result<Upload, ApiError> {
    let bad = |msg: String| ApiError::new(Code::InvalidRequest, msg);
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| bad("The multipart body has no boundary in its Content-Type.".into()))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    loop {
        let field = form
            .next_field()
            .await
            .map_err(|e| bad(format!("The multipart body could not be read: {e}.")))?;
        let Some(field) = field else {
            return Err(ApiError::new(
                Code::InvalidRequest,
                "The multipart body has no part named `file`; send the document as `file`.",
            )
            .with_details(serde_json::json!({ "field": "file" })));
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().and_then(clean_filename);
        let data = field
            .bytes()
            .await
            .map_err(|e| bad(format!("The `file` part could not be read: {e}.")))?;
        if data.len() > limit {
            return Err(too_large(limit));
        }
        let format = sniff(&data)?;
        return Ok(Upload {
            bytes: data.to_vec(),
            filename,
            format,
        });
    }
}

/// A document sent as multipart (`file`) or raw.
pub struct DocumentUpload(pub Upload);

impl FromRequest<AppState> for DocumentUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let limit = app.config.document_body_limit;
        let (parts, body) = req.into_parts();
        let bytes = read_limited(body, limit.saturating_add(64 * 1024)).await?;
        if is_multipart(&parts.headers) {
            return from_multipart(&parts.headers, bytes, limit)
                .await
                .map(DocumentUpload);
        }
        if bytes.len() > limit {
            return Err(too_large(limit));
        }
        let format = sniff(&bytes)?;
        Ok(DocumentUpload(Upload {
            bytes: bytes.to_vec(),
            filename: disposition_filename(&parts.headers),
            format,
        }))
    }
}

impl FromRequest<AppState> for CandidateBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        if is_multipart(req.headers()) {
            return DocumentUpload::from_request(req, app)
                .await
                .map(|DocumentUpload(u)| CandidateBody::File(u));
        }
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "Send the candidate as JSON (`Content-Type: application/json`), or a CV as `multipart/form-data` with a `file` part.",
            ));
        }
        let limit = app.config.json_body_limit;
        let bytes = read_limited(req.into_body(), limit).await?;
        Ok(CandidateBody::Json(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_control_characters() {
        assert_eq!(
            clean_filename("C:\\Users\\x\\cv.pdf").as_deref(),
            Some("cv.pdf")
        );
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_filename("a\u{0}b.pdf").as_deref(), Some("ab.pdf"));
        assert_eq!(clean_filename("  "), None);
    }

    #[test]
    fn the_disposition_header_names_the_file() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"Zoe CV.pdf\"".parse().unwrap(),
        );
        assert_eq!(disposition_filename(&h).as_deref(), Some("Zoe CV.pdf"));
    }
}
