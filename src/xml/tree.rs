//! The document arena: node storage, identities and read-only navigation.
//!
//! All nodes of a message (elements, attributes, namespace declarations, text, comments,
//! processing instructions) live in one `Vec`; links are indices. XPath namespace nodes are
//! not stored: a [`NodeId`] names them as "the n-th in-scope namespace of element e", which
//! is enough for node-set identity and document order.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::atoms::{Atom, Atoms};

pub(crate) const NONE: u32 = u32::MAX;

/// Identity of a node within one [`Document`]: an arena index, or for XPath namespace
/// nodes the owning element plus the namespace's position in its in-scope list. An id means
/// something only to the document that made it: navigation methods index with it (and
/// panic on an id out of range), mutation methods check it ([`crate::xml::TreeError`]), and
/// XPath checks ids that a host hands back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NodeId {
    pub(crate) idx: u32,
    /// 0 for arena nodes; `k + 1` for the k-th in-scope namespace of element `idx`.
    pub(crate) ns: u32,
}

impl NodeId {
    pub(crate) const fn arena(idx: u32) -> NodeId {
        NodeId { idx, ns: 0 }
    }
}

/// The kinds of node in the XPath 1.0 data model.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeKind {
    Document,
    Element,
    Attribute,
    Namespace,
    Text,
    Comment,
    ProcessingInstruction,
}

/// Arena node kinds: like [`NodeKind`], plus namespace declarations (`xmlns:p="…"`), which
/// are kept in the attribute chain in written order so that serialisation round-trips.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Document,
    Element,
    Attribute,
    Xmlns,
    Text,
    Comment,
    Pi,
}

pub(crate) const FLAG_EMPTY_TAG: u8 = 1;
pub(crate) const FLAG_CDATA: u8 = 2;
pub(crate) const FLAG_SINGLE_QUOTE: u8 = 4;
/// `Node::ws` holds whitespace as written (see there).
pub(crate) const FLAG_WS: u8 = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) len: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) flags: u8,
    pub(crate) parent: u32,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) first: u32,
    pub(crate) last: u32,
    pub(crate) first_attr: u32,
    pub(crate) last_attr: u32,
    /// Element/attribute prefix; for `Xmlns`, the declared prefix (`EMPTY` = default).
    pub(crate) prefix: Atom,
    /// Element/attribute local name; PI target.
    pub(crate) local: Atom,
    /// Element/attribute namespace; for `Xmlns`, the declared URI (`EMPTY` = undeclared).
    pub(crate) ns: Atom,
    /// Text, comment and PI content; attribute value.
    pub(crate) value: Span,
    /// With `FLAG_WS`, whitespace kept only to reproduce the input: before an attribute or
    /// declaration (instead of one space), or at the end of an element's start tag.
    pub(crate) ws: Span,
}

impl Node {
    pub(crate) fn new(kind: Kind) -> Node {
        Node {
            kind,
            flags: 0,
            parent: NONE,
            prev: NONE,
            next: NONE,
            first: NONE,
            last: NONE,
            first_attr: NONE,
            last_attr: NONE,
            prefix: Atom::EMPTY,
            local: Atom::EMPTY,
            ns: Atom::EMPTY,
            value: Span::default(),
            ws: Span::default(),
        }
    }
}

/// A qualified name as stored: the prefix as written, the local part and the namespace URI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Name<'a> {
    pub prefix: Option<&'a str>,
    pub local: &'a str,
    pub namespace: Option<&'a str>,
}

impl Name<'_> {
    /// `prefix:local`, or `local` without a prefix.
    pub fn qualified(&self) -> Cow<'_, str> {
        match self.prefix {
            Some(p) => Cow::Owned(format!("{p}:{}", self.local)),
            None => Cow::Borrowed(self.local),
        }
    }
}

/// An XML document (or a set of fragments) held as an arena of nodes.
#[derive(Clone, Debug)]
pub struct Document {
    pub(crate) nodes: Vec<Node>,
    pub(crate) text: String,
    pub(crate) atoms: Atoms,
    /// The XML declaration exactly as written, if any.
    pub(crate) decl: Option<Span>,
    /// Whitespace between top-level nodes, keyed by the document child it precedes
    /// (`NONE`: trailing); kept only so that unchanged messages serialise byte for byte.
    pub(crate) prolog_ws: Vec<(u32, Span)>,
    /// True while arena order is document order (after parsing, before any mutation).
    pub(crate) in_order: bool,
    pub(crate) order: OnceLock<Vec<u32>>,
}

