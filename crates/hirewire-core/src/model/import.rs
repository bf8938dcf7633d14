//! Bulk import of candidates: the two file formats (JSON Lines and CSV), how a body is cut
//! into chunks at record boundaries, and how each record becomes a create request. A record
//! that is wrong becomes a row error; it never stops the others.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::model::ExternalId;
use crate::model::candidate::{
    Basics, Location, NewCandidate, Profile, ProfileSkill, SocialProfile,
};

/// A chunk of an import body is cut at the first record boundary after this many bytes.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// At most this many row errors are kept in an import's result; the count goes on.
pub const MAX_ROW_ERRORS: usize = 1000;

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    Jsonl,
    Csv,
}

impl ImportFormat {
    /// The format of a `Content-Type`, if it is one an import reads.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/x-ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/json-lines"
            | "application/jsonlines" => Some(Self::Jsonl),
            "text/csv" | "application/csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// A record that could not be imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// 1-based: the line of a JSON Lines file, or the record of a CSV file after its header.
    pub row: i64,
    /// `invalid_request` or `duplicate`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// For `duplicate`: the candidate that already has the email or external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

impl RowError {
    /// An invalid record.
    pub fn invalid(row: i64, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            code: "invalid_request".into(),
            field,
            message: message.into(),
            existing_id: None,
        }
    }
}

/// Where an import stands; kept in its operation, so that a restarted worker resumes after the
/// last chunk it finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub format: ImportFormat,
    /// Merge records into candidates with the same email or external id (else they fail as
    /// duplicates).
    pub upsert: bool,
    /// The CSV header, lower-cased.
    #[serde(default)]
    pub header: Vec<String>,
    /// CSV columns that mean nothing to Hirewire and were ignored.
    #[serde(default)]
    pub ignored_columns: Vec<String>,
    /// Set while the body is still being received.
    #[serde(default)]
    pub uploading: bool,
    pub chunks: i64,
    pub done_chunks: i64,
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// The key that started the import, for the audit trail of what it changes.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `X-ATS-User-ID` of the request that started it: its changes are that person's.
    #[serde(default)]
    pub user_id: Option<String>,
}

impl ImportProgress {
    /// A new import of this format.
    pub fn new(format: ImportFormat, upsert: bool) -> Self {
        Self {
            format,
            upsert,
            header: vec![],
            ignored_columns: vec![],
            uploading: true,
            chunks: 0,
            done_chunks: 0,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            errors: vec![],
            key_id: None,
            user_id: None,
        }
    }

    /// Counts a failed row, keeping its error while there is room.
    pub fn fail(&mut self, e: RowError) {
        self.failed += 1;
        if self.errors.len() < MAX_ROW_ERRORS {
            self.errors.push(e);
        }
    }
}

/// Where the last whole record of `buf` ends (just past its newline), if any; a newline inside
/// a quoted CSV field does not end a record.
pub fn last_record_end(buf: &[u8], format: ImportFormat) -> Option<usize> {
    match format {
        ImportFormat::Jsonl => buf.iter().rposition(|b| *b == b'\n').map(|i| i + 1),
        ImportFormat::Csv => {
            let mut quoted = false;
            let mut last = None;
            for (i, b) in buf.iter().enumerate() {
                match b {
                    b'"' => quoted = !quoted,
                    b'\n' if !quoted => last = Some(i + 1),
                    _ => {}
                }
            }
            last
        }
    }
}

/// Columns a CSV import understands (case-insensitive); an export writes the same ones.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "source",
    "tags",
    "external_ids",
    "label",
    "summary",
    "city",
    "region",
    "country",
    "skills",
    "total_experience_years",
    "linkedin",
    "github",
    "url",
    "created_at",
    "updated_at",
];

/// Columns an export writes that an import reads but does not set.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "revision", "provenance"];

