//! Hot reload: SIGHUP puts a new configuration in force for new requests; requests in
//! flight finish on the old one; a configuration that fails to load is refused and the
//! running one stays.

mod common;

use std::time::{Duration, Instant};

use common::misbehaving::{Behaviour, Misbehaving};
use common::server::{write_files, Server};

const AXIS2: &str = r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter></transportReceiver><transportSender name="http"/></axisconfig>"#;
const REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:ask xmlns:r="urn:test"/></soapenv:Body></soapenv:Envelope>"#;

fn proxy_to(url: &str) -> String {
    format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http"><target><endpoint><address uri="{url}"/></endpoint><outSequence><send/></outSequence></target></proxy>"#)
}

fn served_by(s: &Server) -> String {
    let r = common::client::post(&s.http_url("/services/P"), &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap();
    r.text().split("<name>").nth(1).and_then(|t| t.split("</name>").next()).unwrap_or("").to_string()
}

fn hup(s: &mut Server, expect: &str) {
    let before = s.logs().len();
    std::process::Command::new("kill").arg("-HUP").arg(s.pid().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if s.logs()[before..].iter().any(|l| l.contains(expect)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no '{expect}' in the log after SIGHUP:\n{}", s.logs().join("\n"));
}

#[test]
fn sighup_reloads_without_disturbing_requests_in_flight() {
    let old = Misbehaving::start("old", Behaviour::Slow(Duration::from_millis(800)));
    let new = Misbehaving::start("new", Behaviour::Ok);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("conf/axis2.xml", AXIS2.into()), ("mediation/proxy-services/P.xml", proxy_to(&old.url()))]);
    let mut s = Server::start(dir.path());

    // A request in flight on the old configuration…
    let url = s.http_url("/services/P");
    let in_flight = std::thread::spawn(move || {
        common::client::post(&url, &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap().text()
    });
    std::thread::sleep(Duration::from_millis(200));
    // …while the configuration changes under it.
    write_files(dir.path(), &[("mediation/proxy-services/P.xml", proxy_to(&new.url()))]);
    hup(&mut s, "configuration reloaded");
    assert_eq!(served_by(&s), "new", "new requests use the new configuration");
    assert!(in_flight.join().unwrap().contains("<name>old</name>"), "the request in flight finished on the old one");

    // A broken configuration is refused; the running one stays.
    write_files(dir.path(), &[("mediation/proxy-services/P.xml", "<proxy name=\"P\">".into())]);
    hup(&mut s, "reload failed; the running configuration stays");
    assert!(s.logs().iter().any(|l| l.contains("P.xml:1:")), "the error names the file and line");
    assert_eq!(served_by(&s), "new");
}

/// One kept-alive TLS connection made by hand, to see the server's certificate and to show
/// that a reload leaves open connections alone.
struct Connection(openssl::ssl::SslStream<std::net::TcpStream>);

impl Connection {
    fn open(s: &Server, pki: &common::TestPki, identity: &mediate::security::pki::Issued) -> Connection {
        use openssl::ssl::{SslConnector, SslMethod};
        let addr = s.https_url("").trim_start_matches("https://").to_string();
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.cert_store_mut().add_cert(pki.ca.cert.clone()).unwrap();
        b.set_certificate(&identity.cert).unwrap();
        b.set_private_key(&identity.key).unwrap();
        let tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Connection(b.build().connect("localhost", tcp).unwrap())
    }

    fn server_certificate(&self) -> String {
        fingerprint(&self.0.ssl().peer_certificate().unwrap())
    }

    /// Sends one request and reads its answer (Content-Length or chunked); the connection
    /// stays open.
    fn ask(&mut self) -> Result<String, std::io::Error> {
        use std::io::{Read, Write};
        let head = format!("POST /services/P HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n", REQUEST.len());
        self.0.write_all(head.as_bytes())?;
        self.0.write_all(REQUEST.as_bytes())?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end].lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()));
                let complete = match length {
                    Some(n) => got.len() >= end + 4 + n,
                    None => text.ends_with("0\r\n\r\n"),
                };
                if complete {
                    return Ok(text);
                }
            }
            match self.0.read(&mut buf)? {
                0 => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("closed after {text:?}"))),
                n => got.extend_from_slice(&buf[..n]),
            }
        }
    }
}

