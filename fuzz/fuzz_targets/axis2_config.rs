//! The `axis2.xml` loader (`config::axis2::load`): the configuration XML parser and every
//! transport receiver/sender parameter. The loader reads from a path, so each input is
//! written to `axis2.xml` in a per-process folder under the temp dir.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mediate-fuzz-axis2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz folder");
        dir.join("axis2.xml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::write(path, data).expect("writing the fuzz input");
    match mediate::config::axis2::load(path) {
        Ok(config) => {
            let _ = config.stores();
            let _ = format!("{config:?}");
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
