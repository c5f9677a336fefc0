//! Endpoint templates: `<template name><parameter name="p"/><endpoint …>…</endpoint></template>`
//! instantiated by `<endpoint name="e" template="t" uri="…"><parameter name="p" value="v"/>`.
//!
//! `$name` and `$uri` come from the using element's attributes, `$p` from its parameters;
//! values are XML-escaped into the template's text, which is then built like any endpoint.

use std::sync::Arc;

use quick_xml::escape::escape;

use super::Endpoint;
use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::{self, Element};

pub fn instantiate(el: &Element, template: &str, name: Option<String>, b: &mut Builder<'_>) -> Result<Arc<dyn Endpoint>, ConfigError> {
    let t = b.endpoint_template(template, el)?.clone();
    let declared: Vec<String> = t.elements().filter(|p| p.name == "parameter").filter_map(|p| p.attr("name").map(str::to_string)).collect();
    let body = t.elements().find(|c| c.name == "endpoint").ok_or_else(|| t.error("an endpoint template needs an <endpoint>"))?;
    let mut values: Vec<(String, String)> = Vec::new();
    for (attr, value) in [("name", el.attr("name")), ("uri", el.attr("uri"))] {
        if let Some(v) = value {
            values.push((attr.to_string(), v.to_string()));
        }
    }
    for p in el.elements().filter(|p| p.name == "parameter") {
        let pname = p.required_attr("name")?;
        if !declared.iter().any(|d| d == pname) {
            return Err(p.error(format!("template '{template}' has no parameter '{pname}'")));
        }
        values.push((pname.to_string(), p.required_attr("value")?.to_string()));
    }
    if let Some(missing) = declared.iter().find(|d| !values.iter().any(|(n, _)| n == *d)) {
        return Err(el.error(format!("template '{template}' needs the parameter '{missing}'")));
    }
    // Longest names first, so `$uri2` is not read as `$uri` followed by "2".
    values.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let mut text = body.to_xml();
    for (n, v) in &values {
        text = text.replace(&format!("${n}"), &escape(v.as_str()));
    }
    let origin = format!("{} (template '{template}' used at {})", t.origin.path.display(), el.origin);
    let built = xml::parse_bytes(std::path::Path::new(&origin), text.as_bytes())?;
    super::build(&built, name, b)
}
