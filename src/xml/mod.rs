//! Message XML: documents held as an arena of nodes, parsed with quick-xml under limits.
//!
//! Mediators read and rewrite SOAP payloads through [`Document`]; [`crate::xpath`] evaluates
//! over it. Nodes live in one `Vec` and are addressed by the copyable [`NodeId`]; names and
//! namespace URIs are interned per document so that name tests compare integers. Parsing
//! refuses DTDs and enforces [`Limits`] as it reads, so a hostile message costs bounded time
//! and memory. Serialisation reproduces unchanged input and stays namespace-correct after
//! any mutation.

pub(crate) mod atoms;
mod mutate;
pub(crate) mod parse;
mod serialize;
pub mod soap;
pub(crate) mod tree;

#[cfg(test)]
mod tests;

use std::fmt;

pub use parse::{parse, Limits};
pub use tree::{Attributes, Children, Descendants, Document, Name, NodeId, NodeKind};

/// The XML namespace, bound to the prefix `xml` by definition.
pub const XML_NAMESPACE: &str = atoms::XML_NS;

/// Where in the input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset from the start of the input (after any byte-order mark).
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a message could not be parsed. Every variant is the client's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The message carries a document type declaration; DTDs are never processed.
    #[error("DOCTYPE is not allowed: messages may not carry a document type declaration")]
    Doctype,
    /// A configured limit was exceeded.
    #[error("XML limit exceeded: {what} is limited to {limit}")]
    Limit { what: &'static str, limit: usize },
    /// Not well-formed (or not namespace-well-formed) XML.
    #[error("malformed XML at {position}: {message}")]
    Malformed { message: String, position: Position },
    /// A character encoding other than UTF-8 was declared or detected.
    #[error("unsupported character encoding '{encoding}': only UTF-8 (or its US-ASCII subset) is accepted")]
    Encoding { encoding: String },
}

/// Misuse of the mutation API (a programming or configuration error, not a message fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("only the document and elements can have children")]
    NotAContainer,
    #[error("a {0:?} node cannot be placed here")]
    WrongKind(NodeKind),
    #[error("a node cannot be moved inside itself")]
    Cycle,
    #[error("the reference node has no parent")]
    NoParent,
    #[error("a document has at most one root element")]
    SecondRoot,
    #[error("text cannot be placed directly in the document")]
    TextInDocument,
    #[error("'{0}' is not a valid XML name")]
    InvalidName(String),
    #[error("a prefixed name needs a namespace")]
    PrefixWithoutNamespace,
    #[error("{0}")]
    InvalidContent(&'static str),
    #[error("the node does not belong to this document")]
    UnknownNode,
}
