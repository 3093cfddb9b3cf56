//! One boot per dom0less feature on Xen 4.22.0 (the default target), built
//! with every dom0less option (`../shared/xen/`), under QEMU + EDK2 (and a
//! representative set under U-Boot's UEFI, `…_under_uboot`). Each
//! scenario is compiled by `xencfg build --stage --xen … --xen-config …` and
//! asserts what the guests can show from inside: `nproc` and `MemTotal`
//! (the marker), nodes and properties under `/proc/device-tree`, files
//! under `/proc` (`xencfg.show=`), a value written by one guest into static
//! shared memory and read by the other (`xencfg.shm-write=`/`shm-read=`),
//! a read of an unmapped address (`xencfg.peek=`); see
//! `tests/boot/make-initramfs`. Needs `scripts/fetch-boot-assets` and
//! `../shared/xen/`; `XENCFG_SKIP_BOOT=1` skips.

#[path = "boot/harness.rs"]
#[allow(dead_code)] // shared with tests/boot.rs
mod harness;

use std::time::Duration;

use harness::{
    Assets, BOOT_TIMEOUT, BootLog, Built, Firmware, Machine, Project, XEN_FAILURES, Xen,
};

const MIB: u64 = 1024;
const RELEASE: &str = "4.22.0";

/// How long a boot that Xen must refuse may take.
const FAILURE_TIMEOUT: Duration = Duration::from_secs(60);

fn xen(assets: &Assets) -> &Xen {
    assets.xen(RELEASE)
}

/// The `MemTotal` a guest given `memory_kib` may report (see `tests/boot.rs`).
fn memtotal_range(memory_kib: u64) -> std::ops::RangeInclusive<u64> {
    let shortfall = 32 * MIB + memory_kib / 25;
    memory_kib.saturating_sub(shortfall)..=memory_kib
}

/// Builds `cfg` for 4.22 on `machine`; panics on any error diagnostic.
fn build(assets: &Assets, cfg: &str, machine: Machine) -> Built {
    let project = Project::new_for(assets, cfg, machine);
    let built = project.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("error[") && !built.diagnostics.contains("warning["),
        "{}",
        built.diagnostics
    );
    built
}

/// Boots `built` until every pattern (guest lines, see
/// `harness::guest_lines`) is seen.
fn boot(built: Built, machine: Machine, patterns: &[&str]) -> BootLog {
    boot_with(built, machine, Firmware::Edk2, patterns)
}

/// [`boot`] under `firmware`.
fn boot_with(built: Built, machine: Machine, firmware: Firmware, patterns: &[&str]) -> BootLog {
    let log = built
        .esp
        .with_machine(machine)
        .with_firmware(firmware)
        .boot(patterns, XEN_FAILURES, BOOT_TIMEOUT);
    eprintln!(
        "booted on Xen {RELEASE} under {firmware:?} in {:.1?}",
        log.elapsed
    );
    log
}

/// Asserts the marker of `name`: its vCPUs and its memory.
fn assert_guest(log: &BootLog, name: &str, domid: u32, cpus: u32, memory_kib: u64) {
    let marker = log.marker(name);
    let range = memtotal_range(memory_kib);
    assert!(
        marker.domid == Some(domid) && marker.nproc == cpus && range.contains(&marker.memtotal_kb),
        "{marker:?}: expected domid {domid}, {cpus} vCPUs, MemTotal in {range:?}\n{}",
        log.report()
    );
}

/// A guest section: `name`, its extra command line and its extra keys.
fn guest(name: &str, cmdline: &str, keys: &str) -> String {
    let cmdline = format!("console=ttyAMA0 xencfg.name={name} {cmdline}");
    format!(
        "[{name}]\nkernel=Image {}\nramdisk=initrd.gz\nvpl011\n{keys}\n",
        cmdline.trim_end()
    )
}

/// A true-dom0less cfg booting `guests` (sections made by [`guest`]).
fn cfg(domains: &[&str], sections: &[String]) -> String {
    format!(
        "[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart bootscrub=0\n\
         dtb=virt.dtb\ndomains={}\n\n{}",
        domains.join(","),
        sections.join("\n")
    )
}

// ---------------------------------------------------------------------------

