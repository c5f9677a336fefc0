//! The engine: runs a message through its proxy service (or `main`) and decides the
//! client's answer.
//!
//! An engine is made per request from the configuration in force (a reload never changes
//! a message halfway); it holds the deployment, the limits and the worker's backend client. Every message gets exactly one [`Reply`]: the backend's answer, one a
//! mediator chose, or a SOAP fault — never silence.
//!
//! Errors travel up as `Err` through the mediators that raised them; the nearest handler
//! takes them: a sequence's `onError`, else the proxy's `faultSequence`, else `fault`.

use std::rc::Rc;
use std::sync::Arc;

use super::deployment::Deployment;
use super::proxy::ProxyService;
use super::sequence::Sequence;
use super::{Flow, MediationError, Mediator};
use actix_web::http::StatusCode;

use crate::endpoint::leaf::Leaf;
use crate::endpoint::{BackendClient, BackendResponse, Delivery, Endpoint};
use crate::message::{controls, Limits, MessageContext, Reply, Scope, SoapFault};

/// Error code when mediation ends without deciding what the client gets.
pub const NO_RESPONSE: u32 = 101510;

/// How long a one-way delivery may take to read the backend's (ignored) answer.
const ONE_WAY_DRAIN: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Engine {
    pub deployment: Arc<Deployment>,
    pub limits: Limits,
    pub client: Rc<BackendClient>,
    /// Where `<send/>` without an endpoint goes: the message's `To`.
    implicit_to: Arc<dyn Endpoint>,
}

impl Engine {
    /// An engine for one request (cheap: a few reference counts).
    pub fn new(deployment: Arc<Deployment>, limits: Limits, client: Rc<BackendClient>) -> Self {
        Engine { deployment, limits, client, implicit_to: implicit_to() }
    }

