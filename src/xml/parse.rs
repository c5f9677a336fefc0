//! Parsing message bytes into a [`Document`] with quick-xml, under [`Limits`].
//!
//! Messages come from untrusted clients, so the parser refuses any DTD (no entity is ever
//! expanded), accepts only UTF-8, and checks every limit as the events arrive: a hostile
//! message is rejected after reading at most its own bytes once, without building more
//! than the limits allow.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::atoms::Atom;
use super::tree::{Document, Kind, Node, NodeId, Span, FLAG_CDATA, FLAG_EMPTY_TAG, FLAG_SINGLE_QUOTE, FLAG_WS, NONE};
use super::{Position, XmlError};

/// Parser limits; the defaults are Apache CXF's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting (the root element is at depth 1).
    pub max_depth: usize,
    /// Child elements of any one element.
    pub max_child_elements: usize,
    /// Attributes of one element, namespace declarations included.
    pub max_attributes: usize,
    /// Bytes in one attribute value, as written.
    pub max_attribute_size: usize,
    /// Bytes of character data (text and CDATA) in the whole document.
    pub max_text_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 100,
            max_child_elements: 50_000,
            max_attributes: 500,
            max_attribute_size: 64 * 1024,
            max_text_size: 128 * 1024 * 1024,
        }
    }
}

/// Parses a complete XML document.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
    let text = check_input(input)?;
    let mut doc = Document::with_capacity(text.len());
    let scope = vec![(Atom::XML, Atom::XML_NS)];
    let mut b = Builder::new(&mut doc, text, limits, scope, false);
    b.run()?;
    Ok(doc)
}

/// Parses `xml` as element content (any number of elements, text, comments) into detached
/// nodes of `doc`, with `namespaces` (`(prefix, uri)`, `""` for the default namespace) in
/// scope. Returns the top-level nodes in order.
pub(crate) fn parse_fragment<I, P, U>(
    doc: &mut Document,
    xml: &str,
    namespaces: I,
    limits: &Limits,
) -> Result<Vec<NodeId>, XmlError>
where
    I: IntoIterator<Item = (P, U)>,
    P: AsRef<str>,
    U: AsRef<str>,
{
    check_chars(xml)?;
    if xml.len() > u32::MAX as usize / 2 {
        return Err(XmlError::Limit { what: "input size in bytes", limit: u32::MAX as usize / 2 });
    }
    let mut scope = vec![(Atom::XML, Atom::XML_NS)];
    for (p, u) in namespaces {
        let (p, u) = (p.as_ref(), u.as_ref());
        if p == "xml" || p == "xmlns" {
            continue;
        }
        let pa = doc.atoms.intern(p);
        let ua = doc.atoms.intern(u);
        scope.push((pa, ua));
    }
    let mark = doc.nodes.len();
    let mut b = Builder::new(doc, xml, limits, scope, true);
    let result = b.run();
    let top = std::mem::take(&mut b.top);
    drop(b);
    match result {
        Ok(()) => {
            doc.in_order = false;
            doc.order = Default::default();
            Ok(top.into_iter().map(NodeId::arena).collect())
        }
        Err(e) => {
            // Nothing refers to the half-built nodes: drop them.
            doc.nodes.truncate(mark);
            Err(e)
        }
    }
}

/// BOM, encoding declaration, UTF-8 validity and forbidden control characters.
pub(crate) fn check_input(input: &[u8]) -> Result<&str, XmlError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if input.starts_with(b"\xFE\xFF") || input.starts_with(b"\xFF\xFE") || input.starts_with(b"\0<") || input.starts_with(b"<\0") {
        return Err(XmlError::Encoding { encoding: "UTF-16".into() });
    }
    if input.len() > u32::MAX as usize / 2 {
        return Err(XmlError::Limit { what: "input size in bytes", limit: u32::MAX as usize / 2 });
    }
    if starts_with_doctype(input) {
        return Err(XmlError::Doctype);
    }
    if let Some(enc) = declared_encoding(input) {
        let e = enc.to_ascii_lowercase();
        if !matches!(e.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
            return Err(XmlError::Encoding { encoding: enc });
        }
    }
    let text = std::str::from_utf8(input).map_err(|e| malformed_at(input, e.valid_up_to(), "invalid UTF-8"))?;
    check_chars(text)?;
    Ok(text)
}

