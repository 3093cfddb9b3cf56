//! End-to-end: boot ESPs on real Xen 4.17 arm64 under QEMU + EDK2 and see
//! every guest come up. Needs `scripts/fetch-boot-assets` (see
//! `tests/boot/README.md`); `XENCFG_SKIP_BOOT=1` skips.

#[path = "boot/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::{Assets, BOOT_TIMEOUT, Esp, XEN_FAILURES, dtb_with_dts};

/// The cfg Xen reads from the removable-media path: `BOOTAA64.EFI` reads
/// `BOOTAA64.cfg` beside it.
const CFG_DOM0LESS: &str = "[global]\n\
                            default=xen\n\
                            \n\
                            [xen]\n\
                            options=console=dtuart bootscrub=0\n\
                            dtb=virt.dtb\n";

/// The same with a dom0: the cloud kernel on Xen's console (`hvc0`).
const CFG_DOM0: &str = "[global]\n\
                        default=xen\n\
                        \n\
                        [xen]\n\
                        options=console=dtuart bootscrub=0 dom0_mem=512M\n\
                        kernel=Image console=hvc0 xencfg.name=dom0 xencfg.role=dom0\n\
                        ramdisk=initrd.gz\n\
                        dtb=virt.dtb\n";
const DOM0_MEM_KIB: u64 = 512 * 1024;

/// Reference finding 11: dom0 crashes on QEMU's GPIO controller unless it
/// is disabled in the host DTB.
const DISABLE_PL061: &str = "/ { pl061@9030000 { status = \"disabled\"; }; };\n";

/// A dom0less guest as written by hand in `/chosen`.
struct Guest<'a> {
    name: &'a str,
    cpus: u32,
    memory_kib: u64,
    /// `xen,uefi-binary` of the kernel and of the ramdisk.
    kernel: &'a str,
    ramdisk: &'a str,
}

impl<'a> Guest<'a> {
    /// A guest booting the cloud kernel and the test initramfs.
    fn new(name: &'a str, cpus: u32, memory_kib: u64) -> Self {
        Guest {
            name,
            cpus,
            memory_kib,
            kernel: "Image",
            ramdisk: "initrd.gz",
        }
    }

    fn dts(&self) -> String {
        let Guest {
            name,
            cpus,
            memory_kib,
            kernel,
            ramdisk,
        } = self;
        format!(
            "\t\t{name} {{\n\
             \t\t\tcompatible = \"xen,domain\";\n\
             \t\t\t#address-cells = <2>;\n\
             \t\t\t#size-cells = <2>;\n\
             \t\t\tmemory = <0x0 {memory_kib:#x}>;\n\
             \t\t\tcpus = <{cpus}>;\n\
             \t\t\tvpl011;\n\
             \t\t\tkernel {{\n\
             \t\t\t\tcompatible = \"multiboot,kernel\", \"multiboot,module\";\n\
             \t\t\t\txen,uefi-binary = \"{kernel}\";\n\
             \t\t\t\tbootargs = \"console=ttyAMA0 xencfg.name={name}\";\n\
             \t\t\t}};\n\
             \t\t\tramdisk {{\n\
             \t\t\t\tcompatible = \"multiboot,ramdisk\", \"multiboot,module\";\n\
             \t\t\t\txen,uefi-binary = \"{ramdisk}\";\n\
             \t\t\t}};\n\
             \t\t}};\n"
        )
    }
}

/// An ESP laid out exactly as `xencfg build --stage --efi-name BOOTAA64`
/// will lay it out, with the merged DTB written by hand: QEMU virt's DTB,
/// `host_dts` merged in, and the guests in `/chosen`. Module files go at
/// the guests' ESP paths (`\` or `/` separated) under `EFI/BOOT`; dom0's
/// are `Image` and `initrd.gz`.
fn handmade_esp(assets: &Assets, cfg: &str, host_dts: &str, guests: &[Guest]) -> Esp {
    let esp = Esp::new();
    esp.copy("BOOTAA64.EFI", &assets.xen_efi);
    esp.write("BOOTAA64.cfg", cfg);
    let nodes: String = guests.iter().map(Guest::dts).collect();
    let chosen = format!(
        "{host_dts}/ {{\n\tchosen {{\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n{nodes}\t}};\n}};\n"
    );
    esp.write("virt.dtb", dtb_with_dts(assets.host_dtb(), &chosen));
    let image = assets.image.as_path();
    let modules = [("Image", image), ("initrd.gz", assets.initrd())]
        .into_iter()
        .chain(
            guests
                .iter()
                .flat_map(|g| [(g.kernel, image), (g.ramdisk, assets.initrd())]),
        );
    let mut copied = BTreeSet::new();
    for (name, src) in modules {
        if copied.insert(name) {
            esp.copy(&name.replace('\\', "/"), src);
        }
    }
    esp
}

