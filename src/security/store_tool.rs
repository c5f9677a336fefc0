//! `mediate certs`: the keytool jobs an ESB operator does every week, without a JDK.
//!
//! Issuing a certificate from the CA, adding a partner's certificate to a truststore,
//! exporting, listing, removing, and converting a JKS store to PKCS#12. Stores are told
//! apart by their content (PKCS#12, JKS or PEM), never by their extension alone. What is
//! written is PKCS#12 through [`pki`], so both OpenSSL and Java 17's keytool read it.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Crl, X509StoreContext, X509};

use super::jks::{self, JksError};
use super::peer::rfc4514;
use super::pki::{self, CertSpec, Issued, PkiError, Profile};

/// Where the command line takes a store password from when `--password` is not given.
pub const PASSWORD_ENV: &str = "MEDIATE_STORE_PASSWORD";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("{0}: wrong password (check --password or {PASSWORD_ENV})")]
    WrongPassword(PathBuf),
    #[error("{0} needs a password: pass --password or set {PASSWORD_ENV}")]
    PasswordNeeded(PathBuf),
    #[error("{0} already exists (use --force to replace it)")]
    Exists(PathBuf),
    #[error("{path}: no entry named '{alias}' (entries: {known})")]
    NoSuchAlias { path: PathBuf, alias: String, known: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

fn store_err(path: &Path, message: impl Into<String>) -> StoreError {
    StoreError::Store { path: path.to_path_buf(), message: message.into() }
}

fn read_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    fs::read(path).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pkcs12,
    Jks,
    Pem,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pkcs12 => "PKCS#12",
            Format::Jks => "JKS",
            Format::Pem => "PEM",
        }
    }
}

/// What a file holds, judged by its bytes.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if jks::is_jks(bytes) {
        return Some(Format::Jks);
    }
    // A DER SEQUENCE; checked before PEM because '0' is also where PEM text could start.
    if bytes.first() == Some(&0x30) && Pkcs12::from_der(bytes).is_ok() {
        return Some(Format::Pkcs12);
    }
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Some(Format::Pem);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A private key with its certificate chain.
    Key,
    /// A trusted certificate (a trust anchor).
    Trusted,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::Trusted => "trusted",
        }
    }
}

/// One entry of a store as `list` and `export` see it (private keys are not kept).
#[derive(Debug, Clone)]
pub struct Entry {
    pub alias: String,
    pub kind: Kind,
    pub cert: X509,
    /// For key entries: the certificates presented after `cert`.
    pub chain: Vec<X509>,
}

/// The entries of a store, and what kind of file it is.
#[derive(Debug)]
pub struct Contents {
    pub format: Format,
    pub entries: Vec<Entry>,
}

