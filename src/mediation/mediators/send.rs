//! `<send>`: on the request path, send to an endpoint and mediate the response; on the
//! response path without an endpoint, return the message to the client.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::endpoint::Endpoint;
use crate::mediation::sequence::Sequence;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{Direction, MessageContext};

/// Error code when a request has nowhere to go.
const NO_DESTINATION: u32 = 101500;

#[derive(Debug)]
pub struct Send {
    endpoint: Option<Arc<dyn Endpoint>>,
    /// `receive="seq"`: the sequence that mediates the response instead of the out-sequence.
    receive: Option<Arc<Sequence>>,
}

#[async_trait(?Send)]
impl Mediator for Send {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        match (&self.endpoint, ctx.direction) {
            (Some(endpoint), _) => engine.send(ctx, endpoint.as_ref(), self.receive.as_ref()).await?,
            (None, Direction::Out) => ctx.reply_with_current_message(),
            (None, Direction::In) => {
                return Err(MediationError::new(NO_DESTINATION, "<send/> without an endpoint: the message has no To address to send to"));
            }
        }
        Ok(Flow::Stop)
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let endpoint = el.child("endpoint").map(|e| b.endpoint(e)).transpose()?;
    let receive = el.attr("receive").map(|key| b.sequence_by_key(key, el)).transpose()?;
    if let Some(c) = el.elements().find(|c| c.name != "endpoint") {
        return Err(c.error(format!("<send> takes only an <endpoint>, not <{}>", c.name)));
    }
    Ok(Box::new(Send { endpoint, receive }))
}
