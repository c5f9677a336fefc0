//! Errors raised during mediation, carrying Synapse's numeric error codes.
//!
//! The code, message and detail reach the fault sequence as the `ERROR_CODE`,
//! `ERROR_MESSAGE` and `ERROR_DETAIL` properties, and the client in the default fault.

use crate::endpoint::EndpointError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error code {code})")]
pub struct MediationError {
    pub code: u32,
    pub message: String,
    pub detail: Option<String>,
}

impl MediationError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        MediationError { code, message: message.into(), detail: None }
    }
}

impl From<EndpointError> for MediationError {
    fn from(e: EndpointError) -> Self {
        MediationError { code: e.code(), message: e.to_string(), detail: None }
    }
}