/// `static-mem` with `direct-map`: the guest's RAM is the host range, at
/// the host address (its memory node is `memory@50000000`, where a guest
/// without direct map has `memory@40000000`).
#[test]
fn static_memory_with_direct_map_sits_at_the_host_address() {
    static_memory_with_direct_map_sits_at_the_host_address_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn static_memory_with_direct_map_sits_at_the_host_address_under_uboot() {
    static_memory_with_direct_map_sits_at_the_host_address_on(Firmware::UBoot);
}

fn static_memory_with_direct_map_sits_at_the_host_address_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let cfg = cfg(
        &["direct"],
        &[guest(
            "direct",
            "xencfg.show=/proc/device-tree/memory@50000000 \
             xencfg.show=/proc/device-tree/memory@40000000",
            "cpus=1\nstatic-mem=0x50000000:128M\ndirect-map",
        )],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            "XENCFG-SHOW name=direct path=/proc/device-tree/memory@50000000 value=dir",
            "XENCFG-SHOW name=direct path=/proc/device-tree/memory@40000000 value=missing",
        ],
    );
    assert_guest(&log, "direct", 1, 1, 128 * MIB);
}

/// Static shared memory between two guests: the owner writes a value into
/// the shared page, the borrower reads it back through its own mapping.
/// Xen lists the shared page as guest RAM, and Linux refuses /dev/mem on
/// its RAM: `mem=128M` keeps the kernel to the guest's own 128 MiB.
#[test]
fn static_shared_memory_carries_a_value_between_guests() {
    static_shared_memory_carries_a_value_between_guests_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn static_shared_memory_carries_a_value_between_guests_under_uboot() {
    static_shared_memory_carries_a_value_between_guests_on(Firmware::UBoot);
}

fn static_shared_memory_carries_a_value_between_guests_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let shm = "shared-mem=shm1 host=0x60000000 guest=0x50000000 size=0x1000";
    let cfg = cfg(
        &["owner", "borrower"],
        &[
            guest(
                "owner",
                "mem=128M xencfg.shm-write=0x50000000:0x58454E43 xencfg.role=stay",
                &format!("cpus=1\nmemory=128M\n{shm} role=owner"),
            ),
            guest(
                "borrower",
                "mem=128M xencfg.shm-read=0x50000000:0x58454E43",
                &format!("cpus=1\nmemory=128M\n{shm} role=borrower"),
            ),
        ],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            "XENCFG-SHM name=owner wrote=0x58454E43 ",
            "XENCFG-SHM name=borrower read=0x58454E43 ",
        ],
    );
    assert_guest(&log, "owner", 1, 1, 128 * MIB);
    assert_guest(&log, "borrower", 2, 1, 128 * MIB);
}

/// Static shared memory between dom0 and a guest (the first example of
/// Xen's booting.txt): dom0's side is `shared-mem=` in the boot section,
/// written under `/chosen`. dom0 is mapped 1:1, so it sees the page at
/// the host address, the guest at its own guest address; each finds Xen's
/// `/reserved-memory/xen-shmem@…` node for it, and a value written by dom0
/// is read by the guest through its mapping. Xen lists the page as dom0's
/// RAM too, and Linux refuses `/dev/mem` on its RAM: the page sits above
/// every 512 MiB chunk Xen gives dom0 (0x40000000 under EDK2, 0x80000000
/// under U-Boot, seen in Xen's "BANK[0]" line), so `mem=512M` leaves it out.
#[test]
fn static_shared_memory_between_dom0_and_a_guest() {
    static_shared_memory_between_dom0_and_a_guest_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn static_shared_memory_between_dom0_and_a_guest_under_uboot() {
    static_shared_memory_between_dom0_and_a_guest_on(Firmware::UBoot);
}

fn static_shared_memory_between_dom0_and_a_guest_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let shm = "shared-mem=dom0shm host=0xa0000000";
    let dom0_node = "/proc/device-tree/reserved-memory/xen-shmem@a0000000";
    let guest_node = "/proc/device-tree/reserved-memory/xen-shmem@50000000";
    let cfg = cfg(
        &["peer"],
        &[guest(
            "peer",
            &format!("mem=128M xencfg.show={guest_node} xencfg.show={guest_node}/xen,id xencfg.shm-read=0x50000000:0x58454E44"),
            &format!("cpus=1\nmemory=128M\n{shm} guest=0x50000000 size=0x1000 role=borrower"),
        )],
    )
    .replace(
        "bootscrub=0\ndtb=virt.dtb\n",
        &format!(
            "bootscrub=0 dom0_mem=512M\n\
             kernel=Image console=hvc0 mem=512M xencfg.name=dom0 xencfg.role=dom0 \
             xencfg.show={dom0_node} xencfg.show={dom0_node}/xen,id \
             xencfg.shm-write=0xa0000000:0x58454E44\n\
             ramdisk=initrd.gz\ndtb=virt.dtb\ndtbo=nogpio.dtbo\n\
             {shm} guest=0xa0000000 size=0x1000 role=owner\n"
        ),
    );
    let project = Project::new_for(assets, &cfg, Machine::DEFAULT);
    project.dtc(
        "nogpio.dtbo",
        "/dts-v1/;\n/plugin/;\n\n&{/pl061@9030000} {\n\tstatus = \"disabled\";\n};\n",
    );
    let built = project.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("error[") && !built.diagnostics.contains("warning["),
        "{}",
        built.diagnostics
    );
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            &format!("XENCFG-SHOW name=dom0 path={dom0_node} value=dir"),
            &format!("XENCFG-SHOW name=peer path={guest_node} value=dir"),
            "XENCFG-SHM name=dom0 wrote=0x58454E44 ",
            "XENCFG-SHM name=peer read=0x58454E44 ",
        ],
    );
    assert_guest(&log, "peer", 1, 1, 128 * MIB);
}

