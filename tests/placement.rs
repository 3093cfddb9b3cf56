//! Memory given as sizes alone (`static-heap=`, `static-mem=`, `shared-mem=`
//! without addresses) on random hosts: xencfg never places a range any
//! check would reject (outside RAM, over a reserved range or another
//! range, in the firmware's areas, over a guest's RAM or devices), and a
//! request that does not fit gets XC1032 naming the free space. The hosts
//! are QEMU's virt DTB (`testdata/bad/_base/host.dtb`) with random RAM banks
//! and `/reserved-memory` ranges and `/memreserve/` entries; the requests
//! are random guests, banks, shared regions and a heap.

#[path = "support/mod.rs"]
mod support;

use proptest::prelude::*;
use std::fs;
use std::path::Path;
use xencfg::analyze::Options;
use xencfg::diag::{Diagnostics, Severity, SourceMap, render};
use xencfg::fdt::{Fdt, Node, Reservation, value};
use xencfg::pipeline;
use xencfg::target::{Target, VersionSource, XenVersion};

const MIB: u64 = 1 << 20;

/// A random host: RAM banks (ascending, apart) and reserved ranges in them.
#[derive(Clone, Debug)]
struct Host {
    ram: Vec<(u64, u64)>,
    reserved: Vec<(u64, u64)>,
    memreserve: Vec<(u64, u64)>,
}

fn host() -> impl Strategy<Value = Host> {
    // Banks: a gap, then a size, in MiB; the first starts at 1 GiB or above.
    let banks = prop::collection::vec((0u64..4096, 64u64..4096), 1..4);
    banks
        .prop_flat_map(|banks| {
            let mut ram = Vec::new();
            let mut at = 1024 * MIB;
            for (gap, size) in banks {
                at += gap * MIB;
                ram.push((at, size * MIB));
                at += size * MIB;
            }
            let picks = prop::collection::vec((0..ram.len(), 0u64..1 << 20, 1u64..16384), 0..5);
            let memreserve = prop::collection::vec((0..ram.len(), 0u64..1 << 20, 1u64..1024), 0..3);
            (Just(ram), picks, memreserve)
        })
        .prop_map(|(ram, picks, memreserve)| {
            // (bank, position in 1/2^20 of the bank, size in 4 KiB pages)
            let inside = |(bank, at, pages): (usize, u64, u64)| {
                let (start, size) = ram[bank];
                let offset = (size / (1 << 20)) * at / 4096 * 4096;
                let len = (pages * 4096).min(size - offset);
                (start + offset, len.max(4096))
            };
            Host {
                reserved: picks.into_iter().map(inside).collect(),
                memreserve: memreserve.into_iter().map(inside).collect(),
                ram,
            }
        })
}

/// Random requests: the heap, guests with static banks (some
/// direct-mapped), shared regions between them and dom0.
#[derive(Clone, Debug)]
struct Requests {
    heap: Option<u64>,
    /// Each guest's banks (MiB) and whether it is direct-mapped.
    guests: Vec<(Vec<u64>, bool)>,
    /// Each region: its size (4 KiB pages) and its members (guest indices;
    /// `usize::MAX` for dom0).
    shared: Vec<(u64, Vec<usize>)>,
}

fn requests() -> impl Strategy<Value = Requests> {
    let guests = prop::collection::vec(
        (prop::collection::vec(2u64..1024, 1..3), any::<bool>()),
        1..4,
    );
    (prop::option::of(64u64..1024), guests).prop_flat_map(|(heap, guests)| {
        let n = guests.len();
        let member = prop_oneof![Just(usize::MAX), 0..n];
        let shared = prop::collection::vec(
            (
                prop_oneof![1u64..16, Just(512u64), Just(1024u64)],
                prop::collection::btree_set(member, 1..3),
            ),
            0..3,
        );
        (Just(heap), Just(guests), shared).prop_map(|(heap, guests, shared)| Requests {
            heap: heap.map(|m| m * MIB),
            guests,
            shared: shared
                .into_iter()
                .map(|(pages, members)| (pages, members.into_iter().collect()))
                .collect(),
        })
    })
}

fn reg(start: u64, size: u64) -> Vec<u8> {
    [value::u64(start), value::u64(size)].concat()
}

/// QEMU's virt DTB with `host`'s RAM and reservations.
fn host_dtb(host: &Host) -> Vec<u8> {
    let base = fs::read(support::testdata("bad/_base/host.dtb")).unwrap();
    let mut fdt = Fdt::from_bytes(&base).unwrap();
    fdt.root
        .children
        .retain(|c| !c.name.starts_with("memory@") && c.name != "reserved-memory");
    for (start, size) in &host.ram {
        let mut node = Node::new(format!("memory@{start:x}"));
        node.set_property("device_type", value::string("memory"));
        node.set_property("reg", reg(*start, *size));
        fdt.root.children.push(node);
    }
    let mut reserved = Node::new("reserved-memory");
    reserved.set_property("#address-cells", value::u32(2));
    reserved.set_property("#size-cells", value::u32(2));
    reserved.set_property("ranges", Vec::new());
    for (start, size) in &host.reserved {
        let mut node = Node::new(format!("fw@{start:x}"));
        node.set_property("reg", reg(*start, *size));
        node.set_property("no-map", Vec::new());
        if !reserved.children.iter().any(|c| c.name == node.name) {
            reserved.children.push(node);
        }
    }
    fdt.root.children.push(reserved);
    fdt.reservations = host
        .memreserve
        .iter()
        .map(|&(address, size)| Reservation { address, size })
        .collect();
    fdt.to_bytes()
}

