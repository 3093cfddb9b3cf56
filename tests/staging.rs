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

/// The example compiled as `build` compiles it (checks passed), nothing
/// hashed yet.
fn compile(dir: &Path) -> xencfg::analyze::Plan {
    use xencfg::diag::{Diagnostics, SourceMap};
    let options = xencfg::analyze::Options {
        cfg: dir.join("xen.cfg"),
        root: None,
        section: None,
        target: xencfg::target::Target::default(),
        efi_name: "xen".into(),
        host_ram: None,
    };
    let mut diags = Diagnostics::default();
    let plan =
        xencfg::pipeline::run(&options, &mut SourceMap::default(), &mut diags).expect("compile");
    assert!(!diags.has_errors());
    plan
}

fn build_options(dir: &Path, out: &str) -> xencfg::commands::build::BuildOptions {
    xencfg::commands::build::BuildOptions {
        out: dir.join(out),
        efi_name: "xen".into(),
        stage: true,
        xen: Some(dir.join("xen.efi")),
        emit_dts: false,
        force: false,
        target: xencfg::target::Target::default(),
    }
}

/// Every input hashed first, then staged (each copy verified against its
/// hash): the build as it was before staging hashed as it copied.
fn build_hashing_first(dir: &Path, out: &str) {
    use xencfg::load::cache::Cache;
    let mut plan = compile(dir);
    plan.hash_inputs(None, &Cache::disabled()).expect("hash");
    xencfg::commands::build::build(&plan, &build_options(dir, out), &Cache::disabled())
        .expect("build");
}

/// The files to stage hashed as they are copied, through `cache`.
fn build_hashing_staged(
    dir: &Path,
    out: &str,
    cache: &xencfg::load::cache::Cache,
) -> Result<(), xencfg::error::Error> {
    use xencfg::commands::build;
    let mut plan = compile(dir);
    let opts = build_options(dir, out);
    let later = build::staged_sources(&plan, &opts);
    assert!(
        later.contains(&dir.join("Image-guest1.bin")),
        "the images are left to the copy: {later:?}"
    );
    plan.hash_inputs_except(None, cache, &later)?;
    build::build_hashing(&plan, &opts, cache, None)
}

#[test]
fn hashing_while_staging_gives_the_tree_and_manifest_of_hashing_first() {
    use xencfg::load::cache::Cache;
    // Settled: the kernel copies while xencfg hashes. Fresh (changed
    // within the racily-clean margin) and with --no-cache: each file is
    // hashed and written from one read.
    let settled = settled_example();
    let fresh = scratch_example("sections");
    fs::write(fresh.path().join("xen.efi"), b"MZ fake xen, staged too").unwrap();
    for (dir, cache, what) in [
        (
            settled.path(),
            Cache::load(&settled.path().join("out")),
            "kernel copy",
        ),
        (
            fresh.path(),
            Cache::load(&fresh.path().join("out")),
            "one pass",
        ),
        (settled.path(), Cache::disabled(), "--no-cache"),
    ] {
        build_hashing_first(dir, "first");
        let reference = tree(&dir.join("first"));
        let _ = fs::remove_dir_all(dir.join("out"));
        build_hashing_staged(dir, "out", &cache).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            reference == tree(&dir.join("out")),
            "{what}: the tree (manifest included) differs from hashing first"
        );
        // What was hashed is what the cache records.
        let kept = String::from_utf8(cache.to_bytes()).unwrap();
        assert!(
            kept.contains(&sha256sum(&dir.join("Image-guest1.bin"))),
            "{what}: {kept}"
        );
        fs::remove_dir_all(dir.join("first")).unwrap();
    }
}

#[test]
fn a_file_changed_between_check_and_hash_is_refused_when_hashed_while_staged() {
    use xencfg::error::Error;
    use xencfg::load::cache::Cache;
    let dir = settled_example();
    let out = build(dir.path(), "out", "", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = tree(&dir.path().join("out"));
    let ramdisk = dir.path().join("initrd-guest1.cpio.gz");
    // A cache that does not know the files (as on a first build), and
    // --no-cache.
    for cache in [
        Cache::load(&dir.path().join("elsewhere")),
        Cache::disabled(),
    ] {
        let mut plan = compile(dir.path());
        let opts = build_options(dir.path(), "out");
        let later = xencfg::commands::build::staged_sources(&plan, &opts);
        plan.hash_inputs_except(None, &cache, &later).expect("hash");
        // Grown after its check, before it is hashed and staged.
        let mut grown = fs::read(&ramdisk).unwrap();
        grown.push(0);
        fs::write(&ramdisk, &grown).unwrap();
        let e = xencfg::commands::build::build_hashing(&plan, &opts, &cache, None)
            .expect_err("a file changed since its check");
        assert!(
            matches!(e, Error::InputChanged(ref p) if *p == ramdisk),
            "{e}"
        );
        assert!(
            before == tree(&dir.path().join("out")),
            "the old output is kept"
        );
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".xencfg-"))
            .collect();
        assert!(left.is_empty(), "staging left behind: {left:?}");
        grown.pop();
        fs::write(&ramdisk, &grown).unwrap();
    }
}
