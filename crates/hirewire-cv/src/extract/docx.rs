//! DOCX: the main part, its headers and footers, read with quick-xml. Keeps paragraphs, line
//! breaks, tabs, tables and text boxes; drops deleted revisions, field codes and the
//! fallback copies of drawing content (which would double every text box).

use super::xml::{Flow, attr, resolve_ref};
use super::zipread::Archive;
use crate::{CvError, Limits};
use quick_xml::Reader;
use quick_xml::events::Event;

/// Extracts the text of a DOCX: headers, body, footers, then link targets not shown as text.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<String, CvError> {
    let mut zip = Archive::open(bytes, limits, "DOCX")?;
    let Some(body) = zip.read("word/document.xml")? else {
        return Err(CvError::Corrupt("the DOCX has no document part".into()));
    };
    let mut names: Vec<String> = zip
        .names()
        .into_iter()
        .filter(|n| {
            n.starts_with("word/")
                && n.ends_with(".xml")
                && (n[5..].starts_with("header") || n[5..].starts_with("footer"))
        })
        .collect();
    names.sort();
    let mut out = String::new();
    let mut footers = String::new();
    for name in &names {
        if let Some(xml) = zip.read(name)? {
            let text = document_text(&xml)?;
            if name[5..].starts_with("header") {
                out.push_str(&text);
                out.push('\n');
            } else {
                footers.push_str(&text);
                footers.push('\n');
            }
        }
    }
    out.push_str(&document_text(&body)?);
    out.push('\n');
    out.push_str(&footers);
    if let Some(rels) = zip.read("word/_rels/document.xml.rels")? {
        for target in external_links(&rels) {
            let shown = target.trim_start_matches("mailto:");
            if !out.contains(shown) {
                out.push_str(shown);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The text of one WordprocessingML part.
pub(crate) fn document_text(xml: &str) -> Result<String, CvError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut flow = Flow::default();
    let mut in_text = false;
    let mut in_run = 0usize;
    let mut skip = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                let n = name.as_ref();
                if skip > 0 {
                    if is_skipped(n) {
                        skip += 1;
                    }
                    continue;
                }
                match n {
                    "t" => in_text = true,
                    "r" => in_run += 1,
                    "p" => {}
                    "tbl" => flow.table_start(),
                    "txbxContent" => flow.push('\n'),
                    _ if is_skipped(n) => skip = 1,
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                let name = e.local_name();
                let n = name.as_ref();
                if skip > 0 {
                    if is_skipped(n) {
                        skip -= 1;
                    }
                    continue;
                }
                match n {
                    "t" => in_text = false,
                    "r" => in_run = in_run.saturating_sub(1),
                    "p" => flow.push('\n'),
                    "tc" => flow.cell_end(),
                    "tr" => flow.row_end(),
                    "tbl" => flow.table_end(),
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) => {
                if skip > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    "tab" if in_run > 0 => flow.push('\t'),
                    "br" | "cr" if in_run > 0 => flow.push('\n'),
                    "noBreakHyphen" => flow.push('-'),
                    "p" => flow.push('\n'),
                    "tc" => flow.cell_end(),
                    _ => {}
                }
            }
            Ok(Event::Text(t)) if in_text && skip == 0 => flow.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) if in_text && skip == 0 => flow.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_text && skip == 0 => {
                if let Some(s) = resolve_ref(&r) {
                    flow.push_str(&s);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                // Keep what was read before the damage: a CV cut short is still worth parsing,
                // but a part with no text at all is reported.
                let text = flow.finish();
                if text.trim().is_empty() {
                    return Err(CvError::Corrupt(format!("the DOCX is damaged ({e})")));
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
        "Fallback" | "instrText" | "delText" | "del" | "pPr" | "rPr" | "sectPr"
    )
}

/// External hyperlink targets of a relationships part.
pub(crate) fn external_links(rels: &str) -> Vec<String> {
    let mut reader = Reader::from_str(rels);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e)) | Ok(Event::Start(e))
                if e.local_name().as_ref() == "Relationship" =>
            {
                let ty = attr(&e, "Type").unwrap_or_default();
                if ty.ends_with("/hyperlink")
                    && let Some(t) = attr(&e, "Target")
                    && (t.starts_with("http") || t.starts_with("mailto:"))
                    && !out.contains(&t)
                {
                    out.push(t);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    #[test]
    fn paragraphs_tabs_breaks_and_entities() {
        let xml = format!(
            r#"<w:document {NS}><w:body><w:p><w:pPr><w:tabs><w:tab w:val="right"/></w:tabs></w:pPr><w:r><w:t>Jane &amp; Co</w:t><w:tab/><w:t>2020</w:t><w:br/><w:t xml:space="preserve">next </w:t></w:r></w:p><w:p><w:r><w:delText>gone</w:delText><w:t>B</w:t></w:r></w:p></w:body></w:document>"#
        );
        assert_eq!(document_text(&xml).unwrap(), "Jane & Co\t2020\nnext \nB\n");
    }

    #[test]
    fn text_boxes_once_and_tables() {
        let xml = format!(
            r#"<w:document {NS}><w:body><w:p><w:r><mc:AlternateContent><mc:Choice><w:drawing><w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>Rust</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Go</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#
        );
        let t = document_text(&xml).unwrap();
        assert_eq!(t.matches("Box").count(), 1, "{t}");
        assert!(t.contains("Rust | Go"), "{t}");
    }
}
