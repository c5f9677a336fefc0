//! SOAP faults, built in one place.
//!
//! Every error the server answers with — a refused request, a backend that is down, a
//! fault sequence that ends without answering — becomes a [`SoapFault`] rendered in the
//! request's own format: SOAP 1.1 (always HTTP 500), SOAP 1.2 (`Sender` → 400, other codes
//! → 500) or plain XML.

use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use bytes::Bytes;
use quick_xml::escape::escape;

use super::body::Body;
use super::format::MessageFormat;
use super::Reply;

/// The namespace of the error details we add to faults (Synapse's own).
pub const ERROR_DETAIL_NS: &str = "http://ws.apache.org/ns/synapse";

/// The fault code, named by its SOAP 1.1 name (SOAP 1.2 names in the comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    VersionMismatch,
    MustUnderstand,
    /// The request is at fault (SOAP 1.2 `Sender`).
    Client,
    /// We or the backend are at fault (SOAP 1.2 `Receiver`).
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: FaultCode,
    pub reason: String,
    /// Inner XML of the detail element; already well-formed.
    pub detail: Option<String>,
    /// Overrides the status the SOAP binding would choose (e.g. 401, 413).
    pub status: Option<StatusCode>,
}

impl SoapFault {
    pub fn new(code: FaultCode, reason: impl Into<String>) -> Self {
        SoapFault { code, reason: reason.into(), detail: None, status: None }
    }

    pub fn client(reason: impl Into<String>) -> Self {
        Self::new(FaultCode::Client, reason)
    }

    pub fn server(reason: impl Into<String>) -> Self {
        Self::new(FaultCode::Server, reason)
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds Synapse-style error details: the numeric error code and its message.
    pub fn with_error(mut self, code: u32, message: &str) -> Self {
        self.detail = Some(format!(
            "<syn:ErrorCode xmlns:syn=\"{ERROR_DETAIL_NS}\">{code}</syn:ErrorCode><syn:ErrorMessage xmlns:syn=\"{ERROR_DETAIL_NS}\">{}</syn:ErrorMessage>",
            escape(message)
        ));
        self
    }

    /// The HTTP status for this fault in `format`.
    pub fn http_status(&self, format: MessageFormat) -> StatusCode {
        if let Some(s) = self.status {
            return s;
        }
        match (format, self.code) {
            (MessageFormat::Soap11, _) => StatusCode::INTERNAL_SERVER_ERROR,
            (_, FaultCode::Client) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn to_xml(&self, format: MessageFormat) -> String {
        let reason = escape(self.reason.as_str());
        let detail = self.detail.as_deref().unwrap_or("");
        match format {
            MessageFormat::Soap11 => {
                let code = match self.code {
                    FaultCode::VersionMismatch => "VersionMismatch",
                    FaultCode::MustUnderstand => "MustUnderstand",
                    FaultCode::Client => "Client",
                    FaultCode::Server => "Server",
                };
                let detail = if detail.is_empty() { String::new() } else { format!("<detail>{detail}</detail>") };
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{}\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:{code}</faultcode><faultstring>{reason}</faultstring>{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
                    super::format::SOAP11_ENV_NS
                )
            }
            MessageFormat::Soap12 => {
                let code = match self.code {
                    FaultCode::VersionMismatch => "VersionMismatch",
                    FaultCode::MustUnderstand => "MustUnderstand",
                    FaultCode::Client => "Sender",
                    FaultCode::Server => "Receiver",
                };
                let detail = if detail.is_empty() { String::new() } else { format!("<soapenv:Detail>{detail}</soapenv:Detail>") };
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{}\"><soapenv:Body><soapenv:Fault><soapenv:Code><soapenv:Value>soapenv:{code}</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang=\"en\">{reason}</soapenv:Text></soapenv:Reason>{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
                    super::format::SOAP12_ENV_NS
                )
            }
            MessageFormat::Pox => {
                let code = match self.code {
                    FaultCode::Client | FaultCode::VersionMismatch | FaultCode::MustUnderstand => "Client",
                    FaultCode::Server => "Server",
                };
                let detail = if detail.is_empty() { String::new() } else { format!("<detail>{detail}</detail>") };
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><fault><code>{code}</code><reason>{reason}</reason>{detail}</fault>")
            }
        }
    }

    /// The complete HTTP answer carrying this fault.
    pub fn into_reply(self, format: MessageFormat) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
        Reply { status: self.http_status(format), headers, body: Body::Bytes(Bytes::from(self.to_xml(format))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_soap_bindings() {
        let c = SoapFault::client("bad");
        assert_eq!(c.http_status(MessageFormat::Soap11), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(c.http_status(MessageFormat::Soap12), StatusCode::BAD_REQUEST);
        assert_eq!(SoapFault::server("x").http_status(MessageFormat::Soap12), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(c.clone().with_status(StatusCode::UNAUTHORIZED).http_status(MessageFormat::Soap11), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn renders_escaped_xml() {
        let f = SoapFault::server("a < b & c").with_error(101503, "refused <x>");
        let s11 = f.to_xml(MessageFormat::Soap11);
        assert!(s11.contains("<faultcode>soapenv:Server</faultcode><faultstring>a &lt; b &amp; c</faultstring>"), "{s11}");
        assert!(s11.contains(">101503</syn:ErrorCode>") && s11.contains("refused &lt;x&gt;"), "{s11}");
        let s12 = SoapFault::client("r").to_xml(MessageFormat::Soap12);
        assert!(s12.contains("<soapenv:Value>soapenv:Sender</soapenv:Value>"), "{s12}");
        assert!(s12.contains(super::super::format::SOAP12_ENV_NS));
        for xml in [s11, s12, f.to_xml(MessageFormat::Pox)] {
            let mut r = quick_xml::Reader::from_str(&xml);
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{e}: {xml}"),
                }
            }
        }
    }
}
