//! Putting the output directory in place atomically.
//!
//! Everything is written into a fresh temporary directory beside the
//! destination and then swapped in with one `renameat2(RENAME_EXCHANGE)`
//! (or a plain rename when the destination does not exist yet), so a build
//! that fails or is killed at any moment leaves either the old directory or
//! the complete new one.
//!
//! xencfg replaces without `--force` only what it wrote itself: a directory
//! whose `manifest.json` is a regular file carrying xencfg's schema and
//! generator, and whose every other file that manifest accounts for. A
//! name alone proves nothing (a web app has a `manifest.json` too), and a
//! file somebody added to an old output would be lost with it.
//!
//! Builds of one output directory are serialised by an exclusive `flock`
//! on `.<name>.xencfg.lock` beside it. The kernel releases it when the
//! process dies, whatever its PID namespace, so while a build holds it no
//! other build of that directory runs, and every staging directory of that
//! name it finds is one a killed build left: it is removed. (Judging them
//! by PID is wrong across PID namespaces: a container sharing the volume
//! sees no process of the host's.) The lock file is removed when the build
//! ends; a killed build leaves it, empty, until the next one.
//!
//! Nothing is written outside the destination but that lock file, the
//! temporary sibling, `.<name>.xencfg-<pid>-<random>`, and the build cache
//! `.<name>.xencfg.cache` ([`crate::load::cache`]): beside the output, not in it,
//! so the output stays byte-identical for identical inputs.
//!
//! Staged copies must hold the bytes whose sha256 the manifest records: a
//! file that changes or vanishes after it was checked fails the build
//! instead of staging bytes the manifest does not describe. A copy whose
//! source comes with a clean [`Proof`] (its stamp when it was hashed, see
//! [`crate::load::hash`]) is made by the kernel without reading it into xencfg —
//! a reflink clone (`FICLONE`: btrfs, XFS, bcachefs; no data is copied) or
//! `copy_file_range` (in-kernel copy; server-side on NFS) — and is proven
//! by the source's stamp being the same before and after the copy; any
//! other copy is hashed as it is written and compared. A file whose sha256
//! is not known yet (a first build) is hashed as it is copied
//! ([`Stage::hash_and_copy_all`], [`hash_and_copy`]): the kernel copies
//! and syncs it on one thread while xencfg hashes it on another, proven
//! by the same stamps, or, without a clean stamp, each chunk read is
//! hashed and written. Copies run in parallel across cores, each file by
//! one worker.

mod interrupt;
mod ownership;

use crate::load::hash::{FileFacts, PassError, Proof, Stamp};
use crate::progress::Progress;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

/// One file of the output directory.
pub struct OutputFile {
    /// Path relative to the output directory (no `..`, not absolute).
    pub relative: PathBuf,
    pub content: Content,
}

pub enum Content {
    Bytes(Vec<u8>),
    /// Copy of a file on the build host (`--stage`) whose content must
    /// still have this sha256 (lower-case hex). With a proof of what was
    /// hashed, the copy may be made without reading it (see above).
    CopyOf {
        source: PathBuf,
        sha256: String,
        proof: Option<Proof>,
    },
}

/// How a staged file is copied. `Auto` tries a reflink, then
/// `copy_file_range`, then a read and write loop, when the source's proof
/// allows, and `Verified` (read, hash and write) otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyMethod {
    Auto,
    Reflink,
    CopyFileRange,
    ReadWrite,
    Verified,
}

impl CopyMethod {
    /// `XENCFG_STAGE_COPY` (`reflink`, `copy-file-range`, `read-write`,
    /// `verified`) forces one method, failing where it is not available:
    /// for tests and the benchmark, which compare the paths.
    fn from_env() -> CopyMethod {
        match std::env::var("XENCFG_STAGE_COPY").as_deref() {
            Ok("reflink") => CopyMethod::Reflink,
            Ok("copy-file-range") => CopyMethod::CopyFileRange,
            Ok("read-write") => CopyMethod::ReadWrite,
            Ok("verified") => CopyMethod::Verified,
            _ => CopyMethod::Auto,
        }
    }
}

#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for OutputError {}

fn err(path: &Path, message: impl fmt::Display) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

// The manifest's content says whether a directory is xencfg's output
// (see `ownership`).
use crate::analyze::MANIFEST_NAME;

/// Write `files` as the new content of `dir`.
pub fn write_atomically(dir: &Path, files: &[OutputFile], force: bool) -> Result<(), OutputError> {
    write_atomically_with(dir, force, |stage| {
        files.iter().try_for_each(|file| stage.write(file))
    })
}

/// The staging directory, as `produce` sees it: each file is written as
/// it is made, so a build holds one generated file at a time, not the
/// whole output.
pub struct Stage<'a> {
    root: &'a Path,
    dir: &'a Path,
    cache: Option<Vec<u8>>,
}

