//! `stockquote-server`: runs the sample SimpleStockQuoteService until
//! SIGINT/SIGTERM. See `mediate_samples::server_cli` for the arguments.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mediate_samples::server;
use mediate_samples::server_cli::{listening_lines, ServerArgs};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = ServerArgs::parse();
    let opts = match args.options() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(async move {
        let running = server::start(opts)?;
        let mut out = std::io::stdout().lock();
        for line in listening_lines(&running) {
            writeln!(out, "{line}")?;
        }
        // Scripts wait for these lines before sending traffic.
        out.flush()?;
        drop(out);
        running.server.await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
