//! Synapse's samples 0–6, 12, 150 and 151 (shipped in `samples/configs/<n>/`), run against
//! the sample backend and driven like Synapse's sample client.

mod common;

use std::path::Path;

use common::backend::{self, Backend};
use common::server::{write_files, Server};

/// A sample deployment running against its own sample backends.
struct Sample {
    backend: Backend,
    /// For the load-balancing samples: MyServer1..3 in place of ports 9001..9003.
    lb: Vec<Option<Backend>>,
    server: Server,
    _dir: tempfile::TempDir,
}

impl Sample {
    /// Copies `samples/configs/<n>` with the backends' addresses in place of
    /// localhost:9000 (and 9001..9003).
    fn start(n: &str) -> Sample {
        let backend = backend::start_stockquote_http();
        let lb: Vec<Option<Backend>> = (1..=3).map(|i| Some(backend::start_sample_server(&format!("MyServer{i}")))).collect();
        let mut ports = vec![(9000, backend.addr.port())];
        ports.extend(lb.iter().enumerate().map(|(i, b)| (9001 + i as u16, b.as_ref().unwrap().addr.port())));
        let dir = tempfile::tempdir().unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/configs").join(n);
        copy_dir(&from, &dir.path().join("mediation"), &ports);
        write_files(
            dir.path(),
            &[(
                "conf/axis2.xml",
                r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="bind-address">127.0.0.1</parameter></transportReceiver><transportSender name="http"/></axisconfig>"#.into(),
            )],
        );
        let server = Server::start(dir.path());
        Sample { backend, lb, server, _dir: dir }
    }

    /// Stops MyServer`i`.
    fn stop_lb(&mut self, i: usize) {
        self.lb[i - 1] = None;
    }

    fn backend_url(&self) -> String {
        format!("http://localhost:{}/services/SimpleStockQuoteService", self.backend.addr.port())
    }

    /// Runs the sample client with `args` against `path` on the server.
    fn client(&self, path: &str, args: &[&str]) -> Result<String, String> {
        let mut argv = vec!["stockquote-client".to_string(), "--url".into(), self.server.http_url(path)];
        argv.extend(args.iter().map(|s| s.to_string()));
        mediate_samples::client_cli::run_args(argv)
    }

    fn post(&self, path: &str, symbol: &str) -> common::client::Response {
        let body = common::SOAP11_GET_QUOTE.replace(">IBM<", &format!(">{symbol}<"));
        common::client::post(&self.server.http_url(path), &[("Content-Type", "text/xml"), ("SOAPAction", "urn:getQuote")], body.as_bytes(), &Default::default()).unwrap()
    }

    fn log_has(&mut self, text: &str) -> bool {
        // log lines may trail the answer by a moment
        for _ in 0..50 {
            if self.server.logs().iter().any(|l| l.contains(text)) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

fn copy_dir(from: &Path, to: &Path, ports: &[(u16, u16)]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target, ports);
        } else {
            let mut text = std::fs::read_to_string(&path).unwrap();
            for (shipped, real) in ports {
                text = text.replace(&format!("localhost:{shipped}"), &format!("localhost:{real}"));
            }
            std::fs::write(target, text).unwrap();
        }
    }
}

fn is_quote(r: &Result<String, String>) -> bool {
    matches!(r, Ok(line) if line.starts_with("Standard :: Stock price = $"))
}

#[test]
fn sample_0_logs_and_sends_to_the_addressed_service() {
    let mut s = Sample::start("0");
    let r = s.client("/", &["--addurl", &s.backend_url()]);
    assert!(is_quote(&r), "{r:?}");
    assert!(s.log_has("Envelope: "), "log level=full writes the envelope");
    assert!(s.log_has(&format!("To: {}", s.backend_url())), "the WS-Addressing To is logged");
}

#[test]
fn sample_1_routes_on_the_url() {
    let s = Sample::start("1");
    let r = s.client("/services/StockQuote", &[]);
    assert!(is_quote(&r), "{r:?}");
    // Not matched: the message goes to its own To, which is this server: refused, not looped.
    let r = s.client("/services/Other", &[]);
    assert!(matches!(&r, Err(f) if f.contains("loop")), "{r:?}");
}

#[test]
fn sample_2_switches_on_the_symbol() {
    let mut s = Sample::start("2");
    for (symbol, logged) in [("IBM", "symbol = Great stock - IBM"), ("MSFT", "symbol = Are you sure? - MSFT"), ("SUN", "symbol = Normal Stock - SUN")] {
        let r = s.client("/", &["--addurl", &s.backend_url(), "--symbol", symbol]);
        assert!(is_quote(&r), "{symbol}: {r:?}");
        assert!(s.log_has(logged), "{logged}");
    }
}

#[test]
fn sample_3_uses_local_entries_and_named_artifacts() {
    let mut s = Sample::start("3");
    let r = s.client("/", &["--addurl", &s.backend_url()]);
    assert!(is_quote(&r), "{r:?}");
    assert!(s.log_has("Text = Sending quote request, version = 0.1, direction = incoming"));
}

