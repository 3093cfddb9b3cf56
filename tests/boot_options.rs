//! End-to-end proof of the Xen command-line checks: a `dtuart=` that names
//! nothing in the host DTB (XC0611) leaves real Xen without a console, and
//! the path xencfg suggests instead boots. Same harness, assets and rules
//! as `tests/boot.rs` (one boot at a time; `XENCFG_SKIP_BOOT=1` skips).

// The harness serves several test crates; this one uses part of it.
#[allow(dead_code)]
#[path = "boot/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Assets, BOOT_TIMEOUT, Outcome, Project, XEN_FAILURES};

/// How long Xen gets to print its first console line: ~1 s after the EFI
/// loader starts when it has a console, never when it has none.
const FIRST_LINE_TIMEOUT: Duration = Duration::from_secs(25);

/// One vpl011 guest; `DTUART` is replaced by the `dtuart=` under test.
const CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart DTUART bootscrub=0
dtb=virt.dtb
domu1_kernel=Image console=ttyAMA0 xencfg.name=domU1
domu1_ramdisk=initrd.gz
domu1_property=cpus=1
domu1_property=memory=256M
domu1_property=vpl011
";

#[test]
fn dtuart_alias_missing_from_the_host_leaves_xen_silent_as_xc0611_says() {
    let Some(assets) = Assets::get() else { return };
    // QEMU virt's DTB has no /aliases: `serial0` (ImageBuilder's default)
    // names nothing.
    let project = Project::new(assets, &CFG.replace("DTUART", "dtuart=serial0"));
    let check = project.check(&[]);
    let said = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(said.contains("error[XC0611]"), "{said}");
    assert!(said.contains("`dtuart=/pl011@9000000`"), "{said}");

    let built = project.build(assets, &["-A", "dtuart-not-found"]);
    let log = built
        .esp
        .watch(&["(XEN) "], XEN_FAILURES, FIRST_LINE_TIMEOUT);
    assert!(
        matches!(log.outcome, Outcome::TimedOut { .. }),
        "expected Xen to run without a console\n{}",
        log.report()
    );
    assert!(
        log.first_at("Using bootargs from Xen configuration file")
            .is_some(),
        "the EFI loader did not get as far as expected\n{}",
        log.report()
    );

    // The path xencfg suggests: Xen's console and the guest's are back.
    let project = Project::new(assets, &CFG.replace("DTUART", "dtuart=/pl011@9000000"));
    let check = project.check(&[]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let built = project.build(assets, &[]);
    built.esp.boot(
        &["(XEN) DOM1: ...XENCFG-BOOT name=domU1 "],
        XEN_FAILURES,
        BOOT_TIMEOUT,
    );
}

/// The other two ways to a silent Xen that `check` reports: `dtuart=`
/// naming a node no serial driver matches (XC0612, QEMU's PL031 RTC), and
/// a `console=` without `dtuart` (XC0610).
#[test]
fn dtuart_on_a_non_uart_and_console_without_dtuart_leave_xen_silent() {
    let Some(assets) = Assets::get() else { return };
    for (options, code, name) in [
        (
            "dtuart=/pl031@9010000",
            "error[XC0612]",
            "dtuart-not-a-uart",
        ),
        ("console=com1", "warning[XC0610]", "console-without-dtuart"),
    ] {
        let cfg = CFG
            .replace(
                "console=dtuart DTUART",
                &format!("console=dtuart {options}"),
            )
            .replace("console=dtuart console=com1", "console=com1");
        let project = Project::new(assets, &cfg);
        let said = String::from_utf8_lossy(&project.check(&[]).stderr).into_owned();
        assert!(said.contains(code), "{options}: {said}");
        let built = project.build(assets, &["-A", name]);
        let log = built
            .esp
            .watch(&["(XEN) "], XEN_FAILURES, FIRST_LINE_TIMEOUT);
        assert!(
            matches!(log.outcome, Outcome::TimedOut { .. }),
            "{options}: expected Xen to run without a console\n{}",
            log.report()
        );
        assert!(
            log.first_at("Using bootargs from Xen configuration file")
                .is_some(),
            "{options}: the EFI loader did not get as far as expected\n{}",
            log.report()
        );
    }
}
