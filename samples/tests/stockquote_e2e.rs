//! End-to-end checks of the sample server and client over loopback: plain
//! HTTP, HTTPS with mandatory client certificates (a PKI generated per test),
//! the handshake failures a user must be able to tell apart, and the two
//! binaries themselves.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use clap::Parser;
use mediate_samples::client::{self, ClientError, ClientTls};
use mediate_samples::client_cli::{run, ClientArgs, Outcome};
use mediate_samples::server::{self, HttpsOptions, ServerOptions, BODY_LIMIT, SERVICE_PATH};
use mediate_samples::stockquote::{self, Mode, SoapVersion};
use mediate_samples::testpki::{TempDir, TestPki};
use mediate_samples::tls::{self, Identity};

/// A server running on its own actix System in a background thread.
struct TestServer {
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    fn start(opts: ServerOptions) -> TestServer {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let running = server::start(opts)?;
                let _ = tx.send((
                    running.http_addr,
                    running.https_addr,
                    running.server.handle(),
                ));
                running.server.await
            })
        });
        let (http, https, handle) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server did not start");
        TestServer {
            http,
            https,
            handle,
            thread: Some(thread),
        }
    }

    fn http_url(&self) -> String {
        format!("http://{}{SERVICE_PATH}", self.http.unwrap())
    }

    fn https_url(&self) -> String {
        format!("https://{}{SERVICE_PATH}", self.https.unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        if let Some(thread) = self.thread.take() {
            // Never panic here: it would abort a test that is already failing.
            let _ = thread.join();
        }
    }
}

fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn client(url: &str, extra: &[&str]) -> Outcome {
    let mut argv = vec!["stockquote-client", "--url", url, "--timeout", "20"];
    argv.extend_from_slice(extra);
    run(&ClientArgs::try_parse_from(argv).unwrap())
}

fn success(outcome: Outcome, prefix: &str) -> f64 {
    let Outcome::Success(line) = &outcome else {
        panic!("expected success, got {outcome:?}")
    };
    assert!(line.starts_with(prefix), "{line}");
    line[prefix.len()..].parse().unwrap()
}

#[test]
fn http_every_mode_and_version() {
    let srv = TestServer::start(ServerOptions {
        http: Some(loopback()),
        https: None,
        workers: 1, name: "MyServer".into(),
    });
    assert!(srv.https.is_none());
    assert_ne!(srv.http.unwrap().port(), 0);
    let url = srv.http_url();
    for soap in ["11", "12"] {
        let price = success(
            client(&url, &["--soap", soap]),
            "Standard :: Stock price = $",
        );
        assert!((80.0..=200.0).contains(&price));
        success(
            client(
                &url,
                &["--soap", soap, "--mode", "simplequote", "--symbol", "SUN"],
            ),
            "Standard :: Stock price = $",
        );
        success(
            client(&url, &["--soap", soap, "--mode", "fullquote"]),
            "Full :: Average price = $",
        );
        success(
            client(&url, &["--soap", soap, "--mode", "marketactivity"]),
            "Activity :: Average price = $",
        );
        let order = client(
            &url,
            &["--soap", soap, "--mode", "placeorder", "--symbol", "MSFT"],
        );
        let Outcome::Success(line) = &order else {
            panic!("{order:?}")
        };
        assert!(
            line.starts_with("Order placed for ")
                && line.contains(" shares of stock MSFT at a price of $ "),
            "{line}"
        );
        let fault = client(&url, &["--soap", soap, "--symbol", "ERR"]);
        assert_eq!(fault, Outcome::Fault("Invalid stock symbol : ERR".into()));
    }
    // The operation can also be named by the path.
    let op_url = format!("{url}/getQuote");
    success(client(&op_url, &[]), "Standard :: Stock price = $");
}

