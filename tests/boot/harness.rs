//! Boots an ESP directory on real Xen 4.17 arm64 under QEMU + EDK2 and
//! watches the serial console (see `shared/reference/real-xen-boot.md`).
//!
//! A scenario goes: files → [`Esp`] (an ESP directory) → [`Esp::boot`] (QEMU) →
//! [`BootLog`] (the serial log, the outcome, the guests' markers) → the
//! test's assertions. The assets come from `scripts/fetch-boot-assets`
//! ([`Assets`]); the guest initramfs (`tests/boot/make-initramfs`) and the
//! host DTB (QEMU's own, dumped with the machine options of the boot) are
//! built once per test process ([`Assets::initrd`], [`Assets::host_dtb`]).
//!
//! Boots run one at a time (a process-wide lock): two in parallel on two
//! cores take more than twice as long. QEMU is always stopped by its own
//! PID: a guard kills and reaps it on every path, panics included, and
//! QEMU is started with a parent-death signal so that even a killed test
//! process does not leave it running.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The EDK2 firmware of Debian's `qemu-efi-aarch64`.
pub const FIRMWARE: &str = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";
const QEMU: &str = "qemu-system-aarch64";
/// The machine, shared by the boot and the host DTB dump: a DTB whose GIC
/// version differs from the booted machine makes Xen panic.
const MACHINE: &str = "virt,virtualization=on,gic-version=3";
const MACHINE_ARGS: &[&str] = &[
    "-cpu",
    "cortex-a57",
    "-m",
    "2048",
    "-smp",
    "2",
    "-nic",
    "none",
];

/// Strings on the serial console that end a boot at once: Xen, EDK2 and
/// guest-kernel failures.
pub const XEN_FAILURES: &[&str] = &[
    "Panic on CPU",
    "Xen BUG at",
    "No initial domain kernel",
    "No configuration file found",
    "Error processing boot modules on DT",
    "Open failed for",
    "Unable to create new FDT",
    "Unable to setup chosen node",
    "BdsDxe: failed to start",
    "Kernel panic - not syncing",
    // EDK2 falls back to its setup menu when the EFI binary exits with an
    // error that none of the strings above names.
    "Boot0000 \"UiApp\"",
];

/// How long a scenario that should boot may take. A boot takes ~5.5 s on
/// an idle 2-core machine; this leaves room for a machine busy compiling.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// Lines of the serial log quoted when a boot fails, and the characters
/// quoted of each (EDK2's menu screen is one line of thousands).
const TAIL_LINES: usize = 60;
const LINE_CHARS: usize = 300;

/// Set to keep each boot's directory (ESP, serial log, QEMU's stderr).
const KEEP_ENV: &str = "XENCFG_BOOT_KEEP";
/// Set to `1` to skip the boot tests (they fail when the assets are missing).
const SKIP_ENV: &str = "XENCFG_SKIP_BOOT";

/// The cached boot assets of `scripts/fetch-boot-assets`.
#[derive(Debug)]
pub struct Assets {
    /// Xen's EFI binary (`xen-hypervisor-4.17-arm64`).
    pub xen_efi: PathBuf,
    /// The cloud arm64 kernel, an uncompressed arm64 Image.
    pub image: PathBuf,
    /// A static arm64 busybox.
    pub busybox: PathBuf,
    /// The `.config` Xen was built with.
    pub xen_config: PathBuf,
    derived: OnceLock<Derived>,
    image_gz: OnceLock<PathBuf>,
}

/// Files made from the assets once per test process.
#[derive(Debug)]
struct Derived {
    initrd: PathBuf,
    host_dtb: PathBuf,
}

/// The cache directory of `scripts/arm64-apt.sh`.
fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("XENCFG_CACHE") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .expect("neither XENCFG_CACHE, XDG_CACHE_HOME nor HOME is set");
    base.join("xencfg")
}

