//! `<respond/>`: return the current message to the client now (a request is echoed back,
//! typically after mediators rewrote it into an answer).

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

#[derive(Debug)]
pub struct Respond;

#[async_trait(?Send)]
impl Mediator for Respond {
    async fn mediate(&self, ctx: &mut MessageContext, _: &Engine) -> Result<Flow, MediationError> {
        ctx.reply_with_current_message();
        Ok(Flow::Stop)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    super::no_children(el)?;
    Ok(Box::new(Respond))
}
