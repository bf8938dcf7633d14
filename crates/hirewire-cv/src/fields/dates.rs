//! Dates and date ranges in the styles CVs use: "Jan 2020", "January 2020", "2020-01",
//! "01/2020", "03.2018", "2020", "Mar '19", German, Spanish, French, Portuguese and Dutch month
//! names, and the words for "until now" ("Present", "heute", "actualidad", …).

use regex::Regex;
use std::sync::LazyLock;

/// A year with an optional month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    /// Four-digit year.
    pub year: i32,
    /// 1–12 when the CV gives it.
    pub month: Option<u32>,
}

impl YearMonth {
    /// The JSON Resume form: `2020-01` or `2020`.
    pub fn iso(self) -> String {
        match self.month {
            Some(m) => format!("{:04}-{:02}", self.year, m),
            None => format!("{:04}", self.year),
        }
    }

    /// Months since year 0, taking `default_month` when the month is unknown.
    pub fn index(self, default_month: u32) -> i64 {
        self.year as i64 * 12 + (self.month.unwrap_or(default_month) as i64 - 1)
    }
}

/// The end of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A closed range.
    Date(YearMonth),
    /// "Present", "heute", …
    Current,
    /// A single date with no end.
    None,
}

/// A date range found in a line, with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// Start date.
    pub start: YearMonth,
    /// End date or "current".
    pub end: End,
    /// Byte offset of the range's first character in the line.
    pub from: usize,
    /// Byte offset just past the range.
    pub to: usize,
}

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("januar", 1),
    ("janvier", 1),
    ("janeiro", 1),
    ("januari", 1),
    ("enero", 1),
    ("janv", 1),
    ("jan", 1),
    ("jän", 1),
    ("ene", 1),
    ("february", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("fevereiro", 2),
    ("februari", 2),
    ("febrero", 2),
    ("févr", 2),
    ("fevr", 2),
    ("feb", 2),
    ("fev", 2),
    ("fév", 2),
    ("march", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mars", 3),
    ("março", 3),
    ("marco", 3),
    ("maart", 3),
    ("marzo", 3),
    ("mär", 3),
    ("mrz", 3),
    ("mrt", 3),
    ("mar", 3),
    ("april", 4),
    ("avril", 4),
    ("abril", 4),
    ("apr", 4),
    ("avr", 4),
    ("abr", 4),
    ("may", 5),
    ("mai", 5),
    ("maio", 5),
    ("mayo", 5),
    ("mei", 5),
    ("june", 6),
    ("juni", 6),
    ("juin", 6),
    ("junho", 6),
    ("junio", 6),
    ("jun", 6),
    ("july", 7),
    ("juli", 7),
    ("juillet", 7),
    ("julho", 7),
    ("julio", 7),
    ("juil", 7),
    ("jul", 7),
    ("august", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("augustus", 8),
    ("aug", 8),
    ("ago", 8),
    ("september", 9),
    ("septembre", 9),
    ("setembro", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("sept", 9),
    ("sep", 9),
    ("set", 9),
    ("october", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("outubro", 10),
    ("octubre", 10),
    ("okt", 10),
    ("oct", 10),
    ("out", 10),
    ("november", 11),
    ("novembre", 11),
    ("novembro", 11),
    ("noviembre", 11),
    ("nov", 11),
    ("december", 12),
    ("dezember", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("dezembro", 12),
    ("diciembre", 12),
    ("déc", 12),
    ("dec", 12),
    ("dez", 12),
    ("dic", 12),
];

const CURRENT: &[&str] = &[
    "present",
    "presente",
    "current",
    "currently",
    "now",
    "today",
    "ongoing",
    "date",
    "heute",
    "aktuell",
    "jetzt",
    "dato",
    "actualidad",
    "actual",
    "hoy",
    "la fecha",
    "aujourd'hui",
    "aujourd’hui",
    "présent",
    "maintenant",
    "en cours",
    "atual",
    "atualmente",
    "o momento",
    "momento",
    "heden",
    "nu",
    "huidig",
];

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    let mut names: Vec<&str> = MONTHS.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    let mut cur: Vec<&str> = CURRENT.to_vec();
    cur.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    let cur: Vec<String> = cur.iter().map(|c| regex::escape(c)).collect();
    let pat = format!(
        r"(?i)\b(?:(?P<mon>{months})\.?,?\s*(?P<my>(?:19|20)\d\d|['’‘]\d\d)\b|(?P<m1>0?[1-9]|1[0-2])\s?[./-]\s?(?P<y1>(?:19|20)\d\d)\b|(?P<y2>(?:19|20)\d\d)[-/.](?P<m2>0[1-9]|1[0-2])\b|(?P<y3>(?:19|20)\d\d)\b|(?P<cur>{cur})\b)",
        months = names.join("|"),
        cur = cur.join("|"),
    );
    Regex::new(&pat).expect("date regex")
});

fn month_number(name: &str) -> Option<u32> {
    let l = name.to_lowercase();
    MONTHS.iter().find(|(n, _)| *n == l).map(|(_, m)| *m)
}

#[derive(Debug, Clone, Copy)]
enum Tok {
    Date(YearMonth),
    Current,
}

fn tokens(line: &str) -> Vec<(Tok, usize, usize)> {
    let mut out = Vec::new();
    for c in TOKEN.captures_iter(line) {
        let Some(m) = c.get(0) else { continue };
        let tok = if let (Some(mon), Some(y)) = (c.name("mon"), c.name("my")) {
            let y = y.as_str();
            let year = if y.len() == 4 {
                y.parse().ok()
            } else {
                y.chars()
                    .skip(1)
                    .collect::<String>()
                    .parse::<i32>()
                    .ok()
                    .map(|v| if v < 50 { 2000 + v } else { 1900 + v })
            };
            match (year, month_number(mon.as_str())) {
                (Some(year), Some(month)) => Tok::Date(YearMonth {
                    year,
                    month: Some(month),
                }),
                _ => continue,
            }
        } else if let (Some(mo), Some(y)) = (c.name("m1"), c.name("y1")) {
            Tok::Date(YearMonth {
                year: y.as_str().parse().unwrap_or(0),
                month: mo.as_str().parse().ok(),
            })
        } else if let (Some(y), Some(mo)) = (c.name("y2"), c.name("m2")) {
            Tok::Date(YearMonth {
                year: y.as_str().parse().unwrap_or(0),
                month: mo.as_str().parse().ok(),
            })
        } else if let Some(y) = c.name("y3") {
            Tok::Date(YearMonth {
                year: y.as_str().parse().unwrap_or(0),
                month: None,
            })
        } else {
            Tok::Current
        };
        out.push((tok, m.start(), m.end()));
    }
    out
}

fn is_range_separator(between: &str) -> bool {
    let t = between
        .trim()
        .trim_matches(|c: char| c == ',' || c == '.')
        .trim();
    matches!(
        t.to_lowercase().as_str(),
        "-" | "–"
            | "—"
            | "−"
            | "~"
            | "→"
            | "->"
            | "to"
            | "till"
            | "until"
            | "bis"
            | "hasta"
            | "a"
            | "à"
            | "au"
            | "tot"
            | "até"
            | "ate"
            | "al"
            | "–>"
            | "/"
            | "--"
            | "bis zum"
    )
}

fn starts_with_since(before: &str) -> bool {
    let l = before.trim_end().to_lowercase();
    ["since", "seit", "desde", "depuis", "sinds", "from", "ab"]
        .iter()
        .any(|w| l.ends_with(w))
}

/// Date ranges (and lone dates) in `line`, left to right. A lone date is a range with
/// [`End::None`]; "since 2020" is current.
pub fn find_ranges(line: &str) -> Vec<DateRange> {
    let toks = tokens(line);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (t, from, to) = toks[i];
        let Tok::Date(start) = t else {
            i += 1;
            continue;
        };
        if let Some(&(t2, _f2, to2)) = toks.get(i + 1)
            && is_range_separator(&line[to..toks[i + 1].1])
        {
            let end = match t2 {
                Tok::Date(d) => End::Date(d),
                Tok::Current => End::Current,
            };
            out.push(DateRange {
                start,
                end,
                from,
                to: to2,
            });
            i += 2;
            continue;
        }
        let end = if starts_with_since(&line[..from]) {
            End::Current
        } else {
            End::None
        };
        out.push(DateRange {
            start,
            end,
            from,
            to,
        });
        i += 1;
    }
    out
}

/// The first range with two ends (or "since …") in `line`.
pub fn find_range(line: &str) -> Option<DateRange> {
    find_ranges(line).into_iter().find(|r| r.end != End::None)
}

/// Whether `t` contains a word meaning "until now".
pub fn has_current_word(t: &str) -> bool {
    tokens(t).iter().any(|(k, _, _)| matches!(k, Tok::Current))
}

/// Whether `t` begins with a date or a "current" word (used to mend ranges cut by wrapping).
pub fn starts_with_date(t: &str) -> bool {
    tokens(t).first().is_some_and(|(_, from, _)| *from == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(year: i32, month: u32) -> YearMonth {
        YearMonth {
            year,
            month: Some(month),
        }
    }

    fn range(s: &str) -> (YearMonth, End) {
        let r = find_range(s).unwrap_or_else(|| panic!("no range in {s:?}"));
        (r.start, r.end)
    }

    #[test]
    fn all_styles() {
        assert_eq!(range("Jan 2020 – Present"), (ym(2020, 1), End::Current));
        assert_eq!(
            range("January 2020 - March 2021"),
            (ym(2020, 1), End::Date(ym(2021, 3)))
        );
        assert_eq!(
            range("2020-01 — 2021-03"),
            (ym(2020, 1), End::Date(ym(2021, 3)))
        );
        assert_eq!(
            range("01/2020 - 03/2021"),
            (ym(2020, 1), End::Date(ym(2021, 3)))
        );
        assert_eq!(
            range("03.2018 – 11.2021"),
            (ym(2018, 3), End::Date(ym(2021, 11)))
        );
        assert_eq!(range("Mar '19 – Now"), (ym(2019, 3), End::Current));
        assert_eq!(range("May ’21 to Now"), (ym(2021, 5), End::Current));
        assert_eq!(range("04.2020 - heute"), (ym(2020, 4), End::Current));
        assert_eq!(range("03/2021 - actualidad"), (ym(2021, 3), End::Current));
        assert_eq!(
            range("März 2019 bis Dezember 2020"),
            (ym(2019, 3), End::Date(ym(2020, 12)))
        );
        assert_eq!(
            range("enero 2019 – diciembre 2020"),
            (ym(2019, 1), End::Date(ym(2020, 12)))
        );
        assert_eq!(
            range("Sept. 2019 – Okt. 2020"),
            (ym(2019, 9), End::Date(ym(2020, 10)))
        );
        let (s, e) = range("2019 – present");
        assert_eq!(
            s,
            YearMonth {
                year: 2019,
                month: None
            }
        );
        assert_eq!(e, End::Current);
        let (s, e) = range("2014 - 2018");
        assert_eq!((s.year, s.month), (2014, None));
        assert_eq!(
            e,
            End::Date(YearMonth {
                year: 2018,
                month: None
            })
        );
        assert_eq!(
            range("seit 2020"),
            (
                YearMonth {
                    year: 2020,
                    month: None
                },
                End::Current
            )
        );
    }

    #[test]
    fn spans_and_lone_dates() {
        let l = "Senior Engineer | 03/2021 - actualidad";
        let r = find_range(l).unwrap();
        assert_eq!(&l[r.from..r.to], "03/2021 - actualidad");
        let rs = find_ranges("Graduated 2015");
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].end, End::None);
        assert!(find_range("Built 1,200 requests per second").is_none());
        assert_eq!(
            YearMonth {
                year: 2020,
                month: Some(3)
            }
            .iso(),
            "2020-03"
        );
    }
}
