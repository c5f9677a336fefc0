//! The client's certificate as an identity: verified during the TLS handshake (or, from a
//! trusted load balancer, in a header), read once per connection and shared by every
//! request on it.
//!
//! Mediation sees it as properties (`SSL_CLIENT_S_DN`, `SSL_CLIENT_SHA256`, …, computed on
//! first use), and proxies check it against their allow-lists. Distinguished names are
//! written as RFC 4514 does, and compared after normalising (see [`DistinguishedName`]).

use std::sync::OnceLock;

use openssl::hash::MessageDigest;
use openssl::x509::{X509NameRef, X509};

/// A verified client certificate.
pub struct PeerCertificate {
    /// The client's own certificate.
    pub leaf: X509,
    /// The verified chain from the leaf up to the trust anchor (leaf first).
    pub chain: Vec<X509>,
    derived: OnceLock<Derived>,
}

/// What mediation reads, computed once.
struct Derived {
    subject: String,
    issuer: String,
    common_name: String,
    serial: String,
    sha256: String,
    pem: String,
    chain_pem: String,
}

impl PeerCertificate {
    pub fn new(leaf: X509, chain: Vec<X509>) -> Self {
        PeerCertificate { leaf, chain, derived: OnceLock::new() }
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let pem = |c: &X509| c.to_pem().map(|p| String::from_utf8_lossy(&p).into_owned()).unwrap_or_default();
            let chain_pem = if self.chain.is_empty() { pem(&self.leaf) } else { self.chain.iter().map(pem).collect() };
            Derived {
                subject: rfc4514(self.leaf.subject_name()),
                issuer: rfc4514(self.leaf.issuer_name()),
                common_name: self
                    .leaf
                    .subject_name()
                    .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                    .last()
                    .and_then(|e| e.data().to_string().ok())
                    .unwrap_or_default(),
                serial: self.leaf.serial_number().to_bn().and_then(|b| b.to_hex_str().map(|h| h.to_string())).unwrap_or_default().to_ascii_uppercase(),
                sha256: self.sha256_hex(),
                pem: pem(&self.leaf),
                chain_pem,
            }
        })
    }

    /// The SHA-256 of the certificate's DER, lower-case hex.
    pub fn sha256_hex(&self) -> String {
        self.leaf.digest(MessageDigest::sha256()).map(|d| d.iter().map(|b| format!("{b:02x}")).collect()).unwrap_or_default()
    }

    pub fn subject_dn(&self) -> &str {
        &self.derived().subject
    }

    /// The value of one of the certificate's properties (`SSL_CLIENT_*` in the default
    /// scope; `ssl.client.auth.cert.X509`, the PEM chain, in the axis2 scope as Synapse
    /// names it).
    pub fn property(&self, name: &str) -> Option<&str> {
        let d = self.derived();
        Some(match name {
            "SSL_CLIENT_VERIFY" => "SUCCESS",
            "SSL_CLIENT_S_DN" => &d.subject,
            "SSL_CLIENT_I_DN" => &d.issuer,
            "SSL_CLIENT_S_DN_CN" => &d.common_name,
            "SSL_CLIENT_M_SERIAL" => &d.serial,
            "SSL_CLIENT_SHA256" => &d.sha256,
            "SSL_CLIENT_CERT" => &d.pem,
            AXIS2_CERT_CHAIN => &d.chain_pem,
            _ => return None,
        })
    }
}

/// The axis2-scope property holding the client's PEM chain (Synapse's name).
pub const AXIS2_CERT_CHAIN: &str = "ssl.client.auth.cert.X509";

/// Whether `name` is one of the certificate properties (they cannot be set by mediation).
pub fn is_certificate_property(name: &str) -> bool {
    name.starts_with("SSL_CLIENT_") || name == AXIS2_CERT_CHAIN
}

impl std::fmt::Debug for PeerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PeerCertificate({})", rfc4514(self.leaf.subject_name()))
    }
}

