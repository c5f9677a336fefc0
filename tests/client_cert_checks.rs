//! The client certificate checks of `security::client_cert` in the TLS handshake, through
//! the real server and a real TLS client, under `SSLVerifyClient require` and `optional`:
//! each bad certificate fails the handshake with the reason in the server's log, and the
//! server goes on serving.

mod common;

use std::time::{Duration, Instant};

use common::{axis2_xml, backend, crl, proxy_xml, start_server, TestPki, SOAP11_GET_QUOTE};
use mediate::security::pki::{self, CertSpec, Digest, Eku, Issued, KeyAlgorithm, Profile};
use mediate_samples::client::{ClientError, ClientTls};
use openssl::x509::X509;

/// What a client should get, and for a refusal the reason the server must log.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Served,
    Refused(&'static str),
}

struct Case {
    name: &'static str,
    /// `None`: no certificate at all.
    identity: Option<Issued>,
    /// Intermediates the client sends after its certificate.
    chain: Vec<X509>,
    expect: Expect,
    /// The client's OpenSSL would refuse to present this certificate at its default
    /// security level, so a client at level 0 sends it.
    weak: bool,
}

fn case(name: &'static str, identity: &Issued, chain: &[&Issued], expect: Expect) -> Case {
    Case { name, identity: Some(identity.clone()), chain: chain.iter().map(|i| i.cert.clone()).collect(), expect, weak: false }
}

fn weak_case(name: &'static str, identity: &Issued, expect: Expect) -> Case {
    Case { weak: true, ..case(name, identity, &[], expect) }
}

/// Posts through the tests' TLS client, with intermediates when there are any (the common
/// wrapper sends the certificate alone).
fn post(url: &str, pki: &TestPki, c: &Case) -> Result<common::client::Response, ClientError> {
    let headers = [("Content-Type", "text/xml"), ("SOAPAction", "\"urn:getQuote\"")];
    if c.weak {
        return post_at_security_level_0(url, pki, c);
    }
    if c.chain.is_empty() {
        return common::client::post(url, &headers, SOAP11_GET_QUOTE.as_bytes(), &pki.client(c.identity.as_ref()));
    }
    let identity = c.identity.as_ref().map(|i| mediate_samples::tls::Identity { key: i.key.clone(), cert: i.cert.clone(), chain: c.chain.clone() });
    let tls = ClientTls { identity, trust: Some(vec![pki.ca.cert.clone()]), skip_hostname: false };
    mediate_samples::client::post(url, &headers, SOAP11_GET_QUOTE.as_bytes(), &tls, common::client::TIMEOUT)
}

/// One POST over a TLS connection whose OpenSSL accepts weak keys and digests, answering
/// like the tests' client: `TlsHandshake` when the server refuses the certificate (during
/// the handshake, or with TLS 1.3 at the first read after it).
fn post_at_security_level_0(url: &str, pki: &TestPki, c: &Case) -> Result<common::client::Response, ClientError> {
    use openssl::ssl::{SslConnector, SslMethod};
    use openssl::x509::store::X509StoreBuilder;
    use std::io::{Read, Write};

    let addr = url.trim_start_matches("https://").split('/').next().unwrap().to_string();
    let refused = |reason: String| ClientError::TlsHandshake { addr: addr.clone(), reason };
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_security_level(0);
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(pki.ca.cert.clone()).unwrap();
    b.set_cert_store(store.build());
    let identity = c.identity.as_ref().unwrap();
    b.set_private_key(&identity.key).unwrap();
    b.set_certificate(&identity.cert).unwrap();
    for extra in &c.chain {
        b.add_extra_chain_cert(extra.clone()).unwrap();
    }
    let tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(common::client::TIMEOUT)).unwrap();
    let mut tls = b.build().connect("localhost", tcp).map_err(|e| refused(e.to_string()))?;
    let path = &url[url.find(&addr).unwrap() + addr.len()..];
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nSOAPAction: \"urn:getQuote\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        SOAP11_GET_QUOTE.len()
    );
    let mut answer = Vec::new();
    tls.write_all(head.as_bytes())
        .and_then(|_| tls.write_all(SOAP11_GET_QUOTE.as_bytes()))
        .and_then(|_| tls.read_to_end(&mut answer))
        .map_err(|e| refused(e.to_string()))?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    if status == 0 {
        return Err(refused(format!("no HTTP answer: {head:?}")));
    }
    Ok(common::client::Response { status, headers: vec![], body: body.as_bytes().to_vec() })
}

