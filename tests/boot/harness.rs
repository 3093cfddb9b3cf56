//! Boots an ESP directory on real Xen arm64 under QEMU, with EDK2 or
//! U-Boot's UEFI as the firmware, and watches the serial console (see
//! `shared/reference/real-xen-boot.md`). The Xen releases are Debian's
//! 4.17.7 and 4.20.4 (`scripts/fetch-boot-assets`) and the builds of
//! `../shared/xen/` beside the repository (4.16.7, 4.18.6, 4.19.6, 4.21.2,
//! 4.22.0), each with its `.config` ([`Assets::xen`]).
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
/// U-Boot for QEMU's arm64 virt machine, Debian 12's `u-boot-qemu`.
pub const UBOOT: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
const QEMU: &str = "qemu-system-aarch64";
/// The machine, shared by the boot and the host DTB dump: a DTB whose GIC
/// version differs from the booted machine makes Xen panic.
const MACHINE: &str = "virt,virtualization=on,gic-version=3";

/// The firmware that starts Xen's EFI binary from the ESP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// EDK2 (`qemu-efi-aarch64`): the boot manager's removable-media path.
    Edk2,
    /// U-Boot's own UEFI implementation: its distro boot finds
    /// `\EFI\BOOT\BOOTAA64.EFI` on the virtio disk and runs `bootefi`,
    /// loading the modules at other addresses than EDK2.
    UBoot,
}

impl Firmware {
    pub const ALL: [Firmware; 2] = [Firmware::Edk2, Firmware::UBoot];

    fn path(self) -> &'static str {
        match self {
            Firmware::Edk2 => FIRMWARE,
            Firmware::UBoot => UBOOT,
        }
    }

    /// QEMU options of this firmware: `menu=on,splash-time=0` removes
    /// EDK2's ~5.5 s boot-menu wait.
    fn args(self) -> &'static [&'static str] {
        match self {
            Firmware::Edk2 => &["-boot", "menu=on,splash-time=0"],
            Firmware::UBoot => &[],
        }
    }
}

impl std::fmt::Display for Firmware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Firmware::Edk2 => "EDK2",
            Firmware::UBoot => "U-Boot",
        })
    }
}

/// The CPU model and count of the booted machine (2 GiB of RAM always).
/// The host DTB is dumped for each ([`Assets::host_dtb_for`]): a DTB that
/// names CPUs the machine lacks leaves them down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Machine {
    pub cpu: &'static str,
    pub smp: u32,
}

impl Machine {
    /// The machine of `shared/reference/real-xen-boot.md`.
    pub const DEFAULT: Machine = Machine {
        cpu: "cortex-a57",
        smp: 2,
    };

    fn args(self) -> Vec<String> {
        [
            "-cpu",
            self.cpu,
            "-m",
            "2048",
            "-smp",
            &self.smp.to_string(),
        ]
        .into_iter()
        .chain(["-nic", "none"])
        .map(str::to_string)
        .collect()
    }
}

/// The Xen releases of the boot matrix, oldest first.
pub const RELEASES: [&str; 7] = [
    "4.16.7", "4.17.7", "4.18.6", "4.19.6", "4.20.4", "4.21.2", "4.22.0",
];

/// The builds of `../shared/xen/` (every dom0less build option the release
/// has) and their sha256, from that folder's README.
const SHARED_XEN: &[(&str, &str)] = &[
    (
        "4.16.7",
        "3d7d25b1de10efd14e4750ae112db384f3aa6e7ab52216274e0f4e4b62d7317d",
    ),
    (
        "4.18.6",
        "94fb33b0c92ecc1a1cfb7f50596a858856155bb14ed71b191e1c04c0a6a326fd",
    ),
    (
        "4.19.6",
        "5a448e3f1d15fdf9429beca1608adab1119366d57899eb2503ab35912d5e4e8e",
    ),
    (
        "4.21.2",
        "8054a3c2837a5ec6c141fad43d1265b58dc70ed57fed5734a56f1fdf5c07dc7a",
    ),
    (
        "4.22.0",
        "216bf20df3ac3db0ee0056a01e2c7cb7a6a85115d872214fb3d0e18294801bce",
    ),
];

/// One Xen of the matrix: its EFI binary and the `.config` it was built
/// with (given to xencfg as `--xen` and `--xen-config`).
#[derive(Debug)]
pub struct Xen {
    /// `4.17.7`.
    pub release: &'static str,
    pub efi: PathBuf,
    pub config: PathBuf,
}

