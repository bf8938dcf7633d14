//! Candidates, their documents and operations.

use async_trait::async_trait;
use hirewire_core::model::search::{Field, SearchQuery};
use hirewire_core::model::{
    Candidate, CandidateKeys, CandidateQuery, Document, DocumentFormat, ExternalId, Operation,
    OperationKind, OperationStatus, ParseStatus, StoredOperation,
};
use hirewire_core::page::Page;
use hirewire_core::store::{CandidateStore, OperationStore, StoreResult, WriteOutcome};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) fn candidate_from_row(r: &PgRow) -> StoreResult<Candidate> {
    Ok(Candidate {
        id: r.text("id")?,
        first_name: r.text_opt("first_name")?,
        last_name: r.text_opt("last_name")?,
        email: r.text_opt("email")?,
        phone: r.text_opt("phone")?,
        external_ids: r.json("external_ids")?,
        tags: r.json("tags")?,
        source: r.text_opt("source")?,
        profile: r.json("profile")?,
        provenance: r.json("provenance")?,
        revision: r.int("revision")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn document_from_row(r: &PgRow) -> StoreResult<Document> {
    Ok(Document {
        id: r.text("id")?,
        candidate_id: r.text("candidate_id")?,
        filename: r.text_opt("filename")?,
        content_type: r.text("content_type")?,
        format: r.parsed("format", DocumentFormat::parse)?,
        size_bytes: r.int("size_bytes")?,
        sha256: r.text("sha256")?,
        parse_status: r.parsed("parse_status", ParseStatus::parse)?,
        parse_error: r.text_opt("parse_error")?,
        reference_id: r.text("reference_id")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn operation_from_row(r: &PgRow) -> StoreResult<StoredOperation> {
    let opt_json = |col: &str| -> StoreResult<Option<serde_json::Value>> {
        r.try_get::<Option<Json<serde_json::Value>>, _>(col)
            .map(|v| v.map(|j| j.0))
            .or_store()
    };
    Ok(StoredOperation {
        operation: Operation {
            reference_id: r.text("reference_id")?,
            kind: r.parsed("kind", OperationKind::parse)?,
            status: r.parsed("status", OperationStatus::parse)?,
            result: opt_json("result")?,
            error: opt_json("error")?
                .map(serde_json::from_value)
                .transpose()
                .or_store()?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
            finished_at: r.time_opt("finished_at")?,
        },
        tenant_id: r.text("tenant_id")?,
        subject_id: r.text_opt("subject_id")?,
        input: opt_json("input")?,
        attempts: r.int("attempts")?,
        lease_until: r.time_opt("lease_until")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Rewrites a candidate's full-text entry: its record's tokens, then its latest parsed
/// document's.
pub(crate) async fn write_search(
    conn: &mut PgConnection,
    tenant_id: &str,
    candidate_id: &str,
    keys: &CandidateKeys,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO candidate_search (candidate_id, tenant_id, skills, titles, doc) VALUES ($1, $2, to_tsvector('simple', $3), \
         to_tsvector('simple', $4), to_tsvector('simple', $5 || COALESCE((SELECT ' hwsep ' || search_text FROM documents \
         WHERE candidate_id = $1 AND parse_status = 'parsed' AND search_text IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1), ''))) \
         ON CONFLICT (candidate_id) DO UPDATE SET skills = EXCLUDED.skills, titles = EXCLUDED.titles, doc = EXCLUDED.doc",
    )
    .bind(candidate_id)
    .bind(tenant_id)
    .bind(&keys.search.skills)
    .bind(&keys.search.titles)
    .bind(&keys.search.doc)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites a candidate's rows in the lookup tables.
async fn write_lookups(
    conn: &mut PgConnection,
    tenant_id: &str,
    c: &Candidate,
    keys: &CandidateKeys,
) -> Result<(), sqlx::Error> {
    for table in [
        "candidate_external_ids",
        "candidate_skills",
        "candidate_tags",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE candidate_id = $1"
        )))
        .bind(&c.id)
        .execute(&mut *conn)
        .await?;
    }
    for x in &c.external_ids {
        sqlx::query("INSERT INTO candidate_external_ids (tenant_id, source, external_id, candidate_id) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id)
            .bind(&x.source)
            .bind(&x.id)
            .bind(&c.id)
            .execute(&mut *conn)
            .await?;
    }
    for (table, column, values) in [
        ("candidate_skills", "skill", &keys.skills),
        ("candidate_tags", "tag", &keys.tags),
    ] {
        for v in values {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} (tenant_id, {column}, candidate_id) VALUES ($1, $2, $3)"
            )))
            .bind(tenant_id)
            .bind(v)
            .bind(&c.id)
            .execute(&mut *conn)
            .await?;
        }
    }
    write_search(conn, tenant_id, &c.id, keys).await
}

/// Writes that may hit a unique index run inside a savepoint: PostgreSQL aborts the whole
/// transaction on an error, and the caller still needs it to say who holds the value.
async fn savepoint(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SAVEPOINT candidate_write")
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

async fn end_savepoint(
    conn: &mut PgConnection,
    outcome: StoreResult<WriteOutcome>,
) -> StoreResult<WriteOutcome> {
    let outcome = outcome?;
    let end = if outcome == WriteOutcome::Duplicate {
        "ROLLBACK TO SAVEPOINT candidate_write"
    } else {
        "RELEASE SAVEPOINT candidate_write"
    };
    sqlx::query(end).execute(&mut *conn).await.or_store()?;
    Ok(outcome)
}

/// Inserts a candidate and its lookup rows; a taken email or external id is `Duplicate`.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    tenant_id: &str,
    c: &Candidate,
    keys: &CandidateKeys,
) -> StoreResult<WriteOutcome> {
    savepoint(conn).await?;
    let outcome = insert_unguarded(conn, tenant_id, c, keys).await;
    end_savepoint(conn, outcome).await
}

/// Writes back a candidate whose stored revision is `previous_revision`.
pub(crate) async fn update(
    conn: &mut PgConnection,
    tenant_id: &str,
    c: &Candidate,
    keys: &CandidateKeys,
    previous_revision: i64,
) -> StoreResult<WriteOutcome> {
    savepoint(conn).await?;
    let outcome = update_unguarded(conn, tenant_id, c, keys, previous_revision).await;
    end_savepoint(conn, outcome).await
}

async fn insert_unguarded(
    conn: &mut PgConnection,
    tenant_id: &str,
    c: &Candidate,
    keys: &CandidateKeys,
) -> StoreResult<WriteOutcome> {
    let inserted = sqlx::query(
        "INSERT INTO candidates (id, tenant_id, first_name, last_name, email, phone, external_ids, tags, source, profile, provenance, \
         email_key, phone_key, name_key, location_key, source_key, total_experience_years, revision, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(&c.id)
    .bind(tenant_id)
    .bind(&c.first_name)
    .bind(&c.last_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(Json(&c.external_ids))
    .bind(Json(&c.tags))
    .bind(&c.source)
    .bind(Json(&c.profile))
    .bind(Json(&c.provenance))
    .bind(&keys.email)
    .bind(&keys.phone)
    .bind(&keys.name)
    .bind(&keys.location)
    .bind(c.source.as_deref().map(hirewire_core::model::candidate::fold))
    .bind(c.profile.total_experience_years)
    .bind(c.revision)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Ok(WriteOutcome::Duplicate),
        other => {
            other.or_store()?;
        }
    }
    match write_lookups(conn, tenant_id, c, keys).await {
        Ok(()) => Ok(WriteOutcome::Written),
        Err(e) if is_unique_violation(&e) => Ok(WriteOutcome::Duplicate),
        Err(e) => Err(hirewire_core::StoreError::new(e)),
    }
}

async fn update_unguarded(
    conn: &mut PgConnection,
    tenant_id: &str,
    c: &Candidate,
    keys: &CandidateKeys,
    previous_revision: i64,
) -> StoreResult<WriteOutcome> {
    let updated = sqlx::query(
        "UPDATE candidates SET first_name = $3, last_name = $4, email = $5, phone = $6, external_ids = $7, tags = $8, source = $9, \
         profile = $10, provenance = $11, email_key = $12, phone_key = $13, name_key = $14, location_key = $15, source_key = $16, \
         total_experience_years = $17, revision = $18, updated_at = $19 WHERE id = $1 AND tenant_id = $2 AND revision = $20",
    )
    .bind(&c.id)
    .bind(tenant_id)
    .bind(&c.first_name)
    .bind(&c.last_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(Json(&c.external_ids))
    .bind(Json(&c.tags))
    .bind(&c.source)
    .bind(Json(&c.profile))
    .bind(Json(&c.provenance))
    .bind(&keys.email)
    .bind(&keys.phone)
    .bind(&keys.name)
    .bind(&keys.location)
    .bind(c.source.as_deref().map(hirewire_core::model::candidate::fold))
    .bind(c.profile.total_experience_years)
    .bind(c.revision)
    .bind(c.updated_at)
    .bind(previous_revision)
    .execute(&mut *conn)
    .await;
    match updated {
        Err(e) if is_unique_violation(&e) => return Ok(WriteOutcome::Duplicate),
        Err(e) => return Err(hirewire_core::StoreError::new(e)),
        Ok(done) if done.rows_affected() != 1 => return Ok(WriteOutcome::Stale),
        Ok(_) => {}
    }
    match write_lookups(conn, tenant_id, c, keys).await {
        Ok(()) => Ok(WriteOutcome::Written),
        Err(e) if is_unique_violation(&e) => Ok(WriteOutcome::Duplicate),
        Err(e) => Err(hirewire_core::StoreError::new(e)),
    }
}

/// Rows per multi-row statement of a bulk insert: ~20 values a row stays far below either
/// database's limit on bound values.
const BULK_ROWS: usize = 400;

async fn insert_many_unguarded(
    conn: &mut PgConnection,
    tenant_id: &str,
    rows: &[(Candidate, CandidateKeys)],
) -> Result<(), sqlx::Error> {
    for part in rows.chunks(BULK_ROWS) {
        let mut qb = QueryBuilder::new(
            "INSERT INTO candidates (id, tenant_id, first_name, last_name, email, phone, external_ids, tags, source, profile, provenance, \
             email_key, phone_key, name_key, location_key, source_key, total_experience_years, revision, created_at, updated_at) ",
        );
        qb.push_values(part, |mut row, (c, k)| {
            row.push_bind(c.id.clone())
                .push_bind(tenant_id.to_string())
                .push_bind(c.first_name.clone())
                .push_bind(c.last_name.clone())
                .push_bind(c.email.clone())
                .push_bind(c.phone.clone())
                .push_bind(Json(c.external_ids.clone()))
                .push_bind(Json(c.tags.clone()))
                .push_bind(c.source.clone())
                .push_bind(Json(c.profile.clone()))
                .push_bind(Json(c.provenance.clone()))
                .push_bind(k.email.clone())
                .push_bind(k.phone.clone())
                .push_bind(k.name.clone())
                .push_bind(k.location.clone())
                .push_bind(
                    c.source
                        .as_deref()
                        .map(hirewire_core::model::candidate::fold),
                )
                .push_bind(c.profile.total_experience_years)
                .push_bind(c.revision)
                .push_bind(c.created_at)
                .push_bind(c.updated_at);
        });
        qb.build().execute(&mut *conn).await?;
        let ids: Vec<(&str, &str, &str)> = part
            .iter()
            .flat_map(|(c, _)| {
                c.external_ids
                    .iter()
                    .map(move |x| (c.id.as_str(), x.source.as_str(), x.id.as_str()))
            })
            .collect();
        for ids in ids.chunks(BULK_ROWS * 4) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO candidate_external_ids (tenant_id, source, external_id, candidate_id) ",
            );
            qb.push_values(ids, |mut row, (cid, source, id)| {
                row.push_bind(tenant_id.to_string())
                    .push_bind(source.to_string())
                    .push_bind(id.to_string())
                    .push_bind(cid.to_string());
            });
            qb.build().execute(&mut *conn).await?;
        }
        for (table, column, pick) in [
            (
                "candidate_skills",
                "skill",
                (|k: &CandidateKeys| &k.skills) as fn(&CandidateKeys) -> &Vec<String>,
            ),
            ("candidate_tags", "tag", |k: &CandidateKeys| &k.tags),
        ] {
            let values: Vec<(&str, &str)> = part
                .iter()
                .flat_map(|(c, k)| pick(k).iter().map(move |v| (c.id.as_str(), v.as_str())))
                .collect();
            for values in values.chunks(BULK_ROWS * 6) {
                let mut qb = QueryBuilder::new(format!(
                    "INSERT INTO {table} (tenant_id, {column}, candidate_id) "
                ));
                qb.push_values(values, |mut row, (cid, v)| {
                    row.push_bind(tenant_id.to_string())
                        .push_bind(v.to_string())
                        .push_bind(cid.to_string());
                });
                qb.build().execute(&mut *conn).await?;
            }
        }
        let mut qb = QueryBuilder::new(
            "INSERT INTO candidate_search (candidate_id, tenant_id, skills, titles, doc) ",
        );
        qb.push_values(part, |mut row, (c, k)| {
            row.push_bind(c.id.clone())
                .push_bind(tenant_id.to_string())
                .push("to_tsvector('simple', ")
                .push_bind_unseparated(k.search.skills.clone())
                .push_unseparated(")")
                .push("to_tsvector('simple', ")
                .push_bind_unseparated(k.search.titles.clone())
                .push_unseparated(")")
                .push("to_tsvector('simple', ")
                .push_bind_unseparated(k.search.doc.clone())
                .push_unseparated(")");
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts many new candidates with few statements; a taken email or external id is
/// `Duplicate`.
pub(crate) async fn insert_many(
    conn: &mut PgConnection,
    tenant_id: &str,
    rows: &[(Candidate, CandidateKeys)],
) -> StoreResult<WriteOutcome> {
    savepoint(conn).await?;
    let outcome = match insert_many_unguarded(conn, tenant_id, rows).await {
        Ok(()) => Ok(WriteOutcome::Written),
        Err(e) if is_unique_violation(&e) => Ok(WriteOutcome::Duplicate),
        Err(e) => Err(hirewire_core::StoreError::new(e)),
    };
    end_savepoint(conn, outcome).await
}

/// Which of these email keys and external ids already belong to candidates of the tenant.
pub(crate) async fn taken_identities(
    conn: &mut PgConnection,
    tenant_id: &str,
    email_keys: &[String],
    external_ids: &[ExternalId],
) -> StoreResult<(Vec<String>, Vec<ExternalId>)> {
    let mut emails = Vec::new();
    for part in email_keys.chunks(BULK_ROWS * 10) {
        let mut qb = QueryBuilder::new("SELECT email_key FROM candidates WHERE tenant_id = ");
        qb.push_bind(tenant_id.to_string())
            .push(" AND email_key IN (");
        let mut list = qb.separated(", ");
        for e in part {
            list.push_bind(e.clone());
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&mut *conn).await.or_store()?;
        for r in &rows {
            emails.push(r.text("email_key")?);
        }
    }
    let mut ids = Vec::new();
    for part in external_ids.chunks(BULK_ROWS * 5) {
        let mut qb = QueryBuilder::new(
            "SELECT source, external_id FROM candidate_external_ids WHERE tenant_id = ",
        );
        qb.push_bind(tenant_id.to_string())
            .push(" AND (source, external_id) IN (");
        let mut list = qb.separated(", ");
        for x in part {
            list.push("(")
                .push_bind_unseparated(x.source.clone())
                .push_unseparated(", ")
                .push_bind_unseparated(x.id.clone())
                .push_unseparated(")");
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&mut *conn).await.or_store()?;
        for r in &rows {
            ids.push(ExternalId {
                source: r.text("source")?,
                id: r.text("external_id")?,
            });
        }
    }
    Ok((emails, ids))
}

/// The id of a candidate of the tenant, other than `except_id`, with this email key or one of
/// these external ids.
pub(crate) async fn find(
    conn: &mut PgConnection,
    tenant_id: &str,
    email_key: Option<&str>,
    external_ids: &[ExternalId],
    except_id: Option<&str>,
) -> StoreResult<Option<String>> {
    let except = except_id.unwrap_or("");
    if let Some(email) = email_key {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM candidates WHERE tenant_id = $1 AND email_key = $2 AND id <> $3",
        )
        .bind(tenant_id)
        .bind(email)
        .bind(except)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    for x in external_ids {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT candidate_id FROM candidate_external_ids WHERE tenant_id = $1 AND source = $2 AND external_id = $3 AND candidate_id <> $4",
        )
        .bind(tenant_id)
        .bind(&x.source)
        .bind(&x.id)
        .bind(except)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Erases a candidate with everything that cascades from it, and blanks the personal data in
/// the events that carried it (webhook payloads are built from these rows at send time).
pub(crate) async fn erase(conn: &mut PgConnection, tenant_id: &str, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM candidates WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *conn)
        .await
        .or_store()?;
    sqlx::query("UPDATE events SET data = $3 WHERE tenant_id = $1 AND strpos(data::text, $2) > 0")
        .bind(tenant_id)
        .bind(format!("\"{id}\""))
        .bind(Json(
            &serde_json::json!({ "candidate_id": id, "erased": true }),
        ))
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

pub(crate) async fn insert_document(
    conn: &mut PgConnection,
    tenant_id: &str,
    d: &Document,
    content: &[u8],
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO documents (id, tenant_id, candidate_id, filename, content_type, format, size_bytes, sha256, parse_status, parse_error, \
         reference_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&d.id)
    .bind(tenant_id)
    .bind(&d.candidate_id)
    .bind(&d.filename)
    .bind(&d.content_type)
    .bind(d.format.as_str())
    .bind(d.size_bytes)
    .bind(&d.sha256)
    .bind(d.parse_status.as_str())
    .bind(&d.parse_error)
    .bind(&d.reference_id)
    .bind(d.created_at)
    .bind(d.updated_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    sqlx::query("INSERT INTO document_contents (document_id, content) VALUES ($1, $2)")
        .bind(&d.id)
        .bind(content)
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

pub(crate) async fn lock_document(
    conn: &mut PgConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<Document>> {
    let row = sqlx::query("SELECT * FROM documents WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
    row.as_ref().map(document_from_row).transpose()
}

pub(crate) async fn update_document(
    conn: &mut PgConnection,
    tenant_id: &str,
    d: &Document,
    text: Option<(&str, &str)>,
) -> StoreResult<()> {
    sqlx::query("UPDATE documents SET parse_status = $3, parse_error = $4, text = COALESCE($5, text), search_text = COALESCE($6, search_text), \
                 updated_at = $7 WHERE id = $1 AND tenant_id = $2")
        .bind(&d.id)
        .bind(tenant_id)
        .bind(d.parse_status.as_str())
        .bind(&d.parse_error)
        .bind(text.map(|t| t.0))
        .bind(text.map(|t| t.1))
        .bind(d.updated_at)
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

pub(crate) async fn insert_operation(
    conn: &mut PgConnection,
    o: &StoredOperation,
) -> StoreResult<()> {
    let op = &o.operation;
    sqlx::query(
        "INSERT INTO operations (reference_id, tenant_id, kind, status, subject_id, input, result, error, attempts, lease_until, \
         created_at, updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&op.reference_id)
    .bind(&o.tenant_id)
    .bind(op.kind.as_str())
    .bind(op.status.as_str())
    .bind(&o.subject_id)
    .bind(o.input.as_ref().map(Json))
    .bind(op.result.as_ref().map(Json))
    .bind(op.error.as_ref().map(Json))
    .bind(o.attempts)
    .bind(o.lease_until)
    .bind(op.created_at)
    .bind(op.updated_at)
    .bind(op.finished_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

/// Leases due operations; `SKIP LOCKED` lets claimers in other processes pass each other.
pub(crate) async fn claim_operations(
    conn: &mut PgConnection,
    kind: OperationKind,
    now: chrono::DateTime<chrono::Utc>,
    lease_until: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> StoreResult<Vec<StoredOperation>> {
    let rows = sqlx::query(
        "UPDATE operations SET attempts = attempts + 1, lease_until = $3 WHERE reference_id IN \
         (SELECT reference_id FROM operations WHERE kind = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
         ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
    )
    .bind(kind.as_str())
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .or_store()?;
    let mut ops = rows
        .iter()
        .map(operation_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    ops.sort_by_key(|a| a.operation.created_at);
    Ok(ops)
}

pub(crate) async fn update_operation(
    conn: &mut PgConnection,
    o: &StoredOperation,
) -> StoreResult<()> {
    let op = &o.operation;
    sqlx::query(
        "UPDATE operations SET status = $2, input = $3, result = $4, error = $5, lease_until = $6, updated_at = $7, finished_at = $8 WHERE reference_id = $1",
    )
    .bind(&op.reference_id)
    .bind(op.status.as_str())
    .bind(o.input.as_ref().map(Json))
    .bind(op.result.as_ref().map(Json))
    .bind(op.error.as_ref().map(Json))
    .bind(o.lease_until)
    .bind(op.updated_at)
    .bind(op.finished_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn insert_import_chunk(
    conn: &mut PgConnection,
    reference_id: &str,
    seq: i64,
    first_row: i64,
    data: &[u8],
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_chunks (reference_id, seq, first_row, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(reference_id)
    .bind(seq)
    .bind(first_row)
    .bind(data)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn import_chunk(
    conn: &mut PgConnection,
    reference_id: &str,
    seq: i64,
) -> StoreResult<Option<(i64, Vec<u8>)>> {
    let row = sqlx::query(
        "SELECT first_row, data FROM import_chunks WHERE reference_id = $1 AND seq = $2",
    )
    .bind(reference_id)
    .bind(seq)
    .fetch_optional(&mut *conn)
    .await
    .or_store()?;
    row.map(|r| {
        Ok((
            r.int("first_row")?,
            r.try_get::<Vec<u8>, _>("data").or_store()?,
        ))
    })
    .transpose()
}

pub(crate) async fn delete_import_chunks(
    conn: &mut PgConnection,
    reference_id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM import_chunks WHERE reference_id = $1")
        .bind(reference_id)
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &CandidateQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(e) = &q.email {
        qb.push(" AND email_key = ").push_bind(e.clone());
    }
    if let Some(p) = &q.phone {
        qb.push(" AND phone_key = ").push_bind(p.clone());
    }
    if let Some(x) = &q.external_id {
        qb.push(" AND id IN (SELECT candidate_id FROM candidate_external_ids WHERE tenant_id = ")
            .push_bind(tenant_id.to_string())
            .push(" AND source = ")
            .push_bind(x.source.clone())
            .push(" AND external_id = ")
            .push_bind(x.id.clone())
            .push(")");
    }
    if let Some(n) = &q.name_prefix {
        let p = like_escape(n);
        qb.push(" AND (name_key LIKE ")
            .push_bind(format!("{p}%"))
            .push(" ESCAPE '\\' OR name_key LIKE ")
            .push_bind(format!("% {p}%"))
            .push(" ESCAPE '\\')");
    }
    for (table, column, values) in [
        ("candidate_skills", "skill", q.skills.clone()),
        ("candidate_tags", "tag", q.tag.clone().into_iter().collect()),
    ] {
        for v in values {
            qb.push(format!(
                " AND id IN (SELECT candidate_id FROM {table} WHERE tenant_id = "
            ))
            .push_bind(tenant_id.to_string())
            .push(format!(" AND {column} = "))
            .push_bind(v)
            .push(")");
        }
    }
    if let Some(l) = &q.location {
        qb.push(" AND location_key LIKE ")
            .push_bind(format!("%|{}|%", like_escape(l)))
            .push(" ESCAPE '\\'");
    }
    if let Some(s) = &q.source {
        qb.push(" AND source_key = ").push_bind(s.clone());
    }
    if let Some(t) = &q.updated_since {
        qb.push(" AND updated_at >= ").push_bind(*t);
    }
}

/// The start of a search's ranking query: `s` is `candidate_search`, `c` the candidate when a
/// filter needs it.
fn push_search_from(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &SearchQuery) {
    qb.push(" FROM candidate_search s");
    if q.location.is_some() || q.min_years.is_some() {
        qb.push(" JOIN candidates c ON c.id = s.candidate_id");
    }
    qb.push(" WHERE s.tenant_id = ")
        .push_bind(tenant_id.to_string());
}

fn push_search_filters(qb: &mut QueryBuilder<Postgres>, q: &SearchQuery) {
    for skill in &q.skills {
        qb.push(" AND EXISTS (SELECT 1 FROM candidate_skills k WHERE k.tenant_id = s.tenant_id AND k.skill = ")
            .push_bind(skill.clone())
            .push(" AND k.candidate_id = s.candidate_id)");
    }
    if let Some(l) = &q.location {
        qb.push(" AND c.location_key LIKE ")
            .push_bind(format!("%|{}|%", like_escape(l)))
            .push(" ESCAPE '\\'");
    }
    if let Some(y) = q.min_years {
        qb.push(" AND c.total_experience_years >= ").push_bind(y);
    }
}

/// The candidates scoring exactly `score` (`SearchQuery::tier`) as SQL over `s`. A term's
/// `tsquery` is bound where it is used, so that the planner sees each (every query is planned
/// with its values: see `ranked`).
fn push_tier(qb: &mut QueryBuilder<Postgres>, q: &SearchQuery, score: i64) {
    let tier = q.tier(score, &[]);
    if tier.is_empty() {
        qb.push("FALSE");
        return;
    }
    qb.push("(");
    for (n, conjunction) in tier.iter().enumerate() {
        if n > 0 {
            qb.push(" OR ");
        }
        qb.push("(");
        for (m, hit) in conjunction.iter().enumerate() {
            if m > 0 {
                qb.push(" AND ");
            }
            if hit.negated {
                qb.push("NOT ");
            }
            qb.push(match hit.field {
                Field::Skills => "s.skills",
                Field::Titles => "s.titles",
                Field::Doc => "s.doc",
            })
            .push(" @@ to_tsquery('simple', ")
            .push_bind(q.terms[hit.term].tsquery())
            .push(")");
        }
        qb.push(")");
    }
    qb.push(")");
}

/// Filters alone: every match scores 0; newest first, walking (tenant_id, seq) backwards and
/// stopping at the page's end.
fn push_filter_search(
    qb: &mut QueryBuilder<Postgres>,
    tenant_id: &str,
    q: &SearchQuery,
    limit: i64,
) {
    qb.push("SELECT s.candidate_id AS id, s.seq, 0::BIGINT AS score");
    push_search_from(qb, tenant_id, q);
    push_search_filters(qb, q);
    if let Some((_, seq)) = q.after() {
        qb.push(" AND s.seq < ").push_bind(seq);
    }
    qb.push(" ORDER BY s.seq DESC LIMIT ").push_bind(limit);
}

/// The candidates scoring exactly `score`, newest first. The planner picks, from the
/// statistics of the columns, between walking (tenant_id, seq) backwards until `limit` rows
/// pass (a tier many candidates reach) and the GIN indexes (one few reach).
fn push_tier_search(
    qb: &mut QueryBuilder<Postgres>,
    tenant_id: &str,
    q: &SearchQuery,
    score: i64,
    below: Option<i64>,
    limit: i64,
) {
    qb.push("SELECT s.candidate_id AS id, s.seq, ")
        .push_bind(score)
        .push("::BIGINT AS score");
    push_search_from(qb, tenant_id, q);
    qb.push(" AND ");
    push_tier(qb, q, score);
    push_search_filters(qb, q);
    if let Some(seq) = below {
        qb.push(" AND s.seq < ").push_bind(seq);
    }
    qb.push(" ORDER BY s.seq DESC LIMIT ").push_bind(limit);
}

/// Queries of many terms (see `MAX_TIERED_TERMS`): every match is scored, then sorted. Ranks
/// on the small columns only; the page's rows are read afterwards.
fn push_scored_search(
    qb: &mut QueryBuilder<Postgres>,
    tenant_id: &str,
    q: &SearchQuery,
    limit: i64,
) {
    qb.push("SELECT * FROM (SELECT s.candidate_id AS id, s.seq, (");
    for (i, t) in q.terms.iter().enumerate() {
        if i > 0 {
            qb.push(" + ");
        }
        let tsq = t.tsquery();
        qb.push("CASE WHEN s.skills @@ to_tsquery('simple', ")
            .push_bind(tsq.clone())
            .push(") THEN 3 WHEN s.titles @@ to_tsquery('simple', ")
            .push_bind(tsq)
            .push(") THEN 2 ELSE 1 END");
    }
    qb.push(")::BIGINT AS score");
    push_search_from(qb, tenant_id, q);
    qb.push(" AND s.doc @@ to_tsquery('simple', ")
        .push_bind(q.tsquery())
        .push(")");
    push_search_filters(qb, q);
    qb.push(") r");
    if let Some((score, seq)) = q.after() {
        qb.push(" WHERE (r.score < ")
            .push_bind(score)
            .push(" OR (r.score = ")
            .push_bind(score)
            .push(" AND r.seq < ")
            .push_bind(seq)
            .push("))");
    }
    qb.push(" ORDER BY r.score DESC, r.seq DESC LIMIT ")
        .push_bind(limit);
}

/// Runs one ranking query: (id, seq, score) rows.
async fn run_ranking(
    conn: &mut PgConnection,
    qb: &mut QueryBuilder<Postgres>,
) -> StoreResult<Vec<(String, i64, i64)>> {
    // An unnamed statement: PostgreSQL plans it with its values. A prepared statement would
    // switch to a generic plan after five runs, and one plan cannot suit both a term in half
    // of the candidates (walk in seq order) and a rare one (read the GIN index).
    qb.build()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
        .or_store()?
        .iter()
        .map(|r| {
            Ok((
                r.text("id")?,
                r.try_get::<i64, _>("seq").or_store()?,
                r.try_get::<i64, _>("score").or_store()?,
            ))
        })
        .collect()
}

/// (id, seq, score) rows of a search, best first, up to `limit`.
async fn ranked(
    conn: &mut PgConnection,
    tenant_id: &str,
    q: &SearchQuery,
    limit: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    let mut out = Vec::new();
    if q.terms.is_empty() {
        let mut qb = QueryBuilder::new("");
        push_filter_search(&mut qb, tenant_id, q, limit);
        out = run_ranking(conn, &mut qb).await?;
    } else if q.tiered() {
        for (score, below) in q.tiers() {
            let mut qb = QueryBuilder::new("");
            push_tier_search(
                &mut qb,
                tenant_id,
                q,
                score,
                below,
                limit - out.len() as i64,
            );
            out.extend(run_ranking(conn, &mut qb).await?);
            if out.len() as i64 >= limit {
                break;
            }
        }
    } else {
        let mut qb = QueryBuilder::new("");
        push_scored_search(&mut qb, tenant_id, q, limit);
        out = run_ranking(conn, &mut qb).await?;
    }
    Ok(out)
}

#[async_trait]
impl CandidateStore for PostgresStore {
    async fn search_candidates(
        &self,
        tenant_id: &str,
        q: &SearchQuery,
    ) -> StoreResult<Page<(Candidate, i64)>> {
        // One transaction: the tiers see one snapshot, and these settings hold for them alone.
        // A search stops after a page of rows, which parallel workers only delay (starting
        // them takes longer than most tiers) and JIT compiling likewise. The index is read
        // from memory, where a random page costs about what a sequential one does: at the
        // default random_page_cost (4) the planner walks (tenant_id, seq) for a tier it
        // guesses 1 in 200 candidates reach, which is its guess for any word missing from the
        // column's statistics (a surname in `titles`), and such a walk reads every candidate.
        // At 1.1 it reads the GIN index below about 1 in 100, as a measure of both plans does.
        let mut tx = self.pool.begin().await.or_store()?;
        sqlx::query(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true), \
             set_config('random_page_cost', '1.1', true)",
        )
        .execute(&mut *tx)
        .await
        .or_store()?;
        let ranked = ranked(&mut tx, tenant_id, q, i64::from(q.page.limit) + 1).await?;
        let mut rows: std::collections::HashMap<String, Candidate> =
            std::collections::HashMap::new();
        if !ranked.is_empty() {
            let mut qb = QueryBuilder::new("SELECT * FROM candidates WHERE tenant_id = ");
            qb.push_bind(tenant_id.to_string()).push(" AND id IN (");
            let mut list = qb.separated(", ");
            for (id, _, _) in &ranked {
                list.push_bind(id.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *tx).await.or_store()? {
                let c = candidate_from_row(&r)?;
                rows.insert(c.id.clone(), c);
            }
        }
        tx.commit().await.or_store()?;
        let items: Vec<(Candidate, i64, i64)> = ranked
            .into_iter()
            .filter_map(|(id, seq, score)| rows.remove(&id).map(|c| (c, score, seq)))
            .collect();
        Ok(
            Page::from_rows(items, q.page.limit, None, |(c, score, seq)| {
                SearchQuery::cursor_of(*score, *seq, &c.id)
            })
            .map(|(c, score, _)| (c, score)),
        )
    }

    async fn latest_document_texts(
        &self,
        tenant_id: &str,
        candidate_ids: &[String],
    ) -> StoreResult<Vec<(String, String)>> {
        if candidate_ids.is_empty() {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT DISTINCT ON (candidate_id) candidate_id, text FROM documents WHERE parse_status = 'parsed' AND text IS NOT NULL \
             AND tenant_id = $1 AND candidate_id = ANY($2) ORDER BY candidate_id, updated_at DESC, id DESC",
        )
        .bind(tenant_id)
        .bind(candidate_ids)
        .fetch_all(&self.pool)
        .await
        .or_store()?;
        rows.iter()
            .map(|r| Ok((r.text("candidate_id")?, r.text("text")?)))
            .collect()
    }

    async fn candidate(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Candidate>> {
        let row = sqlx::query("SELECT * FROM candidates WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.as_ref().map(candidate_from_row).transpose()
    }

    async fn list_candidates(
        &self,
        tenant_id: &str,
        q: &CandidateQuery,
    ) -> StoreResult<Page<Candidate>> {
        let mut qb = QueryBuilder::new("SELECT * FROM candidates");
        push_filters(&mut qb, tenant_id, q);
        push_keyset(
            &mut qb,
            q.sort.column(),
            q.descending,
            q.page.after.as_ref(),
            q.page.limit,
        );
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        let items = rows
            .iter()
            .map(candidate_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM candidates");
            push_filters(&mut count, tenant_id, q);
            Some(
                count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .or_store()?,
            )
        } else {
            None
        };
        Ok(Page::from_rows(items, q.page.limit, total, |c| {
            q.cursor_of(c)
        }))
    }

    async fn document(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Document>> {
        let row = sqlx::query("SELECT * FROM documents WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.as_ref().map(document_from_row).transpose()
    }

    async fn list_documents(
        &self,
        tenant_id: &str,
        candidate_id: &str,
    ) -> StoreResult<Vec<Document>> {
        let rows = sqlx::query("SELECT * FROM documents WHERE candidate_id = $1 AND tenant_id = $2 ORDER BY created_at DESC, id DESC")
            .bind(candidate_id)
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await
            .or_store()?;
        rows.iter().map(document_from_row).collect()
    }

    async fn document_content(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT c.content FROM document_contents c JOIN documents d ON d.id = c.document_id WHERE d.id = $1 AND d.tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.map(|r| r.try_get::<Vec<u8>, _>("content").or_store())
            .transpose()
    }
}

#[async_trait]
impl OperationStore for PostgresStore {
    async fn operation(
        &self,
        tenant_id: &str,
        reference_id: &str,
    ) -> StoreResult<Option<StoredOperation>> {
        let row =
            sqlx::query("SELECT * FROM operations WHERE reference_id = $1 AND tenant_id = $2")
                .bind(reference_id)
                .bind(tenant_id)
                .fetch_optional(&self.pool)
                .await
                .or_store()?;
        row.as_ref().map(operation_from_row).transpose()
    }
}