#[test]
fn http_status_codes_and_routing() {
    let srv = TestServer::start(ServerOptions {
        http: Some(loopback()),
        https: None,
        workers: 1, name: "MyServer".into(),
    });
    let url = srv.http_url();
    let tls = ClientTls::default();
    let t = Duration::from_secs(20);

    let wsdl = client::send(
        &format!("{url}?wsdl"),
        "GET",
        &[],
        &mut std::io::empty(),
        0,
        &tls,
        t,
    )
    .unwrap();
    assert_eq!(wsdl.status, 404);
    let other_url = format!("http://{}/services/Other", srv.http.unwrap());
    let other = client::post(&other_url, &[], b"<x/>", &tls, t).unwrap();
    assert_eq!(other.status, 404);

    let req = stockquote::request_envelope(Mode::Quote, &["IBM"], SoapVersion::Soap12);
    let ok = client::post(&url, &pairs(&req.headers()), &req.body, &tls, t).unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("content-type"),
        Some("application/soap+xml; charset=UTF-8")
    );
    assert!(stockquote::read_last_price(&ok.body).is_ok());

    let soap12 = [("Content-Type", "application/soap+xml")];
    let sender = client::post(&url, &soap12, b"<broken", &tls, t).unwrap();
    assert_eq!(sender.status, 400);
    assert!(stockquote::read_fault_reason(&sender.body)
        .unwrap()
        .contains("malformed XML"));

    let pox = b"<getQuote xmlns=\"http://services.samples\"><request><symbol>IBM</symbol></request></getQuote>";
    let pox = client::post(&url, &[("Content-Type", "application/xml")], pox, &tls, t).unwrap();
    assert_eq!(
        (pox.status, pox.header("content-type")),
        (200, Some("application/xml"))
    );

    let order = stockquote::request_envelope(Mode::PlaceOrder, &["IBM"], SoapVersion::Soap11);
    let accepted = client::post(&url, &pairs(&order.headers()), &order.body, &tls, t).unwrap();
    assert_eq!((accepted.status, accepted.body.len()), (202, 0));
}

