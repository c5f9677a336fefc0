//! The request handler: HTTP request → message context → engine → HTTP response.
//!
//! Nothing here buffers the body. To tell SOAP 1.1 from 1.2 from plain XML, and to refuse
//! DTDs before anything is forwarded, only the bytes up to the root start tag are read;
//! they are put back in front of the stream.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::connection::Connection;
use crate::config::axis2::{HttpLimits, Transport};
use crate::config::live::{Forwarding, Live};
use crate::security::forwarded;
use crate::security::peer::PeerCertificate;
use crate::endpoint::BackendClient;
use crate::mediation::Engine;
use crate::message::body::{self, Body, ByteStream};
use crate::message::format::{self, FormatError, MessageFormat, Prolog, PROLOG_LIMIT};
use crate::message::headers;
use crate::message::{FaultCode, MessageContext, Reply, SoapFault};

/// The one handler behind every path.
pub async fn handle(req: HttpRequest, payload: web::Payload, live: web::Data<Arc<Live>>) -> HttpResponse {
    // This request runs on the configuration in force now, to its end.
    let now = live.current();
    let client = BackendClient::for_this_worker(&now.backend_tls, &now.pool, now.generation);
    let engine = Engine::new(now.deployment.clone(), now.limits.clone(), client);
    let connection = req.conn_data::<Rc<Connection>>().cloned().unwrap_or_else(|| {
        let t = if req.app_config().secure() { Transport::Https } else { Transport::Http };
        Rc::new(Connection::unknown(t))
    });
    let receiver = now.receiver(connection.transport);
    let default_limits = HttpLimits::default();
    let limits = receiver.map(|r| &r.http).unwrap_or(&default_limits);
    let mut headers = req.headers().clone();
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let declared = MessageFormat::from_content_type(content_type.as_deref());
    if let Some(refusal) = over_limits(&req, &connection, limits) {
        let mut response = respond(refusal.into_reply(declared));
        // The body, if any, is not read: the connection cannot carry another request.
        response.head_mut().set_connection_type(ConnectionType::Close);
        return response;
    }
    let forwarded = match receiver.and_then(|r| r.forwarding.as_ref()) {
        Some(f) => forwarded_certificate(f, &connection, &mut headers),
        None => Ok(None),
    };
    let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let stream = body::with_idle_timeout(Box::pin(payload.into_inner()), limits.body_read_timeout);

    let (format, body) = if format::is_xml(content_type.as_deref()) {
        match sniff(content_type.as_deref(), stream, length).await {
            Ok(x) => x,
            Err(fault) => return respond(fault.into_reply(declared)),
        }
    } else {
        (declared, Body::stream(stream, length))
    };

    let soap_action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_string())
        .or_else(|| content_type.as_deref().and_then(format::action_parameter).map(str::to_string))
        .filter(|a| !a.is_empty());
    let to = Some(request_url(&req, connection.transport));
    let client_certificate = match forwarded {
        Ok(Some(cert)) => Some(cert),
        Ok(None) => connection.peer_certificate.clone(),
        Err(fault) => return respond(fault.into_reply(format)),
    };
    let mut ctx = MessageContext::request(connection, req.method().clone(), req.uri().clone(), headers, format, soap_action, to, body);
    ctx.client_certificate = client_certificate;
    respond(engine.mediate(ctx).await)
}

