//! A backend for tests, on a loopback port: echoes requests, counts big bodies, answers
//! slowly. It runs its own actix system on a thread and stops when dropped.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt;

pub struct Backend {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Answers with the request body and content type; every request header comes back as
/// `x-seen-<name>`, so tests can see exactly what the proxy forwarded.
async fn echo(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    if let Some(ct) = req.headers().get(CONTENT_TYPE) {
        resp.insert_header((CONTENT_TYPE, ct.clone()));
    }
    for (name, value) in req.headers() {
        if let Ok(n) = HeaderName::from_bytes(format!("x-seen-{}", name.as_str()).as_bytes()) {
            resp.append_header((n, value.clone()));
        }
    }
    resp.append_header(("x-seen-method", HeaderValue::from_str(req.method().as_str()).unwrap()));
    resp.append_header(("x-seen-path", HeaderValue::from_str(&req.uri().to_string()).unwrap()));
    resp.body(body)
}

/// Reads the body as a stream and answers with its length.
async fn count(mut payload: web::Payload) -> HttpResponse {
    let mut n: u64 = 0;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(c) => n += c.len() as u64,
            Err(e) => return HttpResponse::BadRequest().body(format!("read error: {e}")),
        }
    }
    HttpResponse::Ok().content_type("text/plain").body(format!("count={n}"))
}

async fn slow() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_secs(5)).await;
    HttpResponse::Ok().body("late")
}

pub fn start() -> Backend {
    run_in_thread(|| {
        let server = HttpServer::new(|| {
            App::new()
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/echo", web::to(echo))
                .route("/count", web::to(count))
                .route("/slow", web::to(slow))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        (server.run(), addr)
    })
}

/// The sample stock-quote service over HTTPS, requiring client certificates from `trust`.
pub fn start_stockquote_https(identity: &mediate::security::pki::Issued, trust: Vec<openssl::x509::X509>) -> Backend {
    let identity = mediate_samples::tls::Identity { key: identity.key.clone(), cert: identity.cert.clone(), chain: vec![] };
    run_in_thread(move || {
        let https = mediate_samples::server::HttpsOptions { addr: "127.0.0.1:0".parse().unwrap(), identity, trust: Some(trust) };
        let running = mediate_samples::server::start(mediate_samples::server::ServerOptions { http: None, https: Some(https), workers: 1, name: "MyServer".into() }).unwrap();
        (running.server, running.https_addr.unwrap())
    })
}

/// The sample stock-quote service over plain HTTP.
pub fn start_stockquote_http() -> Backend {
    start_sample_server("MyServer")
}

/// The sample services (stock quotes, LBService1 answering with `name`) over plain HTTP.
pub fn start_sample_server(name: &str) -> Backend {
    let name = name.to_string();
    run_in_thread(move || {
        let opts = mediate_samples::server::ServerOptions { http: Some("127.0.0.1:0".parse().unwrap()), https: None, workers: 1, name };
        let running = mediate_samples::server::start(opts).unwrap();
        (running.server, running.http_addr.unwrap())
    })
}

/// Runs a server made by `make` on its own actix system and thread.
fn run_in_thread(make: impl FnOnce() -> (actix_web::dev::Server, SocketAddr) + Send + 'static) -> Backend {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let (server, addr) = make();
            tx.send((addr, server.handle())).unwrap();
            let _ = server.await;
        })
    });
    let (addr, handle) = rx.recv().unwrap();
    Backend { addr, handle, thread: Some(thread) }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let h = self.handle.clone();
        // stop() returns a future; run it on a tiny runtime of our own
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(h.stop(false))).join();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // actix's workers drop their open connections a moment after the server itself
        // has stopped; a stopped server has none, so wait for that (bounded).
        for _ in 0..400 {
            if established_on(self.addr.port()) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Established TCP connections whose local end is loopback `port`, from /proc/net/tcp.
fn established_on(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    // Columns: sl, local_address, rem_address, st (01 = ESTABLISHED), …
    table.lines().skip(1).filter(|l| {
        let mut cols = l.split_whitespace().skip(1);
        cols.next() == Some(local.as_str()) && cols.nth(1) == Some("01")
    }).count()
}
