//! `xencfg build` on the seed examples: what is written, that dtc reads it,
//! that the host tree is kept whole, that the manifest tells the truth, and
//! that outputs are deterministic and atomic.

mod support;

use serde_json::Value;
use std::fs;
use std::path::Path;
use support::golden::assert_golden;
use support::*;
use xencfg::fdt::Fdt;

fn build(example: &str, extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = scratch_example(example);
    let mut args = vec!["build", "xen.cfg", "-o", "out"];
    args.extend_from_slice(extra);
    let out = run(&args, dir.path());
    (dir, out)
}

/// The merged tree minus what xencfg adds must be the host tree exactly.
fn assert_host_preserved(host: &Fdt, merged: &Fdt, guests: &[&str]) {
    let mut stripped = merged.clone();
    let chosen = stripped.node_mut("/chosen").expect("/chosen");
    let host_chosen = host.node("/chosen").expect("host /chosen");
    for name in guests {
        let i = chosen
            .children
            .iter()
            .position(|c| c.name == *name)
            .unwrap_or_else(|| panic!("no /chosen/{name}"));
        chosen.children.remove(i);
    }
    for cells in ["#address-cells", "#size-cells", "ranges"] {
        if host_chosen.property(cells).is_none() {
            chosen.remove_property(cells);
        }
    }
    assert_eq!(&stripped, host, "the host tree is not preserved");
}

fn check_example(example: &str, sections: &[(&str, &[&str])]) {
    let (dir, out) = build(example, &["--emit-dts"]);
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    let out_dir = dir.path().join("out");
    let host = Fdt::from_bytes(&fs::read(dir.path().join("host.dtb")).unwrap()).unwrap();

    for (section, guests) in sections {
        let dtb = out_dir.join(format!("{section}.dtb"));
        let merged = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
        assert_host_preserved(&host, &merged, guests);
        let chosen_names: Vec<&str> = merged
            .node("/chosen")
            .unwrap()
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(&chosen_names, guests, "guests in domid order");

        let (dts, warnings) = dtc_decompile(&dtb);
        assert!(
            !warnings.contains("chosen"),
            "dtc warns about the added nodes:\n{warnings}"
        );
        assert_golden(
            &testdata(&format!("{example}/expected/{section}.dts")),
            &dts,
        );
    }
    let cfg = fs::read_to_string(out_dir.join("xen.cfg")).unwrap();
    assert_golden(&testdata(&format!("{example}/expected/xen.cfg")), &cfg);
    assert!(cfg.is_ascii() && cfg.ends_with('\n'));
    assert!(!cfg.lines().any(|l| l.ends_with(' ')), "no trailing blanks");
    assert!(
        !cfg.contains("domu") && !cfg.contains("domains="),
        "dom0less keys are gone"
    );

    // The manifest's hashes are the files' hashes.
    let manifest: Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema"], 1);
    for file in manifest["files"].as_array().unwrap() {
        let esp = file["esp_path"].as_str().unwrap().replace('\\', "/");
        let on_disk = if file["source"] == "generated" {
            out_dir.join(&esp)
        } else {
            dir.path().join(&esp)
        };
        assert_eq!(
            file["sha256"].as_str().unwrap(),
            sha256sum(&on_disk),
            "{esp}"
        );
        assert_eq!(
            file["size"].as_u64().unwrap(),
            fs::metadata(&on_disk).unwrap().len(),
            "{esp}"
        );
    }
}

#[test]
fn rfc_example_builds() {
    check_example("rfc", &[("xen", &["domU1", "domU2"])]);
}

#[test]
fn section_example_builds_every_boot_section() {
    check_example(
        "sections",
        &[
            ("xen", &["guest1", "guest2", "guest3"]),
            ("xen-debug", &["guest1", "guest2"]),
        ],
    );
}