#[test]
fn large_bodies_stream_and_oversized_ones_are_refused() {
    let srv = TestServer::start(ServerOptions {
        http: Some(loopback()),
        https: None,
        workers: 1, name: "MyServer".into(),
    });
    let url = srv.http_url();
    let tls = ClientTls::default();
    let t = Duration::from_secs(60);
    let headers = [("Content-Type", "application/xml")];

    // 8 MB of whitespace inside a valid request, streamed from a reader.
    let head: &[u8] = b"<getQuote xmlns=\"http://services.samples\"><request>";
    let tail: &[u8] = b"<symbol>IBM</symbol></request></getQuote>";
    let pad: usize = 8 * 1024 * 1024;
    let mut body = head
        .chain(std::io::repeat(b' ').take(pad as u64))
        .chain(tail);
    let len = (head.len() + pad + tail.len()) as u64;
    let resp = client::send(&url, "POST", &headers, &mut body, len, &tls, t).unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());

    let too_big = (BODY_LIMIT + 1) as u64;
    let mut spaces = std::io::repeat(b' ');
    let resp = client::send(&url, "POST", &headers, &mut spaces, too_big, &tls, t).unwrap();
    assert_eq!(resp.status, 413);

    // A reader that ends early is the caller's mistake, reported as such.
    let started = std::time::Instant::now();
    let mut short: &[u8] = b"short";
    let err = client::send(&url, "POST", &headers, &mut short, 100, &tls, t).unwrap_err();
    assert!(matches!(err, ClientError::InvalidRequest(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for an answer that cannot come"
    );
}

fn mutual_tls_server(pki: &TestPki) -> TestServer {
    TestServer::start(ServerOptions {
        http: Some(loopback()),
        https: Some(HttpsOptions {
            addr: loopback(),
            identity: Identity::from_pkcs12_file(&pki.server_p12, &pki.password).unwrap(),
            trust: Some(tls::load_trust(&pki.ca_pem, None).unwrap()),
        }),
        workers: 1,
        name: "MyServer".into(),
    })
}

#[test]
fn https_with_client_certificates() {
    let dir = TempDir::new("e2e-mtls");
    let pki = TestPki::generate(dir.path()).unwrap();
    let srv = mutual_tls_server(&pki);
    let url = srv.https_url();
    let p = |path: &std::path::Path| path.to_str().unwrap().to_owned();
    let (ks, ca, ts_p12) = (p(&pki.client_p12), p(&pki.ca_pem), p(&pki.truststore_p12));

    // PKCS#12 key store + PEM trust store, then PEM key pair + PKCS#12 trust store.
    success(
        client(
            &url,
            &[
                "--keystore",
                &ks,
                "--password",
                &pki.password,
                "--truststore",
                &ca,
            ],
        ),
        "Standard :: Stock price = $",
    );
    success(
        client(
            &url,
            &[
                "--cert",
                &p(&pki.client_cert_pem),
                "--key",
                &p(&pki.client_key_pem),
                "--truststore",
                &ts_p12,
                "--truststore-password",
                &pki.password,
                "--mode",
                "fullquote",
                "--soap",
                "12",
            ],
        ),
        "Full :: Average price = $",
    );
    // The certificate also names localhost.
    let by_name = format!(
        "https://localhost:{}{SERVICE_PATH}",
        srv.https.unwrap().port()
    );
    success(
        client(
            &by_name,
            &[
                "--keystore",
                &ks,
                "--password",
                &pki.password,
                "--truststore",
                &ca,
            ],
        ),
        "Standard :: Stock price = $",
    );
    // Faults travel over TLS like anything else.
    assert_eq!(
        client(
            &url,
            &[
                "--keystore",
                &ks,
                "--password",
                &pki.password,
                "--truststore",
                &ca,
                "--symbol",
                "ERR"
            ]
        ),
        Outcome::Fault("Invalid stock symbol : ERR".into())
    );
    // Plain HTTP on the same server needs no certificate.
    success(client(&srv.http_url(), &[]), "Standard :: Stock price = $");
}

#[test]
fn https_handshake_failures_are_explained() {
    let dir = TempDir::new("e2e-fail");
    let pki = TestPki::generate(dir.path()).unwrap();
    let srv = mutual_tls_server(&pki);
    let url = srv.https_url();
    let addr = srv.https.unwrap();
    let p = |path: &std::path::Path| path.to_str().unwrap().to_owned();
    let (ks, ca, other_ca) = (p(&pki.client_p12), p(&pki.ca_pem), p(&pki.other_ca_pem));

    let no_cert = client(&url, &["--truststore", &ca]);
    assert_eq!(
        no_cert.line(),
        format!("error: TLS handshake with {addr} failed: the server requires a client certificate (tlsv13 alert certificate required)")
    );
    assert_eq!(no_cert.exit_code(), 2);

    let rogue = client(
        &url,
        &[
            "--keystore",
            &p(&pki.rogue_client_p12),
            "--password",
            &pki.password,
            "--truststore",
            &ca,
        ],
    );
    let line = rogue.line();
    assert!(
        line.starts_with(&format!(
            "error: TLS handshake with {addr} failed: the server does not trust"
        )),
        "{line}"
    );
    assert!(line.contains("unknown ca"), "{line}");

    let wrong_ca = client(
        &url,
        &[
            "--keystore",
            &ks,
            "--password",
            &pki.password,
            "--truststore",
            &other_ca,
        ],
    );
    let line = wrong_ca.line();
    assert!(
        line.starts_with(&format!(
            "error: TLS handshake with {addr} failed: the server certificate is not trusted"
        )),
        "{line}"
    );
    assert!(line.contains("certificate verify failed"), "{line}");

    // TLS spoken to the plain HTTP port.
    let plain = format!("https://{}{SERVICE_PATH}", srv.http.unwrap());
    let line = client(
        &plain,
        &[
            "--keystore",
            &ks,
            "--password",
            &pki.password,
            "--truststore",
            &ca,
        ],
    )
    .line();
    assert!(
        line.contains("failed: the server does not speak TLS on this port"),
        "{line}"
    );

    // The same failures, as typed errors.
    let tls = ClientTls {
        trust: Some(tls::load_trust(&pki.ca_pem, None).unwrap()),
        ..ClientTls::default()
    };
    let err = client::post(&url, &[], b"", &tls, Duration::from_secs(20)).unwrap_err();
    assert!(
        matches!(err, ClientError::TlsHandshake { .. }) && err.is_tls(),
        "{err}"
    );
}

#[test]
fn hostname_verification_can_be_skipped() {
    let dir = TempDir::new("e2e-host");
    let pki = TestPki::generate(dir.path()).unwrap();
    // 127.0.0.2 is loopback too, but the certificate does not name it.
    let srv = TestServer::start(ServerOptions {
        http: None,
        https: Some(HttpsOptions {
            addr: "127.0.0.2:0".parse().unwrap(),
            identity: Identity::from_pkcs12_file(&pki.server_p12, &pki.password).unwrap(),
            trust: Some(tls::load_trust(&pki.ca_pem, None).unwrap()),
        }),
        workers: 1,
        name: "MyServer".into(),
    });
    assert!(srv.http.is_none());
    let url = srv.https_url();
    assert!(url.starts_with("https://127.0.0.2:"), "{url}");
    let ks = pki.client_p12.to_str().unwrap();
    let ca = pki.ca_pem.to_str().unwrap();
    let args = [
        "--keystore",
        ks,
        "--password",
        pki.password.as_str(),
        "--truststore",
        ca,
    ];
    let refused = client(&url, &args);
    let line = refused.line();
    assert!(
        line.contains("the server certificate is not trusted: IP address mismatch"),
        "{line}"
    );
    let mut skip = args.to_vec();
    skip.push("--insecure-skip-hostname");
    success(client(&url, &skip), "Standard :: Stock price = $");
}

#[test]
fn connection_refused_is_one_clear_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = client(&format!("https://127.0.0.1:{port}{SERVICE_PATH}"), &[]);
    assert_eq!(
        out.line(),
        format!("error: cannot connect to 127.0.0.1:{port}: connection refused")
    );
    assert_eq!(out.exit_code(), 2);
}

