//! Endpoints against backends that misbehave on purpose: the suspension state machine over
//! time, timeouts, broken responses, faults relayed, failover and load balancing, and one
//! answer per request under load with a failing member.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::misbehaving::{Behaviour, Misbehaving, FAULT_BODY};
use common::server::{write_files, Server};

const AXIS2: &str = r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter></transportReceiver><transportSender name="http"/></axisconfig>"#;

const REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:ask xmlns:r="urn:test"/></soapenv:Body></soapenv:Envelope>"#;

/// A server with one proxy per `(name, endpoint XML)`, each forwarding to its endpoint.
fn server(proxies: &[(&str, String)]) -> (Server, tempfile::TempDir) {
    server_with(AXIS2, proxies)
}

fn server_with(axis2: &str, proxies: &[(&str, String)]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![("conf/axis2.xml".to_string(), axis2.to_string())];
    for (name, endpoint) in proxies {
        files.push((
            format!("mediation/proxy-services/{name}.xml"),
            format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http"><target>{endpoint}<outSequence><send/></outSequence></target></proxy>"#),
        ));
    }
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    write_files(dir.path(), &files);
    (Server::start(dir.path()), dir)
}

fn post(s: &Server, proxy: &str) -> common::client::Response {
    post_with(s, proxy, &[])
}

fn post_with(s: &Server, proxy: &str, extra: &[(&str, &str)]) -> common::client::Response {
    let mut headers = vec![("Content-Type", "text/xml"), ("SOAPAction", "urn:ask")];
    headers.extend_from_slice(extra);
    common::client::post(&s.http_url(&format!("/services/{proxy}")), &headers, REQUEST.as_bytes(), &Default::default()).unwrap()
}

fn code(r: &common::client::Response) -> Option<u32> {
    let t = r.text();
    let start = t.find("<syn:ErrorCode")? + t[t.find("<syn:ErrorCode")?..].find('>')? + 1;
    t[start..].split('<').next()?.parse().ok()
}

fn served_by(r: &common::client::Response) -> String {
    let t = r.text();
    t.split("<name>").nth(1).and_then(|s| s.split("</name>").next()).unwrap_or("").to_string()
}

fn address(url: &str, qos: &str) -> String {
    format!(r#"<endpoint><address uri="{url}">{qos}</address></endpoint>"#)
}

#[test]
fn suspension_fails_fast_then_recovers_with_progression_and_cap() {
    let backend = Misbehaving::start("b", Behaviour::Silent);
    let qos = "<timeout><duration>200</duration></timeout>\
               <markForSuspension><retriesBeforeSuspension>0</retriesBeforeSuspension></markForSuspension>\
               <suspendOnFailure><initialDuration>600</initialDuration><progressionFactor>2</progressionFactor><maximumDuration>1000</maximumDuration></suspendOnFailure>";
    let (s, _dir) = server(&[("P", address(&backend.url(), qos))]);

    let t = Instant::now();
    assert_eq!(code(&post(&s, "P")), Some(101504), "first timeout");
    assert!(t.elapsed() < Duration::from_millis(1200), "answered within the timeout: {:?}", t.elapsed());
    assert_eq!(code(&post(&s, "P")), Some(101504), "Timeout state: one more try");
    let connections = backend.connections.load(Ordering::Relaxed);
    let requests = backend.requests.load(Ordering::Relaxed);

    // Suspended: fail fast, never touching the backend.
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let r = post(&s, "P");
        worst = worst.max(t.elapsed());
        assert_eq!(code(&r), Some(303001), "{}", r.text());
    }
    assert_eq!(backend.requests.load(Ordering::Relaxed), requests, "no request reached the suspended backend");
    assert_eq!(backend.connections.load(Ordering::Relaxed), connections, "not even a connection");
    assert!(worst < Duration::from_millis(100), "fail fast, worst {worst:?}");

    // After 600 ms a trial goes through; it times out: suspended again for 1200 → capped 1000.
    std::thread::sleep(Duration::from_millis(650));
    assert_eq!(code(&post(&s, "P")), Some(101504), "the trial reaches the backend");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(code(&post(&s, "P")), Some(303001), "still suspended after 700 ms (progression)");
    std::thread::sleep(Duration::from_millis(400));
    // The backend recovers; the trial after the capped 1000 ms succeeds and it is Active.
    backend.set(Behaviour::Ok);
    let r = post(&s, "P");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "b"), "{}", r.text());
    assert_eq!(post(&s, "P").status, 200);
}

