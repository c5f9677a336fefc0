//! Properties that mediators set and read, by scope.
//!
//! Synapse keeps them in scopes: `default` (the message's own, `$ctx:`), `axis2` (controls
//! for the transport such as `HTTP_SC`, `$axis2:`), and `transport` (the HTTP headers, kept
//! in the context's header map). Values are typed as the property mediator's `type` says.

use std::collections::HashMap;
use std::fmt;

/// A property scope as written in `scope="…"` or `get-property('scope', …)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Default,
    Axis2,
    Transport,
}

impl Scope {
    /// `axis2-client` is Axis2's client-side twin of `axis2`; one map serves both here.
    pub fn parse(name: &str) -> Option<Scope> {
        match name {
            "default" => Some(Scope::Default),
            "axis2" | "axis2-client" => Some(Scope::Axis2),
            "transport" => Some(Scope::Transport),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Long(i64),
    Double(f64),
    Boolean(bool),
    /// An XML fragment (type OM), kept as text.
    Xml(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) | Value::Xml(s) => f.write_str(s),
            Value::Integer(n) | Value::Long(n) => write!(f, "{n}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Boolean(b) => write!(f, "{b}"),
        }
    }
}

impl Value {
    /// Whether the value counts as true for flags such as `OUT_ONLY`.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Boolean(b) => *b,
            other => other.to_string().trim().eq_ignore_ascii_case("true"),
        }
    }
}

/// Properties that steer the HTTP transport, by their Synapse names.
pub mod controls {
    /// axis2 scope: the HTTP status of the answer to the client.
    pub const HTTP_SC: &str = "HTTP_SC";
    /// axis2 scope: answer the client 202 at once and deliver in the background.
    pub const FORCE_SC_ACCEPTED: &str = "FORCE_SC_ACCEPTED";
    /// default scope: no response is expected from the backend.
    pub const OUT_ONLY: &str = "OUT_ONLY";
    /// default scope: this message is a response (`<send/>` returns it to the client).
    pub const RESPONSE: &str = "RESPONSE";
    /// axis2 scope: the content type of the outgoing message.
    pub const MESSAGE_TYPE: &str = "messageType";
    pub const CONTENT_TYPE: &str = "ContentType";
    /// axis2 scope: appended to the endpoint's URL.
    pub const REST_URL_POSTFIX: &str = "REST_URL_POSTFIX";
    /// axis2 scope: send no body.
    pub const NO_ENTITY_BODY: &str = "NO_ENTITY_BODY";
    /// axis2 scope: relay a backend's non-XML 5xx page as it is, instead of a SOAP fault.
    pub const RELAY_ERROR_RESPONSES: &str = "RELAY_ERROR_RESPONSES";
}

pub const ERROR_CODE: &str = "ERROR_CODE";
pub const ERROR_MESSAGE: &str = "ERROR_MESSAGE";
pub const ERROR_DETAIL: &str = "ERROR_DETAIL";
/// The HTTP status the default fault should carry (set with the error, when not 500).
pub const ERROR_HTTP_STATUS: &str = "ERROR_HTTP_STATUS";

#[derive(Debug, Clone, Default)]
pub struct Properties {
    default: HashMap<String, Value>,
    axis2: HashMap<String, Value>,
}

impl Properties {
    fn map(&self, scope: Scope) -> Option<&HashMap<String, Value>> {
        match scope {
            Scope::Default => Some(&self.default),
            Scope::Axis2 => Some(&self.axis2),
            Scope::Transport => None,
        }
    }

    fn map_mut(&mut self, scope: Scope) -> Option<&mut HashMap<String, Value>> {
        match scope {
            Scope::Default => Some(&mut self.default),
            Scope::Axis2 => Some(&mut self.axis2),
            Scope::Transport => None,
        }
    }

    /// A default- or axis2-scope property (transport properties are the headers).
    pub fn get(&self, scope: Scope, name: &str) -> Option<&Value> {
        self.map(scope)?.get(name)
    }

    pub fn set(&mut self, scope: Scope, name: impl Into<String>, value: Value) {
        if let Some(m) = self.map_mut(scope) {
            m.insert(name.into(), value);
        }
    }

    pub fn remove(&mut self, scope: Scope, name: &str) {
        if let Some(m) = self.map_mut(scope) {
            m.remove(name);
        }
    }

    /// Whether a flag property is set to true in a scope.
    pub fn flag(&self, scope: Scope, name: &str) -> bool {
        self.get(scope, name).is_some_and(Value::is_true)
    }

    /// Records an error for the fault handler.
    pub fn set_error(&mut self, code: u32, message: &str, detail: Option<&str>) {
        self.set(Scope::Default, ERROR_CODE, Value::String(code.to_string()));
        self.set(Scope::Default, ERROR_MESSAGE, Value::String(message.to_string()));
        match detail {
            Some(d) => self.set(Scope::Default, ERROR_DETAIL, Value::String(d.to_string())),
            None => self.remove(Scope::Default, ERROR_DETAIL),
        }
        self.remove(Scope::Default, ERROR_HTTP_STATUS);
    }

    /// The recorded error, if any: its code and message.
    pub fn error(&self) -> Option<(u32, String)> {
        let code = self.get(Scope::Default, ERROR_CODE)?.to_string().parse().ok()?;
        let message = self.get(Scope::Default, ERROR_MESSAGE).map(Value::to_string).unwrap_or_default();
        Some((code, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_separate_and_errors_round_trip() {
        let mut p = Properties::default();
        p.set(Scope::Default, "a", Value::String("1".into()));
        p.set(Scope::Axis2, "a", Value::Integer(2));
        assert_eq!(p.get(Scope::Default, "a").unwrap().to_string(), "1");
        assert_eq!(p.get(Scope::Axis2, "a"), Some(&Value::Integer(2)));
        assert!(p.get(Scope::Transport, "a").is_none());
        p.set(Scope::Axis2, "FORCE_SC_ACCEPTED", Value::String("TRUE".into()));
        assert!(p.flag(Scope::Axis2, "FORCE_SC_ACCEPTED"));
        p.set_error(101503, "refused", None);
        assert_eq!(p.error(), Some((101503, "refused".into())));
        assert_eq!(Scope::parse("axis2-client"), Some(Scope::Axis2));
    }
}
