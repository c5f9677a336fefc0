//! What a client certificate must satisfy before its holder is treated as authenticated,
//! whether it arrived in the TLS handshake or was forwarded by a trusted load balancer.
//!
//! OpenSSL does most of the work: the chain to the receiver's truststore, validity periods,
//! `SSLVerifyDepth`, extendedKeyUsage (purpose `sslclient`) and, with
//! `CertificateRevocationVerifier`, the CRLs. On top of that come rules OpenSSL does not
//! apply by default: a client certificate is not a CA, RSA/DSA keys have at least 2048 bits
//! (the trust anchor's too), and no signature below the trust anchor uses SHA-1 or MD5. A
//! client certificate without extendedKeyUsage is accepted, as RFC 5280 reads an absent
//! extension as "any use".
//!
//! The same [`ClientCertPolicy`] drives both paths: [`ClientCertPolicy::configure_acceptor`]
//! installs it as the listener's verify callback, [`ClientCertPolicy::verify`] runs it on a
//! certificate presented outside TLS. A policy is built from the configuration alone (no
//! global state), so a reload can build a new one and swap it in with a new acceptor.
//!
//! Revocation rule: once any CRL is configured, every CA in a client's chain, the trust
//! anchor included, must have one (OpenSSL's `CRL_CHECK_ALL`, as Envoy does). A chain
//! through a CA without a CRL is refused, so a forgotten CRL shows up on the first
//! handshake instead of silently leaving that CA's certificates unchecked.

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::ssl::{SslContextBuilder, SslFiletype, SslRef, SslVerifyMode};
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{
    CrlStatus, X509Crl, X509ExtendedKeyUsage, X509NameRef, X509PurposeId, X509Ref, X509StoreContext, X509StoreContextRef, X509VerifyResult, X509,
};

use super::keystore::{first_reason, load_trust};
use super::peer::rfc4514;
use crate::config::axis2::ClientVerification;
use crate::config::error::{ConfigError, Origin};

/// RSA and DSA keys shorter than this are refused (NIST SP 800-131A, CA/Browser Forum).
pub const MIN_KEY_BITS: u32 = 2048;

// OpenSSL's X509_V_ERR_* codes; the safe API exposes the numbers only. They are part of
// OpenSSL's stable ABI.
const UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const UNABLE_TO_GET_CRL: i32 = 3;
const CERT_SIGNATURE_FAILURE: i32 = 7;
const CRL_SIGNATURE_FAILURE: i32 = 8;
const CERT_NOT_YET_VALID: i32 = 9;
const CERT_HAS_EXPIRED: i32 = 10;
const CRL_NOT_YET_VALID: i32 = 11;
const CRL_HAS_EXPIRED: i32 = 12;
const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const CERT_CHAIN_TOO_LONG: i32 = 22;
const CERT_REVOKED: i32 = 23;
const PATH_LENGTH_EXCEEDED: i32 = 25;
const INVALID_PURPOSE: i32 = 26;
const CERT_UNTRUSTED: i32 = 27;
const UNABLE_TO_GET_CRL_ISSUER: i32 = 33;
const KEYUSAGE_NO_CRL_SIGN: i32 = 35;
const UNHANDLED_CRITICAL_CRL_EXTENSION: i32 = 36;
const DIFFERENT_CRL_SCOPE: i32 = 44;
const CRL_PATH_VALIDATION_ERROR: i32 = 54;
const EE_KEY_TOO_SMALL: i32 = 66;
const CA_KEY_TOO_SMALL: i32 = 67;
const CA_MD_TOO_WEAK: i32 = 68;
/// X509_V_ERR_INVALID_CA from OpenSSL 3.0 on (it was 24 before).
const INVALID_CA: i32 = 79;

/// Which certificate of the chain a rejection is about. Displays as nothing for the
/// client's own certificate, so the common messages read plainly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Leaf,
    /// A CA certificate (intermediate or trust anchor), by subject.
    Ca(String),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Leaf => Ok(()),
            At::Ca(subject) => write!(f, " (CA certificate {subject})"),
        }
    }
}

/// Why a client certificate was refused; displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateRejected {
    #[error("certificate has expired{0}")]
    Expired(At),
    #[error("certificate is not yet valid{0}")]
    NotYetValid(At),
    #[error("certificate does not chain to a CA in the truststore")]
    Untrusted,
    #[error("certificate chain has more intermediate CAs than SSLVerifyDepth allows ({max})")]
    ChainTooLong { max: u32 },
    #[error("certificate signature is invalid{0}")]
    BadSignature(At),
    #[error("extendedKeyUsage does not allow client authentication{0}")]
    NotForClientAuth(At),
    #[error("certificate is a CA certificate (basicConstraints CA:TRUE), not a client certificate")]
    LeafIsCa,
    #[error("certificate may not act as a CA (basicConstraints or pathLenConstraint){0}")]
    InvalidCa(At),
    #[error("{algorithm} key of {bits} bits is too weak{at}")]
    WeakKey { algorithm: &'static str, bits: u32, at: At },
    #[error("{digest} signature is too weak{at}")]
    WeakSignature { digest: &'static str, at: At },
    #[error("certificate is revoked{0}")]
    Revoked(At),
    #[error("CRL for {issuer} has expired")]
    CrlExpired { issuer: String },
    #[error("CRL for {issuer} is not yet valid")]
    CrlNotYetValid { issuer: String },
    #[error("no CRL for {issuer} (with CertificateRevocationVerifier every CA in the chain needs one)")]
    NoCrl { issuer: String },
    #[error("CRL for {issuer} cannot be used: {reason}")]
    CrlUnusable { issuer: String, reason: String },
    #[error("certificate verification failed: {reason}{at}")]
    Other { reason: String, at: At },
    #[error("certificate could not be checked: {0}")]
    Internal(String),
}

impl From<ErrorStack> for CertificateRejected {
    fn from(e: ErrorStack) -> Self {
        CertificateRejected::Internal(first_reason(&e))
    }
}

/// One `<CRLFile>`, as read at start-up.
struct CrlFile {
    path: PathBuf,
    filetype: SslFiletype,
    crls: Vec<X509Crl>,
    origin: Origin,
}

struct Inner {
    /// Trust anchors, CRLs, flags, depth and purpose: what OpenSSL checks.
    store: X509Store,
    /// The same without CRLs, for the SoftFail path (see [`ClientCertPolicy::verify`]).
    store_without_crls: X509Store,
    anchors: Vec<X509>,
    crl_files: Vec<CrlFile>,
    soft_fail: bool,
    depth: u32,
    /// The https receiver, for errors found when the policy is installed.
    origin: Origin,
}

/// The checks for client certificates of one https receiver. Cheap to clone (shared).
#[derive(Clone)]
pub struct ClientCertPolicy {
    inner: Arc<Inner>,
}

impl fmt::Debug for ClientCertPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertPolicy")
            .field("anchors", &self.inner.anchors.len())
            .field("crls", &self.inner.crl_files.iter().map(|c| c.crls.len()).sum::<usize>())
            .field("soft_fail", &self.inner.soft_fail)
            .field("depth", &self.inner.depth)
            .finish()
    }
}

