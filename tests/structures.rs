//! The linked structures of the binding (`testdata/structures`): what
//! `build` writes for cpupools, event channels, shared and static memory
//! and vCPU affinity (golden DTS through dtc), that every phandle points
//! where it should, and how the target version and build configuration
//! gate them.

mod support;

use serde_json::Value;
use std::fs;
use support::golden::assert_golden;
use support::*;
use xencfg::fdt::{Fdt, Node};

fn build(cfg: &str, extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = scratch_example("structures");
    let mut args = vec!["build", cfg, "-o", "out", "--emit-dts"];
    args.extend_from_slice(extra);
    let out = run(&args, dir.path());
    (dir, out)
}

fn check(extra: &[&str]) -> (i32, String) {
    let dir = scratch_example("structures");
    let mut args = vec!["check", "xen.cfg"];
    args.extend_from_slice(extra);
    let out = run(&args, dir.path());
    (out.status.code().unwrap_or(-1), stderr(&out))
}

/// The codes of the diagnostics in `report`, in order.
fn codes(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter_map(|l| l.split_once("[XC").map(|(_, rest)| &rest[..4]))
        .collect()
}

fn phandle(node: &Node) -> u32 {
    node.property_u32("phandle").expect("phandle")
}

/// Every node with this phandle (exactly one is expected).
fn by_phandle(fdt: &Fdt, p: u32) -> Vec<String> {
    fn walk(node: &Node, path: &str, p: u32, out: &mut Vec<String>) {
        for prop in ["phandle", "linux,phandle"] {
            if node.property_u32(prop) == Some(p) {
                out.push(path.to_string());
                break;
            }
        }
        for c in &node.children {
            walk(c, &format!("{path}/{}", c.name), p, out);
        }
    }
    let mut out = Vec::new();
    walk(&fdt.root, "", p, &mut out);
    out
}