impl Stage<'_> {
    pub fn write(&mut self, file: &OutputFile) -> Result<(), OutputError> {
        interrupt::check().map_err(|e| err(self.dir, e))?;
        write_one(self.root, file)
    }

    /// Keep `bytes` as the build cache beside the output directory (see
    /// [`crate::load::cache`]): written once the output is complete, just before
    /// it is swapped in.
    pub fn keep_cache(&mut self, bytes: Vec<u8>) {
        self.cache = Some(bytes);
    }

    /// Stage each of `copies`, whose sha256 is not known yet, hashing it
    /// as it is copied (see [`hash_and_copy`]); in parallel across files.
    /// One result per copy, in order.
    pub fn hash_and_copy_all(
        &mut self,
        copies: &[HashedCopy],
        trust_stamps: bool,
        progress: Option<&Progress>,
    ) -> Result<Vec<Result<Hashed, CopyFailed>>, OutputError> {
        interrupt::check().map_err(|e| err(self.dir, e))?;
        let root = self.root;
        let results = crate::load::hash::parallel(
            copies,
            || (),
            |_, copy| {
                let dest = safe_path(root, &copy.relative).map_err(CopyFailed::Output)?;
                hash_and_copy(
                    &copy.source,
                    &dest,
                    CopyMethod::from_env(),
                    trust_stamps,
                    progress,
                )
            },
        )
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(CopyFailed::Output(err(root, "file was not written")))))
        .collect();
        Ok(results)
    }

    /// Write `files` (staged copies) in parallel across cores; the first
    /// failure in their order is the result.
    pub fn write_all(&mut self, files: &[OutputFile]) -> Result<(), OutputError> {
        interrupt::check().map_err(|e| err(self.dir, e))?;
        let root = self.root;
        crate::load::hash::parallel(files, || (), |_, file| write_one(root, file))
            .into_iter()
            .try_for_each(|r| r.unwrap_or_else(|| Err(err(root, "file was not written"))))
    }
}

/// Make the new content of `dir` with `produce`, which writes each file
/// through the [`Stage`] it is given; then swap it in as a whole.
pub fn write_atomically_with(
    dir: &Path,
    force: bool,
    produce: impl FnOnce(&mut Stage) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let given = dir;
    // `out/.` is `out`: renaming `.` is impossible.
    let dir: PathBuf = dir
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let dir = dir.as_path();
    let name = dir
        .file_name()
        .filter(|_| {
            dir.components()
                .next_back()
                .is_some_and(|c| matches!(c, Component::Normal(_)))
        })
        .ok_or_else(|| {
            err(
                given,
                "the output directory needs a name (not `/`, `.` or `..`)",
            )
        })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Judged before the parent is created, so a refused build creates
    // nothing; judged again under the lock, where it counts.
    check_destination(dir, force)?;
    let interrupts = interrupt::Guard::install();
    let result = CreatedParents::create(&parent).and_then(|created| {
        let written = write_locked(dir, &parent, name, produce, force);
        if written.is_ok() {
            created.keep();
        }
        written
    });
    interrupts.finish(); // after every cleanup above has run
    result
}

/// The parent directories a build created, removed again (when still
/// empty) unless [`CreatedParents::keep`] is called: a failed build leaves
/// nothing behind.
struct CreatedParents(Vec<PathBuf>);

impl CreatedParents {
    fn create(parent: &Path) -> Result<CreatedParents, OutputError> {
        let missing: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(parent)
            .map_err(|e| err(parent, format!("cannot create the parent directory: {e}")))?;
        Ok(CreatedParents(missing))
    }

    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for CreatedParents {
    fn drop(&mut self) {
        // Deepest first; remove_dir fails (and stops nothing) when not empty.
        for dir in &self.0 {
            let _ = fs::remove_dir(dir);
        }
    }
}

fn write_locked(
    dir: &Path,
    parent: &Path,
    name: &std::ffi::OsStr,
    produce: impl FnOnce(&mut Stage) -> Result<(), OutputError>,
    force: bool,
) -> Result<(), OutputError> {
    let parent = parent.to_path_buf();
    let _lock = OutputLock::acquire(&parent, name)?;
    check_destination(dir, force)?;
    let prefix = staging_prefix(name);
    remove_stale_staging(&parent, &prefix);
    let staging = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&parent)
        .map_err(|e| err(&parent, format!("cannot create a temporary directory: {e}")))?;

    let mut stage = Stage {
        root: staging.path(),
        dir,
        cache: None,
    };
    produce(&mut stage)?;
    interrupt::check().map_err(|e| err(dir, e))?;
    if let Some(bytes) = stage.cache.take() {
        keep_cache(
            staging.path(),
            &parent.join(crate::load::cache::file_name(name)),
            &bytes,
        );
    }
    keep_mode_and_owner(staging.path(), dir)?;
    sync_dir(staging.path());

