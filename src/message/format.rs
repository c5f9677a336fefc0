//! Which kind of message this is (SOAP 1.1, SOAP 1.2 or plain XML), decided from the content
//! type and the root element, without parsing the body.
//!
//! Only the prolog and the root start tag are looked at, so pass-through stays streaming.
//! The same look refuses a DOCTYPE before anything is forwarded: SOAP forbids DTDs, and a
//! DTD passed through could attack the backend's parser.

use quick_xml::events::Event;

pub const SOAP11_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// How much of a body may precede the end of the root start tag.
pub const PROLOG_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    Soap11,
    Soap12,
    /// Plain XML, or anything that is not a SOAP envelope.
    Pox,
}

impl MessageFormat {
    /// The format implied by a Content-Type header alone.
    pub fn from_content_type(content_type: Option<&str>) -> MessageFormat {
        match content_type.map(media_type) {
            Some(t) if t.eq_ignore_ascii_case("application/soap+xml") => MessageFormat::Soap12,
            Some(t) if t.eq_ignore_ascii_case("text/xml") => MessageFormat::Soap11,
            _ => MessageFormat::Pox,
        }
    }

    pub fn envelope_namespace(self) -> Option<&'static str> {
        match self {
            MessageFormat::Soap11 => Some(SOAP11_ENV_NS),
            MessageFormat::Soap12 => Some(SOAP12_ENV_NS),
            MessageFormat::Pox => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MessageFormat::Soap11 => "text/xml; charset=UTF-8",
            MessageFormat::Soap12 => "application/soap+xml; charset=UTF-8",
            MessageFormat::Pox => "application/xml; charset=UTF-8",
        }
    }
}

/// The media type of a Content-Type value, without parameters.
pub fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Whether a content type announces XML (so the body is worth a look).
pub fn is_xml(content_type: Option<&str>) -> bool {
    content_type.map(media_type).is_some_and(|t| {
        let suffix = t.len().checked_sub(4).and_then(|i| t.get(i..));
        ["text/xml", "application/xml"].iter().any(|x| t.eq_ignore_ascii_case(x)) || suffix.is_some_and(|s| s.eq_ignore_ascii_case("+xml"))
    })
}

/// The SOAP 1.2 `action` parameter of a Content-Type value.
pub fn action_parameter(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("action").then(|| v.trim().trim_matches('"'))
    })
}

/// What the first bytes of a body say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prolog {
    /// The root start tag was found.
    Root { local_name: String, namespace: Option<String> },
    /// More bytes are needed to see the root start tag.
    Incomplete,
    Doctype,
    Malformed(String),
}

