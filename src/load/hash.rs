//! Reading each referenced file once: size, format and sha256 in one pass.
//!
//! Files are streamed in fixed-size chunks (memory does not grow with image
//! size) and several files are processed in parallel across cores.
//!
//! Each hash comes with a [`Proof`] when the file did not change while it
//! was read: its [`Stamp`] (device, inode, size, mtime and ctime in
//! nanoseconds, as git's index keeps them) and when the read began. A file
//! whose stamp is still the same later holds the bytes that were hashed,
//! provided its last change lies clearly before the read began (the
//! "racily clean" guard, [`Proof::is_clean`]): that is what lets
//! [`crate::load::cache`] skip unchanged files and staging copy a file with the
//! kernel's zero-copy paths instead of reading it again.
//!
//! Errors are `io::Error`s whose message starts with the path; their kind
//! tells callers which check applies: `NotFound` → XC0401 (missing),
//! `InvalidInput` → XC0402 (not a regular file), anything else → XC0408
//! (unreadable).

use crate::load::image::{self, ImageFormat, SNIFF_LEN};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes read per `read` call: large enough that syscalls cost nothing next
/// to hashing, small enough that the buffer the kernel copies into stays in
/// the core's L2 cache for the hash to read. Measured on a 512 MiB file:
/// 64 and 128 KiB cost ~25% less CPU than 1 MiB (the copy to user space
/// went from 41% of the time to what openssl's small buffers pay).
pub const CHUNK_LEN: usize = 1 << 17;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFacts {
    pub size: u64,
    pub format: ImageFormat,
    /// Lower-case hex sha256; `None` when only sniffed.
    pub sha256: Option<String>,
}

/// What tells one state of a file from another without reading it, as
/// git's index does: a write changes mtime and ctime, a replacement the
/// inode, and setting mtime back (`touch -d`) still moves ctime forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl Stamp {
    pub fn of(meta: &Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// How long before a read a file's last change must lie for its stamp to
/// prove its content later. File systems stamp with a coarse clock (a
/// kernel tick behind the real time) truncated to their granularity: 1 ns
/// on ext4, XFS and btrfs, 1 s on ext3 and some network file systems, 2 s
/// for FAT's mtime. A write after the read began then gets a stamp no
/// earlier than the read's start minus this margin, so it cannot repeat
/// the stamp of a file last changed before that.
pub const RACY_MARGIN: Duration = Duration::from_secs(2);

/// A file's [`Stamp`] when it was hashed, and when that read began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub hashed_at_ns: i64,
}

impl Proof {
    /// Whether any change after the hash must show in the stamp: the
    /// file's last change (mtime or ctime, whichever is later) lies more
    /// than [`RACY_MARGIN`] before the read began. A file changed just
    /// before or during the read is "racily clean" and is read again.
    pub fn is_clean(&self) -> bool {
        self.is_clean_within(RACY_MARGIN)
    }

    pub fn is_clean_within(&self, margin: Duration) -> bool {
        let margin = i64::try_from(margin.as_nanos()).unwrap_or(i64::MAX);
        let last = self.stamp.mtime_ns.max(self.stamp.ctime_ns);
        last < self.hashed_at_ns.saturating_sub(margin)
    }
}

/// The real-time clock in nanoseconds since the epoch (the scale of
/// file time stamps).
pub fn now_ns() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Size and format, reading only the first bytes (for `check`).
pub fn sniff_file(path: &Path) -> io::Result<FileFacts> {
    let mut file = open_regular(path)?;
    // The size of the open file, not of the earlier stat: they differ only
    // if the file was replaced in between, and this is the one we read.
    let size = file.metadata().map_err(|e| with_path(path, e))?.len();
    let mut head = [0u8; SNIFF_LEN];
    let head_len = read_full(&mut file, &mut head).map_err(|e| with_path(path, e))?;
    if head_len as u64 > size {
        return Err(size_lies(path, size));
    }
    let head = head.get(..head_len).unwrap_or(&[]);
    Ok(FileFacts {
        size,
        format: image::sniff(head, size),
        sha256: None,
    })
}

/// Size, format and sha256 in one streaming pass.
pub fn hash_file(path: &Path) -> io::Result<FileFacts> {
    hash_file_proved(path).map(|(facts, _)| facts)
}

