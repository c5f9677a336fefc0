//! The message context: one message on its way through mediation.
//!
//! A [`MessageContext`] is built by the transport for each request and handed to the
//! mediation engine. It carries the transport facts (headers, the peer's certificate), what
//! SOAP says about the message (format, action, To), the properties mediators set, and the
//! body in its cheapest form. The response from a backend travels in a second context
//! (direction [`Direction::Out`]) that inherits the request's properties.
//!
//! When mediation decides what goes back to the client it stores a [`Reply`]; the transport
//! writes it out.

pub mod body;
pub mod fault;
pub mod format;
pub mod headers;
pub mod limits;
pub mod properties;
pub mod query;

use std::rc::Rc;
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode, Uri};

pub use body::{Body, XmlBody};

pub use limits::Limits;
use crate::mediation::MediationError;
pub use fault::{FaultCode, SoapFault};
pub use format::MessageFormat;
pub use properties::{controls, Properties, Scope, Value};

use crate::mediation::proxy::ProxyService;
use crate::security::peer::PeerCertificate;
use crate::transport::connection::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client towards a backend.
    In,
    /// A backend's response on its way back to the client.
    Out,
}

/// What the client receives.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Reply {
    /// `202 Accepted` with no body: the message was taken and nothing comes back.
    pub fn accepted() -> Reply {
        Reply { status: StatusCode::ACCEPTED, headers: HeaderMap::new(), body: Body::Empty }
    }

    /// An XML document as the answer.
    pub fn xml(status: StatusCode, text: String) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(actix_web::http::header::CONTENT_TYPE, actix_web::http::header::HeaderValue::from_static("text/xml; charset=UTF-8"));
        Reply { status, headers, body: Body::Bytes(bytes::Bytes::from(text)) }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("status", &self.status).field("body", &self.body).finish()
    }
}

/// WS-Addressing 1.0 and the 2004 submission (still common with Synapse clients).
pub const WSA_NAMESPACES: [&str; 2] = ["http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing"];

/// WS-Addressing headers of a message (`wsa:To` goes to [`MessageContext::to`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressing {
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub reply_to: Option<String>,
    pub fault_to: Option<String>,
    pub from: Option<String>,
}

pub struct MessageContext {
    pub direction: Direction,
    /// The client connection this message came in on (the peer certificate lives there).
    pub connection: Rc<Connection>,
    pub method: Method,
    /// The request URI as the client sent it.
    pub uri: Uri,
    /// The backend's status, on the response path.
    pub status: Option<StatusCode>,
    /// Transport headers of the current message (the transport scope).
    pub headers: HeaderMap,
    pub format: MessageFormat,
    /// SOAPAction, or the SOAP 1.2 `action` content-type parameter.
    pub soap_action: Option<String>,
    /// The message's destination (wsa:To or the request URL).
    pub to: Option<String>,
    /// WS-Addressing headers read from the envelope (`Action`, `MessageID`, …).
    pub addressing: Addressing,
    pub body: Body,
    pub properties: Properties,
    /// The proxy service that took the request, if any.
    pub service: Option<Arc<ProxyService>>,
    /// The client's verified certificate: the TLS peer's, or one a trusted load balancer
    /// forwarded. Its `SSL_CLIENT_*` properties read through [`Self::property`].
    pub client_certificate: Option<Rc<PeerCertificate>>,
    reply: Option<Reply>,
    /// How many `<sequence key>` references are being run, to stop runaway recursion.
    depth: u32,
}

/// How deep `<sequence key>` references may nest.
pub const MAX_SEQUENCE_DEPTH: u32 = 64;

