//! The client certificate as an identity: its properties in mediation, and per-proxy
//! client authentication (mandatory / optional, allowed subjects, pinned certificates).

mod common;

use common::{axis2_xml, backend, start_server, TestPki, SOAP11_GET_QUOTE};
use mediate::security::pki::{self, CertSpec, Issued};

fn proxy(name: &'static str, params: &str, inside: &str, echo: &str) -> (&'static str, String) {
    (
        name,
        format!(
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="https http">{params}<target><inSequence>{inside}<send><endpoint><address uri="{echo}"/></endpoint></send></inSequence><outSequence><send/></outSequence></target></proxy>"#
        ),
    )
}

struct Setup {
    pki: TestPki,
    bob: Issued,
    server: common::server::Server,
    _echo: backend::Backend,
    _dir: tempfile::TempDir,
}

fn setup(verify_client: &str) -> Setup {
    let pki = TestPki::new();
    // alice (trusted_client) is CN=alice,O=mediate tests; bob comes from the same CA.
    let bob = pki::issue(&CertSpec::client("bob").with_subject_prefix(&[("O", "mediate tests")]), &pki.ca).unwrap();
    pki::write_pem_certs(&pki.path("alice.pem"), &[&pki.trusted_client.cert]).unwrap();
    let echo = backend::start();
    let url = echo.url("/echo");
    let copy = |h: &str, x: &str| format!(r#"<header name="{h}" expression="{x}" scope="transport"/>"#);
    let props = [
        copy("X-Verify", "get-property('SSL_CLIENT_VERIFY')"),
        copy("X-DN", "get-property('SSL_CLIENT_S_DN')"),
        copy("X-Issuer", "$ctx:SSL_CLIENT_I_DN"),
        copy("X-CN", "get-property('default', 'SSL_CLIENT_S_DN_CN')"),
        copy("X-Serial", "get-property('SSL_CLIENT_M_SERIAL')"),
        copy("X-Sha256", "get-property('SSL_CLIENT_SHA256')"),
        copy("X-Has-Pem", "string(starts-with(get-property('SSL_CLIENT_CERT'), '-----BEGIN CERTIFICATE-----'))"),
        copy("X-Chain-Pems", "string(string-length(get-property('axis2', 'ssl.client.auth.cert.X509')) &gt; 500)"),
        r#"<filter source="get-property('SSL_CLIENT_S_DN_CN')" regex="alice"><then><header name="X-Route" value="alice's route" scope="transport"/></then></filter>"#.to_string(),
    ]
    .concat();
    let param = |k: &str, v: &str| format!(r#"<parameter name="{k}">{v}</parameter>"#);
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(
        dir.path(),
        &axis2_xml(&pki, verify_client),
        &[
            proxy("Props", "", &props, &url),
            proxy("Mandatory", &param("mtls.required", "mandatory"), "", &url),
            proxy("AllowedDN", &format!("{}{}", param("mtls.required", "mandatory"), param("mtls.allowedSubjects", "O=mediate tests, CN=alice ; CN=carol")), "", &url),
            proxy("Pinned", &param("mtls.certificates", &pki.path("alice.pem").display().to_string()), "", &url),
            proxy("OptionalDN", &format!("{}{}", param("mtls.required", "optional"), param("mtls.allowedSubjects", "CN=alice,O=mediate tests")), "", &url),
        ],
    );
    Setup { pki, bob, server, _echo: echo, _dir: dir }
}

impl Setup {
    fn post(&self, proxy: &str, who: Option<&Issued>) -> common::client::Response {
        common::client::post(&self.server.https_url(&format!("/services/{proxy}")), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &self.pki.client(who))
            .unwrap()
    }
}

#[test]
fn the_certificate_reads_as_properties_and_routes() {
    let s = setup("optional");
    let r = s.post("Props", Some(&s.pki.trusted_client));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-seen-x-verify"), Some("SUCCESS"));
    assert_eq!(r.header("x-seen-x-dn"), Some("CN=alice,O=mediate tests"));
    assert_eq!(r.header("x-seen-x-issuer"), Some("CN=Test CA,O=mediate tests"));
    assert_eq!(r.header("x-seen-x-cn"), Some("alice"));
    let serial = s.pki.trusted_client.cert.serial_number().to_bn().unwrap().to_hex_str().unwrap().to_string();
    assert_eq!(r.header("x-seen-x-serial"), Some(serial.to_uppercase().as_str()));
    let sha: String = s.pki.trusted_client.cert.digest(openssl::hash::MessageDigest::sha256()).unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r.header("x-seen-x-sha256"), Some(sha.as_str()));
    assert_eq!(r.header("x-seen-x-has-pem"), Some("true"));
    assert_eq!(r.header("x-seen-x-chain-pems"), Some("true"));
    assert_eq!(r.header("x-seen-x-route"), Some("alice's route"));

    let r = s.post("Props", None);
    assert_eq!(r.header("x-seen-x-verify"), Some("NONE"));
    assert_eq!(r.header("x-seen-x-dn"), Some(""));
    assert!(r.header("x-seen-x-route").is_none());
    let r = s.post("Props", Some(&s.bob));
    assert!(r.header("x-seen-x-route").is_none());
}

#[test]
fn a_certificate_offered_to_a_none_listener_is_no_identity() {
    let s = setup("none");
    let r = s.post("Props", Some(&s.pki.trusted_client));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-seen-x-verify"), Some("NONE"), "A5");
    assert_eq!(s.post("Mandatory", Some(&s.pki.trusted_client)).status, 401);
}

#[test]
fn proxies_accept_only_their_clients() {
    let s = setup("optional");
    let alice = Some(&s.pki.trusted_client);
    let bob = Some(&s.bob);
    let fault = |r: &common::client::Response, status: u16, reason: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.text().contains("<faultcode>soapenv:Client</faultcode>") && r.text().contains(reason), "{}", r.text());
        assert!(r.header("x-seen-method").is_none(), "refused before mediation");
    };
    // A3, A16: mandatory without a certificate → 401; with one → served.
    fault(&s.post("Mandatory", None), 401, "client certificate required");
    assert_eq!(s.post("Mandatory", bob).status, 200);
    // A14: a trusted certificate whose subject is not allowed → 403.
    assert_eq!(s.post("AllowedDN", alice).status, 200, "subjects compare normalised (order, spacing)");
    fault(&s.post("AllowedDN", bob), 403, "client certificate not allowed");
    // A15: pinned to alice's certificate; bob from the same CA → 403.
    assert_eq!(s.post("Pinned", alice).status, 200);
    fault(&s.post("Pinned", bob), 403, "client certificate not allowed");
    assert_eq!(s.post("Pinned", None).status, 200, "pinning alone does not make a certificate mandatory");
    // A16: optional: no certificate served; a certificate must still pass.
    assert_eq!(s.post("OptionalDN", None).status, 200);
    assert_eq!(s.post("OptionalDN", alice).status, 200);
    fault(&s.post("OptionalDN", bob), 403, "client certificate not allowed");
}

#[test]
fn certificate_properties_cannot_be_set_by_mediation() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    common::server::write_files(
        dir.path(),
        &[
            ("conf/axis2.xml", axis2_xml(&pki, "optional")),
            ("mediation/sequences/s.xml", r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="s"><property name="SSL_CLIENT_S_DN" value="CN=admin"/></sequence>"#.into()),
        ],
    );
    let out = std::process::Command::new(common::server::mediate_bin())
        .args(["check", "--axis2"])
        .arg(dir.path().join("conf/axis2.xml"))
        .arg("--mediation")
        .arg(dir.path().join("mediation"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("describes the client certificate and cannot be set"));
}
