//! Keys, certificates and TLS: opening stores, building TLS contexts, the peer's
//! certificate as an identity, and the demo PKI.

pub mod client_cert;
pub mod jks;
pub mod forwarded;
pub mod keystore;
pub mod peer;
pub mod pki;
pub mod store_tool;
pub mod tls;
