//! One HTTP call to a backend, and the message formats an `<address>` can ask for.
//!
//! Every leaf endpoint ends in [`deliver`]: request headers copied minus hop-by-hop ones,
//! the body streamed with its length when known, the response head returned with its
//! body still streaming. [`Format`] converts between SOAP 1.1, SOAP 1.2 and plain XML
//! (`format="soap11|soap12|pox|get"`), and [`add_addressing`] writes WS-Addressing headers
//! (`<enableAddressing/>`).

use std::time::Duration;

use actix_web::http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::{Method, Uri};
use actix_web::HttpMessage;
use actix_web::error::PayloadError;
use awc::error::{ConnectError, SendRequestError};

use super::{BackendClient, BackendResponse, EndpointError};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::body::Body;
use crate::message::headers;
use crate::message::{controls, Limits, MessageContext, MessageFormat, Scope};
use crate::xml::{soap, Document};

/// `format="…"` of an address endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Soap11,
    Soap12,
    Pox,
    /// An HTTP GET without a body.
    Get,
}

impl Format {
    pub fn parse(el: &Element) -> Result<Option<Format>, ConfigError> {
        Ok(match el.attr("format") {
            None => None,
            Some("soap11") => Some(Format::Soap11),
            Some("soap12") => Some(Format::Soap12),
            Some("pox") => Some(Format::Pox),
            Some("get") => Some(Format::Get),
            Some(other) => return Err(el.error(format!("format '{other}' is not one of soap11, soap12, pox, get"))),
        })
    }
}

/// Rewrites the message into `format` before it is sent.
pub async fn convert(ctx: &mut MessageContext, format: Format, limits: &Limits, uri: &Uri) -> Result<(), EndpointError> {
    let unsendable = |reason: String| EndpointError::Unsendable { uri: uri.to_string(), reason };
    let target = match format {
        Format::Get => {
            ctx.method = Method::GET;
            ctx.body = Body::Empty;
            ctx.headers.remove(CONTENT_TYPE);
            return Ok(());
        }
        Format::Soap11 => MessageFormat::Soap11,
        Format::Soap12 => MessageFormat::Soap12,
        Format::Pox => MessageFormat::Pox,
    };
    if ctx.format != target {
        ctx.ensure_document(limits).await.map_err(|e| unsendable(e.message))?;
        let doc = ctx.document().ok_or_else(|| unsendable("the message has no XML body".into()))?;
        let converted = reshape(doc, target).map_err(unsendable)?;
        ctx.set_document(converted);
        ctx.format = target;
    }
    let action = ctx.addressing.action.clone().or_else(|| ctx.soap_action.clone()).unwrap_or_default();
    let content_type = match target {
        MessageFormat::Soap12 if !action.is_empty() => format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
        other => other.content_type().to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        ctx.headers.insert(CONTENT_TYPE, v);
    }
    match target {
        MessageFormat::Soap11 => {
            if let Ok(v) = HeaderValue::from_str(&format!("\"{action}\"")) {
                ctx.headers.insert(actix_web::http::header::HeaderName::from_static("soapaction"), v);
            }
        }
        _ => {
            ctx.headers.remove("soapaction");
        }
    }
    Ok(())
}

