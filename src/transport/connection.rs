//! Facts about one client connection, gathered once when it is accepted.
//!
//! The TLS handshake has already verified the client's certificate (if the listener asks
//! for one); here we only read the result and keep it for every request on the connection.

use std::any::Any;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_tls::accept::openssl::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

use crate::config::axis2::Transport;
use crate::security::peer::PeerCertificate;

#[derive(Debug)]
pub struct Connection {
    pub transport: Transport,
    pub local_addr: Option<SocketAddr>,
    pub peer_addr: Option<SocketAddr>,
    /// The client's verified certificate; `None` without TLS or without a certificate.
    pub peer_certificate: Option<Rc<PeerCertificate>>,
    /// Connections open on this receiver when this one was accepted, itself included.
    pub open_at_accept: usize,
    /// Counts this connection as open until it is dropped with the connection.
    _open: Option<Counted>,
}

impl Connection {
    /// A connection whose details are unknown (never expected; keeps handlers total).
    pub fn unknown(transport: Transport) -> Self {
        Connection { transport, local_addr: None, peer_addr: None, peer_certificate: None, open_at_accept: 0, _open: None }
    }
}

/// Open connections per transport, from accept to close, across all workers.
#[derive(Debug, Default)]
pub struct OpenConnections {
    http: AtomicUsize,
    https: AtomicUsize,
}

impl OpenConnections {
    fn counter(&self, t: Transport) -> &AtomicUsize {
        match t {
            Transport::Http => &self.http,
            Transport::Https => &self.https,
        }
    }
}

#[derive(Debug)]
struct Counted {
    open: Arc<OpenConnections>,
    transport: Transport,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.counter(self.transport).fetch_sub(1, Ordering::Relaxed);
    }
}

/// actix's `on_connect` hook: stores an `Rc<Connection>` in the connection's extensions
/// (dropped when the connection closes).
pub fn on_connect(io: &dyn Any, ext: &mut Extensions, open: &Arc<OpenConnections>) {
    let (transport, tcp, peer_certificate) = if let Some(tls) = io.downcast_ref::<TlsStream<TcpStream>>() {
        let ssl = tls.ssl();
        let peer_certificate = ssl.peer_certificate().map(|leaf| {
            let chain = ssl.verified_chain().map(|c| c.iter().map(|x| x.to_owned()).collect()).unwrap_or_default();
            Rc::new(PeerCertificate::new(leaf, chain))
        });
        (Transport::Https, tls.get_ref(), peer_certificate)
    } else if let Some(tcp) = io.downcast_ref::<TcpStream>() {
        (Transport::Http, tcp, None)
    } else {
        log::error!("a connection of an unexpected type was accepted");
        return;
    };
    let open_at_accept = open.counter(transport).fetch_add(1, Ordering::Relaxed) + 1;
    let counted = Counted { open: open.clone(), transport };
    let conn = Connection { transport, local_addr: tcp.local_addr().ok(), peer_addr: tcp.peer_addr().ok(), peer_certificate, open_at_accept, _open: Some(counted) };
    ext.insert(Rc::new(conn));
}