/// A boot-time cpupool on two of four pCPUs with the credit scheduler, a
/// guest in it with each vCPU pinned to one of the pool's pCPUs, and a
/// guest left in Pool-0.
#[test]
fn cpupool_with_scheduler_and_vcpu_affinity_boots() {
    cpupool_with_scheduler_and_vcpu_affinity_boots_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn cpupool_with_scheduler_and_vcpu_affinity_boots_under_uboot() {
    cpupool_with_scheduler_and_vcpu_affinity_boots_on(Firmware::UBoot);
}

fn cpupool_with_scheduler_and_vcpu_affinity_boots_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let machine = Machine {
        cpu: "cortex-a57",
        smp: 4,
    };
    let cfg = cfg(
        &["pooled", "plain"],
        &[
            "[pool1]\ncpus=/cpus/cpu@2,/cpus/cpu@3\nsched=credit\n".to_string(),
            guest(
                "pooled",
                "",
                "cpus=2\nmemory=128M\ncpupool=pool1\nvcpu0-affinity=2\nvcpu1-affinity=3",
            ),
            guest("plain", "", "cpus=2\nmemory=128M"),
        ],
    )
    // Xen names each CPU's pool at the `info` level.
    .replace("bootscrub=0", "bootscrub=0 loglvl=info");
    let built = build(assets, &cfg, machine);
    let log = boot_with(
        built,
        machine,
        firmware,
        &["XENCFG-BOOT name=pooled ", "XENCFG-BOOT name=plain "],
    );
    assert_guest(&log, "pooled", 1, 2, 128 * MIB);
    assert_guest(&log, "plain", 2, 2, 128 * MIB);
    // Xen made the pool on pCPUs 2 and 3 with credit (scheduler id 5),
    // and left 0 and 1 in Pool-0 (id -1: the default scheduler, credit2).
    for cpu in 0..4 {
        let (pool, id) = if cpu < 2 { (0, -1) } else { (1, 5) };
        let line = format!("Logical CPU {cpu} in Pool-{pool} (Scheduler id: {id}).");
        assert_eq!(log.count(&line), 1, "no {line:?}\n{}", log.report());
    }
}

/// Static event channels between two guests with `xen,enhanced =
/// "no-xenstore"`: both ends are made at boot and both guests come up
/// with a `/hypervisor` node (the PV interfaces without xenstore).
#[test]
fn static_event_channel_and_no_xenstore_guests_boot() {
    static_event_channel_and_no_xenstore_guests_boot_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn static_event_channel_and_no_xenstore_guests_boot_under_uboot() {
    static_event_channel_and_no_xenstore_guests_boot_on(Firmware::UBoot);
}

fn static_event_channel_and_no_xenstore_guests_boot_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let hypervisor = "xencfg.show=/proc/device-tree/hypervisor/compatible";
    let cfg = cfg(
        &["ping", "pong"],
        &[
            guest(
                "ping",
                hypervisor,
                "cpus=1\nmemory=128M\nxen,enhanced=no-xenstore\nevtchn=10 pong:20",
            ),
            guest(
                "pong",
                hypervisor,
                "cpus=1\nmemory=128M\nxen,enhanced=no-xenstore",
            ),
        ],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    // "xen,xen-4.22\0xen,xen\0"
    let compatible = "78656e2c78656e2d342e32320078656e2c78656e00";
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            &format!(
                "XENCFG-SHOW name=ping path=/proc/device-tree/hypervisor/compatible value={compatible}"
            ),
            &format!(
                "XENCFG-SHOW name=pong path=/proc/device-tree/hypervisor/compatible value={compatible}"
            ),
        ],
    );
    assert_guest(&log, "ping", 1, 1, 128 * MIB);
    assert_guest(&log, "pong", 2, 1, 128 * MIB);
}

