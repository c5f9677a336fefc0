//! `mediate`: a message mediation server (an ESB) for secured SOAP services.
//!
//! The modules follow the path of a message:
//! [`transport`] accepts HTTP/HTTPS (verifying client certificates) and builds a
//! [`message::MessageContext`]; the [`mediation`] engine runs it through the proxy service
//! and mediators written in the Synapse configuration language; [`endpoint`]s deliver it to
//! backends; the reply travels back the same way. [`config`] loads `axis2.xml` and the
//! artifacts under `mediation/`; [`security`] holds keystores, TLS contexts and the demo PKI.
//! `docs/architecture.md` tells the life of a message in prose.

#![forbid(unsafe_code)]

pub mod config;
pub mod endpoint;
pub mod mediation;
pub mod message;
pub mod security;
pub mod transport;
pub mod utc;
pub mod xml;
pub mod xpath;
