//! The FDT codec proven on real trees: every DTB of Debian 12's arm64
//! kernel package (spec §7).
//!
//! For each `*.dtb` under `$XENCFG_CACHE/dtb-corpus` (default
//! `${XDG_CACHE_HOME:-$HOME/.cache}/xencfg`, as in `scripts/arm64-apt.sh`;
//! filled by `scripts/fetch-dtb-corpus`):
//! - our reader accepts it and our writer gives exactly the bytes of
//!   `dtc -I dtb -O dtb`;
//! - our DTS is exactly the text of `dtc -I dtb -O dts`, and compiled by
//!   dtc it gives that blob again;
//! - mutated copies (flipped bytes, cut blocks, bent header fields and
//!   tokens, from a fixed-seed PRNG) never panic the reader, and whatever
//!   it accepts writes out and reads back unchanged.
//!
//! A missing corpus fails the test (set `XENCFG_SKIP_CORPUS=1` to skip it
//! on purpose). Every mismatching file is reported, not just the first.

use std::env;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use xencfg::fdt::{Fdt, Node, Property, Reservation, dts, read, write};

/// The number of DTBs in Debian 12's `linux-image-*-arm64` package.
const MIN_CORPUS: usize = 577;

/// Mutated copies tried per corpus file (override with
/// `XENCFG_CORPUS_MUTATIONS`).
const DEFAULT_MUTATIONS: usize = 16;

fn corpus_dir() -> PathBuf {
    let non_empty = |k: &str| env::var_os(k).filter(|v| !v.is_empty());
    let cache = non_empty("XENCFG_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            non_empty("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| non_empty("HOME").map(|h| Path::new(&h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("xencfg")
        });
    cache.join("dtb-corpus")
}

fn skip() -> bool {
    env::var("XENCFG_SKIP_CORPUS").is_ok_and(|v| v == "1")
}

/// The corpus files, sorted, or a failure explaining how to get them.
fn corpus() -> Option<Vec<PathBuf>> {
    if skip() {
        eprintln!("XENCFG_SKIP_CORPUS=1: skipping the DTB corpus test");
        return None;
    }
    let dir = corpus_dir();
    assert!(
        dir.is_dir(),
        "DTB corpus {} is missing: run scripts/fetch-dtb-corpus (or set \
         XENCFG_SKIP_CORPUS=1 to skip this test)",
        dir.display()
    );
    let mut files = Vec::new();
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "dtb") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= MIN_CORPUS,
        "DTB corpus {} has {} .dtb files, expected at least {MIN_CORPUS}: run \
         scripts/fetch-dtb-corpus",
        dir.display(),
        files.len()
    );
    Some(files)
}

