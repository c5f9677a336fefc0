//! JKS stores made by Java's keytool, read by the server (and served over mutual TLS), and
//! `mediate certs issue/import/export/list/remove/convert` through the real binary, with
//! keytool reading back what we write. Tests needing keytool print a note and pass when it
//! is not on PATH.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::server::mediate_bin;
use common::{backend, proxy_xml, start_server, TestPki, SOAP11_GET_QUOTE};
use mediate::config::axis2::{KeyStoreConfig, Secret, StoreType, TrustStoreConfig};
use mediate::config::error::Origin;
use mediate::security::keystore::{load_identity, load_trust};
use openssl::x509::X509;

/// A client certificate with fields the `list` test knows: issued by `CN=Acme Test Root,
/// O=Acme,C=US` with `openssl ca`, serial 0A1B2C3D4E5F60, valid until 2049-12-31 23:59:59 UTC.
/// Its key was thrown away.
const ALICE_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIB2TCCAX+gAwIBAgIHChssPU5fYDAKBggqhkjOPQQDAjA1MQswCQYDVQQGEwJV
UzENMAsGA1UECgwEQWNtZTEXMBUGA1UEAwwOQWNtZSBUZXN0IFJvb3QwHhcNMjUw
MTAxMDAwMDAwWhcNNDkxMjMxMjM1OTU5WjA6MQswCQYDVQQGEwJVUzENMAsGA1UE
CgwEQWNtZTEMMAoGA1UECwwDRVNCMQ4wDAYDVQQDDAVhbGljZTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABADSdOcp17v9jgpleMwHH4fyhme6azZY16vsRhcUAbaj
q1Fj39S14g9f98e91FnaB9INosn0xqiIJeGmqt0gLjejdTBzMAwGA1UdEwEB/wQC
MAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQW
BBShiZQEJzgKLPBrrQdutHTtjV5WdTAfBgNVHSMEGDAWgBR9DyKPkkqwyWdkjd87
VuHl9LtHhDAKBggqhkjOPQQDAgNIADBFAiEAqiIcMVPaLCyc1v+LB53wUcPcm7pK
st88E0nfGlfSWTcCIBzS5c6eXUzBY6scCJIyU2EMMBJ3dxKUwApiZ/yF34/x
-----END CERTIFICATE-----
";

const ALICE_LINE: &str = "\ttrusted\tCN=alice,OU=ESB,O=Acme,C=US\tCN=Acme Test Root,O=Acme,C=US\t0A1B2C3D4E5F60\t2049-12-31T23:59:59Z\t0bd873193c675eb082a500a5a7f3cc5d2ca8c51c8819896ffb76c226c4073891";

fn keytool_present() -> bool {
    let present = Command::new("keytool").arg("-help").output().is_ok();
    if !present {
        eprintln!("note: keytool is not on PATH; skipping the parts of this test that need it");
    }
    present
}

/// Runs keytool and returns its output, failing the test if keytool fails.
fn keytool(args: &[&str]) -> String {
    let out = Command::new("keytool").args(args).output().expect("run keytool");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "keytool {args:?} failed: {text}");
    text
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn keytool_list(store: &Path, password: &str, verbose: bool) -> String {
    let mut args = vec!["-list", "-storetype", "PKCS12", "-keystore", s(store), "-storepass", password];
    if verbose {
        args.push("-v");
    }
    keytool(&args)
}