impl Default for Document {
    fn default() -> Self {
        Document::new()
    }
}

impl Document {
    /// An empty document: just the document (root) node.
    pub fn new() -> Document {
        Document::with_capacity(0)
    }

    pub(crate) fn with_capacity(input_len: usize) -> Document {
        let mut nodes = Vec::with_capacity(1 + input_len / 16);
        nodes.push(Node::new(Kind::Document));
        Document {
            nodes,
            text: String::with_capacity(input_len / 2),
            atoms: Atoms::new(),
            decl: None,
            prolog_ws: Vec::new(),
            in_order: true,
            order: OnceLock::new(),
        }
    }

    // ---- internal helpers -------------------------------------------------------------

    #[inline]
    pub(crate) fn node(&self, idx: u32) -> &Node {
        &self.nodes[idx as usize]
    }

    #[inline]
    pub(crate) fn node_mut(&mut self, idx: u32) -> &mut Node {
        &mut self.nodes[idx as usize]
    }

    #[inline]
    pub(crate) fn span_str(&self, span: Span) -> &str {
        self.text.get(span.start..span.start + span.len).unwrap_or("")
    }

    #[inline]
    pub(crate) fn atom_str(&self, atom: Atom) -> &str {
        self.atoms.get(atom)
    }

    pub(crate) fn push_node(&mut self, node: Node) -> u32 {
        let idx = self.nodes.len() as u32;
        self.nodes.push(node);
        idx
    }

