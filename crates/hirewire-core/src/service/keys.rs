//! Creating, revoking, rotating and approving API keys.

use chrono::{DateTime, Duration, Utc};

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::key::{display_prefix, generate_secret, hash_secret, looks_like_key};
use crate::model::{ApiKey, KeyStatus, NewKey, StoredKey};
use crate::scope::{Scope, allows};
use crate::service::{Change, record};
use crate::store::{Store, Tx};

/// The longest grace period a rotation may give the old secret.
pub const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;
/// The grace period when a rotation does not say.
pub const DEFAULT_GRACE_SECS: i64 = 24 * 3600;

/// Creates a key with a generated secret. `creator_scopes` is `None` for the CLI; an API
/// caller may only hand out scopes it holds itself.
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    creator_scopes: Option<&[Scope]>,
    input: NewKey,
) -> DomainResult<(ApiKey, String)> {
    create_with_secret(store, actor, creator_scopes, input, None).await
}

/// Creates a key, with the given plaintext when there is one (the bootstrap key).
pub async fn create_with_secret(
    store: &dyn Store,
    actor: &Actor,
    creator_scopes: Option<&[Scope]>,
    input: NewKey,
    secret: Option<&str>,
) -> DomainResult<(ApiKey, String)> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "a key name has 1 to 100 characters and no control characters",
        ));
    }
    if input.scopes.is_empty() {
        return Err(DomainError::invalid(
            "scopes",
            "a key needs at least one scope",
        ));
    }
    if input.allowed_ips.len() > 100 {
        return Err(DomainError::invalid(
            "allowed_ips",
            "at most 100 ranges are allowed",
        ));
    }
    if let Some(held) = creator_scopes
        && let Some(missing) = input.scopes.iter().find(|s| !allows(held, **s))
    {
        return Err(DomainError::InsufficientScope(missing.to_string()));
    }
    let tenant = store
        .tenant(&actor.tenant_id)
        .await?
        .ok_or(DomainError::NotFound("tenant"))?;
    let (plaintext, hash) = match secret {
        Some(s) if looks_like_key(s) => (s.to_string(), hash_secret(s)),
        Some(_) => {
            return Err(DomainError::invalid(
                "key",
                "a key must be `hw_live_` followed by 16 to 64 letters or digits",
            ));
        }
        None => generate_secret(),
    };
    let mut scopes = input.scopes;
    scopes.sort();
    scopes.dedup();
    // Only keys that name `cv_search` wait: admin keys belong to the people who approve.
    let status = if tenant.require_key_approval && scopes.contains(&Scope::CvSearch) {
        KeyStatus::Pending
    } else {
        KeyStatus::Active
    };
    let now = crate::time::now();
    let key = ApiKey {
        id: new_id(prefix::KEY),
        name,
        prefix: display_prefix(&plaintext),
        scopes,
        status,
        expires_at: input.expires_at,
        allowed_ips: input.allowed_ips,
        last_used_at: None,
        previous_secret_expires_at: None,
        revoked_at: None,
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    let stored = StoredKey {
        tenant_id: tenant.id.clone(),
        key,
        hash,
        previous_hash: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_key(&stored).await?;
    let change = Change {
        action: "key.created",
        entity_type: "key",
        entity_id: &stored.key.id,
        revision_before: None,
        revision_after: Some(1),
        event_data: None,
    };
    record(tx.as_mut(), actor, change).await?;
    tx.commit().await?;
    Ok((stored.view(now), plaintext))
}

/// Locks a key, applies `f` and writes it back with its audit record. `tenant_id: None`
/// reaches any tenant's key (the CLI).
async fn modify<T>(
    store: &dyn Store,
    actor: Option<&Actor>,
    caller_scopes: Option<&[Scope]>,
    id: &str,
    action: &'static str,
    f: impl FnOnce(&mut StoredKey, DateTime<Utc>) -> DomainResult<T>,
) -> DomainResult<(ApiKey, T)> {
    let tenant_id = match actor {
        Some(a) => a.tenant_id.clone(),
        None => {
            store
                .key(None, id)
                .await?
                .ok_or(DomainError::NotFound("key"))?
                .tenant_id
        }
    };
    let mut tx: Box<dyn Tx> = store.begin().await?;
    let mut stored = tx
        .lock_key(&tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("key"))?;
    check_outranks(caller_scopes, &stored.key.scopes)?;
    let now = crate::time::now();
    let before = stored.key.revision;
    let out = f(&mut stored, now)?;
    stored.key.revision += 1;
    stored.key.updated_at = now;
    tx.update_key(&stored).await?;
    let actor = actor.cloned().unwrap_or_else(|| Actor::system(&tenant_id));
    let change = Change {
        action,
        entity_type: "key",
        entity_id: id,
        revision_before: Some(before),
        revision_after: Some(stored.key.revision),
        event_data: None,
    };
    record(tx.as_mut(), &actor, change).await?;
    tx.commit().await?;
    Ok((stored.view(now), out))
}

/// A caller may only act on keys whose every scope it holds itself; otherwise a
/// `keys:manage` key could take over (rotate) or disable (revoke) an admin key.
fn check_outranks(caller_scopes: Option<&[Scope]>, target: &[Scope]) -> DomainResult<()> {
    match caller_scopes.and_then(|held| target.iter().find(|s| !allows(held, **s))) {
        Some(missing) => Err(DomainError::InsufficientScope(missing.to_string())),
        None => Ok(()),
    }
}

/// Revokes a key; it stops working at once (within the auth cache's lifetime elsewhere).
/// Revoking a revoked key changes nothing and answers it as it is.
pub async fn revoke(
    store: &dyn Store,
    actor: Option<&Actor>,
    caller_scopes: Option<&[Scope]>,
    id: &str,
) -> DomainResult<ApiKey> {
    if let Some(k) = store.key(actor.map(|a| a.tenant_id.as_str()), id).await?
        && k.key.status == KeyStatus::Revoked
    {
        check_outranks(caller_scopes, &k.key.scopes)?;
        return Ok(k.view(crate::time::now()));
    }
    let (key, ()) = modify(store, actor, caller_scopes, id, "key.revoked", |k, now| {
        k.key.status = KeyStatus::Revoked;
        k.key.revoked_at = Some(now);
        Ok(())
    })
    .await?;
    Ok(key)
}

/// Approves a key that is pending approval.
pub async fn approve(store: &dyn Store, actor: Option<&Actor>, id: &str) -> DomainResult<ApiKey> {
    let (key, ()) = modify(store, actor, None, id, "key.approved", |k, _| {
        if k.key.status != KeyStatus::Pending {
            return Err(DomainError::InvalidState(format!(
                "only a pending key can be approved; this key is {}",
                k.key.status.as_str()
            )));
        }
        k.key.status = KeyStatus::Active;
        Ok(())
    })
    .await?;
    Ok(key)
}

/// Gives a key a new secret; the old one keeps working for `grace_secs`.
pub async fn rotate(
    store: &dyn Store,
    actor: &Actor,
    caller_scopes: &[Scope],
    id: &str,
    grace_secs: Option<i64>,
) -> DomainResult<(ApiKey, String)> {
    let grace = grace_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(DomainError::invalid(
            "grace_period_seconds",
            format!("`grace_period_seconds` must be between 0 and {MAX_GRACE_SECS}"),
        ));
    }
    modify(
        store,
        Some(actor),
        Some(caller_scopes),
        id,
        "key.rotated",
        |k, now| {
            let status = k.effective_status(now);
            if matches!(status, KeyStatus::Revoked | KeyStatus::Expired) {
                return Err(DomainError::InvalidState(format!(
                    "a {} key cannot be rotated",
                    status.as_str()
                )));
            }
            let (plaintext, hash) = generate_secret();
            k.previous_hash = Some(std::mem::replace(&mut k.hash, hash));
            k.key.previous_secret_expires_at = Some(now + Duration::seconds(grace));
            k.key.prefix = display_prefix(&plaintext);
            Ok(plaintext)
        },
    )
    .await
}
