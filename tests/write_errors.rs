//! Results that cannot be written: standard output on a full device is an
//! error (exit 2, said on stderr), never a panic or a silent success with
//! the report lost; a reader that goes away (`| head -c1`) ends the output
//! quietly, with the exit status the command's work earned.

mod support;

use std::fs;
use std::process::Stdio;
use support::*;

/// Commands that write their result to standard output, run in a scratch
/// copy of the section-form example, with the exit status they earn.
const COMMANDS: &[(&[&str], i32)] = &[
    (&["explain", "xen.cfg"], 0),
    (&["explain", "--memory", "xen.cfg"], 0),
    (&["checks"], 0),
    (&["checks", "XC0204"], 0),
    (&["dts", "host.dtb"], 0),
    (&["check", "--format", "json", "typo.cfg"], 1),
    (&["check", "--format", "sarif", "typo.cfg"], 1),
];

fn scratch() -> tempfile::TempDir {
    let dir = scratch_example("sections");
    let cfg = fs::read_to_string(dir.path().join("xen.cfg")).unwrap();
    fs::write(
        dir.path().join("typo.cfg"),
        cfg.replace("\ncpus=2", "\ncpu=2"),
    )
    .unwrap();
    dir
}

#[test]
fn a_full_device_is_an_error_not_a_panic_or_a_lost_report() {
    let dir = scratch();
    for (args, _) in COMMANDS {
        let out = xencfg()
            .args(*args)
            .current_dir(dir.path())
            .stdout(
                fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert_eq!(out.status.code(), Some(2), "{args:?}:\n{err}");
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}:\n{err}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let dir = scratch();
    for (args, status) in COMMANDS {
        let mut child = xencfg()
            .args(*args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before a byte is written
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert!(!err.contains("cannot write"), "{args:?}:\n{err}");
        assert_eq!(out.status.code(), Some(*status), "{args:?}:\n{err}");
    }
}
