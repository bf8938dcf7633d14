//! Text clean-up shared by every format, so field extraction sees one convention: `\n` line
//! ends, single spaces, tabs kept as column separators, no control characters.

/// Normalises `raw` and cuts it to `max_chars` characters; says whether it cut.
pub(crate) fn normalize(raw: &str, max_chars: usize) -> (String, bool) {
    let mut out = String::with_capacity(raw.len().min(max_chars.saturating_mul(4)));
    let mut chars = 0usize;
    let mut cut = false;
    let mut blank_run = 0usize;
    let mut line = String::new();
    for raw_line in raw.split('\n') {
        line.clear();
        let mut pending_space = false;
        let mut pending_tab = false;
        for c in raw_line.chars() {
            let c = match c {
                '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2000}'..='\u{200a}' | '\u{3000}' => ' ',
                '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}' | '\r' => continue,
                '\u{2010}' | '\u{2011}' => '-',
                '\u{f0b7}' | '\u{f0a7}' | '\u{f076}' | '\u{f0d8}' | '\u{25aa}' | '\u{25cf}' => '•',
                '\t' => {
                    pending_tab = true;
                    continue;
                }
                c if c.is_control() => ' ',
                c => c,
            };
            if c == ' ' {
                pending_space = true;
                continue;
            }
            if !line.is_empty() {
                if pending_tab {
                    line.push('\t');
                } else if pending_space {
                    line.push(' ');
                }
            }
            pending_space = false;
            pending_tab = false;
            line.push(c);
        }
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        let n = line.chars().count() + 1;
        if chars + n > max_chars {
            cut = true;
            break;
        }
        chars += n;
        out.push_str(&line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_spaces_keeps_tabs_and_one_blank_line() {
        let (t, cut) = normalize("  a\u{a0} b\t\tc \r\n\n\n\nd\x07e\n\n", 100);
        assert_eq!(t, "a b\tc\n\nd e\n");
        assert!(!cut);
    }

    #[test]
    fn cuts_at_the_limit() {
        let (t, cut) = normalize("abc\ndef\nghi", 8);
        assert_eq!(t, "abc\ndef\n");
        assert!(cut);
    }
}