/// A copy of `doc` in `target`'s shape: the payload (and SOAP headers) moved into a new
/// envelope, or the payload alone for plain XML.
fn reshape(doc: &Document, target: MessageFormat) -> Result<Document, String> {
    let (headers, payload): (Vec<_>, Vec<_>) = match soap::envelope(doc) {
        Some(env) => (
            env.header.map(|h| doc.child_elements(h).collect()).unwrap_or_default(),
            env.body.map(|b| doc.children(b).collect()).unwrap_or_default(),
        ),
        None => (Vec::new(), doc.document_element().into_iter().collect()),
    };
    let mut out = Document::new();
    let root = out.root();
    let err = |e: crate::xml::TreeError| e.to_string();
    match target {
        MessageFormat::Pox => {
            let first = payload.iter().copied().find(|&n| doc.is_element(n)).ok_or("the message has no payload element")?;
            let copy = out.import(doc, first).map_err(err)?;
            out.append_child(root, copy).map_err(err)?;
        }
        soap_format => {
            let version = if soap_format == MessageFormat::Soap12 { soap::SoapVersion::Soap12 } else { soap::SoapVersion::Soap11 };
            let ns = Some(version.namespace());
            let env = out.create_element(ns, Some("soapenv"), "Envelope").map_err(err)?;
            out.append_child(root, env).map_err(err)?;
            if !headers.is_empty() {
                let h = out.create_element(ns, Some("soapenv"), "Header").map_err(err)?;
                out.append_child(env, h).map_err(err)?;
                for n in headers {
                    let copy = out.import(doc, n).map_err(err)?;
                    out.append_child(h, copy).map_err(err)?;
                }
            }
            let body = out.create_element(ns, Some("soapenv"), "Body").map_err(err)?;
            out.append_child(env, body).map_err(err)?;
            for n in payload {
                let copy = out.import(doc, n).map_err(err)?;
                out.append_child(body, copy).map_err(err)?;
            }
        }
    }
    Ok(out)
}

const WSA: &str = "http://www.w3.org/2005/08/addressing";

/// Writes `wsa:To`, `wsa:Action` and `wsa:MessageID` into the SOAP header, replacing any
/// there (`<enableAddressing/>`). Plain-XML messages have no header and are left alone.
pub async fn add_addressing(ctx: &mut MessageContext, to: &Uri, limits: &Limits) -> Result<(), EndpointError> {
    if ctx.format == MessageFormat::Pox {
        return Ok(());
    }
    let unsendable = |reason: String| EndpointError::Unsendable { uri: to.to_string(), reason };
    ctx.ensure_document(limits).await.map_err(|e| unsendable(e.message))?;
    let action = ctx.addressing.action.clone().or_else(|| ctx.soap_action.clone());
    let message_id = ctx.addressing.message_id.clone().unwrap_or_else(|| format!("urn:uuid:{:032x}", fastrand::u128(..)));
    let doc = ctx.document_mut().ok_or_else(|| unsendable("the message has no XML body".into()))?;
    let values = [("To", Some(to.to_string())), ("Action", action), ("MessageID", Some(message_id))];
    write_headers(doc, &values).map_err(unsendable)
}

fn write_headers(doc: &mut Document, values: &[(&str, Option<String>)]) -> Result<(), String> {
    let err = |e: crate::xml::TreeError| e.to_string();
    let env = soap::envelope(doc).ok_or("the message is not a SOAP envelope")?;
    let header = match env.header {
        Some(h) => h,
        None => {
            let prefix = doc.name(env.envelope).and_then(|n| n.prefix.map(str::to_string));
            let h = doc.create_element(Some(env.version.namespace()), prefix.as_deref(), "Header").map_err(err)?;
            doc.prepend_child(env.envelope, h).map_err(err)?;
            h
        }
    };
    doc.declare_namespace(header, Some("wsa"), WSA).map_err(err)?;
    for (local, value) in values {
        let old: Vec<_> = doc.child_elements(header).filter(|&c| crate::message::WSA_NAMESPACES.iter().any(|ns| doc.has_name(c, Some(ns), local))).collect();
        for o in old {
            doc.remove(o).map_err(err)?;
        }
        if let Some(v) = value {
            let el = doc.create_element(Some(WSA), Some("wsa"), local).map_err(err)?;
            let text = doc.create_text(v);
            doc.append_child(el, text).map_err(err)?;
            doc.append_child(header, el).map_err(err)?;
        }
    }
    Ok(())
}

