//! Starting the listeners: one actix-web server, an http and/or an https socket, a pool of
//! worker threads each with its own engine and backend client.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use openssl::ssl::ClientHelloResponse;

use super::{connection, inbound};
use crate::config::axis2::{HttpLimits, Transport};
use crate::config::{Config, ConfigErrors};
use crate::config::live::{Forwarding, Live, ReceiverRules, Snapshot};
use crate::security::client_cert::ClientCertPolicy;
use crate::security::tls::{self, BackendTls, ServerTls};

/// How long a kept-alive client connection may idle between requests.
const KEEP_ALIVE: Duration = Duration::from_secs(60);

/// TLS material opened from the configuration, ready to bind. Building it is the check that
/// every keystore opens, so `mediate check` builds it too.
pub struct Prepared {
    https: Option<ServerTls>,
    pub backend: BackendTls,
    /// Per receiver: HTTP limits, and believing a certificate a load balancer forwards.
    pub receivers: Vec<ReceiverRules>,
}

pub fn prepare(config: &Config) -> Result<Prepared, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut https = None;
    let mut receivers = Vec::new();
    for r in &config.axis2.receivers {
        // One policy per receiver verifies TLS clients and forwarded certificates alike.
        let policy = match r.clients.truststore {
            Some(_) => errors.collect(ClientCertPolicy::from_config(&r.clients)),
            None => None,
        };
        if let Some(p) = &policy {
            p.log_configuration_warnings();
        }
        if let Some(t) = &r.tls {
            https = errors.collect(tls::server_acceptor(t, policy.as_ref()));
        }
        let forwarding = match (&r.forwarded, policy) {
            (Some(f), Some(policy)) => match actix_web::http::header::HeaderName::from_bytes(f.header.as_bytes()) {
                Ok(header) => Some(Forwarding { header, trusted: f.trusted.clone(), policy }),
                Err(_) => {
                    errors.push(f.origin.error(format!("'{}' is not an HTTP header name", f.header)));
                    None
                }
            },
            _ => None,
        };
        receivers.push(ReceiverRules { transport: r.transport, http: r.http.clone(), forwarding });
    }
    let origin = config.axis2.https_sender.as_ref().map(|s| s.origin.clone()).unwrap_or_else(|| crate::config::error::Origin::file(&config.axis2.path));
    let backend = errors.collect(tls::backend_tls(config.axis2.https_sender.as_ref(), &origin));
    match backend {
        Some(backend) if errors.is_empty() => Ok(Prepared { https, backend, receivers }),
        _ => Err(errors),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    #[error("{origin}: cannot listen on {addr} ({transport}): {source}")]
    Bind { origin: String, addr: SocketAddr, transport: &'static str, source: std::io::Error },
}

/// What mediation runs on, from a loaded configuration and its opened stores.
pub fn snapshot(config: &Config, prepared: Prepared) -> Snapshot {
    Snapshot {
        deployment: config.deployment.clone(),
        limits: crate::message::Limits::from_config(&config.axis2.limits),
        backend_tls: prepared.backend,
        receivers: prepared.receivers,
        pool: config.axis2.pool.clone(),
        https: prepared.https.map(ServerTls::into_reloaded),
        generation: 0,
    }
}

pub struct Running {
    pub server: actix_web::dev::Server,
    /// The configuration in force; [`Live::replace`] reloads it.
    pub live: Arc<Live>,
    /// The addresses actually bound (port 0 in the configuration picks a free one).
    pub addrs: Vec<(Transport, SocketAddr)>,
}

pub struct ServeOptions {
    pub workers: usize,
    /// Seconds in-flight requests get to finish after the stop signal.
    pub shutdown_timeout: u64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2), shutdown_timeout: 30 }
    }
}

/// Binds the listeners and starts the workers. The server stops gracefully (no new
/// connections, in-flight requests finish) when `stop` completes.
pub fn start(config: &Config, mut prepared: Prepared, options: &ServeOptions, stop: impl Future<Output = ()> + Send + 'static) -> Result<Running, StartError> {
    // The first context goes to the sockets; the first snapshot has none, so connections
    // stay on it until a reload brings another.
    let first_tls = prepared.https.take();
    let live = Arc::new(Live::new(snapshot(config, prepared)));
    let https_acceptor = first_tls.map(|tls| follow_reloads(tls, &live));
    let for_workers = live.clone();
    let open = Arc::new(connection::OpenConnections::default());
    // actix has one head timeout for all its sockets: the strictest receiver's.
    let head_timeout = config.axis2.receivers.iter().map(|r| r.http.header_read_timeout).min().unwrap_or_else(|| HttpLimits::default().header_read_timeout);
    let mut server = HttpServer::new(move || App::new().app_data(web::Data::new(for_workers.clone())).default_service(web::to(inbound::handle)))
    .workers(options.workers.max(1))
    .on_connect(move |io, ext| connection::on_connect(io, ext, &open))
    .keep_alive(KEEP_ALIVE)
    // Otherwise Nagle's algorithm may hold a response back behind a small unacknowledged
    // write (on a new TLS 1.3 connection: the session tickets) until the client's delayed
    // ACK: about 40 ms on the first request of many connections.
    .tcp_nodelay(true)
    .client_request_timeout(head_timeout)
    .shutdown_timeout(options.shutdown_timeout)
    .shutdown_signal(stop);

    let mut https = https_acceptor;
    let mut addrs = Vec::new();
    for r in &config.axis2.receivers {
        let before = server.addrs().len();
        let bind_error = |source| StartError::Bind { origin: r.origin.to_string(), addr: r.bind, transport: r.transport.name(), source };
        server = match (r.transport, https.take()) {
            (Transport::Https, Some(acceptor)) => server.bind_openssl(r.bind, acceptor).map_err(bind_error)?,
            (Transport::Https, None) => return Err(StartError::Config(r.origin.error("https receiver without TLS settings").into())),
            (Transport::Http, tls) => {
                https = tls;
                server.bind(r.bind).map_err(bind_error)?
            }
        };
        addrs.extend(server.addrs().into_iter().skip(before).map(|a| (r.transport, a)));
    }
    Ok(Running { server: server.run(), live, addrs })
}

/// The listener's first TLS context, made to move each new connection to the context of the
/// latest reload (if any) as soon as its ClientHello arrives: new handshakes use the new
/// keystore, truststore and CRLs while open connections keep theirs.
fn follow_reloads(mut tls: ServerTls, live: &Arc<Live>) -> openssl::ssl::SslAcceptorBuilder {
    let live = live.clone();
    tls.builder.set_client_hello_callback(move |ssl, _alert| {
        if let Some(reloaded) = &live.current().https {
            reloaded.adopt(ssl).inspect_err(|e| log::error!("cannot switch a new TLS connection to the reloaded keystores: {e}"))?;
        }
        Ok(ClientHelloResponse::SUCCESS)
    });
    tls.builder
}