impl ClientCertPolicy {
    /// Opens the receiver's truststore and CRL files. Unreadable CRLs are errors naming the
    /// `<CRLFile>` line and, for PEM, the line in the CRL file.
    pub fn from_config(cfg: &ClientVerification) -> Result<ClientCertPolicy, ConfigError> {
        let anchors = cfg.truststore.as_ref().map(load_trust).transpose()?.unwrap_or_default();
        let crl_files = cfg.crl_files.iter().map(|(path, origin)| read_crl_file(path, origin)).collect::<Result<Vec<_>, _>>()?;
        let build = |with_crls: bool| -> Result<X509Store, ConfigError> {
            build_store(&anchors, if with_crls { &crl_files } else { &[] }, cfg.verify_depth).map_err(|e| match e {
                StoreError::Config(e) => e,
                StoreError::OpenSsl(e) => cfg.origin.error(format!("cannot build the client certificate store: {}", first_reason(&e))),
            })
        };
        let store = build(true)?;
        let store_without_crls = build(false)?;
        Ok(ClientCertPolicy {
            inner: Arc::new(Inner {
                store,
                store_without_crls,
                anchors,
                crl_files,
                soft_fail: cfg.crl_soft_fail,
                depth: cfg.verify_depth,
                origin: cfg.origin.clone(),
            }),
        })
    }

    /// The trust anchors (their names go into the TLS CertificateRequest).
    pub fn anchors(&self) -> &[X509] {
        &self.inner.anchors
    }

    /// Whether CRLs are checked.
    pub fn checks_revocation(&self) -> bool {
        !self.inner.crl_files.is_empty()
    }

    /// Verifies a certificate presented outside TLS (e.g. forwarded in a header): leaf + any
    /// intermediates it came with. Rejections are not logged here: the caller knows the
    /// peer's address and logs once, with [`certificate_for_log`].
    /// On success, the verified chain, leaf first, trust anchor last.
    pub fn verify(&self, leaf: &X509, intermediates: &[X509]) -> Result<Vec<X509>, CertificateRejected> {
        let chain = match openssl_verify(&self.inner.store, leaf, intermediates, self.inner.depth)? {
            Ok(chain) => chain,
            Err(failure) if failure.code == CRL_HAS_EXPIRED && self.inner.soft_fail => {
                log_soft_fail(&failure.issuer, leaf);
                // Without a verify callback OpenSSL cannot be told to go on past a stale CRL,
                // so the chain is verified without CRLs and the (stale) lists are read here:
                // a certificate they revoke stays revoked.
                let chain = openssl_verify(&self.inner.store_without_crls, leaf, intermediates, self.inner.depth)?.map_err(|f| f.rejection)?;
                self.check_crls_by_hand(&chain)?;
                chain
            }
            Err(failure) => return Err(failure.rejection),
        };
        let last = chain.len().saturating_sub(1);
        for (depth, cert) in chain.iter().enumerate() {
            extra_checks(cert, depth, depth == last)?;
        }
        Ok(chain)
    }

