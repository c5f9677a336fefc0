//! Configuration: `axis2.xml` (transports, keystores) and the Synapse artifacts under
//! `mediation/`, loaded and validated before the first request is served.

pub mod axis2;
pub mod error;
pub mod live;
pub mod synapse;
pub mod xml;

use std::path::Path;
use std::sync::Arc;

use crate::mediation::deployment::Deployment;
pub use error::{ConfigError, ConfigErrors};

/// Everything the server runs on.
#[derive(Debug)]
pub struct Config {
    pub axis2: axis2::Axis2Config,
    pub deployment: Arc<Deployment>,
}

/// Loads both parts, reporting the problems of both.
pub fn load(axis2_path: &Path, mediation_dir: &Path) -> Result<Config, ConfigErrors> {
    let axis2 = axis2::load(axis2_path);
    let deployment = synapse::load_dir(mediation_dir);
    match (axis2, deployment) {
        (Ok(axis2), Ok(d)) => Ok(Config { axis2, deployment: Arc::new(d) }),
        (a, d) => {
            let mut all = ConfigErrors::default();
            all.0.extend(a.err().map(|e| e.0).unwrap_or_default());
            all.0.extend(d.err().map(|e| e.0).unwrap_or_default());
            Err(all)
        }
    }
}
