//! The SimpleStockQuoteService as an actix-web server over HTTP and/or HTTPS
//! (optionally requiring verified client certificates). It doubles as the
//! backend of the benchmarks, so it stays lean: keep-alive, and no logging
//! per request except for accepted orders, as the original sample did.

use std::io;
use std::net::SocketAddr;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

use crate::{lbservice, stockquote};
use crate::tls::{Identity, TlsError};

/// Where the service is mounted.
pub const SERVICE_PATH: &str = "/services/SimpleStockQuoteService";
/// Largest request body accepted; larger ones get 413.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

// Must not exceed 32 bytes (OpenSSL's SSL_MAX_SID_CTX_LENGTH).
const SESSION_ID_CONTEXT: &[u8] = b"mediate-samples/stockquote";

/// An HTTPS listener.
#[derive(Debug, Clone)]
pub struct HttpsOptions {
    pub addr: SocketAddr,
    pub identity: Identity,
    /// When set, clients must present a certificate issued by one of these.
    pub trust: Option<Vec<X509>>,
}

/// What to listen on. Port 0 picks a free port (see [`RunningServer`]).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub http: Option<SocketAddr>,
    pub https: Option<HttpsOptions>,
    /// Worker threads per listener; 0 leaves actix's default (one per core).
    pub workers: usize,
    /// The name LBService1 answers with (`Response from server: <name>`).
    pub name: String,
}

/// A started server. Nothing is served until `server` is awaited (or
/// spawned) on an actix/tokio runtime; stop it through `server.handle()`.
pub struct RunningServer {
    pub server: actix_web::dev::Server,
    /// The addresses actually bound.
    pub http_addr: Option<SocketAddr>,
    pub https_addr: Option<SocketAddr>,
}

/// Mounts the service's routes, for embedding it in another actix app
/// (which should also set a `web::PayloadConfig` limit).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(SERVICE_PATH)
            .route(web::post().to(soap_endpoint))
            .default_service(web::to(not_found)),
    )
    .service(
        web::resource(format!("{SERVICE_PATH}/{{op}}"))
            .route(web::post().to(soap_endpoint))
            .default_service(web::to(not_found)),
    );
}

/// Binds the listeners and builds the server; call it from within an actix
/// `System` (or tokio runtime), then await `server`.
pub fn start(opts: ServerOptions) -> io::Result<RunningServer> {
    if opts.http.is_none() && opts.https.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no listener configured (neither HTTP nor HTTPS)",
        ));
    }
    let name = web::Data::new(ServerName(opts.name.clone()));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(name.clone())
            .configure(configure)
            .route(lbservice::PATH, web::post().to(lb_endpoint))
            .default_service(web::to(not_found))
    })
    // Nagle's algorithm would hold small answers back behind the client's delayed ACK.
    .tcp_nodelay(true)
    .shutdown_timeout(5);
    if opts.workers > 0 {
        server = server.workers(opts.workers);
    }
    if let Some(addr) = opts.http {
        server = server.bind(addr)?;
    }
    if let Some(https) = &opts.https {
        let acceptor = ssl_acceptor(https).map_err(io::Error::other)?;
        server = server.bind_openssl(https.addr, acceptor)?;
    }
    let bound = server.addrs_with_scheme();
    let find = |scheme: &str| {
        bound
            .iter()
            .find(|(_, s)| *s == scheme)
            .map(|(addr, _)| *addr)
    };
    let (http_addr, https_addr) = (find("http"), find("https"));
    Ok(RunningServer {
        server: server.run(),
        http_addr,
        https_addr,
    })
}

/// The TLS settings of an HTTPS listener: Mozilla's intermediate profile,
/// plus mandatory client certificates when a trust list is given.
pub fn ssl_acceptor(https: &HttpsOptions) -> Result<SslAcceptorBuilder, TlsError> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    builder.set_private_key(&https.identity.key)?;
    builder.set_certificate(&https.identity.cert)?;
    for cert in &https.identity.chain {
        builder.add_extra_chain_cert(cert.clone())?;
    }
    builder.check_private_key()?;
    if let Some(trust) = &https.trust {
        let mut store = X509StoreBuilder::new()?;
        for cert in trust {
            store.add_cert(cert.clone())?;
            // Tells clients which issuers we accept, so they pick the right certificate.
            builder.add_client_ca(cert)?;
        }
        builder.set_cert_store(store.build());
        builder.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        // OpenSSL refuses to resume sessions under client auth without one.
        builder.set_session_id_context(SESSION_ID_CONTEXT)?;
    }
    Ok(builder)
}

async fn soap_endpoint(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // `/services/SimpleStockQuoteService/getQuote` names the operation like a SOAPAction.
    let path_action = req.match_info().get("op").map(|op| format!("urn:{op}"));
    let action = header("soapaction").map(str::to_owned).or(path_action);
    let reply = stockquote::handle(header("content-type"), action.as_deref(), &body);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if reply.body.is_empty() {
        response.finish()
    } else {
        response
            .insert_header((CONTENT_TYPE, reply.content_type))
            .body(reply.body)
    }
}

/// This instance's name, for LBService1.
struct ServerName(String);

async fn lb_endpoint(req: HttpRequest, body: web::Bytes, name: web::Data<ServerName>) -> HttpResponse {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let reply = lbservice::handle(&name.0, content_type, &body);
    HttpResponse::Ok().insert_header((CONTENT_TYPE, reply.content_type)).body(reply.body)
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}
