//! `<payloadFactory>`: replace the payload with a template (`<format>` inline, or a local
//! entry by `key`) whose `$1…$n` are filled from `<args>` — literals or XPaths, always
//! inserted as escaped text, so message data can never become markup.

use async_trait::async_trait;

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::mediation::text::Text;
use crate::mediation::{Engine, Flow, MediationError, Mediator};
use crate::message::{MessageContext, MessageFormat};
use crate::xml::{soap, Document};

#[derive(Debug)]
pub struct PayloadFactory {
    /// The template split at its placeholders: text, then (argument index, text)…
    head: String,
    pieces: Vec<(usize, String)>,
    /// Namespaces in scope where the format was written.
    namespaces: Vec<(String, String)>,
    args: Vec<Text>,
}

/// Error code when the filled template is not usable XML.
const BAD_PAYLOAD: u32 = 500_002;

#[async_trait(?Send)]
impl Mediator for PayloadFactory {
    async fn mediate(&self, ctx: &mut MessageContext, engine: &Engine) -> Result<Flow, MediationError> {
        let mut values = Vec::with_capacity(self.args.len());
        for a in &self.args {
            values.push(a.string(ctx, engine).await?);
        }
        let mut xml = self.head.clone();
        for (i, text) in &self.pieces {
            xml.push_str(&quick_xml::escape::escape(values[*i].as_str()));
            xml.push_str(text);
        }
        ctx.ensure_document(&engine.limits).await?;
        let format = ctx.format;
        let limits = engine.limits.xml.clone();
        let doc = ctx.document_mut().ok_or_else(|| MediationError::new(BAD_PAYLOAD, "the message has no XML body"))?;
        replace_payload(doc, format, &xml, &self.namespaces, &limits).map_err(|e| MediationError::new(BAD_PAYLOAD, format!("payloadFactory: {e}")))?;
        Ok(Flow::Continue)
    }
}

/// Puts the nodes of `xml` where the payload goes: inside the SOAP body (replacing what is
/// there), or as the document element of a plain-XML message.
fn replace_payload(doc: &mut Document, format: MessageFormat, xml: &str, namespaces: &[(String, String)], limits: &crate::xml::Limits) -> Result<(), String> {
    let ns = namespaces.iter().map(|(p, u)| (p.as_str(), u.as_str()));
    let nodes = doc.parse_fragment(xml, ns, limits).map_err(|e| e.to_string())?;
    let body = match soap::envelope(doc) {
        Some(env) => env.body,
        None if format != MessageFormat::Pox => {
            // An empty SOAP request: give it an envelope of its version.
            let version = if format == MessageFormat::Soap12 { soap::SoapVersion::Soap12 } else { soap::SoapVersion::Soap11 };
            let env = doc.create_element(Some(version.namespace()), Some("soapenv"), "Envelope").map_err(|e| e.to_string())?;
            let body = doc.create_element(Some(version.namespace()), Some("soapenv"), "Body").map_err(|e| e.to_string())?;
            doc.append_child(env, body).map_err(|e| e.to_string())?;
            if let Some(old) = doc.document_element() {
                doc.remove(old).map_err(|e| e.to_string())?;
            }
            let root = doc.root();
            doc.append_child(root, env).map_err(|e| e.to_string())?;
            Some(body)
        }
        None => None,
    };
    match body {
        Some(body) => {
            doc.remove_children(body).map_err(|e| e.to_string())?;
            for n in nodes {
                doc.append_child(body, n).map_err(|e| e.to_string())?;
            }
        }
        None => {
            let mut elements = nodes.into_iter().filter(|&n| doc.is_element(n));
            let root_el = elements.next().ok_or("the format holds no element")?;
            if elements.next().is_some() {
                return Err("a plain-XML payload needs exactly one root element".into());
            }
            match doc.document_element() {
                Some(old) => {
                    doc.replace(old, root_el).map_err(|e| e.to_string())?;
                }
                None => {
                    let root = doc.root();
                    doc.append_child(root, root_el).map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(())
}

pub fn build(el: &Element, b: &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError> {
    if let Some(mt) = el.attr("media-type") {
        if mt != "xml" {
            return Err(el.error(format!("media-type '{mt}' is not supported yet (xml)")));
        }
    }
    let format = el.child("format").ok_or_else(|| el.error("<payloadFactory> needs a <format>"))?;
    let (template, namespaces) = match format.attr("key") {
        Some(key) => (b.local_entry(key, format)?.text(), Vec::new()),
        None => {
            let mut children = format.elements();
            let inline = children.next().ok_or_else(|| format.error("<format> needs the payload's XML inside it (or a key)"))?;
            if children.next().is_some() {
                return Err(format.error("<format> holds one root element"));
            }
            (inline.to_xml(), (*inline.namespaces).clone())
        }
    };
    let mut args = Vec::new();
    if let Some(list) = el.child("args") {
        for a in list.elements() {
            if a.name != "arg" {
                return Err(a.error(format!("<args> holds <arg> elements, not <{}>", a.name)));
            }
            if let Some(ev) = a.attr("evaluator") {
                if ev != "xml" {
                    return Err(a.error(format!("evaluator '{ev}' is not supported yet (xml)")));
                }
            }
            args.push(Text::from_attrs(a, "value", "expression", true)?.ok_or_else(|| a.error("<arg> needs a value"))?);
        }
    }
    let (head, pieces) = split_template(&template);
    if let Some((i, _)) = pieces.iter().find(|(i, _)| *i >= args.len()) {
        return Err(format.error(format!("the format uses ${} but only {} <arg> are given", i + 1, args.len())));
    }
    Ok(Box::new(PayloadFactory { head, pieces, namespaces, args }))
}

/// Splits at `$1`, `$2`, …: the leading text, then each (zero-based index, following text).
fn split_template(t: &str) -> (String, Vec<(usize, String)>) {
    let mut head = String::new();
    let mut pieces: Vec<(usize, String)> = Vec::new();
    let mut rest = t;
    while let Some(pos) = rest.find('$') {
        let digits = rest[pos + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let out = match pieces.last_mut() {
            Some((_, text)) => text,
            None => &mut head,
        };
        out.push_str(&rest[..pos]);
        match rest[pos + 1..pos + 1 + digits].parse::<usize>() {
            Ok(n) if n >= 1 => pieces.push((n - 1, String::new())),
            _ => out.push('$'),
        }
        rest = &rest[pos + 1 + digits..];
    }
    match pieces.last_mut() {
        Some((_, text)) => text.push_str(rest),
        None => head.push_str(rest),
    }
    (head, pieces)
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_split_at_placeholders() {
        let (head, pieces) = super::split_template("<a>$1</a><b x=\"$2\">$1 $ $x</b>");
        assert_eq!(head, "<a>");
        assert_eq!(pieces, vec![(0, "</a><b x=\"".into()), (1, "\">".into()), (0, " $ $x</b>".into())]);
    }
}
