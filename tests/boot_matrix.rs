//! The boot matrix: the seed's two examples (`testdata/rfc/xen.cfg`, the
//! flat `domu#_` form, and `testdata/sections/xen.cfg`, the section form)
//! compiled by `xencfg build --stage` and booted on every Xen release
//! xencfg targets (4.16.7 … 4.22.0) under both firmwares (EDK2 and U-Boot's
//! UEFI): 7 × 2 × 2 boots; then the scenarios of `tests/boot.rs` that
//! depend on Xen or the firmware (files in subdirectories, dom0 with an
//! overlay, passthrough, static event channels) on every pair where their
//! features exist, and the version gates a boot can show. One `#[test]`
//! per cell, run one at a time (the harness' boot lock). Each build takes its target from the binary
//! (`--xen`) and its build options from the `.config` beside it
//! (`--xen-config`). Needs `scripts/fetch-boot-assets` and `../shared/xen/`
//! (see `tests/boot/README.md`); `XENCFG_SKIP_BOOT=1` skips.
//!
//! The example cfgs are booted as they are in `testdata/`, with two changes
//! that leave what Xen reads of them alone: each guest's kernel command line
//! gets `xencfg.name=NAME` (the marker the test initramfs prints), and the
//! files they name (`host.dtb`, `Image-*.bin`, `initrd-*.cpio.gz`) are the
//! real ones (QEMU's DTB, the cloud kernel, the test initramfs).

#[path = "boot/harness.rs"]
#[allow(dead_code)] // shared with tests/boot.rs
mod harness;
#[path = "boot/scenarios.rs"]
mod scenarios;

use std::fs;
use std::path::Path;
use std::time::Duration;

use harness::{Assets, BOOT_TIMEOUT, Firmware, Project, XEN_FAILURES};

const MIB: u64 = 1024;
/// How long a boot that Xen must refuse may take.
const FAILURE_TIMEOUT: Duration = Duration::from_secs(60);

/// A guest the example boots: its name, domid, vCPUs and memory (KiB), as
/// the example's cfg says.
struct Guest {
    name: &'static str,
    /// `None` for dom0 (its console lines carry no `DOMn: `).
    domid: Option<u32>,
    cpus: u32,
    memory_kib: u64,
}

/// The examples and the guests their default boot section starts.
const EXAMPLES: &[(&str, &[Guest])] = &[
    (
        "rfc",
        &[
            Guest {
                name: "domU1",
                domid: Some(1),
                cpus: 1,
                memory_kib: 0xC0000,
            },
            Guest {
                name: "domU2",
                domid: Some(2),
                cpus: 2,
                memory_kib: 256 * MIB,
            },
        ],
    ),
    (
        "sections",
        &[
            Guest {
                name: "guest1",
                domid: Some(1),
                cpus: 1,
                memory_kib: 768 * MIB,
            },
            Guest {
                name: "guest2",
                domid: Some(2),
                cpus: 2,
                memory_kib: 0x30000,
            },
            Guest {
                name: "guest3",
                domid: Some(3),
                cpus: 1,
                memory_kib: 128 * MIB,
            },
        ],
    ),
];

/// `text` (a cfg) with ` xencfg.name=NAME` appended to each guest's
/// `kernel=` line: `domuN_kernel=` names `domUN`, `kernel=` in a guest
/// section names the section. The boot section's own `kernel=` (dom0)
/// is left alone; the examples have none.
fn with_marker_names(text: &str) -> String {
    let mut section = String::new();
    let mut out = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        }
        out.push_str(line);
        if let Some((key, _)) = line.split_once('=') {
            let name = match key
                .strip_prefix("domu")
                .and_then(|k| k.strip_suffix("_kernel"))
            {
                Some(n) => Some(format!("domU{n}")),
                None if key == "kernel" && section.starts_with("guest") => Some(section.clone()),
                None => None,
            };
            if let Some(name) = name {
                out.push_str(&format!(" xencfg.name={name}"));
            }
        }
        out.push('\n');
    }
    out
}