fn check_chars(text: &str) -> Result<(), XmlError> {
    // A branch-free pass the compiler vectorises; the exact check runs only on a chunk that
    // holds a control character or 0xEF (the lead byte of U+FFFE and U+FFFF, and of other
    // characters from U+F000).
    let bytes = text.as_bytes();
    for (n, chunk) in bytes.chunks(64).enumerate() {
        let suspect = chunk.iter().fold(false, |acc, &b| acc | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF));
        if !suspect {
            continue;
        }
        let base = n * 64;
        for (i, &b) in chunk.iter().enumerate() {
            let at = base + i;
            if b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' {
                return Err(malformed_at(bytes, at, &format!("character U+{b:04X} is not allowed in XML")));
            }
            if b == 0xEF && bytes.get(at + 1) == Some(&0xBF) && matches!(bytes.get(at + 2), Some(0xBE | 0xBF)) {
                return Err(malformed_at(bytes, at, "character U+FFFE/U+FFFF is not allowed in XML"));
            }
        }
    }
    Ok(())
}

/// The `encoding` pseudo-attribute of a leading XML declaration, read as bytes (before
/// knowing the encoding, only ASCII can be trusted).
fn declared_encoding(input: &[u8]) -> Option<String> {
    if !input.starts_with(b"<?xml") || !input.get(5).is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let end = input.windows(2).take(512).position(|w| w == b"?>")?;
    let decl = &input[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let rest = &decl[at + 8..];
    let rest = trim_ascii_start(rest).strip_prefix(b"=")?;
    let rest = trim_ascii_start(rest);
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let val = &rest[1..];
    let close = val.iter().position(|&b| b == quote)?;
    Some(String::from_utf8_lossy(&val[..close]).into_owned())
}

/// Is the first markup after the XML declaration a DOCTYPE? Checked before the whole input
/// is validated, so that the common attack shape is refused without reading it.
fn starts_with_doctype(input: &[u8]) -> bool {
    let mut rest = input;
    if rest.starts_with(b"<?xml") {
        match rest.windows(2).take(512).position(|w| w == b"?>") {
            Some(end) => rest = &rest[end + 2..],
            None => return false,
        }
    }
    let rest = trim_ascii_start(rest);
    rest.len() >= 9 && rest.starts_with(b"<!") && rest[2..9].eq_ignore_ascii_case(b"DOCTYPE")
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

pub(crate) fn position_of(input: &[u8], offset: usize) -> Position {
    let offset = offset.min(input.len());
    let before = &input[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u32 + 1;
    Position { offset, line, column }
}

fn malformed_at(input: &[u8], offset: usize, message: &str) -> XmlError {
    XmlError::Malformed { message: message.to_string(), position: position_of(input, offset) }
}

/// Is `s` an NCName? ASCII is checked exactly; non-ASCII characters are accepted as name
/// characters (the full Unicode tables buy nothing for message routing).
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || !c.is_ascii() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || !c.is_ascii())
}

/// Splits a QName as written into prefix and local part, checking both.
pub(crate) fn split_qname(q: &str) -> Option<(Option<&str>, &str)> {
    match q.split_once(':') {
        Some((p, l)) if is_ncname(p) && is_ncname(l) => Some((Some(p), l)),
        Some(_) => None,
        None if is_ncname(q) => Some((None, q)),
        None => None,
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Resolves `&name;` (without `&` and `;`): the five predefined entities and character
/// references; anything else is an error since no DTD can declare it.
pub(crate) fn resolve_reference(name: &str) -> Result<char, String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => u32::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse::<u32>().ok(),
            None => None,
        };
        return match code.and_then(char::from_u32) {
            Some(c) if is_xml_char(c) => Ok(c),
            _ => Err(format!("invalid character reference '&{name};'")),
        };
    }
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => Err(format!("undefined entity '&{name};' (DTDs are not supported, so only the predefined entities are)")),
    }
}

