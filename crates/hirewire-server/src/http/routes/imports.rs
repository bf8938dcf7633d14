//! `POST /api/v1/imports` and `GET /api/v1/exports/{resource}`: candidates in bulk, as JSON
//! Lines or CSV, streamed both ways so that neither holds a whole file in memory.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hirewire_core::model::candidate::Candidate;
use hirewire_core::model::import::{
    CHUNK_BYTES, CSV_COLUMNS, ImportFormat, ImportProgress, count_records, csv_header,
    last_record_end,
};
use hirewire_core::model::{CandidateQuery, StoredOperation};
use hirewire_core::page::{Cursor, PageRequest};
use hirewire_core::service::imports;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::extract::{ApiQuery, Need, scopes};
use crate::http::routes::flag;
use crate::state::AppState;

/// The answer to an import: it runs in the background.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAccepted {
    /// Poll `operation_url`: its `result` has `created`, `updated`, `unchanged`, `failed` and
    /// the row `errors` once it succeeded.
    pub reference_id: String,
    /// `pending`.
    pub status: String,
    pub operation_url: String,
}

/// Options of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// What the file holds; `candidates` (the default) is the one importable resource.
    #[param(example = "candidates")]
    resource: Option<String>,
    /// Merge a record into the candidate with the same email or external id (the default);
    /// with `false` such a record fails as a duplicate.
    #[param(value_type = Option<bool>)]
    upsert: Option<String>,
}

/// Options of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `jsonl` (the default) or `csv`; `Accept: text/csv` also asks for CSV.
    #[param(pattern = "^(jsonl|csv)$")]
    format: Option<String>,
}

fn import_format(headers: &HeaderMap) -> ApiResult<ImportFormat> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(ImportFormat::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                Code::UnsupportedMediaType,
                "Send the import as JSON Lines (`Content-Type: application/x-ndjson`, one candidate object per line) or as CSV (`Content-Type: text/csv`, with a header row).",
            )
        })
}

/// Receives the body chunk by chunk and stores each chunk, cut at a record boundary.
struct Uploader<'a> {
    app: &'a AppState,
    op: StoredOperation,
    progress: ImportProgress,
    buf: Vec<u8>,
    seq: i64,
    next_row: i64,
    total: usize,
}

impl Uploader<'_> {
    async fn store(&mut self, end: usize) -> ApiResult<()> {
        let mut chunk: Vec<u8> = self.buf.drain(..end).collect();
        if self.progress.format == ImportFormat::Csv && self.progress.header.is_empty() {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(chunk.as_slice());
            let mut first = csv::StringRecord::new();
            let read = reader.read_record(&mut first).map_err(|e| {
                ApiError::new(
                    Code::InvalidRequest,
                    format!("The CSV header could not be read: {e}."),
                )
            })?;
            let cells: Vec<String> = first.iter().map(str::to_string).collect();
            let (header, ignored) = csv_header(&cells)
                .ok()
                .filter(|_| read)
                .ok_or_else(|| ApiError::new(Code::InvalidRequest, "The CSV has no header row."))?;
            let known = header.iter().any(|h| CSV_COLUMNS.contains(&h.as_str()));
            if !known {
                return Err(ApiError::new(
                    Code::InvalidRequest,
                    format!(
                        "The CSV header names none of the columns Hirewire reads ({}).",
                        CSV_COLUMNS.join(", ")
                    ),
                ));
            }
            self.progress.header = header;
            self.progress.ignored_columns = ignored;
            let consumed = usize::try_from(reader.position().byte()).unwrap_or(chunk.len());
            chunk.drain(..consumed.min(chunk.len()));
        }
        if chunk.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        imports::add_chunk(
            self.app.store.as_ref(),
            &self.op,
            self.seq,
            self.next_row,
            &chunk,
        )
        .await?;
        self.seq += 1;
        self.next_row += count_records(self.progress.format, &chunk);
        Ok(())
    }

    async fn receive(&mut self, body: Body) -> ApiResult<()> {
        let limit = self.app.config.import_body_limit;
        let mut stream = body.into_data_stream();
        while let Some(part) = stream.next().await {
            let part: Bytes = part.map_err(|e| {
                ApiError::new(
                    Code::InvalidRequest,
                    format!("The request body could not be read: {e}"),
                )
            })?;
            self.total += part.len();
            if self.total > limit {
                return Err(ApiError::new(
                    Code::PayloadTooLarge,
                    format!(
                        "The import is larger than the {limit} bytes accepted; split it into several imports."
                    ),
                ));
            }
            self.buf.extend_from_slice(&part);
            if self.buf.len() >= CHUNK_BYTES
                && let Some(end) = last_record_end(&self.buf, self.progress.format)
            {
                self.store(end).await?;
            }
        }
        if !self.buf.is_empty() {
            let end = self.buf.len();
            self.store(end).await?;
        }
        if self.seq == 0 {
            return Err(ApiError::new(
                Code::InvalidRequest,
                "The import holds no records.",
            ));
        }
        Ok(())
    }
}

