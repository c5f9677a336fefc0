//! The worker's HTTP client for backend calls: pooled keep-alive connections over plain
//! TCP or TLS.
//!
//! TLS contexts are built once at start-up ([`crate::security::tls::BackendTls`]) and
//! shared; each worker thread gets its own client and pool, as actix's clients are
//! single-threaded. With `DefaultAndLocalhost` a second client (and pool) serves localhost
//! backends without the name check.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::http::Uri;

use crate::security::tls::BackendTls;

/// Connections per worker and backend host.
const POOL_LIMIT: usize = 512;
/// How long an idle pooled connection is kept.
const IDLE_KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Connect and TLS handshake timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct BackendClient {
    default: awc::Client,
    localhost: Option<awc::Client>,
}

thread_local! {
    static WORKER_CLIENT: RefCell<Option<Rc<BackendClient>>> = const { RefCell::new(None) };
}

impl BackendClient {
    fn new(tls: &BackendTls) -> Self {
        BackendClient { default: client(tls.connector.clone()), localhost: tls.localhost.clone().map(client) }
    }

    /// This worker thread's client, created on first use.
    pub fn for_this_worker(tls: &BackendTls) -> Rc<BackendClient> {
        WORKER_CLIENT.with(|c| c.borrow_mut().get_or_insert_with(|| Rc::new(BackendClient::new(tls))).clone())
    }

    /// The client to use for `uri`.
    pub fn for_uri(&self, uri: &Uri) -> &awc::Client {
        match (&self.localhost, uri.host()) {
            (Some(local), Some(host)) if is_localhost(host) => local,
            _ => &self.default,
        }
    }
}

fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

fn client(tls: openssl::ssl::SslConnector) -> awc::Client {
    let connector = awc::Connector::new()
        .openssl(tls)
        .limit(POOL_LIMIT)
        .conn_keep_alive(IDLE_KEEP_ALIVE)
        .timeout(CONNECT_TIMEOUT)
        .handshake_timeout(CONNECT_TIMEOUT);
    // No `max_http_version`: awc implements it by replacing the TLS connector with a default
    // one (system CAs, no client certificate). Ours offers no ALPN, so backends speak HTTP/1.1.
    awc::Client::builder()
        .connector(connector)
        .no_default_headers()
        .disable_redirects()
        .disable_timeout()
        .finish()
}
