//! Backends that misbehave on purpose, on raw loopback sockets: answer slowly, never
//! answer, break off mid-body, answer with a SOAP fault or an HTML error page, or answer
//! well while counting connections and requests. Each runs on its own thread, is bounded in
//! time, and stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// A SOAP 1.1 answer naming this backend (`<name>…</name>`), at once.
    Ok,
    /// The same answer after a delay.
    Slow(Duration),
    /// Reads the request and never answers (until dropped).
    Silent,
    /// Sends the head and half the promised body, then closes.
    ResetMidBody,
    /// HTTP 500 with a SOAP fault.
    SoapFault,
    /// HTTP 503 with an HTML page.
    Html503,
}

pub struct Misbehaving {
    pub addr: SocketAddr,
    pub name: String,
    behaviour: Arc<std::sync::Mutex<Behaviour>>,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// Requests read so far.
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// Connections still being served.
    open: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

pub const FAULT_BODY: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>backend says no</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;

impl Misbehaving {
    pub fn start(name: &str, behaviour: Behaviour) -> Misbehaving {
        Self::start_on("127.0.0.1:0", name, behaviour)
    }

    /// Starts on a given address (to bring a "dead" backend back on its old port).
    pub fn start_on(addr: &str, name: &str, behaviour: Behaviour) -> Misbehaving {
        let listener = TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let behaviour = Arc::new(std::sync::Mutex::new(behaviour));
        let (connections, requests, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let open = Arc::new(AtomicUsize::new(0));
        let (b, c, r, s, n, o) = (behaviour.clone(), connections.clone(), requests.clone(), stop.clone(), name.to_string(), open.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        o.fetch_add(1, Ordering::Relaxed);
                        let (b, r, s, n, o) = (b.clone(), r.clone(), s.clone(), n.clone(), o.clone());
                        std::thread::spawn(move || {
                            serve(stream, &b, &r, &s, &n);
                            o.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Misbehaving { addr, name: name.to_string(), behaviour, connections, requests, stop, open, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://{}/services/Backend", self.addr)
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Like a stopped server: every connection closed before we return (bounded).
        for _ in 0..400 {
            if self.open.load(Ordering::Relaxed) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Reads one request (head and Content-Length body); `None` when the peer went away.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<()> {
    let mut length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if first && line.trim().is_empty() {
            continue;
        }
        first = false;
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(())
}

/// Waits for the next request's first byte; `false` when the peer left or the backend was
/// stopped (then the connection is closed, as a stopped server's would be).
fn wait_for_request(reader: &BufReader<TcpStream>, stop: &AtomicBool) -> bool {
    if !reader.buffer().is_empty() {
        return true;
    }
    let stream = reader.get_ref();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let ready = loop {
        match stream.peek(&mut [0u8; 1]) {
            Ok(0) => break false,
            Ok(_) => break true,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if stop.load(Ordering::Relaxed) {
                    break false;
                }
            }
            Err(_) => break false,
        }
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    if !ready {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    ready
}

fn serve(stream: TcpStream, behaviour: &std::sync::Mutex<Behaviour>, requests: &AtomicUsize, stop: &AtomicBool, name: &str) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while wait_for_request(&reader, stop) && read_request(&mut reader).is_some() {
        requests.fetch_add(1, Ordering::Relaxed);
        let b = *behaviour.lock().unwrap();
        let ok_body = format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><r:answer xmlns:r="urn:test"><name>{name}</name></r:answer></soapenv:Body></soapenv:Envelope>"#
        );
        let respond = |w: &mut TcpStream, status: &str, ct: &str, body: &str, extra: &str| {
            let _ = write!(w, "HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n{extra}\r\n{body}", body.len());
            let _ = w.flush();
        };
        match b {
            Behaviour::Ok => respond(&mut writer, "200 OK", "text/xml", &ok_body, &format!("Set-Cookie: SERVER={name}; Path=/\r\n")),
            Behaviour::Slow(d) => {
                std::thread::sleep(d);
                respond(&mut writer, "200 OK", "text/xml", &ok_body, "");
            }
            Behaviour::Silent => {
                // bounded: give up after 20 s or when the backend is dropped
                for _ in 0..400 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Behaviour::ResetMidBody => {
                let _ = write!(writer, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n", ok_body.len() * 2);
                let _ = writer.write_all(&ok_body.as_bytes()[..ok_body.len() / 2]);
                let _ = writer.flush();
                std::thread::sleep(Duration::from_millis(50));
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Behaviour::SoapFault => respond(&mut writer, "500 Internal Server Error", "text/xml", FAULT_BODY, ""),
            Behaviour::Html503 => respond(&mut writer, "503 Service Unavailable", "text/html", "<html><body>maintenance</body></html>", ""),
        }
    }
}