/// `mediate certs …` with no store password in the environment unless given.
fn certs(args: &[&str], env_password: Option<&str>) -> Output {
    let mut cmd = Command::new(mediate_bin());
    cmd.arg("certs").args(args).env_remove("MEDIATE_STORE_PASSWORD");
    if let Some(p) = env_password {
        cmd.env("MEDIATE_STORE_PASSWORD", p);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command succeeded; its stdout.
fn ok(o: Output) -> String {
    assert!(o.status.success(), "expected success: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    stdout(&o)
}

/// The command failed with exit code 1 and one line on stderr; that line.
fn fails(o: Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "expected exit code 1; stdout {} stderr {err}", stdout(&o));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn origin(p: &Path) -> Origin {
    Origin::file(p)
}

fn keystore_cfg(p: &Path, password: &str, key_password: Option<&str>) -> KeyStoreConfig {
    KeyStoreConfig {
        location: p.to_path_buf(),
        store_type: StoreType::Jks,
        password: Secret::new(password),
        key_password: key_password.map(Secret::new),
        key_location: None,
        origin: origin(p),
    }
}

fn truststore_cfg(p: &Path, password: &str) -> TrustStoreConfig {
    TrustStoreConfig { location: p.to_path_buf(), store_type: StoreType::Jks, password: Secret::new(password), origin: origin(p) }
}

/// `keytool -genkeypair -storetype JKS` with a self-signed certificate.
fn genkeypair(store: &Path, store_pw: &str, alias: &str, key_pw: &str, dname: &str, extra: &[&str]) {
    let mut args = vec!["-genkeypair", "-storetype", "JKS", "-keystore", s(store), "-storepass", store_pw, "-alias", alias, "-keypass", key_pw, "-dname", dname, "-validity", "30"];
    args.extend(extra);
    keytool(&args);
}

fn import_trusted(store: &Path, store_pw: &str, alias: &str, pem: &Path) {
    keytool(&["-importcert", "-noprompt", "-storetype", "JKS", "-keystore", s(store), "-storepass", store_pw, "-alias", alias, "-file", s(pem)]);
}

#[test]
fn jks_keystores_and_truststores_load_through_the_keystore_module() {
    if !keytool_present() {
        return;
    }
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("server.jks");
    genkeypair(&ks, "store-pass", "server", "key-pass", "CN=localhost, O=JKS test", &["-keyalg", "EC", "-groupname", "secp256r1"]);
    genkeypair(&ks, "store-pass", "second", "store-pass", "CN=second", &["-keyalg", "RSA", "-keysize", "2048"]);

    let id = load_identity(&keystore_cfg(&ks, "store-pass", Some("key-pass"))).unwrap();
    assert!(id.cert.public_key().unwrap().public_eq(&id.key), "the key belongs to its certificate");
    let cn = |c: &X509| c.subject_name().entries().last().unwrap().data().to_string().unwrap();
    assert_eq!(cn(&id.cert), "localhost", "KeyPassword picks the entry it opens");
    assert!(id.chain.is_empty());
    // Without KeyPassword the store password is the key password: the other entry.
    let id = load_identity(&keystore_cfg(&ks, "store-pass", None)).unwrap();
    assert_eq!(cn(&id.cert), "second");
    assert!(id.cert.public_key().unwrap().public_eq(&id.key));

    let e = load_identity(&keystore_cfg(&ks, "wrong-pass", Some("key-pass"))).unwrap_err().to_string();
    assert!(e.contains(s(&ks)) && e.contains("wrong password") && e.contains("<Password>"), "{e}");
    let e = load_identity(&keystore_cfg(&ks, "store-pass", Some("nope"))).unwrap_err().to_string();
    assert!(e.contains("no private-key entry opens") && e.contains("<KeyPassword>"), "{e}");

    let ts = dir.path().join("trust.jks");
    import_trusted(&ts, "trust-pass", "test-ca", &pki.path("ca.pem"));
    let certs = load_trust(&truststore_cfg(&ts, "trust-pass")).unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].to_der().unwrap(), pki.ca.cert.to_der().unwrap());
    let e = load_trust(&truststore_cfg(&ts, "trust-pas")).unwrap_err().to_string();
    assert!(e.contains("wrong password") && e.contains(s(&ts)), "{e}");
    let e = load_trust(&truststore_cfg(&ts, "")).unwrap_err().to_string();
    assert!(e.contains("needs its password"), "{e}");
    // Key entries' certificates are trusted too, as Java's trust managers do.
    assert_eq!(load_trust(&truststore_cfg(&ks, "store-pass")).unwrap().len(), 2);
    // A PKCS#12 file declared as JKS is refused with a pointer to <Type>.
    let e = load_trust(&truststore_cfg(&pki.path("truststore.p12"), "x")).unwrap_err().to_string();
    assert!(e.contains("not a JKS file") && e.contains("<Type>"), "{e}");
}

#[test]
fn a_jks_keystore_in_axis2_xml_serves_mutual_tls() {
    if !keytool_present() {
        return;
    }
    let pki = TestPki::new();
    let work = tempfile::tempdir().unwrap();
    let ks = work.path().join("server.jks");
    let ts = work.path().join("trust.jks");
    genkeypair(&ks, "store-pass", "server", "key-pass", "CN=localhost", &["-keyalg", "RSA", "-keysize", "2048", "-ext", "SAN=dns:localhost,ip:127.0.0.1"]);
    import_trusted(&ts, "trust-pass", "test-ca", &pki.path("ca.pem"));
    let server_pem = keytool(&["-exportcert", "-rfc", "-storetype", "JKS", "-keystore", s(&ks), "-storepass", "store-pass", "-alias", "server"]);
    let server_cert = X509::from_pem(server_pem.as_bytes()).unwrap();

    let axis2 = format!(
        r#"<axisconfig name="test">
  <transportReceiver name="https">
    <parameter name="port">0</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
    <parameter name="keystore"><KeyStore><Location>{}</Location><Type>JKS</Type><Password>store-pass</Password><KeyPassword>key-pass</KeyPassword></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>{}</Location><Type>JKS</Type><Password>trust-pass</Password></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
  </transportReceiver>
  <transportSender name="http"/>
</axisconfig>"#,
        ks.display(),
        ts.display()
    );
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &axis2, &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let url = server.https_url("/services/Echo");
    let tls = |identity| common::client::Tls { identity, trust: vec![server_cert.clone()] };
    let headers = [("Content-Type", "text/xml"), ("SOAPAction", "\"urn:getQuote\"")];

    let r = common::client::post(&url, &headers, SOAP11_GET_QUOTE.as_bytes(), &tls(Some(pki.trusted_client.clone())))
        .unwrap_or_else(|e| panic!("{e}\n{}", server.logs().join("\n")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), SOAP11_GET_QUOTE);
    // The JKS truststore is what decides: a client of another CA is refused.
    let e = common::client::post(&url, &headers, SOAP11_GET_QUOTE.as_bytes(), &tls(Some(pki.untrusted_client.clone()))).unwrap_err();
    assert!(e.is_tls(), "{e}");

    let check = Command::new(mediate_bin())
        .args(["check", "--axis2"])
        .arg(dir.path().join("conf/axis2.xml"))
        .arg("--mediation")
        .arg(dir.path().join("mediation"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let bad = axis2.replace("<Password>store-pass</Password>", "<Password>wrong-pass</Password>");
    std::fs::write(dir.path().join("conf/axis2.xml"), bad).unwrap();
    let check = Command::new(mediate_bin())
        .args(["check", "--axis2"])
        .arg(dir.path().join("conf/axis2.xml"))
        .arg("--mediation")
        .arg(dir.path().join("mediation"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success() && err.contains("wrong password"), "{err}");
}

/// `certs init` in a temporary folder: a CA to issue from.
fn demo_ca(dir: &Path) -> PathBuf {
    let sec = dir.join("security");
    ok(certs(&["init", "--dir", s(&sec)], None));
    sec.join("ca.p12")
}

#[test]
fn issue_writes_a_keystore_keytool_lists_as_a_private_key_entry() {
    let dir = tempfile::tempdir().unwrap();
    let ca = demo_ca(dir.path());
    let out = dir.path().join("alice.p12");
    let msg = ok(certs(
        &["issue", "--ca", s(&ca), "--ca-password", "changeit", "--out", s(&out), "--password", "alice-pass", "--cn", "Alice", "--client", "--pem"],
        None,
    ));
    assert!(msg.starts_with("issued CN=Alice (client, serial ") && msg.contains("alias 'alice'"), "{msg}");
    let (entry, chain) = mediate::security::pki::read_pkcs12(&out, "alice-pass").unwrap();
    let entry = entry.unwrap();
    assert_eq!(chain.len(), 1, "the CA follows the key's certificate");
    assert_eq!(entry.cert.issuer_name().to_der().unwrap(), chain[0].subject_name().to_der().unwrap());
    assert!(entry.cert.subject_alt_names().is_none(), "a client certificate gets no SAN unless asked");
    let pem = X509::stack_from_pem(&std::fs::read(dir.path().join("alice.pem")).unwrap()).unwrap();
    assert_eq!(pem[0].to_der().unwrap(), entry.cert.to_der().unwrap());
    let key = openssl::pkey::PKey::private_key_from_pem(&std::fs::read(dir.path().join("alice.key")).unwrap()).unwrap();
    assert!(key.public_eq(&entry.key));

    // A server certificate from the environment's password, with explicit names.
    let srv = dir.path().join("srv.p12");
    ok(certs(&["issue", "--ca", s(&ca), "--out", s(&srv), "--cn", "api", "--dns", "api.test,api2.test", "--ip", "127.0.0.1", "--days", "5", "--alias", "API"], Some("changeit")));
    let (entry, _) = mediate::security::pki::read_pkcs12(&srv, "changeit").unwrap();
    let sans = entry.unwrap().cert.subject_alt_names().unwrap();
    let dns: Vec<&str> = sans.iter().filter_map(|n| n.dnsname()).collect();
    assert_eq!(dns, ["api.test", "api2.test"]);
    assert_eq!(sans.iter().filter_map(|n| n.ipaddress()).collect::<Vec<_>>(), [&[127u8, 0, 0, 1][..]]);

    let e = fails(certs(&["issue", "--ca", s(&ca), "--out", s(&out), "--password", "x", "--ca-password", "changeit", "--cn", "Alice"], None));
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    let e = fails(certs(&["issue", "--ca", s(&ca), "--out", s(&dir.path().join("n.p12")), "--cn", "n"], None));
    assert!(e.contains("--password") && e.contains("MEDIATE_STORE_PASSWORD"), "{e}");
    let e = fails(certs(&["issue", "--ca", s(&ca), "--out", s(&dir.path().join("n.p12")), "--password", "x", "--cn", "n"], None));
    assert!(e.contains("wrong password"), "{e}");
    // A leaf cannot issue.
    let e = fails(certs(&["issue", "--ca", s(&out), "--out", s(&dir.path().join("n.p12")), "--password", "alice-pass", "--cn", "n"], None));
    assert!(e.contains("cannot issue with this certificate"), "{e}");
    assert!(!dir.path().join("n.p12").exists());

    if keytool_present() {
        let list = keytool_list(&out, "alice-pass", true);
        assert!(list.contains("Alias name: alice") && list.contains("Entry type: PrivateKeyEntry"), "{list}");
        assert!(list.contains("Certificate chain length: 2") && list.contains("Owner: CN=Alice"), "{list}");
        let list = keytool_list(&srv, "changeit", false);
        assert!(list.contains("api,") && list.contains("PrivateKeyEntry"), "{list}");
    }
}

#[test]
fn import_export_list_remove_on_a_truststore_keytool_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("alice.pem"), ALICE_PEM).unwrap();
    let pki = TestPki::new();
    std::fs::write(p("ca.der"), pki.ca.cert.to_der().unwrap()).unwrap();
    let ts = p("trust.p12");

    let msg = ok(certs(&["import", "--store", s(&ts), "--password", "tpw", "--alias", "alice", "--cert", s(&p("alice.pem"))], None));
    assert!(msg.contains("created with trusted certificate 'alice' (CN=alice,OU=ESB,O=Acme,C=US)"), "{msg}");
    ok(certs(&["import", "--store", s(&ts), "--alias", "test-ca", "--cert", s(&p("ca.der"))], Some("tpw")));
    let e = fails(certs(&["import", "--store", s(&ts), "--password", "tpw", "--alias", "Alice", "--cert", s(&p("ca.der"))], None));
    assert!(e.contains("alias 'Alice' exists already") && e.contains("--force"), "{e}");
    let e = fails(certs(&["import", "--store", s(&ts), "--password", "nope", "--alias", "x", "--cert", s(&p("ca.der"))], None));
    assert!(e.contains("wrong password"), "{e}");

    let lines = ok(certs(&["list", "--store", s(&ts), "--password", "tpw"], None));
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], format!("alice{ALICE_LINE}"));
    assert!(lines[1].starts_with("test-ca\ttrusted\tCN=Test CA,O=mediate tests\tCN=Test CA,O=mediate tests\t"), "{}", lines[1]);
    // The PEM file itself lists the same way, without a password.
    assert_eq!(ok(certs(&["list", "--store", s(&p("alice.pem"))], None)), format!("cert-1{ALICE_LINE}\n"));

    if keytool_present() {
        let list = keytool_list(&ts, "tpw", false);
        assert!(list.contains("2 entries"), "{list}");
        assert!(list.contains("alice,") && list.contains("test-ca,"), "{list}");
        assert_eq!(list.matches("trustedCertEntry").count(), 2, "{list}");
    }

    let exported = ok(certs(&["export", "--store", s(&ts), "--password", "tpw", "--alias", "ALICE"], None));
    assert_eq!(exported, ALICE_PEM);
    let msg = ok(certs(&["export", "--store", s(&ts), "--alias", "test-ca", "--out", s(&p("out.pem"))], Some("tpw")));
    assert!(msg.contains("exported 'test-ca'"), "{msg}");
    assert_eq!(X509::from_pem(&std::fs::read(p("out.pem")).unwrap()).unwrap().to_der().unwrap(), pki.ca.cert.to_der().unwrap());
    let e = fails(certs(&["export", "--store", s(&ts), "--password", "tpw", "--alias", "bob"], None));
    assert!(e.contains("no entry named 'bob' (entries: alice, test-ca)"), "{e}");

    // --force replaces the certificate under an alias.
    ok(certs(&["import", "--store", s(&ts), "--password", "tpw", "--alias", "alice", "--cert", s(&p("ca.der")), "--force"], None));
    let lines = ok(certs(&["list", "--store", s(&ts), "--password", "tpw"], None));
    assert!(lines.starts_with("alice\ttrusted\tCN=Test CA,O=mediate tests"), "{lines}");

    let msg = ok(certs(&["remove", "--store", s(&ts), "--password", "tpw", "--alias", "alice"], None));
    assert!(msg.contains("removed 'alice'") && msg.contains("1 certificate(s) left"), "{msg}");
    let e = fails(certs(&["remove", "--store", s(&ts), "--password", "tpw", "--alias", "alice"], None));
    assert!(e.contains("no entry named 'alice'"), "{e}");
    let e = fails(certs(&["remove", "--store", s(&ts), "--password", "tpw", "--alias", "test-ca"], None));
    assert!(e.contains("only certificate"), "{e}");
    if keytool_present() {
        let list = keytool_list(&ts, "tpw", false);
        assert!(list.contains("1 entry") && list.contains("test-ca,") && !list.contains("alice"), "{list}");
    }
    // A key store is not edited as a truststore.
    let e = fails(certs(&["import", "--store", s(&pki.path("server.p12")), "--password", common::PASSWORD, "--alias", "x", "--cert", s(&p("ca.der"))], None));
    assert!(e.contains("holds a private key"), "{e}");
}