/// A distinguished name as RFC 4514 writes it: last RDN first, comma-separated, special
/// characters escaped. Attribute names are OpenSSL's short names (`CN`, `O`, `emailAddress`),
/// as `openssl x509 -nameopt RFC2253` prints them. Multi-valued RDNs are not visible through
/// the openssl crate and come out as separate RDNs.
pub fn rfc4514(name: &X509NameRef) -> String {
    let parts: Vec<String> = name
        .entries()
        .map(|e| {
            let nid = e.object().nid();
            let key = match nid.short_name() {
                Ok("street") => "STREET".to_string(),
                Ok(s) => s.to_string(),
                Err(_) => e.object().to_string(),
            };
            let value = e.data().to_string().unwrap_or_else(|_| String::from_utf8_lossy(e.data().as_slice()).into_owned());
            format!("{key}={}", escape_rfc4514(&value))
        })
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape_rfc4514(v: &str) -> String {
    let last = v.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// A distinguished name reduced for comparison: attribute types upper-cased (with their
/// common aliases), values unescaped with surrounding spaces removed, and the attributes
/// sorted — so `cn=alice, o=Acme` equals `O=Acme,CN=alice`. Values are compared exactly:
/// no substring or case-folding match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName(Vec<(String, String)>);

impl DistinguishedName {
    /// Parses an RFC 4514 string; `None` when it is not one.
    pub fn parse(s: &str) -> Option<DistinguishedName> {
        let mut attrs = Vec::new();
        let mut chars = s.chars();
        loop {
            let mut key = String::new();
            for c in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            let key = canonical_type(key.trim())?;
            let mut value = String::new();
            let mut escaped = false;
            let mut ended = true;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (true, _) => {
                        value.push(c);
                        escaped = false;
                    }
                    (false, '\\') => escaped = true,
                    (false, ',' | ';' | '+') => {
                        ended = false;
                        break;
                    }
                    (false, _) => value.push(c),
                }
            }
            if escaped {
                return None;
            }
            attrs.push((key, value.trim().to_string()));
            if ended {
                break;
            }
        }
        attrs.sort();
        Some(DistinguishedName(attrs))
    }

    pub fn of(name: &X509NameRef) -> Option<DistinguishedName> {
        DistinguishedName::parse(&rfc4514(name))
    }
}

fn canonical_type(t: &str) -> Option<String> {
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return None;
    }
    let upper = t.to_ascii_uppercase();
    Some(
        match upper.as_str() {
            "EMAILADDRESS" | "E" => "EMAILADDRESS",
            "S" | "ST" => "ST",
            "STREET" => "STREET",
            "SERIALNUMBER" => "SERIALNUMBER",
            other => other,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::{self, CertSpec};

    #[test]
    fn properties_of_a_certificate() {
        let ca = pki::self_signed(&CertSpec::ca("Test CA").with_subject_prefix(&[("O", "Acme")])).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice, the first").with_subject_prefix(&[("C", "US"), ("O", "Acme"), ("OU", "ESB")]), &ca).unwrap();
        let p = PeerCertificate::new(leaf.cert.clone(), vec![leaf.cert.clone(), ca.cert.clone()]);
        assert_eq!(p.property("SSL_CLIENT_S_DN"), Some("CN=alice\\, the first,OU=ESB,O=Acme,C=US"));
        assert_eq!(p.property("SSL_CLIENT_I_DN"), Some("CN=Test CA,O=Acme"));
        assert_eq!(p.property("SSL_CLIENT_S_DN_CN"), Some("alice, the first"));
        assert_eq!(p.property("SSL_CLIENT_VERIFY"), Some("SUCCESS"));
        let serial = p.property("SSL_CLIENT_M_SERIAL").unwrap();
        assert!(!serial.is_empty() && serial.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()), "{serial}");
        let sha = p.property("SSL_CLIENT_SHA256").unwrap();
        assert_eq!(sha.len(), 64);
        assert!(sha.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert!(p.property("SSL_CLIENT_CERT").unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(p.property(AXIS2_CERT_CHAIN).unwrap().matches("BEGIN CERTIFICATE").count(), 2);
        assert!(p.property("SSL_CLIENT_OTHER").is_none());
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_rfc4514("a,b+c\"d\\e;f<g>"), "a\\,b\\+c\\\"d\\\\e\\;f\\<g\\>");
        assert_eq!(escape_rfc4514("#x # "), "\\#x #\\ ");
        assert_eq!(escape_rfc4514(" lead"), "\\ lead");
    }

    #[test]
    fn names_compare_normalised_but_exactly() {
        let a = DistinguishedName::parse("CN=alice,OU=ESB,O=Acme,C=US").unwrap();
        assert_eq!(DistinguishedName::parse(" cn = alice , ou=ESB, O=Acme ,c=US").unwrap(), a);
        assert_eq!(DistinguishedName::parse("C=US,O=Acme,OU=ESB,CN=alice").unwrap(), a, "attribute order does not matter");
        assert_ne!(DistinguishedName::parse("CN=alice,OU=ESB,O=Acme").unwrap(), a, "no subset match");
        assert_ne!(DistinguishedName::parse("CN=Alice,OU=ESB,O=Acme,C=US").unwrap(), a, "values are exact");
        assert_ne!(DistinguishedName::parse("CN=alice2,OU=ESB,O=Acme,C=US").unwrap(), a);
        assert_eq!(DistinguishedName::parse("CN=a\\,b,O=x").unwrap(), DistinguishedName::parse("O=x,CN=a\\,b").unwrap());
        assert!(DistinguishedName::parse("not a dn").is_none());
        assert!(DistinguishedName::parse("CN=x\\").is_none());
    }
}
