//! Xen's `pre_parse()` and `get_value()` reading, byte for byte, with spans.

use super::Document;
use crate::diag::{Diagnostics, FileId};

pub fn parse(file: FileId, bytes: &[u8], diags: &mut Diagnostics) -> Document {
    let _ = (file, bytes, diags);
    todo!("cfg lexer")
}
