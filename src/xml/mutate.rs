//! Rewriting a [`Document`]: creating, moving, copying and removing nodes.
//!
//! Mediators build and splice fragments (payloadFactory, enrich). The XPath data model has
//! no empty or adjacent text nodes, and XPath runs over the tree as it stands, so every
//! operation here keeps that true: text placed next to text is merged (the earlier node
//! survives and holds both), and empty text is never linked. Removed nodes stay in the arena,
//! detached, and can be inserted again.

use super::atoms::{Atom, XMLNS_NS, XML_NS};
use super::parse::{self, is_ncname, Limits};
use super::tree::{Document, Kind, Node, NodeId, NodeKind, FLAG_CDATA, FLAG_EMPTY_TAG, FLAG_WS, NONE};
use super::{TreeError, XmlError};

impl Document {
    fn invalidate_order(&mut self) {
        self.in_order = false;
        self.order = Default::default();
    }

    /// An arena node that may be linked as a child (element, text, comment, PI).
    fn check_child_node(&self, id: NodeId) -> Result<u32, TreeError> {
        if id.ns != 0 {
            return Err(TreeError::WrongKind(NodeKind::Namespace));
        }
        let n = self.nodes.get(id.idx as usize).ok_or(TreeError::UnknownNode)?;
        match n.kind {
            Kind::Element | Kind::Text | Kind::Comment | Kind::Pi => Ok(id.idx),
            _ => Err(TreeError::WrongKind(self.kind(id))),
        }
    }

    fn check_container(&self, id: NodeId) -> Result<u32, TreeError> {
        if id.ns != 0 {
            return Err(TreeError::NotAContainer);
        }
        let n = self.nodes.get(id.idx as usize).ok_or(TreeError::UnknownNode)?;
        match n.kind {
            Kind::Element | Kind::Document => Ok(id.idx),
            _ => Err(TreeError::NotAContainer),
        }
    }

    fn check_element(&self, id: NodeId) -> Result<u32, TreeError> {
        match self.nodes.get(id.idx as usize) {
            Some(n) if id.ns == 0 && n.kind == Kind::Element => Ok(id.idx),
            Some(_) => Err(TreeError::WrongKind(self.kind(id))),
            None => Err(TreeError::UnknownNode),
        }
    }

    // ---- creation ---------------------------------------------------------------------

    /// A new, detached element `{namespace}local`, written with `prefix` (`None`: no prefix,
    /// i.e. in the default namespace when `namespace` is given).
    pub fn create_element(&mut self, namespace: Option<&str>, prefix: Option<&str>, local: &str) -> Result<NodeId, TreeError> {
        let (prefix, local, ns) = self.name_atoms(namespace, prefix, local)?;
        let mut n = Node::new(Kind::Element);
        n.prefix = prefix;
        n.local = local;
        n.ns = ns;
        n.flags = FLAG_EMPTY_TAG;
        Ok(NodeId::arena(self.push_node(n)))
    }

    fn name_atoms(&mut self, namespace: Option<&str>, prefix: Option<&str>, local: &str) -> Result<(Atom, Atom, Atom), TreeError> {
        let namespace = namespace.filter(|u| !u.is_empty());
        if !is_ncname(local) {
            return Err(TreeError::InvalidName(local.to_string()));
        }
        if let Some(p) = prefix {
            if !is_ncname(p) || p == "xmlns" {
                return Err(TreeError::InvalidName(p.to_string()));
            }
            match namespace {
                None => return Err(TreeError::PrefixWithoutNamespace),
                Some(u) if (p == "xml") != (u == XML_NS) => return Err(TreeError::InvalidName(format!("{p}:{local}"))),
                Some(_) => {}
            }
        }
        if namespace == Some(XMLNS_NS) {
            return Err(TreeError::InvalidName(local.to_string()));
        }
        let p = prefix.map_or(Atom::EMPTY, |p| self.atoms.intern(p));
        let l = self.atoms.intern(local);
        let u = namespace.map_or(Atom::EMPTY, |u| self.atoms.intern(u));
        Ok((p, l, u))
    }

