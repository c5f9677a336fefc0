//! The message XML parser, its serialiser, SOAP envelope detection and the prolog sniffer.
//!
//! Properties checked:
//! - `parse` never panics; a parsed document serialises to text that parses again, and the
//!   serialisation is stable (`serialize(parse(serialize(x))) == serialize(x)`);
//! - every element serialised on its own (self-contained) parses again, and importing the
//!   root into a fresh document serialises to the same text;
//! - `envelope` agrees between the document and its re-parse;
//! - `read_prolog` never panics, its decision does not change as more bytes arrive (the
//!   transport calls it on a growing buffer), and it finds the root element `parse` finds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediate::message::format::{read_prolog, Prolog};
use mediate::xml::{self, soap, Document, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    check_prolog(data);
    let Ok(doc) = xml::parse(data, &limits) else { return };
    let env = soap::envelope(&doc).map(|e| (e.version, e.header.is_some(), e.body.is_some()));
    let s1 = doc.to_xml();
    let doc2 = match xml::parse(s1.as_bytes(), &limits) {
        Ok(d) => d,
        Err(e) => panic!("serialisation does not parse again: {e}\ninput: {:?}\nserialised: {s1:?}", String::from_utf8_lossy(data)),
    };
    let s2 = doc2.to_xml();
    assert_eq!(s1, s2, "serialisation is not stable");
    let env2 = soap::envelope(&doc2).map(|e| (e.version, e.header.is_some(), e.body.is_some()));
    assert_eq!(env, env2, "envelope detection differs after a round trip");
    if let Some(e) = soap::envelope(&doc) {
        let _ = e.payload(&doc);
    }

    // The prolog sniffer must see the root the parser sees.
    if let Some(root) = doc.document_element() {
        match read_prolog(data) {
            Prolog::Root { local_name, namespace } => {
                assert_eq!(local_name, doc.local_name(root), "sniffed root name differs from the parsed one");
                let declared = doc.namespace_uri(root).filter(|u| !u.is_empty());
                assert_eq!(namespace.as_deref(), declared, "sniffed root namespace differs from the parsed one");
            }
            other => panic!("parse accepted the document but read_prolog says {other:?}"),
        }
    }

    // Subtrees serialise self-contained.
    for el in doc.descendants(doc.root()).filter(|&n| doc.is_element(n)).take(32) {
        let text = doc.serialize(el);
        if let Err(e) = xml::parse(text.as_bytes(), &limits) {
            panic!("element subtree does not parse on its own: {e}\nsubtree: {text:?}");
        }
    }
    if let Some(root) = doc.document_element() {
        let mut fresh = Document::new();
        let copy = fresh.import(&doc, root).expect("importing a parsed element");
        let top = fresh.root();
        fresh.append_child(top, copy).expect("appending the imported root");
        let text = fresh.to_xml();
        if let Err(e) = xml::parse(text.as_bytes(), &limits) {
            panic!("imported document does not parse again: {e}\nserialised: {text:?}");
        }
    }
});

/// Feeds `data` to the sniffer the way the transport does (a growing buffer) and checks that
/// the first decision is final.
fn check_prolog(data: &[u8]) {
    let full = read_prolog(data);
    let step = (data.len() / 16).max(1);
    let mut end = 0;
    while end < data.len() {
        match read_prolog(&data[..end]) {
            Prolog::Incomplete => {}
            early => {
                assert_eq!(early, full, "read_prolog decided on the first {end} bytes differently than on all {}", data.len());
                return;
            }
        }
        end += step;
    }
}
