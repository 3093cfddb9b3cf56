//! End-to-end: compile cfgs with `xencfg build --stage`, boot the output on
//! real Xen 4.17 arm64 under QEMU + EDK2 and see every guest come up, and
//! see Xen fail the way each boot-failure check predicts. Needs
//! `scripts/fetch-boot-assets` (see `tests/boot/README.md`);
//! `XENCFG_SKIP_BOOT=1` skips.
//!
//! Every scenario builds the ESP as a user would:
//! `xencfg build xen.cfg --stage --efi-name BOOTAA64 --xen xen.efi -o ESP/EFI/BOOT`.
//! The host DTB is QEMU virt's own (`virt.dtb`), the guests boot the cloud
//! kernel (`Image`) with the test initramfs (`initrd.gz`), which prints
//! `XENCFG-BOOT name=… nproc=… memtotal_kb=…` from the name given in
//! `xencfg.name=` on its command line.

#[path = "boot/harness.rs"]
#[allow(dead_code)] // shared with tests/boot_matrix.rs
mod harness;
#[path = "boot/scenarios.rs"]
mod scenarios;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::{Assets, BOOT_TIMEOUT, BootLog, Esp, Outcome, Project, XEN_FAILURES, dtb_with_dts};
use scenarios::{DOM0_CFG, EVTCHN_CFG, NO_GPIO_DTS, PASSTHROUGH_CFG, SUBDIR_CFG};

/// How long a boot that Xen must refuse may take (a refusal takes 1–3 s,
/// a gzip kernel adds ~4 s of decompression).
const FAILURE_TIMEOUT: Duration = Duration::from_secs(60);

/// A guest the scenario expects to come up.
struct Expect<'a> {
    name: &'a str,
    /// `None` for dom0, whose console lines carry no `(XEN) DOM<id>:` prefix.
    domid: Option<u32>,
    cpus: u32,
    memory_kib: u64,
}

const fn domu(name: &str, domid: u32, cpus: u32, memory_kib: u64) -> Expect<'_> {
    Expect {
        name,
        domid: Some(domid),
        cpus,
        memory_kib,
    }
}

const MIB: u64 = 1024;

impl Expect<'_> {
    /// The serial line that says this guest is up.
    fn pattern(&self) -> String {
        match self.domid {
            Some(id) => format!("(XEN) DOM{id}: ...XENCFG-BOOT name={} ", self.name),
            None => format!("XENCFG-BOOT name={} ", self.name),
        }
    }
}

/// The `MemTotal` a guest given `memory_kib` may report. Linux keeps its
/// own image (the 27 MB cloud kernel) and boot-time reservations (page
/// tables, `struct page` arrays) out of it. Measured on Xen 4.17 with this
/// kernel: 128 MiB → 105,688 KiB (−19.4%; 105,568 with 2 vCPUs), 192 MiB →
/// 168,856 KiB (−14.1%), 256 MiB → 234,144 KiB (−10.7%), dom0's 512 MiB →
/// 491,260 KiB (−6.3%): about 23 MiB plus 2%. Allowing 32 MiB plus 4% keeps
/// room for kernel updates, still tells apart sizes 64 MiB apart (up to
/// 768 MiB), and never allows more than was asked for.
fn memtotal_range(memory_kib: u64) -> std::ops::RangeInclusive<u64> {
    let shortfall = 32 * MIB + memory_kib / 25;
    memory_kib.saturating_sub(shortfall)..=memory_kib
}

