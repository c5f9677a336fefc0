//! XPath 1.0 (being written).
