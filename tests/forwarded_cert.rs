//! A client certificate forwarded by a trusted load balancer (C1–C5): believed only from
//! TrustedProxies, verified like a TLS certificate, and never passed on to a backend.

mod common;

use common::{backend, start_server, TestPki, SOAP11_GET_QUOTE};
use mediate::security::pki::Issued;

const HEADER: &str = "X-WSO2-CLIENT-CERTIFICATE";

struct Setup {
    pki: TestPki,
    server: common::server::Server,
    _echo: backend::Backend,
    _dir: tempfile::TempDir,
}

/// An http receiver (behind a TLS-terminating balancer) believing `trusted`.
fn setup(trusted: &str) -> Setup {
    let pki = TestPki::new();
    let echo = backend::start();
    let axis2 = format!(
        r#"<axisconfig><transportReceiver name="http">
  <parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter>
  <parameter name="truststore"><TrustStore><Location>{}</Location><Type>PEM</Type></TrustStore></parameter>
  <parameter name="ClientCertificateHeader">{HEADER}</parameter>
  <parameter name="TrustedProxies">{trusted}</parameter>
</transportReceiver><transportSender name="http"/></axisconfig>"#,
        pki.path("ca.pem").display()
    );
    let proxy = format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Partner" transports="http">
  <parameter name="mtls.required">mandatory</parameter>
  <parameter name="mtls.allowedSubjects">CN=alice,O=mediate tests</parameter>
  <target><inSequence><header name="X-Client" expression="get-property('SSL_CLIENT_S_DN')" scope="transport"/>
  <send><endpoint><address uri="{}"/></endpoint></send></inSequence><outSequence><send/></outSequence></target></proxy>"#,
        echo.url("/echo")
    );
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2, &[("Partner", proxy)]);
    Setup { pki, server, _echo: echo, _dir: dir }
}

fn pem(c: &Issued) -> String {
    String::from_utf8(c.cert.to_pem().unwrap()).unwrap()
}

fn url_encoded(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

impl Setup {
    fn post(&self, extra: &[(&str, &str)]) -> common::client::Response {
        let mut headers = vec![("Content-Type", "text/xml")];
        headers.extend_from_slice(extra);
        common::client::post(&self.server.http_url("/services/Partner"), &headers, SOAP11_GET_QUOTE.as_bytes(), &Default::default()).unwrap()
    }
}

#[test]
fn a_trusted_balancer_forwards_an_identity_in_any_encoding() {
    let s = setup("127.0.0.1/32, 10.0.0.0/8");
    let alice = pem(&s.pki.trusted_client);
    for value in [alice.trim().replace('\n', " "), url_encoded(&alice)] {
        let r = s.post(&[(HEADER, &value)]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("x-seen-x-client"), Some("CN=alice,O=mediate tests"));
        assert!(r.header(&format!("x-seen-{}", HEADER.to_ascii_lowercase())).is_none(), "C5: the header never reaches the backend");
    }
    // C2: a trusted balancer forwarding an expired or untrusted certificate → 401.
    for (who, bad) in [("expired", &s.pki.expired_client), ("untrusted CA", &s.pki.untrusted_client), ("serverAuth only", &s.pki.server_auth_only_client)] {
        let r = s.post(&[(HEADER, &url_encoded(&pem(bad)))]);
        assert_eq!(r.status, 401, "{who}: {}", r.text());
        assert!(r.text().contains("the forwarded client certificate is not valid"), "{who}: {}", r.text());
    }
    // A valid certificate of someone else: verified, then refused by the proxy's list.
    let bob = mediate::security::pki::issue(&mediate::security::pki::CertSpec::client("bob").with_subject_prefix(&[("O", "mediate tests")]), &s.pki.ca).unwrap();
    assert_eq!(s.post(&[(HEADER, &url_encoded(&pem(&bob)))]).status, 403);
}

#[test]
fn from_anyone_else_the_header_is_ignored() {
    let mut s = setup("10.0.0.0/8");
    // C1: a client connecting directly names someone else: ignored, so the mandatory proxy says 401.
    let r = s.post(&[(HEADER, &url_encoded(&pem(&s.pki.trusted_client)))]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("client certificate required"));
    // The log line may reach us just after the answer does.
    assert!(s.server.wait_for_log("ignored: not a trusted proxy"), "logged:\n{}", s.server.logs().join("\n"));
    assert!(s.server.logs().iter().any(|l| l.contains("ignored: not a trusted proxy") && l.contains("127.0.0.1")), "logged with the source address");
}

#[test]
fn malformed_headers_and_client_certificate_headers_are_handled() {
    let s = setup("127.0.0.1");
    // C4: garbage, valid base64 that is not a certificate, an oversized value.
    for garbage in ["not a certificate at all", "QUJDRA==", "-----BEGIN CERTIFICATE-----%0Agarbage%0A-----END CERTIFICATE-----"] {
        let r = s.post(&[(HEADER, garbage)]);
        assert_eq!(r.status, 400, "{garbage}: {}", r.text());
    }
    let huge = "A".repeat(1024 * 1024);
    let started = std::time::Instant::now();
    let r = common::client::post(&s.server.http_url("/services/Partner"), &[("Content-Type", "text/xml"), (HEADER, &huge)], SOAP11_GET_QUOTE.as_bytes(), &Default::default());
    if let Ok(r) = &r {
        assert!((400..500).contains(&r.status), "a 1 MB header is refused: {}", r.status);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // C5: certificate headers a client sends itself never reach the backend.
    let alice = url_encoded(&pem(&s.pki.trusted_client));
    let r = s.post(&[(HEADER, &alice), ("X-Forwarded-Client-Cert", "Hash=abc"), ("Client-Cert", ":YWJj:"), ("X-SSL-Client-Verify", "SUCCESS")]);
    assert_eq!(r.status, 200);
    for h in ["x-forwarded-client-cert", "client-cert", "x-ssl-client-verify"] {
        assert!(r.header(&format!("x-seen-{h}")).is_none(), "{h} stripped");
    }
    // and the server still serves
    assert_eq!(s.post(&[(HEADER, &alice)]).status, 200);
}
