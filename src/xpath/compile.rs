//! From expression text to the compiled [`Expr`]: recursive descent over the XPath 1.0
//! grammar, name resolution against the [`CompileContext`], and a few rewrites that keep
//! the meaning but make evaluation cheaper (`//x` as one `descendant::x` step, dropped
//! `self::node()` steps, detection of paths that can be streamed in document order).

use super::ast::*;
use super::lexer::{tokenize, Tok, Token};
use super::{CompileContext, XPathError};
use crate::xml::XML_NAMESPACE;

/// The namespace of the XPath (2.0+) function library, `fn:`.
const XPATH_FUNCTIONS_NS: &str = "http://www.w3.org/2005/xpath-functions";

/// Deepest nesting of parentheses, predicates, arguments and unary minus accepted: far
/// beyond what configurations write, and shallow enough that neither the parser nor the
/// evaluator (both recursive) can exhaust a thread's stack.
const MAX_NESTING: usize = 64;

pub(crate) struct Compiled {
    pub(crate) expr: Expr,
    /// (namespace URI or "", local name) of every name test.
    pub(crate) names: Vec<(String, String)>,
    /// Namespace URIs of `prefix:*` tests.
    pub(crate) spaces: Vec<String>,
}

pub(crate) fn compile(src: &str, ctx: &CompileContext) -> Result<Compiled, XPathError> {
    let toks = tokenize(src).map_err(|e| XPathError::Syntax { expr: src.to_string(), position: e.position, message: e.message })?;
    let mut p = Parser { toks, i: 0, ctx, src, names: Vec::new(), spaces: Vec::new(), depth: 0 };
    if p.toks.is_empty() {
        return Err(p.syntax(0, "empty expression"));
    }
    let expr = p.expr()?;
    if let Some(t) = p.toks.get(p.i) {
        return Err(p.syntax(t.pos, format!("unexpected {}", describe(&t.tok))));
    }
    Ok(Compiled { expr, names: p.names, spaces: p.spaces })
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Dot => "'.'".into(),
        Tok::DotDot => "'..'".into(),
        Tok::At => "'@'".into(),
        Tok::Comma => "','".into(),
        Tok::ColonColon => "'::'".into(),
        Tok::Star | Tok::Mul => "'*'".into(),
        Tok::NsStar(p) => format!("'{p}:*'"),
        Tok::Name(Some(p), l) => format!("name '{p}:{l}'"),
        Tok::Name(None, l) => format!("name '{l}'"),
        Tok::NodeType(n) => format!("'{n}()'"),
        Tok::Function(_, n) => format!("function '{n}'"),
        Tok::Axis(_) => "axis".into(),
        Tok::Literal(s) => format!("string '{s}'"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Var(_, n) => format!("variable ${n}"),
        other => format!("operator {other:?}").to_lowercase(),
    }
}

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    ctx: &'a CompileContext,
    src: &'a str,
    names: Vec<(String, String)>,
    spaces: Vec<String>,
    depth: usize,
}

