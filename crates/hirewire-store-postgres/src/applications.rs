//! Applications.

use async_trait::async_trait;
use hirewire_core::model::application::{
    Application, ApplicationQuery, ApplicationSource, ApplicationStatus,
};
use hirewire_core::model::evaluation::EvaluationSummary;
use hirewire_core::page::Page;
use hirewire_core::store::{ApplicationStore, StoreResult, WriteOutcome};
use hirewire_scoring::Band;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) fn application_from_row(r: &PgRow) -> StoreResult<Application> {
    Ok(Application {
        id: r.text("id")?,
        candidate_id: r.text("candidate_id")?,
        job_id: r.text("job_id")?,
        status: r.parsed("status", ApplicationStatus::parse)?,
        source: r.parsed("source", ApplicationSource::parse)?,
        rejection_reason: r.text_opt("rejection_reason")?,
        status_history: r.json("status_history")?,
        latest_evaluation: match r.text_opt("evaluation_id")? {
            None => None,
            Some(id) => Some(EvaluationSummary {
                id,
                score: u8::try_from(r.try_get::<i32, _>("score").or_store()?).unwrap_or(0),
                band: r.parsed("band", Band::parse)?,
                confidence: r.try_get("confidence").or_store()?,
                created_at: r.time("evaluated_at")?,
            }),
        },
        evaluation_reference_id: r.text_opt("evaluation_reference_id")?,
        revision: r.int("revision")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    tenant_id: &str,
    a: &Application,
) -> StoreResult<WriteOutcome> {
    let done = sqlx::query(
        "INSERT INTO applications (id, tenant_id, candidate_id, job_id, status, source, rejection_reason, status_history, revision, created_at, updated_at, evaluation_reference_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(&a.id)
    .bind(tenant_id)
    .bind(&a.candidate_id)
    .bind(&a.job_id)
    .bind(a.status.as_str())
    .bind(a.source.as_str())
    .bind(&a.rejection_reason)
    .bind(Json(&a.status_history))
    .bind(a.revision)
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(&a.evaluation_reference_id)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(if done.rows_affected() == 1 {
        WriteOutcome::Written
    } else {
        WriteOutcome::Duplicate
    })
}

pub(crate) async fn lock(
    conn: &mut PgConnection,
    tenant_id: &str,
    id: &str,
) -> StoreResult<Option<Application>> {
    let row = sqlx::query("SELECT * FROM applications WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await
        .or_store()?;
    row.as_ref().map(application_from_row).transpose()
}

pub(crate) async fn update(
    conn: &mut PgConnection,
    tenant_id: &str,
    a: &Application,
    previous_revision: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE applications SET status = $3, rejection_reason = $4, status_history = $5, revision = $6, updated_at = $7 \
         WHERE id = $1 AND tenant_id = $2 AND revision = $8",
    )
    .bind(&a.id)
    .bind(tenant_id)
    .bind(a.status.as_str())
    .bind(&a.rejection_reason)
    .bind(Json(&a.status_history))
    .bind(a.revision)
    .bind(a.updated_at)
    .bind(previous_revision)
    .execute(&mut *conn)
    .await
    .or_store()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    tenant_id: &str,
    candidate_id: &str,
    job_id: &str,
) -> StoreResult<Option<String>> {
    sqlx::query_scalar(
        "SELECT id FROM applications WHERE tenant_id = $1 AND candidate_id = $2 AND job_id = $3",
    )
    .bind(tenant_id)
    .bind(candidate_id)
    .bind(job_id)
    .fetch_optional(&mut *conn)
    .await
    .or_store()
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &ApplicationQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(j) = &q.job_id {
        qb.push(" AND job_id = ").push_bind(j.clone());
    }
    if let Some(c) = &q.candidate_id {
        qb.push(" AND candidate_id = ").push_bind(c.clone());
    }
    if !q.statuses.is_empty() {
        qb.push(" AND status IN (");
        let mut list = qb.separated(", ");
        for s in &q.statuses {
            list.push_bind(s.as_str());
        }
        qb.push(")");
    }
    if let Some(s) = q.source {
        qb.push(" AND source = ").push_bind(s.as_str());
    }
    if !q.bands.is_empty() {
        qb.push(" AND band IN (");
        let mut list = qb.separated(", ");
        for b in &q.bands {
            list.push_bind(b.as_str());
        }
        qb.push(")");
    }
    if let Some(m) = q.min_score {
        qb.push(" AND score >= ").push_bind(i32::from(m));
    }
}

#[async_trait]
impl ApplicationStore for PostgresStore {
    async fn application(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Application>> {
        let row = sqlx::query("SELECT * FROM applications WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
            .or_store()?;
        row.as_ref().map(application_from_row).transpose()
    }

    async fn list_applications(
        &self,
        tenant_id: &str,
        q: &ApplicationQuery,
    ) -> StoreResult<Page<Application>> {
        let mut qb = QueryBuilder::new("SELECT * FROM applications");
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
            .map(application_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM applications");
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
        Ok(Page::from_rows(items, q.page.limit, total, |a| {
            q.cursor_of(a)
        }))
    }
}
