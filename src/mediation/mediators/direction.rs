//! `<in>` and `<out>`: run their children only on the request path, or only on the
//! response path.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::sequence::Sequence;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{Direction, MessageContext};

#[derive(Debug)]
pub struct OnDirection {
    direction: Direction,
    children: Sequence,
}

#[async_trait(?Send)]
impl Mediator for OnDirection {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        if ctx.direction == self.direction {
            self.children.mediate(ctx, engine).await
        } else {
            Ok(Flow::Continue)
        }
    }
}

fn build(el: &Element, b: &mut Builder<'_>, direction: Direction) -> Result<Box<dyn Mediator>, ConfigError> {
    Ok(Box::new(OnDirection { direction, children: b.sequence(el, None)? }))
}

pub fn build_in(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    build(el, b, Direction::In)
}

pub fn build_out(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    build(el, b, Direction::Out)
}
