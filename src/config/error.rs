//! Configuration errors that point at a place in a file.
//!
//! Every problem found while loading `axis2.xml` or the mediation artifacts becomes a
//! [`ConfigError`] that prints as `path:line:col: message`, the form editors and CI logs
//! understand. Loaders collect as many as they can into [`ConfigErrors`] so `mediate check`
//! reports them all at once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a source file (1-based; 0 means "the whole file").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// Where a configuration value came from, kept so that later stages (opening a keystore,
/// binding a port) can still say which line caused the trouble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: Arc<Path>,
    pub pos: Pos,
}

impl Origin {
    pub fn file(path: &Path) -> Self {
        Origin { path: Arc::from(path), pos: Pos::default() }
    }

    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError { origin: self.clone(), message: message.into() }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            write!(f, "{}", self.path.display())
        } else {
            write!(f, "{}:{}:{}", self.path.display(), self.pos.line, self.pos.col)
        }
    }
}

/// One problem in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    pub origin: Origin,
    pub message: String,
}

impl ConfigError {
    pub fn in_file(path: &Path, message: impl Into<String>) -> Self {
        Origin::file(path).error(message)
    }

    pub fn path(&self) -> PathBuf {
        self.origin.path.to_path_buf()
    }
}

/// All the problems found in one load, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn push(&mut self, e: ConfigError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was collected, the collected errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Keeps the value of `r`, recording its error instead of returning it.
    pub fn collect<T>(&mut self, r: Result<T, ConfigError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
