//! A small blocking HTTP/1.1 client over TCP or TLS (openssl), one request
//! per connection, with no async runtime. It exists so that the sample client
//! and the tests can see exactly what a TLS peer sees: handshake failures are
//! reported with OpenSSL's own reason, and request bodies of any size are
//! streamed from a reader instead of being held in memory.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslStream};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509VerifyResult, X509};

use crate::tls::Identity;

// Bounds on what a response head may cost us.
const MAX_LINE: usize = 16 * 1024;
const MAX_HEADERS: usize = 200;
const IO_CHUNK: usize = 64 * 1024;

/// TLS settings for `https://` URLs (ignored for `http://`). The default
/// presents no certificate, trusts the system's store and checks hostnames.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// Client certificate to present when the server asks for one.
    pub identity: Option<Identity>,
    /// Trust anchors for the server certificate; `None` uses the system's
    /// default trust store.
    pub trust: Option<Vec<X509>>,
    /// Skip the check that the server certificate names the host of the URL.
    pub skip_hostname: bool,
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("cannot connect to {addr}: connection refused")]
    ConnectRefused { addr: String },
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("cannot set up TLS: {0}")]
    TlsSetup(String),
    /// The handshake failed, locally or by the peer's alert. With TLS 1.3 a
    /// refused client certificate only shows on the first read, so this can
    /// also come after the request was written.
    #[error("TLS handshake with {addr} failed: {reason}")]
    TlsHandshake { addr: String, reason: String },
    #[error("timed out talking to {addr}")]
    Timeout { addr: String },
    #[error("bad HTTP response from {addr}: {reason}")]
    BadResponse { addr: String, reason: String },
    #[error("connection to {addr} failed: {source}")]
    Io { addr: String, source: io::Error },
}

impl ClientError {
    /// Whether TLS itself failed (handshake refused either way, or local setup).
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            ClientError::TlsHandshake { .. } | ClientError::TlsSetup(_)
        )
    }
}

/// POSTs an in-memory body.
pub fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    tls: &ClientTls,
    timeout: Duration,
) -> Result<HttpResponse, ClientError> {
    send(
        url,
        "POST",
        headers,
        &mut &body[..],
        body.len() as u64,
        tls,
        timeout,
    )
}

