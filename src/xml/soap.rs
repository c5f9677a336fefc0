//! Finding the SOAP envelope, header and body of a parsed message.
//!
//! Only the structure is looked at: the root must be an `Envelope` in the SOAP 1.1 or 1.2
//! namespace; `Header` and `Body` are its element children in that same namespace.

use super::{Document, NodeId};

pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoapVersion {
    Soap11,
    Soap12,
}

impl SoapVersion {
    pub fn namespace(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => SOAP11_NS,
            SoapVersion::Soap12 => SOAP12_NS,
        }
    }

    pub fn from_namespace(ns: &str) -> Option<SoapVersion> {
        match ns {
            SOAP11_NS => Some(SoapVersion::Soap11),
            SOAP12_NS => Some(SoapVersion::Soap12),
            _ => None,
        }
    }
}

/// The parts of a SOAP envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub version: SoapVersion,
    pub envelope: NodeId,
    pub header: Option<NodeId>,
    pub body: Option<NodeId>,
}

/// The SOAP envelope of `doc`, if its root element is one.
pub fn envelope(doc: &Document) -> Option<Envelope> {
    let env = doc.document_element()?;
    if doc.local_name(env) != "Envelope" {
        return None;
    }
    let version = SoapVersion::from_namespace(doc.namespace_uri(env)?)?;
    let ns = Some(version.namespace());
    Some(Envelope {
        version,
        envelope: env,
        header: doc.child_element(env, ns, "Header"),
        body: doc.child_element(env, ns, "Body"),
    })
}

impl Envelope {
    /// The first element inside the body (the payload), if any.
    pub fn payload(&self, doc: &Document) -> Option<NodeId> {
        self.body.and_then(|b| doc.first_element_child(b))
    }
}
