//! A real TLS client for the tests, on top of the sample client's HTTP code.

use std::io::Read;
use std::time::Duration;

use mediate::security::pki::Issued;
use openssl::x509::X509;

#[derive(Clone, Default)]
pub struct Tls {
    pub identity: Option<Issued>,
    pub trust: Vec<X509>,
}

pub use mediate_samples::client::{ClientError as Error, HttpResponse as Response};

fn to_samples(tls: &Tls) -> mediate_samples::client::ClientTls {
    mediate_samples::client::ClientTls {
        identity: tls.identity.as_ref().map(|i| mediate_samples::tls::Identity { key: i.key.clone(), cert: i.cert.clone(), chain: vec![] }),
        trust: Some(tls.trust.clone()),
        skip_hostname: false,
    }
}

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8], tls: &Tls) -> Result<Response, Error> {
    mediate_samples::client::post(url, headers, body, &to_samples(tls), TIMEOUT)
}

pub fn post_stream(url: &str, headers: &[(&str, &str)], body: &mut dyn Read, len: u64, tls: &Tls) -> Result<Response, Error> {
    mediate_samples::client::send(url, "POST", headers, body, len, &to_samples(tls), TIMEOUT)
}
