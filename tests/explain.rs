//! `xencfg explain`: golden explanations of the examples, and the facts the
//! text must get right — the `/chosen` it shows is the one `build` writes,
//! the command line follows the target version, diagnostics go to stderr
//! and the exit status is `check`'s.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;
use support::golden::assert_golden;
use support::*;
use xencfg::fdt::Fdt;

fn explain(example: &str, args: &[&str]) -> (tempfile::TempDir, Output) {
    let dir = scratch_example(example);
    let mut all = vec!["explain", "xen.cfg"];
    all.extend_from_slice(args);
    let out = run(&all, dir.path());
    (dir, out)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 explanation")
}

fn golden(example: &str, args: &[&str], name: &str) {
    let (_dir, out) = explain(example, args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_golden(
        &testdata(&format!("{example}/expected/{name}")),
        &stdout(&out),
    );
}

#[test]
fn explains_the_rfc_example() {
    golden("rfc", &[], "explain.txt");
}

#[test]
fn explains_the_sections_example() {
    golden("sections", &[], "explain.txt");
}

#[test]
fn explains_one_section() {
    golden(
        "sections",
        &["--section", "xen-debug"],
        "explain-xen-debug.txt",
    );
}

#[test]
fn maps_the_memory_of_the_examples() {
    golden("rfc", &["--memory"], "explain-memory.txt");
    golden("explain", &["--memory"], "explain-memory.txt");
    // Sizes alone: every placed address marked, the firmware's areas shown.
    golden("sizes", &["--memory"], "explain-memory.txt");
}

/// Other teams' examples, explained with their memory maps: the linked
/// structures (static and shared memory, pools, event channels, affinity)
/// and a fragment xencfg builds from `passthrough=`, whose MMIO must be on
/// the map although the fragment is not written yet. Goldens live with
/// explain's own example.
#[test]
fn explains_structures_and_built_fragments() {
    for example in ["structures", "passthrough"] {
        let (_dir, out) = explain(example, &["--memory"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_golden(
            &testdata(&format!("explain/expected/{example}.txt")),
            &stdout(&out),
        );
    }
    let (_dir, out) = explain("passthrough", &["--memory"]);
    assert!(stdout(&out).contains("passthrough MMIO  guest rtc: /passthrough/pl031@9010000"));
}

/// The DTS block of one section's explanation, as DTS source.
fn chosen_block(text: &str, section: &str) -> String {
    let start = text
        .find(&format!("\n[{section}]"))
        .unwrap_or_else(|| panic!("no [{section}] in\n{text}"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with("  /chosen as"))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What explain shows as `/chosen` is, compiled by dtc, exactly the
/// `/chosen` of the DTB that `build` writes.
#[test]
fn shown_chosen_is_what_build_writes() {
    for (example, sections) in [
        ("rfc", &["xen"][..]),
        ("sections", &["xen", "xen-debug"][..]),
        ("explain", &["xen"][..]),
    ] {
        let (dir, out) = explain(example, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        let built = run(&["build", "xen.cfg", "-o", "out"], dir.path());
        assert!(built.status.success(), "{}", stderr(&built));
        for section in sections {
            let dts = dir.path().join(format!("{section}-chosen.dts"));
            fs::write(&dts, chosen_block(&text, section)).unwrap();
            let dtb = dir.path().join(format!("{section}-chosen.dtb"));
            let dtc = std::process::Command::new("dtc")
                .args(["-I", "dts", "-O", "dtb", "-o"])
                .arg(&dtb)
                .arg(&dts)
                .output()
                .expect("dtc must be installed (device-tree-compiler)");
            assert!(
                dtc.status.success(),
                "dtc rejects the shown /chosen of {example} [{section}]: {}",
                String::from_utf8_lossy(&dtc.stderr)
            );
            let shown = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
            let written = Fdt::from_bytes(
                &fs::read(dir.path().join("out").join(format!("{section}.dtb"))).unwrap(),
            )
            .unwrap();
            assert_eq!(
                shown.node("/chosen"),
                written.node("/chosen"),
                "{example} [{section}]"
            );
        }
    }
}

#[test]
fn lists_ignored_lines_under_their_section() {
    let dir = scratch_example("rfc");
    let cfg = dir.path().join("xen.cfg");
    let text = fs::read_to_string(&cfg).unwrap();
    let text = text.replace(
        "options=console=dtuart bootscrub=0",
        "options=console=dtuart\tbootscrub=0",
    );
    fs::write(&cfg, format!("kernel=stray\n{text}")).unwrap();
    let out = run(&["explain", "xen.cfg"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let (before, section) = text.split_once("\n[xen]").expect("[xen] explained");
    assert!(
        before.contains("Outside the boot sections")
            && before.contains("xen.cfg:1:1  warning[XC0112] key-before-section"),
        "{before}"
    );
    assert!(
        section.contains("xen.cfg:7:23  warning[XC0102] control-byte")
            && section.contains("warning[XC0113] ignored-key: Xen ignores the key `bootscrub`"),
        "{section}"
    );
    assert!(
        section.contains("    options=console=dtuart  (xen.cfg:7:9)"),
        "{section}"
    );
    // The diagnostics themselves go to stderr, in full.
    assert!(stderr(&out).contains("warning[XC0102]"), "{}", stderr(&out));
    assert!(!text.contains("= help:"));
}

fn without_options(version: &str, host_bootargs: bool) -> (Option<i32>, String) {
    let dir = scratch_example("rfc");
    let cfg = dir.path().join("xen.cfg");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(
        &cfg,
        text.replace("options=console=dtuart bootscrub=0\n", ""),
    )
    .unwrap();
    if host_bootargs {
        let dtb = dir.path().join("host.dtb");
        let mut host = Fdt::from_bytes(&fs::read(&dtb).unwrap()).unwrap();
        host.node_mut("/chosen")
            .unwrap()
            .set_property("xen,xen-bootargs", b"console=dtuart\0".to_vec());
        fs::write(&dtb, host.to_bytes()).unwrap();
    }
    let out = run(
        &["explain", "xen.cfg", "--xen-version", version],
        dir.path(),
    );
    (out.status.code(), stdout(&out))
}

/// Without `options=`, what Xen does depends on the release (reference
/// §1.10.3); explain says which, and still explains a cfg with errors.
#[test]
fn command_line_without_options_follows_the_version() {
    let (code, text) = without_options("4.16", true);
    assert_eq!(code, Some(0));
    assert!(
        text.contains("Xen 4.16's command line is then only the EFI image name; it discards the host DTB's xen,xen-bootargs"),
        "{text}"
    );
    let (code, text) = without_options("4.17", true);
    assert_eq!(code, Some(0));
    assert!(
        text.contains("Xen 4.17 uses the host DTB's /chosen/xen,xen-bootargs: `console=dtuart`")
            && text.contains("Xen 4.17 puts the EFI image's name first"),
        "{text}"
    );
    let (code, text) = without_options("4.19", true);
    assert_eq!(code, Some(0));
    assert!(
        text.contains("Xen 4.19 uses the host DTB's /chosen/xen,xen-bootargs: `console=dtuart`")
            && !text.contains("image's name"),
        "{text}"
    );
    let (code, text) = without_options("4.22", false);
    assert_eq!(code, Some(1), "XC0608 is an error for 4.19+");
    assert!(
        text.contains(
            "Xen 4.22 then builds its command line from an uninitialised buffer (XC0608)"
        ) && text.contains("domid 2  domU2"),
        "{text}"
    );
}

#[test]
fn unknown_section_is_an_error() {
    let (_dir, out) = explain("sections", &["--section", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`--section nope` names no boot section"));
    assert!(!stdout(&out).contains("\n["), "{}", stdout(&out));
}

#[test]
fn json_diagnostics_go_to_stderr() {
    let dir = scratch_example("explain");
    let args = [
        "explain",
        "xen.cfg",
        "--format",
        "json",
        "--xen-version",
        "4.22",
    ];
    let out = run(&args, dir.path());
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        assert!(v["code"].as_str().unwrap().starts_with("XC0"));
    }
    assert!(stdout(&out).starts_with("What Xen 4.22 reads"));
}

#[test]
fn output_is_deterministic() {
    let (_a, first) = explain("explain", &["--memory"]);
    let (_b, second) = explain("explain", &["--memory"]);
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn missing_host_dtb_still_explains_the_rest() {
    let dir = scratch_example("sections");
    fs::remove_file(dir.path().join("host.dtb")).unwrap();
    let out = run(&["explain", "xen.cfg", "--memory"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("domid 3  guest3"), "{text}");
    assert!(
        text.contains("(not available: the host DTB could not be read or merged)"),
        "{text}"
    );
    assert!(Path::new(&dir.path().join("xen.cfg")).exists());
}

/// Every bad input of the catalogue is explained (with its memory map):
/// exit 0 or 1, never a usage/IO failure or a crash.
#[test]
fn explains_every_bad_input() {
    let bad = testdata("bad");
    let mut cases: Vec<_> = fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    cases.sort();
    assert!(cases.len() > 20);
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&bad.join("_base"), dir.path());
        copy_tree(&case, dir.path());
        let extra: Vec<String> = fs::read_to_string(case.join("args"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        let mut args = vec!["explain", "xen.cfg", "--memory"];
        args.extend(extra.iter().map(String::as_str));
        let out = run(&args, dir.path());
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}: exit {:?}\n{}",
            case.display(),
            out.status.code(),
            stderr(&out)
        );
        assert!(stdout(&out).starts_with("What Xen "), "{}", case.display());
    }
}

/// `--memory --format svg`: the map of the examples as SVG, golden, and
/// the same bytes on every run.
#[test]
fn draws_the_memory_of_the_examples() {
    for example in ["rfc", "explain", "structures", "passthrough", "sizes"] {
        let (_dir, out) = explain(example, &["--memory", "--format", "svg"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let svg = stdout(&out);
        assert_golden(
            &testdata(&format!("explain/expected/memory-{example}.svg")),
            &svg,
        );
        let (_dir, again) = explain(example, &["--memory", "--format", "svg"]);
        assert_eq!(again.stdout, out.stdout, "{example}: not deterministic");
    }
}

/// Diagnostics stay on stderr, as text, and `svg` needs `--memory`.
#[test]
fn svg_keeps_diagnostics_on_stderr_and_needs_memory() {
    let (_dir, out) = explain("explain", &["--memory", "--format", "svg"]);
    assert!(stdout(&out).starts_with("<?xml"));
    assert!(stderr(&out).contains("warning[XC0101]"), "{}", stderr(&out));
    let (_dir, out) = explain("explain", &["--format", "svg"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--memory"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

/// A real SVG renderer (librsvg's `rsvg-convert`, Debian's librsvg2-bin,
/// installed by .ci/run) draws the picture: a PNG that is not empty and
/// not one colour.
#[test]
fn the_memory_picture_renders() {
    if std::process::Command::new("rsvg-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "rsvg-convert must be installed in CI (librsvg2-bin)"
        );
        eprintln!("skipped: rsvg-convert is not installed (apt-get install librsvg2-bin)");
        return;
    }
    let (dir, out) = explain("explain", &["--memory", "--format", "svg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = dir.path().join("memory.svg");
    let png = dir.path().join("memory.png");
    fs::write(&svg, &out.stdout).unwrap();
    let rendered = std::process::Command::new("rsvg-convert")
        .args(["--format", "png", "--output"])
        .arg(&png)
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let pixels = png_pixels(&fs::read(&png).unwrap());
    assert!(pixels.len() > 1000, "{} pixel bytes", pixels.len());
    let first = &pixels[..4];
    assert!(
        pixels.chunks(4).any(|p| p != first),
        "the PNG is a single colour"
    );
}

/// The inflated scanlines of a PNG (with their filter bytes: enough to
/// tell one colour from many), read with the inflater xencfg already uses.
fn png_pixels(png: &[u8]) -> Vec<u8> {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut at = 8;
    let mut idat = Vec::new();
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        if kind == b"IDAT" {
            idat.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    miniz_oxide::inflate::decompress_to_vec_zlib(&idat).expect("PNG data inflates")
}

/// `static-heap=` in a boot section: `explain` shows its ranges and what
/// the heap means; `--memory` maps it from the merged tree (root cells),
/// as text and as SVG.
#[test]
fn explains_the_static_heap() {
    let dir = scratch_example("rfc");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    let cfg = cfg.replace(
        "dtb=host.dtb\n",
        "dtb=host.dtb\nstatic-heap=0x60000000:1G,0xa0000000:256M\n",
    );
    fs::write(dir.path().join("xen.cfg"), cfg).unwrap();
    let text = run(&["explain", "xen.cfg", "--memory"], dir.path());
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(
        text.contains("static-heap 0x60000000 + 1 GiB, 0xa0000000 + 256 MiB"),
        "{text}"
    );
    assert_golden(&testdata("explain/expected/static-heap.txt"), &text);
    let svg = run(
        &["explain", "xen.cfg", "--memory", "--format", "svg"],
        dir.path(),
    );
    assert_eq!(svg.status.code(), Some(0), "{}", stderr(&svg));
    let svg = stdout(&svg);
    assert!(svg.contains("static heap"), "no heap in the picture");
    assert_golden(&testdata("explain/expected/memory-static-heap.svg"), &svg);
}