/// Sends the current message to `uri` (with `method` instead of the request's, if given)
/// and returns the response head with its body still streaming. `discard` marks a timeout
/// as answered without the fault sequence.
///
/// The axis2-scope controls apply: `REST_URL_POSTFIX` is appended to the URL,
/// `messageType` sets the content type, `NO_ENTITY_BODY` sends no body.
pub(crate) async fn deliver(
    client: &BackendClient,
    uri: &Uri,
    method: Option<&Method>,
    timeout: Duration,
    discard: bool,
    ctx: &mut MessageContext,
) -> Result<BackendResponse, EndpointError> {
    let postfixed;
    let uri = match ctx.properties.get(Scope::Axis2, controls::REST_URL_POSTFIX).map(|v| v.to_string()).filter(|p| !p.is_empty()) {
        Some(postfix) => {
            let joined = format!("{}{}{postfix}", uri.to_string().trim_end_matches('/'), if postfix.starts_with(['/', '?']) { "" } else { "/" });
            postfixed = joined.parse::<Uri>().map_err(|_| EndpointError::SendFailed { uri: joined.clone(), reason: "REST_URL_POSTFIX makes an invalid URL".into() })?;
            &postfixed
        }
        None => uri,
    };
    ctx.apply_content_type();
    let method = method.unwrap_or(&ctx.method).clone();
    let mut request = client.for_uri(uri).request(method, uri).no_decompress().timeout(timeout);
    *request.headers_mut() = headers::for_backend_request(&ctx.headers);
    let body = ctx.take_body_for_sending();
    let body = if ctx.properties.flag(Scope::Axis2, controls::NO_ENTITY_BODY) { Body::Empty } else { body };
    let sent = match body {
        Body::Empty => request.send().await,
        Body::Bytes(b) => request.send_body(b).await,
        Body::Stream { stream, length: Some(n) } => request.send_body(actix_web::body::SizedStream::new(n, stream)).await,
        Body::Stream { stream, length: None } => request.send_stream(stream).await,
        Body::Xml(x) => request.send_body(x.into_bytes()).await,
    };
    let mut response = sent.map_err(|e| send_error(e, uri, timeout, discard))?;
    let mut headers = response.headers().clone();
    let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    headers::strip_hop_by_hop(&mut headers);
    Ok(BackendResponse { status: response.status(), headers, body: Body::stream(Box::pin(response.take_payload()), length) })
}

fn send_error(e: SendRequestError, uri: &Uri, timeout: Duration, discard: bool) -> EndpointError {
    let uri = uri.to_string();
    match e {
        SendRequestError::Timeout => EndpointError::Timeout { uri, after: timeout, discard },
        SendRequestError::Connect(ConnectError::Timeout) => EndpointError::ConnectTimeout { uri },
        SendRequestError::Connect(ConnectError::Io(io)) => EndpointError::ConnectionFailed { uri, reason: short_reason(&io.to_string()) },
        SendRequestError::Connect(other) => EndpointError::ConnectionFailed { uri, reason: other.to_string() },
        SendRequestError::Send(io) => EndpointError::ConnectionClosed { uri, reason: io.to_string() },
        SendRequestError::Response(p) => EndpointError::ConnectionClosed { uri, reason: p.to_string() },
        SendRequestError::Body(e) => {
            let timed_out = e.downcast_ref::<PayloadError>().is_some_and(crate::message::body::is_timeout);
            EndpointError::ClientBody { reason: e.to_string(), timed_out }
        }
        other => EndpointError::SendFailed { uri, reason: other.to_string() },
    }
}

/// OpenSSL's errors read `error:0A000086:SSL routines:function:reason:file:line:`; the
/// reason is what a person needs.
fn short_reason(message: &str) -> String {
    match message.strip_prefix("error:").and_then(|rest| rest.split(':').nth(3)) {
        Some(reason) => format!("TLS handshake failed: {reason}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn openssl_messages_are_shortened() {
        let m = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:";
        assert_eq!(super::short_reason(m), "TLS handshake failed: certificate verify failed");
        assert_eq!(super::short_reason("Connection refused (os error 111)"), "Connection refused (os error 111)");
    }
}
