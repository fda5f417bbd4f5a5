//! Keyset paging for the decision trail: lists are ordered newest first by
//! `(created_at, id)`, and the cursor is the last row's key. Stable while
//! rows are inserted, and each page is an index range scan however deep.

use std::fmt::Display;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use shared::api::Page;
use shared::error::ApiError;
use sqlx::{Postgres, QueryBuilder};

use super::{ServiceError, ServiceResult};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Where the next page starts: strictly after this `(created_at, id)`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct After<K> {
    pub at: DateTime<Utc>,
    pub id: K,
}

impl<K: FromStr> After<K> {
    /// Decodes an opaque cursor from a previous page (none: first page).
    pub fn decode(cursor: Option<&str>) -> ServiceResult<Option<Self>> {
        let Some(c) = cursor else { return Ok(None) };
        let bad = || {
            ServiceError::from(ApiError::invalid(
                "cursor",
                "This page cursor is not valid; start from the first page.",
            ))
        };
        let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (micros, id) = text.split_once(':').ok_or_else(bad)?;
        let at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(bad)?;
        let id = id.parse().map_err(|_| bad())?;
        Ok(Some(After { at, id }))
    }
}

/// Appends the keyset condition (rows strictly after the cursor), the
/// newest-first order and `LIMIT limit + 1` to a query over table alias
/// `alias` whose `WHERE` clause is already open.
pub(super) fn push_page<'a, K>(
    q: &mut QueryBuilder<'a, Postgres>,
    alias: &str,
    after: Option<After<K>>,
    limit: i64,
) where
    K: 'a + sqlx::Encode<'a, Postgres> + sqlx::Type<Postgres>,
{
    if let Some(a) = after {
        q.push(format_args!(" AND ({alias}.created_at, {alias}.id) < ("))
            .push_bind(a.at)
            .push(", ")
            .push_bind(a.id)
            .push(")");
    }
    q.push(format_args!(
        " ORDER BY {alias}.created_at DESC, {alias}.id DESC LIMIT "
    ))
    .push_bind(limit + 1);
}

fn encode(at: DateTime<Utc>, id: impl Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.timestamp_micros()))
}

/// The page size asked for, within bounds.
pub(super) fn limit(asked: Option<u32>) -> i64 {
    i64::from(asked.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

/// Cuts `rows` (fetched with `LIMIT limit + 1`) to a page; the extra row,
/// when present, says there is a next page, whose cursor is the last kept
/// row's key.
pub(super) fn page<T, K: Display>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, K),
) -> Page<T> {
    let keep = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > keep {
        rows.truncate(keep);
        rows.last().map(|r| {
            let (at, id) = key(r);
            encode(at, id)
        })
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let c = encode(at, 42);
        assert_eq!(
            After::<i64>::decode(Some(&c)).unwrap(),
            Some(After { at, id: 42 })
        );
        assert!(After::<i64>::decode(Some("%%%")).is_err());
        assert!(After::<i64>::decode(Some(&URL_SAFE_NO_PAD.encode("nocolon"))).is_err());
        // A cursor of one list is not a cursor of another.
        assert!(After::<uuid::Uuid>::decode(Some(&c)).is_err());
        assert_eq!(After::<i64>::decode(None).unwrap(), None);
    }

    #[test]
    fn pages_cut_at_the_limit_and_point_past_the_last_row() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let rows: Vec<i64> = (0..3).collect();
        let p = page(rows.clone(), 2, |r| (at, *r));
        assert_eq!(p.items, vec![0, 1]);
        let next = After::<i64>::decode(p.next_cursor.as_deref())
            .unwrap()
            .unwrap();
        assert_eq!(next.id, 1);
        let last = page(rows, 3, |r| (at, *r));
        assert_eq!(last.next_cursor, None);
    }
}