    pub(crate) fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span { start, len: s.len() }
    }

    #[inline]
    pub(crate) fn opt(idx: u32) -> Option<NodeId> {
        (idx != NONE).then_some(NodeId::arena(idx))
    }

    /// Does `id` denote a node of this document?
    pub fn contains(&self, id: NodeId) -> bool {
        match self.nodes.get(id.idx as usize) {
            None => false,
            Some(n) if id.ns == 0 => n.kind != Kind::Xmlns,
            Some(n) => n.kind == Kind::Element && (id.ns as usize) <= self.scope_atoms(id.idx).len(),
        }
    }

    // ---- identity and names -----------------------------------------------------------

    /// The document (root) node.
    pub fn root(&self) -> NodeId {
        NodeId::arena(0)
    }

    /// The root element, if the document has one.
    pub fn document_element(&self) -> Option<NodeId> {
        self.children(self.root()).find(|&c| self.is_element(c))
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        if id.ns != 0 {
            return NodeKind::Namespace;
        }
        match self.node(id.idx).kind {
            Kind::Document => NodeKind::Document,
            Kind::Element => NodeKind::Element,
            Kind::Attribute => NodeKind::Attribute,
            // Declarations are not exposed as nodes; treat a stray id like its namespace.
            Kind::Xmlns => NodeKind::Namespace,
            Kind::Text => NodeKind::Text,
            Kind::Comment => NodeKind::Comment,
            Kind::Pi => NodeKind::ProcessingInstruction,
        }
    }

    #[inline]
    pub fn is_element(&self, id: NodeId) -> bool {
        id.ns == 0 && self.node(id.idx).kind == Kind::Element
    }

    /// Name of an element, attribute, processing instruction (target as local name) or
    /// namespace node (prefix as local name, no namespace); `None` for the others.
    pub fn name(&self, id: NodeId) -> Option<Name<'_>> {
        if id.ns != 0 {
            let (prefix, _) = self.namespace_node(id)?;
            return Some(Name { prefix: None, local: self.atom_str(prefix), namespace: None });
        }
        let n = self.node(id.idx);
        match n.kind {
            Kind::Element | Kind::Attribute => Some(Name {
                prefix: (n.prefix != Atom::EMPTY).then(|| self.atom_str(n.prefix)),
                local: self.atom_str(n.local),
                namespace: (n.ns != Atom::EMPTY).then(|| self.atom_str(n.ns)),
            }),
            Kind::Pi => Some(Name { prefix: None, local: self.atom_str(n.local), namespace: None }),
            _ => None,
        }
    }

    /// Local name ("" for nodes without a name).
    pub fn local_name(&self, id: NodeId) -> &str {
        self.name(id).map(|n| n.local).unwrap_or("")
    }

    /// Namespace URI of an element or attribute name.
    pub fn namespace_uri(&self, id: NodeId) -> Option<&str> {
        self.name(id).and_then(|n| n.namespace)
    }

    /// Is this an element or attribute named `{namespace}local`?
    pub fn has_name(&self, id: NodeId, namespace: Option<&str>, local: &str) -> bool {
        id.ns == 0 && {
            let n = self.node(id.idx);
            matches!(n.kind, Kind::Element | Kind::Attribute)
                && self.atom_str(n.local) == local
                && self.atom_str(n.ns) == namespace.unwrap_or("")
        }
    }

    // ---- navigation -------------------------------------------------------------------

    /// Parent of a node: for attributes and namespace nodes, the element that owns them.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        if id.ns != 0 {
            return Some(NodeId::arena(id.idx));
        }
        Self::opt(self.node(id.idx).parent)
    }

    pub fn first_child(&self, id: NodeId) -> Option<NodeId> {
        if id.ns != 0 {
            return None;
        }
        Self::opt(self.node(id.idx).first)
    }

    pub fn last_child(&self, id: NodeId) -> Option<NodeId> {
        if id.ns != 0 {
            return None;
        }
        Self::opt(self.node(id.idx).last)
    }

    /// Next sibling among children (attributes and namespace nodes have none).
    pub fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        if id.ns != 0 || self.node(id.idx).kind == Kind::Attribute {
            return None;
        }
        Self::opt(self.node(id.idx).next)
    }

    pub fn previous_sibling(&self, id: NodeId) -> Option<NodeId> {
        if id.ns != 0 || self.node(id.idx).kind == Kind::Attribute {
            return None;
        }
        Self::opt(self.node(id.idx).prev)
    }

    /// Children in document order (none for attributes, namespace nodes and leaves).
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { doc: self, next: if id.ns != 0 { NONE } else { self.node(id.idx).first } }
    }

    /// Child elements in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(move |&c| self.node(c.idx).kind == Kind::Element)
    }

    pub fn first_element_child(&self, id: NodeId) -> Option<NodeId> {
        self.child_elements(id).next()
    }

    /// The first child element named `{namespace}local`.
    pub fn child_element(&self, id: NodeId, namespace: Option<&str>, local: &str) -> Option<NodeId> {
        self.child_elements(id).find(|&c| self.has_name(c, namespace, local))
    }

    /// All descendants in document order (not including `id`; no attributes).
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        let first = if id.ns != 0 { NONE } else { self.node(id.idx).first };
        Descendants { doc: self, root: id.idx, next: first }
    }

    /// Every attribute-list node of element `el` (attributes and namespace declarations),
    /// in written order.
    pub(crate) fn attr_chain(&self, el: u32) -> AttrChain<'_> {
        AttrChain { doc: self, next: self.node(el).first_attr }
    }

    /// Attribute nodes of an element, in written order (namespace declarations excluded).
    pub fn attributes(&self, id: NodeId) -> Attributes<'_> {
        let first = if id.ns != 0 { NONE } else { self.node(id.idx).first_attr };
        Attributes { doc: self, next: first }
    }

    /// The attribute node `{namespace}local` of an element.
    pub fn attribute_node(&self, id: NodeId, namespace: Option<&str>, local: &str) -> Option<NodeId> {
        self.attributes(id).find(|&a| self.has_name(a, namespace, local))
    }

    /// The value of attribute `{namespace}local` of an element.
    pub fn attribute(&self, id: NodeId, namespace: Option<&str>, local: &str) -> Option<&str> {
        self.attribute_node(id, namespace, local).map(|a| self.span_str(self.node(a.idx).value))
    }

    /// Namespace declarations written on an element: `(prefix, uri)`, `None` = default
    /// namespace, `""` as URI = the default namespace undeclared (`xmlns=""`).
    pub fn namespace_declarations(&self, id: NodeId) -> impl Iterator<Item = (Option<&str>, &str)> + '_ {
        let first = if id.ns != 0 || self.node(id.idx).kind != Kind::Element { NONE } else { self.node(id.idx).first_attr };
        AttrChain { doc: self, next: first }.filter_map(move |i| {
            let n = self.node(i);
            (n.kind == Kind::Xmlns)
                .then(|| ((n.prefix != Atom::EMPTY).then(|| self.atom_str(n.prefix)), self.atom_str(n.ns)))
        })
    }

    /// Textual content of leaves: text, comment, PI data, attribute value, namespace URI.
    pub fn text(&self, id: NodeId) -> Option<&str> {
        if id.ns != 0 {
            return self.namespace_node(id).map(|(_, uri)| self.atom_str(uri));
        }
        let n = self.node(id.idx);
        match n.kind {
            Kind::Text | Kind::Comment | Kind::Pi | Kind::Attribute => Some(self.span_str(n.value)),
            _ => None,
        }
    }

    /// The XPath string-value: for the document and elements, all descendant text in order.
    pub fn string_value(&self, id: NodeId) -> Cow<'_, str> {
        if let Some(t) = self.text(id) {
            return Cow::Borrowed(t);
        }
        let mut single: Option<&str> = None;
        let mut owned: Option<String> = None;
        for d in self.descendants(id) {
            let n = self.node(d.idx);
            if n.kind != Kind::Text {
                continue;
            }
            let t = self.span_str(n.value);
            match (&mut owned, single) {
                (Some(s), _) => s.push_str(t),
                (None, None) => single = Some(t),
                (None, Some(first)) => {
                    let mut s = String::with_capacity(first.len() + t.len());
                    s.push_str(first);
                    s.push_str(t);
                    owned = Some(s);
                }
            }
        }
        match owned {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(single.unwrap_or("")),
        }
    }

    /// Appends the string-value of `id` to `out`.
    pub fn append_string_value(&self, id: NodeId, out: &mut String) {
        if let Some(t) = self.text(id) {
            out.push_str(t);
            return;
        }
        for d in self.descendants(id) {
            let n = self.node(d.idx);
            if n.kind == Kind::Text {
                out.push_str(self.span_str(n.value));
            }
        }
    }

    // ---- namespaces -------------------------------------------------------------------

    /// In-scope bindings of an element as atoms, nearest first, one per prefix, without
    /// undeclared defaults; `xml` last. Besides written declarations, an element's own
    /// name and its attributes bind their prefixes: a node moved or created by mutation
    /// carries its namespace with it (the serialiser writes the declaration).
    pub(crate) fn scope_atoms(&self, el: u32) -> Vec<(Atom, Atom)> {
        let mut seen: Vec<(Atom, Atom)> = Vec::with_capacity(8);
        let mut cur = el;
        while cur != NONE {
            let n = self.node(cur);
            if n.kind != Kind::Element {
                break;
            }
            for an in self.attr_chain(cur).map(|a| self.node(a)) {
                if an.kind == Kind::Xmlns && !seen.iter().any(|(p, _)| *p == an.prefix) {
                    seen.push((an.prefix, an.ns));
                }
            }
            if !seen.iter().any(|(p, _)| *p == n.prefix) {
                seen.push((n.prefix, n.ns));
            }
            for an in self.attr_chain(cur).map(|a| self.node(a)) {
                if an.kind == Kind::Attribute && an.prefix != Atom::EMPTY && !seen.iter().any(|(p, _)| *p == an.prefix) {
                    seen.push((an.prefix, an.ns));
                }
            }
            cur = n.parent;
        }
        seen.retain(|&(p, u)| u != Atom::EMPTY && p != Atom::XML);
        seen.push((Atom::XML, Atom::XML_NS));
        seen
    }

    /// Resolves a prefix at an element (`None` = the default namespace).
    pub(crate) fn lookup_atom(&self, el: u32, prefix: Atom) -> Option<Atom> {
        if prefix == Atom::XML {
            return Some(Atom::XML_NS);
        }
        let mut cur = el;
        while cur != NONE {
            let n = self.node(cur);
            if n.kind != Kind::Element {
                break;
            }
            if let Some(an) = self.attr_chain(cur).map(|a| self.node(a)).find(|an| an.kind == Kind::Xmlns && an.prefix == prefix) {
                return (an.ns != Atom::EMPTY).then_some(an.ns);
            }
            if n.prefix == prefix {
                return (n.ns != Atom::EMPTY).then_some(n.ns);
            }
            cur = n.parent;
        }
        None
    }

    /// The namespace URI bound to `prefix` (`None` = default namespace) at element `id`.
    pub fn lookup_namespace(&self, id: NodeId, prefix: Option<&str>) -> Option<&str> {
        if id.ns != 0 || self.node(id.idx).kind != Kind::Element {
            return None;
        }
        let p = match prefix {
            None => Atom::EMPTY,
            Some(p) => self.atoms.lookup(p)?,
        };
        self.lookup_atom(id.idx, p).map(|u| self.atom_str(u))
    }

    /// All namespaces in scope at element `id`: `(prefix, uri)` with `None` for the
    /// default namespace; includes `xml`.
    pub fn in_scope_namespaces(&self, id: NodeId) -> Vec<(Option<&str>, &str)> {
        if id.ns != 0 || self.node(id.idx).kind != Kind::Element {
            return Vec::new();
        }
        self.scope_atoms(id.idx)
            .into_iter()
            .map(|(p, u)| ((p != Atom::EMPTY).then(|| self.atom_str(p)), self.atom_str(u)))
            .collect()
    }

    /// For a namespace node: (prefix, uri) atoms.
    pub(crate) fn namespace_node(&self, id: NodeId) -> Option<(Atom, Atom)> {
        self.scope_atoms(id.idx).get(id.ns as usize - 1).copied()
    }

    // ---- document order ---------------------------------------------------------------

    /// A key that sorts nodes in document order (attribute and namespace nodes after their
    /// element and before its children; trees detached from the document after it).
    #[inline]
    pub(crate) fn order_key(&self, id: NodeId) -> u64 {
        let pos = if self.in_order {
            id.idx
        } else {
            self.order.get_or_init(|| self.compute_order()).get(id.idx as usize).copied().unwrap_or(NONE)
        };
        (u64::from(pos) << 32) | u64::from(id.ns)
    }

    fn compute_order(&self) -> Vec<u32> {
        let mut order = vec![NONE; self.nodes.len()];
        let mut next = 0u32;
        let mut number = |doc: &Document, root: u32, order: &mut Vec<u32>| {
            let mut cur = root;
            loop {
                order[cur as usize] = next;
                next += 1;
                let n = doc.node(cur);
                for a in doc.attr_chain(cur) {
                    order[a as usize] = next;
                    next += 1;
                }
                if n.first != NONE {
                    cur = n.first;
                    continue;
                }
                loop {
                    if cur == root {
                        return;
                    }
                    let c = doc.node(cur);
                    if c.next != NONE {
                        cur = c.next;
                        break;
                    }
                    cur = c.parent;
                    if cur == NONE {
                        return;
                    }
                }
            }
        };
        number(self, 0, &mut order);
        for i in 1..self.nodes.len() {
            let n = &self.nodes[i];
            if n.parent == NONE && order[i] == NONE && matches!(n.kind, Kind::Element | Kind::Text | Kind::Comment | Kind::Pi) {
                number(self, i as u32, &mut order);
            }
        }
        order
    }

    /// Compares two nodes in document order.
    pub fn compare_order(&self, a: NodeId, b: NodeId) -> std::cmp::Ordering {
        self.order_key(a).cmp(&self.order_key(b))
    }

    /// Sorts node ids into document order and removes duplicates.
    pub fn sort_document_order(&self, nodes: &mut Vec<NodeId>) {
        if nodes.len() < 2 {
            return;
        }
        if self.in_order {
            nodes.sort_unstable_by_key(|n| (n.idx, n.ns));
        } else {
            nodes.sort_by_cached_key(|&n| self.order_key(n));
        }
        nodes.dedup();
    }
}

