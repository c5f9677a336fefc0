//! Message XML: an arena tree with limits (being written).
