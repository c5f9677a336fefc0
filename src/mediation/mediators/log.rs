//! `<log>`: write a line about the message — `simple` (addressing facts), `headers`
//! (plus the transport headers), `full` (plus the whole message) or `custom` (only the
//! listed properties) — at the `category` level, joined by `separator`.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::text::Text;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{Direction, MessageContext};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Simple,
    Headers,
    Full,
    Custom,
}

#[derive(Debug)]
pub struct Log {
    level: Level,
    category: log::Level,
    separator: String,
    properties: Vec<(String, Text)>,
}

/// Where the lines go (`RUST_LOG=mediate::log=debug` and the like).
const TARGET: &str = "mediate::log";

#[async_trait(?Send)]
impl Mediator for Log {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        if !log::log_enabled!(target: TARGET, self.category) {
            return Ok(Flow::Continue);
        }
        let mut parts: Vec<String> = Vec::new();
        if self.level != Level::Custom {
            let a = &ctx.addressing;
            let mut fact = |name: &str, v: Option<&String>| {
                if let Some(v) = v {
                    parts.push(format!("{name}: {v}"));
                }
            };
            fact("To", ctx.to.as_ref());
            fact("From", a.from.as_ref());
            fact("WSAction", a.action.as_ref());
            fact("SOAPAction", ctx.soap_action.as_ref());
            fact("ReplyTo", a.reply_to.as_ref());
            fact("MessageID", a.message_id.as_ref());
            parts.push(format!("Direction: {}", if ctx.direction == Direction::In { "request" } else { "response" }));
        }
        if self.level == Level::Headers {
            for (name, value) in ctx.headers.iter() {
                parts.push(format!("{}: {}", name, String::from_utf8_lossy(value.as_bytes())));
            }
        }
        for (name, text) in &self.properties {
            parts.push(format!("{name} = {}", text.string(ctx, engine).await?));
        }
        if self.level == Level::Full {
            parts.push(format!("Envelope: {}", ctx.message_text(engine.limits.max_body).await?));
        }
        log::log!(target: TARGET, self.category, "{}", parts.join(&self.separator));
        Ok(Flow::Continue)
    }
}

pub fn build(el: &Element, _: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    let level = match el.attr("level").unwrap_or("simple") {
        "simple" => Level::Simple,
        "headers" => Level::Headers,
        "full" => Level::Full,
        "custom" => Level::Custom,
        other => return Err(el.error(format!("level '{other}' is not one of simple, headers, full, custom"))),
    };
    let category = match el.attr("category").unwrap_or("INFO").to_ascii_uppercase().as_str() {
        "TRACE" => log::Level::Trace,
        "DEBUG" => log::Level::Debug,
        "INFO" => log::Level::Info,
        "WARN" => log::Level::Warn,
        "ERROR" | "FATAL" => log::Level::Error,
        other => return Err(el.error(format!("category '{other}' is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL"))),
    };
    let separator = el.attr("separator").map(unescape_separator).unwrap_or_else(|| ", ".to_string());
    let mut properties = Vec::new();
    for p in el.elements() {
        match p.name.as_str() {
            "property" => {
                let name = p.required_attr("name")?.to_string();
                let text = Text::from_attrs(p, "value", "expression", true)?.ok_or_else(|| p.error("<property> needs a value"))?;
                properties.push((name, text));
            }
            "description" => {}
            other => return Err(p.error(format!("<log> holds <property> elements, not <{other}>"))),
        }
    }
    Ok(Box::new(Log { level, category, separator, properties }))
}

/// Synapse users write `\n` and `\t` in separators.
fn unescape_separator(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t")
}
