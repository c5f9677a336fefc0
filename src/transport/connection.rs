//! Facts about one client connection, gathered once when it is accepted.
//!
//! The TLS handshake has already verified the client's certificate (if the listener asks
//! for one); here we only read the result and keep it for every request on the connection.

use std::any::Any;
use std::net::SocketAddr;
use std::rc::Rc;

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
}

impl Connection {
    /// A connection whose details are unknown (never expected; keeps handlers total).
    pub fn unknown(transport: Transport) -> Self {
        Connection { transport, local_addr: None, peer_addr: None, peer_certificate: None }
    }
}

/// actix's `on_connect` hook: stores an `Rc<Connection>` in the connection's extensions.
pub fn on_connect(io: &dyn Any, ext: &mut Extensions) {
    let conn = if let Some(tls) = io.downcast_ref::<TlsStream<TcpStream>>() {
        let ssl = tls.ssl();
        let tcp = tls.get_ref();
        let peer_certificate = ssl.peer_certificate().map(|leaf| {
            let chain = ssl.verified_chain().map(|c| c.iter().map(|x| x.to_owned()).collect()).unwrap_or_default();
            Rc::new(PeerCertificate::new(leaf, chain))
        });
        Connection { transport: Transport::Https, local_addr: tcp.local_addr().ok(), peer_addr: tcp.peer_addr().ok(), peer_certificate }
    } else if let Some(tcp) = io.downcast_ref::<TcpStream>() {
        Connection { transport: Transport::Http, local_addr: tcp.local_addr().ok(), peer_addr: tcp.peer_addr().ok(), peer_certificate: None }
    } else {
        log::error!("a connection of an unexpected type was accepted");
        return;
    };
    ext.insert(Rc::new(conn));
}
