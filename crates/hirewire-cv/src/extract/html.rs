//! HTML: a small tolerant tag walker (no DOM, no browser engine). Drops scripts, styles and
//! the head, turns block elements into lines and table rows into " | "-joined lines, decodes
//! entities, and appends link targets that the page does not show as text.

use super::xml::Flow;

/// Extracts the visible text of an HTML page.
pub fn extract(html: &str) -> String {
    let b = html.as_bytes();
    let mut flow = Flow::default();
    // (row open, cell open) per open table, so unclosed <td>/<tr> still close.
    let mut tables: Vec<(bool, bool)> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let mut pre = 0usize;
    let mut i = 0usize;
    let mut text_start = 0usize;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        push_text(&mut flow, &html[text_start..i], pre > 0);
        let rest = &html[i..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            i = comment.find("-->").map_or(b.len(), |p| i + 4 + p + 3);
            text_start = i;
            continue;
        }
        let next = b.get(i + 1).copied().unwrap_or(0);
        if next == b'!' || next == b'?' {
            i = rest.find('>').map_or(b.len(), |p| i + p + 1);
            text_start = i;
            continue;
        }
        let closing = next == b'/';
        let name_start = i + 1 + usize::from(closing);
        let mut j = name_start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':') {
            j += 1;
        }
        if j == name_start {
            // A lone '<' is text.
            i += 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let end = tag_end(b, j);
        // Without its closing '>' (absent when the tag runs to the end of the input).
        let attrs_end = if b.get(end.wrapping_sub(1)) == Some(&b'>') {
            end - 1
        } else {
            end
        };
        let attrs = html.get(j..attrs_end.max(j)).unwrap_or("");
        i = end;
        text_start = i;
        if !closing
            && matches!(
                name.as_str(),
                "script" | "style" | "title" | "textarea" | "template" | "noscript"
            )
        {
            let close = format!("</{name}");
            i = find_ci(&html[i..], &close).map_or(b.len(), |p| {
                let at = i + p;
                tag_end(b, at + close.len())
            });
            text_start = i;
            continue;
        }
        match (name.as_str(), closing) {
            ("br", _) => flow.push('\n'),
            ("pre", false) => {
                pre += 1;
                flow.push('\n');
            }
            ("pre", true) => {
                pre = pre.saturating_sub(1);
                flow.push('\n');
            }
            ("li", false) => flow.push_str("\n• "),
            ("a", false) => {
                if let Some(h) = attr_value(attrs, "href") {
                    let h = decode_entities(h.trim());
                    if (h.starts_with("http") || h.starts_with("mailto:")) && !links.contains(&h) {
                        links.push(h);
                    }
                }
            }
            ("table", false) => {
                tables.push((false, false));
                flow.table_start();
            }
            ("table", true) => {
                if let Some((row, cell)) = tables.pop() {
                    if cell {
                        flow.cell_end();
                    }
                    if row {
                        flow.row_end();
                    }
                    flow.table_end();
                }
            }
            ("tr", c) => {
                if let Some(t) = tables.last_mut() {
                    if t.1 {
                        flow.cell_end();
                        t.1 = false;
                    }
                    if t.0 {
                        flow.row_end();
                    }
                    t.0 = !c;
                }
            }
            ("td" | "th", c) => {
                if let Some(t) = tables.last_mut() {
                    if t.1 {
                        flow.cell_end();
                    }
                    t.1 = !c;
                    t.0 = true;
                }
            }
            (n, _) if is_block(n) => flow.push('\n'),
            _ => {}
        }
    }
    push_text(&mut flow, &html[text_start.min(b.len())..], pre > 0);
    while let Some((row, cell)) = tables.pop() {
        if cell {
            flow.cell_end();
        }
        if row {
            flow.row_end();
        }
        flow.table_end();
    }
    let mut out = flow.finish();
    out.push('\n');
    for l in links {
        let shown = l.trim_start_matches("mailto:");
        if !out.contains(shown) {
            out.push_str(shown);
            out.push('\n');
        }
    }
    out
}

/// Index just past the `>` that ends a tag whose name ends at `from`, quotes respected.
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut q = 0u8;
    let mut k = from;
    while k < b.len() {
        let c = b[k];
        if q != 0 {
            if c == q {
                q = 0;
            }
        } else if c == b'"' || c == b'\'' {
            q = c;
        } else if c == b'>' {
            return k + 1;
        }
        k += 1;
    }
    b.len()
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    let first = n[0];
    (0..=h.len() - n.len()).find(|&k| h[k] == first && h[k..k + n.len()].eq_ignore_ascii_case(n))
}

fn attr_value<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(key) {
        let at = from + p;
        from = at + key.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = attrs[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let v = rest[1..].trim_start();
        return Some(match v.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => {
                let v = &v[1..];
                &v[..v.find(q as char).unwrap_or(v.len())]
            }
            _ => {
                &v[..v
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(v.len())]
            }
        });
    }
    None
}

