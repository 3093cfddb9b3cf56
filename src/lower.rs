//! Lowering a cfg document into the typed model.
