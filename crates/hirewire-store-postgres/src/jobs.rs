//! Jobs.

use async_trait::async_trait;
use hirewire_core::model::{ApplyMethod, EmploymentType, Job, JobQuery, JobStatus, RemoteType};
use hirewire_core::page::Page;
use hirewire_core::store::{JobStore, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) fn job_from_row(r: &PgRow) -> StoreResult<Job> {
    Ok(Job {
        id: r.text("id")?,
        title: r.text("title")?,
        reference: r.text_opt("reference")?,
        description: r.text_opt("description")?,
        city: r.text_opt("city")?,
        country: r.text_opt("country")?,
        employment_type: r.parsed_opt("employment_type", EmploymentType::parse)?,
        remote_type: r.parsed_opt("remote_type", RemoteType::parse)?,
        apply_method: r.parsed_opt("apply_method", ApplyMethod::parse)?,
        apply_email: r.text_opt("apply_email")?,
        apply_url: r.text_opt("apply_url")?,
        skills: r.json("skills")?,
        min_experience_years: r.try_get("min_experience_years").or_store()?,
        scoring_weights: r.json_opt("scoring_weights")?,
        status: r.parsed("status", JobStatus::parse)?,
        posted_at: r.time_opt("posted_at")?,
        expires_at: r.time_opt("expires_at")?,
        closed_at: r.time_opt("closed_at")?,
        revision: r.int("revision")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &JobQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if !q.statuses.is_empty() {
        qb.push(" AND status IN (");
        let mut list = qb.separated(", ");
        for s in &q.statuses {
            list.push_bind(s.as_str());
        }
        qb.push(")");
    }
    let exact = [
        (
            "employment_type",
            q.employment_type.map(|v| v.as_str().to_string()),
        ),
        ("remote_type", q.remote_type.map(|v| v.as_str().to_string())),
        ("country", q.country.clone()),
        ("city", q.city.clone()),
        ("reference", q.reference.clone()),
    ];
    for (col, value) in exact {
        if let Some(v) = value {
            qb.push(format!(" AND {col} = ")).push_bind(v);
        }
    }
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn job(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>> {
        let query = sqlx::query("SELECT * FROM jobs WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id);
        let row = self.direct.fetch_optional(query).await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, tenant_id: &str, q: &JobQuery) -> StoreResult<Page<Job>> {
        let mut qb = QueryBuilder::new("SELECT * FROM jobs");
        push_filters(&mut qb, tenant_id, q);
        push_keyset(
            &mut qb,
            q.sort.as_str(),
            q.descending,
            q.page.after.as_ref(),
            q.page.limit,
        );
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        let jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM jobs");
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
        Ok(Page::from_rows(jobs, q.page.limit, total, |j| {
            q.cursor_of(j)
        }))
    }
}
