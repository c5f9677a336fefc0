//! The message's own destination: its `To` (wsa:To, or the URL the client used), for
//! `<default/>` endpoints and `<send/>` without an endpoint.
//!
//! A `To` that names this very server would make the message loop back into itself; such
//! messages are refused instead.

use std::net::{IpAddr, ToSocketAddrs};

use actix_web::http::Uri;

use super::EndpointError;
use crate::message::MessageContext;

/// The URL to send the message to, from its `To`.
pub fn destination(ctx: &MessageContext) -> Result<Uri, EndpointError> {
    let to = ctx.to.clone().unwrap_or_default();
    let unusable = |reason: &str| EndpointError::Unsendable { uri: to.clone(), reason: reason.to_string() };
    let uri: Uri = to.parse().map_err(|_| unusable("the message's To is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) || uri.host().is_none() {
        return Err(unusable("the message's To is not an http(s) URL"));
    }
    if names_this_server(&uri, ctx) {
        return Err(unusable("the message's To is this server itself; sending would loop"));
    }
    Ok(uri)
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
