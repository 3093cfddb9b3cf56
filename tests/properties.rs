//! Property tests over generated inputs.
//!
//! - Round trip: a random valid system (guests with random names, cpus,
//!   memory written in random units, kernels and ramdisks at random ESP
//!   paths, in either guest form) is written as a cfg and built; the merged
//!   DTB, decompiled by dtc and recompiled by dtc, read back with xencfg's
//!   reader, describes exactly that system (names, domid order, cpus,
//!   memory, module paths, bootargs), and so does the manifest.
//! - Robustness: random cfg text, made from the pieces real cfgs are made
//!   of plus arbitrary bytes, never panics anywhere in the pipeline.

mod support;

use proptest::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use support::*;
use xencfg::fdt::Fdt;

#[derive(Clone, Debug)]
struct GuestSpec {
    /// Section name (form B) or the flat number's name `domU<n>` (form A).
    name: String,
    flat_number: Option<u32>,
    cpus: u32,
    memory_kib: u64,
    /// How `memory` is written: 0 bare decimal KiB, 1 hex KiB, 2 M, 3 K, 4 G.
    memory_style: u8,
    kernel: String,
    ramdisk: Option<String>,
    bootargs: String,
}

/// A DT node name xencfg accepts for a guest.
fn guest_name() -> impl Strategy<Value = String> {
    // No `,`: domains= splits at commas, so a section named `a,b` cannot
    // be listed (DT allows it in node names).
    "[a-z][a-z0-9._+-]{0,39}".prop_filter("reserved or boot section name", |n| {
        !matches!(
            n.as_str(),
            "chosen" | "kernel" | "ramdisk" | "xsm" | "global" | "xen"
        )
    })
}

/// An ESP path of one to three plain components.
fn esp_path() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_-]{1,12}", 1..=3).prop_map(|parts| parts.join("/"))
}

/// Memory in KiB and how it is written: from 8 MiB (the first bank must
/// hold the kernel, DTB and ramdisk in 2 MiB steps: XC1002) to 64 GiB per
/// guest, which 8 guests fit in the 1 TiB host below (XC1025).
fn memory() -> impl Strategy<Value = (u64, u8)> {
    prop_oneof![
        (2048u64..=32768).prop_map(|pages| (pages * 4, 0)),
        (2048u64..=32768).prop_map(|pages| (pages * 4, 1)),
        (8u64..=128).prop_map(|mib| (mib * 1024, 2)),
        (2048u64..=32768).prop_map(|pages| (pages * 4, 3)),
        (1u64..=64).prop_map(|gib| (gib << 20, 4)),
    ]
}

fn guest() -> impl Strategy<Value = GuestSpec> {
    (
        guest_name(),
        any::<bool>(),
        1u32..=128,
        memory(),
        esp_path(),
        prop::option::of(esp_path()),
        "[a-z0-9=/ ._-]{0,40}",
    )
        .prop_map(
            |(name, flat, cpus, (memory_kib, memory_style), kernel, ramdisk, bootargs)| GuestSpec {
                name,
                flat_number: flat.then_some(0),
                cpus,
                memory_kib,
                memory_style,
                kernel: format!("k/{kernel}.img"),
                ramdisk: ramdisk.map(|r| format!("r/{r}.cpio.gz")),
                bootargs: bootargs.trim().to_string(),
            },
        )
}

/// Up to 8 guests with distinct names and distinct files (a file used as
/// a kernel by one guest and a ramdisk by another is another test).
fn system() -> impl Strategy<Value = Vec<GuestSpec>> {
    prop::collection::vec(guest(), 1..=8).prop_map(|mut guests| {
        let mut names = BTreeSet::new();
        let mut files = BTreeSet::new();
        guests.retain(|g| {
            names.insert(g.name.to_ascii_lowercase())
                && files.insert(g.kernel.to_ascii_lowercase())
                && g.ramdisk
                    .as_ref()
                    .is_none_or(|r| files.insert(r.to_ascii_lowercase()))
        });
        for (n, g) in (1u32..).zip(guests.iter_mut()) {
            if g.flat_number.is_some() {
                g.flat_number = Some(n);
                g.name = format!("domU{n}");
            }
        }
        guests
    })
}