fn https_axis2(pki: &common::TestPki, extra: &str) -> String {
    common::axis2_xml(pki, "require").replace(r#"<parameter name="SSLVerifyClient">"#, &format!(r#"{extra}<parameter name="SSLVerifyClient">"#))
}

#[test]
fn sighup_rotates_the_server_certificate_and_revokes_a_client_for_new_handshakes() {
    use mediate::security::pki::{self, CertSpec};
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let pki = common::TestPki::new();
    let bob = pki::issue(&CertSpec::client("bob"), &pki.ca).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let proxy = proxy_to(&backend.url()).replace(r#"transports="http""#, r#"transports="https""#);
    write_files(dir.path(), &[("conf/axis2.xml", https_axis2(&pki, "")), ("mediation/proxy-services/P.xml", proxy)]);
    let mut s = Server::start(dir.path());

    let mut before = Connection::open(&s, &pki, &pki.trusted_client);
    assert!(before.ask().unwrap().contains("<name>b</name>"));
    assert_eq!(before.server_certificate(), fingerprint(&pki.server.cert));

    // A new server certificate in the same keystore file, and a CRL revoking alice.
    let rotated = pki::issue(&CertSpec::server("localhost"), &pki.ca).unwrap();
    pki::write_pkcs12(&pki.path("server.p12"), "server", &rotated, std::slice::from_ref(&pki.ca.cert), common::PASSWORD).unwrap();
    let crl_path = pki.path("revoked.pem");
    std::fs::write(&crl_path, common::crl(&pki.ca, &[&pki.trusted_client.cert], 7).to_pem().unwrap()).unwrap();
    let revocation = format!(r#"<parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>{}</CRLFile></parameter>"#, crl_path.display());
    write_files(dir.path(), &[("conf/axis2.xml", https_axis2(&pki, &revocation))]);
    hup(&mut s, "configuration reloaded");

    // New handshakes see the new certificate and the CRL…
    let mut fresh = Connection::open(&s, &pki, &bob);
    assert_eq!(fresh.server_certificate(), fingerprint(&rotated.cert), "a new handshake gets the rotated certificate");
    assert!(fresh.ask().unwrap().contains("<name>b</name>"), "a client that is not revoked is served");
    let refused = common::client::post(&s.https_url("/services/P"), &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &pki.client(Some(&pki.trusted_client)));
    assert!(refused.is_err(), "a revoked client's new handshake is refused, got {:?}", refused.map(|r| r.status));
    assert!(s.wait_for_log("certificate is revoked"), "the refusal is logged:\n{}", s.logs().join("\n"));
    // …while the connection opened before the reload goes on as it was.
    assert!(before.ask().unwrap().contains("<name>b</name>"), "an open connection is not disturbed");
    assert_eq!(before.server_certificate(), fingerprint(&pki.server.cert));

    // A keystore that does not open is refused on reload; the rotated material stays.
    write_files(dir.path(), &[("conf/axis2.xml", https_axis2(&pki, &revocation).replace(common::PASSWORD, "wrong-password"))]);
    hup(&mut s, "reload failed; the running configuration stays");
    let mut after_failure = Connection::open(&s, &pki, &bob);
    assert_eq!(after_failure.server_certificate(), fingerprint(&rotated.cert));
    assert!(after_failure.ask().unwrap().contains("<name>b</name>"));
}


/// A client that keeps its session, to come back with it.
fn resuming_connector(pki: &common::TestPki, identity: &mediate::security::pki::Issued) -> openssl::ssl::SslConnector {
    use openssl::ssl::{SslConnector, SslMethod};
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.cert_store_mut().add_cert(pki.ca.cert.clone()).unwrap();
    b.set_certificate(&identity.cert).unwrap();
    b.set_private_key(&identity.key).unwrap();
    b.build()
}

/// Connects with `connector`, offering `session` if any; the connection and whether the
/// server resumed the session.
fn connect_resuming(s: &Server, connector: &openssl::ssl::SslConnector, session: Option<&openssl::ssl::SslSessionRef>) -> Result<(Connection, bool), String> {
    let addr = s.https_url("").trim_start_matches("https://").to_string();
    let mut config = connector.configure().unwrap();
    if let Some(session) = session {
        // SAFETY: the session came from a connection made with this same connector.
        unsafe { config.set_session(session).unwrap() };
    }
    let tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut c = Connection(config.connect("localhost", tcp).map_err(|e| e.to_string())?);
    // A TLS 1.3 refusal of the client's certificate arrives with the first read.
    c.ask().map_err(|e| e.to_string())?;
    let reused = c.0.ssl().session_reused();
    Ok((c, reused))
}

fn close(mut c: Connection) {
    let _ = c.0.shutdown();
}

#[test]
fn sessions_resume_until_a_reload_revokes_the_client() {
    use mediate::security::pki::{self, CertSpec};
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let pki = common::TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let proxy = proxy_to(&backend.url()).replace(r#"transports="http""#, r#"transports="https""#);
    write_files(dir.path(), &[("conf/axis2.xml", https_axis2(&pki, "")), ("mediation/proxy-services/P.xml", proxy)]);
    let mut s = Server::start(dir.path());
    let alice = resuming_connector(&pki, &pki.trusted_client);

    let (first, reused) = connect_resuming(&s, &alice, None).unwrap();
    assert!(!reused, "the first handshake is a full one");
    let session = first.0.ssl().session().expect("the server issued a session").to_owned();
    // OpenSSL forgets a session whose connection ended without close_notify, on both sides.
    close(first);
    for _ in 0..2 {
        let (again, reused) = connect_resuming(&s, &alice, Some(&session)).unwrap();
        assert!(reused, "the session resumes");
        close(again);
    }

    // A CRL revoking alice: her session no longer resumes, and the full handshake fails.
    let crl_path = pki.path("revoked.pem");
    std::fs::write(&crl_path, common::crl(&pki.ca, &[&pki.trusted_client.cert], 7).to_pem().unwrap()).unwrap();
    let revocation = format!(r#"<parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>{}</CRLFile></parameter>"#, crl_path.display());
    write_files(dir.path(), &[("conf/axis2.xml", https_axis2(&pki, &revocation))]);
    hup(&mut s, "configuration reloaded");
    let refused = connect_resuming(&s, &alice, Some(&session));
    assert!(refused.is_err(), "a revoked client's session must not resume: {:?}", refused.map(|(_, r)| r));
    // Another client still gets a session that resumes.
    let bob_identity = pki::issue(&CertSpec::client("bob"), &pki.ca).unwrap();
    let bob = resuming_connector(&pki, &bob_identity);
    let (first, _) = connect_resuming(&s, &bob, None).unwrap();
    let session = first.0.ssl().session().unwrap().to_owned();
    close(first);
    assert!(connect_resuming(&s, &bob, Some(&session)).unwrap().1, "sessions resume after the reload");
}

fn fingerprint(cert: &openssl::x509::X509Ref) -> String {
    cert.digest(openssl::hash::MessageDigest::sha256()).unwrap().iter().map(|b| format!("{b:02x}")).collect()
}