#[test]
fn the_binaries_talk_to_each_other() {
    let dir = TempDir::new("e2e-bin");
    let pki = TestPki::generate(dir.path()).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_stockquote-server"))
        .args(["--port", "0", "--https-port", "0", "--workers", "1"])
        .arg("--keystore")
        .arg(&pki.server_p12)
        .args(["--password", &pki.password])
        .arg("--truststore")
        .arg(&pki.truststore_p12)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut lines = BufReader::new(stdout).lines();
        let http_line = lines.next().unwrap().unwrap();
        let https_line = lines.next().unwrap().unwrap();
        let prefix = "SimpleStockQuoteService listening on ";
        assert!(
            http_line.starts_with(&format!("{prefix}http://127.0.0.1:"))
                && http_line.ends_with(SERVICE_PATH),
            "{http_line}"
        );
        assert!(
            https_line.starts_with(&format!("{prefix}https://127.0.0.1:")),
            "{https_line}"
        );
        let http_url = &http_line[prefix.len()..];
        let https_url = &https_line[prefix.len()..];

        let run_client = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_stockquote-client"))
                .args(args)
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (code, out, _) = run_client(&["--url", http_url, "--mode", "marketactivity"]);
        assert_eq!(code, Some(0));
        assert!(
            out.starts_with("Activity :: Average price = $") && out.lines().count() == 1,
            "{out}"
        );
        let (code, out, _) = run_client(&["--url", http_url, "--symbol", "ERR"]);
        assert_eq!(
            (code, out.trim()),
            (Some(1), "Fault: Invalid stock symbol : ERR")
        );
        let ks = pki.client_p12.to_str().unwrap();
        let ca = pki.ca_pem.to_str().unwrap();
        let (code, out, _) = run_client(&[
            "--url",
            https_url,
            "--keystore",
            ks,
            "--password",
            &pki.password,
            "--truststore",
            ca,
            "--mode",
            "placeorder",
        ]);
        assert_eq!(code, Some(0));
        assert!(out.starts_with("Order placed for "), "{out}");
        let (code, out, err) = run_client(&["--url", https_url, "--truststore", ca]);
        assert_eq!(code, Some(2));
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("the server requires a client certificate"),
            "{err}"
        );
    }));
    server.kill().unwrap();
    server.wait().unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
