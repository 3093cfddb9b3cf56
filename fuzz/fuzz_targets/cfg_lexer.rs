//! The cfg lexer on arbitrary bytes: never panics, every span it reports
//! lies inside the input, and every diagnostic renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xencfg::cfg::Document;
use xencfg::diag::{Diagnostics, Location, SourceMap, Span, render};

fn inside(span: &Span, len: usize) -> bool {
    span.offset.checked_add(span.len).is_some_and(|end| end <= len)
}

fuzz_target!(|data: &[u8]| {
    let mut sources = SourceMap::default();
    let file = sources.add("xen.cfg", data.to_vec());
    let mut diags = Diagnostics::default();
    let doc = Document::parse(file, data, &mut diags);
    for section in &doc.sections {
        assert!(inside(&section.name_span, data.len()));
        assert!(inside(&section.header_span, data.len()));
        for entry in &section.entries {
            assert!(inside(&entry.key_span, data.len()));
            assert!(inside(&entry.value_span, data.len()));
        }
    }
    for d in diags.iter() {
        if let Location::Text(span) = &d.location {
            assert!(inside(span, data.len()), "{span:?} outside {} bytes", data.len());
        }
        render::human(d, &sources);
        render::json(d, &sources);
    }
});
