//! Authentication: API keys by hash, cached briefly, with scopes, expiry, revocation,
//! approval, IP allowlists and a cheap `last_used_at`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use hirewire_core::Actor;
use hirewire_core::model::key::{hash_secret, looks_like_key};
use hirewire_core::model::{KeyStatus, StoredKey};
use hirewire_core::store::Store;
use ipnet::IpNet;

use crate::http::error::{ApiError, Code};
use crate::http::extract::Auth;
use crate::http::request_id::{self, RequestId};
use crate::state::AppState;

const MAX_CACHED: usize = 100_000;

/// Keys looked up by hash, kept for a few seconds so that a busy client costs no query per
/// request. Unknown hashes are cached too, so a flood of bad keys cannot hammer the database.
pub struct KeyCache {
    entries: DashMap<String, (Option<Arc<StoredKey>>, Instant)>,
    ttl: Duration,
    /// Last use per key id, flushed to the store in batches.
    used: DashMap<String, DateTime<Utc>>,
}

impl KeyCache {
    /// A cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: DashMap::new(),
            ttl,
            used: DashMap::new(),
        }
    }

    async fn lookup(
        &self,
        store: &dyn Store,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<StoredKey>>, ApiError> {
        if let Some(entry) = self.entries.get(hash)
            && entry.1.elapsed() < self.ttl
        {
            return Ok(entry.0.clone());
        }
        let found = store
            .key_by_hash(hash, now)
            .await
            .map_err(ApiError::internal)?
            .map(Arc::new);
        if self.entries.len() >= MAX_CACHED {
            self.entries.clear();
        }
        self.entries
            .insert(hash.to_string(), (found.clone(), Instant::now()));
        Ok(found)
    }

    /// Forgets every cached lookup of a key, after this process changed it.
    pub fn invalidate_key(&self, key_id: &str) {
        self.entries
            .retain(|_, (k, _)| k.as_ref().is_none_or(|k| k.key.id != key_id));
    }

    /// Takes the uses recorded since the last call.
    pub fn drain_uses(&self) -> Vec<(String, DateTime<Utc>)> {
        let ids: Vec<String> = self.used.iter().map(|e| e.key().clone()).collect();
        ids.into_iter()
            .filter_map(|id| self.used.remove(&id))
            .collect()
    }
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    headers.get("x-api-key")?.to_str().ok().map(str::trim)
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    while let Some(ip) = chain.pop() {
        if !is_trusted(&ip) {
            return ip;
        }
    }
    peer
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().chars().take(200).collect::<String>())
        .filter(|s| !s.is_empty())
}

/// The tenant and key of an authenticated request, put into the response for the audit layer.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub tenant_id: String,
    pub key_id: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub trace_id: Option<String>,
    pub ip: IpAddr,
}

/// Authenticates every request under `/api/v1` that needs a key.
pub async fn middleware(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(plaintext) = presented_key(req.headers()).filter(|k| looks_like_key(k)) else {
        return ApiError::Unauthorized.into_response();
    };
    let now = hirewire_core::time::now();
    let hash = hash_secret(plaintext);
    let stored = match app.keys.lookup(app.store.as_ref(), &hash, now).await {
        Ok(Some(k)) if k.accepts(&hash, now) && k.effective_status(now) == KeyStatus::Active => k,
        Ok(_) => return ApiError::Unauthorized.into_response(),
        Err(e) => return e.into_response(),
    };
    let ip = client_ip(peer.ip(), req.headers(), &app.config.trusted_proxies);
    let headers = req.headers();
    let authed = Authenticated {
        tenant_id: stored.tenant_id.clone(),
        key_id: stored.key.id.clone(),
        user_id: header_text(headers, "x-ats-user-id"),
        client_id: header_text(headers, "x-ats-client-id"),
        trace_id: request_id::trace_id(headers.get("traceparent").and_then(|v| v.to_str().ok())),
        ip,
    };
    if !stored.key.allowed_ips.is_empty() && !stored.key.allowed_ips.iter().any(|n| n.contains(&ip))
    {
        // Refused, but the key is known: the refusal belongs in the tenant's audit trail.
        let mut res = ApiError::new(
            Code::IpNotAllowed,
            format!("This key may not be used from {ip}."),
        )
        .into_response();
        res.extensions_mut().insert(authed);
        return res;
    }
    app.keys.used.insert(stored.key.id.clone(), now);
    let actor = Actor {
        tenant_id: authed.tenant_id.clone(),
        key_id: Some(authed.key_id.clone()),
        user_id: authed.user_id.clone(),
        client_id: authed.client_id.clone(),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        trace_id: authed.trace_id.clone(),
        reference_id: None,
    };
    req.extensions_mut().insert(Auth {
        key_id: stored.key.id.clone(),
        scopes: stored.key.scopes.clone(),
        actor,
    });
    req.extensions_mut().insert(authed.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(authed);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
    }
}
