//! The CV text split into lines, so that evidence can point at the line where a thing is.

use crate::text::{contains_word, excerpt};

/// How long an evidence excerpt may be.
const EXCERPT: usize = 160;

/// Lines of the CV text with their byte offsets and lower-case copies.
pub(crate) struct CvIndex<'a> {
    pub(crate) text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    lower: Vec<String>,
}

impl<'a> CvIndex<'a> {
    pub(crate) fn new(text: &'a str) -> CvIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let lower = text.split('\n').map(str::to_lowercase).collect();
        CvIndex {
            text,
            starts,
            lower,
        }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of_offset(&self, offset: usize) -> u32 {
        let i = self.starts.partition_point(|&s| s <= offset);
        i.max(1) as u32
    }

    /// The text of a 1-based line, trimmed for an excerpt.
    pub(crate) fn excerpt(&self, line: u32) -> Option<String> {
        let i = (line as usize).checked_sub(1)?;
        let line = self.text.split('\n').nth(i)?;
        let e = excerpt(line, EXCERPT);
        (!e.is_empty()).then_some(e)
    }

    /// The first line containing `needle` as whole words, case-insensitively.
    pub(crate) fn find(&self, needle: &str) -> Option<u32> {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return None;
        }
        self.lower
            .iter()
            .position(|l| contains_word(l, &needle))
            .map(|i| i as u32 + 1)
    }

    /// Whether the line looks like a list (a skills line) rather than prose.
    pub(crate) fn is_list_line(&self, line: u32) -> bool {
        let Some(l) = (line as usize)
            .checked_sub(1)
            .and_then(|i| self.lower.get(i))
        else {
            return false;
        };
        let seps = l.matches([',', '|', '•', '·', ';']).count();
        seps >= 2 || l.trim_start().starts_with("skills") || l.contains("technologies:")
    }

    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte range of a 1-based line, without its newline.
    pub(crate) fn line_range(&self, line: u32) -> Option<(usize, usize)> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&next| next - 1);
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        let cv = CvIndex::new("Jane\nSkills: Rust, Go, SQL\nWorked at Acme with Kafka");
        assert_eq!(cv.line_of_offset(0), 1);
        assert_eq!(cv.line_of_offset(5), 2);
        assert_eq!(cv.find("kafka"), Some(3));
        assert_eq!(cv.excerpt(2).as_deref(), Some("Skills: Rust, Go, SQL"));
        assert!(cv.is_list_line(2));
        assert!(!cv.is_list_line(3));
        assert_eq!(cv.line_range(2), Some((5, 26)));
        assert_eq!(cv.line_count(), 3);
    }
}
