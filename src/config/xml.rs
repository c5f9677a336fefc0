//! A small element tree with source positions, for configuration files only.
//!
//! Loading is two-staged: this module turns a file into [`Element`]s that remember their
//! line, column and in-scope namespaces; the builders (`axis2`, `synapse`) then walk the
//! tree and report problems at the exact element. Message payloads never come through
//! here: they have their own parser on the request path.
//!
//! DTDs are refused outright: configuration needs no entities, and refusing them rules out
//! external-entity and expansion tricks in files a less trusted person may have edited.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::{ConfigError, Origin, Pos};

/// The XML namespace, bound to `xml:` by definition.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The deepest element nesting a configuration file may have. Real files stay far below it;
/// the tree and everything that walks it (building, serialising, dropping) recurse per level,
/// so an unbounded depth would overflow the stack.
pub const MAX_DEPTH: usize = 256;

/// Prefix → namespace bindings in scope at an element (`""` is the default namespace).
pub type Namespaces = Arc<Vec<(String, String)>>;

/// An attribute as written (qualified name) with its unescaped value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local name (without prefix).
    pub name: String,
    /// The prefix as written, if any (kept to re-serialise inline XML faithfully).
    pub prefix: Option<String>,
    /// The resolved namespace URI of the element name.
    pub namespace: Option<String>,
    /// Attributes other than namespace declarations.
    pub attributes: Vec<Attribute>,
    /// Namespace declarations written on this element.
    pub declared: Vec<(String, String)>,
    /// All bindings in scope here, including inherited ones.
    pub namespaces: Namespaces,
    pub children: Vec<Node>,
    pub origin: Origin,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.name == name).map(|a| a.value.as_str())
    }

    /// The attribute's value, or an error naming this element when it is missing or blank.
    pub fn required_attr(&self, name: &str) -> Result<&str, ConfigError> {
        match self.attr(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.error(format!("<{}> needs a non-empty '{}' attribute", self.name, name))),
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// Concatenated text content of this element's direct text children, trimmed.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s.trim().to_string()
    }

    /// Resolves a `prefix:local` QName (e.g. from an XPath or an attribute value) against
    /// the namespaces in scope here.
    pub fn resolve_prefix(&self, prefix: &str) -> Option<&str> {
        self.namespaces.iter().rev().find(|(p, _)| p == prefix).map(|(_, u)| u.as_str())
    }

    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        self.origin.error(message)
    }

    /// This element as XML text that stands on its own: the namespaces its subtree uses
    /// are declared on it (payload formats and local entries are used this way), other
    /// declarations of its ancestors are left out.
    pub fn to_xml(&self) -> String {
        let mut used = Vec::new();
        self.used_prefixes(&mut used);
        let mut out = String::new();
        self.write_xml(&mut out, Some(&used));
        out
    }

    /// Prefixes used by element and attribute names in this subtree (`""` for unprefixed
    /// elements in a default namespace).
    fn used_prefixes(&self, out: &mut Vec<String>) {
        let p = self.prefix.clone().unwrap_or_default();
        if (!p.is_empty() || self.namespace.is_some()) && !out.contains(&p) {
            out.push(p);
        }
        for a in &self.attributes {
            if let Some((p, _)) = a.name.split_once(':') {
                if p != "xml" && !out.iter().any(|u| u == p) {
                    out.push(p.to_string());
                }
            }
        }
        for c in self.elements() {
            c.used_prefixes(out);
        }
    }

    /// Writes the element; on the outermost one, `inherited` lists the prefixes to declare
    /// from the scope outside it.
    fn write_xml(&self, out: &mut String, inherited: Option<&[String]>) {
        use quick_xml::escape::escape;
        let qname = match &self.prefix {
            Some(p) => format!("{p}:{}", self.name),
            None => self.name.clone(),
        };
        out.push('<');
        out.push_str(&qname);
        let declare = |out: &mut String, p: &str, u: &str| {
            if p.is_empty() {
                out.push_str(&format!(" xmlns=\"{}\"", escape(u)));
            } else {
                out.push_str(&format!(" xmlns:{p}=\"{}\"", escape(u)));
            }
        };
        for (p, u) in &self.declared {
            declare(out, p, u);
        }
        for p in inherited.unwrap_or(&[]) {
            if !self.declared.iter().any(|(d, _)| d == p) {
                if let Some(u) = self.resolve_prefix(p).filter(|u| !u.is_empty()) {
                    declare(out, p, u);
                }
            }
        }
        for a in &self.attributes {
            out.push_str(&format!(" {}=\"{}\"", a.name, escape(a.value.as_str())));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_xml(out, None),
                Node::Text(t) => out.push_str(&escape(t.as_str())),
            }
        }
        out.push_str("</");
        out.push_str(&qname);
        out.push('>');
    }
}