#[test]
fn output_is_deterministic() {
    let (a, out_a) = build("sections", &["--stage"]);
    let (b, out_b) = build("sections", &["--stage"]);
    assert!(out_a.status.success() && out_b.status.success());
    for name in ["xen.cfg", "xen.dtb", "xen-debug.dtb", "manifest.json"] {
        assert_eq!(
            fs::read(a.path().join("out").join(name)).unwrap(),
            fs::read(b.path().join("out").join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn stage_makes_the_esp_directory() {
    let dir = scratch_example("rfc");
    fs::write(dir.path().join("xen.efi"), b"MZ fake xen").unwrap();
    let out = run(
        &[
            "build",
            "xen.cfg",
            "-o",
            "esp/EFI/BOOT",
            "--stage",
            "--efi-name",
            "BOOTAA64",
            "--xen",
            "xen.efi",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let esp = dir.path().join("esp/EFI/BOOT");
    for f in [
        "BOOTAA64.cfg",
        "BOOTAA64.efi",
        "xen.dtb",
        "Image-domu1.bin",
        "initrd-domu2.cpio.gz",
        "manifest.json",
    ] {
        assert!(esp.join(f).is_file(), "{f} staged");
    }
    assert_eq!(
        fs::read(esp.join("Image-domu1.bin")).unwrap(),
        fs::read(dir.path().join("Image-domu1.bin")).unwrap()
    );
    assert!(
        !esp.join("host.dtb").exists(),
        "the host DTB is consumed, not installed"
    );
}

#[test]
fn subdirectories_are_emitted_with_backslashes() {
    let dir = scratch_example("rfc");
    fs::create_dir_all(dir.path().join("domu/one")).unwrap();
    fs::rename(
        dir.path().join("Image-domu1.bin"),
        dir.path().join("domu/one/Image"),
    )
    .unwrap();
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("Image-domu1.bin", "domu/one/Image");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["build", "xen.cfg", "-o", "out", "--stage"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = Fdt::from_bytes(&fs::read(dir.path().join("out/xen.dtb")).unwrap()).unwrap();
    let kernel = merged.node("/chosen/domU1/kernel").unwrap();
    assert_eq!(
        kernel.property("xen,uefi-binary").unwrap().value,
        b"domu\\one\\Image\0"
    );
    assert!(dir.path().join("out/domu/one/Image").is_file());
}

#[test]
fn failed_build_leaves_output_untouched() {
    let dir = scratch_example("rfc");
    let ok = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(ok.status.success(), "{}", stderr(&ok));
    let before = fs::read(dir.path().join("out/xen.dtb")).unwrap();
    fs::remove_file(dir.path().join("Image-domu2.bin")).unwrap();
    let bad = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert_eq!(fs::read(dir.path().join("out/xen.dtb")).unwrap(), before);
    assert_no_temporaries(dir.path());
}

#[test]
fn refuses_to_overwrite_inputs() {
    let dir = scratch_example("rfc");
    let out = run(&["build", "xen.cfg", "-o", ".", "--force"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("contains the input"),
        "{}",
        stderr(&out)
    );
    assert!(dir.path().join("xen.cfg").is_file());
}

fn assert_no_temporaries(dir: &Path) {
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".xencfg-"), "temporary {name} left behind");
    }
}

/// A dom0-only section without `dtb=` boots on the firmware's device tree:
/// `check` accepts it, so `build` must build it, with no `dtb=` line and no
/// DTB for that section, while a sibling section with guests gets both.
#[test]
fn section_without_dtb_boots_on_the_firmware_tree() {
    let dir = scratch_example("rfc");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    let dom0_only = "\n[dom0-only]\noptions=console=dtuart\nkernel=Image-domu1.bin console=hvc0\n";
    fs::write(dir.path().join("xen.cfg"), cfg + dom0_only).unwrap();

    let check = run(&["check", "xen.cfg"], dir.path());
    assert!(check.status.success(), "{}", stderr(&check));
    let out = run(&["build", "xen.cfg", "-o", "out", "--stage"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));

    let out_dir = dir.path().join("out");
    let trimmed = fs::read_to_string(out_dir.join("xen.cfg")).unwrap();
    let section = trimmed.split("[dom0-only]").nth(1).expect("section kept");
    assert!(!section.contains("dtb="), "{trimmed}");
    assert!(section.contains("kernel=Image-domu1.bin console=hvc0"));
    assert!(!out_dir.join("dom0-only.dtb").exists());
    assert!(
        out_dir.join("Image-domu1.bin").is_file(),
        "dom0's kernel staged"
    );

    let manifest: Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    let sections = manifest["sections"].as_array().unwrap();
    let entry = sections.iter().find(|s| s["name"] == "dom0-only").unwrap();
    assert!(entry["dtb"].is_null(), "{entry}");
    assert!(sections.iter().any(|s| s["dtb"] == "xen.dtb"));
}