fn cells(node: &Node, name: &str) -> Vec<u32> {
    node.property(name)
        .expect(name)
        .value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn structures_are_written_with_both_ends_linked() {
    let (dir, out) = build("xen.cfg", &[]);
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    let out_dir = dir.path().join("out");
    let dtb = out_dir.join("xen.dtb");
    let (dts, warnings) = dtc_decompile(&dtb);
    assert!(warnings.is_empty(), "dtc warns:\n{warnings}");
    assert_golden(&testdata("structures/expected/xen.dts"), &dts);

    let merged = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
    let host = Fdt::from_bytes(&fs::read(dir.path().join("host.dtb")).unwrap()).unwrap();
    let highest = host.max_phandle();

    // The pool lists host CPU nodes; the guest names the pool.
    let pool = merged.node("/chosen/rtpool").expect("pool node");
    assert!(pool.is_compatible("xen,cpupool"));
    let pool_cpus: Vec<Vec<String>> = cells(pool, "cpupool-cpus")
        .into_iter()
        .map(|p| by_phandle(&merged, p))
        .collect();
    assert_eq!(pool_cpus, [vec!["/cpus/cpu@2"], vec!["/cpus/cpu@3"]]);
    // cpu@3 keeps the phandle it had; cpu@2 gets a new one above the host's.
    let cpu3 = host.node("/cpus/cpu@3").unwrap();
    assert_eq!(
        merged.node("/cpus/cpu@3").unwrap().property_u32("phandle"),
        cpu3.property_u32("phandle")
    );
    assert!(phandle(merged.node("/cpus/cpu@2").unwrap()) > highest);
    let rt = merged.node("/chosen/rt").unwrap();
    assert_eq!(rt.property_u32("domain-cpupool"), Some(phandle(pool)));

    // Each event channel end names the other end's phandle, and back.
    let ends = [
        ("/chosen/rt/evtchn-10", 10),
        ("/chosen/app/evtchn-20", 20),
        ("/chosen/app/evtchn-30", 30),
        ("/chosen/dom0-evtchn-40", 40),
    ];
    for (path, port) in ends {
        let node = merged.node(path).unwrap_or_else(|| panic!("{path}"));
        assert!(node.is_compatible("xen,evtchn-v1"));
        let [local, peer] = cells(node, "xen,evtchn")[..] else {
            panic!("{path}: xen,evtchn is not two cells")
        };
        assert_eq!(local, port, "{path}");
        let peers = by_phandle(&merged, peer);
        assert_eq!(peers.len(), 1, "{path}: phandle {peer} is not unique");
        let back = merged.node(&peers[0]).unwrap();
        assert_eq!(cells(back, "xen,evtchn")[1], phandle(node), "{path}");
        assert!(phandle(node) > highest);
    }

    // Static memory in /chosen's cells (2/2), and `memory` derived from it.
    let chosen = merged.node("/chosen").unwrap();
    assert_eq!(chosen.property_u32("#address-cells"), Some(2));
    assert_eq!(chosen.property_u32("#size-cells"), Some(2));
    assert_eq!(
        cells(rt, "xen,static-mem"),
        [0, 0x6000_0000, 0, 0x1000_0000]
    );
    assert_eq!(cells(rt, "memory"), [0, 256 * 1024]);

    // The rest of the host tree is untouched.
    let mut stripped = merged.clone();
    let c = stripped.node_mut("/chosen").unwrap();
    c.children.clear();
    for p in ["#address-cells", "#size-cells", "ranges"] {
        c.remove_property(p);
    }
    stripped
        .node_mut("/cpus/cpu@2")
        .unwrap()
        .remove_property("phandle");
    assert_eq!(stripped, host);

    // The manifest records the target and what the system relies on.
    let manifest: Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    let target = &manifest["target"];
    assert_eq!(target["xen_version"], "4.22");
    assert_eq!(target["version_source"], "default");
    assert_eq!(
        target["required_options"],
        serde_json::json!([
            "CONFIG_BOOT_TIME_CPUPOOLS",
            "CONFIG_DOM0LESS_BOOT",
            "CONFIG_SBSA_VUART_CONSOLE",
            "CONFIG_SCHED_NULL",
            "CONFIG_STATIC_EVTCHN",
            "CONFIG_STATIC_MEMORY",
            "CONFIG_STATIC_SHM"
        ])
    );
    assert!(target.get("build_options").is_none());
}

#[test]
fn output_is_deterministic() {
    let (a, out_a) = build("xen.cfg", &[]);
    let (b, out_b) = build("xen.cfg", &[]);
    assert!(out_a.status.success() && out_b.status.success());
    for name in ["xen.dtb", "xen.cfg", "manifest.json"] {
        assert_eq!(
            fs::read(a.path().join("out").join(name)).unwrap(),
            fs::read(b.path().join("out").join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn xen_4_16_reads_static_memory_cells_from_the_domain() {
    let (dir, out) = build("static-4.16.cfg", &["--xen-version", "4.16"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dtb = dir.path().join("out/xen.dtb");
    let (dts, _) = dtc_decompile(&dtb);
    assert_golden(&testdata("structures/expected/static-4.16.dts"), &dts);
    let merged = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
    let fixed = merged.node("/chosen/fixed").unwrap();
    assert_eq!(fixed.property_u32("#xen,static-mem-address-cells"), Some(2));
    assert_eq!(fixed.property_u32("#xen,static-mem-size-cells"), Some(2));
    // 128 MiB + 64 MiB, in KiB.
    assert_eq!(cells(fixed, "memory"), [0, 192 * 1024]);

    // 4.17+ take /chosen's cells: no domain-node cells are written.
    let (dir, out) = build("static-4.16.cfg", &["--xen-version", "4.17"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = Fdt::from_bytes(&fs::read(dir.path().join("out/xen.dtb")).unwrap()).unwrap();
    let fixed = merged.node("/chosen/fixed").unwrap();
    assert!(fixed.property("#xen,static-mem-address-cells").is_none());
    assert!(fixed.property("xen,static-mem").is_some());
}

#[test]
fn versions_gate_the_structures() {
    // 4.16 has static memory only.
    let (code, report) = check(&["--xen-version", "4.16"]);
    assert_eq!(code, 1, "{report}");
    for key in [
        "direct-map",
        "cpupool",
        "vcpu0-affinity",
        "xen,enhanced",
        "evtchn",
        "shared-mem",
    ] {
        assert!(
            report.contains(&format!("`{key}` is read by Xen 4.17 and later"))
                || report.contains(&format!("`{key}` is read by Xen 4.21 and later")),
            "4.16 does not reject `{key}`:\n{report}"
        );
    }
    assert!(!report.contains("static-mem` is read"), "{report}");

    // 4.17: no vCPU affinity; the shared memory Xen 4.17 cannot allocate
    // (no `host=`) is placed by xencfg.
    let (code, report) = check(&["--xen-version", "4.17"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(codes(&report), ["0204", "0204"], "{report}");

    // 4.21 and 4.22 read everything.
    for v in ["4.21", "4.22"] {
        let (code, report) = check(&["--xen-version", v]);
        assert_eq!(code, 0, "{v}:\n{report}");
    }
}

#[test]
fn values_are_gated_by_version_too() {
    let dir = scratch_example("structures");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("[app]\n", "[app]\nv8r_el1_msa=mpu\n")
        .replacen("xen,enhanced=no-xenstore", "xen,enhanced=legacy", 1);
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let report = |v: &str| {
        let out = run(&["check", "xen.cfg", "--xen-version", v], dir.path());
        stderr(&out)
    };
    let r420 = report("4.20");
    assert!(
        r420.contains("`xen,enhanced=legacy` is read by Xen 4.21"),
        "{r420}"
    );
    let r421 = report("4.21");
    assert!(!r421.contains("legacy"), "{r421}");
    assert!(r421.contains("`v8r_el1_msa` is read by Xen 4.22"), "{r421}");
    // 4.22 reads it, but only in MPU builds, which have no EFI loader.
    let r422 = report("4.22");
    assert!(
        r422.contains("error[XC0901]: `v8r_el1_msa` needs Xen built with CONFIG_MPU"),
        "{r422}"
    );
}

#[test]
fn debian_4_17_build_lacks_the_unsupported_features() {
    let config = dirs_config();
    let (code, report) = check(&["--xen-config", &config, "--xen-version", "4.21"]);
    assert_eq!(code, 1);
    // The configuration header says 4.17.
    assert!(report.contains("warning[XC0902]"), "{report}");
    for symbol in [
        "CONFIG_STATIC_MEMORY",
        "CONFIG_BOOT_TIME_CPUPOOLS",
        "CONFIG_STATIC_SHM",
        // Kconfig has it from 4.19 on; a 4.17 .config cannot set it.
        "CONFIG_STATIC_EVTCHN",
    ] {
        assert!(
            report.contains(&format!("needs Xen built with {symbol}")),
            "{symbol}:\n{report}"
        );
    }
}

/// Debian's Xen 4.17 `.config` (xen-hypervisor-4.17-arm64
/// 4.17.7+13-g2445b30a44-0+deb12u1, the Xen the boot test runs).
fn dirs_config() -> String {
    testdata("structures/xen-4.17-debian.config")
        .display()
        .to_string()
}

#[test]
fn reads_the_target_from_debians_xen_binary() {
    let Some(xen) = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".cache/xencfg/boot-assets/xen.efi"))
        .filter(|p| p.is_file())
    else {
        eprintln!("no boot assets (tests/boot fetches them); skipping");
        return;
    };
    let xen = xen.display().to_string();
    // Debian's xen.efi carries its .config (CONFIG_HYPFS_CONFIG), which
    // has no CONFIG_STATIC_MEMORY: Xen would panic on this cfg.
    let (_, out) = build("static-4.16.cfg", &["--xen", &xen]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the build configuration inside"),
        "{}",
        stderr(&out)
    );
    let (dir, out) = build(
        "static-4.16.cfg",
        &["--xen", &xen, "-A", "build-option-missing"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/manifest.json")).unwrap()).unwrap();
    let target = &manifest["target"];
    assert_eq!(target["xen_config_embedded"], true);
    assert_eq!(target["build_options"]["CONFIG_STATIC_MEMORY"], false);
    assert_eq!(target["xen_version"], "4.17");
    assert_eq!(target["version_source"], "xen-binary");
    assert!(
        target["xen_full_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.17.")),
        "{target}"
    );
    // An explicit version wins, with a warning.
    let (_, report) = check(&["--xen", &xen, "--xen-version", "4.22"]);
    assert!(
        report.contains("warning[XC0902]: the Xen binary is Xen 4.17"),
        "{report}"
    );
}

/// Every check of the binding's values, resources and target has a case in
/// `testdata/bad/` that triggers it.
#[test]
fn binding_checks_each_have_a_bad_input() {
    let mut expected = String::new();
    for entry in fs::read_dir(testdata("bad")).unwrap() {
        let path = entry.unwrap().path().join("expected");
        if let Ok(text) = fs::read_to_string(path) {
            expected.push_str(&text);
        }
    }
    let ours = xencfg::diag::codes::ALL.iter().filter(|c| {
        let n: u32 = c.code[2..].parse().unwrap();
        (308..400).contains(&n) || (800..1100).contains(&n)
    });
    for check in ours {
        assert!(
            expected.contains(&format!("[{}]", check.code)),
            "no case in testdata/bad triggers {} ({})",
            check.code,
            check.name
        );
    }
}

/// The nodes under `parent` compatible with `xen,evtchn-v1`, as (local
/// port, path of the node the peer phandle names).
fn channel_ends(fdt: &Fdt, parent: &str) -> Vec<(u32, String)> {
    let node = fdt.node(parent).unwrap_or_else(|| panic!("{parent}"));
    node.children
        .iter()
        .filter(|c| c.is_compatible("xen,evtchn-v1"))
        .map(|c| {
            let [local, peer] = cells(c, "xen,evtchn")[..] else {
                panic!("{parent}/{}: xen,evtchn is not two cells", c.name)
            };
            let peers = by_phandle(fdt, peer);
            assert_eq!(peers.len(), 1, "{parent}/{}: peer {peer}", c.name);
            let back = fdt.node(&peers[0]).unwrap();
            assert_eq!(cells(back, "xen,evtchn")[1], phandle(c), "{}", peers[0]);
            (local, peers[0].clone())
        })
        .collect()
}

/// Builds the structures example with `edit` applied to its cfg and
/// `extra` arguments; the merged tree.
fn build_edited(edit: impl Fn(&str) -> String, extra: &[&str]) -> (Fdt, String) {
    let dir = scratch_example("structures");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    fs::write(dir.path().join("edited.cfg"), edit(&cfg)).unwrap();
    let mut args = vec!["build", "edited.cfg", "-o", "out"];
    args.extend_from_slice(extra);
    let out = run(&args, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let dtb = fs::read(dir.path().join("out/xen.dtb")).unwrap();
    (Fdt::from_bytes(&dtb).unwrap(), stderr(&out))
}

/// XC1016 demoted: a port bound twice is written twice, as the cfg says,
/// so that Xen (not xencfg, silently) decides what happens: it panics
/// (`tests/boot_predictions.rs`). The old emitter dropped the second
/// channel and Xen booted a system with one channel less.
#[test]
fn a_port_bound_twice_is_written_twice_when_demoted() {
    let (fdt, report) = build_edited(
        |cfg| cfg.replace("evtchn=10 app:20\n", "evtchn=10 app:20\nevtchn=11 app:20\n"),
        &["-W", "XC1016"],
    );
    assert!(report.contains("warning[XC1016]"), "{report}");
    let rt = channel_ends(&fdt, "/chosen/rt");
    assert_eq!(
        rt,
        [
            (10, "/chosen/app/evtchn-20".to_string()),
            (11, "/chosen/app/evtchn-20-2".to_string())
        ]
    );
    let mut app = channel_ends(&fdt, "/chosen/app");
    app.sort();
    assert_eq!(
        app,
        [
            (20, "/chosen/rt/evtchn-10".to_string()),
            (20, "/chosen/rt/evtchn-11".to_string()),
            (30, "/chosen/dom0-evtchn-40".to_string())
        ]
    );
}

/// XC1014 demoted: a channel to dom0 in a section without dom0 keeps its
/// `/chosen` end (Xen then panics "could not find domains"), rather than
/// losing the channel silently.
#[test]
fn a_channel_to_a_missing_dom0_is_written_when_demoted() {
    let (fdt, report) = build_edited(
        |cfg| cfg.replace("kernel=Image-dom0.bin console=hvc0\n", ""),
        &["-W", "XC1014"],
    );
    assert!(report.contains("warning[XC1014]"), "{report}");
    assert_eq!(
        channel_ends(&fdt, "/chosen"),
        [(40, "/chosen/app/evtchn-30".to_string())]
    );
}

/// XC1018 demoted: a pool without CPUs is written (empty `cpupool-cpus`)
/// and the guest still names it; the old emitter dropped both, and the
/// guest silently ran in Xen's default pool (`tests/boot_predictions.rs`
/// shows what Xen makes of it).
#[test]
fn an_empty_pool_is_written_when_demoted() {
    let (fdt, report) = build_edited(
        |cfg| cfg.replace("cpus=/cpus/cpu@2,0x3\n", ""),
        &["-W", "XC1018"],
    );
    assert!(report.contains("warning[XC1018]"), "{report}");
    let pool = fdt.node("/chosen/rtpool").expect("pool node");
    assert!(pool.is_compatible("xen,cpupool"));
    assert_eq!(cells(pool, "cpupool-cpus"), Vec::<u32>::new());
    let rt = fdt.node("/chosen/rt").unwrap();
    assert_eq!(rt.property_u32("domain-cpupool"), Some(phandle(pool)));
}

/// dom0's side of static shared memory: `shared-mem=` in the boot section
/// becomes a `xen,domain-shared-memory-v1` node directly under `/chosen`
/// (`<host guest size>` in `/chosen`'s 2/2 cells), beside the guest's
/// node for the same id.
#[test]
fn dom0_shared_memory_is_written_under_chosen() {
    let (dir, out) = build("dom0-shm.cfg", &["--xen-version", "4.22"]);
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    assert!(!stderr(&out).contains("warning["), "{}", stderr(&out));
    let dtb = dir.path().join("out/xen.dtb");
    let (dts, warnings) = dtc_decompile(&dtb);
    assert!(warnings.is_empty(), "dtc warns:\n{warnings}");
    assert_golden(&testdata("structures/expected/dom0-shm.dts"), &dts);
    let merged = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
    let node = merged
        .node("/chosen/dom0-shared-mem-0")
        .expect("dom0's node");
    assert_eq!(
        cells(node, "xen,shared-mem"),
        [0, 0x7000_0000, 0, 0x7000_0000, 0, 0x0100_0000]
    );
    assert_eq!(node.property_strings("xen,shm-id"), ["dom0-app"]);
    // Before 4.17 the key is not read, for dom0 as for a guest.
    let (code, report) = {
        let dir = scratch_example("structures");
        let out = run(
            &["check", "dom0-shm.cfg", "--xen-version", "4.16"],
            dir.path(),
        );
        (out.status.code().unwrap_or(-1), stderr(&out))
    };
    assert_eq!(code, 1, "{report}");
    assert_eq!(codes(&report), ["0204", "0204"], "{report}");
}

/// `static-heap=` becomes `/chosen` `xen,static-heap`, in the ROOT node's
/// cells (Xen's process_chosen_node decodes it with `/chosen`'s parent's
/// cells), not the 2/2 xencfg gives `/chosen`.
#[test]
fn static_heap_is_written_in_the_roots_cells() {
    let (fdt, report) = build_edited(
        |cfg| {
            cfg.replace(
                "dtb=host.dtb\n",
                "dtb=host.dtb\nstatic-heap=0x72000000:1G\n",
            )
        },
        &["--xen-version", "4.22"],
    );
    assert!(!report.contains("[XC10"), "{report}");
    let chosen = fdt.node("/chosen").unwrap();
    assert_eq!(
        cells(chosen, "xen,static-heap"),
        [0, 0x7200_0000, 0, 0x4000_0000]
    );

    // A host whose root has one address and one size cell.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&testdata("bad/_base"), dir.path());
    copy_tree(&testdata("bad/res-static-heap-root-cells"), dir.path());
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    let cfg = cfg.replace(
        "static-heap=0x100000000:256M",
        "static-heap=0x60000000:256M",
    );
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let out = run(
        &["build", "xen.cfg", "-o", "out", "--xen-version", "4.22"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let fdt = Fdt::from_bytes(&fs::read(dir.path().join("out/xen.dtb")).unwrap()).unwrap();
    let chosen = fdt.node("/chosen").unwrap();
    assert_eq!(chosen.property_u32("#address-cells"), Some(2));
    assert_eq!(cells(chosen, "xen,static-heap"), [0x6000_0000, 0x1000_0000]);
}
