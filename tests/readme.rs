//! The README's examples are true: every code block marked
//! `<!-- readme-test -->` runs, in order, in one scratch directory holding
//! a copy of `testdata/`, with the xencfg under test first on PATH.
//! A `console` block is a transcript: each `$ command` runs in bash and its
//! output (stdout and stderr) must be exactly the lines that follow it.
//! An `sh` block must run without error.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

const MARK: &str = "<!-- readme-test -->";

struct Block {
    /// The info string (`console`, `sh`).
    kind: String,
    lines: Vec<String>,
    /// 1-based line of the opening fence, for messages.
    line: usize,
}

fn marked_blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == MARK {
            let open = i + 1;
            let kind = lines
                .get(open)
                .and_then(|l| l.strip_prefix("```"))
                .unwrap_or_else(|| {
                    panic!("README line {}: {MARK} is not followed by a fence", i + 1)
                })
                .to_string();
            let body: Vec<String> = lines[open + 1..]
                .iter()
                .take_while(|l| !l.starts_with("```"))
                .map(|l| l.to_string())
                .collect();
            i = open + body.len() + 2;
            blocks.push(Block {
                kind,
                lines: body,
                line: open + 1,
            });
        } else {
            i += 1;
        }
    }
    blocks
}

fn bash(script: &str, cwd: &Path) -> (Option<i32>, String) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_xencfg")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &format!("{script}\n"), "readme"])
        .current_dir(cwd)
        .env("PATH", path)
        .env_remove("NO_COLOR")
        .env("LC_ALL", "C")
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run bash");
    // One stream, in order, as a reader sees it: commands are run with
    // 2>&1 below, so stderr here is bash's own (a broken command line).
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn run_transcript(block: &Block, cwd: &Path) {
    let mut i = 0;
    while i < block.lines.len() {
        let command = block.lines[i]
            .strip_prefix("$ ")
            .unwrap_or_else(|| panic!("README line {}: expected `$ command`", block.line + 1 + i));
        let expected: Vec<&str> = block.lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("$ "))
            .map(String::as_str)
            .collect();
        let (_, output) = bash(&format!("{{ {command}\n}} 2>&1"), cwd);
        let expected_text = expected.join("\n");
        assert_eq!(
            output.trim_end_matches('\n'),
            expected_text,
            "README line {}: `{command}` prints something else",
            block.line + 1 + i
        );
        i += 1 + expected.len();
    }
}

#[test]
fn readme_examples_run_as_shown() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = marked_blocks(&readme);
    assert!(blocks.len() >= 5, "only {} marked blocks", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&testdata(""), &dir.path().join("testdata"));
    for block in &blocks {
        match block.kind.as_str() {
            "console" => run_transcript(block, dir.path()),
            "sh" => {
                let (code, output) = bash(&block.lines.join("\n"), dir.path());
                assert_eq!(code, Some(0), "README line {}: {output}", block.line);
            }
            other => panic!("README line {}: cannot test a `{other}` block", block.line),
        }
    }
    // A reader follows the tour in their clone: it must leave the tracked
    // tree as it found it (its `out/` is ignored by git).
    assert_eq!(
        files_below(&dir.path().join("testdata")),
        files_below(&testdata("")),
        "the README's examples leave files behind in testdata/"
    );
}

/// Every file below `dir`, relative to it, sorted.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// The two commands at the top of the README are the ones the project
/// promises; they must stay exactly as they are (and `scripts/test` exist).
#[test]
fn readme_starts_with_the_two_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let top: Vec<&str> = readme.lines().take(6).collect();
    assert_eq!(top[0], "# xencfg");
    assert!(top[3].starts_with("cargo run --release -- build testdata/sections/xen.cfg -o out/"));
    assert!(top[4].starts_with("scripts/test "));
    assert!(repo().join("scripts/test").is_file());
    assert!(repo().join("testdata/sections/xen.cfg").is_file());
}
