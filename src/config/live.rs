//! The configuration in force, swapped whole on reload (SIGHUP).
//!
//! Requests take a snapshot when they start and keep it to the end, so a reload never
//! changes a message halfway; new requests see the new configuration. A reload that fails
//! to load or validate leaves the old one in place.

use std::sync::{Arc, RwLock};

use crate::mediation::deployment::Deployment;
use crate::message::Limits;
use crate::security::tls::BackendTls;
use super::axis2::Transport;

/// One loaded configuration: what mediation runs and how backends are reached.
pub struct Snapshot {
    pub deployment: Arc<Deployment>,
    pub limits: Limits,
    pub backend_tls: BackendTls,
    /// What each receiver (by transport) enforces per request.
    pub receivers: Vec<ReceiverRules>,
    pub pool: super::axis2::SenderPool,
    /// The https listener's TLS material, from a reload (the first is the sockets' own).
    pub https: Option<crate::security::tls::ReloadedTls>,
    /// Increases with every reload (workers rebuild their backend clients when it moves).
    pub generation: u64,
}

impl Snapshot {
    pub fn receiver(&self, transport: Transport) -> Option<&ReceiverRules> {
        self.receivers.iter().find(|r| r.transport == transport)
    }
}

/// One receiver's per-request rules: its HTTP limits, and whether it believes a client
/// certificate a load balancer forwards.
pub struct ReceiverRules {
    pub transport: Transport,
    pub http: super::axis2::HttpLimits,
    pub forwarding: Option<Forwarding>,
}

/// `ClientCertificateHeader` of one receiver, ready: the header, the load balancers whose
/// header is believed, and the policy the certificate must pass.
pub struct Forwarding {
    pub header: actix_web::http::header::HeaderName,
    pub trusted: Vec<crate::security::forwarded::Cidr>,
    pub policy: crate::security::client_cert::ClientCertPolicy,
}

pub struct Live {
    current: RwLock<Arc<Snapshot>>,
}

impl Live {
    pub fn new(first: Snapshot) -> Live {
        Live { current: RwLock::new(Arc::new(first)) }
    }

    pub fn current(&self) -> Arc<Snapshot> {
        // A poisoned lock still holds a complete snapshot: the swap is a single store.
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `next` in force, numbering it after the current one.
    pub fn replace(&self, mut next: Snapshot) {
        let mut slot = self.current.write().unwrap_or_else(|p| p.into_inner());
        next.generation = slot.generation + 1;
        *slot = Arc::new(next);
    }
}
