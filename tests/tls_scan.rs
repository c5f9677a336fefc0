//! I1, I2 and B4 of the security test list checked by an outside TLS scanner, sslyze
//! (`pip install sslyze==6.3.1`; `.ci/run` installs it), against the real server: no SSL 2.0,
//! SSL 3.0, TLS 1.0 or 1.1; only AEAD suites with forward secrecy in TLS 1.2; TLS 1.3
//! offered; no client-initiated renegotiation; no compression; not vulnerable to Heartbleed,
//! ROBOT or CCS injection.
//!
//! The scan is read from sslyze's JSON output, not from its text. Without the scanner the
//! tests fail and say how to install it; `MEDIATE_SKIP_TLS_SCAN=1` skips them instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{axis2_xml, backend, proxy_xml, start_server, TestPki};
use mediate::security::pki;
use serde_json::Value;

/// The version `.ci/run` installs; the JSON read below is sslyze 6's.
const SSLYZE_VERSION: &str = "6.3.1";
const SKIP_VAR: &str = "MEDIATE_SKIP_TLS_SCAN";
/// A scan takes about 3 s (`require`) or 6 s (`optional`: sslyze waits 5 s for an answer to
/// its renegotiation request, which the server ignores after its no_renegotiation alert).
const SCAN_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn scan_of_a_require_listener_finds_only_modern_tls() {
    scan_and_check("require");
}

#[test]
fn scan_of_an_optional_listener_finds_only_modern_tls() {
    scan_and_check("optional");
}

/// Whether sslyze 6 can be run; `None` when the test is to be skipped.
fn sslyze_present() -> Option<()> {
    let help = Command::new("python3").args(["-m", "sslyze", "--help"]).stdin(Stdio::null()).output();
    let version = match &help {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines().find_map(|l| l.trim().strip_prefix("SSLyze version ").map(|v| v.trim().to_string()))
        }
        _ => None,
    };
    match version {
        Some(v) if v.starts_with("6.") => {
            if v != SSLYZE_VERSION {
                eprintln!("note: sslyze {v} found; {SSLYZE_VERSION} is the tested version");
            }
            Some(())
        }
        _ if std::env::var(SKIP_VAR).as_deref() == Ok("1") => {
            eprintln!("SKIPPED: no sslyze 6 for the TLS scan, and {SKIP_VAR}=1 is set");
            None
        }
        found => panic!(
            "the TLS scan needs sslyze 6 (`python3 -m sslyze`), found {}.\n\
             Install it with `python3 -m pip install sslyze=={SSLYZE_VERSION}` (.ci/run does), \
             or set {SKIP_VAR}=1 to skip this test.",
            found.map(|v| format!("version {v}")).unwrap_or_else(|| "none".into())
        ),
    }
}

/// Starts the server with an https receiver at `SSLVerifyClient` `verify_client`, scans it and
/// checks the result.
fn scan_and_check(verify_client: &str) {
    if sslyze_present().is_none() {
        return;
    }
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &axis2_xml(&pki, verify_client), &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let addr = server.https.expect("https listener");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");

    // With `require`, sslyze presents a trusted client certificate so that its handshakes
    // complete and the renegotiation check can run (it cannot renegotiate without one). With
    // `optional` it scans as an anonymous client.
    let identity = (verify_client == "require").then(|| {
        let (cert, key) = (pki.path("client-cert.pem"), pki.path("client-key.pem"));
        // The leaf alone: sslyze's SSL 2.0 client cannot load a PEM file holding a chain.
        pki::write_pem_certs(&cert, &[&pki.trusted_client.cert]).unwrap();
        pki::write_pem_key(&key, &pki.trusted_client.key).unwrap();
        (cert, key)
    });
    let json_path = dir.path().join("sslyze.json");

    let started = Instant::now();
    let (status, output) = run_sslyze(&addr.to_string(), identity.as_ref(), &json_path, dir.path());
    let took = started.elapsed();
    assert!(status, "sslyze failed:\n{output}");
    let text = std::fs::read_to_string(&json_path).unwrap_or_else(|e| panic!("no JSON from sslyze ({e}):\n{output}"));
    let json: Value = serde_json::from_str(&text).expect("sslyze JSON");
    let summary = check_scan(&json, verify_client, &addr.port().to_string());
    eprintln!("sslyze {} scanned SSLVerifyClient {verify_client} in {took:.1?}: {summary}", json["sslyze_version"].as_str().unwrap_or("?"));
    drop(server);
}

/// Runs the scan commands the checks need; whether sslyze exited 0, and what it printed.
fn run_sslyze(target: &str, identity: Option<&(PathBuf, PathBuf)>, json: &Path, dir: &Path) -> (bool, String) {
    let out_path = dir.join("sslyze.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "sslyze", "--quiet", "--mozilla_config", "disable"])
        .args(["--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3"])
        .args(["--reneg", "--compression", "--heartbleed", "--robot", "--openssl_ccs", "--fallback"]);
    if let Some((cert, key)) = identity {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let mut child = cmd
        .arg("--json_out")
        .arg(json)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start sslyze");
    let deadline = Instant::now() + SCAN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
    match status {
        Some(s) => (s.success(), printed),
        None => (false, format!("sslyze did not finish in {SCAN_TIMEOUT:?}\n{printed}")),
    }
}

fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or_else(|| panic!("no {pointer} in the sslyze JSON:\n{v:#}"))
}

/// The `result` of a scan command, which must have completed.
fn result<'a>(scan: &'a Value, command: &str) -> &'a Value {
    let r = at(scan, &format!("/{command}"));
    assert_eq!(r["status"], "COMPLETED", "sslyze {command} did not complete: {r:#}");
    at(r, "/result")
}

