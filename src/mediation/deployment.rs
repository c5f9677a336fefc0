//! The artifacts deployed from `mediation/`, resolved and ready to serve.

use std::collections::HashMap;
use std::sync::Arc;

use super::proxy::ProxyService;
use super::sequence::Sequence;
use crate::config::synapse::LocalEntry;
use crate::endpoint::Endpoint;

#[derive(Debug, Default)]
pub struct Deployment {
    pub proxies: HashMap<String, Arc<ProxyService>>,
    pub sequences: HashMap<String, Arc<Sequence>>,
    pub endpoints: HashMap<String, Arc<dyn Endpoint>>,
    pub local_entries: HashMap<String, LocalEntry>,
    /// Mediates messages no proxy service takes (and their responses).
    pub main: Arc<Sequence>,
    /// The last-resort error handler.
    pub fault: Arc<Sequence>,
}

impl Deployment {
    /// The proxy service a request path addresses: `/services/<name>`, optionally followed
    /// by `/<operation>` or `.<endpoint>` as Axis2 allows.
    pub fn proxy_for_path(&self, path: &str) -> Option<&Arc<ProxyService>> {
        let rest = path.strip_prefix("/services/")?;
        let name = rest.split(['/', '?']).next().unwrap_or(rest);
        self.proxies.get(name).or_else(|| self.proxies.get(name.split('.').next().unwrap_or(name)))
    }
}