    /// Mediates one request to its end and returns what the client receives.
    pub async fn mediate(&self, mut ctx: MessageContext) -> Reply {
        let proxy = self.deployment.proxy_for_path(ctx.uri.path()).cloned();
        match proxy {
            Some(proxy) if proxy.serves(ctx.connection.transport) && ctx.wants_wsdl() => match &proxy.wsdl {
                Some(wsdl) => ctx.set_reply(Reply::xml(StatusCode::OK, wsdl.clone())),
                None => ctx.reply_with_fault(SoapFault::client(format!("no WSDL is published for {}", proxy.name)).with_status(StatusCode::NOT_FOUND)),
            },
            Some(proxy) if proxy.serves(ctx.connection.transport) && !self.admits(&proxy, &mut ctx) => {}
            Some(proxy) if proxy.serves(ctx.connection.transport) => {
                ctx.service = Some(proxy.clone());
                if let Err(e) = self.through_proxy(&proxy, &mut ctx).await {
                    let handler = proxy.fault_sequence.clone().unwrap_or_else(|| self.deployment.fault.clone());
                    self.handle_error(&mut ctx, e, &handler).await;
                }
            }
            Some(_) => {
                let reason = format!("The service cannot be found for the endpoint reference (EPR) {}", ctx.uri);
                ctx.reply_with_fault(SoapFault::client(reason));
            }
            None => {
                let routed = match ctx.read_addressing(&self.limits).await {
                    Ok(()) => self.deployment.main.mediate(&mut ctx, self).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = routed {
                    let fault = self.deployment.fault.clone();
                    self.handle_error(&mut ctx, e, &fault).await;
                }
            }
        }
        match ctx.take_reply() {
            Some(reply) => reply,
            None => unanswered(&ctx),
        }
    }

    /// Checks the proxy's client-certificate policy; a refusal is answered (401/403) and
    /// logged with who was refused.
    fn admits(&self, proxy: &ProxyService, ctx: &mut MessageContext) -> bool {
        let Some(policy) = &proxy.client_auth else { return true };
        match policy.check(ctx.client_certificate.as_deref()) {
            Ok(()) => true,
            Err(fault) => {
                let who = ctx.client_certificate.as_ref().map(|c| format!("{} (sha256 {})", c.subject_dn(), c.sha256_hex())).unwrap_or_else(|| "no certificate".into());
                let peer = ctx.connection.peer_addr.map(|a| a.to_string()).unwrap_or_default();
                log::warn!("proxy {}: {} from {peer}: {who}", proxy.name, fault.reason);
                ctx.reply_with_fault(fault);
                false
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
            self.send(ctx, endpoint, None).await?;
        }
        Ok(())
    }

    /// Sends the message to `endpoint` and mediates the response through `receive`, else
    /// the proxy's out-sequence, else `main` for messages no proxy took. A proxy without an
    /// out-sequence returns the response as it is. Afterwards the request has its reply.
    ///
    /// With `OUT_ONLY` or `FORCE_SC_ACCEPTED` set, the client gets `202 Accepted` at once
    /// and the message is delivered in the background (failures are logged).
    pub async fn send(&self, ctx: &mut MessageContext, endpoint: &Arc<dyn Endpoint>, receive: Option<&Arc<Sequence>>) -> Result<(), MediationError> {
        if ctx.properties.flag(Scope::Default, controls::OUT_ONLY) || ctx.properties.flag(Scope::Axis2, controls::FORCE_SC_ACCEPTED) {
            self.send_one_way(ctx, endpoint.clone());
            ctx.set_reply(Reply::accepted());
            return Ok(());
        }
        let response = self.call_endpoint(ctx, endpoint.as_ref()).await?;
        self.mediate_response(ctx, response, receive).await;
        Ok(())
    }

    /// Delivers to `endpoint`. A 5xx answer that is not XML (an HTML error page from a
    /// proxy or an app server) becomes an error carrying its status, unless the axis2
    /// property `RELAY_ERROR_RESPONSES` asks to relay it; a SOAP fault is a normal answer.
    pub async fn call_endpoint(&self, ctx: &mut MessageContext, endpoint: &dyn Endpoint) -> Result<BackendResponse, MediationError> {
        let response = endpoint.send(ctx, &self.delivery()).await?;
        let content_type = response.headers.get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if response.status.is_server_error()
            && !crate::message::format::is_xml(content_type)
            && !ctx.properties.flag(Scope::Axis2, controls::RELAY_ERROR_RESPONSES)
        {
            let message = format!(
                "the backend answered HTTP {} with {}",
                response.status,
                content_type.map(|c| format!("a {c} page")).unwrap_or_else(|| "no content type".into())
            );
            // Read the page so the connection can be reused.
            actix_web::rt::spawn(async move {
                let _ = actix_web::rt::time::timeout(ONE_WAY_DRAIN, response.body.into_bytes(1 << 20)).await;
            });
            let mut e = MediationError::new(crate::mediation::error::UNREADABLE_RESPONSE, message);
            e.status = Some(response.status);
            return Err(e);
        }
        Ok(response)
    }

    /// What endpoints need from this worker.
    pub fn delivery(&self) -> Delivery<'_> {
        Delivery { client: &self.client, limits: &self.limits }
    }

    fn send_one_way(&self, ctx: &mut MessageContext, endpoint: Arc<dyn Endpoint>) {
        let mut detached = ctx.detach();
        let client = self.client.clone();
        let limits = self.limits.clone();
        actix_web::rt::spawn(async move {
            let delivery = Delivery { client: &client, limits: &limits };
            match endpoint.send(&mut detached, &delivery).await {
                Ok(response) => {
                    // Read the answer so the connection can go back to the pool.
                    let drained = actix_web::rt::time::timeout(ONE_WAY_DRAIN, response.body.into_bytes(usize::MAX)).await;
                    if !matches!(drained, Ok(Ok(_))) {
                        log::warn!("one-way delivery to {}: the answer could not be read", endpoint.name().unwrap_or("the endpoint"));
                    }
                }
                Err(e) => log::warn!("one-way delivery failed: {e}"),
            }
        });
    }

    /// `<loopback/>`: the current request is mediated as if it were the response.
    pub async fn loop_back(&self, ctx: &mut MessageContext) -> Result<(), MediationError> {
        let response = BackendResponse { status: StatusCode::OK, headers: std::mem::take(&mut ctx.headers), body: ctx.take_body_for_sending() };
        self.mediate_response(ctx, response, None).await;
        Ok(())
    }

    /// The endpoint a `send`/`call` uses: its own, or the message's `To`.
    pub fn endpoint_for(&self, _ctx: &MessageContext, given: Option<&Arc<dyn Endpoint>>) -> Result<Arc<dyn Endpoint>, MediationError> {
        Ok(given.cloned().unwrap_or_else(|| self.implicit_to.clone()))
    }

    async fn mediate_response(&self, ctx: &mut MessageContext, response: BackendResponse, receive: Option<&Arc<Sequence>>) {
        let mut out = ctx.response(response.status, response.headers, response.body);
        let service = ctx.service.clone();
        let sequence = match (receive, &service) {
            (Some(r), _) => Some(r.clone()),
            (None, Some(proxy)) => proxy.out_sequence.clone(),
            (None, None) => Some(self.deployment.main.clone()),
        };
        match sequence {
            Some(seq) => {
                if let Err(e) = seq.mediate(&mut out, self).await {
                    let handler = service.and_then(|s| s.fault_sequence.clone()).unwrap_or_else(|| self.deployment.fault.clone());
                    self.handle_error(&mut out, e, &handler).await;
                }
            }
            None => out.reply_with_current_message(),
        }
        let reply = out.take_reply().unwrap_or_else(|| unanswered(&out));
        ctx.set_reply(reply);
    }

    /// The fault path: records the error where the handler can read it (`ERROR_CODE`,
    /// `ERROR_MESSAGE`, `ERROR_DETAIL`) and runs the handler. If the handler does not
    /// answer, the client later gets a SOAP fault built from those properties.
    pub async fn handle_error(&self, ctx: &mut MessageContext, e: MediationError, handler: &Sequence) {
        log::warn!("{} {}: {}", ctx.method, ctx.uri, e);
        if let Some(fault) = &e.answer {
            // This error decides the answer itself (a client's mistake, a discarded timeout).
            ctx.reply_with_fault((**fault).clone());
        }
        record_error(ctx, &e);
        if let Err(e2) = handler.mediate(ctx, self).await {
            log::error!("the fault handler failed too: {e2}");
            record_error(ctx, &e2);
        }
    }
}

/// Puts an error where fault handlers and the default fault read it.
fn record_error(ctx: &mut MessageContext, e: &MediationError) {
    ctx.properties.set_error(e.code, &e.message, e.detail.as_deref());
    if let Some(status) = e.status {
        ctx.properties.set(Scope::Default, crate::message::properties::ERROR_HTTP_STATUS, crate::message::Value::Integer(status.as_u16().into()));
    }
}

/// Where `<send/>` without an endpoint goes, shared by all engines of a thread (its health
/// is that of "the message's To", which no suspension should follow between messages).
fn implicit_to() -> Arc<dyn Endpoint> {
    thread_local! {
        static IMPLICIT: Arc<dyn Endpoint> = Arc::new(Leaf::implicit());
    }
    IMPLICIT.with(Arc::clone)
}

/// What a client gets when mediation ended without answering: the recorded error as a SOAP
/// fault, or a fault saying nothing answered.
fn unanswered(ctx: &MessageContext) -> Reply {
    let fault = match ctx.properties.error() {
        Some((code, message)) => {
            let status = ctx
                .properties
                .get(Scope::Default, crate::message::properties::ERROR_HTTP_STATUS)
                .and_then(|s| s.to_string().parse::<u16>().ok())
                .and_then(|s| StatusCode::from_u16(s).ok());
            let fault = SoapFault::server(message.clone()).with_error(code, &message);
            match status {
                Some(s) => fault.with_status(s),
                None => fault,
            }
        }
        None => {
            log::warn!("mediation of {} ended without a response to the client", ctx.uri);
            SoapFault::server("Mediation ended without a response to the client").with_error(NO_RESPONSE, "no response")
        }
    };
    fault.into_reply(ctx.format)
}