/// Parses a whole file into its root element.
pub fn parse_file(path: &Path) -> Result<Element, ConfigError> {
    let text = std::fs::read(path)
        .map_err(|e| ConfigError::in_file(path, format!("cannot read file: {e}")))?;
    parse_bytes(path, &text)
}

/// Parses `text` as the content of `path` (the path is used for positions only).
pub fn parse_bytes(path: &Path, text: &[u8]) -> Result<Element, ConfigError> {
    Parser::new(path, text).run()
}

struct Parser<'a> {
    path: Arc<Path>,
    text: &'a [u8],
    line_starts: Vec<usize>,
    /// The last column computed: (offset, column). Columns are counted from there when the
    /// next offset is further on the same line, so that a long line costs linear time.
    last_column: Cell<(usize, usize)>,
}

impl<'a> Parser<'a> {
    fn new(path: &Path, text: &'a [u8]) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        Parser { path: Arc::from(path), text, line_starts, last_column: Cell::new((0, 1)) }
    }

    fn origin(&self, offset: usize) -> Origin {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let offset = offset.min(self.text.len());
        // A byte that is not a UTF-8 continuation byte starts a character (or an invalid
        // sequence) however the text before it decodes, so counting may resume there.
        let boundary = |at: usize| self.text.get(at).is_none_or(|b| b & 0xC0 != 0x80);
        let (from, base) = match self.last_column.get() {
            (at, col) if at >= start && at <= offset && boundary(at) => (at, col),
            _ => (start, 1),
        };
        let col = base + String::from_utf8_lossy(&self.text[from..offset]).chars().count();
        if boundary(offset) {
            self.last_column.set((offset, col));
        }
        Origin { path: self.path.clone(), pos: Pos { line: line as u32, col: col as u32 } }
    }

