//! Creating tenants, and the first start of an empty installation.

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::{ApiKey, Tenant};
use crate::scope::Scope;
use crate::service::{Change, keys, record};
use crate::store::Store;

/// The name of the tenant that the first start creates.
pub const DEFAULT_TENANT: &str = "default";
/// The credits the first tenant starts with, so that a new user can publish at once.
pub const BOOTSTRAP_CREDITS: i64 = 100;

/// Creates a tenant with a unique name.
pub async fn create(
    store: &dyn Store,
    name: &str,
    credits: i64,
    require_key_approval: bool,
) -> DomainResult<Tenant> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "a tenant name has 1 to 100 characters and no control characters",
        ));
    }
    if credits < 0 {
        return Err(DomainError::invalid(
            "credits",
            "credits cannot be negative",
        ));
    }
    if let Some(t) = store.tenant_by_name(name).await? {
        return Err(DomainError::Duplicate {
            message: format!("a tenant named `{name}` already exists"),
            existing_id: Some(t.id),
        });
    }
    let tenant = Tenant {
        id: new_id(prefix::TENANT),
        name: name.to_string(),
        credits,
        require_key_approval,
        created_at: crate::time::now(),
    };
    let mut tx = store.begin().await?;
    tx.insert_tenant(&tenant).await?;
    let change = Change {
        action: "tenant.created",
        entity_type: "tenant",
        entity_id: &tenant.id,
        revision_before: None,
        revision_after: None,
        event_data: None,
    };
    record(tx.as_mut(), &Actor::system(&tenant.id), change).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// On an empty database, creates the `default` tenant and an admin key, using
/// `bootstrap_key` as its plaintext when given. Returns the key's plaintext, or `None` when
/// the database already had a tenant (or another process bootstrapped it first).
pub async fn bootstrap(
    store: &dyn Store,
    bootstrap_key: Option<&str>,
) -> DomainResult<Option<(ApiKey, String)>> {
    if store.count_tenants().await? > 0 {
        return Ok(None);
    }
    let tenant = match create(store, DEFAULT_TENANT, BOOTSTRAP_CREDITS, false).await {
        Ok(t) => t,
        Err(DomainError::Duplicate { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let input = crate::model::NewKey {
        name: "bootstrap admin".into(),
        scopes: vec![Scope::Admin],
        expires_at: None,
        allowed_ips: vec![],
    };
    let created = keys::create_with_secret(
        store,
        &Actor::system(&tenant.id),
        None,
        input,
        bootstrap_key,
    )
    .await?;
    Ok(Some(created))
}
