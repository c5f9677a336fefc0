//! Hostile and broken XML against a proxy that reads the message: each gets a client
//! fault (or 413), quickly and with bounded memory, and the server keeps serving.

mod common;

use common::{backend, start_server, TestPki};

const ENV_OPEN: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#;
const ENV_CLOSE: &str = "</soapenv:Body></soapenv:Envelope>";

struct Setup {
    server: common::server::Server,
    _backend: backend::Backend,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let mut axis2 = common::axis2_xml(&pki, "none");
    axis2 = axis2.replace("<axisconfig name=\"test\">", "<axisconfig name=\"test\">\n  <parameter name=\"MaxMessageSize\">1048576</parameter>");
    // The filter makes mediation read (and so parse) every message.
    let proxy = format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Reader" transports="http">
  <target>
    <inSequence>
      <filter xpath="count(//*) &gt; 0"><then><send><endpoint><address uri="{}"/></endpoint></send></then><else><drop/></else></filter>
    </inSequence>
    <outSequence><send/></outSequence>
  </target>
</proxy>"#,
        backend.url("/echo")
    );
    let server = start_server(dir.path(), &axis2, &[("Reader", proxy)]);
    Setup { server, _backend: backend, _dir: dir }
}

fn post(s: &Setup, body: &[u8]) -> common::client::Response {
    common::client::post(&s.server.http_url("/services/Reader"), &[("Content-Type", "text/xml")], body, &Default::default()).unwrap()
}

fn nested(depth_inside_body: usize) -> String {
    // Envelope and Body are depth 1 and 2.
    let mut s = ENV_OPEN.to_string();
    for _ in 0..depth_inside_body {
        s.push_str("<e>");
    }
    for _ in 0..depth_inside_body {
        s.push_str("</e>");
    }
    s + ENV_CLOSE
}

fn assert_client_fault(r: &common::client::Response, what: &str, expect: &str) {
    assert_eq!(r.status, 500, "{what}: {}", r.text());
    let t = r.text();
    assert!(t.contains("<faultcode>soapenv:Client</faultcode>") && t.contains(expect), "{what}: {t}");
}

#[test]
fn limits_apply_at_their_exact_boundaries() {
    let s = setup();
    assert_eq!(post(&s, nested(98).as_bytes()).status, 200, "depth 100 is accepted");
    assert_client_fault(&post(&s, nested(99).as_bytes()), "depth 101", "depth");

    let siblings = |n: usize| format!("{ENV_OPEN}<list>{}</list>{ENV_CLOSE}", "<i/>".repeat(n));
    assert_eq!(post(&s, siblings(50_000).as_bytes()).status, 200);
    assert_client_fault(&post(&s, siblings(50_001).as_bytes()), "50,001 children", "child elements");

    let attrs = |n: usize| format!("{ENV_OPEN}<a {}/>{ENV_CLOSE}", (0..n).map(|i| format!("a{i}=\"v\"")).collect::<Vec<_>>().join(" "));
    assert_eq!(post(&s, attrs(500).as_bytes()).status, 200);
    assert_client_fault(&post(&s, attrs(501).as_bytes()), "501 attributes", "attributes");

    let long = |n: usize| format!("{ENV_OPEN}<a v=\"{}\"/>{ENV_CLOSE}", "x".repeat(n));
    assert_eq!(post(&s, long(64 * 1024).as_bytes()).status, 200);
    assert_client_fault(&post(&s, long(64 * 1024 + 1).as_bytes()), "64 KiB + 1 attribute", "attribute");
}

#[test]
fn dtds_are_refused_fast() {
    let s = setup();
    let xxe = format!("<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{ENV_OPEN}&x;{ENV_CLOSE}");
    assert_client_fault(&post(&s, xxe.as_bytes()), "external entity", "DTD is not allowed");
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        laughs.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", if i == 1 { String::new() } else { (i - 1).to_string() }).repeat(10)));
    }
    laughs.push_str(&format!("]>{ENV_OPEN}<a>&lol9;</a>{ENV_CLOSE}"));
    let started = std::time::Instant::now();
    assert_client_fault(&post(&s, laughs.as_bytes()), "billion laughs", "DTD is not allowed");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Quadratic blow-up: one large entity referenced many times.
    let quadratic = format!("<!DOCTYPE q [<!ENTITY big \"{}\">]>{ENV_OPEN}<a>{}</a>{ENV_CLOSE}", "x".repeat(50_000), "&big;".repeat(50_000));
    let started = std::time::Instant::now();
    assert_client_fault(&post(&s, quadratic.as_bytes()), "quadratic blow-up", "DTD is not allowed");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(post(&s, nested(3).as_bytes()).status, 200, "still serving");
}