/// `capabilities = xenstore` makes a guest the xenstore domain; guests
/// with `xen,enhanced` `enabled` and `legacy` then boot (without it Xen
/// panics: `xenstore_needs_a_xenstore_domain_as_xc1022_predicts`) and
/// see the `/hypervisor` node.
#[test]
fn xenstore_capability_serves_enabled_and_legacy_guests() {
    let Some(assets) = Assets::get() else { return };
    let hypervisor = "xencfg.show=/proc/device-tree/hypervisor";
    let cfg = cfg(
        &["store", "client", "old"],
        &[
            guest(
                "store",
                hypervisor,
                "cpus=1\nmemory=128M\ncapabilities=xenstore",
            ),
            guest(
                "client",
                hypervisor,
                "cpus=1\nmemory=128M\nxen,enhanced=enabled",
            ),
            guest(
                "old",
                hypervisor,
                "cpus=1\nmemory=128M\nxen,enhanced=legacy",
            ),
        ],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    let log = boot(
        built,
        Machine::DEFAULT,
        &[
            "XENCFG-SHOW name=client path=/proc/device-tree/hypervisor value=dir",
            "XENCFG-SHOW name=old path=/proc/device-tree/hypervisor value=dir",
            "XENCFG-BOOT name=store ",
        ],
    );
    assert_guest(&log, "store", 1, 1, 128 * MIB);
    assert_guest(&log, "client", 2, 1, 128 * MIB);
    assert_guest(&log, "old", 3, 1, 128 * MIB);
}

/// XC1022: a guest that asks for xenstore (`xen,enhanced = "enabled"`)
/// with no domain to run it. Demoted, the build goes through and Xen 4.22
/// panics as the check says.
#[test]
fn xenstore_needs_a_xenstore_domain_as_xc1022_predicts() {
    let Some(assets) = Assets::get() else { return };
    let cfg = cfg(
        &["client"],
        &[guest(
            "client",
            "",
            "cpus=1\nmemory=128M\nxen,enhanced=enabled",
        )],
    );
    let project = Project::new(assets, &cfg);
    let refused = project.check_on(xen(assets), &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC1022]"));
    let built = project.build_on(xen(assets), &["-A", "XC1022"]);
    let log = built.esp.boot_expect_failure(
        &[
            "xenstore requested, but xenstore domain not present",
            "Panic on CPU",
        ],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());
}

/// The P2M pool, grant and maptrack limits, `nr_spis` and
/// `trap-unmapped-accesses`: `open` has them all (a 16 MiB pool, 8 grant
/// and 16 maptrack frames, 64 SPIs, untrapped), `trapped` the default
/// `trap-unmapped-accesses = 1`. Each reads the guest address 0x9000000,
/// where nothing is mapped: `open` reads all ones, `trapped` takes a data
/// abort. The guest kernel reports the SPIs of its vGIC.
#[test]
fn pool_grant_limits_spis_and_unmapped_accesses_show_in_the_guest() {
    let Some(assets) = Assets::get() else { return };
    let cfg = cfg(
        &["open", "trapped"],
        &[
            guest(
                "open",
                "xencfg.peek=0x9000000",
                "cpus=1\nmemory=128M\nxen,domain-p2m-mem-mb=16\nmax_grant_frames=8\n\
                 max_maptrack_frames=16\nnr_spis=64\ntrap-unmapped-accesses=0",
            ),
            guest(
                "trapped",
                "xencfg.peek=0x9000000",
                "cpus=1\nmemory=128M\ntrap-unmapped-accesses=1",
            ),
        ],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    let log = boot(
        built,
        Machine::DEFAULT,
        &[
            "XENCFG-PEEK name=open addr=0x9000000 value=0xFFFFFFFF",
            "XENCFG-PEEK name=trapped addr=0x9000000 value=fault",
        ],
    );
    assert_guest(&log, "open", 1, 1, 128 * MIB);
    assert_guest(&log, "trapped", 2, 1, 128 * MIB);
    let guests = harness::guest_lines(&log.lines);
    assert!(
        guests
            .iter()
            .any(|(domid, text)| *domid == Some(1) && text.contains("GICv3: 64 SPIs implemented")),
        "domain 1 did not report 64 SPIs\n{}",
        log.report()
    );
}

/// `sve=128` on a machine with SVE (`-cpu max`): the guest's largest (and
/// so default) vector length is 16 bytes.
#[test]
fn sve_vector_length_reaches_the_guest() {
    let Some(assets) = Assets::get() else { return };
    let machine = Machine { cpu: "max", smp: 2 };
    let cfg = cfg(
        &["vec"],
        &[guest(
            "vec",
            "xencfg.show=/proc/sys/abi/sve_default_vector_length",
            "cpus=1\nmemory=128M\nsve=128",
        )],
    );
    let built = build(assets, &cfg, machine);
    let log = boot(
        built,
        machine,
        &["XENCFG-SHOW name=vec path=/proc/sys/abi/sve_default_vector_length value=16"],
    );
    assert_guest(&log, "vec", 1, 1, 128 * MIB);
}

/// `passthrough=` of QEMU's PL031 on 4.22 (as `tests/boot.rs` on 4.17).
#[test]
fn passthrough_of_the_pl031_reaches_the_guest() {
    passthrough_of_the_pl031_reaches_the_guest_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which loads the modules elsewhere.
#[test]
fn passthrough_of_the_pl031_reaches_the_guest_under_uboot() {
    passthrough_of_the_pl031_reaches_the_guest_on(Firmware::UBoot);
}

fn passthrough_of_the_pl031_reaches_the_guest_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let cfg = cfg(
        &["rtc"],
        &[guest(
            "rtc",
            "",
            "cpus=1\nmemory=128M\npassthrough=/pl031@9010000",
        )],
    );
    let built = build(assets, &cfg, Machine::DEFAULT);
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            "XENCFG-PASSTHROUGH name=rtc node=pl031@9010000",
            "XENCFG-BOOT name=rtc ",
        ],
    );
    assert_guest(&log, "rtc", 1, 1, 128 * MIB);
}

