//! `<call>`: send to an endpoint and wait, then continue this same sequence with the
//! response as the current message (service chaining without an out-sequence).

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::endpoint::Endpoint;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

#[derive(Debug)]
pub struct Call {
    endpoint: Option<Arc<dyn Endpoint>>,
}

#[async_trait(?Send)]
impl Mediator for Call {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let endpoint = engine.endpoint_for(ctx, self.endpoint.as_ref())?;
        let response = engine.call_endpoint(ctx, endpoint.as_ref()).await?;
        ctx.become_response(response.status, response.headers, response.body);
        Ok(Flow::Continue)
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    if let Some(c) = el.elements().find(|c| c.name != "endpoint") {
        return Err(c.error(format!("<call> takes only an <endpoint>, not <{}>", c.name)));
    }
    let endpoint = el.child("endpoint").map(|e| b.endpoint(e)).transpose()?;
    Ok(Box::new(Call { endpoint }))
}
