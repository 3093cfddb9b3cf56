//! Incremental rebuilds: the sha256 and format of an input that has not
//! changed since the last build into the same output directory.
//!
//! `build` keeps, in `.<name>.xencfg.cache` beside the output directory
//! `<name>` (next to its build lock; not in it, so the output stays
//! byte-identical for identical inputs), one entry per input it hashed:
//! the file's [`Stamp`] (device, inode, size, mtime and ctime in
//! nanoseconds), when its read began, its format and its sha256. The next build of that
//! directory stats each input and reuses the entry whose stamp is the
//! same, as git's index does, unless the entry is "racily clean" (the
//! file changed less than [`crate::load::hash::RACY_MARGIN`] before it was
//! hashed, so a later same-size write could have left the same stamp):
//! such a file is hashed again. `--no-cache` ignores the entries (and
//! makes staging make every copy from the read that hashes or verifies
//! it), and writes new ones.
//!
//! What a stamp cannot see, and so the one limit of the cache: a change
//! that leaves size, mtime *and* ctime as they were. Setting mtime back
//! (`touch -d`) moves ctime forward, which no user can set; only writes
//! through a shared mapping between two write-backs (the kernel updates
//! mtime when a clean page is first written), a file system that does not
//! keep mtime and ctime, or a clock set back to the very nanosecond can do
//! that. `--no-cache` is the answer there.
//!
//! The file is trusted only if it is a regular file owned by the user
//! running the build and parses as this format; anything else is ignored
//! (and replaced by the build).

use crate::load::hash::{self, FileFacts, Proof, Stamp};
use crate::load::image::ImageFormat;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The cache's file name beside the output directory `name`.
pub fn file_name(name: &std::ffi::OsStr) -> String {
    format!(".{}.xencfg.cache", name.to_string_lossy())
}

/// Where the cache of the output directory `out` is (`None` for a path
/// without a name, which no build accepts).
pub fn path_for(out: &Path) -> Option<PathBuf> {
    // As the output is written: `out/.` is `out`.
    let out: PathBuf = out
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    let name = out.file_name()?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(parent.join(file_name(name)))
}

/// The version of the format below; another version is ignored.
const VERSION: u32 = 1;

/// A cache of a few thousand inputs is a few hundred KiB.
const MAX_CACHE_SIZE: u64 = 16 << 20;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    xencfg_cache: u32,
    entries: Vec<Entry>,
}

/// One input as it was hashed. Found by device and inode, not by name:
/// no path of the build host is written into the output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub proof: Proof,
    pub format: ImageFormat,
    pub sha256: String,
}

/// The entries read from an output directory, and those this build makes.
pub struct Cache {
    known: HashMap<(u64, u64), Entry>,
    /// The racily-clean margin (tests use a short one).
    margin: Duration,
    /// Whether staging may trust a stamp instead of reading a copy back.
    trust_stamps: bool,
    fresh: Mutex<BTreeMap<PathBuf, Entry>>,
}

/// How an input's facts were found (for tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// From the cache, without reading the file.
    Reused,
    /// Read and hashed.
    Hashed,
}

impl Cache {
    /// No entries to reuse and no stamp trusted (`--no-cache`, and callers
    /// of [`crate::analyze::Plan::hash_inputs`]): every input is
    /// hashed, every staged copy made from a read that hashes it; new
    /// entries are kept.
    pub fn disabled() -> Cache {
        Cache {
            known: HashMap::new(),
            margin: hash::RACY_MARGIN,
            trust_stamps: false,
            fresh: Mutex::new(BTreeMap::new()),
        }
    }

    /// The entries kept beside the output directory `out`, if they are a
    /// cache of this user's in this format; an empty cache otherwise.
    pub fn load(out: &Path) -> Cache {
        let known = path_for(out)
            .and_then(|path| read_entries(&path))
            .unwrap_or_default()
            .into_iter()
            .map(|e| ((e.proof.stamp.dev, e.proof.stamp.ino), e))
            .collect();
        Cache {
            known,
            trust_stamps: true,
            ..Cache::disabled()
        }
    }

    /// [`Cache::load`] with another racily-clean margin (for tests: file
    /// systems with nanosecond stamps need no more than a few ms).
    pub fn load_with_margin(out: &Path, margin: Duration) -> Cache {
        Cache {
            margin,
            ..Cache::load(out)
        }
    }

    /// Size, format and sha256 of each file (as [`hash::hash_files`]),
    /// reusing the entry of every file whose stamp is unchanged and clean.
    pub fn hash_files(
        &self,
        paths: &[PathBuf],
        progress: Option<&Progress>,
    ) -> Vec<io::Result<FileFacts>> {
        self.hash_files_found(paths, progress)
            .into_iter()
            .map(|r| r.map(|(facts, _)| facts))
            .collect()
    }

