//! The engine: runs a message through its proxy service and decides the client's answer.
//!
//! One engine exists per worker thread; it holds the shared deployment and the worker's
//! backend client. Every message gets exactly one [`Reply`]: the backend's answer, one a
//! mediator chose, or a SOAP fault — never silence.

use std::rc::Rc;
use std::sync::Arc;

use super::deployment::Deployment;
use super::proxy::ProxyService;
use super::sequence::Sequence;
use super::{Flow, MediationError, Mediator};
use crate::endpoint::{BackendClient, Endpoint};
use crate::message::{MessageContext, Reply, SoapFault};

/// Error code when mediation ends without deciding what the client gets.
pub const NO_RESPONSE: u32 = 101510;

pub struct Engine {
    pub deployment: Arc<Deployment>,
    pub client: Rc<BackendClient>,
}

impl Engine {
    /// Mediates one request to its end and returns what the client receives.
    pub async fn mediate(&self, mut ctx: MessageContext) -> Reply {
        let proxy = self.deployment.proxy_for_path(ctx.uri.path()).filter(|p| p.serves(ctx.connection.transport)).cloned();
        match proxy {
            Some(proxy) => {
                ctx.service = Some(proxy.clone());
                if let Err(e) = self.through_proxy(&proxy, &mut ctx).await {
                    self.fault(&mut ctx, e, proxy.fault_sequence.as_ref()).await;
                }
            }
            None => {
                log::debug!("no service for {} on {}", ctx.uri, ctx.connection.transport.name());
                let reason = format!("The service cannot be found for the endpoint reference (EPR) {}", ctx.uri);
                ctx.reply_with_fault(SoapFault::client(reason));
            }
        }
        match ctx.take_reply() {
            Some(reply) => reply,
            None => {
                log::warn!("mediation of {} ended without a response to the client", ctx.uri);
                let f = SoapFault::server("Mediation ended without a response to the client").with_error(NO_RESPONSE, "no response");
                f.into_reply(ctx.format)
            }
        }
    }

    async fn through_proxy(&self, proxy: &ProxyService, ctx: &mut MessageContext) -> Result<(), MediationError> {
        if let Some(seq) = &proxy.in_sequence {
            if seq.mediate(ctx, self).await? == Flow::Stop {
                return Ok(());
            }
        }
        if let Some(endpoint) = &proxy.endpoint {
            self.send(ctx, endpoint.as_ref(), None).await?;
        }
        Ok(())
    }

    /// Sends the message to `endpoint` and mediates the response through `receive`, or the
    /// service's out-sequence; with neither, the response goes straight back to the client.
    pub async fn send(&self, ctx: &mut MessageContext, endpoint: &dyn Endpoint, receive: Option<&Arc<Sequence>>) -> Result<(), MediationError> {
        let response = endpoint.send(ctx, &self.client).await?;
        let mut out = ctx.response(response.status, response.headers, response.body);
        let service = ctx.service.clone();
        match receive.or(service.as_ref().and_then(|s| s.out_sequence.as_ref())) {
            Some(seq) => {
                if let Err(e) = seq.mediate(&mut out, self).await {
                    self.fault(&mut out, e, service.as_ref().and_then(|s| s.fault_sequence.as_ref())).await;
                }
            }
            None => out.reply_with_current_message(),
        }
        if let Some(reply) = out.take_reply() {
            ctx.set_reply(reply);
        }
        Ok(())
    }

    /// The fault path: records the error for the handler, runs it, and answers with a SOAP
    /// fault if the handler did not answer itself.
    async fn fault(&self, ctx: &mut MessageContext, e: MediationError, handler: Option<&Arc<Sequence>>) {
        log::warn!("{} {}: {}", ctx.method, ctx.uri, e);
        let props = &mut ctx.properties.default;
        props.insert("ERROR_CODE".into(), e.code.to_string());
        props.insert("ERROR_MESSAGE".into(), e.message.clone());
        if let Some(d) = &e.detail {
            props.insert("ERROR_DETAIL".into(), d.clone());
        }
        if let Some(seq) = handler {
            if let Err(e2) = seq.mediate(ctx, self).await {
                log::error!("the fault sequence failed too: {e2}");
            }
        }
        if !ctx.has_reply() {
            ctx.reply_with_fault(SoapFault::server(e.message.clone()).with_error(e.code, &e.message));
        }
    }
}
