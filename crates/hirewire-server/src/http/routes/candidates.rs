//! `/api/v1/candidates`, their documents (`/api/v1/documents`) and `/api/v1/operations`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::candidate::{email_key, fold, phone_key, skill_key};
use hirewire_core::model::search::{CURSOR_SORT, Highlight, SearchQuery, highlights, parse_query};
use hirewire_core::model::{
    Candidate, CandidatePatch, CandidateQuery, CandidateSortField, Document, ExternalId,
    NewCandidate, Operation,
};
use hirewire_core::service::candidates::{self, Created};
use hirewire_core::service::documents::{self, Accepted};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, IfMatch, Need, parse_json, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{flag, with_etag};
use crate::http::upload::{CandidateBody, DocumentUpload};
use crate::state::AppState;

crate::list_schema!(CandidateList, Candidate);

/// The documents of a candidate.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub items: Vec<Document>,
}

/// The answer to an upload: the document is stored and will be parsed in the background.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentAccepted {
    /// The parsing operation; poll `operation_url`, or wait for `candidate.parsed`.
    pub reference_id: String,
    /// `pending`.
    pub status: String,
    pub operation_url: String,
    pub document_id: String,
    pub candidate_id: String,
}

impl From<Accepted> for DocumentAccepted {
    fn from(a: Accepted) -> Self {
        let reference_id = a.operation.operation.reference_id;
        DocumentAccepted {
            operation_url: format!("/api/v1/operations/{reference_id}"),
            reference_id,
            status: a.operation.operation.status.as_str().to_string(),
            document_id: a.document.id,
            candidate_id: a.candidate_id,
        }
    }
}

/// What is left of an erased candidate.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedCandidate {
    pub id: String,
    /// Always `true`: the candidate's personal data and documents are gone.
    pub deleted: bool,
    #[serde(with = "hirewire_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub erased_at: DateTime<Utc>,
}

/// Filters, order and paging for listing candidates.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCandidatesParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Also count every matching candidate.
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// Exact email, case-insensitive.
    email: Option<String>,
    /// A phone number in any format: `+44 7700 900123`, `07700 900123` and `447700900123`
    /// find the same candidate (the last nine digits are compared).
    phone: Option<String>,
    /// An id in another system, as `source:id` (e.g. `bullhorn:4711`).
    #[param(example = "bullhorn:4711")]
    external_id: Option<String>,
    /// A prefix of the first name, the last name or the full name, case-insensitive.
    name: Option<String>,
    /// Comma-separated skills the candidate must all have; synonyms count (`k8s` is
    /// Kubernetes).
    #[param(example = "rust,kubernetes")]
    skills: Option<String>,
    /// A city, region or country code of the candidate's location, case-insensitive.
    location: Option<String>,
    /// Where the candidate came from, case-insensitive.
    source: Option<String>,
    /// A tag, case-insensitive.
    tag: Option<String>,
    /// Only candidates changed at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// `created_at`, `updated_at` or `name`; a leading `-` sorts descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at|name)$")]
    sort: Option<String>,
}

fn non_empty(param: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ApiError::invalid_query(
            param,
            format!("`{param}` must not be empty."),
        )),
        other => Ok(other.map(|s| s.trim().to_string())),
    }
}

