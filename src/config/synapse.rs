//! Loading the Synapse-language artifacts under `mediation/`.
//!
//! Two stages: every file is parsed first (so one bad file does not hide the problems of
//! the next), then artifacts are built in dependency order — endpoints, sequences, proxy
//! services — resolving every key to the artifact it names. Names must be unique per kind.
//! Both layouts Synapse users know are read: one artifact per file in `proxy-services/`,
//! `sequences/`, `endpoints/`…, and a single `synapse.xml` holding `<definitions>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfigError, ConfigErrors};
use super::xml::{self, Element};
use crate::endpoint::{self, Endpoint};
use crate::mediation::deployment::Deployment;
use crate::mediation::mediators;
use crate::mediation::sequence::Sequence;
use crate::mediation::{proxy, Mediator};

/// The namespace of the Synapse configuration language.
pub const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";

/// Artifact folders and the root element each file holds.
const FOLDERS: [(&str, &str); 7] = [
    ("endpoints", "endpoint"),
    ("sequences", "sequence"),
    ("proxy-services", "proxy"),
    ("local-entries", "localEntry"),
    ("api", "api"),
    ("templates", "template"),
    ("tasks", "task"),
];

/// Synapse's shipped `main`: log what arrives, send what is addressed to the sample
/// backend, return responses.
const DEFAULT_MAIN: &str = r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="main">
  <in><log level="full"/><filter source="get-property('To')" regex="http://localhost:9000.*"><send/></filter></in>
  <out><send/></out>
</sequence>"#;

/// Synapse's shipped `fault` logs the error; ours then lets the engine answer with a SOAP
/// fault instead of dropping, so a client never waits for nothing.
const DEFAULT_FAULT: &str = r#"<sequence xmlns="http://ws.apache.org/ns/synapse" name="fault">
  <log level="full">
    <property name="MESSAGE" value="Executing default 'fault' sequence"/>
    <property name="ERROR_CODE" expression="get-property('ERROR_CODE')"/>
    <property name="ERROR_MESSAGE" expression="get-property('ERROR_MESSAGE')"/>
  </log>
</sequence>"#;

/// The artifacts of one deployment as parsed, by name, before anything is built.
#[derive(Default)]
struct Parsed {
    endpoints: HashMap<String, Element>,
    sequences: HashMap<String, Element>,
    proxies: Vec<Element>,
    entries: HashMap<String, LocalEntry>,
    /// Endpoint templates by name.
    templates: HashMap<String, Element>,
}

/// Builds artifacts on demand, so they may refer to each other in any order: a key is
/// built the first time it is asked for, and asking for a key that is still being built
/// is a cycle. Mediator and endpoint factories get one.
pub struct Builder<'a> {
    parsed: &'a Parsed,
    /// The folder holding the artifacts (`src="file:…"` and WSDL paths resolve against it).
    pub base: &'a Path,
    endpoints: HashMap<String, Arc<dyn Endpoint>>,
    sequences: HashMap<String, Arc<Sequence>>,
    /// Keys being built, outermost first, to name a cycle when one closes.
    building: Vec<String>,
}