impl Contents {
    fn find(&self, path: &Path, alias: &str) -> Result<&Entry, StoreError> {
        self.entries.iter().find(|e| e.alias.eq_ignore_ascii_case(alias)).ok_or_else(|| StoreError::NoSuchAlias {
            path: path.to_path_buf(),
            alias: alias.to_string(),
            known: self.entries.iter().map(|e| e.alias.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
}

/// Reads any store. PEM files need no password; their certificates are named `cert-1`,
/// `cert-2`… in file order, and a PEM file that also holds a private key is one key entry.
pub fn read(path: &Path, password: Option<&str>) -> Result<Contents, StoreError> {
    let bytes = read_file(path)?;
    let format = detect_or_fail(path, &bytes)?;
    let mut entries = match format {
        Format::Pem => return read_pem(path, &bytes),
        Format::Pkcs12 => read_pkcs12_entries(path, &bytes, need(path, password)?)?,
        Format::Jks => {
            let store = open_jks(path, &bytes, need(path, password)?)?;
            store
                .entries
                .iter()
                .map(|e| match e {
                    jks::Entry::Key(k) => {
                        let mut chain = k.chain.iter().cloned();
                        let cert = chain.next().ok_or_else(|| store_err(path, format!("key entry '{}' has no certificate", k.alias)))?;
                        Ok(Entry { alias: k.alias.clone(), kind: Kind::Key, cert, chain: chain.collect() })
                    }
                    jks::Entry::Trusted(t) => Ok(Entry { alias: t.alias.clone(), kind: Kind::Trusted, cert: t.cert.clone(), chain: Vec::new() }),
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        }
    };
    // JKS keeps Java's hash order and PKCS#12 the writer's; neither means anything to a reader.
    entries.sort_by(|a, b| a.alias.cmp(&b.alias));
    Ok(Contents { format, entries })
}

fn detect_or_fail(path: &Path, bytes: &[u8]) -> Result<Format, StoreError> {
    if bytes.starts_with(&[0xce, 0xce, 0xce, 0xce]) {
        return Err(store_err(path, JksError::Jceks.to_string()));
    }
    detect(bytes).ok_or_else(|| store_err(path, "neither a PKCS#12, a JKS nor a PEM file"))
}

fn need<'a>(path: &Path, password: Option<&'a str>) -> Result<&'a str, StoreError> {
    password.ok_or_else(|| StoreError::PasswordNeeded(path.to_path_buf()))
}

fn open_jks(path: &Path, bytes: &[u8], password: &str) -> Result<jks::JksStore, StoreError> {
    jks::parse(bytes, password).map_err(|e| match e {
        JksError::WrongPassword => StoreError::WrongPassword(path.to_path_buf()),
        other => store_err(path, other.to_string()),
    })
}

fn read_pem(path: &Path, bytes: &[u8]) -> Result<Contents, StoreError> {
    let certs = X509::stack_from_pem(bytes).map_err(|_| store_err(path, "unreadable PEM certificates"))?;
    if certs.is_empty() {
        return Err(store_err(path, "holds no PEM certificate"));
    }
    let has_key = bytes.windows(12).any(|w| w == b"PRIVATE KEY-");
    let entries = if has_key {
        let mut certs = certs.into_iter();
        let cert = certs.next().ok_or_else(|| store_err(path, "holds no PEM certificate"))?;
        vec![Entry { alias: "cert-1".into(), kind: Kind::Key, cert, chain: certs.collect() }]
    } else {
        certs.into_iter().enumerate().map(|(i, cert)| Entry { alias: format!("cert-{}", i + 1), kind: Kind::Trusted, cert, chain: Vec::new() }).collect()
    };
    Ok(Contents { format: Format::Pem, entries })
}

fn parse_pkcs12(path: &Path, bytes: &[u8], password: &str) -> Result<openssl::pkcs12::ParsedPkcs12_2, StoreError> {
    let p12 = Pkcs12::from_der(bytes).map_err(|_| store_err(path, "not a PKCS#12 file"))?;
    p12.parse2(password).map_err(|e| {
        let reason = super::keystore::first_reason(&e);
        if reason.contains("mac verify failure") || reason.contains("invalid password") {
            StoreError::WrongPassword(path.to_path_buf())
        } else {
            store_err(path, format!("cannot open: {reason}"))
        }
    })
}

/// OpenSSL gives every certificate its bag's friendlyName as its alias. The certificates of
/// a key's chain carry none (neither keytool nor OpenSSL name them), while trusted
/// certificates always do in stores written by keytool or by us; so a named certificate
/// other than the key's is a trusted entry. Unnamed ones in a store without a key (made by
/// `openssl pkcs12 -nokeys`) are trusted too, named `cert-N` by position.
fn read_pkcs12_entries(path: &Path, bytes: &[u8], password: &str) -> Result<Vec<Entry>, StoreError> {
    let parsed = parse_pkcs12(path, bytes, password)?;
    let alias_of = |c: &X509| c.alias().map(|a| String::from_utf8_lossy(a).into_owned());
    let others: Vec<X509> = parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default();
    let mut entries = Vec::new();
    let mut chain = Vec::new();
    let has_key = parsed.pkey.is_some() && parsed.cert.is_some();
    for (i, c) in others.into_iter().enumerate() {
        match alias_of(&c) {
            Some(alias) => entries.push(Entry { alias, kind: Kind::Trusted, cert: c, chain: Vec::new() }),
            None if has_key => chain.push(c),
            None => entries.push(Entry { alias: format!("cert-{}", i + 1), kind: Kind::Trusted, cert: c, chain: Vec::new() }),
        }
    }
    if let (Some(_), Some(cert)) = (parsed.pkey, parsed.cert) {
        let alias = alias_of(&cert).unwrap_or_else(|| "key".into());
        entries.insert(0, Entry { alias, kind: Kind::Key, cert, chain });
    }
    Ok(entries)
}

/// One `list` line, tab-separated: alias, kind, subject, issuer (RFC 4514), serial
/// (upper-case hex), not-after (ISO 8601, UTC), SHA-256 fingerprint (lower-case hex).
pub fn list_line(e: &Entry) -> Result<String, StoreError> {
    let serial = e.cert.serial_number().to_bn()?.to_hex_str()?.to_string();
    let fingerprint: String = e.cert.digest(MessageDigest::sha256())?.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        e.alias,
        e.kind.name(),
        rfc4514(e.cert.subject_name()),
        rfc4514(e.cert.issuer_name()),
        serial,
        iso8601(e.cert.not_after())?,
        fingerprint
    ))
}

/// The lines of `mediate certs list`.
pub fn list(path: &Path, password: Option<&str>) -> Result<Vec<String>, StoreError> {
    read(path, password)?.entries.iter().map(list_line).collect()
}

/// A certificate time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601(t: &Asn1TimeRef) -> Result<String, StoreError> {
    let diff = Asn1Time::from_unix(0)?.diff(t)?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    Ok(crate::utc::UtcTime::from_unix(secs).iso8601())
}

/// The certificate of one entry (`alias` compared without case, as keytool does).
pub fn export(path: &Path, password: Option<&str>, alias: &str) -> Result<X509, StoreError> {
    let contents = read(path, password)?;
    Ok(contents.find(path, alias)?.cert.clone())
}

/// Reads one certificate, PEM or DER.
pub fn read_certificate(path: &Path) -> Result<X509, StoreError> {
    let mut certs = read_certificates(path)?;
    match certs.len() {
        1 => certs.pop().ok_or_else(|| store_err(path, "holds no PEM certificate")),
        n => Err(store_err(path, format!("holds {n} certificates; import them one at a time, each under its own alias"))),
    }
}

/// The certificates in a PEM file (at least one), or the one in a DER file.
fn read_certificates(path: &Path) -> Result<Vec<X509>, StoreError> {
    let bytes = read_file(path)?;
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let certs = X509::stack_from_pem(&bytes).map_err(|_| store_err(path, "unreadable PEM certificate"))?;
        return match certs.is_empty() {
            true => Err(store_err(path, "holds no PEM certificate")),
            false => Ok(certs),
        };
    }
    X509::from_der(&bytes).map(|c| vec![c]).map_err(|_| store_err(path, "neither a PEM nor a DER certificate"))
}

