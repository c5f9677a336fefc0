//! The SimpleStockQuoteService: the backend that the classic Synapse samples
//! talk to, as a pure function from request bytes to reply bytes so that it
//! can be tested and embedded without a server. It answers in the SOAP
//! version of the request (or plain XML), and also provides the request
//! builders and reply readers used by the sample client.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

pub const SERVICE_NS: &str = "http://services.samples";
pub const XSD_NS: &str = "http://services.samples/xsd";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub const SOAP11_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";
pub const SOAP12_CONTENT_TYPE: &str = "application/soap+xml; charset=UTF-8";
pub const POX_CONTENT_TYPE: &str = "application/xml";

/// The symbol that makes every operation fail with a server fault.
pub const FAULT_SYMBOL: &str = "ERR";
/// Days of history in a `getFullQuote` answer.
pub const TRADE_HISTORY_DAYS: usize = 365;

// Bounds that keep a single request from costing unbounded memory or time:
// replies grow with the number and length of symbols, and the parse tree
// (and its recursive drop) with nesting depth.
const MAX_DEPTH: usize = 64;
const MAX_SYMBOL_LEN: usize = 100;
const MAX_SYMBOLS: usize = 1000;

static ORDER_COUNTER: AtomicU64 = AtomicU64::new(0);

/// SOAP version of a request built by [`request_envelope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    Soap11,
    Soap12,
}

impl SoapVersion {
    pub fn namespace(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => SOAP11_NS,
            SoapVersion::Soap12 => SOAP12_NS,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => SOAP11_CONTENT_TYPE,
            SoapVersion::Soap12 => SOAP12_CONTENT_TYPE,
        }
    }
}

/// What the sample client asks for; mirrors Synapse's client `-Dmode=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quote,
    SimpleQuote,
    FullQuote,
    MarketActivity,
    PlaceOrder,
}

impl Mode {
    /// The service operation this mode invokes.
    pub fn operation(self) -> &'static str {
        self.op().name()
    }

    fn op(self) -> Op {
        match self {
            Mode::Quote => Op::GetQuote,
            Mode::SimpleQuote => Op::GetSimpleQuote,
            Mode::FullQuote => Op::GetFullQuote,
            Mode::MarketActivity => Op::GetMarketActivity,
            Mode::PlaceOrder => Op::PlaceOrder,
        }
    }
}

/// The service's answer, ready to be written as an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReply {
    pub status: u16,
    /// Meaningless when `body` is empty (the one-way `placeOrder`).
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("DOCTYPE declarations are not allowed")]
    Doctype,
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("the document has no root element")]
    Empty,
}

