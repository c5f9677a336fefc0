//! Evaluation of compiled expressions over a document.
//!
//! Each value is computed in the form its consumer needs: a boolean context asks only
//! whether a path has a node (and stops at the first), a string or number context asks for
//! the first node in document order, comparisons with a scalar stop at the first node that
//! satisfies them. Paths whose steps keep document order (see `Path::ordered`) are walked
//! depth-first without building intermediate node-sets; the others are evaluated step by
//! step with sorting and de-duplication, as the Recommendation defines them.

use std::borrow::Cow;
use std::collections::HashSet;

use super::ast::*;
use super::functions::{self, number_to_string, string_to_number};
use super::{FunctionCall, Host, Value, XPath, XPathError};
use crate::xml::atoms::Atom;
use crate::xml::tree::{Kind, NONE};
use crate::xml::{Document, NodeId};

type Visitor<'v> = &'v mut dyn FnMut(NodeId) -> Result<bool, XPathError>;

#[derive(Clone, Copy)]
struct Ctx {
    node: NodeId,
    pos: usize,
    size: usize,
}

pub(crate) struct Eval<'a> {
    doc: &'a Document,
    host: &'a dyn Host,
    source: &'a str,
    /// Name slots resolved against this document: `None` if the name never occurs in it.
    names: Vec<Option<(Atom, Atom)>>,
    spaces: Vec<Option<Atom>>,
}

fn type_error(message: impl Into<String>) -> XPathError {
    XPathError::Type { message: message.into() }
}

impl<'a> Eval<'a> {
    pub(crate) fn new(xp: &'a XPath, doc: &'a Document, host: &'a dyn Host) -> Result<Eval<'a>, XPathError> {
        let names = xp.names.iter().map(|(ns, local)| Some((doc.atoms.lookup(ns)?, doc.atoms.lookup(local)?))).collect();
        let spaces = xp.spaces.iter().map(|ns| doc.atoms.lookup(ns)).collect();
        Ok(Eval { doc, host, source: xp.source(), names, spaces })
    }

    fn top(&self, node: NodeId) -> Result<Ctx, XPathError> {
        if !self.doc.contains(node) {
            return Err(type_error("the context node does not belong to the document"));
        }
        Ok(Ctx { node, pos: 1, size: 1 })
    }

    pub(crate) fn value_top(&self, e: &Expr, node: NodeId) -> Result<Value, XPathError> {
        self.value(e, self.top(node)?)
    }

    pub(crate) fn string_top(&self, e: &Expr, node: NodeId) -> Result<String, XPathError> {
        Ok(self.string(e, self.top(node)?)?.into_owned())
    }

    pub(crate) fn boolean_top(&self, e: &Expr, node: NodeId) -> Result<bool, XPathError> {
        self.boolean(e, self.top(node)?)
    }

    pub(crate) fn number_top(&self, e: &Expr, node: NodeId) -> Result<f64, XPathError> {
        self.number(e, self.top(node)?)
    }

    pub(crate) fn nodes_top(&self, e: &Expr, node: NodeId) -> Result<Vec<NodeId>, XPathError> {
        self.nodes(e, self.top(node)?)
    }

    pub(crate) fn first_top(&self, e: &Expr, node: NodeId) -> Result<Option<NodeId>, XPathError> {
        self.first_node(e, self.top(node)?)
    }

    // ---- expressions ------------------------------------------------------------------

    fn value(&self, e: &Expr, c: Ctx) -> Result<Value, XPathError> {
        Ok(match e {
            Expr::Number(n) => Value::Number(*n),
            Expr::Literal(s) => Value::String(s.clone()),
            Expr::Var(p, l) => self.variable(p.as_deref(), l)?,
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) => Value::Boolean(self.boolean(e, c)?),
            Expr::Arith(..) | Expr::Neg(_) => Value::Number(self.number(e, c)?),
            Expr::Union(..) | Expr::Path(_) | Expr::Filter(..) => Value::NodeSet(self.nodes(e, c)?),
            Expr::Core(f, args) => self.core(*f, args, c)?,
            Expr::Ext(call, args) => self.extension(call, args, c)?,
        })
    }

