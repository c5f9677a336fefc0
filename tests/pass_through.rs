//! Pass-through proxying: SOAP 1.1 and 1.2 unchanged, big bodies streamed, backend
//! failures as SOAP faults, transport restrictions, hostile prologs refused.

mod common;

use std::io::Read;

use common::{axis2_xml, backend, proxy_xml, start_server, TestPki, SOAP11_GET_QUOTE, SOAP12_GET_QUOTE};

struct Setup {
    pki: TestPki,
    backend: backend::Backend,
    server: common::server::Server,
    _dir: tempfile::TempDir,
}

fn setup(extra: impl Fn(&backend::Backend) -> Vec<(&'static str, String)>) -> Setup {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let mut proxies = vec![
        ("Echo", proxy_xml("Echo", "http https", &backend.url("/echo"))),
        ("Count", proxy_xml("Count", "https", &backend.url("/count"))),
        ("HttpsOnly", proxy_xml("HttpsOnly", "https", &backend.url("/echo"))),
    ];
    proxies.extend(extra(&backend));
    let server = start_server(dir.path(), &axis2_xml(&pki, "require"), &proxies);
    Setup { pki, backend, server, _dir: dir }
}

impl Setup {
    fn tls(&self) -> common::client::Tls {
        self.pki.client(Some(&self.pki.trusted_client))
    }
}

#[test]
fn soap11_and_soap12_pass_through_unchanged() {
    let s = setup(|_| vec![]);
    let url = s.server.https_url("/services/Echo");
    let r = common::client::post(
        &url,
        &[
            ("Content-Type", "text/xml; charset=UTF-8"),
            ("SOAPAction", "\"urn:getQuote\""),
            ("X-Custom", "kept"),
            ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
            ("X-SSL-Client-S-DN", "CN=admin"),
        ],
        SOAP11_GET_QUOTE.as_bytes(),
        &s.tls(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), SOAP11_GET_QUOTE);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=UTF-8"));
    assert_eq!(r.header("x-seen-soapaction"), Some("\"urn:getQuote\""));
    assert_eq!(r.header("x-seen-x-custom"), Some("kept"));
    assert_eq!(r.header("x-seen-content-length"), Some(SOAP11_GET_QUOTE.len().to_string().as_str()));
    assert_eq!(r.header("x-seen-method"), Some("POST"));
    assert_eq!(r.header("x-seen-host"), Some(s.backend.addr.to_string().as_str()), "Host is the backend's");
    assert_eq!(r.header("x-seen-proxy-authorization"), None, "hop-by-hop headers stay on their hop");
    assert_eq!(r.header("x-seen-x-ssl-client-s-dn"), None, "client-certificate headers are never forwarded");

    let ct = "application/soap+xml; charset=UTF-8; action=\"urn:getQuote\"";
    let r = common::client::post(&url, &[("Content-Type", ct)], SOAP12_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), SOAP12_GET_QUOTE);
    assert_eq!(r.header("x-seen-content-type"), Some(ct), "the SOAP 1.2 action parameter reaches the backend");

    // plain http listener, same proxy
    let r = common::client::post(&s.server.http_url("/services/Echo"), &[("Content-Type", "application/xml")], b"<a>pox</a>", &s.tls()).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "<a>pox</a>"));
}

/// A reader producing a SOAP envelope of exactly `total` bytes without holding it.
struct BigEnvelope {
    head: &'static [u8],
    tail: &'static [u8],
    total: u64,
    pos: u64,
}

impl Read for BigEnvelope {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.pos < self.total {
            let tail_start = self.total - self.tail.len() as u64;
            buf[n] = if self.pos < self.head.len() as u64 {
                self.head[self.pos as usize]
            } else if self.pos >= tail_start {
                self.tail[(self.pos - tail_start) as usize]
            } else {
                b'x'
            };
            n += 1;
            self.pos += 1;
        }
        Ok(n)
    }
}

#[test]
fn a_100_mb_body_streams_with_bounded_memory() {
    let s = setup(|_| vec![]);
    let url = s.server.https_url("/services/Count");
    // warm up: TLS, pools, allocator
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.text(), format!("count={}", SOAP11_GET_QUOTE.len()));
    let before = s.server.proc_status_kb("VmHWM:");

    let total: u64 = 100 * 1024 * 1024;
    let mut body = BigEnvelope {
        head: b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><m0:blob xmlns:m0=\"urn:blob\">",
        tail: b"</m0:blob></soapenv:Body></soapenv:Envelope>",
        total,
        pos: 0,
    };
    let r = common::client::post_stream(&url, &[("Content-Type", "text/xml")], &mut body, total, &s.tls()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), format!("count={total}"));
    let growth_mb = (s.server.proc_status_kb("VmHWM:").saturating_sub(before)) as f64 / 1024.0;
    eprintln!("peak RSS growth while streaming 100 MB: {growth_mb:.1} MB");
    assert!(growth_mb < 20.0, "peak RSS grew by {growth_mb:.1} MB while streaming 100 MB");
}

