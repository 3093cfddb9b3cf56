//! Properties that a stable Xen line took from the next release: they are
//! accepted from the patch level that has them (`--xen-version 4.16.3`),
//! and the release without a patch level says how to name it.

mod support;

use std::fs;
use support::*;

const CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=host.dtb
domains=guest1

[guest1]
kernel=Image-domu1.bin console=ttyAMA0
cpus=1
memory=256M
vpl011
xen,domain-p2m-mem-mb=16
";

#[test]
fn p2m_pool_size_is_read_from_4_16_3_on() {
    let dir = scratch_example("bad/_base");
    fs::write(dir.path().join("xen.cfg"), CFG).unwrap();
    let check = |version: &str| run(&["check", "xen.cfg", "--xen-version", version], dir.path());

    // XSA-409 brought the P2M pool and its property to 4.16.3.
    for version in ["4.16.3", "4.16.7", "4.17"] {
        let out = check(version);
        assert_eq!(out.status.code(), Some(0), "{version}: {}", stderr(&out));
    }
    let out = check("4.16.2");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the target is Xen 4.16.2"),
        "{}",
        stderr(&out)
    );
    let out = check("4.16");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`--xen-version 4.16.3`"),
        "{}",
        stderr(&out)
    );
}
