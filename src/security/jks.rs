//! Reading Java KeyStore (JKS) files, as `keytool -storetype JKS` writes them.
//!
//! Users migrating from Synapse or WSO2 arrive with `.jks` stores; reading them directly
//! spares them a conversion step. Private-key entries (with their certificate chains) and
//! trusted-certificate entries are read; the store's integrity digest is checked before
//! anything is trusted, so a wrong password or an altered file is refused. Writing JKS is
//! not supported: mediate writes PKCS#12, which every current Java reads.

use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::keystore::Identity;

/// The first four bytes of every JKS file.
pub const MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
/// The first four bytes of a JCEKS file, which we recognise only to say so.
const JCEKS_MAGIC: [u8; 4] = [0xce, 0xce, 0xce, 0xce];

/// Mixed into the integrity digest by Java's JKS implementation.
const INTEGRITY_SALT: &[u8] = b"Mighty Aphrodite";
const SHA1_LEN: usize = 20;
const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
/// DER of OID 1.3.6.1.4.1.42.2.17.1.1, Sun's proprietary JKS key protection.
const JKS_KEY_PROTECTOR_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01];

#[derive(Debug, thiserror::Error)]
pub enum JksError {
    #[error("not a JKS file")]
    NotJks,
    #[error("a JCEKS file, which mediate does not read; convert it with `keytool -importkeystore -deststoretype PKCS12`")]
    Jceks,
    #[error("JKS version {0} is not supported (only 1 and 2 exist)")]
    Version(u32),
    #[error("damaged JKS file: {0}")]
    Malformed(String),
    #[error("wrong password: the store's integrity check failed (or the file was altered)")]
    WrongPassword,
    #[error("entry '{alias}': {message}")]
    Entry { alias: String, message: String },
    #[error("the store has no private-key entry")]
    NoKeyEntry,
    #[error("no private-key entry opens with the key password given (entries: {0})")]
    WrongKeyPassword(String),
    #[error("a JKS store needs its password: the integrity check cannot be skipped")]
    PasswordNeeded,
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

impl JksError {
    /// What an `axis2.xml` author should look at.
    pub fn config_hint(&self) -> &'static str {
        match self {
            JksError::WrongPassword | JksError::PasswordNeeded => " (check <Password>)",
            JksError::WrongKeyPassword(_) => " (check <KeyPassword>, or <Password> when the key has the store's password)",
            JksError::NotJks | JksError::Jceks => " (check <Type>)",
            _ => "",
        }
    }
}

/// A private key (still protected) with its certificate chain, leaf first.
pub struct KeyEntry {
    pub alias: String,
    /// The protected key: a DER EncryptedPrivateKeyInfo.
    protected: Vec<u8>,
    pub chain: Vec<X509>,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry").field("alias", &self.alias).field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct TrustedEntry {
    pub alias: String,
    pub cert: X509,
}

#[derive(Debug)]
pub enum Entry {
    Key(KeyEntry),
    Trusted(TrustedEntry),
}

impl Entry {
    pub fn alias(&self) -> &str {
        match self {
            Entry::Key(k) => &k.alias,
            Entry::Trusted(t) => &t.alias,
        }
    }
}

/// The entries of a JKS file, in file order (which is Java's hash order, not the order they
/// were added in).
#[derive(Debug)]
pub struct JksStore {
    pub entries: Vec<Entry>,
}

/// Whether `bytes` start like a JKS file.
pub fn is_jks(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Parses a JKS file after checking its integrity digest with `password`.
pub fn parse(bytes: &[u8], password: &str) -> Result<JksStore, JksError> {
    if bytes.starts_with(&JCEKS_MAGIC) {
        return Err(JksError::Jceks);
    }
    if !is_jks(bytes) {
        return Err(JksError::NotJks);
    }
    // The digest is checked first: nothing from an unverified file is worth parsing.
    let body_len = bytes.len().checked_sub(SHA1_LEN).filter(|n| *n >= 12).ok_or_else(|| malformed("too short"))?;
    let (body, stored) = bytes.split_at(body_len);
    let mut h = Hasher::new(MessageDigest::sha1())?;
    h.update(&java_password_bytes(password))?;
    h.update(INTEGRITY_SALT)?;
    h.update(body)?;
    if !openssl::memcmp::eq(&h.finish()?, stored) {
        return Err(JksError::WrongPassword);
    }

    let mut r = Reader { bytes: body, pos: 4 };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(JksError::Version(version));
    }
    let count = r.u32()?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        let _created_millis = r.take(8)?;
        let entry = match tag {
            TAG_PRIVATE_KEY => {
                let len = r.u32()?;
                let protected = r.take(len as usize)?.to_vec();
                let n = r.u32()?;
                let mut chain = Vec::new();
                for _ in 0..n {
                    chain.push(r.cert(version, &alias)?);
                }
                if chain.is_empty() {
                    return Err(JksError::Entry { alias, message: "the private key has no certificate".into() });
                }
                Entry::Key(KeyEntry { alias, protected, chain })
            }
            TAG_TRUSTED_CERT => {
                let cert = r.cert(version, &alias)?;
                Entry::Trusted(TrustedEntry { alias, cert })
            }
            // Tag 3 is JCEKS's secret-key entry; anything else is not JKS at all.
            other => return Err(malformed(format!("entry '{alias}' has unknown type {other}"))),
        };
        entries.push(entry);
    }
    if r.pos != body.len() {
        return Err(malformed("unexpected bytes after the last entry"));
    }
    Ok(JksStore { entries })
}

