//! XPath expressions in mediators: compiled once with the namespaces in scope at the
//! mediator's element, evaluated over the message with Synapse's functions and variables.
//!
//! `get-property(...)`, `base64Encode`, `base64Decode`, `url-encode`; `$body`, `$header`,
//! `$ctx:name`, `$axis2:name`, `$trp:Header-Name`, `$url:param`. The message body is parsed
//! only when the expression looks at it, and a simple absolute path (`//m0:symbol`) over a
//! body nobody has parsed yet is answered straight from the bytes, stopping at the first
//! match: routing on one value should not pay for a tree.

use super::get_property::get_property;
use super::{Engine, MediationError};
use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::{MessageContext, Scope};
use crate::xml::{soap, Document, NodeId};
use crate::xpath::{self, CompileContext, FunctionCall, Host, StreamingMatcher, Value, XPath, XPathError};

/// Error code when an expression fails on a message.
pub const EXPRESSION_FAILED: u32 = 500_010;

#[derive(Debug)]
pub struct Expression {
    xpath: XPath,
    /// Whether evaluation reads the message (so the body must be parsed first).
    reads_message: bool,
    /// For `string()` and `boolean()` of a simple path, when the body is not parsed yet.
    stream: Option<StreamingMatcher>,
}

impl Expression {
    /// Compiles `text` as written on `at` (its `xmlns` declarations bind the prefixes).
    pub fn compile(text: &str, at: &Element) -> Result<Expression, ConfigError> {
        let context = CompileContext::synapse().namespaces(at.namespaces.iter().map(|(p, u)| (p.as_str(), u.as_str())));
        let xpath = xpath::compile(text, &context).map_err(|e| at.error(e.to_string()))?;
        let reads_message = !only_reads_properties(text);
        let stream = xpath.streaming_matcher();
        Ok(Expression { xpath, reads_message, stream })
    }

    pub fn source(&self) -> &str {
        self.xpath.source()
    }

    async fn prepare(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<(), MediationError> {
        if self.reads_message {
            ctx.ensure_document(&engine.limits).await?;
        }
        Ok(())
    }

    fn failed(&self, e: XPathError) -> MediationError {
        MediationError::new(EXPRESSION_FAILED, format!("evaluating '{}': {e}", self.xpath.source()))
    }

    /// Answers from the raw body when the path streams and nothing has parsed the body:
    /// `Some(first match)` (`Some(None)`: no match), or `None` to evaluate on the tree.
    async fn streamed(&self, ctx: &mut MessageContext, engine: &Engine, collect: bool) -> Result<Option<Option<String>>, MediationError> {
        let Some(matcher) = &self.stream else { return Ok(None) };
        if ctx.document().is_some() {
            return Ok(None);
        }
        let bytes = ctx.buffered_body(engine.limits.max_body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(None));
        }
        let found = if collect { matcher.first_string(&bytes, &engine.limits.xml) } else { matcher.matches(&bytes, &engine.limits.xml).map(|m| m.then(String::new)) };
        found.map(Some).map_err(|e| ctx.unreadable(&e))
    }

