//! Hostile inputs: files that lie, loop, block, never end or try to escape.
//! Each test makes its input at run time in a scratch directory and states
//! the exact outcome: the exit status (1 for findings, 2 for usage and I/O
//! failures), the check code or message, and that nothing hangs (every run
//! has a deadline), nothing panics and no partial output is written.
//!
//! Decisions recorded here:
//! - a cfg is at most 1 MiB (`load::cfg::MAX_CFG_SIZE`): larger files are
//!   refused with exit 2 before any byte is read;
//! - a host DTB or overlay is at most 2 MiB, Xen's own limit (XC0703);
//! - FIFOs and devices are refused without being opened for a blocking
//!   read, wherever a path is accepted (cfg, chain, modules, `dts`);
//! - a file that changes or vanishes between the checks and staging fails
//!   the build (exit 2) and leaves the output directory as it was.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Long enough for a debug build on a loaded machine; a hang is forever.
const DEADLINE: Duration = Duration::from_secs(60);

/// Run xencfg in `cwd`, killing it (and failing the test) at the deadline.
fn run_bounded(args: &[&str], cwd: &Path) -> Output {
    let mut child = xencfg()
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xencfg");
    // Drain the pipes on threads so a chatty child cannot block on them.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).ok();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).ok();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("xencfg {args:?} hung (killed after {DEADLINE:?})");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// A scratch copy of the section-form example (valid host DTB and images).
fn scratch() -> tempfile::TempDir {
    scratch_example("sections")
}

/// Assert the exit status and that stderr contains every `needle`, and
/// never a panic.
#[track_caller]
fn expect(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "xencfg panicked:\n{err}");
    assert_eq!(out.status.code(), Some(code), "exit status; stderr:\n{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` not in stderr:\n{err}");
    }
}

/// `check` and `build` of `cfg` in `dir`: same status; build writes nothing
/// when it fails.
#[track_caller]
fn check_and_build(dir: &Path, cfg: &str, code: i32, needles: &[&str]) {
    let out = run_bounded(&["check", cfg], dir);
    expect(&out, code, needles);
    let built = run_bounded(&["build", cfg, "-o", "out"], dir);
    expect(&built, code, needles);
    if code != 0 {
        assert!(!dir.join("out").exists(), "a failed build wrote output");
        assert_no_staging(dir);
    }
}

#[track_caller]
fn assert_no_staging(dir: &Path) {
    let left: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".xencfg-"))
        .collect();
    assert!(left.is_empty(), "temporary directories left: {left:?}");
}

