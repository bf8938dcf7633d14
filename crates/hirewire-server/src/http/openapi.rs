//! The OpenAPI 3.1 document: generated from the handlers' annotations, then completed with the
//! error answers every operation can give, so that generated clients know them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::http::error::ErrorBody;

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(title = "Hirewire API", version = "1.0.0", description = "The REST API of Hirewire, the API-first applicant tracking system. Authenticate with `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Errors use the envelope `{code, message, request_id, details?}`; a 401 has no body.", license(name = "MIT OR Apache-2.0")),
    components(schemas(
        ErrorBody,
        hirewire_core::event::Event,
        hirewire_core::event::JobEventData,
        hirewire_core::event::WebhookDisabledData,
        hirewire_core::event::PingData,
        hirewire_core::event::CandidateEventData,
        hirewire_core::event::CandidateDeletedData,
        hirewire_core::event::ApplicationEventData,
        hirewire_core::event::ScoredEventData,
        hirewire_core::event::ReviewEventData
    )),
    modifiers(&Security),
    tags(
        (name = "jobs", description = "Jobs (requirements): draft, publish, close, expire."),
        (name = "candidates", description = "Candidates, their CVs and other documents, parsed into JSON Resume profiles."),
        (name = "applications", description = "Applications: candidates in a job's pipeline, moved through its stages with a full history."),
        (name = "evaluations", description = "Explainable evaluations of candidates against jobs (kept with their history), and rankings."),
        (name = "reviews", description = "Review items: what a person should look at, such as low-confidence evaluations."),
        (name = "skills", description = "The skills taxonomy: normalisation and autocomplete."),
        (name = "operations", description = "Asynchronous operations (CV parsing, imports) accepted with 202 and a `reference_id`."),
        (name = "keys", description = "API keys: scoped, expiring, revocable, rotatable."),
        (name = "tenant", description = "The caller's tenant and its credits."),
        (name = "audit", description = "Every API call and every change."),
        (name = "events", description = "The durable feed of events."),
        (name = "webhooks", description = "Signed webhook subscriptions, their deliveries and attempts, and the event types."),
        (name = "health", description = "Liveness and readiness.")
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("hw_live_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add(op: &mut Operation, status: &str, response: RefOr<Response>) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert(response);
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// utoipa writes an optional body (`Option<T>`) as `oneOf: [T, null]`. An optional body is
/// either absent or a `T`; a JSON `null` is refused like any other non-object, so the
/// schema is just `T` (the body stays optional: `required` is not set).
fn optional_body_is_not_null(op: &mut Operation) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    if body.required.is_some() {
        return;
    }
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
            continue;
        };
        if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
            content.schema = one_of.items.iter().find(|s| !is_null(s)).cloned();
        }
    }
}

/// Adds the error answers each operation can give, and the alternative `X-Api-Key` scheme.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let ops = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.patch, true),
            (&mut item.put, true),
            (&mut item.delete, false),
        ];
        for (op, has_body) in ops {
            let Some(op) = op.as_mut() else { continue };
            optional_body_is_not_null(op);
            if let Some(sec) = op.security.as_mut() {
                sec.push(utoipa::openapi::security::SecurityRequirement::new(
                    "api_key_header",
                    Vec::<String>::new(),
                ));
            }
            add(
                op,
                "400",
                error_response(
                    "Invalid request, query or state (`invalid_request`, `invalid_query`, `invalid_state`).",
                ),
            );
            add(
                op,
                "401",
                ResponseBuilder::new()
                    .description(
                        "Missing, malformed, unknown, revoked, expired or pending key. No body.",
                    )
                    .build()
                    .into(),
            );
            add(
                op,
                "403",
                error_response(
                    "The key lacks a scope (`insufficient_scope`) or is used from a refused address (`ip_not_allowed`).",
                ),
            );
            add(
                op,
                "404",
                error_response(
                    "No such object (`not_found`); another tenant's objects answer the same.",
                ),
            );
            add(
                op,
                "429",
                error_response("Rate limited (`rate_limited`); see `Retry-After`."),
            );
            add(op, "500", error_response("Internal error (`internal`)."));
            if has_body {
                add(
                    op,
                    "409",
                    error_response(
                        "Conflict: `revision_conflict`, `duplicate` or `idempotency_key_reused`.",
                    ),
                );
                add(
                    op,
                    "413",
                    error_response("The body is too large (`payload_too_large`)."),
                );
                add(
                    op,
                    "415",
                    error_response("The body is not JSON (`unsupported_media_type`)."),
                );
            }
            if op
                .operation_id
                .as_deref()
                .is_some_and(|id| id.starts_with("update"))
            {
                add(op, "409", error_response("Conflict: `revision_conflict`."));
            }
        }
    }
    doc
}