impl Assets {
    /// The assets, or `None` when `XENCFG_SKIP_BOOT=1`. Panics with the way
    /// to get them when anything is missing: a boot test that silently
    /// passes without booting would prove nothing.
    pub fn get() -> Option<&'static Assets> {
        if std::env::var_os(SKIP_ENV).is_some_and(|v| v == "1") {
            eprintln!("{SKIP_ENV}=1: skipping the real-Xen boot");
            return None;
        }
        static ASSETS: OnceLock<Assets> = OnceLock::new();
        Some(ASSETS.get_or_init(Assets::locate))
    }

    fn locate() -> Assets {
        let dir = cache_root().join("boot-assets");
        let assets = Assets {
            xen_efi: dir.join("xen.efi"),
            image: dir.join("Image"),
            busybox: dir.join("busybox"),
            xen_config: dir.join("xen.config"),
            derived: OnceLock::new(),
            image_gz: OnceLock::new(),
        };
        let mut missing: Vec<String> = [
            &assets.xen_efi,
            &assets.image,
            &assets.busybox,
            &assets.xen_config,
            Path::new(FIRMWARE),
        ]
        .into_iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
        missing.extend(
            [QEMU, "dtc", "fdtput", "fdtget", "cpio", "gzip", "setpriv"]
                .into_iter()
                .filter(|tool| !on_path(tool))
                .map(|tool| format!("{tool} (on PATH)")),
        );
        assert!(
            missing.is_empty(),
            "the real-Xen boot test needs assets that are missing:\n  {}\n\
             Run `scripts/fetch-boot-assets` (as root: it installs QEMU, EDK2, dtc \
             and cpio when missing), or set {SKIP_ENV}=1 to skip the boot tests.",
            missing.join("\n  ")
        );
        assets
    }

    /// The guest initramfs (`tests/boot/make-initramfs`), gzip-compressed.
    pub fn initrd(&self) -> &Path {
        &self.derived().initrd
    }

    /// QEMU virt's own DTB for the booted machine, without the per-run
    /// random seeds (`/chosen/rng-seed`, `/chosen/kaslr-seed`).
    pub fn host_dtb(&self) -> &Path {
        &self.derived().host_dtb
    }

    /// The kernel compressed with `gzip -n` (Xen decompresses a gzip
    /// kernel itself). Made once and kept under `target/tmp/boot-derived/`
    /// across test runs while it is newer than the kernel (~2 s to make).
    pub fn image_gz(&self) -> &Path {
        self.image_gz.get_or_init(|| {
            let out = derived_dir().join("Image.gz");
            let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
            if mtime(&out).is_none() || mtime(&out) < mtime(&self.image) {
                let tmp = out.with_extension("gz.tmp");
                let gz = run(Command::new("gzip").args(["-n", "-c"]).arg(&self.image));
                fs::write(&tmp, gz).unwrap();
                fs::rename(&tmp, &out).unwrap();
            }
            out
        })
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let dir = derived_dir();
            let derived = Derived {
                initrd: dir.join("initrd.gz"),
                host_dtb: dir.join("virt.dtb"),
            };
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/boot/make-initramfs");
            run(Command::new(script).arg(&self.busybox).arg(&derived.initrd));
            dump_host_dtb(&derived.host_dtb);
            derived
        })
    }
}

/// Where files made from the assets are kept.
fn derived_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("boot-derived");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Runs a command to completion; panics with its stderr when it fails.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Adds the machine options, with `extra` `-machine` suboptions, to `cmd`.
fn machine<'c>(cmd: &'c mut Command, extra: &str) -> &'c mut Command {
    cmd.arg("-machine").arg(format!("{MACHINE}{extra}"));
    cmd.args(MACHINE_ARGS)
}

