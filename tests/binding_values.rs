//! Values of the `xen,domain` binding that Xen's documentation lists
//! (docs/misc/arm/device-tree/booting.txt) are accepted and written as Xen
//! reads them: a bare `xen,enhanced` means `enabled`, and `disabled` is a
//! value of both `xen,enhanced` and `passthrough`.

mod support;

use std::fs;
use support::*;

const CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
kernel=Image-domu2.bin console=hvc0
dtb=host.dtb
domains=guest1,guest2

[guest1]
kernel=Image-domu1.bin console=ttyAMA0
cpus=1
memory=256M
xen,enhanced
passthrough=disabled

[guest2]
kernel=Image-domu1.bin console=ttyAMA0
cpus=1
memory=256M
xen,enhanced=disabled
";

#[test]
fn documented_enhanced_and_passthrough_values_build() {
    let dir = scratch_example("bad/_base");
    fs::write(dir.path().join("xen.cfg"), CFG).unwrap();
    let out = run(
        &[
            "build",
            "xen.cfg",
            "-o",
            "out",
            "--emit-dts",
            "--xen-version",
            "4.22",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no diagnostics");
    let dts = fs::read_to_string(dir.path().join("out/xen.dts")).unwrap();
    let guest = |name: &str| {
        let start = dts.find(&format!("\t\t{name} {{")).unwrap();
        let end = start + dts[start..].find("\n\t\t}").unwrap();
        dts[start..end].to_string()
    };
    let g1 = guest("guest1");
    assert!(g1.contains("xen,enhanced = \"enabled\";"), "{g1}");
    assert!(g1.contains("passthrough = \"disabled\";"), "{g1}");
    let g2 = guest("guest2");
    assert!(g2.contains("xen,enhanced = \"disabled\";"), "{g2}");
}

#[test]
fn an_empty_string_value_says_what_it_needs() {
    let dir = scratch_example("bad/_base");
    let cfg = CFG.replace("passthrough=disabled", "xen,sci_type=");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["check", "xen.cfg"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(said.contains("`xen,sci_type` needs a value"), "{said}");
    assert!(!said.contains("cannot be ``"), "{said}");
}

/// Xen 4.22 with CONFIG_GICV3_ESPI takes `nr_spis` up to 5088 (extended
/// SPIs, vgic.c:domain_vgic_init); 4.21 and a 4.22 without it stop at 960.
#[test]
fn extended_spis_need_4_22_with_gicv3_espi() {
    let dir = scratch_example("bad/_base");
    let cfg = CFG.replace("passthrough=disabled", "nr_spis=5088");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let espi = testdata("bad/val-nr-spis-espi-gap/xen.config");
    let config = fs::read_to_string(&espi).unwrap();
    assert!(config.contains("\nCONFIG_GICV3_ESPI=y\n"));
    fs::write(dir.path().join("espi.config"), &config).unwrap();
    fs::write(
        dir.path().join("no-espi.config"),
        config.replace("CONFIG_GICV3_ESPI=y", "# CONFIG_GICV3_ESPI is not set"),
    )
    .unwrap();
    let check = |args: &[&str]| {
        let mut all = vec!["check", "xen.cfg"];
        all.extend_from_slice(args);
        run(&all, dir.path())
    };
    for args in [&["--xen-config", "espi.config"][..], &[]] {
        let out = check(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    for args in [
        &["--xen-config", "no-espi.config"][..],
        &["--xen-version", "4.21"],
    ] {
        let out = check(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains("`nr_spis=5088`"), "{}", stderr(&out));
    }
}
