//! The Synapse artifact loader (`config::synapse::load_dir`): the configuration XML parser,
//! every mediator factory, XPath compilation in mediators, endpoints and key resolution.
//! The loader reads a folder, so each input becomes `synapse.xml` (a `<definitions>`) in a
//! per-process folder under the temp dir.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mediate-fuzz-synapse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    std::fs::write(dir.join("synapse.xml"), data).expect("writing the fuzz input");
    match mediate::config::synapse::load_dir(dir) {
        Ok(deployment) => {
            let _ = deployment.proxy_for_path("/services/StockQuoteProxy");
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
