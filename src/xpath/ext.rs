//! The pure parts of Synapse's XPath extension functions, so that a [`super::Host`] only
//! routes calls: `base64Encode`, `base64Decode` and `url-encode`, all over UTF-8 text.
//!
//! Written here rather than pulled from crates: each is a few lines, and the exact
//! behaviour (Java's `URLEncoder` form encoding, lenient decoding) matters more than
//! generality.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Synapse `base64Encode(s)`: standard Base64 (with padding, no line breaks) of the UTF-8
/// bytes of `s`.
pub fn base64_encode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(B64[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Synapse `base64Decode(s)`: decodes standard or URL-safe Base64, ignoring whitespace,
/// with or without padding, and reads the bytes as UTF-8 (invalid sequences become
/// U+FFFD, as Java's `new String(bytes, UTF_8)` does). Input that is not Base64 at all
/// gives the empty string: XPath functions do not fail on data.
pub fn base64_decode(s: &str) -> String {
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut padding = 0usize;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return String::new(),
        };
        if padding > 0 {
            // data after padding
            return String::new();
        }
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    // A single leftover sextet cannot encode a byte.
    if nbits >= 6 || padding > 2 {
        return String::new();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Synapse `url-encode(s)`: `application/x-www-form-urlencoded` encoding of the UTF-8
/// bytes, as Java's `URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` stay,
/// space becomes `+`, every other byte `%XX` (upper-case hex).
pub fn url_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for (plain, coded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("IBM stock ✓", "SUJNIHN0b2NrIOKckw==")] {
            assert_eq!(base64_encode(plain), coded);
            assert_eq!(base64_decode(coded), plain);
        }
        assert_eq!(base64_decode("Zm9v\nYg"), "foob");
        assert_eq!(base64_decode("not base64!"), "");
        assert_eq!(base64_decode("Zg==Zg"), "");
        assert_eq!(base64_decode("Z"), "");
        assert_eq!(base64_decode("/w=="), "\u{FFFD}");
    }

    #[test]
    fn url_encoding_is_form_encoding() {
        assert_eq!(url_encode("a b&c=d/é*~"), "a+b%26c%3Dd%2F%C3%A9*%7E");
        assert_eq!(url_encode("IBM"), "IBM");
    }
}
