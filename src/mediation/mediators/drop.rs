//! `<drop/>`: stop mediating this message. A request that was not answered yet gets
//! `202 Accepted` with no body (Synapse would leave a two-way client waiting; we never do).

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{MessageContext, Reply};

#[derive(Debug)]
pub struct Drop;

#[async_trait(?Send)]
impl Mediator for Drop {
    async fn mediate(&self, ctx: &mut MessageContext, _: &Engine) -> Result<Flow, MediationError> {
        ctx.set_reply(Reply::accepted());
        Ok(Flow::Stop)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    super::no_children(el)?;
    Ok(Box::new(Drop))
}
