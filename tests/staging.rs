//! `build --stage` through every copy path, and rebuilds through the build
//! cache: the staged tree is byte-identical whichever way the kernel (or
//! xencfg) copied it, and a rebuild never stages or lists bytes other than
//! those the inputs hold.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

/// Relative path → content, of every file under `dir`.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, into);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                into.insert(relative, fs::read(&path).unwrap());
            }
        }
    }
    let mut t = BTreeMap::new();
    walk(dir, dir, &mut t);
    t
}

/// The example with a fake Xen, its files old enough (past the 2 s
/// racily-clean margin) for their stamps to prove their content, so the
/// zero-copy paths are taken.
fn settled_example() -> tempfile::TempDir {
    let dir = scratch_example("sections");
    fs::write(dir.path().join("xen.efi"), b"MZ fake xen, staged too").unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    dir
}

fn build(dir: &Path, out: &str, copy: &str, extra: &[&str]) -> std::process::Output {
    xencfg()
        .args(["build", "xen.cfg", "-o", out, "--stage", "--xen", "xen.efi"])
        .args(extra)
        .env("XENCFG_STAGE_COPY", copy)
        .current_dir(dir)
        .output()
        .expect("run xencfg")
}

#[test]
fn a_staged_tree_is_the_same_whichever_copy_path() {
    let dir = settled_example();
    let out = build(dir.path(), "auto", "", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reference = tree(&dir.path().join("auto"));
    assert_eq!(
        reference.get(Path::new("Image-guest1.bin")),
        Some(&fs::read(dir.path().join("Image-guest1.bin")).unwrap())
    );
    assert_eq!(
        reference.get(Path::new("xen.efi")),
        Some(&fs::read(dir.path().join("xen.efi")).unwrap())
    );
    for copy in ["reflink", "copy-file-range", "read-write", "verified"] {
        let out = build(dir.path(), copy, copy, &[]);
        if copy == "reflink" && !out.status.success() && stderr(&out).contains("reflink") {
            eprintln!("no reflinks on this file system: {}", stderr(&out));
            continue;
        }
        assert!(out.status.success(), "{copy}: {}", stderr(&out));
        assert!(
            reference == tree(&dir.path().join(copy)),
            "the tree staged by {copy} differs"
        );
    }
}

#[test]
fn a_rebuild_reuses_unchanged_files_and_sees_a_forged_change() {
    let dir = settled_example();
    let first = build(dir.path(), "out", "", &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let cache: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join(".out.xencfg.cache")).unwrap()).unwrap();
    let entries = cache["entries"].as_array().expect("entries");
    let image_sha256 = sha256sum(&dir.path().join("Image-guest1.bin"));
    assert!(
        entries
            .iter()
            .any(|e| e["sha256"].as_str() == Some(&*image_sha256)),
        "{cache}"
    );
    let cache_text = fs::read_to_string(dir.path().join(".out.xencfg.cache")).unwrap();
    assert!(
        !cache_text.contains(&*dir.path().to_string_lossy()),
        "no host path in the output: {cache_text}"
    );
    let before = tree(&dir.path().join("out"));

    // A rebuild of its own output (cache included) needs no --force and
    // changes nothing.
    let again = build(dir.path(), "out", "", &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(before == tree(&dir.path().join("out")));

    // One byte changed, size kept, mtime set back to what it was.
    let image = dir.path().join("Image-guest1.bin");
    let mtime = fs::metadata(&image).unwrap().modified().unwrap();
    let mut bytes = fs::read(&image).unwrap();
    bytes[100] ^= 0xFF;
    fs::write(&image, &bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(&image)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let rebuilt = build(dir.path(), "out", "", &[]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    let out = dir.path().join("out");
    assert_eq!(fs::read(out.join("Image-guest1.bin")).unwrap(), bytes);
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains(&sha256sum(&image)), "{manifest}");

    // --no-cache reads everything and comes to the same output.
    let fresh = build(dir.path(), "fresh", "", &["--no-cache"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(tree(&out) == tree(&dir.path().join("fresh")));
}