/// The trusted certificates of a PKCS#12 truststore, refusing stores that hold a private
/// key: rewriting them as a truststore would lose it.
fn truststore_entries(path: &Path, password: &str) -> Result<Vec<(String, X509)>, StoreError> {
    let bytes = read_file(path)?;
    match detect_or_fail(path, &bytes)? {
        Format::Pkcs12 => {}
        Format::Jks => return Err(store_err(path, "is a JKS store; convert it first (`mediate certs convert`), then edit the PKCS#12 store")),
        Format::Pem => return Err(store_err(path, "is a PEM file; edit it with a text editor, or use a PKCS#12 truststore")),
    }
    let entries = read_pkcs12_entries(path, &bytes, password)?;
    if let Some(k) = entries.iter().find(|e| e.kind == Kind::Key) {
        return Err(store_err(path, format!("holds a private key (alias '{}'); import and remove edit truststores only", k.alias)));
    }
    Ok(entries.into_iter().map(|e| (e.alias, e.cert)).collect())
}

fn write_truststore(path: &Path, entries: &[(String, X509)], password: &str) -> Result<(), StoreError> {
    let refs: Vec<(&str, &X509)> = entries.iter().map(|(a, c)| (a.as_str(), c)).collect();
    Ok(pki::write_pkcs12_truststore(path, &refs, password)?)
}

fn check_alias(alias: &str) -> Result<(), StoreError> {
    if alias.trim().is_empty() || alias.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("alias '{alias}' is empty or holds control characters")));
    }
    Ok(())
}

/// Adds a certificate to a PKCS#12 truststore (created if missing), under `alias`. An alias
/// already there (compared without case, as keytool does) is replaced only with `force`.
pub fn import(store: &Path, password: &str, alias: &str, cert_file: &Path, force: bool) -> Result<String, StoreError> {
    check_alias(alias)?;
    let cert = read_certificate(cert_file)?;
    let exists = store.exists();
    let mut entries = if exists { truststore_entries(store, password)? } else { Vec::new() };
    let mut note = String::new();
    let der = cert.to_der()?;
    if let Some((other, _)) = entries.iter().find(|(a, c)| !a.eq_ignore_ascii_case(alias) && c.to_der().ok().as_deref() == Some(der.as_slice())) {
        note = format!(" (the same certificate is also trusted as '{other}')");
    }
    match entries.iter_mut().find(|(a, _)| a.eq_ignore_ascii_case(alias)) {
        Some(_) if !force => return Err(store_err(store, format!("alias '{alias}' exists already (use --force to replace it)"))),
        Some(slot) => *slot = (alias.to_string(), cert.clone()),
        None => entries.push((alias.to_string(), cert.clone())),
    }
    write_truststore(store, &entries, password)?;
    let verb = if exists { "added" } else { "created with" };
    Ok(format!("{}: {verb} trusted certificate '{alias}' ({}); {} certificate(s){note}", store.display(), rfc4514(cert.subject_name()), entries.len()))
}