impl MessageContext {
    /// A request as the transport received it.
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        connection: Rc<Connection>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        format: MessageFormat,
        soap_action: Option<String>,
        to: Option<String>,
        body: Body,
    ) -> Self {
        MessageContext {
            direction: Direction::In,
            connection,
            method,
            uri,
            status: None,
            headers,
            format,
            soap_action,
            to,
            addressing: Addressing::default(),
            body,
            properties: Properties::default(),
            client_certificate: None,
            service: None,
            reply: None,
            depth: 0,
        }
    }

    /// The context for a backend's response to this request. Properties move over, as in
    /// Synapse, so what the in-path set is visible on the out-path.
    pub fn response(&mut self, status: StatusCode, headers: HeaderMap, body: Body) -> MessageContext {
        let content_type = headers.get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let format = match MessageFormat::from_content_type(content_type) {
            MessageFormat::Pox if self.format != MessageFormat::Pox && content_type.is_none() => self.format,
            f => f,
        };
        MessageContext {
            direction: Direction::Out,
            connection: self.connection.clone(),
            method: self.method.clone(),
            uri: self.uri.clone(),
            status: Some(status),
            headers,
            format,
            soap_action: None,
            to: None,
            addressing: Addressing::default(),
            body,
            properties: std::mem::take(&mut self.properties),
            service: self.service.clone(),
            client_certificate: self.client_certificate.clone(),
            reply: None,
            depth: self.depth,
        }
    }

    /// The whole message as text (read into memory, at most `limit` bytes).
    pub async fn message_text(&mut self, limit: usize) -> Result<String, MediationError> {
        if let Body::Xml(x) = &self.body {
            if x.original.is_none() {
                return Ok(x.doc.to_xml());
            }
        }
        let bytes = self.buffered_body(limit).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads a streaming body into memory (once), so it can be looked at and still sent.
    pub async fn buffered_body(&mut self, limit: usize) -> Result<bytes::Bytes, MediationError> {
        if let Body::Xml(x) = &self.body {
            if let Some(b) = &x.original {
                return Ok(b.clone());
            }
        }
        let body = std::mem::replace(&mut self.body, Body::Empty);
        let bytes = body.into_bytes(limit).await.map_err(|e| MediationError::body(&e))?;
        self.body = Body::Bytes(bytes.clone());
        Ok(bytes)
    }

    /// Parses the body (once) so mediators can look inside. XML the client sent that we
    /// will not read (DTD, limits, malformed) is the client's fault; from a backend, ours.
    pub async fn ensure_document(&mut self, limits: &Limits) -> Result<(), MediationError> {
        if matches!(self.body, Body::Xml(_)) {
            return Ok(());
        }
        let bytes = self.buffered_body(limits.max_body).await?;
        let doc = if bytes.iter().all(u8::is_ascii_whitespace) {
            crate::xml::Document::new()
        } else {
            crate::xml::parse(&bytes, &limits.xml).map_err(|e| self.unreadable(&e))?
        };
        self.body = Body::Xml(Box::new(XmlBody { doc, original: Some(bytes) }));
        Ok(())
    }

    /// Whose fault XML we cannot read is: the client's for a request, ours for a response.
    pub(crate) fn unreadable(&self, e: &crate::xml::XmlError) -> MediationError {
        let message = match e {
            crate::xml::XmlError::Doctype => "DTD is not allowed in a SOAP message".to_string(),
            other => other.to_string(),
        };
        match self.direction {
            Direction::In => MediationError::client(message, None),
            Direction::Out => MediationError::new(crate::mediation::error::UNREADABLE_RESPONSE, format!("the backend's response: {message}")),
        }
    }

    /// The parsed body, once [`Self::ensure_document`] has run.
    pub fn document(&self) -> Option<&crate::xml::Document> {
        match &self.body {
            Body::Xml(x) => Some(&x.doc),
            _ => None,
        }
    }

    /// The parsed body for changing: from now on the message is sent re-serialised.
    pub fn document_mut(&mut self) -> Option<&mut crate::xml::Document> {
        match &mut self.body {
            Body::Xml(x) => {
                x.original = None;
                Some(&mut x.doc)
            }
            _ => None,
        }
    }

    /// Replaces the body with a new document (the content type stays as it is).
    pub fn set_document(&mut self, doc: crate::xml::Document) {
        self.body = Body::Xml(Box::new(XmlBody { doc, original: None }));
    }

    /// The body to put on the wire, leaving the context empty.
    pub fn take_body_for_sending(&mut self) -> Body {
        std::mem::replace(&mut self.body, Body::Empty).for_wire()
    }

    /// A copy of this request for delivery in the background: it takes the body and
    /// copies everything else.
    pub fn detach(&mut self) -> MessageContext {
        MessageContext {
            direction: self.direction,
            connection: self.connection.clone(),
            method: self.method.clone(),
            uri: self.uri.clone(),
            status: self.status,
            headers: self.headers.clone(),
            format: self.format,
            soap_action: self.soap_action.clone(),
            to: self.to.clone(),
            addressing: self.addressing.clone(),
            body: self.take_body_for_sending(),
            properties: self.properties.clone(),
            service: self.service.clone(),
            client_certificate: self.client_certificate.clone(),
            reply: None,
            depth: self.depth,
        }
    }

    /// Counts a `<sequence key>` reference being entered; too deep is an error.
    pub fn enter_sequence(&mut self) -> Result<(), MediationError> {
        if self.depth >= MAX_SEQUENCE_DEPTH {
            return Err(MediationError::new(500_021, format!("sequence references nest deeper than {MAX_SEQUENCE_DEPTH}")));
        }
        self.depth += 1;
        Ok(())
    }

    pub fn leave_sequence(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// After a `call`: the backend's response becomes the current message.
    pub fn become_response(&mut self, status: StatusCode, headers: HeaderMap, body: Body) {
        let content_type = headers.get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if content_type.is_some() {
            self.format = MessageFormat::from_content_type(content_type);
        }
        self.status = Some(status);
        self.headers = headers;
        self.body = body;
    }

    /// A property as mediation reads it: the client certificate's properties first (they
    /// cannot be overridden), then the scope's own values; transport properties are the
    /// HTTP headers.
    pub fn property(&self, scope: Scope, name: &str) -> Option<String> {
        if crate::security::peer::is_certificate_property(name) && scope != Scope::Transport {
            return match (&self.client_certificate, name) {
                (None, "SSL_CLIENT_VERIFY") if scope == Scope::Default => Some("NONE".into()),
                (Some(c), _) if (scope == Scope::Axis2) == (name == crate::security::peer::AXIS2_CERT_CHAIN) => c.property(name).map(str::to_string),
                _ => None,
            };
        }
        match scope {
            Scope::Transport => self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string),
            s => self.properties.get(s, name).map(|v| v.to_string()),
        }
    }

    /// Decides what goes back to the client; the first decision wins.
    pub fn set_reply(&mut self, reply: Reply) {
        if self.reply.is_none() {
            self.reply = Some(reply);
        }
    }

    /// Returns the current message (status, headers, body) to the client.
    ///
    /// The axis2-scope controls apply here: `HTTP_SC` sets the status, `NO_ENTITY_BODY`
    /// drops the body, `messageType` / `ContentType` set the content type.
    pub fn reply_with_current_message(&mut self) {
        let mut status = self.status.unwrap_or(StatusCode::OK);
        if let Some(sc) = self.properties.get(Scope::Axis2, controls::HTTP_SC) {
            match sc.to_string().trim().parse::<u16>().ok().and_then(|n| StatusCode::from_u16(n).ok()) {
                Some(s) => status = s,
                None => log::warn!("HTTP_SC '{sc}' is not an HTTP status code; kept {status}"),
            }
        }
        self.apply_content_type();
        let body = if self.properties.flag(Scope::Axis2, controls::NO_ENTITY_BODY) { Body::Empty } else { self.take_body_for_sending() };
        let headers = std::mem::take(&mut self.headers);
        self.set_reply(Reply { status, headers, body });
    }

    /// `messageType` (or `ContentType`) in the axis2 scope sets the outgoing content type.
    pub fn apply_content_type(&mut self) {
        let wanted = self.properties.get(Scope::Axis2, controls::MESSAGE_TYPE).or_else(|| self.properties.get(Scope::Axis2, controls::CONTENT_TYPE));
        if let Some(ct) = wanted.map(|v| v.to_string()) {
            match actix_web::http::header::HeaderValue::from_str(&ct) {
                Ok(v) => {
                    self.headers.insert(actix_web::http::header::CONTENT_TYPE, v);
                }
                Err(_) => log::warn!("messageType '{ct}' is not a valid content type; ignored"),
            }
        }
    }

    pub fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    pub fn take_reply(&mut self) -> Option<Reply> {
        self.reply.take()
    }

    /// `GET …?wsdl` (or `?wsdl2`): a request for the service description.
    pub fn wants_wsdl(&self) -> bool {
        self.method == Method::GET && self.uri.query().is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("wsdl") || p.eq_ignore_ascii_case("wsdl2")))
    }

    /// Reads the WS-Addressing headers into `to` and `addressing` (messages that no proxy
    /// takes are routed by them). Only SOAP messages with a header are parsed for this.
    pub async fn read_addressing(&mut self, limits: &Limits) -> Result<(), MediationError> {
        if self.format == MessageFormat::Pox || matches!(self.body, Body::Empty) {
            return Ok(());
        }
        self.ensure_document(limits).await?;
        let Some(doc) = self.document() else { return Ok(()) };
        let Some(header) = crate::xml::soap::envelope(doc).and_then(|e| e.header) else { return Ok(()) };
        let mut found = Addressing::default();
        let mut to = None;
        for h in doc.child_elements(header) {
            let Some(ns) = doc.namespace_uri(h) else { continue };
            if !WSA_NAMESPACES.contains(&ns) {
                continue;
            }
            // ReplyTo, FaultTo and From are endpoint references: their Address holds the URL.
            let address = |el| doc.child_element(el, Some(ns), "Address").map(|a| doc.string_value(a).trim().to_string());
            let text = || doc.string_value(h).trim().to_string();
            match doc.local_name(h) {
                "To" => to = Some(text()),
                "Action" => found.action = Some(text()),
                "MessageID" => found.message_id = Some(text()),
                "ReplyTo" => found.reply_to = address(h),
                "FaultTo" => found.fault_to = address(h),
                "From" => found.from = address(h),
                _ => {}
            }
        }
        if to.is_some() {
            self.to = to;
        }
        self.addressing = found;
        Ok(())
    }

    /// Answers the client with `fault`, in this message's format.
    pub fn reply_with_fault(&mut self, fault: SoapFault) {
        let format = self.format;
        self.set_reply(fault.into_reply(format));
    }
}