/// Boots `esp` until every guest of `guests` has printed its marker, and
/// checks each one's domid, vCPU count and memory.
fn boot_and_check(esp: &Esp, guests: &[Expect]) -> BootLog {
    let patterns: Vec<String> = guests.iter().map(Expect::pattern).collect();
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let log = esp.boot(&patterns, XEN_FAILURES, BOOT_TIMEOUT);
    for guest in guests {
        let marker = log.marker(guest.name);
        assert_eq!(marker.domid, guest.domid, "{marker:?}");
        assert_eq!(marker.nproc, guest.cpus, "{marker:?}");
        let range = memtotal_range(guest.memory_kib);
        assert!(
            range.contains(&marker.memtotal_kb),
            "{} has MemTotal {} KiB for memory = {} KiB (expected {range:?})",
            guest.name,
            marker.memtotal_kb,
            guest.memory_kib
        );
    }
    let seen: Vec<String> = guests
        .iter()
        .map(|g| {
            let m = log.marker(g.name);
            format!("{} ({} KiB of {} KiB)", g.name, m.memtotal_kb, g.memory_kib)
        })
        .collect();
    eprintln!(
        "booted {} in {:.1?} (Xen's EFI loader at {:.1?})",
        seen.join(", "),
        log.elapsed,
        log.first_at("EFI loader").unwrap_or_default()
    );
    log
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

/// The `xen,domain` nodes of `/chosen` in `dtb`, in order (= domid order).
fn domains(dtb: &Path) -> Vec<String> {
    fdtget(dtb, &["-l"], "/chosen", None)
        .lines()
        .filter(|node| {
            fdtget(dtb, &[], &format!("/chosen/{node}"), Some("compatible")) == "xen,domain"
        })
        .map(str::to_string)
        .collect()
}

/// The files of a directory tree, `/`-separated and sorted.
fn tree(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------
// Configurations that must boot.

/// The seed's RFC form: flat `domu#_` keys, including the RFC's
/// `address-cells=2`; sizes as a bare KiB number and with a unit.
const RFC_CFG: &str = "\
# The RFC form: dom0less guests as flat domu#_ keys in the boot section.
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domu1_kernel=Image console=ttyAMA0 xencfg.name=domU1
domu1_ramdisk=initrd.gz
domu1_property=cpus=1
domu1_property=memory=0x30000
domu1_property=vpl011
domu1_property=address-cells=2
domu2_kernel=Image console=ttyAMA0 xencfg.name=domU2
domu2_ramdisk=initrd.gz
domu2_property=cpus=2
domu2_property=memory=256M
domu2_property=vpl011
";

#[test]
fn rfc_form_true_dom0less_boots() {
    let Some(assets) = Assets::get() else { return };
    let built = Project::new(assets, RFC_CFG).build(assets, &[]);
    assert_eq!(
        tree(&built.esp.boot_dir()),
        set(&[
            "BOOTAA64.cfg",
            "BOOTAA64.efi",
            "Image",
            "initrd.gz",
            "manifest.json",
            "xen.dtb"
        ])
    );
    boot_and_check(
        &built.esp,
        &[domu("domU1", 1, 1, 0x30000), domu("domU2", 2, 2, 256 * MIB)],
    );
}

/// The section form, three guests, the three ways of writing properties
/// (plain keys, `property=`, `properties=`) and of writing sizes (`256M`,
/// bare KiB `0x30000`, `128M`).
const SECTIONS_CFG: &str = "\
# The section form: one section per guest, named by domains=.
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=guest1,guest2,guest3

[guest1]
kernel=Image console=ttyAMA0 xencfg.name=guest1
ramdisk=initrd.gz
cpus=2
memory=256M
vpl011

[guest2]
kernel=Image console=ttyAMA0 xencfg.name=guest2
ramdisk=initrd.gz
cpus=1
memory=0x30000
vpl011

[guest3]
kernel=Image console=ttyAMA0 xencfg.name=guest3
ramdisk=initrd.gz
property=cpus=1
properties=memory=128M vpl011
";

#[test]
fn section_form_three_guests_with_size_units_boot() {
    let Some(assets) = Assets::get() else { return };
    let built = Project::new(assets, SECTIONS_CFG).build(assets, &[]);
    boot_and_check(
        &built.esp,
        &[
            domu("guest1", 1, 2, 256 * MIB),
            domu("guest2", 2, 1, 0x30000),
            domu("guest3", 3, 1, 128 * MIB),
        ],
    );
}

#[test]
fn subdirectory_paths_are_emitted_with_backslashes_and_boot() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, SUBDIR_CFG);
    project.link("dt/virt.dtb", assets.host_dtb());
    project.link("domu/Image", &assets.image);
    project.link("initrd/guest.cpio.gz", assets.initrd());
    let built = project.build(assets, &[]);
    let boot_dir = built.esp.boot_dir();
    let dtb = boot_dir.join("xen.dtb");
    for guest in ["domU1", "domU2"] {
        let node = format!("/chosen/{guest}");
        assert_eq!(
            fdtget(
                &dtb,
                &[],
                &format!("{node}/kernel"),
                Some("xen,uefi-binary")
            ),
            "domu\\Image"
        );
        assert_eq!(
            fdtget(
                &dtb,
                &[],
                &format!("{node}/ramdisk"),
                Some("xen,uefi-binary")
            ),
            "initrd\\guest.cpio.gz"
        );
    }
    assert!(boot_dir.join("domu/Image").is_file());
    assert!(boot_dir.join("initrd/guest.cpio.gz").is_file());
    boot_and_check(
        &built.esp,
        &[
            domu("domU1", 1, 1, 192 * MIB),
            domu("domU2", 2, 1, 128 * MIB),
        ],
    );
}