    if dir.exists() {
        // Swap atomically; the old content ends up in the temporary
        // directory, which is removed when `staging` drops.
        exchange(staging.path(), dir)
            .map_err(|e| err(dir, format!("cannot replace the output directory: {e}")))?;
    } else {
        let kept = staging.keep();
        fs::rename(&kept, dir).map_err(|e| {
            let _ = fs::remove_dir_all(&kept);
            err(dir, format!("cannot create the output directory: {e}"))
        })?;
    }
    sync_dir(&parent);
    Ok(())
}

/// Put the build cache at `path` (beside the output), best effort: written
/// in the staging directory and renamed, so it is never written through a
/// link somebody left at `path`, never seen half written, and a build
/// killed meanwhile leaves it with the staging directory. Any version of
/// it is true (its entries describe inputs, not this output), so it may be
/// replaced before the output is.
fn keep_cache(staging: &Path, path: &Path, bytes: &[u8]) {
    let temporary = staging.join(".xencfg.cache.new");
    if fs::write(&temporary, bytes).is_err() || fs::rename(&temporary, path).is_err() {
        let _ = fs::remove_file(&temporary);
    }
}

/// Give the new directory the old one's mode and owner (a rebuild changes
/// the content, not who may read it), or for a first build the mode a
/// plain `mkdir` would give (the staging directory is private, 0700).
fn keep_mode_and_owner(staging: &Path, dir: &Path) -> Result<(), OutputError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = match fs::metadata(dir) {
        Ok(old) => {
            // Only root may give a file away; others keep their own.
            let _ = std::os::unix::fs::chown(staging, Some(old.uid()), Some(old.gid()));
            old.mode() & 0o7777
        }
        Err(_) => {
            let umask = rustix::process::umask(rustix::fs::Mode::empty());
            rustix::process::umask(umask);
            0o777 & !umask.bits()
        }
    };
    fs::set_permissions(staging, fs::Permissions::from_mode(mode)).map_err(|e| {
        err(
            staging,
            format!("cannot set the output directory's mode: {e}"),
        )
    })
}

/// The name of every staging directory of `name` starts with this.
fn staging_prefix(name: &std::ffi::OsStr) -> String {
    format!(".{}.xencfg-", name.to_string_lossy())
}

/// An exclusive lock on building one output directory, held until drop.
struct OutputLock {
    file: fs::File,
    path: PathBuf,
}

impl OutputLock {
    /// Take the lock of output `name` in `parent`, waiting for a build that
    /// holds it (saying so on stderr).
    fn acquire(parent: &Path, name: &std::ffi::OsStr) -> Result<OutputLock, OutputError> {
        use rustix::fs::{FlockOperation, flock};
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let path = parent.join(format!(".{}.xencfg.lock", name.to_string_lossy()));
        let mut said = false;
        loop {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(&path)
                .map_err(|e| err(&path, format!("cannot create the build lock: {e}")))?;
            if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
                if !said {
                    eprintln!(
                        "waiting for another xencfg build of {} to finish (lock {})",
                        parent.join(name).display(),
                        path.display()
                    );
                    said = true;
                }
                flock(&file, FlockOperation::LockExclusive)
                    .map_err(|e| err(&path, format!("cannot take the build lock: {e}")))?;
            }
            // The build that held it removes the file before it unlocks:
            // only the lock of the file still at `path` counts.
            let held = file.metadata().map_err(|e| err(&path, e))?;
            match fs::symlink_metadata(&path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(OutputLock { file, path });
                }
                _ => continue,
            }
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; a build waiting on this file then
        // finds it gone and locks the next one.
        let _ = fs::remove_file(&self.path);
        let _ = rustix::fs::flock(&self.file, rustix::fs::FlockOperation::Unlock);
    }
}