/// Import candidates in bulk from JSON Lines (each line a candidate as `POST
/// /api/v1/candidates` takes it; an export's lines are accepted too) or CSV (a header row, then
/// one candidate per row; the columns are those of a CSV export, lists separated by `|`). A
/// record that is wrong fails alone and is reported with its row number; it never stops the
/// others.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "candidates",
    params(ImportParams),
    request_body(content(
        (Vec<u8> = "application/x-ndjson"),
        (Vec<u8> = "text/csv"),
    )),
    responses((status = 202, description = "Stored; the import runs in the background.", body = ImportAccepted, headers(("Location" = String)))),
    security(("api_key" = []))
)]
pub async fn create_import(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesWrite>,
    ApiQuery(params): ApiQuery<ImportParams>,
    req: Request,
) -> ApiResult<Response> {
    if let Some(r) = params.resource.as_deref()
        && r != "candidates"
    {
        return Err(ApiError::invalid_query(
            "resource",
            format!("`resource` must be `candidates`; got `{r}`."),
        ));
    }
    let upsert = flag("upsert", params.upsert.as_deref())?.unwrap_or(true);
    let format = import_format(req.headers())?;
    let op = imports::begin(app.store.as_ref(), &auth.actor, format, upsert).await?;
    let progress = imports::progress(&op)?;
    let mut up = Uploader {
        app: &app,
        op,
        progress,
        buf: Vec::new(),
        seq: 0,
        next_row: 1,
        total: 0,
    };
    if let Err(e) = up.receive(req.into_body()).await {
        let _ = imports::abandon(app.store.as_ref(), &up.op, "The upload was refused.").await;
        return Err(e);
    }
    up.progress.chunks = up.seq;
    let op = imports::finish_upload(app.store.as_ref(), &up.op, up.progress.clone()).await?;
    app.wake.operations_queued();
    let reference_id = op.operation.reference_id;
    let url = format!("/api/v1/operations/{reference_id}");
    let mut res = (
        StatusCode::ACCEPTED,
        Json(ImportAccepted {
            reference_id,
            status: op.operation.status.as_str().to_string(),
            operation_url: url.clone(),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

fn csv_row(c: &Candidate) -> Vec<String> {
    let p = &c.profile;
    let b = &p.basics;
    let loc = b.location.clone().unwrap_or_default();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let profile_url = |network: &str| {
        b.profiles
            .iter()
            .find(|s| s.network.eq_ignore_ascii_case(network))
            .map(|s| s.url.clone())
            .unwrap_or_default()
    };
    CSV_COLUMNS
        .iter()
        .map(|col| match *col {
            "id" => c.id.clone(),
            "first_name" => opt(&c.first_name),
            "last_name" => opt(&c.last_name),
            "email" => opt(&c.email),
            "phone" => opt(&c.phone),
            "source" => opt(&c.source),
            "tags" => c.tags.join("|"),
            "external_ids" => c
                .external_ids
                .iter()
                .map(|x| format!("{}:{}", x.source, x.id))
                .collect::<Vec<_>>()
                .join("|"),
            "label" => opt(&b.label),
            "summary" => opt(&b.summary),
            "city" => opt(&loc.city),
            "region" => opt(&loc.region),
            "country" => opt(&loc.country_code),
            "skills" => p
                .skills
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("|"),
            "total_experience_years" => p
                .total_experience_years
                .map(|y| y.to_string())
                .unwrap_or_default(),
            "linkedin" => profile_url("linkedin"),
            "github" => profile_url("github"),
            "url" => opt(&b.url),
            "created_at" => hirewire_core::time::format(&c.created_at),
            "updated_at" => hirewire_core::time::format(&c.updated_at),
            _ => String::new(),
        })
        .collect()
}

/// Rows per page read while exporting: enough to keep the database busy, small enough that
/// memory stays flat.
const EXPORT_PAGE: u32 = 500;

/// Export every candidate, oldest first, streamed: JSON Lines (each line a candidate as the
/// API returns it), or CSV with the columns a CSV import reads.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{resource}",
    tag = "candidates",
    params(("resource" = String, Path, description = "`candidates`"), ExportParams),
    responses((status = 200, description = "The export, streamed.", content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
    ))),
    security(("api_key" = []))
)]
pub async fn export(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    Path(resource): Path<String>,
    ApiQuery(params): ApiQuery<ExportParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if resource != "candidates" {
        return Err(ApiError::not_found("export"));
    }
    let wants_csv_header = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    let csv = match params.format.as_deref() {
        None => wants_csv_header,
        Some("csv") => true,
        Some("jsonl") => false,
        Some(other) => {
            return Err(ApiError::invalid_query(
                "format",
                format!("`format` must be `jsonl` or `csv`; got `{other}`."),
            ));
        }
    };
    struct ExportState {
        app: AppState,
        tenant: String,
        after: Option<Cursor>,
        first: bool,
        done: bool,
    }
    let state = ExportState {
        app: app.clone(),
        tenant: auth.tenant().to_string(),
        after: None,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, move |mut s| async move {
        if s.done {
            return None;
        }
        let query = CandidateQuery {
            page: PageRequest {
                limit: EXPORT_PAGE,
                after: s.after.clone(),
                include_total: false,
            },
            ..CandidateQuery::default()
        };
        let page = match s.app.store.list_candidates(&s.tenant, &query).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "an export stopped");
                s.done = true;
                return Some((Err(std::io::Error::other("the export stopped")), s));
            }
        };
        let mut out = Vec::new();
        if csv {
            let mut w = csv::Writer::from_writer(&mut out);
            if s.first {
                let _ = w.write_record(CSV_COLUMNS);
            }
            for c in &page.items {
                let _ = w.write_record(csv_row(c));
            }
            let _ = w.flush();
            drop(w);
        } else {
            for c in &page.items {
                if serde_json::to_writer(&mut out, c).is_ok() {
                    out.push(b'\n');
                }
            }
        }
        s.first = false;
        match page.items.last() {
            Some(last) if page.next_cursor.is_some() => s.after = Some(query.cursor_of(last)),
            _ => s.done = true,
        }
        Some((Ok::<_, std::io::Error>(Bytes::from(out)), s))
    });
    let mut res = Response::new(Body::from_stream(stream));
    let (ct, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"candidates.{ext}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