/// Why a reply could not be turned into the value the client prints.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplyError {
    #[error("unreadable reply: {0}")]
    Xml(#[from] XmlError),
    #[error("SOAP fault: {0}")]
    Fault(String),
    #[error("the reply has no <{0}> element")]
    Missing(&'static str),
    #[error("<{name}> in the reply is not a number: {value:?}")]
    NotANumber { name: &'static str, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Soap11,
    Soap12,
    Pox,
}

impl Framing {
    fn content_type(self) -> &'static str {
        match self {
            Framing::Soap11 => SOAP11_CONTENT_TYPE,
            Framing::Soap12 => SOAP12_CONTENT_TYPE,
            Framing::Pox => POX_CONTENT_TYPE,
        }
    }

    /// Best guess when the body itself cannot tell us (it did not parse).
    fn from_content_type(content_type: Option<&str>) -> Framing {
        let mime = content_type
            .and_then(|c| c.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match mime.as_deref() {
            Some("application/soap+xml") => Framing::Soap12,
            Some("application/xml") => Framing::Pox,
            _ => Framing::Soap11,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    GetQuote,
    GetSimpleQuote,
    GetFullQuote,
    GetMarketActivity,
    PlaceOrder,
}

impl Op {
    const ALL: [Op; 5] = [
        Op::GetQuote,
        Op::GetSimpleQuote,
        Op::GetFullQuote,
        Op::GetMarketActivity,
        Op::PlaceOrder,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::GetQuote => "getQuote",
            Op::GetSimpleQuote => "getSimpleQuote",
            Op::GetFullQuote => "getFullQuote",
            Op::GetMarketActivity => "getMarketActivity",
            Op::PlaceOrder => "placeOrder",
        }
    }

    fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Accepts `urn:getQuote`, `"urn:getQuote"`, `http://services.samples/getQuote`
    /// or a bare `getQuote`.
    fn from_action(action: &str) -> Option<Op> {
        let action = action.trim().trim_matches('"');
        let last = action.rsplit([':', '/']).next().unwrap_or(action);
        Op::from_name(last)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultCode {
    Client,
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fault {
    code: FaultCode,
    reason: String,
}

impl Fault {
    fn client(reason: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Client,
            reason: reason.into(),
        }
    }

    fn server(reason: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Server,
            reason: reason.into(),
        }
    }
}

/// Serves one request. `soap_action` is the SOAPAction header (SOAP 1.1);
/// for SOAP 1.2 the `action` parameter of `content_type` is used when it is
/// absent. Never panics on any input.
pub fn handle(content_type: Option<&str>, soap_action: Option<&str>, body: &[u8]) -> ServiceReply {
    let hint = Framing::from_content_type(content_type);
    let doc = match parse_document(body) {
        Ok(doc) => doc,
        Err(e) => return fault_reply(hint, &Fault::client(e.to_string())),
    };
    let (framing, payload) = match unwrap_envelope(&doc) {
        Ok(found) => found,
        Err(f) => return fault_reply(hint, &f),
    };
    let action = soap_action
        .filter(|a| !a.trim().trim_matches('"').is_empty())
        .map(str::to_owned)
        .or_else(|| content_type.and_then(action_parameter));
    match serve(payload, action.as_deref()) {
        Ok(Some(xml)) => ServiceReply {
            status: 200,
            content_type: framing.content_type(),
            body: frame(framing, &xml).into_bytes(),
        },
        Ok(None) => ServiceReply {
            status: 202,
            content_type: framing.content_type(),
            body: Vec::new(),
        },
        Err(f) => fault_reply(framing, &f),
    }
}

/// Finds the SOAP body's payload, or takes the root itself for plain XML.
fn unwrap_envelope(doc: &Element) -> Result<(Framing, Option<&Element>), Fault> {
    if doc.local != "Envelope" {
        return Ok((Framing::Pox, Some(doc)));
    }
    let framing = match doc.ns.as_deref() {
        Some(SOAP11_NS) => Framing::Soap11,
        Some(SOAP12_NS) => Framing::Soap12,
        other => {
            return Err(Fault::client(format!(
                "unsupported SOAP envelope namespace {:?}",
                other.unwrap_or("")
            )))
        }
    };
    let body = doc
        .children
        .iter()
        .find(|c| c.local == "Body" && c.ns == doc.ns)
        .ok_or_else(|| Fault::client("the SOAP envelope has no Body"))?;
    Ok((framing, body.children.first()))
}

/// The `action="…"` parameter of a SOAP 1.2 content type.
fn action_parameter(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("action")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Runs the operation; `Ok(None)` means accepted without an answer.
fn serve(payload: Option<&Element>, action: Option<&str>) -> Result<Option<String>, Fault> {
    let by_element = payload.and_then(|p| Op::from_name(&p.local));
    let op = by_element
        .or_else(|| action.and_then(Op::from_action))
        .ok_or_else(|| match (payload, action) {
            (Some(p), _) => Fault::client(format!("unknown operation {}", p.local)),
            (None, Some(a)) => Fault::client(format!("unknown operation {a}")),
            (None, None) => Fault::client("empty request: no operation element and no SOAPAction"),
        })?;
    let payload = payload.ok_or_else(|| Fault::client(format!("{}: empty request", op.name())))?;
    match op {
        Op::GetQuote => {
            let symbol = request_symbol(payload, op)?;
            Ok(Some(quote_response(
                "getQuoteResponse",
                &Quote::random(&symbol),
            )))
        }
        Op::GetSimpleQuote => {
            let symbol = symbol_text(payload.child("symbol"), op)?;
            Ok(Some(quote_response(
                "getSimpleQuoteResponse",
                &Quote::random(&symbol),
            )))
        }
        Op::GetFullQuote => {
            let symbol = request_symbol(payload, op)?;
            Ok(Some(full_quote_response(&symbol)))
        }
        Op::GetMarketActivity => {
            let holder = payload.child("request").unwrap_or(payload);
            let symbols = holder
                .children_named("symbols")
                .map(|s| symbol_text(Some(s), op))
                .collect::<Result<Vec<_>, _>>()?;
            if symbols.is_empty() {
                return Err(Fault::client("getMarketActivity: missing symbols"));
            }
            if symbols.len() > MAX_SYMBOLS {
                return Err(Fault::client(format!(
                    "getMarketActivity: more than {MAX_SYMBOLS} symbols"
                )));
            }
            Ok(Some(market_activity_response(&symbols)))
        }
        Op::PlaceOrder => {
            place_order(payload)?;
            Ok(None)
        }
    }
}

/// `request/symbol`, tolerating a bare `symbol` for hand-written requests.
fn request_symbol(payload: &Element, op: Op) -> Result<String, Fault> {
    let symbol = payload
        .child("request")
        .and_then(|r| r.child("symbol"))
        .or_else(|| payload.child("symbol"));
    symbol_text(symbol, op)
}

fn symbol_text(element: Option<&Element>, op: Op) -> Result<String, Fault> {
    let symbol = element.map(|e| e.text.trim()).unwrap_or("");
    if symbol.is_empty() {
        return Err(Fault::client(format!("{}: missing symbol", op.name())));
    }
    if symbol.chars().count() > MAX_SYMBOL_LEN {
        return Err(Fault::client(format!(
            "{}: symbol longer than {MAX_SYMBOL_LEN} characters",
            op.name()
        )));
    }
    if symbol == FAULT_SYMBOL {
        return Err(Fault::server(format!("Invalid stock symbol : {symbol}")));
    }
    Ok(symbol.to_owned())
}

fn place_order(payload: &Element) -> Result<(), Fault> {
    let order = payload
        .child("order")
        .ok_or_else(|| Fault::client("placeOrder: missing order"))?;
    let field = |name: &str| order.child(name).map(|e| e.text.trim()).unwrap_or("");
    let symbol = symbol_text(order.child("symbol"), Op::PlaceOrder)?;
    let price: f64 = field("price")
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite())
        .ok_or_else(|| Fault::client(format!("placeOrder: bad price {:?}", field("price"))))?;
    let quantity: i64 = field("quantity")
        .parse()
        .map_err(|_| Fault::client(format!("placeOrder: bad quantity {:?}", field("quantity"))))?;
    let n = ORDER_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    log::info!("Accepted order #{n} for : {quantity} stocks of {symbol} at $ {price}");
    Ok(())
}

fn frame(framing: Framing, payload: &str) -> String {
    match framing {
        Framing::Pox => payload.to_owned(),
        Framing::Soap11 | Framing::Soap12 => {
            let ns = if framing == Framing::Soap11 {
                SOAP11_NS
            } else {
                SOAP12_NS
            };
            format!(
                "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{ns}\">\
                 <soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
            )
        }
    }
}

fn fault_reply(framing: Framing, fault: &Fault) -> ServiceReply {
    let reason = escape(fault.reason.as_str());
    let (status, xml) = match framing {
        // SOAP 1.1 over HTTP reports every fault as 500.
        Framing::Soap11 | Framing::Pox => {
            let code = match fault.code {
                FaultCode::Client => "Client",
                FaultCode::Server => "Server",
            };
            let status = match (framing, fault.code) {
                (Framing::Pox, FaultCode::Client) => 400,
                _ => 500,
            };
            let fault_xml = format!(
                "<soapenv:Fault xmlns:soapenv=\"{SOAP11_NS}\"><faultcode>soapenv:{code}</faultcode>\
                 <faultstring>{reason}</faultstring><detail/></soapenv:Fault>"
            );
            let xml = if framing == Framing::Pox {
                fault_xml
            } else {
                frame(framing, &fault_xml)
            };
            (status, xml)
        }
        Framing::Soap12 => {
            let (code, status) = match fault.code {
                FaultCode::Client => ("Sender", 400),
                FaultCode::Server => ("Receiver", 500),
            };
            let fault_xml = format!(
                "<soapenv:Fault><soapenv:Code><soapenv:Value>soapenv:{code}</soapenv:Value></soapenv:Code>\
                 <soapenv:Reason><soapenv:Text xml:lang=\"en\">{reason}</soapenv:Text></soapenv:Reason>\
                 </soapenv:Fault>"
            );
            (status, frame(framing, &fault_xml))
        }
    };
    ServiceReply {
        status,
        content_type: framing.content_type(),
        body: xml.into_bytes(),
    }
}

/// One quote as the service reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub symbol: String,
    pub name: String,
    pub last: f64,
    pub change: f64,
    pub percentage_change: f64,
    pub prev_close: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub earnings: f64,
    pub pe_ratio: f64,
    pub market_cap: f64,
    pub volume: u64,
    pub last_trade_timestamp: String,
}

impl Quote {
    /// Random but self-consistent values: `last` in 80–200, the others
    /// derived from it the way a real quote relates them.
    pub fn random(symbol: &str) -> Quote {
        Quote::random_at(symbol, &java_date_now())
    }

    fn random_at(symbol: &str, timestamp: &str) -> Quote {
        let last = 80.0 + 120.0 * fastrand::f64();
        let prev_close = last / (1.0 + (fastrand::f64() - 0.5) * 0.1);
        let change = last - prev_close;
        let open = prev_close * (1.0 + (fastrand::f64() - 0.5) * 0.04);
        let earnings = 1.0 + 14.0 * fastrand::f64();
        let shares = 1.0e8 + 9.9e9 * fastrand::f64();
        Quote {
            symbol: symbol.to_owned(),
            name: format!("{symbol} Company"),
            last,
            change,
            percentage_change: change / prev_close * 100.0,
            prev_close,
            open,
            high: last.max(open) * (1.0 + 0.02 * fastrand::f64()),
            low: last.min(open) * (1.0 - 0.02 * fastrand::f64()),
            earnings,
            pe_ratio: last / earnings,
            market_cap: (last * shares).round(),
            volume: fastrand::u64(10_000..20_000_000),
            last_trade_timestamp: timestamp.to_owned(),
        }
    }

    /// The `ax21:`-prefixed children, in the (alphabetical) order Axis2 wrote them.
    fn write_fields(&self, out: &mut String) {
        let symbol = escape(self.symbol.as_str());
        let name = escape(self.name.as_str());
        let _ = write!(
            out,
            "<ax21:change>{}</ax21:change><ax21:earnings>{}</ax21:earnings>\
             <ax21:high>{}</ax21:high><ax21:last>{}</ax21:last>\
             <ax21:lastTradeTimestamp>{}</ax21:lastTradeTimestamp><ax21:low>{}</ax21:low>\
             <ax21:marketCap>{}</ax21:marketCap><ax21:name>{}</ax21:name>\
             <ax21:open>{}</ax21:open><ax21:peRatio>{}</ax21:peRatio>\
             <ax21:percentageChange>{}</ax21:percentageChange><ax21:prevClose>{}</ax21:prevClose>\
             <ax21:symbol>{}</ax21:symbol><ax21:volume>{}</ax21:volume>",
            self.change,
            self.earnings,
            self.high,
            self.last,
            escape(self.last_trade_timestamp.as_str()),
            self.low,
            self.market_cap,
            name,
            self.open,
            self.pe_ratio,
            self.percentage_change,
            self.prev_close,
            symbol,
            self.volume,
        );
    }
}

fn return_open(out: &mut String, xsi_type: &str) {
    let _ = write!(
        out,
        "<ns:return xmlns:ax21=\"{XSD_NS}\" xmlns:xsi=\"{XSI_NS}\" xsi:type=\"ax21:{xsi_type}\">"
    );
}

fn quote_response(element: &str, quote: &Quote) -> String {
    let mut out = String::with_capacity(1024);
    let _ = write!(out, "<ns:{element} xmlns:ns=\"{SERVICE_NS}\">");
    return_open(&mut out, "GetQuoteResponse");
    quote.write_fields(&mut out);
    let _ = write!(out, "</ns:return></ns:{element}>");
    out
}

fn full_quote_response(symbol: &str) -> String {
    let timestamp = java_date_now();
    let mut out = String::with_capacity(TRADE_HISTORY_DAYS * 900);
    let _ = write!(out, "<ns:getFullQuoteResponse xmlns:ns=\"{SERVICE_NS}\">");
    return_open(&mut out, "GetFullQuoteResponse");
    for day in 0..TRADE_HISTORY_DAYS {
        let _ = write!(
            out,
            "<ax21:tradeHistory xsi:type=\"ax21:TradingDay\"><ax21:day>{day}</ax21:day>\
             <ax21:quote xsi:type=\"ax21:GetQuoteResponse\">"
        );
        Quote::random_at(symbol, &timestamp).write_fields(&mut out);
        out.push_str("</ax21:quote></ax21:tradeHistory>");
    }
    out.push_str("</ns:return></ns:getFullQuoteResponse>");
    out
}

fn market_activity_response(symbols: &[String]) -> String {
    let timestamp = java_date_now();
    let mut out = String::with_capacity(symbols.len() * 800 + 256);
    let _ = write!(
        out,
        "<ns:getMarketActivityResponse xmlns:ns=\"{SERVICE_NS}\">"
    );
    return_open(&mut out, "GetMarketActivityResponse");
    for symbol in symbols {
        out.push_str("<ax21:quotes xsi:type=\"ax21:GetQuoteResponse\">");
        Quote::random_at(symbol, &timestamp).write_fields(&mut out);
        out.push_str("</ax21:quotes>");
    }
    out.push_str("</ns:return></ns:getMarketActivityResponse>");
    out
}

/// The current time the way `java.util.Date.toString()` shows it, since the
/// original service filled `lastTradeTimestamp` that way.
fn java_date_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    java_date(secs)
}

fn java_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Gregorian (year, month 1–12, day 1–31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a
    // 400-year era's year, which makes month lengths a simple formula.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------
// A minimal namespace-aware tree, enough to navigate requests and replies.

#[derive(Debug, Default)]
struct Element {
    ns: Option<String>,
    local: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local == local)
    }

    fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local == local)
    }

    /// Depth-first, document order; recursion is bounded by `MAX_DEPTH`.
    fn descendants_named<'a>(&'a self, local: &str, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if c.local == local {
                out.push(c);
            }
            c.descendants_named(local, out);
        }
    }

    fn first_descendant(&self, local: &str) -> Option<&Element> {
        if self.local == local {
            return Some(self);
        }
        let mut found = Vec::new();
        self.descendants_named(local, &mut found);
        found.into_iter().next()
    }
}