/// Appends `s` with XML 1.0 line-end normalisation (`\r\n` and `\r` become `\n`).
pub(crate) fn push_eol_normalized(out: &mut String, s: &str) {
    if !s.contains('\r') {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
}

/// Appends an attribute value: references resolved, whitespace characters normalised to
/// spaces as the XML spec requires (character references survive as written).
pub(crate) fn push_attribute_value(out: &mut String, raw: &str) -> Result<(), String> {
    if !raw.bytes().any(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r')) {
        out.push_str(raw);
        return Ok(());
    }
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<', '\t', '\n', '\r']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        rest = &rest[i + 1..];
        match c {
            b'<' => return Err("'<' is not allowed in attribute values".into()),
            b'&' => {
                let end = rest.find(';').ok_or("'&' in an attribute value must start a reference")?;
                out.push(resolve_reference(&rest[..end])?);
                rest = &rest[end + 1..];
            }
            b'\r' => {
                out.push(' ');
                if let Some(r) = rest.strip_prefix('\n') {
                    rest = r;
                }
            }
            _ => out.push(' '),
        }
    }
    out.push_str(rest);
    Ok(())
}

struct Open {
    idx: u32,
    child_elements: usize,
    scope_mark: usize,
    offset: usize,
}

enum Pending {
    Xmlns { prefix: Atom, uri: Atom, quote: u8, ws: Option<Span> },
    Attr { prefix: Atom, local: Atom, value: Span, quote: u8, offset: usize, ws: Option<Span> },
}

struct Builder<'d, 'i> {
    doc: &'d mut Document,
    input: &'i str,
    limits: &'d Limits,
    stack: Vec<Open>,
    /// Namespace bindings in scope: (prefix, uri); `EMPTY` prefix is the default
    /// namespace, `EMPTY` uri an undeclaration.
    scope: Vec<(Atom, Atom)>,
    text_total: usize,
    pending: Vec<Pending>,
    fragment: bool,
    /// Top-level nodes of a fragment.
    top: Vec<u32>,
    top_elements: usize,
    seen_root: bool,
    /// Whitespace seen at top level, waiting for the node it precedes.
    pending_ws: Option<Span>,
}

impl<'d, 'i> Builder<'d, 'i> {
    fn new(doc: &'d mut Document, input: &'i str, limits: &'d Limits, scope: Vec<(Atom, Atom)>, fragment: bool) -> Self {
        Builder {
            doc,
            input,
            limits,
            stack: Vec::with_capacity(16),
            scope,
            text_total: 0,
            pending: Vec::new(),
            fragment,
            top: Vec::new(),
            top_elements: 0,
            seen_root: false,
            pending_ws: None,
        }
    }

    fn err(&self, offset: usize, message: impl Into<String>) -> XmlError {
        XmlError::Malformed { message: message.into(), position: position_of(self.input.as_bytes(), offset) }
    }