/// Remove staging directories of this output left by killed builds. The
/// caller holds the output's lock, so no other build of it is running and
/// every `<prefix><pid>-…` directory is stale, whatever process made it.
/// Best effort: a directory that cannot be removed stays.
fn remove_stale_staging(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_staging = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(pid, _)| pid.parse::<u32>().is_ok());
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_staging && is_dir {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether `dir` is the root of a file system mounted on its parent.
fn is_mount_point(dir: &Path, meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(dir.join("..")).is_ok_and(|up| up.dev() != meta.dev() || up.ino() == meta.ino())
}

/// Refuse to replace a file, a directory another file system is mounted
/// in, or (without `force`) a directory xencfg did not write.
fn check_destination(dir: &Path, force: bool) -> Result<(), OutputError> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(dir, e)),
    };
    if !meta.is_dir() {
        return Err(err(dir, "exists and is not a directory"));
    }
    if is_mount_point(dir, &meta) {
        return Err(err(
            dir,
            "is a mount point; xencfg replaces the output directory by renaming it, which a mount point cannot be. Use a directory inside it as -o (e.g. the ESP's EFI/BOOT), or build elsewhere and copy",
        ));
    }
    let content = ownership::survey(dir, &meta).map_err(|e| err(dir, e))?;
    if let Some(mount) = content.mount_point {
        return Err(err(
            dir,
            format!(
                "{} is a mount point inside the output directory; replacing the directory would delete what is on it. Unmount it, or choose another -o",
                mount.display()
            ),
        ));
    }
    if force || content.is_empty() {
        return Ok(());
    }
    match content.verdict {
        ownership::Verdict::Ours => Ok(()),
        ownership::Verdict::NotOurs(why) => Err(err(
            dir,
            format!(
                "exists, is not empty and was not written by xencfg ({why}); pass --force to replace it"
            ),
        )),
        ownership::Verdict::OursWithStrays(strays) => Err(err(
            dir,
            format!(
                "was written by xencfg but also holds {}, which a rebuild would delete; move {} away or pass --force",
                ownership::list(&strays),
                if strays.len() == 1 { "it" } else { "them" }
            ),
        )),
    }
}

/// `relative` under `root`, its directories made; refused if it would
/// leave `root`.
fn safe_path(root: &Path, relative: &Path) -> Result<PathBuf, OutputError> {
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(err(
            relative,
            "refusing to write outside the output directory",
        ));
    }
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
    }
    Ok(path)
}

fn write_one(root: &Path, file: &OutputFile) -> Result<(), OutputError> {
    let path = safe_path(root, &file.relative)?;
    match &file.content {
        Content::Bytes(bytes) => {
            // Never over another file of this output: the checks keep
            // names unique, and a slip must fail, not drop a file.
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| err(&path, e))?;
            f.write_all(bytes).map_err(|e| err(&path, e))?;
            f.sync_all().map_err(|e| err(&path, e))?;
        }
        Content::CopyOf {
            source,
            sha256,
            proof,
        } => stage_copy(source, &path, sha256, *proof, CopyMethod::from_env())?,
    }
    Ok(())
}

/// Copy `source` to the new file `dest` by `method`: without reading it
/// when `proof` shows it unchanged since it was hashed, verified against
/// `sha256` by reading it otherwise.
pub fn stage_copy(
    source: &Path,
    dest: &Path,
    sha256: &str,
    proof: Option<Proof>,
    method: CopyMethod,
) -> Result<(), OutputError> {
    let proof = proof.filter(|p| p.is_clean());
    let (Some(proof), false) = (proof, method == CopyMethod::Verified) else {
        return copy_verified(source, dest, sha256);
    };
    let stage_err = |e: io::Error| err(source, format!("cannot stage: {e}"));
    let from = crate::load::input::open_regular(source).map_err(stage_err)?;
    let stamp = |f: &fs::File| f.metadata().map(|m| Stamp::of(&m)).map_err(stage_err);
    if stamp(&from)? != proof.stamp {
        // Touched since it was hashed: perhaps the same bytes still.
        drop(from);
        return copy_verified(source, dest, sha256);
    }
    let to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| err(dest, e))?;
    copy_unread(&from, &to, proof.stamp.size, method)
        .map_err(|e| err(dest, format!("cannot stage {}: {e}", source.display())))?;
    // Any write to the source since it was hashed, during the copy too,
    // moved its stamp (the proof is clean: see `Proof::is_clean`).
    if stamp(&from)? != proof.stamp {
        return Err(changed(source));
    }
    to.sync_all().map_err(|e| err(dest, e))
}

/// A staged file whose sha256 is not known yet (a first build, a changed
/// input, `--no-cache`): hashed as it is copied.
pub struct HashedCopy {
    pub source: PathBuf,
    /// Path relative to the output directory.
    pub relative: PathBuf,
}

/// What was hashed of a staged file: the bytes its copy holds.
pub type Hashed = (FileFacts, Option<Proof>);

/// Why a file could not be hashed and copied: its source could not be
/// read (as hashing an input fails), or the copy not written.
#[derive(Debug)]
pub enum CopyFailed {
    Source(io::Error),
    Output(OutputError),
}

