//! `<switch source="xpath">`: evaluate once, run the first `<case regex>` that matches the
//! whole value, else `<default>`.

use async_trait::async_trait;
use regex::Regex;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::expression::Expression;
use crate::mediation::sequence::Sequence;
use crate::mediation::text::whole_match_regex;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::MessageContext;

#[derive(Debug)]
pub struct Switch {
    source: Expression,
    cases: Vec<(Regex, Sequence)>,
    default: Option<Sequence>,
}

#[async_trait(?Send)]
impl Mediator for Switch {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let value = self.source.string(ctx, engine).await?;
        match self.cases.iter().find(|(re, _)| re.is_match(&value)) {
            Some((_, seq)) => seq.mediate(ctx, engine).await,
            None => match &self.default {
                Some(seq) => seq.mediate(ctx, engine).await,
                None => Ok(Flow::Continue),
            },
        }
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let source = Expression::compile(el.required_attr("source")?, el)?;
    let mut cases = Vec::new();
    let mut default = None;
    for c in el.elements() {
        match c.name.as_str() {
            "case" => cases.push((whole_match_regex(c, "regex")?, b.sequence(c, None)?)),
            "default" if default.is_none() => default = Some(b.sequence(c, None)?),
            "default" => return Err(c.error("<switch> has one <default> at most")),
            "description" => {}
            other => return Err(c.error(format!("<switch> holds <case> and <default>, not <{other}>"))),
        }
    }
    Ok(Box::new(Switch { source, cases, default }))
}