/// LLC colouring (`llc-coloring=on llc-size=2M llc-nr-ways=16`: 32
/// colours) with a guest on colours 0-7. Xen's buddy allocator takes the
/// lowest free RAM region whole; under EFI (modules at the top of RAM) that
/// is nearly all of QEMU's one bank, and the coloured heap every domain
/// allocates from is empty. XC1030 says so; demoted, Xen panics as it
/// predicts. With a page reserved at 0x40200000 (an overlay adding a
/// `/reserved-memory` node, as XC1030's help says) the same guest boots.
const LLC_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0 llc-coloring=on llc-size=2M llc-nr-ways=16
dtb=virt.dtb
domains=col

[col]
kernel=Image console=ttyAMA0 xencfg.name=col
ramdisk=initrd.gz
cpus=1
memory=128M
vpl011
llc-colors=0-7
";

const LOW_PAGE_RESERVED_DTS: &str = "/dts-v1/;\n/plugin/;\n\n&{/} {\n\
    \treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n\
    \t\tllc-split@40200000 {\n\t\t\treg = <0x0 0x40200000 0x0 0x1000>;\n\t\t\tno-map;\n\t\t};\n\
    \t};\n};\n";

#[test]
fn llc_colouring_needs_a_low_reservation_under_efi_as_xc1029_predicts() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, LLC_CFG);
    let refused = project.check_on(xen(assets), &[]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("error[XC1030]"), "{stderr}");

    let built = project.build_on(xen(assets), &["-W", "XC1030"]);
    assert!(built.diagnostics.contains("warning[XC1030]"));
    let log = built.esp.boot_expect_failure(
        &[
            "Failed to allocate P2M pages",
            "Could not set up domain col",
            "Panic on CPU",
        ],
        FAILURE_TIMEOUT,
    );
    assert!(log.markers().is_empty(), "{}", log.report());

    let split = Project::new(
        assets,
        &LLC_CFG.replace("dtb=virt.dtb\n", "dtb=virt.dtb\ndtbo=low-page.dtbo\n"),
    );
    split.dtc("low-page.dtbo", LOW_PAGE_RESERVED_DTS);
    let built = split.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("XC1030"),
        "{}",
        built.diagnostics
    );
    let log = boot(built, Machine::DEFAULT, &["XENCFG-BOOT name=col "]);
    assert_guest(&log, "col", 1, 1, 128 * MIB);
}