    /// A new, detached text node.
    pub fn create_text(&mut self, text: &str) -> NodeId {
        let mut n = Node::new(Kind::Text);
        n.value = self.push_text(text);
        NodeId::arena(self.push_node(n))
    }

    /// A new, detached comment (`--` and a trailing `-` cannot be written in a comment).
    pub fn create_comment(&mut self, text: &str) -> Result<NodeId, TreeError> {
        if text.contains("--") || text.ends_with('-') {
            return Err(TreeError::InvalidContent("a comment cannot contain '--' or end with '-'"));
        }
        let mut n = Node::new(Kind::Comment);
        n.value = self.push_text(text);
        Ok(NodeId::arena(self.push_node(n)))
    }

    /// A new, detached processing instruction.
    pub fn create_processing_instruction(&mut self, target: &str, data: &str) -> Result<NodeId, TreeError> {
        if !is_ncname(target) || target.eq_ignore_ascii_case("xml") {
            return Err(TreeError::InvalidName(target.to_string()));
        }
        if data.contains("?>") {
            return Err(TreeError::InvalidContent("a processing instruction cannot contain '?>'"));
        }
        let mut n = Node::new(Kind::Pi);
        n.local = self.atoms.intern(target);
        n.value = self.push_text(data);
        Ok(NodeId::arena(self.push_node(n)))
    }

    // ---- linking primitives -----------------------------------------------------------

    /// Unlinks a child from its parent without merging anything; returns its old
    /// neighbours.
    fn unlink(&mut self, idx: u32) -> (u32, u32) {
        let (parent, prev, next) = {
            let n = self.node(idx);
            (n.parent, n.prev, n.next)
        };
        if prev != NONE {
            self.node_mut(prev).next = next;
        } else if parent != NONE {
            self.node_mut(parent).first = next;
        }
        if next != NONE {
            self.node_mut(next).prev = prev;
        } else if parent != NONE {
            self.node_mut(parent).last = prev;
        }
        let n = self.node_mut(idx);
        n.parent = NONE;
        n.prev = NONE;
        n.next = NONE;
        if parent == 0 {
            self.prolog_ws.retain(|&(k, _)| k != idx);
        }
        (prev, next)
    }

    /// Links a detached node under `parent` before `before` (`NONE`: at the end).
    fn link(&mut self, parent: u32, idx: u32, before: u32) {
        let prev = if before == NONE { self.node(parent).last } else { self.node(before).prev };
        {
            let n = self.node_mut(idx);
            n.parent = parent;
            n.prev = prev;
            n.next = before;
        }
        if prev == NONE {
            self.node_mut(parent).first = idx;
        } else {
            self.node_mut(prev).next = idx;
        }
        if before == NONE {
            self.node_mut(parent).last = idx;
        } else {
            self.node_mut(before).prev = idx;
        }
    }

    /// Appends the text of `b` to `a` and unlinks `b`.
    fn absorb(&mut self, a: u32, b: u32) {
        let mut s = String::with_capacity(self.node(a).value.len + self.node(b).value.len);
        s.push_str(self.span_str(self.node(a).value));
        s.push_str(self.span_str(self.node(b).value));
        let span = self.push_text(&s);
        let n = self.node_mut(a);
        n.value = span;
        n.flags &= !FLAG_CDATA;
        self.unlink(b);
    }

    fn is_text(&self, idx: u32) -> bool {
        idx != NONE && self.node(idx).kind == Kind::Text
    }