fn memory_text(g: &GuestSpec) -> String {
    match g.memory_style {
        0 => g.memory_kib.to_string(),
        1 => format!("{:#x}", g.memory_kib),
        2 => format!("{}M", g.memory_kib / 1024),
        3 => format!("{}K", g.memory_kib),
        _ => format!("{}G", g.memory_kib >> 20),
    }
}

fn kernel_value(g: &GuestSpec) -> String {
    if g.bootargs.is_empty() {
        g.kernel.clone()
    } else {
        format!("{} {}", g.kernel, g.bootargs)
    }
}

/// The cfg text: form A guests as flat keys, form B as sections, in the
/// order of `guests` (which is the domid order).
fn write_cfg(guests: &[GuestSpec]) -> String {
    let section_names: Vec<&str> = guests
        .iter()
        .filter(|g| g.flat_number.is_none())
        .map(|g| g.name.as_str())
        .collect();
    let mut cfg =
        String::from("[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart\ndtb=host.dtb\n");
    // domids follow first appearance: a flat key or a name in domains=.
    // Interleave so both orders happen: flat guests before domains= come
    // first only if they are first in `guests`.
    let mut listed = false;
    for g in guests {
        match g.flat_number {
            Some(n) => {
                cfg.push_str(&format!("domu{n}_kernel={}\n", kernel_value(g)));
                if let Some(r) = &g.ramdisk {
                    cfg.push_str(&format!("domu{n}_ramdisk={r}\n"));
                }
                cfg.push_str(&format!("domu{n}_property=cpus={}\n", g.cpus));
                cfg.push_str(&format!("domu{n}_property=memory={}\n", memory_text(g)));
            }
            None if !listed => {
                cfg.push_str(&format!("domains={}\n", section_names.join(",")));
                listed = true;
            }
            None => {}
        }
    }
    for g in guests.iter().filter(|g| g.flat_number.is_none()) {
        cfg.push_str(&format!(
            "\n[{}]\nkernel={}\ncpus={}\nmemory={}\n",
            g.name,
            kernel_value(g),
            g.cpus,
            memory_text(g)
        ));
        if let Some(r) = &g.ramdisk {
            cfg.push_str(&format!("ramdisk={r}\n"));
        }
    }
    cfg
}

/// The domid order xencfg must give: flat guests as they appear, section
/// guests all at the place of `domains=` (the first section guest).
fn domid_order(guests: &[GuestSpec]) -> Vec<String> {
    let mut order = Vec::new();
    let mut listed = false;
    for g in guests {
        match g.flat_number {
            Some(_) => order.push(g.name.clone()),
            None if !listed => {
                listed = true;
                order.extend(
                    guests
                        .iter()
                        .filter(|g| g.flat_number.is_none())
                        .map(|g| g.name.clone()),
                );
            }
            None => {}
        }
    }
    order
}

/// A guest as the output DTB describes it.
#[derive(Debug, PartialEq)]
struct SeenGuest {
    name: String,
    cpus: u32,
    memory_kib: u64,
    kernel: String,
    ramdisk: Option<String>,
    bootargs: Option<String>,
}

fn string_prop(node: &xencfg::fdt::Node, name: &str) -> Option<String> {
    node.property_strings(name).first().map(|s| s.to_string())
}

fn seen_guests(fdt: &Fdt) -> Vec<SeenGuest> {
    let chosen = fdt.node("/chosen").expect("/chosen");
    chosen
        .children
        .iter()
        .filter(|n| n.is_compatible("xen,domain"))
        .map(|n| {
            let memory = &n.property("memory").expect("memory").value;
            let kernel = n.child("kernel").expect("kernel node");
            SeenGuest {
                name: n.name.clone(),
                cpus: n.property_u32("cpus").expect("cpus"),
                memory_kib: u64::from_be_bytes(memory.as_slice().try_into().expect("2 cells")),
                kernel: string_prop(kernel, "xen,uefi-binary").expect("kernel path"),
                ramdisk: n
                    .child("ramdisk")
                    .map(|r| string_prop(r, "xen,uefi-binary").expect("ramdisk path")),
                bootargs: string_prop(kernel, "bootargs"),
            }
        })
        .collect()
}

