//! The mediation engine: what happens to a message between the transport and a backend.
//!
//! A deployment ([`deployment::Deployment`]) holds the artifacts loaded from `mediation/`:
//! proxy services, named sequences and endpoints. The [`engine::Engine`] takes a
//! [`crate::message::MessageContext`], finds its proxy service, runs the in-path mediators,
//! sends to endpoints, runs the out-path on the response and turns errors into the fault
//! path. Each mediator is a small type behind [`mediator::Mediator`], registered by its XML
//! tag in [`mediators`].

pub mod client_auth;
pub mod deployment;
pub mod engine;
pub mod expression;
pub mod get_property;
pub mod error;
pub mod mediator;
pub mod mediators;
pub mod proxy;
pub mod sequence;
pub mod text;
#[cfg(test)]
pub(crate) mod testing;

pub use engine::Engine;
pub use error::MediationError;
pub use mediator::{Flow, Mediator};