impl Builder<'_> {
    fn enter(&mut self, kind: &str, key: &str, at: &Element) -> Result<(), ConfigError> {
        let id = format!("{kind} '{key}'");
        if let Some(i) = self.building.iter().position(|b| *b == id) {
            let mut path: Vec<&str> = self.building[i..].iter().map(String::as_str).collect();
            path.push(&id);
            return Err(at.error(format!("reference cycle: {}", path.join(" → "))));
        }
        self.building.push(id);
        Ok(())
    }

    /// The endpoint named `key` (a named endpoint, or a local entry holding one).
    pub fn endpoint_by_key(&mut self, key: &str, at: &Element) -> Result<Arc<dyn Endpoint>, ConfigError> {
        if let Some(e) = self.endpoints.get(key) {
            return Ok(e.clone());
        }
        let parsed = self.parsed;
        let el = match (parsed.endpoints.get(key), parsed.entries.get(key).and_then(|e| e.element("endpoint"))) {
            (Some(el), _) | (None, Some(el)) => el,
            (None, None) => return Err(at.error(format!("no endpoint named '{key}' is defined"))),
        };
        self.enter("endpoint", key, at)?;
        let built = endpoint::build(el, Some(key.to_string()), self);
        self.building.pop();
        let built = built?;
        self.endpoints.insert(key.to_string(), built.clone());
        Ok(built)
    }

    /// The sequence named `key` (a named sequence, or a local entry holding one).
    pub fn sequence_by_key(&mut self, key: &str, at: &Element) -> Result<Arc<Sequence>, ConfigError> {
        if let Some(s) = self.sequences.get(key) {
            return Ok(s.clone());
        }
        let parsed = self.parsed;
        let el = match (parsed.sequences.get(key), parsed.entries.get(key).and_then(|e| e.element("sequence"))) {
            (Some(el), _) | (None, Some(el)) => el,
            (None, None) => return Err(at.error(format!("no sequence named '{key}' is defined"))),
        };
        self.enter("sequence", key, at)?;
        let built = self.sequence(el, Some(key.to_string()));
        self.building.pop();
        let built = Arc::new(built?);
        self.sequences.insert(key.to_string(), built.clone());
        Ok(built)
    }

    /// The local entry `key`.
    pub fn local_entry(&self, key: &str, at: &Element) -> Result<&LocalEntry, ConfigError> {
        self.parsed.entries.get(key).ok_or_else(|| at.error(format!("no local entry named '{key}' is defined")))
    }

    /// An `<endpoint>` element: a `key` reference or an inline definition.
    pub fn endpoint(&mut self, el: &Element) -> Result<Arc<dyn Endpoint>, ConfigError> {
        match el.attr("key") {
            Some(key) => self.endpoint_by_key(key, el),
            None => endpoint::build(el, el.attr("name").map(str::to_string), self),
        }
    }

    /// The endpoint template `name`.
    pub fn endpoint_template(&self, name: &str, at: &Element) -> Result<&Element, ConfigError> {
        self.parsed.templates.get(name).ok_or_else(|| at.error(format!("no endpoint template named '{name}' is defined")))
    }

    /// The mediators inside `parent`, in order.
    pub fn mediators(&mut self, parent: &Element) -> Result<Vec<Box<dyn Mediator>>, ConfigError> {
        let mut out = Vec::new();
        for el in parent.elements() {
            if el.name == "description" {
                continue;
            }
            check_namespace(el)?;
            let factory = mediators::factory(&el.name)
                .ok_or_else(|| el.error(format!("<{}> is not a mediator we support yet", el.name)))?;
            out.push(factory(el, self)?);
        }
        Ok(out)
    }

    /// A sequence element (named, or inline such as `<inSequence>`), with its `onError`.
    pub fn sequence(&mut self, el: &Element, name: Option<String>) -> Result<Sequence, ConfigError> {
        if let Some(key) = el.attr("key") {
            return Err(el.error(format!("a sequence reference (key=\"{key}\") is not allowed here")));
        }
        let on_error = el.attr("onError").map(|k| self.sequence_by_key(k, el)).transpose()?;
        Ok(Sequence { name, mediators: self.mediators(el)?, on_error })
    }
}

/// A `<localEntry>`: text, or an XML element (inline or read from `src`).
#[derive(Debug, Clone)]
pub struct LocalEntry {
    pub key: String,
    pub value: EntryValue,
}

#[derive(Debug, Clone)]
pub enum EntryValue {
    Text(String),
    Xml(Element),
}

impl LocalEntry {
    /// The entry's element when it is a `<name>` in the Synapse namespace.
    fn element(&self, name: &str) -> Option<&Element> {
        match &self.value {
            EntryValue::Xml(e) if e.name == name && e.namespace.as_deref() == Some(SYNAPSE_NS) => Some(e),
            _ => None,
        }
    }

    /// The entry as text: the text itself, or the XML serialised.
    pub fn text(&self) -> String {
        match &self.value {
            EntryValue::Text(t) => t.clone(),
            EntryValue::Xml(e) => e.to_xml(),
        }
    }
}

fn local_entry(el: &Element, base: &Path) -> Result<LocalEntry, ConfigError> {
    let key = el.required_attr("key")?.to_string();
    let value = match el.attr("src") {
        Some(src) => {
            let path = match src.strip_prefix("file:") {
                Some(p) => base.join(p.trim_start_matches("//")),
                None if src.contains("://") => {
                    return Err(el.error(format!("src '{src}': only file: sources are read (no remote fetches at load)")));
                }
                None => base.join(src),
            };
            let bytes = std::fs::read(&path).map_err(|e| el.error(format!("cannot read {}: {e}", path.display())))?;
            match xml::parse_bytes(&path, &bytes) {
                Ok(root) => EntryValue::Xml(root),
                Err(_) if !bytes.starts_with(b"<") => EntryValue::Text(String::from_utf8_lossy(&bytes).into_owned()),
                Err(e) => return Err(e),
            }
        }
        None => {
            let mut children = el.elements();
            match (children.next(), children.next()) {
                (Some(only), None) => EntryValue::Xml(only.clone()),
                (None, _) => EntryValue::Text(el.text()),
                (Some(_), Some(extra)) => return Err(extra.error("a local entry holds one element or text")),
            }
        }
    };
    Ok(LocalEntry { key, value })
}