/// A project holding `testdata/<example>/xen.cfg` (with marker names) and
/// the real files in place of the ones it names.
fn example_project(assets: &Assets, example: &str) -> Project {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(example);
    let cfg = fs::read_to_string(dir.join("xen.cfg")).unwrap();
    let project = Project::new(assets, &with_marker_names(&cfg));
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let real = if name == "host.dtb" {
            assets.host_dtb()
        } else if name.starts_with("Image-") {
            &assets.image
        } else if name.starts_with("initrd-") {
            assets.initrd()
        } else {
            continue;
        };
        project.link(&name, real);
    }
    project
}

/// The `MemTotal` a guest given `memory_kib` may report (as in
/// `tests/boot.rs`): the cloud kernel keeps ~23 MiB plus ~2% out of it.
fn memtotal_range(memory_kib: u64) -> std::ops::RangeInclusive<u64> {
    let shortfall = 32 * MIB + memory_kib / 25;
    memory_kib.saturating_sub(shortfall)..=memory_kib
}

/// One cell: `example` built for Xen `release` and booted with `firmware`.
/// Every guest must print its marker with its domid, vCPU count and memory.
/// A failing cell panics with the reason and the serial log's tail.
fn cell(example: &str, release: &str, firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let (_, guests) = EXAMPLES.iter().find(|(e, _)| *e == example).unwrap();
    let project = example_project(assets, example);
    boot_cell(assets, &project, example, release, firmware, guests, &[]);
}

/// Builds `project` for `release`, boots it with `firmware` and checks
/// that every guest of `guests` is up as described, and that every line
/// of `more` was printed.
fn boot_cell(
    assets: &Assets,
    project: &Project,
    what: &str,
    release: &str,
    firmware: Firmware,
    guests: &[Guest],
    more: &[&str],
) {
    let xen = assets.xen(release);
    let built = project.build_on(xen, &[]);
    let manifest = fs::read_to_string(built.esp.boot_dir().join("manifest.json")).unwrap();
    assert!(
        manifest.contains(&format!("\"xen_version\": \"{}\"", xen.minor())),
        "the build did not target Xen {} from --xen:\n{manifest}",
        xen.minor()
    );
    let esp = built.esp.with_firmware(firmware);
    let mut patterns: Vec<String> = guests
        .iter()
        .map(|g| format!("XENCFG-BOOT name={} ", g.name))
        .collect();
    patterns.extend(more.iter().map(|m| m.to_string()));
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let log = esp.boot(&patterns, XEN_FAILURES, BOOT_TIMEOUT);
    let context = format!("{what} on Xen {release} with {firmware}");
    for guest in guests.iter() {
        let marker = log.marker(guest.name);
        let range = memtotal_range(guest.memory_kib);
        assert!(
            marker.domid == guest.domid
                && marker.nproc == guest.cpus
                && range.contains(&marker.memtotal_kb),
            "{context}: {marker:?}, expected domid {:?}, {} vCPUs, MemTotal in {range:?} KiB\n{}",
            guest.domid,
            guest.cpus,
            log.report()
        );
    }
    eprintln!(
        "matrix: {context}: {} guests up in {:.1?} (Xen's EFI loader at {:.1?})",
        guests.len(),
        log.elapsed,
        log.first_at("EFI loader").unwrap_or_default()
    );
}

/// The scenarios of `tests/boot.rs` that the matrix boots beyond the
/// examples, each where its features exist.
#[derive(Clone, Copy, Debug)]
enum Scenario {
    /// Files in subdirectories (`\` paths): the firmware's file protocol.
    Subdir,
    /// dom0 with an overlay plus two dom0less guests.
    Dom0,
    /// `passthrough=` of QEMU's PL031 (Xen 4.17+ without an IOMMU).
    Passthrough,
    /// A static event channel between two `no-xenstore` guests (Xen 4.17+).
    Evtchn,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Scenario::Subdir,
        Scenario::Dom0,
        Scenario::Passthrough,
        Scenario::Evtchn,
    ];

    /// Whether `release` has what the scenario needs.
    fn runs_on(self, release: &str) -> bool {
        match self {
            // Static event channels came with 4.17; 4.16 needs an IOMMU
            // for a passthrough DTB (XC0809, proven below).
            Scenario::Evtchn | Scenario::Passthrough => release != "4.16.7",
            _ => true,
        }
    }
}