    /// [`Cache::hash_files`], saying how each file's facts were found.
    pub fn hash_files_found(
        &self,
        paths: &[PathBuf],
        progress: Option<&Progress>,
    ) -> Vec<io::Result<(FileFacts, Found)>> {
        let reused: Vec<Option<FileFacts>> =
            paths.iter().map(|p| self.reuse(p, progress)).collect();
        let to_hash: Vec<PathBuf> = paths
            .iter()
            .zip(&reused)
            .filter(|(_, r)| r.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        let mut hashed = hash::hash_files_proved(&to_hash, progress).into_iter();
        paths
            .iter()
            .zip(reused)
            .map(|(path, reused)| match reused {
                Some(facts) => Ok((facts, Found::Reused)),
                None => {
                    let (facts, proof) = hashed
                        .next()
                        .unwrap_or_else(|| Err(io::Error::other("file was not processed")))?;
                    self.record(path, &facts, proof);
                    Ok((facts, Found::Hashed))
                }
            })
            .collect()
    }

    /// The facts of `path` if its entry can be reused (kept for the next
    /// build, its size added to `progress`); `None` when the file must be
    /// read. `build --stage` hashes such a file as it copies it, and
    /// [`Cache::record`]s what it hashed.
    pub fn reuse(&self, path: &Path, progress: Option<&Progress>) -> Option<FileFacts> {
        let entry = self.lookup(path)?;
        if let Some(p) = progress {
            p.add(entry.proof.stamp.size);
        }
        let facts = FileFacts {
            size: entry.proof.stamp.size,
            format: entry.format,
            sha256: Some(entry.sha256.clone()),
        };
        let mut fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        fresh.insert(path.to_path_buf(), entry);
        Some(facts)
    }

    /// Keep what this build hashed of `path` (with the proof of the bytes
    /// hashed, when there is one) for the next build, and for staging.
    pub fn record(&self, path: &Path, facts: &FileFacts, proof: Option<Proof>) {
        let (Some(proof), Some(sha256)) = (proof, &facts.sha256) else {
            return;
        };
        let mut fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        fresh.insert(
            path.to_path_buf(),
            Entry {
                proof,
                format: facts.format,
                sha256: sha256.clone(),
            },
        );
    }

    /// Whether a stamp may stand for a read (not with `--no-cache`, where
    /// every staged copy is made from the read that hashes it).
    pub fn trusts_stamps(&self) -> bool {
        self.trust_stamps
    }

    /// The entry for `path` if its stamp is the one recorded and the entry
    /// is not racily clean.
    fn lookup(&self, path: &Path) -> Option<Entry> {
        if self.known.is_empty() {
            return None;
        }
        let meta = fs::metadata(path).ok().filter(|m| m.is_file())?;
        let stamp = Stamp::of(&meta);
        let entry = self.known.get(&(stamp.dev, stamp.ino))?;
        let usable = entry.proof.stamp == stamp && entry.proof.is_clean_within(self.margin);
        usable.then(|| entry.clone())
    }

    /// What staging may take as proof that `path` still holds the bytes
    /// hashed in this build (`None` with `--no-cache`: read the copy back).
    pub fn proof(&self, path: &Path) -> Option<Proof> {
        if !self.trust_stamps {
            return None;
        }
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        fresh.get(path).map(|e| e.proof)
    }

    /// The cache file describing this build's inputs (entries of files no
    /// longer used are dropped).
    pub fn to_bytes(&self) -> Vec<u8> {
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        let file = CacheFile {
            xencfg_cache: VERSION,
            entries: fresh.values().cloned().collect(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

fn read_entries(path: &Path) -> Option<Vec<Entry>> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.uid() != rustix::process::geteuid().as_raw() {
        return None;
    }
    let bytes = crate::load::input::read_capped(path, MAX_CACHE_SIZE).ok()?;
    let file: CacheFile = serde_json::from_slice(&bytes).ok()?;
    (file.xencfg_cache == VERSION).then_some(file.entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    /// File systems under test stamp in nanoseconds from a clock a tick
    /// (≤ 10 ms) behind: 50 ms is a safe racily-clean margin there.
    const MARGIN: Duration = Duration::from_millis(50);

    fn write(path: &Path, bytes: &[u8]) {
        // In place (same inode), as an editor writing over a file or a
        // build tool rewriting its output does.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .unwrap();
        f.write_all(bytes).unwrap();
        f.set_len(bytes.len() as u64).unwrap();
    }

    /// One "build": hash through the cache of `out`, then store the cache
    /// where the next build finds it.
    fn build(out: &Path, paths: &[PathBuf]) -> Vec<(FileFacts, Found)> {
        let cache = Cache::load_with_margin(out, MARGIN);
        let found: Vec<_> = cache
            .hash_files_found(paths, None)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        fs::write(path_for(out).unwrap(), cache.to_bytes()).unwrap();
        found
    }

    #[test]
    fn reuses_an_unchanged_file_and_not_a_changed_one() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        write(&a, b"kernel");
        write(&b, b"ramdisk");
        std::thread::sleep(MARGIN * 2);
        let paths = [a.clone(), b.clone()];
        let first = build(&out, &paths);
        assert!(first.iter().all(|(_, f)| *f == Found::Hashed));
        let second = build(&out, &paths);
        assert!(second.iter().all(|(_, f)| *f == Found::Reused));
        assert_eq!(
            first.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            second.iter().map(|(f, _)| f).collect::<Vec<_>>()
        );

        // Same size, mtime forged back to what it was: ctime moved.
        let mtime = fs::metadata(&a).unwrap().modified().unwrap();
        write(&a, b"KERNEL");
        fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let third = build(&out, &paths);
        assert_eq!(third[0].1, Found::Hashed);
        assert_ne!(third[0].0.sha256, first[0].0.sha256);
        assert_eq!(third[1].1, Found::Reused);
    }

    #[test]
    fn ignores_what_is_not_its_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".out.xencfg.cache");
        assert_eq!(path_for(&tmp.path().join("out/.")), Some(path.clone()));
        assert_eq!(
            path_for(Path::new("out")),
            Some(PathBuf::from("./.out.xencfg.cache"))
        );
        for content in ["", "{}", r#"{"xencfg_cache": 2, "entries": []}"#, "[]"] {
            fs::write(&path, content).unwrap();
            assert!(read_entries(&path).is_none(), "{content}");
        }
        fs::write(&path, Cache::disabled().to_bytes()).unwrap();
        assert_eq!(read_entries(&path), Some(Vec::new()));
        let link = tmp.path().join(".link.xencfg.cache");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(read_entries(&link).is_none(), "a link is not followed");
        // Somebody else's (only root can make one here).
        if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
            assert!(read_entries(&path).is_none(), "another user's cache");
        }
    }

    #[derive(Clone, Debug)]
    enum Change {
        /// Overwrite in place with bytes of the same length.
        SameSize(u8),
        /// The same, then set mtime back to what it was.
        SameSizeForgedMtime(u8),
        /// New length.
        Resize(usize),
        /// Replace by a new file (new inode) of the same content length.
        Replace(u8),
        /// Touch nothing.
        Nothing,
        /// Wait past the racily-clean margin (so entries become usable).
        Wait,
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            any::<u8>().prop_map(Change::SameSize),
            any::<u8>().prop_map(Change::SameSizeForgedMtime),
            (0usize..64).prop_map(Change::Resize),
            any::<u8>().prop_map(Change::Replace),
            Just(Change::Nothing),
            Just(Change::Wait),
        ]
    }

