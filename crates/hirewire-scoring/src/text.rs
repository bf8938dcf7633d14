//! Small text helpers shared by the dimensions.

/// Lower-case words of `s` (letters, digits and `+#` so "C++" and "C#" survive).
pub(crate) fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Case- and accent-insensitive equality of short names ("Zürich" = "zurich").
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let a = simple_fold(a);
    !a.is_empty() && a == simple_fold(b)
}

/// Lower case, common Latin accents removed, non-alphanumerics dropped.
pub(crate) fn simple_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ł' => 'l',
            'ś' | 'š' | 'ß' => 's',
            'ź' | 'ż' | 'ž' => 'z',
            'ř' => 'r',
            c => c,
        };
        if c.is_alphanumeric() {
            out.push(c);
        }
    }
    out
}

/// `s` trimmed and cut to about `max` characters on a char boundary, with an ellipsis.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
    }
}

/// Whether `hay` (lower case) contains `needle` (lower case) as whole words.
pub(crate) fn contains_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '+' || c == '#';
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back().is_none_or(|c| !is_word(c));
        let after = hay[end..].chars().next().is_none_or(|c| !is_word(c));
        if before && after {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
        if from >= hay.len() {
            break;
        }
    }
    false
}

/// A finite, non-negative number of years, capped at a working lifetime; NaN counts as absent.
pub(crate) fn sane_years(y: Option<f64>) -> Option<f64> {
    y.filter(|y| y.is_finite()).map(|y| y.clamp(0.0, 70.0))
}

/// Years written for people: "6", "2.5".
pub(crate) fn fmt_years(y: f64) -> String {
    let r = (y * 10.0).round() / 10.0;
    if (r - r.round()).abs() < 1e-9 {
        format!("{}", r.round() as i64)
    } else {
        format!("{r:.1}")
    }
}

/// A crude stem, so that "management" ~ "manager" and "testing" ~ "tests" when phrases are
/// compared; only ever compared with other stems. `w` is lower case.
fn stem(w: &str) -> &str {
    let mut w = w;
    for suffix in [
        "ship", "ments", "ment", "ings", "ing", "ers", "er", "ies", "es", "ed", "s",
    ] {
        if w.len() >= suffix.len() + 3 && w.ends_with(suffix) {
            w = &w[..w.len() - suffix.len()];
            break;
        }
    }
    if w.len() > 3 && w.ends_with('e') {
        w = &w[..w.len() - 1];
    }
    w
}

/// Hashes of the stems of the words of `s`; hashes rather than strings because phrases are
/// compared for every job skill and allocating a string a word dominated the evaluation.
pub(crate) fn stems(s: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for w in s.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#')) {
        if w.is_empty() {
            continue;
        }
        buf.clear();
        buf.extend(w.chars().flat_map(char::to_lowercase));
        // FNV-1a: stable across runs and platforms, so evaluations stay reproducible.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stem(&buf).bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push(h);
    }
    out
}

/// Whether `needle` occurs in `hay` as consecutive stems.
pub(crate) fn contains_phrase(hay: &[u64], needle: &[u64]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_punctuation() {
        assert!(same_name("Zürich", "zurich"));
        assert!(same_name("São Paulo", "sao paulo"));
        assert!(!same_name("", ""));
    }

    #[test]
    fn finds_whole_words_only() {
        assert!(contains_word("senior java developer", "java"));
        assert!(!contains_word("javascript developer", "java"));
        assert!(contains_word("c++ and rust", "c++"));
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "é".repeat(500);
        assert!(excerpt(&long, 160).chars().count() <= 161);
        assert_eq!(excerpt("  short  ", 160), "short");
    }

    #[test]
    fn stems_join_word_forms() {
        assert_eq!(stems("Site management"), stems("site manager"));
        assert_eq!(stems("API testing"), stems("API tests"));
        assert!(contains_phrase(
            &stems("Ran API tests daily"),
            &stems("API testing")
        ));
        assert!(!contains_phrase(
            &stems("testing APIs"),
            &stems("API testing")
        ));
    }

    #[test]
    fn years_are_sane() {
        assert_eq!(sane_years(Some(f64::NAN)), None);
        assert_eq!(sane_years(Some(1e12)), Some(70.0));
        assert_eq!(sane_years(Some(-3.0)), Some(0.0));
        assert_eq!(fmt_years(6.0), "6");
        assert_eq!(fmt_years(2.54), "2.5");
    }
}
