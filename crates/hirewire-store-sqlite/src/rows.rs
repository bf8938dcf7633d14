//! Conversions between SQLite values and domain values.

use chrono::{DateTime, SecondsFormat, Utc};
use hirewire_core::StoreError;
use hirewire_core::store::StoreResult;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Turns any error into a [`StoreError`].
pub(crate) trait OrStore<T> {
    fn or_store(self) -> StoreResult<T>;
}

impl<T, E: std::fmt::Display> OrStore<T> for Result<T, E> {
    fn or_store(self) -> StoreResult<T> {
        self.map_err(StoreError::new)
    }
}

/// The stored form of a timestamp: fixed width, so text order is time order.
pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn ts_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(ts)
}

fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_store()
}

/// Typed reads from a row, with the conversions our columns need. Implemented for sqlx's rows
/// and for rusqlite's (the statements that run inline, see `inline`), so that one mapping
/// function per table serves both.
pub(crate) trait RowExt {
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn float_opt(&self, col: &str) -> StoreResult<Option<f64>>;

    fn text(&self, col: &str) -> StoreResult<String> {
        self.text_opt(col)?
            .ok_or_else(|| StoreError(format!("unexpected NULL in column {col}")))
    }
    fn time(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        parse_ts(&self.text(col)?)
    }
    fn time_opt(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.text_opt(col)?.as_deref().map(parse_ts).transpose()
    }
    fn json<T: DeserializeOwned>(&self, col: &str) -> StoreResult<T> {
        serde_json::from_str(&self.text(col)?).or_store()
    }
    fn json_opt<T: DeserializeOwned>(&self, col: &str) -> StoreResult<Option<T>> {
        match self.text_opt(col)? {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t).or_store(),
        }
    }
    fn parsed<T>(&self, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
        let s = self.text(col)?;
        parse(&s).ok_or_else(|| StoreError(format!("unexpected value `{s}` in column {col}")))
    }
    fn parsed_opt<T>(&self, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<Option<T>> {
        match self.text_opt(col)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| StoreError(format!("unexpected value `{s}` in column {col}"))),
        }
    }
}

impl RowExt for SqliteRow {
    fn text(&self, col: &str) -> StoreResult<String> {
        self.try_get(col).or_store()
    }
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>> {
        self.try_get(col).or_store()
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.try_get(col).or_store()
    }
    fn float_opt(&self, col: &str) -> StoreResult<Option<f64>> {
        self.try_get(col).or_store()
    }
}

/// Appends the keyset condition for `cursor` and the matching `ORDER BY … LIMIT`, so that a
/// page starts strictly after the last item of the previous one.
pub(crate) fn push_keyset(
    qb: &mut sqlx::QueryBuilder<sqlx::Sqlite>,
    column: &'static str,
    descending: bool,
    cursor: Option<&hirewire_core::page::Cursor>,
    limit: u32,
) {
    use hirewire_core::page::SortValue;
    let op = if descending { "<" } else { ">" };
    if let Some(c) = cursor {
        match &c.value {
            SortValue::Int(v) => {
                qb.push(format!(" AND ({column} {op} ")).push_bind(*v);
                qb.push(format!(" OR ({column} = ")).push_bind(*v);
            }
            SortValue::Time(_) | SortValue::Text(_) => {
                let value = match &c.value {
                    SortValue::Time(t) => ts(t),
                    SortValue::Text(s) => s.clone(),
                    SortValue::Int(v) => v.to_string(),
                };
                qb.push(format!(" AND ({column} {op} "))
                    .push_bind(value.clone());
                qb.push(format!(" OR ({column} = ")).push_bind(value);
            }
        }
        qb.push(format!(" AND id {op} "))
            .push_bind(c.id.clone())
            .push("))");
    }
    let dir = if descending { "DESC" } else { "ASC" };
    qb.push(format!(" ORDER BY {column} {dir}, id {dir} LIMIT "))
        .push_bind(i64::from(limit) + 1);
}
