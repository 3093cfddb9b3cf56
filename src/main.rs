//! xencfg's entry point: arguments in, exit status out. The work lives in
//! the library; this file renders diagnostics and maps outcomes to 0/1/2.

use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use xencfg::build::{self, BuildOptions};
use xencfg::cache::Cache;
use xencfg::cli::{Cli, ColorWhen, Command, CommonArgs, Format, ImportArgs, ImportCommand};
use xencfg::compile::{self, CompileOptions, Compiled, FatalError};
use xencfg::diag::codes;
use xencfg::diag::style::{ColorChoice, Role, Style, use_color};
use xencfg::diag::{Diagnostics, Levels, Severity, SourceMap, render, sarif};
use xencfg::explain::{self, ExplainOptions};
use xencfg::fdt::{Fdt, dts};
use xencfg::import::imagebuilder;
use xencfg::progress::{Meter, Progress};
use xencfg::target::resolve::{self, TargetArgs};
use xencfg::target::{Target, VersionSource, XenVersion};

const EXIT_OK: u8 = 0;
const EXIT_CONFIG_ERRORS: u8 = 1;
const EXIT_FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = stderr_style(cli.color);
    let result = match cli.command {
        Command::Check(args) => run(&args.common, None, style),
        Command::Build(args) => {
            let build = (
                args.out.clone(),
                args.stage,
                args.common.xen.clone(),
                args.emit_dts,
                args.force,
                args.no_cache,
            );
            run(&args.common, Some(build), style)
        }
        Command::Explain(args) => explain_command(&args.common, args.memory, style),
        Command::Import(ImportCommand::Imagebuilder(args)) => import_command(&args, style),
        Command::Dts { file, out } => dts_command(&file, out.as_deref()),
        Command::Checks { code } => checks_command(code.as_deref()),
        Command::Completions { shell } => completions_command(shell),
        Command::Man { dir } => man_command(&dir),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!(
                "{} {e}",
                style.paint(Role::Severity(Severity::Error), "error:")
            );
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

type BuildRequest = (
    std::path::PathBuf,
    bool,
    Option<std::path::PathBuf>,
    bool,
    bool,
    bool,
);

/// Colour for what goes to stderr (see `diag::style`).
fn stderr_style(choice: ColorWhen) -> Style {
    let choice = match choice {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    Style {
        color: use_color(
            choice,
            std::io::stderr().is_terminal(),
            no_color.as_deref(),
            term.as_deref(),
        ),
    }
}

/// A progress line for hashing, only where someone watches it.
fn progress_meter() -> (Option<Arc<Progress>>, Option<Meter>) {
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if dumb || !std::io::stderr().is_terminal() {
        return (None, None);
    }
    let progress = Arc::new(Progress::new());
    let meter = Meter::start(Arc::clone(&progress));
    (Some(progress), Some(meter))
}

fn levels(args: &CommonArgs) -> Result<Levels, FatalError> {
    let mut levels = Levels::default();
    levels.deny_warnings = args.deny_warnings;
    for (names, severity) in [
        (&args.warn, Severity::Warning),
        (&args.allow, Severity::Allow),
        (&args.deny, Severity::Error),
    ] {
        for name in names {
            let check = codes::find(name).ok_or_else(|| {
                FatalError(format!("no check named `{name}` (see `xencfg checks`)"))
            })?;
            levels.set(check, severity);
        }
    }
    Ok(levels)
}

fn target(args: &CommonArgs, diags: &mut Diagnostics) -> Result<Target, FatalError> {
    let inputs = TargetArgs {
        version: args.xen_version.as_deref(),
        xen: args.xen.as_deref(),
        config: args.xen_config.as_deref(),
    };
    resolve::resolve(&inputs, diags).map_err(FatalError)
}

/// Compile as `check` does and apply the user's levels.
fn compile(args: &CommonArgs) -> Result<(Compiled, SourceMap, Diagnostics, Target), FatalError> {
    let levels = levels(args)?;
    let mut diags = Diagnostics::default();
    let target = target(args, &mut diags)?;
    let options = CompileOptions {
        cfg: args.cfg.clone(),
        root: args.root.clone(),
        section: args.section.clone(),
        target: target.clone(),
        efi_name: args.efi_name.clone(),
        host_ram: args
            .host_ram
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(FatalError)?,
    };
    let mut sources = SourceMap::default();
    let compiled = compile::compile(&options, &mut sources, &mut diags)?;
    diags.apply_levels(&levels);
    diags.sort();
    Ok((compiled, sources, diags, target))
}

fn run(args: &CommonArgs, build: Option<BuildRequest>, style: Style) -> Result<u8, FatalError> {
    let (mut compiled, sources, diags, target) = compile(args)?;
    let on_terminal = std::io::stderr().is_terminal();
    if on_terminal && target.version_source == VersionSource::Default {
        eprintln!("{}", assumed_target_note(&target, style));
    }
    print_diagnostics(&diags, &sources, args.format, Stream::Stdout, style)?;
    if diags.has_errors() {
        return Ok(EXIT_CONFIG_ERRORS);
    }
    if let Some((out, stage, xen, emit_dts, force, no_cache)) = build {
        // Only now, with every check passed, is each file read whole
        // (unless the last build into `out` hashed it as it still is).
        let cache = if no_cache {
            Cache::disabled()
        } else {
            Cache::load(&out)
        };
        let (progress, meter) = progress_meter();
        let hashed = compiled.hash_inputs_with(progress.as_deref(), &cache);
        drop(meter); // erases the progress line before anything else is printed
        hashed?;
        build::build_with_cache(
            &compiled,
            &BuildOptions {
                out: out.clone(),
                efi_name: args.efi_name.clone(),
                stage,
                xen,
                emit_dts,
                force,
                target,
            },
            &cache,
        )?;
        if on_terminal {
            if let Some(line) = build_summary(&out, stage, style) {
                eprintln!("{line}");
            }
        }
    }
    Ok(EXIT_OK)
}

/// Said once, on a terminal, when no option names the target Xen.
fn assumed_target_note(target: &Target, style: Style) -> String {
    format!(
        "{} no target Xen given (`--xen-version`, `--xen` or `--xen-config`): checking for Xen {} and warning where Xen {} to {} differ",
        style.paint(Role::Label, "note:"),
        target.version,
        XenVersion::OLDEST,
        XenVersion::NEWEST
    )
}

/// One line after a build on a terminal, like cargo's `Finished`: where
/// the output is and how much there is to install. Read back from the
/// manifest the build just wrote, which lists every file to install.
fn build_summary(out: &std::path::Path, staged: bool, style: Style) -> Option<String> {
    let text = std::fs::read(out.join("manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let files = manifest.get("files")?.as_array()?;
    let bytes: u64 = files.iter().filter_map(|f| f.get("size")?.as_u64()).sum();
    let from_sources = files
        .iter()
        .filter(|f| f.get("source").and_then(|s| s.as_str()) != Some("generated"))
        .count();
    let what = if staged || from_sources == 0 {
        "all in the directory".to_string()
    } else {
        format!("{from_sources} to copy from their sources, see manifest.json")
    };
    Some(format!(
        "{} {}: {} files to install, {} ({what})",
        style.paint(Role::Emphasis, &format!("{:>12}", "Finished")),
        out.display(),
        files.len(),
        human_size(bytes)
    ))
}

fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b < KIB => format!("{b} bytes"),
        b if b < KIB * KIB => format!("{:.1} KiB", b as f64 / KIB as f64),
        b if b < KIB * KIB * KIB => format!("{:.1} MiB", b as f64 / (KIB * KIB) as f64),
        b => format!("{:.1} GiB", b as f64 / (KIB * KIB * KIB) as f64),
    }
}

/// `explain` prints its text on stdout, so its diagnostics, in any
/// format, go to stderr.
fn explain_command(args: &CommonArgs, memory: bool, style: Style) -> Result<u8, FatalError> {
    let (compiled, sources, diags, target) = compile(args)?;
    print_diagnostics(&diags, &sources, args.format, Stream::Stderr, style)?;
    let text = explain::explain(
        &compiled,
        &sources,
        &diags,
        &ExplainOptions {
            target: &target,
            efi_name: &args.efi_name,
            section: args.section.as_deref(),
            memory,
        },
    );
    xencfg::stdout::write(text.as_bytes())?;
    Ok(if diags.has_errors() {
        EXIT_CONFIG_ERRORS
    } else {
        EXIT_OK
    })
}

/// Where machine-readable diagnostics go (human text is always stderr).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Diagnostics in `format`: human text on stderr, machine formats on
/// `machine`. Failing to write a machine report loses it: an error.
fn print_diagnostics(
    diags: &Diagnostics,
    sources: &SourceMap,
    format: Format,
    machine: Stream,
    style: Style,
) -> Result<(), FatalError> {
    let mut text = String::new();
    match format {
        Format::Human => {
            for d in diags.iter() {
                text.push_str(&render::human_styled(d, sources, style));
                text.push('\n');
            }
            let (errors, warnings) = (diags.count(Severity::Error), diags.count(Severity::Warning));
            if errors + warnings > 0 {
                text.push_str(&render::summary_styled(errors, warnings, style));
                text.push('\n');
            }
            // Where stderr itself fails there is nowhere left to say so.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            return Ok(());
        }
        Format::Sarif => {
            text = sarif::log(diags.iter(), sources).to_string();
            text.push('\n');
        }
        Format::Json => {
            for d in diags.iter() {
                text.push_str(&render::json(d, sources).to_string());
                text.push('\n');
            }
        }
    }
    match machine {
        Stream::Stdout => xencfg::stdout::write(text.as_bytes()),
        Stream::Stderr => xencfg::stdout::write_to(&mut std::io::stderr().lock(), text.as_bytes()),
    }
}

/// `import imagebuilder`: the cfg on stdout or in `--out`, diagnostics on
/// stderr; nothing is written when there are errors.
fn import_command(args: &ImportArgs, style: Style) -> Result<u8, FatalError> {
    let bytes = compile::read_cfg(&args.config)?;
    let mut sources = SourceMap::default();
    let file = sources.add(&args.config, bytes);
    let mut diags = Diagnostics::default();
    let name = args
        .config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cfg = imagebuilder::import(file, &name, &sources.get(file).bytes, &mut diags);
    diags.sort();
    print_diagnostics(&diags, &sources, Format::Human, Stream::Stderr, style)?;
    let Some(cfg) = cfg else {
        return Ok(EXIT_CONFIG_ERRORS);
    };
    let bytes: Vec<u8> = cfg
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    match &args.out {
        None => xencfg::stdout::write(&bytes)?,
        Some(path) => write_file_atomically(path, &args.config, &bytes, "the cfg")?,
    }
    Ok(EXIT_OK)
}

/// Write `bytes` to `path` through a temporary file in the same directory,
/// so a reader never sees half a file; never over the input.
fn write_file_atomically(
    path: &std::path::Path,
    input: &std::path::Path,
    bytes: &[u8],
    what: &str,
) -> Result<(), FatalError> {
    let same = |a: &std::path::Path, b: &std::path::Path| matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y);
    if same(path, input) {
        return Err(FatalError(format!(
            "refusing to write {what} over its input {}",
            input.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let fail = |e: std::io::Error| FatalError(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    // NamedTempFile is private (0600); a cfg is an ordinary file.
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

fn dts_command(file: &std::path::Path, out: Option<&std::path::Path>) -> Result<u8, FatalError> {
    // Real blobs are at most a few MiB; the cap keeps `dts /dev/zero` or a
    // disk image named by mistake from filling memory.
    const MAX_DTS_INPUT: u64 = 64 << 20;
    let bytes =
        xencfg::input::read_capped(file, MAX_DTS_INPUT).map_err(|e| FatalError(e.message(file)))?;
    match Fdt::from_bytes(&bytes) {
        Ok(fdt) => {
            let text = dts::to_dts(&fdt);
            match out {
                None => xencfg::stdout::write(text.as_bytes())?,
                Some(path) => write_file_atomically(path, file, text.as_bytes(), "the DTS")?,
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!(
                "error[{}]: {} is not a valid device tree blob: {e}",
                codes::BAD_HOST_DTB.code,
                file.display()
            );
            Ok(EXIT_CONFIG_ERRORS)
        }
    }
}

fn completions_command(shell: clap_complete::Shell) -> Result<u8, FatalError> {
    xencfg::stdout::write(&xencfg::docs::completion_script(shell))?;
    Ok(EXIT_OK)
}

/// `xencfg man DIR`: the pages that `man/` of the source holds, for users
/// of `cargo install`, who get no share/man.
fn man_command(dir: &std::path::Path) -> Result<u8, FatalError> {
    let fail = |e: std::io::Error| {
        FatalError(format!(
            "cannot write man pages into {}: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    for (name, bytes) in xencfg::docs::man_page_files() {
        std::fs::write(dir.join(name), bytes).map_err(fail)?;
    }
    Ok(EXIT_OK)
}

fn checks_command(code: Option<&str>) -> Result<u8, FatalError> {
    let text = match code {
        None => codes::ALL
            .iter()
            .map(|c| {
                format!(
                    "{}  {:<34} {:<8} {}\n",
                    c.code,
                    c.name,
                    c.severity.as_str(),
                    c.summary
                )
            })
            .collect::<String>(),
        Some(code) => {
            let c =
                codes::find(code).ok_or_else(|| FatalError(format!("no check named `{code}`")))?;
            format!(
                "{} {} ({} by default)\n\n{}\n\n{}\n",
                c.code,
                c.name,
                c.severity.as_str(),
                c.summary,
                c.explanation
            )
        }
    };
    xencfg::stdout::write(text.as_bytes())?;
    Ok(EXIT_OK)
}
