//! Certificates, keys and PKCS#12 stores made with the openssl crate alone (no keytool, no
//! openssl CLI).
//!
//! It serves `mediate certs init` (the demo PKI the shipped configuration points at), the
//! integration tests (which need odd certificates: expired, wrong key usage, untrusted CA…)
//! and `mediate certs issue`. A [`CertSpec`] says what a certificate should look like,
//! [`self_signed`] and [`issue`] make it, and the `write_*` functions store it in files that
//! both OpenSSL and Java 17's keytool open.

use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{CrlNumber, X509Builder, X509Crl, X509CrlBuilder, X509CrlRef, X509NameBuilder, X509RevokedBuilder, X509};

/// The password of every demo store.
pub const DEMO_PASSWORD: &str = "changeit";

/// The alias of the CA in `ca.p12` and `truststore.p12`.
pub const DEMO_CA_ALIAS: &str = "mediate-demo-ca";

/// The files [`init_demo`] writes.
pub const DEMO_FILES: [&str; 7] = ["ca.p12", "ca.pem", "server.p12", "truststore.p12", "client.p12", "client.pem", "client.key"];

/// Iterations for PBKDF2 and the PKCS#12 MAC; the count JDK 17 itself writes.
const PKCS12_ITERATIONS: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} already exists (use --force to replace the demo PKI)")]
    Exists(PathBuf),
    #[error("{path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.to_path_buf(), source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256: small keys and fast handshakes.
    #[default]
    EcP256,
    /// RSA with this many bits.
    Rsa(u32),
}

/// Sets basicConstraints, keyUsage and the default extendedKeyUsage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// CA:TRUE (with pathLenConstraint if given), keyCertSign + cRLSign, no EKU. Combined with
    /// [`CertSpec::ext_key_usage`] it also makes the "CA:TRUE leaf" that tests need.
    Ca { path_len: Option<u32> },
    /// CA:FALSE, digitalSignature (+ keyEncipherment for RSA), EKU serverAuth.
    Server,
    /// CA:FALSE, digitalSignature (+ keyEncipherment for RSA), EKU clientAuth.
    Client,
    /// CA:FALSE, digitalSignature (+ keyEncipherment for RSA), EKU serverAuth and clientAuth.
    ServerAndClient,
    /// No basicConstraints and no keyUsage; EKU only from [`CertSpec::ext_key_usage`].
    Custom,
}

/// An extendedKeyUsage purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eku {
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    #[default]
    Sha256,
    /// For tests of what must be refused; nothing should be signed with it for real.
    Sha1,
}

/// What a certificate should look like.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject attributes in order, e.g. `[("C", "US"), ("O", "Acme"), ("CN", "alice")]`.
    pub subject: Vec<(String, String)>,
    pub profile: Profile,
    /// Overrides the profile's extendedKeyUsage; `Some(vec![])` leaves the extension out.
    pub ext_key_usage: Option<Vec<Eku>>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// Start of validity in days from now; negative is in the past.
    pub not_before_days: i64,
    /// End of validity in days from now; negative makes an expired certificate.
    pub not_after_days: i64,
    pub key: KeyAlgorithm,
    pub digest: Digest,
    /// A random positive 128-bit serial when `None`.
    pub serial: Option<u64>,
}

impl CertSpec {
    fn new(cn: &str, profile: Profile, days: i64) -> Self {
        CertSpec {
            subject: vec![("CN".into(), cn.into())],
            profile,
            ext_key_usage: None,
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            not_before_days: 0,
            not_after_days: days,
            key: KeyAlgorithm::default(),
            digest: Digest::default(),
            serial: None,
        }
    }

    /// A CA valid for ten years, without a path length limit.
    pub fn ca(cn: &str) -> Self {
        Self::new(cn, Profile::Ca { path_len: None }, 3650)
    }

    /// A server certificate valid for two years, for localhost, 127.0.0.1 and ::1.
    pub fn server(cn: &str) -> Self {
        let mut s = Self::new(cn, Profile::Server, 730);
        s.dns_names = vec!["localhost".into()];
        s.ip_addresses = vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
        s
    }

    /// A client certificate valid for two years.
    pub fn client(cn: &str) -> Self {
        Self::new(cn, Profile::Client, 730)
    }

    /// Puts attributes such as `C`, `O`, `OU` before the existing ones (the CN), in order.
    pub fn with_subject_prefix(mut self, attrs: &[(&str, &str)]) -> Self {
        let mut subject: Vec<(String, String)> = attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        subject.append(&mut self.subject);
        self.subject = subject;
        self
    }

    pub fn valid_days(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before_days = not_before;
        self.not_after_days = not_after;
        self
    }

    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Replaces the profile's extendedKeyUsage; an empty list leaves the extension out.
    pub fn with_eku(mut self, eku: Vec<Eku>) -> Self {
        self.ext_key_usage = Some(eku);
        self
    }

    pub fn with_key(mut self, key: KeyAlgorithm) -> Self {
        self.key = key;
        self
    }

    pub fn with_digest(mut self, digest: Digest) -> Self {
        self.digest = digest;
        self
    }

    pub fn with_serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }
}

/// A certificate with its private key.
#[derive(Clone)]
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

// The key must never end up in logs, so Debug shows only whose certificate this is.
impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").field("subject", &self.cert.subject_name()).finish_non_exhaustive()
    }
}

fn new_key(alg: KeyAlgorithm) -> Result<PKey<Private>, PkiError> {
    Ok(match alg {
        KeyAlgorithm::EcP256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        KeyAlgorithm::Rsa(bits) => PKey::from_rsa(Rsa::generate(bits)?)?,
    })
}