    fn boolean(&self, e: &Expr, c: Ctx) -> Result<bool, XPathError> {
        match e {
            Expr::Or(a, b) => Ok(self.boolean(a, c)? || self.boolean(b, c)?),
            Expr::And(a, b) => Ok(self.boolean(a, c)? && self.boolean(b, c)?),
            Expr::Cmp(op, a, b) => self.compare(*op, a, b, c),
            Expr::Path(p) => self.visit_any(p, c, &mut |_| Ok(true)),
            Expr::Number(n) => Ok(*n != 0.0 && !n.is_nan()),
            Expr::Literal(s) => Ok(!s.is_empty()),
            Expr::Core(CoreFn::True, _) => Ok(true),
            Expr::Core(CoreFn::False, _) => Ok(false),
            Expr::Core(CoreFn::Not, args) => Ok(!self.boolean(&args[0], c)?),
            Expr::Core(CoreFn::Boolean, args) => self.boolean(&args[0], c),
            _ => Ok(self.value(e, c)?.to_boolean()),
        }
    }

    fn number(&self, e: &Expr, c: Ctx) -> Result<f64, XPathError> {
        match e {
            Expr::Number(n) => Ok(*n),
            Expr::Literal(s) => Ok(string_to_number(s)),
            Expr::Neg(a) => Ok(-self.number(a, c)?),
            Expr::Arith(op, a, b) => {
                let x = self.number(a, c)?;
                let y = self.number(b, c)?;
                Ok(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    // Rust's `%` on floats truncates like Java's, which is what XPath's mod is.
                    ArithOp::Mod => x % y,
                })
            }
            Expr::Path(p) => Ok(match self.first_in_path(p, c)? {
                Some(n) => string_to_number(&self.doc.string_value(n)),
                None => f64::NAN,
            }),
            _ => Ok(self.value(e, c)?.to_number(self.doc)),
        }
    }

    fn string<'s>(&'s self, e: &'s Expr, c: Ctx) -> Result<Cow<'s, str>, XPathError> {
        match e {
            Expr::Literal(s) => Ok(Cow::Borrowed(s)),
            Expr::Number(n) => Ok(Cow::Owned(number_to_string(*n))),
            Expr::Path(p) => Ok(match self.first_in_path(p, c)? {
                Some(n) => self.doc.string_value(n),
                None => Cow::Borrowed(""),
            }),
            Expr::Core(CoreFn::String, args) if args.is_empty() => Ok(self.doc.string_value(c.node)),
            Expr::Core(CoreFn::String, args) => self.string(&args[0], c),
            _ => Ok(Cow::Owned(self.value(e, c)?.to_string(self.doc))),
        }
    }

    fn nodes(&self, e: &Expr, c: Ctx) -> Result<Vec<NodeId>, XPathError> {
        match e {
            Expr::Path(p) => self.select_all(p, c),
            Expr::Union(a, b) => {
                let mut x = self.nodes(a, c)?;
                let y = self.nodes(b, c)?;
                if x.is_empty() {
                    return Ok(y);
                }
                x.extend(y);
                self.doc.sort_document_order(&mut x);
                Ok(x)
            }
            Expr::Filter(primary, preds) => {
                let mut x = self.nodes(primary, c)?;
                self.apply_preds(preds, &mut x)?;
                Ok(x)
            }
            Expr::Core(CoreFn::Id, args) => {
                // Without a DTD no attribute is of type ID, so id() never finds anything.
                self.value(&args[0], c)?;
                Ok(Vec::new())
            }
            _ => match self.value(e, c)? {
                Value::NodeSet(v) => Ok(v),
                other => Err(type_error(format!("expected a node-set, got a {}", other.type_name()))),
            },
        }
    }

    fn first_node(&self, e: &Expr, c: Ctx) -> Result<Option<NodeId>, XPathError> {
        match e {
            Expr::Path(p) => self.first_in_path(p, c),
            _ => Ok(self.nodes(e, c)?.first().copied()),
        }
    }

    fn variable(&self, prefix: Option<&str>, name: &str) -> Result<Value, XPathError> {
        let shown = || match prefix {
            Some(p) => format!("{p}:{name}"),
            None => name.to_string(),
        };
        match self.host.variable(prefix, name) {
            Some(v) => self.checked_host_value(v),
            None => Err(XPathError::UnknownVariable { name: shown() }),
        }
    }

    /// Node-sets from the host are checked and put in document order.
    fn checked_host_value(&self, v: Value) -> Result<Value, XPathError> {
        match v {
            Value::NodeSet(mut nodes) => {
                if nodes.iter().any(|&n| !self.doc.contains(n)) {
                    return Err(type_error("the host returned nodes of another document"));
                }
                self.doc.sort_document_order(&mut nodes);
                Ok(Value::NodeSet(nodes))
            }
            other => Ok(other),
        }
    }

    fn extension(&self, call: &ExtCall, args: &[Expr], c: Ctx) -> Result<Value, XPathError> {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.value(a, c)?);
        }
        let fc = FunctionCall {
            prefix: call.prefix.as_deref(),
            namespace: call.namespace.as_deref(),
            name: &call.name,
            doc: self.doc,
            context: c.node,
        };
        match self.host.function(&fc, values) {
            Some(r) => self.checked_host_value(r?),
            None => Err(XPathError::UnknownFunction { expr: self.source.to_string(), name: call.name.clone() }),
        }
    }

    // ---- comparisons ------------------------------------------------------------------

    fn compare(&self, op: CmpOp, a: &Expr, b: &Expr, c: Ctx) -> Result<bool, XPathError> {
        let scalar = |t: Option<Type>| matches!(t, Some(Type::String | Type::Number | Type::Boolean));
        if let Expr::Path(p) = a {
            if scalar(b.static_type()) {
                let v = self.value(b, c)?;
                return self.compare_path(op, p, &v, c);
            }
        }
        if let Expr::Path(p) = b {
            if scalar(a.static_type()) {
                let v = self.value(a, c)?;
                return self.compare_path(op.swapped(), p, &v, c);
            }
        }
        let x = self.value(a, c)?;
        let y = self.value(b, c)?;
        Ok(self.compare_values(op, &x, &y))
    }

    /// `path op scalar`, stopping at the first node that makes it true.
    fn compare_path(&self, op: CmpOp, p: &Path, v: &Value, c: Ctx) -> Result<bool, XPathError> {
        let doc = self.doc;
        match v {
            Value::Boolean(b) => {
                let any = self.visit_any(p, c, &mut |_| Ok(true))?;
                Ok(cmp_bool(op, any, *b))
            }
            Value::Number(y) => self.visit_any(p, c, &mut |n| Ok(cmp_num(op, string_to_number(&doc.string_value(n)), *y))),
            Value::String(s) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                self.visit_any(p, c, &mut |n| Ok((*doc.string_value(n) == **s) == (op == CmpOp::Eq)))
            }
            Value::String(s) => {
                let y = string_to_number(s);
                self.visit_any(p, c, &mut |n| Ok(cmp_num(op, string_to_number(&doc.string_value(n)), y)))
            }
            Value::NodeSet(_) => {
                let x = Value::NodeSet(self.select_all(p, c)?);
                Ok(self.compare_values(op, &x, v))
            }
        }
    }

    fn compare_values(&self, op: CmpOp, x: &Value, y: &Value) -> bool {
        let doc = self.doc;
        match (x, y) {
            (Value::NodeSet(a), Value::NodeSet(b)) => self.compare_sets(op, a, b),
            (Value::NodeSet(a), s) => self.compare_set_scalar(op, a, s),
            (s, Value::NodeSet(b)) => self.compare_set_scalar(op.swapped(), b, s),
            _ => match op {
                CmpOp::Eq | CmpOp::Ne => {
                    let eq = match (x, y) {
                        (Value::Boolean(_), _) | (_, Value::Boolean(_)) => x.to_boolean() == y.to_boolean(),
                        (Value::Number(_), _) | (_, Value::Number(_)) => x.to_number(doc) == y.to_number(doc),
                        _ => x.to_string(doc) == y.to_string(doc),
                    };
                    eq == (op == CmpOp::Eq)
                }
                _ => cmp_num(op, x.to_number(doc), y.to_number(doc)),
            },
        }
    }

    fn compare_set_scalar(&self, op: CmpOp, a: &[NodeId], s: &Value) -> bool {
        let doc = self.doc;
        match s {
            Value::Boolean(b) => cmp_bool(op, !a.is_empty(), *b),
            Value::Number(y) => a.iter().any(|&n| cmp_num(op, string_to_number(&doc.string_value(n)), *y)),
            Value::String(t) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                a.iter().any(|&n| (*doc.string_value(n) == **t) == (op == CmpOp::Eq))
            }
            Value::String(t) => {
                let y = string_to_number(t);
                a.iter().any(|&n| cmp_num(op, string_to_number(&doc.string_value(n)), y))
            }
            Value::NodeSet(b) => self.compare_sets(op, a, b),
        }
    }

    fn compare_sets(&self, op: CmpOp, a: &[NodeId], b: &[NodeId]) -> bool {
        if a.is_empty() || b.is_empty() {
            return false;
        }
        let doc = self.doc;
        match op {
            CmpOp::Eq => {
                let bs: HashSet<Cow<'_, str>> = b.iter().map(|&n| doc.string_value(n)).collect();
                a.iter().any(|&n| bs.contains(&doc.string_value(n)))
            }
            CmpOp::Ne => {
                // Some pair differs unless every value on both sides is one and the same.
                let first = doc.string_value(a[0]);
                a.iter().chain(b.iter()).any(|&n| doc.string_value(n) != first)
            }
            _ => {
                let nums = |s: &[NodeId]| -> Vec<f64> {
                    s.iter().map(|&n| string_to_number(&doc.string_value(n))).filter(|x| !x.is_nan()).collect()
                };
                let (xs, ys) = (nums(a), nums(b));
                let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
                let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if xs.is_empty() || ys.is_empty() {
                    return false;
                }
                match op {
                    CmpOp::Lt => min(&xs) < max(&ys),
                    CmpOp::Le => min(&xs) <= max(&ys),
                    CmpOp::Gt => max(&xs) > min(&ys),
                    _ => max(&xs) >= min(&ys),
                }
            }
        }
    }

    // ---- core functions ---------------------------------------------------------------

    fn context_or_first(&self, args: &[Expr], c: Ctx) -> Result<Option<NodeId>, XPathError> {
        match args.first() {
            None => Ok(Some(c.node)),
            Some(a) => self.first_node(a, c),
        }
    }

    fn string_arg<'s>(&'s self, args: &'s [Expr], i: usize, c: Ctx) -> Result<Cow<'s, str>, XPathError> {
        match args.get(i) {
            Some(a) => self.string(a, c),
            None => Ok(self.doc.string_value(c.node)),
        }
    }

    fn core(&self, f: CoreFn, args: &[Expr], c: Ctx) -> Result<Value, XPathError> {
        let doc = self.doc;
        Ok(match f {
            CoreFn::Last => Value::Number(c.size as f64),
            CoreFn::Position => Value::Number(c.pos as f64),
            CoreFn::Count => {
                let mut n = 0usize;
                self.each_node(&args[0], c, &mut |_| {
                    n += 1;
                    Ok(false)
                })?;
                Value::Number(n as f64)
            }
            CoreFn::Sum => {
                let mut total = 0.0;
                self.each_node(&args[0], c, &mut |n| {
                    total += string_to_number(&doc.string_value(n));
                    Ok(false)
                })?;
                Value::Number(total)
            }
            CoreFn::Id => {
                self.value(&args[0], c)?;
                Value::NodeSet(Vec::new())
            }
            CoreFn::LocalName => Value::String(match self.context_or_first(args, c)? {
                Some(n) => doc.local_name(n).to_string(),
                None => String::new(),
            }),
            CoreFn::NamespaceUri => Value::String(match self.context_or_first(args, c)? {
                Some(n) if matches!(doc.kind(n), crate::xml::NodeKind::Element | crate::xml::NodeKind::Attribute) => {
                    doc.namespace_uri(n).unwrap_or("").to_string()
                }
                _ => String::new(),
            }),
            CoreFn::Name => Value::String(match self.context_or_first(args, c)? {
                Some(n) => doc.name(n).map(|q| q.qualified().into_owned()).unwrap_or_default(),
                None => String::new(),
            }),
            CoreFn::String => Value::String(self.string_arg(args, 0, c)?.into_owned()),
            CoreFn::Concat => {
                let mut s = String::new();
                for a in args {
                    s.push_str(&self.string(a, c)?);
                }
                Value::String(s)
            }
            CoreFn::StartsWith => Value::Boolean(self.string(&args[0], c)?.starts_with(&*self.string(&args[1], c)?)),
            CoreFn::Contains => Value::Boolean(self.string(&args[0], c)?.contains(&*self.string(&args[1], c)?)),
            CoreFn::SubstringBefore => {
                Value::String(functions::substring_before(&self.string(&args[0], c)?, &self.string(&args[1], c)?).to_string())
            }
            CoreFn::SubstringAfter => {
                Value::String(functions::substring_after(&self.string(&args[0], c)?, &self.string(&args[1], c)?).to_string())
            }
            CoreFn::Substring => {
                let s = self.string(&args[0], c)?;
                let start = self.number(&args[1], c)?;
                let len = match args.get(2) {
                    Some(a) => Some(self.number(a, c)?),
                    None => None,
                };
                Value::String(functions::substring(&s, start, len))
            }
            CoreFn::StringLength => Value::Number(self.string_arg(args, 0, c)?.chars().count() as f64),
            CoreFn::NormalizeSpace => Value::String(functions::normalize_space(&self.string_arg(args, 0, c)?)),
            CoreFn::Translate => Value::String(functions::translate(
                &self.string(&args[0], c)?,
                &self.string(&args[1], c)?,
                &self.string(&args[2], c)?,
            )),
            CoreFn::Boolean | CoreFn::Not | CoreFn::True | CoreFn::False => Value::Boolean(self.boolean_fn(f, args, c)?),
            CoreFn::Lang => {
                let want = self.string(&args[0], c)?;
                Value::Boolean(self.lang(c.node).is_some_and(|have| functions::lang_matches(have, &want)))
            }
            CoreFn::Number => Value::Number(match args.first() {
                Some(a) => self.number(a, c)?,
                None => string_to_number(&doc.string_value(c.node)),
            }),
            CoreFn::Floor => Value::Number(self.number(&args[0], c)?.floor()),
            CoreFn::Ceiling => Value::Number(self.number(&args[0], c)?.ceil()),
            CoreFn::Round => Value::Number(functions::round(self.number(&args[0], c)?)),
        })
    }

    fn boolean_fn(&self, f: CoreFn, args: &[Expr], c: Ctx) -> Result<bool, XPathError> {
        Ok(match f {
            CoreFn::True => true,
            CoreFn::False => false,
            CoreFn::Not => !self.boolean(&args[0], c)?,
            _ => self.boolean(&args[0], c)?,
        })
    }

    /// The `xml:lang` in effect at a node.
    fn lang(&self, node: NodeId) -> Option<&'a str> {
        let doc = self.doc;
        let mut cur = Some(node);
        while let Some(n) = cur {
            if doc.is_element(n) {
                if let Some(v) = doc.attribute(n, Some(crate::xml::XML_NAMESPACE), "lang") {
                    return Some(v);
                }
            }
            cur = doc.parent(n);
        }
        None
    }

    /// Calls `f` once per distinct node of a node-set expression, in document order.
    fn each_node(&self, e: &Expr, c: Ctx, f: Visitor<'_>) -> Result<bool, XPathError> {
        match e {
            Expr::Path(p) => self.visit_distinct(p, c, f),
            _ => {
                for n in self.nodes(e, c)? {
                    if f(n)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    // ---- location paths ---------------------------------------------------------------

    fn start_set(&self, start: &Start, c: Ctx) -> Result<Vec<NodeId>, XPathError> {
        Ok(match start {
            Start::Root => {
                let mut n = c.node;
                while let Some(p) = self.doc.parent(n) {
                    n = p;
                }
                vec![n]
            }
            Start::Context => vec![c.node],
            Start::Expr(e) => self.nodes(e, c)?,
        })
    }

    fn select_all(&self, p: &Path, c: Ctx) -> Result<Vec<NodeId>, XPathError> {
        let start = self.start_set(&p.start, c)?;
        if p.steps.is_empty() {
            return Ok(start);
        }
        if p.ordered && start.len() <= 1 {
            let mut out = Vec::new();
            for s in start {
                self.dfs(&p.steps, s, &mut |n| {
                    out.push(n);
                    Ok(false)
                })?;
            }
            return Ok(out);
        }
        let mut set = start;
        let mut flat = set.len() <= 1;
        for step in &p.steps {
            set = self.step_all(step, &set, &mut flat)?;
            if set.is_empty() {
                break;
            }
        }
        Ok(set)
    }

    fn first_in_path(&self, p: &Path, c: Ctx) -> Result<Option<NodeId>, XPathError> {
        let mut first = None;
        self.visit_distinct(p, c, &mut |n| {
            first = Some(n);
            Ok(true)
        })?;
        Ok(first)
    }

    /// Visits the nodes of a path in document order, each once; `f` returns true to stop.
    fn visit_distinct(&self, p: &Path, c: Ctx, f: Visitor<'_>) -> Result<bool, XPathError> {
        if p.ordered && !p.steps.is_empty() {
            let start = self.start_set(&p.start, c)?;
            if start.len() <= 1 {
                for s in start {
                    if self.dfs(&p.steps, s, f)? {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
        }
        for n in self.select_all(p, c)? {
            if f(n)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Visits the nodes of a path in any order, possibly more than once; for existence and
    /// comparisons. All steps but the last are evaluated as sets (so that no node is walked
    /// from twice), the last is streamed.
    fn visit_any(&self, p: &Path, c: Ctx, f: Visitor<'_>) -> Result<bool, XPathError> {
        let start = self.start_set(&p.start, c)?;
        let Some((last, init)) = p.steps.split_last() else {
            for n in start {
                if f(n)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        };
        if p.ordered && start.len() <= 1 {
            for s in start {
                if self.dfs(&p.steps, s, f)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        let mut set = start;
        let mut flat = set.len() <= 1;
        for step in init {
            set = self.step_all(step, &set, &mut flat)?;
            if set.is_empty() {
                return Ok(false);
            }
        }
        for n in set {
            if self.dfs(std::slice::from_ref(last), n, f)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Depth-first over `steps` from `node`, applying each step's predicates per context
    /// node as the Recommendation does.
    fn dfs(&self, steps: &[Step], node: NodeId, f: Visitor<'_>) -> Result<bool, XPathError> {
        let Some((step, rest)) = steps.split_first() else {
            return f(node);
        };
        let mut candidates = self.axis(step.axis, node).filter(|&n| self.matches(&step.test, step.axis, n));
        match step.preds.as_slice() {
            [] => {
                for n in candidates {
                    if self.dfs(rest, n, f)? {
                        return Ok(true);
                    }
                }
            }
            [Pred { kind: PredKind::Index(k), .. }] => {
                if *k >= 1.0 && k.fract() == 0.0 {
                    if let Some(n) = candidates.nth(*k as usize - 1) {
                        return self.dfs(rest, n, f);
                    }
                }
            }
            preds => {
                let mut buf: Vec<NodeId> = candidates.collect();
                self.apply_preds(preds, &mut buf)?;
                for n in buf {
                    if self.dfs(rest, n, f)? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// One step from every node of `input` (in document order, no duplicates); the result
    /// is in document order without duplicates. `flat` tracks whether no node of the set
    /// lies inside another's subtree, which lets child and descendant steps skip sorting.
    fn step_all(&self, step: &Step, input: &[NodeId], flat: &mut bool) -> Result<Vec<NodeId>, XPathError> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for &n in input {
            let from = out.len();
            let candidates = self.axis(step.axis, n).filter(|&m| self.matches(&step.test, step.axis, m));
            if step.preds.is_empty() {
                out.extend(candidates);
            } else {
                buf.clear();
                buf.extend(candidates);
                self.apply_preds(&step.preds, &mut buf)?;
                out.extend_from_slice(&buf);
            }
            if step.axis.is_reverse() {
                out[from..].reverse();
            }
        }
        let single = input.len() <= 1;
        let keeps_order =
            matches!(step.axis, Axis::Child | Axis::Attribute | Axis::Namespace | Axis::SelfNode | Axis::Descendant | Axis::DescendantOrSelf);
        if !(single || *flat && keeps_order) {
            self.doc.sort_document_order(&mut out);
        }
        *flat = if single {
            matches!(
                step.axis,
                Axis::Child | Axis::Attribute | Axis::Namespace | Axis::SelfNode | Axis::Parent | Axis::FollowingSibling | Axis::PrecedingSibling
            )
        } else {
            *flat && matches!(step.axis, Axis::Child | Axis::Attribute | Axis::Namespace | Axis::SelfNode)
        };
        Ok(out)
    }

    /// Filters `nodes` (in the axis' proximity order) by each predicate in turn.
    fn apply_preds(&self, preds: &[Pred], nodes: &mut Vec<NodeId>) -> Result<(), XPathError> {
        for p in preds {
            if nodes.is_empty() {
                return Ok(());
            }
            match p.kind {
                PredKind::Index(k) => {
                    let keep = (k >= 1.0 && k.fract() == 0.0).then(|| nodes.get(k as usize - 1).copied()).flatten();
                    nodes.clear();
                    nodes.extend(keep);
                }
                PredKind::Last => {
                    let last = nodes[nodes.len() - 1];
                    nodes.clear();
                    nodes.push(last);
                }
                _ => {
                    let size = nodes.len();
                    let mut kept = 0;
                    for i in 0..size {
                        let n = nodes[i];
                        let c = Ctx { node: n, pos: i + 1, size };
                        let keep = match p.kind {
                            PredKind::Boolean => self.boolean(&p.expr, c)?,
                            PredKind::Number => self.number(&p.expr, c)? == (i + 1) as f64,
                            _ => match self.value(&p.expr, c)? {
                                Value::Number(x) => x == (i + 1) as f64,
                                v => v.to_boolean(),
                            },
                        };
                        if keep {
                            nodes[kept] = n;
                            kept += 1;
                        }
                    }
                    nodes.truncate(kept);
                }
            }
        }
        Ok(())
    }

    // ---- axes and node tests ----------------------------------------------------------

    #[inline]
    fn matches(&self, test: &Test, axis: Axis, id: NodeId) -> bool {
        if id.ns != 0 {
            return match test {
                Test::Node => true,
                Test::Any => axis == Axis::Namespace,
                Test::Name(slot) => {
                    axis == Axis::Namespace
                        && matches!(self.names[*slot], Some((ns, local))
                            if ns == Atom::EMPTY && self.doc.namespace_node(id).is_some_and(|(p, _)| p == local))
                }
                _ => false,
            };
        }
        let n = self.doc.node(id.idx);
        let principal = match axis {
            Axis::Attribute => Kind::Attribute,
            Axis::Namespace => Kind::Xmlns,
            _ => Kind::Element,
        };
        match test {
            Test::Node => true,
            Test::Text => n.kind == Kind::Text,
            Test::Comment => n.kind == Kind::Comment,
            Test::Pi(None) => n.kind == Kind::Pi,
            Test::Pi(Some(t)) => n.kind == Kind::Pi && self.doc.atom_str(n.local) == t,
            Test::Any => n.kind == principal,
            Test::AnyIn(slot) => n.kind == principal && self.spaces[*slot] == Some(n.ns),
            Test::Name(slot) => {
                n.kind == principal && matches!(self.names[*slot], Some((ns, local)) if n.ns == ns && n.local == local)
            }
        }
    }

    fn axis(&self, axis: Axis, id: NodeId) -> AxisIter<'a> {
        let doc = self.doc;
        // Attribute and namespace nodes have a parent but are nobody's children.
        let tree_node = id.ns == 0 && !matches!(doc.node(id.idx).kind, Kind::Attribute | Kind::Xmlns);
        let owner = if tree_node { id.idx } else { doc.parent(id).map_or(NONE, |p| p.idx) };
        match axis {
            Axis::SelfNode => AxisIter::One(Some(id)),
            Axis::Parent => AxisIter::One(doc.parent(id)),
            Axis::Child if tree_node => AxisIter::Siblings { doc, next: doc.node(id.idx).first, forward: true },
            Axis::Descendant if tree_node => AxisIter::Subtree { doc, root: id.idx, next: doc.node(id.idx).first },
            Axis::DescendantOrSelf if tree_node => AxisIter::Subtree { doc, root: id.idx, next: id.idx },
            Axis::DescendantOrSelf => AxisIter::One(Some(id)),
            Axis::Ancestor => AxisIter::Ancestors { doc, next: doc.parent(id) },
            Axis::AncestorOrSelf => AxisIter::Ancestors { doc, next: Some(id) },
            Axis::FollowingSibling if tree_node => AxisIter::Siblings { doc, next: doc.node(id.idx).next, forward: true },
            Axis::PrecedingSibling if tree_node => AxisIter::Siblings { doc, next: doc.node(id.idx).prev, forward: false },
            // From an attribute or namespace node, what follows starts with the owner
            // element's children (they come after it in document order).
            Axis::Following if owner != NONE => AxisIter::Subtree { doc, root: NONE, next: doc.next_in_subtree(owner, NONE, !tree_node) },
            Axis::Preceding if owner != NONE => AxisIter::Preceding { doc, cur: owner, anc: doc.node(owner).parent },
            Axis::Attribute if tree_node && doc.node(id.idx).kind == Kind::Element => {
                AxisIter::Attributes { doc, next: doc.node(id.idx).first_attr }
            }
            Axis::Namespace if tree_node && doc.node(id.idx).kind == Kind::Element => {
                AxisIter::Namespaces { el: id.idx, i: 0, n: doc.scope_atoms(id.idx).len() as u32 }
            }
            _ => AxisIter::Empty,
        }
    }
}

fn cmp_num(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn cmp_bool(op: CmpOp, a: bool, b: bool) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        _ => cmp_num(op, f64::from(u8::from(a)), f64::from(u8::from(b))),
    }
}

/// Nodes along an axis, in the axis' own order (reverse axes: nearest first).
enum AxisIter<'a> {
    Empty,
    One(Option<NodeId>),
    Siblings { doc: &'a Document, next: u32, forward: bool },
    /// Pre-order within `root`'s subtree (`NONE`: to the end of the tree).
    Subtree { doc: &'a Document, root: u32, next: u32 },
    Ancestors { doc: &'a Document, next: Option<NodeId> },
    /// Reverse document order, skipping the ancestors of the start node (`anc` is the next
    /// ancestor to skip).
    Preceding { doc: &'a Document, cur: u32, anc: u32 },
    Attributes { doc: &'a Document, next: u32 },
    Namespaces { el: u32, i: u32, n: u32 },
}

impl Iterator for AxisIter<'_> {
    type Item = NodeId;

    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        match self {
            AxisIter::Empty => None,
            AxisIter::One(n) => n.take(),
            AxisIter::Siblings { doc, next, forward } => {
                let cur = *next;
                if cur == NONE {
                    return None;
                }
                let n = doc.node(cur);
                *next = if *forward { n.next } else { n.prev };
                Some(NodeId::arena(cur))
            }
            AxisIter::Subtree { doc, root, next } => {
                let cur = *next;
                if cur == NONE {
                    return None;
                }
                *next = doc.next_in_subtree(cur, *root, true);
                Some(NodeId::arena(cur))
            }
            AxisIter::Ancestors { doc, next } => {
                let cur = (*next)?;
                *next = doc.parent(cur);
                Some(cur)
            }
            AxisIter::Preceding { doc, cur, anc } => loop {
                let n = doc.node(*cur);
                if n.prev != NONE {
                    let mut x = n.prev;
                    while doc.node(x).last != NONE {
                        x = doc.node(x).last;
                    }
                    *cur = x;
                    return Some(NodeId::arena(x));
                }
                let p = n.parent;
                if p == NONE {
                    return None;
                }
                *cur = p;
                if p == *anc {
                    *anc = doc.node(p).parent;
                    continue;
                }
                return Some(NodeId::arena(p));
            },
            AxisIter::Attributes { doc, next } => {
                while *next != NONE {
                    let cur = *next;
                    let n = doc.node(cur);
                    *next = n.next;
                    if n.kind == Kind::Attribute {
                        return Some(NodeId::arena(cur));
                    }
                }
                None
            }
            AxisIter::Namespaces { el, i, n } => {
                if *i >= *n {
                    return None;
                }
                *i += 1;
                Some(NodeId { idx: *el, ns: *i })
            }
        }
    }
}