fn dump_host_dtb(out: &Path) {
    let dumped = out.with_extension("dumped.dtb");
    run(machine(
        &mut Command::new(QEMU),
        &format!(",dumpdtb={}", dumped.display()),
    )
    .args(["-display", "none", "-monitor", "none", "-serial", "none"]));
    for seed in ["rng-seed", "kaslr-seed"] {
        run(Command::new("fdtput")
            .arg("-d")
            .arg(&dumped)
            .args(["/chosen", seed]));
    }
    // QEMU pads its DTB to 1 MiB; a dtc round trip keeps every node and
    // property and drops the padding.
    run(Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dtb", "-o"])
        .arg(out)
        .arg(&dumped));
    fs::remove_file(&dumped).unwrap();
}

/// Compiles `dtb` with `dts` appended to its decompiled source: dtc merges
/// a node written twice, so `/ { chosen { domU1 { … }; }; };` adds to
/// `/chosen`. Hand-made DTBs for tests that do not go through xencfg.
pub fn dtb_with_dts(dtb: &Path, dts: &str) -> Vec<u8> {
    let mut source = run(Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts"])
        .arg(dtb));
    source.extend_from_slice(b"\n");
    source.extend_from_slice(dts.as_bytes());
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("merged.dts");
    fs::write(&path, source).unwrap();
    run(Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb"])
        .arg(&path))
}

/// An ESP directory, `<dir>/esp`, with `EFI/BOOT` in it, plus room beside
/// it for the serial log. Kept on disk when `XENCFG_BOOT_KEEP` is set.
pub struct Esp {
    dir: TempDir,
    /// Extra `-machine` suboptions for the boot (e.g. `,acpi=off`).
    machine_extra: &'static str,
}

impl Esp {
    pub fn new() -> Esp {
        let keep = std::env::var_os(KEEP_ENV).is_some();
        let dir = tempfile::Builder::new()
            .prefix("boot-")
            .disable_cleanup(keep)
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        if keep {
            eprintln!("{KEEP_ENV}: keeping {}", dir.path().display());
        }
        // `-drive …,file=fat:DIR,…` splits at `,` and `fat:DIR` at `:`.
        assert!(
            !dir.path().to_string_lossy().contains([':', ',']),
            "QEMU's -drive file=fat: cannot take a path with ':' or ',': {}",
            dir.path().display()
        );
        let esp = Esp {
            dir,
            machine_extra: "",
        };
        fs::create_dir_all(esp.boot_dir()).unwrap();
        esp
    }

    /// Boot with QEMU's ACPI tables off. EDK2 then hands QEMU's device
    /// tree to the EFI application as the firmware's FDT; with ACPI on (the
    /// default) it installs ACPI tables and no FDT.
    pub fn without_acpi(mut self) -> Esp {
        self.machine_extra = ",acpi=off";
        self
    }

    /// The ESP root, given to QEMU.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("esp")
    }

    /// `EFI/BOOT`: where the removable-media path puts `BOOTAA64.EFI`, and
    /// the directory that Xen resolves its cfg's file names against.
    pub fn boot_dir(&self) -> PathBuf {
        self.root().join("EFI").join("BOOT")
    }

    /// Writes `bytes` at `rel` (`/`-separated) under `EFI/BOOT`.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.boot_dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Copies `src` to `rel` (`/`-separated) under `EFI/BOOT`.
    pub fn copy(&self, rel: &str, src: &Path) {
        let path = self.boot_dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::copy(src, &path)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), path.display()));
    }

    /// Boots this ESP and waits until every `expect` pattern has matched a
    /// line of the serial log (in any order). Panics, quoting the reason
    /// and the log's last lines, when a `fail_on` string appears, QEMU
    /// exits, or `timeout` passes first.
    ///
    /// A pattern matches a line that contains its `...`-separated pieces
    /// in order: `"(XEN) DOM1: ...XENCFG-BOOT name=domU1 "`.
    pub fn boot(&self, expect: &[&str], fail_on: &[&str], timeout: Duration) -> BootLog {
        let log = self.watch(expect, fail_on, timeout);
        log.assert_seen("expected the boot to succeed");
        log
    }

    /// Boots this ESP expecting Xen to reject it: succeeds when every
    /// `failure` pattern has matched a line (in any order, as in
    /// [`Esp::boot`]); panics when another failure string appears first,
    /// QEMU exits, or `timeout` passes. Proves that what xencfg rejects
    /// really fails on Xen. A failure string that a pattern names (e.g.
    /// `"Panic on CPU"`) is expected rather than fatal.
    pub fn boot_expect_failure(&self, failure: &[&str], timeout: Duration) -> BootLog {
        let log = self.watch(failure, &failures_except(failure), timeout);
        log.assert_seen(&format!("expected Xen to fail with {failure:?}"));
        log
    }

    /// Boots this ESP and returns whatever happened, without asserting.
    pub fn watch(&self, expect: &[&str], fail_on: &[&str], timeout: Duration) -> BootLog {
        run_qemu(
            self.dir.path(),
            &self.root(),
            self.machine_extra,
            expect,
            fail_on,
            timeout,
        )
    }
}

