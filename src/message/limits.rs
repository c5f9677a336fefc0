//! Bounds on what reading a message may cost, from `axis2.xml`'s global parameters.

/// Bounds on what a message may cost to read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest body mediation will read into memory (larger ones get 413). Bodies
    /// nobody reads stream through whatever their size.
    pub max_body: usize,
    /// Bounds on parsing (depth, children, attributes), Apache CXF's defaults.
    pub xml: crate::xml::Limits,
}

impl Limits {
    pub fn from_config(c: &crate::config::axis2::MessageLimits) -> Self {
        Limits {
            max_body: c.max_message_size,
            xml: crate::xml::Limits {
                max_depth: c.max_element_depth,
                max_child_elements: c.max_child_elements,
                max_attributes: c.max_attribute_count,
                max_attribute_size: c.max_attribute_size,
                max_text_size: c.max_text_length,
            },
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_config(&crate::config::axis2::MessageLimits::default())
    }
}