fn expected_guests(guests: &[GuestSpec]) -> Vec<SeenGuest> {
    domid_order(guests)
        .iter()
        .map(|name| {
            let g = guests.iter().find(|g| &g.name == name).unwrap();
            SeenGuest {
                name: g.name.clone(),
                cpus: g.cpus,
                memory_kib: g.memory_kib,
                kernel: g.kernel.replace('/', "\\"),
                ramdisk: g.ramdisk.as_ref().map(|r| r.replace('/', "\\")),
                bootargs: (!g.bootargs.is_empty()).then(|| g.bootargs.clone()),
            }
        })
        .collect()
}

/// dtc -I dtb -O dts, then dtc -I dts -O dtb: the blob as dtc understands it.
fn through_dtc(dtb: &Path) -> Vec<u8> {
    let dts = Command::new("dtc")
        .args(["-I", "dtb", "-O", "dts", "-q"])
        .arg(dtb)
        .output()
        .expect("dtc must be installed");
    assert!(
        dts.status.success(),
        "{}",
        String::from_utf8_lossy(&dts.stderr)
    );
    let source = dtb.with_extension("from-dtc.dts");
    fs::write(&source, &dts.stdout).unwrap();
    let blob = Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb", "-q"])
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        blob.status.success(),
        "{}",
        String::from_utf8_lossy(&blob.stderr)
    );
    blob.stdout
}

/// The example host with 1 TiB of RAM, so that memory-exceeds-host never
/// rejects a random valid model (that check has its own tests).
fn host_with_ram_for_any_guests() -> Vec<u8> {
    let mut host = Fdt::from_bytes(&fs::read(testdata("sections/host.dtb")).unwrap()).unwrap();
    let memory = host
        .node_mut("/memory@40000000")
        .expect("the example's RAM node");
    memory.set_property(
        "reg",
        xencfg::fdt::value::cells(&[0, 0x4000_0000, 0x100, 0]),
    );
    host.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn built_dtb_describes_the_cfg(guests in system()) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("host.dtb"), host_with_ram_for_any_guests()).unwrap();
        let image = fs::read(testdata("sections/Image-guest1.bin")).unwrap();
        let initrd = fs::read(testdata("sections/initrd-guest1.cpio.gz")).unwrap();
        for g in &guests {
            let k = root.join(&g.kernel);
            fs::create_dir_all(k.parent().unwrap()).unwrap();
            fs::write(&k, &image).unwrap();
            if let Some(r) = &g.ramdisk {
                let r = root.join(r);
                fs::create_dir_all(r.parent().unwrap()).unwrap();
                fs::write(r, &initrd).unwrap();
            }
        }
        let cfg = write_cfg(&guests);
        fs::write(root.join("xen.cfg"), &cfg).unwrap();
        let out = run(&["build", "xen.cfg", "-o", "out"], root);
        prop_assert!(out.status.success(), "build failed:\n{}\n{cfg}", stderr(&out));

        let blob = through_dtc(&root.join("out/xen.dtb"));
        let fdt = Fdt::from_bytes(&blob).expect("dtc's blob reads");
        prop_assert_eq!(seen_guests(&fdt), expected_guests(&guests), "cfg:\n{}", cfg);

        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
        let listed = manifest["sections"][0]["guests"].as_array().unwrap();
        for (expected_domid, (m, name)) in (1u64..).zip(listed.iter().zip(domid_order(&guests))) {
            prop_assert_eq!(m["name"].as_str(), Some(name.as_str()));
            prop_assert_eq!(m["domid"].as_u64(), Some(expected_domid));
        }
        prop_assert_eq!(listed.len(), guests.len());
    }
}