/// Removes a trusted certificate from a PKCS#12 truststore.
pub fn remove(store: &Path, password: &str, alias: &str) -> Result<String, StoreError> {
    let mut entries = truststore_entries(store, password)?;
    let Some(i) = entries.iter().position(|(a, _)| a.eq_ignore_ascii_case(alias)) else {
        let known = entries.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ");
        return Err(StoreError::NoSuchAlias { path: store.to_path_buf(), alias: alias.to_string(), known });
    };
    if entries.len() == 1 {
        return Err(store_err(store, format!("'{alias}' is its only certificate; delete the file instead")));
    }
    let (removed, cert) = entries.remove(i);
    write_truststore(store, &entries, password)?;
    Ok(format!("{}: removed '{removed}' ({}); {} certificate(s) left", store.display(), rfc4514(cert.subject_name()), entries.len()))
}

/// A key entry read from a keystore of any kind we can write from.
fn read_key_entry(path: &Path, password: &str, key_password: Option<&str>, alias: Option<&str>) -> Result<(String, Issued, Vec<X509>), StoreError> {
    let bytes = read_file(path)?;
    match detect_or_fail(path, &bytes)? {
        Format::Pkcs12 => {
            let (entry, others) = pki::read_pkcs12(path, password).map_err(|e| match e {
                PkiError::Store { message, .. } if message == "wrong password" => StoreError::WrongPassword(path.to_path_buf()),
                other => other.into(),
            })?;
            let entry = entry.ok_or_else(|| store_err(path, "holds no private key"))?;
            let name = entry.cert.alias().map(|a| String::from_utf8_lossy(a).into_owned()).unwrap_or_else(|| "key".into());
            if let Some(a) = alias.filter(|a| !a.eq_ignore_ascii_case(&name)) {
                return Err(store_err(path, format!("its key entry is '{name}', not '{a}'")));
            }
            // Named certificates are trusted entries, not the key's chain (see read_pkcs12_entries).
            let chain = others.into_iter().filter(|c| c.alias().is_none()).collect();
            Ok((name, entry, chain))
        }
        Format::Jks => {
            let store = open_jks(path, &bytes, password)?;
            let mut keys: Vec<&jks::KeyEntry> = store.key_entries().collect();
            keys.sort_by(|a, b| a.alias.cmp(&b.alias));
            let chosen = match (alias, keys.as_slice()) {
                (_, []) => return Err(store_err(path, "holds no private key")),
                (Some(a), _) => keys.iter().find(|k| k.alias.eq_ignore_ascii_case(a)).copied().ok_or_else(|| {
                    let names = keys.iter().map(|k| k.alias.as_str()).collect::<Vec<_>>().join(", ");
                    store_err(path, format!("no key entry named '{a}' (key entries: {names})"))
                })?,
                (None, [one]) => *one,
                (None, many) => {
                    let names = many.iter().map(|k| k.alias.as_str()).collect::<Vec<_>>().join(", ");
                    return Err(store_err(path, format!("holds {} key entries ({names}); choose one with --alias", many.len())));
                }
            };
            let tries: Vec<&str> = key_password.into_iter().chain(std::iter::once(password)).collect();
            let key = tries
                .iter()
                .find_map(|pw| chosen.decrypt(pw).ok())
                .ok_or_else(|| store_err(path, format!("wrong key password for '{}' (check --key-password)", chosen.alias)))?;
            let mut chain = chosen.chain.iter().cloned();
            let cert = chain.next().ok_or_else(|| store_err(path, format!("key entry '{}' has no certificate", chosen.alias)))?;
            Ok((chosen.alias.clone(), Issued { cert, key }, chain.collect()))
        }
        Format::Pem => Err(store_err(path, "is PEM; give a PKCS#12 or JKS store")),
    }
}

/// Which extendedKeyUsage an issued certificate gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Server,
    Client,
    ServerAndClient,
}

/// What `mediate certs issue` was asked for.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub ca: PathBuf,
    pub ca_password: String,
    pub out: PathBuf,
    pub password: String,
    pub cn: String,
    pub purpose: Purpose,
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub days: u32,
    /// Defaults to the CN in lower case (keytool shows aliases in lower case anyway).
    pub alias: Option<String>,
    pub force: bool,
    /// Also write `<out stem>.pem` (certificate and chain) and `<out stem>.key`.
    pub pem: bool,
}

