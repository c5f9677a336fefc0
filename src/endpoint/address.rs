//! `<address uri="…"/>`: a single backend at a fixed URL.

use std::time::Duration;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::Uri;
use actix_web::HttpMessage;
use async_trait::async_trait;
use awc::error::{ConnectError, SendRequestError};

use super::{BackendClient, BackendResponse, Endpoint, EndpointError, DEFAULT_TIMEOUT};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::body::Body;
use crate::message::headers;
use crate::message::{controls, MessageContext, Scope};

#[derive(Debug)]
pub struct AddressEndpoint {
    name: Option<String>,
    uri: Uri,
    /// How long to wait for the response head.
    timeout: Duration,
}

pub fn build(el: &Element, name: Option<String>) -> Result<AddressEndpoint, ConfigError> {
    let raw = el.required_attr("uri")?;
    let uri: Uri = raw.parse().map_err(|e| el.error(format!("uri '{raw}' is not a valid URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") if uri.host().is_some() => {}
        _ => return Err(el.error(format!("uri '{raw}' must be an absolute http:// or https:// URL"))),
    }
    if let Some(f) = el.attr("format") {
        return Err(el.error(format!("format=\"{f}\" (message format conversion) is not supported yet")));
    }
    let timeout = timeout_of(el)?;
    Ok(AddressEndpoint { name, uri, timeout })
}

/// The `<timeout><duration>` of an endpoint definition (Synapse's default when absent).
/// Other QoS children are reported as not supported yet.
pub(crate) fn timeout_of(el: &Element) -> Result<Duration, ConfigError> {
    let mut timeout = DEFAULT_TIMEOUT;
    for c in el.elements() {
        match c.name.as_str() {
            "timeout" => {
                if let Some(d) = c.child("duration") {
                    let ms: u64 = d.text().parse().map_err(|_| d.error(format!("duration must be milliseconds, not '{}'", d.text())))?;
                    if ms == 0 {
                        return Err(d.error("duration must be more than 0 ms"));
                    }
                    timeout = Duration::from_millis(ms);
                }
                for other in c.elements().filter(|x| x.name != "duration") {
                    log::warn!("{}: <{}> in <timeout> is not supported yet; ignored", other.origin, other.name);
                }
            }
            other => log::warn!("{}: <{other}> in <{}> is not supported yet; ignored", c.origin, el.name),
        }
    }
    Ok(timeout)
}

#[async_trait(?Send)]
impl Endpoint for AddressEndpoint {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    async fn send(&self, ctx: &mut MessageContext, client: &BackendClient) -> Result<BackendResponse, EndpointError> {
        deliver(client, &self.uri, self.timeout, ctx).await
    }
}

/// Sends the current message to `uri` and returns the response head with its body still
/// streaming. Shared by every endpoint type that ends in one HTTP call.
///
/// The axis2-scope controls apply: `REST_URL_POSTFIX` is appended to the URL,
/// `messageType` sets the content type, `NO_ENTITY_BODY` sends no body.
pub(crate) async fn deliver(client: &BackendClient, uri: &Uri, timeout: Duration, ctx: &mut MessageContext) -> Result<BackendResponse, EndpointError> {
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
    let mut request = client.for_uri(uri).request(ctx.method.clone(), uri).no_decompress().timeout(timeout);
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
    let mut response = sent.map_err(|e| send_error(e, uri, timeout))?;
    let mut headers = response.headers().clone();
    let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    headers::strip_hop_by_hop(&mut headers);
    Ok(BackendResponse { status: response.status(), headers, body: Body::stream(Box::pin(response.take_payload()), length) })
}

fn send_error(e: SendRequestError, uri: &Uri, timeout: Duration) -> EndpointError {
    let uri = uri.to_string();
    match e {
        SendRequestError::Timeout => EndpointError::Timeout { uri, after: timeout },
        SendRequestError::Connect(ConnectError::Timeout) => EndpointError::ConnectTimeout { uri },
        SendRequestError::Connect(ConnectError::Io(io)) => EndpointError::ConnectionFailed { uri, reason: short_reason(&io.to_string()) },
        SendRequestError::Connect(other) => EndpointError::ConnectionFailed { uri, reason: other.to_string() },
        SendRequestError::Send(io) => EndpointError::ConnectionClosed { uri, reason: io.to_string() },
        SendRequestError::Response(p) => EndpointError::ConnectionClosed { uri, reason: p.to_string() },
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