fn guest(name: &'static str, domid: Option<u32>, cpus: u32, memory_kib: u64) -> Guest {
    Guest {
        name,
        domid,
        cpus,
        memory_kib,
    }
}

fn scenario_cell(scenario: Scenario, release: &str, firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let what = format!("{scenario:?}");
    match scenario {
        Scenario::Subdir => {
            let project = Project::new(assets, scenarios::SUBDIR_CFG);
            project.link("dt/virt.dtb", assets.host_dtb());
            project.link("domu/Image", &assets.image);
            project.link("initrd/guest.cpio.gz", assets.initrd());
            let guests = [
                guest("domU1", Some(1), 1, 192 * MIB),
                guest("domU2", Some(2), 1, 128 * MIB),
            ];
            boot_cell(assets, &project, &what, release, firmware, &guests, &[]);
        }
        Scenario::Dom0 => {
            let project = Project::new(assets, scenarios::DOM0_CFG);
            project.link("dom0/Image", &assets.image);
            project.link("dom0/initrd.gz", assets.initrd());
            project.dtc("no-gpio.dtbo", scenarios::NO_GPIO_DTS);
            let guests = [
                guest("dom0", None, 2, 512 * MIB),
                guest("helper", Some(1), 1, 192 * MIB),
                guest("domU1", Some(2), 1, 128 * MIB),
            ];
            boot_cell(assets, &project, &what, release, firmware, &guests, &[]);
        }
        Scenario::Passthrough => {
            let project = Project::new(assets, scenarios::PASSTHROUGH_CFG);
            let guests = [guest("rtc", Some(1), 1, 192 * MIB)];
            let more = ["XENCFG-PASSTHROUGH name=rtc node=pl031@9010000"];
            boot_cell(assets, &project, &what, release, firmware, &guests, &more);
        }
        Scenario::Evtchn => {
            let project = Project::new(assets, scenarios::EVTCHN_CFG);
            let guests = [
                guest("ping", Some(1), 1, 192 * MIB),
                guest("pong", Some(2), 1, 192 * MIB),
            ];
            boot_cell(assets, &project, &what, release, firmware, &guests, &[]);
        }
    }
}

macro_rules! scenario_cells {
    ($($name:ident: $scenario:ident, $release:literal, $firmware:ident;)*) => {
        $(
            #[test]
            fn $name() {
                scenario_cell(Scenario::$scenario, $release, Firmware::$firmware);
            }
        )*
    };
}

macro_rules! cells {
    ($($name:ident: $example:literal, $release:literal, $firmware:ident;)*) => {
        $(
            #[test]
            fn $name() {
                cell($example, $release, Firmware::$firmware);
            }
        )*
    };
}

cells! {
    rfc_on_4_16_7_edk2: "rfc", "4.16.7", Edk2;
    rfc_on_4_16_7_uboot: "rfc", "4.16.7", UBoot;
    rfc_on_4_17_7_edk2: "rfc", "4.17.7", Edk2;
    rfc_on_4_17_7_uboot: "rfc", "4.17.7", UBoot;
    rfc_on_4_18_6_edk2: "rfc", "4.18.6", Edk2;
    rfc_on_4_18_6_uboot: "rfc", "4.18.6", UBoot;
    rfc_on_4_19_6_edk2: "rfc", "4.19.6", Edk2;
    rfc_on_4_19_6_uboot: "rfc", "4.19.6", UBoot;
    rfc_on_4_20_4_edk2: "rfc", "4.20.4", Edk2;
    rfc_on_4_20_4_uboot: "rfc", "4.20.4", UBoot;
    rfc_on_4_21_2_edk2: "rfc", "4.21.2", Edk2;
    rfc_on_4_21_2_uboot: "rfc", "4.21.2", UBoot;
    rfc_on_4_22_0_edk2: "rfc", "4.22.0", Edk2;
    rfc_on_4_22_0_uboot: "rfc", "4.22.0", UBoot;
    sections_on_4_16_7_edk2: "sections", "4.16.7", Edk2;
    sections_on_4_16_7_uboot: "sections", "4.16.7", UBoot;
    sections_on_4_17_7_edk2: "sections", "4.17.7", Edk2;
    sections_on_4_17_7_uboot: "sections", "4.17.7", UBoot;
    sections_on_4_18_6_edk2: "sections", "4.18.6", Edk2;
    sections_on_4_18_6_uboot: "sections", "4.18.6", UBoot;
    sections_on_4_19_6_edk2: "sections", "4.19.6", Edk2;
    sections_on_4_19_6_uboot: "sections", "4.19.6", UBoot;
    sections_on_4_20_4_edk2: "sections", "4.20.4", Edk2;
    sections_on_4_20_4_uboot: "sections", "4.20.4", UBoot;
    sections_on_4_21_2_edk2: "sections", "4.21.2", Edk2;
    sections_on_4_21_2_uboot: "sections", "4.21.2", UBoot;
    sections_on_4_22_0_edk2: "sections", "4.22.0", Edk2;
    sections_on_4_22_0_uboot: "sections", "4.22.0", UBoot;
}

