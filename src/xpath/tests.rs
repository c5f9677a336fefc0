//! Unit tests of the evaluator's API and of behaviour the conformance suite cannot reach.

use super::*;
use crate::xml::soap;
use crate::xml::{parse, Document, Limits, NodeKind};

const SOAPENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const M0: &str = "http://services.samples";

fn doc(s: &str) -> Document {
    parse(s.as_bytes(), &Limits::default()).unwrap()
}

fn quote_ctx() -> CompileContext {
    CompileContext::synapse().namespace("soapenv", SOAPENV).namespace("m0", M0)
}

fn eval(d: &Document, expr: &str) -> Value {
    compile(expr, &CompileContext::new()).unwrap().evaluate(d, d.root(), &NoHost).unwrap()
}

fn string(d: &Document, expr: &str) -> String {
    compile(expr, &CompileContext::new()).unwrap().eval_string(d, d.root(), &NoHost).unwrap()
}

#[test]
fn compiled_expressions_are_shareable() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<XPath>();
    shareable::<CompileContext>();
    fn sendable<T: Send + Sync>() {}
    sendable::<Document>();
}

#[test]
fn load_time_errors_name_the_problem() {
    let ctx = CompileContext::new();
    match compile("//m0:symbol", &ctx) {
        Err(XPathError::UnknownPrefix { prefix, .. }) => assert_eq!(prefix, "m0"),
        other => panic!("{other:?}"),
    }
    match compile("get-property('SYMBOL')", &ctx) {
        Err(e @ XPathError::UnknownFunction { .. }) => assert!(e.to_string().contains("get-property"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(compile("$foo", &ctx), Err(XPathError::UnknownVariable { name }) if name == "foo"));
    // Synapse's reserved prefixes need no xmlns, but only for variables.
    assert!(matches!(compile("$ctx:foo", &ctx), Err(XPathError::UnknownPrefix { .. })));
    let syn = quote_ctx();
    for ok in ["$ctx:foo", "$axis2:REST_URL_POSTFIX", "$trp:Content-Type", "$url:symbol", "$func:arg", "$body", "$header",
        "get-property('SYMBOL')", "get-property('transport', 'Content-Type')", "base64Encode('a')", "url-encode('a b', 'UTF-8')"] {
        compile(ok, &syn).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    assert!(matches!(compile("get-property()", &syn), Err(XPathError::Arity { .. })));
    assert!(matches!(compile("get-property('a', 'b', 'c')", &syn), Err(XPathError::Arity { .. })));
    assert!(matches!(compile("substring('a')", &syn), Err(XPathError::Arity { .. })));
    assert!(matches!(compile("$ctx:*", &syn), Err(XPathError::Syntax { .. })));
    assert!(compile("count('x')", &syn).is_err());
    assert!(compile("1 | //a", &syn).is_err());
    match compile("//a[@b = ]", &syn) {
        Err(XPathError::Syntax { position, message, .. }) => assert_eq!((position, message.contains("expected an expression")), (9, true)),
        other => panic!("{other:?}"),
    }
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert!(matches!(compile(&deep, &syn), Err(XPathError::Syntax { .. })));
    let deep = format!("{}1", "-".repeat(500));
    assert!(matches!(compile(&deep, &syn), Err(XPathError::Syntax { .. })));
    assert!(compile(&format!("{}1", "-".repeat(50)), &syn).is_ok());
}

/// A Synapse-like host: `$body`, `$ctx:*`, `get-property`, and the pure helpers.
struct Synapse {
    body: NodeId,
}

impl Host for Synapse {
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        match (prefix, name) {
            (None, "body") => Some(Value::NodeSet(vec![self.body])),
            (Some("ctx"), "SYMBOL") => Some(Value::String("IBM".into())),
            _ => None,
        }
    }

    fn function(&self, call: &FunctionCall<'_>, args: Vec<Value>) -> Option<Result<Value, XPathError>> {
        let text = |i: usize| args.get(i).map(|v| v.to_string(call.doc)).unwrap_or_default();
        Some(Ok(Value::String(match call.name {
            "get-property" if args.len() == 1 && text(0) == "SYMBOL" => "IBM".into(),
            "get-property" if args.len() == 2 => format!("{}:{}", text(0), text(1)),
            "get-property" => return Some(Err(XPathError::Function { name: "get-property".into(), message: "no such property".into() })),
            "base64Encode" => ext::base64_encode(&text(0)),
            "base64Decode" => ext::base64_decode(&text(0)),
            "url-encode" => ext::url_encode(&text(0)),
            _ => return None,
        })))
    }
}

#[test]
fn host_variables_and_functions() {
    let d = doc(QUOTE_1K);
    let body = soap::envelope(&d).unwrap().body.unwrap();
    let host = Synapse { body };
    let ctx = quote_ctx();
    let s = |e: &str| compile(e, &ctx).unwrap().eval_string(&d, d.root(), &host).unwrap();
    assert_eq!(s("$body/m0:getQuote/m0:request/m0:symbol"), "IBM");
    assert_eq!(s("local-name($body/*)"), "getQuote");
    assert_eq!(s("$ctx:SYMBOL"), "IBM");
    assert_eq!(s("get-property('SYMBOL')"), "IBM");
    assert_eq!(s("get-property('axis2', 'REST_URL_POSTFIX')"), "axis2:REST_URL_POSTFIX");
    assert_eq!(s("base64Encode(//m0:symbol)"), "SUJN");
    assert_eq!(s("base64Decode(base64Encode('Grüße'))"), "Grüße");
    assert_eq!(s("url-encode(concat(//m0:symbol, ' & co'))"), "IBM+%26+co");
    let b = |e: &str| compile(e, &ctx).unwrap().eval_bool(&d, d.root(), &host).unwrap();
    assert!(b("get-property('SYMBOL') = //m0:symbol"));
    assert!(b("$body//m0:symbol = $ctx:SYMBOL"));
    // Declared but not answered at run time.
    let e = compile("$ctx:MISSING", &ctx).unwrap().evaluate(&d, d.root(), &host).unwrap_err();
    assert!(matches!(e, XPathError::UnknownVariable { ref name } if name == "ctx:MISSING"), "{e}");
    let e = compile("get-property('a', 'b') and get-property('nope')", &ctx).unwrap().evaluate(&d, d.root(), &host).unwrap_err();
    assert!(matches!(e, XPathError::Function { .. }), "{e}");
    // A declared function the host does not know after all.
    let ctx2 = quote_ctx().function("other", 0, Some(0));
    assert!(compile("other()", &ctx2).unwrap().evaluate(&d, d.root(), &host).is_err());
    // Run-time type errors.
    assert!(matches!(compile("$ctx:SYMBOL/a", &ctx).unwrap().evaluate(&d, d.root(), &host), Err(XPathError::Type { .. })));
    assert!(compile("'x'", &ctx).unwrap().eval_nodes(&d, d.root(), &host).is_err());
    // Nodes from another document are refused, not followed.
    let other = doc("<a/>");
    let foreign = Synapse { body: NodeId { idx: 9999, ns: 0 } };
    assert!(compile("$body", &ctx).unwrap().evaluate(&other, other.root(), &foreign).is_err());
    assert!(compile("1", &ctx).unwrap().evaluate(&other, body, &host).is_err());
}

#[test]
fn values_convert_per_spec() {
    let d = doc("<a><b> 12 </b><c/></a>");
    let b = compile("/a/b", &CompileContext::new()).unwrap().eval_nodes(&d, d.root(), &NoHost).unwrap();
    let v = Value::NodeSet(b);
    assert_eq!(v.to_number(&d), 12.0);
    assert_eq!(v.to_string(&d), " 12 ");
    assert!(v.to_boolean());
    assert!(!Value::NodeSet(vec![]).to_boolean());
    assert!(Value::NodeSet(vec![]).to_number(&d).is_nan());
    assert_eq!(Value::Number(-0.0).to_string(&d), "0");
    assert_eq!(Value::Number(1e100).to_string(&d).len(), 101);
    assert!(!Value::Number(f64::NAN).to_boolean());
    assert_eq!(Value::Boolean(true).to_number(&d), 1.0);
    assert_eq!(Value::String(" -1.5\n".into()).to_number(&d), -1.5);
    assert_eq!(eval(&d, "string(/a/c)"), Value::String(String::new()));
    assert_eq!(eval(&d, "number(/a/c)").to_string(&d), "NaN");
}

#[test]
fn lexer_disambiguates_operator_names() {
    let d = doc("<div><div>6</div><div>2</div><mod>4</mod><and/><or/></div>");
    assert_eq!(eval(&d, "/div/div[1] div /div/div[2]"), Value::Number(3.0));
    assert_eq!(eval(&d, "div/div[1] div div/div[2]"), Value::Number(3.0));
    assert_eq!(eval(&d, "/div/mod mod 3"), Value::Number(1.0));
    assert_eq!(eval(&d, "count(/div/and | /div/or)"), Value::Number(2.0));
    assert_eq!(eval(&d, "count(/*/*)*2"), Value::Number(10.0));
    assert_eq!(eval(&d, "count(/*/* [. = 6])"), Value::Number(1.0));
    assert_eq!(eval(&d, "2*3-1"), Value::Number(5.0));
    assert_eq!(eval(&d, "-2 - -3"), Value::Number(1.0));
    assert_eq!(string(&d, "/div/div[2]-1"), "1");
    assert_eq!(string(&d, "/div/div-1"), "", "a name, not a subtraction");
    assert_eq!(eval(&d, "/div/div[2] -1"), Value::Number(1.0));
    assert_eq!(eval(&d, "child :: div [ 2 ] / text ( )").to_string(&d), "");
    assert_eq!(eval(&d, "/ child :: div / div [ 2 ] / text ( )").to_string(&d), "2");
}

#[test]
fn evaluation_follows_mutation() {
    let mut d = doc("<r><a>1</a><b>2</b><c>3</c></r>");
    let r = d.document_element().unwrap();
    let c = d.child_element(r, None, "c").unwrap();
    d.prepend_child(r, c).unwrap();
    assert_eq!(string(&d, "name(/r/*[1])"), "c");
    let all = compile("/r/* | //c", &CompileContext::new()).unwrap().eval_nodes(&d, d.root(), &NoHost).unwrap();
    let names: Vec<&str> = all.iter().map(|&n| d.local_name(n)).collect();
    assert_eq!(names, ["c", "a", "b"]);
    let a = d.child_element(r, None, "a").unwrap();
    d.set_attribute(a, None, None, "id", "x").unwrap();
    assert_eq!(string(&d, "name(//@id/..)"), "a");
    assert_eq!(string(&d, "name(//@id/following::*[1])"), "b");
    let t = d.create_text("more");
    d.append_child(a, t).unwrap();
    assert_eq!(eval(&d, "count(/r/a/text())"), Value::Number(1.0));
    assert_eq!(string(&d, "/r/a/text()"), "1more");
    let frag = d.parse_fragment("<m0:x xmlns:m0='urn:m'><y/>t</m0:x>", [("", "")], &Limits::default()).unwrap();
    d.insert_before(a, frag[0]).unwrap();
    let ctx = CompileContext::new().namespace("m", "urn:m");
    let x = compile("/r/m:x/y/following-sibling::text()", &ctx).unwrap();
    assert_eq!(x.eval_string(&d, d.root(), &NoHost).unwrap(), "t");
    assert_eq!(string(&d, "name(/r/*[2])"), "m0:x");
    assert_eq!(eval(&d, "count(//*)"), Value::Number(6.0));
}

#[test]
fn detached_fragments_are_their_own_trees() {
    let mut d = doc("<r/>");
    let nodes = d.parse_fragment("<a><b>1</b><b>2</b></a>", [("", "")], &Limits::default()).unwrap();
    let a = nodes[0];
    let b2 = compile("/b[2]", &CompileContext::new()).unwrap();
    // `/` is the root of the context node's tree: here the detached <a> itself.
    assert_eq!(b2.eval_nodes(&d, a, &NoHost).unwrap().len(), 1);
    assert_eq!(compile("string(/)", &CompileContext::new()).unwrap().eval_string(&d, a, &NoHost).unwrap(), "12");
    assert_eq!(compile("count(//b)", &CompileContext::new()).unwrap().eval_number(&d, a, &NoHost).unwrap(), 2.0);
    assert_eq!(compile("b[2]", &CompileContext::new()).unwrap().eval_string(&d, a, &NoHost).unwrap(), "2");
    assert_eq!(eval(&d, "count(//b)"), Value::Number(0.0));
}

#[test]
fn namespace_nodes() {
    let d = doc("<a xmlns='urn:d' xmlns:p='urn:p'><p:b xmlns:q='urn:q' q:x='1'/></a>");
    let ns = compile("//*[local-name()='b']/namespace::*", &CompileContext::new()).unwrap().eval_nodes(&d, d.root(), &NoHost).unwrap();
    let mut names: Vec<String> = ns.iter().map(|&n| format!("{}={}", d.local_name(n), d.text(n).unwrap())).collect();
    names.sort();
    assert_eq!(names, ["=urn:d", "p=urn:p", "q=urn:q", "xml=http://www.w3.org/XML/1998/namespace"]);
    for &n in &ns {
        assert_eq!(d.kind(n), NodeKind::Namespace);
        assert_eq!(d.local_name(d.parent(n).unwrap()), "b");
    }
    assert_eq!(string(&d, "name(//namespace::q/..)"), "p:b");
    assert_eq!(eval(&d, "count(//namespace::*/..)"), Value::Number(2.0));
    assert_eq!(eval(&d, "count(//namespace::* | //namespace::*)"), Value::Number(7.0));
    assert_eq!(string(&d, "//*[local-name()='b']/namespace::p"), "urn:p");
    // Namespace nodes sort after their element and before its attributes.
    let x = compile("(//@* | //namespace::q | /*/*)", &CompileContext::new()).unwrap().eval_nodes(&d, d.root(), &NoHost).unwrap();
    let kinds: Vec<NodeKind> = x.iter().map(|&n| d.kind(n)).collect();
    assert_eq!(kinds, [NodeKind::Element, NodeKind::Namespace, NodeKind::Attribute]);
}

/// A SOAP 1.1 getQuote request of about 1 KB, as Synapse's samples send.
pub(crate) const QUOTE_1K: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
   <soapenv:Header>
      <wsa:To>http://localhost:8280/services/StockQuoteProxy</wsa:To>
      <wsa:MessageID>urn:uuid:9b6f3c2e-1d4a-4f6b-8c3e-2a1b0c9d8e7f</wsa:MessageID>
      <wsa:Action>urn:getQuote</wsa:Action>
      <wsa:ReplyTo>
         <wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address>
      </wsa:ReplyTo>
   </soapenv:Header>
   <soapenv:Body>
      <m0:getQuote xmlns:m0="http://services.samples">
         <m0:request>
            <m0:symbol>IBM</m0:symbol>
            <m0:clientId>mediate-bench-client-0001</m0:clientId>
            <m0:note>A padding note so that the whole message is about one kilobyte long, as in the benchmark.</m0:note>
            <m0:note>Another note with some more text in it, because real requests carry a few more fields.</m0:note>
         </m0:request>
      </m0:getQuote>
   </soapenv:Body>
</soapenv:Envelope>
"#;

#[test]
fn streaming_matcher_agrees_with_the_tree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xpath/documents");
    let ctx = quote_ctx()
        .namespace("env", "http://www.w3.org/2003/05/soap-envelope")
        .namespace("wsa", "http://www.w3.org/2005/08/addressing")
        .namespace("po", "http://services.samples/order")
        .namespace("d", "urn:example:default")
        .namespace("b", "urn:example:books")
        .namespace("b2", "urn:example:books-v2");
    let exprs = [
        "//m0:symbol",
        "/soapenv:Envelope/soapenv:Body/m0:getQuote/m0:request/m0:symbol",
        "/soapenv:Envelope/soapenv:Body/*",
        "/soapenv:Envelope/soapenv:Header//*",
        "//m0:request//m0:symbol",
        "/*/*",
        "//*",
        "/*//*/*",
        "//wsa:Address",
        "//env:Header/wsa:ReplyTo/wsa:Address",
        "//po:order/po:symbol",
        "//po:placeOrder//po:quantity",
        "/env:Envelope//po:nothing",
        "//d:title",
        "//title",
        "//b:title",
        "//b2:title",
        "/d:catalog/d:plain",
        "//inner/b2:title",
        "//p/b",
        "//i//b",
        "//c/d",
        "//a//d",
        "//b/c/d",
        "/root/a/b",
        "//price",
        "//values/v",
        "/doc/chapter/section/section/title",
        "//section//title",
        "//msg",
        "//group/msg",
        "//nowhere",
    ];
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let limits = Limits::default();
    let mut checked = 0;
    for file in files.iter().map(|f| std::fs::read(f).unwrap()).chain([QUOTE_1K.as_bytes().to_vec()]) {
        let d = parse(&file, &limits).unwrap();
        for e in exprs {
            let x = compile(e, &ctx).unwrap();
            let m = x.streaming_matcher().unwrap_or_else(|| panic!("{e} should stream"));
            let tree_first = x.eval_first(&d, d.root(), &NoHost).unwrap();
            let expected = tree_first.map(|n| d.string_value(n).into_owned());
            assert_eq!(m.first_string(&file, &limits).unwrap(), expected, "{e}");
            assert_eq!(m.matches(&file, &limits).unwrap(), expected.is_some(), "{e}");
            checked += 1;
        }
    }
    assert!(checked > 250);
    for not_streamable in ["//a[1]", "//a/@b", "/a/../b", "count(//a)", "a/b", "//text()", "/descendant-or-self::a", "//a | //b", "/a/following::b"] {
        assert!(compile(not_streamable, &ctx).unwrap().streaming_matcher().is_none(), "{not_streamable}");
    }
}

#[test]
fn streaming_matcher_keeps_the_parser_rules() {
    let m = compile("//x", &CompileContext::new()).unwrap().streaming_matcher().unwrap();
    let limits = Limits::default();
    assert_eq!(m.first_string(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a><x>&e;</x></a>", &limits), Err(crate::xml::XmlError::Doctype));
    assert!(matches!(m.first_string(b"<a><x>&e;</x></a>", &limits), Err(crate::xml::XmlError::Malformed { .. })));
    assert!(matches!(m.first_string(b"<p:a><x/></p:a>", &limits), Err(crate::xml::XmlError::Malformed { .. })));
    let deep = format!("{}<x/>", "<e>".repeat(101));
    assert!(matches!(m.first_string(deep.as_bytes(), &limits), Err(crate::xml::XmlError::Limit { .. })));
    assert_eq!(m.first_string(b"<a><x>1 &amp; <![CDATA[<2>]]><y>3</y>\r\n</x><x>no</x>", &limits).unwrap().as_deref(), Some("1 & <2>3\n"));
    assert_eq!(m.first_string(b"<a><y/></a>", &limits).unwrap(), None);
    // A second byte-order mark is text before the root (found by fuzzing, see
    // fuzz/regressions/xml_parse/double-bom), as the tree parser says.
    assert!(matches!(m.first_string(b"\xEF\xBB\xBF\xEF\xBB\xBF<a><x>1</x></a>", &limits), Err(crate::xml::XmlError::Malformed { .. })));
    assert_eq!(m.first_string(b"\xEF\xBB\xBF<a><x>1</x></a>", &limits).unwrap().as_deref(), Some("1"));
    // Only what precedes the match is read.
    assert!(m.matches(b"<a><x/><broken", &limits).unwrap());
    assert!(m.first_string(b"<a><y/><broken", &limits).is_err());
}

/// Prints (does not assert) the cost of parsing a 1 KB message and evaluating typical
/// Synapse expressions on it. Meaningful with `cargo test --release`.
#[test]
fn timing_parse_and_evaluate_1k() {
    use std::time::Instant;
    let ctx = CompileContext::new().namespace("soapenv", "http://schemas.xmlsoap.org/soap/envelope/").namespace("m0", "http://services.samples");
    let exprs = ["//m0:symbol", "/soapenv:Envelope/soapenv:Body/m0:getQuote/m0:request/m0:symbol"];
    let compiled: Vec<XPath> = exprs.iter().map(|e| compile(e, &ctx).unwrap()).collect();
    let bytes = QUOTE_1K.as_bytes();
    let limits = Limits::default();
    let rounds: u32 = if cfg!(debug_assertions) { 200 } else { 100_000 };
    let time = |f: &mut dyn FnMut()| {
        for _ in 0..rounds / 10 {
            f();
        }
        let t = Instant::now();
        for _ in 0..rounds {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
    };
    let parse_us = time(&mut || {
        std::hint::black_box(parse(std::hint::black_box(bytes), &limits).unwrap());
    });
    let doc = parse(bytes, &limits).unwrap();
    let root = doc.root();
    println!("message: {} bytes; parse: {parse_us:.2} µs", bytes.len());
    for (e, x) in exprs.iter().zip(&compiled) {
        assert_eq!(x.eval_string(&doc, root, &NoHost).unwrap(), "IBM");
        let eval_us = time(&mut || {
            std::hint::black_box(x.eval_string(&doc, root, &NoHost).unwrap());
        });
        let nodes_us = time(&mut || {
            std::hint::black_box(x.eval_nodes(&doc, root, &NoHost).unwrap());
        });
        let both_us = time(&mut || {
            let d = parse(std::hint::black_box(bytes), &limits).unwrap();
            std::hint::black_box(x.eval_string(&d, d.root(), &NoHost).unwrap());
        });
        let m = x.streaming_matcher().unwrap();
        assert_eq!(m.first_string(bytes, &limits).unwrap().as_deref(), Some("IBM"));
        let stream_us = time(&mut || {
            std::hint::black_box(m.first_string(std::hint::black_box(bytes), &limits).unwrap());
        });
        println!("{e}: eval_string {eval_us:.3} µs, eval_nodes {nodes_us:.3} µs, parse + eval_string {both_us:.2} µs, streaming from bytes {stream_us:.2} µs");
    }
}


#[test]
fn core_functions_may_be_called_in_the_fn_namespace() {
    let d = doc("<a>x</a>");
    let ctx = CompileContext::new().namespace("fn", "http://www.w3.org/2005/xpath-functions");
    let x = compile("fn:concat('Normal Stock - ', /a)", &ctx).unwrap();
    assert_eq!(x.eval_string(&d, d.root(), &NoHost).unwrap(), "Normal Stock - x");
    let other = CompileContext::new().namespace("fn", "urn:not-functions");
    assert!(matches!(compile("fn:concat('a', 'b')", &other), Err(XPathError::UnknownFunction { .. })));
    assert!(matches!(compile("fn:concat('a', 'b')", &CompileContext::new()), Err(XPathError::UnknownPrefix { .. })));
}

/// Found while fuzzing the compiler (fuzz/regressions/xpath/long-chain): nesting was bounded
/// but a chain of binary operators (`1+1+…`, `a or b or …`, `//a | //b | …`) built a tree as
/// deep as it was long, which evaluating and dropping walk recursively. Chains now count
/// against the same nesting limit.
#[test]
fn long_operator_chains_are_refused() {
    let ctx = CompileContext::new();
    for op in ["+", "-", "*", " div ", " mod ", " or ", " and ", "=", "!=", "<", "<=", ">", ">=", "|"] {
        let operand = if op == "|" { "/a" } else { "1" };
        let long = std::iter::repeat_n(operand, 100_000).collect::<Vec<_>>().join(op);
        // On a small stack: the refusal itself must not recurse through the chain.
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || compile(&long, &CompileContext::new()).map(|_| ()))
            .unwrap()
            .join()
            .unwrap();
        assert!(matches!(result, Err(XPathError::Syntax { .. })), "{op}: {result:?}");
        let short = std::iter::repeat_n(operand, 40).collect::<Vec<_>>().join(op);
        assert!(compile(&short, &ctx).is_ok(), "{op}: {short}");
    }
    let d = doc("<a>1</a>");
    let sum = compile(&vec!["/a"; 40].join(" + "), &ctx).unwrap();
    assert_eq!(sum.eval_number(&d, d.root(), &NoHost).unwrap(), 40.0);
    // Chains and parentheses share the limit.
    let nested = format!("{}1{}", "(1 + ".repeat(30), ")".repeat(30));
    assert!(compile(&nested, &ctx).is_ok());
    let both = format!("{}{}{}", "(".repeat(40), vec!["1"; 40].join("+"), ")".repeat(40));
    assert!(matches!(compile(&both, &ctx), Err(XPathError::Syntax { .. })));
}
