//! Arbitrary bytes read as a guest's passthrough fragment (`dtb=`) and
//! checked the way Xen reads fragments, against the passthrough example's
//! host tree: never panics, and every diagnostic renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use xencfg::analyze::passthrough::{Fragment, check_fragment};
use xencfg::diag::{Diagnostics, SourceMap, Span, render};
use xencfg::fdt::Fdt;
use xencfg::target::Target;

fn host() -> &'static Fdt {
    static HOST: OnceLock<Fdt> = OnceLock::new();
    HOST.get_or_init(|| {
        Fdt::from_bytes(include_bytes!("../../testdata/passthrough/host.dtb"))
            .expect("passthrough example's host DTB")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Fdt::from_bytes(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let cfg = sources.add("xen.cfg", b"domu1_dtb=rtc.dtb\n".to_vec());
    let frag = Fragment {
        tree,
        file: Some(PathBuf::from("rtc.dtb")),
        span: Span {
            file: cfg,
            offset: 10,
            len: 7,
            line: 1,
            col: 11,
        },
        node_spans: Vec::new(),
    };
    let mut diags = Diagnostics::default();
    let target = Target::default();
    check_fragment(&frag, Some(host()), &target, &mut diags);
    check_fragment(&frag, None, &target, &mut diags);
    for d in diags.iter() {
        render::human(d, &sources);
        render::json(d, &sources);
    }
});
