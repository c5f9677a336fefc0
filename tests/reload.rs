//! Hot reload: SIGHUP puts a new configuration in force for new requests; requests in
//! flight finish on the old one; a configuration that fails to load is refused and the
//! running one stays.

mod common;

use std::time::{Duration, Instant};

use common::misbehaving::{Behaviour, Misbehaving};
use common::server::{write_files, Server};

const AXIS2: &str = r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter></transportReceiver><transportSender name="http"/></axisconfig>"#;
const REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:ask xmlns:r="urn:test"/></soapenv:Body></soapenv:Envelope>"#;

fn proxy_to(url: &str) -> String {
    format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http"><target><endpoint><address uri="{url}"/></endpoint><outSequence><send/></outSequence></target></proxy>"#)
}

fn served_by(s: &Server) -> String {
    let r = common::client::post(&s.http_url("/services/P"), &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap();
    r.text().split("<name>").nth(1).and_then(|t| t.split("</name>").next()).unwrap_or("").to_string()
}

fn hup(s: &mut Server, expect: &str) {
    let before = s.logs().len();
    std::process::Command::new("kill").arg("-HUP").arg(s.pid().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if s.logs()[before..].iter().any(|l| l.contains(expect)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no '{expect}' in the log after SIGHUP:\n{}", s.logs().join("\n"));
}

#[test]
fn sighup_reloads_without_disturbing_requests_in_flight() {
    let old = Misbehaving::start("old", Behaviour::Slow(Duration::from_millis(800)));
    let new = Misbehaving::start("new", Behaviour::Ok);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("conf/axis2.xml", AXIS2.into()), ("mediation/proxy-services/P.xml", proxy_to(&old.url()))]);
    let mut s = Server::start(dir.path());

    // A request in flight on the old configuration…
    let url = s.http_url("/services/P");
    let in_flight = std::thread::spawn(move || {
        common::client::post(&url, &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap().text()
    });
    std::thread::sleep(Duration::from_millis(200));
    // …while the configuration changes under it.
    write_files(dir.path(), &[("mediation/proxy-services/P.xml", proxy_to(&new.url()))]);
    hup(&mut s, "configuration reloaded");
    assert_eq!(served_by(&s), "new", "new requests use the new configuration");
    assert!(in_flight.join().unwrap().contains("<name>old</name>"), "the request in flight finished on the old one");

    // A broken configuration is refused; the running one stays.
    write_files(dir.path(), &[("mediation/proxy-services/P.xml", "<proxy name=\"P\">".into())]);
    hup(&mut s, "reload failed; the running configuration stays");
    assert!(s.logs().iter().any(|l| l.contains("P.xml:1:")), "the error names the file and line");
    assert_eq!(served_by(&s), "new");
}