    /// Merges a text node with text neighbours; returns the surviving node.
    fn merge_around(&mut self, idx: u32) -> u32 {
        if !self.is_text(idx) {
            return idx;
        }
        let mut survivor = idx;
        let prev = self.node(idx).prev;
        if self.is_text(prev) {
            self.absorb(prev, idx);
            survivor = prev;
        }
        let next = self.node(survivor).next;
        if self.is_text(next) {
            self.absorb(survivor, next);
        }
        survivor
    }

    /// Moves (or first places) `child` under `parent` before `before`.
    fn place(&mut self, parent: u32, child: u32, before: u32) -> Result<NodeId, TreeError> {
        if before == child {
            return Ok(NodeId::arena(child));
        }
        let mut a = parent;
        while a != NONE {
            if a == child {
                return Err(TreeError::Cycle);
            }
            a = self.node(a).parent;
        }
        let kind = self.node(child).kind;
        if self.node(parent).kind == Kind::Document {
            match kind {
                Kind::Text => return Err(TreeError::TextInDocument),
                Kind::Element if self.children(self.root()).any(|c| c.idx != child && self.node(c.idx).kind == Kind::Element) => {
                    return Err(TreeError::SecondRoot);
                }
                _ => {}
            }
        }
        self.invalidate_order();
        let (old_prev, old_next) = if self.node(child).parent != NONE { self.unlink(child) } else { (NONE, NONE) };
        let empty_text = kind == Kind::Text && self.node(child).value.len == 0;
        if !empty_text {
            self.link(parent, child, before);
        }
        if self.is_text(old_prev) && self.is_text(old_next) && self.node(old_prev).next == old_next {
            self.absorb(old_prev, old_next);
        }
        if empty_text {
            return Ok(NodeId::arena(child));
        }
        Ok(NodeId::arena(self.merge_around(child)))
    }

    // ---- structure --------------------------------------------------------------------

    /// Appends `child` as the last child of `parent`, moving it if it is already placed.
    /// Returns the node now holding `child`'s content (a text node may have been merged
    /// into a preceding text node).
    pub fn append_child(&mut self, parent: NodeId, child: NodeId) -> Result<NodeId, TreeError> {
        let p = self.check_container(parent)?;
        let c = self.check_child_node(child)?;
        self.place(p, c, NONE)
    }

    /// Inserts `new` as the first child of `parent`.
    pub fn prepend_child(&mut self, parent: NodeId, new: NodeId) -> Result<NodeId, TreeError> {
        let p = self.check_container(parent)?;
        let c = self.check_child_node(new)?;
        let first = self.node(p).first;
        self.place(p, c, first)
    }

    /// Inserts `new` just before `reference` (a child of some node).
    pub fn insert_before(&mut self, reference: NodeId, new: NodeId) -> Result<NodeId, TreeError> {
        let r = self.check_child_node(reference)?;
        let c = self.check_child_node(new)?;
        let parent = self.node(r).parent;
        if parent == NONE {
            return Err(TreeError::NoParent);
        }
        self.place(parent, c, r)
    }

    /// Inserts `new` just after `reference`.
    pub fn insert_after(&mut self, reference: NodeId, new: NodeId) -> Result<NodeId, TreeError> {
        let r = self.check_child_node(reference)?;
        let c = self.check_child_node(new)?;
        let parent = self.node(r).parent;
        if parent == NONE {
            return Err(TreeError::NoParent);
        }
        if c == r {
            return Ok(new);
        }
        let next = self.node(r).next;
        self.place(parent, c, next)
    }

    /// Detaches a node from the tree (an attribute from its element). The node stays
    /// valid and may be inserted again; text left adjacent by the removal is merged.
    pub fn remove(&mut self, node: NodeId) -> Result<(), TreeError> {
        if node.ns != 0 {
            return Err(TreeError::WrongKind(NodeKind::Namespace));
        }
        let n = self.nodes.get(node.idx as usize).ok_or(TreeError::UnknownNode)?;
        match n.kind {
            Kind::Attribute => {
                self.unlink_attr(node.idx);
                Ok(())
            }
            Kind::Element | Kind::Text | Kind::Comment | Kind::Pi => {
                if n.parent == NONE {
                    return Ok(());
                }
                self.invalidate_order();
                let (prev, next) = self.unlink(node.idx);
                if self.is_text(prev) && self.is_text(next) {
                    self.absorb(prev, next);
                }
                Ok(())
            }
            _ => Err(TreeError::WrongKind(self.kind(node))),
        }
    }