    /// The result as a string (XPath `string()`).
    pub async fn string(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<String, MediationError> {
        if let Some(found) = self.streamed(ctx, engine, true).await? {
            return Ok(found.unwrap_or_default());
        }
        self.prepare(ctx, engine).await?;
        with_document(ctx, |doc, root, host| self.xpath.eval_string(doc, root, &SynapseHost { ctx: host, engine })).map_err(|e| self.failed(e))
    }

    /// The result as a boolean (XPath `boolean()`).
    pub async fn boolean(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<bool, MediationError> {
        if let Some(found) = self.streamed(ctx, engine, false).await? {
            return Ok(found.is_some());
        }
        self.prepare(ctx, engine).await?;
        with_document(ctx, |doc, root, host| self.xpath.eval_bool(doc, root, &SynapseHost { ctx: host, engine })).map_err(|e| self.failed(e))
    }

    /// The result as XML text: the selected nodes serialised, or the string value.
    pub async fn xml(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<String, MediationError> {
        self.prepare(ctx, engine).await?;
        with_document(ctx, |doc, root, host| {
            Ok(match self.xpath.evaluate(doc, root, &SynapseHost { ctx: host, engine })? {
                Value::NodeSet(nodes) => nodes.iter().map(|&n| doc.serialize(n)).collect(),
                other => other.to_string(doc),
            })
        })
        .map_err(|e| self.failed(e))
    }
}

/// Whether `text` is just `get-property('…')` or `get-property('…', '…')` — by far the most
/// common expression, and one that never needs the message body parsed.
fn only_reads_properties(text: &str) -> bool {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| regex::Regex::new(r"^\s*get-property\(\s*'[^']*'\s*(,\s*'[^']*'\s*)?\)\s*$").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(text))
}

/// Runs `f` over the message's document (an empty one if the body was never parsed).
fn with_document<T>(ctx: &MessageContext, f: impl FnOnce(&Document, NodeId, &MessageContext) -> Result<T, XPathError>) -> Result<T, XPathError> {
    // Property lookups run on every message and never look at a document: one empty
    // document per worker saves building one per evaluation.
    thread_local! {
        static EMPTY: Document = Document::new();
    }
    match ctx.document() {
        Some(doc) => f(doc, doc.root(), ctx),
        None => EMPTY.with(|empty| f(empty, empty.root(), ctx)),
    }
}

/// Synapse's functions and variables over one message.
struct SynapseHost<'a> {
    ctx: &'a MessageContext,
    engine: &'a Engine,
}

impl Host for SynapseHost<'_> {
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        let ctx = self.ctx;
        let text = |v: Option<String>| Some(Value::String(v.unwrap_or_default()));
        match (prefix, name) {
            (None, "body") | (None, "header") => {
                let nodes = ctx
                    .document()
                    .and_then(soap::envelope)
                    .and_then(|e| if name == "body" { e.body } else { e.header })
                    .map(|n| vec![n])
                    .unwrap_or_default();
                Some(Value::NodeSet(nodes))
            }
            (Some("ctx"), n) => text(ctx.property(Scope::Default, n)),
            (Some("axis2"), n) => text(ctx.property(Scope::Axis2, n)),
            (Some("trp"), n) => text(ctx.property(Scope::Transport, n)),
            (Some("url"), n) => text(crate::message::query::parameter(ctx.uri.query().unwrap_or(""), n)),
            // Template parameters arrive with call-template, which is not supported yet.
            (Some("func"), _) => text(None),
            _ => None,
        }
    }

    fn function(&self, call: &FunctionCall<'_>, args: Vec<Value>) -> Option<Result<Value, XPathError>> {
        let strings: Vec<String> = args.iter().map(|a| a.to_string(call.doc)).collect();
        let first = strings.first().map(String::as_str).unwrap_or("");
        Some(Ok(Value::String(match call.name {
            "get-property" => {
                let (scope, name) = match strings.as_slice() {
                    [name] => (None, name.as_str()),
                    [scope, name, ..] => (Some(scope.as_str()), name.as_str()),
                    [] => (None, ""),
                };
                get_property(self.ctx, &self.engine.deployment, scope, name).unwrap_or_default()
            }
            "base64Encode" => xpath::ext::base64_encode(first),
            "base64Decode" => xpath::ext::base64_decode(first),
            "url-encode" => xpath::ext::url_encode(first),
            _ => return None,
        })))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn property_lookups_do_not_need_the_body() {
        assert!(super::only_reads_properties("get-property('To')"));
        assert!(super::only_reads_properties(" get-property( 'transport' , 'SOAPAction' ) "));
        assert!(!super::only_reads_properties("get-property('To') = //m0:symbol"));
        assert!(!super::only_reads_properties("symbol"));
    }

}
