//! The folding that makes two spellings of a skill the same key.

/// Folds a skill spelling into its lookup key: lower case, surrounding whitespace and
/// punctuation dropped, and inner separators (space, `-`, `_`, `/`, `.`) removed, so
/// "Node.js", "nodejs" and "node js" meet. A leading `.` (".NET") and trailing `#`/`+`
/// ("C#", "C++") are kept because they are what tells those skills apart from "NET" and "C".
/// `scripts/taxonomy/build.py` mirrors this to deduplicate the data.
pub fn fold(raw: &str) -> String {
    let mut out = String::new();
    fold_into(raw, &mut out);
    out
}

/// [`fold`] into a reused buffer, sparing the parse one allocation per form.
pub(crate) fn fold_into(raw: &str, out: &mut String) {
    out.clear();
    if raw.is_ascii() {
        return fold_ascii(raw.as_bytes(), out);
    }
    let s = raw.trim();
    let start = s
        .char_indices()
        .find(|&(i, c)| is_word(c) || (c == '.' && s[i + 1..].chars().next().is_some_and(is_word)));
    let Some((start, _)) = start else {
        return;
    };
    let s = &s[start..];
    let end = s
        .char_indices()
        .rev()
        .find(|&(_, c)| is_word(c) || c == '#' || c == '+')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let s = &s[..end];
    for (i, c) in s.char_indices() {
        if c.is_whitespace() || matches!(c, '-' | '_' | '/') || (c == '.' && i != 0) {
            continue;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// Letters, digits and `_`: what may not touch a skill mention on either side.
pub(crate) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// [`fold`] for ASCII input, which is nearly all of it: bytes instead of chars, about 3× faster.
fn fold_ascii(b: &[u8], out: &mut String) {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let Some(start) = (0..b.len())
        .find(|&i| word(b[i]) || (b[i] == b'.' && b.get(i + 1).is_some_and(|&n| word(n))))
    else {
        return;
    };
    let end = (start..b.len())
        .rev()
        .find(|&i| word(b[i]) || b[i] == b'#' || b[i] == b'+')
        .map_or(start, |i| i + 1);
    for (i, &c) in b[start..end].iter().enumerate() {
        if c.is_ascii_whitespace() || matches!(c, b'-' | b'_' | b'/') || (c == b'.' && i != 0) {
            continue;
        }
        out.push(c.to_ascii_lowercase() as char);
    }
}

/// A 64-bit digest of a folded key: the lookup map stores these instead of 30,000 strings,
/// and every hit is confirmed against the skill's own forms, so a collision cannot lie.
pub(crate) fn key_hash(folded: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(folded.as_bytes());
    // Fx leaves the last word's bits poorly spread; a final mix (from splitmix64) fixes that.
    let mut x = h.finish() ^ folded.len() as u64;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FxHash: the keys are our own data, so a fast non-keyed hash is safe and halves the
/// cost of building the lookup map.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// `BuildHasher` for [`FxHasher`].
pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;
