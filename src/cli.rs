//! The command line, as clap definitions (also the source of `man/` and
//! `completions/`).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "xencfg",
    version,
    about = "Compile and check Xen on Arm64 EFI boot configurations (dom0less)",
    long_about = "xencfg reads a Xen EFI cfg extended with dom0less guests, validates it against how real Xen \
                  behaves, and emits what Xen's EFI loader boots: a merged host DTB, a trimmed cfg and a manifest.",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// When to colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile CFG into an output directory (the directory of Xen on the ESP).
    #[command(after_help = EXAMPLES_BUILD)]
    Build(BuildArgs),
    /// Run every check `build` runs; write nothing.
    #[command(after_help = EXAMPLES_CHECK)]
    Check(CheckArgs),
    /// Show what Xen will read, per boot section: its command line, dom0, the guests with their
    /// domids, the files its EFI loader loads, the lines it ignores, and the /chosen that `build`
    /// writes.
    #[command(after_help = EXAMPLES_EXPLAIN)]
    Explain(ExplainArgs),
    /// Convert another tool's configuration into a xen.cfg.
    #[command(subcommand, after_help = EXAMPLES_IMPORT)]
    Import(ImportCommand),
    /// Decompile a DTB to DTS.
    #[command(after_help = EXAMPLES_DTS)]
    Dts {
        /// The device tree blob.
        file: PathBuf,
        /// Write the DTS here instead of to stdout.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the checks, or explain one.
    #[command(after_help = EXAMPLES_CHECKS)]
    Checks {
        /// A check code (XC0101) or name (blank-before-equals).
        code: Option<String>,
    },
    /// Print the completion script for SHELL on stdout (also in completions/ of the source).
    #[command(after_help = EXAMPLES_COMPLETIONS)]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (xencfg.1, one per command, xencfg.cfg.5) into DIR.
    #[command(after_help = EXAMPLES_MAN)]
    Man {
        /// The directory to write them into (created if missing).
        dir: PathBuf,
    },
}

// The EXAMPLES of `--help`, which clap_mangen also renders into each
// man page (after the options). Every command line here works as shown
// on the repository's testdata.
const EXAMPLES: &str = "Examples:
  xencfg check xen.cfg --xen-version 4.17      validate for Xen 4.17
  xencfg build xen.cfg -o out/                 compile into out/
  xencfg explain xen.cfg --section xen-debug   what Xen reads from one section
  xencfg checks XC0204                         explain a check";
const EXAMPLES_BUILD: &str = "Examples:
  xencfg build xen.cfg -o out/ --emit-dts
      write out/xen.cfg, out/<section>.dtb (+ .dts for review) and out/manifest.json
  xencfg build xen.cfg --stage --xen /boot/xen-4.17-arm64.efi --efi-name BOOTAA64 -o esp/EFI/BOOT
      make the whole directory of Xen on the ESP (\\EFI\\BOOT\\BOOTAA64.EFI reads BOOTAA64.cfg)";
const EXAMPLES_CHECK: &str = "Examples:
  xencfg check xen.cfg --xen-version 4.17
  xencfg check xen.cfg --xen xen.efi --xen-config xen.config   the target read from Xen itself
  xencfg check xen.cfg --format sarif > xencfg.sarif     for code scanning in CI
  xencfg check xen.cfg -A XC0215 --deny-warnings";
const EXAMPLES_EXPLAIN: &str = "Examples:
  xencfg explain xen.cfg --section xen-debug
  xencfg explain xen.cfg --memory
  xencfg explain xen.cfg --memory --format svg > memory.svg";
const EXAMPLES_IMPORT: &str = "Examples:
  xencfg import imagebuilder config -o xen.cfg";
const EXAMPLES_DTS: &str = "Examples:
  xencfg dts out/xen.dtb
  xencfg dts out/xen.dtb -o xen.dts";
const EXAMPLES_CHECKS: &str = "Examples:
  xencfg checks
  xencfg checks XC0204
  xencfg checks unknown-property";
const EXAMPLES_COMPLETIONS: &str = "Examples:
  xencfg completions bash > ~/.local/share/bash-completion/completions/xencfg
  xencfg completions zsh > ~/.zfunc/_xencfg
  xencfg completions fish > ~/.config/fish/completions/xencfg.fish";
