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
use crate::message::MessageContext;

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
            other => log::warn!("{}: <{other}> in <address> is not supported yet; ignored", c.origin),
        }
    }
    Ok(AddressEndpoint { name, uri, timeout })
}

#[async_trait(?Send)]
impl Endpoint for AddressEndpoint {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    async fn send(&self, ctx: &mut MessageContext, client: &BackendClient) -> Result<BackendResponse, EndpointError> {
        let mut request = client.for_uri(&self.uri).request(ctx.method.clone(), &self.uri).no_decompress().timeout(self.timeout);
        *request.headers_mut() = headers::for_backend_request(&ctx.headers);
        let sent = match std::mem::replace(&mut ctx.body, Body::Empty) {
            Body::Empty => request.send().await,
            Body::Bytes(b) => request.send_body(b).await,
            Body::Stream { stream, length: Some(n) } => request.send_body(actix_web::body::SizedStream::new(n, stream)).await,
            Body::Stream { stream, length: None } => request.send_stream(stream).await,
        };
        let mut response = sent.map_err(|e| self.error(e))?;
        let mut headers = response.headers().clone();
        let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        headers::strip_hop_by_hop(&mut headers);
        Ok(BackendResponse { status: response.status(), headers, body: Body::stream(Box::pin(response.take_payload()), length) })
    }
}

impl AddressEndpoint {
    fn error(&self, e: SendRequestError) -> EndpointError {
        let uri = self.uri.to_string();
        match e {
            SendRequestError::Timeout => EndpointError::Timeout { uri, after: self.timeout },
            SendRequestError::Connect(ConnectError::Timeout) => EndpointError::ConnectTimeout { uri },
            SendRequestError::Connect(ConnectError::Io(io)) => EndpointError::ConnectionFailed { uri, reason: short_reason(&io.to_string()) },
            SendRequestError::Connect(other) => EndpointError::ConnectionFailed { uri, reason: other.to_string() },
            SendRequestError::Send(io) => EndpointError::ConnectionClosed { uri, reason: io.to_string() },
            SendRequestError::Response(p) => EndpointError::ConnectionClosed { uri, reason: p.to_string() },
            other => EndpointError::SendFailed { uri, reason: other.to_string() },
        }
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