/// Reads a CSV header; returns the lower-cased columns and those that will be ignored.
pub fn csv_header(record: &[String]) -> Result<(Vec<String>, Vec<String>), String> {
    let header: Vec<String> = record
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err("the CSV has no header row".into());
    }
    let ignored = header
        .iter()
        .filter(|h| !CSV_COLUMNS.contains(&h.as_str()))
        .cloned()
        .collect();
    Ok((header, ignored))
}

/// Splits a list cell: `a|b`, `a; b`.
fn list(cell: &str) -> Vec<String> {
    cell.split(['|', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One CSV record as a create request.
pub fn from_csv(header: &[String], record: &[String], row: i64) -> Result<NewCandidate, RowError> {
    let mut c = NewCandidate::default();
    let mut basics = Basics::default();
    let mut location = Location::default();
    let mut profile = Profile::default();
    let mut any_profile = false;
    for (col, raw) in header.iter().zip(record) {
        let v = raw.trim();
        if v.is_empty() || READ_ONLY.contains(&col.as_str()) {
            continue;
        }
        let text = Some(v.to_string());
        match col.as_str() {
            "first_name" => c.first_name = text,
            "last_name" => c.last_name = text,
            "email" => c.email = text,
            "phone" => c.phone = text,
            "source" => c.source = text,
            "tags" => c.tags = list(v),
            "external_ids" => {
                for item in list(v) {
                    let (source, id) = item.split_once(':').ok_or_else(|| {
                        RowError::invalid(
                            row,
                            Some("external_ids".into()),
                            format!("`external_ids` must be `source:id` items separated by `|`; got `{item}`"),
                        )
                    })?;
                    c.external_ids.push(ExternalId {
                        source: source.trim().to_string(),
                        id: id.trim().to_string(),
                    });
                }
            }
            "label" => basics.label = text,
            "summary" => basics.summary = text,
            "city" => location.city = text,
            "region" => location.region = text,
            "country" => location.country_code = text,
            "skills" => {
                profile.skills = list(v)
                    .into_iter()
                    .map(|name| ProfileSkill {
                        name,
                        ..Default::default()
                    })
                    .collect();
                any_profile = true;
            }
            "total_experience_years" => {
                profile.total_experience_years = Some(v.parse().map_err(|_| {
                    RowError::invalid(
                        row,
                        Some(col.clone()),
                        format!("`total_experience_years` must be a number; got `{v}`"),
                    )
                })?);
                any_profile = true;
            }
            "linkedin" | "github" => basics.profiles.push(SocialProfile {
                network: if col == "linkedin" {
                    "LinkedIn"
                } else {
                    "GitHub"
                }
                .into(),
                username: None,
                url: v.to_string(),
            }),
            "url" => basics.url = text,
            _ => {}
        }
    }
    if location != Location::default() {
        basics.location = Some(location);
    }
    if basics != Basics::default() || any_profile {
        profile.basics = basics;
        c.profile = Some(profile);
    }
    Ok(c)
}

/// One JSON Lines record as a create request. The read-only fields of an export (`id`,
/// `revision`, `provenance`, timestamps) are accepted and ignored, so an export imports back.
pub fn from_json(line: &str, row: i64) -> Result<NewCandidate, RowError> {
    let mut value: Value = serde_json::from_str(line)
        .map_err(|e| RowError::invalid(row, None, format!("the line is not valid JSON: {e}")))?;
    let Value::Object(map) = &mut value else {
        return Err(RowError::invalid(
            row,
            None,
            "each line must be a JSON object",
        ));
    };
    for k in READ_ONLY {
        map.remove(*k);
    }
    new_candidate_from(value, row)
}

/// A JSON object as a create request; an unknown field is named in the row's error.
fn new_candidate_from(value: Value, row: i64) -> Result<NewCandidate, RowError> {
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("unknown field"))
            .map(str::to_string);
        RowError::invalid(row, field, msg)
    })
}

