//! `--host-ram`: the board's RAM stated by the user replaces the host DTB's
//! memory nodes (which Xen ignores under EFI) in the memory checks.

mod support;

use std::fs;
use support::*;

fn case(name: &str) -> tempfile::TempDir {
    let dir = scratch_example("bad/_base");
    copy_tree(&testdata(&format!("bad/{name}")), dir.path());
    fs::remove_file(dir.path().join("expected")).unwrap();
    dir
}

#[test]
fn a_stated_total_replaces_the_memory_nodes() {
    // A 4 GiB guest on a DTB that says 2 GiB: the board has 8.
    let dir = case("res-memory-exceeds-host");
    let out = run(&["check", "xen.cfg"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("memory nodes give it"),
        "{}",
        stderr(&out)
    );
    let out = run(&["check", "xen.cfg", "--host-ram", "8G"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn stated_ranges_place_static_memory() {
    let dir = case("res-static-mem-outside-ram");
    let out = run(
        &["check", "xen.cfg", "--host-ram", "0x0:1G,0x80000000:1G"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(
        &["check", "xen.cfg", "--host-ram", "0x40000000:1G"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("as `--host-ram` states it"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_placeholder_memory_node_is_not_a_figure() {
    // host-ram-placeholder's DTB has `reg` of size 0: no check of RAM,
    // one warning; stating the RAM silences it.
    let dir = case("host-ram-placeholder");
    let out = run(&["check", "xen.cfg", "--host-ram", "4G"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "no diagnostics");
}

#[test]
fn a_bad_size_is_a_usage_error() {
    let dir = case("host-ram-placeholder");
    for bad in ["lots", "0", "0x40000000:", "1G:2G", "0x40000000:0"] {
        let out = run(&["check", "xen.cfg", "--host-ram", bad], dir.path());
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--host-ram"), "{}", stderr(&out));
    }
}
