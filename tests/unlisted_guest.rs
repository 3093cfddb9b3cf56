//! A guest section that no `domains=` lists (XC0216): one diagnostic that
//! says what to do, instead of the boot-section cascade it used to draw;
//! and the guest marker of the design discussion, an empty `property=`
//! (or `properties=`), which makes a section a guest whatever its keys.

mod support;

use std::fs;
use support::*;

const HEAD: &str =
    "[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart bootscrub=0\ndtb=host.dtb\n";
const LINUX1: &str = "\n[linux1]\nkernel=Image-domu1.bin console=ttyAMA0\nramdisk=initrd-domu1.cpio.gz\ncpus=1\nmemory=256M\nvpl011\n";

fn scratch(cfg: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&testdata("bad/_base"), dir.path());
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    dir
}

fn codes(err: &str) -> Vec<&str> {
    err.lines()
        .filter_map(|l| {
            l.split_once('[')
                .filter(|(s, _)| *s == "error" || *s == "warning")
        })
        .map(|(_, rest)| &rest[..6])
        .collect()
}

#[test]
fn a_forgotten_guest_is_one_diagnostic_naming_the_boot_sections() {
    let rtos = "\n[rtos]\nkernel=Image-domu2.bin\ncpus=1\nmemory=64M\nvpl011\n";
    let dir = scratch(&format!(
        "{HEAD}domains=linux1\n{LINUX1}{rtos}\n[debug]\noptions=loglvl=all\ndtb=host.dtb\ndomains=linux1\n"
    ));
    let out = run(&["check", "xen.cfg"], dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(codes(&err), ["XC0216"], "{err}");
    assert!(err.contains("section `[rtos]` looks like a guest but no boot section lists it"));
    assert!(
        err.contains(
            "help: add `rtos` to `domains=` of the boot section that boots it (`[xen]`, `[debug]`)"
        ),
        "{err}"
    );
}

#[test]
fn the_empty_property_marks_a_guest_section() {
    // Listed: the marker is accepted (no "unknown property ``").
    let marked = "\n[rtos]\nproperty=\nkernel=Image-domu2.bin\ncpus=1\nmemory=64M\n";
    let dir = scratch(&format!("{HEAD}domains=linux1,rtos\n{LINUX1}{marked}"));
    let out = run(&["check", "xen.cfg"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    // Not listed: a guest all the same, even with a key only dom0 has
    // (without the marker, `options=` would make it a boot section).
    let marked = "\n[rtos]\nproperties=\noptions=console=dtuart\nkernel=Image-domu2.bin\n";
    let dir = scratch(&format!("{HEAD}domains=linux1\n{LINUX1}{marked}"));
    let out = run(&["check", "xen.cfg"], dir.path());
    let err = stderr(&out);
    assert_eq!(codes(&err), ["XC0216"], "{err}");
    assert!(
        err.contains("note: an empty `properties=` marks `[rtos]` as a guest section"),
        "{err}"
    );

    // And it cannot be booted as dom0 by naming it.
    let out = run(&["check", "xen.cfg", "--section", "rtos"], dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[XC0212]: `--section rtos` names no boot section"),
        "{err}"
    );
    assert!(err.contains("`[rtos]` is a guest section"), "{err}");
}

#[test]
fn sections_without_kernel_or_with_boot_keys_stay_what_they_were() {
    // A cpupool section has `cpus=` but no kernel; a dom0 section has
    // `kernel=` and `options=`: neither is a forgotten guest.
    let pool = "\n[pool]\ncpus=/cpus/cpu@1\nsched=null\n";
    let dir = scratch(&format!("{HEAD}domains=linux1\n{LINUX1}{pool}"));
    let err = stderr(&run(&["check", "xen.cfg"], dir.path()));
    assert!(!err.contains("XC0216"), "{err}");
    let dom0 = "\n[dom0]\noptions=console=dtuart\nkernel=Image-domu2.bin\ndtb=host.dtb\n";
    let dir = scratch(&format!("{HEAD}domains=linux1\n{LINUX1}{dom0}"));
    let err = stderr(&run(&["check", "xen.cfg"], dir.path()));
    assert!(!err.contains("XC0216"), "{err}");
}