/// A minimal cfg with one guest whose kernel, ramdisk and dtb are given.
fn guest_cfg(kernel: &str, extra: &str) -> String {
    format!(
        "[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart\ndtb=host.dtb\ndomains=g1\n\n\
         [g1]\nkernel={kernel}\ncpus=1\nmemory=64M\n{extra}"
    )
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A raw FDT blob with the given structure block and strings, laid out
/// like dtc's; header fields can be overwritten afterwards.
fn raw_fdt(structure: &[u8], strings: &[u8]) -> Vec<u8> {
    let off_rsv = 40u32;
    let off_struct = off_rsv + 16;
    let off_strings = off_struct + structure.len() as u32;
    let total = off_strings + strings.len() as u32;
    let mut blob = Vec::new();
    for field in [
        0xd00d_feed,
        total,
        off_struct,
        off_strings,
        off_rsv,
        17,
        16,
        0,
        strings.len() as u32,
        structure.len() as u32,
    ] {
        blob.extend(be32(field));
    }
    blob.extend([0u8; 16]);
    blob.extend(structure);
    blob.extend(strings);
    blob
}

/// A tree nested `depth` levels deep (the root counts as 1).
fn nested_fdt(depth: usize) -> Vec<u8> {
    let mut st = Vec::new();
    for level in 0..depth {
        st.extend(be32(1));
        st.extend(if level == 0 {
            &b"\0\0\0\0"[..]
        } else {
            &b"n\0\0\0"[..]
        });
    }
    for _ in 0..depth {
        st.extend(be32(2));
    }
    st.extend(be32(9));
    raw_fdt(&st, b"")
}

fn set32(blob: &mut [u8], offset: usize, v: u32) {
    blob[offset..offset + 4].copy_from_slice(&be32(v));
}

// ---------------------------------------------------------------- DTBs

#[test]
fn truncated_host_dtb() {
    let dir = scratch();
    let host = fs::read(dir.path().join("host.dtb")).unwrap();
    for len in [0, 3, 20, 39, 100, host.len() - 1] {
        write(dir.path(), "host.dtb", &host[..len]);
        let out = run_bounded(&["check", "xen.cfg"], dir.path());
        let expected = if len == 0 { "XC0403" } else { "XC0407" };
        expect(&out, 1, &[expected, "xen.cfg:7:5"]);
    }
}

#[test]
fn host_dtb_header_that_lies() {
    let dir = scratch();
    let host = fs::read(dir.path().join("host.dtb")).unwrap();
    // (field offset, value, what the diagnostic says)
    let lies: &[(usize, u32, &str)] = &[
        (4, u32::MAX, "truncated"),           // totalsize
        (4, 41, "extends past totalsize"),    // totalsize too small
        (8, 0xffff_fff0, "structure block"),  // off_dt_struct
        (12, 0xffff_fff0, "strings block"),   // off_dt_strings
        (16, 0xffff_fff0, "reservation"),     // off_mem_rsvmap
        (16, 44, "not 8-byte aligned"),       // off_mem_rsvmap
        (16, 0, "header"),                    // off_mem_rsvmap inside the header
        (20, 1, "too old"),                   // version
        (24, 99, "last_comp_version"),        // last_comp_version
        (32, 0x7fff_ffff, "strings block"),   // size_dt_strings
        (36, 0x7fff_ffff, "structure block"), // size_dt_struct
        (36, 4, "not NUL-terminated"),        // size_dt_struct too small
    ];
    for &(offset, value, says) in lies {
        let mut blob = host.clone();
        set32(&mut blob, offset, value);
        write(dir.path(), "host.dtb", &blob);
        let out = run_bounded(&["check", "xen.cfg"], dir.path());
        expect(&out, 1, &["XC0407"]);
        let err = stderr(&out);
        assert!(
            err.to_lowercase().contains(&says.to_lowercase()),
            "field {offset:#x}={value:#x}: expected `{says}` in\n{err}"
        );
        let dts = run_bounded(&["dts", "host.dtb"], dir.path());
        expect(&dts, 1, &["XC0407", "not a valid device tree blob"]);
    }
}

#[test]
fn dtb_nested_ten_thousand_deep() {
    let dir = scratch();
    write(dir.path(), "host.dtb", nested_fdt(10_000));
    let out = run_bounded(&["check", "xen.cfg"], dir.path());
    expect(&out, 1, &["XC0407", "nested more than 1024 levels deep"]);
    let dts = run_bounded(&["dts", "host.dtb"], dir.path());
    expect(&dts, 1, &["nested more than 1024 levels deep"]);
    // As an overlay too.
    write(dir.path(), "deep.dtbo", nested_fdt(10_000));
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replacen("dtb=host.dtb", "dtb=host.dtb\ndtbo=deep.dtbo", 1);
    write(dir.path(), "xen.cfg", cfg);
    let host_ok = scratch();
    fs::copy(host_ok.path().join("host.dtb"), dir.path().join("host.dtb")).unwrap();
    let out = run_bounded(&["check", "xen.cfg"], dir.path());
    expect(&out, 1, &["XC0407", "deep.dtbo"]);
}

#[test]
fn host_dtb_larger_than_xen_accepts_is_not_read() {
    let dir = scratch();
    let mut blob = fs::read(dir.path().join("host.dtb")).unwrap();
    blob.resize(3 << 20, 0);
    write(dir.path(), "host.dtb", &blob);
    check_and_build(dir.path(), "xen.cfg", 1, &["XC0703", "3145728 bytes"]);
}

#[test]
fn dts_of_things_that_are_not_files() {
    let dir = tempfile::tempdir().unwrap();
    expect(
        &run_bounded(&["dts", "/dev/zero"], dir.path()),
        2,
        &["/dev/zero is a device, not a regular file"],
    );
    expect(
        &run_bounded(&["dts", "."], dir.path()),
        2,
        &["is a directory"],
    );
    if mkfifo(&dir.path().join("fifo")) {
        expect(
            &run_bounded(&["dts", "fifo"], dir.path()),
            2,
            &["fifo is a FIFO, not a regular file"],
        );
    }
}

// ---------------------------------------------------------------- cfg text

#[test]
fn cfg_with_nul_bytes() {
    let dir = scratch();
    let cfg = fs::read(dir.path().join("xen.cfg")).unwrap();
    let text = String::from_utf8(cfg).unwrap();
    // A NUL inside `memory=768M`: Xen reads `mem` as a bare word and
    // `ory=768M` as a key.
    write(
        dir.path(),
        "nul.cfg",
        text.replacen("memory=768M", "mem\0ory=768M", 1),
    );
    check_and_build(
        dir.path(),
        "nul.cfg",
        1,
        &["XC0102", "a NUL byte ends the line"],
    );
}

#[test]
fn cfg_in_utf16_with_and_without_bom() {
    let dir = scratch();
    let text = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    write(dir.path(), "le.cfg", le);
    write(dir.path(), "be.cfg", be);
    check_and_build(dir.path(), "le.cfg", 1, &["XC0116", "UTF-16"]);
    check_and_build(dir.path(), "be.cfg", 1, &["XC0116", "UTF-16"]);
}

#[test]
fn cfg_with_utf8_bom() {
    let dir = scratch();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(fs::read(dir.path().join("xen.cfg")).unwrap());
    write(dir.path(), "bom.cfg", bytes);
    check_and_build(dir.path(), "bom.cfg", 1, &["XC0108", "byte order mark"]);
}

/// Deterministic noise with every byte value.
fn garbage(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

#[test]
fn cfg_of_100_mib_garbage_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: creating it costs nothing, and reading it would take long.
    let big = fs::File::create(dir.path().join("big.cfg")).unwrap();
    big.set_len(100 << 20).unwrap();
    let start = Instant::now();
    let out = run_bounded(&["check", "big.cfg"], dir.path());
    expect(&out, 2, &["big.cfg is 104857600 bytes", "at most 1 MiB"]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn cfg_of_1_mib_garbage_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "noise.cfg", garbage(1 << 20));
    let out = run_bounded(&["check", "noise.cfg"], dir.path());
    expect(&out, 1, &["XC0116", "binary"]);
    assert!(stderr(&out).len() < 4096, "one short report, not a flood");
}

/// Peak RSS in KiB of `xencfg args`, where GNU time is installed.
fn peak_rss_kib(args: &[&str], cwd: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_xencfg"))
        .args(args)
        .current_dir(cwd)
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines().last()?.trim().parse().ok()
}

#[test]
fn one_mib_cfgs_that_would_be_quadratic_finish_in_bounded_memory() {
    let dir = scratch();
    let names: Vec<String> = (0..60_000).map(|i| format!("g{i}")).collect();
    let mut unknown = format!(
        "[global]\ndefault=xen\n[xen]\noptions=a\ndtb=host.dtb\ndomains={}\n",
        names.join(",")
    );
    unknown.truncate(1_000_000);
    unknown.push('\n');
    let mut flat = String::from("[global]\ndefault=xen\n[xen]\noptions=a\ndtb=host.dtb\n");
    for i in 0.. {
        if flat.len() > 1_000_000 {
            break;
        }
        flat.push_str(&format!(
            "domu{i}_kernel=Image-guest1.bin\ndomu{i}_property=memory=1M\ndomu1_property=p{i}=<1>\n"
        ));
    }
    let mut sections = String::from("[global]\ndefault=s0\n");
    for i in 0.. {
        if sections.len() > 1_000_000 {
            break;
        }
        sections.push_str(&format!("[s{i}]\nkernel=Image-guest1.bin\nk{i}\n"));
    }
    for (name, text) in [
        ("unknown.cfg", unknown),
        ("flat.cfg", flat),
        ("sections.cfg", sections),
    ] {
        assert!(text.len() <= 1 << 20, "{name} must be under the cap");
        write(dir.path(), name, &text);
        let start = Instant::now();
        let out = run_bounded(&["check", name], dir.path());
        expect(&out, 1, &[]);
        eprintln!("{name}: {:?}", start.elapsed());
        let host_dtb = fs::metadata(dir.path().join("host.dtb")).unwrap().len();
        let bound = memory_bound_kib(text.len() as u64, host_dtb);
        for command in ["check", "build"] {
            let args = [command, name, "-o", "out"];
            let args = if command == "check" {
                &args[..2]
            } else {
                &args[..]
            };
            let kib = peak_rss_kib(args, dir.path()).expect("/usr/bin/time (package `time`)");
            assert!(
                kib <= bound,
                "{command} {name}: peak RSS {kib} KiB > {bound} KiB"
            );
            // Under an address-space limit of the bound, the run ends as
            // it does without one: no allocation failure, no abort.
            let limited = Command::new("prlimit")
                .arg(format!("--as={}", bound * 1024))
                .arg(env!("CARGO_BIN_EXE_xencfg"))
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            expect(&limited, 1, &[]);
        }
    }
}

/// README's "Memory" bound, in KiB: 32 MiB, 192 bytes per cfg byte and
/// four times the host DTBs and overlays.
fn memory_bound_kib(cfg_bytes: u64, host_dtb_bytes: u64) -> u64 {
    32 * 1024 + (192 * cfg_bytes + 4 * host_dtb_bytes).div_ceil(1024)
}

/// `A1=$A0$A0`, `A2=$A1$A1`, …: each line doubles the value. 60 lines
/// expanded to 2^60 bytes (1.26 GB and a 262 MB cfg at 2.8 KB of config);
/// now a value is capped at 64 KiB and the import stays small.
#[test]
fn import_whose_variables_double_per_line_stays_small() {
    let dir = scratch();
    let mut config = String::from("A0=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    for i in 1..60 {
        config.push_str(&format!("A{i}=\"$A{}$A{}\"\n", i - 1, i - 1));
    }
    config.push_str("DOMU_KERNEL[0]=$A59\nNUM_DOMUS=1\n");
    write(dir.path(), "config", &config);
    let args = ["import", "imagebuilder", "config"];
    let out = run_bounded(&args, dir.path());
    expect(&out, 1, &["makes this value longer than 64 KiB"]);
    assert!(out.stdout.is_empty(), "no cfg is written");
    assert!(
        out.stderr.len() < 64 << 10,
        "{} bytes of diagnostics",
        out.stderr.len()
    );
    if let Some(kib) = peak_rss_kib(&args, dir.path()) {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    }
}

/// One large host DTB named by a thousand boot sections is read once, and
/// no section's merged tree is kept: memory stays that of one or two trees
/// (it was two trees per section: 3 GB here).
#[test]
fn many_sections_naming_one_large_host_dtb_stay_small() {
    let dir = scratch();
    let host_dtb = fs::read(dir.path().join("host.dtb")).unwrap();
    let mut host = xencfg::fdt::Fdt::from_bytes(&host_dtb).unwrap();
    host.root
        .set_property("xencfg,ballast", vec![0x5a; 1536 * 1024]);
    write(dir.path(), "large.dtb", host.to_bytes());
    let mut cfg = String::from("[global]\ndefault=s0\n");
    for i in 0..1000 {
        cfg.push_str(&format!(
            "[s{i}]\noptions=console=dtuart\ndtb=large.dtb\nkernel=Image-guest1.bin\n"
        ));
    }
    write(dir.path(), "many.cfg", &cfg);
    let out = run_bounded(&["check", "many.cfg"], dir.path());
    expect(&out, 0, &[]);
    if let Some(kib) = peak_rss_kib(&["check", "many.cfg"], dir.path()) {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    }
    // build writes 1.5 GiB of DTBs, one section at a time: it held them all
    // (612 MiB for 400 sections).
    let args = ["build", "many.cfg", "-o", "out"];
    if let Some(kib) = peak_rss_kib(&args, dir.path()) {
        assert!(kib < 64 * 1024, "build's peak RSS {kib} KiB");
        assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 1002);
    }
}