/// Copy `source` to the new file `dest` and hash it, reading it once: the
/// copy holds the bytes hashed, and its facts and proof are returned.
///
/// When stamps may be trusted and the file last changed clearly before
/// (see [`Proof::is_clean`]), the kernel copies it (reflink, else
/// `copy_file_range`, as [`copy_unread`]) and syncs the copy on one
/// thread while xencfg hashes it on another; the copy holds the bytes
/// hashed if the file's stamp was the same when both began and ended.
/// Otherwise (a file just changed, one that changed meanwhile,
/// `--no-cache`, `method` [`CopyMethod::Verified`]) each chunk read is
/// hashed and written: one pass, the copy made from the read that hashed
/// it.
pub fn hash_and_copy(
    source: &Path,
    dest: &Path,
    method: CopyMethod,
    trust_stamps: bool,
    progress: Option<&Progress>,
) -> Result<Hashed, CopyFailed> {
    if trust_stamps && method != CopyMethod::Verified {
        if let Some(done) = copy_while_hashing(source, dest, method, progress) {
            return done;
        }
        // Not proven: made again from one read.
        let _ = fs::remove_file(dest);
    }
    copy_hashing(source, dest, progress)
}

/// The kernel's copy and xencfg's hash side by side; `None` when the
/// stamps do not prove that the copy holds the bytes hashed (nothing is
/// left at `dest` then but what the caller removes).
fn copy_while_hashing(
    source: &Path,
    dest: &Path,
    method: CopyMethod,
    progress: Option<&Progress>,
) -> Option<Result<Hashed, CopyFailed>> {
    let started = crate::load::hash::now_ns();
    let from = match crate::load::input::open_regular(source) {
        Ok(f) => f,
        Err(e) => return Some(Err(CopyFailed::Source(e))),
    };
    let stamp = |f: &fs::File| f.metadata().map(|m| Stamp::of(&m));
    let before = match stamp(&from) {
        Ok(s) => s,
        Err(e) => return Some(Err(CopyFailed::Source(e))),
    };
    let proof = Proof {
        stamp: before,
        hashed_at_ns: started,
    };
    if !proof.is_clean() {
        return None; // changed just now: its stamp proves nothing
    }
    let to = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
    {
        Ok(f) => f,
        Err(e) => return Some(Err(CopyFailed::Output(err(dest, e)))),
    };
    let (hashed, copied) = std::thread::scope(|scope| {
        let copier = std::thread::Builder::new().spawn_scoped(scope, || {
            copy_unread(&from, &to, before.size, method)?;
            let after = stamp(&from)?;
            to.sync_all()?;
            Ok::<Stamp, io::Error>(after)
        });
        // The hash reads through its own descriptor (the copy moves the
        // other's offset), stopping when the build is interrupted.
        let hashed =
            crate::load::hash::hash_file_into(source, progress, &mut |_| interrupt::check());
        let copied = match copier {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No second thread to be had: copy after the hash.
            Err(_) => copy_unread(&from, &to, before.size, method)
                .and_then(|()| stamp(&from))
                .and_then(|after| to.sync_all().map(|()| after)),
        };
        (hashed, copied)
    });
    let (facts, hash_proof) = match hashed {
        Ok(done) => done,
        Err(PassError::Read(e)) => return Some(Err(CopyFailed::Source(e))),
        Err(PassError::Sink(e)) => return Some(Err(CopyFailed::Output(err(dest, e)))),
    };
    let unchanged = hash_proof.is_some_and(|p| p.stamp == before) && facts.size == before.size;
    match copied {
        // One state of the file from before the copy began to after both
        // ended, last changed clearly before: the copy holds the bytes
        // hashed.
        Ok(after) => (unchanged && after == before).then_some(Ok((facts, Some(proof)))),
        Err(e) if unchanged => Some(Err(CopyFailed::Output(err(
            dest,
            format!("cannot stage {}: {e}", source.display()),
        )))),
        // It changed under the copy (which may have ended early for it).
        Err(_) => None,
    }
}

/// Read `source` once, hashing each chunk and writing it to the new file
/// `dest`.
fn copy_hashing(
    source: &Path,
    dest: &Path,
    progress: Option<&Progress>,
) -> Result<Hashed, CopyFailed> {
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| CopyFailed::Output(err(dest, e)))?;
    let hashed = crate::load::hash::hash_file_into(source, progress, &mut |data| {
        interrupt::check()?;
        to.write_all(data)
    });
    let hashed = hashed.map_err(|e| match e {
        PassError::Read(e) => CopyFailed::Source(e),
        PassError::Sink(e) => CopyFailed::Output(err(dest, e)),
    })?;
    to.sync_all()
        .map_err(|e| CopyFailed::Output(err(dest, e)))?;
    Ok(hashed)
}

fn changed(source: &Path) -> OutputError {
    err(
        source,
        "changed while xencfg was building (its sha256 is no longer the one checked); build again",
    )
}

