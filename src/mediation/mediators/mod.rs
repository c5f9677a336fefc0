//! The mediators, one file each, and the registry that maps an XML tag to its factory.
//!
//! Adding a mediator: write `<tag>.rs` with a type implementing [`super::Mediator`] and a
//! `build` function, then add one line to [`REGISTRY`].

use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;

use super::Mediator;

mod send;

/// Builds a mediator from its element.
pub type Factory = fn(&Element, &mut Builder<'_>) -> Result<Box<dyn Mediator>, ConfigError>;

/// Every mediator the configuration language offers so far, by tag.
pub const REGISTRY: &[(&str, Factory)] = &[
    ("send", send::build),
];

pub fn factory(tag: &str) -> Option<Factory> {
    REGISTRY.iter().find(|(t, _)| *t == tag).map(|(_, f)| *f)
}