/// [`hash_file`], with the proof of what was hashed when the file did not
/// change while it was read.
pub fn hash_file_proved(path: &Path) -> io::Result<(FileFacts, Option<Proof>)> {
    let mut chunk = vec![0u8; CHUNK_LEN];
    hash_file_with(path, &mut chunk, None)
}

/// [`hash_file`] for many files, in parallel; results in input order.
///
/// Workers (one per available core, no more than there are files) take the
/// next file index from a shared counter, so one large file does not hold
/// up the small ones queued behind it. Each worker reuses one chunk buffer.
pub fn hash_files(paths: &[PathBuf]) -> Vec<io::Result<FileFacts>> {
    hash_files_with_progress(paths, None)
}

/// [`hash_files`], adding every byte read to `progress` (for the progress
/// line `build` draws on a terminal).
pub fn hash_files_with_progress(
    paths: &[PathBuf],
    progress: Option<&Progress>,
) -> Vec<io::Result<FileFacts>> {
    hash_files_proved(paths, progress)
        .into_iter()
        .map(|r| r.map(|(facts, _)| facts))
        .collect()
}

/// [`hash_files_with_progress`], each hash with its [`Proof`] (`None` for
/// a file that changed while it was read).
pub fn hash_files_proved(
    paths: &[PathBuf],
    progress: Option<&Progress>,
) -> Vec<io::Result<(FileFacts, Option<Proof>)>> {
    parallel(
        paths,
        || vec![0u8; CHUNK_LEN],
        |chunk, path| hash_file_with(path, chunk, progress),
    )
    .into_iter()
    .map(|slot| slot.unwrap_or_else(|| Err(io::Error::other("file was not processed"))))
    .collect()
}

/// `work` applied to every item, spread over the cores; results in input
/// order (`None` only if a worker could not process its item, which does
/// not happen). Workers (one per available core, no more than there are
/// items) take the next index from a shared counter, so one large file does
/// not hold up the small ones queued behind it; each has its own scratch
/// value from `scratch` (a chunk buffer).
pub fn parallel<T: Sync, S, R: Send>(
    items: &[T],
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let workers = thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(items.len());
    if workers <= 1 {
        let mut s = scratch();
        return items.iter().map(|item| Some(work(&mut s, item))).collect();
    }

    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let run = || {
        let mut s = scratch();
        let mut done = Vec::new();
        loop {
            // Relaxed is enough: the counter only hands out distinct
            // indices; results travel through join().
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            done.push((index, work(&mut s, item)));
        }
        done
    };
    thread::scope(|scope| {
        // The calling thread is one of the workers. A thread that cannot
        // be started (a tight address-space limit) only means fewer
        // workers: the counter hands its items to the others.
        let handles: Vec<_> = (1..workers)
            .map_while(|_| thread::Builder::new().spawn_scoped(scope, run).ok())
            .collect();
        for (index, result) in run() {
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(result);
            }
        }
        for handle in handles {
            match handle.join() {
                Ok(done) => {
                    for (index, result) in done {
                        if let Some(slot) = slots.get_mut(index) {
                            *slot = Some(result);
                        }
                    }
                }
                // A worker only panics on a bug; surface it unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots
}

/// A "regular" file that holds more than its size says: a file of /proc
/// or /sys (`/proc/self/pagemap` reads for ever), or one being appended
/// to. Neither is a file to boot, and reading on would never end.
fn size_lies(path: &Path, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} holds more than the {size} bytes its size says (a file of /proc or /sys, or one still being written), not a file to boot",
            path.display()
        ),
    )
}

/// Why [`hash_file_into`] stopped: reading the file, or its sink.
#[derive(Debug)]
pub enum PassError {
    Read(io::Error),
    Sink(io::Error),
}

