//! Which HTTP headers belong to the message and which only to one hop.
//!
//! Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers are dropped whenever a message
//! crosses from one connection to another; the next hop's framing is set by the sender.
//! Client-certificate headers are dropped on the way to a backend unless mediation puts
//! them there itself, so a client can never pass an identity it did not prove.

use actix_web::http::header::{self, HeaderMap, HeaderName};

/// Headers that describe one connection, never the message.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Headers that claim a client certificate (RFC 9440, Envoy, nginx conventions).
const CLIENT_CERT_HEADERS: [&str; 3] = ["x-forwarded-client-cert", "client-cert", "client-cert-chain"];

fn is_client_cert_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    CLIENT_CERT_HEADERS.contains(&n) || n.starts_with("x-ssl-client-")
}

/// The names listed in `Connection` headers (they are hop-by-hop too).
fn connection_listed(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect()
}

/// Removes hop-by-hop and framing headers.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Look at the few headers present rather than remove every listed name: each removal
    // by text parses and hashes a header name, on every message.
    let listed = connection_listed(headers);
    let hop: Vec<HeaderName> = headers.keys().filter(|n| HOP_BY_HOP.contains(&n.as_str()) || listed.contains(n)).cloned().collect();
    for name in hop {
        headers.remove(name);
    }
}

/// Prepares a client's request headers for a backend: hop-by-hop, `Host`, `Expect` and
/// client-certificate headers go.
pub fn for_backend_request(headers: &HeaderMap) -> HeaderMap {
    let listed = connection_listed(headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || n == "host" || n == "expect" || listed.contains(name) || is_client_cert_header(name) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn strips_connection_scoped_headers() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("host", "proxy:8243"),
            ("soapaction", "\"urn:getQuote\""),
            ("content-length", "10"),
            ("transfer-encoding", "chunked"),
            ("x-ssl-client-s-dn", "CN=admin"),
            ("client-cert", ":abc:"),
            ("x-custom", "kept"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let out = for_backend_request(&h);
        let names: Vec<_> = out.keys().map(|k| k.as_str().to_string()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(out.contains_key("soapaction") && out.contains_key("x-custom"));
        strip_hop_by_hop(&mut h);
        assert!(!h.contains_key("x-hop") && !h.contains_key("content-length") && h.contains_key("host"));
    }
}
