//! Keyset pagination: a cursor names the last item seen, so concurrent inserts never make a
//! page skip or repeat an item.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest page a client may ask for.
pub const MAX_LIMIT: u32 = 200;
/// The page size when a client does not say.
pub const DEFAULT_LIMIT: u32 = 50;

/// The sort key of the last item of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Time(#[serde(with = "crate::time::rfc3339")] DateTime<Utc>),
    Int(i64),
    Text(String),
}

/// Where the next page starts: after the item with this sort value and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor was made for; a cursor is refused under another sort.
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "v")]
    pub value: SortValue,
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses a client's cursor; `None` if it was not made by us.
    pub fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        let c: Cursor = serde_json::from_slice(&bytes).ok()?;
        // Databases refuse NUL in text; a forged cursor must not reach a query with one.
        let text = match &c.value {
            SortValue::Text(t) => t.as_str(),
            SortValue::Time(_) | SortValue::Int(_) => "",
        };
        if [c.sort.as_str(), text, c.id.as_str()]
            .iter()
            .any(|s| s.contains('\0'))
        {
            return None;
        }
        // Numbers are only ever made for the score sort, and the score sort only makes
        // numbers: a forged cursor must not compare a column with a value of another type.
        let numeric = c.sort.trim_start_matches('-') == "score";
        if numeric != matches!(c.value, SortValue::Int(_)) {
            return None;
        }
        // Timestamps come back as text through the untagged enum; restore their type.
        Some(match c.value {
            SortValue::Text(t) if c.sort.trim_start_matches('-').ends_with("_at") => Cursor {
                value: SortValue::Time(DateTime::parse_from_rfc3339(&t).ok()?.with_timezone(&Utc)),
                ..c
            },
            _ => c,
        })
    }
}

/// What a client asked for: how many, starting where.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
    pub include_total: bool,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
            include_total: false,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more exist.
    pub fn from_rows(
        mut rows: Vec<T>,
        limit: u32,
        total: Option<i64>,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
            total,
        }
    }

    /// The same page with its items converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let t = crate::time::now();
        for c in [
            Cursor {
                sort: "-created_at".into(),
                value: SortValue::Time(t),
                id: "job_1".into(),
            },
            Cursor {
                sort: "title".into(),
                value: SortValue::Text("Zed's \"job\"".into()),
                id: "job_2".into(),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("not-a-cursor"), None);
        let forged = Cursor {
            sort: "title".into(),
            value: SortValue::Text("a\0".into()),
            id: "job_1".into(),
        };
        assert_eq!(Cursor::decode(&forged.encode()), None);
    }
}
