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

/// Artifact folders, the root element each file holds, and whether we build it yet.
const FOLDERS: [(&str, &str); 7] = [
    ("endpoints", "endpoint"),
    ("sequences", "sequence"),
    ("proxy-services", "proxy"),
    ("local-entries", "localEntry"),
    ("api", "api"),
    ("templates", "template"),
    ("tasks", "task"),
];

/// Resolves references while artifacts are built; mediator and endpoint factories get one.
pub struct Builder<'a> {
    endpoints: &'a HashMap<String, Arc<dyn Endpoint>>,
    sequences: &'a HashMap<String, Arc<Sequence>>,
}

impl Builder<'_> {
    /// The named endpoint `key`; `at` is the element that refers to it.
    pub fn endpoint_by_key(&self, key: &str, at: &Element) -> Result<Arc<dyn Endpoint>, ConfigError> {
        self.endpoints.get(key).cloned().ok_or_else(|| at.error(format!("no endpoint named '{key}' is defined")))
    }

    /// The named sequence `key`; `at` is the element that refers to it.
    pub fn sequence_by_key(&self, key: &str, at: &Element) -> Result<Arc<Sequence>, ConfigError> {
        self.sequences.get(key).cloned().ok_or_else(|| at.error(format!("no sequence named '{key}' is defined")))
    }

    /// An `<endpoint>` element: a `key` reference or an inline definition.
    pub fn endpoint(&mut self, el: &Element) -> Result<Arc<dyn Endpoint>, ConfigError> {
        match el.attr("key") {
            Some(key) => self.endpoint_by_key(key, el),
            None => endpoint::build(el, None),
        }
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

    /// A sequence element (named, or inline such as `<inSequence>`).
    pub fn sequence(&mut self, el: &Element, name: Option<String>) -> Result<Sequence, ConfigError> {
        if let Some(key) = el.attr("key") {
            return Err(el.error(format!("a sequence reference (key=\"{key}\") is not allowed here")));
        }
        if el.attr("onError").is_some() {
            log::warn!("{}: onError is not supported yet; the proxy's faultSequence applies", el.origin);
        }
        Ok(Sequence { name, mediators: self.mediators(el)? })
    }
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

    let deployment = build(&artifacts, &mut errors);
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

/// The second stage: builds artifacts in dependency order, collecting every error.
fn build(artifacts: &[Element], errors: &mut ConfigErrors) -> Deployment {
    let of_kind = |kind: &'static str| artifacts.iter().filter(move |a| a.name == kind);
    let mut seen: HashMap<(&str, &str), &Element> = HashMap::new();
    for a in artifacts {
        match a.name.as_str() {
            "endpoint" | "sequence" | "proxy" => {}
            "localEntry" | "api" | "template" | "task" => {
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
        }
        match a.required_attr("name") {
            Ok(name) => {
                if let Some(first) = seen.insert((a.name.as_str(), name), a) {
                    errors.push(a.error(format!("a {} named '{name}' is already defined at {}", a.name, first.origin)));
                }
            }
            Err(e) => errors.push(e),
        }
    }

    let mut endpoints: HashMap<String, Arc<dyn Endpoint>> = HashMap::new();
    for el in of_kind("endpoint") {
        if let Ok(name) = el.required_attr("name") {
            if let Some(ep) = errors.collect(endpoint::build(el, Some(name.to_string()))) {
                endpoints.insert(name.to_string(), ep);
            }
        }
    }
    let mut sequences: HashMap<String, Arc<Sequence>> = HashMap::new();
    for el in of_kind("sequence") {
        if let Ok(name) = el.required_attr("name") {
            let mut b = Builder { endpoints: &endpoints, sequences: &sequences };
            if let Some(seq) = errors.collect(b.sequence(el, Some(name.to_string()))) {
                sequences.insert(name.to_string(), Arc::new(seq));
            }
        }
    }
    let mut proxies = HashMap::new();
    for el in of_kind("proxy") {
        let mut b = Builder { endpoints: &endpoints, sequences: &sequences };
        if let Some(p) = errors.collect(proxy::build(el, &mut b)) {
            proxies.insert(p.name.clone(), Arc::new(p));
        }
    }
    Deployment { proxies, sequences, endpoints }
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
        write(&d, "proxy-services/C.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"C\"><target><inSequence>\n<log/></inSequence></target></proxy>");
        write(&d, "proxy-services/D.xml", "<proxy name=\"D\"/>");
        write(&d, "proxy-services/E.xml", "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"A\"><target><endpoint><address uri=\"ftp://x/\"/></endpoint></target></proxy>");
        write(&d, "sequences/broken.xml", "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"s\">\n<send>");
        let errs = load_dir(&d).unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("A.xml:2:3: no endpoint named 'Missing'"), "{text}");
        assert!(text.contains("unknown transport 'jms'"), "{text}");
        assert!(text.contains("C.xml:2:1: <log> is not a mediator"), "{text}");
        assert!(text.contains("D.xml:1:1: <proxy> must be in the Synapse namespace"), "{text}");
        assert!(text.contains("already defined at"), "{text}");
        assert!(text.contains("must be an absolute http:// or https:// URL"), "{text}");
        assert!(text.contains("broken.xml:"), "{text}");
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
