//! `<loopback/>`: turn the request around into the response path, as if a backend had
//! answered with the current message: the out-sequence (or `main`'s `<out>`) mediates it.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{Direction, MessageContext};

#[derive(Debug)]
pub struct Loopback;

#[async_trait(?Send)]
impl Mediator for Loopback {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        if ctx.direction == Direction::Out {
            // already on the way back: same as returning the message
            ctx.reply_with_current_message();
        } else {
            engine.loop_back(ctx).await?;
        }
        Ok(Flow::Stop)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    super::no_children(el)?;
    Ok(Box::new(Loopback))
}