#[test]
fn sample_4_errors_reach_the_nearest_handler() {
    let mut s = Sample::start("4");
    assert!(is_quote(&s.client("/", &["--addurl", &s.backend_url(), "--symbol", "IBM"])));
    let r = s.post("/", "MSFT");
    assert_eq!(r.status, 202, "the fault sequence drops: {}", r.text());
    assert!(s.log_has("text = An unexpected error occured, message = cannot connect"));
    let r = s.post("/", "SUN");
    assert_eq!(r.status, 202);
    assert!(s.log_has("text = An unexpected error occured for stock SUN"), "onError of sunSequence");
}

#[test]
fn sample_5_returns_a_fault_built_from_the_error() {
    let s = Sample::start("5");
    let r = s.client("/", &["--addurl", &s.backend_url(), "--symbol", "MSFT"]);
    assert!(matches!(&r, Err(f) if f.starts_with("Fault: cannot connect to http://localhost:9008")), "{r:?}");
    let r = s.client("/", &["--addurl", &s.backend_url(), "--symbol", "SUN"]);
    assert!(matches!(&r, Err(f) if f.contains("localhost:9009")), "{r:?}");
}

#[test]
fn sample_6_sets_to_with_the_header_mediator() {
    let s = Sample::start("6");
    let r = s.client("/", &[]);
    assert!(is_quote(&r), "{r:?}");
}

#[test]
fn sample_12_uses_artifacts_held_by_local_entries() {
    let mut s = Sample::start("12");
    let r = s.client("/", &["--addurl", &s.backend_url()]);
    assert!(is_quote(&r), "{r:?}");
    assert!(s.log_has("message = *** Test Message 1 ***"));
}

#[test]
fn sample_150_proxy_answers_and_publishes_its_wsdl() {
    let s = Sample::start("150");
    let r = s.client("/services/StockQuoteProxy", &[]);
    assert!(is_quote(&r), "{r:?}");
    let r = s.client("/services/StockQuoteProxy", &["--soap", "12", "--mode", "fullquote"]);
    assert!(matches!(&r, Ok(l) if l.starts_with("Full :: Average price = $")), "{r:?}");
    let wsdl = wsdl(&s, "/services/StockQuoteProxy?wsdl");
    assert!(wsdl.contains("<wsdl:definitions") && wsdl.contains("getQuote"), "{wsdl}");
}

#[test]
fn sample_151_proxies_from_named_sequences_and_endpoints() {
    let s = Sample::start("151");
    for proxy in ["StockQuoteProxy1", "StockQuoteProxy2"] {
        let r = s.client(&format!("/services/{proxy}"), &[]);
        assert!(is_quote(&r), "{proxy}: {r:?}");
        assert!(wsdl(&s, &format!("/services/{proxy}?wsdl")).contains("<wsdl:definitions"));
    }
}

fn wsdl(s: &Sample, path: &str) -> String {
    let r = mediate_samples::client::send(&s.server.http_url(path), "GET", &[], &mut std::io::empty(), 0, &Default::default(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn lb_answers(s: &Sample, path: &str, args: &[&str], n: usize) -> Vec<String> {
    let mut all = vec!["--sample-operation"];
    all.extend_from_slice(args);
    (0..n).map(|_| s.client(path, &all).unwrap_or_else(|e| format!("ERROR {e}"))).collect()
}

#[test]
fn sample_52_round_robin_load_balancing_with_failover() {
    let mut s = Sample::start("52");
    let answers = lb_answers(&s, "/", &[], 6);
    for i in 1..=3 {
        assert_eq!(answers.iter().filter(|a| **a == format!("Response from server: MyServer{i}")).count(), 2, "{answers:?}");
    }
    s.stop_lb(2);
    let answers = lb_answers(&s, "/", &[], 6);
    assert!(answers.iter().all(|a| a == "Response from server: MyServer1" || a == "Response from server: MyServer3"), "{answers:?}");
    s.stop_lb(1);
    s.stop_lb(3);
    let r = s.client("/", &["--sample-operation"]);
    assert_eq!(r, Err("Fault: COULDN'T SEND THE MESSAGE TO THE SERVER.".to_string()));
}

#[test]
fn sample_53_failover_in_order() {
    let mut s = Sample::start("53");
    let answers = lb_answers(&s, "/", &[], 4);
    assert!(answers.iter().all(|a| a == "Response from server: MyServer1"), "{answers:?}");
    s.stop_lb(1);
    let answers = lb_answers(&s, "/", &[], 4);
    assert!(answers.iter().all(|a| a == "Response from server: MyServer2"), "{answers:?}");
    s.stop_lb(2);
    let answers = lb_answers(&s, "/", &[], 2);
    assert!(answers.iter().all(|a| a == "Response from server: MyServer3"), "{answers:?}\n{}", s.server.logs().join("\n"));
}

#[test]
fn sample_154_proxy_with_client_sessions() {
    let s = Sample::start("154");
    for id in ["alice", "bob", "carol"] {
        let answers = lb_answers(&s, "/services/LBProxy", &["--client-id", id], 5);
        assert!(answers.iter().all(|a| *a == answers[0] && a.starts_with("Response from server: MyServer")), "{id}: {answers:?}");
    }
    let without: std::collections::BTreeSet<String> = lb_answers(&s, "/services/LBProxy", &[], 6).into_iter().collect();
    assert_eq!(without.len(), 3, "without a session the three servers share the load: {without:?}");
}
