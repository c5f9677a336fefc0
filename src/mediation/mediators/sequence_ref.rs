//! `<sequence key="name"/>`: run a named sequence (or one held by a local entry) here.
//! `key="{xpath}"` picks the sequence per message by the expression's value.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::expression::Expression;
use crate::mediation::sequence::Sequence;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

/// Error code when a dynamic key names no sequence.
const NO_SUCH_SEQUENCE: u32 = 500_020;

#[derive(Debug)]
enum Target {
    Static(Arc<Sequence>),
    Dynamic(Expression),
}

#[derive(Debug)]
pub struct SequenceRef {
    target: Target,
}

#[async_trait(?Send)]
impl Mediator for SequenceRef {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let seq = match &self.target {
            Target::Static(seq) => seq.clone(),
            Target::Dynamic(x) => {
                let key = x.string(ctx, engine).await?;
                engine.deployment.sequences.get(key.trim()).cloned().ok_or_else(|| {
                    MediationError::new(NO_SUCH_SEQUENCE, format!("no sequence named '{}' (from key {{{}}})", key.trim(), x.source()))
                })?
            }
        };
        // A dynamic key can name the sequence it is in: bound the depth instead of the stack.
        ctx.enter_sequence()?;
        let flow = seq.mediate(ctx, engine).await;
        ctx.leave_sequence();
        flow
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let key = el.required_attr("key")?;
    super::no_children(el)?;
    let target = match key.strip_prefix('{').and_then(|k| k.strip_suffix('}')) {
        Some(xpath) => Target::Dynamic(Expression::compile(xpath, el)?),
        None => Target::Static(b.sequence_by_key(key, el)?),
    };
    Ok(Box::new(SequenceRef { target }))
}