    fn run(self) -> Result<Element, ConfigError> {
        let mut reader = Reader::from_reader(self.text);
        reader.config_mut().check_end_names = true;
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let root_scope: Namespaces = Arc::new(vec![("xml".to_string(), XML_NS.to_string())]);
        loop {
            let offset = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| {
                self.origin(reader.error_position() as usize).error(format!("malformed XML: {e}"))
            })?;
            match event {
                Event::Start(start) | Event::Empty(start) if root.is_some() => {
                    let _ = start;
                    return Err(self.origin(offset).error("content after the root element"));
                }
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(self.origin(offset).error(format!("elements are nested deeper than {MAX_DEPTH} levels")));
                    }
                    let scope = stack.last().map(|p| p.namespaces.clone()).unwrap_or_else(|| root_scope.clone());
                    stack.push(self.element(&start, scope, offset)?);
                }
                Event::Empty(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(self.origin(offset).error(format!("elements are nested deeper than {MAX_DEPTH} levels")));
                    }
                    let scope = stack.last().map(|p| p.namespaces.clone()).unwrap_or_else(|| root_scope.clone());
                    let el = self.element(&start, scope, offset)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                }
                Event::End(_) => {
                    // check_end_names guarantees a matching start exists
                    if let Some(el) = stack.pop() {
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(Node::Element(el)),
                            None => root = Some(el),
                        }
                    }
                }
                Event::Text(t) => {
                    let s = t.xml10_content().map_err(|e| self.origin(offset).error(format!("bad text: {e}")))?;
                    self.push_text(&mut stack, &s, offset)?;
                }
                Event::CData(c) => {
                    let s = c.decode().map_err(|e| self.origin(offset).error(format!("bad CDATA: {e}")))?;
                    self.push_text(&mut stack, &s, offset)?;
                }
                Event::GeneralRef(r) => {
                    let s = self.entity(&r, offset)?;
                    self.push_text(&mut stack, &s, offset)?;
                }
                Event::DocType(_) => {
                    return Err(self.origin(offset).error("DOCTYPE is not allowed in configuration files"));
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(open) = stack.last() {
            return Err(open.error(format!("<{}> is never closed", open.name)));
        }
        root.ok_or_else(|| Origin::file(&self.path).error("the file has no root element"))
    }

    fn push_text(&self, stack: &mut [Element], s: &str, offset: usize) -> Result<(), ConfigError> {
        match stack.last_mut() {
            Some(parent) => {
                if let Some(Node::Text(prev)) = parent.children.last_mut() {
                    prev.push_str(s);
                } else {
                    parent.children.push(Node::Text(s.to_string()));
                }
                Ok(())
            }
            None if s.trim().is_empty() => Ok(()),
            None => Err(self.origin(offset).error("text outside the root element")),
        }
    }

    fn entity(&self, r: &quick_xml::events::BytesRef<'_>, offset: usize) -> Result<String, ConfigError> {
        if r.is_char_ref() {
            return match r.resolve_char_ref() {
                Ok(Some(c)) => Ok(c.to_string()),
                _ => Err(self.origin(offset).error("invalid character reference")),
            };
        }
        let name = r.decode().map_err(|e| self.origin(offset).error(format!("bad entity reference: {e}")))?;
        match quick_xml::escape::resolve_predefined_entity(&name) {
            Some(s) => Ok(s.to_string()),
            None => Err(self.origin(offset).error(format!("undefined entity &{name};"))),
        }
    }

    fn element(&self, start: &BytesStart<'_>, inherited: Namespaces, offset: usize) -> Result<Element, ConfigError> {
        let origin = self.origin(offset);
        let qname = std::str::from_utf8(start.name().as_ref())
            .map_err(|_| origin.error("element name is not UTF-8"))?
            .to_string();
        let mut attributes = Vec::new();
        let mut declared = Vec::new();
        for attr in start.attributes() {
            let attr = attr.map_err(|e| origin.error(format!("malformed attribute: {e}")))?;
            let name = std::str::from_utf8(attr.key.as_ref())
                .map_err(|_| origin.error("attribute name is not UTF-8"))?
                .to_string();
            let value = attr
                .unescape_value()
                .map_err(|e| origin.error(format!("bad value for attribute '{name}': {e}")))?
                .into_owned();
            if name == "xmlns" {
                declared.push((String::new(), value));
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                declared.push((p.to_string(), value));
            } else if attributes.iter().any(|a: &Attribute| a.name == name) {
                return Err(origin.error(format!("attribute '{name}' is given twice")));
            } else {
                attributes.push(Attribute { name, value });
            }
        }
        let namespaces = if declared.is_empty() {
            inherited
        } else {
            let mut all = (*inherited).clone();
            all.extend(declared.iter().cloned());
            Arc::new(all)
        };
        let (prefix, name) = match qname.split_once(':') {
            Some((p, l)) => (Some(p.to_string()), l.to_string()),
            None => (None, qname),
        };
        let key = prefix.as_deref().unwrap_or("");
        let namespace = namespaces.iter().rev().find(|(p, _)| p == key).map(|(_, u)| u.clone()).filter(|u| !u.is_empty());
        if prefix.is_some() && namespace.is_none() {
            return Err(origin.error(format!("namespace prefix '{key}' is not declared")));
        }
        Ok(Element { name, prefix, namespace, attributes, declared, namespaces, children: Vec::new(), origin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Element, ConfigError> {
        parse_bytes(Path::new("t.xml"), s.as_bytes())
    }

    #[test]
    fn positions_and_namespaces() {
        let root = parse("<?xml version=\"1.0\"?>\n<a xmlns=\"urn:x\" xmlns:p=\"urn:p\">\n  <p:b k=\"v&amp;w\">t&lt;1</p:b>\n</a>").unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.namespace.as_deref(), Some("urn:x"));
        assert_eq!(root.origin.pos, Pos { line: 2, col: 1 });
        let b = root.child("b").unwrap();
        assert_eq!(b.namespace.as_deref(), Some("urn:p"));
        assert_eq!(b.origin.pos, Pos { line: 3, col: 3 });
        assert_eq!(b.attr("k"), Some("v&w"));
        assert_eq!(b.text(), "t<1");
        assert_eq!(b.resolve_prefix("p"), Some("urn:p"));
    }

    #[test]
    fn elements_serialise_with_the_namespaces_they_need() {
        let root = parse("<a xmlns=\"urn:s\" xmlns:m=\"urn:m\"><f><m:q k=\"1&amp;2\">$1 &lt; x</m:q></f></a>").unwrap();
        let q = root.child("f").unwrap().child("q").unwrap();
        let text = q.to_xml();
        assert!(text.starts_with("<m:q ") && text.contains("xmlns:m=\"urn:m\""), "{text}");
        assert!(!text.contains("urn:s"), "an unused default namespace is not declared: {text}");
        let f = root.child("f").unwrap().to_xml();
        assert!(f.starts_with("<f xmlns=\"urn:s\" xmlns:m=\"urn:m\">"), "{f}");
        assert!(text.contains("k=\"1&amp;2\"") && text.ends_with(">$1 &lt; x</m:q>"), "{text}");
        let again = parse(&text).unwrap();
        assert_eq!(again.namespace.as_deref(), Some("urn:m"));
        assert_eq!(again.text(), "$1 < x");
    }

    #[test]
    fn refuses_doctype_and_unknown_entities() {
        let e = parse("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>").unwrap_err();
        assert!(e.message.contains("DOCTYPE"), "{e}");
        let e = parse("<a>&x;</a>").unwrap_err();
        assert!(e.message.contains("undefined entity"), "{e}");
    }

    /// Found by fuzzing (fuzz/regressions/axis2_config): a deeply nested file overflowed
    /// the stack when the tree was dropped.
    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("<a>{}{}</a>", "<b>".repeat(100_000), "</b>".repeat(100_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
        assert_eq!(e.origin.pos.col as usize, 4 + 3 * (MAX_DEPTH - 1), "{e}");
        let ok = format!("{}{}", "<b>".repeat(MAX_DEPTH), "</b>".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let self_closing = format!("{}<c/>{}", "<b>".repeat(MAX_DEPTH), "</b>".repeat(MAX_DEPTH));
        assert!(parse(&self_closing).is_err());
    }

    /// Found while fuzzing (fuzz/regressions/axis2_config): each element's column was
    /// counted from the start of its line, quadratic in a file written on one line.
    #[test]
    fn columns_on_one_long_line() {
        let root = parse("<a>é<b/>\u{1F600}<c/>\n  é<d/></a>").unwrap();
        let cols: Vec<(u32, u32)> = root.elements().map(|e| (e.origin.pos.line, e.origin.pos.col)).collect();
        assert_eq!(cols, vec![(1, 5), (1, 10), (2, 4)]);
        let e = parse("<a>é<b/><c k='1' k='2'/></a>").unwrap_err();
        assert_eq!((e.origin.pos.line, e.origin.pos.col), (1, 9), "{e}");
        // Half a million bytes on one line: linear, not quadratic.
        let long = format!("<a>{}</a>", "<b x='é'/>".repeat(50_000));
        let root = parse(&long).unwrap();
        assert_eq!(root.elements().last().map(|e| e.origin.pos.col), Some(4 + 10 * 49_999));
    }

    #[test]
    fn reports_malformed_xml_with_line() {
        let e = parse("<a>\n<b>\n</a>").unwrap_err();
        assert_eq!(e.origin.pos.line, 3, "{e}");
        let e = parse("<a>\n<b>").unwrap_err();
        assert!(e.to_string().starts_with("t.xml:"), "{e}");
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("<a><x:b/></a>").unwrap_err().message.contains("prefix"));
        assert!(parse("<a k='1' k='2'/>").is_err());
    }
}
