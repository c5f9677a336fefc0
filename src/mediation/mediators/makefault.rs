//! `<makefault>`: turn the current message into a SOAP fault (or a plain-XML one), with
//! `<code value="prefix:Name"/>`, `<reason value|expression/>` and optional `<detail>`.
//! With `response="true"` the fault is a response: a following `<send/>` returns it.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::text::Text;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::format::{SOAP11_ENV_NS, SOAP12_ENV_NS};
use crate::message::{controls, FaultCode, MessageContext, MessageFormat, Scope, SoapFault, Value};

#[derive(Debug)]
pub struct MakeFault {
    version: Option<MessageFormat>,
    code: FaultCode,
    reason: Text,
    detail: Option<Text>,
    response: bool,
}

#[async_trait(?Send)]
impl Mediator for MakeFault {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let reason = self.reason.string(ctx, engine).await?;
        let mut fault = SoapFault::new(self.code, reason);
        if let Some(d) = &self.detail {
            fault.detail = Some(quick_xml::escape::escape(d.string(ctx, engine).await?.as_str()).into_owned());
        }
        let format = self.version.unwrap_or(ctx.format);
        let reply = fault.into_reply(format);
        ctx.format = format;
        ctx.status = Some(reply.status);
        ctx.headers = reply.headers;
        ctx.body = reply.body;
        if self.response {
            ctx.properties.set(Scope::Default, controls::RESPONSE, Value::Boolean(true));
        }
        Ok(Flow::Continue)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let version = match el.attr("version") {
        None => None,
        Some("soap11") => Some(MessageFormat::Soap11),
        Some("soap12") => Some(MessageFormat::Soap12),
        Some("pox") => Some(MessageFormat::Pox),
        Some(other) => return Err(el.error(format!("version '{other}' is not one of soap11, soap12, pox"))),
    };
    let code_el = el.child("code");
    let code = match code_el {
        Some(c) => fault_code(c)?,
        None if version == Some(MessageFormat::Pox) => FaultCode::Server,
        None => return Err(el.error("<makefault> needs a <code value=\"…\"/>")),
    };
    let reason_el = el.child("reason").ok_or_else(|| el.error("<makefault> needs a <reason>"))?;
    let reason = Text::from_attrs(reason_el, "value", "expression", true)?.ok_or_else(|| reason_el.error("<reason> needs a value"))?;
    let detail = match el.child("detail") {
        Some(d) => match Text::from_attrs(d, "value", "expression", false)? {
            Some(t) => Some(t),
            None => Some(Text::Literal(d.text())),
        },
        None => None,
    };
    for c in el.elements() {
        if !matches!(c.name.as_str(), "code" | "reason" | "detail" | "node" | "role" | "description") {
            return Err(c.error(format!("<makefault> does not take <{}>", c.name)));
        }
    }
    let response = el.attr("response").is_some_and(|r| r.eq_ignore_ascii_case("true"));
    Ok(Box::new(MakeFault { version, code, reason, detail, response }))
}

/// `value="prefix:Name"`: a SOAP 1.1 or 1.2 fault code, its prefix bound to the envelope
/// namespace in scope.
fn fault_code(c: &Element) -> Result<FaultCode, ConfigError> {
    let value = c.required_attr("value")?;
    let (prefix, local) = value.split_once(':').unwrap_or(("", value));
    if !prefix.is_empty() {
        match c.resolve_prefix(prefix) {
            Some(SOAP11_ENV_NS) | Some(SOAP12_ENV_NS) => {}
            Some(other) => return Err(c.error(format!("fault code prefix '{prefix}' is bound to {other}, not to a SOAP envelope namespace"))),
            None => return Err(c.error(format!("fault code prefix '{prefix}' is not declared"))),
        }
    }
    match local {
        "Client" | "Sender" => Ok(FaultCode::Client),
        "Server" | "Receiver" => Ok(FaultCode::Server),
        "VersionMismatch" => Ok(FaultCode::VersionMismatch),
        "MustUnderstand" => Ok(FaultCode::MustUnderstand),
        other => Err(c.error(format!("fault code '{other}' is not a SOAP fault code (Client/Sender, Server/Receiver, VersionMismatch, MustUnderstand)"))),
    }
}
