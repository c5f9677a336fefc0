//! `<filter>`: run children only when a condition holds — `source` matched against a
//! `regex`, or an `xpath` that is true. Children go either directly inside, or in
//! `<then>` / `<else>`.

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
enum Condition {
    Matches { source: Expression, regex: Regex },
    Holds(Expression),
}

#[derive(Debug)]
pub struct Filter {
    condition: Condition,
    then: Sequence,
    otherwise: Option<Sequence>,
}

#[async_trait(?Send)]
impl Mediator for Filter {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let holds = match &self.condition {
            Condition::Matches { source, regex } => regex.is_match(&source.string(ctx, engine).await?),
            Condition::Holds(x) => x.boolean(ctx, engine).await?,
        };
        match (holds, &self.otherwise) {
            (true, _) => self.then.mediate(ctx, engine).await,
            (false, Some(otherwise)) => otherwise.mediate(ctx, engine).await,
            (false, None) => Ok(Flow::Continue),
        }
    }
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let condition = match (el.attr("source"), el.attr("regex"), el.attr("xpath")) {
        (Some(source), Some(_), None) => Condition::Matches { source: Expression::compile(source, el)?, regex: whole_match_regex(el, "regex")? },
        (None, None, Some(xpath)) => Condition::Holds(Expression::compile(xpath, el)?),
        _ => return Err(el.error("<filter> needs either source and regex, or xpath")),
    };
    let (then, otherwise) = match (el.child("then"), el.child("else")) {
        (None, None) => (b.sequence(el, None)?, None),
        (Some(t), e) => {
            if let Some(stray) = el.elements().find(|c| c.name != "then" && c.name != "else") {
                return Err(stray.error("with <then>/<else>, mediators go inside them"));
            }
            (b.sequence(t, None)?, e.map(|e| b.sequence(e, None)).transpose()?)
        }
        (None, Some(e)) => return Err(e.error("<else> without <then>")),
    };
    Ok(Box::new(Filter { condition, then, otherwise }))
}
