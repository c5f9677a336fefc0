//! Mediators that shape the exchange, through the real server: call, send with a receiving
//! sequence, loopback with HTTP_SC, OUT_ONLY, and a proxy's fault sequence.

mod common;

use common::{axis2_xml, backend, start_server, TestPki, SOAP11_GET_QUOTE};

fn proxy(name: &'static str, target: &str) -> (&'static str, String) {
    (name, format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" xmlns:m0="http://services.samples" name="{name}" transports="http"><target>{target}</target></proxy>"#))
}

#[test]
fn call_receive_loopback_out_only_and_fault_sequences() {
    let pki = TestPki::new();
    let echo = backend::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ep = format!(r#"<endpoint><address uri="{}"/></endpoint>"#, echo.url("/echo"));
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(
        dir.path(),
        &axis2_xml(&pki, "none"),
        &[
            proxy("Chain", &format!(r#"<inSequence><call>{ep}</call><header name="X-Called" value="yes" scope="transport"/><respond/></inSequence>"#)),
            proxy("Receive", &format!(r#"<inSequence><send receive="rx">{ep}</send></inSequence>"#)),
            ("rx", r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="rx"><header name="X-Received" value="by rx" scope="transport"/><send/></sequence>"#.to_string()),
            proxy("Loop", r#"<inSequence><loopback/></inSequence><outSequence><property name="HTTP_SC" value="201" scope="axis2"/><send/></outSequence>"#),
            proxy("OneWay", &format!(r#"<inSequence><property name="OUT_ONLY" value="true"/><send>{ep}</send></inSequence>"#)),
            proxy(
                "Down",
                &format!(
                    r#"<endpoint><address uri="http://127.0.0.1:{closed}/x"/></endpoint>
                       <faultSequence><makefault version="soap11"><code xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" value="s:Server"/>
                       <reason expression="fn:concat('backend unavailable: ', get-property('ERROR_CODE'))" xmlns:fn="http://www.w3.org/2005/xpath-functions"/></makefault>
                       <property name="HTTP_SC" value="503" scope="axis2"/><respond/></faultSequence>"#
                ),
            ),
        ],
    );
    let post = |path: &str| {
        common::client::post(&server.http_url(path), &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")], SOAP11_GET_QUOTE.as_bytes(), &Default::default()).unwrap()
    };

    let r = post("/services/Chain");
    assert_eq!((r.status, r.text().as_str()), (200, SOAP11_GET_QUOTE), "call continues with the response");
    assert_eq!(r.header("x-called"), Some("yes"));
    assert_eq!(r.header("x-seen-method"), Some("POST"), "the echo's headers are the response's");

    let r = post("/services/Receive");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-received"), Some("by rx"));

    let r = post("/services/Loop");
    assert_eq!((r.status, r.text().as_str()), (201, SOAP11_GET_QUOTE));
    assert!(r.header("x-seen-method").is_none(), "never reached the backend");

    let r = post("/services/OneWay");
    assert_eq!((r.status, r.body.len()), (202, 0));

    let r = post("/services/Down");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("<faultstring>backend unavailable: 101503</faultstring>"), "{}", r.text());
}