/// Two boot sections, each with its own guests, sharing `alpha`: `guests=`
/// in one, `domains=` in the other. `build` compiles both.
const TWO_SECTIONS_CFG: &str = "\
[global]
default=pair

[pair]
options=console=dtuart bootscrub=0
dtb=virt.dtb
guests=alpha,beta

[solo]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=gamma,alpha

[alpha]
kernel=Image console=ttyAMA0 xencfg.name=alpha
ramdisk=initrd.gz
cpus=1
memory=192M
vpl011

[beta]
kernel=Image console=ttyAMA0 xencfg.name=beta
ramdisk=initrd.gz
cpus=2
memory=128M
vpl011

[gamma]
kernel=Image console=ttyAMA0 xencfg.name=gamma
ramdisk=initrd.gz
cpus=2
memory=256M
vpl011
";

#[test]
fn two_boot_sections_boot_their_own_guests() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, TWO_SECTIONS_CFG);

    // `default=pair`: both DTBs are built; Xen boots pair's guests only.
    let built = project.build(assets, &[]);
    let boot_dir = built.esp.boot_dir();
    assert_eq!(domains(&boot_dir.join("pair.dtb")), ["alpha", "beta"]);
    assert_eq!(domains(&boot_dir.join("solo.dtb")), ["gamma", "alpha"]);
    let cfg = fs::read_to_string(boot_dir.join("BOOTAA64.cfg")).unwrap();
    assert!(cfg.contains("default=pair\n"), "{cfg}");
    let log = boot_and_check(
        &built.esp,
        &[
            domu("alpha", 1, 1, 192 * MIB),
            domu("beta", 2, 2, 128 * MIB),
        ],
    );
    // Xen builds every domain before any runs: two, not gamma.
    assert_eq!(log.count("LOADING DOMU"), 2, "{}", log.report());
    assert!(
        log.markers().iter().all(|m| m.name != "gamma"),
        "{}",
        log.report()
    );

    // `--section solo` makes it the default: gamma, then alpha.
    let built = project.build(assets, &["--section", "solo"]);
    let cfg = fs::read_to_string(built.esp.boot_dir().join("BOOTAA64.cfg")).unwrap();
    assert!(cfg.contains("default=solo\n"), "{cfg}");
    let log = boot_and_check(
        &built.esp,
        &[
            domu("gamma", 1, 2, 256 * MIB),
            domu("alpha", 2, 1, 192 * MIB),
        ],
    );
    assert_eq!(log.count("LOADING DOMU"), 2, "{}", log.report());
    assert!(
        log.markers().iter().all(|m| m.name != "beta"),
        "{}",
        log.report()
    );
}