/// Copy `len` bytes from `from` to the empty `to`: a reflink clone, else
/// `copy_file_range`, else a read and write loop (`Auto`), or only the
/// method asked for.
fn copy_unread(from: &fs::File, to: &fs::File, len: u64, method: CopyMethod) -> io::Result<()> {
    if matches!(method, CopyMethod::Auto | CopyMethod::Reflink) {
        match rustix::fs::ioctl_ficlone(to, from) {
            Ok(()) => return Ok(()),
            Err(e) if method == CopyMethod::Reflink => {
                return Err(io::Error::other(format!("reflink: {e}")));
            }
            Err(_) => {} // not this file system, or across two
        }
    }
    if matches!(method, CopyMethod::Auto | CopyMethod::CopyFileRange) {
        match copy_range(from, to, len) {
            Ok(true) => return Ok(()),
            Ok(false) if method == CopyMethod::CopyFileRange => {
                return Err(io::Error::other("copy_file_range is not available here"));
            }
            Ok(false) => {}
            Err(e) => return Err(e),
        }
    }
    read_write(from, to, len)
}

/// Bytes per `copy_file_range` call: the interrupt flag is looked at
/// between calls.
const RANGE_LEN: usize = 64 << 20;

/// `copy_file_range` until `len` bytes are copied; `Ok(false)` when the
/// kernel cannot do it for these files (nothing was copied).
fn copy_range(from: &fs::File, to: &fs::File, len: u64) -> io::Result<bool> {
    use rustix::io::Errno;
    let mut done: u64 = 0;
    while done < len {
        interrupt::check()?;
        let want = usize::try_from(len - done)
            .unwrap_or(RANGE_LEN)
            .min(RANGE_LEN);
        match rustix::fs::copy_file_range(from, None, to, None, want) {
            Ok(0) => return Err(io::Error::other("the file ended early (changed)")),
            Ok(n) => done += n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM)
                if done == 0 =>
            {
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// The portable copy: through a buffer, `len` bytes.
fn read_write(from: &fs::File, to: &fs::File, len: u64) -> io::Result<()> {
    let mut chunk = vec![0u8; crate::load::hash::CHUNK_LEN];
    let mut from = from.take(len);
    let mut to = to;
    loop {
        interrupt::check()?;
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(chunk.get(..n).unwrap_or(&[]))?;
    }
    Ok(())
}

/// Copy `source` to the new file `dest`, hashing the bytes as they go, and
/// fail unless they still have the sha256 recorded when it was checked.
fn copy_verified(source: &Path, dest: &Path, sha256: &str) -> Result<(), OutputError> {
    let stage_err = |e: io::Error| err(source, format!("cannot stage: {e}"));
    let mut from = crate::load::input::open_regular(source).map_err(stage_err)?;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| err(dest, e))?;
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; crate::load::hash::CHUNK_LEN];
    loop {
        interrupt::check().map_err(|e| err(dest, e))?;
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(stage_err(e)),
        };
        let data = chunk.get(..n).unwrap_or(&[]);
        hasher.update(data);
        to.write_all(data).map_err(|e| err(dest, e))?;
    }
    let copied: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if copied != sha256 {
        return Err(changed(source));
    }
    to.sync_all().map_err(|e| err(dest, e))
}

/// Make a rename durable (best effort: not every file system supports it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

