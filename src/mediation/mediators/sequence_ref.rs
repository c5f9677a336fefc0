//! `<sequence key="name"/>`: run a named sequence (or one held by a local entry) here.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::sequence::Sequence;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

#[derive(Debug)]
pub struct SequenceRef {
    target: Arc<Sequence>,
}

#[async_trait(?Send)]
impl Mediator for SequenceRef {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        self.target.mediate(ctx, engine).await
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let key = el.required_attr("key")?;
    if key.starts_with('{') {
        return Err(el.error("dynamic sequence keys ({xpath}) are not supported yet"));
    }
    super::no_children(el)?;
    Ok(Box::new(SequenceRef { target: b.sequence_by_key(key, el)? }))
}