impl Parser<'_> {
    fn syntax(&self, position: usize, message: impl Into<String>) -> XPathError {
        XPathError::Syntax { expr: self.src.to_string(), position, message: message.into() }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.src.chars().count(), |t| t.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), XPathError> {
        if self.eat(t) {
            Ok(())
        } else {
            let found = self.peek().map_or("the end of the expression".to_string(), describe);
            Err(self.syntax(self.pos(), format!("expected {what}, found {found}")))
        }
    }

    fn enter(&mut self) -> Result<(), XPathError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.syntax(self.pos(), "expression nested too deeply"));
        }
        Ok(())
    }

    /// One more operator in a left-associative chain (`a or b or c`, `1 + 2 + 3`): the tree
    /// gets one level deeper on its left, which the evaluator walks recursively, so it
    /// counts against `MAX_NESTING` like a parenthesis.
    fn chained(&mut self, chain: &mut usize) -> Result<(), XPathError> {
        *chain += 1;
        self.enter()
    }

    /// Ends a chain: its levels are closed.
    fn unchain(&mut self, chain: usize, e: Expr) -> Expr {
        self.depth -= chain;
        e
    }

    fn resolve_prefix(&self, prefix: &str) -> Result<String, XPathError> {
        if prefix == "xml" {
            return Ok(XML_NAMESPACE.to_string());
        }
        self.ctx
            .namespaces
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.clone())
            .ok_or_else(|| XPathError::UnknownPrefix { expr: self.src.to_string(), prefix: prefix.to_string() })
    }

    fn expr(&mut self) -> Result<Expr, XPathError> {
        self.enter()?;
        let e = self.or_expr();
        self.depth -= 1;
        e
    }

    fn or_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.and_expr()?;
        let mut chain = 0;
        while self.eat(&Tok::Or) {
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
        Ok(self.unchain(chain, left))
    }

    fn and_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.equality()?;
        let mut chain = 0;
        while self.eat(&Tok::And) {
            let right = self.equality()?;
            left = Expr::And(Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
        Ok(self.unchain(chain, left))
    }

    fn equality(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.relational()?;
        let mut chain = 0;
        loop {
            let op = match self.peek() {
                Some(Tok::Eq) => CmpOp::Eq,
                Some(Tok::Ne) => CmpOp::Ne,
                _ => return Ok(self.unchain(chain, left)),
            };
            self.i += 1;
            let right = self.relational()?;
            left = Expr::Cmp(op, Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
    }

    fn relational(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.additive()?;
        let mut chain = 0;
        loop {
            let op = match self.peek() {
                Some(Tok::Lt) => CmpOp::Lt,
                Some(Tok::Le) => CmpOp::Le,
                Some(Tok::Gt) => CmpOp::Gt,
                Some(Tok::Ge) => CmpOp::Ge,
                _ => return Ok(self.unchain(chain, left)),
            };
            self.i += 1;
            let right = self.additive()?;
            left = Expr::Cmp(op, Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
    }

    fn additive(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.multiplicative()?;
        let mut chain = 0;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => ArithOp::Add,
                Some(Tok::Minus) => ArithOp::Sub,
                _ => return Ok(self.unchain(chain, left)),
            };
            self.i += 1;
            let right = self.multiplicative()?;
            left = Expr::Arith(op, Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.unary()?;
        let mut chain = 0;
        loop {
            let op = match self.peek() {
                Some(Tok::Mul) => ArithOp::Mul,
                Some(Tok::Div) => ArithOp::Div,
                Some(Tok::Mod) => ArithOp::Mod,
                _ => return Ok(self.unchain(chain, left)),
            };
            self.i += 1;
            let right = self.unary()?;
            left = Expr::Arith(op, Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
    }

    fn unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner?)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.path_expr()?;
        let mut chain = 0;
        while self.peek() == Some(&Tok::Pipe) {
            let at = self.pos();
            self.i += 1;
            let right = self.path_expr()?;
            for side in [&left, &right] {
                if matches!(side.static_type(), Some(t) if t != Type::NodeSet) {
                    return Err(self.syntax(at, "'|' joins node-sets only"));
                }
            }
            left = Expr::Union(Box::new(left), Box::new(right));
            self.chained(&mut chain)?;
        }
        Ok(self.unchain(chain, left))
    }

    fn starts_step(t: Option<&Tok>) -> bool {
        matches!(
            t,
            Some(Tok::Dot | Tok::DotDot | Tok::At | Tok::Star | Tok::NsStar(_) | Tok::Name(..) | Tok::NodeType(_) | Tok::Axis(_))
        )
    }

    fn path_expr(&mut self) -> Result<Expr, XPathError> {
        match self.peek() {
            Some(Tok::Slash) => {
                self.i += 1;
                let mut steps = Vec::new();
                if Self::starts_step(self.peek()) {
                    self.relative(&mut steps)?;
                }
                Ok(self.make_path(Start::Root, steps))
            }
            Some(Tok::SlashSlash) => {
                self.i += 1;
                let mut steps = vec![descendant_or_self()];
                self.relative(&mut steps)?;
                Ok(self.make_path(Start::Root, steps))
            }
            t if Self::starts_step(t) => {
                let mut steps = Vec::new();
                self.relative(&mut steps)?;
                Ok(self.make_path(Start::Context, steps))
            }
            _ => {
                let at = self.pos();
                let filter = self.filter_expr()?;
                if !matches!(self.peek(), Some(Tok::Slash | Tok::SlashSlash)) {
                    return Ok(filter);
                }
                if matches!(filter.static_type(), Some(t) if t != Type::NodeSet) {
                    return Err(self.syntax(at, "'/' can only follow an expression that gives a node-set"));
                }
                let mut steps = Vec::new();
                if self.eat(&Tok::SlashSlash) {
                    steps.push(descendant_or_self());
                } else {
                    self.i += 1;
                }
                self.relative(&mut steps)?;
                Ok(self.make_path(Start::Expr(Box::new(filter)), steps))
            }
        }
    }

    fn relative(&mut self, steps: &mut Vec<Step>) -> Result<(), XPathError> {
        loop {
            steps.push(self.step()?);
            match self.peek() {
                Some(Tok::Slash) => self.i += 1,
                Some(Tok::SlashSlash) => {
                    self.i += 1;
                    steps.push(descendant_or_self());
                }
                _ => return Ok(()),
            }
        }
    }

    fn step(&mut self) -> Result<Step, XPathError> {
        let axis = match self.peek() {
            Some(Tok::Dot) => {
                self.i += 1;
                return Ok(Step { axis: Axis::SelfNode, test: Test::Node, preds: Vec::new() });
            }
            Some(Tok::DotDot) => {
                self.i += 1;
                return Ok(Step { axis: Axis::Parent, test: Test::Node, preds: Vec::new() });
            }
            Some(Tok::At) => {
                self.i += 1;
                Axis::Attribute
            }
            Some(Tok::Axis(a)) => {
                let a = *a;
                self.i += 1;
                self.expect(&Tok::ColonColon, "'::'")?;
                a
            }
            _ => Axis::Child,
        };
        let test = self.node_test()?;
        let preds = self.predicates()?;
        Ok(Step { axis, test, preds })
    }

    fn node_test(&mut self) -> Result<Test, XPathError> {
        let at = self.pos();
        let tok = self.toks.get(self.i).map(|t| t.tok.clone());
        self.i += 1;
        match tok {
            Some(Tok::Star) => Ok(Test::Any),
            Some(Tok::NsStar(p)) => {
                let uri = self.resolve_prefix(&p)?;
                let slot = match self.spaces.iter().position(|u| *u == uri) {
                    Some(s) => s,
                    None => {
                        self.spaces.push(uri);
                        self.spaces.len() - 1
                    }
                };
                Ok(Test::AnyIn(slot))
            }
            Some(Tok::Name(prefix, local)) => {
                let uri = match prefix {
                    Some(p) => self.resolve_prefix(&p)?,
                    None => String::new(),
                };
                let key = (uri, local);
                let slot = match self.names.iter().position(|n| *n == key) {
                    Some(s) => s,
                    None => {
                        self.names.push(key);
                        self.names.len() - 1
                    }
                };
                Ok(Test::Name(slot))
            }
            Some(Tok::NodeType(kind)) => {
                self.expect(&Tok::LParen, "'('")?;
                let test = match kind.as_str() {
                    "node" => Test::Node,
                    "text" => Test::Text,
                    "comment" => Test::Comment,
                    _ => match self.peek() {
                        Some(Tok::Literal(l)) => {
                            let l = l.clone();
                            self.i += 1;
                            Test::Pi(Some(l))
                        }
                        _ => Test::Pi(None),
                    },
                };
                self.expect(&Tok::RParen, "')'")?;
                Ok(test)
            }
            other => {
                self.i -= 1;
                let found = other.as_ref().map_or("the end of the expression".to_string(), describe);
                Err(self.syntax(at, format!("expected a node test, found {found}")))
            }
        }
    }

    fn predicates(&mut self) -> Result<Vec<Pred>, XPathError> {
        let mut preds = Vec::new();
        while self.eat(&Tok::LBracket) {
            let expr = self.expr()?;
            self.expect(&Tok::RBracket, "']'")?;
            let kind = match &expr {
                Expr::Number(n) => PredKind::Index(*n),
                Expr::Core(CoreFn::Last, _) => PredKind::Last,
                e => match e.static_type() {
                    Some(Type::Number) => PredKind::Number,
                    Some(_) => PredKind::Boolean,
                    None => PredKind::Dynamic,
                },
            };
            preds.push(Pred { expr, kind });
        }
        Ok(preds)
    }

    fn filter_expr(&mut self) -> Result<Expr, XPathError> {
        let at = self.pos();
        let primary = self.primary()?;
        if self.peek() != Some(&Tok::LBracket) {
            return Ok(primary);
        }
        if matches!(primary.static_type(), Some(t) if t != Type::NodeSet) {
            return Err(self.syntax(at, "predicates can only filter a node-set"));
        }
        let preds = self.predicates()?;
        Ok(Expr::Filter(Box::new(primary), preds))
    }

    fn primary(&mut self) -> Result<Expr, XPathError> {
        let at = self.pos();
        let tok = self.toks.get(self.i).map(|t| t.tok.clone());
        self.i += 1;
        match tok {
            Some(Tok::Literal(s)) => Ok(Expr::Literal(s)),
            Some(Tok::Number(n)) => Ok(Expr::Number(n)),
            Some(Tok::LParen) => {
                let e = self.expr()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Some(Tok::Var(prefix, local)) => self.variable(prefix, local),
            Some(Tok::Function(prefix, name)) => self.call(prefix, name, at),
            other => {
                self.i -= 1;
                let found = other.as_ref().map_or("the end of the expression".to_string(), describe);
                Err(self.syntax(at, format!("expected an expression, found {found}")))
            }
        }
    }

    fn variable(&self, prefix: Option<String>, local: String) -> Result<Expr, XPathError> {
        let declared = self.ctx.variables.iter().any(|(p, l)| *p == prefix && *l == local);
        let reserved = prefix.as_ref().is_some_and(|p| self.ctx.variable_prefixes.contains(p));
        if !declared && !reserved {
            if let Some(p) = &prefix {
                self.resolve_prefix(p)?;
            }
            let name = match &prefix {
                Some(p) => format!("{p}:{local}"),
                None => local,
            };
            return Err(XPathError::UnknownVariable { name });
        }
        Ok(Expr::Var(prefix, local))
    }

    fn call(&mut self, prefix: Option<String>, name: String, at: usize) -> Result<Expr, XPathError> {
        self.expect(&Tok::LParen, "'('")?;
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.expr()?);
                if self.eat(&Tok::RParen) {
                    break;
                }
                self.expect(&Tok::Comma, "',' or ')'")?;
            }
        }
        let arity_error = |min: usize, max: Option<usize>, name: &str| {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            XPathError::Arity { expr: self.src.to_string(), name: name.to_string(), expected, got: args.len() }
        };
        // Synapse configurations often call core functions as `fn:concat(...)`, with `fn`
        // bound to the XPath functions namespace (Jaxen accepts it); those are core calls.
        let core_name = match &prefix {
            None => true,
            Some(p) => self.ctx.namespaces.iter().rev().find(|(q, _)| q == p).is_some_and(|(_, u)| u == XPATH_FUNCTIONS_NS),
        };
        if core_name {
            if let Some((f, min, max)) = CoreFn::lookup(&name) {
                if args.len() < min || max.is_some_and(|m| args.len() > m) {
                    return Err(arity_error(min, max, &name));
                }
                if f.wants_node_set() {
                    if let Some(t) = args.first().and_then(Expr::static_type) {
                        if t != Type::NodeSet {
                            return Err(self.syntax(at, format!("{name}() needs a node-set argument")));
                        }
                    }
                }
                return Ok(Expr::Core(f, args));
            }
        }
        let namespace = match &prefix {
            Some(p) if self.ctx.variable_prefixes.contains(p) && !self.ctx.namespaces.iter().any(|(q, _)| q == p) => None,
            Some(p) => Some(self.resolve_prefix(p)?),
            None => None,
        };
        let decl = self.ctx.functions.iter().find(|f| f.name == name && f.namespace == namespace);
        match decl {
            Some(d) => {
                if args.len() < d.min_args || d.max_args.is_some_and(|m| args.len() > m) {
                    return Err(arity_error(d.min_args, d.max_args, &name));
                }
                Ok(Expr::Ext(ExtCall { prefix, namespace, name }, args))
            }
            None => {
                let shown = match &prefix {
                    Some(p) => format!("{p}:{name}"),
                    None => name,
                };
                Err(XPathError::UnknownFunction { expr: self.src.to_string(), name: shown })
            }
        }
    }

    fn make_path(&self, start: Start, steps: Vec<Step>) -> Expr {
        let steps = optimize_steps(steps);
        let ordered = is_ordered(&steps);
        Expr::Path(Box::new(Path { start, steps, ordered }))
    }
}

fn descendant_or_self() -> Step {
    Step { axis: Axis::DescendantOrSelf, test: Test::Node, preds: Vec::new() }
}

fn is_plain(step: &Step, axis: Axis) -> bool {
    step.axis == axis && step.test == Test::Node && step.preds.is_empty()
}

/// Rewrites that keep the result but save work:
/// `descendant-or-self::node()/child::x[p]` becomes `descendant::x[p]` when no predicate
/// depends on position, and a bare `self::node()` step between others is dropped.
fn optimize_steps(steps: Vec<Step>) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        if let Some(prev) = out.last() {
            let positional = step.preds.iter().any(|p| p.kind != PredKind::Boolean || p.expr.uses_position());
            if is_plain(prev, Axis::DescendantOrSelf) && step.axis == Axis::Child && !positional {
                out.pop();
                out.push(Step { axis: Axis::Descendant, ..step });
                continue;
            }
            if is_plain(&step, Axis::SelfNode) {
                continue;
            }
        }
        out.push(step);
    }
    if out.len() > 1 && is_plain(&out[0], Axis::SelfNode) {
        out.remove(0);
    }
    out
}

/// Can a depth-first walk from one start node produce the steps' result in document
/// order without duplicates? True while every step before the last keeps the working set
/// "flat" (no node inside another's subtree) and the last does not reorder.
fn is_ordered(steps: &[Step]) -> bool {
    #[derive(PartialEq)]
    enum State {
        Single,
        Flat,
    }
    let mut state = State::Single;
    for (i, s) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        match s.axis {
            Axis::SelfNode => {}
            Axis::Parent if state == State::Single => {}
            Axis::Child | Axis::Attribute | Axis::Namespace => state = State::Flat,
            Axis::Descendant | Axis::DescendantOrSelf if last => {}
            Axis::FollowingSibling | Axis::Following if last && state == State::Single => {}
            _ => return false,
        }
    }
    true
}
