//! Per-proxy client authentication: which client certificates a proxy service accepts.
//!
//! Proxy parameters, checked before any mediation:
//! - `mtls.required`: `mandatory` (no verified certificate → 401) or `optional` (served
//!   without one; a certificate that is presented must still pass the lists);
//! - `mtls.allowedSubjects`: `DN;DN;…` — the subject must equal one of them, compared as
//!   normalised RFC 4514 names (see [`DistinguishedName`]);
//! - `mtls.certificates`: `ref,ref,…` — local-entry keys or PEM files (relative to the
//!   mediation folder); the certificate must be one of them, by SHA-256.
//!
//! Failing a list → 403. With `SSLVerifyClient optional` on the listener, proxies with
//! different policies can share it.

use actix_web::http::StatusCode;
use openssl::hash::MessageDigest;
use openssl::x509::X509;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::message::SoapFault;
use crate::security::peer::{DistinguishedName, PeerCertificate};

#[derive(Debug, Default)]
pub struct ClientAuth {
    mandatory: bool,
    subjects: Vec<DistinguishedName>,
    fingerprints: Vec<Vec<u8>>,
}

impl ClientAuth {
    /// Reads the `mtls.*` parameters of a proxy; `None` when it has none.
    pub fn from_parameters(proxy: &Element, b: &mut Builder<'_>) -> Result<Option<ClientAuth>, ConfigError> {
        let mut auth = ClientAuth::default();
        let mut any = false;
        for p in proxy.elements().filter(|p| p.name == "parameter") {
            let value = p.text();
            match p.attr("name").unwrap_or("") {
                "mtls.required" => {
                    auth.mandatory = match value.as_str() {
                        "mandatory" => true,
                        "optional" => false,
                        other => return Err(p.error(format!("mtls.required must be mandatory or optional, not '{other}'"))),
                    }
                }
                "mtls.allowedSubjects" => {
                    for dn in value.split(';').map(str::trim).filter(|d| !d.is_empty()) {
                        auth.subjects.push(DistinguishedName::parse(dn).ok_or_else(|| p.error(format!("'{dn}' is not a distinguished name")))?);
                    }
                }
                "mtls.certificates" => {
                    for r in value.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                        auth.fingerprints.push(fingerprint(&certificate(p, r, b)?, p)?);
                    }
                }
                name if name.starts_with("mtls.") => return Err(p.error(format!("unknown parameter '{name}' (mtls.required, mtls.allowedSubjects, mtls.certificates)"))),
                _ => continue,
            }
            any = true;
        }
        Ok(any.then_some(auth))
    }

    /// `Ok` when the request may go on; otherwise the fault (401 or 403) and why.
    pub fn check(&self, cert: Option<&PeerCertificate>) -> Result<(), SoapFault> {
        let Some(cert) = cert else {
            return if self.mandatory {
                Err(SoapFault::client("client certificate required").with_status(StatusCode::UNAUTHORIZED))
            } else {
                Ok(())
            };
        };
        let not_allowed = || SoapFault::client("client certificate not allowed").with_status(StatusCode::FORBIDDEN);
        if !self.subjects.is_empty() {
            let subject = DistinguishedName::of(cert.leaf.subject_name()).ok_or_else(not_allowed)?;
            if !self.subjects.contains(&subject) {
                return Err(not_allowed());
            }
        }
        if !self.fingerprints.is_empty() {
            let digest = cert.leaf.digest(MessageDigest::sha256()).map_err(|_| not_allowed())?;
            if !self.fingerprints.iter().any(|f| f.as_slice() == &digest[..]) {
                return Err(not_allowed());
            }
        }
        Ok(())
    }
}

/// The certificate a `mtls.certificates` entry names: a local entry, else a PEM file.
fn certificate(p: &Element, r: &str, b: &mut Builder<'_>) -> Result<X509, ConfigError> {
    let pem = match b.local_entry(r, p) {
        Ok(entry) => entry.text(),
        Err(_) => {
            let path = b.base.join(r);
            std::fs::read_to_string(&path).map_err(|e| p.error(format!("'{r}' is neither a local entry nor a readable file ({}: {e})", path.display())))?
        }
    };
    X509::from_pem(pem.trim().as_bytes()).map_err(|_| p.error(format!("'{r}' does not hold a PEM certificate")))
}

fn fingerprint(c: &X509, p: &Element) -> Result<Vec<u8>, ConfigError> {
    c.digest(MessageDigest::sha256()).map(|d| d.to_vec()).map_err(|e| p.error(format!("cannot hash the certificate: {e}")))
}
