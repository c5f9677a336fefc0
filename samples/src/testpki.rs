//! A throwaway PKI for tests and demos: a CA, a server certificate for
//! `localhost`/127.0.0.1/::1, a client certificate, and a second, untrusted CA
//! with a client certificate of its own, written as PEM and PKCS#12 files.
//! Keys are P-256 so that generating them costs milliseconds.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Ssl(#[from] ErrorStack),
    #[error("cannot write test PKI files: {0}")]
    Io(#[from] io::Error),
}

/// Paths of the generated files. Every PKCS#12 file uses `password`.
#[derive(Debug, Clone)]
pub struct TestPki {
    pub password: String,
    /// The trusted CA certificate (PEM), and the same as a PKCS#12 trust store.
    pub ca_pem: PathBuf,
    pub truststore_p12: PathBuf,
    /// A CA nobody trusts.
    pub other_ca_pem: PathBuf,
    pub server_p12: PathBuf,
    pub server_cert_pem: PathBuf,
    pub server_key_pem: PathBuf,
    pub client_p12: PathBuf,
    pub client_cert_pem: PathBuf,
    pub client_key_pem: PathBuf,
    /// A client certificate issued by the untrusted CA.
    pub rogue_client_p12: PathBuf,
}

impl TestPki {
    /// Generates everything into `dir` (which must exist).
    pub fn generate(dir: &Path) -> Result<TestPki, PkiError> {
        let password = "changeit".to_owned();
        let (ca_key, ca) = authority("mediate-samples test CA")?;
        let (other_key, other_ca) = authority("mediate-samples untrusted CA")?;
        let (server_key, server) = leaf("localhost", Role::Server, &ca, &ca_key)?;
        let (client_key, client) = leaf("sample-client", Role::Client, &ca, &ca_key)?;
        let (rogue_key, rogue) = leaf("rogue-client", Role::Client, &other_ca, &other_key)?;

        let pki = TestPki {
            password,
            ca_pem: dir.join("ca.pem"),
            truststore_p12: dir.join("truststore.p12"),
            other_ca_pem: dir.join("other-ca.pem"),
            server_p12: dir.join("server.p12"),
            server_cert_pem: dir.join("server.pem"),
            server_key_pem: dir.join("server.key"),
            client_p12: dir.join("client.p12"),
            client_cert_pem: dir.join("client.pem"),
            client_key_pem: dir.join("client.key"),
            rogue_client_p12: dir.join("rogue-client.p12"),
        };
        std::fs::write(&pki.ca_pem, ca.to_pem()?)?;
        std::fs::write(&pki.other_ca_pem, other_ca.to_pem()?)?;
        std::fs::write(&pki.server_cert_pem, server.to_pem()?)?;
        std::fs::write(&pki.server_key_pem, server_key.private_key_to_pem_pkcs8()?)?;
        std::fs::write(&pki.client_cert_pem, client.to_pem()?)?;
        std::fs::write(&pki.client_key_pem, client_key.private_key_to_pem_pkcs8()?)?;
        let mut trust = Stack::new()?;
        trust.push(ca.clone())?;
        let truststore = Pkcs12::builder().ca(trust).build2(&pki.password)?;
        std::fs::write(&pki.truststore_p12, truststore.to_der()?)?;
        write_keystore(
            &pki.server_p12,
            &pki.password,
            "server",
            &server_key,
            &server,
            &ca,
        )?;
        write_keystore(
            &pki.client_p12,
            &pki.password,
            "client",
            &client_key,
            &client,
            &ca,
        )?;
        write_keystore(
            &pki.rogue_client_p12,
            &pki.password,
            "rogue",
            &rogue_key,
            &rogue,
            &other_ca,
        )?;
        Ok(pki)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Server,
    Client,
}

fn write_keystore(
    path: &Path,
    password: &str,
    name: &str,
    key: &PKey<Private>,
    cert: &X509,
    issuer: &X509,
) -> Result<(), PkiError> {
    let mut chain = Stack::new()?;
    chain.push(issuer.clone())?;
    let p12 = Pkcs12::builder()
        .name(name)
        .pkey(key)
        .cert(cert)
        .ca(chain)
        .build2(password)?;
    std::fs::write(path, p12.to_der()?)?;
    Ok(())
}

fn new_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn builder(cn: &str, key: &PKey<Private>) -> Result<X509Builder, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", "mediate samples")?;
    name.append_entry_by_text("CN", cn)?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = BigNum::from_u32(fastrand::u32(1..u32::MAX))?.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(key)?;
    // Backdated so that small clock differences never make it "not yet valid".
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let not_before = Asn1Time::from_unix(now - 3600)?;
    let not_after = Asn1Time::days_from_now(30)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    Ok(b)
}

fn authority(cn: &str) -> Result<(PKey<Private>, X509), ErrorStack> {
    let key = new_key()?;
    let mut b = builder(cn, &key)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok((key, b.build()))
}

fn leaf(
    cn: &str,
    role: Role,
    ca: &X509,
    ca_key: &PKey<Private>,
) -> Result<(PKey<Private>, X509), ErrorStack> {
    let key = new_key()?;
    let mut b = builder(cn, &key)?;
    b.set_issuer_name(ca.subject_name())?;
    b.append_extension(BasicConstraints::new().build()?)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let eku = match role {
        Role::Server => ExtendedKeyUsage::new().server_auth().build()?,
        Role::Client => ExtendedKeyUsage::new().client_auth().build()?,
    };
    b.append_extension(eku)?;
    let (aki, san) = {
        let ctx = b.x509v3_context(Some(ca), None);
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&ctx)?;
        let san = match role {
            Role::Server => Some(
                SubjectAlternativeName::new()
                    .dns("localhost")
                    .ip("127.0.0.1")
                    .ip("::1")
                    .build(&ctx)?,
            ),
            Role::Client => None,
        };
        (aki, san)
    };
    b.append_extension(aki)?;
    if let Some(san) = san {
        b.append_extension(san)?;
    }
    b.sign(ca_key, MessageDigest::sha256())?;
    Ok((key, b.build()))
}

/// A directory under the system temp dir, removed with everything in it on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory; panics if it cannot, as it is meant for tests.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "mediate-samples-{label}-{}-{n}-{nanos}",
            std::process::id()
        ));
        #[allow(clippy::expect_used)]
        std::fs::create_dir_all(&path).expect("cannot create a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certificate_is_issued_by_the_ca_and_names_loopback() {
        let dir = TempDir::new("pki");
        let pki = TestPki::generate(dir.path()).unwrap();
        let ca = X509::from_pem(&std::fs::read(&pki.ca_pem).unwrap()).unwrap();
        let server = X509::from_pem(&std::fs::read(&pki.server_cert_pem).unwrap()).unwrap();
        let other = X509::from_pem(&std::fs::read(&pki.other_ca_pem).unwrap()).unwrap();
        assert!(server.verify(&ca.public_key().unwrap()).unwrap());
        assert!(!server.verify(&other.public_key().unwrap()).unwrap());
        let sans: Vec<String> = server
            .subject_alt_names()
            .unwrap()
            .iter()
            .map(|n| match (n.dnsname(), n.ipaddress()) {
                (Some(d), _) => d.to_owned(),
                (None, Some(ip)) => format!("{ip:?}"),
                _ => String::new(),
            })
            .collect();
        assert_eq!(sans[0], "localhost");
        assert_eq!(sans.len(), 3);
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
