//! Telling xencfg's own output directory from anybody else's, by content.
//!
//! A directory is xencfg's when its `manifest.json` is a regular file (not
//! a link to one) whose JSON carries xencfg's `generator` and a `schema`,
//! and every other file in it is one that manifest accounts for: a file it
//! lists, or the `--emit-dts` review of a section it lists. The survey also
//! finds mount points inside the directory, which no rebuild may delete.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::MANIFEST_NAME;

/// A manifest lists at most a few thousand files; a larger one is not ours.
const MAX_MANIFEST_SIZE: u64 = 64 << 20;

/// Strays named in a message; the rest are counted.
const STRAYS_NAMED: usize = 5;

pub enum Verdict {
    Ours,
    /// Why not (for the message).
    NotOurs(String),
    /// xencfg's manifest, but with files it does not account for.
    OursWithStrays(Vec<PathBuf>),
}

pub struct Survey {
    pub verdict: Verdict,
    /// A directory inside on another file system (relative path).
    pub mount_point: Option<PathBuf>,
    entries: usize,
}

impl Survey {
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }
}

/// Look through `dir` (whose metadata is `meta`), without following links.
pub fn survey(dir: &Path, meta: &fs::Metadata) -> io::Result<Survey> {
    let expected = expected_files(dir);
    let mut strays = Vec::new();
    let mut mount_point = None;
    let mut entries = 0;
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(dir.join(&relative))? {
            let entry = entry?;
            entries += 1;
            let path = relative.join(entry.file_name());
            let entry_meta = entry.metadata()?;
            if entry_meta.dev() != meta.dev() {
                mount_point.get_or_insert(path);
                continue;
            }
            if entry_meta.is_dir() {
                pending.push(path);
            } else if path != Path::new(MANIFEST_NAME)
                && expected.as_ref().is_ok_and(|e| !e.contains(&path))
            {
                strays.push(path);
            }
        }
    }
    strays.sort();
    let verdict = match expected {
        Err(why) => Verdict::NotOurs(why),
        Ok(_) if strays.is_empty() => Verdict::Ours,
        Ok(_) => Verdict::OursWithStrays(strays),
    };
    Ok(Survey {
        verdict,
        mount_point,
        entries,
    })
}

/// `a`, `a and b`, `a, b, … and 7 more files`.
pub fn list(paths: &[PathBuf]) -> String {
    let named: Vec<String> = paths
        .iter()
        .take(STRAYS_NAMED)
        .map(|p| format!("`{}`", p.display()))
        .collect();
    match paths.len() {
        0 => String::new(),
        1 => named[0].clone(),
        n if n <= STRAYS_NAMED => {
            let (last, rest) = named.split_last().unwrap_or((&named[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        n => format!("{} and {} more files", named.join(", "), n - STRAYS_NAMED),
    }
}

/// The files xencfg's manifest in `dir` accounts for, or why `dir` holds
/// no manifest of xencfg's.
fn expected_files(dir: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let path = dir.join(MANIFEST_NAME);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!("no {MANIFEST_NAME}"));
        }
        Err(e) => return Err(format!("its {MANIFEST_NAME} cannot be read: {e}")),
    };
    if !meta.is_file() {
        return Err(format!(
            "its {MANIFEST_NAME} is {}, not a file xencfg wrote",
            if meta.is_symlink() {
                "a symbolic link"
            } else {
                crate::load::input::kind_of(&meta)
            }
        ));
    }
    let bytes = crate::load::input::read_capped(&path, MAX_MANIFEST_SIZE)
        .map_err(|e| format!("its {MANIFEST_NAME} cannot be read: {e}"))?;
    let not_ours = || format!("its {MANIFEST_NAME} is not xencfg's");
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| not_ours())?;
    let is_ours = manifest["generator"] == "xencfg" && manifest["schema"].is_u64();
    let files = manifest["files"].as_array();
    let (true, Some(files)) = (is_ours, files) else {
        return Err(not_ours());
    };
    let listed = files
        .iter()
        .filter_map(|f| f["esp_path"].as_str())
        .map(|esp| PathBuf::from(esp.replace('\\', "/")));
    let reviews = manifest["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .map(|name| PathBuf::from(format!("{name}.dts")));
    Ok(listed.chain(reviews).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey_of(dir: &Path) -> Survey {
        survey(dir, &fs::metadata(dir).unwrap()).unwrap()
    }

    const MANIFEST: &str = r#"{"schema": 1, "generator": "xencfg",
        "sections": [{"name": "xen"}],
        "files": [{"esp_path": "xen.cfg"}, {"esp_path": "guests\\Image"}]}"#;

    #[test]
    fn recognises_its_own_output_and_its_reviews() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MANIFEST_NAME), MANIFEST).unwrap();
        fs::write(tmp.path().join("xen.cfg"), "").unwrap();
        fs::create_dir(tmp.path().join("guests")).unwrap();
        fs::write(tmp.path().join("guests/Image"), "").unwrap();
        fs::write(tmp.path().join("xen.dts"), "").unwrap();
        assert!(matches!(survey_of(tmp.path()).verdict, Verdict::Ours));
    }

    #[test]
    fn names_the_files_its_manifest_does_not_account_for() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MANIFEST_NAME), MANIFEST).unwrap();
        fs::write(tmp.path().join("xen.cfg"), "").unwrap();
        fs::create_dir(tmp.path().join("guests")).unwrap();
        fs::write(tmp.path().join("guests/notes"), "").unwrap();
        let Verdict::OursWithStrays(strays) = survey_of(tmp.path()).verdict else {
            panic!("not judged a stray");
        };
        assert_eq!(strays, [PathBuf::from("guests/notes")]);
    }

    #[test]
    fn a_name_is_not_enough() {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = tmp.path().join(MANIFEST_NAME);
        for (content, why) in [
            (r#"{"name": "web app"}"#, "is not xencfg's"),
            (r#"{"generator": "xencfg", "files": []}"#, "is not xencfg's"),
            ("not json", "is not xencfg's"),
        ] {
            fs::write(&manifest, content).unwrap();
            let Verdict::NotOurs(reason) = survey_of(tmp.path()).verdict else {
                panic!("{content} judged ours");
            };
            assert!(reason.contains(why), "{reason}");
        }
        fs::remove_file(&manifest).unwrap();
        let real = tmp.path().join("real.json");
        fs::write(&real, MANIFEST).unwrap();
        std::os::unix::fs::symlink(&real, &manifest).unwrap();
        let Verdict::NotOurs(reason) = survey_of(tmp.path()).verdict else {
            panic!("a symbolic link judged ours");
        };
        assert!(reason.contains("symbolic link"), "{reason}");
    }

    #[test]
    fn lists_a_few_strays_and_counts_the_rest() {
        let paths: Vec<PathBuf> = (0..8).map(|i| PathBuf::from(format!("f{i}"))).collect();
        assert_eq!(list(&paths[..1]), "`f0`");
        assert_eq!(list(&paths[..3]), "`f0`, `f1` and `f2`");
        assert_eq!(
            list(&paths),
            "`f0`, `f1`, `f2`, `f3`, `f4` and 3 more files"
        );
    }
}
