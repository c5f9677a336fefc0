//! The worker's HTTP client for backend calls: pooled keep-alive connections over plain
//! TCP or TLS.
//!
//! TLS contexts are built once at start-up ([`crate::security::tls::BackendTls`]) and
//! shared; each worker thread gets its own client and pool, as actix's clients are
//! single-threaded. With `DefaultAndLocalhost` a second client (and pool) serves localhost
//! backends without the name check.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::http::Uri;

use crate::config::axis2::SenderPool;
use crate::security::tls::{BackendTls, Connectors};

/// Clients for one set of TLS stores (see [`Connectors`]).
struct Clients {
    default: awc::Client,
    localhost: Option<awc::Client>,
}

impl Clients {
    fn new(c: &Connectors, pool: &SenderPool) -> Self {
        Clients { default: client(c.connector.clone(), pool), localhost: c.localhost.clone().map(|l| client(l, pool)) }
    }

    fn pick(&self, host: &str) -> &awc::Client {
        match &self.localhost {
            Some(local) if is_localhost(host) => local,
            _ => &self.default,
        }
    }
}

pub struct BackendClient {
    default: Clients,
    /// `customSSLProfiles`: the `host:port`s each serves.
    profiles: Vec<(Vec<(String, u16)>, Clients)>,
}

thread_local! {
    /// This worker's client, with the configuration generation it was built for.
    static WORKER_CLIENT: RefCell<Option<(u64, Rc<BackendClient>)>> = const { RefCell::new(None) };
}

impl BackendClient {
    fn new(tls: &BackendTls, pool: &SenderPool) -> Self {
        BackendClient {
            default: Clients::new(&tls.default, pool),
            profiles: tls.profiles.iter().map(|(servers, c)| (servers.clone(), Clients::new(c, pool))).collect(),
        }
    }

    /// This worker thread's client for configuration `generation`, created on first use
    /// (and again after a reload; the old pool closes as its last requests finish).
    pub fn for_this_worker(tls: &BackendTls, pool: &SenderPool, generation: u64) -> Rc<BackendClient> {
        WORKER_CLIENT.with(|c| {
            let mut slot = c.borrow_mut();
            match &*slot {
                Some((g, client)) if *g == generation => client.clone(),
                _ => {
                    let client = Rc::new(BackendClient::new(tls, pool));
                    *slot = Some((generation, client.clone()));
                    client
                }
            }
        })
    }

    /// The client to use for `uri`: its profile's, else the sender's.
    pub fn for_uri(&self, uri: &Uri) -> &awc::Client {
        let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        let clients = self
            .profiles
            .iter()
            .find(|(servers, _)| servers.iter().any(|(h, p)| *p == port && h.eq_ignore_ascii_case(host)))
            .map(|(_, c)| c)
            .unwrap_or(&self.default);
        clients.pick(host)
    }
}

fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn client(tls: openssl::ssl::SslConnector, pool: &SenderPool) -> awc::Client {
    let connector = awc::Connector::new()
        .openssl(tls)
        .limit(pool.max_per_host)
        .conn_keep_alive(pool.idle_timeout)
        .timeout(pool.connect_timeout)
        .handshake_timeout(pool.connect_timeout);
    // No `max_http_version`: awc implements it by replacing the TLS connector with a default
    // one (system CAs, no client certificate). Ours offers no ALPN, so backends speak HTTP/1.1.
    awc::Client::builder()
        .connector(connector)
        .no_default_headers()
        .disable_redirects()
        .disable_timeout()
        .finish()
}
