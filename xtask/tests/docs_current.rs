//! The committed man pages (`man/`) and shell completions (`completions/`)
//! are exactly what `cargo xtask docs` generates from the current CLI and
//! binding table (spec §3), and `xencfg.cfg(5)` documents every property of
//! the binding and nothing else.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use xencfg::binding::PROPERTIES;
use xtask::{COMPLETIONS_DIR, MAN_DIR};

const REGENERATE: &str = "run `cargo xtask docs` and commit the result";

fn root() -> &'static Path {
    xtask::repository_root()
}

/// Regular files of `dir`, relative to `base`, sorted.
fn files_in(base: &Path, dir: &str) -> BTreeSet<PathBuf> {
    let Ok(entries) = fs::read_dir(base.join(dir)) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| e.expect("readable directory entry"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| Path::new(dir).join(e.file_name()))
        .collect()
}

#[test]
fn committed_docs_are_current() {
    let fresh = tempfile::tempdir().expect("temporary directory");
    xtask::generate(fresh.path()).expect("generate docs");

    let mut problems = Vec::new();
    for dir in [MAN_DIR, COMPLETIONS_DIR] {
        let generated = files_in(fresh.path(), dir);
        let committed = files_in(root(), dir);
        for path in &generated {
            let new = fs::read(fresh.path().join(path)).expect("read generated file");
            match fs::read(root().join(path)) {
                Ok(old) if old == new => {}
                Ok(_) => problems.push(format!("{} is stale", path.display())),
                Err(_) => problems.push(format!("{} is missing", path.display())),
            }
        }
        // A page for a subcommand that no longer exists is stale too; the
        // generator removes it.
        for path in committed.difference(&generated) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("xencfg") || name.starts_with("_xencfg") {
                problems.push(format!("{} is no longer generated", path.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "generated docs are out of date:\n  {}\n{REGENERATE}",
        problems.join("\n  ")
    );
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(xtask::files(), xtask::files());
    let expected = [
        "man/xencfg.1",
        "man/xencfg-build.1",
        "man/xencfg-check.1",
        "man/xencfg-checks.1",
        "man/xencfg-dts.1",
        "man/xencfg-explain.1",
        "man/xencfg-import.1",
        "man/xencfg.cfg.5",
        "completions/xencfg.bash",
        "completions/_xencfg",
        "completions/xencfg.fish",
        "completions/xencfg.elv",
        "completions/_xencfg.ps1",
    ];
    let names: BTreeSet<PathBuf> = xtask::files().into_iter().map(|(p, _)| p).collect();
    for file in expected {
        assert!(names.contains(Path::new(file)), "{file} is not generated");
    }
}

#[test]
fn pages_carry_no_date() {
    for (path, bytes) in xtask::files() {
        if path.starts_with(MAN_DIR) {
            let text = String::from_utf8(bytes).expect("man pages are UTF-8");
            let th = text
                .lines()
                .find(|l| l.starts_with(".TH "))
                .unwrap_or_else(|| panic!("{} has no .TH line", path.display()));
            // .TH title section date source manual: the date is the third
            // argument and must be an explicit empty string.
            let args: Vec<&str> = th.splitn(4, ' ').collect();
            assert_eq!(args.get(3).map(|a| &a[..2]), Some("\"\""), "{th}");
        }
    }
}

fn cfg_page() -> String {
    fs::read_to_string(root().join(MAN_DIR).join("xencfg.cfg.5"))
        .unwrap_or_else(|e| panic!("man/xencfg.cfg.5: {e}; {REGENERATE}"))
}

/// The lines of a roff page between `.SH name` and the next `.SH`.
fn roff_section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!(".SH {name}");
    page.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.starts_with(".SH "))
        .collect()
}

/// Roff text back to plain text, for the escapes the roff crate writes.
fn unroff(text: &str) -> String {
    text.replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\-", "-")
        .replace("\\*(Aq", "'")
        .replace("\\\\", "\\")
}

#[test]
fn cfg_page_lists_exactly_the_binding_properties() {
    let page = cfg_page();
    let section = roff_section(&page, "PROPERTIES");
    assert!(
        !section.is_empty(),
        "xencfg.cfg.5 has no PROPERTIES section"
    );
    let tags: Vec<String> = section
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .map(|w| unroff(w[1]))
        .collect();

    let documented: Vec<&str> = tags
        .iter()
        .map(|t| t.split_whitespace().next().unwrap_or(""))
        .collect();
    let table: Vec<&str> = PROPERTIES.iter().map(|p| p.cfg_key()).collect();
    assert_eq!(
        documented, table,
        "PROPERTIES of xencfg.cfg(5) must list the binding table, in order; {REGENERATE}"
    );
    for (tag, spec) in tags.iter().zip(PROPERTIES) {
        assert!(
            tag.contains(spec.dt_name),
            "`{tag}` does not name the DT property `{}`",
            spec.dt_name
        );
    }
}

/// groff, when it is installed; the rendering checks are skipped without it.
fn groff() -> Option<Command> {
    let found = Command::new("groff")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("groff is not installed; skipping the rendering check");
        return None;
    }
    let mut cmd = Command::new("groff");
    // -k: preconv, as man(1) does, so UTF-8 in help texts is fine.
    cmd.args(["-k", "-man", "-Tutf8"]);
    Some(cmd)
}

#[test]
fn man_pages_render_without_warnings() {
    for (path, _) in xtask::files() {
        if !path.starts_with(MAN_DIR) {
            continue;
        }
        let Some(mut groff) = groff() else { return };
        let out = groff
            .args(["-ww", "-z"])
            .arg(root().join(&path))
            .output()
            .expect("run groff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "groff warns about {}:\n{stderr}",
            path.display()
        );
    }
}

/// Rendered as a reader sees it, the PROPERTIES section holds one entry per
/// property and nothing else.
#[test]
fn rendered_cfg_page_lists_exactly_the_binding_properties() {
    let Some(mut groff) = groff() else { return };
    // A very long line keeps every paragraph on one line: the section is
    // then its introduction followed by one line per entry at the same
    // indentation (a short tag shares its line with the description).
    let out = groff
        .args(["-P", "-cbou", "-rLL=5000n"])
        .arg(root().join(MAN_DIR).join("xencfg.cfg.5"))
        .output()
        .expect("run groff");
    assert!(out.status.success(), "groff failed");
    let text = String::from_utf8(out.stdout).expect("groff -Tutf8 output");
    let entries: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "PROPERTIES")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| l.len() > 7 && l.starts_with("       ") && !l[7..].starts_with(' '))
        .skip(1) // the introduction
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let table: Vec<&str> = PROPERTIES.iter().map(|p| p.cfg_key()).collect();
    assert_eq!(entries, table, "rendered PROPERTIES of xencfg.cfg(5)");
}

/// Build option names keep their underscores in the man page: roff shows
/// `CONFIG_STATIC_MEMORY`, not `CONFIG` + italic `STATIC` + `MEMORY`.
#[test]
fn build_option_names_are_not_italicised() {
    let page = fs::read_to_string(root().join(MAN_DIR).join("xencfg.cfg.5")).unwrap();
    assert!(
        page.contains("needs CONFIG_STATIC_MEMORY."),
        "CONFIG_STATIC_MEMORY is mangled"
    );
    assert!(
        !page.contains("CONFIG\\fI"),
        "an underscore of a CONFIG_ name became italics"
    );
    // Placeholders still are italic.
    assert!(page.contains("\\fINAME\\fR"));
}
