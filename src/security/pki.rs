//! Certificates and keystores made with the openssl crate: no keytool, no openssl CLI.
//!
//! Three users: `mediate certs init` (the demo PKI the shipped configuration uses), the
//! integration tests (which need odd certificates: expired, wrong key usage, untrusted CA…)
//! and, later, `mediate certs issue`. A [`CertSpec`] says what a certificate should look
//! like; [`self_signed`] and [`issue`] make it; the `write_*` functions store it.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

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
use openssl::x509::{X509Builder, X509NameBuilder, X509};

/// The password of every demo store.
pub const DEMO_PASSWORD: &str = "changeit";

/// The files `init_demo` writes.
pub const DEMO_FILES: [&str; 8] =
    ["ca.p12", "ca.pem", "server.p12", "truststore.p12", "client.p12", "client.pem", "client.key", "truststore.pem"];

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
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.to_path_buf(), source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256: small and fast to handshake with.
    EcP256,
    Rsa(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A CA certificate (basicConstraints CA:TRUE, keyCertSign).
    Ca { path_len: Option<u32> },
    /// A TLS server (serverAuth).
    Server,
    /// A TLS client (clientAuth).
    Client,
    /// Both.
    ServerAndClient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eku {
    ServerAuth,
    ClientAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    /// Only for tests of what must be refused.
    Sha1,
}

/// What a certificate should look like.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject attributes in order, e.g. `[("O", "Acme"), ("CN", "alice")]`.
    pub subject: Vec<(String, String)>,
    pub profile: Profile,
    /// Overrides the profile's extendedKeyUsage; `Some(vec![])` leaves the extension out.
    pub ext_key_usage: Option<Vec<Eku>>,
    /// Overrides the profile's basicConstraints CA flag (to make odd leaves for tests).
    pub ca_flag: Option<bool>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// Validity, in days relative to now (negative values allowed).
    pub not_before_days: i64,
    pub not_after_days: i64,
    pub key: KeyAlgorithm,
    pub digest: Digest,
    /// Random 127-bit positive serial when `None`.
    pub serial: Option<u64>,
}

impl CertSpec {
    fn new(cn: &str, profile: Profile, days: i64) -> Self {
        CertSpec {
            subject: vec![("CN".into(), cn.into())],
            profile,
            ext_key_usage: None,
            ca_flag: None,
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            not_before_days: -1,
            not_after_days: days,
            key: KeyAlgorithm::EcP256,
            digest: Digest::Sha256,
            serial: None,
        }
    }

    /// A CA valid for ten years.
    pub fn ca(cn: &str) -> Self {
        Self::new(cn, Profile::Ca { path_len: None }, 3650)
    }

    /// A server certificate valid for two years, named localhost, 127.0.0.1 and ::1.
    pub fn server(cn: &str) -> Self {
        let mut s = Self::new(cn, Profile::Server, 730);
        s.dns_names = vec!["localhost".into()];
        s.ip_addresses = vec![IpAddr::from([127, 0, 0, 1]), "::1".parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))];
        s
    }

    /// A client certificate valid for two years.
    pub fn client(cn: &str) -> Self {
        Self::new(cn, Profile::Client, 730)
    }

    /// Puts `key=value` attributes before the CN (e.g. `O`, `OU`, `C`).
    pub fn with_subject_prefix(mut self, attrs: &[(&str, &str)]) -> Self {
        let mut s: Vec<(String, String)> = attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        s.append(&mut self.subject);
        self.subject = s;
        self
    }

    pub fn valid_days(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before_days = not_before;
        self.not_after_days = not_after;
        self
    }

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
}

/// A certificate with its private key.
#[derive(Clone)]
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

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
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Ok(Asn1Time::from_unix(now + days * 86_400)?)
}

/// Makes a self-signed certificate (a root CA, or a self-signed leaf).
pub fn self_signed(spec: &CertSpec) -> Result<Issued, PkiError> {
    let key = new_key(spec.key)?;
    let cert = build(spec, &key, None)?;
    Ok(Issued { cert, key })
}

/// Makes a certificate signed by `issuer`.
pub fn issue(spec: &CertSpec, issuer: &Issued) -> Result<Issued, PkiError> {
    let key = new_key(spec.key)?;
    let cert = build(spec, &key, Some(issuer))?;
    Ok(Issued { cert, key })
}

