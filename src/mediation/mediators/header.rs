//! `<header>`: set or remove a header. `name="To"` (and the other WS-Addressing names)
//! changes the message's addressing; `name="prefix:local"` a SOAP header block;
//! `scope="transport"` an HTTP header.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::text::Text;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;
use crate::xml::soap;

#[derive(Debug)]
enum Target {
    /// A WS-Addressing property of the message (To, Action, …).
    Addressing(&'static str),
    /// A SOAP header block `{namespace}local`, written with `prefix`.
    Soap { namespace: String, prefix: String, local: String },
    Http(actix_web::http::header::HeaderName),
}

#[derive(Debug)]
pub struct Header {
    target: Target,
    /// `None` removes.
    value: Option<Text>,
}

const ADDRESSING: [&str; 7] = ["To", "From", "Action", "FaultTo", "ReplyTo", "MessageID", "RelatesTo"];

/// Error code for a header that cannot be written.
const BAD_HEADER: u32 = 500_001;

#[async_trait(?Send)]
impl Mediator for Header {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let value = match &self.value {
            Some(t) => Some(t.string(ctx, engine).await?),
            None => None,
        };
        match &self.target {
            Target::Addressing(name) => {
                let a = &mut ctx.addressing;
                match *name {
                    "To" => ctx.to = value,
                    "From" => a.from = value,
                    "Action" => a.action = value,
                    "FaultTo" => a.fault_to = value,
                    "ReplyTo" => a.reply_to = value,
                    "MessageID" => a.message_id = value,
                    _ => {}
                }
            }
            Target::Http(name) => match value {
                Some(v) => {
                    let v = actix_web::http::header::HeaderValue::from_str(&v)
                        .map_err(|_| MediationError::new(BAD_HEADER, format!("'{v}' is not a valid value for the HTTP header {name}")))?;
                    ctx.headers.insert(name.clone(), v);
                }
                None => {
                    ctx.headers.remove(name);
                }
            },
            Target::Soap { namespace, prefix, local } => {
                ctx.ensure_document(&engine.limits).await?;
                let doc = ctx.document_mut().ok_or_else(|| MediationError::new(BAD_HEADER, "the message has no XML body"))?;
                set_soap_header(doc, namespace, prefix, local, value.as_deref())
                    .map_err(|e| MediationError::new(BAD_HEADER, format!("cannot change the SOAP header {prefix}:{local}: {e}")))?;
            }
        }
        Ok(Flow::Continue)
    }
}

/// Replaces (or removes, when `value` is `None`) every `{namespace}local` header block.
fn set_soap_header(doc: &mut crate::xml::Document, namespace: &str, prefix: &str, local: &str, value: Option<&str>) -> Result<(), String> {
    let env = soap::envelope(doc).ok_or("the message is not a SOAP envelope")?;
    let header = match env.header {
        Some(h) => h,
        None if value.is_none() => return Ok(()),
        None => {
            let ns = env.version.namespace();
            let prefix = doc.name(env.envelope).and_then(|n| n.prefix.map(str::to_string));
            let h = doc.create_element(Some(ns), prefix.as_deref(), "Header").map_err(|e| e.to_string())?;
            doc.prepend_child(env.envelope, h).map_err(|e| e.to_string())?;
            h
        }
    };
    let existing: Vec<_> = doc.child_elements(header).filter(|&c| doc.has_name(c, Some(namespace), local)).collect();
    for old in existing {
        doc.remove(old).map_err(|e| e.to_string())?;
    }
    if let Some(v) = value {
        let el = doc.create_element(Some(namespace), Some(prefix), local).map_err(|e| e.to_string())?;
        let text = doc.create_text(v);
        doc.append_child(el, text).map_err(|e| e.to_string())?;
        doc.append_child(header, el).map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let name = el.required_attr("name")?;
    let value = match el.attr("action").unwrap_or("set") {
        "remove" => None,
        "set" => Some(Text::from_attrs(el, "value", "expression", true)?.ok_or_else(|| el.error("<header> needs a value"))?),
        other => return Err(el.error(format!("action '{other}' is not supported (set, remove)"))),
    };
    let target = match el.attr("scope").unwrap_or("default") {
        "transport" => Target::Http(
            actix_web::http::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| el.error(format!("'{name}' is not a valid HTTP header name")))?,
        ),
        "default" => match name.split_once(':') {
            Some((prefix, local)) => {
                let namespace = el.resolve_prefix(prefix).ok_or_else(|| el.error(format!("prefix '{prefix}' of '{name}' is not declared")))?;
                match ADDRESSING.iter().find(|a| **a == local) {
                    Some(a) if crate::message::WSA_NAMESPACES.contains(&namespace) => Target::Addressing(a),
                    _ => Target::Soap { namespace: namespace.to_string(), prefix: prefix.to_string(), local: local.to_string() },
                }
            }
            None => match ADDRESSING.iter().find(|a| **a == name) {
                Some(a) => Target::Addressing(a),
                None => return Err(el.error(format!("header '{name}' needs a namespace prefix (or is one of {})", ADDRESSING.join(", ")))),
            },
        },
        other => return Err(el.error(format!("scope '{other}' is not supported (default, transport)"))),
    };
    Ok(Box::new(Header { target, value }))
}