/// Issues a key and certificate from the CA and writes them as a PKCS#12 key store.
pub fn issue(req: &IssueRequest) -> Result<String, StoreError> {
    if req.cn.trim().is_empty() {
        return Err(StoreError::Invalid("--cn must not be empty".into()));
    }
    if req.days == 0 {
        return Err(StoreError::Invalid("--days must be at least 1".into()));
    }
    let alias = req.alias.clone().unwrap_or_else(|| req.cn.to_lowercase());
    check_alias(&alias)?;
    let pem_paths = req.pem.then(|| (req.out.with_extension("pem"), req.out.with_extension("key")));
    let mut outputs = vec![req.out.clone()];
    outputs.extend(pem_paths.iter().flat_map(|(c, k)| [c.clone(), k.clone()]));
    if !req.force {
        if let Some(p) = outputs.iter().find(|p| p.exists()) {
            return Err(StoreError::Exists(p.clone()));
        }
    }
    let (_, ca, ca_chain) = read_key_entry(&req.ca, &req.ca_password, None, None)?;

    let mut spec = match req.purpose {
        Purpose::Server => CertSpec::server(&req.cn),
        Purpose::Client => CertSpec::client(&req.cn),
        Purpose::ServerAndClient => CertSpec::client(&req.cn).with_profile(Profile::ServerAndClient),
    };
    spec.dns_names = req.dns.clone();
    spec.ip_addresses = req.ips.clone();
    // Clients match the host against the SAN only, so a server certificate always gets one.
    if req.purpose != Purpose::Client && spec.dns_names.is_empty() && spec.ip_addresses.is_empty() {
        match req.cn.parse::<IpAddr>() {
            Ok(ip) => spec.ip_addresses.push(ip),
            Err(_) => spec.dns_names.push(req.cn.clone()),
        }
    }
    spec.not_after_days = i64::from(req.days);
    let issued = pki::issue(&spec, &ca)?;
    check_issued(&req.ca, &issued.cert, &ca.cert, &ca_chain)?;

    let mut chain = vec![ca.cert.clone()];
    chain.extend(ca_chain);
    pki::write_pkcs12(&req.out, &alias, &issued, &chain, &req.password)?;
    let mut wrote = req.out.display().to_string();
    if let Some((cert_pem, key_pem)) = &pem_paths {
        let all: Vec<&X509> = std::iter::once(&issued.cert).chain(chain.iter()).collect();
        pki::write_pem_certs(cert_pem, &all)?;
        pki::write_pem_key(key_pem, &issued.key)?;
        wrote = format!("{wrote}, {} and {}", cert_pem.display(), key_pem.display());
    }
    let purpose = match req.purpose {
        Purpose::Server => "server",
        Purpose::Client => "client",
        Purpose::ServerAndClient => "server and client",
    };
    Ok(format!(
        "issued {} ({purpose}, serial {}, valid until {}) by {}; wrote {wrote} (alias '{alias}')",
        rfc4514(issued.cert.subject_name()),
        issued.cert.serial_number().to_bn()?.to_hex_str()?,
        iso8601(issued.cert.not_after())?,
        rfc4514(ca.cert.subject_name()),
    ))
}

/// Refuses to hand out a certificate that does not verify under its CA (a CA store that
/// holds a leaf, an expired CA…): nobody would accept it, and the reason is clearer now.
fn check_issued(ca_path: &Path, cert: &X509, ca: &X509, ca_chain: &[X509]) -> Result<(), StoreError> {
    let mut b = X509StoreBuilder::new()?;
    b.add_cert(ca.clone())?;
    for c in ca_chain {
        b.add_cert(c.clone())?;
    }
    // The CA may be an intermediate whose root is not in its store.
    b.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
    let store = b.build();
    let mut ctx = X509StoreContext::new()?;
    let untrusted: Stack<X509> = Stack::new()?;
    let result = ctx.init(&store, cert, &untrusted, |c| {
        c.verify_cert()?;
        Ok(c.error())
    })?;
    if result.as_raw() != 0 {
        return Err(store_err(ca_path, format!("cannot issue with this certificate: {}", result.error_string())));
    }
    Ok(())
}

/// What `mediate certs crl` was asked for.
#[derive(Debug, Clone)]
pub struct CrlRequest {
    pub ca: PathBuf,
    pub ca_password: String,
    /// Certificates to revoke now: PEM files (the first certificate in each) or DER files.
    pub revoke: Vec<PathBuf>,
    /// Days until the list's nextUpdate.
    pub days: u32,
    /// The CRL to write (PEM). An existing list from the same CA is extended.
    pub out: PathBuf,
}

