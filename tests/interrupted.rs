//! Output safety: builds killed at random moments with SIGKILL (so no
//! cleanup code runs) leave the output directory either exactly the old
//! complete output or exactly the new one, never a mix; the temporary
//! staging directory of a killed build is removed by the next build; and
//! nothing is ever written beside the output directory but that staging
//! directory, the build lock (empty, removed by the next build) and the
//! build cache (whole). Also: `--force` is needed to replace a directory xencfg did
//! not write.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

/// File path (relative to the output directory) → sha256.
type Snapshot = BTreeMap<PathBuf, String>;

fn snapshot(dir: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, into: &mut Snapshot) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, into);
            } else {
                let facts = xencfg::load::hash::hash_file(&path).unwrap();
                into.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    facts.sha256.unwrap(),
                );
            }
        }
    }
    let mut s = Snapshot::new();
    walk(dir, dir, &mut s);
    s
}

/// The manifest describes exactly the files next to it, with their hashes.
#[track_caller]
fn assert_manifest_true(out: &Path, snap: &Snapshot) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().expect("files");
    for f in files {
        let esp = f["esp_path"].as_str().unwrap().replace('\\', "/");
        let sha = f["sha256"].as_str().unwrap();
        assert_eq!(
            snap.get(Path::new(&esp)).map(String::as_str),
            Some(sha),
            "{esp} in the manifest"
        );
    }
    // Every file but the manifest itself (and DTS reviews) is listed.
    assert_eq!(files.len() + 1, snap.len(), "manifest lists every file");
}

/// Names in `dir` that look like xencfg's staging directories.
fn staging_dirs(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.xencfg-"))
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A 200 MiB module, mostly holes (cheap to create) with pseudo-random
/// blocks every MiB, so its hash depends on all of it.
fn big_module(path: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::File::create(path).unwrap();
    f.set_len(200 << 20).unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for mib in 0..200u64 {
        let block: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        f.seek(SeekFrom::Start(mib << 20)).unwrap();
        f.write_all(&block).unwrap();
    }
}

fn cfg(options: &str) -> String {
    format!(
        "[global]\ndefault=xen\n\n[xen]\noptions={options}\ndtb=host.dtb\ndomains=guest1\n\n\
         [guest1]\nkernel=Image-guest1.bin console=ttyAMA0\nramdisk=boot/initrd.big\ncpus=1\nmemory=256M\n"
    )
}

/// Uniform pseudo-random numbers; the seed is printed so a failure can be
/// replayed with XENCFG_KILL_SEED.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn killed_builds_leave_the_old_or_the_new_output() {
    let dir = scratch_example("sections");
    let root = dir.path();
    fs::create_dir(root.join("boot")).unwrap();
    big_module(&root.join("boot/initrd.big"));
    fs::write(root.join("a.cfg"), cfg("console=dtuart A")).unwrap();
    fs::write(root.join("b.cfg"), cfg("console=dtuart B")).unwrap();
    let out = root.join("out");
    let build = |cfg: &str| {
        xencfg()
            .args(["build", cfg, "-o", "out", "--stage"])
            .current_dir(root)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn xencfg")
    };
    let complete = |cfg: &str| {
        let started = Instant::now();
        let done = build(cfg).wait_with_output().unwrap();
        assert!(done.status.success(), "build {cfg}: {}", stderr(&done));
        started.elapsed()
    };

    // The two complete outputs an interrupted build may leave.
    let inputs = names(root);
    let duration = complete("b.cfg");
    let new = snapshot(&out);
    assert_manifest_true(&out, &new);
    complete("a.cfg");
    let old = snapshot(&out);
    assert_manifest_true(&out, &old);
    assert_ne!(old, new);
    assert_eq!(
        new.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>()
    );
    assert!(
        out.join("boot/initrd.big").is_file(),
        "staged at its ESP path"
    );

    let seed = std::env::var("XENCFG_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("XENCFG_KILL_SEED={seed}; a complete build takes {duration:?}");
    let mut rng = Rng(seed);
    // Up to twice a build's time: about half the builds are killed, the
    // others finish (or are killed while removing the old output).
    let window = duration.as_micros() as u64 * 2;
    let mut interrupted = 0;
    let mut swapped = 0;
    let mut previous = old.clone();
    for round in 0..20 {
        let cfg = if round % 2 == 0 { "b.cfg" } else { "a.cfg" };
        let mut child = build(cfg);
        let delay = Duration::from_micros(rng.below(window));
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        let status = child.wait().unwrap();
        if !finished && !status.success() {
            interrupted += 1;
        }

        let now = snapshot(&out);
        swapped += usize::from(now != previous);
        previous = now.clone();
        assert!(
            now == old || now == new,
            "round {round} ({cfg}, killed after {delay:?}): the output is neither the old nor the new one"
        );
        assert_manifest_true(&out, &now);
        let staging = staging_dirs(root);
        assert!(
            staging.len() <= 1,
            "round {round}: staging directories {staging:?}: only the interrupted build's may be left"
        );
        // Nothing else appeared beside the output directory but the
        // staging and the (empty) lock file a killed build leaves.
        let mut expected = inputs.clone();
        expected.push("out".into());
        expected.extend(staging);
        let lock = root.join(".out.xencfg.lock");
        if lock.exists() {
            assert_eq!(fs::metadata(&lock).unwrap().len(), 0);
            expected.push(".out.xencfg.lock".into());
        }
        // And the build cache, whole (it is renamed into place).
        let cache = root.join(".out.xencfg.cache");
        if cache.exists() {
            let entries: serde_json::Value =
                serde_json::from_slice(&fs::read(&cache).unwrap()).unwrap();
            assert!(entries["entries"].is_array(), "round {round}: {entries}");
            expected.push(".out.xencfg.cache".into());
        }
        expected.sort();
        assert_eq!(names(root), expected, "round {round}");
    }
    eprintln!(
        "{interrupted} of 20 builds were killed before they finished; the output changed {swapped} times"
    );
    assert!(
        interrupted > 0,
        "no build was interrupted: the test proved nothing"
    );

    // The next complete build removes what the killed one left.
    complete("b.cfg");
    assert_eq!(snapshot(&out), new);
    assert_eq!(staging_dirs(root), Vec::<String>::new());
    assert!(
        !root.join(".out.xencfg.lock").exists(),
        "the lock is removed"
    );
}

#[test]
fn force_is_needed_to_replace_a_directory_xencfg_did_not_write() {
    let dir = scratch_example("sections");
    let root = dir.path();
    let foreign = root.join("out");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("precious.txt"), b"keep me").unwrap();

    let refused = run(&["build", "xen.cfg", "-o", "out"], root);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("pass --force to replace it"));
    assert_eq!(fs::read(foreign.join("precious.txt")).unwrap(), b"keep me");

    let forced = run(&["build", "xen.cfg", "-o", "out", "--force"], root);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!foreign.join("precious.txt").exists());
    assert!(foreign.join("manifest.json").is_file());

    // Once it holds xencfg's manifest, rebuilding needs no --force; an
    // empty directory needs none either.
    let again = run(&["build", "xen.cfg", "-o", "out"], root);
    assert!(again.status.success(), "{}", stderr(&again));
    fs::create_dir(root.join("empty")).unwrap();
    let empty = run(&["build", "xen.cfg", "-o", "empty"], root);
    assert!(empty.status.success(), "{}", stderr(&empty));
}

