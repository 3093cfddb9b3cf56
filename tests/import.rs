//! `xencfg import imagebuilder`: sample ImageBuilder configs convert to the
//! golden cfgs, with the golden diagnostics; the converted cfgs pass
//! `xencfg check` and `build` with the files they name; a config with
//! errors writes nothing; every XC11xx check fires on some sample.
//! Cases live in `testdata/imagebuilder/<case>/` (`config`, the files it
//! names, `expected/`).

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use support::golden::assert_golden;
use support::*;
use xencfg::diag::codes::ALL;

fn import(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", "imagebuilder", "config"];
    args.extend_from_slice(extra);
    run(&args, dir)
}

fn case(name: &str) -> tempfile::TempDir {
    scratch_example(&format!("imagebuilder/{name}"))
}

/// The codes in a human diagnostics text.
fn codes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            l.split_once("[XC")
                .map(|(_, rest)| format!("XC{}", &rest[..4]))
        })
        .collect()
}

fn golden_case(name: &str) -> String {
    let dir = case(name);
    let out = import(dir.path(), &[]);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_golden(
        &testdata(&format!("imagebuilder/{name}/expected/xen.cfg")),
        &stdout,
    );
    let report = format!(
        "exit: {}\n{}",
        out.status.code().unwrap_or(-1),
        stderr(&out)
    );
    assert_golden(
        &testdata(&format!("imagebuilder/{name}/expected/stderr")),
        &report,
    );
    report
}

/// Convert, then check and build the result where the config's files are.
fn converts_and_checks(name: &str, allowed: &[&str]) {
    golden_case(name);
    let dir = case(name);
    let out = import(dir.path(), &["-o", "xen.cfg"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The samples use structures of Xen 4.17 and later: checked for the
    // newest release, as without a target, minus the XC0906 warnings for
    // the older ones.
    let check = run(&["check", "xen.cfg", "--xen-version", "4.22"], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let found = codes(&stderr(&check));
    let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
    assert!(
        found.is_subset(&allowed),
        "unexpected findings on the imported cfg: {:?}\n{}",
        found.difference(&allowed).collect::<Vec<_>>(),
        stderr(&check)
    );
    let build = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(build.status.success(), "{}", stderr(&build));
}

#[test]
fn dom0less_sample() {
    converts_and_checks("dom0less", &[]);
}

#[test]
fn dom0_static_sample() {
    converts_and_checks("dom0-static", &[]);
}

/// What ImageBuilder's users write in 2025-26: `DOMU_P2M_MEM_MB` and
/// `DOMU_PASSTHROUGH_PROP` become the keys Xen reads, and the DTB that
/// `build` writes carries them; `XEN_STATIC_HEAP` becomes `static-heap=`
/// and a static-memory size without an address `static-mem=SIZE`;
/// `DOMU_DOMID` is a warning that says why, and the cfg still checks and
/// builds.
#[test]
fn current_sample() {
    converts_and_checks("current", &[]);
    let dir = case("current");
    assert!(import(dir.path(), &["-o", "xen.cfg"]).status.success());
    let build = run(&["build", "xen.cfg", "-o", "out"], dir.path());
    assert!(build.status.success(), "{}", stderr(&build));
    let dtb =
        xencfg::fdt::Fdt::from_bytes(&fs::read(dir.path().join("out/xen.dtb")).unwrap()).unwrap();
    let guest = dtb.node("/chosen/domU0").expect("domU0 in /chosen");
    assert_eq!(guest.property_u32("xen,domain-p2m-mem-mb"), Some(16));
    assert_eq!(guest.property_strings("passthrough"), ["enabled"]);
    let other = dtb.node("/chosen/domU2").expect("domU2 in /chosen");
    assert!(other.property("passthrough").is_none(), "`yes` is ignored");
    // XEN_STATIC_HEAP is the boot section's `static-heap=`, written to
    // `/chosen` in the root's cells (2/2 on this host).
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    assert!(cfg.contains("\nstatic-heap=0x60000000:512M\n"), "{cfg}");
    let chosen = dtb.node("/chosen").unwrap();
    let heap = chosen.property("xen,static-heap").expect("xen,static-heap");
    assert_eq!(
        xencfg::fdt::cells::cells_of(&heap.value).unwrap(),
        [0, 0x6000_0000, 0, 0x2000_0000]
    );
    // DOMU_STATIC_MEM given as a size is `static-mem=SIZE`, direct-mapped
    // as ImageBuilder's default; xencfg places it (analyze::placement).
    assert!(cfg.contains("\nstatic-mem=128M\ndirect-map\n"), "{cfg}");
    let sized = dtb.node("/chosen/domU1").expect("domU1 in /chosen");
    let cells = sized
        .property("xen,static-mem")
        .and_then(|p| xencfg::fdt::cells::cells_of(&p.value))
        .unwrap_or_default();
    let total: u64 = cells
        .chunks(4)
        .filter(|c| c.len() == 4)
        .map(|c| (u64::from(c[2]) << 32) | u64::from(c[3]))
        .sum();
    assert_eq!(total, 128 << 20, "{cells:x?}");
    // An older target is told that `passthrough` needs 4.19.
    let old = run(&["check", "xen.cfg", "--xen-version", "4.18"], dir.path());
    assert!(stderr(&old).contains("error[XC0204]"), "{}", stderr(&old));
}

#[test]
fn errors_write_nothing() {
    let report = golden_case("bad");
    assert!(report.starts_with("exit: 1\n"), "{report}");
    let dir = case("bad");
    let out = import(dir.path(), &["-o", "xen.cfg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!dir.path().join("xen.cfg").exists(), "nothing is written");
}

#[test]
fn every_import_check_fires_on_a_sample() {
    let mut seen = BTreeSet::new();
    for name in ["dom0less", "dom0-static", "bad", "current"] {
        seen.extend(codes(&golden_case(name)));
    }
    for check in ALL.iter().filter(|c| c.code.starts_with("XC11")) {
        assert!(
            seen.contains(check.code),
            "no sample triggers {}",
            check.code
        );
    }
}

#[test]
fn never_writes_over_its_input() {
    let dir = case("dom0less");
    let before = fs::read(dir.path().join("config")).unwrap();
    let out = import(dir.path(), &["-o", "config"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to write the cfg over its input"));
    assert_eq!(fs::read(dir.path().join("config")).unwrap(), before);
}

#[test]
fn output_file_is_the_same_as_stdout() {
    let dir = case("dom0-static");
    let printed = import(dir.path(), &[]).stdout;
    let out = import(dir.path(), &["--out", "sub.cfg"]);
    assert!(out.status.success());
    assert_eq!(fs::read(dir.path().join("sub.cfg")).unwrap(), printed);
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(dir.path().join("sub.cfg"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn missing_config_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = import(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("config"), "{}", stderr(&out));
}