/// `explain --memory` lists a few overlaps per region and counts the rest:
/// 4000 copies of one `/memreserve/` printed 16 million lines (1.4 GB), and
/// 5000 overlapping reserved-memory nodes took 3 GiB.
#[test]
fn explain_memory_of_thousands_of_overlapping_reservations_stays_linear() {
    use xencfg::fdt::{Fdt, Node, Reservation};
    let dir = scratch();
    let mut host = Fdt::from_bytes(&fs::read(dir.path().join("host.dtb")).unwrap()).unwrap();
    host.reservations = (0..4000)
        .map(|_| Reservation {
            address: 0x4800_0000,
            size: 0x10_0000,
        })
        .collect();
    let mut reserved = Node {
        name: "reserved-memory".into(),
        ..Default::default()
    };
    reserved.set_property("#address-cells", 2u32.to_be_bytes().to_vec());
    reserved.set_property("#size-cells", 2u32.to_be_bytes().to_vec());
    reserved.set_property("ranges", Vec::new());
    for i in 0..5000u64 {
        let mut node = Node {
            name: format!("fw@{:x}", 0x4900_0000 + i),
            ..Default::default()
        };
        let reg: Vec<u8> = [0x4900_0000 + i, 0x10_0000]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        node.set_property("reg", reg);
        reserved.children.push(node);
    }
    host.root.children.push(reserved);
    write(dir.path(), "host.dtb", host.to_bytes());
    let args = ["explain", "--memory", "xen.cfg", "--xen-version", "4.22"];
    let out = run_bounded(&args, dir.path());
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    // At most a few lines per region: about 1 KiB each of the 9000.
    let per_region = out.stdout.len() / 9000;
    assert!(
        per_region < 2048,
        "{per_region} bytes of explanation per region"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("more claims"),
        "overlaps beyond the first few are counted"
    );
    if let Some(kib) = peak_rss_kib(&args, dir.path()) {
        assert!(kib < 256 * 1024, "peak RSS {kib} KiB");
    }
}