fn days_from_now(days: i64) -> Result<Asn1Time, PkiError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let secs = days
        .checked_mul(86_400)
        .and_then(|d| now.checked_add(d))
        .ok_or_else(|| PkiError::Invalid(format!("validity of {days} days from now is out of range")))?;
    Ok(Asn1Time::from_unix(secs)?)
}

/// Makes a self-signed certificate (a root CA, or a self-signed leaf) with a new key.
pub fn self_signed(spec: &CertSpec) -> Result<Issued, PkiError> {
    let key = new_key(spec.key)?;
    let cert = build(spec, &key, None)?;
    Ok(Issued { cert, key })
}

/// Makes a certificate with a new key, signed by `issuer`. The issuer is not checked to be a
/// CA, so that tests can make chains that verification must reject.
pub fn issue(spec: &CertSpec, issuer: &Issued) -> Result<Issued, PkiError> {
    let key = new_key(spec.key)?;
    let cert = build(spec, &key, Some(issuer))?;
    Ok(Issued { cert, key })
}

/// A certificate revocation list signed by `issuer`: the certificates in `revoked` (revoked
/// now), the entries of `keep` (an earlier list, carried over with their dates), issued
/// `this_update_days` from now and due again `next_update_days` from now. Its number is
/// the time of issue in seconds, so later lists have higher numbers (RFC 5280 §5.2.3).
pub fn crl(issuer: &Issued, revoked: &[&X509], keep: Option<&X509CrlRef>, this_update_days: i64, next_update_days: i64) -> Result<X509Crl, PkiError> {
    let this_update = days_from_now(this_update_days)?;
    let mut b = X509CrlBuilder::new()?;
    b.set_issuer_name(issuer.cert.subject_name())?;
    b.set_last_update(&this_update)?;
    let next_update = days_from_now(next_update_days)?;
    b.set_next_update(&next_update)?;
    let mut listed = Vec::new();
    for old in keep.and_then(|k| k.get_revoked()).into_iter().flatten() {
        let serial = old.serial_number().to_bn()?;
        let mut r = X509RevokedBuilder::new()?;
        r.set_serial_number(old.serial_number())?;
        r.set_revocation_date(old.revocation_date())?;
        b.add_revoked(r.build())?;
        listed.push(serial);
    }
    for c in revoked {
        let serial = c.serial_number().to_bn()?;
        if listed.contains(&serial) {
            continue;
        }
        let mut r = X509RevokedBuilder::new()?;
        r.set_serial_number(c.serial_number())?;
        r.set_revocation_date(&this_update)?;
        b.add_revoked(r.build())?;
        listed.push(serial);
    }
    let context = X509Builder::new()?;
    b.append_extension(AuthorityKeyIdentifier::new().keyid(true).build(&context.x509v3_context(Some(&issuer.cert), None))?)?;
    let number = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1);
    b.append_extension(CrlNumber::new(BigNum::from_dec_str(&number.to_string())?)?.build()?)?;
    b.sign(&issuer.key, MessageDigest::sha256())?;
    Ok(b.build()?)
}

fn build(spec: &CertSpec, key: &PKey<Private>, issuer: Option<&Issued>) -> Result<X509, PkiError> {
    let mut name = X509NameBuilder::new()?;
    for (k, v) in &spec.subject {
        name.append_entry_by_text(k, v).map_err(|e| PkiError::Invalid(format!("subject attribute {k}={v}: {e}")))?;
    }
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = match spec.serial {
        Some(s) => BigNum::from_dec_str(&s.to_string())?,
        None => {
            let mut bn = BigNum::new()?;
            bn.rand(128, MsbOption::ONE, false)?;
            bn
        }
    };
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(issuer.map(|i| i.cert.subject_name()).unwrap_or(&name))?;
    b.set_pubkey(key)?;
    let (not_before, not_after) = (days_from_now(spec.not_before_days)?, days_from_now(spec.not_after_days)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;

    let rsa = matches!(spec.key, KeyAlgorithm::Rsa(_));
    let (constraints, usage, default_eku) = match spec.profile {
        Profile::Ca { path_len } => {
            let mut bc = BasicConstraints::new();
            bc.critical().ca();
            if let Some(n) = path_len {
                bc.pathlen(n);
            }
            let mut ku = KeyUsage::new();
            ku.critical().key_cert_sign().crl_sign().digital_signature();
            (Some(bc), Some(ku), vec![])
        }
        Profile::Server | Profile::Client | Profile::ServerAndClient => {
            let mut bc = BasicConstraints::new();
            bc.critical();
            let mut ku = KeyUsage::new();
            ku.critical().digital_signature();
            // TLS 1.2 RSA key exchange encrypts to the server key.
            if rsa {
                ku.key_encipherment();
            }
            let eku = match spec.profile {
                Profile::Server => vec![Eku::ServerAuth],
                Profile::Client => vec![Eku::ClientAuth],
                _ => vec![Eku::ServerAuth, Eku::ClientAuth],
            };
            (Some(bc), Some(ku), eku)
        }
        Profile::Custom => (None, None, vec![]),
    };
    if let Some(bc) = constraints {
        b.append_extension(bc.build()?)?;
    }
    if let Some(ku) = usage {
        b.append_extension(ku.build()?)?;
    }
    let ekus = spec.ext_key_usage.as_ref().unwrap_or(&default_eku);
    if !ekus.is_empty() {
        let mut e = ExtendedKeyUsage::new();
        for u in ekus {
            match u {
                Eku::ServerAuth => e.server_auth(),
                Eku::ClientAuth => e.client_auth(),
                Eku::CodeSigning => e.code_signing(),
                Eku::EmailProtection => e.email_protection(),
            };
        }
        b.append_extension(e.build()?)?;
    }
    if !spec.dns_names.is_empty() || !spec.ip_addresses.is_empty() {
        let mut san = SubjectAlternativeName::new();
        // RFC 5280: with an empty subject the SAN is the only name, so it must be critical.
        if spec.subject.is_empty() {
            san.critical();
        }
        for d in &spec.dns_names {
            san.dns(d);
        }
        for ip in &spec.ip_addresses {
            san.ip(&ip.to_string());
        }
        let ext = san.build(&b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None))?;
        b.append_extension(ext)?;
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None))?;
    b.append_extension(ski)?;
    // Lets verifiers pick the right issuer when several CAs share a name (e.g. after a re-init).
    if let Some(i) = issuer {
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&b.x509v3_context(Some(&i.cert), None))?;
        b.append_extension(aki)?;
    }
    let digest = match spec.digest {
        Digest::Sha256 => MessageDigest::sha256(),
        Digest::Sha1 => MessageDigest::sha1(),
    };
    b.sign(issuer.map(|i| &i.key).unwrap_or(key), digest)?;
    Ok(b.build())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes through a temporary file in the same folder and a rename, so that a server reading