impl ListCandidatesParams {
    fn into_query(self) -> ApiResult<CandidateQuery> {
        let sort_text = self.sort.as_deref().unwrap_or("-created_at");
        let (sort, descending) = CandidateSortField::parse(sort_text).ok_or_else(|| {
            ApiError::invalid_query(
                "sort",
                format!("`sort` must be created_at, updated_at or name, optionally with a leading `-`; got `{sort_text}`."),
            )
        })?;
        let phone = match non_empty("phone", self.phone)? {
            None => None,
            Some(p) => Some(phone_key(&p).ok_or_else(|| {
                ApiError::invalid_query("phone", "`phone` must have at least 5 digits.")
            })?),
        };
        let external_id = match non_empty("external_id", self.external_id)? {
            None => None,
            Some(x) => {
                let (source, id) = x.split_once(':').ok_or_else(|| {
                    ApiError::invalid_query(
                        "external_id",
                        "`external_id` must be `source:id`, e.g. `bullhorn:4711`.",
                    )
                })?;
                Some(ExternalId {
                    source: source.trim().to_lowercase(),
                    id: id.trim().to_string(),
                })
            }
        };
        let skills = match non_empty("skills", self.skills)? {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(skill_key)
                .collect(),
        };
        let updated_since = match non_empty("updated_since", self.updated_since)? {
            None => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(&t)
                    .map_err(|_| {
                        ApiError::invalid_query(
                            "updated_since",
                            format!("`updated_since` must be an RFC 3339 time such as 2026-01-31T09:00:00Z; got `{t}`."),
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        Ok(CandidateQuery {
            email: non_empty("email", self.email)?.map(|e| email_key(&e)),
            phone,
            external_id,
            name_prefix: non_empty("name", self.name)?.map(|n| fold(&n)),
            skills,
            location: non_empty("location", self.location)?.map(|l| fold(&l)),
            source: non_empty("source", self.source)?.map(|s| fold(&s)),
            tag: non_empty("tag", self.tag)?.map(|t| fold(&t)),
            updated_since,
            sort,
            descending,
            page: page_request(
                self.limit.as_deref(),
                self.cursor.as_deref(),
                flag("include_total", self.include_total.as_deref())?,
                sort_text,
            )?,
        })
    }
}

/// A search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub candidate_id: String,
    /// 0–1: every term matched the candidate's skills is 1; a match in a job title counts
    /// two thirds, elsewhere one third. Equal scores: the most recently added candidate first.
    pub score: f64,
    /// Where the terms matched, with matches in `<em>…</em>` and the rest HTML-escaped.
    pub highlights: Vec<Highlight>,
    pub candidate: Candidate,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A candidate search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words and `"quoted phrases"`, all required, over the profile and the CV's text; skills
    /// match their synonyms (`k8s` finds Kubernetes); `5+ years` sets a minimum experience.
    #[param(example = "rust k8s london 5+ years")]
    q: Option<String>,
    /// Comma-separated skills the candidate's profile must all list (synonyms count).
    skills: Option<String>,
    /// A city, region or country code, case-insensitive.
    location: Option<String>,
    /// Minimum years of experience (overlapping jobs counted once).
    #[param(value_type = Option<f64>, minimum = 0, maximum = 80)]
    min_years: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl SearchParams {
    fn into_query(self) -> ApiResult<SearchQuery> {
        let (terms, years_in_q) = match non_empty("q", self.q)? {
            None => (vec![], None),
            Some(q) => {
                parse_query(&q).map_err(|e| ApiError::invalid_query("q", format!("{}.", e.0)))?
            }
        };
        let min_years = match non_empty("min_years", self.min_years)? {
            None => years_in_q,
            Some(y) => {
                let v: f64 = y
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && (0.0..=80.0).contains(v))
                    .ok_or_else(|| {
                        ApiError::invalid_query(
                            "min_years",
                            format!("`min_years` must be a number from 0 to 80; got `{y}`."),
                        )
                    })?;
                Some(years_in_q.map_or(v, |q| q.max(v)))
            }
        };
        let skills = match non_empty("skills", self.skills)? {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(skill_key)
                .collect(),
        };
        Ok(SearchQuery {
            terms,
            skills,
            location: non_empty("location", self.location)?.map(|l| fold(&l)),
            min_years,
            page: page_request(
                self.limit.as_deref(),
                self.cursor.as_deref(),
                None,
                CURSOR_SORT,
            )?,
        })
    }
}

/// Options of a create.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateCandidateParams {
    /// Merge into the candidate with the same email or external id (200) instead of
    /// answering 409 `duplicate`.
    #[param(value_type = Option<bool>)]
    upsert: Option<String>,
}

pub(crate) fn candidate_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::CANDIDATE, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("candidate"))
    }
}

fn document_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::DOCUMENT, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("document"))
    }
}