fn parse_document(body: &[u8]) -> Result<Element, XmlError> {
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let mut reader = NsReader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.0).into_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(XmlError::Malformed(format!(
                    "unbound namespace prefix {:?}",
                    String::from_utf8_lossy(&prefix)
                )))
            }
        };
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(XmlError::Malformed("more than one root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(new_element(ns, start.local_name().as_ref())?);
            }
            Event::Empty(start) => {
                let element = new_element(ns, start.local_name().as_ref())?;
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // The reader has already checked that the names match.
                if let Some(element) = stack.pop() {
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| malformed(&e))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => {
                        return Err(XmlError::Malformed("text outside the root element".into()))
                    }
                }
            }
            Event::CData(data) => {
                let data = data.decode().map_err(|e| malformed(&e))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&data),
                    None => {
                        return Err(XmlError::Malformed("CDATA outside the root element".into()))
                    }
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference.decode().map_err(|e| malformed(&e))?;
                let resolved = match reference.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(ch) => ch.to_string(),
                    // Only the five predefined entities: anything else would need a DTD.
                    None => resolve_predefined_entity(&name)
                        .ok_or_else(|| XmlError::Malformed(format!("undefined entity &{name};")))?
                        .to_owned(),
                };
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&resolved),
                    None => {
                        return Err(XmlError::Malformed(
                            "reference outside the root element".into(),
                        ))
                    }
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unexpected end of document".into()));
    }
    root.ok_or(XmlError::Empty)
}