/// Run dtc with `args`, feeding `input` on stdin; its stdout, or why not.
fn dtc(args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut child = Command::new("dtc")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dtc (install device-tree-compiler): {e}"))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // dtc reads all of its input before writing, so this cannot
        // deadlock against a full stdout pipe.
        stdin
            .write_all(input)
            .map_err(|e| format!("writing to dtc: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for dtc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "dtc {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Run `check` on every file on all cores; the failures, with file names.
fn for_each_file(
    files: &[PathBuf],
    check: impl Fn(&Path) -> Result<(), String> + Sync,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = catch_unwind(AssertUnwindSafe(|| check(file)))
                        .unwrap_or_else(|_| Err("panicked".to_string()));
                    if let Err(e) = outcome {
                        failures
                            .lock()
                            .expect("lock")
                            .push(format!("{}: {e}", file.display()));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort();
    failures
}

fn report(what: &str, total: usize, failures: &[String], started: Instant) {
    eprintln!(
        "{what}: {} of {total} files identical ({:.1?})",
        total - failures.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{what}: {} of {total} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The first differing byte, for the report.
fn first_difference(ours: &[u8], theirs: &[u8]) -> String {
    let at = ours
        .iter()
        .zip(theirs)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(theirs.len()));
    format!(
        "first difference at byte {at:#x} (ours {} bytes, dtc's {})",
        ours.len(),
        theirs.len()
    )
}

#[test]
fn blobs_are_written_exactly_as_dtc_writes_them() {
    let Some(files) = corpus() else { return };
    let started = Instant::now();
    let failures = for_each_file(&files, |file| {
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        let fdt = read::parse(&bytes).map_err(|e| format!("rejected: {e}"))?;
        let ours = write::serialize(&fdt, 0);
        let path = file.to_str().ok_or("non-UTF-8 path")?;
        let theirs = dtc(&["-q", "-I", "dtb", "-O", "dtb", "-o", "-", path], None)?;
        if ours != theirs {
            return Err(first_difference(&ours, &theirs));
        }
        // Padding only appends zeros counted in totalsize.
        let padded = write::serialize(&fdt, 4096);
        if padded.get(..8) == ours.get(..8) || padded.len() != ours.len() + 4096 {
            return Err("padding is not counted in totalsize".into());
        }
        if read::parse(&padded).as_ref() != Ok(&fdt) {
            return Err("padded blob does not read back".into());
        }
        Ok(())
    });
    report("dtb round trip", files.len(), &failures, started);
}

#[test]
fn dts_is_dtc_text_and_compiles_back() {
    let Some(files) = corpus() else { return };
    let started = Instant::now();
    let lossy = AtomicUsize::new(0);
    let failures = for_each_file(&files, |file| {
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        let fdt = read::parse(&bytes).map_err(|e| format!("rejected: {e}"))?;
        let ours = dts::to_dts(&fdt);
        let path = file.to_str().ok_or("non-UTF-8 path")?;
        let theirs = dtc(&["-q", "-I", "dtb", "-O", "dts", "-o", "-", path], None)?;
        // Our one deliberate difference: `\x00` where dtc's `\0` would be
        // read back as part of an octal escape.
        let as_dtc = ours.replace("\\x00", "\\0");
        if as_dtc != ours {
            lossy.fetch_add(1, Ordering::Relaxed);
        }
        if as_dtc.as_bytes() != theirs {
            return Err(format!(
                "DTS text differs from dtc's: {}",
                first_difference(as_dtc.as_bytes(), &theirs)
            ));
        }
        let compiled = compile(&ours, fdt.boot_cpuid_phys)?;
        let expected = write::serialize(&fdt, 0);
        if compiled != expected {
            return Err(format!(
                "our DTS compiled by dtc differs: {}",
                first_difference(&compiled, &expected)
            ));
        }
        Ok(())
    });
    eprintln!(
        "dts: {} files where dtc's own DTS would not compile back",
        lossy.load(Ordering::Relaxed)
    );
    report("dts", files.len(), &failures, started);
}

/// Compile DTS text with dtc. `boot_cpuid_phys` has no DTS syntax, so it
/// is handed over as `-b`.
fn compile(dts_text: &str, boot_cpuid_phys: u32) -> Result<Vec<u8>, String> {
    let cpuid = boot_cpuid_phys.to_string();
    dtc(
        &["-q", "-I", "dts", "-O", "dtb", "-b", &cpuid, "-o", "-", "-"],
        Some(dts_text.as_bytes()),
    )
}

/// Values at the edges of dtc's type guessing and string escapes compile
/// back to the same bytes (needs dtc, not the corpus).
#[test]
fn tricky_values_compile_back() {
    if skip() {
        return;
    }
    let values: &[&[u8]] = &[
        b"",
        b"\0",
        b"\0\0",
        b"a\0",
        b"a\0\0",
        b"ab\0\0",
        b"\x002K\0",
        b"1\x000\x001\0",
        b"7\x008\x00x\0",
        b"\x07\x08\t\n\x0b\x0c\r\\\"\0",
        b"\\x00\0",
        b"tab\there\0",
        b"\x01\0",
        b"\x7f\0",
        b"\xc3\xa9\0",
        b"\x01\x02\x03",
        b"abcd",
        b"abc\0",
        &[0xff; 8],
    ];
    let mut root = Node::new("");
    for (i, v) in values.iter().enumerate() {
        root.properties.push(Property {
            name: format!("p{i}"),
            value: v.to_vec(),
        });
    }
    let fdt = Fdt {
        boot_cpuid_phys: 0x8000_0001,
        reservations: vec![Reservation {
            address: u64::MAX - 0xfff,
            size: 0x1000,
        }],
        root,
    };
    let text = dts::to_dts(&fdt);
    let compiled = compile(&text, fdt.boot_cpuid_phys).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(read::parse(&compiled).as_ref(), Ok(&fdt), "{text}");
    assert_eq!(compiled, write::serialize(&fdt, 0), "{text}");
}

/// splitmix64: a tiny deterministic PRNG, so a failure is reproducible
/// from the file name and mutation number alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn put32(blob: &mut [u8], at: usize, v: u32) {
    if let Some(w) = blob.get_mut(at..at + 4) {
        w.copy_from_slice(&v.to_be_bytes());
    }
}

/// One mutation of `blob`, chosen by `rng`.
fn mutate(blob: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = blob.to_vec();
    let len = b.len();
    let word = |rng: &mut Rng| -> u32 {
        match rng.below(6) {
            0 => 0,
            1 => 0xffff_ffff,
            2 => len as u32,
            3 => rng.below(len + 64) as u32,
            4 => [1, 2, 3, 4, 9][rng.below(5)],
            _ => rng.next() as u32,
        }
    };
    match rng.below(5) {
        // A few random bits anywhere.
        0 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
        }
        // Cut short, with totalsize kept or made to agree.
        1 => {
            b.truncate(rng.below(len));
            if rng.below(2) == 0 {
                let n = b.len() as u32;
                put32(&mut b, 4, n);
            }
        }
        // A header field bent.
        2 => {
            let field = 4 * (1 + rng.below(9));
            let v = word(rng);
            put32(&mut b, field, v);
        }
        // A structure-block word (token, length, name offset) bent.
        3 => {
            let off = u32::from_be_bytes([b[8], b[9], b[10], b[11]]) as usize;
            let words = len.saturating_sub(off) / 4;
            let v = word(rng);
            put32(&mut b, off + 4 * rng.below(words), v);
        }
        // A run of bytes overwritten with one value (NUL-less names,
        // zeroed tokens).
        _ => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            let v = [0u8, 0xff, b'a'][rng.below(3)];
            b[start..end].fill(v);
        }
    }
    b
}

#[test]
fn mutated_blobs_never_panic() {
    let Some(files) = corpus() else { return };
    let per_file = env::var("XENCFG_CORPUS_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MUTATIONS);
    let started = Instant::now();
    let accepted = AtomicUsize::new(0);
    let failures = for_each_file(&files, |file| {
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        // The seed depends on the file name only, not the order of work.
        let seed = name
            .unwrap_or_default()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
                (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
            });
        let mut rng = Rng(seed);
        for i in 0..per_file {
            let blob = mutate(&bytes, &mut rng);
            let parsed = catch_unwind(|| Fdt::from_bytes(&blob))
                .map_err(|_| format!("mutation {i}: the reader panicked"))?;
            if let Ok(fdt) = parsed {
                // Whatever is accepted must survive our own round trip.
                accepted.fetch_add(1, Ordering::Relaxed);
                let again = Fdt::from_bytes(&fdt.to_bytes()).map_err(|e| {
                    format!("mutation {i}: accepted, but our output is rejected: {e}")
                })?;
                if again != fdt {
                    return Err(format!(
                        "mutation {i}: accepted, but does not read back equal"
                    ));
                }
            }
        }
        Ok(())
    });
    eprintln!(
        "mutations: {} over {} files, {} accepted, {} failures ({:.1?})",
        per_file * files.len(),
        files.len(),
        accepted.load(Ordering::Relaxed),
        failures.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
