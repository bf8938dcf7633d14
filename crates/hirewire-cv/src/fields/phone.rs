//! Phone numbers, normalised to E.164 from an explicit "+CC"/"00CC", or from the country of
//! the candidate's location with its national trunk prefix dropped.

use super::location::{COUNTRIES, Country};
use regex::Regex;
use std::sync::LazyLock;

static CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+|\b00)?\(?\d[\d\s().\-/]{5,22}\d").expect("phone regex"));

/// A phone number as written in `text` (the first plausible one), with its position.
pub fn find(text: &str) -> Option<&str> {
    for m in CANDIDATE.find_iter(text) {
        let s = m.as_str().trim();
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            continue;
        }
        // Date ranges ("09/2013 - 07/2015", "2019 - 2021") and birth dates are not numbers.
        if super::dates::find_range(s).is_some() || FULL_DATE.is_match(s) {
            continue;
        }
        let before = &text[..m.start()];
        if before.ends_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        return Some(s);
    }
    None
}

/// E.164 for `raw` when the country is explicit or `country` (ISO code) is known; otherwise
/// the number as written.
pub fn normalize(raw: &str, country: Option<&str>) -> String {
    let raw = raw.trim();
    // "+44 (0)7700 900123": the bracketed trunk prefix is not dialled internationally.
    let cleaned = raw.replace("(0)", "");
    let digits: String = cleaned.chars().filter(char::is_ascii_digit).collect();
    if cleaned.trim_start().starts_with('+') {
        return format!("+{digits}");
    }
    if let Some(rest) = digits.strip_prefix("00")
        && rest.len() >= 8
    {
        return format!("+{rest}");
    }
    let country: Option<&Country> = country.and_then(super::location::country_by_code);
    if let Some(c) = country {
        if c.calling == "1" {
            if digits.len() == 10 {
                return format!("+1{digits}");
            }
            if digits.len() == 11 && digits.starts_with('1') {
                return format!("+{digits}");
            }
            return raw.to_owned();
        }
        let national = if !c.trunk.is_empty() {
            digits.strip_prefix(c.trunk).unwrap_or(&digits)
        } else {
            &digits
        };
        // A number already in international form without "+" ("44 7700 900123").
        if digits.starts_with(c.calling) && digits.len() >= 10 + c.calling.len() - 1 {
            return format!("+{digits}");
        }
        return format!("+{}{}", c.calling, national);
    }
    // No country known: a North American layout is unambiguous enough.
    let nanp = LazyLock::force(&NANP);
    if nanp.is_match(raw) && digits.len() == 10 {
        return format!("+1{digits}");
    }
    let _ = COUNTRIES;
    raw.to_owned()
}

static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})$")
        .expect("date regex")
});

static NANP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\(\d{3}\)\s?\d{3}[-.\s]\d{4}$").expect("nanp regex"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert_eq!(normalize("+34 612 48 01 93", None), "+34612480193");
        assert_eq!(normalize("+44 (0)7700 900312", None), "+447700900312");
        assert_eq!(normalize("0044 7700 900312", None), "+447700900312");
        assert_eq!(normalize("07700 900789", Some("GB")), "+447700900789");
        assert_eq!(normalize("0151 2345678", Some("DE")), "+491512345678");
        assert_eq!(normalize("070-174 06 52", Some("SE")), "+46701740652");
        assert_eq!(normalize("06-12345678", Some("NL")), "+31612345678");
        assert_eq!(normalize("01 99 00 12 34", Some("FR")), "+33199001234");
        assert_eq!(normalize("655 90 81 72", Some("ES")), "+34655908172");
        assert_eq!(normalize("601 234 567", Some("PL")), "+48601234567");
        assert_eq!(normalize("(206) 555-0142", Some("US")), "+12065550142");
        assert_eq!(normalize("312-555-0110", Some("US")), "+13125550110");
        assert_eq!(normalize("(206) 555-0142", None), "+12065550142");
        assert_eq!(normalize("555 0142 99", None), "555 0142 99");
    }

    #[test]
    fn finds_numbers_not_dates() {
        assert_eq!(
            find("a@b.com · +34 612 48 01 93 · Madrid"),
            Some("+34 612 48 01 93")
        );
        assert_eq!(find("Engineer | 09/2013 - 07/2015"), None);
        assert_eq!(find("Tel: (206) 555-0142"), Some("(206) 555-0142"));
        assert_eq!(
            find("Geboren 12.03.1990 · 0151 2345678"),
            Some("0151 2345678")
        );
    }
}
