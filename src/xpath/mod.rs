//! XPath 1.0 over [`crate::xml::Document`]: compiled once at configuration load, evaluated
//! per message.
//!
//! [`compile`] checks an expression against a [`CompileContext`] (namespace prefixes, the
//! host's extension functions and variables), so that every unknown name is a load-time
//! error. [`XPath::evaluate`] runs it over a document from a context node; message data only
//! ever enters as node values or as [`Value`]s returned by the [`Host`], never as
//! expression text. The whole Recommendation is implemented (all axes, node tests, core
//! functions, comparison rules); the evaluator streams location paths where document order
//! allows and stops early for existence tests, first-node string values and comparisons.

mod ast;
mod compile;
mod eval;
pub mod ext;
mod functions;
mod lexer;
mod stream;

#[cfg(test)]
mod tests;

use crate::xml::{Document, NodeId};

pub use functions::{number_to_string, string_to_number};
pub use stream::StreamingMatcher;

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XPathError {
    #[error("XPath syntax error in '{expr}' at character {position}: {message}")]
    Syntax { expr: String, position: usize, message: String },
    #[error("XPath '{expr}' uses the namespace prefix '{prefix}', which is not declared")]
    UnknownPrefix { expr: String, prefix: String },
    #[error("XPath '{expr}' calls the unknown function '{name}()'")]
    UnknownFunction { expr: String, name: String },
    #[error("XPath '{expr}': {name}() takes {expected} argument(s), not {got}")]
    Arity { expr: String, name: String, expected: String, got: usize },
    #[error("unknown XPath variable '${name}'")]
    UnknownVariable { name: String },
    #[error("XPath type error: {message}")]
    Type { message: String },
    #[error("XPath function {name}() failed: {message}")]
    Function { name: String, message: String },
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nodes in document order, without duplicates.
    NodeSet(Vec<NodeId>),
    Boolean(bool),
    Number(f64),
    String(String),
}

impl Value {
    /// XPath `boolean()`.
    pub fn to_boolean(&self) -> bool {
        match self {
            Value::NodeSet(n) => !n.is_empty(),
            Value::Boolean(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
        }
    }

    /// XPath `number()`.
    pub fn to_number(&self, doc: &Document) -> f64 {
        match self {
            Value::NodeSet(n) => n.first().map_or(f64::NAN, |&f| string_to_number(&doc.string_value(f))),
            Value::Boolean(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => string_to_number(s),
        }
    }

    /// XPath `string()`: for a node-set, the string-value of its first node.
    pub fn to_string(&self, doc: &Document) -> String {
        match self {
            Value::NodeSet(n) => n.first().map_or_else(String::new, |&f| doc.string_value(f).into_owned()),
            Value::Boolean(b) => if *b { "true" } else { "false" }.to_string(),
            Value::Number(n) => number_to_string(*n),
            Value::String(s) => s.clone(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::NodeSet(_) => "node-set",
            Value::Boolean(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
        }
    }
}

/// An extension function call as the host sees it.
pub struct FunctionCall<'a> {
    /// The prefix as written, if any.
    pub prefix: Option<&'a str>,
    /// The namespace the prefix is bound to (`None` for unprefixed and host-reserved
    /// prefixes).
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub doc: &'a Document,
    pub context: NodeId,
}

/// What the embedding application provides during evaluation.
pub trait Host {
    /// The value of `$prefix:name` (or `$name`); `None` if there is no such variable.
    /// Node-sets must hold nodes of the document being evaluated.
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        let _ = (prefix, name);
        None
    }

    /// Calls an extension function declared in the [`CompileContext`]; `None` if the host
    /// does not provide it after all.
    fn function(&self, call: &FunctionCall<'_>, args: Vec<Value>) -> Option<Result<Value, XPathError>> {
        let _ = (call, args);
        None
    }
}

/// A host without variables or functions.
pub struct NoHost;

impl Host for NoHost {}

impl Host for () {}

/// An extension function the host provides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDecl {
    pub namespace: Option<String>,
    pub name: String,
    pub min_args: usize,
    /// `None`: any number.
    pub max_args: Option<usize>,
}

/// What an expression may refer to: prefixes (from the configuration element's in-scope
/// `xmlns`), and the host's functions and variables.
#[derive(Clone, Debug, Default)]
pub struct CompileContext {
    pub(crate) namespaces: Vec<(String, String)>,
    pub(crate) functions: Vec<FunctionDecl>,
    pub(crate) variables: Vec<(Option<String>, String)>,
    pub(crate) variable_prefixes: Vec<String>,
}

impl CompileContext {
    pub fn new() -> CompileContext {
        CompileContext::default()
    }