/// H7: a backend answering malformed XML, when mediation must read the answer, gets the
/// client a SOAP fault (101510), and the server keeps serving.
#[test]
fn a_malformed_backend_response_is_a_fault_when_mediation_reads_it() {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    // No in-sequence: the (malformed) request is not read on the way in; the echo
    // backend returns it and the out-sequence has to read it.
    let proxy = format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="ReadsAnswer" transports="http"><target><endpoint><address uri="{}"/></endpoint><outSequence><property name="first" expression="name(//*[1])"/><send/></outSequence></target></proxy>"#,
        backend.url("/echo")
    );
    let server = start_server(dir.path(), &common::axis2_xml(&pki, "none"), &[("ReadsAnswer", proxy)]);
    let send = |body: String| common::client::post(&server.http_url("/services/ReadsAnswer"), &[("Content-Type", "text/xml")], body.as_bytes(), &Default::default()).unwrap();
    let r = send(format!("{ENV_OPEN}<a><b></a>{ENV_CLOSE}"));
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("faultstring") && r.text().contains("101510"), "{}", r.text());
    assert_eq!(send(format!("{ENV_OPEN}<a/>{ENV_CLOSE}")).status, 200, "still serving");
}

#[test]
fn broken_xml_and_oversized_bodies() {
    let s = setup();
    let mut bad_utf8 = format!("{ENV_OPEN}<a>").into_bytes();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0x80]);
    bad_utf8.extend_from_slice(format!("</a>{ENV_CLOSE}").as_bytes());
    assert_client_fault(&post(&s, &bad_utf8), "invalid UTF-8", "");
    assert_client_fault(&post(&s, format!("{ENV_OPEN}<a><b></a>{ENV_CLOSE}").as_bytes()), "mismatched tags", "malformed");
    assert_client_fault(&post(&s, format!("{ENV_OPEN}<a>").as_bytes()), "unclosed", "malformed");

    let big = format!("{ENV_OPEN}<a>{}</a>{ENV_CLOSE}", "x".repeat(1024 * 1024));
    let r = post(&s, big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("larger than the limit"), "{}", r.text());

    // and the server still serves
    assert_eq!(post(&s, nested(3).as_bytes()).status, 200);
}

/// A group endpoint reads the body into memory too: a body over MaxMessageSize is the
/// client's fault there as well (413, soapenv:Client), never a server fault, and the
/// members are not suspended for it.
#[test]
fn an_oversized_body_through_a_group_is_413() {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let axis2 = common::axis2_xml(&pki, "none").replace("<axisconfig name=\"test\">", "<axisconfig name=\"test\">\n  <parameter name=\"MaxMessageSize\">1048576</parameter>");
    let member = format!(r#"<endpoint><address uri="{}"/></endpoint>"#, backend.url("/echo"));
    let proxy = |name: &str, group: &str| {
        format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http"><target><endpoint><{group}>{member}{member}</{group}></endpoint><outSequence><send/></outSequence></target></proxy>"#)
    };
    let server = start_server(dir.path(), &axis2, &[("F", proxy("F", "failover")), ("LB", proxy("LB", "loadbalance"))]);
    let big = format!("{ENV_OPEN}<a>{}</a>{ENV_CLOSE}", "x".repeat(1024 * 1024));
    for name in ["F", "LB"] {
        let send = |body: &str| common::client::post(&server.http_url(&format!("/services/{name}")), &[("Content-Type", "text/xml")], body.as_bytes(), &Default::default()).unwrap();
        let r = send(&big);
        assert_eq!(r.status, 413, "{name}: {}", r.text());
        assert!(r.text().contains("<faultcode>soapenv:Client</faultcode>") && r.text().contains("larger than the limit"), "{name}: {}", r.text());
        assert_eq!(send(&nested(3)).status, 200, "{name}: the members are not suspended");
    }
}

/// F14 and F16 of the security test list: a value from the client reaching an XPath is a
/// value, never expression text; XInclude is not processed.
#[test]
fn client_values_stay_values_in_xpath_and_xinclude_is_inert() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let lookup = r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Lookup" transports="http">
  <target>
    <inSequence>
      <property name="n" expression="count(//user[@name = $trp:X-User])"/>
      <payloadFactory media-type="xml"><format><count xmlns="">$1</count></format><args><arg expression="get-property('n')"/></args></payloadFactory>
      <respond/>
    </inSequence>
  </target>
</proxy>"#;
    let echo = r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="Echo" transports="http">
  <target><inSequence><log level="full"/><respond/></inSequence></target>
</proxy>"#;
    let server = start_server(dir.path(), &common::axis2_xml(&pki, "none"), &[("Lookup", lookup.into()), ("Echo", echo.into())]);
    let users = format!(r#"{ENV_OPEN}<users><user name="alice"/><user name="bob"/></users>{ENV_CLOSE}"#);
    let count = |who: &str| {
        let r = common::client::post(&server.http_url("/services/Lookup"), &[("Content-Type", "text/xml"), ("X-User", who)], users.as_bytes(), &Default::default()).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let text = r.text();
        text.split("</count>").next().and_then(|t| t.rsplit('>').next()).unwrap_or("?").to_string()
    };
    assert_eq!(count("alice"), "1");
    assert_eq!(count("x' or '1'='1"), "0", "a quote in the value does not end the string");
    assert_eq!(count("alice' or @name='bob"), "0");
    assert_eq!(count("\" or \"1\"=\"1"), "0");

    let xinclude = format!(r#"{ENV_OPEN}<doc xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></doc>{ENV_CLOSE}"#);
    let r = common::client::post(&server.http_url("/services/Echo"), &[("Content-Type", "text/xml")], xinclude.as_bytes(), &Default::default()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("xi:include") && !r.text().contains("root:"), "the include stays an element: {}", r.text());
}