/// Looks for the root element at the start of `buf`.
pub fn read_prolog(buf: &[u8]) -> Prolog {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if buf.len() < BOM.len() && !buf.is_empty() && BOM.starts_with(buf) {
        // A byte-order mark split across reads.
        return Prolog::Incomplete;
    }
    let mut i = if buf.starts_with(BOM) { 3 } else { 0 };
    loop {
        while i < buf.len() && matches!(buf[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        let rest = &buf[i..];
        if rest.is_empty() {
            return Prolog::Incomplete;
        }
        if rest[0] != b'<' {
            return Prolog::Malformed("content is not allowed before the root element".into());
        }
        let skip_to = |end: &[u8]| find(rest, end).map(|p| i + p + end.len());
        if rest.starts_with(b"<?") {
            match skip_to(b"?>") {
                Some(n) => i = n,
                None => return Prolog::Incomplete,
            }
        } else if rest.starts_with(b"<!--") {
            match skip_to(b"-->") {
                Some(n) => i = n,
                None => return Prolog::Incomplete,
            }
        } else if rest.starts_with(b"<!") {
            // `<!DOCTYPE` (or a truncated prefix of it, or of a comment's `<!--`); nothing
            // else may start with `<!` here.
            let truncated = |whole: &[u8]| rest.len() < whole.len() && whole.starts_with(rest);
            return if truncated(b"<!DOCTYPE") || truncated(b"<!--") { Prolog::Incomplete } else { Prolog::Doctype };
        } else {
            return root_tag(rest);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the start tag at the front of `rest` (which begins with `<`).
fn root_tag(rest: &[u8]) -> Prolog {
    let mut quote = None;
    let mut end = None;
    for (j, &b) in rest.iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                end = Some(j);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else { return Prolog::Incomplete };
    let mut reader = quick_xml::Reader::from_reader(&rest[..=end]);
    let start = match reader.read_event() {
        Ok(Event::Start(s)) | Ok(Event::Empty(s)) => s,
        Ok(_) => return Prolog::Malformed("expected an element".into()),
        Err(e) => return Prolog::Malformed(e.to_string()),
    };
    let qname = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let (prefix, local_name) = match qname.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), qname),
    };
    let wanted = if prefix.is_empty() { "xmlns".to_string() } else { format!("xmlns:{prefix}") };
    let mut namespace = None;
    for attr in start.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(e) => return Prolog::Malformed(e.to_string()),
        };
        if attr.key.as_ref() == wanted.as_bytes() {
            // Read as the message parser reads it: references resolved, literal whitespace
            // normalised to spaces.
            let Ok(raw) = std::str::from_utf8(&attr.value) else { return Prolog::Malformed("invalid UTF-8".into()) };
            let mut value = String::new();
            if let Err(m) = crate::xml::parse::push_attribute_value(&mut value, raw) {
                return Prolog::Malformed(m);
            }
            namespace = Some(value).filter(|v| !v.is_empty());
        }
    }
    if prefix == "xml" && namespace.is_none() {
        // Bound by definition, never declared.
        namespace = Some(crate::xml::XML_NAMESPACE.to_string());
    }
    if !prefix.is_empty() && namespace.is_none() {
        return Prolog::Malformed(format!("namespace prefix '{prefix}' is not declared"));
    }
    Prolog::Root { local_name, namespace }
}

/// Why a body cannot be accepted as the format it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// An `Envelope` in a namespace that is not SOAP's, or one that contradicts the
    /// content type (SOAP's VersionMismatch).
    VersionMismatch(String),
    Doctype,
    Malformed(String),
}

/// Decides the format from the content type and the root element.
pub fn decide(content_type: Option<&str>, root_local: &str, root_ns: Option<&str>) -> Result<MessageFormat, FormatError> {
    let declared = MessageFormat::from_content_type(content_type);
    let by_root = match root_ns {
        Some(SOAP11_ENV_NS) => Some(MessageFormat::Soap11),
        Some(SOAP12_ENV_NS) => Some(MessageFormat::Soap12),
        _ if root_local == "Envelope" && declared != MessageFormat::Pox => {
            return Err(FormatError::VersionMismatch(format!(
                "the envelope namespace '{}' is not a SOAP envelope namespace",
                root_ns.unwrap_or("")
            )));
        }
        _ => None,
    };
    match (declared, by_root) {
        (MessageFormat::Pox, Some(f)) => Ok(f),
        (d, Some(f)) if d != f => Err(FormatError::VersionMismatch(format!(
            "the content type announces {} but the envelope is {}",
            d.label(),
            f.label()
        ))),
        (_, Some(f)) => Ok(f),
        // text/xml without an envelope: plain XML over the SOAP 1.1 content type
        (_, None) => Ok(MessageFormat::Pox),
    }
}

impl MessageFormat {
    pub fn label(self) -> &'static str {
        match self {
            MessageFormat::Soap11 => "SOAP 1.1",
            MessageFormat::Soap12 => "SOAP 1.2",
            MessageFormat::Pox => "plain XML",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(MessageFormat::from_content_type(Some("text/xml; charset=UTF-8")), MessageFormat::Soap11);
        assert_eq!(MessageFormat::from_content_type(Some("application/soap+xml;action=\"urn:x\"")), MessageFormat::Soap12);
        assert_eq!(MessageFormat::from_content_type(Some("application/xml")), MessageFormat::Pox);
        assert_eq!(action_parameter("application/soap+xml; charset=utf-8; action=\"urn:getQuote\""), Some("urn:getQuote"));
        assert_eq!(action_parameter("text/xml"), None);
        assert!(is_xml(Some("application/atom+xml")) && !is_xml(Some("application/json")));
    }