#[test]
fn dom0_with_overlay_and_two_dom0less_guests_boot() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, DOM0_CFG);
    project.link("dom0/Image", &assets.image);
    project.link("dom0/initrd.gz", assets.initrd());
    project.dtc("no-gpio.dtbo", NO_GPIO_DTS);
    let built = project.build(assets, &[]);
    let boot_dir = built.esp.boot_dir();
    let cfg = fs::read_to_string(boot_dir.join("BOOTAA64.cfg")).unwrap();
    assert!(
        cfg.contains("\nkernel=dom0\\Image console=hvc0 xencfg.name=dom0 xencfg.role=dom0\n")
            && cfg.contains("\nramdisk=dom0\\initrd.gz\n"),
        "{cfg}"
    );
    let dtb = boot_dir.join("xen.dtb");
    assert_eq!(
        fdtget(&dtb, &[], "/pl061@9030000", Some("status")),
        "disabled"
    );
    assert_eq!(domains(&dtb), ["helper", "domU1"]);
    // dom0 gets every CPU by default.
    boot_and_check(
        &built.esp,
        &[
            Expect {
                name: "dom0",
                domid: None,
                cpus: 2,
                memory_kib: 512 * MIB,
            },
            domu("helper", 1, 1, 192 * MIB),
            domu("domU1", 2, 1, 128 * MIB),
        ],
    );
}

// ---------------------------------------------------------------------------
// Predicted failures are real: each check that predicts a boot failure,
// downgraded so that xencfg builds anyway, and Xen failing that way.

/// XC0405 shared-compressed-kernel: Xen loads a file once per distinct
/// `xen,uefi-binary` and decompressing a gzip kernel replaces that module,
/// so the second guest has no kernel.
const SHARED_GZIP_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domu1_kernel=Image.gz console=ttyAMA0 xencfg.name=domU1
domu1_ramdisk=initrd.gz
domu1_property=cpus=1
domu1_property=memory=128M
domu1_property=vpl011
domu2_kernel=Image.gz console=ttyAMA0 xencfg.name=domU2
domu2_ramdisk=initrd.gz
domu2_property=cpus=1
domu2_property=memory=128M
domu2_property=vpl011
";

#[test]
fn shared_gzip_kernel_fails_on_xen_as_xc0405_predicts() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, SHARED_GZIP_CFG);
    project.link("Image.gz", assets.image_gz());
    let refused = project.check(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC0405]"));

    let built = project.build(assets, &["-W", "XC0405"]);
    assert!(built.diagnostics.contains("warning[XC0405]"));
    let log = built.esp.boot_expect_failure(
        &[
            "Missing kernel boot module?",
            "Panic on CPU",
            "Could not set up domain domU2",
        ],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());
    eprintln!("Xen panicked as XC0405 predicts in {:.1?}", log.elapsed);
}

/// More guest memory than the machine has (QEMU has 2 GiB): XC1025
/// memory-exceeds-host predicts Xen's allocation panic.
const TOO_MUCH_MEMORY_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=big

[big]
kernel=Image console=ttyAMA0 xencfg.name=big
ramdisk=initrd.gz
cpus=1
memory=4G
vpl011
";

#[test]
fn memory_beyond_the_machine_fails_on_xen_as_xc1025_predicts() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, TOO_MUCH_MEMORY_CFG);
    let refused = project.check(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC1025]"));

    let built = project.build(assets, &["-W", "memory-exceeds-host"]);
    assert!(built.diagnostics.contains("warning[XC1025]"));
    let log = built.esp.boot_expect_failure(
        &["Failed to allocate requested domain memory", "Panic on CPU"],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());
    eprintln!(
        "Xen panicked on 4 GiB of guest memory in {:.1?}, as XC1025 predicts",
        log.elapsed
    );
}