/// The xencfg binary under test.
pub const XENCFG: &str = env!("CARGO_BIN_EXE_xencfg");
/// The Xen release of the assets (`xen-hypervisor-4.17-arm64`), given to
/// xencfg as `--xen-version`: the checks then judge for the Xen that boots.
pub const XEN_VERSION: &str = "4.17";

/// The build host's side of a scenario: a cfg (`xen.cfg`) and the files it
/// names, in a temporary directory. [`Project::build`] compiles it with
/// `xencfg build --stage` straight into a fresh [`Esp`].
pub struct Project {
    dir: TempDir,
}

/// What `xencfg build` made, and what it said.
pub struct Built {
    pub esp: Esp,
    /// xencfg's diagnostics (stderr).
    pub diagnostics: String,
}

impl Project {
    /// A project whose `xen.cfg` is `cfg`, with the inputs every scenario
    /// uses: the host DTB as `virt.dtb`, the kernel as `Image` and the
    /// guest initramfs as `initrd.gz` (symbolic links to the assets).
    pub fn new(assets: &Assets, cfg: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("project-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let project = Project { dir };
        project.write("xen.cfg", cfg);
        project.link("virt.dtb", assets.host_dtb());
        project.link("Image", &assets.image);
        project.link("initrd.gz", assets.initrd());
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` at `rel` (`/`-separated).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Makes `rel` (`/`-separated) a symbolic link to `src`.
    pub fn link(&self, rel: &str, src: &Path) {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(src, &path)
            .unwrap_or_else(|e| panic!("link {} to {}: {e}", path.display(), src.display()));
    }

    /// Compiles `dts` with dtc into `rel`.
    pub fn dtc(&self, rel: &str, dts: &str) {
        let source = self.path().join(rel).with_extension("dts");
        fs::write(&source, dts).unwrap();
        run(Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
            .arg(self.path().join(rel))
            .arg(&source));
    }

    /// `xencfg check xen.cfg --xen-version 4.17 ARGS…` in the project
    /// directory: what xencfg says without building.
    pub fn check(&self, args: &[&str]) -> std::process::Output {
        Command::new(XENCFG)
            .args(["check", "xen.cfg", "--xen-version", XEN_VERSION])
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {XENCFG}: {e}"))
    }

    /// `xencfg build xen.cfg --stage --efi-name BOOTAA64 --xen XEN.EFI
    /// --xen-version 4.17 -o ESP/EFI/BOOT ARGS…`: the ESP exactly as a user
    /// would make it.
    /// Panics, quoting xencfg's diagnostics, unless the build succeeds.
    pub fn build(&self, assets: &Assets, args: &[&str]) -> Built {
        let esp = Esp::new();
        let out_dir = esp.boot_dir();
        let mut cmd = Command::new(XENCFG);
        cmd.args(["build", "xen.cfg", "--stage", "--efi-name", "BOOTAA64"])
            .args(["--xen-version", XEN_VERSION])
            .arg("--xen")
            .arg(&assets.xen_efi)
            .arg("-o")
            .arg(&out_dir)
            .args(args)
            .current_dir(self.path());
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {XENCFG}: {e}"));
        let diagnostics = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{cmd:?} failed ({}):\n{diagnostics}",
            out.status
        );
        if !diagnostics.is_empty() {
            eprintln!("xencfg build {args:?}:\n{diagnostics}");
        }
        Built { esp, diagnostics }
    }
}

/// The failure strings other than those an expected pattern names.
fn failures_except(expected: &[&str]) -> Vec<&'static str> {
    XEN_FAILURES
        .iter()
        .copied()
        .filter(|f| !expected.iter().any(|e| e.contains(f) || f.contains(e)))
        .collect()
}

