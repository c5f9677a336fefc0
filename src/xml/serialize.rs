//! Writing a [`Document`] (or any node of it) back out as XML text.
//!
//! Unchanged input comes back byte for byte where the data model allows (declaration,
//! quotes, `<a/>` versus `<a></a>`, CDATA sections and top-level whitespace are remembered);
//! after mutation the output is still namespace-well-formed: every element and attribute
//! name is checked against the bindings already written, and a declaration is added where
//! the name's namespace is not in scope under its prefix.

use super::atoms::Atom;
use super::tree::{Document, Kind, NodeId, FLAG_CDATA, FLAG_EMPTY_TAG, FLAG_SINGLE_QUOTE, FLAG_WS, NONE};

impl Document {
    /// Serialises a node: the document node gives the whole document; an element gives
    /// its subtree, self-contained (it declares every namespace its names use); a leaf
    /// gives its markup (an attribute as `name="value"`).
    pub fn serialize(&self, node: NodeId) -> String {
        let mut out = String::with_capacity(256);
        self.serialize_into(node, &mut out);
        out
    }

    /// The whole document as text.
    pub fn to_xml(&self) -> String {
        self.serialize(self.root())
    }

    /// Like [`Document::serialize`], appending to `out`.
    pub fn serialize_into(&self, node: NodeId, out: &mut String) {
        if node.ns != 0 {
            if let Some((p, u)) = self.namespace_node(node) {
                out.push_str("xmlns");
                if p != Atom::EMPTY {
                    out.push(':');
                    out.push_str(self.atom_str(p));
                }
                out.push_str("=\"");
                escape_attr(out, self.atom_str(u), b'"');
                out.push('"');
            }
            return;
        }
        let mut w = Writer { doc: self, out, scope: vec![(Atom::XML, Atom::XML_NS)], decls: Vec::new(), prefixes: Vec::new() };
        match self.node(node.idx).kind {
            Kind::Document => w.document(),
            Kind::Attribute => {
                let n = self.node(node.idx);
                w.qname(n.prefix, n.local);
                w.out.push_str("=\"");
                escape_attr(w.out, self.span_str(n.value), b'"');
                w.out.push('"');
            }
            Kind::Xmlns => {}
            _ => w.subtree(node.idx),
        }
    }
}

fn escape_text(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|b| matches!(b, b'&' | b'<' | b'>' | b'\r')) {
        out.push_str(s);
        return;
    }
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            // Only `]]>` must be escaped; leaving other `>` alone keeps input as it was.
            b'>' if i >= 2 && &bytes[i - 2..i] == b"]]" => "&gt;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

fn escape_attr(out: &mut String, s: &str, quote: u8) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r') || b == quote) {
        out.push_str(s);
        return;
    }
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'"' if quote == b'"' => "&quot;",
            b'\'' if quote == b'\'' => "&apos;",
            // Literal whitespace would be normalised to spaces when read back.
            b'\t' => "&#9;",
            b'\n' => "&#10;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// A declaration to write on the current element.
#[derive(Clone, Copy)]
struct Decl {
    prefix: Atom,
    uri: Atom,
    /// Arena index of the written declaration, or `NONE` for one the writer adds.
    source: u32,
    skip: bool,
}

struct Writer<'a> {
    doc: &'a Document,
    out: &'a mut String,
    /// Bindings written so far on open elements: (prefix, uri).
    scope: Vec<(Atom, Atom)>,
    decls: Vec<Decl>,
    /// Prefix chosen for each attribute of the current element (by chain position).
    prefixes: Vec<AttrPrefix>,
}

