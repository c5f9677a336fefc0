//! XPath 1.0 conformance: every case in `tests/xpath/cases.tsv` (expected values computed
//! by libxml2 with `tests/xpath/generate.py`, corrected to the Recommendation where libxml2
//! departs from it) is evaluated with our engine, and all mismatches are reported at once.
//!
//! Besides `evaluate`, each case also goes through the convenience entry points
//! (`eval_string`, `eval_bool`, `eval_number`, `eval_nodes`, `eval_first`), which take
//! streaming and early-exit paths, and must agree with converting the full value.
//!
//! `XPATH_CASES=path` runs another case file (e.g. one with a deliberately wrong value, to
//! see the test fail).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mediate::xml::{parse, Document, Limits, NodeId, NodeKind};
use mediate::xpath::{compile, CompileContext, Host, Value};

struct Case {
    line: usize,
    doc: String,
    namespaces: Vec<(String, String)>,
    expr: String,
    typ: String,
    expected: String,
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn load_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let f: Vec<String> = line.split('\t').map(unescape).collect();
        assert_eq!(f.len(), 6, "line {}: expected 6 fields", i + 1);
        let namespaces = f[1]
            .split(' ')
            .filter(|b| !b.is_empty())
            .map(|b| {
                let (p, u) = b.split_once('=').expect("prefix=uri");
                (p.to_string(), u.to_string())
            })
            .collect();
        cases.push(Case {
            line: i + 1,
            doc: f[0].clone(),
            namespaces,
            expr: f[2].clone(),
            typ: f[3].clone(),
            expected: f[4].clone(),
        });
    }
    cases
}

/// The generator's node description: kind and 1-based child positions from the document.
fn describe(doc: &Document, n: NodeId) -> String {
    fn position(doc: &Document, n: NodeId) -> usize {
        let parent = doc.parent(n).expect("a parent");
        doc.children(parent).position(|c| c == n).expect("a child of its parent") + 1
    }
    fn path(doc: &Document, n: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = n;
        while doc.kind(cur) != NodeKind::Document {
            parts.push(position(doc, cur).to_string());
            cur = doc.parent(cur).expect("attached");
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }
    match doc.kind(n) {
        NodeKind::Document => "d:/".into(),
        NodeKind::Element => format!("e:{}", path(doc, n)),
        NodeKind::Text => format!("t:{}", path(doc, n)),
        NodeKind::Comment => format!("c:{}", path(doc, n)),
        NodeKind::ProcessingInstruction => format!("p:{}", path(doc, n)),
        NodeKind::Attribute => {
            let name = doc.name(n).expect("attribute name");
            let owner = doc.parent(n).expect("owner");
            format!("a:{}@{{{}}}{}", path(doc, owner), name.namespace.unwrap_or(""), name.local)
        }
        NodeKind::Namespace => format!("n:{}={}", doc.local_name(n), doc.text(n).unwrap_or("")),
    }
}

fn parse_number(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        "-0" => -0.0,
        other => other.parse().unwrap_or_else(|_| panic!("bad number {other}")),
    }
}

fn same_number(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

struct TestHost {
    items: Vec<NodeId>,
}

impl Host for TestHost {
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        if prefix.is_some() {
            return None;
        }
        Some(match name {
            "str" => Value::String("IBM".into()),
            "num" => Value::Number(42.5),
            "yes" => Value::Boolean(true),
            "empty" => Value::String(String::new()),
            "items" => Value::NodeSet(self.items.clone()),
            _ => return None,
        })
    }
}

fn show(doc: &Document, v: &Value) -> (String, String) {
    match v {
        Value::NodeSet(nodes) => ("nodeset".into(), nodes.iter().map(|&n| describe(doc, n)).collect::<Vec<_>>().join(" ")),
        Value::Boolean(b) => ("boolean".into(), b.to_string()),
        Value::Number(x) => ("number".into(), format!("{x:?}")),
        Value::String(s) => ("string".into(), s.clone()),
    }
}