/// Without an atomic exchange, move the old directory aside first; a crash
/// in between leaves the old content in `<dir>.xencfg-old`.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let aside = b.with_extension("xencfg-old");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn bytes(rel: &str, data: &[u8]) -> OutputFile {
        OutputFile {
            relative: PathBuf::from(rel),
            content: Content::Bytes(data.to_vec()),
        }
    }

    /// The manifest of an output of `files` (ESP paths).
    fn manifest_of(files: &[&str]) -> OutputFile {
        let files: Vec<String> = files
            .iter()
            .map(|f| format!(r#"{{"esp_path": "{f}"}}"#))
            .collect();
        let json = format!(
            r#"{{"schema": 1, "generator": "xencfg", "sections": [], "files": [{}]}}"#,
            files.join(", ")
        );
        bytes(MANIFEST_NAME, json.as_bytes())
    }

    fn manifest() -> OutputFile {
        manifest_of(&[])
    }

    #[test]
    fn creates_then_replaces_its_own_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        write_atomically(
            &out,
            &[manifest_of(&["a/b.txt"]), bytes("a/b.txt", b"1")],
            false,
        )
        .unwrap();
        assert_eq!(fs::read(out.join("a/b.txt")).unwrap(), b"1");
        write_atomically(
            &out,
            &[manifest_of(&["c.txt"]), bytes("c.txt", b"2")],
            false,
        )
        .unwrap();
        assert!(!out.join("a/b.txt").exists(), "old content is gone");
        assert_eq!(fs::read(out.join("c.txt")).unwrap(), b"2");
        // no temporary directories left behind
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    /// A pid no process has: beyond the kernel's pid_max.
    const DEAD_PID: u32 = 4_194_304 + 1;

    #[test]
    fn removes_every_staging_of_its_output_under_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let dead = tmp.path().join(format!(".out.xencfg-{DEAD_PID}-abc"));
        // A live PID proves nothing (another PID namespace may have made
        // it): under the lock no other build of `out` runs.
        let live = tmp
            .path()
            .join(format!(".out.xencfg-{}-xyz", std::process::id()));
        let other = tmp.path().join(format!(".other.xencfg-{DEAD_PID}-abc"));
        let unparsed = tmp.path().join(".out.xencfg-abcdef");
        for d in [&dead, &live, &other, &unparsed] {
            fs::create_dir_all(d.join("sub")).unwrap();
            fs::write(d.join("sub/file"), b"x").unwrap();
        }
        write_atomically(&out, &[manifest()], false).unwrap();
        assert!(!dead.exists() && !live.exists(), "stale staging is removed");
        assert!(other.exists(), "another output's staging is kept");
        assert!(unparsed.exists(), "names without a pid are kept");
        assert!(
            !tmp.path().join(".out.xencfg.lock").exists(),
            "the lock file goes with the build"
        );
    }

    #[test]
    fn a_second_build_waits_for_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::new("out");
        let held = OutputLock::acquire(tmp.path(), name).unwrap();
        let parent = tmp.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let lock = OutputLock::acquire(&parent, std::ffi::OsStr::new("out")).unwrap();
            tx.send(()).unwrap();
            drop(lock);
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "the lock was taken twice"
        );
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the waiting build gets the lock once it is released");
        waiter.join().unwrap();
    }

    #[test]
    fn staged_copies_must_match_their_checked_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("Image");
        fs::write(&source, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let copy = |sha256: &str| OutputFile {
            relative: PathBuf::from("EFI/Image"),
            content: Content::CopyOf {
                source: source.clone(),
                sha256: sha256.to_string(),
                proof: None,
            },
        };
        let out = tmp.path().join("out");
        write_atomically(&out, &[manifest_of(&["EFI/Image"]), copy(abc)], false).unwrap();
        let first = fs::read(out.join(MANIFEST_NAME)).unwrap();
        assert_eq!(fs::read(out.join("EFI/Image")).unwrap(), b"abc");

        fs::write(&source, b"abd").unwrap();
        let e = write_atomically(&out, &[manifest_of(&["EFI/Image", "2"]), copy(abc)], false)
            .unwrap_err();
        assert!(e.message.contains("changed while"), "{e}");
        assert_eq!(
            fs::read(out.join("manifest.json")).unwrap(),
            first,
            "old output kept"
        );

        fs::remove_file(&source).unwrap();
        let e = write_atomically(&out, &[manifest_of(&["EFI/Image", "3"]), copy(abc)], false)
            .unwrap_err();
        assert!(e.message.contains("cannot stage"), "{e}");
        assert_eq!(
            fs::read(out.join("manifest.json")).unwrap(),
            first,
            "old output kept"
        );
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["out"], "no staging left behind");
    }

    /// A proof made now for `source` as it is, clean (its read "began"
    /// well after its last change).
    fn proof_of(source: &Path) -> Proof {
        let stamp = Stamp::of(&fs::metadata(source).unwrap());
        Proof {
            stamp,
            hashed_at_ns: stamp.ctime_ns.max(stamp.mtime_ns) + 10_000_000_000,
        }
    }

    #[test]
    fn every_copy_path_copies_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        // Around the chunk size, and more than one copy_file_range call
        // would make were RANGE_LEN small.
        for (i, len) in [0, 1, crate::load::hash::CHUNK_LEN + 7, 3 << 20]
            .into_iter()
            .enumerate()
        {
            let bytes = crate::load::hash::tests::pseudo_random(len, i as u64 + 3);
            let source = tmp.path().join(format!("src{i}"));
            fs::write(&source, &bytes).unwrap();
            let sha256 = crate::load::hash::hash_file(&source)
                .unwrap()
                .sha256
                .unwrap();
            let proof = Some(proof_of(&source));
            for method in [
                CopyMethod::Auto,
                CopyMethod::Reflink,
                CopyMethod::CopyFileRange,
                CopyMethod::ReadWrite,
                CopyMethod::Verified,
            ] {
                let dest = tmp.path().join(format!("dst{i}-{method:?}"));
                match stage_copy(&source, &dest, &sha256, proof, method) {
                    Ok(()) => assert_eq!(fs::read(&dest).unwrap(), bytes, "{method:?}"),
                    // No reflinks on this file system (ext4, tmpfs).
                    Err(e) if method == CopyMethod::Reflink && e.message.contains("reflink") => {
                        eprintln!("no reflink here: {e}")
                    }
                    Err(e) => panic!("{method:?}: {e}"),
                }
            }
        }
    }

    #[test]
    fn a_copy_hashed_as_it_is_made_holds_the_bytes_hashed() {
        let tmp = tempfile::tempdir().unwrap();
        let lens = [0, 1, crate::load::hash::CHUNK_LEN + 7, 3 << 20];
        let sources: Vec<(PathBuf, Vec<u8>)> = lens
            .into_iter()
            .enumerate()
            .map(|(i, len)| {
                let bytes = crate::load::hash::tests::pseudo_random(len, i as u64 + 5);
                let source = tmp.path().join(format!("src{i}"));
                fs::write(&source, &bytes).unwrap();
                (source, bytes)
            })
            .collect();
        let methods = [
            CopyMethod::Auto,
            CopyMethod::Reflink,
            CopyMethod::CopyFileRange,
            CopyMethod::ReadWrite,
            CopyMethod::Verified,
        ];
        let check = |settled: bool| {
            for (i, (source, bytes)) in sources.iter().enumerate() {
                let truth = crate::load::hash::hash_file(source).unwrap();
                for method in methods {
                    for trust in [true, false] {
                        let dest = tmp
                            .path()
                            .join(format!("dst{i}-{method:?}-{trust}-{settled}"));
                        // Only a settled file, stamps trusted, is copied
                        // by the kernel beside the hash.
                        if trust && settled && method != CopyMethod::Verified {
                            match copy_while_hashing(source, &dest, method, None) {
                                Some(Ok(_)) => {}
                                Some(Err(CopyFailed::Output(e)))
                                    if method == CopyMethod::Reflink
                                        && e.message.contains("reflink") => {}
                                Some(Err(e)) => panic!("{method:?}: {e:?}"),
                                None => panic!("{method:?}: a settled file was not proven"),
                            }
                            let _ = fs::remove_file(&dest);
                        }
                        match hash_and_copy(source, &dest, method, trust, None) {
                            Ok((facts, proof)) => {
                                assert_eq!(facts, truth, "{method:?}");
                                assert_eq!(&fs::read(&dest).unwrap(), bytes, "{method:?}");
                                assert!(proof.is_some(), "{method:?}: unchanged while read");
                            }
                            Err(CopyFailed::Output(e))
                                if method == CopyMethod::Reflink
                                    && e.message.contains("reflink") =>
                            {
                                eprintln!("no reflink here: {e}")
                            }
                            Err(e) => panic!("{method:?}: {e:?}"),
                        }
                    }
                }
            }
        };
        // Just written: racily clean, so read once, hashed and written.
        assert!(
            copy_while_hashing(
                &sources[1].0,
                &tmp.path().join("racy"),
                CopyMethod::Auto,
                None
            )
            .is_none()
        );
        assert!(!tmp.path().join("racy").exists());
        check(false);
        std::thread::sleep(crate::load::hash::RACY_MARGIN + Duration::from_millis(100));
        check(true);
    }

    #[test]
    fn a_copy_is_not_trusted_once_the_stamp_moved() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("Image");
        fs::write(&source, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let proof = proof_of(&source);
        // Same size, mtime set back: ctime moves, so the copy is read,
        // hashed and refused.
        let mtime = fs::metadata(&source).unwrap().modified().unwrap();
        fs::write(&source, b"abd").unwrap();
        fs::File::options()
            .write(true)
            .open(&source)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        for method in [CopyMethod::Auto, CopyMethod::CopyFileRange] {
            let dest = tmp.path().join(format!("{method:?}"));
            let e = stage_copy(&source, &dest, abc, Some(proof), method).unwrap_err();
            assert!(e.message.contains("changed while"), "{e}");
        }
        // A racily clean proof is not used either.
        let racy = Proof {
            hashed_at_ns: proof.stamp.ctime_ns,
            ..proof_of(&source)
        };
        let e = stage_copy(
            &source,
            &tmp.path().join("racy"),
            abc,
            Some(racy),
            CopyMethod::Auto,
        )
        .unwrap_err();
        assert!(e.message.contains("changed while"), "{e}");
    }

    #[test]
    fn refuses_foreign_directory_without_force() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("precious"), b"x").unwrap();
        let e = write_atomically(tmp.path(), &[manifest()], false).unwrap_err();
        assert!(e.message.contains("--force"));
        assert!(tmp.path().join("precious").exists());
        write_atomically(tmp.path(), &[manifest()], true).unwrap();
        assert!(!tmp.path().join("precious").exists());
    }

    #[test]
    fn refuses_a_file_as_output() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("file");
        fs::write(&f, b"x").unwrap();
        assert!(
            write_atomically(&f, &[], false)
                .unwrap_err()
                .message
                .contains("not a directory")
        );
    }

    #[test]
    fn refuses_paths_leaving_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        assert!(write_atomically(&out, &[bytes("../evil", b"x")], false).is_err());
        assert!(!out.exists() && !tmp.path().join("evil").exists());
    }
}
