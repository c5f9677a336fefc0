//! I5 of the security test list: a client that sends a malformed Certificate or a
//! CertificateVerify that does not prove possession of the certificate's key gets a fatal
//! alert, is never served, and the server keeps serving everyone else.
//!
//! A real TLS library will not send such messages, so these tests speak TLS 1.2 by hand
//! over a plain TCP socket, up to the point where the client would need the keys it has
//! just negotiated: Certificate, ClientKeyExchange and CertificateVerify are all sent in
//! clear text before ChangeCipherSpec, so none of the record encryption is needed.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{axis2_xml, backend, proxy_xml, start_server, TestPki, SOAP11_GET_QUOTE};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;

// Record content types and handshake message types of RFC 5246.
const HANDSHAKE: u8 = 22;
const ALERT: u8 = 21;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;
const CERTIFICATE_REQUEST: u8 = 13;
const SERVER_HELLO_DONE: u8 = 14;
const CERTIFICATE_VERIFY: u8 = 15;
const CLIENT_KEY_EXCHANGE: u8 = 16;
/// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: the test server's key is ECDSA P-256 and the
/// listener offers only AEAD suites with ECDHE.
const ECDHE_ECDSA_AES128_GCM_SHA256: u16 = 0xC02B;
/// ecdsa_secp256r1_sha256
const ECDSA_SHA256: u16 = 0x0403;

/// Long enough for a loaded CI machine, short enough that a stuck server fails the test
/// instead of hanging it.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS 1.2 client driven one message at a time.
struct RawTls {
    stream: TcpStream,
    /// Every handshake message sent and received, in order: what CertificateVerify signs.
    transcript: Vec<u8>,
    /// Received handshake bytes not yet split into messages (a record may hold several
    /// messages and a message may span records).
    pending: Vec<u8>,
}

/// What the server did after the client's last flight.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A fatal alert with this description, then end of stream (or a reset), and not one
    /// byte more.
    FatalAlertThenClose(u8),
    /// Nothing within the wait: the server is waiting for the client's next message.
    Silent,
}

impl RawTls {
    fn connect(addr: SocketAddr) -> RawTls {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        RawTls { stream, transcript: Vec::new(), pending: Vec::new() }
    }

    /// Sends one handshake message in a record of its own.
    fn send_handshake(&mut self, kind: u8, body: &[u8]) {
        let mut msg = vec![kind];
        msg.extend_from_slice(&u24(body.len()));
        msg.extend_from_slice(body);
        self.transcript.extend_from_slice(&msg);
        let mut record = vec![HANDSHAKE, 0x03, 0x03];
        record.extend_from_slice(&u16be(msg.len()));
        record.extend_from_slice(&msg);
        self.stream.write_all(&record).unwrap();
    }

