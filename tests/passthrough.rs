//! Device passthrough end to end: the example in `testdata/passthrough`
//! (a fragment built from `passthrough=/pl031@9010000`, a second boot
//! section with dom0 and an overlay), the checks on hand-written fragments
//! that must pass, and the DTS sources of every checked-in fragment.

mod support;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::golden::assert_golden;
use support::*;
use xencfg::fdt::Fdt;

fn read_fdt(path: &Path) -> Fdt {
    Fdt::from_bytes(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn example_builds_the_fragment_and_marks_the_device_for_dom0() {
    let dir = scratch_example("passthrough");
    let out = run(
        &["build", "xen.cfg", "-o", "out", "--emit-dts", "--stage"],
        dir.path(),
    );
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    assert_eq!(stderr(&out), "", "the example builds without findings");
    let out_dir = dir.path().join("out");

    // The fragment, as dtc reads it.
    let fragment = out_dir.join("rtc-passthrough.dtb");
    let (dts, _) = dtc_decompile(&fragment);
    assert_golden(&testdata("passthrough/expected/rtc-passthrough.dts"), &dts);

    // Each merged tree is the host (plus the section's overlay) with the
    // guest added, and with dom0 the device marked `xen,passthrough`.
    let host = read_fdt(&dir.path().join("host.dtb"));
    for (section, dom0) in [("xen", false), ("xen-dom0", true)] {
        let dtb = out_dir.join(format!("{section}.dtb"));
        let merged = read_fdt(&dtb);
        let rtc = merged.node("/pl031@9010000").unwrap();
        assert_eq!(rtc.property("xen,passthrough").is_some(), dom0, "{section}");
        let module = merged.node("/chosen/rtc/device-tree").unwrap();
        assert_eq!(
            module.property("xen,uefi-binary").unwrap().value,
            b"rtc-passthrough.dtb\0"
        );
        let mut stripped = merged.clone();
        stripped
            .node_mut("/chosen")
            .unwrap()
            .children
            .retain(|c| c.name != "rtc");
        for cells in ["#address-cells", "#size-cells", "ranges"] {
            stripped.node_mut("/chosen").unwrap().remove_property(cells);
        }
        stripped
            .node_mut("/pl031@9010000")
            .unwrap()
            .remove_property("xen,passthrough");
        if dom0 {
            stripped
                .node_mut("/pl061@9030000")
                .unwrap()
                .remove_property("status");
        }
        assert_eq!(stripped, host, "{section}: the host tree is not preserved");
        let (dts, _) = dtc_decompile(&dtb);
        assert_golden(
            &testdata(&format!("passthrough/expected/{section}.dts")),
            &dts,
        );
    }

    // The manifest lists the fragment as a generated module and file, and
    // what each section marks.
    let manifest: Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    let file = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["esp_path"] == "rtc-passthrough.dtb")
        .expect("the fragment is in the file list");
    assert_eq!(file["source"], "generated");
    assert_eq!(file["sha256"].as_str().unwrap(), sha256sum(&fragment));
    for (i, marked) in [(0, Value::Null), (1, serde_json::json!(["/pl031@9010000"]))] {
        let section = &manifest["sections"][i];
        assert_eq!(section["xen_passthrough"], marked);
        let guest = &section["guests"][0];
        assert_eq!(guest["passthrough"], serde_json::json!(["/pl031@9010000"]));
        let module = &guest["modules"][2];
        assert_eq!(module["role"], "device-tree");
        assert_eq!(module["source"], "generated");
        assert_eq!(module["sha256"], file["sha256"]);
        assert_eq!(module["format"], "fdt");
        assert_eq!(section["efi_modules"]["count"], 3 + 2 * i);
    }
    // Staging copies inputs, not the host DTB; the fragment is written once.
    assert!(out_dir.join("Image-rtc.bin").is_file());
    assert!(!out_dir.join("host.dtb").exists());
}

#[test]
fn a_guest_in_two_sections_with_different_hosts_gets_two_fragments() {
    let dir = scratch_example("passthrough");
    // The dom0 section's host has the RTC at another interrupt.
    let mut other = read_fdt(&dir.path().join("host.dtb"));
    other
        .node_mut("/pl031@9010000")
        .unwrap()
        .set_property("interrupts", xencfg::fdt::value::cells(&[0, 3, 4]));
    fs::write(dir.path().join("other.dtb"), other.to_bytes()).unwrap();
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replacen("dtb=host.dtb\ndtbo=", "dtb=other.dtb\ndtbo=", 1);
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let first = read_fdt(&dir.path().join("out/rtc-passthrough.dtb"));
    let second = read_fdt(&dir.path().join("out/xen-dom0-rtc-passthrough.dtb"));
    let irq = |f: &Fdt| {
        f.node("/passthrough/pl031@9010000")
            .unwrap()
            .property("interrupts")
            .unwrap()
            .value
            .clone()
    };
    assert_ne!(irq(&first), irq(&second));
    let merged = read_fdt(&dir.path().join("out/xen-dom0.dtb"));
    assert_eq!(
        merged
            .node("/chosen/rtc/device-tree")
            .unwrap()
            .property("xen,uefi-binary")
            .unwrap()
            .value,
        b"xen-dom0-rtc-passthrough.dtb\0"
    );
}

#[test]
fn flat_form_and_property_lists_name_host_devices_too() {
    let dir = scratch_example("passthrough");
    let cfg = "[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart\ndtb=host.dtb\n\
               domu1_kernel=Image-rtc.bin\n\
               domu1_property=cpus=1\n\
               domu1_property=memory=128M\n\
               domu1_property=passthrough=/pl031@9010000\n\
               domu1_property=passthrough=/dma@9070000\n";
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let fragment = read_fdt(&dir.path().join("out/domU1-passthrough.dtb"));
    let dma = fragment.node("/passthrough/dma@9070000").unwrap();
    // Behind the SMMU: assigned through the IOMMU, no force flag, no
    // dangling `iommus`.
    assert!(dma.property("xen,force-assign-without-iommu").is_none());
    assert!(dma.property("iommus").is_none());
    assert!(fragment.node("/passthrough/pl031@9010000").is_some());
}

#[test]
fn enabled_is_still_xens_passthrough_property() {
    let dir = scratch_example("passthrough");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("passthrough=/pl031@9010000", "passthrough=enabled");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = read_fdt(&dir.path().join("out/xen.dtb"));
    let guest = merged.node("/chosen/rtc").unwrap();
    assert_eq!(guest.property("passthrough").unwrap().value, b"enabled\0");
    assert!(guest.child("device-tree").is_none());
    assert!(!dir.path().join("out/rtc-passthrough.dtb").exists());

    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("passthrough=enabled", "passthrough=pl031@9010000");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["check", "xen.cfg"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("neither `enabled` nor a host node path"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_correct_hand_written_fragment_passes_every_check() {
    let dir = scratch_example("passthrough");
    // The fragment xencfg builds, written by hand: checked, not built.
    let out = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    fs::copy(
        dir.path().join("out/rtc-passthrough.dtb"),
        dir.path().join("rtc.dtb"),
    )
    .unwrap();
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("passthrough=/pl031@9010000", "dtb=rtc.dtb");
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(&["check", "xen.cfg", "--deny-warnings"], dir.path());
    assert_eq!(stderr(&out), "");
    assert_eq!(out.status.code(), Some(0));
}

/// Every fragment, host and overlay source checked in next to its blob
/// compiles to exactly that blob, so the sources can be read as the truth.
#[test]
fn dts_sources_match_their_blobs() {
    let mut dirs = vec![testdata("passthrough")];
    for e in fs::read_dir(testdata("bad")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("pt-") {
            dirs.push(p);
        }
    }
    let mut checked = 0;
    for dir in dirs {
        for e in fs::read_dir(&dir).unwrap() {
            let src = e.unwrap().path();
            if src.extension().is_none_or(|x| x != "dts") {
                continue;
            }
            let blob = [src.with_extension("dtb"), src.with_extension("dtbo")]
                .into_iter()
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("no blob for {}", src.display()));
            assert_eq!(compile(&src), fs::read(&blob).unwrap(), "{}", src.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} sources");
}

fn compile(src: &PathBuf) -> Vec<u8> {
    let out = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb"])
        .arg(src)
        .output()
        .expect("dtc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// On every board of the DTB corpus (when present; `tests/dtb_corpus.rs`
/// insists on it), building a fragment from any device never panics and
/// what is built passes the fragment checks without an error; the whole
/// board tree read as a (nonsensical) fragment does not panic them either.
#[test]
fn fragments_built_from_real_boards_pass_their_own_checks() {
    use xencfg::analyze::passthrough::{Fragment, check_fragment};
    use xencfg::diag::{Diagnostics, FileId, Severity, Span};
    use xencfg::model::Spanned;
    use xencfg::target::Target;

    let dir = std::env::var_os("XENCFG_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/xencfg")))
        .unwrap_or_default()
        .join("dtb-corpus");
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "dtb") {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        eprintln!("no DTB corpus: skipped (tests/dtb_corpus.rs reports it)");
        return;
    }
    let span = Span {
        file: FileId(0),
        offset: 0,
        len: 1,
        line: 1,
        col: 1,
    };
    let target = Target::default();
    let (mut built, mut failures) = (0, Vec::new());
    for file in &files {
        let host = read_fdt(file);
        let mut scratch = Diagnostics::default();
        let whole = Fragment {
            tree: host.clone(),
            file: Some(file.clone()),
            span,
            node_spans: Vec::new(),
        };
        check_fragment(&whole, Some(&host), &target, &mut scratch);
        let devices: Vec<String> = xencfg::fdt::query::walk(&host)
            .into_iter()
            .filter(|(_, n)| n.property("reg").is_some())
            .map(|(p, _)| p)
            .collect();
        // A spread of each board's devices keeps the test quick.
        let step = devices.len().div_ceil(25).max(1);
        for path in devices.iter().step_by(step) {
            let mut diags = Diagnostics::default();
            let request = [Spanned::new(path.clone(), span)];
            let Some((tree, node_spans)) =
                xencfg::analyze::fragments::build(&host, &request, &mut diags)
            else {
                continue;
            };
            built += 1;
            let fragment = Fragment {
                tree,
                file: None,
                span,
                node_spans,
            };
            let mut diags = Diagnostics::default();
            check_fragment(&fragment, Some(&host), &target, &mut diags);
            for d in diags.iter().filter(|d| d.severity == Severity::Error) {
                failures.push(format!("{}: {path}: {}", file.display(), d.message));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {built} built fragments fail their checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(built > 1000, "only {built} fragments built");
}
