//! Rewrites ToUnicode CMaps into a compact equivalent before `pdf-extract` reads them.
//!
//! `pdf-extract` parses each font's CMap with a combinator parser that costs about half of
//! the extraction time of a typical generated CV (PDF writers list every code as its own
//! `bfchar` entry, and the font table is rebuilt on every page). Consecutive entries collapse
//! into `bfrange` runs, entries mapping to U+0000 are dropped, and ranges wide enough to make
//! the parser loop for minutes are clamped.

/// The largest code range kept from a `bfrange` (a 2-byte code space).
const MAX_RANGE: u32 = 0x1_0000;

#[derive(Debug)]
enum Tok {
    Hex(Vec<u8>),
    Open,
    Close,
    Int,
    Op(Vec<u8>),
}

fn tokens(data: &[u8]) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        match c {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => {
                out.push(Tok::Op(b"<<".to_vec()));
                i += 2;
            }
            b'>' if data.get(i + 1) == Some(&b'>') => {
                out.push(Tok::Op(b">>".to_vec()));
                i += 2;
            }
            b'<' => {
                let end = data[i + 1..].iter().position(|&b| b == b'>')? + i + 1;
                let digits: Vec<u8> = data[i + 1..end]
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                if !digits.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let mut bytes = Vec::with_capacity(digits.len().div_ceil(2));
                for pair in digits.chunks(2) {
                    let hi = hex(pair[0]);
                    let lo = pair.get(1).map_or(0, |&d| hex(d));
                    bytes.push(hi << 4 | lo);
                }
                out.push(Tok::Hex(bytes));
                i = end + 1;
            }
            b'[' => {
                out.push(Tok::Open);
                i += 1;
            }
            b']' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'(' => {
                // Literal strings only appear in the header dictionaries; skip them.
                let mut depth = 0usize;
                while i < data.len() {
                    match data[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < data.len()
                    && !data[i].is_ascii_whitespace()
                    && !matches!(
                        data[i],
                        b'<' | b'>' | b'[' | b']' | b'(' | b')' | b'/' | b'%'
                    )
                {
                    i += 1;
                }
                if i == start {
                    // A name's slash.
                    i += 1;
                    continue;
                }
                let word = &data[start..i];
                if word.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
                    out.push(Tok::Int);
                } else {
                    out.push(Tok::Op(word.to_vec()));
                }
            }
        }
    }
    Some(out)
}

fn hex(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    }
}

fn code(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0u32, |a, &x| a << 8 | x as u32)
}

fn hexstr(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push('<');
    for x in b {
        s.push_str(&format!("{x:02X}"));
    }
    s.push('>');
    s
}