/// XC0302 bad-memory: `memory` not a multiple of 4 KiB, given as `line`.
fn odd_memory_cfg(line: &str) -> String {
    format!(
        "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=odd

[odd]
kernel=Image console=ttyAMA0 xencfg.name=odd
ramdisk=initrd.gz
cpus=1
{line}
vpl011
"
    )
}

/// How long the odd-memory boot is watched. A good boot shows its marker
/// after 5–25 s. Watched by hand for 300 s, Xen 4.17 printed nothing after
/// "Loading ramdisk from boot module" (no panic either).
const STALL_TIMEOUT: Duration = Duration::from_secs(40);
/// The silence that counts as a stall: Xen prints several lines a second
/// while it builds and starts a domain.
const STALL_SILENCE: Duration = Duration::from_secs(20);

#[test]
fn memory_not_multiple_of_4k_stalls_xen_as_xc0302_predicts() {
    let Some(assets) = Assets::get() else { return };
    // The typed key is refused…
    let typed = Project::new(assets, &odd_memory_cfg("memory=0x30001"));
    let refused = typed.check(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC0302]"));

    // …a raw DT value passes with only the raw-property warning.
    let raw = Project::new(assets, &odd_memory_cfg("property=memory=<0x0 0x30001>"));
    let built = raw.build(assets, &[]);
    assert!(
        built.diagnostics.contains("warning[XC0205]"),
        "{}",
        built.diagnostics
    );
    let marker = domu("odd", 1, 1, 0x30001).pattern();
    let log = built.esp.watch(&[&marker], XEN_FAILURES, STALL_TIMEOUT);
    assert!(
        matches!(log.outcome, Outcome::TimedOut { .. }),
        "expected Xen to stall\n{}",
        log.report()
    );
    // Xen printed nothing after it started loading the guest's ramdisk.
    let last = log.lines.last().expect("an empty serial log");
    assert!(
        last.text.contains("Loading ramdisk from boot module")
            && log.elapsed - last.at >= STALL_SILENCE,
        "expected Xen to stall after loading the ramdisk\n{}",
        log.report()
    );
    eprintln!(
        "Xen stalled on memory = 0x30001 KiB: silent for {:.1?} after {last}",
        log.elapsed - last.at
    );
}

// ---------------------------------------------------------------------------
// Hand-made ESPs: what xencfg never emits, proven to fail on Xen.

/// The cfg of the hand-made ESPs.
const HANDMADE_CFG: &str = "[global]\n\
                            default=xen\n\
                            \n\
                            [xen]\n\
                            options=console=dtuart bootscrub=0\n\
                            dtb=virt.dtb\n";

/// An ESP laid out as `xencfg build --stage --efi-name BOOTAA64` lays it
/// out, with `/chosen/domU1` written by hand: `kernel` is its
/// `xen,uefi-binary` (`/`-separated on purpose, or not), `cells` whether
/// the node has `#address-cells`/`#size-cells`.
fn handmade_esp(assets: &Assets, kernel: &str, cells: bool) -> Esp {
    let esp = Esp::new();
    esp.copy("BOOTAA64.EFI", &assets.xen_efi);
    esp.write("BOOTAA64.cfg", HANDMADE_CFG);
    let cells = if cells {
        "\t\t\t#address-cells = <2>;\n\t\t\t#size-cells = <2>;\n"
    } else {
        ""
    };
    let chosen = format!(
        "/ {{\n\tchosen {{\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\
         \t\tdomU1 {{\n\
         \t\t\tcompatible = \"xen,domain\";\n\
         {cells}\
         \t\t\tmemory = <0x0 0x30000>;\n\
         \t\t\tcpus = <1>;\n\
         \t\t\tvpl011;\n\
         \t\t\tkernel {{\n\
         \t\t\t\tcompatible = \"multiboot,kernel\", \"multiboot,module\";\n\
         \t\t\t\txen,uefi-binary = \"{kernel}\";\n\
         \t\t\t\tbootargs = \"console=ttyAMA0 xencfg.name=domU1\";\n\
         \t\t\t}};\n\
         \t\t\tramdisk {{\n\
         \t\t\t\tcompatible = \"multiboot,ramdisk\", \"multiboot,module\";\n\
         \t\t\t\txen,uefi-binary = \"initrd.gz\";\n\
         \t\t\t}};\n\
         \t\t}};\n\t}};\n}};\n"
    );
    esp.write("virt.dtb", dtb_with_dts(assets.host_dtb(), &chosen));
    esp.copy(&kernel.replace('\\', "/"), &assets.image);
    esp.copy("initrd.gz", assets.initrd());
    esp
}