/// `capabilities`: `hardware` on a direct-mapped guest (QEMU virt has no
/// IOMMU) makes it the hardware domain, which gets the host's devices, e.g.
/// the PL031 RTC, in its device tree, and its console on `hvc0` (no
/// vpl011); `control` on a second guest (the split of 4.21+) is accepted
/// and that guest boots as an ordinary one, without the host's devices.
/// What `control` grants (privileged hypercalls) the test's kernel does not
/// show: it has no `/sys/hypervisor`, and the initramfs no Xen tools.
/// QEMU's PL061 is disabled by an overlay: the hardware domain's kernel,
/// like a classic dom0's, dies probing it (`reference/real-xen-boot.md`).
#[test]
fn hardware_and_control_capabilities_split_between_two_guests() {
    let Some(assets) = Assets::get() else { return };
    let rtc = "xencfg.show=/proc/device-tree/pl031@9010000";
    let cfg = cfg(
        &["hw", "ctl"],
        &[
            guest(
                "hw",
                &format!("{rtc} xencfg.role=stay"),
                "cpus=1\ncapabilities=hardware\ndirect-map\nstatic-mem=0x50000000:256M",
            )
            .replace("console=ttyAMA0", "console=hvc0")
            .replace("vpl011\n", ""),
            guest("ctl", rtc, "cpus=1\nmemory=128M\ncapabilities=control"),
        ],
    )
    .replace("dtb=virt.dtb\n", "dtb=virt.dtb\ndtbo=nogpio.dtbo\n");
    let project = Project::new_for(assets, &cfg, Machine::DEFAULT);
    project.dtc(
        "nogpio.dtbo",
        "/dts-v1/;\n/plugin/;\n\n&{/pl061@9030000} {\n\tstatus = \"disabled\";\n};\n",
    );
    let built = project.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("error[") && !built.diagnostics.contains("warning["),
        "{}",
        built.diagnostics
    );
    let log = boot(
        built,
        Machine::DEFAULT,
        &[
            "XENCFG-SHOW name=hw path=/proc/device-tree/pl031@9010000 value=dir",
            "XENCFG-SHOW name=ctl path=/proc/device-tree/pl031@9010000 value=missing",
        ],
    );
    assert_guest(&log, "hw", 1, 1, 256 * MIB);
    assert_guest(&log, "ctl", 2, 1, 128 * MIB);
}

/// Under U-Boot's UEFI the EFI loader's allocations land elsewhere; the
/// configuration XC1030's help leads to (a page reserved low in RAM) boots
/// there too.
#[test]
fn llc_colouring_with_a_low_reservation_boots_under_uboot() {
    let Some(assets) = Assets::get() else { return };
    let split = Project::new(
        assets,
        &LLC_CFG.replace("dtb=virt.dtb\n", "dtb=virt.dtb\ndtbo=low-page.dtbo\n"),
    );
    split.dtc("low-page.dtbo", LOW_PAGE_RESERVED_DTS);
    let built = split.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("XC1030"),
        "{}",
        built.diagnostics
    );
    let log = boot_with(
        built,
        Machine::DEFAULT,
        Firmware::UBoot,
        &["XENCFG-BOOT name=col "],
    );
    assert_guest(&log, "col", 1, 1, 128 * MIB);
}