/// Sends one request whose body (`body_len` bytes, sent with Content-Length)
/// is copied from `body` as it goes, so it may be far larger than memory.
/// `timeout` bounds the whole exchange: connect, handshake, sending and
/// receiving. The response is read whole.
pub fn send(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &mut dyn Read,
    body_len: u64,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<HttpResponse, ClientError> {
    let deadline = Instant::now() + timeout;
    let target = Target::parse(url)?;
    let head = request_head(&target, method, headers, body_len)?;
    let mut conn = Conn::open(&target, tls, deadline)?;
    let addr = conn.addr.clone();
    match write_request(&mut conn, &head, body_len, body) {
        Ok(()) => {}
        // The server is still waiting for the rest: there is nothing to read.
        Err(WriteError::ShortBody(sent)) => {
            return Err(ClientError::InvalidRequest(format!(
                "the body reader ended after {sent} of {body_len} bytes"
            )))
        }
        Err(WriteError::Io(e)) => {
            // The peer may have answered and closed early (an alert after
            // the handshake, or an error status such as 413): that answer
            // explains more than our broken pipe does.
            let early = read_response(&mut BufReader::new(&mut conn), method == "HEAD");
            return match early {
                Ok(resp) => Ok(resp),
                Err(ReadError::Io(io)) if is_tls_alert(&io) => Err(io_failure(&addr, io)),
                Err(_) => Err(io_failure(&addr, e)),
            };
        }
    }
    read_response(
        &mut BufReader::with_capacity(IO_CHUNK, &mut conn),
        method == "HEAD",
    )
    .map_err(|e| e.into_client_error(&addr))
}

/// The pieces of a URL that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    https: bool,
    /// Without brackets for IPv6.
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, ClientError> {
        let bad = |reason: &str| ClientError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err(bad("only http:// and https:// are supported"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(bad("user information in URLs is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("bad port"))?,
            None if https => 443,
            None => 80,
        };
        let tail = tail.split('#').next().unwrap_or("");
        let path = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("spaces or control characters in the path"));
        }
        Ok(Target {
            https,
            host: host.to_owned(),
            port,
            path,
        })
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn host_header(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            }
        } else {
            self.authority()
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn request_head(
    target: &Target,
    method: &str,
    headers: &[(&str, &str)],
    body_len: u64,
) -> Result<String, ClientError> {
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !is_token(method) {
        return Err(ClientError::InvalidRequest(format!(
            "bad method {method:?}"
        )));
    }
    let mut head = format!("{method} {} HTTP/1.1\r\n", target.path);
    let mut has_host = false;
    for (name, value) in headers {
        if !is_token(name) {
            return Err(ClientError::InvalidRequest(format!(
                "bad header name {name:?}"
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ClientError::InvalidRequest(format!(
                "line break in the value of header {name}"
            )));
        }
        // We frame the message ourselves; a caller's framing headers would contradict it.
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        has_host |= name.eq_ignore_ascii_case("host");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_host {
        head.push_str(&format!("Host: {}\r\n", target.host_header()));
    }
    if body_len > 0 || !matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
        head.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    Ok(head)
}

enum WriteError {
    Io(io::Error),
    ShortBody(u64),
}

fn write_request(
    conn: &mut Conn,
    head: &str,
    body_len: u64,
    body: &mut dyn Read,
) -> Result<(), WriteError> {
    let mut out = BufWriter::with_capacity(IO_CHUNK, conn);
    out.write_all(head.as_bytes()).map_err(WriteError::Io)?;
    let sent = io::copy(&mut body.take(body_len), &mut out).map_err(WriteError::Io)?;
    out.flush().map_err(WriteError::Io)?;
    if sent < body_len {
        return Err(WriteError::ShortBody(sent));
    }
    Ok(())
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

/// A connection whose every read and write is bounded by one deadline.
struct Conn {
    stream: Stream,
    /// A second handle on the socket, to adjust timeouts under TLS.
    socket: TcpStream,
    deadline: Instant,
    addr: String,
}

impl Conn {
    fn open(target: &Target, tls: &ClientTls, deadline: Instant) -> Result<Conn, ClientError> {
        let addr = target.authority();
        let tcp = connect_tcp(target, &addr, deadline)?;
        let socket = tcp.try_clone().map_err(|source| ClientError::Connect {
            addr: addr.clone(),
            source,
        })?;
        let _ = tcp.set_nodelay(true);
        let conn = Conn {
            stream: Stream::Plain(tcp),
            socket,
            deadline,
            addr,
        };
        if !target.https {
            return Ok(conn);
        }
        conn.arm().map_err(|e| io_failure(&conn.addr, e))?;
        let Conn {
            stream,
            socket,
            deadline,
            addr,
        } = conn;
        let Stream::Plain(tcp) = stream else {
            return Err(ClientError::TlsSetup("connection already encrypted".into()));
        };
        let tls_stream = handshake(tcp, &target.host, &addr, tls)?;
        Ok(Conn {
            stream: Stream::Tls(Box::new(tls_stream)),
            socket,
            deadline,
            addr,
        })
    }

    fn arm(&self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        self.socket.set_read_timeout(Some(left))?;
        self.socket.set_write_timeout(Some(left))
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        match &mut self.stream {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        match &mut self.stream {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn connect_tcp(target: &Target, addr: &str, deadline: Instant) -> Result<TcpStream, ClientError> {
    let addrs: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|source| ClientError::Connect {
            addr: addr.to_owned(),
            source,
        })?
        .collect();
    let mut last = None;
    for candidate in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&candidate, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => ClientError::ConnectRefused {
            addr: addr.to_owned(),
        },
        Some(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            ClientError::Timeout {
                addr: addr.to_owned(),
            }
        }
        Some(source) => ClientError::Connect {
            addr: addr.to_owned(),
            source,
        },
        None => ClientError::Timeout {
            addr: addr.to_owned(),
        },
    })
}

fn handshake(
    tcp: TcpStream,
    host: &str,
    addr: &str,
    tls: &ClientTls,
) -> Result<SslStream<TcpStream>, ClientError> {
    let setup = |e: ErrorStack| ClientError::TlsSetup(crate::tls::short_reason(&e));
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    if let Some(trust) = &tls.trust {
        // Replaces the system store that the builder loaded by default.
        let mut store = X509StoreBuilder::new().map_err(setup)?;
        for cert in trust {
            store.add_cert(cert.clone()).map_err(setup)?;
        }
        builder.set_cert_store(store.build());
    }
    if let Some(id) = &tls.identity {
        builder.set_private_key(&id.key).map_err(setup)?;
        builder.set_certificate(&id.cert).map_err(setup)?;
        for cert in &id.chain {
            builder.add_extra_chain_cert(cert.clone()).map_err(setup)?;
        }
        builder.check_private_key().map_err(setup)?;
    }
    let mut config = builder.build().configure().map_err(setup)?;
    config.set_verify_hostname(!tls.skip_hostname);
    match config.connect(host, tcp) {
        Ok(stream) => Ok(stream),
        Err(HandshakeError::SetupFailure(e)) => Err(setup(e)),
        Err(HandshakeError::WouldBlock(_)) => Err(ClientError::Timeout {
            addr: addr.to_owned(),
        }),
        Err(HandshakeError::Failure(mid)) => {
            let error = mid.error();
            if let Some(io) = error.io_error() {
                if matches!(
                    io.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) {
                    return Err(ClientError::Timeout {
                        addr: addr.to_owned(),
                    });
                }
            }
            let verify = mid.ssl().verify_result();
            let verify = (verify != X509VerifyResult::OK).then(|| verify.error_string());
            let reasons = ssl_reasons(error);
            let reason = if reasons.is_empty() {
                match error.io_error() {
                    Some(io) => format!("the connection failed during the handshake ({io})"),
                    None => "the server closed the connection during the handshake".to_owned(),
                }
            } else {
                let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
                explain_tls_failure(&reasons, verify)
            };
            Err(ClientError::TlsHandshake {
                addr: addr.to_owned(),
                reason,
            })
        }
    }
}

fn ssl_reasons(error: &openssl::ssl::Error) -> Vec<String> {
    error
        .ssl_error()
        .map(|stack| {
            stack
                .errors()
                .iter()
                .filter_map(|e| e.reason().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Turns OpenSSL's reason strings (and the certificate verification result,
/// when we rejected the server) into one human sentence that keeps
/// OpenSSL's words in brackets.
pub fn explain_tls_failure(reasons: &[&str], verify_error: Option<&str>) -> String {
    let raw = reasons.join(", ");
    let has = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    let what = if has("certificate required") {
        "the server requires a client certificate"
    } else if has("unknown ca") {
        "the server does not trust the issuer of our client certificate"
    } else if has("certificate expired") {
        "the peer refused an expired certificate"
    } else if has("bad certificate") || has("unsupported certificate") {
        "the server rejected our client certificate"
    } else if has("certificate verify failed") {
        return match verify_error {
            Some(v) => format!("the server certificate is not trusted: {v} ({raw})"),
            None => format!("the server certificate is not trusted ({raw})"),
        };
    } else if has("wrong version number") || has("packet length too long") || has("http request") {
        "the server does not speak TLS on this port"
    } else if has("protocol version") || has("unsupported protocol") {
        "no TLS version in common with the server"
    } else if has("handshake failure") {
        "the server refused the handshake"
    } else if has("unexpected eof") {
        "the server closed the connection during the handshake"
    } else if raw.is_empty() {
        return "unknown TLS failure".to_owned();
    } else {
        return raw;
    };
    format!("{what} ({raw})")
}

fn is_tls_alert(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<openssl::ssl::Error>())
        .is_some_and(|ssl| !ssl_reasons(ssl).is_empty())
}

fn io_failure(addr: &str, e: io::Error) -> ClientError {
    let addr = addr.to_owned();
    if let Some(ssl) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<openssl::ssl::Error>())
    {
        let reasons = ssl_reasons(ssl);
        if !reasons.is_empty() {
            let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
            return ClientError::TlsHandshake {
                addr,
                reason: explain_tls_failure(&reasons, None),
            };
        }
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout { addr },
        io::ErrorKind::ConnectionRefused => ClientError::ConnectRefused { addr },
        _ => ClientError::Io { addr, source: e },
    }
}

#[derive(Debug)]
enum ReadError {
    Io(io::Error),
    Bad(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl ReadError {
    fn into_client_error(self, addr: &str) -> ClientError {
        match self {
            ReadError::Io(e) => io_failure(addr, e),
            ReadError::Bad(reason) => ClientError::BadResponse {
                addr: addr.to_owned(),
                reason,
            },
        }
    }
}

fn bad<T>(reason: impl Into<String>) -> Result<T, ReadError> {
    Err(ReadError::Bad(reason.into()))
}

/// Reads a line up to LF, refusing lines longer than `MAX_LINE`; `None` at
/// a clean end of stream.
fn read_line<R: BufRead>(r: &mut R) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return if n > MAX_LINE {
            bad("line too long")
        } else {
            bad("the connection closed in the middle of a line")
        };
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .or_else(|_| bad("non-UTF-8 bytes in the response head"))
}

fn read_response<R: BufRead>(r: &mut R, head_request: bool) -> Result<HttpResponse, ReadError> {
    let (status, headers) = loop {
        let Some(line) = read_line(r)? else {
            return bad("the server closed the connection without answering");
        };
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return bad(format!("not an HTTP/1.x status line: {line:?}"));
        }
        let status: u16 = match parts.next().and_then(|s| s.parse().ok()) {
            Some(s) if (100..1000).contains(&s) => s,
            _ => return bad(format!("bad status line {line:?}")),
        };
        let headers = read_headers(r)?;
        // Interim answers (100 Continue…) precede the real one.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        break (status, headers);
    };
    let header = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let mut body = Vec::new();
    let no_body = head_request || status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        let chunked = header("transfer-encoding")
            .last()
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        if chunked {
            read_chunked(r, &mut body)?;
        } else if let Some(first) = header("content-length").first() {
            let lengths = header("content-length");
            if lengths.iter().any(|l| l != first) {
                return bad("conflicting Content-Length headers");
            }
            let len: u64 = first
                .trim()
                .parse()
                .or_else(|_| bad(format!("bad Content-Length {first:?}")))?;
            r.by_ref().take(len).read_to_end(&mut body)?;
            if (body.len() as u64) < len {
                return bad(format!(
                    "the body ended after {} of {len} bytes",
                    body.len()
                ));
            }
        } else {
            r.read_to_end(&mut body)?;
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn read_headers<R: BufRead>(r: &mut R) -> Result<Vec<(String, String)>, ReadError> {
    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(r)? else {
            return bad("the connection closed inside the response head");
        };
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS {
            return bad("too many response headers");
        }
        let Some((name, value)) = line.split_once(':') else {
            return bad(format!("malformed header line {line:?}"));
        };
        if name.is_empty() || name.ends_with(' ') {
            return bad(format!("malformed header name {name:?}"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
}

/// Decodes a chunked body into `out`. Chunk sizes are never trusted for
/// allocation: data is appended as it arrives.
fn read_chunked<R: BufRead>(r: &mut R, out: &mut Vec<u8>) -> Result<(), ReadError> {
    loop {
        let Some(line) = read_line(r)? else {
            return bad("the chunked body ended before its last chunk");
        };
        let size_text = line.split(';').next().unwrap_or("").trim();
        if size_text.is_empty() || size_text.len() > 16 {
            return bad(format!("bad chunk size {size_text:?}"));
        }
        let size = u64::from_str_radix(size_text, 16)
            .or_else(|_| bad(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, which we have no use for, up to the empty line.
            read_headers(r)?;
            return Ok(());
        }
        let before = out.len();
        r.by_ref().take(size).read_to_end(out)?;
        if ((out.len() - before) as u64) < size {
            return bad("the chunked body ended inside a chunk");
        }
        match read_line(r)? {
            Some(l) if l.is_empty() => {}
            _ => return bad("missing CRLF after a chunk"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<HttpResponse, ReadError> {
        read_response(&mut BufReader::new(raw), false)
    }

    #[test]
    fn parses_urls() {
        let t = Target::parse("https://localhost:8243/services/P?x=1#frag").unwrap();
        assert_eq!(
            t,
            Target {
                https: true,
                host: "localhost".into(),
                port: 8243,
                path: "/services/P?x=1".into()
            }
        );
        let t = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port, t.path.as_str()),
            (false, "::1", 9000, "/")
        );
        assert_eq!(t.authority(), "[::1]:9000");
        let t = Target::parse("HTTP://example.test?q").unwrap();
        assert_eq!(
            (t.port, t.path.as_str(), t.host_header().as_str()),
            (80, "/?q", "example.test")
        );
        assert_eq!(Target::parse("https://h/").unwrap().port, 443);
        for bad in [
            "ftp://x/",
            "http://",
            "http://x:port/",
            "http://u@x/",
            "http://[::1/",
            "http://x/a b",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(ClientError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn builds_request_heads() {
        let t = Target::parse("http://127.0.0.1:9000/services/S").unwrap();
        let headers = [("Content-Type", "text/xml"), ("Content-Length", "999")];
        let head = request_head(&t, "POST", &headers, 12).unwrap();
        assert_eq!(
            head,
            "POST /services/S HTTP/1.1\r\nContent-Type: text/xml\r\nHost: 127.0.0.1:9000\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
        );
        let head = request_head(&t, "GET", &[("Host", "h")], 0).unwrap();
        assert_eq!(
            head,
            "GET /services/S HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        );
        assert!(request_head(&t, "POST", &[("X", "a\r\nEvil: 1")], 0).is_err());
        assert!(request_head(&t, "POST", &[("Bad Name", "v")], 0).is_err());
        assert!(request_head(&t, "GE T", &[], 0).is_err());
    }

    #[test]
    fn decodes_chunked_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "hello world"));
        assert_eq!(r.header("content-type"), Some("text/xml"));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n";
        assert_eq!(parse(raw).unwrap().body, b"0123456789");
        for broken in [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        ] {
            assert!(
                matches!(parse(broken), Err(ReadError::Bad(_))),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
        // A huge announced chunk must not be allocated up front.
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\nabc";
        assert!(matches!(parse(raw), Err(ReadError::Bad(_))));
    }

    #[test]
    fn parses_length_eof_and_interim_responses() {
        let raw = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nabcdef";
        let r = parse(raw).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (500, &b"abc"[..]));
        assert_eq!(
            parse(b"HTTP/1.0 200 OK\r\n\r\nuntil eof").unwrap().text(),
            "until eof"
        );
        let r = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.len()), (202, 0));
        let r = parse(b"HTTP/1.1 204 No Content\r\n\r\nignored").unwrap();
        assert!(r.body.is_empty());
        let r = read_response(
            &mut BufReader::new(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..]),
            true,
        )
        .unwrap();
        assert!(r.body.is_empty());
        let r = parse(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\n\r\n").unwrap();
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.header("X-A"), Some("1"));
    }

    #[test]
    fn rejects_broken_responses() {
        for broken in [
            &b""[..],
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: 1\r\n",
        ] {
            assert!(
                matches!(parse(broken), Err(ReadError::Bad(_))),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
        let long = format!(
            "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_LINE + 10)
        );
        assert!(matches!(parse(long.as_bytes()), Err(ReadError::Bad(m)) if m.contains("too long")));
        let many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        assert!(matches!(parse(many.as_bytes()), Err(ReadError::Bad(m)) if m.contains("too many")));
    }

    #[test]
    fn explains_tls_failures() {
        assert_eq!(
            explain_tls_failure(&["tlsv13 alert certificate required"], None),
            "the server requires a client certificate (tlsv13 alert certificate required)"
        );
        assert!(explain_tls_failure(&["tlsv1 alert unknown ca"], None)
            .starts_with("the server does not trust"));
        assert_eq!(
            explain_tls_failure(&["certificate verify failed"], Some("self-signed certificate in certificate chain")),
            "the server certificate is not trusted: self-signed certificate in certificate chain (certificate verify failed)"
        );
        assert!(explain_tls_failure(&["wrong version number"], None).contains("does not speak TLS"));
        assert_eq!(
            explain_tls_failure(&["something new"], None),
            "something new"
        );
        assert_eq!(explain_tls_failure(&[], None), "unknown TLS failure");
    }

    #[test]
    fn refused_connections_are_reported_as_such() {
        // Bind then drop to find a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = post(
            &format!("http://127.0.0.1:{port}/"),
            &[],
            b"",
            &ClientTls::default(),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(err, ClientError::ConnectRefused { .. }), "{err}");
        assert!(!err.is_tls());
        assert_eq!(
            err.to_string(),
            format!("cannot connect to 127.0.0.1:{port}: connection refused")
        );
    }

    #[test]
    fn silent_servers_time_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let err = send(
            &format!("http://127.0.0.1:{port}/"),
            "GET",
            &[],
            &mut std::io::empty(),
            0,
            &ClientTls::default(),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(listener);
    }
}