const EXAMPLES_MAN: &str = "Examples:
  xencfg man ~/.local/share/man/man1    then: man xencfg, man xencfg.cfg";

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// The cfg to read.
    pub cfg: PathBuf,
    /// The boot section the emitted cfg boots by default (else `[global] default=`).
    #[arg(long)]
    pub section: Option<String>,
    /// The Xen release to target (4.16 … 4.22); default: the version of --xen, else of
    /// --xen-config, else the newest.
    #[arg(long, value_name = "VERSION")]
    pub xen_version: Option<String>,
    /// The Xen EFI binary: its version is the target unless --xen-version says otherwise
    /// (`build --stage` also stages it as `<efi-name>.efi`).
    #[arg(long, value_name = "FILE")]
    pub xen: Option<PathBuf>,
    /// The `.config` Xen was built with: properties whose build option it lacks are errors.
    /// Without it, the one inside --xen is used (CONFIG_HYPFS_CONFIG); without either, build
    /// options are not judged.
    #[arg(long, value_name = "FILE")]
    pub xen_config: Option<PathBuf>,
    /// The board's RAM, when the host DTB's memory nodes do not give it (Xen takes RAM
    /// from the EFI memory map): a total (`4G`) or ADDR:SIZE ranges
    /// (`0x40000000:2G,0x880000000:2G`).
    #[arg(long, value_name = "SIZE")]
    pub host_ram: Option<String>,
    /// Base name of the Xen EFI binary: Xen reads `<NAME>.cfg` (BOOTAA64 for \EFI\BOOT\BOOTAA64.EFI).
    #[arg(long, default_value = "xen", value_name = "NAME")]
    pub efi_name: String,
    /// Directory that cfg paths are relative to on this machine (default: the cfg's directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Make a check a warning.
    #[arg(short = 'W', long = "warn", value_name = "CHECK")]
    pub warn: Vec<String>,
    /// Silence a check.
    #[arg(short = 'A', long = "allow", value_name = "CHECK")]
    pub allow: Vec<String>,
    /// Make a check an error.
    #[arg(short = 'D', long = "deny", value_name = "CHECK")]
    pub deny: Vec<String>,
    /// Treat every warning as an error.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also copy every referenced file (and --xen) into DIR at its ESP path.
    #[arg(long)]
    pub stage: bool,
    /// Also write `<section>.dts` for review.
    #[arg(long)]
    pub emit_dts: bool,
    /// Replace DIR even if it is not xencfg's own output (its manifest.json
    /// and the files it lists); never when DIR holds an input.
    #[arg(long)]
    pub force: bool,
    /// Hash every input and verify every staged copy by reading it, instead
    /// of trusting the file stamps (device, inode, size, mtime, ctime) that
    /// the last build recorded in `.DIR.xencfg.cache` beside DIR.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Read an ImageBuilder config (as data; it is never run) and write the equivalent xen.cfg in
    /// section form. Settings with no EFI or cfg equivalent are reported, and kept as comments
    /// where Xen still needs them.
    Imagebuilder(ImportArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The ImageBuilder config (the file given to uboot-script-gen -c).
    pub config: PathBuf,
    /// Write the cfg here instead of to stdout (nothing is written when there are errors).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// How to print diagnostics (on stderr); `svg` draws the memory map instead of the text.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    pub format: ExplainFormat,
    /// Also print each host's memory map: RAM, reservations, static memory, shared memory and
    /// passthrough MMIO, labelled with their owners, overlaps marked.
    #[arg(long)]
    pub memory: bool,
}

/// `explain`'s formats: those of the diagnostics, and a picture.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    /// rustc-style text on stderr.
    Human,
    /// One JSON object per diagnostic, one per line.
    Json,
    /// One SARIF 2.1.0 log, for CI code scanning.
    Sarif,
    /// With --memory: the memory map of one boot section (--section, else the default) as an
    /// SVG picture on stdout, to scale with breaks over large gaps, overlaps in red; diagnostics
    /// as human text on stderr.
    Svg,
}

impl ExplainFormat {
    /// The format of the diagnostics on stderr.
    pub fn diagnostics(self) -> Format {
        match self {
            ExplainFormat::Human | ExplainFormat::Svg => Format::Human,
            ExplainFormat::Json => Format::Json,
            ExplainFormat::Sarif => Format::Sarif,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// rustc-style text on stderr.
    Human,
    /// One JSON object per diagnostic, one per line.
    Json,
    /// One SARIF 2.1.0 log, for CI code scanning.
    Sarif,
}