fn is_block(n: &str) -> bool {
    matches!(
        n,
        "p" | "div"
            | "ul"
            | "ol"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "main"
            | "aside"
            | "nav"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "hr"
            | "address"
            | "figure"
            | "figcaption"
            | "form"
            | "fieldset"
            | "body"
            | "html"
            | "head"
            | "caption"
            | "thead"
            | "tbody"
            | "tfoot"
            | "details"
            | "summary"
            | "center"
    )
}

fn push_text(flow: &mut Flow, raw: &str, pre: bool) {
    if raw.is_empty() {
        return;
    }
    let decoded = decode_entities(raw);
    if pre {
        flow.push_str(&decoded);
        return;
    }
    let mut last_space = false;
    for c in decoded.chars() {
        if c.is_ascii_whitespace() {
            if !last_space {
                flow.push(' ');
            }
            last_space = true;
        } else {
            flow.push(c);
            last_space = false;
        }
    }
}

/// Decodes HTML character references: numeric ones and the named ones CVs use.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..]
            .char_indices()
            .take(12)
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|(k, _)| k + 1);
        let Some(end) = end else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = if let Some(num) = name.strip_prefix('#') {
            let v = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()
            } else {
                num.parse().ok()
            };
            v.and_then(char::from_u32)
        } else {
            named_entity(name)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                let skip = if rest[end..].starts_with(';') {
                    end + 1
                } else {
                    end
                };
                rest = &rest[skip..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(n: &str) -> Option<char> {
    Some(match n {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "middot" => '·',
        "bull" => '•',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "deg" => '°',
        "shy" => '\u{ad}',
        "sect" => '§',
        "laquo" => '«',
        "raquo" => '»',
        "vert" => '|',
        "verbar" => '|',
        "sol" => '/',
        "commat" => '@',
        "plus" => '+',
        "szlig" => 'ß',
        "ntilde" => 'ñ',
        "Ntilde" => 'Ñ',
        "ccedil" => 'ç',
        "Ccedil" => 'Ç',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        "aring" => 'å',
        "Aring" => 'Å',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        _ => return accented(n),
    })
}

fn accented(n: &str) -> Option<char> {
    let mut chars = n.chars();
    let b = chars.next()?;
    let kind = chars.as_str();
    let table: &[(char, [char; 5])] = &[
        // base: acute, grave, circ, uml, tilde
        ('a', ['á', 'à', 'â', 'ä', 'ã']),
        ('e', ['é', 'è', 'ê', 'ë', 'e']),
        ('i', ['í', 'ì', 'î', 'ï', 'i']),
        ('o', ['ó', 'ò', 'ô', 'ö', 'õ']),
        ('u', ['ú', 'ù', 'û', 'ü', 'u']),
        ('y', ['ý', 'y', 'y', 'ÿ', 'y']),
        ('A', ['Á', 'À', 'Â', 'Ä', 'Ã']),
        ('E', ['É', 'È', 'Ê', 'Ë', 'E']),
        ('I', ['Í', 'Ì', 'Î', 'Ï', 'I']),
        ('O', ['Ó', 'Ò', 'Ô', 'Ö', 'Õ']),
        ('U', ['Ú', 'Ù', 'Û', 'Ü', 'U']),
        ('Y', ['Ý', 'Y', 'Y', 'Y', 'Y']),
    ];
    let k = match kind {
        "acute" => 0,
        "grave" => 1,
        "circ" => 2,
        "uml" => 3,
        "tilde" => 4,
        _ => return None,
    };
    table.iter().find(|(c, _)| *c == b).map(|(_, v)| v[k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_entities_scripts_and_tables() {
        let html = r#"<!DOCTYPE html><html><head><title>CV</title><style>p{}</style></head>
<body><h1>Ren&eacute;e  Dupont</h1><script>var x = "<p>no</p>";</script>
<p>Rust &amp; Go<br>Paris &ndash; France</p><ul><li>One<li>Two</ul>
<table><tr><td>Python<td>5 years</tr></table><a href="https://github.com/renee">GitHub</a></body></html>"#;
        let t = extract(html);
        let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            vec![
                "Renée Dupont",
                "Rust & Go",
                "Paris – France",
                "• One",
                "• Two",
                "Python | 5 years",
                "GitHub",
                "https://github.com/renee"
            ]
        );
    }

    #[test]
    fn tolerates_garbage() {
        for s in [
            "<",
            "<a href='x",
            "&#xFFFFFFFF; &",
            "<<<>>>",
            "<script>",
            "<!--",
            "</td></tr>",
        ] {
            let _ = extract(s);
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "(<[a-z/!]{0,4}[^>]{0,12}>?|&[#a-zé]{0,6};?|[^<&]{0,8}){0,40}") {
            let _ = extract(&s);
        }
    }
}
