//! `<property>`: set or remove a property in a scope (default, axis2, transport = HTTP
//! headers), from a literal or an XPath, typed, optionally through a regex `pattern`/`group`.

use async_trait::async_trait;
use regex::Regex;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::text::Text;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{MessageContext, Scope, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Type {
    String,
    Integer,
    Long,
    Double,
    Boolean,
    Om,
}

/// What `action="set"` sets.
#[derive(Debug)]
struct Set {
    source: Text,
    kind: Type,
    pattern: Option<(Regex, usize)>,
}

#[derive(Debug)]
pub struct Property {
    name: String,
    scope: Scope,
    /// `None` for `action="remove"`.
    set: Option<Set>,
}

/// Error code for a value that does not fit the property's type.
const BAD_VALUE: u32 = 500_000;

#[async_trait(?Send)]
impl Mediator for Property {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let Set { source, kind, pattern } = match &self.set {
            None => {
                match self.scope {
                    Scope::Transport => {
                        ctx.headers.remove(self.name.as_str());
                    }
                    scope => ctx.properties.remove(scope, &self.name),
                }
                return Ok(Flow::Continue);
            }
            Some(set) => set,
        };
        let kind = *kind;
        let mut text = match (kind, source) {
            (Type::Om, Text::Expression(x)) => x.xml(ctx, engine).await?,
            (_, s) => s.string(ctx, engine).await?,
        };
        if let Some((re, group)) = pattern {
            text = re.captures(&text).and_then(|c| c.get(*group)).map(|m| m.as_str().to_string()).unwrap_or_default();
        }
        let bad = |what: &str| MediationError::new(BAD_VALUE, format!("property '{}': '{text}' is not a valid {what}", self.name));
        let value = match kind {
            Type::String => Value::String(text.clone()),
            Type::Om => Value::Xml(text.clone()),
            Type::Integer => Value::Integer(text.trim().parse::<i32>().map_err(|_| bad("INTEGER"))?.into()),
            Type::Long => Value::Long(text.trim().parse().map_err(|_| bad("LONG"))?),
            Type::Double => Value::Double(text.trim().parse().map_err(|_| bad("DOUBLE"))?),
            Type::Boolean => Value::Boolean(text.trim().eq_ignore_ascii_case("true")),
        };
        match self.scope {
            Scope::Transport => {
                let name = actix_web::http::header::HeaderName::from_bytes(self.name.as_bytes())
                    .map_err(|_| MediationError::new(BAD_VALUE, format!("'{}' is not a valid HTTP header name", self.name)))?;
                let value = actix_web::http::header::HeaderValue::from_str(&value.to_string()).map_err(|_| bad("HTTP header value"))?;
                ctx.headers.insert(name, value);
            }
            scope => ctx.properties.set(scope, self.name.clone(), value),
        }
        Ok(Flow::Continue)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let name = el.required_attr("name")?.to_string();
    if crate::security::peer::is_certificate_property(&name) {
        return Err(el.error(format!("'{name}' describes the client certificate and cannot be set or removed")));
    }
    let scope_name = el.attr("scope").unwrap_or("default");
    let scope = Scope::parse(scope_name)
        .ok_or_else(|| el.error(format!("scope '{scope_name}' is not supported (default, transport, axis2, axis2-client)")))?;
    let set = match el.attr("action").unwrap_or("set") {
        "remove" => None,
        "set" => {
            let kind = match el.attr("type").unwrap_or("STRING").to_ascii_uppercase().as_str() {
                "STRING" => Type::String,
                "INTEGER" => Type::Integer,
                "LONG" => Type::Long,
                "DOUBLE" | "FLOAT" => Type::Double,
                "BOOLEAN" => Type::Boolean,
                "OM" => Type::Om,
                other => return Err(el.error(format!("type '{other}' is not supported (STRING, INTEGER, LONG, DOUBLE, BOOLEAN, OM)"))),
            };
            let source = match Text::from_attrs(el, "value", "expression", false)? {
                Some(s) => s,
                None => match el.elements().next() {
                    // an inline XML value (type OM)
                    Some(inline) => Text::Literal(inline.to_xml()),
                    None => return Err(el.error("<property> needs a 'value', an 'expression' or an inline XML value")),
                },
            };
            let pattern = match el.attr("pattern") {
                Some(p) => {
                    let re = Regex::new(p).map_err(|e| el.error(format!("pattern '{p}' is not a valid regular expression: {e}")))?;
                    let group = el.attr("group").unwrap_or("0");
                    let group: usize = group.parse().map_err(|_| el.error(format!("group '{group}' is not a number")))?;
                    if group >= re.captures_len() {
                        return Err(el.error(format!("pattern '{p}' has no group {group}")));
                    }
                    Some((re, group))
                }
                None => None,
            };
            if kind == Type::Om && matches!(source, Text::Expression(_)) && pattern.is_some() {
                return Err(el.error("a pattern cannot apply to an OM value"));
            }
            Some(Set { source, kind, pattern })
        }
        other => return Err(el.error(format!("action '{other}' is not supported (set, remove)"))),
    };
    Ok(Box::new(Property { name, scope, set }))
}
