//! The `mediate` command line: serve, check, demo, certs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use mediate::config::axis2::Axis2Config;
use mediate::config::{self, Config};
use mediate::security::pki;
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
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => run_server(&args, None),
        Command::Demo { serve, backend } => run_server(&serve, Some(backend)),
        Command::Check(args) => return check(&args),
        Command::Certs { command: CertsCommand::Init { dir, force } } => certs_init(&dir, force),
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
                let opts = mediate_samples::server::ServerOptions { http: Some(addr), https: None, workers: 1 };
                let b = mediate_samples::server::start(opts).with_context(|| format!("cannot start the sample backend on {addr}"))?;
                if let Some(a) = b.http_addr {
                    println!("sample backend listening on http://{a}/services/SimpleStockQuoteService");
                }
                Some(b.server)
            }
            None => None,
        };
        let backend_handle = backend_server.as_ref().map(|s| s.handle());
        let signals = actix_web::rt::spawn(async move {
            wait_for_signal().await;
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

/// SIGINT or SIGTERM: both stop gracefully (stop accepting, let in-flight requests finish).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => log::info!("SIGINT received; finishing in-flight requests"),
                    _ = term.recv() => log::info!("SIGTERM received; finishing in-flight requests"),
                }
            }
            _ => {
                log::error!("cannot install signal handlers; stop the server with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