/// What ended the watch of a boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every expected pattern matched a line.
    Seen,
    /// A failure string appeared in `line`.
    Failed { failure: String, line: String },
    /// QEMU exited by itself (with `-no-reboot`, Xen's reboot after a panic).
    Exited(String),
    /// The timeout passed with these patterns still unmatched.
    TimedOut { missing: Vec<String> },
}

/// The serial log of one boot and how it ended.
#[derive(Debug)]
pub struct BootLog {
    pub outcome: Outcome,
    /// The serial log's lines, without `\r` and terminal escape sequences.
    pub lines: Vec<Line>,
    /// QEMU's own stderr.
    pub qemu_stderr: String,
    /// From QEMU's start to the end of the watch.
    pub elapsed: Duration,
}

impl BootLog {
    /// Panics with `context`, the reason and the log's tail unless every
    /// expected pattern was seen.
    pub fn assert_seen(&self, context: &str) {
        if self.outcome != Outcome::Seen {
            panic!("{context}\n{}", self.report());
        }
    }

    /// The reason the boot ended, QEMU's stderr and the last lines of the
    /// serial log.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let reason = match &self.outcome {
            Outcome::Seen => "every expected line was seen".to_string(),
            Outcome::Failed { failure, line } => {
                format!("failure string {failure:?} in line: {line}")
            }
            Outcome::Exited(status) => format!("QEMU exited by itself ({status})"),
            Outcome::TimedOut { missing } => format!("timed out; never seen: {missing:?}"),
        };
        writeln!(out, "reason: {reason} (after {:.1?})", self.elapsed).unwrap();
        if !self.qemu_stderr.trim().is_empty() {
            writeln!(out, "QEMU stderr:\n{}", self.qemu_stderr.trim_end()).unwrap();
        }
        let tail = &self.lines[self.lines.len().saturating_sub(TAIL_LINES)..];
        writeln!(
            out,
            "--- serial log, last {} of {} lines ---",
            tail.len(),
            self.lines.len()
        )
        .unwrap();
        for line in tail {
            writeln!(out, "{line}").unwrap();
        }
        out
    }

    /// The guests' `XENCFG-BOOT` markers, in log order.
    pub fn markers(&self) -> Vec<Marker> {
        self.lines
            .iter()
            .filter_map(|line| Marker::parse(&line.text))
            .collect()
    }

    /// When the first line matching `pattern` (see [`Esp::boot`]) was read.
    pub fn first_at(&self, pattern: &str) -> Option<Duration> {
        self.lines
            .iter()
            .find(|line| matches(pattern, &line.text))
            .map(|line| line.at)
    }

    /// How many lines match `pattern`.
    pub fn count(&self, pattern: &str) -> usize {
        self.lines
            .iter()
            .filter(|line| matches(pattern, &line.text))
            .count()
    }

    /// The marker of the guest named `name`; panics unless there is exactly one.
    pub fn marker(&self, name: &str) -> Marker {
        let found: Vec<Marker> = self
            .markers()
            .into_iter()
            .filter(|m| m.name == name)
            .collect();
        match found.as_slice() {
            [one] => one.clone(),
            _ => panic!(
                "expected one marker of {name}, found {found:?}\n{}",
                self.report()
            ),
        }
    }
}

