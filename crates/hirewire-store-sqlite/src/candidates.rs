//! Candidates, their documents and operations.

use async_trait::async_trait;
use hirewire_core::model::search::{Field, SearchQuery};
use hirewire_core::model::{
    Candidate, CandidateKeys, CandidateQuery, Document, DocumentFormat, ExternalId, Operation,
    OperationKind, OperationStatus, ParseStatus, StoredOperation,
};
use hirewire_core::page::Page;
use hirewire_core::store::{CandidateStore, OperationStore, StoreResult, WriteOutcome};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt, push_keyset, ts, ts_opt};

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn candidate_from_row(r: &SqliteRow) -> StoreResult<Candidate> {
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

pub(crate) fn document_from_row(r: &SqliteRow) -> StoreResult<Document> {
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

pub(crate) fn operation_from_row(r: &SqliteRow) -> StoreResult<StoredOperation> {
    let opt_json = |col: &str| -> StoreResult<Option<serde_json::Value>> {
        r.text_opt(col)?
            .map(|s| serde_json::from_str(&s).or_store())
            .transpose()
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
    conn: &mut SqliteConnection,
    candidate_id: &str,
    keys: &CandidateKeys,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM candidate_search WHERE rowid = (SELECT seq FROM candidates WHERE id = $1)",
    )
    .bind(candidate_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO candidate_search (rowid, skills, titles, doc) SELECT seq, $2, $3, $4 || COALESCE((          SELECT ' hwsep ' || search_text FROM documents WHERE candidate_id = $1 AND parse_status = 'parsed' AND search_text IS NOT NULL          ORDER BY updated_at DESC, id DESC LIMIT 1), '') FROM candidates WHERE id = $1",
    )
    .bind(candidate_id)
    .bind(&keys.search.skills)
    .bind(&keys.search.titles)
    .bind(&keys.search.doc)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites a candidate's rows in the lookup tables.
async fn write_lookups(
    conn: &mut SqliteConnection,
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
    write_search(conn, &c.id, keys).await
}

/// Inserts a candidate and its lookup rows; a taken email or external id is `Duplicate`.
pub(crate) async fn insert(
    conn: &mut SqliteConnection,
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
    .bind(json(&c.external_ids))
    .bind(json(&c.tags))
    .bind(&c.source)
    .bind(json(&c.profile))
    .bind(json(&c.provenance))
    .bind(&keys.email)
    .bind(&keys.phone)
    .bind(&keys.name)
    .bind(&keys.location)
    .bind(c.source.as_deref().map(hirewire_core::model::candidate::fold))
    .bind(c.profile.total_experience_years)
    .bind(c.revision)
    .bind(ts(&c.created_at))
    .bind(ts(&c.updated_at))
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

/// Writes back a candidate whose stored revision is `previous_revision`.
pub(crate) async fn update(
    conn: &mut SqliteConnection,
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
    .bind(json(&c.external_ids))
    .bind(json(&c.tags))
    .bind(&c.source)
    .bind(json(&c.profile))
    .bind(json(&c.provenance))
    .bind(&keys.email)
    .bind(&keys.phone)
    .bind(&keys.name)
    .bind(&keys.location)
    .bind(c.source.as_deref().map(hirewire_core::model::candidate::fold))
    .bind(c.profile.total_experience_years)
    .bind(c.revision)
    .bind(ts(&c.updated_at))
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
    conn: &mut SqliteConnection,
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
                .push_bind(json(&c.external_ids))
                .push_bind(json(&c.tags))
                .push_bind(c.source.clone())
                .push_bind(json(&c.profile))
                .push_bind(json(&c.provenance))
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
                .push_bind(ts(&c.created_at))
                .push_bind(ts(&c.updated_at));
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
            "INSERT INTO candidate_search (rowid, skills, titles, doc) SELECT c.seq, v.column2, v.column3, v.column4 FROM (",
        );
        qb.push_values(part, |mut row, (c, k)| {
            row.push_bind(c.id.clone())
                .push_bind(k.search.skills.clone())
                .push_bind(k.search.titles.clone())
                .push_bind(k.search.doc.clone());
        });
        qb.push(") v JOIN candidates c ON c.id = v.column1");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts many new candidates with few statements; a taken email or external id is
/// `Duplicate`.
pub(crate) async fn insert_many(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    rows: &[(Candidate, CandidateKeys)],
) -> StoreResult<WriteOutcome> {
    match insert_many_unguarded(conn, tenant_id, rows).await {
        Ok(()) => Ok(WriteOutcome::Written),
        Err(e) if is_unique_violation(&e) => Ok(WriteOutcome::Duplicate),
        Err(e) => Err(hirewire_core::StoreError::new(e)),
    }
}

/// Which of these email keys and external ids already belong to candidates of the tenant.
pub(crate) async fn taken_identities(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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
pub(crate) async fn erase(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM candidate_search WHERE rowid = (SELECT seq FROM candidates WHERE id = $1 AND tenant_id = $2)")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *conn)
        .await
        .or_store()?;
    sqlx::query("DELETE FROM candidates WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *conn)
        .await
        .or_store()?;
    sqlx::query("UPDATE events SET data = $3 WHERE tenant_id = $1 AND instr(data, $2) > 0")
        .bind(tenant_id)
        .bind(format!("\"{id}\""))
        .bind(json(
            &serde_json::json!({ "candidate_id": id, "erased": true }),
        ))
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

pub(crate) async fn insert_document(
    conn: &mut SqliteConnection,
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
    .bind(ts(&d.created_at))
    .bind(ts(&d.updated_at))
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
    conn: &mut SqliteConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<Document>> {
    let row = sqlx::query("SELECT * FROM documents WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
    row.as_ref().map(document_from_row).transpose()
}

pub(crate) async fn update_document(
    conn: &mut SqliteConnection,
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
        .bind(ts(&d.updated_at))
        .execute(&mut *conn)
        .await
        .or_store()?;
    Ok(())
}

pub(crate) async fn insert_operation(
    conn: &mut SqliteConnection,
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
    .bind(o.input.as_ref().map(json))
    .bind(op.result.as_ref().map(json))
    .bind(op.error.as_ref().map(json))
    .bind(o.attempts)
    .bind(ts_opt(&o.lease_until))
    .bind(ts(&op.created_at))
    .bind(ts(&op.updated_at))
    .bind(ts_opt(&op.finished_at))
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

/// Leases due operations. The caller's transaction began with `BEGIN IMMEDIATE`, so no other
/// process claims between this read and this write.
pub(crate) async fn claim_operations(
    conn: &mut SqliteConnection,
    kind: OperationKind,
    now: chrono::DateTime<chrono::Utc>,
    lease_until: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> StoreResult<Vec<StoredOperation>> {
    let rows = sqlx::query(
        "UPDATE operations SET attempts = attempts + 1, lease_until = $3 WHERE reference_id IN \
         (SELECT reference_id FROM operations WHERE kind = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
         ORDER BY created_at LIMIT $4) RETURNING *",
    )
    .bind(kind.as_str())
    .bind(ts(&now))
    .bind(ts(&lease_until))
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
    conn: &mut SqliteConnection,
    o: &StoredOperation,
) -> StoreResult<()> {
    let op = &o.operation;
    sqlx::query(
        "UPDATE operations SET status = $2, input = $3, result = $4, error = $5, lease_until = $6, updated_at = $7, finished_at = $8 WHERE reference_id = $1",
    )
    .bind(&op.reference_id)
    .bind(op.status.as_str())
    .bind(o.input.as_ref().map(json))
    .bind(op.result.as_ref().map(json))
    .bind(op.error.as_ref().map(json))
    .bind(ts_opt(&o.lease_until))
    .bind(ts(&op.updated_at))
    .bind(ts_opt(&op.finished_at))
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn insert_import_chunk(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
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

fn push_filters(qb: &mut QueryBuilder<Sqlite>, tenant_id: &str, q: &CandidateQuery) {
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
        qb.push(" AND updated_at >= ").push_bind(ts(t));
    }
}

fn push_search_filters(qb: &mut QueryBuilder<Sqlite>, q: &SearchQuery) {
    // Probes, one per candidate read: the plans below walk candidates in `seq` order and stop
    // when the page is full, so a filter must not first gather everyone it admits.
    for skill in &q.skills {
        qb.push(" AND EXISTS (SELECT 1 FROM candidate_skills k WHERE k.tenant_id = c.tenant_id AND k.skill = ")
            .push_bind(skill.clone())
            .push(" AND k.candidate_id = c.id)");
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

/// Filters alone: every match scores 0; newest first, from the (tenant, seq) index, stopping
/// at the page's end.
fn push_filter_search(qb: &mut QueryBuilder<Sqlite>, tenant_id: &str, q: &SearchQuery, limit: i64) {
    qb.push("SELECT c.id, c.seq, 0 AS score FROM candidates c INDEXED BY candidates_tenant_seq WHERE c.tenant_id = ")
        .push_bind(tenant_id.to_string());
    push_search_filters(qb, q);
    if let Some((_, seq)) = q.after() {
        qb.push(" AND c.seq < ").push_bind(seq);
    }
    qb.push(" ORDER BY c.seq DESC LIMIT ").push_bind(limit);
}

/// The candidates scoring exactly `score`, newest first: FTS5 evaluates the tier's query in
/// descending rowid (= seq) order, so the scan stops after `limit` candidates pass the filters.
fn push_tier_search(
    qb: &mut QueryBuilder<Sqlite>,
    tenant_id: &str,
    q: &SearchQuery,
    fts: String,
    score: i64,
    below: Option<i64>,
    limit: i64,
) {
    qb.push("SELECT c.id, c.seq, ")
        .push_bind(score)
        .push(" AS score FROM candidate_search f CROSS JOIN candidates c ON c.seq = f.rowid WHERE candidate_search MATCH ")
        .push_bind(fts)
        .push(" AND c.tenant_id = ")
        .push_bind(tenant_id.to_string());
    push_search_filters(qb, q);
    if let Some(seq) = below {
        qb.push(" AND f.rowid < ").push_bind(seq);
    }
    qb.push(" ORDER BY f.rowid DESC LIMIT ").push_bind(limit);
}

/// The (term, field) pairs of `skills` and `titles` that no row of the index matches. FTS5
/// tests a field by reading the term's whole list of rows, whichever field they are in, so a
/// tier's conjunction that needs an absent pair costs as much as a dense one; with several
/// terms there are many such conjunctions, and one query answering them all is cheaper.
async fn absent_fields(
    pool: &sqlx::SqlitePool,
    q: &SearchQuery,
) -> StoreResult<Vec<(usize, Field)>> {
    let pairs: Vec<(usize, Field)> = (0..q.terms.len())
        .flat_map(|i| [(i, Field::Skills), (i, Field::Titles)])
        .collect();
    let mut qb = QueryBuilder::new("SELECT ");
    for (n, (i, field)) in pairs.iter().enumerate() {
        let column = if *field == Field::Skills {
            "skills"
        } else {
            "titles"
        };
        qb.push(if n > 0 { ", " } else { "" })
            .push("EXISTS (SELECT 1 FROM candidate_search WHERE candidate_search MATCH ")
            .push_bind(format!("{{{column}}} : {}", q.terms[*i].fts5()))
            .push(format!(") AS p{n}"));
    }
    let row = qb.build().fetch_one(pool).await.or_store()?;
    let mut absent = Vec::new();
    for (n, pair) in pairs.into_iter().enumerate() {
        if row.int(&format!("p{n}"))? == 0 {
            absent.push(pair);
        }
    }
    Ok(absent)
}

/// Queries of many terms (see `MAX_TIERED_TERMS`): every match is scored, then sorted. Ranks
/// on the small columns only; the page's rows are read afterwards.
fn push_scored_search(qb: &mut QueryBuilder<Sqlite>, tenant_id: &str, q: &SearchQuery, limit: i64) {
    qb.push("SELECT * FROM (SELECT c.id, c.seq, ");
    for (i, t) in q.terms.iter().enumerate() {
        if i > 0 {
            qb.push(" + ");
        }
        qb.push("CASE WHEN f.rowid IN (SELECT rowid FROM candidate_search WHERE candidate_search MATCH ")
            .push_bind(format!("{{skills}} : {}", t.fts5()))
            .push(") THEN 3 WHEN f.rowid IN (SELECT rowid FROM candidate_search WHERE candidate_search MATCH ")
            .push_bind(format!("{{titles}} : {}", t.fts5()))
            .push(") THEN 2 ELSE 1 END");
    }
    qb.push(" AS score FROM candidate_search f CROSS JOIN candidates c ON c.seq = f.rowid WHERE candidate_search MATCH ")
        .push_bind(format!("{{doc}} : ({})", q.fts5()))
        .push(" AND c.tenant_id = ")
        .push_bind(tenant_id.to_string());
    push_search_filters(qb, q);
    qb.push(") s");
    if let Some((score, seq)) = q.after() {
        qb.push(" WHERE (s.score < ")
            .push_bind(score)
            .push(" OR (s.score = ")
            .push_bind(score)
            .push(" AND s.seq < ")
            .push_bind(seq)
            .push("))");
    }
    qb.push(" ORDER BY s.score DESC, s.seq DESC LIMIT ")
        .push_bind(limit);
}

/// (id, seq, score) rows of a search, best first, up to `limit`.
async fn ranked(
    pool: &sqlx::SqlitePool,
    tenant_id: &str,
    q: &SearchQuery,
    limit: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    let mut out = Vec::new();
    let run = async |qb: &mut QueryBuilder<Sqlite>| -> StoreResult<Vec<(String, i64, i64)>> {
        qb.build()
            .fetch_all(pool)
            .await
            .or_store()?
            .iter()
            .map(|r| Ok((r.text("id")?, r.int("seq")?, r.int("score")?)))
            .collect()
    };
    if q.terms.is_empty() {
        let mut qb = QueryBuilder::new("");
        push_filter_search(&mut qb, tenant_id, q, limit);
        out = run(&mut qb).await?;
    } else if q.tiered() {
        // Absent fields are looked for once the first tier has not filled the page, and only
        // with two terms or more: one term has three tiers at most, each a single conjunction.
        let mut absent = None;
        for (n, (score, below)) in q.tiers().into_iter().enumerate() {
            if n == 1 && q.terms.len() > 1 {
                absent = Some(absent_fields(pool, q).await?);
            }
            let fts = q.fts5_tier(score, absent.as_deref().unwrap_or_default());
            if fts.is_empty() {
                continue;
            }
            let mut qb = QueryBuilder::new("");
            push_tier_search(
                &mut qb,
                tenant_id,
                q,
                fts,
                score,
                below,
                limit - out.len() as i64,
            );
            out.extend(run(&mut qb).await?);
            if out.len() as i64 >= limit {
                break;
            }
        }
    } else {
        let mut qb = QueryBuilder::new("");
        push_scored_search(&mut qb, tenant_id, q, limit);
        out = run(&mut qb).await?;
    }
    Ok(out)
}

#[async_trait]
impl CandidateStore for SqliteStore {
    async fn search_candidates(
        &self,
        tenant_id: &str,
        q: &SearchQuery,
    ) -> StoreResult<Page<(Candidate, i64)>> {
        let ranked = ranked(&self.read, tenant_id, q, i64::from(q.page.limit) + 1).await?;
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
            for r in qb.build().fetch_all(&self.read).await.or_store()? {
                let c = candidate_from_row(&r)?;
                rows.insert(c.id.clone(), c);
            }
        }
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
        let mut qb = QueryBuilder::new(
            "SELECT candidate_id, text FROM documents WHERE parse_status = 'parsed' AND text IS NOT NULL AND tenant_id = ",
        );
        qb.push_bind(tenant_id.to_string())
            .push(" AND candidate_id IN (");
        let mut list = qb.separated(", ");
        for id in candidate_ids {
            list.push_bind(id.clone());
        }
        qb.push(") ORDER BY candidate_id, updated_at DESC, id DESC");
        let rows = qb.build().fetch_all(&self.read).await.or_store()?;
        let mut out: Vec<(String, String)> = Vec::new();
        for r in &rows {
            let id = r.text("candidate_id")?;
            if out.last().is_none_or(|(last, _)| *last != id) {
                out.push((id, r.text("text")?));
            }
        }
        Ok(out)
    }

    async fn candidate(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Candidate>> {
        let row = sqlx::query("SELECT * FROM candidates WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.read)
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
        let rows = qb.build().fetch_all(&self.read).await.or_store()?;
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
                    .fetch_one(&self.read)
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
            .fetch_optional(&self.read)
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
            .fetch_all(&self.read)
            .await
            .or_store()?;
        rows.iter().map(document_from_row).collect()
    }

    async fn document_content(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT c.content FROM document_contents c JOIN documents d ON d.id = c.document_id WHERE d.id = $1 AND d.tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.map(|r| r.try_get::<Vec<u8>, _>("content").or_store())
            .transpose()
    }
}

#[async_trait]
impl OperationStore for SqliteStore {
    async fn operation(
        &self,
        tenant_id: &str,
        reference_id: &str,
    ) -> StoreResult<Option<StoredOperation>> {
        let row =
            sqlx::query("SELECT * FROM operations WHERE reference_id = $1 AND tenant_id = $2")
                .bind(reference_id)
                .bind(tenant_id)
                .fetch_optional(&self.read)
                .await
                .or_store()?;
        row.as_ref().map(operation_from_row).transpose()
    }
}