fn new_element(ns: Option<String>, local: &[u8]) -> Result<Element, XmlError> {
    let local = std::str::from_utf8(local)
        .map_err(|_| XmlError::Malformed("element name is not UTF-8".into()))?;
    Ok(Element {
        ns,
        local: local.to_owned(),
        ..Element::default()
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

// ---------------------------------------------------------------------------
// The client side: requests the sample client sends and how it reads replies.

/// An order sent by `placeOrder`.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub symbol: String,
    pub quantity: u32,
    pub price: f64,
}

impl Order {
    /// A random order for `symbol`, like Synapse's client makes.
    pub fn random(symbol: &str) -> Order {
        Order {
            symbol: symbol.to_owned(),
            quantity: fastrand::u32(1_000..20_000),
            price: 80.0 + 120.0 * fastrand::f64(),
        }
    }
}

/// A ready-to-send request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub body: Vec<u8>,
    pub soap: SoapVersion,
    /// E.g. `urn:getQuote`; may be overridden before calling [`Request::headers`].
    pub action: String,
    /// Set for [`Mode::PlaceOrder`], so the caller can report what it ordered.
    pub order: Option<Order>,
}

/// The WS-Addressing 1.0 namespace.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";

impl Request {
    /// Adds `wsa:To`, `wsa:Action` and a fresh `wsa:MessageID` to the SOAP header.
    pub fn with_addressing(mut self, to: &str) -> Request {
        let header = format!(
            "<soapenv:Header xmlns:wsa=\"{WSA_NS}\"><wsa:To>{}</wsa:To><wsa:MessageID>urn:uuid:{:032x}</wsa:MessageID><wsa:Action>{}</wsa:Action></soapenv:Header>",
            escape(to),
            fastrand::u128(..),
            escape(self.action.as_str())
        );
        let text = String::from_utf8_lossy(&self.body).replacen("<soapenv:Header/>", &header, 1);
        self.body = text.into_bytes();
        self
    }

    /// The bare content type (without the SOAP 1.2 `action` parameter).
    pub fn content_type(&self) -> &'static str {
        self.soap.content_type()
    }

    /// `Content-Type` and, for SOAP 1.1, `SOAPAction`; SOAP 1.2 carries the
    /// action as a content-type parameter instead.
    pub fn headers(&self) -> Vec<(String, String)> {
        match self.soap {
            SoapVersion::Soap11 => vec![
                ("Content-Type".into(), SOAP11_CONTENT_TYPE.into()),
                ("SOAPAction".into(), format!("\"{}\"", self.action)),
            ],
            SoapVersion::Soap12 => vec![(
                "Content-Type".into(),
                format!("{SOAP12_CONTENT_TYPE}; action=\"{}\"", self.action),
            )],
        }
    }
}