#[test]
fn chain_cycles_end() {
    let dir = scratch();
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    // To itself.
    write(
        dir.path(),
        "self.cfg",
        cfg.replacen("default=xen", "default=xen\nchain=self.cfg", 1),
    );
    check_and_build(dir.path(), "self.cfg", 1, &["XC0206", "leads back"]);
    // Through two other files, one of them spelt with `./`-free subdir.
    fs::create_dir(dir.path().join("sub")).unwrap();
    write(
        dir.path(),
        "a.cfg",
        cfg.replacen("default=xen", "default=xen\nchain=sub/b.cfg", 1),
    );
    write(dir.path(), "sub/b.cfg", "[global]\nchain=c.cfg\n");
    write(dir.path(), "c.cfg", "[global]\nchain=a.cfg\n");
    check_and_build(dir.path(), "a.cfg", 1, &["XC0206"]);
    // To a FIFO: refused, not read.
    if mkfifo(&dir.path().join("fifo")) {
        write(
            dir.path(),
            "fifo.cfg",
            cfg.replacen("default=xen", "default=xen\nchain=fifo", 1),
        );
        check_and_build(dir.path(), "fifo.cfg", 1, &["XC0402", "is a FIFO"]);
    }
}

#[test]
fn cfg_itself_is_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    expect(
        &run_bounded(&["check", "/dev/zero"], dir.path()),
        2,
        &["is a device"],
    );
    expect(
        &run_bounded(&["check", "."], dir.path()),
        2,
        &["is a directory"],
    );
    expect(
        &run_bounded(&["check", "missing.cfg"], dir.path()),
        2,
        &["cannot read missing.cfg"],
    );
    if mkfifo(&dir.path().join("fifo")) {
        expect(
            &run_bounded(&["check", "fifo"], dir.path()),
            2,
            &["is a FIFO"],
        );
    }
    std::os::unix::fs::symlink("loop-b", dir.path().join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", dir.path().join("loop-b")).unwrap();
    expect(
        &run_bounded(&["check", "loop-a"], dir.path()),
        2,
        &["symbolic links"],
    );
}