fn check_namespace(el: &Element) -> Result<(), ConfigError> {
    if el.namespace.as_deref() == Some(SYNAPSE_NS) {
        Ok(())
    } else {
        Err(el.error(format!(
            "<{}> must be in the Synapse namespace {SYNAPSE_NS} (found {})",
            el.name,
            el.namespace.as_deref().unwrap_or("no namespace")
        )))
    }
}

/// Loads every artifact under `dir` into a deployment.
pub fn load_dir(dir: &Path) -> Result<Deployment, ConfigErrors> {
    if !dir.is_dir() {
        return Err(ConfigError::in_file(dir, "the mediation folder does not exist").into());
    }
    let mut errors = ConfigErrors::default();
    let mut artifacts: Vec<Element> = Vec::new();

    let single = dir.join("synapse.xml");
    if single.is_file() {
        if let Some(root) = errors.collect(xml::parse_file(&single)) {
            if root.name != "definitions" {
                errors.push(root.error(format!("expected <definitions> as the root element, found <{}>", root.name)));
            } else if let Err(e) = check_namespace(&root) {
                errors.push(e);
            } else {
                artifacts.extend(root.elements().cloned());
            }
        }
    }
    for (folder, root_name) in FOLDERS {
        for file in xml_files(&dir.join(folder), &mut errors) {
            let Some(root) = errors.collect(xml::parse_file(&file)) else { continue };
            if root.name != root_name {
                errors.push(root.error(format!("a file in {folder}/ must hold one <{root_name}>, not <{}>", root.name)));
            } else if let Err(e) = check_namespace(&root) {
                errors.push(e);
            } else {
                artifacts.push(root);
            }
        }
    }

    let deployment = build(artifacts, dir, &mut errors);
    errors.into_result(deployment)
}

fn xml_files(dir: &Path, errors: &mut ConfigErrors) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            errors.push(ConfigError::in_file(dir, format!("cannot list the folder: {e}")));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "xml") && p.is_file()).collect();
    files.sort();
    files
}

