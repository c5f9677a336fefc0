//! The request handler: HTTP request → message context → engine → HTTP response.
//!
//! Nothing here buffers the body. To tell SOAP 1.1 from 1.2 from plain XML, and to refuse
//! DTDs before anything is forwarded, only the bytes up to the root start tag are read;
//! they are put back in front of the stream.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::connection::Connection;
use crate::config::axis2::Transport;
use crate::config::live::{Forwarding, Live};
use crate::security::forwarded;
use crate::security::peer::PeerCertificate;
use crate::endpoint::BackendClient;
use crate::mediation::Engine;
use crate::message::body::{Body, ByteStream};
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
    let mut headers = req.headers().clone();
    let forwarded = match now.forwarding(connection.transport) {
        Some(f) => forwarded_certificate(f, &connection, &mut headers),
        None => Ok(None),
    };
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let stream: ByteStream = Box::pin(payload.into_inner());

    let declared = MessageFormat::from_content_type(content_type.as_deref());
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

/// The certificate a trusted load balancer forwarded, verified; `Ok(None)` when there is
/// none to believe. The header is removed either way, so it never reaches mediation or a
/// backend. From any other peer it is ignored (and logged): a client cannot name itself.
fn forwarded_certificate(f: &Forwarding, connection: &Connection, headers: &mut HeaderMap) -> Result<Option<Rc<PeerCertificate>>, SoapFault> {
    let Some(value) = headers.get(&f.header).cloned() else { return Ok(None) };
    headers.remove(&f.header);
    let peer = connection.peer_addr.map(|a| a.ip());
    if !peer.is_some_and(|ip| f.trusted.iter().any(|c| c.contains(ip))) {
        log::warn!("{} from {} ignored: not a trusted proxy", f.header, peer.map(|p| p.to_string()).unwrap_or_else(|| "an unknown address".into()));
        return Ok(None);
    }
    let refuse = |status, reason: String| {
        log::warn!("{} from {}: {reason}", f.header, peer.map(|p| p.to_string()).unwrap_or_default());
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
            Some(Err(e)) => return Err(SoapFault::client(format!("the request body could not be read: {e}"))),
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
