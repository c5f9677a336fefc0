//! Leaf endpoints: one backend call each, with Synapse's QoS.
//!
//! `<address uri>` sends to a fixed URL (optionally converting the message `format`);
//! `<http uri-template method>` builds the URL per message from `{uri.var.x}` (properties)
//! and `{query.param.x}` (the request's query); `<default/>` uses the message's `To`. All
//! three keep a [`Health`]: a suspended leaf fails fast with 303001 and never connects.

use std::time::Instant;

use actix_web::http::{Method, Uri};
use async_trait::async_trait;

use super::address::{self, Format};
use super::qos::{Health, Qos, ResponseAction};
use super::{default, BackendResponse, Delivery, Endpoint, EndpointError};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::{MessageContext, Scope};

#[derive(Debug)]
enum Target {
    Address { uri: Uri, format: Option<Format> },
    Http { template: UriTemplate, method: Option<Method> },
    Default,
    /// `<member hostName httpPort httpsPort>`: the request's own path on another host.
    Member { host: String, http_port: Option<u16>, https_port: Option<u16> },
}

#[derive(Debug)]
pub struct Leaf {
    name: Option<String>,
    /// For logs and errors: the name, or where the definition is.
    label: String,
    target: Target,
    qos: Qos,
    addressing: bool,
    health: Health,
}

impl Leaf {
    /// Builds from an `<address>`, `<http>` or `<default>` element.
    pub fn build(el: &Element, name: Option<String>, label: String) -> Result<Leaf, ConfigError> {
        let target = match el.name.as_str() {
            "address" => {
                let raw = el.required_attr("uri")?;
                Target::Address { uri: absolute_url(el, raw)?, format: Format::parse(el)? }
            }
            "http" => {
                let raw = el.required_attr("uri-template")?;
                let template = UriTemplate::parse(raw).map_err(|e| el.error(format!("uri-template '{raw}': {e}")))?;
                absolute_url(el, &template.literal_prefix())?;
                let method = el
                    .attr("method")
                    .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| el.error(format!("'{m}' is not an HTTP method"))))
                    .transpose()?;
                Target::Http { template, method }
            }
            _ => Target::Default,
        };
        let qos = Qos::parse(el)?;
        let addressing = el.child("enableAddressing").is_some();
        Ok(Leaf { health: Health::new(label.clone()), name, label, target, qos, addressing })
    }

    /// Where `<send/>` without an endpoint goes: the message's `To`. It never suspends:
    /// the destination differs per message.
    pub fn implicit() -> Leaf {
        let label = "the message's To".to_string();
        Leaf { health: Health::new(label.clone()), name: None, label, target: Target::Default, qos: Qos::never_suspend(), addressing: false }
    }

    /// A load-balance `<member>`.
    pub fn member(el: &Element) -> Result<Leaf, ConfigError> {
        let host = el.required_attr("hostName")?.to_string();
        let port = |attr: &str| {
            el.attr(attr).map(|p| p.parse::<u16>().map_err(|_| el.error(format!("{attr} must be a port number, not '{p}'")))).transpose()
        };
        let (http_port, https_port) = (port("httpPort")?, port("httpsPort")?);
        if http_port.is_none() && https_port.is_none() {
            return Err(el.error("<member> needs an httpPort or an httpsPort"));
        }
        let label = format!("member {host} at {}", el.origin);
        Ok(Leaf { health: Health::new(label.clone()), name: None, label, target: Target::Member { host, http_port, https_port }, qos: Qos::default(), addressing: false })
    }

    async fn deliver(&self, ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<BackendResponse, EndpointError> {
        let (uri, method) = match &self.target {
            Target::Address { uri, format } => {
                if let Some(f) = format {
                    address::convert(ctx, *f, d.limits, uri).await?;
                }
                (uri.clone(), None)
            }
            Target::Http { template, method } => (template.expand(ctx)?, method.as_ref()),
            Target::Default => (default::destination(ctx)?, None),
            Target::Member { host, http_port, https_port } => {
                let secure = ctx.connection.transport == crate::config::axis2::Transport::Https;
                let (scheme, port) = match (secure, *https_port, *http_port) {
                    (true, Some(p), _) | (false, Some(p), None) => ("https", p),
                    (_, _, Some(p)) => ("http", p),
                    (_, None, None) => ("http", 80),
                };
                let path = ctx.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let text = format!("{scheme}://{host}:{port}{path}");
                let uri = text.parse().map_err(|_| EndpointError::Unsendable { uri: text.clone(), reason: "not a valid URL".into() })?;
                (uri, None)
            }
        };
        if self.addressing {
            address::add_addressing(ctx, &uri, d.limits).await?;
        }
        let discard = self.qos.response_action == ResponseAction::Discard;
        address::deliver(d.client, &uri, method, self.qos.timeout, discard, ctx).await
    }
}

