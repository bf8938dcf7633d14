//! PDF reading order. Glyphs become runs (pieces of a line), runs are split into columns at
//! whitespace gutters (an x-range that no run crosses, apart from a few full-width ones such
//! as a centred name), and each column is read top to bottom, left column (or sidebar) first.
//! Common PDF text extractors read a two-column page line by line across both columns, which
//! interleaves them (jrmuizel/pdf-extract#99); this is the fix.

/// One glyph on a page: position of its origin (y grows downwards), advance and size.
#[derive(Debug, Clone, Copy)]
pub struct Glyph {
    /// Left edge.
    pub x: f32,
    /// Baseline, from the top of the page.
    pub y: f32,
    /// Advance width.
    pub w: f32,
    /// Font size in page units.
    pub size: f32,
    /// Byte offset of its text in [`Page::text`].
    pub start: u32,
    /// Byte length of its text.
    pub len: u8,
}

/// The glyphs of one page, in content-stream order.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Page width.
    pub width: f32,
    /// Glyphs in drawing order.
    pub glyphs: Vec<Glyph>,
    /// The glyphs' text, concatenated.
    pub text: String,
}

/// A horizontal run of glyphs on one baseline.
#[derive(Debug, Clone)]
struct Run {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
}

/// The text of all pages, in reading order, pages separated by a blank line.
pub fn pages_to_text(pages: &[Page]) -> String {
    let mut out = String::new();
    for p in pages {
        let runs = runs(p);
        if runs.is_empty() {
            continue;
        }
        let mut order: Vec<Vec<Run>> = Vec::new();
        split_columns(runs, 0, &mut order);
        for block in order {
            write_lines(block, &mut out);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn runs(p: &Page) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut cur: Option<Run> = None;
    for g in &p.glyphs {
        let s = p
            .text
            .get(g.start as usize..g.start as usize + g.len as usize)
            .unwrap_or("");
        if let Some(r) = cur.as_mut() {
            let size = r.size.max(g.size);
            let same_line = (g.y - r.y).abs() < 0.3 * size;
            let gap = g.x - r.x1;
            if same_line && gap > -0.5 * size && gap < 1.0 * size {
                if gap > 0.15 * size && !r.text.ends_with(' ') {
                    r.text.push(' ');
                }
                r.text.push_str(s);
                r.x1 = r.x1.max(g.x + g.w);
                r.size = size;
                continue;
            }
            if let Some(done) = cur.take() {
                out.push(done);
            }
        }
        cur = Some(Run {
            x0: g.x,
            x1: g.x + g.w,
            y: g.y,
            size: g.size,
            text: s.to_owned(),
        });
    }
    if let Some(done) = cur {
        out.push(done);
    }
    out
}

/// Splits `runs` at the best gutter (recursively, two levels) and appends the blocks in
/// reading order.
fn split_columns(runs: Vec<Run>, depth: u8, out: &mut Vec<Vec<Run>>) {
    if depth >= 2 || runs.len() < 6 {
        out.push(runs);
        return;
    }
    let Some((g0, g1)) = find_gutter(&runs) else {
        out.push(runs);
        return;
    };
    let mid = (g0 + g1) / 2.0;
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut span = Vec::new();
    for r in runs {
        if r.x1 <= g0 + 1.0 {
            left.push(r);
        } else if r.x0 >= g1 - 1.0 {
            right.push(r);
        } else if r.x1 < mid {
            left.push(r);
        } else if r.x0 > mid {
            right.push(r);
        } else {
            span.push(r);
        }
    }
    if is_row_layout(&left, &right) {
        let mut all = left;
        all.extend(right);
        all.extend(span);
        out.push(all);
        return;
    }
    // Whatever lies above the top of the other column (a name, a contact line) is a header.
    let top = |v: &[Run]| v.iter().map(|r| r.y).fold(f32::INFINITY, f32::min);
    let size = median(left.iter().chain(&right).map(|r| r.size).collect());
    let cut = top(&left).max(top(&right)) - 0.5 * size;
    let (head_l, left): (Vec<Run>, Vec<Run>) = left.into_iter().partition(|r| r.y < cut);
    let (head_r, right): (Vec<Run>, Vec<Run>) = right.into_iter().partition(|r| r.y < cut);
    span.extend(head_l);
    span.extend(head_r);
    // Full-width runs cut the page into bands; each band is read left column, then right.
    span.sort_by(|a, b| a.y.total_cmp(&b.y));
    let mut left_it = sorted_by_y(left).into_iter().peekable();
    let mut right_it = sorted_by_y(right).into_iter().peekable();
    let mut pending: Vec<Run> = Vec::new();
    let mut bounds: Vec<Option<Run>> = span.into_iter().map(Some).collect();
    bounds.push(None);
    for s in bounds {
        let b = s.as_ref().map_or(f32::INFINITY, |r| r.y);
        let mut l = Vec::new();
        while let Some(r) = left_it.next_if(|r| r.y < b) {
            l.push(r);
        }
        let mut rr = Vec::new();
        while let Some(r) = right_it.next_if(|r| r.y < b) {
            rr.push(r);
        }
        if !(pending.is_empty() || l.is_empty() && rr.is_empty()) {
            out.push(std::mem::take(&mut pending));
        }
        if !l.is_empty() {
            split_columns(l, depth + 1, out);
        }
        if !rr.is_empty() {
            split_columns(rr, depth + 1, out);
        }
        if let Some(s) = s {
            pending.push(s);
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
}

fn sorted_by_y(mut v: Vec<Run>) -> Vec<Run> {
    v.sort_by(|a, b| a.y.total_cmp(&b.y));
    v
}

/// The widest vertical strip, away from the text's edges, that (almost) no run crosses.
fn find_gutter(runs: &[Run]) -> Option<(f32, f32)> {
    let min_x = runs.iter().map(|r| r.x0).fold(f32::INFINITY, f32::min);
    let max_x = runs.iter().map(|r| r.x1).fold(f32::NEG_INFINITY, f32::max);
    let extent = max_x - min_x;
    if extent.is_nan() || extent <= 50.0 || !extent.is_finite() || extent > 20_000.0 {
        return None;
    }
    let size = median(runs.iter().map(|r| r.size).collect()).max(1.0);
    // One bucket per page unit, counting runs that cover it.
    let n = extent.ceil() as usize + 2;
    let mut diff = vec![0i32; n + 1];
    for r in runs {
        let a = ((r.x0 - min_x).max(0.0) as usize).min(n);
        let b = ((r.x1 - min_x).max(0.0).ceil() as usize).min(n);
        diff[a] += 1;
        diff[b] -= 1;
    }
    let allowed = (runs.len() / 12).min(4) as i32;
    let lo = (extent * 0.12) as usize;
    let hi = ((extent * 0.88) as usize).min(n);
    let mut cover = vec![0i32; n];
    let mut c = 0i32;
    for (x, d) in diff.iter().enumerate().take(n) {
        c += d;
        cover[x] = c;
    }
    let min_width = (1.2 * size).max(8.0) as usize;
    // The lowest coverage level at which a wide enough strip exists wins; the widest strip
    // at that level is the gutter.
    for level in 0..=allowed {
        let mut best: Option<(usize, usize)> = None;
        let mut start: Option<usize> = None;
        for (x, &c) in cover.iter().enumerate().take(hi + 1).skip(lo) {
            let free = x < hi && c <= level;
            match (free, start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    if x - s >= min_width && best.is_none_or(|(a, b)| x - s > b - a) {
                        best = Some((s, x));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((a, b)) = best {
            return Some((min_x + a as f32, min_x + b as f32));
        }
    }
    None
}

/// Whether the "right column" is really the right edge of rows (dates, places), as in
/// "Senior Engineer ........ Jan 2020 – Present": then the page is one column.
fn is_row_layout(left: &[Run], right: &[Run]) -> bool {
    if left.len() < 3 || right.len() < 3 {
        return true;
    }
    // Baselines of the left column, sorted, so each right run is matched by binary search.
    let mut ys: Vec<(f32, f32)> = left.iter().map(|l| (l.y, l.size)).collect();
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    let shared = right
        .iter()
        .filter(|r| {
            let i = ys.partition_point(|(y, _)| *y < r.y);
            [i.wrapping_sub(1), i]
                .iter()
                .filter_map(|&k| ys.get(k))
                .any(|(y, size)| (y - r.y).abs() < 0.4 * size.max(r.size))
        })
        .count();
    let datey = right.iter().filter(|r| looks_like_row_end(&r.text)).count();
    shared * 10 >= right.len() * 6 && datey * 2 >= right.len()
}

fn looks_like_row_end(t: &str) -> bool {
    let t = t.trim();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let words = t.split_whitespace().count();
    let _ = words;
    digits >= 4 || crate::fields::dates::has_current_word(t)
}

fn median(mut v: Vec<f32>) -> f32 {
    if v.is_empty() {
        return 10.0;
    }
    let m = v.len() / 2;
    v.select_nth_unstable_by(m, f32::total_cmp);
    v[m]
}

/// Writes runs as lines: runs on one baseline joined (a wide gap becomes a tab), a blank line
/// where the vertical gap is large.
fn write_lines(mut runs: Vec<Run>, out: &mut String) {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut lines: Vec<Vec<Run>> = Vec::new();
    let mut line_size = 0.0f32;
    for r in runs {
        if let Some(line) = lines.last_mut() {
            let ly = line[0].y;
            if (r.y - ly).abs() < 0.45 * line_size.max(r.size) {
                line_size = line_size.max(r.size);
                line.push(r);
                continue;
            }
        }
        line_size = r.size;
        lines.push(vec![r]);
    }
    let mut prev: Option<(f32, f32)> = None;
    for mut line in lines {
        line.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let y = line[0].y;
        let size = line.iter().map(|r| r.size).fold(0.0, f32::max);
        if let Some((py, ps)) = prev
            && y - py > 1.9 * ps.max(size)
        {
            out.push('\n');
        }
        prev = Some((y, size));
        let mut x1 = f32::NEG_INFINITY;
        for (k, r) in line.iter().enumerate() {
            if k > 0 {
                let gap = r.x0 - x1;
                if gap > 1.5 * size {
                    out.push('\t');
                } else if gap > 0.1 * size {
                    out.push(' ');
                }
            }
            out.push_str(&r.text);
            x1 = x1.max(r.x1);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: &[(f32, f32, &str)]) -> Page {
        // Each item is a run of 5-unit-wide glyphs at (x, y), size 10.
        let mut p = Page {
            width: 600.0,
            ..Page::default()
        };
        for &(x, y, s) in items {
            let mut gx = x;
            for ch in s.chars() {
                if ch == ' ' {
                    gx += 3.0;
                    continue;
                }
                let start = p.text.len() as u32;
                p.text.push(ch);
                p.glyphs.push(Glyph {
                    x: gx,
                    y,
                    w: 5.0,
                    size: 10.0,
                    start,
                    len: ch.len_utf8() as u8,
                });
                gx += 5.0;
            }
        }
        p
    }

    #[test]
    fn two_columns_come_out_one_after_the_other() {
        let mut items = vec![(200.0, 40.0, "Jane Doe")];
        for i in 0..8 {
            let y = 80.0 + 14.0 * i as f32;
            items.push((40.0, y, "left side text"));
            items.push((300.0, y + 3.0, "right column words"));
        }
        let text = pages_to_text(&[page(&items)]);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines[0], "Jane Doe");
        assert!(lines[1..9].iter().all(|l| *l == "left side text"), "{text}");
        assert!(
            lines[9..17].iter().all(|l| *l == "right column words"),
            "{text}"
        );
    }

    #[test]
    fn dates_on_the_right_edge_stay_on_their_row() {
        let mut items = Vec::new();
        for i in 0..6 {
            let y = 80.0 + 30.0 * i as f32;
            items.push((40.0, y, "Engineer at Acme"));
            items.push((400.0, y, "2019 - 2021"));
            items.push((40.0, y + 14.0, "Built things"));
        }
        let text = pages_to_text(&[page(&items)]);
        assert!(text.contains("Engineer at Acme\t2019 - 2021"), "{text}");
    }
}