impl Writer<'_> {
    fn qname(&mut self, prefix: Atom, local: Atom) {
        if prefix != Atom::EMPTY {
            self.out.push_str(self.doc.atom_str(prefix));
            self.out.push(':');
        }
        self.out.push_str(self.doc.atom_str(local));
    }

    fn document(&mut self) {
        let doc = self.doc;
        if let Some(decl) = doc.decl {
            self.out.push_str(doc.span_str(decl));
        }
        let mut c = doc.node(0).first;
        while c != NONE {
            for &(k, ws) in &doc.prolog_ws {
                if k == c {
                    self.out.push_str(doc.span_str(ws));
                }
            }
            self.subtree(c);
            c = doc.node(c).next;
        }
        for &(k, ws) in &doc.prolog_ws {
            if k == NONE {
                self.out.push_str(doc.span_str(ws));
            }
        }
    }

    fn subtree(&mut self, root: u32) {
        let doc = self.doc;
        // (node, scope mark) of elements whose end tag is pending
        let mut open: Vec<(u32, usize)> = Vec::new();
        let mut cur = root;
        loop {
            let n = doc.node(cur);
            let mut descend = false;
            match n.kind {
                Kind::Element => {
                    let mark = self.scope.len();
                    self.start_tag(cur);
                    if n.flags & FLAG_WS != 0 {
                        self.out.push_str(doc.span_str(n.ws));
                    }
                    if n.first == NONE {
                        if n.flags & FLAG_EMPTY_TAG != 0 {
                            self.out.push_str("/>");
                        } else {
                            self.out.push_str("></");
                            self.qname(n.prefix, n.local);
                            self.out.push('>');
                        }
                        self.scope.truncate(mark);
                    } else {
                        self.out.push('>');
                        open.push((cur, mark));
                        descend = true;
                    }
                }
                Kind::Text => {
                    let t = doc.span_str(n.value);
                    if n.flags & FLAG_CDATA != 0 && !t.contains("]]>") {
                        self.out.push_str("<![CDATA[");
                        self.out.push_str(t);
                        self.out.push_str("]]>");
                    } else {
                        escape_text(self.out, t);
                    }
                }
                Kind::Comment => {
                    self.out.push_str("<!--");
                    self.out.push_str(doc.span_str(n.value));
                    self.out.push_str("-->");
                }
                Kind::Pi => {
                    self.out.push_str("<?");
                    self.out.push_str(doc.atom_str(n.local));
                    let data = doc.span_str(n.value);
                    if !data.is_empty() {
                        self.out.push(' ');
                        self.out.push_str(data);
                    }
                    self.out.push_str("?>");
                }
                Kind::Document | Kind::Attribute | Kind::Xmlns => {}
            }
            if descend {
                cur = n.first;
                continue;
            }
            // Climb: close finished elements until a next sibling is found.
            loop {
                if cur == root {
                    return;
                }
                let next = doc.node(cur).next;
                if next != NONE {
                    cur = next;
                    break;
                }
                let Some((parent, mark)) = open.pop() else { return };
                self.out.push_str("</");
                let p = doc.node(parent);
                self.qname(p.prefix, p.local);
                self.out.push('>');
                self.scope.truncate(mark);
                cur = parent;
            }
        }
    }
}

/// How an attribute's prefix is written.
#[derive(Clone, Copy)]
enum AttrPrefix {
    Atom(Atom),
    /// `ns{n}`, declared on this element only.
    Invented(u32),
}

