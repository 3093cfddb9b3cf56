//! What `cargo install --locked` users get without the source tree:
//! `xencfg completions SHELL`, `xencfg man DIR` (the same bytes as the
//! committed `completions/` and `man/`), examples in `--help` and the man
//! pages; `dts -o`; and `import` saying each dropped group once.

mod support;

use std::fs;
use support::*;

#[test]
fn completions_print_the_committed_scripts() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "xencfg.bash"),
        ("zsh", "_xencfg"),
        ("fish", "xencfg.fish"),
    ] {
        let out = run(&["completions", shell], dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        let committed = fs::read(repo().join("completions").join(file)).unwrap();
        assert!(
            out.stdout == committed,
            "`completions {shell}` differs from completions/{file}"
        );
    }
    let out = run(&["completions", "tcsh"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_writes_the_committed_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "pages/man1"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let mut written: Vec<String> = fs::read_dir(dir.path().join("pages/man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut committed: Vec<String> = fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    committed.sort();
    assert_eq!(written, committed);
    for name in &written {
        let page = fs::read(dir.path().join("pages/man1").join(name)).unwrap();
        assert!(
            page == fs::read(repo().join("man").join(name)).unwrap(),
            "{name} differs"
        );
    }
    assert!(written.contains(&"xencfg.cfg.5".to_string()));
}

#[test]
fn help_and_man_pages_show_examples() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["build", "check", "explain", "dts", "checks"] {
        let out = run(&[command, "--help"], dir.path());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("\nExamples:\n  xencfg "),
            "`{command} --help`:\n{help}"
        );
        let page = fs::read_to_string(repo().join(format!("man/xencfg-{command}.1"))).unwrap();
        assert!(
            page.contains(".SH EXAMPLES\n.nf\n"),
            "xencfg-{command}.1 has no EXAMPLES"
        );
        assert!(!page.contains(".SH EXTRA"), "xencfg-{command}.1");
    }
}

#[test]
fn dts_writes_to_a_file_with_o() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(testdata("host/host.dtb"), dir.path().join("host.dtb")).unwrap();
    let to_stdout = run(&["dts", "host.dtb"], dir.path());
    assert!(to_stdout.status.success());
    let out = run(&["dts", "host.dtb", "-o", "host.dts"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        fs::read(dir.path().join("host.dts")).unwrap(),
        to_stdout.stdout
    );
    // Never over its own input.
    let out = run(&["dts", "host.dtb", "-o", "host.dtb"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("refusing to write the DTS over its input"));
}

#[test]
fn import_reports_the_dropped_boot_flow_once() {
    let out = run(
        &["import", "imagebuilder", "config"],
        &testdata("imagebuilder/dom0less"),
    );
    let err = stderr(&out);
    assert_eq!(err.matches("warning[XC1103]").count(), 1, "{err}");
    assert!(
        err.contains("`MEMORY_START`, `MEMORY_END`, `LOAD_CMD`, `BOOT_CMD`, `UBOOT_SOURCE`, `UBOOT_SCRIPT` configure U-Boot's boot flow"),
        "{err}"
    );
}

/// The `xencfg check` lines of the CI examples run as written (on the
/// example cfg), and the SARIF one writes a SARIF log.
#[test]
fn ci_examples_run_as_written() {
    let dir = scratch_example("sections");
    for example in ["contrib/ci/github-actions.yml", "contrib/ci/gitlab-ci.yml"] {
        let text = fs::read_to_string(repo().join(example)).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .strip_prefix("run: ")
            })
            .chain(
                text.lines()
                    .filter_map(|l| l.trim_start().strip_prefix("- ")),
            )
            .filter(|l| l.starts_with("xencfg check "))
            .collect();
        assert!(!lines.is_empty(), "{example} has no xencfg check");
        for line in lines {
            let command = line.replace("boot/xen.cfg", "xen.cfg");
            let out = std::process::Command::new("bash")
                .args(["-c", &command])
                .current_dir(dir.path())
                .env(
                    "PATH",
                    format!(
                        "{}:{}",
                        std::path::Path::new(env!("CARGO_BIN_EXE_xencfg"))
                            .parent()
                            .unwrap()
                            .display(),
                        std::env::var("PATH").unwrap()
                    ),
                )
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{example}: `{line}`: {}",
                stderr(&out)
            );
        }
        let sarif: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join("xencfg.sarif")).unwrap()).unwrap();
        assert_eq!(sarif["version"], "2.1.0", "{example}");
        fs::remove_file(dir.path().join("xencfg.sarif")).unwrap();
    }
}