/// Writes the CA's certificate revocation list: what `out` already revokes plus `revoke`.
/// Each certificate must have been issued by this CA (revoking it elsewhere does nothing).
pub fn crl(req: &CrlRequest) -> Result<String, StoreError> {
    if req.days == 0 {
        return Err(StoreError::Invalid("--days must be at least 1".into()));
    }
    let (_, ca, _) = read_key_entry(&req.ca, &req.ca_password, None, None)?;
    let ca_key = ca.cert.public_key()?;
    let mut revoked = Vec::new();
    for path in &req.revoke {
        // The first certificate: a PEM file may go on with its chain (`certs issue --pem`).
        let cert = read_certificates(path)?.swap_remove(0);
        if !super::client_cert::same_name(cert.issuer_name(), ca.cert.subject_name()) || !cert.verify(&ca_key).unwrap_or(false) {
            return Err(store_err(path, format!("was not issued by {}; only its issuer can revoke it", rfc4514(ca.cert.subject_name()))));
        }
        revoked.push(cert);
    }
    let earlier = match req.out.exists() {
        true => {
            let bytes = read_file(&req.out)?;
            let old = X509Crl::from_pem(&bytes).or_else(|_| X509Crl::from_der(&bytes)).map_err(|_| store_err(&req.out, "exists and is not a CRL"))?;
            if !old.verify(&ca_key).unwrap_or(false) {
                return Err(store_err(&req.out, format!("is not a CRL of {}; choose another --out", rfc4514(ca.cert.subject_name()))));
            }
            Some(old)
        }
        false => None,
    };
    let refs: Vec<&X509> = revoked.iter().collect();
    let list = pki::crl(&ca, &refs, earlier.as_deref(), 0, i64::from(req.days))?;
    fs::write(&req.out, list.to_pem()?).map_err(|source| StoreError::Io { path: req.out.clone(), source })?;
    let count = list.get_revoked().map(|r| r.len()).unwrap_or(0);
    let next = list.next_update().map(iso8601).transpose()?.unwrap_or_default();
    Ok(format!("wrote {} for {}: {count} revoked, next update {next}", req.out.display(), rfc4514(ca.cert.subject_name())))
}

/// What `mediate certs convert` was asked for.
#[derive(Debug, Clone)]
pub struct ConvertRequest {
    pub from: PathBuf,
    pub password: String,
    /// For JKS keys protected with their own password (the store password is tried too).
    pub key_password: Option<String>,
    pub to: PathBuf,
    pub to_password: String,
    /// Which key entry, when the JKS holds several.
    pub alias: Option<String>,
    /// Where the trusted certificates go when the JKS also holds a key.
    pub trust_to: Option<PathBuf>,
    pub force: bool,
}

