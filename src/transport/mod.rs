//! The transport: listeners that accept HTTP and HTTPS (with client certificates), turn
//! each request into a [`crate::message::MessageContext`], and write the engine's reply.

pub mod connection;
pub mod inbound;
pub mod server;