    /// Puts `new` where `old` is and detaches `old`. Returns the node now holding `new`'s
    /// content.
    pub fn replace(&mut self, old: NodeId, new: NodeId) -> Result<NodeId, TreeError> {
        let o = self.check_child_node(old)?;
        let c = self.check_child_node(new)?;
        if o == c {
            return Ok(new);
        }
        let parent = self.node(o).parent;
        if parent == NONE {
            return Err(TreeError::NoParent);
        }
        let mut a = parent;
        while a != NONE {
            if a == c {
                return Err(TreeError::Cycle);
            }
            a = self.node(a).parent;
        }
        if self.node(parent).kind == Kind::Document && self.node(c).kind == Kind::Text {
            return Err(TreeError::TextInDocument);
        }
        if self.node(parent).kind == Kind::Document
            && self.node(c).kind == Kind::Element
            && self.node(o).kind != Kind::Element
            && self.children(self.root()).any(|x| x.idx != c && self.node(x.idx).kind == Kind::Element)
        {
            return Err(TreeError::SecondRoot);
        }
        self.invalidate_order();
        let (_, next) = self.unlink(o);
        if next == c {
            // `new` already sits right where `old` was; only the neighbours may need merging.
            return Ok(NodeId::arena(self.merge_around(c)));
        }
        self.place(parent, c, next)
    }

    /// Detaches all children of an element or the document.
    pub fn remove_children(&mut self, node: NodeId) -> Result<(), TreeError> {
        let p = self.check_container(node)?;
        let mut c = self.node(p).first;
        if c == NONE {
            return Ok(());
        }
        self.invalidate_order();
        while c != NONE {
            let next = self.node(c).next;
            let n = self.node_mut(c);
            n.parent = NONE;
            n.prev = NONE;
            n.next = NONE;
            c = next;
        }
        let n = self.node_mut(p);
        n.first = NONE;
        n.last = NONE;
        if p == 0 {
            self.prolog_ws.clear();
        }
        Ok(())
    }

    /// Sets the text of a node: an element's children are replaced by one text node (none
    /// if `text` is empty); text, comment, PI and attribute nodes get the new value.
    pub fn set_text_content(&mut self, node: NodeId, text: &str) -> Result<(), TreeError> {
        if node.ns != 0 {
            return Err(TreeError::WrongKind(NodeKind::Namespace));
        }
        let kind = self.nodes.get(node.idx as usize).ok_or(TreeError::UnknownNode)?.kind;
        match kind {
            Kind::Element => {
                self.remove_children(node)?;
                if !text.is_empty() {
                    let t = self.create_text(text);
                    self.place(node.idx, t.idx, NONE)?;
                }
                Ok(())
            }
            Kind::Document => Err(TreeError::TextInDocument),
            Kind::Text if text.is_empty() => self.remove(node),
            Kind::Comment if text.contains("--") || text.ends_with('-') => {
                Err(TreeError::InvalidContent("a comment cannot contain '--' or end with '-'"))
            }
            Kind::Pi if text.contains("?>") => Err(TreeError::InvalidContent("a processing instruction cannot contain '?>'")),
            Kind::Text | Kind::Attribute | Kind::Comment | Kind::Pi => {
                let span = self.push_text(text);
                let n = self.node_mut(node.idx);
                n.value = span;
                n.flags &= !FLAG_CDATA;
                Ok(())
            }
            Kind::Xmlns => Err(TreeError::WrongKind(NodeKind::Namespace)),
        }
    }

