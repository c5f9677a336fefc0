//! Backend calls over HTTPS: the https transportSender presents its keystore, verifies the
//! backend with its truststore, and applies HostnameVerifier.

mod common;

use common::{backend, proxy_xml, start_server, TestPki, PASSWORD, SOAP11_GET_QUOTE};
use mediate::security::pki::{self, CertSpec};

/// axis2.xml with an http receiver and an https sender (presenting the trusted client
/// certificate when `keystore`).
fn axis2(pki: &TestPki, keystore: bool, verifier: &str) -> String {
    let keystore = if keystore {
        format!(
            "<parameter name=\"keystore\"><KeyStore><Location>{}</Location><Type>PKCS12</Type><Password>{PASSWORD}</Password></KeyStore></parameter>",
            pki.path("client.p12").display()
        )
    } else {
        String::new()
    };
    format!(
        r#"<axisconfig>
  <transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter></transportReceiver>
  <transportSender name="https">
    {keystore}
    <parameter name="truststore"><TrustStore><Location>{}</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="HostnameVerifier">{verifier}</parameter>
  </transportSender>
</axisconfig>"#,
        pki.path("ca.pem").display()
    )
}

fn call(server: &common::server::Server) -> common::client::Response {
    common::client::post(&server.http_url("/services/Quote"), &[("Content-Type", "text/xml"), ("SOAPAction", "\"urn:getQuote\"")], SOAP11_GET_QUOTE.as_bytes(), &Default::default()).unwrap()
}

#[test]
fn the_sender_presents_its_certificate_and_checks_the_backend() {
    let pki = TestPki::new();
    // The backend's certificate names only backend.example, not localhost or 127.0.0.1.
    let mut spec = CertSpec::server("backend.example");
    spec.dns_names = vec!["backend.example".into()];
    spec.ip_addresses = vec![];
    let backend_cert = pki::issue(&spec, &pki.ca).unwrap();
    let backend = backend::start_stockquote_https(&backend_cert, vec![pki.ca.cert.clone()]);
    let url = format!("https://127.0.0.1:{}/services/SimpleStockQuoteService", backend.addr.port());

    let run = |keystore: bool, verifier: &str| {
        let dir = tempfile::tempdir().unwrap();
        let server = start_server(dir.path(), &axis2(&pki, keystore, verifier), &[("Quote", proxy_xml("Quote", "http", &url))]);
        call(&server)
    };

    // Name not checked, certificate presented: served.
    for verifier in ["AllowAll", "DefaultAndLocalhost"] {
        let r = run(true, verifier);
        assert_eq!(r.status, 200, "{verifier}: {}", r.text());
        assert!(r.text().contains("getQuoteResponse"), "{verifier}");
    }
    // Strict: 127.0.0.1 is not a name the backend's certificate carries.
    let r = run(true, "Strict");
    assert_eq!(r.status, 500);
    assert!(r.text().contains(">101503</syn:ErrorCode>"), "{}", r.text());
    // Without a client certificate the backend refuses us: a fault, not a hang.
    let r = run(false, "AllowAll");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("<faultcode>soapenv:Server</faultcode>"), "{}", r.text());
}

#[test]
fn a_backend_from_an_untrusted_ca_is_refused() {
    let pki = TestPki::new();
    let rogue_ca = pki::self_signed(&CertSpec::ca("Rogue CA")).unwrap();
    let backend_cert = pki::issue(&CertSpec::server("localhost"), &rogue_ca).unwrap();
    let backend = backend::start_stockquote_https(&backend_cert, vec![pki.ca.cert.clone()]);
    let url = format!("https://localhost:{}/services/SimpleStockQuoteService", backend.addr.port());
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2(&pki, true, "AllowAll"), &[("Quote", proxy_xml("Quote", "http", &url))]);
    let r = call(&server);
    assert_eq!(r.status, 500);
    assert!(r.text().contains(">101503</syn:ErrorCode>"), "{}", r.text());
}

#[test]
fn custom_ssl_profiles_present_a_different_certificate_per_backend() {
    let pki = TestPki::new();
    // A second organisation with its own CA: its backend only accepts its own clients.
    let other_ca = pki::self_signed(&CertSpec::ca("Partner CA")).unwrap();
    let partner_client = pki::issue(&CertSpec::client("mediate-at-partner"), &other_ca).unwrap();
    pki::write_pkcs12(&pki.path("partner.p12"), "partner", &partner_client, std::slice::from_ref(&other_ca.cert), PASSWORD).unwrap();

    let ours = backend::start_stockquote_https(&pki.server, vec![pki.ca.cert.clone()]);
    let partner = backend::start_stockquote_https(&pki.server, vec![other_ca.cert.clone()]);
    let url = |b: &backend::Backend| format!("https://localhost:{}/services/SimpleStockQuoteService", b.addr.port());
    let profile = format!(
        r#"<parameter name="customSSLProfiles"><profile><servers>localhost:{}</servers>
             <KeyStore><Location>{}</Location><Type>PKCS12</Type><Password>{PASSWORD}</Password></KeyStore></profile></parameter>"#,
        partner.addr.port(),
        pki.path("partner.p12").display()
    );
    let with_profile = axis2(&pki, true, "Strict").replace("<parameter name=\"HostnameVerifier\">", &format!("{profile}<parameter name=\"HostnameVerifier\">"));
    let proxies = [("Ours", proxy_xml("Ours", "http", &url(&ours))), ("Partner", proxy_xml("Partner", "http", &url(&partner)))];

    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &with_profile, &proxies);
    for p in ["Ours", "Partner"] {
        let r = common::client::post(&server.http_url(&format!("/services/{p}")), &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")], SOAP11_GET_QUOTE.as_bytes(), &Default::default()).unwrap();
        assert_eq!(r.status, 200, "{p}: {}", r.text());
    }
    drop(server);

    // Without the profile the partner sees our usual certificate and refuses it.
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2(&pki, true, "Strict"), &proxies);
    let r = common::client::post(&server.http_url("/services/Partner"), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &Default::default()).unwrap();
    assert_eq!(r.status, 500, "the wrong client certificate is refused: {}", r.text());
    assert!(r.text().contains("<faultcode>soapenv:Server</faultcode>"));
}
