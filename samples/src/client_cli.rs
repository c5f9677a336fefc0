//! The `stockquote-client` command: its arguments and everything it does,
//! as functions that tests can call. It sends one request like Synapse's
//! sample client and reduces the answer to the single line that client
//! printed, a fault, or one clear error line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::client::{self, ClientTls, HttpResponse};
use crate::stockquote::{self, Mode, Request, SoapVersion};
use crate::tls::{self, Identity, TlsError};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "stockquote-client",
    about = "Sends one SimpleStockQuoteService request (optionally over mutual TLS) and prints the result"
)]
pub struct ClientArgs {
    /// Where to send the request, e.g. http://127.0.0.1:8280/services/StockQuoteProxy
    /// (Synapse's client calls it `trpurl`).
    #[arg(long, alias = "trpurl")]
    pub url: String,
    /// Adds WS-Addressing headers with this `wsa:To`, as Synapse's client does with
    /// `addurl`: the server then routes by the header, not by the URL.
    #[arg(long)]
    pub addurl: Option<String>,
    /// PKCS#12 key store with the client certificate to present.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    pub keystore: Option<PathBuf>,
    /// Password of the key store (and default of --truststore-password).
    #[arg(long, default_value = "")]
    pub password: String,
    /// PEM client certificate (with --key).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Unencrypted PEM private key (with --cert).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Certificates to trust for the server: PKCS#12 (.p12/.pfx) or PEM.
    /// Without it, the system's trust store is used.
    #[arg(long)]
    pub truststore: Option<PathBuf>,
    /// Password of a PKCS#12 trust store.
    #[arg(long)]
    pub truststore_password: Option<String>,
    #[arg(long, value_enum, default_value = "quote")]
    pub mode: ModeArg,
    /// Stock symbol (market activity: the only symbol; default: a fixed list).
    #[arg(long)]
    pub symbol: Option<String>,
    #[arg(long, value_enum, default_value = "11")]
    pub soap: SoapArg,
    /// Overrides the SOAP action (default urn:<operation>).
    #[arg(long)]
    pub action: Option<String>,
    /// Do not check that the server certificate names the host.
    #[arg(long)]
    pub insecure_skip_hostname: bool,
    /// Seconds allowed for the whole exchange.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Call LBService1's sampleOperation (Synapse's load-balancing samples) instead of the
    /// stock-quote service, and print which server answered.
    #[arg(long)]
    pub sample_operation: bool,
    /// With --sample-operation: name a client session in a `syn:ClientID` SOAP header.
    #[arg(long, requires = "sample_operation")]
    pub client_id: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeArg {
    Quote,
    Simplequote,
    Fullquote,
    Marketactivity,
    Placeorder,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Quote => Mode::Quote,
            ModeArg::Simplequote => Mode::SimpleQuote,
            ModeArg::Fullquote => Mode::FullQuote,
            ModeArg::Marketactivity => Mode::MarketActivity,
            ModeArg::Placeorder => Mode::PlaceOrder,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapArg {
    #[value(name = "11")]
    V11,
    #[value(name = "12")]
    V12,
}

impl From<SoapArg> for SoapVersion {
    fn from(s: SoapArg) -> SoapVersion {
        match s {
            SoapArg::V11 => SoapVersion::Soap11,
            SoapArg::V12 => SoapVersion::Soap12,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The line Synapse's sample client printed on success.
    Success(String),
    /// The service answered with a SOAP fault; holds its reason.
    Fault(String),
    /// Nothing usable came back (connection, TLS, HTTP or store problem).
    Failure(String),
}

impl Outcome {
    /// The one line to print.
    pub fn line(&self) -> String {
        match self {
            Outcome::Success(line) => line.clone(),
            Outcome::Fault(reason) => format!("Fault: {reason}"),
            Outcome::Failure(message) => format!("error: {message}"),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Success(_) => 0,
            Outcome::Fault(_) => 1,
            Outcome::Failure(_) => 2,
        }
    }
}

/// The TLS settings the arguments ask for.
pub fn tls_settings(args: &ClientArgs) -> Result<ClientTls, TlsError> {
    let identity = match (&args.keystore, &args.cert, &args.key) {
        (Some(store), _, _) => Some(Identity::from_pkcs12_file(store, &args.password)?),
        (None, Some(cert), Some(key)) => Some(Identity::from_pem_files(cert, key)?),
        _ => None,
    };
    let trust_password = args
        .truststore_password
        .as_deref()
        .or((!args.password.is_empty()).then_some(args.password.as_str()));
    let trust = args
        .truststore
        .as_deref()
        .map(|path| tls::load_trust(path, trust_password))
        .transpose()?;
    Ok(ClientTls {
        identity,
        trust,
        skip_hostname: args.insecure_skip_hostname,
    })
}

/// The request the arguments describe.
pub fn build_request(args: &ClientArgs) -> Request {
    let mode = Mode::from(args.mode);
    let symbols: Vec<&str> = match (&args.symbol, mode) {
        (Some(symbol), _) => vec![symbol.as_str()],
        (None, Mode::MarketActivity) => Vec::new(),
        (None, _) => vec!["IBM"],
    };
    let mut request = stockquote::request_envelope(mode, &symbols, args.soap.into());
    if let Some(action) = &args.action {
        request.action = action.clone();
    }
    match &args.addurl {
        Some(to) => request.with_addressing(to),
        None => request,
    }
}

/// Does the whole run: load stores, send, interpret.
pub fn run(args: &ClientArgs) -> Outcome {
    let tls = match tls_settings(args) {
        Ok(tls) => tls,
        Err(e) => return Outcome::Failure(e.to_string()),
    };
    if args.sample_operation {
        return run_sample_operation(args, &tls);
    }
    let request = build_request(args);
    let headers = request.headers();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let response = client::post(
        &args.url,
        &headers,
        &request.body,
        &tls,
        Duration::from_secs(args.timeout.max(1)),
    );
    match response {
        Ok(response) => interpret(args.mode.into(), &request, &response),
        Err(e) => Outcome::Failure(e.to_string()),
    }
}

/// `--sample-operation`: one LBService1 call; prints `Response from server: <name>`.
fn run_sample_operation(args: &ClientArgs, tls: &ClientTls) -> Outcome {
    let body = crate::lbservice::request(args.client_id.as_deref());
    let headers = [("Content-Type", stockquote::SOAP11_CONTENT_TYPE), ("SOAPAction", "\"urn:sampleOperation\"")];
    match client::post(&args.url, &headers, &body, tls, Duration::from_secs(args.timeout.max(1))) {
        Ok(r) => match (stockquote::read_fault_reason(&r.body), crate::lbservice::read_answer(&r.body)) {
            (Some(reason), _) => Outcome::Fault(reason),
            (None, Some(answer)) if (200..300).contains(&r.status) => Outcome::Success(answer),
            _ => Outcome::Failure(format!("the server answered HTTP {}", r.status)),
        },
        Err(e) => Outcome::Failure(e.to_string()),
    }
}

/// The command as a function of its argument list (program name first):
/// `Ok` with the success line, or `Err` with the fault / error line (or
/// clap's message for bad arguments).
pub fn run_args<I, T>(args: I) -> Result<String, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = ClientArgs::try_parse_from(args).map_err(|e| e.to_string())?;
    match run(&args) {
        Outcome::Success(line) => Ok(line),
        other => Err(other.line()),
    }
}

/// Reduces a response to what the sample client prints.
pub fn interpret(mode: Mode, request: &Request, response: &HttpResponse) -> Outcome {
    if !response.body.is_empty() {
        if let Some(reason) = stockquote::read_fault_reason(&response.body) {
            return Outcome::Fault(reason);
        }
    }
    if !(200..300).contains(&response.status) {
        return Outcome::Failure(format!(
            "the server answered HTTP {}{}",
            response.status,
            body_excerpt(&response.body)
        ));
    }
    let value = match mode {
        Mode::PlaceOrder => {
            return match &request.order {
                Some(order) => Outcome::Success(format!(
                    "Order placed for {} shares of stock {} at a price of $ {}",
                    order.quantity, order.symbol, order.price
                )),
                None => Outcome::Failure("the request carried no order".into()),
            };
        }
        Mode::Quote | Mode::SimpleQuote => stockquote::read_last_price(&response.body),
        Mode::FullQuote => stockquote::read_full_quote_average(&response.body),
        Mode::MarketActivity => stockquote::read_market_activity_average(&response.body),
    };
    match value {
        Ok(v) => Outcome::Success(match mode {
            Mode::FullQuote => format!("Full :: Average price = ${v}"),
            Mode::MarketActivity => format!("Activity :: Average price = ${v}"),
            _ => format!("Standard :: Stock price = ${v}"),
        }),
        Err(e) => Outcome::Failure(format!("unexpected reply: {e}")),
    }
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let cut: String = text.chars().take(200).collect();
    let ellipsis = if cut.len() < text.len() { "…" } else { "" };
    format!(": {}{ellipsis}", cut.replace(['\r', '\n'], " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stockquote::{handle, order_envelope, Order};

    fn args(extra: &[&str]) -> ClientArgs {
        let mut argv = vec!["stockquote-client", "--url", "http://127.0.0.1:1/"];
        argv.extend_from_slice(extra);
        ClientArgs::try_parse_from(argv).unwrap()
    }

    fn reply_to(req: &Request) -> HttpResponse {
        let headers = req.headers();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        let reply = handle(get("Content-Type"), get("SOAPAction"), &req.body);
        HttpResponse {
            status: reply.status,
            headers: vec![("Content-Type".into(), reply.content_type.into())],
            body: reply.body,
        }
    }

    #[test]
    fn parses_the_documented_command_line() {
        let a = args(&[
            "--mode",
            "fullquote",
            "--soap",
            "12",
            "--symbol",
            "MSFT",
            "--keystore",
            "c.p12",
            "--password",
            "pw",
            "--truststore",
            "t.pem",
            "--insecure-skip-hostname",
        ]);
        assert_eq!(a.mode, ModeArg::Fullquote);
        assert_eq!(a.soap, SoapArg::V12);
        assert!(a.insecure_skip_hostname);
        let a = args(&[]);
        assert_eq!(
            (a.mode, a.soap, a.timeout),
            (ModeArg::Quote, SoapArg::V11, 30)
        );
        for mode in [
            "quote",
            "simplequote",
            "fullquote",
            "marketactivity",
            "placeorder",
        ] {
            assert!(
                ClientArgs::try_parse_from(["c", "--url", "u", "--mode", mode]).is_ok(),
                "{mode}"
            );
        }
        assert!(ClientArgs::try_parse_from([
            "c",
            "--url",
            "u",
            "--keystore",
            "a",
            "--cert",
            "b",
            "--key",
            "c"
        ])
        .is_err());
        assert!(ClientArgs::try_parse_from(["c", "--url", "u", "--cert", "b"]).is_err());
        assert!(ClientArgs::try_parse_from(["c", "--url", "u", "--soap", "13"]).is_err());
        assert!(ClientArgs::try_parse_from(["c"]).is_err());
    }

    #[test]
    fn prints_like_the_synapse_client() {
        let a = args(&[]);
        let req = build_request(&a);
        let out = interpret(Mode::Quote, &req, &reply_to(&req));
        let Outcome::Success(line) = &out else {
            panic!("{out:?}")
        };
        assert!(line.starts_with("Standard :: Stock price = $"), "{line}");
        let price: f64 = line
            .trim_start_matches("Standard :: Stock price = $")
            .parse()
            .unwrap();
        assert!((80.0..=200.0).contains(&price));
        assert_eq!(out.exit_code(), 0);

        let a = args(&["--mode", "fullquote", "--soap", "12"]);
        let req = build_request(&a);
        assert!(interpret(Mode::FullQuote, &req, &reply_to(&req))
            .line()
            .starts_with("Full :: Average price = $"));
        let a = args(&["--mode", "marketactivity"]);
        let req = build_request(&a);
        assert!(interpret(Mode::MarketActivity, &req, &reply_to(&req))
            .line()
            .starts_with("Activity :: Average price = $"));
        let a = args(&["--mode", "simplequote", "--symbol", "SUN"]);
        let req = build_request(&a);
        assert!(interpret(Mode::SimpleQuote, &req, &reply_to(&req))
            .line()
            .starts_with("Standard :: Stock price = $"));
    }

    #[test]
    fn prints_orders_and_faults() {
        let order = Order {
            symbol: "IBM".into(),
            quantity: 7478,
            price: 155.5,
        };
        let req = order_envelope(&order, SoapVersion::Soap11);
        let resp = reply_to(&req);
        assert_eq!(resp.status, 202);
        assert_eq!(
            interpret(Mode::PlaceOrder, &req, &resp).line(),
            "Order placed for 7478 shares of stock IBM at a price of $ 155.5"
        );
        let a = args(&["--symbol", "ERR", "--soap", "12"]);
        let req = build_request(&a);
        let out = interpret(Mode::Quote, &req, &reply_to(&req));
        assert_eq!(out, Outcome::Fault("Invalid stock symbol : ERR".into()));
        assert_eq!(out.line(), "Fault: Invalid stock symbol : ERR");
        assert_eq!(out.exit_code(), 1);
    }

    #[test]
    fn reports_http_errors_and_odd_replies() {
        let req = build_request(&args(&[]));
        let resp = HttpResponse {
            status: 502,
            headers: vec![],
            body: b"Bad\ngateway".to_vec(),
        };
        let out = interpret(Mode::Quote, &req, &resp);
        assert_eq!(
            out.line(),
            "error: the server answered HTTP 502: Bad gateway"
        );
        assert_eq!(out.exit_code(), 2);
        let resp = HttpResponse {
            status: 200,
            headers: vec![],
            body: b"<nothing/>".to_vec(),
        };
        assert!(interpret(Mode::Quote, &req, &resp)
            .line()
            .contains("no <last> element"));
        let order_req = build_request(&args(&["--mode", "placeorder"]));
        let resp = HttpResponse {
            status: 404,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(
            interpret(Mode::PlaceOrder, &order_req, &resp).line(),
            "error: the server answered HTTP 404"
        );
    }

    #[test]
    fn action_override_and_default_symbols() {
        let req = build_request(&args(&["--action", "urn:custom"]));
        assert!(req
            .headers()
            .contains(&("SOAPAction".to_string(), "\"urn:custom\"".to_string())));
        let req = build_request(&args(&["--mode", "marketactivity"]));
        assert!(String::from_utf8(req.body)
            .unwrap()
            .contains("<m0:symbols>MSFT</m0:symbols>"));
        let req = build_request(&args(&["--mode", "marketactivity", "--symbol", "XYZ"]));
        let body = String::from_utf8(req.body).unwrap();
        assert!(body.contains("<m0:symbols>XYZ</m0:symbols>") && !body.contains("MSFT"));
    }

    #[test]
    fn run_args_returns_the_line() {
        let err = run_args([
            "stockquote-client",
            "--url",
            "http://127.0.0.1:1/",
            "--timeout",
            "5",
        ])
        .unwrap_err();
        assert_eq!(
            err,
            "error: cannot connect to 127.0.0.1:1: connection refused"
        );
        let usage = run_args(["stockquote-client"]).unwrap_err();
        assert!(usage.contains("--url"), "{usage}");
    }

    #[test]
    fn store_problems_are_failures() {
        let out = run(&args(&["--keystore", "/nonexistent/x.p12"]));
        assert!(
            matches!(&out, Outcome::Failure(m) if m.contains("/nonexistent/x.p12")),
            "{out:?}"
        );
        assert_eq!(out.exit_code(), 2);
    }
}