/// A loopback address where a TCP connect hangs, the way it does to a host that drops SYNs:
/// a listener that never accepts, whose accept queue is full, makes Linux drop further SYNs
/// (the client's first retransmission comes only after a second). The queue is filled
/// until a connect is seen to hang, so this does not depend on how the kernel counts the
/// backlog. Keep the returned sockets alive as long as the address must stay silent.
fn address_that_drops_syns() -> (SocketAddr, socket2::Socket, Vec<TcpStream>) {
    let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => queued.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return (addr, listener, queued),
            Err(e) => panic!("connecting to the full listener: {e}"),
        }
        assert!(queued.len() < 64, "a listener with backlog 0 accepted {} connections; the kernel does not drop SYNs here", queued.len());
    }
}

/// H2 of the security test list: a backend that never answers the TCP handshake gives the
/// SOAP fault 101508 (connection timed out) after the sender's `ConnectTimeout`, not after
/// the endpoint's much longer read timeout, and the server keeps serving.
#[test]
fn a_connect_that_times_out_gives_101508() {
    let (silent, _listener, _queued) = address_that_drops_syns();
    let ok = Misbehaving::start("ok", Behaviour::Ok);
    let axis2 = AXIS2.replace(r#"<transportSender name="http"/>"#, r#"<transportSender name="http"><parameter name="ConnectTimeout">500</parameter></transportSender>"#);
    let (s, _dir) = server_with(
        &axis2,
        &[("Dropped", address(&format!("http://{silent}/services/Backend"), "<timeout><duration>10000</duration></timeout>")), ("Ok", address(&ok.url(), ""))],
    );

    let t = Instant::now();
    let r = post(&s, "Dropped");
    let took = t.elapsed();
    assert_eq!((r.status, code(&r)), (500, Some(101508)), "{}", r.text());
    assert!(took >= Duration::from_millis(450) && took < Duration::from_millis(2500), "answered after the 500 ms ConnectTimeout: {took:?}");

    let r = post(&s, "Ok");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "ok"), "the server keeps serving");
}

#[test]
fn timeouts_broken_responses_faults_and_error_pages() {
    let silent = Misbehaving::start("silent", Behaviour::Silent);
    let reset = Misbehaving::start("reset", Behaviour::ResetMidBody);
    let fault = Misbehaving::start("fault", Behaviour::SoapFault);
    let html = Misbehaving::start("html", Behaviour::Html503);
    let slow = Misbehaving::start("slow", Behaviour::Slow(Duration::from_millis(400)));
    let discard = format!(
        r#"{}<faultSequence><header name="X-Fault-Sequence" value="ran" scope="transport"/></faultSequence>"#,
        address(&silent.url(), "<timeout><duration>300</duration><responseAction>discard</responseAction></timeout>")
    );
    let (s, _dir) = server(&[
        ("Silent", address(&silent.url(), "<timeout><duration>300</duration></timeout>")),
        ("Discard", discard),
        ("Reset", address(&reset.url(), "")),
        ("Fault", address(&fault.url(), "")),
        ("Html", address(&html.url(), "")),
        ("Slow", address(&slow.url(), "<timeout><duration>3000</duration></timeout>")),
    ]);
    let r = post(&s, "Slow");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "slow"), "slow but within its timeout");

    let t = Instant::now();
    let r = post(&s, "Silent");
    assert_eq!((r.status, code(&r)), (500, Some(101504)));
    assert!(t.elapsed() < Duration::from_millis(1300), "within timeout + 1 s: {:?}", t.elapsed());

    let r = post(&s, "Discard");
    assert_eq!(code(&r), Some(101504));
    assert!(r.header("x-fault-sequence").is_none(), "discard answers without the fault sequence");

    // Head sent, body broken off: the client must not get a complete-looking answer.
    let broken = common::client::post(&s.http_url("/services/Reset"), &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default());
    assert!(broken.is_err(), "a truncated body must not look complete: {:?}", broken.map(|r| r.text()));

    // A SOAP fault with 500 is an answer: relayed unchanged, the endpoint stays active.
    for _ in 0..3 {
        let r = post(&s, "Fault");
        assert_eq!((r.status, r.text().as_str()), (500, FAULT_BODY));
    }
    assert_eq!(fault.requests.load(Ordering::Relaxed), 3, "not suspended");

    let r = post(&s, "Html");
    assert_eq!(r.status, 503, "the original status is kept: {}", r.text());
    assert!(r.text().contains("<faultcode>soapenv:Server</faultcode>") && r.text().contains("HTTP 503"), "{}", r.text());
    // and the server keeps serving
    assert_eq!(post(&s, "Fault").status, 500);
}