#[test]
fn xen_binary_and_config_that_are_not_files() {
    let dir = scratch();
    if !mkfifo(&dir.path().join("fifo")) {
        eprintln!("mkfifo not available; skipping");
        return;
    }
    for flag in ["--xen", "--xen-config"] {
        for path in ["fifo", "/dev/zero", "."] {
            let out = run_bounded(&["check", "xen.cfg", flag, path], dir.path());
            expect(&out, 2, &["not a regular file"]);
        }
    }
    let staged = run_bounded(
        &["build", "xen.cfg", "-o", "out", "--stage", "--xen", "fifo"],
        dir.path(),
    );
    expect(&staged, 2, &["not a regular file"]);
    assert!(!dir.path().join("out").exists());
}

// ---------------------------------------------------------------- files

#[test]
fn xen_config_that_is_a_binary_is_named_not_dumped() {
    let dir = scratch();
    let out = run_bounded(&["check", "xen.cfg", "--xen-config", "/bin/ls"], dir.path());
    expect(
        &out,
        2,
        &["/bin/ls is not a Kconfig file: it holds binary data"],
    );
    assert!(out.stderr.len() < 300, "{}", stderr(&out));
}

#[test]
fn referenced_directory() {
    let dir = scratch();
    fs::create_dir(dir.path().join("Image-dir")).unwrap();
    write(dir.path(), "g.cfg", guest_cfg("Image-dir", ""));
    check_and_build(dir.path(), "g.cfg", 1, &["XC0402", "is a directory"]);
}