impl Xen {
    /// `4.17` of `4.17.7`.
    pub fn minor(&self) -> &str {
        self.release.rsplit_once('.').unwrap().0
    }

    /// Whether the `.config` says `CONFIG_<option>=y`.
    pub fn has(&self, option: &str) -> bool {
        let config = fs::read_to_string(&self.config).unwrap();
        let line = format!("CONFIG_{option}=y");
        config.lines().any(|l| l == line)
    }
}

/// Where the shared Xen builds are: `shared/xen/` beside the repository.
fn shared_xen_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/xen")
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut out, b| {
            write!(out, "{b:02x}").unwrap();
            out
        })
}

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
    xens: [OnceLock<Xen>; RELEASES.len()],
    host_dtbs: Mutex<Vec<(Machine, PathBuf)>>,
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
            xens: Default::default(),
            host_dtbs: Mutex::new(Vec::new()),
        };
        let mut missing: Vec<String> = [
            &assets.xen_efi,
            &assets.image,
            &assets.busybox,
            &assets.xen_config,
            Path::new(FIRMWARE),
            Path::new(UBOOT),
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

    /// The Xen of the matrix named `release` (one of [`RELEASES`]). Debian's
    /// 4.17.7 and 4.20.4 come from the cache; the others from
    /// `../shared/xen/`, checked against the sha256 of that folder's README.
    /// Panics with what is missing: a cell that passes without booting
    /// would prove nothing.
    pub fn xen(&self, release: &str) -> &Xen {
        let index = RELEASES
            .iter()
            .position(|r| *r == release)
            .unwrap_or_else(|| panic!("no Xen {release} in the matrix"));
        self.xens[index].get_or_init(|| {
            let release = RELEASES[index];
            let xen = match release {
                "4.17.7" => Xen {
                    release,
                    efi: self.xen_efi.clone(),
                    config: self.xen_config.clone(),
                },
                "4.20.4" => {
                    let dir = cache_root().join("boot-assets");
                    Xen {
                        release,
                        efi: dir.join("xen-4.20.efi"),
                        config: dir.join("xen-4.20.config"),
                    }
                }
                _ => {
                    let dir = shared_xen_dir();
                    Xen {
                        release,
                        efi: dir.join(format!("xen-{release}-arm64-dom0less.efi")),
                        config: dir.join(format!("xen-{release}-arm64-dom0less.config")),
                    }
                }
            };
            for file in [&xen.efi, &xen.config] {
                assert!(
                    file.is_file(),
                    "Xen {release}: {} is missing. Debian's builds come from \
                     `scripts/fetch-boot-assets`; the others from the `shared/xen/` \
                     folder beside the repository ({}).",
                    file.display(),
                    shared_xen_dir().display()
                );
            }
            if let Some((_, sha)) = SHARED_XEN.iter().find(|(r, _)| *r == release) {
                assert_eq!(
                    sha256_hex(&xen.efi),
                    *sha,
                    "{} is not the build its README names",
                    xen.efi.display()
                );
            }
            xen
        })
    }

    /// QEMU virt's own DTB for `machine` (as [`Assets::host_dtb`]).
    pub fn host_dtb_for(&self, machine: Machine) -> PathBuf {
        if machine == Machine::DEFAULT {
            return self.host_dtb().to_path_buf();
        }
        let mut dtbs = self.host_dtbs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, path)) = dtbs.iter().find(|(m, _)| *m == machine) {
            return path.clone();
        }
        let path = derived_dir().join(format!("virt-{}-smp{}.dtb", machine.cpu, machine.smp));
        dump_host_dtb(&path, machine);
        dtbs.push((machine, path.clone()));
        path
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
            dump_host_dtb(&derived.host_dtb, Machine::DEFAULT);
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
fn machine<'c>(cmd: &'c mut Command, machine: Machine, extra: &str) -> &'c mut Command {
    cmd.arg("-machine").arg(format!("{MACHINE}{extra}"));
    cmd.args(machine.args())
}

