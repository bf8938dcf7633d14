//! ODT: `content.xml` (and the page header/footer of `styles.xml`), read with quick-xml.

use super::xml::{Flow, attr, resolve_ref};
use super::zipread::Archive;
use crate::{CvError, Limits};
use quick_xml::Reader;
use quick_xml::events::Event;

/// Extracts the text of an ODT: page headers, body, then link targets not shown as text.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<String, CvError> {
    let mut zip = Archive::open(bytes, limits, "ODT")?;
    let Some(content) = zip.read("content.xml")? else {
        return Err(CvError::Corrupt("the ODT has no content part".into()));
    };
    let mut links = Vec::new();
    let mut out = String::new();
    if let Some(styles) = zip.read("styles.xml")?
        && (styles.contains("<style:header") || styles.contains("<style:footer"))
    {
        out.push_str(&odf_text(&styles, true, &mut links)?);
    }
    out.push_str(&odf_text(&content, false, &mut links)?);
    out.push('\n');
    for l in links {
        let shown = l.trim_start_matches("mailto:");
        if !out.contains(shown) {
            out.push_str(shown);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The text of an ODF XML part; with `headers_only`, only `style:header` content.
pub(crate) fn odf_text(
    xml: &str,
    headers_only: bool,
    links: &mut Vec<String>,
) -> Result<String, CvError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut flow = Flow::default();
    let mut para = 0usize;
    let mut skip = 0usize;
    let mut header = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                let n = name.as_ref();
                if is_skipped(n) {
                    skip += 1;
                    continue;
                }
                match n {
                    "header" | "footer" => header += 1,
                    "p" | "h" => para += 1,
                    "table" => flow.table_start(),
                    "a" => {
                        if let Some(h) = attr(&e, "href")
                            && (h.starts_with("http") || h.starts_with("mailto:"))
                            && !links.contains(&h)
                        {
                            links.push(h);
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                let name = e.local_name();
                let n = name.as_ref();
                if is_skipped(n) {
                    skip = skip.saturating_sub(1);
                    continue;
                }
                let active = skip == 0 && (!headers_only || header > 0);
                match n {
                    "header" | "footer" => header = header.saturating_sub(1),
                    "p" | "h" => {
                        para = para.saturating_sub(1);
                        if active {
                            flow.push('\n');
                        }
                    }
                    "table-cell" => flow.cell_end(),
                    "table-row" => flow.row_end(),
                    "table" => flow.table_end(),
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) => {
                if skip > 0 || (headers_only && header == 0) {
                    continue;
                }
                match e.local_name().as_ref() {
                    "tab" => flow.push('\t'),
                    "line-break" => flow.push('\n'),
                    "s" => {
                        let n: usize = attr(&e, "c").and_then(|c| c.parse().ok()).unwrap_or(1);
                        for _ in 0..n.min(8) {
                            flow.push(' ');
                        }
                    }
                    "p" | "h" => flow.push('\n'),
                    "table-cell" => flow.cell_end(),
                    _ => {}
                }
            }
            Ok(Event::Text(t)) if para > 0 && skip == 0 && (!headers_only || header > 0) => {
                flow.push_str(&t.xml10_content())
            }
            Ok(Event::GeneralRef(r)) if para > 0 && skip == 0 && (!headers_only || header > 0) => {
                if let Some(s) = resolve_ref(&r) {
                    flow.push_str(&s);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                let text = flow.finish();
                if text.trim().is_empty() && !headers_only {
                    return Err(CvError::Corrupt(format!("the ODT is damaged ({e})")));
                }
                return Ok(text);
            }
        }
    }
    Ok(flow.finish())
}

fn is_skipped(local: &str) -> bool {
    matches!(
        local,
        "annotation"
            | "tracked-changes"
            | "note-citation"
            | "script"
            | "header-left"
            | "footer-left"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_spaces_tabs_and_tables() {
        let xml = r#"<office:document-content xmlns:office="o" xmlns:text="t" xmlns:table="tb"><office:body><office:text><text:h>Jane Doe</text:h><text:p>a<text:s text:c="2"/>b<text:tab/>c<text:line-break/>d &amp; e</text:p><table:table><table:table-row><table:table-cell><text:p>Rust</text:p></table:table-cell><table:table-cell><text:p>Go</text:p></table:table-cell></table:table-row></table:table><text:p><text:a xlink:href="https://github.com/jane">GitHub</text:a></text:p></office:text></office:body></office:document-content>"#;
        let mut links = Vec::new();
        let t = odf_text(xml, false, &mut links).unwrap();
        assert!(t.starts_with("Jane Doe\na  b\tc\nd & e\n"), "{t}");
        assert!(t.contains("Rust | Go"), "{t}");
        assert_eq!(links, vec!["https://github.com/jane".to_string()]);
    }
}
