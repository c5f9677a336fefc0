//! The XPath compiler and evaluator, and the streaming matcher.
//!
//! Input: `expression` alone (evaluated over a fixed SOAP 1.1 message), or
//! `expression NUL document` (evaluated over the fuzzed document; NUL never occurs in XML).
//!
//! Properties checked:
//! - compiling arbitrary text never panics (Synapse's functions, variables and a few
//!   prefixes are declared, as for a mediator's expression);
//! - the shortcut evaluations (`eval_string`, `eval_bool`, `eval_number`, `eval_first`,
//!   `eval_nodes`) agree with converting the full `evaluate` result;
//! - when the expression streams, `StreamingMatcher` agrees with the tree on every document
//!   the parser accepts (first string-value and existence).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediate::xml::{self, soap, Document, Limits, NodeId};
use mediate::xpath::{self, ext, CompileContext, FunctionCall, Host, Value, XPathError};

const MESSAGE: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soapenv:Header><wsa:To>http://localhost:9000/services/SimpleStockQuoteService</wsa:To><wsa:Action>urn:getQuote</wsa:Action></soapenv:Header>
  <soapenv:Body>
    <m0:getQuote xmlns:m0="http://services.samples" id="q1">
      <m0:request><m0:symbol>IBM</m0:symbol><m0:qty>12.5</m0:qty></m0:request>
      <m0:request><m0:symbol>MSFT</m0:symbol><!-- second --><m0:qty>-3</m0:qty></m0:request>
      <?pi data?><![CDATA[raw <text>]]>&amp;tail
    </m0:getQuote>
  </soapenv:Body>
</soapenv:Envelope>"#;

/// Answers Synapse's functions and variables deterministically.
struct FuzzHost;

impl Host for FuzzHost {
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        match (prefix, name) {
            (None, "body") | (None, "header") => None, // answered by `DocHost`
            (Some(p), n) => Some(Value::String(format!("{p}:{n}"))),
            _ => None,
        }
    }

    fn function(&self, call: &FunctionCall<'_>, args: Vec<Value>) -> Option<Result<Value, XPathError>> {
        let strings: Vec<String> = args.iter().map(|a| a.to_string(call.doc)).collect();
        let first = strings.first().map(String::as_str).unwrap_or("");
        Some(Ok(Value::String(match call.name {
            "get-property" => match strings.as_slice() {
                [name] if name == "To" => "http://localhost:9000/services/SimpleStockQuoteService".into(),
                [name] => format!("prop:{name}"),
                [scope, name, ..] => format!("{scope}:{name}"),
                [] => String::new(),
            },
            "base64Encode" => ext::base64_encode(first),
            "base64Decode" => ext::base64_decode(first),
            "url-encode" => ext::url_encode(first),
            _ => return None,
        })))
    }
}

/// `$body` and `$header` from the document being evaluated.
struct DocHost<'a> {
    doc: &'a Document,
}

impl Host for DocHost<'_> {
    fn variable(&self, prefix: Option<&str>, name: &str) -> Option<Value> {
        match (prefix, name) {
            (None, "body") | (None, "header") => {
                let env = soap::envelope(self.doc);
                let n = env.and_then(|e| if name == "body" { e.body } else { e.header });
                Some(Value::NodeSet(n.into_iter().collect()))
            }
            _ => FuzzHost.variable(prefix, name),
        }
    }

    fn function(&self, call: &FunctionCall<'_>, args: Vec<Value>) -> Option<Result<Value, XPathError>> {
        FuzzHost.function(call, args)
    }
}

fn context() -> CompileContext {
    CompileContext::synapse()
        .namespace("soapenv", "http://schemas.xmlsoap.org/soap/envelope/")
        .namespace("s11", "http://schemas.xmlsoap.org/soap/envelope/")
        .namespace("s12", "http://www.w3.org/2003/05/soap-envelope")
        .namespace("wsa", "http://www.w3.org/2005/08/addressing")
        .namespace("m0", "http://services.samples")
        .namespace("ns", "http://services.samples/xsd")
        .namespace("fn", "http://www.w3.org/2005/xpath-functions")
        .namespace("a", "urn:a")
}

fuzz_target!(|data: &[u8]| {
    let (expr, document) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(expr) = std::str::from_utf8(expr) else { return };
    if expr.len() > 4096 {
        return;
    }
    let Ok(x) = xpath::compile(expr, &context()) else { return };
    let _ = x.source();
    let limits = Limits::default();
    let bytes = document.unwrap_or(MESSAGE.as_bytes());
    let matcher = x.streaming_matcher();
    let Ok(doc) = xml::parse(bytes, &limits) else {
        // Only what precedes the first match is read: any answer is fine, but no panic.
        if let Some(m) = &matcher {
            let _ = m.first_string(bytes, &limits);
            let _ = m.matches(bytes, &limits);
        }
        return;
    };
    let host = DocHost { doc: &doc };
    let mut contexts = vec![doc.root()];
    contexts.extend(doc.document_element());
    for &c in &contexts {
        check_shortcuts(&x, &doc, c, &host);
    }

    if let Some(m) = matcher {
        let tree = x.eval_first(&doc, doc.root(), &host).expect("a streamable path evaluates");
        let expected = tree.map(|n| doc.string_value(n).into_owned());
        let streamed = m.first_string(bytes, &limits);
        assert_eq!(streamed.as_ref().ok(), Some(&expected), "streaming first_string disagrees with the tree for {expr:?}: {streamed:?}");
        let matched = m.matches(bytes, &limits);
        assert_eq!(matched.as_ref().ok(), Some(&expected.is_some()), "streaming matches disagrees with the tree for {expr:?}: {matched:?}");
    }
});

fn check_shortcuts(x: &xpath::XPath, doc: &Document, context: NodeId, host: &dyn Host) {
    let full = x.evaluate(doc, context, host);
    let Ok(full) = full else {
        // A type or function error: the shortcuts may fail or not, but must not panic.
        let _ = x.eval_string(doc, context, host);
        let _ = x.eval_bool(doc, context, host);
        let _ = x.eval_number(doc, context, host);
        let _ = x.eval_first(doc, context, host);
        let _ = x.eval_nodes(doc, context, host);
        return;
    };
    let e = x.source();
    assert_eq!(x.eval_string(doc, context, host).ok(), Some(full.to_string(doc)), "eval_string differs from string(evaluate) for {e:?}");
    assert_eq!(x.eval_bool(doc, context, host).ok(), Some(full.to_boolean()), "eval_bool differs from boolean(evaluate) for {e:?}");
    let n = x.eval_number(doc, context, host).ok();
    let want = full.to_number(doc);
    assert!(n.is_some_and(|n| n == want || (n.is_nan() && want.is_nan())), "eval_number {n:?} differs from number(evaluate) {want} for {e:?}");
    match &full {
        Value::NodeSet(nodes) => {
            assert_eq!(x.eval_nodes(doc, context, host).ok().as_ref(), Some(nodes), "eval_nodes differs from evaluate for {e:?}");
            assert_eq!(x.eval_first(doc, context, host).ok(), Some(nodes.first().copied()), "eval_first differs from evaluate for {e:?}");
            let mut sorted = nodes.clone();
            doc.sort_document_order(&mut sorted);
            assert_eq!(&sorted, nodes, "a node-set is not in document order for {e:?}");
            sorted.dedup();
            assert_eq!(sorted.len(), nodes.len(), "a node-set holds duplicates for {e:?}");
        }
        _ => {
            assert!(x.eval_nodes(doc, context, host).is_err(), "eval_nodes accepted a non-node-set for {e:?}");
        }
    }
}