#[test]
fn referenced_fifo_does_not_block() {
    let dir = scratch();
    if !mkfifo(&dir.path().join("Image-fifo")) {
        eprintln!("mkfifo not available; skipping");
        return;
    }
    write(
        dir.path(),
        "g.cfg",
        guest_cfg("Image-fifo", "ramdisk=Image-fifo\n"),
    );
    check_and_build(dir.path(), "g.cfg", 1, &["XC0402", "is a FIFO"]);
    // As the host DTB too.
    let cfg = fs::read_to_string(dir.path().join("xen.cfg"))
        .unwrap()
        .replace("dtb=host.dtb", "dtb=Image-fifo");
    write(dir.path(), "xen.cfg", cfg);
    check_and_build(dir.path(), "xen.cfg", 1, &["XC0402"]);
}

#[test]
fn referenced_file_of_proc_whose_size_lies_ends_at_once() {
    // A regular file by its type, 0 bytes by its size, endless to read.
    let dir = scratch();
    std::os::unix::fs::symlink("/proc/self/pagemap", dir.path().join("Image-proc")).unwrap();
    write(dir.path(), "g.cfg", guest_cfg("Image-proc", ""));
    check_and_build(
        dir.path(),
        "g.cfg",
        1,
        &["XC0402", "holds more than the 0 bytes"],
    );
}

#[test]
fn build_judges_a_huge_sparse_ramdisk_before_reading_it() {
    // 1 TiB of holes: check answers at once from its size; build used to
    // read it all (minutes) before giving the same answer.
    let dir = scratch();
    let big = dir.path().join("initrd.huge");
    let f = fs::File::create(&big).unwrap();
    if f.set_len(1 << 40).is_err() {
        eprintln!("this file system cannot hold a 1 TiB sparse file; skipping");
        return;
    }
    write(
        dir.path(),
        "g.cfg",
        guest_cfg(
            "Image-guest1.bin",
            "ramdisk=initrd.huge
",
        ),
    );
    check_and_build(dir.path(), "g.cfg", 1, &["XC1002", "1024 GiB"]);
}