#[test]
fn sigint_and_sigterm_clean_up_before_the_build_dies_of_them() {
    use std::os::unix::process::ExitStatusExt;
    let dir = scratch_example("sections");
    let root = dir.path();
    fs::create_dir(root.join("boot")).unwrap();
    big_module(&root.join("boot/initrd.big"));
    fs::write(root.join("a.cfg"), cfg("console=dtuart A")).unwrap();
    let mut interrupted = 0;
    for (signal, number) in [("INT", 2), ("TERM", 15)] {
        let child = xencfg()
            .args(["build", "a.cfg", "-o", "out", "--stage"])
            .current_dir(root)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Signal it while it stages (the 200 MiB copy takes a while).
        let started = Instant::now();
        while staging_dirs(root).is_empty() {
            assert!(started.elapsed() < Duration::from_secs(60), "never staged");
            std::thread::sleep(Duration::from_millis(2));
        }
        let kill = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let done = child.wait_with_output().unwrap();
        if done.status.success() {
            // It finished before the signal came: a complete output.
            assert_manifest_true(&root.join("out"), &snapshot(&root.join("out")));
            fs::remove_dir_all(root.join("out")).unwrap();
            continue;
        }
        assert_eq!(
            done.status.signal(),
            Some(number),
            "dies of SIG{signal}: {}",
            stderr(&done)
        );
        assert_eq!(staging_dirs(root), Vec::<String>::new(), "staging removed");
        assert!(!root.join(".out.xencfg.lock").exists(), "lock removed");
        assert!(!root.join("out").exists(), "no output");
        interrupted += 1;
    }
    assert!(
        interrupted > 0,
        "no build was interrupted: the test proved nothing"
    );
}
