//! Endpoints: where mediation sends messages, and what can go wrong on the way.
//!
//! An [`Endpoint`] takes the current message, delivers it with the worker's
//! [`BackendClient`] and returns the backend's response, or an [`EndpointError`] carrying
//! Synapse's error code (101503 connection failed, 101504 timeout, …). Endpoint types are
//! chosen by the child of `<endpoint>` (`<address>` so far) in [`build`].

pub mod address;
pub mod client;
pub mod default;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use async_trait::async_trait;

pub use client::BackendClient;

use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::{Body, MessageContext};

/// Synapse's endpoint error codes.
pub mod codes {
    pub const SEND_FAILED: u32 = 101500;
    pub const CONNECTION_FAILED: u32 = 101503;
    pub const TIMEOUT: u32 = 101504;
    pub const CONNECTION_CLOSED: u32 = 101505;
    pub const CONNECT_TIMEOUT: u32 = 101508;
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot connect to {uri}: {reason}")]
    ConnectionFailed { uri: String, reason: String },
    #[error("connecting to {uri} timed out")]
    ConnectTimeout { uri: String },
    #[error("no response from {uri} within {} ms", .after.as_millis())]
    Timeout { uri: String, after: Duration },
    #[error("the connection to {uri} was closed: {reason}")]
    ConnectionClosed { uri: String, reason: String },
    #[error("sending to {uri} failed: {reason}")]
    SendFailed { uri: String, reason: String },
}

impl EndpointError {
    pub fn code(&self) -> u32 {
        match self {
            EndpointError::ConnectionFailed { .. } => codes::CONNECTION_FAILED,
            EndpointError::ConnectTimeout { .. } => codes::CONNECT_TIMEOUT,
            EndpointError::Timeout { .. } => codes::TIMEOUT,
            EndpointError::ConnectionClosed { .. } => codes::CONNECTION_CLOSED,
            EndpointError::SendFailed { .. } => codes::SEND_FAILED,
        }
    }
}

/// A destination for messages. Built once, shared by all workers; `send` runs on the
/// worker that owns the request.
#[async_trait(?Send)]
pub trait Endpoint: Send + Sync + std::fmt::Debug {
    /// The name of a named endpoint.
    fn name(&self) -> Option<&str>;

    /// Delivers the message (taking its body) and returns the response.
    async fn send(&self, ctx: &mut MessageContext, client: &BackendClient) -> Result<BackendResponse, EndpointError>;
}

/// Builds the endpoint an `<endpoint>` element defines inline (not a `key` reference).
pub fn build(el: &Element, name: Option<String>) -> Result<Arc<dyn Endpoint>, ConfigError> {
    let mut kinds = el.elements().filter(|c| c.name != "description" && c.name != "property");
    let kind = kinds.next().ok_or_else(|| el.error("<endpoint> needs a definition such as <address uri=\"…\"/>"))?;
    if let Some(extra) = kinds.next() {
        return Err(extra.error("<endpoint> holds exactly one definition"));
    }
    match kind.name.as_str() {
        "address" => Ok(Arc::new(address::build(kind, name)?)),
        "default" => Ok(Arc::new(default::build(kind, name)?)),
        other => Err(kind.error(format!("endpoint type <{other}> is not supported yet (supported: address, default)"))),
    }
}