/// The guest's `MemTotal` fits in the memory its node gives it, less what
/// the kernel keeps for itself (its 27 MB image, page tables, `struct page`s).
fn assert_memory(marker: &harness::Marker, memory_kib: u64) {
    let overhead_kib = 64 * 1024;
    assert!(
        (memory_kib - overhead_kib..=memory_kib).contains(&marker.memtotal_kb),
        "{} has MemTotal {} KiB for memory = {memory_kib} KiB",
        marker.name,
        marker.memtotal_kb
    );
}

#[test]
fn handmade_dom0less_boots() {
    let Some(assets) = Assets::get() else { return };
    let guests = [
        Guest::new("domU1", 1, 0x30000),
        Guest::new("domU2", 2, 256 * 1024),
    ];
    let esp = handmade_esp(assets, CFG_DOM0LESS, "", &guests);

    let log = esp.boot(
        &[
            "(XEN) DOM1: ...XENCFG-BOOT name=domU1 nproc=1 ",
            "(XEN) DOM2: ...XENCFG-BOOT name=domU2 nproc=2 ",
        ],
        XEN_FAILURES,
        BOOT_TIMEOUT,
    );

    for (domid, guest) in (1..).zip(&guests) {
        let marker = log.marker(guest.name);
        assert_eq!(marker.domid, Some(domid), "{marker:?}");
        assert_eq!(marker.nproc, guest.cpus, "{marker:?}");
        assert_memory(&marker, guest.memory_kib);
    }
    let at = |pattern| log.first_at(pattern).unwrap_or_default();
    eprintln!(
        "two dom0less guests booted in {:.1?}: Xen EFI loader at {:.1?}, \
         first domU built at {:.1?}",
        log.elapsed,
        at("EFI loader"),
        at("LOADING DOMU"),
    );
}

#[test]
fn handmade_dom0_and_dom0less_boot() {
    let Some(assets) = Assets::get() else { return };
    let guest = Guest::new("domU1", 1, 0x30000);
    let esp = handmade_esp(
        assets,
        CFG_DOM0,
        DISABLE_PL061,
        std::slice::from_ref(&guest),
    );

    let log = esp.boot(
        &[
            "XENCFG-BOOT name=dom0 ",
            "(XEN) DOM1: ...XENCFG-BOOT name=domU1 nproc=1 ",
        ],
        XEN_FAILURES,
        BOOT_TIMEOUT,
    );

    // dom0's console lines carry no prefix; it gets every CPU by default.
    let dom0 = log.marker("dom0");
    assert_eq!((dom0.domid, dom0.nproc), (None, 2), "{dom0:?}");
    assert_memory(&dom0, DOM0_MEM_KIB);
    let domu = log.marker("domU1");
    assert_eq!((domu.domid, domu.nproc), (Some(1), 1), "{domu:?}");
    assert_memory(&domu, guest.memory_kib);
    eprintln!("dom0 and a dom0less guest booted in {:.1?}", log.elapsed);
}

/// Reference finding 1: EDK2's FAT driver rejects `/` in a file name, so
/// Xen stops before any guest starts. xencfg emits `\` for this reason.
#[test]
fn handmade_forward_slash_module_path_fails_on_xen() {
    let Some(assets) = Assets::get() else { return };
    let esp = handmade_esp(
        assets,
        CFG_DOM0LESS,
        "",
        &[Guest {
            kernel: "domu/Image",
            ..Guest::new("domU1", 1, 0x30000)
        }],
    );
    let log = esp.boot_expect_failure("Open failed for domu/Image", Duration::from_secs(60));
    assert!(log.markers().is_empty(), "{}", log.report());
    eprintln!("Xen refused the ESP in {:.1?}", log.elapsed);
}

/// `fdtget [OPTIONS] DTB NODE [PROPERTY]`, trimmed; panics when it fails.
fn fdtget(dtb: &Path, options: &[&str], node: &str, property: Option<&str>) -> String {
    let mut cmd = Command::new("fdtget");
    cmd.args(options).arg(dtb).arg(node).args(property);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The host DTB is QEMU's for the booted machine (a GIC version that
/// differs makes Xen panic), with `/chosen/stdout-path` for
/// `console=dtuart`, and without the per-run random seeds.
#[test]
fn host_dtb_is_the_booted_machine_without_seeds() {
    let Some(assets) = Assets::get() else { return };
    let dtb = assets.host_dtb();
    assert_eq!(
        fdtget(dtb, &[], "/chosen", Some("stdout-path")),
        "/pl011@9000000"
    );
    let chosen: Vec<String> = fdtget(dtb, &["-p"], "/chosen", None)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(chosen, ["stdout-path"]);
    assert_eq!(
        fdtget(dtb, &[], "/intc@8000000", Some("compatible")),
        "arm,gic-v3"
    );
    let cpus = fdtget(dtb, &["-l"], "/cpus", None);
    assert_eq!(
        cpus.lines().filter(|n| n.starts_with("cpu@")).count(),
        2,
        "{cpus}"
    );
    // 2048 MiB at 1 GiB: `-m 2048`.
    assert_eq!(
        fdtget(dtb, &["-tx"], "/memory@40000000", Some("reg")),
        "0 40000000 0 80000000"
    );
}
