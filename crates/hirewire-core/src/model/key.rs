//! API keys: stored as hashes, scoped, expiring, revocable, rotatable.

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::scope::Scope;

/// The prefix of every key's plaintext, so that leaked keys are easy to scan for.
pub const KEY_PREFIX: &str = "hw_live_";
const SECRET_LEN: usize = 40;

/// The lifecycle state of a key as stored; `expired` is derived from `expires_at` on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Pending,
    Revoked,
    Expired,
}

impl KeyStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "pending" => Self::Pending,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

/// An API key as clients see it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the plaintext, to recognise a key without revealing it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub status: KeyStatus,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    /// CIDR ranges the key may be used from; empty means anywhere.
    #[schema(value_type = Vec<String>)]
    pub allowed_ips: Vec<IpNet>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Until this time the secret replaced by the last rotation still works.
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<DateTime<Utc>>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// A key with what the store keeps beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub tenant_id: String,
    pub key: ApiKey,
    pub hash: String,
    pub previous_hash: Option<String>,
}

impl StoredKey {
    /// The status a client sees at `now`: a stored `active` key past its expiry is `expired`.
    pub fn effective_status(&self, now: DateTime<Utc>) -> KeyStatus {
        match self.key.status {
            KeyStatus::Active | KeyStatus::Pending
                if self.key.expires_at.is_some_and(|e| e <= now) =>
            {
                KeyStatus::Expired
            }
            s => s,
        }
    }

    /// Whether `hash` authenticates this key at `now`: the current secret, or the one replaced
    /// by the last rotation while its grace period lasts.
    pub fn accepts(&self, hash: &str, now: DateTime<Utc>) -> bool {
        self.hash == hash
            || (self.previous_hash.as_deref() == Some(hash)
                && self.key.previous_secret_expires_at.is_some_and(|e| e > now))
    }

    /// The key as shown to clients at `now`.
    pub fn view(&self, now: DateTime<Utc>) -> ApiKey {
        ApiKey {
            status: self.effective_status(now),
            ..self.key.clone()
        }
    }
}

/// What a caller gives to create a key.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    #[serde(default, with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 100)]
    pub allowed_ips: Vec<IpNet>,
}

/// Filters for listing keys.
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    pub page: crate::page::PageRequest,
}

/// A fresh secret and its hash.
pub fn generate_secret() -> (String, String) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..SECRET_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let plaintext = format!("{KEY_PREFIX}{body}");
    let hash = hash_secret(&plaintext);
    (plaintext, hash)
}

/// The stored form of a key's plaintext. Keys carry 238 bits of randomness, so a plain
/// SHA-256 is enough: there is nothing to brute-force that a slow hash would protect.
pub fn hash_secret(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

/// Whether a presented credential is shaped like one of our keys; anything else is refused
/// without a lookup.
pub fn looks_like_key(s: &str) -> bool {
    s.strip_prefix(KEY_PREFIX).is_some_and(|body| {
        (16..=64).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The displayable start of a plaintext key.
pub fn display_prefix(plaintext: &str) -> String {
    plaintext.chars().take(KEY_PREFIX.len() + 4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_well_formed_and_distinct() {
        let (a, ha) = generate_secret();
        let (b, hb) = generate_secret();
        assert!(looks_like_key(&a) && looks_like_key(&b));
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert_eq!(hash_secret(&a), ha);
        assert!(!looks_like_key("hw_live_short"));
        assert!(!looks_like_key(&a.replace("hw_live_", "hw_test_")));
    }
}
