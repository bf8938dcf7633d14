//! Small helpers over quick-xml shared by the DOCX and ODT readers.

use quick_xml::events::{BytesRef, BytesStart};

/// The text an entity or character reference stands for (`&amp;`, `&#233;`).
pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.xml10_content();
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
}

/// The unescaped value of the attribute whose local name is `local` (prefix ignored).
pub(crate) fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.local_name().as_ref() == local {
            return a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned());
        }
    }
    None
}

/// Collects the text of a word-processing document, with tables laid out as a reader sees
/// them: a row of short cells becomes one line joined by " | ", and a row whose cells hold
/// several lines (a page layout: sidebar | main, dates | details) is read cell by cell.
#[derive(Default)]
pub(crate) struct Flow {
    body: String,
    tables: Vec<Table>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
}

impl Flow {
    /// Appends text where the reader currently is (the open table cell, or the body).
    pub(crate) fn push_str(&mut self, s: &str) {
        match self.tables.last_mut() {
            Some(t) => t.cell.push_str(s),
            None => self.body.push_str(s),
        }
    }

    /// Appends one character.
    pub(crate) fn push(&mut self, c: char) {
        match self.tables.last_mut() {
            Some(t) => t.cell.push(c),
            None => self.body.push(c),
        }
    }

    pub(crate) fn table_start(&mut self) {
        self.tables.push(Table::default());
    }

    pub(crate) fn row_end(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            if !t.cell.trim().is_empty() {
                let cell = std::mem::take(&mut t.cell);
                t.row.push(cell);
            }
            let row = std::mem::take(&mut t.row);
            t.rows.push(row);
        }
    }

    pub(crate) fn cell_end(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            let cell = std::mem::take(&mut t.cell);
            t.row.push(cell);
        }
    }

    pub(crate) fn table_end(&mut self) {
        let Some(mut t) = self.tables.pop() else {
            return;
        };
        if !t.row.is_empty() || !t.cell.trim().is_empty() {
            if !t.cell.trim().is_empty() {
                let cell = std::mem::take(&mut t.cell);
                t.row.push(cell);
            }
            let row = std::mem::take(&mut t.row);
            t.rows.push(row);
        }
        let text = render_table(&t.rows);
        self.push('\n');
        self.push_str(&text);
        self.push('\n');
    }

    /// The collected text; open tables are closed first.
    pub(crate) fn finish(mut self) -> String {
        while !self.tables.is_empty() {
            self.table_end();
        }
        self.body
    }
}

fn render_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<&str> = row
            .iter()
            .map(|c| c.trim_matches(|ch: char| ch.is_whitespace()))
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            continue;
        }
        let multi_line = cells.iter().any(|c| c.contains('\n'));
        if multi_line || cells.len() == 1 {
            for c in cells {
                out.push_str(c);
                out.push('\n');
            }
        } else {
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cells_join_and_layout_cells_stack() {
        let rows = vec![
            vec!["Rust".to_string(), "5 years".to_string()],
            vec![
                "Contact\nParis".to_string(),
                "Experience\nEngineer".to_string(),
            ],
        ];
        assert_eq!(
            render_table(&rows),
            "Rust | 5 years\nContact\nParis\nExperience\nEngineer\n"
        );
    }
}
