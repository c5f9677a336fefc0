//! A sequence: mediators run in order until one stops the flow.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

#[derive(Debug, Default)]
pub struct Sequence {
    /// The name for named sequences; inline ones have none.
    pub name: Option<String>,
    pub mediators: Vec<Box<dyn Mediator>>,
    /// `onError`: handles errors raised inside this sequence (the nearest handler wins).
    pub on_error: Option<Arc<Sequence>>,
}

impl Sequence {
    async fn run(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        for m in &self.mediators {
            if m.mediate(ctx, engine).await? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
}

#[async_trait(?Send)]
impl Mediator for Sequence {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        match (self.run(ctx, engine).await, &self.on_error) {
            (Err(e), Some(handler)) => {
                engine.handle_error(ctx, e, handler).await;
                Ok(Flow::Stop)
            }
            (result, _) => result,
        }
    }
}
