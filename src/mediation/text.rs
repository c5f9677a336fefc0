//! The two ways a mediator attribute gives a string — a literal (`value="…"`) or an XPath
//! (`expression="…"`) — and Synapse's regular expressions, which must match the whole
//! string (Java's `matches()`), not just a part of it.

use regex::Regex;

use super::expression::Expression;
use super::{Engine, MediationError};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::MessageContext;

#[derive(Debug)]
pub enum Text {
    Literal(String),
    Expression(Expression),
}

impl Text {
    /// Reads `value`/`expression` (with these attribute names) from `el`: exactly one of
    /// them must be there when `required`.
    pub fn from_attrs(el: &Element, value_attr: &str, expr_attr: &str, required: bool) -> Result<Option<Text>, ConfigError> {
        match (el.attr(value_attr), el.attr(expr_attr)) {
            (Some(_), Some(_)) => Err(el.error(format!("<{}> takes either '{value_attr}' or '{expr_attr}', not both", el.name))),
            (Some(v), None) => Ok(Some(Text::Literal(v.to_string()))),
            (None, Some(x)) => Ok(Some(Text::Expression(Expression::compile(x, el)?))),
            (None, None) if required => Err(el.error(format!("<{}> needs a '{value_attr}' or an '{expr_attr}'", el.name))),
            (None, None) => Ok(None),
        }
    }

    pub async fn string(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<String, MediationError> {
        match self {
            Text::Literal(s) => Ok(s.clone()),
            Text::Expression(x) => x.string(ctx, engine).await,
        }
    }
}

/// A Synapse `regex` attribute, compiled to match whole strings only.
pub fn whole_match_regex(el: &Element, attr: &str) -> Result<Regex, ConfigError> {
    let pattern = el.required_attr(attr)?;
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| el.error(format!("{attr} '{pattern}' is not a valid regular expression: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_match_whole_strings() {
        let el = crate::config::xml::parse_bytes(std::path::Path::new("t"), b"<f regex=\".*/StockQuote.*\" bad=\"(\"/>").unwrap();
        let re = whole_match_regex(&el, "regex").unwrap();
        assert!(re.is_match("http://localhost:8280/services/StockQuote"));
        let ibm = Regex::new("^(?:IBM)$").unwrap();
        assert!(ibm.is_match("IBM") && !ibm.is_match("IBMX"));
        assert!(whole_match_regex(&el, "bad").is_err());
    }
}