/// Iterator over children.
pub struct Children<'a> {
    doc: &'a Document,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.node(id).next;
        Some(NodeId::arena(id))
    }
}

/// Iterator over the attribute chain (attributes and declarations) as arena indices.
pub(crate) struct AttrChain<'a> {
    pub(crate) doc: &'a Document,
    pub(crate) next: u32,
}

impl Iterator for AttrChain<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.node(id).next;
        Some(id)
    }
}

/// Iterator over attribute nodes.
pub struct Attributes<'a> {
    doc: &'a Document,
    next: u32,
}

impl Iterator for Attributes<'_> {
    type Item = NodeId;
    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        while self.next != NONE {
            let id = self.next;
            let n = self.doc.node(id);
            self.next = n.next;
            if n.kind == Kind::Attribute {
                return Some(NodeId::arena(id));
            }
        }
        None
    }
}

/// Pre-order iterator over the descendants of a node.
pub struct Descendants<'a> {
    doc: &'a Document,
    root: u32,
    next: u32,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next;
        if cur == NONE {
            return None;
        }
        self.next = self.doc.next_in_subtree(cur, self.root, true);
        Some(NodeId::arena(cur))
    }
}

impl Document {
    /// The node after `cur` in pre-order, staying inside the subtree of `root`
    /// (`descend`: whether `cur`'s own children count).
    #[inline]
    pub(crate) fn next_in_subtree(&self, cur: u32, root: u32, descend: bool) -> u32 {
        let n = self.node(cur);
        if descend && n.first != NONE {
            return n.first;
        }
        let mut c = cur;
        loop {
            if c == root {
                return NONE;
            }
            let cn = self.node(c);
            if cn.next != NONE {
                return cn.next;
            }
            c = cn.parent;
            if c == NONE {
                return NONE;
            }
        }
    }
}