    #[test]
    fn prolog() {
        let p = read_prolog(b"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- c --><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/>");
        assert_eq!(p, Prolog::Root { local_name: "Envelope".into(), namespace: Some(SOAP12_ENV_NS.into()) });
        assert_eq!(read_prolog(b"<?xml version='1.0'?><s:Envel"), Prolog::Incomplete);
        assert_eq!(read_prolog(b"<a b='>'"), Prolog::Incomplete);
        assert_eq!(read_prolog(b"<a b='>' xmlns='urn:a'>"), Prolog::Root { local_name: "a".into(), namespace: Some("urn:a".into()) });
        assert_eq!(read_prolog(b"<!DOC"), Prolog::Incomplete);
        assert_eq!(read_prolog(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"), Prolog::Doctype);
        assert!(matches!(read_prolog(b"hello"), Prolog::Malformed(_)));
        assert!(matches!(read_prolog(b"<p:a>"), Prolog::Malformed(_)));
    }

    /// Found by fuzzing (fuzz/regressions/xml_parse): the transport calls `read_prolog` on a
    /// growing buffer, so a read that ends inside the byte-order mark or inside a comment's
    /// `<!--` must not refuse a valid message.
    #[test]
    fn prolog_decision_does_not_depend_on_read_boundaries() {
        let bodies: [&[u8]; 3] = [
            b"\xEF\xBB\xBF<a xmlns:p=\"urn:p\" p:x=\"1\"><p:b/></a>",
            b"<!-- c --><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
            b"<?xml version='1.0'?>\n<!--x--><!DOCTYPE a><a/>",
        ];
        for body in bodies {
            let full = read_prolog(body);
            assert!(!matches!(full, Prolog::Incomplete | Prolog::Malformed(_)), "{full:?}");
            for end in 1..body.len() {
                let early = read_prolog(&body[..end]);
                assert!(early == Prolog::Incomplete || early == full, "after {end} bytes: {early:?}, at the end: {full:?}");
            }
        }
        assert_eq!(read_prolog(b"\xEF\xBB"), Prolog::Incomplete);
        assert_eq!(read_prolog(b"<!-"), Prolog::Incomplete);
        assert_eq!(read_prolog(b"<!-x"), Prolog::Doctype);
    }

    /// Found by fuzzing (fuzz/regressions/xml_parse/prolog-namespace-whitespace): the root's
    /// namespace must read as `xml::parse` reads it (literal whitespace becomes spaces).
    #[test]
    fn prolog_namespace_reads_like_the_parser() {
        let body = b"<s:Envelope xmlns:s=\"urn:a\n\tb&#10;c&amp;\"/>";
        let doc = crate::xml::parse(body, &crate::xml::Limits::default()).unwrap();
        let parsed = doc.document_element().and_then(|e| doc.namespace_uri(e)).map(str::to_string);
        assert_eq!(parsed.as_deref(), Some("urn:a  b\nc&"));
        assert_eq!(read_prolog(body), Prolog::Root { local_name: "Envelope".into(), namespace: parsed });
        assert!(matches!(read_prolog(b"<a xmlns='&undefined;'>"), Prolog::Malformed(_)));
        // The `xml` prefix needs no declaration (fuzz/regressions/xml_parse/prolog-xml-prefix).
        assert_eq!(read_prolog(b"\t<xml:langomy/>"), Prolog::Root { local_name: "langomy".into(), namespace: Some(crate::xml::XML_NAMESPACE.into()) });
    }

    #[test]
    fn decide_format() {
        assert_eq!(decide(Some("text/xml"), "Envelope", Some(SOAP11_ENV_NS)), Ok(MessageFormat::Soap11));
        assert_eq!(decide(Some("application/xml"), "Envelope", Some(SOAP12_ENV_NS)), Ok(MessageFormat::Soap12));
        assert_eq!(decide(Some("application/xml"), "getQuote", Some("http://services.samples")), Ok(MessageFormat::Pox));
        assert!(matches!(decide(Some("text/xml"), "Envelope", Some(SOAP12_ENV_NS)), Err(FormatError::VersionMismatch(_))));
        assert!(matches!(decide(Some("text/xml"), "Envelope", Some("urn:wrong")), Err(FormatError::VersionMismatch(_))));
    }
}