/// The fault for a request this receiver will not take at all: on a connection beyond
/// `MaxConnections` (503), with a request target or header block over its limit (414, 431).
fn over_limits(req: &HttpRequest, connection: &Connection, limits: &HttpLimits) -> Option<SoapFault> {
    if connection.open_at_accept > limits.max_connections {
        log::warn!("{} connections open on {}: refusing a request from {}", connection.open_at_accept, connection.transport.name(), peer_for_log(connection));
        return Some(SoapFault::server(format!("the server is at its limit of {} connections; try again later", limits.max_connections)).with_status(StatusCode::SERVICE_UNAVAILABLE));
    }
    let target = req.uri().path_and_query().map(|p| p.as_str().len()).unwrap_or(0);
    if target > limits.max_uri_length {
        return Some(SoapFault::client(format!("the request target is longer than {} bytes", limits.max_uri_length)).with_status(StatusCode::URI_TOO_LONG));
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    if header_bytes > limits.max_header_size {
        return Some(SoapFault::client(format!("the request headers are larger than {} bytes", limits.max_header_size)).with_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }
    None
}

fn peer_for_log(connection: &Connection) -> String {
    connection.peer_addr.map(|p| p.ip().to_string()).unwrap_or_else(|| "an unknown address".into())
}

/// The certificate a trusted load balancer forwarded, verified; `Ok(None)` when there is
/// none to believe. The header is removed either way, so it never reaches mediation or a
/// backend. From any other peer it is ignored (and logged): a client cannot name itself.
fn forwarded_certificate(f: &Forwarding, connection: &Connection, headers: &mut HeaderMap) -> Result<Option<Rc<PeerCertificate>>, SoapFault> {
    let Some(value) = headers.get(&f.header).cloned() else { return Ok(None) };
    headers.remove(&f.header);
    let peer = connection.peer_addr.map(|a| a.ip());
    if !peer.is_some_and(|ip| f.trusted.iter().any(|c| c.contains(ip))) {
        log::warn!("{} from {} ignored: not a trusted proxy", f.header, peer_for_log(connection));
        return Ok(None);
    }
    let refuse = |status, reason: String| {
        log::warn!("{} from {}: {reason}", f.header, peer_for_log(connection));
        SoapFault::client(reason).with_status(status)
    };
    let certs = forwarded::decode(value.as_bytes()).map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?;
    let (leaf, intermediates) = certs.split_first().ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "the certificate header is empty".into()))?;
    match f.policy.verify(leaf, intermediates) {
        Ok(chain) => Ok(Some(Rc::new(PeerCertificate::new(leaf.clone(), chain)))),
        Err(e) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            format!("the forwarded client certificate is not valid: {e} ({})", crate::security::client_cert::certificate_for_log(leaf)),
        )),
    }
}

/// The URL the client addressed, the message's `To` until WS-Addressing says otherwise.
fn request_url(req: &HttpRequest, transport: Transport) -> String {
    let host = req.headers().get(actix_web::http::header::HOST).and_then(|h| h.to_str().ok());
    let host = host.map(str::to_string).unwrap_or_else(|| req.app_config().local_addr().to_string());
    format!("{}://{host}{}", transport.name(), req.uri())
}

/// Reads just enough of the body to see its root element and decide its format.
async fn sniff(content_type: Option<&str>, mut stream: ByteStream, length: Option<u64>) -> Result<(MessageFormat, Body), SoapFault> {
    let mut seen = BytesMut::new();
    loop {
        match format::read_prolog(&seen) {
            Prolog::Root { local_name, namespace } => {
                let f = format::decide(content_type, &local_name, namespace.as_deref()).map_err(format_fault)?;
                return Ok((f, Body::unread(stream, seen.freeze(), length)));
            }
            Prolog::Doctype => return Err(format_fault(FormatError::Doctype)),
            Prolog::Malformed(m) => return Err(format_fault(FormatError::Malformed(m))),
            Prolog::Incomplete if seen.len() > PROLOG_LIMIT => {
                return Err(SoapFault::client(format!("no root element within the first {PROLOG_LIMIT} bytes")));
            }
            Prolog::Incomplete => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => seen.extend_from_slice(&chunk),
            Some(Err(e)) => {
                let fault = SoapFault::client(format!("the request body could not be read: {e}"));
                return Err(if body::is_timeout(&e) { fault.with_status(StatusCode::REQUEST_TIMEOUT) } else { fault });
            }
            None if seen.iter().all(u8::is_ascii_whitespace) => {
                // An empty body: nothing to inspect, let mediation decide.
                return Ok((MessageFormat::from_content_type(content_type), Body::Bytes(Bytes::new())));
            }
            None => return Err(SoapFault::client("the request body ends before its root element")),
        }
    }
}

fn format_fault(e: FormatError) -> SoapFault {
    match e {
        FormatError::VersionMismatch(m) => SoapFault::new(FaultCode::VersionMismatch, m),
        FormatError::Doctype => SoapFault::client("DTD is not allowed in a SOAP message"),
        FormatError::Malformed(m) => SoapFault::client(format!("malformed XML: {m}")),
    }
}

/// Writes a reply, streaming its body when it is a stream.
fn respond(reply: Reply) -> HttpResponse {
    let Reply { status, headers, body } = reply;
    let mut response = match body.for_wire() {
        Body::Empty => HttpResponse::new(status),
        Body::Bytes(b) => HttpResponse::with_body(status, b).map_into_boxed_body(),
        Body::Stream { stream, length: Some(n) } => HttpResponse::with_body(status, SizedStream::new(n, stream)).map_into_boxed_body(),
        Body::Stream { stream, length: None } => HttpResponse::build(status).streaming(stream),
        Body::Xml(_) => HttpResponse::new(status),
    };
    let out: &mut HeaderMap = response.headers_mut();
    for (name, value) in headers {
        out.append(name, value);
    }
    headers::strip_hop_by_hop(out);
    response
}
