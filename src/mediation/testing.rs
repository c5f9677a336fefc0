//! Helpers for mediator unit tests: a deployment from Synapse XML text, an engine for it,
//! and a request context built from a body — no server, no sockets.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use actix_web::http::{Method, Uri};
use bytes::Bytes;

use super::deployment::Deployment;
use super::{Engine, Flow, MediationError, Mediator};
use crate::config::axis2::Transport;
use crate::config::error::Origin;
use crate::endpoint::BackendClient;
use crate::message::{Body, MessageContext, MessageFormat};
use crate::security::tls::backend_tls;
use crate::transport::connection::Connection;

/// Loads `definitions` (the children of a `<definitions>` element) as a deployment.
pub fn deployment(definitions: &str) -> Arc<Deployment> {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("<definitions xmlns=\"http://ws.apache.org/ns/synapse\">{definitions}</definitions>");
    std::fs::write(dir.path().join("synapse.xml"), text).unwrap();
    match crate::config::synapse::load_dir(dir.path()) {
        Ok(d) => Arc::new(d),
        Err(e) => panic!("{e}"),
    }
}

/// The errors loading `definitions` reports.
pub fn load_errors(definitions: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("<definitions xmlns=\"http://ws.apache.org/ns/synapse\">{definitions}</definitions>");
    std::fs::write(dir.path().join("synapse.xml"), text).unwrap();
    match crate::config::synapse::load_dir(dir.path()) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

pub fn engine(deployment: Arc<Deployment>) -> Engine {
    let tls = backend_tls(None, &Origin::file(std::path::Path::new("test"))).unwrap();
    Engine::new(deployment, crate::message::Limits::default(), BackendClient::for_this_worker(&tls, &Default::default(), 0))
}

/// A request as the transport would build it for `body` sent with `content_type`.
pub fn request(content_type: &str, body: &str) -> MessageContext {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
    let format = MessageFormat::from_content_type(Some(content_type));
    MessageContext::request(
        Rc::new(Connection::unknown(Transport::Http)),
        Method::POST,
        Uri::from_static("/services/Test"),
        headers,
        format,
        Some("urn:getQuote".into()),
        Some("http://localhost:8280/services/Test".into()),
        Body::Bytes(Bytes::from(body.to_string())),
    )
}

/// Runs the named sequence of `engine`'s deployment on `ctx`.
pub async fn run(engine: &Engine, sequence: &str, ctx: &mut MessageContext) -> Result<Flow, MediationError> {
    let seq = engine.deployment.sequences.get(sequence).cloned().unwrap_or_else(|| panic!("no sequence {sequence}"));
    seq.mediate(ctx, engine).await
}

pub const SOAP11_QUOTE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote></soapenv:Body></soapenv:Envelope>"#;
