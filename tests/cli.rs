//! The command line: `check` reports every problem with its place, `certs init` makes a PKI
//! that the server and keytool read, and the shipped configuration works end to end with
//! the sample backend and the sample client.

mod common;

use std::path::Path;
use std::process::Command;

use common::server::{mediate_bin, write_files, Server};

/// Runs `mediate check` on a configuration.
fn check(axis2: &Path, mediation: &Path) -> std::process::Output {
    Command::new(mediate_bin()).args(["check", "--axis2"]).arg(axis2).arg("--mediation").arg(mediation).output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn check_reports_every_error_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (
                "conf/axis2.xml",
                "<axisconfig>\n  <transportReceiver name=\"http\">\n    <parameter name=\"port\">eighty</parameter>\n  </transportReceiver>\n</axisconfig>\n".into(),
            ),
            (
                "mediation/proxy-services/Bad.xml",
                "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"Bad\">\n  <target endpoint=\"Nowhere\"/>\n</proxy>\n".into(),
            ),
            ("mediation/endpoints/Broken.xml", "<endpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"Broken\">\n<address uri=\"http://x/\">\n</endpoint>\n".into()),
        ],
    );
    let out = check(&dir.path().join("conf/axis2.xml"), &dir.path().join("mediation"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let axis2 = dir.path().join("conf/axis2.xml");
    let bad = dir.path().join("mediation/proxy-services/Bad.xml");
    let broken = dir.path().join("mediation/endpoints/Broken.xml");
    assert!(err.contains(&format!("{}:3:5: port must be a number", axis2.display())), "{err}");
    assert!(err.contains(&format!("{}:2:3: no endpoint named 'Nowhere' is defined", bad.display())), "{err}");
    assert!(err.contains(&format!("{}:3:1: malformed XML", broken.display())), "{err}");
    assert_eq!(err.lines().count(), 3, "one line per problem, no consequential noise: {err}");
}

#[test]
fn check_accepts_the_shipped_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(root, dir.path(), None);
    let out = check(&dir.path().join("conf/axis2.xml"), &dir.path().join("mediation"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn certs_init_writes_stores_keytool_reads_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let sec = dir.path().join("security");
    let run = |extra: &[&str]| Command::new(mediate_bin()).args(["certs", "init", "--dir"]).arg(&sec).args(extra).output().unwrap();
    let out = run(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["ca.p12", "ca.pem", "server.p12", "truststore.p12", "client.p12", "client.pem", "client.key"] {
        assert!(sec.join(f).is_file(), "{f}");
    }
    let again = run(&[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(run(&["--force"]).status.success());
    if let Ok(out) = Command::new("keytool").args(["-list", "-storetype", "PKCS12", "-storepass", "changeit", "-keystore"]).arg(sec.join("client.p12")).output() {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("client,") && text.contains("PrivateKeyEntry"), "{text}");
    }
}

/// Copies conf/axis2.xml and mediation/ from the repository, moving the ports when asked.
fn copy_shipped(root: &Path, to: &Path, ports: Option<(u16, u16, u16)>) {
    let mut axis2 = std::fs::read_to_string(root.join("conf/axis2.xml")).unwrap();
    let mut endpoint = std::fs::read_to_string(root.join("mediation/endpoints/SimpleStockQuoteService.xml")).unwrap();
    if let Some((http, https, backend)) = ports {
        axis2 = axis2.replace(">8280<", &format!(">{http}<")).replace(">8243<", &format!(">{https}<"));
        endpoint = endpoint.replace("localhost:9000", &format!("localhost:{backend}"));
    }
    write_files(
        to,
        &[
            ("conf/axis2.xml", axis2),
            ("mediation/endpoints/SimpleStockQuoteService.xml", endpoint),
            ("mediation/proxy-services/StockQuoteProxy.xml", std::fs::read_to_string(root.join("mediation/proxy-services/StockQuoteProxy.xml")).unwrap()),
        ],
    );
}

#[test]
fn demo_serves_a_stock_quote_to_the_sample_client_over_mutual_tls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (http, https, backend) = (free_port(), free_port(), free_port());
    copy_shipped(root, dir.path(), Some((http, https, backend)));
    let mut server = Server::spawn(
        Command::new(mediate_bin())
            .args(["demo", "--axis2"])
            .arg(dir.path().join("conf/axis2.xml"))
            .arg("--mediation")
            .arg(dir.path().join("mediation"))
            .args(["--backend", &format!("127.0.0.1:{backend}")]),
    );
    let sec = dir.path().join("conf/security");
    assert!(sec.join("client.p12").is_file(), "serve creates the missing demo PKI");
    assert!(server.logs().iter().any(|l| l.contains("client.p12")), "and says where the client keystore is");

    let client = |extra: &[&str]| {
        let mut args = vec![
            "stockquote-client".to_string(),
            "--url".into(),
            format!("https://localhost:{https}/services/StockQuoteProxy"),
            "--truststore".into(),
            sec.join("ca.pem").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        mediate_samples::client_cli::run_args(args)
    };
    let keystore = sec.join("client.p12").display().to_string();
    let quote = client(&["--keystore", &keystore, "--password", "changeit"]).expect("a quote");
    assert!(quote.starts_with("Standard :: Stock price = $"), "{quote}");
    let full = client(&["--keystore", &keystore, "--password", "changeit", "--mode", "fullquote", "--soap", "12"]).expect("a full quote");
    assert!(full.starts_with("Full :: Average price = $"), "{full}");
    let cert = sec.join("client.pem").display().to_string();
    let key = sec.join("client.key").display().to_string();
    let order = client(&["--cert", &cert, "--key", &key, "--mode", "placeorder"]).expect("an order");
    assert!(order.starts_with("Order placed for "), "{order}");
    let fault = client(&["--keystore", &keystore, "--password", "changeit", "--symbol", "ERR"]).unwrap_err();
    assert!(fault.contains("Invalid stock symbol : ERR"), "{fault}");
    let refused = client(&[]).unwrap_err();
    assert!(refused.contains("TLS") || refused.contains("certificate"), "without a certificate: {refused}");
    assert!(server.terminate(std::time::Duration::from_secs(20)).is_some_and(|s| s.success()));
}

#[test]
fn every_numbered_sample_configuration_passes_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    copy_shipped(root, dir.path(), None);
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("samples/configs")).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        seen += 1;
        let out = check(&dir.path().join("conf/axis2.xml"), &path);
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    }
    assert!(seen >= 3, "the numbered samples are there");
}

#[test]
fn sample_160_routes_by_client_and_restricts_a_proxy_to_one_client() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (http, https, backend) = (free_port(), free_port(), free_port());
    copy_shipped(root, dir.path(), Some((http, https, backend)));
    let sample = std::fs::read_to_string(root.join("samples/configs/160/synapse.xml")).unwrap().replace("localhost:9000", &format!("localhost:{backend}"));
    write_files(dir.path(), &[("mediation160/synapse.xml", sample)]);
    let mut server = Server::spawn(
        Command::new(mediate_bin())
            .args(["demo", "--axis2"])
            .arg(dir.path().join("conf/axis2.xml"))
            .arg("--mediation")
            .arg(dir.path().join("mediation160"))
            .args(["--backend", &format!("127.0.0.1:{backend}")]),
    );
    let sec = dir.path().join("conf/security");
    // A second client from the demo CA, issued with the certs tool.
    let other = dir.path().join("other.p12");
    let issued = Command::new(mediate_bin())
        .args(["certs", "issue", "--client", "--cn", "someone-else", "--password", "changeit", "--ca"])
        .arg(sec.join("ca.p12"))
        .arg("--out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let client = |proxy: &str, keystore: &Path| {
        mediate_samples::client_cli::run_args([
            "stockquote-client".to_string(),
            "--url".into(),
            format!("https://localhost:{https}/services/{proxy}"),
            "--truststore".into(),
            sec.join("ca.pem").display().to_string(),
            "--keystore".into(),
            keystore.display().to_string(),
            "--password".into(),
            "changeit".into(),
        ])
    };
    let demo = sec.join("client.p12");
    assert!(client("QuoteByClient", &demo).unwrap().starts_with("Standard :: Stock price = $"));
    // The log mediator's line may reach us just after the answer does.
    assert!(server.wait_for_log("client = CN=mediate-demo-client,O=mediate demo, fingerprint = "), "{}", server.logs().join("\n"));
    let refused = client("QuoteByClient", &other).unwrap_err();
    assert!(refused.contains("no route for client CN=someone-else"), "{refused}");
    assert!(client("PartnerOnly", &demo).unwrap().starts_with("Standard :: Stock price = $"));
    let refused = client("PartnerOnly", &other).unwrap_err();
    assert!(refused.contains("client certificate not allowed"), "{refused}");
}
