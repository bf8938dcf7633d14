//! `/api/v1/skills`: the skills taxonomy, for normalising and autocompleting skill names.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Auth};

/// A skill of the taxonomy.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillItem {
    /// The canonical name, the one profiles and jobs should use.
    pub name: String,
    pub category: String,
    /// Synonyms and abbreviations that mean this skill.
    pub aliases: Vec<String>,
}

/// Skills matching a query, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillList {
    pub items: Vec<SkillItem>,
}

/// What to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SkillParams {
    /// What the user typed: a name, an abbreviation (`k8s`) or the start of one (`kube`).
    #[param(example = "k8s")]
    q: String,
    /// How many, 1–50 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
}

/// Normalise and autocomplete a skill: an exact name or synonym comes first (`k8s` →
/// Kubernetes, `Postgres` → PostgreSQL), then names that start with the query.
#[utoipa::path(get, path = "/api/v1/skills", tag = "skills", params(SkillParams), responses((status = 200, description = "Matching skills, best first.", body = SkillList)), security(("api_key" = [])))]
pub async fn list_skills(
    _auth: Auth,
    ApiQuery(params): ApiQuery<SkillParams>,
) -> ApiResult<Json<SkillList>> {
    let limit = match params.limit.as_deref() {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_query(
                    "limit",
                    format!("`limit` must be from 1 to 50; got `{l}`."),
                )
            })?,
    };
    let q = params.q.trim();
    if q.is_empty() || q.chars().count() > 100 {
        return Err(ApiError::invalid_query(
            "q",
            "`q` must have 1 to 100 characters.",
        ));
    }
    let taxonomy = hirewire_taxonomy::Taxonomy::global();
    let items = taxonomy
        .search(q, limit)
        .into_iter()
        .map(|s| SkillItem {
            name: s.name.to_string(),
            category: s.category.to_string(),
            aliases: s.aliases.iter().map(|a| a.to_string()).collect(),
        })
        .collect();
    Ok(Json(SkillList { items }))
}
