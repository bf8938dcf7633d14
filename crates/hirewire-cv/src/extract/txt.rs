//! Plain text: UTF-8, UTF-16 with a byte-order mark, or a single-byte Western encoding.

/// Decodes `bytes` as text, never failing: UTF-8 (BOM stripped), UTF-16 with a BOM, else
/// Windows-1252, the usual encoding of old Western text files.
pub fn decode(bytes: &[u8]) -> String {
    decode_with(bytes, true).unwrap_or_default()
}

/// Like [`decode`], but for sniffing: bytes 0x80–0x9F stay C1 controls under the single-byte
/// fallback, so binary files look binary.
pub(crate) fn decode_strict(bytes: &[u8]) -> Option<String> {
    decode_with(bytes, false)
}

fn decode_with(bytes: &[u8], cp1252: bool) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return Some(String::from_utf8_lossy(rest).into_owned());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return Some(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return Some(utf16(rest, u16::from_be_bytes));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(s.to_owned());
    }
    // Valid UTF-8 cut in the middle of a character (a truncated upload) is still UTF-8.
    if let Err(e) = std::str::from_utf8(bytes)
        && e.error_len().is_none()
        && bytes.len() - e.valid_up_to() < 4
    {
        return Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned());
    }
    Some(bytes.iter().map(|&b| single_byte(b, cp1252)).collect())
}

fn utf16(bytes: &[u8], f: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| f([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .collect()
}

fn single_byte(b: u8, cp1252: bool) -> char {
    if cp1252 {
        let c = match b {
            0x80 => '€',
            0x82 => '‚',
            0x84 => '„',
            0x85 => '…',
            0x8a => 'Š',
            0x8c => 'Œ',
            0x8e => 'Ž',
            0x91 => '\u{2018}',
            0x92 => '\u{2019}',
            0x93 => '\u{201c}',
            0x94 => '\u{201d}',
            0x95 => '•',
            0x96 => '–',
            0x97 => '—',
            0x99 => '™',
            0x9a => 'š',
            0x9c => 'œ',
            0x9e => 'ž',
            0x9f => 'Ÿ',
            _ => b as char,
        };
        return c;
    }
    b as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_and_fallbacks() {
        assert_eq!(decode(b"\xef\xbb\xbfJos\xc3\xa9"), "José");
        assert_eq!(decode(b"\xff\xfeJ\0o\0"), "Jo");
        assert_eq!(decode(b"\xfe\xff\0J\0o"), "Jo");
        assert_eq!(decode(b"Jos\xe9 \x96 Paris"), "José – Paris");
        assert_eq!(decode(b"caf\xc3"), "caf");
    }
}
