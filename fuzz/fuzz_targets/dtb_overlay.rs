//! Arbitrary bytes read as an overlay (the passthrough fragment reader is
//! the DTB reader) and applied to a fixed host tree: never panics; a failed
//! apply leaves the base unchanged; a successful one gives a tree that
//! round-trips through the writer and reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use xencfg::fdt::{Fdt, overlay};

fn base() -> &'static Fdt {
    static BASE: OnceLock<Fdt> = OnceLock::new();
    BASE.get_or_init(|| {
        Fdt::from_bytes(include_bytes!("../../testdata/host/host.dtb")).expect("test host DTB")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(dtbo) = Fdt::from_bytes(data) else {
        return;
    };
    let mut tree = base().clone();
    match overlay::apply(&mut tree, &dtbo) {
        Ok(()) => {
            let blob = tree.to_bytes();
            let again = Fdt::from_bytes(&blob).expect("an applied overlay must write a valid blob");
            assert_eq!(again, tree);
        }
        Err(_) => assert_eq!(&tree, base(), "a failed apply changed the base"),
    }
});
