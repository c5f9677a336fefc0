//! Finding the first match of a simple path straight in message bytes, without a tree.
//!
//! Routing often needs one value (`//m0:symbol`, `/soapenv:Envelope/soapenv:Body/*`) from
//! a message that is otherwise passed through untouched. For absolute paths made only of
//! `child` and `descendant` steps with element name tests and no predicates,
//! [`StreamingMatcher`] reads the bytes with quick-xml, follows the steps as a small
//! automaton over the open elements, and stops at the first element selected. The same
//! security rules as [`crate::xml::parse`] apply to everything it reads (no DTD, UTF-8,
//! limits); input after the match is not read, so it is not checked either.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ast::{Axis, Expr, Start, Test};
use super::XPath;
use crate::xml::parse::{check_input, position_of, push_attribute_value, push_eol_normalized, resolve_reference, split_qname};
use crate::xml::{Limits, XmlError, XML_NAMESPACE};

/// Steps an automaton state set can track (one bit each, plus the start state).
const MAX_STEPS: usize = 63;

#[derive(Clone, Debug)]
struct StreamStep {
    descendant: bool,
    /// `None`: any element (`*`).
    name: Option<(String, String)>,
}

/// A compiled path that can be matched against raw message bytes.
#[derive(Clone, Debug)]
pub struct StreamingMatcher {
    steps: Vec<StreamStep>,
}

impl XPath {
    /// A matcher over raw bytes for this expression, if it is an absolute path of `child`
    /// and `descendant` steps (`/a/b`, `//b`, `/a//b`) with element name tests or `*` and
    /// no predicates. Its results equal evaluating the expression on the parsed document.
    pub fn streaming_matcher(&self) -> Option<StreamingMatcher> {
        let Expr::Path(p) = &self.expr else { return None };
        if !matches!(p.start, Start::Root) || p.steps.is_empty() || p.steps.len() > MAX_STEPS {
            return None;
        }
        let mut steps = Vec::with_capacity(p.steps.len());
        for s in &p.steps {
            if !s.preds.is_empty() {
                return None;
            }
            let descendant = match s.axis {
                Axis::Child => false,
                Axis::Descendant => true,
                _ => return None,
            };
            let name = match s.test {
                Test::Any => None,
                Test::Name(slot) => Some(self.names.get(slot)?.clone()),
                _ => return None,
            };
            steps.push(StreamStep { descendant, name });
        }
        Some(StreamingMatcher { steps })
    }
}

struct Frame {
    /// Bit s: the first s steps are matched by this element or its ancestors.
    states: u64,
    scope_mark: usize,
    child_elements: usize,
}

impl StreamingMatcher {
    /// The string-value of the first element the path selects (what `string(path)` gives on
    /// the parsed document), or `None` if the document has no such element.
    pub fn first_string(&self, input: &[u8], limits: &Limits) -> Result<Option<String>, XmlError> {
        self.scan(input, limits, true)
    }

    /// Whether the path selects any element (`boolean(path)`).
    pub fn matches(&self, input: &[u8], limits: &Limits) -> Result<bool, XmlError> {
        Ok(self.scan(input, limits, false)?.is_some())
    }

    fn advance(&self, states: u64, ns: &str, local: &str) -> u64 {
        let mut next = 0u64;
        for (s, step) in self.steps.iter().enumerate() {
            if states & (1 << s) == 0 {
                continue;
            }
            if step.descendant {
                // This element may be an intermediate ancestor of the match.
                next |= 1 << s;
            }
            if step.name.as_ref().is_none_or(|(n, l)| n == ns && l == local) {
                next |= 1 << (s + 1);
            }
        }
        next
    }