/// JKS → PKCS#12. A store of trusted certificates becomes a PKCS#12 truststore. A store with
/// a key becomes a PKCS#12 key store (one key entry, alias and chain kept); its trusted
/// certificates, if any, go to a separate truststore (`trust_to`), because in a key store
/// they would either be dropped by keytool or sent to TLS peers as part of the key's chain.
pub fn convert(req: &ConvertRequest) -> Result<String, StoreError> {
    let bytes = read_file(&req.from)?;
    let format = detect_or_fail(&req.from, &bytes)?;
    if format != Format::Jks {
        return Err(store_err(&req.from, format!("is {}, not JKS; nothing to convert", format.name())));
    }
    let store = open_jks(&req.from, &bytes, &req.password)?;
    let mut trusted: Vec<(String, X509)> = store.trusted_entries().map(|t| (t.alias.clone(), t.cert.clone())).collect();
    trusted.sort_by(|a, b| a.0.cmp(&b.0));
    let key_count = store.key_entries().count();
    let mut targets = vec![req.to.clone()];
    if key_count > 0 && !trusted.is_empty() {
        match &req.trust_to {
            Some(t) => targets.push(t.clone()),
            None => {
                let names = trusted.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ");
                return Err(store_err(
                    &req.from,
                    format!("holds a key and {} trusted certificate(s) ({names}); pass --trust-to FILE.p12 for the trusted ones", trusted.len()),
                ));
            }
        }
    } else if req.trust_to.is_some() {
        return Err(StoreError::Invalid("--trust-to is for JKS stores holding both a key and trusted certificates".into()));
    }
    if targets.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Invalid("--to and --trust-to must be different files".into()));
    }
    if !req.force {
        if let Some(p) = targets.iter().find(|p| p.exists()) {
            return Err(StoreError::Exists(p.clone()));
        }
    }
    if key_count == 0 {
        if trusted.is_empty() {
            return Err(store_err(&req.from, "is empty"));
        }
        write_truststore(&req.to, &trusted, &req.to_password)?;
        return Ok(format!("{}: wrote {} trusted certificate(s) to the truststore {}", req.from.display(), trusted.len(), req.to.display()));
    }
    let (alias, entry, chain) = read_key_entry(&req.from, &req.password, req.key_password.as_deref(), req.alias.as_deref())?;
    pki::write_pkcs12(&req.to, &alias, &entry, &chain, &req.to_password)?;
    let mut msg = format!("{}: wrote key entry '{alias}' (chain of {}) to {}", req.from.display(), chain.len() + 1, req.to.display());
    if let Some(t) = targets.get(1) {
        write_truststore(t, &trusted, &req.to_password)?;
        msg.push_str(&format!(" and {} trusted certificate(s) to {}", trusted.len(), t.display()));
    }
    let mut left: Vec<&str> = store.key_entries().map(|k| k.alias.as_str()).filter(|a| *a != alias).collect();
    left.sort();
    if !left.is_empty() {
        msg.push_str(&format!("; other key entries not converted: {}", left.join(", ")));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::{self_signed, CertSpec};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mediate-store-tool-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn dates_and_names_are_formatted_as_the_standards_say() {
        let t = Asn1Time::from_str("20491231235959Z").unwrap();
        assert_eq!(iso8601(&t).unwrap(), "2049-12-31T23:59:59Z");
        let t = Asn1Time::from_str("20500101000000Z").unwrap();
        assert_eq!(iso8601(&t).unwrap(), "2050-01-01T00:00:00Z");

        let c = self_signed(&CertSpec::client("alice, jr").with_subject_prefix(&[("C", "US"), ("O", "Acme"), ("OU", "ESB")])).unwrap();
        assert_eq!(rfc4514(c.cert.subject_name()), "CN=alice\\, jr,OU=ESB,O=Acme,C=US");
    }

    #[test]
    fn detection_by_content() {
        let d = dir("detect");
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let p = d.join("store.jks"); // the extension lies
        pki::write_pkcs12_truststore(&p, &[("ca", &ca.cert)], "pw").unwrap();
        assert_eq!(detect(&fs::read(&p).unwrap()), Some(Format::Pkcs12));
        assert_eq!(detect(&ca.cert.to_pem().unwrap()), Some(Format::Pem));
        assert_eq!(detect(&ca.cert.to_der().unwrap()), None);
        assert_eq!(detect(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]), Some(Format::Jks));
        assert!(matches!(read(&p, None), Err(StoreError::PasswordNeeded(_))));
        assert!(matches!(read(&p, Some("nope")), Err(StoreError::WrongPassword(_))));
        let c = read(&p, Some("pw")).unwrap();
        assert_eq!((c.format, c.entries.len(), c.entries[0].alias.as_str(), c.entries[0].kind), (Format::Pkcs12, 1, "ca", Kind::Trusted));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn key_stores_list_one_entry_with_its_chain_and_named_certificates_as_trusted() {
        let d = dir("p12");
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let leaf = pki::issue(&CertSpec::client("leaf"), &ca).unwrap();
        let p = d.join("k.p12");
        pki::write_pkcs12(&p, "Leaf-Alias", &leaf, std::slice::from_ref(&ca.cert), "pw").unwrap();
        let c = read(&p, Some("pw")).unwrap();
        assert_eq!(c.entries.len(), 1);
        assert_eq!((c.entries[0].alias.as_str(), c.entries[0].kind, c.entries[0].chain.len()), ("Leaf-Alias", Kind::Key, 1));
        assert_eq!(export(&p, Some("pw"), "leaf-alias").unwrap().to_der().unwrap(), leaf.cert.to_der().unwrap());
        assert!(matches!(export(&p, Some("pw"), "nope"), Err(StoreError::NoSuchAlias { known, .. }) if known == "Leaf-Alias"));
        // A key store is not a truststore: import must not rewrite it and lose the key.
        fs::write(d.join("x.pem"), ca.cert.to_pem().unwrap()).unwrap();
        let e = import(&p, "pw", "x", &d.join("x.pem"), false).unwrap_err();
        assert!(e.to_string().contains("holds a private key"), "{e}");
        // PEM: a key makes one key entry; without one, every certificate is trusted.
        let pem = d.join("id.pem");
        fs::write(&pem, [leaf.cert.to_pem().unwrap(), ca.cert.to_pem().unwrap(), leaf.key.private_key_to_pem_pkcs8().unwrap()].concat()).unwrap();
        let c = read(&pem, None).unwrap();
        assert_eq!((c.entries.len(), c.entries[0].kind, c.entries[0].chain.len()), (1, Kind::Key, 1));
        let pem = d.join("cas.pem");
        fs::write(&pem, [leaf.cert.to_pem().unwrap(), ca.cert.to_pem().unwrap()].concat()).unwrap();
        let aliases: Vec<String> = read(&pem, None).unwrap().entries.into_iter().map(|e| format!("{}:{}", e.alias, e.kind.name())).collect();
        assert_eq!(aliases, ["cert-1:trusted", "cert-2:trusted"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn import_remove_round_trip() {
        let d = dir("trust");
        let a = self_signed(&CertSpec::ca("A")).unwrap();
        let b = self_signed(&CertSpec::ca("B")).unwrap();
        fs::write(d.join("a.pem"), a.cert.to_pem().unwrap()).unwrap();
        fs::write(d.join("b.der"), b.cert.to_der().unwrap()).unwrap();
        fs::write(d.join("two.pem"), [a.cert.to_pem().unwrap(), b.cert.to_pem().unwrap()].concat()).unwrap();
        let t = d.join("t.p12");
        assert!(import(&t, "pw", "a", &d.join("a.pem"), false).unwrap().contains("created with"));
        assert!(import(&t, "pw", "b", &d.join("b.der"), false).unwrap().contains("2 certificate(s)"));
        assert!(import(&t, "pw", "A", &d.join("b.der"), false).unwrap_err().to_string().contains("exists already"));
        assert!(import(&t, "pw", "c", &d.join("two.pem"), false).unwrap_err().to_string().contains("2 certificates"));
        assert!(import(&t, "pw", "c", &d.join("a.pem"), false).unwrap().contains("also trusted as 'a'"));
        import(&t, "pw", "c", &d.join("b.der"), true).unwrap();
        let c = read(&t, Some("pw")).unwrap();
        let got: Vec<(String, Vec<u8>)> = c.entries.iter().map(|e| (e.alias.clone(), e.cert.to_der().unwrap())).collect();
        assert_eq!(got, [("a".into(), a.cert.to_der().unwrap()), ("b".into(), b.cert.to_der().unwrap()), ("c".into(), b.cert.to_der().unwrap())]);
        remove(&t, "pw", "B").unwrap();
        remove(&t, "pw", "c").unwrap();
        assert!(matches!(remove(&t, "pw", "zz"), Err(StoreError::NoSuchAlias { .. })));
        assert!(remove(&t, "pw", "a").unwrap_err().to_string().contains("only certificate"));
        assert!(matches!(remove(&t, "wrong", "a"), Err(StoreError::WrongPassword(_))));
        assert_eq!(read(&t, Some("pw")).unwrap().entries.len(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn issue_refuses_a_ca_that_is_not_one_and_existing_files() {
        let d = dir("issue");
        let ca = self_signed(&CertSpec::ca("Issuing CA")).unwrap();
        let leaf = pki::issue(&CertSpec::client("leaf"), &ca).unwrap();
        pki::write_pkcs12(&d.join("ca.p12"), "ca", &ca, &[], "capw").unwrap();
        pki::write_pkcs12(&d.join("leaf.p12"), "leaf", &leaf, &[], "capw").unwrap();
        let mut req = IssueRequest {
            ca: d.join("ca.p12"),
            ca_password: "capw".into(),
            out: d.join("srv.p12"),
            password: "pw".into(),
            cn: "api.example.test".into(),
            purpose: Purpose::Server,
            dns: vec![],
            ips: vec![],
            days: 10,
            alias: None,
            force: false,
            pem: true,
        };
        let msg = issue(&req).unwrap();
        assert!(msg.contains("issued CN=api.example.test (server"), "{msg}");
        let (entry, chain) = pki::read_pkcs12(&req.out, "pw").unwrap();
        let entry = entry.unwrap();
        let dns: Vec<String> = entry.cert.subject_alt_names().unwrap().iter().filter_map(|n| n.dnsname().map(str::to_string)).collect();
        assert_eq!(dns, ["api.example.test"]);
        assert_eq!(chain.len(), 1);
        assert!(d.join("srv.pem").is_file() && d.join("srv.key").is_file());
        assert!(matches!(issue(&req), Err(StoreError::Exists(p)) if p == req.out));
        req.force = true;
        req.ca = d.join("leaf.p12");
        let e = issue(&req).unwrap_err().to_string();
        assert!(e.contains("cannot issue with this certificate"), "{e}");
        req.ca = d.join("ca.p12");
        req.ca_password = "bad".into();
        assert!(matches!(issue(&req), Err(StoreError::WrongPassword(_))));
        fs::remove_dir_all(&d).unwrap();
    }
}