fn build(spec: &CertSpec, key: &PKey<Private>, issuer: Option<&Issued>) -> Result<X509, PkiError> {
    let mut name = X509NameBuilder::new()?;
    for (k, v) in &spec.subject {
        name.append_entry_by_text(k, v)?;
    }
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = match spec.serial {
        Some(s) => BigNum::from_dec_str(&s.to_string())?,
        None => {
            let mut bn = BigNum::new()?;
            bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
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

    let is_ca = spec.ca_flag.unwrap_or(matches!(spec.profile, Profile::Ca { .. }));
    let mut bc = BasicConstraints::new();
    bc.critical();
    if is_ca {
        bc.ca();
        if let Profile::Ca { path_len: Some(n) } = spec.profile {
            bc.pathlen(n);
        }
    }
    b.append_extension(bc.build()?)?;
    let mut ku = KeyUsage::new();
    ku.critical();
    if is_ca {
        ku.key_cert_sign().crl_sign().digital_signature();
    } else {
        ku.digital_signature();
        if matches!(spec.key, KeyAlgorithm::Rsa(_)) {
            ku.key_encipherment();
        }
    }
    b.append_extension(ku.build()?)?;
    let ekus = spec.ext_key_usage.clone().unwrap_or(match spec.profile {
        Profile::Ca { .. } => vec![],
        Profile::Server => vec![Eku::ServerAuth],
        Profile::Client => vec![Eku::ClientAuth],
        Profile::ServerAndClient => vec![Eku::ServerAuth, Eku::ClientAuth],
    });
    if !ekus.is_empty() {
        let mut e = ExtendedKeyUsage::new();
        for u in ekus {
            match u {
                Eku::ServerAuth => e.server_auth(),
                Eku::ClientAuth => e.client_auth(),
            };
        }
        b.append_extension(e.build()?)?;
    }
    if !spec.dns_names.is_empty() || !spec.ip_addresses.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for d in &spec.dns_names {
            san.dns(d);
        }
        for ip in &spec.ip_addresses {
            san.ip(&ip.to_string());
        }
        b.append_extension(san.build(&b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None))?)?;
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None))?;
    b.append_extension(ski)?;
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

/// Writes `bytes` to `path` through a temporary file, so a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// Writes a key entry (key, certificate, issuer chain) as PKCS#12 with AES-256 and PBKDF2,
/// which both openssl and Java 17's keytool read.
pub fn write_pkcs12(path: &Path, alias: &str, entity: &Issued, chain: &[X509], password: &str) -> Result<(), PkiError> {
    let mut ca = Stack::new()?;
    for c in chain {
        ca.push(c.clone())?;
    }
    let mut b = Pkcs12::builder();
    b.name(alias).pkey(&entity.key).cert(&entity.cert).ca(ca);
    modern_pkcs12(&mut b);
    write_atomic(path, &b.build2(password)?.to_der()?, true)
}

/// Writes certificates only (a truststore) as PKCS#12.
///
/// Java's keytool lists a certificate-only PKCS#12 entry as a trusted certificate only when
/// the bag carries Oracle's trusted-key-usage attribute, which the openssl crate cannot add;
/// for Java clients use `truststore.pem` or import the CA with keytool.
pub fn write_pkcs12_truststore(path: &Path, certs: &[&X509], password: &str) -> Result<(), PkiError> {
    let mut ca = Stack::new()?;
    for c in certs {
        ca.push((*c).clone())?;
    }
    let mut b = Pkcs12::builder();
    b.ca(ca);
    modern_pkcs12(&mut b);
    write_atomic(path, &b.build2(password)?.to_der()?, false)
}

fn modern_pkcs12(b: &mut openssl::pkcs12::Pkcs12Builder) {
    b.key_algorithm(Nid::AES_256_CBC).cert_algorithm(Nid::AES_256_CBC).mac_md(MessageDigest::sha256());
}

pub fn write_pem_certs(path: &Path, certs: &[&X509]) -> Result<(), PkiError> {
    let mut out = Vec::new();
    for c in certs {
        out.extend(c.to_pem()?);
    }
    write_atomic(path, &out, false)
}