    fn scan(&self, input: &[u8], limits: &Limits, collect: bool) -> Result<Option<String>, XmlError> {
        let text = check_input(input)?;
        let bytes = text.as_bytes();
        let err = |offset: usize, message: String| XmlError::Malformed { message, position: position_of(bytes, offset) };
        if text.starts_with('\u{FEFF}') {
            // A second byte-order mark is a character before the root element (and quick-xml
            // would drop it without counting it in its positions).
            return Err(err(0, "text is not allowed outside the root element".into()));
        }
        let mut reader = Reader::from_str(text);
        {
            let c = reader.config_mut();
            c.check_end_names = true;
            c.check_comments = true;
            c.allow_dangling_amp = false;
        }
        let done = 1u64 << self.steps.len();
        let mut stack: Vec<Frame> = Vec::with_capacity(16);
        let mut scope: Vec<(String, String)> = vec![("xml".into(), XML_NAMESPACE.into())];
        let mut top_elements = 0usize;
        // Depth of the selected element while its text is being collected.
        let mut selected: Option<usize> = None;
        let mut value = String::new();
        let mut value_len = 0usize;
        let mut attr_buf = String::new();
        loop {
            let offset = reader.buffer_position() as usize;
            if stack.is_empty() && bytes.get(offset..offset + 2) == Some(b"<!") {
                let rest = &bytes[offset + 2..];
                if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"DOCTYPE") {
                    return Err(XmlError::Doctype);
                }
            }
            let event = reader.read_event().map_err(|e| err(reader.error_position() as usize, e.to_string()))?;
            let end = reader.buffer_position() as usize;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    if stack.len() + 1 > limits.max_depth {
                        return Err(XmlError::Limit { what: "element depth", limit: limits.max_depth });
                    }
                    let count = match stack.last_mut() {
                        Some(f) => &mut f.child_elements,
                        None => &mut top_elements,
                    };
                    *count += 1;
                    if *count > limits.max_child_elements {
                        return Err(XmlError::Limit { what: "child elements of one element", limit: limits.max_child_elements });
                    }
                    let scope_mark = scope.len();
                    let mut n_attrs = 0usize;
                    for attr in e.attributes() {
                        let attr = attr.map_err(|x| err(offset, format!("malformed attribute: {x}")))?;
                        n_attrs += 1;
                        if n_attrs > limits.max_attributes {
                            return Err(XmlError::Limit { what: "attributes of one element", limit: limits.max_attributes });
                        }
                        if attr.value.len() > limits.max_attribute_size {
                            return Err(XmlError::Limit { what: "attribute value size in bytes", limit: limits.max_attribute_size });
                        }
                        let key = std::str::from_utf8(attr.key.into_inner()).map_err(|_| err(offset, "invalid UTF-8".into()))?;
                        let declared = if key == "xmlns" { Some("") } else { key.strip_prefix("xmlns:") };
                        attr_buf.clear();
                        let raw = std::str::from_utf8(&attr.value).map_err(|_| err(offset, "invalid UTF-8".into()))?;
                        push_attribute_value(&mut attr_buf, raw).map_err(|m| err(offset, m))?;
                        if let Some(p) = declared {
                            scope.push((p.to_string(), attr_buf.clone()));
                        }
                    }
                    let qname = std::str::from_utf8(e.name().into_inner()).map_err(|_| err(offset, "invalid UTF-8".into()))?;
                    let (prefix, local) = split_qname(qname).ok_or_else(|| err(offset, format!("invalid element name '{qname}'")))?;
                    let key = prefix.unwrap_or("");
                    let ns = match scope.iter().rev().find(|(p, _)| p == key) {
                        Some((_, u)) => u.as_str(),
                        None if prefix.is_none() => "",
                        None => return Err(err(offset, format!("namespace prefix '{key}' is not declared"))),
                    };
                    let mut states = 0;
                    if selected.is_none() {
                        let parent = stack.last().map_or(1, |f| f.states);
                        states = self.advance(parent, ns, local);
                        if states & done != 0 {
                            if !collect || empty {
                                return Ok(Some(String::new()));
                            }
                            selected = Some(stack.len() + 1);
                        }
                    }
                    if empty {
                        scope.truncate(scope_mark);
                    } else {
                        stack.push(Frame { states, scope_mark, child_elements: 0 });
                    }
                }
                Event::End(_) => {
                    if let Some(f) = stack.pop() {
                        scope.truncate(f.scope_mark);
                    }
                    if selected == Some(stack.len() + 1) {
                        return Ok(Some(value));
                    }
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    let piece = match event {
                        Event::Text(_) => text.get(offset..end).unwrap_or(""),
                        Event::CData(_) => text.get(offset + 9..end.saturating_sub(3)).unwrap_or(""),
                        _ => "",
                    };
                    let mut buf = [0u8; 4];
                    let piece = if let Event::GeneralRef(r) = &event {
                        let name = std::str::from_utf8(r).map_err(|_| err(offset, "invalid UTF-8".into()))?;
                        let c = resolve_reference(name).map_err(|m| err(offset, m))?;
                        &*c.encode_utf8(&mut buf)
                    } else {
                        piece
                    };
                    if selected.is_some() {
                        value_len += piece.len();
                        if value_len > limits.max_text_size {
                            return Err(XmlError::Limit { what: "total text size in bytes", limit: limits.max_text_size });
                        }
                        if matches!(event, Event::Text(_)) {
                            push_eol_normalized(&mut value, piece);
                        } else {
                            value.push_str(piece);
                        }
                    } else if stack.is_empty() && !piece.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                        return Err(err(offset, "text is not allowed outside the root element".into()));
                    }
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::Eof => {
                    if !stack.is_empty() {
                        return Err(err(text.len(), "an element is never closed".into()));
                    }
                    return Ok(None);
                }
            }
        }
    }
}