    fn run(&mut self) -> Result<(), XmlError> {
        let mut reader = Reader::from_str(self.input);
        {
            let c = reader.config_mut();
            c.check_end_names = true;
            c.check_comments = true;
            c.expand_empty_elements = false;
            c.allow_unmatched_ends = false;
            c.allow_dangling_amp = false;
            c.trim_text(false);
        }
        let bytes = self.input.as_bytes();
        // quick-xml drops a leading U+FEFF as a byte-order mark without counting it in its
        // positions. The real mark is gone already (`check_input`), so here it is a
        // character: read it as text (outside the root element that is an error) and shift
        // every position by its length.
        let base = if self.input.starts_with('\u{FEFF}') { '\u{FEFF}'.len_utf8() } else { 0 };
        if base > 0 {
            self.text("\u{FEFF}", 0, false, true)?;
        }
        loop {
            let offset = base + reader.buffer_position() as usize;
            // Refuse a DTD on sight, before quick-xml reads through it.
            if self.stack.is_empty() && bytes.get(offset..offset + 2) == Some(b"<!") {
                let rest = &bytes[offset + 2..];
                if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"DOCTYPE") {
                    return Err(XmlError::Doctype);
                }
            }
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(self.err(base + reader.error_position() as usize, e.to_string())),
            };
            let end = base + reader.buffer_position() as usize;
            match event {
                Event::Start(e) => self.start(&e, offset, false)?,
                Event::Empty(e) => self.start(&e, offset, true)?,
                Event::End(_) => {
                    if let Some(open) = self.stack.pop() {
                        self.scope.truncate(open.scope_mark);
                    }
                }
                Event::Text(_) => {
                    let raw = self.input.get(offset..end).unwrap_or("");
                    self.text(raw, offset, false, true)?;
                }
                Event::CData(_) => {
                    // `<![CDATA[` … `]]>`
                    let raw = self.input.get(offset + 9..end.saturating_sub(3)).unwrap_or("");
                    self.text(raw, offset, true, true)?;
                }
                Event::GeneralRef(r) => {
                    if self.stack.is_empty() && !self.fragment {
                        return Err(self.err(offset, "references are not allowed outside the root element"));
                    }
                    let name = std::str::from_utf8(&r).map_err(|_| self.err(offset, "invalid UTF-8"))?;
                    let c = resolve_reference(name).map_err(|m| self.err(offset, m))?;
                    let mut buf = [0u8; 4];
                    self.text(c.encode_utf8(&mut buf), offset, false, false)?;
                }
                Event::Comment(_) => {
                    let raw = self.input.get(offset + 4..end.saturating_sub(3)).unwrap_or("");
                    let mut node = Node::new(Kind::Comment);
                    node.value = self.eol_span(raw);
                    self.add_leaf(node);
                }
                Event::PI(pi) => {
                    let target = std::str::from_utf8(pi.target()).map_err(|_| self.err(offset, "invalid UTF-8"))?;
                    if target.eq_ignore_ascii_case("xml") {
                        return Err(self.err(offset, "an XML declaration is only allowed at the very start"));
                    }
                    if !is_ncname(target) {
                        return Err(self.err(offset, format!("invalid processing instruction target '{target}'")));
                    }
                    let content = std::str::from_utf8(pi.content()).map_err(|_| self.err(offset, "invalid UTF-8"))?;
                    let data = content.trim_start_matches([' ', '\t', '\r', '\n']);
                    let mut node = Node::new(Kind::Pi);
                    node.local = self.doc.atoms.intern(target);
                    node.value = self.eol_span(data);
                    self.add_leaf(node);
                }
                Event::Decl(d) => {
                    if offset != 0 || self.fragment {
                        return Err(self.err(offset, "an XML declaration is only allowed at the very start"));
                    }
                    match d.version() {
                        Ok(v) if v.as_ref() == b"1.0" || v.as_ref() == b"1.1" => {}
                        _ => return Err(self.err(offset, "the XML declaration needs version=\"1.0\"")),
                    }
                    let raw = self.input.get(offset..end).unwrap_or("");
                    self.doc.decl = Some(self.doc.push_text(raw));
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            let name = self.qname_of(open.idx);
            return Err(self.err(open.offset, format!("element <{name}> is never closed")));
        }
        if !self.fragment {
            if !self.seen_root {
                return Err(self.err(self.input.len(), "the document has no root element"));
            }
            if let Some(ws) = self.pending_ws.take() {
                self.doc.prolog_ws.push((NONE, ws));
            }
        }
        Ok(())
    }

    fn qname_of(&self, idx: u32) -> String {
        let n = self.doc.node(idx);
        let local = self.doc.atom_str(n.local);
        if n.prefix == Atom::EMPTY {
            local.to_string()
        } else {
            format!("{}:{local}", self.doc.atom_str(n.prefix))
        }
    }

    fn eol_span(&mut self, raw: &str) -> Span {
        let start = self.doc.text.len();
        push_eol_normalized(&mut self.doc.text, raw);
        Span { start, len: self.doc.text.len() - start }
    }

    fn parent(&self) -> u32 {
        match self.stack.last() {
            Some(o) => o.idx,
            None if self.fragment => NONE,
            None => 0,
        }
    }