/// Lines real cfgs are made of, with and without mistakes, for the text
/// generator below.
const PIECES: &[&str] = &[
    "[global]",
    "[xen]",
    "[g1]",
    "[g2]",
    "[xen",
    "[]",
    "default=xen",
    "default=g1",
    "default= xen",
    "chain=xen.cfg",
    "chain=other.cfg",
    "options=console=dtuart",
    "options=",
    "kernel=Image-guest1.bin console=ttyAMA0",
    "kernel=host.dtb",
    "kernel=../Image",
    "kernel=/abs",
    "kernel=a//b",
    "ramdisk=initrd-guest1.cpio.gz",
    "dtb=host.dtb",
    "dtb=Image-guest1.bin",
    "dtbo=host.dtb",
    "dtbo=missing.dtbo",
    "xsm=Image-guest1.bin",
    "domains=g1,g2",
    "guests=g2 g1 g1",
    "domains=xen",
    "domu1_kernel=Image-guest1.bin",
    "domu1_ramdisk=Image-guest1.bin",
    "domu1_dtb=host.dtb",
    "domu1_property=cpus=1",
    "domu1_property=memory=0xC0000",
    "domu2_kernel=Image-guest1.bin",
    "domu2_property=memory=1G",
    "cpus=2",
    "cpus=0",
    "cpus=0x100000000",
    "memory=768M",
    "memory=1.5G",
    "memory=0xFFFFFFFFFFFFFFFF",
    "memory=5",
    "vpl011",
    "vpl011=maybe",
    "property=foo=<1 2>",
    "property=bar=\"x\"",
    "property=baz=[de ad]",
    "property=q=<",
    "properties=cpus=1 memory=1M vpl011",
    "nr_spis=999999",
    "xen,enhanced=enabled",
    "direct-map",
    "static-mem=0x0:0x1000",
    "# comment",
    "; comment",
    "key =value",
    "\tcpus=1",
    "video=gfx-1024x768x32",
    "ucode=Image-guest1.bin",
];

fn cfg_text() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        8 => prop::sample::select(PIECES).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..24),
        1 => "[ -~]{0,30}".prop_map(String::into_bytes),
    ];
    const ENDS: &[&[u8]] = &[b"\n", b"\r\n", b"\r", b"", b"\0", b" \n"];
    let end = prop::sample::select(ENDS);
    prop::collection::vec((line, end), 0..40).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(l, e)| l.into_iter().chain(e.iter().copied()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_cfg_text_goes_through_the_pipeline(text in cfg_text(), build in any::<bool>()) {
        use xencfg::analyze::Options;
        use xencfg::commands::build::{self, BuildOptions};
        use xencfg::pipeline;
        use xencfg::diag::{Diagnostics, SourceMap, render};
        use xencfg::target::Target;

        let dir = scratch_example("sections");
        let cfg = dir.path().join("xen.cfg");
        fs::write(&cfg, &text).unwrap();
        let target = Target::default();
        let options = Options {
            cfg,
            root: None,
            section: None,
            target: target.clone(),
            efi_name: "xen".into(),
            host_ram: None,
        };
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let compiled = pipeline::run(&options, &mut sources, &mut diags);
        let mut compiled = compiled.expect("a cfg that exists is always read");
        diags.sort();
        for d in diags.iter() {
            render::human(d, &sources);
            render::json(d, &sources);
        }
        if build && !diags.has_errors() {
            compiled.hash_inputs(None, &xencfg::load::cache::Cache::disabled()).expect("the example's files hash");
            let result = build::build(&compiled, &BuildOptions {
                out: dir.path().join("out"),
                efi_name: "xen".into(),
                stage: true,
                xen: None,
                emit_dts: true,
                force: false,
                target,
            }, &xencfg::load::cache::Cache::disabled());
            if let Err(e) = result {
                // Only the known exit-2 outcome of an error-free compile.
                prop_assert!(e.to_string().contains("has no host DTB to build"), "{e}");
            }
        }
    }
}