/// the store never sees half a file and a failed write leaves the old one in place.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}-{}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = opts
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .map_err(io_err(&tmp))
        .and_then(|_| fs::rename(&tmp, path).map_err(io_err(path)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes a key entry (key, certificate and the issuer chain after it) as PKCS#12.
///
/// Keys and certificates are encrypted with AES-256-CBC under PBKDF2 and the MAC uses SHA-256,
/// as JDK 17 writes them; both OpenSSL and keytool read that, and keytool lists the entry
/// under `alias` as a PrivateKeyEntry. The file is readable by its owner only.
pub fn write_pkcs12(path: &Path, alias: &str, entity: &Issued, chain: &[X509], password: &str) -> Result<(), PkiError> {
    let mut ca = Stack::new()?;
    for c in chain {
        ca.push(c.clone())?;
    }
    let mut b = Pkcs12::builder();
    b.name(alias)
        .pkey(&entity.key)
        .cert(&entity.cert)
        .ca(ca)
        .key_algorithm(Nid::AES_256_CBC)
        .cert_algorithm(Nid::AES_256_CBC)
        .key_iter(PKCS12_ITERATIONS)
        .mac_iter(PKCS12_ITERATIONS)
        .mac_md(MessageDigest::sha256());
    write_atomic(path, &b.build2(password)?.to_der()?, true)
}

/// Writes trusted certificates, each under its alias, as a PKCS#12 truststore.
///
/// keytool lists a certificate of a PKCS#12 store as a `trustedCertEntry` only when its bag
/// carries Oracle's trusted-key-usage attribute, and OpenSSL's `PKCS12_create` (so the openssl
/// crate's builder) can neither add that attribute nor name certificates other than the key's.
/// The file is therefore assembled here in DER, with OpenSSL doing the cryptography: one
/// unencrypted safe (certificates are public; the MAC guards their integrity) holding a cert
/// bag per certificate with its friendlyName and the trust attribute, and an HMAC-SHA-256 MAC
/// keyed as RFC 7292 says. OpenSSL reads the result as a list of CA certificates.
pub fn write_pkcs12_truststore(path: &Path, certs: &[(&str, &X509)], password: &str) -> Result<(), PkiError> {
    if certs.is_empty() {
        return Err(PkiError::Invalid(format!("{}: a truststore needs at least one certificate", path.display())));
    }
    let mut seen = std::collections::HashSet::new();
    for (alias, _) in certs {
        // keytool folds aliases to lower case, so two that differ only in case would collide.
        if !seen.insert(alias.to_lowercase()) {
            return Err(PkiError::Invalid(format!("{}: alias {alias} appears twice", path.display())));
        }
    }
    write_atomic(path, &der::truststore(certs, password)?, false)
}

/// Just enough DER to write a certificates-only PKCS#12 file (RFC 7292).
mod der {
    use super::{PkiError, PKCS12_ITERATIONS};
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;
    use openssl::x509::X509;

    const DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
    const CERT_BAG: &[u64] = &[1, 2, 840, 113549, 1, 12, 10, 1, 3];
    const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113549, 1, 9, 22, 1];
    const FRIENDLY_NAME: &[u64] = &[1, 2, 840, 113549, 1, 9, 20];
    const ORACLE_TRUSTED_KEY_USAGE: &[u64] = &[2, 16, 840, 1, 113894, 746875, 1, 1];
    const ANY_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37, 0];
    const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// DER wants the members of a SET OF in the order of their encodings.
    fn set_of(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
        parts.sort();
        tlv(0x31, &parts.concat())
    }

    fn explicit0(inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0, &inner)
    }

    fn octets(bytes: &[u8]) -> Vec<u8> {
        tlv(0x04, bytes)
    }

    fn uint(n: u32) -> Vec<u8> {
        let mut bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        if bytes.first().is_none_or(|b| b & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        tlv(0x02, &bytes)
    }

    fn oid(arcs: &[u64]) -> Vec<u8> {
        let mut body = Vec::new();
        let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
        for arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
            let mut chunk = vec![(arc & 0x7f) as u8];
            let mut rest = arc >> 7;
            while rest > 0 {
                chunk.push(0x80 | (rest & 0x7f) as u8);
                rest >>= 7;
            }
            chunk.reverse();
            body.extend(chunk);
        }
        tlv(0x06, &body)
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    fn attribute(kind: &[u64], value: Vec<u8>) -> Vec<u8> {
        seq(&[oid(kind), set_of(vec![value])])
    }

    fn cert_bag(alias: &str, cert: &X509) -> Result<Vec<u8>, PkiError> {
        let value = seq(&[oid(X509_CERTIFICATE), explicit0(octets(&cert.to_der()?))]);
        let attributes = set_of(vec![
            attribute(FRIENDLY_NAME, tlv(0x1e, &utf16be(alias))),
            // What keytool writes for a certificate trusted for any purpose.
            attribute(ORACLE_TRUSTED_KEY_USAGE, oid(ANY_EXTENDED_KEY_USAGE)),
        ]);
        Ok(seq(&[oid(CERT_BAG), explicit0(value), attributes]))
    }

    /// The MAC key of RFC 7292 appendix B.2 (ID 3, SHA-256). The key is exactly one hash long,
    /// so only the first round of that derivation is needed.
    fn mac_key(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, PkiError> {
        const BLOCK: usize = 64;
        let repeat = |s: &[u8]| -> Vec<u8> {
            if s.is_empty() {
                Vec::new()
            } else {
                (0..BLOCK * s.len().div_ceil(BLOCK)).map(|i| s[i % s.len()]).collect()
            }
        };
        // The password as a NUL-terminated BMPString, as both OpenSSL and Java feed it in.
        let mut pass = utf16be(password);
        pass.extend([0, 0]);
        let input = [vec![3u8; BLOCK], repeat(salt), repeat(&pass)].concat();
        let mut a = openssl::hash::hash(MessageDigest::sha256(), &input)?.to_vec();
        for _ in 1..iterations {
            a = openssl::hash::hash(MessageDigest::sha256(), &a)?.to_vec();
        }
        Ok(a)
    }

    pub(super) fn truststore(certs: &[(&str, &X509)], password: &str) -> Result<Vec<u8>, PkiError> {
        let bags = certs.iter().map(|(alias, cert)| cert_bag(alias, cert)).collect::<Result<Vec<_>, _>>()?;
        let safe_contents = seq(&bags);
        let auth_safe = seq(&[seq(&[oid(DATA), explicit0(octets(&safe_contents))])]);

        let mut salt = [0u8; 20];
        openssl::rand::rand_bytes(&mut salt)?;
        let key = PKey::hmac(&mac_key(password, &salt, PKCS12_ITERATIONS)?)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
        signer.update(&auth_safe)?;
        let mac = signer.sign_to_vec()?;
        let digest_info = seq(&[seq(&[oid(SHA256), vec![0x05, 0x00]]), octets(&mac)]);
        let mac_data = seq(&[digest_info, octets(&salt), uint(PKCS12_ITERATIONS)]);

        Ok(seq(&[uint(3), seq(&[oid(DATA), explicit0(octets(&auth_safe))]), mac_data]))
    }
}

/// Writes certificates as PEM, one after another.
pub fn write_pem_certs(path: &Path, certs: &[&X509]) -> Result<(), PkiError> {
    let mut out = Vec::new();
    for c in certs {
        out.extend(c.to_pem()?);
    }
    write_atomic(path, &out, false)
}

/// Writes a private key as unencrypted PKCS#8 PEM (what curl and most tools take), readable by
/// its owner only.
pub fn write_pem_key(path: &Path, key: &PKey<Private>) -> Result<(), PkiError> {
    write_atomic(path, &key.private_key_to_pem_pkcs8()?, true)
}

/// Reads a PKCS#12 file: its key entry (if it has one) and every other certificate.
pub fn read_pkcs12(path: &Path, password: &str) -> Result<(Option<Issued>, Vec<X509>), PkiError> {
    let der = fs::read(path).map_err(io_err(path))?;
    let store_err = |message: String| PkiError::Store { path: path.to_path_buf(), message };
    let parsed = Pkcs12::from_der(&der).map_err(|_| store_err("not a PKCS#12 file".into()))?.parse2(password).map_err(|e| {
        let reason = e.errors().first().and_then(|x| x.reason()).unwrap_or("unreadable").to_string();
        if reason.contains("mac verify failure") {
            store_err("wrong password".into())
        } else {
            store_err(format!("cannot open: {reason}"))
        }
    })?;
    let others: Vec<X509> = parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default();
    let entry = match (parsed.pkey, parsed.cert) {
        (Some(key), Some(cert)) => Some(Issued { cert, key }),
        _ => None,
    };
    Ok((entry, others))
}

/// Where [`init_demo`] put things.
#[derive(Debug, Clone)]
pub struct DemoPki {
    pub dir: PathBuf,
    /// The CA's key and certificate (alias `mediate-demo-ca`), to issue more certificates.
    pub ca_p12: PathBuf,
    pub ca_pem: PathBuf,
    /// Key entry `server`: CN=localhost for localhost, 127.0.0.1 and ::1, with the CA after it.
    pub server_p12: PathBuf,
    /// The CA certificate only, alias `mediate-demo-ca`.
    pub truststore_p12: PathBuf,
    /// Key entry `client`, with the CA after it.
    pub client_p12: PathBuf,
    pub client_pem: PathBuf,
    pub client_key: PathBuf,
}

impl DemoPki {
    fn at(dir: &Path) -> Self {
        DemoPki {
            dir: dir.to_path_buf(),
            ca_p12: dir.join("ca.p12"),
            ca_pem: dir.join("ca.pem"),
            server_p12: dir.join("server.p12"),
            truststore_p12: dir.join("truststore.p12"),
            client_p12: dir.join("client.p12"),
            client_pem: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }
}

/// Whether `path` has the name of one of the demo files.
pub fn is_demo_file_name(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| DEMO_FILES.contains(&n))
}

/// Whether any demo file already exists in `dir`.
pub fn demo_files_present(dir: &Path) -> bool {
    DEMO_FILES.iter().any(|f| dir.join(f).exists())
}

/// Creates the demo PKI in `dir` (made with mode 0700 if it does not exist): a CA, a server
/// keystore for localhost, a truststore with the CA, and a client keystore, also as PEM for
/// curl. All passwords are [`DEMO_PASSWORD`]. Without `force` it refuses when any of the
/// files exists, naming it; with `force` it replaces them all.
pub fn init_demo(dir: &Path, force: bool) -> Result<DemoPki, PkiError> {
    let demo = DemoPki::at(dir);
    if let Some(existing) = DEMO_FILES.iter().map(|f| dir.join(f)).find(|p| p.exists()) {
        if !force {
            return Err(PkiError::Exists(existing));
        }
        log::warn!("replacing the demo PKI in {}", dir.display());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err(dir))?;

    let org = [("O", "mediate demo")];
    let ca = self_signed(&CertSpec::ca("mediate demo CA").with_subject_prefix(&org))?;
    let server = issue(&CertSpec::server("localhost"), &ca)?;
    let client = issue(&CertSpec::client("mediate-demo-client").with_subject_prefix(&org), &ca)?;
    let chain = [ca.cert.clone()];

    write_pkcs12(&demo.ca_p12, DEMO_CA_ALIAS, &ca, &[], DEMO_PASSWORD)?;
    write_pem_certs(&demo.ca_pem, &[&ca.cert])?;
    write_pkcs12(&demo.server_p12, "server", &server, &chain, DEMO_PASSWORD)?;
    write_pkcs12_truststore(&demo.truststore_p12, &[(DEMO_CA_ALIAS, &ca.cert)], DEMO_PASSWORD)?;
    write_pkcs12(&demo.client_p12, "client", &client, &chain, DEMO_PASSWORD)?;
    write_pem_certs(&demo.client_pem, &[&client.cert])?;
    write_pem_key(&demo.client_key, &client.key)?;
    Ok(demo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::Id;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509PurposeId, X509StoreContext, X509VerifyResult};
    use std::process::Command;

    // X509_V_ERR_* codes from OpenSSL's x509_vfy.h.
    const NOT_YET_VALID: i32 = 9;
    const HAS_EXPIRED: i32 = 10;
    const UNABLE_TO_GET_ISSUER_LOCALLY: i32 = 20;
    const PATH_LENGTH_EXCEEDED: i32 = 25;
    const INVALID_PURPOSE: i32 = 26;

    fn verify_as(leaf: &X509, intermediates: &[&X509], root: &X509, purpose: Option<X509PurposeId>) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(root.clone()).unwrap();
        if let Some(p) = purpose {
            store.set_purpose(p).unwrap();
        }
        let store = store.build();
        let mut chain = Stack::new().unwrap();
        for c in intermediates {
            chain.push((*c).clone()).unwrap();
        }
        let mut ctx = X509StoreContext::new().unwrap();
        ctx.init(&store, leaf, &chain, |c| {
            c.verify_cert()?;
            Ok(c.error())
        })
        .unwrap()
    }

    fn verify(leaf: &X509, root: &X509) -> X509VerifyResult {
        verify_as(leaf, &[], root, None)
    }

    fn text(c: &X509) -> String {
        String::from_utf8(c.to_text().unwrap()).unwrap()
    }

    fn subject(c: &X509) -> String {
        let attr =
            |e: &openssl::x509::X509NameEntryRef| format!("{}={}", e.object().nid().short_name().unwrap(), e.data().to_string().unwrap());
        c.subject_name().entries().map(attr).collect::<Vec<_>>().join(", ")
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mediate-pki-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn tool_present(name: &str, probe: &str) -> bool {
        Command::new(name).arg(probe).output().is_ok()
    }

    fn keytool_list(store: &Path, password: &str) -> String {
        let out = Command::new("keytool")
            .args(["-list", "-storetype", "PKCS12", "-storepass", password, "-keystore"])
            .arg(store)
            .output()
            .unwrap();
        let s = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "keytool failed on {}: {s}", store.display());
        s
    }

    fn openssl_info(store: &Path, password: &str) -> String {
        let out = Command::new("openssl")
            .args(["pkcs12", "-info", "-nokeys", "-passin"])
            .arg(format!("pass:{password}"))
            .arg("-in")
            .arg(store)
            .output()
            .unwrap();
        let s = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "openssl pkcs12 failed on {}: {s}", store.display());
        s
    }

    #[test]
    fn issued_certificates_verify_and_out_of_date_ones_do_not() {
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let ok = issue(&CertSpec::client("alice"), &ca).unwrap();
        assert_eq!(verify(&ok.cert, &ca.cert), X509VerifyResult::OK);
        let expired = issue(&CertSpec::client("old").valid_days(-30, -1), &ca).unwrap();
        assert_eq!(verify(&expired.cert, &ca.cert).as_raw(), HAS_EXPIRED);
        let future = issue(&CertSpec::client("new").valid_days(2, 30), &ca).unwrap();
        assert_eq!(verify(&future.cert, &ca.cert).as_raw(), NOT_YET_VALID);
        let other = self_signed(&CertSpec::ca("Test CA")).unwrap();
        assert_eq!(verify(&ok.cert, &other.cert).as_raw(), UNABLE_TO_GET_ISSUER_LOCALLY, "same name, other key");
    }

    #[test]
    fn deep_chains_honour_path_length() {
        let root = self_signed(&CertSpec::ca("Root").with_profile(Profile::Ca { path_len: Some(1) })).unwrap();
        let mid = issue(&CertSpec::ca("Mid").with_profile(Profile::Ca { path_len: Some(0) }), &root).unwrap();
        let leaf = issue(&CertSpec::server("localhost"), &mid).unwrap();
        assert_eq!(verify_as(&leaf.cert, &[&mid.cert], &root.cert, Some(X509PurposeId::SSL_SERVER)), X509VerifyResult::OK);
        assert_eq!(verify(&leaf.cert, &root.cert).as_raw(), UNABLE_TO_GET_ISSUER_LOCALLY, "intermediate missing");
        let too_deep = issue(&CertSpec::ca("Too deep"), &mid).unwrap();
        let leaf2 = issue(&CertSpec::client("x"), &too_deep).unwrap();
        assert_eq!(verify_as(&leaf2.cert, &[&too_deep.cert, &mid.cert], &root.cert, None).as_raw(), PATH_LENGTH_EXCEEDED);
        assert!(text(&root.cert).contains("pathlen:1"));
    }

    #[test]
    fn extended_key_usage_follows_profile_and_override() {
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let server = issue(&CertSpec::server("localhost"), &ca).unwrap();
        let client = issue(&CertSpec::client("alice"), &ca).unwrap();
        let both = issue(&CertSpec::client("both").with_profile(Profile::ServerAndClient), &ca).unwrap();
        let server_only_client = issue(&CertSpec::client("s").with_eku(vec![Eku::ServerAuth]), &ca).unwrap();
        let no_eku = issue(&CertSpec::client("n").with_eku(vec![]), &ca).unwrap();
        let code = issue(&CertSpec::client("c").with_eku(vec![Eku::CodeSigning]), &ca).unwrap();
        let as_client = |c: &Issued| verify_as(&c.cert, &[], &ca.cert, Some(X509PurposeId::SSL_CLIENT)).as_raw();
        let as_server = |c: &Issued| verify_as(&c.cert, &[], &ca.cert, Some(X509PurposeId::SSL_SERVER)).as_raw();
        assert_eq!(as_server(&server), 0);
        assert_eq!(as_client(&server), INVALID_PURPOSE);
        assert_eq!(as_client(&client), 0);
        assert_eq!(as_server(&client), INVALID_PURPOSE);
        assert_eq!((as_client(&both), as_server(&both)), (0, 0));
        assert_eq!(as_client(&server_only_client), INVALID_PURPOSE);
        assert_eq!(as_client(&code), INVALID_PURPOSE);
        // Without the extension every purpose is allowed.
        assert_eq!(as_client(&no_eku), 0);
        let t = text(&server.cert);
        assert!(t.contains("TLS Web Server Authentication") && !t.contains("TLS Web Client Authentication"), "{t}");
        assert!(!text(&no_eku.cert).contains("X509v3 Extended Key Usage"));
        assert!(!text(&ca.cert).contains("X509v3 Extended Key Usage"));
    }

    #[test]
    fn basic_constraints_and_key_usage_follow_profile() {
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let t = text(&ca.cert);
        assert!(t.contains("CA:TRUE") && t.contains("Certificate Sign, CRL Sign"), "{t}");
        let leaf = issue(&CertSpec::server("localhost"), &ca).unwrap();
        let t = text(&leaf.cert);
        assert!(t.contains("CA:FALSE") && !t.contains("CA:TRUE") && !t.contains("Certificate Sign"), "{t}");
        assert!(t.contains("X509v3 Authority Key Identifier") && t.contains("X509v3 Subject Key Identifier"), "{t}");
        let ca_leaf =
            issue(&CertSpec::client("ca-leaf").with_profile(Profile::Ca { path_len: None }).with_eku(vec![Eku::ClientAuth]), &ca).unwrap();
        let t = text(&ca_leaf.cert);
        assert!(t.contains("CA:TRUE") && t.contains("TLS Web Client Authentication"), "{t}");
        let custom = issue(&CertSpec::client("custom").with_profile(Profile::Custom), &ca).unwrap();
        let t = text(&custom.cert);
        assert!(!t.contains("Basic Constraints") && !t.contains("X509v3 Key Usage") && !t.contains("Extended Key Usage"), "{t}");
        let rsa = issue(&CertSpec::server("r").with_key(KeyAlgorithm::Rsa(2048)), &ca).unwrap();
        assert!(text(&rsa.cert).contains("Digital Signature, Key Encipherment"));
    }

    #[test]
    fn subject_alternative_names_and_subject_order() {
        let spec = CertSpec::server("localhost");
        let c = self_signed(&spec).unwrap();
        let sans = c.cert.subject_alt_names().unwrap();
        let dns: Vec<&str> = sans.iter().filter_map(|n| n.dnsname()).collect();
        let ips: Vec<&[u8]> = sans.iter().filter_map(|n| n.ipaddress()).collect();
        assert_eq!(dns, ["localhost"]);
        assert_eq!(ips, [&[127, 0, 0, 1][..], &Ipv6Addr::LOCALHOST.octets()[..]]);
        assert!(self_signed(&CertSpec::client("alice")).unwrap().cert.subject_alt_names().is_none());

        let named = CertSpec::client("alice").with_subject_prefix(&[("C", "US"), ("O", "Acme"), ("OU", "ESB")]);
        let c = self_signed(&named).unwrap();
        assert_eq!(subject(&c.cert), "C=US, O=Acme, OU=ESB, CN=alice");
        assert!(matches!(self_signed(&CertSpec::client("x").with_subject_prefix(&[("NOPE", "y")])), Err(PkiError::Invalid(_))));
    }

    #[test]
    fn keys_digests_and_serials() {
        let ec = self_signed(&CertSpec::client("ec")).unwrap();
        assert_eq!(ec.key.id(), Id::EC);
        assert_eq!(ec.key.ec_key().unwrap().group().curve_name(), Some(Nid::X9_62_PRIME256V1));
        assert_eq!(ec.cert.signature_algorithm().object().nid(), Nid::ECDSA_WITH_SHA256);
        let rsa1024 = self_signed(&CertSpec::client("r").with_key(KeyAlgorithm::Rsa(1024)).with_digest(Digest::Sha1)).unwrap();
        assert_eq!(rsa1024.key.bits(), 1024);
        assert_eq!(rsa1024.cert.public_key().unwrap().bits(), 1024);
        assert_eq!(rsa1024.cert.signature_algorithm().object().nid(), Nid::SHA1WITHRSAENCRYPTION);
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let sha1_ec = issue(&CertSpec::client("s").with_digest(Digest::Sha1), &ca).unwrap();
        assert_eq!(sha1_ec.cert.signature_algorithm().object().nid(), Nid::ECDSA_WITH_SHA1);
        let rsa2048 = issue(&CertSpec::client("r2").with_key(KeyAlgorithm::Rsa(2048)), &ca).unwrap();
        assert_eq!(rsa2048.key.bits(), 2048);
        assert_eq!(rsa2048.cert.signature_algorithm().object().nid(), Nid::ECDSA_WITH_SHA256, "signed by the EC CA");

        let fixed = self_signed(&CertSpec::client("n").with_serial(4242)).unwrap();
        assert_eq!(fixed.cert.serial_number().to_bn().unwrap().to_dec_str().unwrap().to_string(), "4242");
        let random = ec.cert.serial_number().to_bn().unwrap();
        assert_eq!((random.num_bits(), random.is_negative()), (128, false));
        assert_ne!(random, self_signed(&CertSpec::client("ec")).unwrap().cert.serial_number().to_bn().unwrap());
    }

    #[test]
    fn pkcs12_key_store_round_trip() {
        let d = temp("p12");
        fs::create_dir_all(&d).unwrap();
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let leaf = issue(&CertSpec::client("alice"), &ca).unwrap();
        let p = d.join("a.p12");
        write_pkcs12(&p, "alice", &leaf, std::slice::from_ref(&ca.cert), "pw").unwrap();
        let (entry, others) = read_pkcs12(&p, "pw").unwrap();
        let entry = entry.unwrap();
        assert_eq!(entry.cert.to_der().unwrap(), leaf.cert.to_der().unwrap());
        assert!(entry.key.public_eq(&leaf.key));
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].to_der().unwrap(), ca.cert.to_der().unwrap());
        match read_pkcs12(&p, "wrong") {
            Err(PkiError::Store { message, .. }) => assert_eq!(message, "wrong password"),
            other => panic!("{other:?}"),
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        if tool_present("openssl", "version") {
            let info = openssl_info(&p, "pw");
            assert!(info.contains("AES-256-CBC") && info.contains("MAC: sha256") && info.contains("friendlyName: alice"), "{info}");
            assert!(!info.contains("RC2") && !info.contains("3DES"), "{info}");
        }
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn pkcs12_truststore_round_trip() {
        let d = temp("trust");
        fs::create_dir_all(&d).unwrap();
        let a = self_signed(&CertSpec::ca("CA A")).unwrap();
        let b = self_signed(&CertSpec::ca("CA B")).unwrap();
        let t = d.join("t.p12");
        write_pkcs12_truststore(&t, &[("ca-a", &a.cert), ("ca-b", &b.cert)], "pw").unwrap();
        let (entry, others) = read_pkcs12(&t, "pw").unwrap();
        assert!(entry.is_none());
        let mut got: Vec<Vec<u8>> = others.iter().map(|c| c.to_der().unwrap()).collect();
        let mut want = vec![a.cert.to_der().unwrap(), b.cert.to_der().unwrap()];
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert!(matches!(read_pkcs12(&t, "wrong"), Err(PkiError::Store { .. })));
        assert!(matches!(write_pkcs12_truststore(&d.join("e.p12"), &[], "pw"), Err(PkiError::Invalid(_))));
        let dup = write_pkcs12_truststore(&d.join("d.p12"), &[("x", &a.cert), ("X", &b.cert)], "pw");
        assert!(matches!(dup, Err(PkiError::Invalid(_))));
        // A long alias and a non-ASCII password exercise long DER lengths and the BMPString.
        let long_alias = "a".repeat(300);
        let u = d.join("u.p12");
        write_pkcs12_truststore(&u, &[(&long_alias, &a.cert)], "pässwörd").unwrap();
        assert_eq!(read_pkcs12(&u, "pässwörd").unwrap().1.len(), 1);
        if tool_present("openssl", "version") {
            let info = openssl_info(&t, "pw");
            assert!(info.contains("friendlyName: ca-a") && info.contains("friendlyName: ca-b"), "{info}");
            assert!(info.contains("2.16.840.1.113894.746875.1.1") && info.contains("MAC: sha256"), "{info}");
        }
        if tool_present("keytool", "-help") {
            let list = keytool_list(&t, "pw");
            assert!(list.contains("2 entries"), "{list}");
            assert!(list.contains("ca-a,") && list.contains("ca-b,"), "{list}");
            assert_eq!(list.matches("trustedCertEntry").count(), 2, "{list}");
        }
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn pem_files() {
        let d = temp("pem");
        fs::create_dir_all(&d).unwrap();
        let a = self_signed(&CertSpec::ca("A")).unwrap();
        let b = issue(&CertSpec::client("b"), &a).unwrap();
        write_pem_certs(&d.join("c.pem"), &[&b.cert, &a.cert]).unwrap();
        let certs = X509::stack_from_pem(&fs::read(d.join("c.pem")).unwrap()).unwrap();
        assert_eq!(certs.len(), 2);
        write_pem_key(&d.join("k.pem"), &b.key).unwrap();
        let pem = fs::read(d.join("k.pem")).unwrap();
        assert!(pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
        assert!(PKey::private_key_from_pem(&pem).unwrap().public_eq(&b.key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(d.join("k.pem")).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(&d).unwrap().count(), 2);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn demo_pki_is_complete_and_not_overwritten() {
        let d = temp("demo").join("security");
        let demo = init_demo(&d, false).unwrap();
        for f in DEMO_FILES {
            assert!(d.join(f).is_file(), "{f}");
        }
        assert!(demo_files_present(&d));
        assert_eq!(fs::read_dir(&d).unwrap().count(), DEMO_FILES.len(), "nothing else, no temporary files");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&d), 0o700);
            for p in [&demo.client_key, &demo.ca_p12, &demo.server_p12, &demo.client_p12] {
                assert_eq!(mode(p), 0o600, "{}", p.display());
            }
        }

        let (ca, none) = read_pkcs12(&demo.ca_p12, DEMO_PASSWORD).unwrap();
        let ca = ca.unwrap();
        assert!(none.is_empty());
        assert_eq!(subject(&ca.cert), "O=mediate demo, CN=mediate demo CA");
        let ca_pem = X509::from_pem(&fs::read(&demo.ca_pem).unwrap()).unwrap();
        assert_eq!(ca_pem.to_der().unwrap(), ca.cert.to_der().unwrap());
        let (_, trust) = read_pkcs12(&demo.truststore_p12, DEMO_PASSWORD).unwrap();
        assert_eq!(trust.len(), 1);
        assert_eq!(trust[0].to_der().unwrap(), ca.cert.to_der().unwrap());

        let (server, chain) = read_pkcs12(&demo.server_p12, DEMO_PASSWORD).unwrap();
        let server = server.unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(verify_as(&server.cert, &[], &trust[0], Some(X509PurposeId::SSL_SERVER)), X509VerifyResult::OK);
        let t = text(&server.cert);
        assert_eq!(subject(&server.cert), "CN=localhost");
        assert!(t.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"), "{t}");

        let (client, chain) = read_pkcs12(&demo.client_p12, DEMO_PASSWORD).unwrap();
        let client = client.unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(verify_as(&client.cert, &[], &trust[0], Some(X509PurposeId::SSL_CLIENT)), X509VerifyResult::OK);
        assert_eq!(subject(&client.cert), "O=mediate demo, CN=mediate-demo-client");
        let client_pem = X509::from_pem(&fs::read(&demo.client_pem).unwrap()).unwrap();
        assert_eq!(client_pem.to_der().unwrap(), client.cert.to_der().unwrap());
        let client_key = PKey::private_key_from_pem(&fs::read(&demo.client_key).unwrap()).unwrap();
        assert!(client_key.public_eq(&client.key));

        let before = fs::read(&demo.ca_pem).unwrap();
        match init_demo(&d, false) {
            Err(PkiError::Exists(p)) => assert!(is_demo_file_name(&p) && p.starts_with(&d), "{}", p.display()),
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read(&demo.ca_pem).unwrap(), before, "refusal leaves files alone");
        // One file is enough to refuse.
        let lone = temp("lone");
        fs::create_dir_all(&lone).unwrap();
        fs::write(lone.join("client.key"), b"mine").unwrap();
        match init_demo(&lone, false) {
            Err(PkiError::Exists(p)) => assert_eq!(p, lone.join("client.key")),
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read(lone.join("client.key")).unwrap(), b"mine");
        fs::remove_dir_all(&lone).unwrap();

        if tool_present("keytool", "-help") {
            let list = keytool_list(&demo.server_p12, DEMO_PASSWORD);
            assert!(list.contains("1 entry") && list.contains("server,") && list.contains("PrivateKeyEntry"), "{list}");
            let list = keytool_list(&demo.client_p12, DEMO_PASSWORD);
            assert!(list.contains("client,") && list.contains("PrivateKeyEntry"), "{list}");
            let list = keytool_list(&demo.ca_p12, DEMO_PASSWORD);
            assert!(list.contains("mediate-demo-ca,") && list.contains("PrivateKeyEntry"), "{list}");
            let list = keytool_list(&demo.truststore_p12, DEMO_PASSWORD);
            assert!(list.contains("1 entry") && list.contains("mediate-demo-ca,") && list.contains("trustedCertEntry"), "{list}");
        }

        init_demo(&d, true).unwrap();
        assert_ne!(fs::read(&demo.ca_pem).unwrap(), before, "force makes a new CA");
        fs::remove_dir_all(d.parent().unwrap()).unwrap();
    }
}