fn names(suites: &Value) -> Vec<String> {
    suites.as_array().unwrap().iter().map(|s| at(s, "/cipher_suite/name").as_str().unwrap().to_string()).collect()
}

/// Checks the scan of the listener on `port`; a summary of what was accepted.
fn check_scan(json: &Value, verify_client: &str, port: &str) -> String {
    let results = at(json, "/server_scan_results").as_array().unwrap();
    assert_eq!(results.len(), 1, "{json:#}");
    let server = &results[0];
    assert_eq!(at(server, "/server_location/ip_address"), "127.0.0.1");
    assert_eq!(at(server, "/server_location/port").to_string(), port);
    assert_eq!(at(server, "/connectivity_status"), "COMPLETED", "{server:#}");
    assert_eq!(at(server, "/scan_status"), "COMPLETED", "{server:#}");
    // sslyze probes for client authentication only when it has no certificate to present.
    let client_auth = if verify_client == "require" { "DISABLED" } else { "OPTIONAL" };
    assert_eq!(at(server, "/connectivity_result/client_auth_requirement"), client_auth, "{server:#}");
    let scan = at(server, "/scan_result");

    // I1: nothing below TLS 1.2, every suite sslyze tried refused.
    for old in ["ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"] {
        let r = result(scan, &format!("{old}_cipher_suites"));
        assert_eq!(r["is_tls_version_supported"], false, "{old} is offered: {r:#}");
        assert_eq!(names(&r["accepted_cipher_suites"]), Vec::<String>::new(), "{old} suites accepted");
        assert!(!r["rejected_cipher_suites"].as_array().unwrap().is_empty(), "sslyze tried no {old} suite: {r:#}");
    }

    // I2: TLS 1.2 only with ECDHE/DHE and an AEAD cipher.
    let tls12 = result(scan, "tls_1_2_cipher_suites");
    assert_eq!(tls12["is_tls_version_supported"], true, "TLS 1.2 is not offered: {tls12:#}");
    let accepted12 = tls12["accepted_cipher_suites"].as_array().unwrap();
    assert!(!accepted12.is_empty());
    for suite in accepted12 {
        let name = at(suite, "/cipher_suite/name").as_str().unwrap();
        let forward_secret = name.starts_with("TLS_ECDHE_") || name.starts_with("TLS_DHE_");
        let aead = name.contains("_GCM_") || name.contains("_CHACHA20_POLY1305_");
        assert!(forward_secret && aead, "TLS 1.2 suite {name} is not AEAD with forward secrecy");
        for weak in ["CBC", "RC4", "3DES", "DES_", "NULL", "EXPORT", "ANON", "MD5", "CCM", "PSK", "SRP"] {
            assert!(!name.to_uppercase().contains(weak), "TLS 1.2 suite {name} is weak ({weak})");
        }
        assert_eq!(at(suite, "/cipher_suite/is_anonymous"), false, "{suite:#}");
        assert!(at(suite, "/cipher_suite/key_size").as_u64().unwrap() >= 128, "{suite:#}");
        check_ephemeral_key(suite);
    }

    // TLS 1.3 offered, with the AEAD suites only (no CCM).
    let tls13 = result(scan, "tls_1_3_cipher_suites");
    assert_eq!(tls13["is_tls_version_supported"], true, "TLS 1.3 is not offered: {tls13:#}");
    let accepted13 = tls13["accepted_cipher_suites"].as_array().unwrap();
    assert!(!accepted13.is_empty());
    for suite in accepted13 {
        let name = at(suite, "/cipher_suite/name").as_str().unwrap();
        assert!(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"].contains(&name), "TLS 1.3 suite {name}");
        check_ephemeral_key(suite);
    }

    // B4: a client cannot renegotiate (sslyze tried over TLS 1.2 and got nowhere), and the
    // server speaks RFC 5746, so legacy (insecure) renegotiation is not possible either.
    let reneg = result(scan, "session_renegotiation");
    assert_eq!(reneg["is_vulnerable_to_client_renegotiation_dos"], false, "client renegotiation accepted: {reneg:#}");
    assert_eq!(reneg["client_renegotiations_success_count"], 0, "{reneg:#}");
    assert_eq!(reneg["supports_secure_renegotiation"], true, "no RFC 5746 secure renegotiation indication: {reneg:#}");

    assert_eq!(result(scan, "tls_compression")["supports_compression"], false, "TLS compression (CRIME)");
    assert_eq!(result(scan, "heartbleed")["is_vulnerable_to_heartbleed"], false, "Heartbleed");
    assert_eq!(result(scan, "openssl_ccs_injection")["is_vulnerable_to_ccs_injection"], false, "CCS injection");
    let robot = result(scan, "robot")["robot_result"].as_str().unwrap();
    assert!(robot.starts_with("NOT_VULNERABLE"), "ROBOT: {robot}");
    assert_eq!(result(scan, "tls_fallback_scsv")["supports_fallback_scsv"], true, "TLS_FALLBACK_SCSV");

    format!("TLS 1.2 {:?}; TLS 1.3 {:?}; ROBOT {robot}", names(&tls12["accepted_cipher_suites"]), names(&tls13["accepted_cipher_suites"]))
}

/// An ephemeral key exchange of adequate size: ECDH at least 253 bits (X25519), DH at least
/// 2048.
fn check_ephemeral_key(suite: &Value) {
    let key = at(suite, "/ephemeral_key");
    let (kind, size) = (key["type_name"].as_str(), key["size"].as_u64().unwrap_or(0));
    let ok = match kind {
        Some("ECDH") => size >= 253,
        Some("DH") => size >= 2048,
        _ => false,
    };
    assert!(ok, "weak or no ephemeral key: {suite:#}");
}