/// Symbols asked for by market activity when the user names none.
pub const MARKET_SYMBOLS: [&str; 10] = [
    "IBM", "SUN", "MSFT", "ORCL", "GOOG", "AAPL", "INTC", "CSCO", "HPQ", "AMZN",
];

/// Builds the request for `mode`. `symbols[0]` is used by every mode but
/// market activity, which uses them all (or [`MARKET_SYMBOLS`] if empty);
/// other modes default to `IBM` when `symbols` is empty. A place-order
/// request gets a random quantity and price.
pub fn request_envelope(mode: Mode, symbols: &[&str], soap: SoapVersion) -> Request {
    let first = symbols.first().copied().unwrap_or("IBM");
    if mode == Mode::PlaceOrder {
        return order_envelope(&Order::random(first), soap);
    }
    let m0 = |inner: String| {
        format!(
            "<m0:{op} xmlns:m0=\"{SERVICE_NS}\">{inner}</m0:{op}>",
            op = mode.operation()
        )
    };
    let symbol = |s: &str| format!("<m0:symbol>{}</m0:symbol>", escape(s));
    let payload = match mode {
        Mode::Quote | Mode::FullQuote => m0(format!("<m0:request>{}</m0:request>", symbol(first))),
        Mode::SimpleQuote => m0(symbol(first)),
        Mode::MarketActivity => {
            let list: Vec<&str> = if symbols.is_empty() {
                MARKET_SYMBOLS.to_vec()
            } else {
                symbols.to_vec()
            };
            let inner: String = list
                .iter()
                .map(|s| format!("<m0:symbols>{}</m0:symbols>", escape(*s)))
                .collect();
            m0(format!("<m0:request>{inner}</m0:request>"))
        }
        Mode::PlaceOrder => String::new(),
    };
    Request {
        body: envelope(soap, &payload).into_bytes(),
        soap,
        action: format!("urn:{}", mode.operation()),
        order: None,
    }
}

/// Builds a `placeOrder` request for a given order.
pub fn order_envelope(order: &Order, soap: SoapVersion) -> Request {
    let payload = format!(
        "<m0:placeOrder xmlns:m0=\"{SERVICE_NS}\"><m0:order><m0:price>{}</m0:price>\
         <m0:quantity>{}</m0:quantity><m0:symbol>{}</m0:symbol></m0:order></m0:placeOrder>",
        order.price,
        order.quantity,
        escape(order.symbol.as_str())
    );
    Request {
        body: envelope(soap, &payload).into_bytes(),
        soap,
        action: "urn:placeOrder".into(),
        order: Some(order.clone()),
    }
}

fn envelope(soap: SoapVersion, payload: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{}\">\
         <soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>",
        soap.namespace()
    )
}

/// The text of the first element named `local` anywhere in `body`.
pub fn read_text(body: &[u8], local: &str) -> Option<String> {
    parse_document(body).ok()?.first_descendant(local).map(|e| e.text.trim().to_owned())
}

/// The reason of a SOAP 1.1 or 1.2 fault anywhere in `body`, if there is one.
pub fn read_fault_reason(body: &[u8]) -> Option<String> {
    parse_document(body).ok().and_then(|doc| fault_in(&doc))
}

fn fault_in(doc: &Element) -> Option<String> {
    let fault = doc.first_descendant("Fault")?;
    let reason = fault
        .child("faultstring")
        .or_else(|| fault.child("Reason").and_then(|r| r.child("Text")))
        .map(|e| e.text.trim().to_owned())
        .unwrap_or_else(|| "(fault without a reason)".to_owned());
    Some(reason)
}

/// Parses a reply, turning a fault into [`ReplyError::Fault`].
fn reply_document(body: &[u8]) -> Result<Element, ReplyError> {
    let doc = parse_document(body)?;
    match fault_in(&doc) {
        Some(reason) => Err(ReplyError::Fault(reason)),
        None => Ok(doc),
    }
}

fn number(element: &Element) -> Result<f64, ReplyError> {
    let text = element.text.trim();
    text.parse().map_err(|_| ReplyError::NotANumber {
        name: "last",
        value: text.to_owned(),
    })
}

/// `last` of a getQuote / getSimpleQuote reply.
pub fn read_last_price(body: &[u8]) -> Result<f64, ReplyError> {
    let doc = reply_document(body)?;
    let last = doc
        .first_descendant("last")
        .ok_or(ReplyError::Missing("last"))?;
    number(last)
}

/// Average of `last` over the `tradeHistory` of a getFullQuote reply.
pub fn read_full_quote_average(body: &[u8]) -> Result<f64, ReplyError> {
    let doc = reply_document(body)?;
    let mut days = Vec::new();
    doc.descendants_named("tradeHistory", &mut days);
    let lasts = days
        .iter()
        .filter_map(|d| d.child("quote").and_then(|q| q.child("last")));
    average(lasts, "tradeHistory")
}

/// Average of `last` over the `quotes` of a getMarketActivity reply.
pub fn read_market_activity_average(body: &[u8]) -> Result<f64, ReplyError> {
    let doc = reply_document(body)?;
    let mut quotes = Vec::new();
    doc.descendants_named("quotes", &mut quotes);
    average(quotes.iter().filter_map(|q| q.child("last")), "quotes")
}