#[test]
fn failover_goes_in_order_and_returns_to_the_first_when_it_recovers() {
    let first = Misbehaving::start("first", Behaviour::Ok);
    let first_addr = first.addr.to_string();
    drop(first); // dead for now
    let second = Misbehaving::start("second", Behaviour::Ok);
    let third = Misbehaving::start("third", Behaviour::Ok);
    let members = [format!("http://{first_addr}/services/Backend"), second.url(), third.url()]
        .iter()
        .map(|u| address(u, "<suspendOnFailure><initialDuration>300</initialDuration></suspendOnFailure>"))
        .collect::<String>();
    let (s, _dir) = server(&[("F", format!("<endpoint><failover>{members}</failover></endpoint>"))]);

    for _ in 0..3 {
        let r = post(&s, "F");
        assert_eq!((r.status, served_by(&r).as_str()), (200, "second"));
    }
    assert_eq!(third.requests.load(Ordering::Relaxed), 0, "the third is only used when the second fails");
    second.set(Behaviour::Silent);
    drop(second);
    let r = post(&s, "F");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "third"));

    let _revived = Misbehaving::start_on(&first_addr, "first", Behaviour::Ok);
    std::thread::sleep(Duration::from_millis(350));
    let r = post(&s, "F");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "first"), "back to the first after its suspension");

    drop(third);
    drop(_revived);
    let r = post(&s, "F");
    assert_eq!(r.status, 500);
    assert_eq!(code(&r), Some(303000), "no member left: {}", r.text());
}