/// Waits for a server log line containing all of `parts` (stderr is read on a thread).
fn wait_for_log(server: &mut common::server::Server, parts: &[&str]) -> Result<String, Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = server.logs();
        if let Some(line) = logs.iter().find(|l| parts.iter().all(|p| l.contains(p))) {
            return Ok(line.clone());
        }
        if Instant::now() > deadline {
            return Err(logs);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn subject_cn(identity: &Issued) -> String {
    let cn = identity.cert.subject_name().entries_by_nid(openssl::nid::Nid::COMMONNAME).next().unwrap().data().to_string().unwrap();
    format!("CN={cn}")
}

/// Starts the server with `extra` https receiver parameters.
fn start(pki: &TestPki, verify_client: &str, extra: &str) -> (common::server::Server, backend::Backend) {
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let axis2 = with_parameters(axis2_xml(pki, verify_client), extra);
    let server = start_server(dir.path(), &axis2, &[("Echo", proxy_xml("Echo", "http https", &backend.url("/echo")))]);
    (server, backend)
}

/// The https receiver of `axis2` with `extra` parameters before `SSLVerifyClient`.
fn with_parameters(axis2: String, extra: &str) -> String {
    let anchor = "    <parameter name=\"SSLVerifyClient\">";
    assert!(axis2.contains(anchor));
    axis2.replace(anchor, &format!("    {extra}\n{anchor}"))
}

/// Runs every case against the server.
fn check(server: &mut common::server::Server, pki: &TestPki, verify_client: &str, cases: &[Case]) {
    let url = server.https_url("/services/Echo");
    for c in cases {
        let label = format!("{verify_client}/{}", c.name);
        match (c.expect, post(&url, pki, c)) {
            (Expect::Served, Ok(r)) => {
                assert_eq!(r.status, 200, "{label}: {}", r.text());
                assert_eq!(r.text(), SOAP11_GET_QUOTE, "{label}");
            }
            (Expect::Refused(reason), Err(e)) => {
                // The server refused (an alert), not our own TLS stack before sending.
                assert!(matches!(e, ClientError::TlsHandshake { .. }), "{label}: expected the server to refuse the handshake, got {e}");
                let who = c.identity.as_ref().map(subject_cn).unwrap_or_default();
                if let Err(logs) = wait_for_log(server, &["WARN", "client certificate refused in the TLS handshake: ", reason, &who, "SHA-256 "]) {
                    panic!("{label}: no WARN line with '{reason}' for {who}; logs:\n{}", logs.join("\n"));
                }
            }
            (Expect::Served, Err(e)) => panic!("{label}: expected to be served, got {e}\n{}", server.logs().join("\n")),
            (Expect::Refused(_), Ok(r)) => panic!("{label}: expected a refused handshake, got HTTP {}", r.status),
        }
    }
}

/// The server still answers after the refusals: the trusted client over https, or (when
/// a stale CRL refuses everyone) anybody over http.
fn assert_still_serving(server: &mut common::server::Server, pki: &TestPki, https: bool) {
    let r = if https {
        let trusted = case("trusted", &pki.trusted_client, &[], Expect::Served);
        post(&server.https_url("/services/Echo"), pki, &trusted)
    } else {
        common::client::post(&server.http_url("/services/Echo"), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &Default::default())
    };
    match r {
        Ok(r) => assert_eq!(r.status, 200, "{}", r.text()),
        Err(e) => panic!("the server stopped serving: {e}\n{}", server.logs().join("\n")),
    }
}

/// Clients issued by the test CA, good and bad, plus two intermediate CAs below it.
struct Clients {
    not_yet_valid: Issued,
    ca_leaf: Issued,
    rsa1024: Issued,
    sha1: Issued,
    no_eku: Issued,
    int1: Issued,
    int2: Issued,
    /// Below `int1`: one intermediate.
    via_one: Issued,
    /// Below `int2`: two intermediates.
    via_two: Issued,
    revoked: Issued,
}

impl Clients {
    fn new(pki: &TestPki) -> Clients {
        let ca = &pki.ca;
        let int1 = pki::issue(&CertSpec::ca("Test Int 1"), ca).unwrap();
        let int2 = pki::issue(&CertSpec::ca("Test Int 2"), &int1).unwrap();
        Clients {
            not_yet_valid: pki::issue(&CertSpec::client("future-alice").valid_days(2, 60), ca).unwrap(),
            ca_leaf: pki::issue(&CertSpec::client("ca-alice").with_profile(Profile::Ca { path_len: None }).with_eku(vec![Eku::ClientAuth]), ca).unwrap(),
            rsa1024: pki::issue(&CertSpec::client("rsa1024-alice").with_key(KeyAlgorithm::Rsa(1024)), ca).unwrap(),
            sha1: pki::issue(&CertSpec::client("sha1-alice").with_digest(Digest::Sha1), ca).unwrap(),
            no_eku: pki::issue(&CertSpec::client("no-eku-alice").with_eku(vec![]), ca).unwrap(),
            via_one: pki::issue(&CertSpec::client("one-deep"), &int1).unwrap(),
            via_two: pki::issue(&CertSpec::client("two-deep"), &int2).unwrap(),
            revoked: pki::issue(&CertSpec::client("revoked-bob"), ca).unwrap(),
            int1,
            int2,
        }
    }
}

fn without_crls(verify_client: &str) {
    let pki = TestPki::new();
    let k = Clients::new(&pki);
    let anonymous = |expect| Case { name: "no certificate", identity: None, chain: vec![], expect, weak: false };
    let mut cases = vec![
        case("expired", &pki.expired_client, &[], Expect::Refused("certificate has expired")),
        case("not yet valid", &k.not_yet_valid, &[], Expect::Refused("certificate is not yet valid")),
        case("serverAuth-only EKU", &pki.server_auth_only_client, &[], Expect::Refused("extendedKeyUsage does not allow client authentication")),
        case("CA:TRUE leaf", &k.ca_leaf, &[], Expect::Refused("certificate is a CA certificate (basicConstraints CA:TRUE)")),
        weak_case("RSA-1024 leaf", &k.rsa1024, Expect::Refused("RSA key of 1024 bits is too weak")),
        weak_case("SHA-1 leaf", &k.sha1, Expect::Refused("SHA-1 signature is too weak")),
        case("deeper than SSLVerifyDepth", &k.via_two, &[&k.int2, &k.int1], Expect::Refused("more intermediate CAs than SSLVerifyDepth allows (1)")),
        case("at SSLVerifyDepth", &k.via_one, &[&k.int1], Expect::Served),
        case("no EKU", &k.no_eku, &[], Expect::Served),
    ];
    if verify_client == "optional" {
        cases.push(anonymous(Expect::Served));
    }
    let (mut server, _backend) = start(&pki, verify_client, r#"<parameter name="SSLVerifyDepth">1</parameter>"#);
    check(&mut server, &pki, verify_client, &cases);
    if verify_client == "require" {
        // Refused by `require` itself, before any check of ours: no WARN to look for.
        let e = post(&server.https_url("/services/Echo"), &pki, &anonymous(Expect::Refused(""))).unwrap_err();
        assert!(e.is_tls(), "{e}");
    }
    assert_still_serving(&mut server, &pki, true);
}

#[test]
fn require_refuses_every_bad_certificate_in_the_handshake() {
    without_crls("require");
}

#[test]
fn optional_never_downgrades_a_bad_certificate_to_anonymous() {
    without_crls("optional");
}

fn revocation_parameter(crl_file: &std::path::Path, soft_fail: bool) -> String {
    format!(
        r#"<parameter name="CertificateRevocationVerifier" enable="true"><CRLFile>{}</CRLFile><SoftFail>{soft_fail}</SoftFail></parameter>"#,
        crl_file.display()
    )
}

fn revocation(verify_client: &str) {
    let pki = TestPki::new();
    let k = Clients::new(&pki);
    let crl_path = pki.path("crl.pem");
    let crls: Vec<u8> = [crl(&pki.ca, &[&k.revoked.cert], 7), crl(&k.int1, &[], 7)].iter().flat_map(|c| c.to_pem().unwrap()).collect();
    std::fs::write(&crl_path, crls).unwrap();
    let cases = [
        case("revoked", &k.revoked, &[], Expect::Refused("certificate is revoked")),
        case("not revoked", &k.no_eku, &[], Expect::Served),
        case("not revoked, below a CA with its own CRL", &k.via_one, &[&k.int1], Expect::Served),
        // int2 has no CRL: with CRLs configured, every CA in the chain needs one.
        case("below a CA without a CRL", &k.via_two, &[&k.int2, &k.int1], Expect::Refused("no CRL for CN=Test Int 2")),
    ];
    let (mut server, _backend) = start(&pki, verify_client, &revocation_parameter(&crl_path, false));
    check(&mut server, &pki, verify_client, &cases);
    assert_still_serving(&mut server, &pki, true);
}

#[test]
fn require_refuses_a_revoked_certificate() {
    revocation("require");
}

#[test]
fn optional_refuses_a_revoked_certificate() {
    revocation("optional");
}

fn expired_crl(verify_client: &str, soft_fail: bool) {
    let pki = TestPki::new();
    let k = Clients::new(&pki);
    let crl_path = pki.path("stale.crl");
    // DER this time; nextUpdate was yesterday.
    std::fs::write(&crl_path, crl(&pki.ca, &[&k.revoked.cert], -1).to_der().unwrap()).unwrap();
    let (mut server, _backend) = start(&pki, verify_client, &revocation_parameter(&crl_path, soft_fail));
    let stale = "CRL for CN=Test CA,O=mediate tests has expired";
    if !soft_fail {
        // Start-up says so before any client does.
        let line = wait_for_log(&mut server, &["WARN", "expired at", "every certificate it covers is refused"]);
        assert!(line.is_ok(), "no start-up warning; logs:\n{}", line.unwrap_err().join("\n"));
    }
    let cases = [
        case("revoked on a stale CRL", &k.revoked, &[], Expect::Refused(if soft_fail { "certificate is revoked" } else { stale })),
        case("not revoked, stale CRL", &k.no_eku, &[], if soft_fail { Expect::Served } else { Expect::Refused(stale) }),
        case("trusted, stale CRL", &pki.trusted_client, &[], if soft_fail { Expect::Served } else { Expect::Refused(stale) }),
    ];
    check(&mut server, &pki, verify_client, &cases);
    if soft_fail {
        let warning = [stale, "SoftFail is true, so the client certificate is checked against it anyway", "CN=no-eku-alice", "SHA-256 "];
        let line = wait_for_log(&mut server, &warning);
        assert!(line.is_ok(), "no SoftFail warning; logs:\n{}", line.unwrap_err().join("\n"));
        // One line per handshake, though OpenSSL reads that CRL for the leaf and for its CA.
        assert_eq!(server.logs().iter().filter(|l| warning.iter().all(|w| l.contains(w))).count(), 1, "{}", server.logs().join("\n"));
    }
    assert_still_serving(&mut server, &pki, soft_fail);
}

#[test]
fn require_refuses_everyone_when_the_crl_is_past_next_update() {
    expired_crl("require", false);
}

#[test]
fn optional_refuses_everyone_when_the_crl_is_past_next_update() {
    expired_crl("optional", false);
}

#[test]
fn require_soft_fail_accepts_with_a_warning_when_the_crl_is_past_next_update() {
    expired_crl("require", true);
}

#[test]
fn optional_soft_fail_accepts_with_a_warning_when_the_crl_is_past_next_update() {
    expired_crl("optional", true);
}

#[test]
fn an_unreadable_crl_file_stops_the_server_with_file_and_line() {
    let pki = TestPki::new();
    std::fs::write(pki.path("bad.pem"), "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let axis2 = with_parameters(axis2_xml(&pki, "require"), &revocation_parameter(&pki.path("bad.pem"), false));
    common::server::write_files(dir.path(), &[("conf/axis2.xml", axis2), ("mediation/proxy-services/Echo.xml", proxy_xml("Echo", "https", "http://127.0.0.1:9/"))]);
    let out = std::process::Command::new(common::server::mediate_bin())
        .args(["check", "--axis2"])
        .arg(dir.path().join("conf/axis2.xml"))
        .arg("--mediation")
        .arg(dir.path().join("mediation"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("axis2.xml:11:"), "{text}");
    assert!(text.contains("bad.pem:1: not a valid CRL"), "{text}");
}