#[test]
fn referenced_symlink_loop_and_dangling_link() {
    let dir = scratch();
    std::os::unix::fs::symlink("loop-b", dir.path().join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", dir.path().join("loop-b")).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
    write(
        dir.path(),
        "g.cfg",
        guest_cfg("loop-a", "ramdisk=dangling\n"),
    );
    check_and_build(
        dir.path(),
        "g.cfg",
        1,
        &[
            "XC0408",
            "symbolic links",
            "XC0401",
            "dangling symbolic link",
        ],
    );
}

/// chmod 000 stops every user but root. Root (CI runs the tests as root)
/// reads the file anyway, and so does the firmware: FAT has no
/// permissions. So: without privilege, XC0408; with it, the build works
/// and stages the bytes, which is what will boot.
#[test]
fn referenced_file_without_permissions() {
    let dir = scratch();
    let image = dir.path().join("Image-guest1.bin");
    fs::set_permissions(&image, fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = fs::read(&image).is_ok();
    write(dir.path(), "g.cfg", guest_cfg("Image-guest1.bin", ""));
    if privileged {
        let out = run_bounded(&["build", "g.cfg", "-o", "out", "--stage"], dir.path());
        expect(&out, 0, &[]);
        fs::set_permissions(&image, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            fs::read(dir.path().join("out/Image-guest1.bin")).unwrap(),
            fs::read(&image).unwrap()
        );
    } else {
        check_and_build(dir.path(), "g.cfg", 1, &["XC0408", "Permission denied"]);
    }
}

#[test]
fn file_that_vanishes_or_changes_before_staging_fails_the_build() {
    use xencfg::analyze::Options;
    use xencfg::commands::build::{self, BuildOptions};
    use xencfg::diag::{Diagnostics, SourceMap};
    use xencfg::pipeline;
    use xencfg::target::Target;

    let dir = scratch();
    let out = dir.path().join("out");
    let compile_now = || {
        let options = Options {
            cfg: dir.path().join("xen.cfg"),
            root: None,
            section: None,
            target: Target::default(),
            efi_name: "xen".into(),
            host_ram: None,
        };
        let mut diags = Diagnostics::default();
        let mut compiled =
            pipeline::run(&options, &mut SourceMap::default(), &mut diags).expect("compile");
        assert!(!diags.has_errors());
        compiled
            .hash_inputs(None, &xencfg::load::cache::Cache::disabled())
            .expect("hash");
        compiled
    };
    let build_opts = BuildOptions {
        out: out.clone(),
        efi_name: "xen".into(),
        stage: true,
        xen: None,
        emit_dts: false,
        force: false,
        target: Target::default(),
    };
    build::build(
        &compile_now(),
        &build_opts,
        &xencfg::load::cache::Cache::disabled(),
    )
    .expect("first build");
    let before = fs::read(out.join("manifest.json")).unwrap();

    // Vanishes after the checks.
    let compiled = compile_now();
    let ramdisk = dir.path().join("initrd-guest2.cpio.gz");
    let saved = fs::read(&ramdisk).unwrap();
    fs::remove_file(&ramdisk).unwrap();
    let e = build::build(
        &compiled,
        &build_opts,
        &xencfg::load::cache::Cache::disabled(),
    )
    .expect_err("must fail");
    assert!(e.to_string().contains("initrd-guest2.cpio.gz"), "{e}");
    assert_eq!(fs::read(out.join("manifest.json")).unwrap(), before);
    assert_no_staging(dir.path());

    // Changes after the checks: the manifest would lie.
    fs::write(&ramdisk, &saved).unwrap();
    let compiled = compile_now();
    let mut changed = saved.clone();
    changed.push(0);
    fs::write(&ramdisk, &changed).unwrap();
    let e = build::build(
        &compiled,
        &build_opts,
        &xencfg::load::cache::Cache::disabled(),
    )
    .expect_err("must fail");
    assert!(
        e.to_string().contains("changed while xencfg was building"),
        "{e}"
    );
    assert_eq!(fs::read(out.join("manifest.json")).unwrap(), before);
    assert_no_staging(dir.path());
}

#[test]
fn paths_that_escape_the_esp() {
    let dir = scratch();
    fs::create_dir(dir.path().join("esp")).unwrap();
    fs::rename(dir.path().join("xen.cfg"), dir.path().join("esp/xen.cfg")).unwrap();
    fs::copy(dir.path().join("host.dtb"), dir.path().join("esp/host.dtb")).unwrap();
    let host_image = dir.path().join("Image-guest1.bin");
    for path in [
        "../Image-guest1.bin".to_string(),
        "..\\Image-guest1.bin".to_string(),
        "sub/../../Image-guest1.bin".to_string(),
        host_image.display().to_string(),
        "\\Image-guest1.bin".to_string(),
    ] {
        write(&dir.path().join("esp"), "g.cfg", guest_cfg(&path, ""));
        let out = run_bounded(
            &["build", "g.cfg", "-o", "out", "--stage"],
            &dir.path().join("esp"),
        );
        expect(&out, 1, &["XC0502"]);
        assert!(!dir.path().join("esp/out").exists(), "{path}: wrote output");
    }
}

// ---------------------------------------------------------------- output

#[test]
fn output_directory_that_holds_the_inputs() {
    let dir = scratch();
    for out in [".", "..", "/"] {
        let built = run_bounded(&["build", "xen.cfg", "-o", out, "--force"], dir.path());
        expect(&built, 2, &["contains the input", "choose another -o"]);
    }
    assert!(dir.path().join("xen.cfg").is_file(), "inputs untouched");
    assert_no_staging(dir.path());
}

#[test]
fn output_path_that_is_a_file() {
    let dir = scratch();
    let before = fs::read(dir.path().join("xen.cfg")).unwrap();
    for out in ["xen.cfg", "host.dtb"] {
        let built = run_bounded(&["build", "xen.cfg", "-o", out, "--force"], dir.path());
        expect(&built, 2, &["exists and is not a directory"]);
    }
    assert_eq!(fs::read(dir.path().join("xen.cfg")).unwrap(), before);
    // A file where a parent directory should be.
    let built = run_bounded(&["build", "xen.cfg", "-o", "xen.cfg/out"], dir.path());
    expect(&built, 2, &["Not a directory"]);
    assert_no_staging(dir.path());
}

#[test]
fn output_directory_that_cannot_be_written() {
    let dir = scratch();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = fs::write(locked.join("probe"), b"").is_ok();
    // Root writes through mode bits; /proc refuses even root.
    let out = if privileged {
        PathBuf::from("/proc/xencfg-out")
    } else {
        locked.join("out")
    };
    let built = run_bounded(
        &["build", "xen.cfg", "-o", out.to_str().unwrap()],
        dir.path(),
    );
    expect(&built, 2, &["cannot create"]);
    assert!(!out.exists());
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------- numbers

#[test]
fn numbers_that_overflow_every_encoding() {
    let dir = scratch();
    let cases: &[(&str, &str)] = &[
        ("memory=99999999999T", "too large"),
        ("memory=0xFFFFFFFFFFFFFFFF", "not a multiple of 4 KiB"),
        ("memory=99999999999999999999999", "too large"),
        ("cpus=0x100000000", "does not fit in 32 bits"),
        ("cpus=99999999999999999999999", "does not fit in 64 bits"),
        (
            "nr_spis=0xFFFFFFFF",
            "more SPIs than Xen 4.22 gives a guest",
        ),
        ("nr_spis=99999999999999999999999", "does not fit in 64 bits"),
        ("property=foo=<0x100000000 1>", "does not fit in 32 bits"),
        (
            "property=foo=<99999999999999999999>",
            "does not fit in 64 bits",
        ),
        (
            "xen,domain-p2m-mem-mb=99999999999T",
            "does not fit in 32 bits",
        ),
    ];
    for (line, says) in cases {
        // First so it shadows nothing: the guest's own cpus/memory follow
        // only when the case does not set them.
        let key = line.split('=').next().unwrap();
        let mut extra = String::from(*line);
        extra.push('\n');
        let mut cfg = guest_cfg("Image-guest1.bin", &extra);
        if key == "cpus" {
            cfg = cfg.replacen("cpus=1\n", "", 1);
        }
        if key == "memory" {
            cfg = cfg.replacen("memory=64M\n", "", 1);
        }
        write(dir.path(), "n.cfg", cfg);
        let out = run_bounded(&["check", "n.cfg"], dir.path());
        expect(&out, 1, &[says]);
        let built = run_bounded(&["build", "n.cfg", "-o", "out"], dir.path());
        expect(&built, 1, &[says]);
        assert!(!dir.path().join("out").exists());
    }
}