scenario_cells! {
    subdir_on_4_16_7_edk2: Subdir, "4.16.7", Edk2;
    subdir_on_4_16_7_uboot: Subdir, "4.16.7", UBoot;
    subdir_on_4_17_7_edk2: Subdir, "4.17.7", Edk2;
    subdir_on_4_17_7_uboot: Subdir, "4.17.7", UBoot;
    subdir_on_4_18_6_edk2: Subdir, "4.18.6", Edk2;
    subdir_on_4_18_6_uboot: Subdir, "4.18.6", UBoot;
    subdir_on_4_19_6_edk2: Subdir, "4.19.6", Edk2;
    subdir_on_4_19_6_uboot: Subdir, "4.19.6", UBoot;
    subdir_on_4_20_4_edk2: Subdir, "4.20.4", Edk2;
    subdir_on_4_20_4_uboot: Subdir, "4.20.4", UBoot;
    subdir_on_4_21_2_edk2: Subdir, "4.21.2", Edk2;
    subdir_on_4_21_2_uboot: Subdir, "4.21.2", UBoot;
    subdir_on_4_22_0_edk2: Subdir, "4.22.0", Edk2;
    subdir_on_4_22_0_uboot: Subdir, "4.22.0", UBoot;
    dom0_on_4_16_7_edk2: Dom0, "4.16.7", Edk2;
    dom0_on_4_16_7_uboot: Dom0, "4.16.7", UBoot;
    dom0_on_4_17_7_edk2: Dom0, "4.17.7", Edk2;
    dom0_on_4_17_7_uboot: Dom0, "4.17.7", UBoot;
    dom0_on_4_18_6_edk2: Dom0, "4.18.6", Edk2;
    dom0_on_4_18_6_uboot: Dom0, "4.18.6", UBoot;
    dom0_on_4_19_6_edk2: Dom0, "4.19.6", Edk2;
    dom0_on_4_19_6_uboot: Dom0, "4.19.6", UBoot;
    dom0_on_4_20_4_edk2: Dom0, "4.20.4", Edk2;
    dom0_on_4_20_4_uboot: Dom0, "4.20.4", UBoot;
    dom0_on_4_21_2_edk2: Dom0, "4.21.2", Edk2;
    dom0_on_4_21_2_uboot: Dom0, "4.21.2", UBoot;
    dom0_on_4_22_0_edk2: Dom0, "4.22.0", Edk2;
    dom0_on_4_22_0_uboot: Dom0, "4.22.0", UBoot;
    passthrough_on_4_17_7_edk2: Passthrough, "4.17.7", Edk2;
    passthrough_on_4_17_7_uboot: Passthrough, "4.17.7", UBoot;
    passthrough_on_4_18_6_edk2: Passthrough, "4.18.6", Edk2;
    passthrough_on_4_18_6_uboot: Passthrough, "4.18.6", UBoot;
    passthrough_on_4_19_6_edk2: Passthrough, "4.19.6", Edk2;
    passthrough_on_4_19_6_uboot: Passthrough, "4.19.6", UBoot;
    passthrough_on_4_20_4_edk2: Passthrough, "4.20.4", Edk2;
    passthrough_on_4_20_4_uboot: Passthrough, "4.20.4", UBoot;
    passthrough_on_4_21_2_edk2: Passthrough, "4.21.2", Edk2;
    passthrough_on_4_21_2_uboot: Passthrough, "4.21.2", UBoot;
    passthrough_on_4_22_0_edk2: Passthrough, "4.22.0", Edk2;
    passthrough_on_4_22_0_uboot: Passthrough, "4.22.0", UBoot;
    evtchn_on_4_17_7_edk2: Evtchn, "4.17.7", Edk2;
    evtchn_on_4_17_7_uboot: Evtchn, "4.17.7", UBoot;
    evtchn_on_4_18_6_edk2: Evtchn, "4.18.6", Edk2;
    evtchn_on_4_18_6_uboot: Evtchn, "4.18.6", UBoot;
    evtchn_on_4_19_6_edk2: Evtchn, "4.19.6", Edk2;
    evtchn_on_4_19_6_uboot: Evtchn, "4.19.6", UBoot;
    evtchn_on_4_20_4_edk2: Evtchn, "4.20.4", Edk2;
    evtchn_on_4_20_4_uboot: Evtchn, "4.20.4", UBoot;
    evtchn_on_4_21_2_edk2: Evtchn, "4.21.2", Edk2;
    evtchn_on_4_21_2_uboot: Evtchn, "4.21.2", UBoot;
    evtchn_on_4_22_0_edk2: Evtchn, "4.22.0", Edk2;
    evtchn_on_4_22_0_uboot: Evtchn, "4.22.0", UBoot;
}