/// A serial log line and when it was read, from QEMU's start (to within
/// the 50 ms polling interval).
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Duration,
    pub text: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{:6.2}s] ", self.at.as_secs_f64())?;
        match self.text.char_indices().nth(LINE_CHARS) {
            Some((cut, _)) => {
                let more = self.text[cut..].chars().count();
                write!(f, "{}… ({more} more characters)", &self.text[..cut])
            }
            None => f.write_str(&self.text),
        }
    }
}

/// `XENCFG-BOOT name=NAME nproc=N memtotal_kb=K`, printed by the guest
/// initramfs' `/init`, with the domid of Xen's `(XEN) DOM<id>: ` prefix
/// (dom0's console lines carry none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub domid: Option<u32>,
    pub name: String,
    pub nproc: u32,
    pub memtotal_kb: u64,
}

impl Marker {
    fn parse(line: &str) -> Option<Marker> {
        let (before, fields) = line.split_once("XENCFG-BOOT ")?;
        let domid = before
            .split_once("(XEN) DOM")
            .and_then(|(_, rest)| rest.split_once(':'))
            .and_then(|(id, _)| id.parse().ok());
        let field = |key: &str| {
            fields
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Marker {
            domid,
            name: field("name")?.to_string(),
            nproc: field("nproc")?.parse().ok()?,
            memtotal_kb: field("memtotal_kb")?.parse().ok()?,
        })
    }
}

