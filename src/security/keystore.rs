//! Opening the keystores and truststores that `axis2.xml` names.
//!
//! PKCS#12 (as written by openssl, by JDK 17's keytool, or by `mediate certs`) and PEM are
//! read here; every failure names the `<KeyStore>`/`<TrustStore>` element it came from and
//! says what to check (path, password, contents).

use std::path::Path;

use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use crate::config::axis2::{KeyStoreConfig, StoreType, TrustStoreConfig};
use crate::config::error::{ConfigError, Origin};

/// A private key with its certificate and the chain to present after it.
#[derive(Clone)]
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
    pub chain: Vec<X509>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("subject", &self.cert.subject_name()).finish_non_exhaustive()
    }
}

fn read(origin: &Origin, path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| origin.error(format!("cannot read {what} {}: {e}", path.display())))
}

/// Opens the key entry of a keystore.
pub fn load_identity(cfg: &KeyStoreConfig) -> Result<Identity, ConfigError> {
    let origin = &cfg.origin;
    let bytes = read(origin, &cfg.location, "keystore")?;
    let place = cfg.location.display();
    match cfg.store_type {
        StoreType::Pkcs12 => {
            let parsed = open_pkcs12(origin, &bytes, cfg.password.expose(), &place.to_string())?;
            let key = parsed.pkey.ok_or_else(|| origin.error(format!("keystore {place} holds no private key")))?;
            let cert = parsed.cert.ok_or_else(|| origin.error(format!("keystore {place} holds no certificate for its key")))?;
            let chain = parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default();
            check_pair(origin, &key, &cert, &place.to_string())?;
            Ok(Identity { key, cert, chain })
        }
        StoreType::Pem => {
            let mut certs = X509::stack_from_pem(&bytes)
                .map_err(|e| origin.error(format!("cannot read certificates from {place}: {e}")))?
                .into_iter();
            let cert = certs.next().ok_or_else(|| origin.error(format!("{place} holds no PEM certificate")))?;
            let key_bytes = match &cfg.key_location {
                Some(k) => read(origin, k, "private key")?,
                None => bytes.clone(),
            };
            let key_pw = cfg.key_password.as_ref().unwrap_or(&cfg.password).expose();
            let key = if key_pw.is_empty() {
                PKey::private_key_from_pem(&key_bytes)
            } else {
                PKey::private_key_from_pem_passphrase(&key_bytes, key_pw.as_bytes())
            }
            .map_err(|e| origin.error(format!("cannot read the private key (PEM; put it in Location or KeyLocation): {}", first_reason(&e))))?;
            check_pair(origin, &key, &cert, &place.to_string())?;
            Ok(Identity { key, cert, chain: certs.collect() })
        }
        StoreType::Jks => {
            let key_pw = cfg.key_password.as_ref().map(|s| s.expose());
            let (_, identity) = super::jks::identity(&bytes, cfg.password.expose(), key_pw, &place.to_string())
                .map_err(|e| origin.error(format!("cannot open JKS keystore {place}: {e}{}", e.config_hint())))?;
            check_pair(origin, &identity.key, &identity.cert, &place.to_string())?;
            Ok(identity)
        }
    }
}

/// Opens the trusted certificates of a truststore.
pub fn load_trust(cfg: &TrustStoreConfig) -> Result<Vec<X509>, ConfigError> {
    let origin = &cfg.origin;
    let bytes = read(origin, &cfg.location, "truststore")?;
    let place = cfg.location.display().to_string();
    let certs: Vec<X509> = match cfg.store_type {
        StoreType::Pkcs12 => {
            let parsed = open_pkcs12(origin, &bytes, cfg.password.expose(), &place)?;
            parsed.cert.into_iter().chain(parsed.ca.map(|s| s.into_iter().collect::<Vec<_>>()).unwrap_or_default()).collect()
        }
        StoreType::Pem => X509::stack_from_pem(&bytes).map_err(|e| origin.error(format!("cannot read certificates from {place}: {e}")))?,
        StoreType::Jks => super::jks::trusted_certificates(&bytes, cfg.password.expose())
            .map_err(|e| origin.error(format!("cannot open JKS truststore {place}: {e}{}", e.config_hint())))?,
    };
    if certs.is_empty() {
        return Err(origin.error(format!("truststore {place} holds no certificates")));
    }
    Ok(certs)
}

fn open_pkcs12(origin: &Origin, bytes: &[u8], password: &str, place: &str) -> Result<openssl::pkcs12::ParsedPkcs12_2, ConfigError> {
    let p12 = Pkcs12::from_der(bytes).map_err(|_| origin.error(format!("{place} is not a PKCS#12 file (check <Type>)")))?;
    p12.parse2(password).map_err(|e| {
        let reason = first_reason(&e);
        if reason.contains("mac verify failure") || reason.contains("invalid password") {
            origin.error(format!("cannot open {place}: wrong password"))
        } else {
            origin.error(format!("cannot open {place}: {reason}"))
        }
    })
}

fn check_pair(origin: &Origin, key: &PKey<Private>, cert: &X509, place: &str) -> Result<(), ConfigError> {
    match cert.public_key().map(|pk| pk.public_eq(key)) {
        Ok(true) => Ok(()),
        _ => Err(origin.error(format!("in {place} the private key does not belong to the certificate"))),
    }
}

/// The most specific reason in an OpenSSL error stack, for one-line messages.
pub fn first_reason(e: &openssl::error::ErrorStack) -> String {
    e.errors().first().and_then(|x| x.reason().map(str::to_string)).unwrap_or_else(|| e.to_string())
}