/// Reference finding 1: EDK2's FAT driver rejects `/` in a file name, so
/// Xen stops before any guest starts. xencfg always emits `\`
/// (`subdirectory_paths_are_emitted_with_backslashes_and_boot`).
#[test]
fn handmade_forward_slash_module_path_fails_on_xen() {
    let Some(assets) = Assets::get() else { return };
    let esp = handmade_esp(assets, "domu/Image", true);
    let log = esp.boot_expect_failure(&["Open failed for domu/Image"], FAILURE_TIMEOUT);
    assert!(log.markers().is_empty(), "{}", log.report());
    eprintln!("Xen refused the ESP in {:.1?}", log.elapsed);
}

/// Reference finding 2: a `xen,domain` node without `#address-cells` stops
/// Xen's EFI stub. xencfg always writes both cells properties, so only a
/// hand-made DTB shows it.
#[test]
fn handmade_domain_without_cells_fails_on_xen() {
    let Some(assets) = Assets::get() else { return };
    let esp = handmade_esp(assets, "Image", false);
    let log = esp.boot_expect_failure(
        &["#address-cells not found in domain node"],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());
    eprintln!("Xen refused the ESP in {:.1?}", log.elapsed);
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

#[test]
fn passthrough_of_the_pl031_reaches_the_guest() {
    let Some(assets) = Assets::get() else { return };
    let built = Project::new(assets, PASSTHROUGH_CFG).build(assets, &[]);
    let fragment = built.esp.boot_dir().join("rtc-passthrough.dtb");
    assert!(fragment.is_file(), "the generated fragment is staged");
    assert_eq!(
        fdtget(
            &fragment,
            &[],
            "/passthrough/pl031@9010000",
            Some("xen,path")
        ),
        "/pl031@9010000"
    );
    let log = built.esp.boot(
        &[
            "XENCFG-PASSTHROUGH name=rtc node=pl031@9010000",
            "XENCFG-BOOT name=rtc",
        ],
        XEN_FAILURES,
        BOOT_TIMEOUT,
    );
    assert_eq!(log.marker("rtc").domid, Some(1));
}

/// A hand-written fragment whose `xen,path` names no host node: xencfg
/// reports XC0805, and with the check demoted Xen fails to assign the device
/// as predicted (real 4.17 does not panic: it boots the guest without it).
const BAD_FRAGMENT_DTS: &str = "\
/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	passthrough {
		compatible = \"simple-bus\";
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;
		pl031@9010000 {
			compatible = \"arm,pl031\", \"arm,primecell\";
			reg = <0x0 0x9010000 0x0 0x1000>;
			interrupts = <0 2 4>;
			interrupt-parent = <65000>;
			xen,reg = <0x0 0x9010000 0x0 0x1000 0x0 0x9010000>;
			xen,path = \"/pl031@9c10000\";
			xen,force-assign-without-iommu;
		};
	};
};
";

const BAD_FRAGMENT_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=rtc

