//! HTTP-level limits of a receiver, through the real server on raw sockets: header and
//! request-target size (431, 414), the head and body read timeouts (slowloris), the
//! connection limit (503), and a request with both Content-Length and Transfer-Encoding
//! (400). Each refusal is answered, the server keeps serving, and no backend sees a request
//! it should not.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::misbehaving::{Behaviour, Misbehaving};
use common::server::{write_files, Server};

const REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:ask xmlns:r="urn:test"/></soapenv:Body></soapenv:Envelope>"#;

fn axis2(limits: &str) -> String {
    format!(
        r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter>{limits}</transportReceiver><transportSender name="http"/></axisconfig>"#
    )
}

/// `Pass` streams the body to the backend; `Read` reads it first (a full log).
fn proxies(backend: &str) -> Vec<(&'static str, String)> {
    let proxy = |name: &str, in_sequence: &str| {
        format!(
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http"><target>{in_sequence}<endpoint><address uri="{backend}"/></endpoint><outSequence><send/></outSequence></target></proxy>"#
        )
    };
    vec![
        ("mediation/proxy-services/Pass.xml", proxy("Pass", "")),
        ("mediation/proxy-services/Read.xml", proxy("Read", r#"<inSequence><log level="full"/></inSequence>"#)),
    ]
}

fn start(limits: &str, backend: &Misbehaving) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![("conf/axis2.xml", axis2(limits))];
    files.extend(proxies(&backend.url()));
    write_files(dir.path(), &files);
    let s = Server::start(dir.path());
    (dir, s)
}

fn addr(s: &Server) -> SocketAddr {
    s.http_url("").trim_start_matches("http://").parse().unwrap()
}

/// One client connection on a raw socket.
struct Raw(TcpStream);

impl Raw {
    fn open(s: &Server) -> Raw {
        let tcp = TcpStream::connect(addr(s)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw(tcp)
    }

    fn send(&mut self, bytes: &[u8]) -> &mut Raw {
        self.0.write_all(bytes).unwrap();
        self
    }

    /// Everything until the server closes the connection (bounded by the read timeout).
    fn until_closed(&mut self) -> String {
        let mut got = Vec::new();
        let _ = self.0.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    }

    /// The status code of the first answer, or 0 if the connection closed without one.
    fn status(&mut self) -> u16 {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(2).any(|w| w == b"\r\n") {
            match self.0.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        status_of(&String::from_utf8_lossy(&got))
    }
}

fn status_of(answer: &str) -> u16 {
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn post(path: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// A normal request on a new connection: the server still serves.
fn served(s: &Server) -> bool {
    served_at(s, "/services/Pass", "b")
}

/// A request to `path` on a new connection is answered by backend `name`.
fn served_at(s: &Server, path: &str, name: &str) -> bool {
    let answer = Raw::open(s).send(&post(path, "Connection: close\r\n", REQUEST)).until_closed();
    status_of(&answer) == 200 && answer.contains(&format!("<name>{name}</name>"))
}

#[test]
fn oversized_headers_and_request_targets_get_431_and_414() {
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let (_dir, s) = start(r#"<parameter name="MaxHeaderSize">4096</parameter><parameter name="MaxUriLength">1024</parameter>"#, &backend);

    let big = |n: usize| format!("X-Big: {}\r\n", "a".repeat(n));
    assert_eq!(Raw::open(&s).send(&post("/services/Pass", &big(3500), REQUEST)).status(), 200, "within MaxHeaderSize");
    let answer = Raw::open(&s).send(&post("/services/Pass", &big(5000), REQUEST)).until_closed();
    assert_eq!(status_of(&answer), 431, "{answer}");
    assert!(answer.contains("faultstring") && answer.contains("larger than 4096 bytes"), "a SOAP fault says why: {answer}");

    let target = |n: usize| format!("/services/Pass?q={}", "b".repeat(n));
    assert_eq!(Raw::open(&s).send(&post(&target(900), "", REQUEST)).status(), 200, "within MaxUriLength");
    let answer = Raw::open(&s).send(&post(&target(1100), "", REQUEST)).until_closed();
    assert_eq!(status_of(&answer), 414, "{answer}");

    assert_eq!(backend.requests.load(std::sync::atomic::Ordering::Relaxed), 2, "only the requests within the limits reached the backend");
    assert!(served(&s));
}

#[test]
fn content_length_with_transfer_encoding_is_refused_and_never_forwarded() {
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let (_dir, s) = start("", &backend);
    // A smuggling attempt: which framing wins decides where the second request starts.
    let smuggle = "POST /services/Pass HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /services/Pass HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
    let answer = Raw::open(&s).send(smuggle.as_bytes()).until_closed();
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "one answer, then the connection is closed: {answer}");
    assert_eq!(backend.requests.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert!(served(&s));
}

#[test]
fn a_trickled_request_head_is_cut_at_the_header_read_timeout() {
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let (_dir, s) = start(r#"<parameter name="HeaderReadTimeout">1000</parameter>"#, &backend);
    let started = Instant::now();
    let mut slow = Raw::open(&s);
    slow.0.set_nonblocking(false).unwrap();
    let head = post("/services/Pass", "", REQUEST);
    // One byte every 100 ms: the head would take far longer than a second.
    let mut cut_after = None;
    let mut served_meanwhile = 0;
    for b in head.iter().take(100) {
        if slow.0.write_all(&[*b]).is_err() {
            cut_after = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut probe = [0u8; 64];
        slow.0.set_nonblocking(true).unwrap();
        let read = slow.0.read(&mut probe);
        slow.0.set_nonblocking(false).unwrap();
        match read {
            Ok(_) => {
                cut_after = Some(started.elapsed());
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                cut_after = Some(started.elapsed());
                break;
            }
        }
        // Meanwhile, other clients are served.
        if served_meanwhile == 0 && started.elapsed() > Duration::from_millis(300) {
            assert!(served(&s));
            served_meanwhile += 1;
        }
    }
    let cut_after = cut_after.expect("the server never cut the trickling client off");
    // actix keeps a coarse clock for its timers, so the cut may come a little early.
    assert!(cut_after >= Duration::from_millis(500) && cut_after < Duration::from_secs(4), "cut after {cut_after:?}");
    assert_eq!(served_meanwhile, 1);
    assert_eq!(backend.requests.load(std::sync::atomic::Ordering::Relaxed), 1, "the trickled request never reached the backend");
    assert!(served(&s));
}

#[test]
fn a_stalled_body_gets_408_and_does_not_count_against_the_backend() {
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let (_dir, s) = start(r#"<parameter name="BodyReadTimeout">500</parameter>"#, &backend);
    for path in ["/services/Pass", "/services/Read"] {
        let mut head = post(path, "", REQUEST);
        head.truncate(head.len() - REQUEST.len() / 2);
        let started = Instant::now();
        let answer = Raw::open(&s).send(&head).until_closed();
        let took = started.elapsed();
        assert_eq!(status_of(&answer), 408, "{path}: {answer}");
        assert!(answer.contains("BodyReadTimeout"), "{path}: {answer}");
        assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(5), "{path}: answered after {took:?}");
    }
    // A slow client is not the backend's failure: it was not suspended.
    for _ in 0..3 {
        assert!(served(&s), "the backend is still in rotation");
    }
    assert_eq!(backend.requests.load(std::sync::atomic::Ordering::Relaxed), 3, "no partial request reached the backend as a request");
}

#[test]
fn connections_beyond_max_connections_get_503_and_the_limit_recovers() {
    let backend = Misbehaving::start("b", Behaviour::Ok);
    let (_dir, mut s) = start(r#"<parameter name="MaxConnections">3</parameter>"#, &backend);
    let held: Vec<Raw> = (0..3).map(|_| Raw::open(&s)).collect();
    // Let the server accept them before the next one arrives.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let answer = Raw::open(&s).send(&post("/services/Pass", "", REQUEST)).until_closed();
    assert_eq!(status_of(&answer), 503, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "refused at once");
    assert!(s.wait_for_log("connections open on http"), "the refusal is logged");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert!(served(&s), "served again once connections closed");
    assert_eq!(backend.requests.load(std::sync::atomic::Ordering::Relaxed), 1);
}

/// G6: pipelined requests on one connection are answered one each, in order, and a body
/// that contains the text of another request stays a body (Content-Length decides).
#[test]
fn pipelined_requests_are_answered_in_order_and_bodies_stay_bodies() {
    let b = Misbehaving::start("b", Behaviour::Ok);
    let c = Misbehaving::start("c", Behaviour::Ok);
    let dir = tempfile::tempdir().unwrap();
    let proxy = |name: &str, backend: &Misbehaving| {
        format!(
            r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http"><target><endpoint><address uri="{}"/></endpoint><outSequence><send/></outSequence></target></proxy>"#,
            backend.url()
        )
    };
    write_files(
        dir.path(),
        &[("conf/axis2.xml", axis2("")), ("mediation/proxy-services/ToB.xml", proxy("ToB", &b)), ("mediation/proxy-services/ToC.xml", proxy("ToC", &c))],
    );
    let s = Server::start(dir.path());

    let hidden = post("/services/ToC", "", REQUEST);
    let smuggler = format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:ask xmlns:r="urn:test"><![CDATA[{}]]></r:ask></soapenv:Body></soapenv:Envelope>"#,
        String::from_utf8_lossy(&hidden)
    );
    let mut pipeline = post("/services/ToB", "", &smuggler);
    pipeline.extend(post("/services/ToC", "", REQUEST));
    pipeline.extend(post("/services/ToB", "Connection: close\r\n", REQUEST));
    let answers = Raw::open(&s).send(&pipeline).until_closed();

    let names: Vec<&str> = answers.split("<name>").skip(1).filter_map(|a| a.split("</name>").next()).collect();
    assert_eq!(names, ["b", "c", "b"], "three answers, in the order asked: {answers}");
    assert_eq!(answers.matches("HTTP/1.1 200").count(), 3, "{answers}");
    let count = |m: &Misbehaving| m.requests.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!((count(&b), count(&c)), (2, 1), "the request text inside a body was never sent as a request");
    assert!(served_at(&s, "/services/ToB", "b"));
}