    /// One record: (content type, payload).
    fn read_record(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut header = [0u8; 5];
        self.stream.read_exact(&mut header)?;
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload)?;
        Ok((header[0], payload))
    }

    /// The next handshake message: (type, body). Panics on an alert or anything else.
    fn read_handshake(&mut self) -> (u8, Vec<u8>) {
        loop {
            if self.pending.len() >= 4 {
                let len = u32::from_be_bytes([0, self.pending[1], self.pending[2], self.pending[3]]) as usize;
                if self.pending.len() >= 4 + len {
                    let msg: Vec<u8> = self.pending.drain(..4 + len).collect();
                    self.transcript.extend_from_slice(&msg);
                    return (msg[0], msg[4..].to_vec());
                }
            }
            let (kind, payload) = self.read_record().unwrap();
            assert_eq!(kind, HANDSHAKE, "expected a handshake record, got type {kind}: {payload:?}");
            self.pending.extend_from_slice(&payload);
        }
    }

    /// ClientHello offering TLS 1.2 only (no supported_versions extension) and one suite,
    /// then the server's flight up to ServerHelloDone. Returns the types of the messages
    /// the server sent.
    fn hello(&mut self) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        let mut random = [0u8; 32];
        openssl::rand::rand_bytes(&mut random).unwrap();
        body.extend_from_slice(&random);
        body.push(0); // no session id: a full handshake
        body.extend_from_slice(&u16be(2));
        body.extend_from_slice(&ECDHE_ECDSA_AES128_GCM_SHA256.to_be_bytes());
        body.extend_from_slice(&[1, 0]); // null compression only

        let mut extensions = Vec::new();
        let host = b"localhost";
        let mut sni = u16be(host.len() + 3).to_vec();
        sni.push(0); // host_name
        sni.extend_from_slice(&u16be(host.len()));
        sni.extend_from_slice(host);
        extension(&mut extensions, 0x0000, &sni);
        extension(&mut extensions, 0x000a, &[0, 2, 0, 23]); // supported_groups: secp256r1
        extension(&mut extensions, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
        let mut sigalgs = u16be(2).to_vec();
        sigalgs.extend_from_slice(&ECDSA_SHA256.to_be_bytes());
        extension(&mut extensions, 0x000d, &sigalgs); // signature_algorithms
        extension(&mut extensions, 0x0017, &[]); // extended_master_secret
        extension(&mut extensions, 0xff01, &[0]); // renegotiation_info, initial handshake
        body.extend_from_slice(&u16be(extensions.len()));
        body.extend_from_slice(&extensions);

        // The ClientHello's record says TLS 1.0, as clients do for compatibility.
        let mut msg = vec![CLIENT_HELLO];
        msg.extend_from_slice(&u24(body.len()));
        msg.extend_from_slice(&body);
        self.transcript.extend_from_slice(&msg);
        let mut record = vec![HANDSHAKE, 0x03, 0x01];
        record.extend_from_slice(&u16be(msg.len()));
        record.extend_from_slice(&msg);
        self.stream.write_all(&record).unwrap();

        let mut seen = Vec::new();
        loop {
            let (kind, body) = self.read_handshake();
            if kind == SERVER_HELLO {
                // version(2) random(32) session_id(1+n) cipher_suite(2)
                assert_eq!(&body[..2], &[0x03, 0x03], "TLS 1.2 negotiated");
                let sid = body[34] as usize;
                assert_eq!(&body[35 + sid..37 + sid], &ECDHE_ECDSA_AES128_GCM_SHA256.to_be_bytes(), "suite");
            }
            seen.push(kind);
            if kind == SERVER_HELLO_DONE {
                return seen;
            }
        }
    }

    /// Waits for the server's answer to the client's flight (at most `wait`).
    fn outcome(&mut self, wait: Duration) -> Outcome {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let (kind, payload) = match self.read_record() {
            Ok(record) => record,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Outcome::Silent,
            Err(e) => panic!("the server closed without an alert: {e}"),
        };
        assert_eq!(kind, ALERT, "expected an alert record, got type {kind}: {payload:?}");
        assert_eq!(payload.len(), 2, "a plaintext alert: {payload:?}");
        assert_eq!(payload[0], 2, "the alert is fatal: {payload:?}");
        // After a fatal alert the server closes: it must not send anything more (no HTTP
        // response, no second alert). Writing a request first shows it is not read either.
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let _ = self.stream.write_all(b"POST /services/Echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "bytes after the fatal alert: {rest:?}"),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("the connection was not closed after the alert: {e}"),
        }
        Outcome::FatalAlertThenClose(payload[1])
    }
}

fn u16be(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap().to_be_bytes()
}

fn u24(n: usize) -> [u8; 3] {
    assert!(n < 1 << 24);
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&u16be(data.len()));
    out.extend_from_slice(data);
}

/// A Certificate message body holding `certs` (each DER, or whatever bytes the test wants).
fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = certs.iter().flat_map(|c| u24(c.len()).into_iter().chain(c.iter().copied())).collect();
    let mut body = u24(list.len()).to_vec();
    body.extend_from_slice(&list);
    body
}

/// A ClientKeyExchange with a fresh, valid P-256 point (uncompressed, 1-byte length), so
/// the key exchange itself is not what the server objects to.
fn client_key_exchange_body() -> Vec<u8> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = EcKey::generate(&group).unwrap();
    let point = key.public_key().to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut BigNumContext::new().unwrap()).unwrap();
    assert_eq!(point.len(), 65);
    let mut body = vec![point.len() as u8];
    body.extend_from_slice(&point);
    body
}

/// A CertificateVerify body: ecdsa_secp256r1_sha256 over `data` with `key` (DER ECDSA).
fn certificate_verify_body(key: &PKey<Private>, data: &[u8]) -> Vec<u8> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(data).unwrap();
    let signature = signer.sign_to_vec().unwrap();
    let mut body = ECDSA_SHA256.to_be_bytes().to_vec();
    body.extend_from_slice(&u16be(signature.len()));
    body.extend_from_slice(&signature);
    body
}

fn other_p256_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// Certificate, ClientKeyExchange and a CertificateVerify made by `sign` from the
/// transcript so far; what the server did.
fn full_client_flight(addr: SocketAddr, cert_der: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>, wait: Duration) -> Outcome {
    let mut tls = RawTls::connect(addr);
    let seen = tls.hello();
    assert!(seen.contains(&CERTIFICATE_REQUEST), "SSLVerifyClient require asks for a certificate: {seen:?}");
    tls.send_handshake(CERTIFICATE, &certificate_body(&[cert_der]));
    tls.send_handshake(CLIENT_KEY_EXCHANGE, &client_key_exchange_body());
    let verify = sign(&tls.transcript);
    tls.send_handshake(CERTIFICATE_VERIFY, &verify);
    tls.outcome(wait)
}