    /// Makes `b` verify client certificates with this policy: the store (anchors and CRLs),
    /// the depth, and a verify callback adding the checks OpenSSL lacks. Every rejection
    /// fails the handshake, also under `SSLVerifyClient optional`, and is logged once.
    pub fn configure_acceptor(&self, b: &mut SslContextBuilder, mode: SslVerifyMode) -> Result<(), ConfigError> {
        let origin = &self.inner.origin;
        let openssl_err = |e: ErrorStack| origin.error(format!("cannot set up client certificate checks: {}", first_reason(&e)));
        // The store is not shared with verify(): an SSL context takes its store for good.
        let store = build_store(&self.inner.anchors, &self.inner.crl_files, self.inner.depth).map_err(|e| match e {
            StoreError::OpenSsl(e) => openssl_err(e),
            StoreError::Config(e) => e,
        })?;
        b.set_cert_store(store);
        b.set_verify_depth(self.inner.depth);
        // The SSL context's parameters are merged over the store's; set the flags on both so
        // neither side can drop CRL checking.
        if self.checks_revocation() {
            b.verify_param_mut().set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL).map_err(openssl_err)?;
        }
        let policy = self.clone();
        b.set_verify_callback(mode, move |preverify_ok, ctx| policy.handshake_verdict(preverify_ok, ctx));
        Ok(())
    }

    /// Makes one connection verify with this policy. A connection copies its verify mode,
    /// callback, depth and flags from the context it started on; one moved to a reloaded
    /// context (whose store it then uses) needs this policy's settings put on it directly.
    pub fn configure_ssl(&self, ssl: &mut SslRef, mode: SslVerifyMode) -> Result<(), ErrorStack> {
        let param = ssl.param_mut();
        param.set_depth(i32::try_from(self.inner.depth).unwrap_or(i32::MAX));
        let crl_flags = X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL;
        if self.checks_revocation() {
            param.set_flags(crl_flags)?;
        } else {
            param.clear_flags(crl_flags)?;
        }
        let policy = self.clone();
        ssl.set_verify_callback(mode, move |preverify_ok, ctx| policy.handshake_verdict(preverify_ok, ctx));
        Ok(())
    }

    /// Bytes that change whenever what this policy accepts changes, for the TLS session id
    /// context: a session must not resume under a different policy.
    pub fn session_context(&self) -> Vec<u8> {
        let mut out = format!("depth={};soft_fail={};", self.inner.depth, self.inner.soft_fail).into_bytes();
        for crl in self.inner.crl_files.iter().flat_map(|f| &f.crls) {
            out.extend(crl.to_der().unwrap_or_default());
        }
        out
    }

    /// Logs what an operator should know about the configuration at start-up: CRLs already
    /// past their nextUpdate, and truststore CAs that no CRL covers (their clients will be
    /// refused while revocation is checked).
    pub fn log_configuration_warnings(&self) {
        if !self.checks_revocation() {
            return;
        }
        for file in &self.inner.crl_files {
            for crl in &file.crls {
                if crl_has_expired(crl) {
                    let then = crl.next_update().map(|t| t.to_string()).unwrap_or_default();
                    let consequence = if self.inner.soft_fail {
                        "it is used anyway (SoftFail)"
                    } else {
                        "every certificate it covers is refused until it is replaced"
                    };
                    log::warn!("{}: the CRL for {} in {} expired at {then}; {consequence}", file.origin, name_for_log(crl.issuer_name()), file.path.display());
                }
            }
        }
        for anchor in &self.inner.anchors {
            if self.crls_issued_by(anchor).next().is_none() {
                log::warn!(
                    "no configured CRL is issued by truststore CA {}: its client certificates will be refused while CertificateRevocationVerifier is enabled",
                    name_for_log(anchor.subject_name())
                );
            }
        }
    }

    fn crls_issued_by<'a>(&'a self, issuer: &'a X509Ref) -> impl Iterator<Item = &'a X509Crl> + 'a {
        self.inner.crl_files.iter().flat_map(|f| &f.crls).filter(move |crl| {
            same_name(crl.issuer_name(), issuer.subject_name())
                && issuer.public_key().and_then(|k| crl.verify(&k)).unwrap_or(false)
        })
    }

    /// Revocation as `CRL_CHECK_ALL` does it, on an already verified chain: each certificate
    /// against the CRLs its issuer signed, which must exist. A trust anchor that did not
    /// issue itself has no issuer here to ask, and is not checked.
    fn check_crls_by_hand(&self, chain: &[X509]) -> Result<(), CertificateRejected> {
        for (depth, cert) in chain.iter().enumerate() {
            let issuer = match chain.get(depth + 1) {
                Some(i) => i,
                None if same_name(cert.issuer_name(), cert.subject_name()) => cert,
                None => continue,
            };
            let mut crls = self.crls_issued_by(issuer).peekable();
            if crls.peek().is_none() {
                return Err(CertificateRejected::NoCrl { issuer: name_for_log(cert.issuer_name()) });
            }
            for crl in crls {
                if let CrlStatus::Revoked(_) = crl.get_by_cert(cert) {
                    return Err(CertificateRejected::Revoked(at(cert, depth)));
                }
            }
        }
        Ok(())
    }

    /// The verify callback: OpenSSL's verdict on one certificate (`preverify_ok`), then ours.
    fn handshake_verdict(&self, preverify_ok: bool, ctx: &mut X509StoreContextRef) -> bool {
        let depth = ctx.error_depth() as usize;
        let leaf = ctx.chain().and_then(|c| c.get(0)).or(ctx.current_cert()).map(X509Ref::to_owned);
        let verdict = if preverify_ok {
            // OpenSSL calls with `true` once per certificate, trust anchor first, after
            // checking its signature and dates.
            let last = ctx.chain().map(|c| c.len().saturating_sub(1)).unwrap_or(0);
            match ctx.current_cert() {
                Some(cert) => extra_checks(cert, depth, depth == last),
                None => Ok(()),
            }
        } else {
            let code = ctx.error().as_raw();
            let cert = ctx.current_cert();
            if code == CRL_HAS_EXPIRED && self.inner.soft_fail {
                // Going on lets OpenSSL still read the stale CRL: what it revokes stays revoked.
                // A self-issued CA is checked against the CRL it issued itself, which was
                // already reported for the certificate below it.
                let repeated = depth > 0 && cert.is_some_and(|c| same_name(c.issuer_name(), c.subject_name()));
                if let (Some(leaf), Some(cert), false) = (&leaf, cert, repeated) {
                    log_soft_fail(&name_for_log(cert.issuer_name()), leaf);
                }
                return true;
            }
            Err(rejection(code, ctx.error().error_string(), depth, cert, self.inner.depth))
        };
        match verdict {
            Ok(()) => true,
            Err(reason) => {
                if preverify_ok {
                    ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
                }
                let who = leaf.as_deref().map(certificate_for_log).unwrap_or_else(|| "no certificate".into());
                log::warn!("client certificate refused in the TLS handshake: {reason}; {who}");
                false
            }
        }
    }
}

/// `subject "…", SHA-256 …` of a certificate, for log lines about it.
pub fn certificate_for_log(cert: &X509Ref) -> String {
    let fingerprint: String = cert.digest(MessageDigest::sha256()).map(|d| d.iter().map(|b| format!("{b:02x}")).collect()).unwrap_or_default();
    format!("subject \"{}\", SHA-256 {fingerprint}", name_for_log(cert.subject_name()))
}

fn log_soft_fail(issuer: &str, leaf: &X509Ref) {
    log::warn!("CRL for {issuer} has expired; SoftFail is true, so the client certificate is checked against it anyway; {}", certificate_for_log(leaf));
}