/// XC1030 depends on the firmware: U-Boot's UEFI leaves the low RAM split
/// (its own allocations sit there), so without any reservation Xen's
/// coloured heap is large enough and the guest that panics Xen under EDK2
/// boots. The check, which cannot see the firmware's memory map, still
/// refuses it (its explanation says so).
#[test]
fn llc_colouring_without_a_reservation_boots_under_uboot_unlike_edk2() {
    let Some(assets) = Assets::get() else { return };
    let project = Project::new(assets, LLC_CFG);
    let refused = project.check_on(xen(assets), &[]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[XC1030]"));
    let built = project.build_on(xen(assets), &["-W", "XC1030"]);
    let log = boot_with(
        built,
        Machine::DEFAULT,
        Firmware::UBoot,
        &["XENCFG-BOOT name=col "],
    );
    assert_guest(&log, "col", 1, 1, 128 * MIB);
}

/// Issue #12's proof: memory given as sizes alone, placed by xencfg, boots
/// under both firmwares. A static heap (`static-heap=768M`), two guests
/// with static memory (`static`, and `direct`, direct-mapped), shared
/// memory guest↔guest (`gg`: `static` writes, `direct` reads) and
/// dom0↔guest (`d0`: dom0 writes, `static` reads), no address anywhere.
/// Each side shows what it got: the direct-mapped guest its memory node
/// at the host address xencfg chose, both guests Xen's
/// `/reserved-memory/xen-shmem@…` nodes at the guest addresses xencfg
/// chose, and Xen's "BANK[n]" lines put dom0's RAM inside the heap (with
/// a static heap, Xen allocates from it alone). xencfg places the heap
/// first, then static memory, then shared memory, lowest first: each
/// shared page sits above its domains' RAM, so `mem=` keeps it out of the
/// kernel's RAM and `/dev/mem` reaches it.
#[test]
fn memory_given_as_sizes_alone_is_placed_and_boots() {
    memory_given_as_sizes_alone_is_placed_and_boots_on(Firmware::Edk2);
}

/// The same under U-Boot's UEFI, which keeps other RAM for itself.
#[test]
fn memory_given_as_sizes_alone_is_placed_and_boots_under_uboot() {
    memory_given_as_sizes_alone_is_placed_and_boots_on(Firmware::UBoot);
}

/// The cells of `property` in the node named `node` of a DTS (2/2 cells:
/// pairs joined into 64-bit numbers).
fn dts_cells(dts: &str, node: &str, property: &str) -> Vec<u64> {
    let start = dts
        .find(&format!("\t{node} {{"))
        .unwrap_or_else(|| panic!("no node {node} in\n{dts}"));
    let line = dts[start..]
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{property} = <")))
        .unwrap_or_else(|| panic!("no {property} in {node}"));
    let inner = line.split('<').nth(1).unwrap().split('>').next().unwrap();
    let cells: Vec<u64> = inner
        .split_whitespace()
        .map(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).unwrap())
        .collect();
    cells.chunks(2).map(|p| (p[0] << 32) | p[1]).collect()
}

