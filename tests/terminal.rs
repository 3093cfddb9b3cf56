//! What xencfg does on a terminal and off it: colour only on a terminal
//! (`--color auto`), never with `NO_COLOR`, on request with `--color
//! always`; a progress line while `build` hashes large files, on a terminal
//! only. A terminal is a pseudo-terminal made by util-linux `script`; the
//! tests that need one are skipped where it is missing.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

const ESC: &str = "\x1b[";

/// Run xencfg under a pseudo-terminal (stdout and stderr both on it);
/// `None` when `script` is not installed.
fn on_terminal(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Option<(i32, String)> {
    let found = Command::new("script").arg("--version").output().is_ok();
    if !found {
        eprintln!("util-linux `script` is not installed; skipping the terminal test");
        return None;
    }
    let mut line = String::from(env!("CARGO_BIN_EXE_xencfg"));
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script");
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

fn piped(args: &[&str], cwd: &Path) -> Output {
    xencfg()
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .output()
        .expect("run xencfg")
}

#[test]
fn colour_on_a_terminal_only() {
    let dir = scratch_example("formats");
    let Some((code, text)) = on_terminal(&["check", "xen.cfg"], dir.path(), &[]) else {
        return;
    };
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("\x1b[1;31merror[XC0405]\x1b[0m"), "{text:?}");
    assert!(text.contains("\x1b[1;33m1 warning\x1b[0m"), "{text:?}");

    let out = piped(&["check", "xen.cfg"], dir.path());
    assert!(!stderr(&out).contains(ESC), "no colour into a pipe");
}

#[test]
fn no_color_and_never_turn_colour_off() {
    let dir = scratch_example("formats");
    for (args, env) in [
        (&["check", "xen.cfg"][..], &[("NO_COLOR", "1")][..]),
        (&["--color", "never", "check", "xen.cfg"][..], &[][..]),
        (&["check", "xen.cfg", "--color=never"][..], &[][..]),
        (&["check", "xen.cfg"][..], &[("TERM", "dumb")][..]),
    ] {
        let Some((_, text)) = on_terminal(args, dir.path(), env) else {
            return;
        };
        assert!(text.contains("error[XC0405]"), "{args:?}: {text}");
        assert!(!text.contains(ESC), "{args:?} {env:?}: {text:?}");
    }
}

#[test]
fn always_colours_a_pipe_even_with_no_color() {
    let dir = scratch_example("formats");
    let out = xencfg()
        .args(["check", "xen.cfg", "--color", "always"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("\x1b[1;31merror[XC0405]"),
        "{}",
        stderr(&out)
    );
    // Machine formats never carry colour.
    let out = piped(
        &["check", "xen.cfg", "--color", "always", "--format", "json"],
        dir.path(),
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(ESC));
}

/// A scratch copy of the rfc example whose first ramdisk is `size` bytes
/// (sparse: ramdisks are not inspected, only hashed).
fn with_large_ramdisk(size: u64) -> tempfile::TempDir {
    let dir = scratch_example("rfc");
    let file = fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("initrd-domu1.cpio.gz"))
        .unwrap();
    file.set_len(size).unwrap();
    dir
}

#[test]
fn progress_while_hashing_large_files_on_a_terminal() {
    let dir = with_large_ramdisk(512 << 20);
    let Some((code, text)) = on_terminal(&["build", "xen.cfg", "-o", "out"], dir.path(), &[])
    else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("\rhashing "), "no progress line in {text:?}");
    assert!(text.contains("of 512.0 MiB ("), "{text:?}");
    // The note on the assumed target comes first (files are hashed only
    // once the checks passed); the line is erased before the summary.
    assert!(text.starts_with("\x1b[1mnote:"), "{text:?}");
    let (_, after) = text.rsplit_once("\r\x1b[K").expect("the line is erased");
    assert!(!after.contains("hashing"), "{text:?}");
    assert!(after.contains("Finished"), "{after:?}");

    // The same build into a pipe prints nothing at all.
    let out = piped(&["build", "xen.cfg", "-o", "out2"], dir.path());
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn no_progress_for_small_builds_or_check() {
    let dir = scratch_example("rfc");
    let Some((code, text)) = on_terminal(&["build", "xen.cfg", "-o", "out"], dir.path(), &[])
    else {
        return;
    };
    assert_eq!(code, 0);
    assert!(!text.contains("hashing"), "{text:?}");
    // check only sniffs files: nothing to show however large they are.
    let dir = with_large_ramdisk(512 << 20);
    let (_, text) = on_terminal(&["check", "xen.cfg"], dir.path(), &[]).unwrap();
    assert!(!text.contains("hashing"), "{text:?}");
}

/// A successful build says where its output is and how much there is to
/// install, in one line, on a terminal; into a pipe it says nothing.
#[test]
fn build_prints_one_summary_line_on_a_terminal_only() {
    let dir = scratch_example("sections");
    let args = [
        "build",
        "xen.cfg",
        "-o",
        "out",
        "--xen-version",
        "4.22",
        "--color",
        "never",
    ];
    let Some((code, text)) = on_terminal(&args, dir.path(), &[]) else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text:?}");
    assert!(
        lines[0].starts_with("    Finished out: 9 files to install, 24.2 KiB "),
        "{text:?}"
    );
    assert!(
        lines[0].ends_with("(6 to copy from their sources, see manifest.json)"),
        "{text:?}"
    );

    let out = piped(
        &["build", "xen.cfg", "-o", "out2", "--xen-version", "4.22"],
        dir.path(),
    );
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "silent when piped");
    assert!(out.stdout.is_empty());
}

/// Without a target, the assumption is said once, first, on a terminal.
#[test]
fn the_assumed_target_is_said_once_on_a_terminal() {
    let dir = scratch_example("sections");
    let Some((code, text)) =
        on_terminal(&["check", "xen.cfg", "--color", "never"], dir.path(), &[])
    else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with("note: no target Xen given (`--xen-version`, `--xen` or `--xen-config`): checking for Xen 4.22 and warning where Xen 4.16 to 4.22 differ\r\n"),
        "{text:?}"
    );
    assert_eq!(text.matches("no target Xen given").count(), 1);

    let pinned = [
        "check",
        "xen.cfg",
        "--xen-version",
        "4.17",
        "--color",
        "never",
    ];
    let (_, text) = on_terminal(&pinned, dir.path(), &[]).unwrap();
    assert!(!text.contains("no target Xen given"), "{text:?}");
    let out = piped(&["check", "xen.cfg"], dir.path());
    assert_eq!(stderr(&out), "", "nothing but diagnostics into a pipe");
}
