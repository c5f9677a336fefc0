//! The `mediate` command line: serve, check, demo, certs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use mediate::config::axis2::Axis2Config;
use mediate::config::{self, Config};
use mediate::security::{pki, store_tool};
use mediate::transport::server::{self, ServeOptions};

#[derive(Parser)]
#[command(name = "mediate", version, about = "A message mediation server for secured SOAP services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Validate axis2.xml and the mediation artifacts (and open every keystore).
    Check(ConfigArgs),
    /// Run the server together with the sample stock-quote backend.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Where the sample backend listens.
        #[arg(long, default_value = "127.0.0.1:9000")]
        backend: SocketAddr,
    },
    /// Manage keys and certificates.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
}

#[derive(Args, Clone)]
struct ConfigArgs {
    /// The transports and keystores file.
    #[arg(long, default_value = "conf/axis2.xml")]
    axis2: PathBuf,
    /// The folder of Synapse artifacts (proxy-services/, sequences/, endpoints/…).
    #[arg(long, default_value = "mediation")]
    mediation: PathBuf,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Worker threads (default: one per CPU).
    #[arg(long)]
    workers: Option<usize>,
}

/// Store passwords come from `--password`, else from `MEDIATE_STORE_PASSWORD` (which keeps
/// them out of `ps` and shell history); only `init` has a built-in one.
#[derive(Subcommand)]
enum CertsCommand {
    /// Create the demo PKI: a CA, a server keystore, a truststore and a client keystore.
    Init {
        #[arg(long, default_value = "conf/security")]
        dir: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
    /// Issue a new key and certificate from a CA and write them as a PKCS#12 keystore.
    ///
    /// The certificate is for a server unless --client is given (both flags: both uses).
    /// A server certificate without --dns or --ip names its CN in subjectAltName.
    Issue {
        /// The CA's keystore (PKCS#12 or JKS).
        #[arg(long)]
        ca: PathBuf,
        /// The CA keystore's password (default: the same as --password).
        #[arg(long)]
        ca_password: Option<String>,
        /// The PKCS#12 keystore to write.
        #[arg(long)]
        out: PathBuf,
        /// The new keystore's password (else $MEDIATE_STORE_PASSWORD).
        #[arg(long)]
        password: Option<String>,
        /// The certificate's common name.
        #[arg(long)]
        cn: String,
        /// A client certificate (extendedKeyUsage clientAuth).
        #[arg(long)]
        client: bool,
        /// A server certificate (extendedKeyUsage serverAuth); the default.
        #[arg(long)]
        server: bool,
        /// DNS names for subjectAltName, comma-separated.
        #[arg(long, value_delimiter = ',')]
        dns: Vec<String>,
        /// IP addresses for subjectAltName, comma-separated.
        #[arg(long, value_delimiter = ',')]
        ip: Vec<std::net::IpAddr>,
        /// Days of validity.
        #[arg(long, default_value_t = 730)]
        days: u32,
        /// The key entry's alias (default: the CN in lower case).
        #[arg(long)]
        alias: Option<String>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Also write OUT.pem (certificate and chain) and OUT.key (unencrypted key) beside it.
        #[arg(long)]
        pem: bool,
    },
    /// Add a certificate (PEM or DER) to a PKCS#12 truststore, creating it if missing.
    Import {
        #[arg(long)]
        store: PathBuf,
        /// The truststore's password (else $MEDIATE_STORE_PASSWORD).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        alias: String,
        /// The certificate file (.pem, .crt, .der).
        #[arg(long)]
        cert: PathBuf,
        /// Replace the certificate already under this alias.
        #[arg(long)]
        force: bool,
    },
    /// Write one entry's certificate as PEM (to stdout without --out).
    Export {
        /// A PKCS#12, JKS or PEM store.
        #[arg(long)]
        store: PathBuf,
        /// The store's password (else $MEDIATE_STORE_PASSWORD; PEM needs none).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        alias: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the entries of a PKCS#12, JKS or PEM store, one line each.
    ///
    /// Tab-separated: alias, kind (key/trusted), subject and issuer (RFC 4514), serial
    /// (hex), not-after (ISO 8601, UTC), SHA-256 fingerprint. PEM certificates are named
    /// cert-1, cert-2… in file order.
    List {
        #[arg(long)]
        store: PathBuf,
        /// The store's password (else $MEDIATE_STORE_PASSWORD; PEM needs none).
        #[arg(long)]
        password: Option<String>,
    },
    /// Remove a certificate from a PKCS#12 truststore.
    Remove {
        #[arg(long)]
        store: PathBuf,
        /// The truststore's password (else $MEDIATE_STORE_PASSWORD).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        alias: String,
    },
    /// Write a CA's certificate revocation list (PEM), revoking the given certificates.
    ///
    /// An existing --out from the same CA is extended: what it revoked stays revoked. Name
    /// the file in CertificateRevocationVerifier and send the server SIGHUP.
    Crl {
        /// The CA's keystore (PKCS#12 or JKS).
        #[arg(long)]
        ca: PathBuf,
        /// The CA keystore's password (else $MEDIATE_STORE_PASSWORD).
        #[arg(long)]
        password: Option<String>,
        /// Certificates to revoke (PEM or DER files), comma-separated or repeated.
        #[arg(long, value_delimiter = ',')]
        revoke: Vec<PathBuf>,
        /// Days until the list's nextUpdate; publish a new one before then.
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a JKS store to PKCS#12.
    ///
    /// Trusted certificates only: --to becomes a truststore with the same aliases. With a key:
    /// --to becomes a keystore holding that key entry (alias and chain kept; choose with
    /// --alias when there are several), and the trusted certificates, if any, go to the
    /// truststore --trust-to, which is then required. They are never put in the key's chain,
    /// where they would be sent to TLS peers and dropped by keytool.
    Convert {
        /// The JKS store.
        #[arg(long)]
        from: PathBuf,
        /// The JKS store's password (else $MEDIATE_STORE_PASSWORD).
        #[arg(long)]
        password: Option<String>,
        /// The key's own password, if it differs from the store's.
        #[arg(long)]
        key_password: Option<String>,
        /// The PKCS#12 store to write.
        #[arg(long)]
        to: PathBuf,
        /// The password of the written stores (default: the JKS store's).
        #[arg(long)]
        to_password: Option<String>,
        /// The key entry to convert when the JKS holds several.
        #[arg(long)]
        alias: Option<String>,
        /// The PKCS#12 truststore for the trusted certificates of a JKS that also holds a key.
        #[arg(long)]
        trust_to: Option<PathBuf>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => run_server(&args, None),
        Command::Demo { serve, backend } => run_server(&serve, Some(backend)),
        Command::Check(args) => return check(&args),
        Command::Certs { command } => certs(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: &ConfigArgs) -> ExitCode {
    let result = config::load(&args.axis2, &args.mediation).and_then(|c| {
        if let Some(dir) = demo_stores_to_create(&c.axis2) {
            println!("note: the demo keystores in {} do not exist yet; `mediate serve` will create them", dir.display());
            return Ok(c);
        }
        server::prepare(&c).map(|_| c)
    });
    match result {
        Ok(c) => {
            println!("{}: OK; {}: {} proxy service(s) OK", args.axis2.display(), args.mediation.display(), c.deployment.proxies.len());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn certs(command: CertsCommand) -> anyhow::Result<()> {
    match command {
        CertsCommand::Init { dir, force } => certs_init(&dir, force),
        CertsCommand::Issue { ca, ca_password, out, password, cn, client, server, dns, ip, days, alias, force, pem } => {
            let password = certs_password(password, &out)?;
            let purpose = match (client, server) {
                (true, true) => store_tool::Purpose::ServerAndClient,
                (true, false) => store_tool::Purpose::Client,
                (false, _) => store_tool::Purpose::Server,
            };
            let ca_password = ca_password.unwrap_or_else(|| password.clone());
            let req = store_tool::IssueRequest { ca, ca_password, out, password, cn, purpose, dns, ips: ip, days, alias, force, pem };
            certs_done(store_tool::issue(&req))
        }
        CertsCommand::Import { store, password, alias, cert, force } => {
            let password = certs_password(password, &store)?;
            certs_done(store_tool::import(&store, &password, &alias, &cert, force))
        }
        CertsCommand::Export { store, password, alias, out } => {
            let cert = store_tool::export(&store, certs_password(password, &store).ok().as_deref(), &alias)?;
            match out {
                Some(out) => {
                    pki::write_pem_certs(&out, &[&cert])?;
                    println!("exported '{alias}' from {} to {}", store.display(), out.display());
                }
                None => print!("{}", String::from_utf8_lossy(&cert.to_pem()?)),
            }
            Ok(())
        }
        CertsCommand::List { store, password } => {
            for line in store_tool::list(&store, certs_password(password, &store).ok().as_deref())? {
                println!("{line}");
            }
            Ok(())
        }
        CertsCommand::Remove { store, password, alias } => {
            let password = certs_password(password, &store)?;
            certs_done(store_tool::remove(&store, &password, &alias))
        }
        CertsCommand::Crl { ca, password, revoke, days, out } => {
            let ca_password = certs_password(password, &ca)?;
            certs_done(store_tool::crl(&store_tool::CrlRequest { ca, ca_password, revoke, days, out }))
        }
        CertsCommand::Convert { from, password, key_password, to, to_password, alias, trust_to, force } => {
            let password = certs_password(password, &from)?;
            let to_password = to_password.unwrap_or_else(|| password.clone());
            let req = store_tool::ConvertRequest { from, password, key_password, to, to_password, alias, trust_to, force };
            certs_done(store_tool::convert(&req))
        }
    }
}

/// `--password`, else `MEDIATE_STORE_PASSWORD`.
fn certs_password(flag: Option<String>, store: &Path) -> Result<String, store_tool::StoreError> {
    flag.or_else(|| std::env::var(store_tool::PASSWORD_ENV).ok()).ok_or_else(|| store_tool::StoreError::PasswordNeeded(store.to_path_buf()))
}

fn certs_done(result: Result<String, store_tool::StoreError>) -> anyhow::Result<()> {
    println!("{}", result?);
    Ok(())
}

fn certs_init(dir: &Path, force: bool) -> anyhow::Result<()> {
    let demo = pki::init_demo(dir, force)?;
    println!("created the demo PKI in {}", demo.dir.display());
    println!("  client keystore for the sample client and curl: {}", demo.client_p12.display());
    println!("  password: {}", pki::DEMO_PASSWORD);
    Ok(())
}

/// The folder of the shipped demo stores when the configuration uses them and they do not
/// exist yet. Stores at any other path are never generated.
fn demo_stores_to_create(axis2: &Axis2Config) -> Option<PathBuf> {
    let dir = axis2.path.parent()?.join("security");
    let (keys, trusts) = axis2.stores();
    let paths = keys.iter().map(|k| &k.location).chain(trusts.iter().map(|t| &t.location));
    let uses_missing_demo_store =
        paths.into_iter().any(|p| p.parent() == Some(dir.as_path()) && pki::is_demo_file_name(p) && !p.exists());
    (uses_missing_demo_store && !pki::demo_files_present(&dir)).then_some(dir)
}

fn run_server(args: &ServeArgs, backend: Option<SocketAddr>) -> anyhow::Result<()> {
    let config: Config = config::load(&args.config.axis2, &args.config.mediation).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    if let Some(dir) = demo_stores_to_create(&config.axis2) {
        let demo = pki::init_demo(&dir, false).with_context(|| format!("cannot create the demo PKI in {}", dir.display()))?;
        log::info!(
            "created the demo PKI in {}; the sample client's keystore is {} (password {})",
            demo.dir.display(),
            demo.client_p12.display(),
            pki::DEMO_PASSWORD
        );
    }
    let prepared = server::prepare(&config).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    let mut options = ServeOptions::default();
    if let Some(w) = args.workers {
        options.workers = w;
    }
    actix_web::rt::System::new().block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mediate_stop = stopped(stop_rx.clone());
        let running = server::start(&config, prepared, &options, mediate_stop)?;
        for (transport, addr) in &running.addrs {
            println!("mediate listening on {}://{addr}", transport.name());
        }
        let backend_server = match backend {
            Some(addr) => {
                let opts = mediate_samples::server::ServerOptions { http: Some(addr), https: None, workers: 1, name: "MyServer".into() };
                let b = mediate_samples::server::start(opts).with_context(|| format!("cannot start the sample backend on {addr}"))?;
                if let Some(a) = b.http_addr {
                    println!("sample backend listening on http://{a}/services/SimpleStockQuoteService");
                }
                Some(b.server)
            }
            None => None,
        };
        let backend_handle = backend_server.as_ref().map(|s| s.handle());
        let live = running.live.clone();
        let paths = args.config.clone();
        let signals = actix_web::rt::spawn(async move {
            while wait_for_signal().await == Signal::Reload {
                reload(&paths, &live);
            }
            let _ = stop_tx.send(true);
        });
        if let Some(b) = backend_server {
            actix_web::rt::spawn(b);
        }
        let result = running.server.await;
        signals.abort();
        if let Some(h) = backend_handle {
            h.stop(true).await;
        }
        log::info!("stopped");
        if let Err(e) = result {
            bail!("server error: {e}");
        }
        Ok(())
    })
}

/// Completes once the stop flag is raised.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// SIGINT or SIGTERM: stop gracefully (stop accepting, let in-flight requests finish).
    Stop,
    /// SIGHUP: load the configuration again.
    Reload,
}

/// Loads and validates the configuration again and puts it in force; on any problem the
/// running configuration stays and the problems are logged. Listener addresses are not
/// re-bound: changing them needs a restart.
fn reload(paths: &ConfigArgs, live: &mediate::config::live::Live) {
    let loaded = config::load(&paths.axis2, &paths.mediation).and_then(|c| server::prepare(&c).map(|p| (c, p)));
    match loaded {
        Ok((config, prepared)) => {
            live.replace(server::snapshot(&config, prepared));
            log::info!("configuration reloaded from {} and {}", paths.axis2.display(), paths.mediation.display());
        }
        Err(e) => log::error!("reload failed; the running configuration stays:\n{e}"),
    }
}

async fn wait_for_signal() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            (Ok(mut int), Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = int.recv() => log::info!("SIGINT received; finishing in-flight requests"),
                    _ = term.recv() => log::info!("SIGTERM received; finishing in-flight requests"),
                    _ = hup.recv() => {
                        log::info!("SIGHUP received; reloading the configuration");
                        return Signal::Reload;
                    }
                }
                Signal::Stop
            }
            _ => {
                log::error!("cannot install signal handlers; stop the server with SIGKILL");
                std::future::pending::<Signal>().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Stop
    }
}
