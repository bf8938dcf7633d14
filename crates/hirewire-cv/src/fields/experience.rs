//! Total years of experience: the union of the work intervals, so overlapping jobs count once;
//! open-ended jobs run until `today`.

use super::dates::{End, YearMonth};

/// Years (one decimal) covered by `intervals` of (start, end); `None` end means "until today".
pub fn total_years(intervals: &[(YearMonth, Option<YearMonth>)], today: (i32, u32)) -> Option<f64> {
    let now = today.0 as i64 * 12 + (today.1.clamp(1, 12) as i64 - 1);
    let mut spans: Vec<(i64, i64)> = intervals
        .iter()
        .filter_map(|(s, e)| {
            let a = s.index(1);
            // A year-only end means the job ran into that year: count it to its end.
            let b = e.map_or(now, |e| e.index(12)).min(now);
            (b >= a).then_some((a, b + 1))
        })
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut months = 0i64;
    let (mut cur_a, mut cur_b) = spans[0];
    for &(a, b) in &spans[1..] {
        if a <= cur_b {
            cur_b = cur_b.max(b);
        } else {
            months += cur_b - cur_a;
            cur_a = a;
            cur_b = b;
        }
    }
    months += cur_b - cur_a;
    // Half-way cases round to even (135 months = 11.25 → 11.2), as the corpus and Python do.
    Some((months as f64 * 10.0 / 12.0).round_ties_even() / 10.0)
}

/// The interval of one range, for [`total_years`].
pub fn interval(start: YearMonth, end: End) -> (YearMonth, Option<YearMonth>) {
    match end {
        End::Date(d) => (start, Some(d)),
        End::Current => (start, None),
        End::None => (start, Some(start)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth {
            year: y,
            month: Some(m),
        }
    }

    #[test]
    fn overlapping_jobs_count_once() {
        let iv = [
            (ym(2018, 1), Some(ym(2019, 12))),
            (ym(2019, 1), Some(ym(2020, 12))),
            (ym(2022, 1), None),
        ];
        // 2018-01..2020-12 = 36 months, 2022-01..2023-12 = 24 months.
        assert_eq!(total_years(&iv, (2023, 12)), Some(5.0));
        assert_eq!(total_years(&[], (2023, 12)), None);
    }
}