    /// Binds `prefix` to `uri` for name tests (a later binding of the same prefix wins).
    /// The default namespace (`""`) is accepted and ignored: XPath 1.0 names without a
    /// prefix are in no namespace.
    pub fn namespace(mut self, prefix: &str, uri: &str) -> CompileContext {
        if !prefix.is_empty() {
            self.namespaces.push((prefix.to_string(), uri.to_string()));
        }
        self
    }

    /// Binds every `(prefix, uri)` pair, e.g. an element's in-scope namespaces.
    pub fn namespaces<I, P, U>(mut self, bindings: I) -> CompileContext
    where
        I: IntoIterator<Item = (P, U)>,
        P: AsRef<str>,
        U: AsRef<str>,
    {
        for (p, u) in bindings {
            self = self.namespace(p.as_ref(), u.as_ref());
        }
        self
    }

    /// Declares an unprefixed extension function with its argument count range.
    pub fn function(mut self, name: &str, min_args: usize, max_args: Option<usize>) -> CompileContext {
        self.functions.push(FunctionDecl { namespace: None, name: name.to_string(), min_args, max_args });
        self
    }

    /// Declares an extension function in a namespace (called as `prefix:name(…)`).
    pub fn function_ns(mut self, namespace: &str, name: &str, min_args: usize, max_args: Option<usize>) -> CompileContext {
        self.functions.push(FunctionDecl { namespace: Some(namespace.to_string()), name: name.to_string(), min_args, max_args });
        self
    }

    /// Declares a variable, `name` or `prefix:name`.
    pub fn variable(mut self, name: &str) -> CompileContext {
        let v = match name.split_once(':') {
            Some((p, l)) => (Some(p.to_string()), l.to_string()),
            None => (None, name.to_string()),
        };
        self.variables.push(v);
        self
    }

    /// Reserves a variable prefix: `$prefix:anything` is accepted without an `xmlns`
    /// declaration and passed to the host as written.
    pub fn variable_prefix(mut self, prefix: &str) -> CompileContext {
        self.variable_prefixes.push(prefix.to_string());
        self
    }

    /// What Synapse offers: `get-property(name)` / `get-property(scope, name)`,
    /// `base64Encode`, `base64Decode`, `url-encode` (each with an optional charset), the
    /// variables `$body` and `$header`, and the reserved prefixes `ctx`, `axis2`, `trp`,
    /// `url` and `func`. The host must answer all of them.
    pub fn synapse() -> CompileContext {
        let mut c = CompileContext::new()
            .function("get-property", 1, Some(2))
            .function("base64Encode", 1, Some(2))
            .function("base64Decode", 1, Some(2))
            .function("url-encode", 1, Some(2))
            .variable("body")
            .variable("header");
        for p in ["ctx", "axis2", "trp", "url", "func"] {
            c = c.variable_prefix(p);
        }
        c
    }
}

/// A compiled XPath expression. Cheap to share: evaluation takes `&self`.
#[derive(Clone, Debug)]
pub struct XPath {
    source: String,
    pub(crate) expr: ast::Expr,
    pub(crate) names: Vec<(String, String)>,
    pub(crate) spaces: Vec<String>,
}

/// Compiles `expr`; every prefix, function and variable must be known to `ctx`.
pub fn compile(expr: &str, ctx: &CompileContext) -> Result<XPath, XPathError> {
    let c = compile::compile(expr, ctx)?;
    Ok(XPath { source: expr.to_string(), expr: c.expr, names: c.names, spaces: c.spaces })
}

impl XPath {
    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates with `context` as the context node (position and size 1).
    pub fn evaluate(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<Value, XPathError> {
        eval::Eval::new(self, doc, host)?.value_top(&self.expr, context)
    }

    /// The result converted with `string()`; for a path, the first node's string-value
    /// without building the node-set.
    pub fn eval_string(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<String, XPathError> {
        eval::Eval::new(self, doc, host)?.string_top(&self.expr, context)
    }

    /// The result converted with `boolean()`; a path stops at its first node.
    pub fn eval_bool(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<bool, XPathError> {
        eval::Eval::new(self, doc, host)?.boolean_top(&self.expr, context)
    }

    /// The result converted with `number()`.
    pub fn eval_number(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<f64, XPathError> {
        eval::Eval::new(self, doc, host)?.number_top(&self.expr, context)
    }

    /// The node-set result in document order; a type error if the result is not a
    /// node-set.
    pub fn eval_nodes(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<Vec<NodeId>, XPathError> {
        eval::Eval::new(self, doc, host)?.nodes_top(&self.expr, context)
    }

    /// The first node of the node-set result in document order, if any.
    pub fn eval_first(&self, doc: &Document, context: NodeId, host: &dyn Host) -> Result<Option<NodeId>, XPathError> {
        eval::Eval::new(self, doc, host)?.first_top(&self.expr, context)
    }
}
