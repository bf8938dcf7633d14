//! Evaluations, what rankings read, and review items.

use async_trait::async_trait;
use hirewire_core::model::Candidate;
use hirewire_core::model::application::ApplicationStatus;
use hirewire_core::model::evaluation::{
    Evaluation, EvaluationDetails, EvaluationQuery, EvaluationSummary, EvaluationTrigger, Review,
    ReviewKind, ReviewQuery, ReviewResolution, ReviewStatus,
};
use hirewire_core::page::Page;
use hirewire_core::store::{EvaluationStore, StoreResult};
use hirewire_scoring::Band;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::candidates::candidate_from_row;
use crate::rows::{OrStore, RowExt, push_keyset};

fn evaluation_from_row(r: &PgRow) -> StoreResult<Evaluation> {
    let details: EvaluationDetails = r.json("details")?;
    Ok(Evaluation {
        id: r.text("id")?,
        candidate_id: r.text("candidate_id")?,
        job_id: r.text("job_id")?,
        application_id: r.text_opt("application_id")?,
        score: u8::try_from(r.try_get::<i32, _>("score").or_store()?).unwrap_or(0),
        band: r.parsed("band", Band::parse)?,
        dimensions: details.dimensions,
        matched_skills: details.matched_skills,
        missing_skills: details.missing_skills,
        rationale: details.rationale,
        confidence: r.try_get("confidence").or_store()?,
        evaluator: r.text("evaluator")?,
        model_version: r.text("model_version")?,
        trigger: r.parsed("triggered_by", EvaluationTrigger::parse)?,
        reference_id: r.text_opt("reference_id")?,
        created_at: r.time("created_at")?,
    })
}