fn matches_expected(doc: &Document, case: &Case, v: &Value) -> bool {
    let (typ, got) = show(doc, v);
    if typ != case.typ {
        return false;
    }
    match v {
        Value::Number(x) => same_number(*x, parse_number(&case.expected)),
        Value::NodeSet(_) if case.expected.contains("n:") => {
            // Namespace nodes have no defined order among themselves.
            let mut a: Vec<&str> = got.split(' ').filter(|s| !s.is_empty()).collect();
            let mut b: Vec<&str> = case.expected.split(' ').filter(|s| !s.is_empty()).collect();
            a.sort_unstable();
            b.sort_unstable();
            a == b
        }
        _ => got == case.expected,
    }
}

/// Runs one case; `Err` describes the mismatch.
fn run(doc: &Document, host: &TestHost, case: &Case) -> Result<(), String> {
    let ctx = CompileContext::new()
        .namespaces(case.namespaces.iter().map(|(p, u)| (p.as_str(), u.as_str())))
        .variable("str")
        .variable("num")
        .variable("yes")
        .variable("empty")
        .variable("items");
    // lxml evaluates relative paths from the root element; so do we.
    let root = doc.document_element().expect("a root element");
    let compiled = compile(&case.expr, &ctx);
    if case.typ == "error" {
        return match compiled {
            Err(_) => Ok(()),
            Ok(x) => match x.evaluate(doc, root, host) {
                Err(_) => Ok(()),
                Ok(v) => Err(format!("expected an error, got {:?}", show(doc, &v))),
            },
        };
    }
    let x = compiled.map_err(|e| format!("compile error: {e}"))?;
    let v = x.evaluate(doc, root, host).map_err(|e| format!("evaluation error: {e}"))?;
    if !matches_expected(doc, case, &v) {
        let (t, got) = show(doc, &v);
        return Err(format!("expected {} [{}]\n        got {t} [{got}]", case.typ, case.expected));
    }
    // The specialised entry points must agree with converting the full value.
    let s = x.eval_string(doc, root, host).map_err(|e| format!("eval_string: {e}"))?;
    if s != v.to_string(doc) {
        return Err(format!("eval_string gave {s:?}, the value converts to {:?}", v.to_string(doc)));
    }
    let b = x.eval_bool(doc, root, host).map_err(|e| format!("eval_bool: {e}"))?;
    if b != v.to_boolean() {
        return Err(format!("eval_bool gave {b}"));
    }
    let n = x.eval_number(doc, root, host).map_err(|e| format!("eval_number: {e}"))?;
    if !same_number(n, v.to_number(doc)) {
        return Err(format!("eval_number gave {n}, the value converts to {}", v.to_number(doc)));
    }
    if let Value::NodeSet(nodes) = &v {
        let all = x.eval_nodes(doc, root, host).map_err(|e| format!("eval_nodes: {e}"))?;
        if &all != nodes {
            return Err("eval_nodes differs from evaluate".into());
        }
        let first = x.eval_first(doc, root, host).map_err(|e| format!("eval_first: {e}"))?;
        if first != nodes.first().copied() {
            return Err("eval_first differs from the first node".into());
        }
    }
    Ok(())
}

#[test]
fn xpath_conformance() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xpath");
    let file = std::env::var_os("XPATH_CASES").map(PathBuf::from).unwrap_or_else(|| base.join("cases.tsv"));
    let cases = load_cases(&file);
    assert!(cases.len() >= 400, "only {} cases", cases.len());
    let mut docs: HashMap<String, (Document, TestHost)> = HashMap::new();
    let items = compile("//*[local-name() = 'item']", &CompileContext::new()).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let (doc, host) = docs.entry(case.doc.clone()).or_insert_with(|| {
            let bytes = std::fs::read(base.join("documents").join(&case.doc)).expect("document");
            let doc = parse(&bytes, &Limits::default()).expect("document parses");
            let host = TestHost { items: items.eval_nodes(&doc, doc.root(), &()).unwrap() };
            (doc, host)
        });
        if let Err(message) = run(doc, host, case) {
            failures.push(format!("line {} {} `{}`\n        {message}", case.line, case.doc, case.expr));
        }
    }
    let docs_used = docs.len();
    println!("xpath conformance: {} cases over {docs_used} documents", cases.len());
    for f in &failures {
        println!("MISMATCH {f}");
    }
    println!("{} passed, {} failed", cases.len() - failures.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} XPath cases do not match (see MISMATCH lines above)", failures.len(), cases.len());
}