fn average<'a>(
    values: impl Iterator<Item = &'a Element>,
    what: &'static str,
) -> Result<f64, ReplyError> {
    let mut sum = 0.0;
    let mut count = 0usize;
    for value in values {
        sum += number(value)?;
        count += 1;
    }
    if count == 0 {
        return Err(ReplyError::Missing(what));
    }
    Ok(sum / count as f64)
}

#[cfg(test)]
mod addressing_tests {
    use super::*;

    #[test]
    fn addressing_headers_are_added() {
        let r = request_envelope(Mode::Quote, &["IBM"], SoapVersion::Soap11).with_addressing("http://localhost:9000/services/SimpleStockQuoteService");
        let text = String::from_utf8(r.body).unwrap();
        assert!(text.contains("<wsa:To>http://localhost:9000/services/SimpleStockQuoteService</wsa:To>"), "{text}");
        assert!(text.contains("<wsa:Action>urn:getQuote</wsa:Action>") && text.contains("<wsa:MessageID>urn:uuid:"), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V11: SoapVersion = SoapVersion::Soap11;
    const V12: SoapVersion = SoapVersion::Soap12;

    fn send(req: &Request) -> ServiceReply {
        let headers = req.headers();
        let ct = headers
            .iter()
            .find(|(n, _)| n == "Content-Type")
            .map(|(_, v)| v.as_str());
        let action = headers
            .iter()
            .find(|(n, _)| n == "SOAPAction")
            .map(|(_, v)| v.as_str());
        handle(ct, action, &req.body)
    }

    fn text(reply: &ServiceReply) -> &str {
        std::str::from_utf8(&reply.body).unwrap()
    }

    fn root(reply: &ServiceReply) -> Element {
        parse_document(&reply.body).unwrap()
    }

    #[test]
    fn get_quote_in_both_soap_versions() {
        for (soap, ns, ct) in [
            (V11, SOAP11_NS, SOAP11_CONTENT_TYPE),
            (V12, SOAP12_NS, SOAP12_CONTENT_TYPE),
        ] {
            let reply = send(&request_envelope(Mode::Quote, &["IBM"], soap));
            assert_eq!(reply.status, 200, "{}", text(&reply));
            assert_eq!(reply.content_type, ct);
            let doc = root(&reply);
            assert_eq!(doc.local, "Envelope");
            assert_eq!(doc.ns.as_deref(), Some(ns));
            let response = doc
                .child("Body")
                .unwrap()
                .child("getQuoteResponse")
                .unwrap();
            assert_eq!(response.ns.as_deref(), Some(SERVICE_NS));
            let ret = response.child("return").unwrap();
            let names: Vec<&str> = ret.children.iter().map(|c| c.local.as_str()).collect();
            assert_eq!(
                names,
                [
                    "change",
                    "earnings",
                    "high",
                    "last",
                    "lastTradeTimestamp",
                    "low",
                    "marketCap",
                    "name",
                    "open",
                    "peRatio",
                    "percentageChange",
                    "prevClose",
                    "symbol",
                    "volume"
                ]
            );
            assert!(ret.children.iter().all(|c| c.ns.as_deref() == Some(XSD_NS)));
            assert_eq!(ret.child("name").unwrap().text, "IBM Company");
            assert_eq!(ret.child("symbol").unwrap().text, "IBM");
            let last = read_last_price(&reply.body).unwrap();
            assert!((80.0..=200.0).contains(&last), "{last}");
            assert!(text(&reply).contains("xsi:type=\"ax21:GetQuoteResponse\""));
        }
    }

    #[test]
    fn quote_values_are_consistent() {
        for _ in 0..200 {
            let q = Quote::random("X");
            assert!((80.0..=200.0).contains(&q.last));
            assert!(q.low <= q.last && q.last <= q.high);
            assert!(q.low <= q.open && q.open <= q.high);
            assert!((q.change - (q.last - q.prev_close)).abs() < 1e-9);
            assert!(q.percentage_change.abs() <= 6.0);
            assert!(q.volume > 0 && q.market_cap > 0.0 && q.pe_ratio > 0.0);
        }
    }

    #[test]
    fn simple_quote() {
        for soap in [V11, V12] {
            let req = request_envelope(Mode::SimpleQuote, &["SUN"], soap);
            assert!(std::str::from_utf8(&req.body).unwrap().contains("<m0:getSimpleQuote xmlns:m0=\"http://services.samples\"><m0:symbol>SUN</m0:symbol></m0:getSimpleQuote>"));
            let reply = send(&req);
            assert_eq!(reply.status, 200);
            let doc = root(&reply);
            let ret = doc
                .child("Body")
                .unwrap()
                .child("getSimpleQuoteResponse")
                .unwrap()
                .child("return")
                .unwrap();
            assert_eq!(ret.child("name").unwrap().text, "SUN Company");
            assert!(read_last_price(&reply.body).is_ok());
        }
    }

    #[test]
    fn full_quote_has_a_year_of_history() {
        for soap in [V11, V12] {
            let reply = send(&request_envelope(Mode::FullQuote, &["MSFT"], soap));
            assert_eq!(reply.status, 200);
            let doc = root(&reply);
            let ret = doc
                .child("Body")
                .unwrap()
                .child("getFullQuoteResponse")
                .unwrap()
                .child("return")
                .unwrap();
            let days: Vec<&Element> = ret.children_named("tradeHistory").collect();
            assert_eq!(days.len(), TRADE_HISTORY_DAYS);
            assert_eq!(days[0].child("day").unwrap().text, "0");
            assert_eq!(days[364].child("day").unwrap().text, "364");
            let quote = days[10].child("quote").unwrap();
            assert_eq!(quote.child("symbol").unwrap().text, "MSFT");
            let avg = read_full_quote_average(&reply.body).unwrap();
            assert!((80.0..=200.0).contains(&avg));
        }
    }

    #[test]
    fn market_activity_quotes_every_symbol() {
        for soap in [V11, V12] {
            let reply = send(&request_envelope(Mode::MarketActivity, &[], soap));
            assert_eq!(reply.status, 200);
            let doc = root(&reply);
            let ret = doc
                .child("Body")
                .unwrap()
                .child("getMarketActivityResponse")
                .unwrap()
                .child("return")
                .unwrap();
            let symbols: Vec<&str> = ret
                .children_named("quotes")
                .map(|q| q.child("symbol").unwrap().text.as_str())
                .collect();
            assert_eq!(symbols, MARKET_SYMBOLS);
            let avg = read_market_activity_average(&reply.body).unwrap();
            assert!((80.0..=200.0).contains(&avg));
        }
        let one = send(&request_envelope(Mode::MarketActivity, &["IBM"], V11));
        let mut quotes = Vec::new();
        let doc = root(&one);
        doc.descendants_named("quotes", &mut quotes);
        assert_eq!(quotes.len(), 1);
    }

    #[test]
    fn place_order_is_accepted_without_body() {
        for soap in [V11, V12] {
            let req = request_envelope(Mode::PlaceOrder, &["IBM"], soap);
            let order = req.order.clone().unwrap();
            assert_eq!(order.symbol, "IBM");
            let reply = send(&req);
            assert_eq!(reply.status, 202);
            assert!(reply.body.is_empty());
        }
        let before = ORDER_COUNTER.load(Ordering::Relaxed);
        send(&order_envelope(
            &Order {
                symbol: "IBM".into(),
                quantity: 5,
                price: 1.5,
            },
            V11,
        ));
        assert!(ORDER_COUNTER.load(Ordering::Relaxed) > before);
        let bad = r#"<m0:placeOrder xmlns:m0="http://services.samples"><m0:order><m0:price>x</m0:price><m0:quantity>1</m0:quantity><m0:symbol>IBM</m0:symbol></m0:order></m0:placeOrder>"#;
        let reply = handle(Some("application/xml"), None, bad.as_bytes());
        assert_eq!(reply.status, 400);
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("bad price"));
    }

    #[test]
    fn err_symbol_is_a_server_fault() {
        for mode in [
            Mode::Quote,
            Mode::SimpleQuote,
            Mode::FullQuote,
            Mode::MarketActivity,
            Mode::PlaceOrder,
        ] {
            let reply = send(&request_envelope(mode, &["ERR"], V11));
            assert_eq!(reply.status, 500, "{mode:?}");
            assert!(text(&reply).contains("<faultcode>soapenv:Server</faultcode>"));
            assert_eq!(
                read_fault_reason(&reply.body).as_deref(),
                Some("Invalid stock symbol : ERR")
            );
            assert_eq!(
                read_last_price(&reply.body),
                Err(ReplyError::Fault("Invalid stock symbol : ERR".into()))
            );
        }
        let reply = send(&request_envelope(Mode::Quote, &["ERR"], V12));
        assert_eq!(reply.status, 500);
        assert_eq!(reply.content_type, SOAP12_CONTENT_TYPE);
        assert!(text(&reply).contains("<soapenv:Value>soapenv:Receiver</soapenv:Value>"));
        assert_eq!(
            read_fault_reason(&reply.body).as_deref(),
            Some("Invalid stock symbol : ERR")
        );
    }

    #[test]
    fn pox_requests_get_pox_answers() {
        let body = r#"<m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>IBM</m0:symbol></m0:request></m0:getQuote>"#;
        let reply = handle(Some("application/xml"), None, body.as_bytes());
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, POX_CONTENT_TYPE);
        let doc = root(&reply);
        assert_eq!(doc.local, "getQuoteResponse");
        assert!(read_last_price(&reply.body).is_ok());

        let full = r#"<getFullQuote xmlns="http://services.samples"><request><symbol>A</symbol></request></getFullQuote>"#;
        let reply = handle(Some("application/xml"), None, full.as_bytes());
        assert_eq!(root(&reply).local, "getFullQuoteResponse");
        assert!(read_full_quote_average(&reply.body).is_ok());

        let err = body.replace("IBM", "ERR");
        let reply = handle(Some("application/xml"), None, err.as_bytes());
        assert_eq!(reply.status, 500);
        assert_eq!(reply.content_type, POX_CONTENT_TYPE);
        assert_eq!(
            read_fault_reason(&reply.body).as_deref(),
            Some("Invalid stock symbol : ERR")
        );
    }

