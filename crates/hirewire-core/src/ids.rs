//! Opaque, prefixed identifiers over UUIDv7 (`job_0193…`), sortable by creation time.

use uuid::Uuid;

/// The prefixes of every kind of id; a prefix tells a reader what an id points at.
pub mod prefix {
    pub const TENANT: &str = "ten";
    pub const KEY: &str = "key";
    pub const JOB: &str = "job";
    pub const EVENT: &str = "evt";
    pub const AUDIT: &str = "aud";
    pub const REQUEST: &str = "req";
    pub const WEBHOOK: &str = "whk";
    pub const DELIVERY: &str = "dlv";
    pub const ATTEMPT: &str = "att";
    pub const CANDIDATE: &str = "cand";
    pub const DOCUMENT: &str = "doc";
    pub const APPLICATION: &str = "app";
    pub const EVALUATION: &str = "eval";
    pub const REVIEW: &str = "rev";
}

/// A new id with the given prefix, e.g. `job_01936c2b5f8e7a0b9c1d2e3f40516273`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::now_v7().simple())
}

/// Whether `id` is shaped like an id of this prefix; used to answer 404 early without a query.
pub fn has_shape(prefix: &str, id: &str) -> bool {
    id.len() == prefix.len() + 33
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A bare UUIDv7 for `reference_id`s of asynchronous operations.
pub fn new_reference_id() -> String {
    Uuid::now_v7().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_shape() {
        let id = new_id(prefix::JOB);
        assert!(has_shape(prefix::JOB, &id), "{id}");
        assert!(!has_shape(prefix::KEY, &id));
        assert!(!has_shape(prefix::JOB, "job_123"));
        assert!(!has_shape(prefix::JOB, &id.to_uppercase()));
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = new_id(prefix::JOB);
        let b = new_id(prefix::JOB);
        assert!(a < b);
    }
}
