//! Errors raised during mediation, carrying Synapse's numeric error codes.
//!
//! The code, message and detail reach the fault sequence as the `ERROR_CODE`,
//! `ERROR_MESSAGE` and `ERROR_DETAIL` properties, and the client in the default fault.

use actix_web::http::StatusCode;

use crate::endpoint::EndpointError;
use crate::message::body::BodyError;
use crate::message::SoapFault;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error code {code})")]
pub struct MediationError {
    pub code: u32,
    pub message: String,
    pub detail: Option<String>,
    /// For errors that decide the answer themselves — the client's mistakes (a body too
    /// large, hostile or malformed XML), a timeout set to `discard` — the fault the client
    /// gets, whatever the fault handlers do.
    pub answer: Option<Box<SoapFault>>,
    /// The HTTP status of the default fault, when not the SOAP binding's (a backend's 503
    /// stays a 503).
    pub status: Option<StatusCode>,
}

/// Error code when the client's message cannot be read.
pub const UNREADABLE_MESSAGE: u32 = 101000;
/// Error code when a backend's response cannot be read (Synapse's response processing
/// failure).
pub const UNREADABLE_RESPONSE: u32 = 101510;

impl MediationError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        MediationError { code, message: message.into(), detail: None, answer: None, status: None }
    }

    /// The client sent something we will not read: a client fault, with `status` if the
    /// SOAP binding's own is not right (413 for a body too large).
    pub fn client(message: impl Into<String>, status: Option<StatusCode>) -> Self {
        let message = message.into();
        let mut fault = SoapFault::client(message.clone());
        fault.status = status;
        MediationError { code: UNREADABLE_MESSAGE, message, detail: None, answer: Some(Box::new(fault)), status: None }
    }

    /// A body that could not be read into memory.
    pub fn body(e: &BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => Self::client(e.to_string(), Some(StatusCode::PAYLOAD_TOO_LARGE)),
            BodyError::Read(p) if crate::message::body::is_timeout(p) => Self::client(e.to_string(), Some(StatusCode::REQUEST_TIMEOUT)),
            BodyError::Read(_) => Self::client(e.to_string(), None),
        }
    }
}

impl From<EndpointError> for MediationError {
    fn from(e: EndpointError) -> Self {
        if let EndpointError::ClientMessage(e) = e {
            return *e;
        }
        let message = e.to_string();
        if let EndpointError::ClientBody { timed_out, .. } = e {
            return Self::client(message, Some(if timed_out { StatusCode::REQUEST_TIMEOUT } else { StatusCode::BAD_REQUEST }));
        }
        let answer = e.is_final().then(|| Box::new(SoapFault::server(message.clone()).with_error(e.code(), &message)));
        MediationError { code: e.code(), message, detail: None, answer, status: None }
    }
}