    // ---- attributes and namespaces ----------------------------------------------------

    fn unlink_attr(&mut self, idx: u32) {
        let (owner, prev, next) = {
            let n = self.node(idx);
            (n.parent, n.prev, n.next)
        };
        if owner == NONE {
            return;
        }
        self.invalidate_order();
        if prev != NONE {
            self.node_mut(prev).next = next;
        } else {
            self.node_mut(owner).first_attr = next;
        }
        if next != NONE {
            self.node_mut(next).prev = prev;
        } else {
            self.node_mut(owner).last_attr = prev;
        }
        let n = self.node_mut(idx);
        n.parent = NONE;
        n.prev = NONE;
        n.next = NONE;
    }

    fn append_attr(&mut self, el: u32, mut n: Node) -> u32 {
        self.invalidate_order();
        n.parent = el;
        n.prev = self.node(el).last_attr;
        let idx = self.push_node(n);
        let prev = self.node(idx).prev;
        if prev == NONE {
            self.node_mut(el).first_attr = idx;
        } else {
            self.node_mut(prev).next = idx;
        }
        self.node_mut(el).last_attr = idx;
        idx
    }

    /// Sets attribute `{namespace}local` on an element, creating it if needed. A namespaced
    /// attribute needs a prefix when written; without one the serialiser picks one.
    pub fn set_attribute(
        &mut self,
        element: NodeId,
        namespace: Option<&str>,
        prefix: Option<&str>,
        local: &str,
        value: &str,
    ) -> Result<NodeId, TreeError> {
        let el = self.check_element(element)?;
        if prefix.is_none() && namespace.unwrap_or("").is_empty() && local == "xmlns" {
            return Err(TreeError::InvalidName(local.to_string()));
        }
        let (p, l, u) = self.name_atoms(namespace, prefix, local)?;
        let span = self.push_text(value);
        let mut a = self.node(el).first_attr;
        while a != NONE {
            let n = self.node(a);
            if n.kind == Kind::Attribute && n.local == l && n.ns == u {
                let n = self.node_mut(a);
                n.value = span;
                if prefix.is_some() {
                    n.prefix = p;
                }
                return Ok(NodeId::arena(a));
            }
            a = n.next;
        }
        let mut n = Node::new(Kind::Attribute);
        n.prefix = p;
        n.local = l;
        n.ns = u;
        n.value = span;
        Ok(NodeId::arena(self.append_attr(el, n)))
    }

    /// Removes attribute `{namespace}local`; returns whether it was there.
    pub fn remove_attribute(&mut self, element: NodeId, namespace: Option<&str>, local: &str) -> bool {
        match self.attribute_node(element, namespace, local) {
            Some(a) => {
                self.unlink_attr(a.idx);
                true
            }
            None => false,
        }
    }

    /// Declares (or re-declares) a namespace prefix on an element; `None` is the default
    /// namespace, and `""` as URI undeclares it.
    pub fn declare_namespace(&mut self, element: NodeId, prefix: Option<&str>, uri: &str) -> Result<(), TreeError> {
        let el = self.check_element(element)?;
        match prefix {
            Some(p) if !is_ncname(p) || p == "xmlns" => return Err(TreeError::InvalidName(p.to_string())),
            Some("xml") if uri != XML_NS => return Err(TreeError::InvalidName("xml".into())),
            Some("xml") => return Ok(()),
            Some(_) if uri.is_empty() => return Err(TreeError::InvalidContent("a prefix cannot be undeclared in XML 1.0")),
            _ if uri == XML_NS || uri == XMLNS_NS => return Err(TreeError::InvalidContent("reserved namespace")),
            _ => {}
        }
        let p = prefix.map_or(Atom::EMPTY, |p| self.atoms.intern(p));
        let u = self.atoms.intern(uri);
        let mut a = self.node(el).first_attr;
        while a != NONE {
            let n = self.node(a);
            if n.kind == Kind::Xmlns && n.prefix == p {
                self.node_mut(a).ns = u;
                return Ok(());
            }
            a = n.next;
        }
        let mut n = Node::new(Kind::Xmlns);
        n.prefix = p;
        n.ns = u;
        self.append_attr(el, n);
        Ok(())
    }

