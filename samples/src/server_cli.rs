//! The `stockquote-server` command's arguments and the lines it prints, as
//! functions that tests can call; the binary only adds the runtime.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

use crate::server::{HttpsOptions, RunningServer, ServerOptions, SERVICE_PATH};
use crate::tls::{self, Identity, TlsError};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "stockquote-server",
    about = "The sample SimpleStockQuoteService backend over HTTP and/or HTTPS"
)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// HTTP port (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// Serve HTTPS only (requires --https-port).
    #[arg(long, requires = "https_port")]
    pub no_http: bool,
    /// HTTPS port (0 picks a free one); requires --keystore.
    #[arg(long, requires = "keystore")]
    pub https_port: Option<u16>,
    /// PKCS#12 key store with the server's key and certificate.
    #[arg(long, requires = "https_port")]
    pub keystore: Option<PathBuf>,
    /// Password of the key store (and default of --truststore-password).
    #[arg(long, default_value = "")]
    pub password: String,
    /// Require client certificates issued by these CAs (PKCS#12 .p12/.pfx or PEM).
    #[arg(long, requires = "keystore")]
    pub truststore: Option<PathBuf>,
    /// Password of a PKCS#12 trust store.
    #[arg(long)]
    pub truststore_password: Option<String>,
    /// Worker threads per listener (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// The name LBService1 answers with, to tell instances apart (Synapse's samples use
    /// MyServer1, MyServer2, MyServer3).
    #[arg(long, default_value = "MyServer")]
    pub name: String,
}

impl ServerArgs {
    /// Loads the stores and turns the arguments into server options.
    pub fn options(&self) -> Result<ServerOptions, TlsError> {
        let https = match (self.https_port, &self.keystore) {
            (Some(port), Some(keystore)) => {
                let identity = Identity::from_pkcs12_file(keystore, &self.password)?;
                let password = self
                    .truststore_password
                    .as_deref()
                    .or((!self.password.is_empty()).then_some(self.password.as_str()));
                let trust = self
                    .truststore
                    .as_deref()
                    .map(|path| tls::load_trust(path, password))
                    .transpose()?;
                Some(HttpsOptions {
                    addr: SocketAddr::new(self.bind, port),
                    identity,
                    trust,
                })
            }
            _ => None,
        };
        Ok(ServerOptions {
            http: (!self.no_http).then(|| SocketAddr::new(self.bind, self.port)),
            https,
            workers: self.workers,
            name: self.name.clone(),
        })
    }
}

/// One line per listener, e.g.
/// `SimpleStockQuoteService listening on http://127.0.0.1:9000/services/SimpleStockQuoteService`.
pub fn listening_lines(running: &RunningServer) -> Vec<String> {
    [("http", running.http_addr), ("https", running.https_addr)]
        .into_iter()
        .filter_map(|(scheme, addr)| {
            addr.map(|a| {
                format!("SimpleStockQuoteService listening on {scheme}://{a}{SERVICE_PATH}")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{TempDir, TestPki};

    #[test]
    fn defaults_to_plain_http_on_9000() {
        let args = ServerArgs::try_parse_from(["stockquote-server"]).unwrap();
        let opts = args.options().unwrap();
        assert_eq!(opts.http, Some("127.0.0.1:9000".parse().unwrap()));
        assert!(opts.https.is_none());
        assert_eq!(opts.workers, 0);
    }

    #[test]
    fn https_options_load_the_stores() {
        let dir = TempDir::new("server-cli");
        let pki = TestPki::generate(dir.path()).unwrap();
        let ks = pki.server_p12.to_str().unwrap();
        let ts = pki.truststore_p12.to_str().unwrap();
        let args = ServerArgs::try_parse_from([
            "s",
            "--port",
            "0",
            "--https-port",
            "0",
            "--keystore",
            ks,
            "--password",
            &pki.password,
            "--truststore",
            ts,
            "--workers",
            "2",
        ])
        .unwrap();
        let opts = args.options().unwrap();
        let https = opts.https.unwrap();
        assert_eq!(https.trust.unwrap().len(), 1);
        assert_eq!(opts.workers, 2);
        let only = ServerArgs::try_parse_from([
            "s",
            "--no-http",
            "--https-port",
            "8443",
            "--keystore",
            ks,
            "--password",
            &pki.password,
        ])
        .unwrap();
        let opts = only.options().unwrap();
        assert!(opts.http.is_none() && opts.https.unwrap().trust.is_none());
        let wrong = ServerArgs::try_parse_from([
            "s",
            "--https-port",
            "1",
            "--keystore",
            ks,
            "--password",
            "bad",
        ])
        .unwrap();
        assert!(wrong
            .options()
            .unwrap_err()
            .to_string()
            .contains("wrong password"));
    }

    #[test]
    fn rejects_incomplete_https_settings() {
        assert!(ServerArgs::try_parse_from(["s", "--https-port", "8443"]).is_err());
        assert!(ServerArgs::try_parse_from(["s", "--keystore", "k.p12"]).is_err());
        assert!(ServerArgs::try_parse_from(["s", "--no-http"]).is_err());
        assert!(ServerArgs::try_parse_from(["s", "--bind", "not-an-ip"]).is_err());
    }
}