fn review_from_row(r: &PgRow) -> StoreResult<Review> {
    Ok(Review {
        id: r.text("id")?,
        kind: r.parsed("kind", ReviewKind::parse)?,
        status: r.parsed("status", ReviewStatus::parse)?,
        subject_type: r.text("subject_type")?,
        subject_id: r.text("subject_id")?,
        candidate_id: r.text_opt("candidate_id")?,
        job_id: r.text_opt("job_id")?,
        application_id: r.text_opt("application_id")?,
        reason: r.text("reason")?,
        details: r.json("details")?,
        resolution: r.parsed_opt("resolution", ReviewResolution::parse)?,
        resolution_note: r.text_opt("resolution_note")?,
        resolved_by_key_id: r.text_opt("resolved_by_key_id")?,
        resolved_by_user_id: r.text_opt("resolved_by_user_id")?,
        resolved_at: r.time_opt("resolved_at")?,
        revision: r.int("revision")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) async fn set_application_evaluation(
    conn: &mut PgConnection,
    tenant_id: &str,
    application_id: &str,
    e: &EvaluationSummary,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE applications SET evaluation_id = $3, score = $4, band = $5, confidence = $6, evaluated_at = $7 \
         WHERE id = $1 AND tenant_id = $2",
    )
    .bind(application_id)
    .bind(tenant_id)
    .bind(&e.id)
    .bind(i32::from(e.score))
    .bind(e.band.as_str())
    .bind(e.confidence)
    .bind(e.created_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn mark_applications_for_evaluation(
    conn: &mut PgConnection,
    tenant_id: &str,
    candidate_id: &str,
    reference_id: &str,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE applications SET evaluation_reference_id = $3 WHERE tenant_id = $1 AND candidate_id = $2 \
         AND job_id IN (SELECT id FROM jobs WHERE tenant_id = $1 AND status IN ('draft', 'active'))",
    )
    .bind(tenant_id)
    .bind(candidate_id)
    .bind(reference_id)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(done.rows_affected())
}

pub(crate) async fn insert_evaluation(
    conn: &mut PgConnection,
    tenant_id: &str,
    e: &Evaluation,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO evaluations (id, tenant_id, candidate_id, job_id, application_id, score, band, confidence, evaluator, \
         model_version, triggered_by, reference_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&e.id)
    .bind(tenant_id)
    .bind(&e.candidate_id)
    .bind(&e.job_id)
    .bind(&e.application_id)
    .bind(i32::from(e.score))
    .bind(e.band.as_str())
    .bind(e.confidence)
    .bind(&e.evaluator)
    .bind(&e.model_version)
    .bind(e.trigger.as_str())
    .bind(&e.reference_id)
    .bind(Json(e.details()))
    .bind(e.created_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn lock_open_review(
    conn: &mut PgConnection,
    tenant_id: &str,
    kind: ReviewKind,
    candidate_id: &str,
    job_id: &str,
) -> StoreResult<Option<Review>> {
    let row = sqlx::query(
        "SELECT * FROM reviews WHERE tenant_id = $1 AND kind = $2 AND candidate_id = $3 AND job_id = $4 AND status = 'open' FOR UPDATE",
    )
    .bind(tenant_id)
    .bind(kind.as_str())
    .bind(candidate_id)
    .bind(job_id)
    .fetch_optional(&mut *conn)
    .await
    .or_store()?;
    row.as_ref().map(review_from_row).transpose()
}

pub(crate) async fn lock_review(
    conn: &mut PgConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<Review>> {
    let row = sqlx::query("SELECT * FROM reviews WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
    row.as_ref().map(review_from_row).transpose()
}

pub(crate) async fn insert_review(
    conn: &mut PgConnection,
    tenant_id: &str,
    r: &Review,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO reviews (id, tenant_id, kind, status, subject_type, subject_id, candidate_id, job_id, application_id, reason, \
         details, resolution, resolution_note, resolved_by_key_id, resolved_by_user_id, resolved_at, revision, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&r.id)
    .bind(tenant_id)
    .bind(r.kind.as_str())
    .bind(r.status.as_str())
    .bind(&r.subject_type)
    .bind(&r.subject_id)
    .bind(&r.candidate_id)
    .bind(&r.job_id)
    .bind(&r.application_id)
    .bind(&r.reason)
    .bind(Json(&r.details))
    .bind(r.resolution.map(|v| v.as_str()))
    .bind(&r.resolution_note)
    .bind(&r.resolved_by_key_id)
    .bind(&r.resolved_by_user_id)
    .bind(r.resolved_at)
    .bind(r.revision)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(())
}

pub(crate) async fn update_review(
    conn: &mut PgConnection,
    tenant_id: &str,
    r: &Review,
    previous_revision: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE reviews SET status = $3, subject_id = $4, application_id = $5, reason = $6, details = $7, resolution = $8, \
         resolution_note = $9, resolved_by_key_id = $10, resolved_by_user_id = $11, resolved_at = $12, revision = $13, updated_at = $14 \
         WHERE id = $1 AND tenant_id = $2 AND revision = $15",
    )
    .bind(&r.id)
    .bind(tenant_id)
    .bind(r.status.as_str())
    .bind(&r.subject_id)
    .bind(&r.application_id)
    .bind(&r.reason)
    .bind(Json(&r.details))
    .bind(r.resolution.map(|v| v.as_str()))
    .bind(&r.resolution_note)
    .bind(&r.resolved_by_key_id)
    .bind(&r.resolved_by_user_id)
    .bind(r.resolved_at)
    .bind(r.revision)
    .bind(r.updated_at)
    .bind(previous_revision)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(done.rows_affected() == 1)
}

fn push_evaluation_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &EvaluationQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(c) = &q.candidate_id {
        qb.push(" AND candidate_id = ").push_bind(c.clone());
    }
    if let Some(j) = &q.job_id {
        qb.push(" AND job_id = ").push_bind(j.clone());
    }
    if let Some(a) = &q.application_id {
        qb.push(" AND application_id = ").push_bind(a.clone());
    }
}

fn push_review_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &ReviewQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(s) = q.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(k) = q.kind {
        qb.push(" AND kind = ").push_bind(k.as_str());
    }
    if let Some(c) = &q.candidate_id {
        qb.push(" AND candidate_id = ").push_bind(c.clone());
    }
    if let Some(j) = &q.job_id {
        qb.push(" AND job_id = ").push_bind(j.clone());
    }
}

/// Pushes `(?, ?, …)` binding every id.
fn push_id_list(qb: &mut QueryBuilder<Postgres>, ids: &[String]) {
    qb.push("(");
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(id.clone());
    }
    qb.push(")");
}

#[async_trait]
impl EvaluationStore for PostgresStore {
    async fn evaluation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Evaluation>> {
        let row = sqlx::query("SELECT * FROM evaluations WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.as_ref().map(evaluation_from_row).transpose()
    }

    async fn list_evaluations(
        &self,
        tenant_id: &str,
        q: &EvaluationQuery,
    ) -> StoreResult<Page<Evaluation>> {
        let mut qb = QueryBuilder::new("SELECT * FROM evaluations");
        push_evaluation_filters(&mut qb, tenant_id, q);
        push_keyset(
            &mut qb,
            "created_at",
            true,
            q.page.after.as_ref(),
            q.page.limit,
        );
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        let items = rows
            .iter()
            .map(evaluation_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM evaluations");
            push_evaluation_filters(&mut count, tenant_id, q);
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
        Ok(Page::from_rows(
            items,
            q.page.limit,
            total,
            EvaluationQuery::cursor_of,
        ))
    }

    async fn candidates_by_ids(
        &self,
        tenant_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Candidate>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::new("SELECT * FROM candidates WHERE tenant_id = ");
        qb.push_bind(tenant_id.to_string()).push(" AND id IN ");
        push_id_list(&mut qb, ids);
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        rows.iter().map(candidate_from_row).collect()
    }

    async fn job_applicants(
        &self,
        tenant_id: &str,
        job_id: &str,
    ) -> StoreResult<Vec<(String, String, ApplicationStatus)>> {
        let rows = sqlx::query(
            "SELECT candidate_id, id, status FROM applications WHERE tenant_id = $1 AND job_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant_id)
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
        .or_store()?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.text("candidate_id")?,
                    r.text("id")?,
                    r.parsed("status", ApplicationStatus::parse)?,
                ))
            })
            .collect()
    }

    async fn count_candidates(&self, tenant_id: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM candidates WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&self.pool)
            .await
            .or_store()?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn candidates_by_skills(
        &self,
        tenant_id: &str,
        keys: &[(String, f64)],
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::new("WITH wanted (skill, w) AS (VALUES ");
        let mut list = qb.separated(", ");
        for (key, w) in keys {
            list.push("(")
                .push_bind_unseparated(key.clone())
                .push_unseparated("::text, ")
                .push_bind_unseparated(*w)
                .push_unseparated("::float8)");
        }
        qb.push(
            ") SELECT s.candidate_id FROM candidate_skills s JOIN wanted ON wanted.skill = s.skill WHERE s.tenant_id = ",
        )
        .push_bind(tenant_id.to_string())
        .push(" GROUP BY s.candidate_id ORDER BY SUM(wanted.w) DESC, s.candidate_id DESC LIMIT ")
        .push_bind(i64::from(limit));
        qb.build_query_scalar()
            .fetch_all(&self.pool)
            .await
            .or_store()
    }

    async fn recent_candidates(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT id FROM candidates WHERE tenant_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2",
        )
        .bind(tenant_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .or_store()
    }

    async fn review(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Review>> {
        let row = sqlx::query("SELECT * FROM reviews WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.as_ref().map(review_from_row).transpose()
    }

    async fn list_reviews(&self, tenant_id: &str, q: &ReviewQuery) -> StoreResult<Page<Review>> {
        let mut qb = QueryBuilder::new("SELECT * FROM reviews");
        push_review_filters(&mut qb, tenant_id, q);
        push_keyset(
            &mut qb,
            "created_at",
            true,
            q.page.after.as_ref(),
            q.page.limit,
        );
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        let items = rows
            .iter()
            .map(review_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM reviews");
            push_review_filters(&mut count, tenant_id, q);
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
        Ok(Page::from_rows(
            items,
            q.page.limit,
            total,
            ReviewQuery::cursor_of,
        ))
    }
}