/// Sorts parsed artifacts by kind and name, reporting duplicates.
fn sort(artifacts: Vec<Element>, base: &Path, errors: &mut ConfigErrors) -> Parsed {
    let mut parsed = Parsed::default();
    let mut first_seen: HashMap<(String, String), crate::config::error::Origin> = HashMap::new();
    for a in artifacts {
        let name = match a.name.as_str() {
            "endpoint" | "sequence" | "proxy" => a.required_attr("name"),
            "localEntry" => a.required_attr("key"),
            "template" if a.child("endpoint").is_some() => a.required_attr("name"),
            "template" => {
                errors.push(a.error("sequence templates (call-template) are not supported yet; endpoint templates are"));
                continue;
            }
            "api" | "task" => {
                errors.push(a.error(format!("<{}> artifacts are not supported yet", a.name)));
                continue;
            }
            "registry" | "description" => {
                log::warn!("{}: <{}> is not supported yet; ignored", a.origin, a.name);
                continue;
            }
            other => {
                errors.push(a.error(format!("<{other}> is not a Synapse artifact")));
                continue;
            }
        };
        let name = match name {
            Ok(n) => n.to_string(),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(first) = first_seen.insert((a.name.clone(), name.clone()), a.origin.clone()) {
            errors.push(a.error(format!("a {} named '{name}' is already defined at {first}", a.name)));
            continue;
        }
        match a.name.as_str() {
            "endpoint" => {
                parsed.endpoints.insert(name, a);
            }
            "sequence" => {
                parsed.sequences.insert(name, a);
            }
            "proxy" => parsed.proxies.push(a),
            "template" => {
                parsed.templates.insert(name, a);
            }
            _ => {
                if let Some(entry) = errors.collect(local_entry(&a, base)) {
                    parsed.entries.insert(name, entry);
                }
            }
        }
    }
    parsed
}

/// The second stage: builds every artifact (each key once, on first use), collecting
/// every error, and adds the default `main` and `fault` sequences when none are given.
fn build(artifacts: Vec<Element>, base: &Path, errors: &mut ConfigErrors) -> Deployment {
    let mut parsed = sort(artifacts, base, errors);
    for (name, text) in [("main", DEFAULT_MAIN), ("fault", DEFAULT_FAULT)] {
        if !parsed.sequences.contains_key(name) {
            let origin = Path::new("<built-in sequence>");
            if let Some(el) = errors.collect(xml::parse_bytes(origin, text.as_bytes())) {
                parsed.sequences.insert(name.to_string(), el);
            }
        }
    }
    let mut b = Builder { parsed: &parsed, base, endpoints: HashMap::new(), sequences: HashMap::new(), building: Vec::new() };
    let mut names: Vec<&String> = parsed.endpoints.keys().collect();
    names.sort();
    for name in names {
        let el = &parsed.endpoints[name];
        errors.collect(b.endpoint_by_key(name, el));
    }
    let mut names: Vec<&String> = parsed.sequences.keys().collect();
    names.sort();
    for name in names {
        let el = &parsed.sequences[name];
        errors.collect(b.sequence_by_key(name, el));
    }
    let mut proxies = HashMap::new();
    for el in &parsed.proxies {
        if let Some(p) = errors.collect(proxy::build(el, &mut b)) {
            proxies.insert(p.name.clone(), Arc::new(p));
        }
    }
    let main = b.sequences.get("main").cloned().unwrap_or_default();
    let fault = b.sequences.get("fault").cloned().unwrap_or_default();
    let Builder { endpoints, sequences, .. } = b;
    Deployment { proxies, sequences, endpoints, local_entries: parsed.entries, main, fault }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mediate-synapse-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn loads_proxy_with_named_endpoint() {
        let d = temp("ok");
        write(&d, "endpoints/Quote.xml", r#"<endpoint xmlns="http://ws.apache.org/ns/synapse" name="Quote"><address uri="http://localhost:9000/services/SimpleStockQuoteService"><timeout><duration>5000</duration></timeout></address></endpoint>"#);
        write(&d, "proxy-services/P.xml", r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="https"><target endpoint="Quote"><outSequence><send/></outSequence></target></proxy>"#);
        let dep = load_dir(&d).unwrap();
        let p = dep.proxy_for_path("/services/P/getQuote").unwrap();
        assert_eq!(p.transports, vec![crate::config::axis2::Transport::Https]);
        assert!(p.endpoint.is_some() && p.out_sequence.is_some());
        assert_eq!(dep.endpoints["Quote"].name(), Some("Quote"));
        assert!(dep.proxy_for_path("/services/Q").is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reports_every_problem_with_its_place() {
        let d = temp("bad");
        write(&d, "proxy-services/A.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"A\">\n  <target endpoint=\"Missing\"/>\n</proxy>");
        write(&d, "proxy-services/B.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"B\" transports=\"jms\"><target><endpoint><address uri=\"http://x/\"/></endpoint></target></proxy>");
        write(&d, "proxy-services/C.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"C\"><target><inSequence>\n<xquery/></inSequence></target></proxy>");
        write(&d, "proxy-services/D.xml", "<proxy name=\"D\"/>");
        write(&d, "proxy-services/E.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"E\"><target><endpoint><address uri=\"ftp://x/\"/></endpoint></target></proxy>");
        write(&d, "proxy-services/F.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"A\"><target endpoint=\"x\"/></proxy>");
        write(&d, "sequences/loop.xml", "<definitions xmlns=\"http://ws.apache.org/ns/synapse\"/>");
        write(&d, "sequences/a.xml", "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"a\"><sequence key=\"b\"/></sequence>");
        write(&d, "sequences/b.xml", "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"b\"><sequence key=\"a\"/></sequence>");
        write(&d, "sequences/broken.xml", "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"s\">\n<send>");
        let errs = load_dir(&d).unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("A.xml:2:3: no endpoint named 'Missing'"), "{text}");
        assert!(text.contains("unknown transport 'jms'"), "{text}");
        assert!(text.contains("C.xml:2:1: <xquery> is not a mediator"), "{text}");
        assert!(text.contains("D.xml:1:1: <proxy> must be in the Synapse namespace"), "{text}");
        assert!(text.contains("already defined at"), "{text}");
        assert!(text.contains("must be an absolute http:// or https:// URL"), "{text}");
        assert!(text.contains("broken.xml:"), "{text}");
        assert!(text.contains("reference cycle: sequence 'a' → sequence 'b' → sequence 'a'"), "{text}");
        assert!(text.contains("loop.xml:1:1: a file in sequences/ must hold one <sequence>"), "{text}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_a_single_definitions_file() {
        let d = temp("single");
        write(&d, "synapse.xml", r#"<definitions xmlns="http://ws.apache.org/ns/synapse">
  <proxy name="StockQuoteProxy"><target><endpoint><address uri="http://localhost:9000/services/SimpleStockQuoteService"/></endpoint><outSequence><send/></outSequence></target></proxy>
</definitions>"#);
        let dep = load_dir(&d).unwrap();
        assert!(dep.proxy_for_path("/services/StockQuoteProxy").is_some());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