impl Writer<'_> {
    /// The URI bound to `prefix` on the element being written or its ancestors
    /// (`EMPTY`: unbound, or the default namespace undeclared).
    fn bound(&self, prefix: Atom) -> Atom {
        if let Some(d) = self.decls.iter().rev().find(|d| !d.skip && d.prefix == prefix) {
            return d.uri;
        }
        self.scope.iter().rev().find(|&&(p, _)| p == prefix).map_or(Atom::EMPTY, |&(_, u)| u)
    }

    fn declared_here(&self, prefix: Atom) -> bool {
        self.decls.iter().any(|d| !d.skip && d.prefix == prefix)
    }

    fn add_decl(&mut self, prefix: Atom, uri: Atom) {
        for d in self.decls.iter_mut().filter(|d| d.prefix == prefix) {
            d.skip = true;
        }
        self.decls.push(Decl { prefix, uri, source: NONE, skip: false });
    }

    /// A non-empty prefix already bound to `uri` here.
    fn existing_prefix_for(&self, uri: Atom) -> Option<Atom> {
        let here = self.decls.iter().filter(|d| !d.skip).map(|d| d.prefix);
        let above = self.scope.iter().rev().map(|&(p, _)| p);
        here.chain(above).find(|&p| p != Atom::EMPTY && self.bound(p) == uri)
    }

    fn start_tag(&mut self, el: u32) {
        let doc = self.doc;
        let n = doc.node(el);
        self.decls.clear();
        self.prefixes.clear();
        for a in doc.attr_chain(el) {
            let an = doc.node(a);
            if an.kind == Kind::Xmlns {
                self.decls.push(Decl { prefix: an.prefix, uri: an.ns, source: a, skip: false });
            }
        }
        // The element's own name decides its binding; a conflicting written declaration of
        // the same prefix can only come from mutation, and is dropped.
        if self.bound(n.prefix) != n.ns {
            self.add_decl(n.prefix, n.ns);
        }
        let mut next_invented = 1u32;
        for an in doc.attr_chain(el).map(|a| doc.node(a)) {
            let mut choice = AttrPrefix::Atom(an.prefix);
            if an.kind == Kind::Attribute && an.ns != Atom::EMPTY {
                let p = an.prefix;
                if an.ns == Atom::XML_NS {
                    choice = AttrPrefix::Atom(Atom::XML);
                } else if p != Atom::EMPTY && self.bound(p) == an.ns {
                    // already right
                } else if p != Atom::EMPTY && p != Atom::XML && !self.declared_here(p) {
                    self.add_decl(p, an.ns);
                } else if let Some(q) = self.existing_prefix_for(an.ns) {
                    choice = AttrPrefix::Atom(q);
                } else {
                    loop {
                        let k = next_invented;
                        next_invented += 1;
                        let taken = doc.atoms.lookup(&format!("ns{k}")).is_some_and(|at| self.bound(at) != Atom::EMPTY);
                        if !taken {
                            choice = AttrPrefix::Invented(k);
                            break;
                        }
                    }
                }
            }
            self.prefixes.push(choice);
        }

        self.out.push('<');
        self.qname(n.prefix, n.local);
        for i in 0..self.decls.len() {
            let d = self.decls[i];
            if d.source == NONE && !d.skip {
                self.write_decl(doc.atom_str(d.prefix), d.prefix != Atom::EMPTY, d.uri, b'"');
            }
        }
        for (i, an) in doc.attr_chain(el).map(|a| doc.node(a)).enumerate() {
            if let (Kind::Attribute, AttrPrefix::Invented(k)) = (an.kind, self.prefixes[i]) {
                self.write_decl(&format!("ns{k}"), true, an.ns, b'"');
            }
        }
        for (i, a) in doc.attr_chain(el).enumerate() {
            let an = doc.node(a);
            let quote = if an.flags & FLAG_SINGLE_QUOTE != 0 { b'\'' } else { b'"' };
            match an.kind {
                Kind::Xmlns if self.decls.iter().any(|d| d.source == a && !d.skip) => {
                    self.space_before(a);
                    self.write_decl_body(doc.atom_str(an.prefix), an.prefix != Atom::EMPTY, an.ns, quote);
                }
                Kind::Attribute => {
                    self.space_before(a);
                    match self.prefixes[i] {
                        AttrPrefix::Atom(p) => self.qname(p, an.local),
                        AttrPrefix::Invented(k) => {
                            self.out.push_str(&format!("ns{k}:"));
                            self.out.push_str(doc.atom_str(an.local));
                        }
                    }
                    self.out.push('=');
                    self.out.push(quote as char);
                    escape_attr(self.out, doc.span_str(an.value), quote);
                    self.out.push(quote as char);
                }
                _ => {}
            }
        }
        // Descendants see this element's bindings; invented prefixes serve only its own
        // attributes and are not carried down.
        for d in &self.decls {
            if !d.skip {
                self.scope.push((d.prefix, d.uri));
            }
        }
    }

    /// The whitespace written before an attribute: as in the input, or one space.
    fn space_before(&mut self, a: u32) {
        let n = self.doc.node(a);
        if n.flags & FLAG_WS != 0 {
            self.out.push_str(self.doc.span_str(n.ws));
        } else {
            self.out.push(' ');
        }
    }

    fn write_decl(&mut self, prefix: &str, prefixed: bool, uri: Atom, quote: u8) {
        self.out.push(' ');
        self.write_decl_body(prefix, prefixed, uri, quote);
    }

    fn write_decl_body(&mut self, prefix: &str, prefixed: bool, uri: Atom, quote: u8) {
        self.out.push_str("xmlns");
        if prefixed {
            self.out.push(':');
            self.out.push_str(prefix);
        }
        self.out.push('=');
        self.out.push(quote as char);
        escape_attr(self.out, self.doc.atom_str(uri), quote);
        self.out.push(quote as char);
    }
}