    /// Links a new node as the last child of the current parent (or top level).
    fn link(&mut self, mut node: Node) -> u32 {
        let parent = self.parent();
        node.parent = parent;
        let idx = self.doc.nodes.len() as u32;
        if parent == NONE {
            if let Some(&prev) = self.top.last() {
                node.prev = prev;
                self.doc.node_mut(prev).next = idx;
            }
            self.top.push(idx);
        } else {
            let last = self.doc.node(parent).last;
            node.prev = last;
            if last == NONE {
                self.doc.node_mut(parent).first = idx;
            } else {
                self.doc.node_mut(last).next = idx;
            }
            self.doc.node_mut(parent).last = idx;
        }
        self.doc.push_node(node)
    }

    fn add_leaf(&mut self, node: Node) {
        let at_top = self.stack.is_empty() && !self.fragment;
        let ws = if at_top { self.pending_ws.take() } else { None };
        let idx = self.link(node);
        if let Some(ws) = ws {
            self.doc.prolog_ws.push((idx, ws));
        }
    }

    fn text(&mut self, raw: &str, offset: usize, cdata: bool, normalize: bool) -> Result<(), XmlError> {
        if raw.is_empty() {
            return Ok(());
        }
        if self.stack.is_empty() && !self.fragment {
            if cdata || !raw.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                return Err(self.err(offset, "text is not allowed outside the root element"));
            }
            let span = self.doc.push_text(raw);
            self.pending_ws = Some(match self.pending_ws {
                Some(prev) if prev.start + prev.len == span.start => Span { start: prev.start, len: prev.len + span.len },
                _ => span,
            });
            return Ok(());
        }
        self.text_total += raw.len();
        if self.text_total > self.limits.max_text_size {
            return Err(XmlError::Limit { what: "total text size in bytes", limit: self.limits.max_text_size });
        }
        let parent = self.parent();
        let last = if parent == NONE { self.top.last().copied().unwrap_or(NONE) } else { self.doc.node(parent).last };
        let start = self.doc.text.len();
        if normalize {
            push_eol_normalized(&mut self.doc.text, raw);
        } else {
            self.doc.text.push_str(raw);
        }
        let added = self.doc.text.len() - start;
        if last != NONE && self.doc.node(last).kind == Kind::Text {
            let prev = self.doc.node(last).value;
            if prev.start + prev.len == start {
                let n = self.doc.node_mut(last);
                n.value.len += added;
                n.flags &= !FLAG_CDATA;
                return Ok(());
            }
        }
        let mut node = Node::new(Kind::Text);
        node.value = Span { start, len: added };
        if cdata {
            node.flags |= FLAG_CDATA;
        }
        self.link(node);
        Ok(())
    }

    fn lookup(&self, prefix: Atom) -> Option<Atom> {
        self.scope.iter().rev().find(|(p, _)| *p == prefix).map(|&(_, u)| u)
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: usize, empty: bool) -> Result<(), XmlError> {
        if self.stack.is_empty() && !self.fragment && self.seen_root {
            return Err(self.err(offset, "only one root element is allowed"));
        }
        if self.stack.len() + 1 > self.limits.max_depth {
            return Err(XmlError::Limit { what: "element depth", limit: self.limits.max_depth });
        }
        let count = match self.stack.last_mut() {
            Some(o) => {
                o.child_elements += 1;
                o.child_elements
            }
            None => {
                self.top_elements += 1;
                self.top_elements
            }
        };
        if count > self.limits.max_child_elements {
            return Err(XmlError::Limit { what: "child elements of one element", limit: self.limits.max_child_elements });
        }

        let qname = std::str::from_utf8(e.name().into_inner()).map_err(|_| self.err(offset, "invalid UTF-8"))?;
        let (prefix, local) = split_qname(qname).ok_or_else(|| self.err(offset, format!("invalid element name '{qname}'")))?;
        let scope_mark = self.scope.len();
        self.pending.clear();
        let raw_tag = e.attributes_raw();
        let tag_base = offset + 1 + qname.len();
        let mut n_attrs = 0usize;
        // End of the previous attribute within `raw_tag`, to keep the whitespace between.
        let mut prev_end = 0usize;
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.err(offset, format!("malformed attribute in <{qname}>: {err}")))?;
            n_attrs += 1;
            if n_attrs > self.limits.max_attributes {
                return Err(XmlError::Limit { what: "attributes of one element", limit: self.limits.max_attributes });
            }
            let raw_value = attr.value.as_ref();
            if raw_value.len() > self.limits.max_attribute_size {
                return Err(XmlError::Limit { what: "attribute value size in bytes", limit: self.limits.max_attribute_size });
            }
            // The value is a slice of the tag; the byte before it is its quote.
            let rel = (raw_value.as_ptr() as usize).wrapping_sub(raw_tag.as_ptr() as usize);
            let quote = if rel > 0 && rel <= raw_tag.len() { raw_tag[rel - 1] } else { b'"' };
            let attr_offset = tag_base + rel.min(raw_tag.len());
            let key_rel = (attr.key.as_ref().as_ptr() as usize).wrapping_sub(raw_tag.as_ptr() as usize);
            let ws = match raw_tag.get(prev_end..key_rel) {
                Some(b" ") | None => None,
                Some(gap) => Some(self.doc.push_text(std::str::from_utf8(gap).map_err(|_| self.err(offset, "invalid UTF-8"))?)),
            };
            prev_end = rel + raw_value.len() + 1;
            let key = std::str::from_utf8(attr.key.into_inner()).map_err(|_| self.err(offset, "invalid UTF-8"))?;
            let raw_value = std::str::from_utf8(raw_value).map_err(|_| self.err(offset, "invalid UTF-8"))?;
            let start = self.doc.text.len();
            push_attribute_value(&mut self.doc.text, raw_value).map_err(|m| self.err(attr_offset, m))?;
            let value = Span { start, len: self.doc.text.len() - start };
            let declared = if key == "xmlns" { Some("") } else { key.strip_prefix("xmlns:") };
            if let Some(p) = declared {
                let uri = self.doc.span_str(value).to_string();
                self.doc.text.truncate(start);
                self.check_declaration(p, &uri, attr_offset)?;
                let prefix = self.doc.atoms.intern(p);
                let uri = self.doc.atoms.intern(&uri);
                self.scope.push((prefix, uri));
                self.pending.push(Pending::Xmlns { prefix, uri, quote, ws });
            } else {
                let (p, l) = split_qname(key).ok_or_else(|| self.err(attr_offset, format!("invalid attribute name '{key}'")))?;
                let prefix = p.map_or(Atom::EMPTY, |p| self.doc.atoms.intern(p));
                let local = self.doc.atoms.intern(l);
                self.pending.push(Pending::Attr { prefix, local, value, quote, offset: attr_offset, ws });
            }
        }

        let prefix_atom = prefix.map_or(Atom::EMPTY, |p| self.doc.atoms.intern(p));
        let ns = match self.lookup(prefix_atom) {
            Some(u) => u,
            None if prefix.is_none() => Atom::EMPTY,
            None => return Err(self.err(offset, format!("namespace prefix '{}' is not declared", prefix.unwrap_or("")))),
        };
        if prefix.is_some() && ns == Atom::EMPTY {
            return Err(self.err(offset, format!("namespace prefix '{}' is not declared", prefix.unwrap_or(""))));
        }
        let mut node = Node::new(Kind::Element);
        node.prefix = prefix_atom;
        node.local = self.doc.atoms.intern(local);
        node.ns = ns;
        if empty {
            node.flags |= FLAG_EMPTY_TAG;
        }
        match raw_tag.get(prev_end..) {
            Some(b"") | None => {}
            Some(rest) => {
                let rest = std::str::from_utf8(rest).map_err(|_| self.err(offset, "invalid UTF-8"))?;
                node.ws = self.doc.push_text(rest);
                node.flags |= FLAG_WS;
            }
        }
        let at_top = self.stack.is_empty() && !self.fragment;
        let ws = if at_top { self.pending_ws.take() } else { None };
        let idx = self.link(node);
        if let Some(ws) = ws {
            self.doc.prolog_ws.push((idx, ws));
        }
        if at_top {
            self.seen_root = true;
        }

        let pending = std::mem::take(&mut self.pending);
        let mut result = Ok(());
        let mut prefixed = 0usize;
        for p in &pending {
            let mut an = match *p {
                Pending::Xmlns { prefix, uri, quote, ws } => {
                    let mut an = Node::new(Kind::Xmlns);
                    if let Some(ws) = ws {
                        an.ws = ws;
                        an.flags |= FLAG_WS;
                    }
                    an.prefix = prefix;
                    an.ns = uri;
                    if quote == b'\'' {
                        an.flags |= FLAG_SINGLE_QUOTE;
                    }
                    an
                }
                Pending::Attr { prefix, local, value, quote, offset: at, ws } => {
                    let mut an = Node::new(Kind::Attribute);
                    if let Some(ws) = ws {
                        an.ws = ws;
                        an.flags |= FLAG_WS;
                    }
                    if prefix != Atom::EMPTY {
                        prefixed += 1;
                        match self.lookup(prefix) {
                            Some(u) if u != Atom::EMPTY => an.ns = u,
                            _ => {
                                result = Err(self.err(at, format!("namespace prefix '{}' is not declared", self.doc.atom_str(prefix))));
                                break;
                            }
                        }
                    }
                    an.prefix = prefix;
                    an.local = local;
                    an.value = value;
                    if quote == b'\'' {
                        an.flags |= FLAG_SINGLE_QUOTE;
                    }
                    an
                }
            };
            an.parent = idx;
            let last = self.doc.node(idx).last_attr;
            an.prev = last;
            let a = self.doc.nodes.len() as u32;
            if last == NONE {
                self.doc.node_mut(idx).first_attr = a;
            } else {
                self.doc.node_mut(last).next = a;
            }
            self.doc.node_mut(idx).last_attr = a;
            self.doc.push_node(an);
        }
        self.pending = pending;
        result?;
        if prefixed > 1 {
            self.check_duplicate_expanded(idx, offset)?;
        }

        if empty {
            self.scope.truncate(scope_mark);
        } else {
            self.stack.push(Open { idx, child_elements: 0, scope_mark, offset });
        }
        Ok(())
    }

    fn check_declaration(&self, prefix: &str, uri: &str, offset: usize) -> Result<(), XmlError> {
        if prefix == "xmlns" {
            return Err(self.err(offset, "the prefix 'xmlns' cannot be declared"));
        }
        if !prefix.is_empty() && !is_ncname(prefix) {
            return Err(self.err(offset, format!("invalid namespace prefix '{prefix}'")));
        }
        if prefix == "xml" {
            if uri != super::atoms::XML_NS {
                return Err(self.err(offset, "the prefix 'xml' is bound to its own namespace only"));
            }
            return Ok(());
        }
        if uri == super::atoms::XML_NS || uri == super::atoms::XMLNS_NS {
            return Err(self.err(offset, format!("the namespace '{uri}' cannot be bound to another prefix")));
        }
        if !prefix.is_empty() && uri.is_empty() {
            return Err(self.err(offset, format!("the prefix '{prefix}' cannot be undeclared in XML 1.0")));
        }
        Ok(())
    }

    /// Two attributes with the same namespace and local name but different prefixes.
    fn check_duplicate_expanded(&self, el: u32, offset: usize) -> Result<(), XmlError> {
        let mut seen: Vec<(Atom, Atom)> = Vec::new();
        let mut a = self.doc.node(el).first_attr;
        while a != NONE {
            let n = self.doc.node(a);
            if n.kind == Kind::Attribute && n.ns != Atom::EMPTY {
                if seen.contains(&(n.ns, n.local)) {
                    return Err(self.err(offset, format!("attribute '{}' is given twice", self.doc.atom_str(n.local))));
                }
                seen.push((n.ns, n.local));
            }
            a = n.next;
        }
        Ok(())
    }
}