#[test]
fn malformed_certificate_and_bad_certificate_verify_get_a_fatal_alert() {
    let pki = TestPki::new();
    let backend = backend::start();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &axis2_xml(&pki, "require"), &[("Echo", proxy_xml("Echo", "https", &backend.url("/echo")))]);
    let addr = server.https.unwrap();
    let url = server.https_url("/services/Echo");
    let trusted = pki.client(Some(&pki.trusted_client));
    let client_der = pki.trusted_client.cert.to_der().unwrap();
    let served = |server: &mut common::server::Server, after: &str| {
        let r = common::client::post(&url, &[("Content-Type", "text/xml")], SOAP11_GET_QUOTE.as_bytes(), &trusted)
            .unwrap_or_else(|e| panic!("after {after}, a good client is still served: {e}\n{}", server.logs().join("\n")));
        assert_eq!((r.status, r.text().as_str()), (200, SOAP11_GET_QUOTE), "after {after}");
    };
    let mut alerts = Vec::new();

    // Control: the hand-made handshake is right. With the certificate's own key signing the
    // transcript the server accepts CertificateVerify and waits for ChangeCipherSpec, so
    // the alerts below are about what each case breaks and nothing else.
    let control = full_client_flight(addr, &client_der, |t| certificate_verify_body(&pki.trusted_client.key, t), Duration::from_secs(1));
    assert_eq!(control, Outcome::Silent, "a correct CertificateVerify is accepted");

    // A: certificate_list says 3 bytes, then an entry claims 1,000 bytes it does not have.
    let mut tls = RawTls::connect(addr);
    tls.hello();
    let mut body = u24(3).to_vec();
    body.extend_from_slice(&u24(1000));
    body.extend_from_slice(&client_der[..16]);
    tls.send_handshake(CERTIFICATE, &body);
    alerts.push(("inconsistent lengths", tls.outcome(READ_TIMEOUT)));
    served(&mut server, "a Certificate with inconsistent lengths");

    // A': lengths consistent, but the certificate is not DER.
    let mut tls = RawTls::connect(addr);
    tls.hello();
    tls.send_handshake(CERTIFICATE, &certificate_body(&[b"this is not a DER certificate at all"]));
    alerts.push(("not DER", tls.outcome(READ_TIMEOUT)));
    served(&mut server, "a Certificate that is not DER");

    // A'': a DER certificate cut short (the outer SEQUENCE claims more than is there).
    let mut tls = RawTls::connect(addr);
    tls.hello();
    tls.send_handshake(CERTIFICATE, &certificate_body(&[&client_der[..client_der.len() / 2]]));
    alerts.push(("truncated DER", tls.outcome(READ_TIMEOUT)));
    served(&mut server, "a truncated certificate");

    // B: the trusted client's certificate, then a well-formed ECDSA signature by its real
    // key, but over other data than the handshake transcript.
    let outcome = full_client_flight(addr, &client_der, |_| certificate_verify_body(&pki.trusted_client.key, b"not the handshake transcript"), READ_TIMEOUT);
    alerts.push(("signature over other data", outcome));
    served(&mut server, "a CertificateVerify over other data");

    // B': signature bytes that are not a DER ECDSA signature.
    let outcome = full_client_flight(
        addr,
        &client_der,
        |_| {
            let mut body = ECDSA_SHA256.to_be_bytes().to_vec();
            body.extend_from_slice(&u16be(8));
            body.extend_from_slice(b"garbage!");
            body
        },
        READ_TIMEOUT,
    );
    alerts.push(("signature not DER", outcome));
    served(&mut server, "a CertificateVerify that is not a signature");

    // C: the transcript correctly signed, but by another key than the certificate's: a
    // client holding someone else's certificate without its key.
    let mallory = other_p256_key();
    let outcome = full_client_flight(addr, &client_der, |t| certificate_verify_body(&mallory, t), READ_TIMEOUT);
    alerts.push(("signed by another key", outcome));
    served(&mut server, "a CertificateVerify by another key");

    // Printed for the record (run with --nocapture): the descriptions OpenSSL chose.
    eprintln!("alerts: {alerts:?}");
    for (case, outcome) in &alerts {
        let Outcome::FatalAlertThenClose(description) = outcome else { panic!("{case}: no alert: {outcome:?}") };
        // Malformed certificates are decode errors (50) or bad certificates (42); a
        // signature that does not verify is decrypt_error (51), RFC 5246 7.2.2.
        let expected: &[u8] = if case.starts_with("signature") || case.starts_with("signed") { &[51, 50] } else { &[50, 42] };
        assert!(expected.contains(description), "{case}: alert {description}, expected one of {expected:?}");
    }
}
