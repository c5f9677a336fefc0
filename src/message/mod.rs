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

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode, Uri};

pub use body::Body;
pub use fault::{FaultCode, SoapFault};
pub use format::MessageFormat;

use crate::mediation::proxy::ProxyService;
use crate::transport::connection::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client towards a backend.
    In,
    /// A backend's response on its way back to the client.
    Out,
}

/// Properties set and read by mediators, by scope.
#[derive(Debug, Clone, Default)]
pub struct Properties {
    /// Synapse's default scope (`$ctx:`).
    pub default: HashMap<String, String>,
    /// The axis2 scope (`$axis2:`): transport-level controls such as `HTTP_SC`.
    pub axis2: HashMap<String, String>,
}

/// What the client receives.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("status", &self.status).field("body", &self.body).finish()
    }
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
    pub body: Body,
    pub properties: Properties,
    /// The proxy service that took the request, if any.
    pub service: Option<Arc<ProxyService>>,
    reply: Option<Reply>,
}

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
            body,
            properties: Properties::default(),
            service: None,
            reply: None,
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
            body,
            properties: std::mem::take(&mut self.properties),
            service: self.service.clone(),
            reply: None,
        }
    }

    /// Decides what goes back to the client; the first decision wins.
    pub fn set_reply(&mut self, reply: Reply) {
        if self.reply.is_none() {
            self.reply = Some(reply);
        }
    }

    /// Returns the current message (status, headers, body) to the client.
    pub fn reply_with_current_message(&mut self) {
        let status = self.status.unwrap_or(StatusCode::OK);
        let body = std::mem::replace(&mut self.body, Body::Empty);
        let headers = std::mem::take(&mut self.headers);
        self.set_reply(Reply { status, headers, body });
    }

    pub fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    pub fn take_reply(&mut self) -> Option<Reply> {
        self.reply.take()
    }

    /// Answers the client with `fault`, in this message's format.
    pub fn reply_with_fault(&mut self, fault: SoapFault) {
        let format = self.format;
        self.set_reply(fault.into_reply(format));
    }
}
