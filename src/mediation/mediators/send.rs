//! `<send>`: on the request path, send to an endpoint (or to the message's `To` when none
//! is given) and mediate the response; on the response path without an endpoint, return
//! the message to the client.
//!
//! As in Synapse the sequence goes on after a send; what follows cannot change the answer
//! the send already produced.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::endpoint::Endpoint;
use crate::mediation::sequence::Sequence;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{controls, Direction, MessageContext, Scope};

#[derive(Debug)]
pub struct Send {
    endpoint: Option<Arc<dyn Endpoint>>,
    /// `receive="seq"`: the sequence that mediates the response instead of the out-sequence.
    receive: Option<Arc<Sequence>>,
}

#[async_trait(?Send)]
impl Mediator for Send {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let is_response = ctx.direction == Direction::Out || ctx.properties.flag(Scope::Default, controls::RESPONSE);
        if is_response && self.endpoint.is_none() {
            ctx.reply_with_current_message();
            return Ok(Flow::Stop);
        }
        let endpoint = engine.endpoint_for(ctx, self.endpoint.as_ref())?;
        engine.send(ctx, &endpoint, self.receive.as_ref()).await?;
        Ok(Flow::Continue)
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    if let Some(c) = el.elements().find(|c| c.name != "endpoint") {
        return Err(c.error(format!("<send> takes only an <endpoint>, not <{}>", c.name)));
    }
    let endpoint = el.child("endpoint").map(|e| b.endpoint(e)).transpose()?;
    let receive = el.attr("receive").map(|key| b.sequence_by_key(key, el)).transpose()?;
    Ok(Box::new(Send { endpoint, receive }))
}
