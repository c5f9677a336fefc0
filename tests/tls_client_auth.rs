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
    let s_client = |extra: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(["s_client", "-connect", &addr, "-servername", "localhost"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let text = s_client(&["-tls1_2"]);
    assert!(text.contains("Acceptable client certificate CA names"), "{text}");
    assert!(text.contains("CN = Test CA") || text.contains("CN=Test CA"), "{text}");
    for old in ["-tls1", "-tls1_1"] {
        let text = s_client(&[old]);
        assert!(!text.contains("Cipher is ECDHE") && (text.contains("alert") || text.contains("no protocols") || text.contains("error")), "{old}: {text}");
    }
}