    fn apply(path: &Path, change: &Change) {
        let old = fs::read(path).unwrap();
        let flipped = |x: u8| -> Vec<u8> {
            let mut v = old.clone();
            if let Some(b) = v.get_mut(usize::from(x) % old.len().max(1)) {
                *b = b.wrapping_add(1);
            }
            v
        };
        match change {
            Change::SameSize(x) => write(path, &flipped(*x)),
            Change::SameSizeForgedMtime(x) => {
                let mtime = fs::metadata(path).unwrap().modified().unwrap();
                write(path, &flipped(*x));
                fs::File::options()
                    .write(true)
                    .open(path)
                    .unwrap()
                    .set_modified(mtime)
                    .unwrap();
            }
            Change::Resize(n) => write(path, &vec![0x5A; *n]),
            Change::Replace(x) => {
                let tmp = path.with_extension("new");
                fs::write(&tmp, flipped(*x)).unwrap();
                fs::rename(&tmp, path).unwrap();
            }
            Change::Nothing => {}
            Change::Wait => std::thread::sleep(MARGIN + Duration::from_millis(10)),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever happens to the files between builds (writes of the
        /// same size right after a build, mtime forged back, files
        /// replaced), the facts a build uses are those of the bytes the
        /// files hold.
        #[test]
        fn a_cache_entry_is_never_trusted_for_changed_content(
            rounds in proptest::collection::vec(proptest::collection::vec(change(), 3), 1..6),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            fs::create_dir(&out).unwrap();
            let paths: Vec<PathBuf> = (0..3).map(|i| tmp.path().join(format!("f{i}"))).collect();
            for (i, p) in paths.iter().enumerate() {
                write(p, format!("file {i} content").as_bytes());
            }
            build(&out, &paths);
            for round in rounds {
                for (path, change) in paths.iter().zip(&round) {
                    apply(path, change);
                }
                for ((facts, _), path) in build(&out, &paths).iter().zip(&paths) {
                    let truth = hash::hash_file(path).unwrap();
                    prop_assert_eq!(facts, &truth, "{}", path.display());
                }
            }
        }
    }
}