    // ---- copying ----------------------------------------------------------------------

    /// Deep-copies a node (element, text, comment, PI) of `source` into this document,
    /// detached. Declarations written on copied elements come along; the serialiser adds
    /// whatever the new place lacks.
    pub fn import(&mut self, source: &Document, node: NodeId) -> Result<NodeId, TreeError> {
        let root = source.check_child_node(node)?;
        Ok(NodeId::arena(self.copy_from(Some(source), root)))
    }

    /// Deep-copies a node of this document (detached).
    pub fn copy(&mut self, node: NodeId) -> Result<NodeId, TreeError> {
        let root = self.check_child_node(node)?;
        Ok(NodeId::arena(self.copy_from(None, root)))
    }

    fn copy_from(&mut self, source: Option<&Document>, root: u32) -> u32 {
        // (source node, parent in the copy)
        let mut stack: Vec<(u32, u32)> = vec![(root, NONE)];
        let mut top = NONE;
        let mut value = String::new();
        while let Some((s, parent)) = stack.pop() {
            let n = self.copy_node(source, s, &mut value);
            let idx = self.push_node(n);
            if parent == NONE {
                top = idx;
            } else {
                self.link(parent, idx, NONE);
            }
            let src = source.unwrap_or(&*self);
            let mut a = src.node(s).first_attr;
            let mut attrs = Vec::new();
            while a != NONE {
                attrs.push(a);
                a = src.node(a).next;
            }
            let mut children = Vec::new();
            let mut c = src.node(s).last;
            while c != NONE {
                children.push(c);
                c = src.node(c).prev;
            }
            for a in attrs {
                let n = self.copy_node(source, a, &mut value);
                self.append_attr(idx, n);
            }
            stack.extend(children.into_iter().map(|c| (c, idx)));
        }
        self.invalidate_order();
        top
    }

    /// Copies one node's own data (no links).
    fn copy_node(&mut self, source: Option<&Document>, s: u32, value: &mut String) -> Node {
        let src = source.unwrap_or(&*self);
        let sn = src.node(s);
        let mut n = Node::new(sn.kind);
        n.flags = sn.flags;
        value.clear();
        value.push_str(src.span_str(sn.value));
        let ws = (sn.flags & FLAG_WS != 0).then(|| src.span_str(sn.ws).to_string());
        let (p, l, u) = (sn.prefix, sn.local, sn.ns);
        match source {
            Some(src) => {
                let (ps, ls, us) = (src.atom_str(p).to_string(), src.atom_str(l).to_string(), src.atom_str(u).to_string());
                n.prefix = self.atoms.intern(&ps);
                n.local = self.atoms.intern(&ls);
                n.ns = self.atoms.intern(&us);
            }
            None => {
                n.prefix = p;
                n.local = l;
                n.ns = u;
            }
        }
        n.value = self.push_text(value);
        if let Some(ws) = ws {
            n.ws = self.push_text(&ws);
        }
        n
    }

    /// Parses `xml` as element content into new, detached nodes of this document, with
    /// `namespaces` (`(prefix, uri)`, `""` for the default namespace) in scope. Returns the
    /// top-level nodes in order.
    pub fn parse_fragment<I, P, U>(&mut self, xml: &str, namespaces: I, limits: &Limits) -> Result<Vec<NodeId>, XmlError>
    where
        I: IntoIterator<Item = (P, U)>,
        P: AsRef<str>,
        U: AsRef<str>,
    {
        parse::parse_fragment(self, xml, namespaces, limits)
    }
}
