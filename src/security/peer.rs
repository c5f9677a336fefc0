//! The client's certificate, as verified during the TLS handshake.
//!
//! It is read once per connection and shared by every request on it; mediation and
//! access control look at it through this type.

use openssl::x509::X509;

#[derive(Clone)]
pub struct PeerCertificate {
    /// The client's own certificate.
    pub leaf: X509,
    /// The verified chain from the leaf up to the trust anchor.
    pub chain: Vec<X509>,
}

impl PeerCertificate {
    /// The subject in OpenSSL's one-line form, for logs.
    pub fn subject_for_log(&self) -> String {
        self.leaf
            .subject_name()
            .entries()
            .map(|e| {
                let key = e.object().nid().short_name().unwrap_or("?");
                let val = e.data().to_string().unwrap_or_default();
                format!("{key}={val}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl std::fmt::Debug for PeerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PeerCertificate({})", self.subject_for_log())
    }
}
