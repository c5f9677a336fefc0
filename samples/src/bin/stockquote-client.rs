//! `stockquote-client`: sends one sample request and prints one line, like
//! Synapse's sample client. Exit status: 0 success, 1 SOAP fault, 2 error.
//! See `mediate_samples::client_cli` for the arguments.

use std::process::ExitCode;

use clap::Parser;
use mediate_samples::client_cli::{run, ClientArgs, Outcome};

fn main() -> ExitCode {
    env_logger::init();
    let outcome = run(&ClientArgs::parse());
    match outcome {
        Outcome::Failure(_) => eprintln!("{}", outcome.line()),
        _ => println!("{}", outcome.line()),
    }
    ExitCode::from(outcome.exit_code())
}