fn memory_given_as_sizes_alone_is_placed_and_boots_on(firmware: Firmware) {
    let Some(assets) = Assets::get() else { return };
    let cfg = cfg(
        &["static", "direct"],
        &[
            guest(
                "static",
                "mem=128M xencfg.shm-write=GG:0x58454E47 xencfg.shm-read=D0:0x58454E48 \
                 xencfg.show=/proc/device-tree/reserved-memory/xen-shmem@GG \
                 xencfg.role=stay",
                "cpus=1\nstatic-mem=128M\n\
                 shared-mem=gg size=4K role=owner\nshared-mem=d0 size=4K role=borrower",
            ),
            guest(
                "direct",
                "mem=128M xencfg.shm-read=DIRECT_GG:0x58454E47 \
                 xencfg.show=/proc/device-tree/memory@DIRECT_RAM",
                "cpus=1\nstatic-mem=128M\ndirect-map\nshared-mem=gg size=4K role=borrower",
            ),
        ],
    )
    .replace(
        "bootscrub=0\ndtb=virt.dtb\n",
        "bootscrub=0 dom0_mem=512M\n\
         kernel=Image console=hvc0 mem=512M xencfg.name=dom0 xencfg.role=dom0 \
         xencfg.shm-write=D0_HOST:0x58454E48\n\
         ramdisk=initrd.gz\ndtb=virt.dtb\ndtbo=nogpio.dtbo\n\
         static-heap=768M\nshared-mem=d0 size=4K role=owner\n",
    );
    // The command lines name addresses xencfg has not chosen yet: build
    // once to read them, then write them in and build again. Placement is
    // deterministic and the command lines do not move it.
    let project = Project::new_for(assets, &cfg, Machine::DEFAULT);
    project.dtc(
        "nogpio.dtbo",
        "/dts-v1/;\n/plugin/;\n\n&{/pl061@9030000} {\n\tstatus = \"disabled\";\n};\n",
    );
    let first = project.build_on(xen(assets), &[]);
    let dtb = first.esp.boot_dir().join("xen.dtb");
    let dts = String::from_utf8(harness::run(
        std::process::Command::new("dtc")
            .args(["-q", "-I", "dtb", "-O", "dts"])
            .arg(&dtb),
    ))
    .unwrap();
    let heap = dts_cells(&dts, "chosen", "xen,static-heap");
    let direct_ram = dts_cells(&dts, "direct", "xen,static-mem");
    let d0 = dts_cells(&dts, "dom0-shared-mem-0", "xen,shared-mem");
    let static_gg = dts_cells(&dts, "static", "xen,shared-mem");
    let direct_gg = dts_cells(&dts, "direct", "xen,shared-mem");
    let (heap_start, heap_end) = (heap[0], heap[0] + heap[1]);
    assert_eq!(heap[1], 768 << 20, "{heap:x?}");
    // gg: host, guest, size in `static`; host = guest in `direct`.
    assert_eq!(direct_gg[0], direct_gg[1], "{direct_gg:x?}");
    assert_eq!(static_gg[0], direct_gg[0], "{static_gg:x?}");
    let hex = |n: u64| format!("{n:#x}");
    let static_d0 = {
        let start = dts.find("\tstatic {").unwrap();
        let after = &dts[start..];
        let second = after.match_indices("xen,shared-mem = <").nth(1).unwrap().0;
        let line = after[second..].lines().next().unwrap();
        dts_cells(&format!("\tx {{\n{line}\n"), "x", "xen,shared-mem")
    };
    let cfg = project_cfg(&project)
        .replace("DIRECT_GG", &hex(direct_gg[0]))
        .replace("DIRECT_RAM", &format!("{:x}", direct_ram[0]))
        .replace("D0_HOST", &hex(d0[0]))
        .replace("xen-shmem@GG", &format!("xen-shmem@{:x}", static_gg[1]))
        .replace("GG:", &format!("{}:", hex(static_gg[1])))
        .replace("D0:", &format!("{}:", hex(static_d0[1])));
    project.write("xen.cfg", &cfg);
    let built = project.build_on(xen(assets), &[]);
    assert!(
        !built.diagnostics.contains("error[") && !built.diagnostics.contains("warning["),
        "{}",
        built.diagnostics
    );
    let log = boot_with(
        built,
        Machine::DEFAULT,
        firmware,
        &[
            "XENCFG-SHM name=static wrote=0x58454E47 ",
            "XENCFG-SHM name=direct read=0x58454E47 ",
            "XENCFG-SHM name=dom0 wrote=0x58454E48 ",
            "XENCFG-SHM name=static read=0x58454E48 ",
            &format!(
                "XENCFG-SHOW name=direct path=/proc/device-tree/memory@{:x} value=dir",
                direct_ram[0]
            ),
            &format!(
                "XENCFG-SHOW name=static path=/proc/device-tree/reserved-memory/xen-shmem@{:x} value=dir",
                static_gg[1]
            ),
        ],
    );
    assert_guest(&log, "static", 1, 1, 128 * MIB);
    assert_guest(&log, "direct", 2, 1, 128 * MIB);
    // dom0's RAM (Xen's "BANK[n] start-end (sizeMB)" lines; the guests'
    // are "dN: STATIC BANK[n]") lies in the heap.
    let banks: Vec<(u64, u64)> = log
        .lines
        .iter()
        .filter(|l| !l.text.contains("STATIC BANK"))
        .filter_map(|l| {
            let rest = l.text.split("BANK[").nth(1)?;
            let range = rest.split_whitespace().nth(1)?;
            let (s, e) = range.split_once('-')?;
            let parse = |t: &str| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok();
            Some((parse(s)?, parse(e)?))
        })
        .collect();
    assert!(!banks.is_empty(), "no BANK lines\n{}", log.report());
    for (s, e) in &banks {
        assert!(
            *s >= heap_start && *e <= heap_end,
            "dom0 bank {s:#x}-{e:#x} outside the heap {heap_start:#x}-{heap_end:#x}\n{}",
            log.report()
        );
    }
}

fn project_cfg(project: &Project) -> String {
    std::fs::read_to_string(project.path().join("xen.cfg")).unwrap()
}
