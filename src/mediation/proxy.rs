//! Proxy services: `<proxy>` artifacts, served at `/services/<name>`.

use std::sync::Arc;

use super::sequence::Sequence;
use crate::config::axis2::Transport;
use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::endpoint::Endpoint;

#[derive(Debug)]
pub struct ProxyService {
    pub name: String,
    /// The transports it is served on; requests on others are told it does not exist.
    pub transports: Vec<Transport>,
    pub in_sequence: Option<Arc<Sequence>>,
    pub out_sequence: Option<Arc<Sequence>>,
    pub fault_sequence: Option<Arc<Sequence>>,
    /// The target endpoint, used after the in-sequence lets the message through.
    pub endpoint: Option<Arc<dyn Endpoint>>,
    pub parameters: Vec<(String, String)>,
    /// `<publishWSDL>`: served at `/services/<name>?wsdl`.
    pub wsdl: Option<String>,
    /// Which client certificates it accepts (`mtls.*` parameters).
    pub client_auth: Option<super::client_auth::ClientAuth>,
}

impl ProxyService {
    pub fn serves(&self, transport: Transport) -> bool {
        self.transports.contains(&transport)
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<ProxyService, ConfigError> {
    let name = el.required_attr("name")?.to_string();
    let transports = match el.attr("transports") {
        None => vec![Transport::Http, Transport::Https],
        Some(list) => {
            let mut ts = Vec::new();
            for t in list.split([' ', ',', '\t', '\n']).filter(|s| !s.is_empty()) {
                match t {
                    "all" => ts.extend([Transport::Http, Transport::Https]),
                    other => ts.push(Transport::parse(other).ok_or_else(|| {
                        el.error(format!("proxy '{name}': unknown transport '{other}' (available: http, https)"))
                    })?),
                }
            }
            if ts.is_empty() {
                return Err(el.error(format!("proxy '{name}': the transports attribute lists no transport")));
            }
            ts.dedup();
            ts
        }
    };
    let target = el.child("target").ok_or_else(|| el.error(format!("proxy '{name}' needs a <target>")))?;
    let in_sequence = sequence_of(target, "inSequence", b)?;
    let out_sequence = sequence_of(target, "outSequence", b)?;
    let fault_sequence = sequence_of(target, "faultSequence", b)?;
    let endpoint = match (target.attr("endpoint"), target.child("endpoint")) {
        (Some(_), Some(inline)) => return Err(inline.error("give the target endpoint either as an attribute or as an element, not both")),
        (Some(key), None) => Some(b.endpoint_by_key(key, target)?),
        (None, Some(inline)) => Some(b.endpoint(inline)?),
        (None, None) => None,
    };
    if endpoint.is_none() && in_sequence.is_none() {
        return Err(target.error(format!("proxy '{name}': the target needs an endpoint or an inSequence")));
    }
    let mut parameters = Vec::new();
    let mut wsdl = None;
    for c in el.elements() {
        match c.name.as_str() {
            "target" | "description" => {}
            "parameter" => parameters.push((c.required_attr("name")?.to_string(), c.text())),
            "publishWSDL" => wsdl = Some(published_wsdl(c, b)?),
            other => log::warn!("{}: <{other}> in proxy '{name}' is not supported yet; ignored", c.origin),
        }
    }
    let client_auth = super::client_auth::ClientAuth::from_parameters(el, b)?;
    Ok(ProxyService { name, transports, in_sequence, out_sequence, fault_sequence, endpoint, parameters, wsdl, client_auth })
}

/// The WSDL text of `<publishWSDL key|uri>` or of the WSDL written inside it.
fn published_wsdl(el: &Element, b: &mut Builder<'_>) -> Result<String, ConfigError> {
    if let Some(key) = el.attr("key") {
        return Ok(b.local_entry(key, el)?.text());
    }
    if let Some(uri) = el.attr("uri") {
        let path = match uri.strip_prefix("file:") {
            Some(p) => b.base.join(p.trim_start_matches("//")),
            None if uri.contains("://") => return Err(el.error(format!("uri '{uri}': only file: WSDLs are read (no remote fetches at load)"))),
            None => b.base.join(uri),
        };
        return std::fs::read_to_string(&path).map_err(|e| el.error(format!("cannot read the WSDL {}: {e}", path.display())));
    }
    match el.elements().next() {
        Some(inline) => Ok(inline.to_xml()),
        None => Err(el.error("<publishWSDL> needs a key, a uri or an inline WSDL")),
    }
}

/// A target sequence given by key (attribute) or inline (element), not both.
fn sequence_of(target: &Element, which: &str, b: &mut Builder<'_>) -> Result<Option<Arc<Sequence>>, ConfigError> {
    match (target.attr(which), target.child(which)) {
        (Some(_), Some(inline)) => Err(inline.error(format!("give {which} either as an attribute or as an element, not both"))),
        (Some(key), None) => b.sequence_by_key(key, target).map(Some),
        (None, Some(inline)) => Ok(Some(Arc::new(b.sequence(inline, None)?))),
        (None, None) => Ok(None),
    }
}
