//! `<default/>` endpoints (and `<send/>` without an endpoint): deliver to the message's own
//! destination, its `To` (wsa:To, or the URL the client used).
//!
//! A `To` that names this very server would make the message loop back into itself; such
//! messages are refused instead.

use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use actix_web::http::Uri;
use async_trait::async_trait;

use super::address::deliver;
use super::{BackendClient, BackendResponse, Endpoint, EndpointError, DEFAULT_TIMEOUT};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::MessageContext;

#[derive(Debug)]
pub struct DefaultEndpoint {
    name: Option<String>,
    timeout: Duration,
}

impl DefaultEndpoint {
    pub fn implicit() -> Self {
        DefaultEndpoint { name: None, timeout: DEFAULT_TIMEOUT }
    }
}

pub fn build(el: &Element, name: Option<String>) -> Result<DefaultEndpoint, ConfigError> {
    let timeout = super::address::timeout_of(el)?;
    Ok(DefaultEndpoint { name, timeout })
}

#[async_trait(?Send)]
impl Endpoint for DefaultEndpoint {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    async fn send(&self, ctx: &mut MessageContext, client: &BackendClient) -> Result<BackendResponse, EndpointError> {
        let to = ctx.to.clone().unwrap_or_default();
        let unusable = |reason: &str| EndpointError::SendFailed { uri: to.clone(), reason: reason.to_string() };
        let uri: Uri = to.parse().map_err(|_| unusable("the message's To is not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http") | Some("https")) || uri.host().is_none() {
            return Err(unusable("the message's To is not an http(s) URL"));
        }
        if names_this_server(&uri, ctx) {
            return Err(unusable("the message's To is this server itself; sending would loop"));
        }
        deliver(client, &uri, self.timeout, ctx).await
    }
}

/// Whether `uri` points at the listener the message came in on.
fn names_this_server(uri: &Uri, ctx: &MessageContext) -> bool {
    let Some(local) = ctx.connection.local_addr else { return false };
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
    if port != local.port() {
        return false;
    }
    let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = (host, port).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default();
    addrs.iter().any(|ip| *ip == local.ip() || (local.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
}
