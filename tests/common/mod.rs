//! Shared fixtures for the integration tests: certificates made per run, a test backend,
//! the real server process and a real TLS client.
#![allow(dead_code)]

pub mod backend;
pub mod client;
pub mod misbehaving;
pub mod server;

use std::path::{Path, PathBuf};

use mediate::security::pki::{self, CertSpec, Eku, Issued};
use openssl::x509::{X509Crl, X509};

/// A CA, a server certificate for localhost, and client certificates good and bad, written
/// to a temporary folder.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca: Issued,
    pub server: Issued,
    pub trusted_client: Issued,
    /// Issued by a CA the server does not trust.
    pub untrusted_client: Issued,
    pub expired_client: Issued,
    /// Only serverAuth in extendedKeyUsage.
    pub server_auth_only_client: Issued,
}

pub const PASSWORD: &str = "test-pass";

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let org = [("O", "mediate tests")];
        let ca = pki::self_signed(&CertSpec::ca("Test CA").with_subject_prefix(&org)).unwrap();
        let other_ca = pki::self_signed(&CertSpec::ca("Other CA")).unwrap();
        let server = pki::issue(&CertSpec::server("localhost"), &ca).unwrap();
        let trusted_client = pki::issue(&CertSpec::client("alice").with_subject_prefix(&org), &ca).unwrap();
        let untrusted_client = pki::issue(&CertSpec::client("mallory"), &other_ca).unwrap();
        let expired_client = pki::issue(&CertSpec::client("old-alice").valid_days(-60, -1), &ca).unwrap();
        let server_auth_only_client = pki::issue(&CertSpec::client("server-alice").with_eku(vec![Eku::ServerAuth]), &ca).unwrap();
        let p = TestPki { dir, ca, server, trusted_client, untrusted_client, expired_client, server_auth_only_client };
        let chain = std::slice::from_ref(&p.ca.cert);
        pki::write_pkcs12(&p.path("server.p12"), "server", &p.server, chain, PASSWORD).unwrap();
        pki::write_pkcs12(&p.path("client.p12"), "client", &p.trusted_client, chain, PASSWORD).unwrap();
        pki::write_pem_certs(&p.path("ca.pem"), &[&p.ca.cert]).unwrap();
        pki::write_pkcs12_truststore(&p.path("truststore.p12"), &[("test-ca", &p.ca.cert)], PASSWORD).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A TLS client that trusts our CA and presents `identity`.
    pub fn client(&self, identity: Option<&Issued>) -> client::Tls {
        client::Tls { identity: identity.cloned(), trust: vec![self.ca.cert.clone()] }
    }
}

/// An axis2.xml with an http and an https receiver on free ports.
pub fn axis2_xml(pki: &TestPki, verify_client: &str) -> String {
    format!(
        r#"<axisconfig name="test">
  <transportReceiver name="http">
    <parameter name="port">0</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
  </transportReceiver>
  <transportReceiver name="https">
    <parameter name="port">0</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
    <parameter name="keystore"><KeyStore><Location>{}</Location><Type>PKCS12</Type><Password>{PASSWORD}</Password><KeyPassword>{PASSWORD}</KeyPassword></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>{}</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">{verify_client}</parameter>
  </transportReceiver>
  <transportSender name="http"/>
</axisconfig>"#,
        pki.path("server.p12").display(),
        pki.path("ca.pem").display()
    )
}

/// A proxy service forwarding to `uri`, offered on `transports`.
pub fn proxy_xml(name: &str, transports: &str, uri: &str) -> String {
    format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="{transports}">
  <target>
    <endpoint><address uri="{uri}"><timeout><duration>2000</duration></timeout></address></endpoint>
    <outSequence><send/></outSequence>
  </target>
</proxy>"#
    )
}

/// Writes a configuration folder (conf/axis2.xml + mediation/proxy-services/*, or
/// mediation/sequences/* for `<sequence>` artifacts) and starts the server on it.
pub fn start_server(dir: &Path, axis2: &str, proxies: &[(&str, String)]) -> server::Server {
    let mut files = vec![("conf/axis2.xml", axis2.to_string())];
    let folder = |xml: &str| if xml.trim_start().starts_with("<sequence") { "sequences" } else { "proxy-services" };
    let names: Vec<String> = proxies.iter().map(|(n, xml)| format!("mediation/{}/{n}.xml", folder(xml))).collect();
    for ((_, xml), path) in proxies.iter().zip(&names) {
        files.push((path.as_str(), xml.clone()));
    }
    server::write_files(dir, &files);
    server::Server::start(dir)
}

pub const SOAP11_GET_QUOTE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><h:trace xmlns:h="urn:test">abc</h:trace></soapenv:Header><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;

pub const SOAP12_GET_QUOTE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote></soap:Body></soap:Envelope>"#;

/// A CRL signed by `issuer` revoking `revoked`, whose nextUpdate is `next_update` days away
/// (issued a week before, or before it has passed).
pub fn crl(issuer: &Issued, revoked: &[&X509], next_update: i64) -> X509Crl {
    pki::crl(issuer, revoked, None, next_update.min(0) - 7, next_update).unwrap()
}

