//! Endpoints: where mediation sends messages, and what can go wrong on the way.
//!
//! Leaf endpoints ([`leaf`]: `<address>`, `<http>`, `<default>`) make one HTTP call and keep
//! their own health ([`qos`]): a failing backend is suspended and fails fast with 303001
//! until it may be tried again. Groups ([`group`]: `<failover>`, `<loadbalance>`,
//! `<recipientlist>`) choose among their members, trying the next one when a member fails;
//! they read the body into memory first so that it can be sent more than once.
//! Errors carry Synapse's codes (101503 connection failed, 101504 timeout, …).

pub mod address;
pub mod client;
pub mod default;
pub mod group;
pub mod leaf;
pub mod qos;
pub mod session;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use async_trait::async_trait;

pub use client::BackendClient;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::message::{Body, Limits, MessageContext};

/// Synapse's endpoint error codes.
pub mod codes {
    pub const SEND_FAILED: u32 = 101500;
    pub const CONNECTION_FAILED: u32 = 101503;
    pub const TIMEOUT: u32 = 101504;
    pub const CONNECTION_CLOSED: u32 = 101505;
    pub const CONNECT_TIMEOUT: u32 = 101508;
    /// No member of a group is ready.
    pub const NONE_READY: u32 = 303000;
    /// A leaf endpoint is suspended (or in Timeout, waiting out its retry delay).
    pub const NOT_READY: u32 = 303001;
    /// A load-balance member failed and the message went on to another one.
    pub const LOADBALANCE_FAILED_OVER: u32 = 303100;
    /// A failover member failed and the message went on to the next one.
    pub const FAILOVER_FAILED_OVER: u32 = 304100;
}

/// How long an endpoint waits for the response head unless it says otherwise (Synapse's
/// default endpoint timeout).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A backend's answer, body not yet read.
pub struct BackendResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

/// What an endpoint needs from the worker to deliver a message.
pub struct Delivery<'a> {
    pub client: &'a BackendClient,
    pub limits: &'a Limits,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot connect to {uri}: {reason}")]
    ConnectionFailed { uri: String, reason: String },
    #[error("connecting to {uri} timed out")]
    ConnectTimeout { uri: String },
    /// `discard`: the timeout is answered directly, without the fault sequence.
    #[error("no response from {uri} within {} ms", .after.as_millis())]
    Timeout { uri: String, after: Duration, discard: bool },
    #[error("the connection to {uri} was closed: {reason}")]
    ConnectionClosed { uri: String, reason: String },
    #[error("sending to {uri} failed: {reason}")]
    SendFailed { uri: String, reason: String },
    #[error("endpoint {endpoint} is suspended (next try in {} ms)", .retry_in.as_millis())]
    NotReady { endpoint: String, retry_in: Duration },
    #[error("no endpoint of {group} is ready{}", .last.as_ref().map(|l| format!(" (last error: {l})")).unwrap_or_default())]
    NoneReady { group: String, last: Option<String> },
    #[error("the message could not be prepared for {uri}: {reason}")]
    Unsendable { uri: String, reason: String },
    /// The client's request body failed while it was being streamed to the backend (the
    /// client stalled past `BodyReadTimeout`, or went away): the client's fault, not the
    /// backend's.
    #[error("the request body could not be read from the client: {reason}")]
    ClientBody { reason: String, timed_out: bool },
    /// A group could not read the client's request into memory (larger than
    /// `MaxMessageSize`, or the client stalled or went away): the client's fault, answered
    /// as when a mediator reads it (413, 408, …).
    #[error("{0}")]
    ClientMessage(Box<crate::mediation::error::MediationError>),
}

impl EndpointError {
    pub fn code(&self) -> u32 {
        match self {
            EndpointError::ConnectionFailed { .. } => codes::CONNECTION_FAILED,
            EndpointError::ConnectTimeout { .. } => codes::CONNECT_TIMEOUT,
            EndpointError::Timeout { .. } => codes::TIMEOUT,
            EndpointError::ConnectionClosed { .. } => codes::CONNECTION_CLOSED,
            EndpointError::SendFailed { .. } | EndpointError::Unsendable { .. } | EndpointError::ClientBody { .. } => codes::SEND_FAILED,
            EndpointError::NotReady { .. } => codes::NOT_READY,
            EndpointError::NoneReady { .. } => codes::NONE_READY,
            EndpointError::ClientMessage(e) => e.code,
        }
    }

    /// Errors that answer the client directly, without the fault sequence.
    pub fn is_final(&self) -> bool {
        matches!(self, EndpointError::Timeout { discard: true, .. })
    }

    /// Whether the backend (or the way to it) failed, as opposed to the message or the
    /// client. Only such errors count towards suspension, and only they let a group try
    /// another member: the message would fail there too.
    pub fn backend_failed(&self) -> bool {
        !matches!(self, EndpointError::Unsendable { .. } | EndpointError::ClientBody { .. } | EndpointError::ClientMessage(_))
    }
}

/// A destination for messages. Built once, shared by all workers; `send` runs on the
/// worker that owns the request.
#[async_trait(?Send)]
pub trait Endpoint: Send + Sync + std::fmt::Debug {
    /// The name of a named endpoint.
    fn name(&self) -> Option<&str>;

    /// Whether a message could be sent now (a suspended endpoint is not ready).
    fn ready(&self) -> bool {
        true
    }

    /// Delivers the message (taking its body) and returns the response.
    async fn send(&self, ctx: &mut MessageContext, delivery: &Delivery<'_>) -> Result<BackendResponse, EndpointError>;
}

/// Builds the endpoint an `<endpoint>` element defines inline (not a `key` reference),
/// with `name` when it is a named one.
pub fn build(el: &Element, name: Option<String>, b: &mut Builder<'_>) -> Result<Arc<dyn Endpoint>, ConfigError> {
    if let Some(t) = el.attr("template") {
        return template::instantiate(el, t, name, b);
    }
    let mut session = None;
    let mut kind = None;
    for c in el.elements() {
        match c.name.as_str() {
            "description" | "property" | "parameter" => {}
            "session" => session = Some(c),
            _ if kind.is_some() => return Err(c.error("<endpoint> holds exactly one definition")),
            _ => kind = Some(c),
        }
    }
    let kind = kind.ok_or_else(|| el.error("<endpoint> needs a definition such as <address uri=\"…\"/>"))?;
    if let Some(s) = session {
        if kind.name != "loadbalance" {
            return Err(s.error("<session> goes with a <loadbalance> endpoint"));
        }
    }
    let label = name.clone().unwrap_or_else(|| format!("anonymous {} at {}", kind.name, kind.origin));
    match kind.name.as_str() {
        "address" | "http" | "default" => Ok(Arc::new(leaf::Leaf::build(kind, name, label)?)),
        "failover" => Ok(Arc::new(group::Failover::build(kind, name, label, b)?)),
        "loadbalance" => Ok(Arc::new(group::LoadBalance::build(kind, session, name, label, b)?)),
        "recipientlist" => Ok(Arc::new(group::RecipientList::build(kind, name, label, b)?)),
        other => Err(kind.error(format!("endpoint type <{other}> is not supported (address, http, default, failover, loadbalance, recipientlist)"))),
    }
}
