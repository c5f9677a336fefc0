//! A client certificate forwarded by a TLS-terminating load balancer in an HTTP header
//! (`ClientCertificateHeader`, e.g. `X-WSO2-CLIENT-CERTIFICATE`).
//!
//! The header is believed only from addresses in `TrustedProxies`, and what it carries is
//! then verified exactly like a certificate from a TLS handshake. It may hold PEM,
//! URL-encoded PEM (nginx's `$ssl_client_escaped_cert`), or base64 DER (RFC 9440's
//! `Client-Cert` form, with or without the surrounding colons). Decoding is bounded.

use std::net::IpAddr;

use openssl::x509::X509;

/// The most a forwarded certificate header may hold (a chain of a few certificates).
pub const MAX_HEADER: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the certificate header is larger than {MAX_HEADER} bytes")]
    TooLarge,
    #[error("the certificate header holds no certificate it can read (PEM, URL-encoded PEM or base64 DER)")]
    Unreadable,
}

/// The certificates in a header value: the client's first, then any intermediates.
pub fn decode(value: &[u8]) -> Result<Vec<X509>, HeaderError> {
    if value.len() > MAX_HEADER {
        return Err(HeaderError::TooLarge);
    }
    let text = std::str::from_utf8(value).map_err(|_| HeaderError::Unreadable)?.trim();
    let pem = if text.contains("-----BEGIN") || text.contains("%2D%2D%2D%2D%2DBEGIN") {
        // URL-encoded PEM has `%` escapes, which base64 never contains; a literal `+` there
        // is base64, not an encoded space.
        Some(if text.contains('%') { crate::message::query::percent_decode(&text.replace('+', "%2B")) } else { text.to_string() })
    } else {
        None
    };
    let certs = match pem {
        // Some proxies fold the PEM onto one line with spaces for newlines.
        Some(p) => X509::stack_from_pem(unfold(&p).as_bytes()).map_err(|_| HeaderError::Unreadable)?,
        None => {
            let der = base64_decode(text.trim_matches(':')).ok_or(HeaderError::Unreadable)?;
            vec![X509::from_der(&der).map_err(|_| HeaderError::Unreadable)?]
        }
    };
    if certs.is_empty() {
        return Err(HeaderError::Unreadable);
    }
    Ok(certs)
}

/// Puts PEM folded onto one line (spaces for line breaks) back into 64-character lines.
fn unfold(pem: &str) -> String {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    if pem.contains('\n') {
        return pem.to_string();
    }
    let mut out = String::new();
    for block in pem.split(BEGIN).skip(1) {
        let body: String = block.split(END).next().unwrap_or("").split_whitespace().collect();
        out.push_str(BEGIN);
        out.push('\n');
        for line in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
    }
    out
}

/// Strict standard base64 (padding optional); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut bits, mut n) = (0u32, 0u32);
    let body = s.trim_end_matches('=');
    if s.len() - body.len() > 2 || body.is_empty() {
        return None;
    }
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

/// One `TrustedProxies` entry: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u8>().ok()?),
            None => {
                let a: IpAddr = s.parse().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on dual-stack sockets.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) >> (8 - rest) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::{self, CertSpec};

    #[test]
    fn every_encoding_decodes_to_the_same_certificate() {
        let ca = pki::self_signed(&CertSpec::ca("CA")).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice"), &ca).unwrap();
        let der = leaf.cert.to_der().unwrap();
        let pem = String::from_utf8(leaf.cert.to_pem().unwrap()).unwrap();
        let url_encoded: String = pem
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let b64 = {
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut s = String::new();
            for c in der.chunks(3) {
                let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..4 {
                    s.push(if i <= c.len() { T[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
                }
            }
            s
        };
        let folded = pem.trim().replace('\n', " ");
        for (what, value) in [("pem", pem.clone()), ("url", url_encoded), ("b64", b64.clone()), ("rfc9440", format!(":{b64}:")), ("folded", folded)] {
            let certs = decode(value.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(certs[0].to_der().unwrap(), der, "{what}");
        }
        assert_eq!(decode(b"garbage!!"), Err(HeaderError::Unreadable));
        assert_eq!(decode(b"QUJD"), Err(HeaderError::Unreadable), "valid base64, not DER");
        assert_eq!(decode(&vec![b'A'; MAX_HEADER + 1]), Err(HeaderError::TooLarge));
    }

    #[test]
    fn cidr_blocks() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()) && !c.contains("10.2.0.1".parse().unwrap()));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1/128").unwrap().contains("::1".parse().unwrap()));
        assert!(!Cidr::parse("192.168.0.0/24").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none() && Cidr::parse("nope").is_none());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    }
}
