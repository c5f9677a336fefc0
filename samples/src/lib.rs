//! Sample services and tools for `mediate`, standing in for the outside world
//! (this crate must not depend on `mediate`): the classic
//! SimpleStockQuoteService as a pure handler ([`stockquote`]) and as an
//! HTTP/HTTPS server ([`server`]), a small blocking HTTP/1.1 client
//! ([`client`]), the logic of the two sample binaries ([`client_cli`],
//! [`server_cli`]), key/trust store loading ([`tls`]) and a throwaway PKI
//! generator for tests and demos ([`testpki`]).

#![forbid(unsafe_code)]

pub mod client;
pub mod client_cli;
pub mod lbservice;
pub mod server;
pub mod server_cli;
pub mod stockquote;
pub mod testpki;
pub mod tls;
