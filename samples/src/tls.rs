//! Loading of key stores (our own certificate and private key) and trust
//! stores (the certificates we accept from peers), shared by the sample
//! server and client. Key stores are PKCS#12 files or PEM certificate + key;
//! trust stores are PKCS#12 (`.p12`/`.pfx`) or PEM bundles.

use std::fmt;
use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

/// Why a key store or trust store could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open PKCS#12 store {}: {reason}", path.display())]
    Pkcs12 { path: PathBuf, reason: String },
    #[error("cannot parse PEM {what} in {}: {reason}", path.display())]
    Pem {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("{} holds no private key", path.display())]
    NoKey { path: PathBuf },
    #[error("{} holds no certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the private key does not match the certificate in {}", path.display())]
    KeyMismatch { path: PathBuf },
    #[error("TLS setup failed: {}", short_reason(.0))]
    Setup(#[from] ErrorStack),
}

/// Our own certificate, its private key and any intermediate certificates
/// to send along with it.
#[derive(Clone)]
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
    pub chain: Vec<X509>,
}

impl fmt::Debug for Identity {
    // Never print key material, only who the certificate names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("subject", &subject_line(&self.cert))
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Loads a PKCS#12 key store protected by `password`. CA certificates in
    /// the store are sent as the chain.
    pub fn from_pkcs12_file(path: &Path, password: &str) -> Result<Identity, TlsError> {
        let der = read(path)?;
        let parsed = parse_pkcs12(path, &der, password)?;
        let key = parsed.pkey.ok_or_else(|| TlsError::NoKey {
            path: path.to_owned(),
        })?;
        let cert = parsed.cert.ok_or_else(|| TlsError::NoCertificate {
            path: path.to_owned(),
        })?;
        let chain = parsed
            .ca
            .map(|stack| stack.into_iter().collect())
            .unwrap_or_default();
        Identity::checked(path, key, cert, chain)
    }

    /// Loads a PEM certificate (optionally followed by its chain) and an
    /// unencrypted PEM private key.
    pub fn from_pem_files(cert_path: &Path, key_path: &Path) -> Result<Identity, TlsError> {
        let certs = X509::stack_from_pem(&read(cert_path)?).map_err(|e| TlsError::Pem {
            path: cert_path.to_owned(),
            what: "certificate",
            reason: short_reason(&e),
        })?;
        let mut certs = certs.into_iter();
        let cert = certs.next().ok_or_else(|| TlsError::NoCertificate {
            path: cert_path.to_owned(),
        })?;
        let key = PKey::private_key_from_pem(&read(key_path)?).map_err(|e| TlsError::Pem {
            path: key_path.to_owned(),
            what: "private key",
            reason: short_reason(&e),
        })?;
        Identity::checked(cert_path, key, cert, certs.collect())
    }

    fn checked(
        path: &Path,
        key: PKey<Private>,
        cert: X509,
        chain: Vec<X509>,
    ) -> Result<Identity, TlsError> {
        // A mismatch would otherwise only surface as an obscure handshake failure.
        let public = cert.public_key()?;
        if !key.public_eq(&public) {
            return Err(TlsError::KeyMismatch {
                path: path.to_owned(),
            });
        }
        Ok(Identity { key, cert, chain })
    }
}