#[test]
fn convert_jks_to_pkcs12_keeps_aliases_and_chains() {
    if !keytool_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("alice.pem"), ALICE_PEM).unwrap();
    let jks = p("mixed.jks");
    let ec = ["-keyalg", "EC", "-groupname", "secp256r1"];
    genkeypair(&jks, "jks-pass", "ca", "jks-pass", "CN=JKS CA, O=Acme", &[&ec[..], &["-ext", "bc:c"]].concat());
    genkeypair(&jks, "jks-pass", "leaf", "leaf-pass", "CN=leaf, O=Acme", &ec);
    let base = ["-storetype", "JKS", "-keystore", s(&jks), "-storepass", "jks-pass"];
    keytool(&[&base[..], &["-certreq", "-alias", "leaf", "-keypass", "leaf-pass", "-file", s(&p("leaf.csr"))]].concat());
    keytool(&[&base[..], &["-gencert", "-alias", "ca", "-keypass", "jks-pass", "-infile", s(&p("leaf.csr")), "-outfile", s(&p("leaf.crt")), "-rfc"]].concat());
    keytool(&[&base[..], &["-importcert", "-noprompt", "-alias", "leaf", "-keypass", "leaf-pass", "-file", s(&p("leaf.crt"))]].concat());
    import_trusted(&jks, "jks-pass", "partner", &p("alice.pem"));

    // Our list reads JKS: both key entries and the trusted one, the leaf with its chain.
    let lines = ok(certs(&["list", "--store", s(&jks), "--password", "jks-pass"], None));
    let kinds: Vec<String> = lines.lines().map(|l| l.split('\t').take(3).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(kinds, ["ca key CN=JKS CA,O=Acme", "leaf key CN=leaf,O=Acme", "partner trusted CN=alice,OU=ESB,O=Acme,C=US"]);
    assert!(lines.contains(&format!("partner{ALICE_LINE}")), "{lines}");
    let e = fails(certs(&["list", "--store", s(&jks), "--password", "jks-pas"], None));
    assert!(e.contains("wrong password"), "{e}");

    let to = p("leaf.p12");
    let trust_to = p("trust.p12");
    let convert = |extra: &[&str]| certs(&[&["convert", "--from", s(&jks), "--to", s(&to)][..], extra].concat(), Some("jks-pass"));
    let e = fails(convert(&[]));
    assert!(e.contains("1 trusted certificate(s) (partner)") && e.contains("--trust-to"), "{e}");
    let e = fails(convert(&["--trust-to", s(&trust_to)]));
    assert!(e.contains("2 key entries (ca, leaf)") && e.contains("--alias"), "{e}");
    let e = fails(convert(&["--trust-to", s(&trust_to), "--alias", "leaf"]));
    assert!(e.contains("wrong key password for 'leaf'"), "{e}");
    assert!(!to.exists() && !trust_to.exists(), "nothing is written when a conversion is refused");
    let msg = ok(convert(&["--trust-to", s(&trust_to), "--alias", "leaf", "--key-password", "leaf-pass", "--to-password", "p12-pass"]));
    assert!(msg.contains("key entry 'leaf' (chain of 2)") && msg.contains("not converted: ca"), "{msg}");

    let list = keytool_list(&to, "p12-pass", true);
    assert!(list.contains("1 entry") && list.contains("Alias name: leaf") && list.contains("Entry type: PrivateKeyEntry"), "{list}");
    assert!(list.contains("Certificate chain length: 2") && list.contains("Owner: CN=JKS CA, O=Acme"), "{list}");
    let list = keytool_list(&trust_to, "p12-pass", false);
    assert!(list.contains("1 entry") && list.contains("partner,") && list.contains("trustedCertEntry"), "{list}");
    // The converted key still belongs to its certificate.
    let (entry, chain) = mediate::security::pki::read_pkcs12(&to, "p12-pass").unwrap();
    let entry = entry.unwrap();
    assert!(entry.cert.public_key().unwrap().public_eq(&entry.key));
    assert_eq!(chain.len(), 1);
    let e = fails(convert(&["--trust-to", s(&trust_to), "--alias", "leaf", "--key-password", "leaf-pass"]));
    assert!(e.contains("already exists"), "{e}");

    // Trusted certificates only: a truststore with the same aliases.
    let only = p("trust.jks");
    import_trusted(&only, "jks-pass", "partner", &p("alice.pem"));
    import_trusted(&only, "jks-pass", "leaf-cert", &p("leaf.crt"));
    let out = p("only.p12");
    let msg = ok(certs(&["convert", "--from", s(&only), "--password", "jks-pass", "--to", s(&out)], None));
    assert!(msg.contains("2 trusted certificate(s)"), "{msg}");
    let list = keytool_list(&out, "jks-pass", false);
    assert!(list.contains("2 entries") && list.contains("partner,") && list.contains("leaf-cert,"), "{list}");
    assert_eq!(list.matches("trustedCertEntry").count(), 2, "{list}");
    let e = fails(certs(&["convert", "--from", s(&out), "--password", "jks-pass", "--to", s(&p("again.p12"))], None));
    assert!(e.contains("is PKCS#12, not JKS"), "{e}");
}