fn absolute_url(el: &Element, raw: &str) -> Result<Uri, ConfigError> {
    let uri: Uri = raw.parse().map_err(|e| el.error(format!("'{raw}' is not a valid URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") if uri.host().is_some() => Ok(uri),
        _ => Err(el.error(format!("'{raw}' must be an absolute http:// or https:// URL"))),
    }
}

#[async_trait(?Send)]
impl Endpoint for Leaf {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn ready(&self) -> bool {
        self.health.ready(Instant::now())
    }

    async fn send(&self, ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<BackendResponse, EndpointError> {
        let now = Instant::now();
        if !self.health.ready(now) {
            return Err(EndpointError::NotReady { endpoint: self.label.clone(), retry_in: self.health.remaining(now).unwrap_or_default() });
        }
        match self.deliver(ctx, d).await {
            Ok(r) => {
                self.health.on_success();
                Ok(r)
            }
            Err(e) => {
                if e.backend_failed() {
                    self.health.on_failure(e.code(), &self.qos, Instant::now());
                }
                Err(e)
            }
        }
    }
}

/// An RFC 6570-style template as WSO2's HTTP endpoint uses it: `{uri.var.x}` (percent-
/// encoded), `{+uri.var.x}` (as is) and `{query.param.x}`.
#[derive(Debug)]
struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Literal(String),
    Var { name: String, encode: bool },
}

impl UriTemplate {
    fn parse(t: &str) -> Result<UriTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').ok_or("an unclosed '{'")? + open;
            let inner = &rest[open + 1..close];
            let (name, encode) = match inner.strip_prefix('+') {
                Some(n) => (n, false),
                None => (inner, true),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                return Err(format!("'{{{inner}}}' is not a variable"));
            }
            parts.push(Part::Var { name: name.to_string(), encode });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(UriTemplate { parts })
    }

    /// The text before the first variable (checked to start an absolute URL).
    fn literal_prefix(&self) -> String {
        match self.parts.first() {
            Some(Part::Literal(l)) if l.contains("://") => match l.find("://").and_then(|i| l[i + 3..].find('/').map(|j| i + 3 + j)) {
                Some(end) => l[..end].to_string(),
                None => l.clone(),
            },
            _ => String::new(),
        }
    }

    fn expand(&self, ctx: &MessageContext) -> Result<Uri, EndpointError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Var { name, encode } => {
                    let value = match name.strip_prefix("query.param.") {
                        Some(q) => crate::message::query::parameter(ctx.uri.query().unwrap_or(""), q),
                        None => ctx.properties.get(Scope::Default, name).map(|v| v.to_string()),
                    }
                    .unwrap_or_default();
                    if *encode {
                        out.push_str(&percent_encode(&value));
                    } else {
                        out.push_str(&value);
                    }
                }
            }
        }
        out.parse().map_err(|_| EndpointError::Unsendable { uri: out.clone(), reason: "the uri-template expands to an invalid URL".into() })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_from_properties_and_the_query() {
        let t = UriTemplate::parse("http://localhost:9000/quotes/{uri.var.symbol}/{+uri.var.raw}?s={query.param.s}").unwrap();
        assert_eq!(t.literal_prefix(), "http://localhost:9000");
        let mut ctx = crate::mediation::testing::request("text/xml", "<a/>");
        ctx.uri = "/services/P?s=abc&t=1".parse().unwrap();
        ctx.properties.set(Scope::Default, "uri.var.symbol", crate::message::Value::String("IBM X/1".into()));
        ctx.properties.set(Scope::Default, "uri.var.raw", crate::message::Value::String("a/b".into()));
        assert_eq!(t.expand(&ctx).unwrap().to_string(), "http://localhost:9000/quotes/IBM%20X%2F1/a/b?s=abc");
        assert!(UriTemplate::parse("http://x/{a").is_err());
        assert!(UriTemplate::parse("http://x/{a b}").is_err());
    }
}
