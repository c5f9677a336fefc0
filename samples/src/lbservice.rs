//! LBService1: the service behind Synapse's load-balancing and failover samples (52, 53,
//! 154). Every instance answers `sampleOperation` with its own name, so a client can see
//! which server took each request.

use quick_xml::escape::escape;

use crate::stockquote::{read_text, ServiceReply, SoapVersion, SERVICE_NS, SOAP11_NS, SOAP12_NS};

pub const PATH: &str = "/services/LBService1";

/// Answers any request with `Response from server: <name>` in the request's SOAP version.
pub fn handle(server_name: &str, content_type: Option<&str>, body: &[u8]) -> ServiceReply {
    let version = match content_type.map(|c| c.to_ascii_lowercase()) {
        Some(c) if c.starts_with("application/soap+xml") => SoapVersion::Soap12,
        _ => SoapVersion::Soap11,
    };
    // A request that is not XML at all is still answered: the point is who answers.
    let _ = body;
    let payload = format!(
        "<ns:sampleOperationResponse xmlns:ns=\"{SERVICE_NS}\"><ns:return>Response from server: {}</ns:return></ns:sampleOperationResponse>",
        escape(server_name)
    );
    ServiceReply { status: 200, content_type: version.content_type(), body: envelope(version, &payload).into_bytes() }
}

fn envelope(version: SoapVersion, payload: &str) -> String {
    let ns = match version {
        SoapVersion::Soap11 => SOAP11_NS,
        SoapVersion::Soap12 => SOAP12_NS,
    };
    format!("<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{ns}\"><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>")
}

/// The request Synapse's load-balancing client sends (SOAP 1.1).
pub fn request(client_id: Option<&str>) -> Vec<u8> {
    let header = match client_id {
        Some(id) => format!("<soapenv:Header><syn:ClientID xmlns:syn=\"http://ws.apache.org/ns/synapse\">{}</syn:ClientID></soapenv:Header>", escape(id)),
        None => String::new(),
    };
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\">{header}<soapenv:Body><ns:sampleOperation xmlns:ns=\"{SERVICE_NS}\"><ns:param>load</ns:param></ns:sampleOperation></soapenv:Body></soapenv:Envelope>"
    )
    .into_bytes()
}

/// The server name in an answer: `Response from server: MyServer1`.
pub fn read_answer(body: &[u8]) -> Option<String> {
    read_text(body, "return")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_the_server_name() {
        let r = handle("MyServer2", Some("text/xml"), &request(Some("c1")));
        assert_eq!(r.status, 200);
        assert_eq!(read_answer(&r.body).as_deref(), Some("Response from server: MyServer2"));
        let r12 = handle("a<b", Some("application/soap+xml"), b"");
        assert!(String::from_utf8(r12.body.clone()).unwrap().contains(SOAP12_NS));
        assert_eq!(read_answer(&r12.body).as_deref(), Some("Response from server: a<b"));
    }
}