#[test]
fn backend_down_gives_a_fault_with_101503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let s = setup(move |_| vec![("Down", proxy_xml("Down", "https", &format!("http://127.0.0.1:{port}/services/X")))]);
    let url = s.server.https_url("/services/Down");

    let r = common::client::post(&url, &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 500);
    let t = r.text();
    assert!(t.contains("http://schemas.xmlsoap.org/soap/envelope/") && t.contains("<faultcode>soapenv:Server</faultcode>"), "{t}");
    assert!(t.contains(">101503</syn:ErrorCode>"), "{t}");

    // The refused endpoint is now suspended (30 s by default): the next request fails
    // fast with 303001, in the request's SOAP version.
    let r = common::client::post(&url, &[("Content-Type", "application/soap+xml")], SOAP12_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 500);
    let t = r.text();
    assert!(t.contains("http://www.w3.org/2003/05/soap-envelope") && t.contains("soapenv:Receiver") && t.contains(">303001<"), "{t}");
}

#[test]
fn a_slow_backend_gives_a_fault_with_101504() {
    let s = setup(|b| vec![("Slow", proxy_xml("Slow", "https", &b.url("/slow")))]);
    let url = s.server.https_url("/services/Slow");
    let started = std::time::Instant::now();
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the 2 s endpoint timeout was not applied");
    let t = r.text();
    assert_eq!(r.status, 500);
    assert!(t.contains(">101504</syn:ErrorCode>"), "{t}");
}

#[test]
fn transports_restrict_where_a_proxy_is_offered() {
    let s = setup(|_| vec![]);
    let r = common::client::post(&s.server.http_url("/services/HttpsOnly"), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().contains("The service cannot be found for the endpoint reference (EPR) /services/HttpsOnly"), "{}", r.text());
    assert!(r.text().contains("soapenv:Client"));
    let r = common::client::post(&s.server.http_url("/services/HttpsOnly"), &[("Content-Type", "application/soap+xml")], SOAP12_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 400, "SOAP 1.2 Sender faults are 400");
    let r = common::client::post(&s.server.https_url("/services/HttpsOnly"), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 200);
    // Other URLs go through `main`; the default one sends only what is addressed to the
    // sample backend, and a message nobody answers gets a fault, not silence.
    let r = common::client::post(&s.server.https_url("/services/Nope"), &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().contains("Mediation ended without a response"), "{}", r.text());
}

#[test]
fn dtds_and_wrong_envelopes_are_refused_before_forwarding() {
    let s = setup(|_| vec![]);
    let url = s.server.https_url("/services/Echo");
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&x;</soapenv:Body></soapenv:Envelope>"#;
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], xxe, &s.tls()).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().contains("DTD is not allowed") && r.text().contains("soapenv:Client"), "{}", r.text());
    assert!(r.header("x-seen-method").is_none(), "nothing reached the backend");

    let wrong = br#"<e:Envelope xmlns:e="urn:not-soap"><e:Body/></e:Envelope>"#;
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], wrong, &s.tls()).unwrap();
    assert!(r.text().contains("VersionMismatch"), "{}", r.text());

    let r = common::client::post(&url, &[("Content-Type", "application/soap+xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert!(r.text().contains("VersionMismatch"), "a SOAP 1.1 envelope under the SOAP 1.2 content type: {}", r.text());

    let r = common::client::post(&url, &[("Content-Type", "text/xml")], b"not xml at all", &s.tls()).unwrap();
    assert!(r.text().contains("malformed XML"), "{}", r.text());

    // and the server still serves
    let r = common::client::post(&url, &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &s.tls()).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let mut s = setup(|_| vec![]);
    let slow_url = s.server.https_url("/services/Echo");
    let tls = s.tls();
    // An in-flight request: the head and the first 256 KB arrive at once (more than any
    // client buffer holds), the last bytes slowly, after the signal.
    const PREFIX: usize = 256 * 1024;
    let handle = std::thread::spawn(move || {
        struct Slow(u8);
        impl Read for Slow {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Ok(0);
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
                self.0 -= 1;
                buf[0] = b'.';
                Ok(1)
            }
        }
        let prefix: Vec<u8> = b"<a>".iter().copied().chain(std::iter::repeat_n(b' ', PREFIX)).collect();
        let len = (prefix.len() + 3 + 4) as u64;
        let mut body = prefix.as_slice().chain(Slow(3)).chain(b"</a>".as_slice());
        common::client::post_stream(&slow_url, &[("Content-Type", "application/xml")], &mut body, len, &tls)
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    let status = s.server.terminate(std::time::Duration::from_secs(20));
    let r = handle.join().unwrap().unwrap_or_else(|e| panic!("{e}\n{}", s.server.logs().join("\n")));
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 3 + PREFIX + 3 + 4);
    assert!(r.text().ends_with("...</a>"));
    assert!(status.is_some_and(|s| s.success()), "the server exits cleanly after SIGTERM: {status:?}");
}
