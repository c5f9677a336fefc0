//! The one trait every mediator implements.

use async_trait::async_trait;

use super::{Engine, MediationError};
use crate::message::MessageContext;

/// Whether the enclosing sequence goes on after a mediator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The message has been taken care of (sent, answered or dropped): stop this sequence.
    Stop,
}

/// A step of mediation, built once from its XML element and shared by all requests.
///
/// `mediate` may await (a `send` waits for the backend), so it is async; the futures stay on
/// the worker thread that owns the request, hence `?Send`.
#[async_trait(?Send)]
pub trait Mediator: Send + Sync + std::fmt::Debug {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError>;
}