/// A name as RFC 4514 text, with control characters escaped: names come from certificates
/// anyone can make, and must not forge log lines.
fn name_for_log(name: &X509NameRef) -> String {
    let mut out = String::new();
    for c in rfc4514(name).chars() {
        if c.is_control() {
            out.push_str(&format!("\\{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether two names are equal as X.509 compares them (canonical form).
pub(crate) fn same_name(a: &X509NameRef, b: &X509NameRef) -> bool {
    matches!(a.try_cmp(b), Ok(Ordering::Equal))
}

fn at(cert: &X509Ref, depth: usize) -> At {
    if depth == 0 {
        At::Leaf
    } else {
        At::Ca(name_for_log(cert.subject_name()))
    }
}

fn crl_has_expired(crl: &X509Crl) -> bool {
    match (crl.next_update(), Asn1Time::days_from_now(0)) {
        (Some(next), Ok(now)) => next < now,
        _ => false,
    }
}

/// The rules OpenSSL does not apply by default, for the certificate at `depth` (0 = the
/// client's own). The trust anchor's self-signature is not looked at: it is trusted because
/// it is configured, not because of how it signed itself.
fn extra_checks(cert: &X509Ref, depth: usize, is_anchor: bool) -> Result<(), CertificateRejected> {
    let at = at(cert, depth);
    if depth == 0 {
        // OpenSSL's `sslclient` purpose does not take anyExtendedKeyUsage for clientAuth
        // either; the two paths must agree.
        if cert.extended_key_usage().is_some_and(|eku| !eku.contains(X509ExtendedKeyUsage::SSL_CLIENT)) {
            return Err(CertificateRejected::NotForClientAuth(At::Leaf));
        }
        if basic_constraints_ca(&cert.to_der()?).ok_or_else(|| CertificateRejected::Internal("cannot read the certificate's extensions".into()))? {
            return Err(CertificateRejected::LeafIsCa);
        }
    }
    let key = cert.public_key()?;
    let algorithm = match key.id() {
        Id::RSA | Id::RSA_PSS => Some("RSA"),
        Id::DSA => Some("DSA"),
        _ => None,
    };
    if let Some(algorithm) = algorithm {
        if key.bits() < MIN_KEY_BITS {
            return Err(CertificateRejected::WeakKey { algorithm, bits: key.bits(), at });
        }
    }
    if !is_anchor {
        if let Some(digest) = weak_digest(cert) {
            return Err(CertificateRejected::WeakSignature { digest, at });
        }
    }
    Ok(())
}

/// The name of a broken digest the certificate is signed with, if it is.
fn weak_digest(cert: &X509Ref) -> Option<&'static str> {
    let algorithms = cert.signature_algorithm().object().nid().signature_algorithms()?;
    match algorithms.digest {
        Nid::SHA1 => Some("SHA-1"),
        Nid::MD5 | Nid::MD5_SHA1 => Some("MD5"),
        Nid::MD4 => Some("MD4"),
        Nid::MD2 => Some("MD2"),
        _ => None,
    }
}

/// Whether basicConstraints says CA:TRUE (`None` if the DER cannot be walked). The safe
/// openssl API has no accessor for it, so the extension is read from the certificate.
fn basic_constraints_ca(der: &[u8]) -> Option<bool> {
    const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13]; // 2.5.29.19
    let (_, cert, _) = der_tlv(der)?;
    let (_, mut tbs, _) = der_tlv(cert)?;
    while !tbs.is_empty() {
        let (tag, content, rest) = der_tlv(tbs)?;
        tbs = rest;
        if tag != 0xa3 {
            continue;
        }
        let (_, mut extensions, _) = der_tlv(content)?;
        while !extensions.is_empty() {
            let (_, extension, rest) = der_tlv(extensions)?;
            extensions = rest;
            let (oid_tag, oid, mut fields) = der_tlv(extension)?;
            if oid_tag != 0x06 || oid != BASIC_CONSTRAINTS {
                continue;
            }
            let (mut tag, mut value, rest) = der_tlv(fields)?;
            if tag == 0x01 {
                // the `critical` flag
                fields = rest;
                (tag, value, _) = der_tlv(fields)?;
            }
            if tag != 0x04 {
                return None;
            }
            let (_, constraints, _) = der_tlv(value)?;
            return Some(match der_tlv(constraints) {
                Some((0x01, flag, _)) => flag.first().is_some_and(|b| *b != 0),
                _ => false,
            });
        }
        return Some(false);
    }
    Some(false)
}

/// One DER element: (tag, content, what follows). Single-byte tags and definite lengths
/// only, which is all DER certificates use.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        (bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

/// Why OpenSSL stopped, turned into our reason.
struct Failure {
    code: i32,
    issuer: String,
    rejection: CertificateRejected,
}

/// Runs OpenSSL's verification: the verified chain, or why it failed.
fn openssl_verify(store: &X509Store, leaf: &X509, intermediates: &[X509], max_depth: u32) -> Result<Result<Vec<X509>, Failure>, ErrorStack> {
    let mut untrusted = Stack::new()?;
    for c in intermediates {
        untrusted.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(store, leaf, &untrusted, |ctx| {
        if ctx.verify_cert()? {
            let chain = ctx.chain().map(|c| c.iter().map(X509Ref::to_owned).collect()).unwrap_or_default();
            return Ok(Ok(chain));
        }
        let code = ctx.error().as_raw();
        let cert = ctx.current_cert();
        Ok(Err(Failure {
            code,
            issuer: cert.map(|c| name_for_log(c.issuer_name())).unwrap_or_default(),
            rejection: rejection(code, ctx.error().error_string(), ctx.error_depth() as usize, cert, max_depth),
        }))
    })
}

/// Our reason for an OpenSSL verification error about `cert` at `depth`.
fn rejection(code: i32, openssl_reason: &str, depth: usize, cert: Option<&X509Ref>, max_depth: u32) -> CertificateRejected {
    let at = cert.map(|c| at(c, depth)).unwrap_or(At::Leaf);
    let crl_issuer = || cert.map(|c| name_for_log(c.issuer_name())).unwrap_or_else(|| "an unknown issuer".into());
    match code {
        CERT_HAS_EXPIRED => CertificateRejected::Expired(at),
        CERT_NOT_YET_VALID => CertificateRejected::NotYetValid(at),
        UNABLE_TO_GET_ISSUER_CERT | UNABLE_TO_GET_ISSUER_CERT_LOCALLY | UNABLE_TO_VERIFY_LEAF_SIGNATURE | DEPTH_ZERO_SELF_SIGNED_CERT
        | SELF_SIGNED_CERT_IN_CHAIN | CERT_UNTRUSTED => CertificateRejected::Untrusted,
        CERT_CHAIN_TOO_LONG => CertificateRejected::ChainTooLong { max: max_depth },
        CERT_SIGNATURE_FAILURE => CertificateRejected::BadSignature(at),
        INVALID_PURPOSE => CertificateRejected::NotForClientAuth(at),
        INVALID_CA | PATH_LENGTH_EXCEEDED => CertificateRejected::InvalidCa(at),
        CERT_REVOKED => CertificateRejected::Revoked(at),
        CRL_HAS_EXPIRED => CertificateRejected::CrlExpired { issuer: crl_issuer() },
        CRL_NOT_YET_VALID => CertificateRejected::CrlNotYetValid { issuer: crl_issuer() },
        UNABLE_TO_GET_CRL => CertificateRejected::NoCrl { issuer: crl_issuer() },
        CRL_SIGNATURE_FAILURE | UNABLE_TO_GET_CRL_ISSUER | KEYUSAGE_NO_CRL_SIGN | UNHANDLED_CRITICAL_CRL_EXTENSION | DIFFERENT_CRL_SCOPE
        | CRL_PATH_VALIDATION_ERROR => CertificateRejected::CrlUnusable { issuer: crl_issuer(), reason: openssl_reason.to_string() },
        // OpenSSL's security level got there first; say it the way extra_checks would.
        EE_KEY_TOO_SMALL | CA_KEY_TOO_SMALL | CA_MD_TOO_WEAK => {
            match cert.map(|c| extra_checks(c, depth, false)) {
                Some(Err(ours)) => ours,
                _ => CertificateRejected::Other { reason: openssl_reason.to_string(), at },
            }
        }
        _ => CertificateRejected::Other { reason: openssl_reason.to_string(), at },
    }
}

enum StoreError {
    Config(ConfigError),
    OpenSsl(ErrorStack),
}

impl From<ErrorStack> for StoreError {
    fn from(e: ErrorStack) -> Self {
        StoreError::OpenSsl(e)
    }
}

/// The store OpenSSL verifies against. CRLs can only be added to a store through a file
/// lookup in the safe API, so OpenSSL reads the CRL files itself; it must find exactly the
/// CRLs we parsed, or the file changed under us.
fn build_store(anchors: &[X509], crl_files: &[CrlFile], depth: u32) -> Result<X509Store, StoreError> {
    let mut b = X509StoreBuilder::new()?;
    for c in anchors {
        b.add_cert(c.clone())?;
    }
    let mut param = X509VerifyParam::new()?;
    param.set_depth(i32::try_from(depth).unwrap_or(i32::MAX));
    param.set_purpose(X509PurposeId::SSL_CLIENT)?;
    if !crl_files.is_empty() {
        let lookup = b.add_lookup(X509Lookup::file())?;
        for file in crl_files {
            let loaded = lookup.load_crl_file(&file.path, file.filetype).map_err(|e| {
                StoreError::Config(file.origin.error(format!("OpenSSL cannot load CRL file {}: {}", file.path.display(), first_reason(&e))))
            })?;
            if usize::try_from(loaded).ok() != Some(file.crls.len()) {
                return Err(StoreError::Config(file.origin.error(format!("CRL file {} changed while it was being read; try again", file.path.display()))));
            }
        }
        param.set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL)?;
    }
    b.set_param(&param)?;
    Ok(b.build())
}

/// Reads one `<CRLFile>`: DER (one CRL) or PEM (one or more `X509 CRL` blocks).
fn read_crl_file(path: &Path, origin: &Origin) -> Result<CrlFile, ConfigError> {
    let place = path.display();
    // OpenSSL's file lookup takes the path as a C string (and the crate panics otherwise).
    if path.to_str().is_none_or(|p| p.contains('\0')) {
        return Err(origin.error(format!("the CRL file path {place} is not valid UTF-8")));
    }
    let bytes = std::fs::read(path).map_err(|e| origin.error(format!("cannot read CRL file {place}: {e}")))?;
    let is_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if !is_pem {
        let crl = X509Crl::from_der(&bytes).map_err(|e| origin.error(format!("{place} is not a CRL (neither PEM nor DER): {}", first_reason(&e))))?;
        return Ok(CrlFile { path: path.to_path_buf(), filetype: SslFiletype::ASN1, crls: vec![crl], origin: origin.clone() });
    }
    const BEGIN: &str = "-----BEGIN X509 CRL-----";
    const END: &str = "-----END X509 CRL-----";
    let text = String::from_utf8_lossy(&bytes);
    let mut crls = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim();
        match &mut block {
            None if trimmed == BEGIN => block = Some((line_no, format!("{BEGIN}\n"))),
            None => {}
            Some((start, pem)) => {
                pem.push_str(trimmed);
                pem.push('\n');
                if trimmed == END {
                    let crl = X509Crl::from_pem(pem.as_bytes())
                        .map_err(|e| origin.error(format!("{place}:{start}: not a valid CRL: {}", first_reason(&e))))?;
                    crls.push(crl);
                    block = None;
                }
            }
        }
    }
    if let Some((start, _)) = block {
        return Err(origin.error(format!("{place}:{start}: the CRL has no {END} line")));
    }
    if crls.is_empty() {
        return Err(origin.error(format!("{place} holds no PEM CRL ({BEGIN})")));
    }
    Ok(CrlFile { path: path.to_path_buf(), filetype: SslFiletype::PEM, crls, origin: origin.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::axis2::{self, Transport};
    use crate::security::pki::{self, CertSpec, Digest, Eku, Issued, KeyAlgorithm, Profile};

    /// A CRL signed by `issuer` revoking `revoked`, whose nextUpdate is `next_update` days away.
    fn crl(issuer: &Issued, revoked: &[&X509], next_update: i64) -> X509Crl {
        crate::security::pki::crl(issuer, revoked, None, next_update.min(0) - 7, next_update).unwrap()
    }

    struct Fixture {
        dir: tempfile::TempDir,
        root: Issued,
        /// Issued by `root`.
        int1: Issued,
        /// Issued by `int1`.
        int2: Issued,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let root = pki::self_signed(&CertSpec::ca("Unit Root")).unwrap();
            let int1 = pki::issue(&CertSpec::ca("Unit Int 1"), &root).unwrap();
            let int2 = pki::issue(&CertSpec::ca("Unit Int 2"), &int1).unwrap();
            pki::write_pem_certs(&dir.path().join("trust.pem"), &[&root.cert]).unwrap();
            Fixture { dir, root, int1, int2 }
        }

        fn client(&self, spec: CertSpec) -> X509 {
            pki::issue(&spec, &self.root).unwrap().cert
        }

        fn write(&self, name: &str, bytes: &[u8]) {
            std::fs::write(self.dir.path().join(name), bytes).unwrap();
        }

        fn write_crls(&self, name: &str, crls: &[X509Crl]) {
            let pem: Vec<u8> = crls.iter().flat_map(|c| c.to_pem().unwrap()).collect();
            self.write(name, &pem);
        }

        /// The https receiver's TLS settings from an axis2.xml with `extra` parameters.
        fn config(&self, extra: &str) -> Result<ClientVerification, String> {
            let xml = format!(
                r#"<axisconfig>
  <transportReceiver name="https">
    <parameter name="port">0</parameter>
    <parameter name="keystore"><KeyStore><Location>unused.p12</Location><Password>x</Password></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>trust.pem</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
    {extra}
  </transportReceiver>
</axisconfig>"#
            );
            let path = self.dir.path().join("axis2.xml");
            std::fs::write(&path, xml).unwrap();
            let c = axis2::load(&path).map_err(|e| e.to_string())?;
            Ok(c.receiver(Transport::Https).unwrap().clients.clone())
        }

        fn policy(&self, extra: &str) -> ClientCertPolicy {
            ClientCertPolicy::from_config(&self.config(extra).unwrap()).unwrap()
        }

        fn policy_error(&self, extra: &str) -> String {
            match self.config(extra) {
                Err(e) => e,
                Ok(cfg) => ClientCertPolicy::from_config(&cfg).map(|_| ()).unwrap_err().to_string(),
            }
        }
    }

    const CRLS: &str = r#"<parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>crl.pem</CRLFile></parameter>"#;
    const CRLS_SOFT: &str = r#"<parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>crl.pem</CRLFile><SoftFail>true</SoftFail></parameter>"#;

    fn reason(r: Result<Vec<X509>, CertificateRejected>) -> String {
        match r {
            Ok(chain) => panic!("accepted a chain of {}", chain.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_a_good_client_and_returns_the_chain() {
        let f = Fixture::new();
        let leaf = f.client(CertSpec::client("alice"));
        let chain = f.policy("").verify(&leaf, &[]).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].to_der().unwrap(), leaf.to_der().unwrap());
        assert_eq!(chain[1].to_der().unwrap(), f.root.cert.to_der().unwrap());
    }

    #[test]
    fn refuses_certificates_out_of_their_validity_period() {
        let f = Fixture::new();
        let p = f.policy("");
        assert_eq!(reason(p.verify(&f.client(CertSpec::client("old").valid_days(-60, -1)), &[])), "certificate has expired");
        assert_eq!(reason(p.verify(&f.client(CertSpec::client("new").valid_days(1, 60)), &[])), "certificate is not yet valid");
        let expired_int = pki::issue(&CertSpec::ca("Old Int").valid_days(-60, -1), &f.root).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice"), &expired_int).unwrap().cert;
        assert_eq!(reason(p.verify(&leaf, std::slice::from_ref(&expired_int.cert))), "certificate has expired (CA certificate CN=Old Int)");
    }

    #[test]
    fn refuses_an_untrusted_issuer() {
        let f = Fixture::new();
        let other = pki::self_signed(&CertSpec::ca("Other")).unwrap();
        let leaf = pki::issue(&CertSpec::client("mallory"), &other).unwrap().cert;
        assert_eq!(reason(f.policy("").verify(&leaf, &[])), "certificate does not chain to a CA in the truststore");
        // A policy without a truststore trusts nothing.
        let mut cfg = f.config("").unwrap();
        cfg.truststore = None;
        let p = ClientCertPolicy::from_config(&cfg).unwrap();
        assert!(p.verify(&f.client(CertSpec::client("alice")), &[]).is_err());
    }

    #[test]
    fn extended_key_usage_must_allow_client_auth_when_present() {
        let f = Fixture::new();
        let p = f.policy("");
        let server_only = f.client(CertSpec::client("s").with_eku(vec![Eku::ServerAuth]));
        assert_eq!(reason(p.verify(&server_only, &[])), "extendedKeyUsage does not allow client authentication");
        let code_signing = f.client(CertSpec::client("c").with_eku(vec![Eku::CodeSigning]));
        assert_eq!(reason(p.verify(&code_signing, &[])), "extendedKeyUsage does not allow client authentication");
        // Absent EKU: any use, as RFC 5280 reads it.
        let no_eku = f.client(CertSpec::client("n").with_eku(vec![]));
        assert!(no_eku.extended_key_usage().is_none());
        p.verify(&no_eku, &[]).unwrap();
        let both = f.client(CertSpec::client("b").with_eku(vec![Eku::ServerAuth, Eku::ClientAuth]));
        p.verify(&both, &[]).unwrap();
    }

    #[test]
    fn refuses_a_chain_through_a_certificate_that_is_not_a_ca() {
        let f = Fixture::new();
        let alice = pki::issue(&CertSpec::client("alice"), &f.root).unwrap();
        let mallory = pki::issue(&CertSpec::client("mallory"), &alice).unwrap().cert;
        assert_eq!(
            reason(f.policy("").verify(&mallory, std::slice::from_ref(&alice.cert))),
            "certificate may not act as a CA (basicConstraints or pathLenConstraint) (CA certificate CN=alice)"
        );
    }

    #[test]
    fn refuses_a_ca_certificate_as_client_certificate() {
        let f = Fixture::new();
        let ca_leaf = f.client(CertSpec::client("ca-alice").with_profile(Profile::Ca { path_len: None }).with_eku(vec![Eku::ClientAuth]));
        assert_eq!(
            reason(f.policy("").verify(&ca_leaf, &[])),
            "certificate is a CA certificate (basicConstraints CA:TRUE), not a client certificate"
        );
    }

    #[test]
    fn refuses_weak_keys_and_digests_below_the_anchor() {
        let f = Fixture::new();
        let p = f.policy("");
        let rsa1024 = f.client(CertSpec::client("weak").with_key(KeyAlgorithm::Rsa(1024)));
        assert_eq!(reason(p.verify(&rsa1024, &[])), "RSA key of 1024 bits is too weak");
        p.verify(&f.client(CertSpec::client("strong").with_key(KeyAlgorithm::Rsa(2048))), &[]).unwrap();
        let sha1 = f.client(CertSpec::client("sha1").with_digest(Digest::Sha1));
        assert_eq!(reason(p.verify(&sha1, &[])), "SHA-1 signature is too weak");

        let sha1_int = pki::issue(&CertSpec::ca("SHA1 Int").with_digest(Digest::Sha1), &f.root).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice"), &sha1_int).unwrap().cert;
        assert_eq!(reason(p.verify(&leaf, std::slice::from_ref(&sha1_int.cert))), "SHA-1 signature is too weak (CA certificate CN=SHA1 Int)");
        let weak_int = pki::issue(&CertSpec::ca("Weak Int").with_key(KeyAlgorithm::Rsa(1024)), &f.root).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice"), &weak_int).unwrap().cert;
        assert_eq!(reason(p.verify(&leaf, std::slice::from_ref(&weak_int.cert))), "RSA key of 1024 bits is too weak (CA certificate CN=Weak Int)");
    }

    #[test]
    fn the_anchors_own_sha1_self_signature_does_not_matter() {
        let f = Fixture::new();
        let old_root = pki::self_signed(&CertSpec::ca("SHA1 Root").with_digest(Digest::Sha1)).unwrap();
        pki::write_pem_certs(&f.dir.path().join("trust.pem"), &[&old_root.cert]).unwrap();
        let leaf = pki::issue(&CertSpec::client("alice"), &old_root).unwrap().cert;
        f.policy("").verify(&leaf, &[]).unwrap();
    }

    #[test]
    fn ssl_verify_depth_counts_intermediate_cas() {
        let f = Fixture::new();
        let one = pki::issue(&CertSpec::client("one"), &f.int1).unwrap().cert;
        let two = pki::issue(&CertSpec::client("two"), &f.int2).unwrap().cert;
        let untrusted_two = [f.int2.cert.clone(), f.int1.cert.clone()];
        let depth = |n: u32| f.policy(&format!(r#"<parameter name="SSLVerifyDepth">{n}</parameter>"#));
        depth(1).verify(&one, std::slice::from_ref(&f.int1.cert)).unwrap();
        assert_eq!(reason(depth(1).verify(&two, &untrusted_two)), "certificate chain has more intermediate CAs than SSLVerifyDepth allows (1)");
        assert_eq!(depth(2).verify(&two, &untrusted_two).unwrap().len(), 4);
        depth(0).verify(&f.client(CertSpec::client("direct")), &[]).unwrap();
        assert!(depth(0).verify(&one, std::slice::from_ref(&f.int1.cert)).is_err());
        // The default allows a few.
        assert_eq!(f.config("").unwrap().verify_depth, 5);
        f.policy("").verify(&two, &untrusted_two).unwrap();
    }

    #[test]
    fn a_certificate_on_a_crl_is_refused() {
        let f = Fixture::new();
        let alice = f.client(CertSpec::client("alice"));
        let bob = f.client(CertSpec::client("bob"));
        f.write_crls("crl.pem", &[crl(&f.root, &[&bob], 7)]);
        let p = f.policy(CRLS);
        assert!(p.checks_revocation());
        p.verify(&alice, &[]).unwrap();
        assert_eq!(reason(p.verify(&bob, &[])), "certificate is revoked");
        // Without the verifier bob is fine: the refusal above is the CRL's doing.
        f.policy("").verify(&bob, &[]).unwrap();
        // DER works as well.
        f.write("crl.pem", &crl(&f.root, &[&bob], 7).to_der().unwrap());
        assert_eq!(reason(f.policy(CRLS).verify(&bob, &[])), "certificate is revoked");
    }

    #[test]
    fn a_revoked_intermediate_is_refused() {
        let f = Fixture::new();
        let leaf = pki::issue(&CertSpec::client("alice"), &f.int1).unwrap().cert;
        f.write_crls("crl.pem", &[crl(&f.root, &[&f.int1.cert], 7), crl(&f.int1, &[], 7)]);
        assert_eq!(reason(f.policy(CRLS).verify(&leaf, std::slice::from_ref(&f.int1.cert))), "certificate is revoked (CA certificate CN=Unit Int 1)");
        f.write_crls("crl.pem", &[crl(&f.root, &[], 7), crl(&f.int1, &[], 7)]);
        f.policy(CRLS).verify(&leaf, std::slice::from_ref(&f.int1.cert)).unwrap();
    }

    #[test]
    fn every_ca_in_the_chain_needs_a_crl() {
        let f = Fixture::new();
        let leaf = pki::issue(&CertSpec::client("alice"), &f.int1).unwrap().cert;
        let chain = [f.int1.cert.clone()];
        // Only the intermediate's CRL: the root's is missing.
        f.write_crls("crl.pem", &[crl(&f.int1, &[], 7)]);
        assert_eq!(reason(f.policy(CRLS).verify(&leaf, &chain)), "no CRL for CN=Unit Root (with CertificateRevocationVerifier every CA in the chain needs one)");
        // Only the root's: the intermediate's is missing.
        f.write_crls("crl.pem", &[crl(&f.root, &[], 7)]);
        assert_eq!(reason(f.policy(CRLS).verify(&leaf, &chain)), "no CRL for CN=Unit Int 1 (with CertificateRevocationVerifier every CA in the chain needs one)");
        // A second truststore CA without any CRL: its clients are refused.
        let other = pki::self_signed(&CertSpec::ca("Other Root")).unwrap();
        pki::write_pem_certs(&f.dir.path().join("trust.pem"), &[&f.root.cert, &other.cert]).unwrap();
        let other_client = pki::issue(&CertSpec::client("carol"), &other).unwrap().cert;
        assert!(reason(f.policy(CRLS).verify(&other_client, &[])).starts_with("no CRL for CN=Other Root"));
        f.policy(CRLS).verify(&f.client(CertSpec::client("dave")), &[]).unwrap();
    }

    #[test]
    fn a_crl_past_next_update_fails_hard_unless_soft_fail() {
        let f = Fixture::new();
        let alice = f.client(CertSpec::client("alice"));
        let bob = f.client(CertSpec::client("bob"));
        f.write_crls("crl.pem", &[crl(&f.root, &[&bob], -1)]);
        assert_eq!(reason(f.policy(CRLS).verify(&alice, &[])), "CRL for CN=Unit Root has expired");
        let soft = f.policy(CRLS_SOFT);
        soft.verify(&alice, &[]).unwrap();
        // A stale list still revokes what it lists.
        assert_eq!(reason(soft.verify(&bob, &[])), "certificate is revoked");
        // SoftFail does not cover a missing CRL.
        let leaf = pki::issue(&CertSpec::client("eve"), &f.int1).unwrap().cert;
        assert!(reason(soft.verify(&leaf, std::slice::from_ref(&f.int1.cert))).starts_with("no CRL for CN=Unit Int 1"));
        // Nor the other checks.
        assert_eq!(reason(soft.verify(&f.client(CertSpec::client("weak").with_key(KeyAlgorithm::Rsa(1024))), &[])), "RSA key of 1024 bits is too weak");
    }

    #[test]
    fn unreadable_crl_files_are_configuration_errors_with_their_lines() {
        let f = Fixture::new();
        let good = crl(&f.root, &[], 7).to_pem().unwrap();
        let mut broken = good.clone();
        broken.extend(b"\n-----BEGIN X509 CRL-----\nnot base64 at all\n-----END X509 CRL-----\n");
        f.write("crl.pem", &broken);
        let e = f.policy_error(CRLS);
        let good_lines = String::from_utf8_lossy(&good).lines().count();
        assert!(e.contains("axis2.xml:7:"), "{e}");
        assert!(e.contains(&format!("crl.pem:{}: not a valid CRL", good_lines + 2)), "{e}");

        f.write("crl.pem", b"\x30\x03\x02\x01\x01");
        let e = f.policy_error(CRLS);
        assert!(e.contains("is not a CRL (neither PEM nor DER)"), "{e}");
        f.write("crl.pem", &f.root.cert.to_pem().unwrap());
        assert!(f.policy_error(CRLS).contains("holds no PEM CRL"));
        std::fs::remove_file(f.dir.path().join("crl.pem")).unwrap();
        assert!(f.policy_error(CRLS).contains("cannot read CRL file"));
    }

    #[test]
    fn receiver_parameters_are_parsed_and_checked() {
        let f = Fixture::new();
        std::env::set_var("MEDIATE_TEST_CRL_NAME", "from-env.pem");
        let cfg = f
            .config(
                r#"<parameter name="SSLVerifyDepth">3</parameter>
    <parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>a.pem</CRLFile><CRLFile>/abs/b.crl</CRLFile>
      <CRLFile>${env:MEDIATE_TEST_CRL_NAME}</CRLFile><SoftFail>true</SoftFail><CacheSize>10</CacheSize></parameter>"#,
            )
            .unwrap();
        assert_eq!(cfg.verify_depth, 3);
        let paths: Vec<_> = cfg.crl_files.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(paths, vec![f.dir.path().join("a.pem"), PathBuf::from("/abs/b.crl"), f.dir.path().join("from-env.pem")]);
        assert_eq!(cfg.crl_files[0].1.pos.line, 8);
        assert!(cfg.crl_soft_fail);

        let off = f.config(r#"<parameter name="CertificateRevocationVerifier" enable="false"><CRLFile>a.pem</CRLFile></parameter>"#).unwrap();
        assert!(off.crl_files.is_empty());
        let e = f.config(r#"<parameter name="SSLVerifyDepth">deep</parameter>"#).unwrap_err();
        assert!(e.contains("SSLVerifyDepth must be a number from 0 to 100, not 'deep'"), "{e}");
        let e = f.config(r#"<parameter name="CertificateRevocationVerifier" enable="true"><CacheSize>10</CacheSize></parameter>"#).unwrap_err();
        assert!(e.contains("needs at least one <CRLFile>"), "{e}");
        let e = f.config(r#"<parameter name="CertificateRevocationVerifier" enable="yes"><CRLFile>a</CRLFile></parameter>"#).unwrap_err();
        assert!(e.contains("enable must be true or false"), "{e}");
        let e = f.config(r#"<parameter name="CertificateRevocationVerifier"><CRLFile>a</CRLFile><SoftFail>maybe</SoftFail></parameter>"#).unwrap_err();
        assert!(e.contains("<SoftFail> must be true or false"), "{e}");
    }

    #[test]
    fn basic_constraints_are_read_from_the_der() {
        let f = Fixture::new();
        assert_eq!(basic_constraints_ca(&f.root.cert.to_der().unwrap()), Some(true));
        assert_eq!(basic_constraints_ca(&f.client(CertSpec::client("a")).to_der().unwrap()), Some(false));
        // No basicConstraints at all.
        let custom = f.client(CertSpec::client("c").with_profile(Profile::Custom));
        assert_eq!(basic_constraints_ca(&custom.to_der().unwrap()), Some(false));
        assert_eq!(basic_constraints_ca(b""), None);
        assert_eq!(basic_constraints_ca(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        let der = f.root.cert.to_der().unwrap();
        for cut in [1, 10, der.len() / 2, der.len() - 1] {
            // Truncated input never panics.
            let _ = basic_constraints_ca(&der[..cut]);
        }
    }

    #[test]
    fn rejections_display_as_one_line() {
        let r = CertificateRejected::WeakKey { algorithm: "RSA", bits: 1024, at: At::Ca("CN=x\\0A".into()) };
        assert_eq!(r.to_string(), "RSA key of 1024 bits is too weak (CA certificate CN=x\\0A)");
        assert_eq!(CertificateRejected::CrlExpired { issuer: "CN=Root".into() }.to_string(), "CRL for CN=Root has expired");
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "evil\nWARN forged").unwrap();
        let name = name.build();
        assert!(!name_for_log(&name).contains('\n'));
    }
}