/// Loads the certificates of a trust store: PKCS#12 for `*.p12` / `*.pfx`
/// (its certificates only; `password` defaults to empty), PEM otherwise.
pub fn load_trust(path: &Path, password: Option<&str>) -> Result<Vec<X509>, TlsError> {
    let data = read(path)?;
    let is_pkcs12 = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("p12") || e.eq_ignore_ascii_case("pfx"));
    let certs: Vec<X509> = if is_pkcs12 {
        let parsed = parse_pkcs12(path, &data, password.unwrap_or(""))?;
        let mut certs: Vec<X509> = parsed
            .ca
            .map(|stack| stack.into_iter().collect())
            .unwrap_or_default();
        certs.extend(parsed.cert);
        certs
    } else {
        X509::stack_from_pem(&data).map_err(|e| TlsError::Pem {
            path: path.to_owned(),
            what: "certificate bundle",
            reason: short_reason(&e),
        })?
    };
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// A one-line rendering of a certificate subject, for logs and errors.
pub fn subject_line(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".into());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reason strings of an OpenSSL error stack, without the library noise.
pub fn short_reason(stack: &ErrorStack) -> String {
    let reasons: Vec<&str> = stack.errors().iter().filter_map(|e| e.reason()).collect();
    if reasons.is_empty() {
        stack.to_string()
    } else {
        reasons.join("; ")
    }
}

fn parse_pkcs12(
    path: &Path,
    der: &[u8],
    password: &str,
) -> Result<openssl::pkcs12::ParsedPkcs12_2, TlsError> {
    let p12 = Pkcs12::from_der(der).map_err(|e| TlsError::Pkcs12 {
        path: path.to_owned(),
        reason: format!("not a PKCS#12 file ({})", short_reason(&e)),
    })?;
    p12.parse2(password).map_err(|e| {
        let reason = short_reason(&e);
        let reason = if reason.contains("mac verify failure") {
            format!("wrong password ({reason})")
        } else {
            reason
        };
        TlsError::Pkcs12 {
            path: path.to_owned(),
            reason,
        }
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{TempDir, TestPki};

    #[test]
    fn loads_pkcs12_identity_and_rejects_wrong_password() {
        let dir = TempDir::new("tls-p12");
        let pki = TestPki::generate(dir.path()).unwrap();
        let id = Identity::from_pkcs12_file(&pki.server_p12, &pki.password).unwrap();
        assert!(subject_line(&id.cert).contains("CN=localhost"));
        assert_eq!(id.chain.len(), 1);
        assert!(format!("{id:?}").contains("CN=localhost"));
        let err = Identity::from_pkcs12_file(&pki.server_p12, "nope").unwrap_err();
        assert!(err.to_string().contains("wrong password"), "{err}");
        let err = Identity::from_pkcs12_file(&pki.truststore_p12, &pki.password).unwrap_err();
        assert!(matches!(err, TlsError::NoKey { .. }), "{err}");
    }

    #[test]
    fn loads_pem_identity_and_detects_mismatch() {
        let dir = TempDir::new("tls-pem");
        let pki = TestPki::generate(dir.path()).unwrap();
        let id = Identity::from_pem_files(&pki.client_cert_pem, &pki.client_key_pem).unwrap();
        assert!(subject_line(&id.cert).contains("CN=sample-client"));
        let err = Identity::from_pem_files(&pki.client_cert_pem, &pki.server_key_pem).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    }

    #[test]
    fn loads_pem_and_pkcs12_trust_stores() {
        let dir = TempDir::new("tls-trust");
        let pki = TestPki::generate(dir.path()).unwrap();
        let pem = load_trust(&pki.ca_pem, None).unwrap();
        assert_eq!(pem.len(), 1);
        let p12 = load_trust(&pki.truststore_p12, Some(&pki.password)).unwrap();
        assert_eq!(p12.len(), 1);
        assert_eq!(pem[0].to_der().unwrap(), p12[0].to_der().unwrap());
    }

    #[test]
    fn reports_missing_and_garbage_files() {
        let dir = TempDir::new("tls-bad");
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            load_trust(&missing, None),
            Err(TlsError::Read { .. })
        ));
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, b"not a certificate").unwrap();
        assert!(load_trust(&garbage, None).is_err());
        let garbage_p12 = dir.path().join("garbage.p12");
        std::fs::write(&garbage_p12, b"not pkcs12").unwrap();
        let err = load_trust(&garbage_p12, Some("x")).unwrap_err();
        assert!(err.to_string().contains("not a PKCS#12"), "{err}");
    }
}