/// [`hash_file_proved`], handing every chunk to `sink` once it is hashed:
/// staging hashes a file and writes its copy from the same read, so the
/// copy holds exactly the bytes hashed. An error of `sink` (a failed
/// write, an interrupt) ends the read.
pub fn hash_file_into(
    path: &Path,
    progress: Option<&Progress>,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<(FileFacts, Option<Proof>), PassError> {
    let mut chunk = vec![0u8; CHUNK_LEN];
    hash_file_passing(path, &mut chunk, progress, sink)
}

/// One streaming pass with a caller-provided chunk buffer.
fn hash_file_with(
    path: &Path,
    chunk: &mut [u8],
    progress: Option<&Progress>,
) -> io::Result<(FileFacts, Option<Proof>)> {
    hash_file_passing(path, chunk, progress, &mut |_| Ok(())).map_err(|e| match e {
        PassError::Read(e) | PassError::Sink(e) => e,
    })
}

/// One streaming pass, each chunk then given to `sink`. Reads at most
/// one byte more than the file's size, so a file whose size lies ends the
/// read at once.
fn hash_file_passing(
    path: &Path,
    chunk: &mut [u8],
    progress: Option<&Progress>,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<(FileFacts, Option<Proof>), PassError> {
    let hashed_at_ns = now_ns();
    let file = open_regular(path).map_err(PassError::Read)?;
    let before = Stamp::of(
        &file
            .metadata()
            .map_err(|e| PassError::Read(with_path(path, e)))?,
    );
    let stat_size = before.size;
    let mut file = file.take(stat_size.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut head = [0u8; SNIFF_LEN];
    let mut head_len = 0;
    // Counted rather than taken from metadata, so size and hash describe
    // the same bytes even if the file changes while being read.
    let mut size: u64 = 0;
    loop {
        let n = match file.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PassError::Read(with_path(path, e))),
        };
        let data = chunk.get(..n).unwrap_or(&[]);
        hasher.update(data);
        sink(data).map_err(PassError::Sink)?;
        if head_len < SNIFF_LEN {
            let take = (SNIFF_LEN - head_len).min(data.len());
            if let (Some(dst), Some(src)) =
                (head.get_mut(head_len..head_len + take), data.get(..take))
            {
                dst.copy_from_slice(src);
                head_len += take;
            }
        }
        size = size.saturating_add(n as u64);
        if let Some(p) = progress {
            p.add(n as u64);
        }
    }
    if size > stat_size {
        return Err(PassError::Read(size_lies(path, stat_size)));
    }
    let head = head.get(..head_len).unwrap_or(&[]);
    let facts = FileFacts {
        size,
        format: image::sniff(head, size),
        sha256: Some(hex(&hasher.finalize())),
    };
    // Unchanged from open to end of read, and every byte counted: the
    // stamp describes the bytes hashed.
    let after = file.get_ref().metadata().ok().map(|m| Stamp::of(&m));
    let proof = (after == Some(before) && size == before.size).then_some(Proof {
        stamp: before,
        hashed_at_ns,
    });
    Ok((facts, proof))
}

/// Open `path` for reading if it is a regular file, without blocking on a
/// FIFO (see [`crate::load::input::open_regular`]).
fn open_regular(path: &Path) -> io::Result<File> {
    crate::load::input::open_regular(path).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput => e, // already names the path
        _ => with_path(path, e),
    })
}

