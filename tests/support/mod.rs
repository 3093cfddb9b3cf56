//! Shared helpers for the integration tests: run the xencfg binary, copy
//! examples into scratch directories, decompile DTBs with dtc.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn xencfg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencfg"))
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    xencfg()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run xencfg")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    repo().join("testdata").join(rel)
}

/// Copy a directory tree (the examples are small).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A scratch copy of `testdata/<example>`.
pub fn scratch_example(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&testdata(example), dir.path());
    dir
}

/// `dtc -I dtb -O dts` of a blob; panics with dtc's stderr on failure and
/// returns (dts, warnings).
pub fn dtc_decompile(dtb: &Path) -> (String, String) {
    let out = Command::new("dtc")
        .args(["-I", "dtb", "-O", "dts"])
        .arg(dtb)
        .output()
        .expect("dtc must be installed (device-tree-compiler)");
    assert!(
        out.status.success(),
        "dtc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
pub mod golden;