#[test]
fn crl_revokes_certificates_of_its_ca_and_keeps_what_it_revoked_before() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let ca = demo_ca(dir.path());
    for cn in ["alice", "bob", "carol"] {
        ok(certs(&["issue", "--ca", s(&ca), "--out", s(&p(&format!("{cn}.p12"))), "--cn", cn, "--client", "--pem"], Some("changeit")));
    }
    let crl_path = p("ca.crl");
    let msg = ok(certs(&["crl", "--ca", s(&ca), "--revoke", s(&p("alice.pem")), "--days", "7", "--out", s(&crl_path)], Some("changeit")));
    assert!(msg.contains("1 revoked, next update "), "{msg}");
    ok(certs(&["crl", "--ca", s(&ca), "--revoke", s(&p("bob.pem")), "--out", s(&crl_path)], Some("changeit")));

    // Signed by the CA, listing both serials.
    let first_cert = |n: &str| X509::stack_from_pem(&std::fs::read(p(n)).unwrap()).unwrap().remove(0);
    let list = openssl::x509::X509Crl::from_pem(&std::fs::read(&crl_path).unwrap()).unwrap();
    let ca_cert = mediate::security::pki::read_pkcs12(&ca, "changeit").unwrap().0.unwrap().cert;
    assert!(list.verify(&ca_cert.public_key().unwrap()).unwrap(), "signed by the CA");
    let revoked = |n: &str| matches!(list.get_by_cert(&first_cert(n)), openssl::x509::CrlStatus::Revoked(_));
    assert!(revoked("alice.pem") && revoked("bob.pem"), "the second run kept alice");
    assert!(!revoked("carol.pem"));
    let days_left = openssl::asn1::Asn1Time::days_from_now(0).unwrap().diff(list.next_update().unwrap()).unwrap().days;
    assert!((29..=30).contains(&days_left), "nextUpdate comes from the latest run's --days (default 30): {days_left}");

    // A certificate from another CA cannot be revoked here; another CA's list is not extended.
    let other = tempfile::tempdir().unwrap();
    let other_ca = demo_ca(other.path());
    let e = fails(certs(&["crl", "--ca", s(&other_ca), "--revoke", s(&p("carol.pem")), "--out", s(&other.path().join("x.crl"))], Some("changeit")));
    assert!(e.contains("was not issued by"), "{e}");
    let e = fails(certs(&["crl", "--ca", s(&other_ca), "--out", s(&crl_path)], Some("changeit")));
    assert!(e.contains("is not a CRL of"), "{e}");
    let e = fails(certs(&["crl", "--ca", s(&ca), "--revoke", s(&p("carol.pem")), "--days", "0", "--out", s(&crl_path)], Some("changeit")));
    assert!(e.contains("--days"), "{e}");
}
