//! The whole pipeline on arbitrary cfg bytes, in a scratch directory that
//! holds a host DTB, kernels and ramdisks: compile (every file hashed, the
//! host tree merged) and, when there are no errors, build with --stage and
//! --emit-dts. Never panics; diagnostics always render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use xencfg::build::{self, BuildOptions};
use xencfg::compile::{self, CompileOptions};
use xencfg::diag::{Diagnostics, SourceMap, render};
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

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let cfg = dir.join("xen.cfg");
    std::fs::write(&cfg, data).expect("write cfg");
    let target = Target::default();
    let options = CompileOptions {
        cfg,
        root: None,
        section: None,
        target: target.clone(),
        efi_name: "xen".into(),
        hash: true,
        progress: None,
    };
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let Ok(compiled) = compile::compile(&options, &mut sources, &mut diags) else {
        return;
    };
    diags.sort();
    for d in diags.iter() {
        render::human(d, &sources);
        render::json(d, &sources);
    }
    if diags.has_errors() {
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
    );
});