/// The matrix names every release and both firmwares, for both examples
/// and for each scenario where it runs.
#[test]
fn the_matrix_covers_every_release_and_firmware() {
    let source = include_str!("boot_matrix.rs");
    for (example, _) in EXAMPLES {
        for release in harness::RELEASES {
            for firmware in Firmware::ALL {
                let variant = format!("{firmware:?}");
                let line = format!("\"{example}\", \"{release}\", {variant};");
                assert!(source.contains(&line), "no cell for {line}");
            }
        }
    }
    for scenario in Scenario::ALL {
        for release in harness::RELEASES {
            for firmware in Firmware::ALL {
                let line = format!("{scenario:?}, \"{release}\", {firmware:?};");
                assert_eq!(
                    source.contains(&line),
                    scenario.runs_on(release),
                    "cell {line}"
                );
            }
        }
    }
}

#[test]
fn marker_names_go_on_guest_kernel_lines_only() {
    let cfg = "[xen]\nkernel=dom0 x\ndomu1_kernel=Image a\ndomu12_kernel=I\n\
               domu1_ramdisk=r\n[guest2]\nkernel=Image b\n";
    assert_eq!(
        with_marker_names(cfg),
        "[xen]\nkernel=dom0 x\ndomu1_kernel=Image a xencfg.name=domU1\n\
         domu12_kernel=I xencfg.name=domU12\ndomu1_ramdisk=r\n[guest2]\n\
         kernel=Image b xencfg.name=guest2\n"
    );
}

// ---------------------------------------------------------------------------
// Version gates: where xencfg says a release behaves differently, a boot on
// the last release before the change shows it.

/// XC0809: Xen 4.16 asks for an IOMMU context for every guest with a
/// passthrough DTB, even with `xen,force-assign-without-iommu`; QEMU's
/// virt machine has no IOMMU. Demoted, 4.16.7 panics creating the guest;
/// from 4.17 on the same cfg boots (the `passthrough_on_*` cells).
#[test]
fn passthrough_without_iommu_fails_on_4_16_as_xc0809_predicts() {
    let Some(assets) = Assets::get() else { return };
    let xen = assets.xen("4.16.7");
    let project = Project::new(assets, scenarios::PASSTHROUGH_CFG);
    let refused = project.check_on(xen, &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC0809]"));
    let built = project.build_on(xen, &["-W", "XC0809"]);
    assert!(built.diagnostics.contains("warning[XC0809]"));
    let log = built.esp.boot_expect_failure(
        &["Error creating domain rtc", "Panic on CPU"],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());
}