    #[test]
    fn client_faults() {
        let cases: [(&str, &[u8], &str); 6] = [
            ("text/xml", b"<soapenv:Envelope", "malformed XML"),
            ("text/xml", b"", "no root element"),
            ("text/xml", br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:sell xmlns:m="x"/></s:Body></s:Envelope>"#, "unknown operation sell"),
            ("text/xml", br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:getQuote xmlns:m="http://services.samples"><m:request/></m:getQuote></s:Body></s:Envelope>"#, "getQuote: missing symbol"),
            ("text/xml", br#"<s:Envelope xmlns:s="urn:other"><s:Body/></s:Envelope>"#, "unsupported SOAP envelope namespace"),
            ("text/xml", br#"<a><b></a>"#, "malformed XML"),
        ];
        for (ct, body, expect) in cases {
            let reply = handle(Some(ct), None, body);
            assert_eq!(reply.status, 500, "{expect}");
            assert!(
                text(&reply).contains("<faultcode>soapenv:Client</faultcode>"),
                "{}",
                text(&reply)
            );
            let reason = read_fault_reason(&reply.body).unwrap();
            assert!(reason.contains(expect), "{reason} / {expect}");
        }
        let reply = handle(Some(SOAP12_CONTENT_TYPE), None, b"not xml <");
        assert_eq!(reply.status, 400);
        assert_eq!(reply.content_type, SOAP12_CONTENT_TYPE);
        assert!(text(&reply).contains("soapenv:Sender"));
        assert!(read_fault_reason(&reply.body).is_some());
    }

    #[test]
    fn doctype_is_refused_and_never_expanded() {
        let body = br#"<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY x "IBM">]><m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>&x;</m0:symbol></m0:request></m0:getQuote>"#;
        let reply = handle(Some("text/xml"), None, body);
        assert_eq!(reply.status, 500);
        let reason = read_fault_reason(&reply.body).unwrap();
        assert!(reason.contains("DOCTYPE"), "{reason}");
        // Without the DOCTYPE the entity is simply undefined.
        let no_dtd = br#"<m0:getQuote xmlns:m0="http://services.samples"><m0:request><m0:symbol>&x;</m0:symbol></m0:request></m0:getQuote>"#;
        let reply = handle(Some("application/xml"), None, no_dtd);
        assert_eq!(reply.status, 400);
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("undefined entity"));
    }

    #[test]
    fn symbols_are_escaped_when_echoed() {
        let symbol = "A&B<C>\"'";
        let req = request_envelope(Mode::Quote, &[symbol], V11);
        assert!(std::str::from_utf8(&req.body)
            .unwrap()
            .contains("A&amp;B&lt;C&gt;"));
        let reply = send(&req);
        assert_eq!(reply.status, 200);
        assert!(text(&reply).contains("<ax21:symbol>A&amp;B&lt;C&gt;&quot;&apos;</ax21:symbol>"));
        let doc = root(&reply);
        let mut names = Vec::new();
        doc.descendants_named("name", &mut names);
        assert_eq!(names[0].text, format!("{symbol} Company"));
        // Character references and CDATA are understood too.
        let body = b"<getSimpleQuote><symbol><![CDATA[I]]>&#66;&#x4d;</symbol></getSimpleQuote>";
        let reply = handle(None, None, body);
        assert!(
            text(&reply).contains("<ax21:symbol>IBM</ax21:symbol>"),
            "{}",
            text(&reply)
        );
    }

    #[test]
    fn operation_falls_back_to_soap_action() {
        let wrapped = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><req><symbol>IBM</symbol></req></s:Body></s:Envelope>"#;
        let reply = handle(Some("text/xml"), Some("\"urn:getSimpleQuote\""), wrapped);
        assert_eq!(reply.status, 200, "{}", text(&reply));
        assert!(text(&reply).contains("getSimpleQuoteResponse"));
        let v12 = wrapped.as_slice();
        let v12 = String::from_utf8(v12.to_vec())
            .unwrap()
            .replace(SOAP11_NS, SOAP12_NS);
        let reply = handle(
            Some("application/soap+xml; charset=UTF-8; action=\"urn:getSimpleQuote\""),
            None,
            v12.as_bytes(),
        );
        assert_eq!(reply.status, 200, "{}", text(&reply));
        let empty_body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
        let reply = handle(Some("text/xml"), Some("urn:getQuote"), empty_body);
        assert_eq!(reply.status, 500);
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("empty request"));
    }

    #[test]
    fn abusive_requests_are_bounded() {
        let deep = "<a>".repeat(10_000);
        let reply = handle(Some("text/xml"), None, deep.as_bytes());
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("nested deeper"));
        let long = "X".repeat(MAX_SYMBOL_LEN + 1);
        let reply = send(&request_envelope(Mode::FullQuote, &[&long], V11));
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("symbol longer"));
        let many: Vec<String> = (0..=MAX_SYMBOLS).map(|i| format!("S{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let reply = send(&request_envelope(Mode::MarketActivity, &many, V11));
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("more than"));
        let reply = handle(Some("text/xml"), None, b"<a/><b/>");
        assert!(read_fault_reason(&reply.body)
            .unwrap()
            .contains("more than one root"));
    }

    #[test]
    fn reply_readers_report_problems() {
        assert_eq!(read_last_price(b"<x/>"), Err(ReplyError::Missing("last")));
        assert!(matches!(
            read_last_price(b"<x><last>abc</last></x>"),
            Err(ReplyError::NotANumber { .. })
        ));
        assert!(matches!(read_last_price(b"<x"), Err(ReplyError::Xml(_))));
        assert_eq!(
            read_full_quote_average(b"<x/>"),
            Err(ReplyError::Missing("tradeHistory"))
        );
        assert_eq!(
            read_market_activity_average(
                b"<r><quotes><last>1</last></quotes><quotes><last>3</last></quotes></r>"
            ),
            Ok(2.0)
        );
        assert_eq!(read_fault_reason(b"<ok/>"), None);
    }

    #[test]
    fn request_headers_per_version() {
        let r11 = request_envelope(Mode::Quote, &["IBM"], V11);
        assert_eq!(
            r11.headers(),
            vec![
                ("Content-Type".to_string(), SOAP11_CONTENT_TYPE.to_string()),
                ("SOAPAction".to_string(), "\"urn:getQuote\"".to_string())
            ]
        );
        let r12 = request_envelope(Mode::FullQuote, &["IBM"], V12);
        assert_eq!(
            r12.headers(),
            vec![(
                "Content-Type".to_string(),
                format!("{SOAP12_CONTENT_TYPE}; action=\"urn:getFullQuote\"")
            )]
        );
        assert!(std::str::from_utf8(&r12.body).unwrap().contains(SOAP12_NS));
    }

    #[test]
    fn java_style_dates() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_date(1_795_602_489), "Wed Nov 25 10:28:09 UTC 2026");
    }
}
