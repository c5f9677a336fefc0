//! SSLVerifyClient none / optional / require against every kind of client certificate,
//! through the real server and a real TLS client.

mod common;

use common::{axis2_xml, backend, proxy_xml, start_server, TestPki, SOAP11_GET_QUOTE};
use mediate::security::pki::Issued;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Served,
    Refused,
}

fn run_matrix(verify_client: &str, expectations: [(&str, Expect); 5]) {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &axis2_xml(&pki, verify_client), &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let url = server.https_url("/services/Echo");
    for (who, expect) in expectations {
        let identity: Option<&Issued> = match who {
            "no certificate" => None,
            "trusted" => Some(&pki.trusted_client),
            "untrusted CA" => Some(&pki.untrusted_client),
            "expired" => Some(&pki.expired_client),
            "serverAuth-only EKU" => Some(&pki.server_auth_only_client),
            other => panic!("{other}"),
        };
        let result = common::client::post(&url, &[("Content-Type", "text/xml"), ("SOAPAction", "\"urn:getQuote\"")], SOAP11_GET_QUOTE.as_bytes(), &pki.client(identity));
        match (expect, result) {
            (Expect::Served, Ok(r)) => {
                assert_eq!(r.status, 200, "{verify_client}/{who}: {}", r.text());
                assert_eq!(r.text(), SOAP11_GET_QUOTE, "{verify_client}/{who}");
            }
            (Expect::Refused, Err(e)) => assert!(e.is_tls(), "{verify_client}/{who}: expected a TLS refusal, got {e}"),
            (Expect::Served, Err(e)) => panic!("{verify_client}/{who}: expected to be served, got {e}\n{}", server.logs().join("\n")),
            (Expect::Refused, Ok(r)) => panic!("{verify_client}/{who}: expected a refused handshake, got HTTP {}", r.status),
        }
    }
    // The server is still serving after all the refusals.
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &pki.client(Some(&pki.trusted_client))).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn verify_client_none_asks_for_no_certificate() {
    // No certificate is requested, so the client sends none and nothing is checked.
    run_matrix(
        "none",
        [
            ("no certificate", Expect::Served),
            ("trusted", Expect::Served),
            ("untrusted CA", Expect::Served),
            ("expired", Expect::Served),
            ("serverAuth-only EKU", Expect::Served),
        ],
    );
}

#[test]
fn verify_client_optional_verifies_what_is_sent() {
    run_matrix(
        "optional",
        [
            ("no certificate", Expect::Served),
            ("trusted", Expect::Served),
            ("untrusted CA", Expect::Refused),
            ("expired", Expect::Refused),
            ("serverAuth-only EKU", Expect::Refused),
        ],
    );
}

#[test]
fn verify_client_require_needs_a_valid_certificate() {
    run_matrix(
        "require",
        [
            ("no certificate", Expect::Refused),
            ("trusted", Expect::Served),
            ("untrusted CA", Expect::Refused),
            ("expired", Expect::Refused),
            ("serverAuth-only EKU", Expect::Refused),
        ],
    );
}

#[test]
fn trust_anchor_names_are_sent_and_old_protocols_refused() {
    let Ok(out) = std::process::Command::new("openssl").arg("version").output() else { return };
    assert!(out.status.success());
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2_xml(&pki, "require"), &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let addr = server.https.unwrap().to_string();
    let s_client = |extra: &[&str]| s_client(&addr, extra, b"");
    let text = s_client(&["-tls1_2"]);
    assert!(text.contains("Acceptable client certificate CA names"), "{text}");
    assert!(text.contains("CN = Test CA") || text.contains("CN=Test CA"), "{text}");
    for old in ["-tls1", "-tls1_1"] {
        let text = s_client(&[old]);
        assert!(!text.contains("Cipher is ECDHE") && (text.contains("alert") || text.contains("no protocols") || text.contains("error")), "{old}: {text}");
    }
}

/// `openssl s_client` against `addr` with `input` on stdin; everything it printed.
fn s_client(addr: &str, extra: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
        // s_client acts on a command line only after it has connected; then end its input.
        std::thread::sleep(std::time::Duration::from_millis(if input.is_empty() { 0 } else { 500 }));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// I2 and B4 of the security test list: only AEAD suites with forward secrecy are offered
/// (the test server's key is ECDSA, so the RSA suites are refused for two reasons; the
/// CBC and CCM ones show the policy), and a client cannot renegotiate.
#[test]
fn only_aead_suites_are_offered_and_renegotiation_is_refused() {
    let Ok(out) = std::process::Command::new("openssl").arg("version").output() else { return };
    assert!(out.status.success());
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2_xml(&pki, "none"), &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let addr = server.https.unwrap().to_string();
    let negotiated = |text: &str| text.lines().find(|l| l.contains("Cipher is")).map(str::to_string).unwrap_or_default();

    for good in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
        let text = s_client(&addr, &["-tls1_2", "-cipher", good], b"");
        assert!(negotiated(&text).ends_with(good), "{good} is offered: {text}");
    }
    // The client is told to offer only the weak suite (at security level 0 so it will; this
    // OpenSSL has no 3DES or RC4 left to offer, and PreferredCiphers refuses them).
    for weak in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-SHA", "AES128-GCM-SHA256"] {
        let text = s_client(&addr, &["-tls1_2", "-cipher", &format!("{weak}:@SECLEVEL=0")], b"");
        assert!(negotiated(&text).contains("(NONE)") && text.contains("handshake failure"), "{weak} is refused: {text}");
    }
    let text = s_client(&addr, &["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"], b"");
    assert!(negotiated(&text).contains("(NONE)"), "TLS 1.3 CCM is not offered: {text}");

    let text = s_client(&addr, &["-tls1_2"], b"R\n");
    assert!(text.contains("RENEGOTIATING") && text.contains("no renegotiation"), "client renegotiation is refused: {text}");
}