fn cfg(requests: &Requests) -> String {
    let names: Vec<String> = (0..requests.guests.len())
        .map(|i| format!("g{i}"))
        .collect();
    let dom0 = requests.shared.iter().any(|(_, m)| m.contains(&usize::MAX));
    let mut out = format!(
        "[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart dom0_mem=256M\ndtb=host.dtb\ndomains={}\n",
        names.join(",")
    );
    if dom0 {
        out.push_str("kernel=Image-domu1.bin console=hvc0\n");
    }
    if let Some(heap) = requests.heap {
        out.push_str(&format!("static-heap={}M\n", heap / MIB));
    }
    let size = |pages: u64| format!("{}K", pages * 4);
    for (r, (pages, members)) in requests.shared.iter().enumerate() {
        if members.contains(&usize::MAX) {
            let role = if members.len() > 1 { " role=owner" } else { "" };
            out.push_str(&format!("shared-mem=r{r} size={}{role}\n", size(*pages)));
        }
    }
    for (i, (banks, direct)) in requests.guests.iter().enumerate() {
        let banks: Vec<String> = banks.iter().map(|b| format!("{b}M")).collect();
        out.push_str(&format!(
            "\n[g{i}]\nkernel=Image-domu1.bin console=ttyAMA0\ncpus=1\nstatic-mem={}\n",
            banks.join(",")
        ));
        if *direct {
            out.push_str("direct-map\n");
        }
        for (r, (pages, members)) in requests.shared.iter().enumerate() {
            if members.contains(&i) {
                let role = if members[0] == i && !members.contains(&usize::MAX) && members.len() > 1
                {
                    " role=owner"
                } else if members.len() > 1 {
                    " role=borrower"
                } else {
                    ""
                };
                out.push_str(&format!("shared-mem=r{r} size={}{role}\n", size(*pages)));
            }
        }
    }
    out
}

/// Checks `cfg` on `host` for Xen 4.22; the rendered findings.
fn check(dir: &Path, host: &Host, cfg: &str) -> (Diagnostics, String) {
    fs::copy(
        support::testdata("bad/_base/Image-domu1.bin"),
        dir.join("Image-domu1.bin"),
    )
    .unwrap();
    fs::write(dir.join("host.dtb"), host_dtb(host)).unwrap();
    fs::write(dir.join("xen.cfg"), cfg).unwrap();
    let options = Options {
        cfg: dir.join("xen.cfg"),
        root: None,
        section: None,
        target: Target::release(XenVersion::new(4, 22), VersionSource::Option),
        efi_name: "xen".into(),
        host_ram: None,
    };
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    pipeline::run(&options, &mut sources, &mut diags).expect("the cfg is read");
    diags.sort();
    let text = diags
        .iter()
        .map(|d| render::human(d, &sources))
        .collect::<Vec<_>>()
        .join("\n");
    (diags, text)
}

/// What a check says about where a range is (the rules placement must
/// satisfy): in RAM, clear of reservations, of other ranges, of the
/// firmware's areas, of the guest's own layout.
const WHERE_CODES: &[&str] = &[
    "XC1003", // static or shared range outside RAM
    "XC1004", // static range over another range, reserved or shared
    "XC1005", // not whole pages
    "XC1010", // shared regions overlapping in host memory
    "XC1013", // 1:1 domain sees shared memory elsewhere
    "XC1026", // shared memory over the guest's RAM or devices
    "XC1033", // in the firmware's areas
    "XC1035", // heap not 64 KiB aligned
    "XC1036", // heap outside RAM
    "XC1037", // heap over reserved, static or shared memory
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever xencfg places, no check rejects for where it is; what it
    /// cannot place is XC1032 and says what is free.
    #[test]
    fn placement_never_picks_what_a_check_rejects(host in host(), requests in requests()) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = cfg(&requests);
        let (diags, text) = check(dir.path(), &host, &cfg);
        for d in diags.iter() {
            prop_assert!(
                !WHERE_CODES.contains(&d.check.code),
                "placement picked a range {} rejects:\n{cfg}\n{host:?}\n{text}", d.check.code
            );
            if d.check.code == "XC1032" {
                prop_assert!(d.notes.iter().any(|n| n.contains("free")), "{text}");
            }
        }
    }

    /// A request larger than all of the host's RAM is refused by XC1032,
    /// which names how much is free and the largest block.
    #[test]
    fn too_large_requests_name_the_free_space(host in host(), extra in 1u64..1024) {
        let dir = tempfile::tempdir().unwrap();
        let total: u64 = host.ram.iter().map(|(_, s)| s).sum();
        let requests = Requests {
            heap: None,
            guests: vec![(vec![total / MIB + extra], false)],
            shared: Vec::new(),
        };
        let (diags, text) = check(dir.path(), &host, &cfg(&requests));
        let no_room: Vec<_> = diags.iter().filter(|d| d.check.code == "XC1032").collect();
        prop_assert_eq!(no_room.len(), 1, "{}", text);
        prop_assert!(no_room[0].severity == Severity::Error);
        let names_free = |n: &String| {
            (n.contains(" is free in ") && n.contains("the largest")) || n.starts_with("nothing is free")
        };
        prop_assert!(no_room[0].notes.iter().any(names_free), "{}", text);
        prop_assert!(
            no_room[0].help.as_deref().is_some_and(|h| h.contains("at most") || h.contains("give it an address")),
            "{}", text
        );
    }
}