impl JksStore {
    pub fn key_entries(&self) -> impl Iterator<Item = &KeyEntry> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Key(k) => Some(k),
            Entry::Trusted(_) => None,
        })
    }

    pub fn trusted_entries(&self) -> impl Iterator<Item = &TrustedEntry> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Trusted(t) => Some(t),
            Entry::Key(_) => None,
        })
    }

    /// The first key entry (in file order) that opens with one of `passwords`, tried in
    /// order: the whole list with the first password, then with the next, and so on.
    pub fn first_key(&self, passwords: &[&str]) -> Result<(&KeyEntry, PKey<Private>), JksError> {
        let keys: Vec<&KeyEntry> = self.key_entries().collect();
        if keys.is_empty() {
            return Err(JksError::NoKeyEntry);
        }
        for pw in passwords {
            for k in &keys {
                match k.decrypt(pw) {
                    Ok(key) => return Ok((k, key)),
                    Err(JksError::Entry { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Err(JksError::WrongKeyPassword(keys.iter().map(|k| k.alias.as_str()).collect::<Vec<_>>().join(", ")))
    }
}

impl KeyEntry {
    /// Recovers the private key. A wrong password fails the protector's own check and is
    /// reported as [`JksError::Entry`].
    pub fn decrypt(&self, password: &str) -> Result<PKey<Private>, JksError> {
        let entry_err = |message: &str| JksError::Entry { alias: self.alias.clone(), message: message.into() };
        let data = encrypted_key_data(&self.protected).ok_or_else(|| entry_err("unreadable protected key"))?;
        let mut plain = unprotect(data, password)?.ok_or_else(|| entry_err("wrong key password"))?;
        let key = PKey::private_key_from_pkcs8(&plain).map_err(|_| entry_err("the recovered key is not PKCS#8"));
        // Best effort: the plaintext key should not linger in freed memory.
        plain.fill(0);
        key
    }
}

/// The server's identity from a JKS keystore: the first key entry (in file order) whose key
/// opens with `key_password`, or with the store password when there is none, as Synapse
/// reads `<KeyPassword>`. A mistyped KeyPassword is an error rather than a reason to fall
/// back to another entry. `place` names the file in the log line saying which alias was
/// chosen when there are several.
pub fn identity(bytes: &[u8], password: &str, key_password: Option<&str>, place: &str) -> Result<(String, Identity), JksError> {
    let store = parse(bytes, password)?;
    let (entry, key) = store.first_key(&[key_password.unwrap_or(password)])?;
    let aliases: Vec<&str> = store.key_entries().map(|k| k.alias.as_str()).collect();
    if aliases.len() > 1 {
        log::info!("{place} holds {} key entries ({}); using '{}'", aliases.len(), aliases.join(", "), entry.alias);
    }
    let mut chain = entry.chain.iter().cloned();
    let cert = chain.next().ok_or(JksError::NoKeyEntry)?;
    Ok((entry.alias.clone(), Identity { key, cert, chain: chain.collect() }))
}

/// The certificates a JKS truststore trusts: every trusted-certificate entry and, as Java's
/// trust managers do, the certificate (not the chain) of every key entry.
pub fn trusted_certificates(bytes: &[u8], password: &str) -> Result<Vec<X509>, JksError> {
    if password.is_empty() {
        return Err(JksError::PasswordNeeded);
    }
    let store = parse(bytes, password)?;
    Ok(store
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Trusted(t) => Some(t.cert.clone()),
            Entry::Key(k) => k.chain.first().cloned(),
        })
        .collect())
}

/// Java's `char[]` password as bytes: each UTF-16 code unit, high byte first.
fn java_password_bytes(password: &str) -> Vec<u8> {
    password.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// The `encryptedData` of an EncryptedPrivateKeyInfo protected with the JKS algorithm.
fn encrypted_key_data(der: &[u8]) -> Option<&[u8]> {
    let (tag, info, rest) = der_tlv(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, algorithm, after) = der_tlv(info)?;
    let (oid_tag, oid, _params) = der_tlv(algorithm)?;
    if tag != 0x30 || oid_tag != 0x06 || oid != JKS_KEY_PROTECTOR_OID {
        return None;
    }
    let (tag, data, rest) = der_tlv(after)?;
    (tag == 0x04 && rest.is_empty()).then_some(data)
}

/// One DER element: its tag, its content and what follows it.
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Sun's JKS key protector, reversed: `salt (20) || ciphertext || check (20)`, where the
/// keystream is SHA-1(password || previous block) starting from the salt, and the check is
/// SHA-1(password || plaintext). `None` when the check fails (a wrong password).
fn unprotect(data: &[u8], password: &str) -> Result<Option<Vec<u8>>, JksError> {
    if data.len() < 2 * SHA1_LEN {
        return Ok(None);
    }
    let pw = java_password_bytes(password);
    let (salt, rest) = data.split_at(SHA1_LEN);
    let (cipher, check) = rest.split_at(rest.len() - SHA1_LEN);
    let mut block = salt.to_vec();
    let mut plain = Vec::with_capacity(cipher.len());
    for chunk in cipher.chunks(SHA1_LEN) {
        let mut h = Hasher::new(MessageDigest::sha1())?;
        h.update(&pw)?;
        h.update(&block)?;
        block = h.finish()?.to_vec();
        plain.extend(chunk.iter().zip(&block).map(|(c, k)| c ^ k));
    }
    let mut h = Hasher::new(MessageDigest::sha1())?;
    h.update(&pw)?;
    h.update(&plain)?;
    if openssl::memcmp::eq(&h.finish()?, check) {
        Ok(Some(plain))
    } else {
        plain.fill(0);
        Ok(None)
    }
}

fn malformed(what: impl Into<String>) -> JksError {
    JksError::Malformed(what.into())
}

/// Java's DataInputStream over the file, with every length checked against what is left.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], JksError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or_else(|| malformed("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, JksError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Result<u16, JksError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// `writeUTF`'s "modified UTF-8": NUL as two bytes and supplementary characters as
    /// surrogate pairs, each encoded on its own.
    fn utf(&mut self) -> Result<String, JksError> {
        let len = self.u16()? as usize;
        let b = self.take(len)?;
        let bad = || malformed("an alias is not valid modified UTF-8");
        let mut units = Vec::with_capacity(len);
        let mut i = 0;
        while i < b.len() {
            let c = b[i] as u16;
            let cont = |j: usize| b.get(i + j).filter(|x| *x & 0xc0 == 0x80).map(|x| (*x & 0x3f) as u16).ok_or_else(bad);
            let (unit, n) = match b[i] {
                0x01..=0x7f => (c, 1),
                0xc0..=0xdf => (((c & 0x1f) << 6) | cont(1)?, 2),
                0xe0..=0xef => (((c & 0x0f) << 12) | (cont(1)? << 6) | cont(2)?, 3),
                _ => return Err(bad()),
            };
            units.push(unit);
            i += n;
        }
        String::from_utf16(&units).map_err(|_| bad())
    }

    fn cert(&mut self, version: u32, alias: &str) -> Result<X509, JksError> {
        if version == 2 {
            let kind = self.utf()?;
            if kind != "X.509" {
                return Err(JksError::Entry { alias: alias.into(), message: format!("certificate type {kind} is not supported") });
            }
        }
        let len = self.u32()? as usize;
        let der = self.take(len)?;
        X509::from_der(der).map_err(|_| JksError::Entry { alias: alias.into(), message: "unreadable certificate".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::{issue, self_signed, CertSpec, KeyAlgorithm};
    use std::process::Command;

    /// A JKS writer for tests only (the protector run forwards), to cover what keytool no
    /// longer writes (version 1) and damaged files. keytool-made stores check it below.
    fn protect(plain: &[u8], password: &str, salt: [u8; 20]) -> Vec<u8> {
        let pw = java_password_bytes(password);
        let mut block = salt.to_vec();
        let mut out = salt.to_vec();
        for chunk in plain.chunks(20) {
            block = openssl::hash::hash(MessageDigest::sha1(), &[pw.as_slice(), &block].concat()).unwrap().to_vec();
            out.extend(chunk.iter().zip(&block).map(|(p, k)| p ^ k));
        }
        out.extend_from_slice(&openssl::hash::hash(MessageDigest::sha1(), &[pw.as_slice(), plain].concat()).unwrap());
        let oid = [&[0x06, JKS_KEY_PROTECTOR_OID.len() as u8][..], JKS_KEY_PROTECTOR_OID, &[0x05, 0x00]].concat();
        let alg = tlv(0x30, &oid);
        tlv(0x30, &[alg, tlv(0x04, &out)].concat())
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else {
            let b: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|x| *x == 0).collect();
            v.push(0x80 | b.len() as u8);
            v.extend(b);
        }
        v.extend_from_slice(content);
        v
    }

    fn utf(s: &str) -> Vec<u8> {
        [&(s.len() as u16).to_be_bytes()[..], s.as_bytes()].concat()
    }

    enum W<'a> {
        Key(&'a str, &'a PKey<Private>, &'a str, Vec<&'a X509>),
        Cert(&'a str, &'a X509),
    }

    fn write(version: u32, entries: &[W], password: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(version.to_be_bytes());
        out.extend((entries.len() as u32).to_be_bytes());
        let cert = |out: &mut Vec<u8>, c: &X509| {
            if version == 2 {
                out.extend(utf("X.509"));
            }
            let der = c.to_der().unwrap();
            out.extend((der.len() as u32).to_be_bytes());
            out.extend(der);
        };
        for e in entries {
            match e {
                W::Key(alias, key, key_pw, chain) => {
                    out.extend(TAG_PRIVATE_KEY.to_be_bytes());
                    out.extend(utf(alias));
                    out.extend(0u64.to_be_bytes());
                    let p = protect(&key.private_key_to_pkcs8().unwrap(), key_pw, [7; 20]);
                    out.extend((p.len() as u32).to_be_bytes());
                    out.extend(p);
                    out.extend((chain.len() as u32).to_be_bytes());
                    for c in chain {
                        cert(&mut out, c);
                    }
                }
                W::Cert(alias, c) => {
                    out.extend(TAG_TRUSTED_CERT.to_be_bytes());
                    out.extend(utf(alias));
                    out.extend(0u64.to_be_bytes());
                    cert(&mut out, c);
                }
            }
        }
        let digest = openssl::hash::hash(MessageDigest::sha1(), &[java_password_bytes(password), INTEGRITY_SALT.to_vec(), out.clone()].concat()).unwrap();
        out.extend_from_slice(&digest);
        out
    }

    #[test]
    fn versions_one_and_two_with_keys_and_trusted_certificates() {
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let leaf = issue(&CertSpec::client("leaf").with_key(KeyAlgorithm::Rsa(2048)), &ca).unwrap();
        for version in [1, 2] {
            let bytes = write(version, &[W::Cert("ca", &ca.cert), W::Key("leaf", &leaf.key, "keypw", vec![&leaf.cert, &ca.cert])], "storepw");
            let store = parse(&bytes, "storepw").unwrap();
            assert_eq!(store.entries.iter().map(Entry::alias).collect::<Vec<_>>(), ["ca", "leaf"]);
            let t: Vec<_> = store.trusted_entries().collect();
            assert_eq!(t[0].cert.to_der().unwrap(), ca.cert.to_der().unwrap());
            let (k, key) = store.first_key(&["storepw", "keypw"]).unwrap();
            assert_eq!(k.alias, "leaf");
            assert!(key.public_eq(&leaf.key));
            assert_eq!(k.chain.len(), 2);
            assert_eq!(k.chain[1].to_der().unwrap(), ca.cert.to_der().unwrap());
            assert!(matches!(k.decrypt("storepw"), Err(JksError::Entry { .. })));
            assert!(matches!(store.first_key(&["nope"]), Err(JksError::WrongKeyPassword(a)) if a == "leaf"));
        }
        let only_trusted = parse(&write(2, &[W::Cert("ca", &ca.cert)], "pw"), "pw").unwrap();
        assert!(matches!(only_trusted.first_key(&["pw"]), Err(JksError::NoKeyEntry)));
    }

    #[test]
    fn wrong_password_damage_and_other_formats_are_refused() {
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let bytes = write(2, &[W::Key("ca", &ca.key, "pw", vec![&ca.cert])], "pw");
        assert!(matches!(parse(&bytes, "wrong"), Err(JksError::WrongPassword)));
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(matches!(parse(&flipped, "pw"), Err(JksError::WrongPassword)));
        assert!(matches!(parse(&bytes[..bytes.len() - 1], "pw"), Err(JksError::WrongPassword)));
        assert!(matches!(parse(&write(3, &[], "pw"), "pw"), Err(JksError::Version(3))));
        assert!(matches!(parse(b"\xce\xce\xce\xce rest of a JCEKS file", "pw"), Err(JksError::Jceks)));
        assert!(matches!(parse(b"0\x82 a PKCS#12", "pw"), Err(JksError::NotJks)));
        assert!(matches!(parse(&MAGIC, "pw"), Err(JksError::Malformed(_))));
        // A count larger than the entries present, with a valid digest over the lie.
        let mut lying = write(2, &[W::Cert("ca", &ca.cert)], "pw");
        lying.truncate(lying.len() - 20);
        lying[11] = 5;
        let digest = openssl::hash::hash(MessageDigest::sha1(), &[java_password_bytes("pw"), INTEGRITY_SALT.to_vec(), lying.clone()].concat()).unwrap();
        lying.extend_from_slice(&digest);
        assert!(matches!(parse(&lying, "pw"), Err(JksError::Malformed(m)) if m == "truncated"));
    }

    #[test]
    fn aliases_in_modified_utf8() {
        let ca = self_signed(&CertSpec::ca("CA")).unwrap();
        let mut bytes = write(2, &[W::Cert("xx", &ca.cert)], "pw");
        // "é𝄞" as Java writes it: é in two bytes, the clef as two three-byte surrogates.
        let java = [0xc3, 0xa9, 0xed, 0xa0, 0xb4, 0xed, 0xb4, 0x9e];
        let at = 12 + 4;
        bytes.splice(at..at + 4, [&[0, java.len() as u8][..], &java].concat());
        bytes.truncate(bytes.len() - 20);
        let digest = openssl::hash::hash(MessageDigest::sha1(), &[java_password_bytes("pw"), INTEGRITY_SALT.to_vec(), bytes.clone()].concat()).unwrap();
        bytes.extend_from_slice(&digest);
        assert_eq!(parse(&bytes, "pw").unwrap().entries[0].alias(), "é𝄞");
    }

    fn keytool(args: &[&str]) -> bool {
        match Command::new("keytool").args(args).output() {
            Ok(out) => {
                assert!(out.status.success(), "keytool {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn reads_what_keytool_writes() {
        let dir = std::env::temp_dir().join(format!("mediate-jks-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = dir.join("k.jks");
        let s = store.to_str().unwrap();
        let common = ["-storetype", "JKS", "-keystore", s, "-storepass", "store-pw"];
        let gen = |alias: &str, alg: &[&str], keypass: &str| {
            let mut a = vec!["-genkeypair", "-alias", alias, "-dname", "CN=k, O=Acme", "-keypass", keypass];
            a.extend(alg);
            a.extend(common);
            keytool(&a)
        };
        if !gen("rsa", &["-keyalg", "RSA", "-keysize", "2048"], "key-pw-1") {
            eprintln!("keytool is not on PATH; skipping");
            return;
        }
        gen("ec", &["-keyalg", "EC", "-groupname", "secp256r1"], "store-pw");
        let ca = self_signed(&CertSpec::ca("Imported CA")).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.cert.to_pem().unwrap()).unwrap();
        let ca_pem = dir.join("ca.pem").to_str().unwrap().to_string();
        let mut a = vec!["-importcert", "-noprompt", "-alias", "imported", "-file", &ca_pem];
        a.extend(common);
        keytool(&a);

        let bytes = std::fs::read(&store).unwrap();
        assert!(matches!(parse(&bytes, "store-pw!"), Err(JksError::WrongPassword)));
        let jks = parse(&bytes, "store-pw").unwrap();
        let mut aliases: Vec<&str> = jks.entries.iter().map(Entry::alias).collect();
        aliases.sort();
        assert_eq!(aliases, ["ec", "imported", "rsa"]);
        let t: Vec<_> = jks.trusted_entries().collect();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].cert.to_der().unwrap(), ca.cert.to_der().unwrap());
        for k in jks.key_entries() {
            let pw = if k.alias == "rsa" { "key-pw-1" } else { "store-pw" };
            let key = k.decrypt(pw).unwrap();
            assert!(k.chain[0].public_key().unwrap().public_eq(&key), "{}", k.alias);
            assert!(matches!(k.decrypt("other"), Err(JksError::Entry { .. })));
        }
        let (k, _) = jks.first_key(&["key-pw-1"]).unwrap();
        assert_eq!(k.alias, "rsa");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
