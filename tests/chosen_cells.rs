//! A host `/chosen` with cells other than 2/2 (Debian's armhf DTB
//! `mmp2-olpc-xo-1-75.dtb`: `#address-cells = <1>` and a
//! `framebuffer@1fc00000` child with `reg`): xencfg writes 2/2, so it
//! re-encodes what the children say in the old cells, and their meaning
//! stays.

mod support;

use std::fs;
use std::process::Command;
use support::*;
use xencfg::fdt::Fdt;

const HOST: &str = r#"/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "linux,dummy-virt";
	chosen {
		#address-cells = <1>;
		#size-cells = <1>;
		ranges;
		stdout-path = "/pl011@9000000";
		framebuffer@1fc00000 {
			compatible = "simple-framebuffer";
			reg = <0x1fc00000 0x4b000>;
		};
	};
	memory@40000000 {
		device_type = "memory";
		reg = <0x0 0x40000000 0x0 0x80000000>;
	};
	cpus {
		#address-cells = <1>;
		#size-cells = <0>;
		cpu@0 {
			device_type = "cpu";
			compatible = "arm,cortex-a57";
			reg = <0>;
		};
	};
	intc@8000000 {
		compatible = "arm,gic-v3";
		#interrupt-cells = <3>;
		interrupt-controller;
		reg = <0x0 0x8000000 0x0 0x10000 0x0 0x80a0000 0x0 0xf60000>;
	};
	pl011@9000000 {
		compatible = "arm,pl011", "arm,primecell";
		reg = <0x0 0x9000000 0x0 0x1000>;
		interrupts = <0 1 4>;
	};
};
"#;

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
memory=128M
static-mem=0x60000000:128M
";

#[test]
fn chosen_children_keep_their_meaning_in_2_2_cells() {
    let dir = scratch_example("bad/_base");
    fs::write(dir.path().join("host.dts"), HOST).unwrap();
    let status = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "host.dtb", "host.dts"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    fs::write(dir.path().join("xen.cfg"), CFG).unwrap();
    let out = run(
        &[
            "build",
            "xen.cfg",
            "-o",
            "out",
            "-A",
            "static-mem-outside-ram",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = Fdt::from_bytes(&fs::read(dir.path().join("out/xen.dtb")).unwrap()).unwrap();
    let chosen = merged.node("/chosen").unwrap();
    assert_eq!(chosen.property_u32("#address-cells"), Some(2));
    assert_eq!(chosen.property_u32("#size-cells"), Some(2));
    let fb = merged.node("/chosen/framebuffer@1fc00000").unwrap();
    let cells: Vec<u32> = fb
        .property("reg")
        .unwrap()
        .value
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(cells, [0, 0x1fc0_0000, 0, 0x4_b000]);
    // What xencfg adds is written in the same 2/2.
    let guest = merged.node("/chosen/guest1").unwrap();
    assert_eq!(
        guest.property("xen,static-mem").unwrap().value.len(),
        16,
        "one (address, size) pair in 2 + 2 cells"
    );
}