/// A compact rewrite of the CMap `data`, or `None` when it uses something this rewrite does
/// not handle (then the original is kept).
pub(crate) fn compact(data: &[u8]) -> Option<Vec<u8>> {
    let toks = tokens(data)?;
    let mut spaces: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut chars: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut ranges: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Op(op) if op == b"usecmap" => return None,
            Tok::Op(op) if op == b"begincodespacerange" => {
                i += 1;
                while let (Some(Tok::Hex(a)), Some(Tok::Hex(b))) = (toks.get(i), toks.get(i + 1)) {
                    spaces.push((a.clone(), b.clone()));
                    i += 2;
                }
            }
            Tok::Op(op) if op == b"beginbfchar" => {
                i += 1;
                while let (Some(Tok::Hex(a)), Some(Tok::Hex(b))) = (toks.get(i), toks.get(i + 1)) {
                    chars.push((a.clone(), b.clone()));
                    i += 2;
                }
            }
            Tok::Op(op) if op == b"beginbfrange" => {
                i += 1;
                loop {
                    match (toks.get(i), toks.get(i + 1), toks.get(i + 2)) {
                        (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Hex(dst))) => {
                            if !(dst.len() == 2 || dst.len() == 4) || lo.len() != hi.len() {
                                return None;
                            }
                            let (l, h) = (code(lo), code(hi));
                            if h < l {
                                i += 3;
                                continue;
                            }
                            let h = h.min(l.saturating_add(MAX_RANGE - 1));
                            let hi = h.to_be_bytes()[4 - lo.len().min(4)..].to_vec();
                            ranges.push((lo.clone(), hi, dst.clone()));
                            i += 3;
                        }
                        (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Open)) => {
                            let (l, h) = (code(lo), code(hi));
                            let mut k = i + 3;
                            let mut c = l;
                            while let Some(Tok::Hex(d)) = toks.get(k) {
                                if c <= h && c - l < MAX_RANGE {
                                    let cb = c.to_be_bytes()[4 - lo.len().min(4)..].to_vec();
                                    chars.push((cb, d.clone()));
                                }
                                c = c.saturating_add(1);
                                k += 1;
                            }
                            if !matches!(toks.get(k), Some(Tok::Close)) {
                                return None;
                            }
                            i = k + 1;
                        }
                        _ => break,
                    }
                }
            }
            _ => i += 1,
        }
    }
    if spaces.is_empty() {
        return None;
    }
    chars.retain(|(c, d)| !c.is_empty() && c.len() <= 4 && d.iter().any(|&b| b != 0));
    chars.sort_by_key(|a| (a.0.len(), code(&a.0)));
    chars.dedup_by(|b, a| a.0 == b.0);
    // Runs of consecutive codes mapping to consecutive single UTF-16 units become ranges.
    let mut singles: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let (c0, d0) = &chars[k];
        let mut j = k + 1;
        if d0.len() == 2 {
            while j < chars.len() {
                let (cp, dp) = &chars[j - 1];
                let (cj, dj) = &chars[j];
                let next = cj.len() == cp.len()
                    && code(cj) == code(cp) + 1
                    && dj.len() == 2
                    && code(dj) == code(dp) + 1
                    && cj[..cj.len() - 1] == c0[..c0.len() - 1]
                    && dj[0] == d0[0];
                if !next {
                    break;
                }
                j += 1;
            }
        }
        if j - k >= 2 {
            ranges.push((c0.clone(), chars[j - 1].0.clone(), d0.clone()));
        } else {
            singles.push((c0.clone(), d0.clone()));
        }
        k = j;
    }
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapType 2 def\n",
    );
    out.push_str(&format!("{} begincodespacerange\n", spaces.len()));
    for (a, b) in &spaces {
        out.push_str(&format!("{} {}\n", hexstr(a), hexstr(b)));
    }
    out.push_str("endcodespacerange\n");
    for chunk in ranges.chunks(100) {
        out.push_str(&format!("{} beginbfrange\n", chunk.len()));
        for (lo, hi, d) in chunk {
            out.push_str(&format!("{} {} {}\n", hexstr(lo), hexstr(hi), hexstr(d)));
        }
        out.push_str("endbfrange\n");
    }
    for chunk in singles.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (c, d) in chunk {
            out.push_str(&format!("{} {}\n", hexstr(c), hexstr(d)));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_become_ranges_and_zeros_go() {
        let cmap = b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<< /Registry (A) /Ordering (B) /Supplement 0 >> def\n1 begincodespacerange\n<00> <7F>\nendcodespacerange\n6 beginbfchar\n<00> <0000>\n<01> <00E9>\n<20> <0020>\n<21> <0021>\n<22> <0022>\n<30> <0031>\nendbfchar\n1 beginbfrange\n<40> <FF> [<0041> <0042>]\nendbfrange\nendcmap\n";
        let out = String::from_utf8(compact(cmap).unwrap()).unwrap();
        assert!(out.contains("<20> <22> <0020>"), "{out}");
        assert!(out.contains("<01> <00E9>"), "{out}");
        assert!(!out.contains("<0000>"), "{out}");
        assert!(out.contains("<40> <41> <0041>"), "{out}");
    }

    #[test]
    fn huge_ranges_are_clamped() {
        let cmap = b"1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange 1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange";
        let out = String::from_utf8(compact(cmap).unwrap()).unwrap();
        assert!(out.contains("<00000000> <0000FFFF> <0041>"), "{out}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(parts in proptest::collection::vec("(<[0-9A-F ]{0,9}>|\\[|\\]|[0-9]{1,3}|begincodespacerange|endcodespacerange|beginbfchar|endbfchar|beginbfrange|endbfrange|begincmap|\\(x\\)|%c\n)", 0..60)) {
            let _ = compact(parts.join(" ").as_bytes());
        }
    }
}