/// Read until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The same kind, with the path in front of the message.
fn with_path(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    /// Deterministic pseudo-random bytes (xorshift), so large test files
    /// are not all zeroes that a buggy chunk loop could hash "correctly".
    pub(crate) fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        let mut f = File::create(&path).expect("create test file");
        f.write_all(bytes).expect("write test file");
        path
    }

    /// `sha256sum`'s answer, or `None` where the tool is not installed.
    fn sha256sum(path: &Path) -> Option<String> {
        let out = Command::new("sha256sum").arg(path).output().ok()?;
        assert!(
            out.status.success(),
            "sha256sum failed on {}",
            path.display()
        );
        let text = String::from_utf8(out.stdout).ok()?;
        text.split_whitespace().next().map(str::to_string)
    }

    #[test]
    fn known_vectors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = write_file(dir.path(), "empty", b"");
        let abc = write_file(dir.path(), "abc", b"abc");
        let facts = hash_file(&empty).expect("hash empty");
        assert_eq!(facts.size, 0);
        assert_eq!(facts.format, ImageFormat::Unknown);
        assert_eq!(
            facts.sha256.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            hash_file(&abc).expect("hash abc").sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn matches_sha256sum() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Sizes around the sniff and chunk boundaries, and one > 8 MiB.
        let sizes = [
            1,
            SNIFF_LEN - 1,
            SNIFF_LEN,
            SNIFF_LEN + 1,
            CHUNK_LEN,
            CHUNK_LEN + 1,
            9 * CHUNK_LEN + 12_345,
        ];
        let paths: Vec<PathBuf> = sizes
            .iter()
            .enumerate()
            .map(|(i, &len)| {
                write_file(
                    dir.path(),
                    &format!("f{i}"),
                    &pseudo_random(len, i as u64 + 7),
                )
            })
            .collect();
        let parallel = hash_files(&paths);
        for ((path, &len), from_pool) in paths.iter().zip(&sizes).zip(parallel) {
            let facts = hash_file(path).expect("hash");
            assert_eq!(facts.size, len as u64);
            assert_eq!(from_pool.ok().as_ref(), Some(&facts));
            match sha256sum(path) {
                Some(expected) => {
                    assert_eq!(facts.sha256.as_deref(), Some(&*expected), "size {len}")
                }
                None => eprintln!("sha256sum not installed; compared with hash_files only"),
            }
        }
    }

    #[test]
    fn hash_files_keeps_input_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Sizes vary so workers finish out of order.
        let paths: Vec<PathBuf> = (0..64)
            .map(|i| {
                let len = (i * 7919) % 300_000;
                write_file(
                    dir.path(),
                    &format!("f{i:02}"),
                    &pseudo_random(len, i as u64 + 1),
                )
            })
            .collect();
        let mut with_errors = paths.clone();
        with_errors.insert(10, dir.path().join("missing"));
        with_errors.insert(20, dir.path().to_path_buf());

        let results = hash_files(&with_errors);
        assert_eq!(results.len(), with_errors.len());
        for (path, result) in with_errors.iter().zip(results) {
            if path.ends_with("missing") {
                assert_eq!(
                    result.map_err(|e| e.kind()).err(),
                    Some(io::ErrorKind::NotFound)
                );
            } else if path == dir.path() {
                assert_eq!(
                    result.map_err(|e| e.kind()).err(),
                    Some(io::ErrorKind::InvalidInput)
                );
            } else {
                let single = hash_file(path).expect("hash");
                assert_eq!(result.expect("hash in pool"), single, "{}", path.display());
            }
        }
        assert!(hash_files(&[]).is_empty());
    }

    #[test]
    fn sniff_reads_head_and_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut gzip = vec![0x1F, 0x8B, 0x08, 0];
        gzip.extend(pseudo_random(3 * SNIFF_LEN, 3));
        let path = write_file(dir.path(), "Image.gz", &gzip);
        let sniffed = sniff_file(&path).expect("sniff");
        assert_eq!(
            sniffed,
            FileFacts {
                size: gzip.len() as u64,
                format: ImageFormat::Gzip,
                sha256: None
            }
        );
        let hashed = hash_file(&path).expect("hash");
        assert_eq!((hashed.size, hashed.format), (sniffed.size, sniffed.format));

        let tiny = write_file(dir.path(), "dtb", &[0xD0, 0x0D, 0xFE, 0xED]);
        assert_eq!(
            sniff_file(&tiny).map(|f| f.format).ok(),
            Some(ImageFormat::Fdt)
        );
    }

    #[test]
    fn errors_name_the_path_and_keep_the_kind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no-such-Image");
        for result in [sniff_file(&missing), hash_file(&missing)] {
            let err = result.expect_err("missing file");
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            assert!(err.to_string().contains("no-such-Image"), "{err}");
        }
        for result in [sniff_file(dir.path()), hash_file(dir.path())] {
            let err = result.expect_err("directory");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().ends_with("not a regular file"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo not available; skipping");
            return;
        }
        // Opening a FIFO without a writer would block this test forever.
        for result in [sniff_file(&fifo), hash_file(&fifo)] {
            assert_eq!(
                result.map_err(|e| e.kind()).err(),
                Some(io::ErrorKind::InvalidInput)
            );
        }
        let results = hash_files(&[fifo.clone(), fifo]);
        assert!(results.iter().all(|r| r.is_err()));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_to_regular_file_is_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = write_file(dir.path(), "Image", b"abc");
        let link = dir.path().join("link");
        if std::os::unix::fs::symlink(&target, &link).is_err() {
            return;
        }
        assert_eq!(hash_file(&link).ok(), hash_file(&target).ok());
    }
}