/// The records of a chunk, numbered from `first_row`, each as a create request or an error.
pub fn parse_chunk(
    format: ImportFormat,
    header: &[String],
    first_row: i64,
    data: &[u8],
) -> Vec<(i64, Result<NewCandidate, RowError>)> {
    match format {
        ImportFormat::Jsonl => {
            let text = String::from_utf8_lossy(data);
            let mut out = Vec::new();
            for (i, line) in text.split('\n').enumerate() {
                let row = first_row + i as i64;
                let line = line.trim_end_matches('\r');
                if line.trim().is_empty() {
                    continue;
                }
                out.push((row, from_json(line, row)));
            }
            out
        }
        ImportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(data);
            let mut out = Vec::new();
            for (i, record) in reader.records().enumerate() {
                let row = first_row + i as i64;
                let parsed = match record {
                    Err(e) => Err(RowError::invalid(
                        row,
                        None,
                        format!("the CSV record could not be read: {e}"),
                    )),
                    Ok(r) => {
                        let cells: Vec<String> = r.iter().map(str::to_string).collect();
                        if cells.iter().all(|c| c.trim().is_empty()) {
                            continue;
                        }
                        from_csv(header, &cells, row)
                    }
                };
                out.push((row, parsed));
            }
            out
        }
    }
}

/// How many records `data` holds, for numbering the next chunk's rows.
pub fn count_records(format: ImportFormat, data: &[u8]) -> i64 {
    match format {
        ImportFormat::Jsonl => {
            let lines = data.iter().filter(|b| **b == b'\n').count() as i64;
            lines + i64::from(data.last().is_some_and(|b| *b != b'\n'))
        }
        ImportFormat::Csv => csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data)
            .records()
            .count() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_end_outside_quotes() {
        let csv = b"a,\"multi\nline\"\nb,c\n\"open";
        assert_eq!(last_record_end(csv, ImportFormat::Csv), Some(19));
        assert_eq!(last_record_end(b"{}\n{}", ImportFormat::Jsonl), Some(3));
    }

    #[test]
    fn csv_rows_become_candidates() {
        let (header, ignored) = csv_header(&[
            "First_Name".into(),
            "email".into(),
            "skills".into(),
            "city".into(),
            "notes".into(),
            "external_ids".into(),
        ])
        .unwrap();
        assert_eq!(ignored, ["notes"]);
        let rows = parse_chunk(
            ImportFormat::Csv,
            &header,
            1,
            "Zoë,zoe@example.com,Rust|k8s,London,hi,bullhorn:1\n,,,,,\nX,x@example.com,,,,nope\n"
                .as_bytes(),
        );
        assert_eq!(rows.len(), 2);
        let c = rows[0].1.as_ref().unwrap();
        assert_eq!(c.first_name.as_deref(), Some("Zoë"));
        let p = c.profile.as_ref().unwrap();
        assert_eq!(p.skills.len(), 2);
        assert_eq!(
            p.basics.location.as_ref().unwrap().city.as_deref(),
            Some("London")
        );
        assert_eq!(c.external_ids[0].source, "bullhorn");
        let e = rows[1].1.as_ref().unwrap_err();
        assert_eq!((e.row, e.field.as_deref()), (3, Some("external_ids")));
    }

    #[test]
    fn json_lines_accept_exports_and_name_bad_fields() {
        let rows = parse_chunk(
            ImportFormat::Jsonl,
            &[],
            10,
            br#"{"id":"cand_1","revision":3,"first_name":"A","provenance":{}}
not json

{"first_name":"B","nickname":"x"}
"#,
        );
        assert_eq!(rows.len(), 3);
        assert!(rows[0].1.is_ok());
        assert_eq!(rows[1].1.as_ref().unwrap_err().row, 11);
        let e = rows[2].1.as_ref().unwrap_err();
        assert_eq!((e.row, e.field.as_deref()), (13, Some("nickname")));
    }
}