[rtc]
kernel=Image console=ttyAMA0 xencfg.name=rtc
ramdisk=initrd.gz
dtb=rtc.dtb
cpus=1
memory=192M
vpl011
";

#[test]
fn fragment_naming_a_missing_host_node_fails_on_xen_as_xc0805_predicts() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, BAD_FRAGMENT_CFG);
    let dtb = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(BAD_FRAGMENT_DTS.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(dtb.status.success());
    project.write("rtc.dtb", dtb.stdout);
    let refused = project.check(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC0805]"));

    let built = project.build(assets, &["-W", "XC0805"]);
    let log = built.esp.boot(
        &[
            "Couldn't find node /pl031@9c10000 in host_dt!",
            "Failed to assign device to d1",
            "XENCFG-BOOT name=rtc",
        ],
        XEN_FAILURES,
        BOOT_TIMEOUT,
    );
    // Xen still copies the fragment's nodes into the guest's device tree,
    // but it assigned nothing: the interrupt is not routed to the guest.
    eprintln!(
        "Xen failed to assign the device after {:.1?}, as XC0805 predicts",
        log.elapsed
    );
}

#[test]
fn static_event_channel_between_two_guests_boots() {
    let Some(assets) = Assets::get() else { return };
    let built = Project::new(assets, EVTCHN_CFG).build(assets, &[]);
    assert!(
        !built.diagnostics.contains("error"),
        "{}",
        built.diagnostics
    );
    let log = boot_and_check(
        &built.esp,
        &[domu("ping", 1, 1, 192 * MIB), domu("pong", 2, 1, 192 * MIB)],
    );
    assert!(log.count("Panic") == 0, "{}", log.report());
}

/// A dom0-only section without `dtb=`: xencfg writes no DTB and no `dtb=`
/// line for it, and warns (XC0215) that the boot now depends on the
/// firmware's device tree.
const FIRMWARE_TREE_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0 dom0_mem=512M
kernel=dom0/Image console=hvc0 xencfg.name=dom0 xencfg.role=dom0
ramdisk=dom0/initrd.gz
";

/// How long Xen gets to print its first console line. It prints it ~1 s
/// after the EFI loader starts; when it has no device tree it never does.
const FIRST_LINE_TIMEOUT: Duration = Duration::from_secs(25);

#[test]
fn section_without_dtb_boots_only_where_the_firmware_has_a_tree_as_xc0215_warns() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, FIRMWARE_TREE_CFG);
    project.link("dom0/Image", &assets.image);
    project.link("dom0/initrd.gz", assets.initrd());
    let built = project.build(assets, &[]);
    assert!(
        built.diagnostics.contains("warning[XC0215]"),
        "{}",
        built.diagnostics
    );
    let boot_dir = built.esp.boot_dir();
    let cfg = fs::read_to_string(boot_dir.join("BOOTAA64.cfg")).unwrap();
    assert!(!cfg.contains("dtb="), "{cfg}");
    assert!(!boot_dir.join("xen.dtb").exists());

    // EDK2 with ACPI tables (QEMU's default) installs no FDT: Xen, built
    // without ACPI, stops after the EFI loader's last line.
    let log = built
        .esp
        .watch(&["(XEN) "], XEN_FAILURES, FIRST_LINE_TIMEOUT);
    assert!(
        matches!(log.outcome, Outcome::TimedOut { .. }),
        "expected Xen to stop silently without a device tree\n{}",
        log.report()
    );
    assert!(
        log.first_at("Using bootargs from Xen configuration file")
            .is_some(),
        "the EFI loader did not get as far as expected\n{}",
        log.report()
    );

    // With ACPI off, EDK2 hands over QEMU's device tree and dom0 boots.
    let esp = built.esp.without_acpi();
    boot_and_check(
        &esp,
        &[Expect {
            name: "dom0",
            domid: None,
            cpus: 2,
            memory_kib: 512 * MIB,
        }],
    );
}
