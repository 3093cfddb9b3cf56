//! The whole pipeline on arbitrary cfg bytes, in a scratch directory that
//! holds a host DTB, kernels and ramdisks: compile (every file hashed, the
//! host tree merged) and, when there are no errors, build with --stage and
//! --emit-dts. Never panics; diagnostics always render, and every span
//! lies inside its file with the line and column of its offset (spans count
//! file bytes even where values hold non-ASCII bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use xencfg::analyze::Options;
use xencfg::commands::build::{self, BuildOptions};
use xencfg::pipeline;
use xencfg::diag::{Diagnostics, Location, SourceMap, Span, render};
use xencfg::target::Target;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("xencfg-fuzz-")
            .tempdir()
            .expect("tempdir")
            .keep();
        let files: &[(&str, &[u8])] = &[
            ("host.dtb", include_bytes!("../../testdata/sections/host.dtb")),
            ("Image-guest1.bin", include_bytes!("../../testdata/sections/Image-guest1.bin")),
            ("Image-guest2.bin", include_bytes!("../../testdata/sections/Image-guest2.bin")),
            ("initrd-guest1.cpio.gz", include_bytes!("../../testdata/sections/initrd-guest1.cpio.gz")),
            ("Image-domu1.bin", include_bytes!("../../testdata/rfc/Image-domu1.bin")),
            ("initrd-domu1.cpio.gz", include_bytes!("../../testdata/rfc/initrd-domu1.cpio.gz")),
        ];
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("write scratch file");
        }
        dir
    })
}

/// The span covers bytes of its file, and `line`/`col` are those of its
/// offset (1-based; columns count bytes).
fn assert_consistent(span: &Span, sources: &SourceMap) {
    let bytes = &sources.get(span.file).bytes;
    let end = span.offset.checked_add(span.len);
    assert!(
        end.is_some_and(|end| end <= bytes.len()),
        "{span:?} outside {} bytes",
        bytes.len()
    );
    let before = &bytes[..span.offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    assert_eq!(
        (span.line as usize, span.col as usize),
        (line, span.offset - line_start + 1),
        "{span:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let cfg = dir.join("xen.cfg");
    std::fs::write(&cfg, data).expect("write cfg");
    let target = Target::default();
    let options = Options {
        cfg,
        root: None,
        section: None,
        target: target.clone(),
        efi_name: "xen".into(),
        host_ram: None,
    };
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let Ok(mut compiled) = pipeline::run(&options, &mut sources, &mut diags) else {
        return;
    };
    diags.sort();
    for d in diags.iter() {
        if let Location::Text(span) = &d.location {
            assert_consistent(span, &sources);
        }
        render::human(d, &sources);
        render::json(d, &sources);
    }
    if diags.has_errors() || compiled.hash_inputs(None, &xencfg::load::cache::Cache::disabled()).is_err() {
        return;
    }
    let _ = build::build(
        &compiled,
        &BuildOptions {
            out: dir.join("out"),
            efi_name: "xen".into(),
            stage: true,
            xen: None,
            emit_dts: true,
            force: true,
            target,
        },
        &xencfg::load::cache::Cache::disabled(),
    );
});