fn with_location(mut res: Response, location: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn accepted(a: Accepted) -> Response {
    let body = DocumentAccepted::from(a);
    let url = body.operation_url.clone();
    with_location((StatusCode::ACCEPTED, Json(body)).into_response(), &url)
}

/// List candidates.
#[utoipa::path(get, path = "/api/v1/candidates", tag = "candidates", params(ListCandidatesParams), responses((status = 200, description = "A page of candidates.", body = CandidateList)), security(("api_key" = [])))]
pub async fn list_candidates(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    ApiQuery(params): ApiQuery<ListCandidatesParams>,
) -> ApiResult<Json<ListBody<Candidate>>> {
    let query = params.into_query()?;
    let page = app
        .store
        .list_candidates(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Search candidates: full text over profiles and CVs, ranked, with highlighted snippets.
#[utoipa::path(get, path = "/api/v1/candidates/search", tag = "candidates", params(SearchParams), responses((status = 200, description = "The best matches first.", body = SearchResults)), security(("api_key" = [])))]
pub async fn search_candidates(
    State(app): State<AppState>,
    auth: Need<scopes::CvSearch>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let query = params.into_query()?;
    let store = app.store.as_ref();
    let page = store
        .search_candidates(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    let texts = if query.terms.is_empty() {
        vec![]
    } else {
        let ids: Vec<String> = page.items.iter().map(|(c, _)| c.id.clone()).collect();
        store
            .latest_document_texts(auth.tenant(), &ids)
            .await
            .map_err(ApiError::internal)?
    };
    let max = query.max_score();
    let items = page
        .items
        .into_iter()
        .map(|(candidate, score)| {
            let text = texts
                .iter()
                .find(|(id, _)| *id == candidate.id)
                .map(|(_, t)| t.as_str());
            SearchHit {
                candidate_id: candidate.id.clone(),
                score: if max == 0 {
                    1.0
                } else {
                    (score as f64 / max as f64 * 1000.0).round() / 1000.0
                },
                highlights: highlights(&candidate, text, &query.terms),
                candidate,
            }
        })
        .collect();
    Ok(Json(SearchResults {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Create a candidate from JSON (201; with `?upsert=true`, 200 when merged into an existing
/// one), or from a CV sent as `multipart/form-data` with a `file` part (202: the candidate is
/// filled in when the CV is parsed).
#[utoipa::path(
    post,
    path = "/api/v1/candidates",
    tag = "candidates",
    params(CreateCandidateParams),
    request_body(content(
        (NewCandidate = "application/json"),
        (crate::http::routes::candidates::UploadForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The candidate was created.", body = Candidate, headers(("ETag" = String), ("Location" = String))),
        (status = 200, description = "`upsert`: merged into the existing candidate.", body = Candidate, headers(("ETag" = String))),
        (status = 202, description = "A CV was stored; the candidate is created and filled in when it is parsed.", body = DocumentAccepted),
        (status = 409, description = "A candidate with this email or external id exists (`details.existing_id`).", body = crate::http::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_candidate(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesWrite>,
    ApiQuery(params): ApiQuery<CreateCandidateParams>,
    body: CandidateBody,
) -> ApiResult<Response> {
    let upsert = flag("upsert", params.upsert.as_deref())?.unwrap_or(false);
    match body {
        CandidateBody::File(upload) => {
            let a = documents::upload(app.store.as_ref(), &auth.actor, None, upload).await?;
            app.wake.operations_queued();
            Ok(accepted(a))
        }
        CandidateBody::Json(bytes) => {
            let input: NewCandidate = parse_json(&bytes)?;
            match candidates::create(app.store.as_ref(), &auth.actor, input, upsert).await? {
                Created::New(c) => {
                    let location = format!("/api/v1/candidates/{}", c.id);
                    Ok(with_location(
                        with_etag(StatusCode::CREATED, c.revision, &c),
                        &location,
                    ))
                }
                Created::Merged(c) | Created::Unchanged(c) => {
                    Ok(with_etag(StatusCode::OK, c.revision, &c))
                }
            }
        }
    }
}

/// A multipart upload: the document in the part `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The CV: PDF, DOCX, ODT, HTML or plain text, at most 10 MiB by default.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Get a candidate.
#[utoipa::path(get, path = "/api/v1/candidates/{id}", tag = "candidates", params(("id" = String, Path)), responses((status = 200, description = "The candidate.", body = Candidate, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn get_candidate(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = app
        .store
        .candidate(auth.tenant(), candidate_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("candidate"))?;
    Ok(with_etag(StatusCode::OK, c.revision, &c))
}

/// Change any subset of a candidate's fields; `profile` is a JSON merge patch. Fields changed
/// with `X-ATS-User-ID` are a recruiter's and are never overwritten by parsing or imports.
#[utoipa::path(patch, path = "/api/v1/candidates/{id}", tag = "candidates", params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The revision the change is based on: `3` or `\"3\"`", pattern = "^(W/)?\"?[0-9]{1,18}\"?$")), request_body = CandidatePatch, responses((status = 200, description = "The candidate as changed.", body = Candidate, headers(("ETag" = String))), (status = 409, description = "Stale revision, or the email or external id belongs to another candidate.", body = crate::http::error::ErrorBody)), security(("api_key" = [])))]
pub async fn update_candidate(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    crate::http::extract::ApiJson(patch): crate::http::extract::ApiJson<CandidatePatch>,
) -> ApiResult<Response> {
    let c = candidates::update(
        app.store.as_ref(),
        &auth.actor,
        candidate_id(&id)?,
        patch,
        if_match,
    )
    .await?;
    Ok(with_etag(StatusCode::OK, c.revision, &c))
}

/// Erase a candidate (right to erasure): personal data and documents are deleted, the
/// candidate and its documents answer 404 from then on, and only an audit record without
/// personal data remains. Events that carried its data keep only its id.
#[utoipa::path(delete, path = "/api/v1/candidates/{id}", tag = "candidates", params(("id" = String, Path)), responses((status = 200, description = "The candidate was erased.", body = ErasedCandidate)), security(("api_key" = [])))]
pub async fn delete_candidate(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesWrite>,
    Path(id): Path<String>,
) -> ApiResult<Json<ErasedCandidate>> {
    let c = candidates::erase(app.store.as_ref(), &auth.actor, candidate_id(&id)?).await?;
    Ok(Json(ErasedCandidate {
        id: c.id,
        deleted: true,
        erased_at: hirewire_core::time::now(),
    }))
}

/// Upload a document (a CV) for a candidate, as `multipart/form-data` with a `file` part or as
/// the raw body (`Content-Disposition: attachment; filename=…` names it). The format is told
/// from the content. It is stored as sent and parsed in the background.
#[utoipa::path(
    post,
    path = "/api/v1/candidates/{id}/documents",
    tag = "candidates",
    params(("id" = String, Path)),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (Vec<u8> = "application/octet-stream"),
        (Vec<u8> = "application/pdf"),
        (String = "text/plain"),
        (String = "text/html"),
    )),
    responses(
        (status = 202, description = "Stored; parsing is queued.", body = DocumentAccepted, headers(("Location" = String))),
    ),
    security(("api_key" = []))
)]
pub async fn upload_document(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesWrite>,
    Path(id): Path<String>,
    DocumentUpload(upload): DocumentUpload,
) -> ApiResult<Response> {
    let a = documents::upload(
        app.store.as_ref(),
        &auth.actor,
        Some(candidate_id(&id)?),
        upload,
    )
    .await?;
    app.wake.operations_queued();
    Ok(accepted(a))
}

/// List a candidate's documents, newest first.
#[utoipa::path(get, path = "/api/v1/candidates/{id}/documents", tag = "candidates", params(("id" = String, Path)), responses((status = 200, description = "The documents.", body = DocumentList)), security(("api_key" = [])))]
pub async fn list_documents(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<DocumentList>> {
    let id = candidate_id(&id)?;
    let store = app.store.as_ref();
    store
        .candidate(auth.tenant(), id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("candidate"))?;
    let items = store
        .list_documents(auth.tenant(), id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(DocumentList { items }))
}

/// Get a document's metadata and parse status.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "candidates", params(("id" = String, Path)), responses((status = 200, description = "The document.", body = Document)), security(("api_key" = [])))]
pub async fn get_document(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Document>> {
    app.store
        .document(auth.tenant(), document_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("document"))
}

/// Download a document exactly as it was uploaded.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/content",
    tag = "candidates",
    params(("id" = String, Path)),
    responses((
        status = 200,
        description = "The file, byte for byte as uploaded, with the media type of its sniffed format.",
        content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/vnd.oasis.opendocument.text"),
            (Vec<u8> = "text/html"),
            (Vec<u8> = "text/plain"),
        ),
        headers(("ETag" = String, description = "The SHA-256 of the content, quoted"), ("Content-Disposition" = String))
    )),
    security(("api_key" = []))
)]
pub async fn get_document_content(
    State(app): State<AppState>,
    auth: Need<scopes::CandidatesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = document_id(&id)?;
    let store = app.store.as_ref();
    let doc = store
        .document(auth.tenant(), id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("document"))?;
    let bytes = store
        .document_content(auth.tenant(), id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("document"))?;
    let mut res = Response::new(Body::from(bytes));
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", doc.sha256)) {
        headers.insert(header::ETAG, v);
    }
    let name: String = doc
        .filename
        .as_deref()
        .unwrap_or("document")
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Get an asynchronous operation (CV parsing, import): `pending`, `succeeded` with its
/// `result`, or `failed` with its `error`.
#[utoipa::path(get, path = "/api/v1/operations/{reference_id}", tag = "operations", params(("reference_id" = String, Path)), responses((status = 200, description = "The operation.", body = Operation)), security(("api_key" = [])))]
pub async fn get_operation(
    State(app): State<AppState>,
    auth: crate::http::extract::Auth,
    Path(reference_id): Path<String>,
) -> ApiResult<Json<Operation>> {
    if uuid::Uuid::parse_str(&reference_id).is_err() {
        return Err(ApiError::not_found("operation"));
    }
    app.store
        .operation(auth.tenant(), &reference_id)
        .await
        .map_err(ApiError::internal)?
        .map(|o| Json(o.operation))
        .ok_or_else(|| ApiError::not_found("operation"))
}
