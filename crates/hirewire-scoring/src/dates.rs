//! Partial ISO dates ("2020", "2020-01", "2020-01-15") as month indexes, and the months a
//! set of intervals covers with overlaps counted once.

/// Months since year 0 of a partial date; a bare year means its first month, or its last
/// when `end` (a job that ended "2020" ran into 2020).
pub(crate) fn month_index(s: &str, end: bool) -> Option<i64> {
    let s = s.trim();
    let mut parts = s.split(['-', '/', '.']);
    let year: i64 = parts.next()?.trim().parse().ok()?;
    if !(1900..=2200).contains(&year) {
        return None;
    }
    let month = match parts.next().and_then(|m| m.trim().parse::<i64>().ok()) {
        Some(m) if (1..=12).contains(&m) => m,
        _ if end => 12,
        _ => 1,
    };
    Some(year * 12 + month - 1)
}

/// The month index of `as_of`.
pub(crate) fn now_index(as_of: (i32, u32)) -> i64 {
    as_of.0 as i64 * 12 + as_of.1.clamp(1, 12) as i64 - 1
}

/// Interval [start, end) in months of one position, `None` when its start is unknown.
pub(crate) fn interval(start: Option<&str>, end: Option<&str>, now: i64) -> Option<(i64, i64)> {
    let a = month_index(start?, false)?;
    let b = match end {
        Some(e) => match month_index(e, true) {
            Some(b) => b,
            // "Present", "now", "current": the position is still held.
            None => now,
        },
        None => now,
    }
    .min(now);
    (b >= a).then_some((a, b + 1))
}

/// Years covered by the union of the intervals.
pub(crate) fn union_years(spans: &mut [(i64, i64)]) -> f64 {
    if spans.is_empty() {
        return 0.0;
    }
    spans.sort_unstable();
    let mut months = 0i64;
    let (mut a, mut b) = spans[0];
    for &(s, e) in &spans[1..] {
        if s <= b {
            b = b.max(e);
        } else {
            months += b - a;
            (a, b) = (s, e);
        }
    }
    months += b - a;
    months as f64 / 12.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates() {
        assert_eq!(month_index("2020", false), Some(2020 * 12));
        assert_eq!(month_index("2020", true), Some(2020 * 12 + 11));
        assert_eq!(month_index("2020-03-15", false), Some(2020 * 12 + 2));
        assert_eq!(month_index("garbage", false), None);
        assert_eq!(month_index("99999999999", false), None);
    }

    #[test]
    fn overlaps_count_once() {
        let now = now_index((2024, 12));
        let mut spans = vec![
            interval(Some("2018-01"), Some("2020-12"), now).unwrap(),
            interval(Some("2020-01"), None, now).unwrap(),
        ];
        assert_eq!(union_years(&mut spans), 7.0);
        assert_eq!(interval(Some("2030-01"), None, now), None);
    }
}