#[test]
fn load_balancing_distributes_by_weight_and_keeps_sessions() {
    let backends: Vec<Misbehaving> = (1..=3).map(|i| Misbehaving::start(&format!("s{i}"), Behaviour::Ok)).collect();
    let members = |weights: bool| {
        backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let w = if weights { format!(r#"<property name="loadbalance.weight" value="{}"/>"#, i + 1) } else { String::new() };
                format!(r#"<endpoint><address uri="{}"/>{w}</endpoint>"#, b.url())
            })
            .collect::<String>()
    };
    let (s, _dir) = server(&[
        ("RR", format!("<endpoint><loadbalance>{}</loadbalance></endpoint>", members(false))),
        ("W", format!(r#"<endpoint><loadbalance algorithm="weightedRoundRobin">{}</loadbalance></endpoint>"#, members(true))),
        ("Sticky", format!(r#"<endpoint><session type="http"/><loadbalance>{}</loadbalance></endpoint>"#, members(false))),
    ]);
    let count = |proxy: &str, n: usize| {
        let mut c = std::collections::BTreeMap::new();
        for _ in 0..n {
            *c.entry(served_by(&post(&s, proxy))).or_insert(0) += 1;
        }
        c.into_values().collect::<Vec<_>>()
    };
    assert_eq!(count("RR", 30), vec![10, 10, 10]);
    assert_eq!(count("W", 60), vec![10, 20, 30]);

    // The backend's cookie binds the session; requests carrying it stay there.
    let first = post(&s, "Sticky");
    let cookie = first.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let home = served_by(&first);
    for _ in 0..6 {
        assert_eq!(served_by(&post_with(&s, "Sticky", &[("Cookie", &cookie)])), home);
    }
    let others: std::collections::BTreeSet<String> = (0..6).map(|_| served_by(&post(&s, "Sticky"))).collect();
    assert!(others.len() > 1, "without the cookie the load is spread");
}

#[test]
fn one_answer_per_request_under_load_with_a_failing_member() {
    let good = Misbehaving::start("good", Behaviour::Ok);
    let dead = Misbehaving::start("dead", Behaviour::Ok);
    let dead_url = dead.url();
    drop(dead);
    let (s, _dir) = server(&[("LB", format!("<endpoint><loadbalance>{}{}</loadbalance></endpoint>", address(&dead_url, ""), address(&good.url(), "")))]);
    let url = s.http_url("/services/LB");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        let r = common::client::post(&url, &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap();
                        (r.status, served_by(&r))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(answers.len(), 200);
    assert!(answers.iter().all(|(status, by)| *status == 200 && by == "good"), "{:?}", answers.iter().find(|(s, _)| *s != 200));
    assert_eq!(good.requests.load(Ordering::Relaxed), 200, "exactly one delivery per request");
}

#[test]
fn http_templates_formats_endpoint_templates_and_recipient_lists() {
    let echo = common::backend::start();
    let a = Misbehaving::start("a", Behaviour::Ok);
    let b = Misbehaving::start("b", Behaviour::Ok);
    let dir = tempfile::tempdir().unwrap();
    let proxy = |name: &str, inside: &str| {
        (format!("mediation/proxy-services/{name}.xml"), format!(r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http"><target>{inside}<outSequence><send/></outSequence></target></proxy>"#))
    };
    let files = [
        ("conf/axis2.xml".to_string(), AXIS2.to_string()),
        proxy("Http", &format!(r#"<inSequence><property name="uri.var.symbol" value="IBM X"/><send><endpoint><http method="put" uri-template="http://{}/echo?s={{uri.var.symbol}}&amp;q={{query.param.q}}"/></endpoint></send></inSequence>"#, echo.addr)),
        proxy("ToSoap12", &format!(r#"<endpoint><address uri="{}" format="soap12"><enableAddressing/></address></endpoint>"#, echo.url("/echo"))),
        proxy("ToPox", &format!(r#"<endpoint><address uri="{}" format="pox"/></endpoint>"#, echo.url("/echo"))),
        proxy("Templated", r#"<endpoint name="fromTemplate" template="viaEcho" uri="http://unused.invalid/"><parameter name="path" value="/echo"/></endpoint>"#),
        (
            "mediation/templates/viaEcho.xml".to_string(),
            format!(r#"<template xmlns="http://ws.apache.org/ns/synapse" name="viaEcho"><parameter name="path"/><endpoint name="$name"><address uri="http://{}$path"/></endpoint></template>"#, echo.addr),
        ),
        proxy("Both", &format!(r#"<endpoint><recipientlist>{}{}</recipientlist></endpoint>"#, address(&a.url(), ""), address(&b.url(), ""))),
    ];
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    write_files(dir.path(), &files);
    let s = Server::start(dir.path());

    let r = common::client::post(&s.http_url("/services/Http?q=a+b"), &[("Content-Type", "text/xml")], REQUEST.as_bytes(), &Default::default()).unwrap();
    assert_eq!(r.header("x-seen-method"), Some("PUT"));
    assert_eq!(r.header("x-seen-path"), Some("/echo?s=IBM%20X&q=a%20b"));

    let r = post(&s, "ToSoap12");
    assert!(r.header("x-seen-content-type").unwrap().starts_with("application/soap+xml"), "{:?}", r.header("x-seen-content-type"));
    assert!(r.header("x-seen-content-type").unwrap().contains("action=\"urn:ask\""));
    let t = r.text();
    assert!(t.contains("http://www.w3.org/2003/05/soap-envelope") && t.contains("<r:ask xmlns:r=\"urn:test\"/>"), "{t}");
    assert!(t.contains(&format!("<wsa:To>{}</wsa:To>", echo.url("/echo"))) && t.contains("<wsa:Action>urn:ask</wsa:Action>"), "{t}");

    let r = post(&s, "ToPox");
    assert_eq!(r.text(), r#"<r:ask xmlns:r="urn:test"/>"#);
    assert!(r.header("x-seen-soapaction").is_none());

    assert_eq!(post(&s, "Templated").header("x-seen-path"), Some("/echo"));

    let r = post(&s, "Both");
    assert_eq!((r.status, served_by(&r).as_str()), (200, "a"), "the first member's answer");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!((a.requests.load(Ordering::Relaxed), b.requests.load(Ordering::Relaxed)), (1, 1), "each got one copy");
}