/// Writes a private key as unencrypted PKCS#8 PEM, readable by its owner only.
pub fn write_pem_key(path: &Path, key: &PKey<Private>) -> Result<(), PkiError> {
    write_atomic(path, &key.private_key_to_pem_pkcs8()?, true)
}

/// Reads a PKCS#12 file: its key entry (if any) and every other certificate.
pub fn read_pkcs12(path: &Path, password: &str) -> Result<(Option<Issued>, Vec<X509>), PkiError> {
    let der = fs::read(path).map_err(io_err(path))?;
    let store_err = |m: String| PkiError::Store { path: path.to_path_buf(), message: m };
    let parsed = Pkcs12::from_der(&der)
        .map_err(|_| store_err("not a PKCS#12 file".into()))?
        .parse2(password)
        .map_err(|e| store_err(format!("cannot open (wrong password?): {e}")))?;
    let others: Vec<X509> = parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default();
    let entry = match (parsed.pkey, parsed.cert) {
        (Some(key), Some(cert)) => Some(Issued { cert, key }),
        _ => None,
    };
    Ok((entry, others))
}

/// Where `init_demo` put things.
#[derive(Debug, Clone)]
pub struct DemoPki {
    pub dir: PathBuf,
    pub ca_p12: PathBuf,
    pub ca_pem: PathBuf,
    pub server_p12: PathBuf,
    pub truststore_p12: PathBuf,
    pub truststore_pem: PathBuf,
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
            truststore_pem: dir.join("truststore.pem"),
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

/// Creates the demo PKI in `dir`: a CA, a server keystore for localhost, a truststore
/// holding the CA, and a client keystore (also as PEM for curl). Without `force` it refuses
/// to overwrite any existing file.
pub fn init_demo(dir: &Path, force: bool) -> Result<DemoPki, PkiError> {
    if !force {
        if let Some(f) = DEMO_FILES.iter().map(|f| dir.join(f)).find(|p| p.exists()) {
            return Err(PkiError::Exists(f));
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    let demo = DemoPki::at(dir);
    let org = [("O", "mediate demo")];
    let ca = self_signed(&CertSpec::ca("mediate demo CA").with_subject_prefix(&org))?;
    let server = issue(&CertSpec::server("localhost").with_subject_prefix(&org), &ca)?;
    let client = issue(&CertSpec::client("mediate-demo-client").with_subject_prefix(&org), &ca)?;
    let chain = [ca.cert.clone()];
    write_pkcs12(&demo.ca_p12, "mediate-demo-ca", &ca, &[], DEMO_PASSWORD)?;
    write_pem_certs(&demo.ca_pem, &[&ca.cert])?;
    write_pem_certs(&demo.truststore_pem, &[&ca.cert])?;
    write_pkcs12_truststore(&demo.truststore_p12, &[&ca.cert], DEMO_PASSWORD)?;
    write_pkcs12(&demo.server_p12, "server", &server, &chain, DEMO_PASSWORD)?;
    write_pkcs12(&demo.client_p12, "client", &client, &chain, DEMO_PASSWORD)?;
    write_pem_certs(&demo.client_pem, &[&client.cert])?;
    write_pem_key(&demo.client_key, &client.key)?;
    Ok(demo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509StoreContext, X509VerifyResult};

    fn verify(leaf: &X509, ca: &X509) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(ca.clone()).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        let chain = Stack::new().unwrap();
        ctx.init(&store, leaf, &chain, |c| {
            c.verify_cert()?;
            Ok(c.error())
        })
        .unwrap()
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mediate-pki-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn issued_certificates_verify_and_expired_ones_do_not() {
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let ok = issue(&CertSpec::client("alice"), &ca).unwrap();
        assert_eq!(verify(&ok.cert, &ca.cert), X509VerifyResult::OK);
        let expired = issue(&CertSpec::client("old").valid_days(-30, -1), &ca).unwrap();
        assert_eq!(verify(&expired.cert, &ca.cert).as_raw(), 10, "X509_V_ERR_CERT_HAS_EXPIRED");
        let future = issue(&CertSpec::client("new").valid_days(2, 30), &ca).unwrap();
        assert_eq!(verify(&future.cert, &ca.cert).as_raw(), 9, "X509_V_ERR_CERT_NOT_YET_VALID");
        let other = self_signed(&CertSpec::ca("Other CA")).unwrap();
        assert_ne!(verify(&ok.cert, &other.cert), X509VerifyResult::OK);
    }

    #[test]
    fn extensions_follow_the_spec() {
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let text = |c: &X509| String::from_utf8(c.to_text().unwrap()).unwrap();
        let t = text(&ca.cert);
        assert!(t.contains("CA:TRUE") && t.contains("Certificate Sign"), "{t}");
        let server = issue(&CertSpec::server("localhost"), &ca).unwrap();
        let t = text(&server.cert);
        assert!(t.contains("CA:FALSE") && t.contains("TLS Web Server Authentication") && !t.contains("Client Authentication"), "{t}");
        assert!(t.contains("DNS:localhost") && t.contains("IP Address:127.0.0.1") && t.contains("IP Address:0:0:0:0:0:0:0:1"), "{t}");
        let no_eku = issue(&CertSpec::client("x").with_eku(vec![]), &ca).unwrap();
        assert!(!text(&no_eku.cert).contains("Extended Key Usage"));
        let rsa = issue(&CertSpec::client("r").with_key(KeyAlgorithm::Rsa(1024)).with_digest(Digest::Sha1), &ca).unwrap();
        assert_eq!(rsa.key.bits(), 1024);
        assert_eq!(rsa.cert.signature_algorithm().object().nid(), Nid::ECDSA_WITH_SHA1);
        let named = CertSpec::client("alice").with_subject_prefix(&[("C", "US"), ("O", "Acme")]);
        let c = self_signed(&named).unwrap();
        let entries: Vec<String> = c.cert.subject_name().entries().map(|e| e.data().to_string().unwrap()).collect();
        assert_eq!(entries, ["US", "Acme", "alice"]);
    }

    #[test]
    fn pkcs12_round_trip() {
        let d = temp("p12");
        fs::create_dir_all(&d).unwrap();
        let ca = self_signed(&CertSpec::ca("Test CA")).unwrap();
        let leaf = issue(&CertSpec::client("alice"), &ca).unwrap();
        let p = d.join("a.p12");
        write_pkcs12(&p, "alice", &leaf, &[ca.cert.clone()], "pw").unwrap();
        let (entry, others) = read_pkcs12(&p, "pw").unwrap();
        let entry = entry.unwrap();
        assert_eq!(entry.cert.to_der().unwrap(), leaf.cert.to_der().unwrap());
        assert!(entry.key.public_eq(&leaf.key));
        assert_eq!(others.len(), 1);
        assert!(read_pkcs12(&p, "wrong").is_err());
        let t = d.join("t.p12");
        write_pkcs12_truststore(&t, &[&ca.cert], "pw").unwrap();
        let (entry, others) = read_pkcs12(&t, "pw").unwrap();
        assert!(entry.is_none() && others.len() == 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn demo_pki_is_complete_and_not_overwritten() {
        let d = temp("demo");
        let demo = init_demo(&d, false).unwrap();
        for f in DEMO_FILES {
            assert!(d.join(f).is_file(), "{f}");
        }
        assert!(demo_files_present(&d));
        assert!(matches!(init_demo(&d, false), Err(PkiError::Exists(_))));
        let (client, chain) = read_pkcs12(&demo.client_p12, DEMO_PASSWORD).unwrap();
        let (_, trust) = read_pkcs12(&demo.truststore_p12, DEMO_PASSWORD).unwrap();
        assert_eq!(verify(&client.unwrap().cert, &trust[0]), X509VerifyResult::OK);
        assert_eq!(chain.len(), 1);
        if std::process::Command::new("keytool").arg("-help").output().is_ok() {
            let out = std::process::Command::new("keytool")
                .args(["-list", "-storetype", "PKCS12", "-storepass", DEMO_PASSWORD, "-keystore"])
                .arg(&demo.server_p12)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("server,") && text.contains("PrivateKeyEntry"), "{text}");
        }
        init_demo(&d, true).unwrap();
        fs::remove_dir_all(&d).unwrap();
    }
}
