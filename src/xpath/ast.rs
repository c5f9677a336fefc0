//! The compiled form of an XPath expression.
//!
//! Names are resolved to namespace URIs at compile time and numbered, so that evaluation
//! resolves each distinct name against a document's atom table once and then compares
//! integers. Core functions are an enum; only extension calls go through the host by name.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Axis {
    Ancestor,
    AncestorOrSelf,
    Attribute,
    Child,
    Descendant,
    DescendantOrSelf,
    Following,
    FollowingSibling,
    Namespace,
    Parent,
    Preceding,
    PrecedingSibling,
    SelfNode,
}

impl Axis {
    pub(crate) fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "attribute" => Axis::Attribute,
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "namespace" => Axis::Namespace,
            "parent" => Axis::Parent,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "self" => Axis::SelfNode,
            _ => return None,
        })
    }

    /// Reverse axes list nodes (and count proximity positions) in reverse document order.
    pub(crate) fn is_reverse(self) -> bool {
        matches!(self, Axis::Ancestor | Axis::AncestorOrSelf | Axis::Preceding | Axis::PrecedingSibling)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    /// `node()`
    Node,
    Text,
    Comment,
    Pi(Option<String>),
    /// `*`: any node of the axis' principal type.
    Any,
    /// `prefix:*`, index into the namespace slots.
    AnyIn(usize),
    /// A name, index into the name slots.
    Name(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) axis: Axis,
    pub(crate) test: Test,
    pub(crate) preds: Vec<Pred>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum PredKind {
    /// A number literal: keeps the node at that position.
    Index(f64),
    /// `last()`
    Last,
    /// Statically boolean (or string/node-set): a truth test, no position needed.
    Boolean,
    /// Statically a number: compared with the position.
    Number,
    /// Only known at run time (variables, extension functions).
    Dynamic,
}

#[derive(Clone, Debug)]
pub(crate) struct Pred {
    pub(crate) expr: Expr,
    pub(crate) kind: PredKind,
}

#[derive(Clone, Debug)]
pub(crate) enum Start {
    /// The root of the context node's tree.
    Root,
    Context,
    /// A filter expression yielding a node-set.
    Expr(Box<Expr>),
}

#[derive(Clone, Debug)]
pub(crate) struct Path {
    pub(crate) start: Start,
    pub(crate) steps: Vec<Step>,
    /// From a single start node, a depth-first walk of the steps meets nodes in document
    /// order without duplicates, so results can be streamed and cut short.
    pub(crate) ordered: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` ⇔ `b > a`).
    pub(crate) fn swapped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CoreFn {
    Last,
    Position,
    Count,
    Id,
    LocalName,
    NamespaceUri,
    Name,
    String,
    Concat,
    StartsWith,
    Contains,
    SubstringBefore,
    SubstringAfter,
    Substring,
    StringLength,
    NormalizeSpace,
    Translate,
    Boolean,
    Not,
    True,
    False,
    Lang,
    Number,
    Sum,
    Floor,
    Ceiling,
    Round,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    NodeSet,
    Boolean,
    Number,
    String,
}

impl CoreFn {
    /// Name, minimum and maximum argument count (`None`: unbounded).
    pub(crate) fn lookup(name: &str) -> Option<(CoreFn, usize, Option<usize>)> {
        use CoreFn::*;
        Some(match name {
            "last" => (Last, 0, Some(0)),
            "position" => (Position, 0, Some(0)),
            "count" => (Count, 1, Some(1)),
            "id" => (Id, 1, Some(1)),
            "local-name" => (LocalName, 0, Some(1)),
            "namespace-uri" => (NamespaceUri, 0, Some(1)),
            "name" => (Name, 0, Some(1)),
            "string" => (String, 0, Some(1)),
            "concat" => (Concat, 2, None),
            "starts-with" => (StartsWith, 2, Some(2)),
            "contains" => (Contains, 2, Some(2)),
            "substring-before" => (SubstringBefore, 2, Some(2)),
            "substring-after" => (SubstringAfter, 2, Some(2)),
            "substring" => (Substring, 2, Some(3)),
            "string-length" => (StringLength, 0, Some(1)),
            "normalize-space" => (NormalizeSpace, 0, Some(1)),
            "translate" => (Translate, 3, Some(3)),
            "boolean" => (Boolean, 1, Some(1)),
            "not" => (Not, 1, Some(1)),
            "true" => (True, 0, Some(0)),
            "false" => (False, 0, Some(0)),
            "lang" => (Lang, 1, Some(1)),
            "number" => (Number, 0, Some(1)),
            "sum" => (Sum, 1, Some(1)),
            "floor" => (Floor, 1, Some(1)),
            "ceiling" => (Ceiling, 1, Some(1)),
            "round" => (Round, 1, Some(1)),
            _ => return None,
        })
    }

    pub(crate) fn result_type(self) -> Type {
        use CoreFn::*;
        match self {
            Last | Position | Count | StringLength | Number | Sum | Floor | Ceiling | Round => Type::Number,
            Id => Type::NodeSet,
            LocalName | NamespaceUri | Name | String | Concat | SubstringBefore | SubstringAfter | Substring
            | NormalizeSpace | Translate => Type::String,
            StartsWith | Contains | Boolean | Not | True | False | Lang => Type::Boolean,
        }
    }

    /// Functions whose (first) argument must be a node-set.
    pub(crate) fn wants_node_set(self) -> bool {
        matches!(self, CoreFn::Count | CoreFn::Sum | CoreFn::LocalName | CoreFn::NamespaceUri | CoreFn::Name)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ExtCall {
    pub(crate) prefix: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Number(f64),
    Literal(String),
    Var(Option<String>, String),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Core(CoreFn, Vec<Expr>),
    Ext(ExtCall, Vec<Expr>),
    Path(Box<Path>),
    /// A primary expression with predicates (positions in document order).
    Filter(Box<Expr>, Vec<Pred>),
}

impl Expr {
    /// The type this expression always has, if known before evaluation.
    pub(crate) fn static_type(&self) -> Option<Type> {
        match self {
            Expr::Number(_) | Expr::Arith(..) | Expr::Neg(_) => Some(Type::Number),
            Expr::Literal(_) => Some(Type::String),
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) => Some(Type::Boolean),
            Expr::Union(..) | Expr::Path(_) | Expr::Filter(..) => Some(Type::NodeSet),
            Expr::Core(f, _) => Some(f.result_type()),
            Expr::Var(..) | Expr::Ext(..) => None,
        }
    }

    /// Does the value depend on the context position or size (outside nested predicates)?
    pub(crate) fn uses_position(&self) -> bool {
        match self {
            Expr::Core(CoreFn::Last | CoreFn::Position, _) => true,
            Expr::Core(_, args) | Expr::Ext(_, args) => args.iter().any(Expr::uses_position),
            Expr::Or(a, b) | Expr::And(a, b) | Expr::Cmp(_, a, b) | Expr::Arith(_, a, b) | Expr::Union(a, b) => {
                a.uses_position() || b.uses_position()
            }
            Expr::Neg(a) => a.uses_position(),
            Expr::Filter(e, _) => e.uses_position(),
            Expr::Path(p) => matches!(&p.start, Start::Expr(e) if e.uses_position()),
            Expr::Number(_) | Expr::Literal(_) | Expr::Var(..) => false,
        }
    }
}
