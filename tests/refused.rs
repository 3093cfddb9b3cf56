//! Properties the binding table refuses are reported once per text, by
//! `checks::binding`, however many boot sections name their guest.

mod support;

use std::fs;
use support::*;

#[test]
fn a_refused_value_in_a_shared_guest_section_is_one_finding() {
    let dir = scratch_example("sections");
    // More boot sections than a check shows findings (MAX_PER_CHECK): a
    // finding per section would be cut off with "… more not shown".
    let mut cfg = String::from("[global]\ndefault=s0\n\n");
    for i in 0..120 {
        cfg.push_str(&format!(
            "[s{i}]\noptions=console=dtuart\ndtb=host.dtb\ndomains=g1\n\n"
        ));
    }
    cfg.push_str("[g1]\nkernel=Image-guest1.bin\ncpus=129\nmemory=64M\nvcpu0-affinity=0\n");
    fs::write(dir.path().join("shared.cfg"), cfg).unwrap();
    let out = run(
        &["check", "shared.cfg", "--xen-version", "4.20"],
        dir.path(),
    );
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.matches("error[XC0303]").count(), 1, "{err}");
    assert_eq!(
        err.matches("is read by Xen 4.21 and later").count(),
        1,
        "{err}"
    );
    assert!(!err.contains("not shown"), "{err}");
}
