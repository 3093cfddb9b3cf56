//! The DTB reader on arbitrary bytes: never panics, and whatever it accepts
//! writes back to a blob that reads as the same tree and writes back to the
//! same bytes (the writer is a fixed point after one round).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xencfg::fdt::{Fdt, dts};

fuzz_target!(|data: &[u8]| {
    let Ok(fdt) = Fdt::from_bytes(data) else {
        return;
    };
    let blob = fdt.to_bytes();
    let again = Fdt::from_bytes(&blob).expect("our own output must read back");
    assert_eq!(again, fdt, "round trip changed the tree");
    assert_eq!(again.to_bytes(), blob, "writing is not deterministic");
    let padded = fdt.to_bytes_padded(100);
    assert_eq!(Fdt::from_bytes(&padded).as_ref(), Ok(&fdt));
    dts::to_dts(&fdt);
});