fn dump_host_dtb(out: &Path, machine_: Machine) {
    let dumped = out.with_extension("dumped.dtb");
    run(machine(
        &mut Command::new(QEMU),
        machine_,
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
    machine: Machine,
    firmware: Firmware,
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
            machine: Machine::DEFAULT,
            firmware: Firmware::Edk2,
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

    /// Boot with `firmware` (EDK2 unless said).
    pub fn with_firmware(mut self, firmware: Firmware) -> Esp {
        self.firmware = firmware;
        self
    }

    /// Boot on `machine` (its host DTB is [`Assets::host_dtb_for`]).
    pub fn with_machine(mut self, machine: Machine) -> Esp {
        self.machine = machine;
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
        run_qemu(self, expect, fail_on, timeout)
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
        Project::new_for(assets, cfg, Machine::DEFAULT)
    }

    /// As [`Project::new`], with `virt.dtb` the host DTB of `machine`.
    pub fn new_for(assets: &Assets, cfg: &str, machine: Machine) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("project-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let project = Project { dir };
        project.write("xen.cfg", cfg);
        project.link("virt.dtb", &assets.host_dtb_for(machine));
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
    /// --xen-version 4.17 -o ESP/EFI/BOOT ARGS…` with Debian's 4.17: the ESP
    /// exactly as a user would make it.
    /// Panics, quoting xencfg's diagnostics, unless the build succeeds.
    pub fn build(&self, assets: &Assets, args: &[&str]) -> Built {
        let mut all = vec!["--xen-version", XEN_VERSION];
        all.extend_from_slice(args);
        self.build_cmd(&assets.xen_efi, &all)
    }

    /// `xencfg build xen.cfg --stage --efi-name BOOTAA64 --xen XEN.EFI
    /// --xen-config XEN.CONFIG -o ESP/EFI/BOOT ARGS…` for `xen`: the target
    /// comes from the binary (`--xen`), the build options from its `.config`.
    pub fn build_on(&self, xen: &Xen, args: &[&str]) -> Built {
        let config = xen.config.to_str().unwrap();
        let mut all = vec!["--xen-config", config];
        all.extend_from_slice(args);
        self.build_cmd(&xen.efi, &all)
    }

    /// `xencfg check xen.cfg --xen XEN.EFI --xen-config XEN.CONFIG ARGS…`.
    pub fn check_on(&self, xen: &Xen, args: &[&str]) -> std::process::Output {
        Command::new(XENCFG)
            .args(["check", "xen.cfg", "--xen"])
            .arg(&xen.efi)
            .arg("--xen-config")
            .arg(&xen.config)
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {XENCFG}: {e}"))
    }

    fn build_cmd(&self, xen_efi: &Path, args: &[&str]) -> Built {
        let esp = Esp::new();
        let out_dir = esp.boot_dir();
        let mut cmd = Command::new(XENCFG);
        cmd.args(["build", "xen.cfg", "--stage", "--efi-name", "BOOTAA64"])
            .arg("--xen")
            .arg(xen_efi)
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

    /// The guests' `XENCFG-BOOT` markers, in the order of
    /// [`guest_lines`].
    pub fn markers(&self) -> Vec<Marker> {
        guest_lines(&self.lines)
            .iter()
            .filter_map(|(domid, text)| Marker::parse(*domid, text))
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
    /// The marker in a line of [`guest_lines`], printed by `domid`.
    fn parse(domid: Option<u32>, line: &str) -> Option<Marker> {
        let (_, fields) = line.split_once("XENCFG-BOOT ")?;
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

/// The console split into what each domain printed, in log order:
/// `(Some(n), line)` for a `DOMn: ` line (Xen buffers a guest's line and
/// prints it whole), `(focus, line)` for the rest with every `(XEN) `
/// removed. The rest is Xen's own lines, dom0's, and since Xen 4.18 those
/// of the domain that holds the console input focus (`*** Serial input to
/// DOMn`; DOM1 when there is no dom0): Xen prints its characters as they
/// come, without `DOMn: `, and on 4.18 and 4.19 they land inside other
/// lines (`(XEN) XENCFG(XEN) -E2E-OK`). Taking the `DOMn: ` lines out and
/// joining what remains puts the focused domain's lines back together.
/// `focus` is `None` for dom0 (and before Xen names the focus).
pub fn guest_lines(lines: &[Line]) -> Vec<(Option<u32>, String)> {
    let mut out = Vec::new();
    let mut rest = String::new();
    let mut focus: Option<u32> = None;
    for line in lines {
        let text = line.text.as_str();
        // `DOMn: …` to the end of the line is a guest's whole line; the
        // line end is its, so what came before it goes on.
        if let Some((at, domid, after)) = find_dom_prefix(text) {
            rest.push_str(&text[..at]);
            out.push((Some(domid), after.to_string()));
            continue;
        }
        rest.push_str(text);
        let whole = rest.replace("(XEN) ", "");
        rest.clear();
        if let Some(n) = whole
            .split_once("*** Serial input to DOM")
            .and_then(|(_, after)| {
                after
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
        {
            focus = (n != 0).then_some(n);
        }
        out.push((focus, whole));
    }
    out
}

/// The first `DOM<digits>: ` in `text`: where it starts, the domid and
/// what follows it.
fn find_dom_prefix(text: &str) -> Option<(usize, u32, &str)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("DOM") {
        let at = from + i;
        let after = &text[at + 3..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let rest = after[digits..].strip_prefix(": ").filter(|_| digits > 0);
        if let Some(rest) = rest {
            return Some((at, after[..digits].parse().ok()?, rest));
        }
        from = at + 3;
    }
    None
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

fn run_qemu(esp_dir: &Esp, expect: &[&str], fail_on: &[&str], timeout: Duration) -> BootLog {
    static BOOT_LOCK: Mutex<()> = Mutex::new(());
    // A boot test that panicked poisons the lock; the next boot is fine.
    let _one_at_a_time = BOOT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    let work = esp_dir.dir.path();
    let esp = esp_dir.root();
    let serial = work.join("serial.log");
    let stderr = work.join("qemu.stderr");
    File::create(&serial).unwrap();
    let mut cmd = Command::new("setpriv");
    // setpriv execs QEMU, so the child's PID is QEMU's; the signal reaches
    // QEMU if this test process dies without running the guard.
    cmd.args(["--pdeathsig", "KILL", "--"]).arg(QEMU);
    machine(&mut cmd, esp_dir.machine, esp_dir.machine_extra);
    cmd.args([
        "-accel",
        "tcg,thread=multi",
        "-bios",
        esp_dir.firmware.path(),
    ]);
    cmd.args(esp_dir.firmware.args());
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
        // A guest's line may be split by others' (see `guest_lines`).
        if !pending.is_empty() {
            let guests = guest_lines(&self.lines);
            pending.retain(|pattern| !guests.iter().any(|(_, text)| matches(pattern, text)));
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

    fn log(text: &str) -> Vec<Line> {
        text.lines()
            .map(|l| Line {
                at: Duration::ZERO,
                text: l.to_string(),
            })
            .collect()
    }

    fn markers_of(text: &str) -> Vec<(Option<u32>, String)> {
        guest_lines(&log(text))
            .iter()
            .filter_map(|(d, t)| Marker::parse(*d, t))
            .map(|m| (m.domid, m.name))
            .collect()
    }

    #[test]
    fn markers_parse_with_and_without_domid() {
        let m = Marker::parse(Some(2), "XENCFG-BOOT name=b nproc=2 memtotal_kb=250000").unwrap();
        assert_eq!(
            (m.domid, m.name.as_str(), m.nproc, m.memtotal_kb),
            (Some(2), "b", 2, 250000)
        );
        assert_eq!(Marker::parse(Some(1), "echo XENCFG-BOOT name=x"), None);
        // dom0 (Xen 4.17: every domU prefixed).
        assert_eq!(
            markers_of(
                "(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)\n\
                 XENCFG-BOOT name=dom0 nproc=1 memtotal_kb=5\n\
                 (XEN) DOM1: XENCFG-BOOT name=a nproc=1 memtotal_kb=5"
            ),
            [(None, "dom0".into()), (Some(1), "a".into())]
        );
    }

    /// Seen on Xen 4.19.6: the focused DOM1's characters among DOM2's lines.
    #[test]
    fn the_focused_domains_split_lines_are_put_back_together() {
        let text = "(XEN) *** Serial input to DOM1 (type 'CTRL-a' three times to switch input)\n\
                    (XEN) [    7(XEN) DOM2: [    7.805758] Loading compiled-in X.509 certificates\n\
                    .520973] In-situ OAM (IOAM) with IPv6\n\
                    (XEN) XENCFG(XEN) -BOOT name=do(XEN) DOM2: XENCFG-BOOT name=b nproc=2 memtotal_kb=9\n\
                    mU1 nproc=1 memtotal_kb=7\n\
                    DOM2: done";
        let lines = guest_lines(&log(text));
        assert!(lines.contains(&(
            Some(1),
            "[    7.520973] In-situ OAM (IOAM) with IPv6".into()
        )));
        assert!(lines.contains(&(Some(2), "done".into())));
        assert_eq!(
            markers_of(text),
            [(Some(2), "b".into()), (Some(1), "domU1".into())]
        );
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