/// Whether `line` contains the `...`-separated pieces of `pattern` in order.
fn matches(pattern: &str, line: &str) -> bool {
    let mut rest = line;
    for piece in pattern.split("...") {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Kills and reaps QEMU when dropped: on every return and every panic.
struct QemuGuard(Child);

impl Drop for QemuGuard {
    fn drop(&mut self) {
        // By its own PID; an error means it has already been reaped.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_qemu(
    work: &Path,
    esp: &Path,
    machine_extra: &str,
    expect: &[&str],
    fail_on: &[&str],
    timeout: Duration,
) -> BootLog {
    static BOOT_LOCK: Mutex<()> = Mutex::new(());
    // A boot test that panicked poisons the lock; the next boot is fine.
    let _one_at_a_time = BOOT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    let serial = work.join("serial.log");
    let stderr = work.join("qemu.stderr");
    File::create(&serial).unwrap();
    let mut cmd = Command::new("setpriv");
    // setpriv execs QEMU, so the child's PID is QEMU's; the signal reaches
    // QEMU if this test process dies without running the guard.
    cmd.args(["--pdeathsig", "KILL", "--"]).arg(QEMU);
    machine(&mut cmd, machine_extra);
    cmd.args(["-accel", "tcg,thread=multi", "-bios", FIRMWARE]);
    cmd.args(["-boot", "menu=on,splash-time=0"]);
    cmd.arg("-drive").arg(format!(
        "if=none,id=esp,file=fat:{},format=raw,readonly=on",
        esp.display()
    ));
    cmd.args(["-device", "virtio-blk-pci,drive=esp"]);
    cmd.args(["-display", "none", "-monitor", "none", "-parallel", "none"]);
    cmd.arg("-serial").arg(format!("file:{}", serial.display()));
    cmd.arg("-no-reboot");
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    cmd.stderr(File::create(&stderr).unwrap());

    let start = Instant::now();
    let mut qemu = QemuGuard(
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot start {QEMU}: {e}")),
    );
    let mut reader = File::open(&serial).unwrap();
    let mut console = Console {
        start,
        partial: Vec::new(),
        lines: Vec::new(),
        checked: 0,
    };
    let mut pending: Vec<&str> = expect.to_vec();
    let outcome = loop {
        let exited = qemu.0.try_wait().unwrap();
        let timed_out = start.elapsed() > timeout;
        console.read_from(&mut reader, exited.is_some());
        if let Some(outcome) = console.check(&mut pending, fail_on) {
            break outcome;
        }
        if let Some(status) = exited {
            break Outcome::Exited(status.to_string());
        }
        if timed_out {
            break Outcome::TimedOut {
                missing: pending.iter().map(|p| p.to_string()).collect(),
            };
        }
        thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    drop(qemu);
    // Whatever QEMU wrote after the outcome was decided, for the report.
    console.read_from(&mut reader, true);
    BootLog {
        outcome,
        lines: console.lines,
        qemu_stderr: fs::read_to_string(&stderr).unwrap_or_default(),
        elapsed,
    }
}

/// The serial log read so far, split into clean lines.
struct Console {
    start: Instant,
    partial: Vec<u8>,
    lines: Vec<Line>,
    /// Lines already checked against the patterns.
    checked: usize,
}

impl Console {
    /// Reads what QEMU has appended; `flush` also takes a last line that has
    /// no newline yet.
    fn read_from(&mut self, reader: &mut File, flush: bool) {
        reader.read_to_end(&mut self.partial).unwrap();
        let at = self.start.elapsed();
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.partial.drain(..=nl).collect();
            self.lines.push(Line {
                at,
                text: clean(&raw),
            });
        }
        if flush && !self.partial.is_empty() {
            let raw = std::mem::take(&mut self.partial);
            self.lines.push(Line {
                at,
                text: clean(&raw),
            });
        }
    }

    /// Checks the new lines: a failure string ends the watch, each
    /// expected pattern is struck off once seen.
    fn check(&mut self, pending: &mut Vec<&str>, fail_on: &[&str]) -> Option<Outcome> {
        for line in &self.lines[self.checked..] {
            self.checked += 1;
            if let Some(failure) = fail_on.iter().find(|f| line.text.contains(**f)) {
                return Some(Outcome::Failed {
                    failure: failure.to_string(),
                    line: line.text.clone(),
                });
            }
            pending.retain(|pattern| !matches(pattern, &line.text));
            if pending.is_empty() {
                return Some(Outcome::Seen);
            }
        }
        None
    }
}

/// A serial line as text: without the line end, EDK2's terminal escape
/// sequences and other control bytes.
fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // CSI: ESC [ parameters… final byte in '@'..='~'.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_pieces_in_order() {
        let line = "(XEN) DOM1: XENCFG-BOOT name=domU1 nproc=1 memtotal_kb=150000";
        assert!(matches(
            "(XEN) DOM1: ...XENCFG-BOOT name=domU1 nproc=1 ",
            line
        ));
        assert!(matches("name=domU1", line));
        assert!(!matches("(XEN) DOM2: ...name=domU1", line));
        assert!(!matches("nproc=1 ...name=domU1", line));
    }

    #[test]
    fn markers_parse_with_and_without_domid() {
        let m = Marker::parse("(XEN) DOM2: XENCFG-BOOT name=b nproc=2 memtotal_kb=250000").unwrap();
        assert_eq!(
            (m.domid, m.name.as_str(), m.nproc, m.memtotal_kb),
            (Some(2), "b", 2, 250000)
        );
        let dom0 = Marker::parse("XENCFG-BOOT name=dom0 nproc=1 memtotal_kb=5").unwrap();
        assert_eq!(dom0.domid, None);
        assert_eq!(Marker::parse("(XEN) DOM1: echo XENCFG-BOOT name=x"), None);
    }

    #[test]
    fn clean_drops_escapes_and_line_ends() {
        assert_eq!(
            clean(b"\x1b[2J\x1b[01;01HBdsDxe: loading\r\n"),
            "BdsDxe: loading"
        );
    }

    #[test]
    fn expected_failure_is_not_also_a_failure() {
        let rest = failures_except(&["Open failed for domu/Image"]);
        assert!(!rest.contains(&"Open failed for"));
        assert!(rest.contains(&"Panic on CPU"));
        let rest = failures_except(&["Missing kernel boot module?", "Panic on CPU"]);
        assert!(!rest.contains(&"Panic on CPU"));
        assert!(rest.contains(&"Open failed for"));
    }
}
