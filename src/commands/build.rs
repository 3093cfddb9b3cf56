//! `xencfg build`: turn a [`Plan`] system into the output directory.
//!
//! The directory holds `<efi-name>.cfg`, one `<section>.dtb` per boot
//! section, `manifest.json`, optionally `<section>.dts` (`--emit-dts`) and,
//! with `--stage`, every referenced file at its ESP path plus Xen itself as
//! `<efi-name>.efi`, so the directory is what goes on the ESP.
//!
//! [`run`] is the command: check as `check` does, and only with every
//! check passed hash the inputs and [`build`] the directory.

use crate::analyze::Plan;
use crate::checks::sections::MAX_EFI_FILES;
use crate::emit::manifest::{self, FileInfo, ManifestInput};
use crate::emit::output::{self, Content, OutputError, OutputFile, Stage};
use crate::error::Error;
use crate::fdt::dts;
use crate::load::cache::Cache;
use crate::model::ModuleRole;
use crate::target::Target;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

use super::terminal;
use crate::cli::BuildArgs;
use crate::diag::style::{Role, Style};
use crate::error::Outcome;
use std::path::Path;

pub struct BuildOptions {
    pub out: PathBuf,
    pub efi_name: String,
    pub stage: bool,
    pub xen: Option<PathBuf>,
    pub emit_dts: bool,
    pub force: bool,
    pub target: Target,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Build the output directory after [`Plan::hash_inputs`] with `cache`:
/// staged copies use its proofs, and its entries are kept beside the
/// output for the next build. Each generated file is made, written to the
/// staging directory and dropped before the next, so memory holds one
/// merged DTB at a time however many boot sections there are.
pub fn build(plan: &Plan, opts: &BuildOptions, cache: &Cache) -> Result<(), Error> {
    refuse_inputs_inside_output(plan, opts)?;
    let staged = staged_copies(plan, opts, cache)?;
    output::write_atomically_with(&opts.out, opts.force, |stage| {
        write_output(plan, opts, cache, staged, stage)
    })
    .map_err(Error::OutputFailed)
}

/// With `--stage`, every module xencfg does not generate, once per ESP
/// path, with the sha256 its copy must have.
fn staged_copies(
    plan: &Plan,
    opts: &BuildOptions,
    cache: &Cache,
) -> Result<Vec<OutputFile>, Error> {
    let mut copies = Vec::new();
    if !opts.stage {
        return Ok(copies);
    }
    let mut staged = std::collections::BTreeSet::new();
    for (_, m) in plan.system.modules() {
        if m.generated || matches!(m.role, ModuleRole::HostDtb | ModuleRole::Overlay) {
            continue;
        }
        let relative: PathBuf = m.path.components().iter().collect();
        let sha256 = plan
            .facts
            .get(&m.source)
            .and_then(|f| f.sha256.clone())
            .ok_or_else(|| Error::NotHashed(m.source.clone()))?;
        if staged.insert(relative.clone()) {
            copies.push(OutputFile {
                relative,
                content: Content::CopyOf {
                    source: m.source.clone(),
                    sha256,
                    proof: cache.proof(&m.source),
                },
            });
        }
    }
    Ok(copies)
}

fn write_output(
    plan: &Plan,
    opts: &BuildOptions,
    cache: &Cache,
    staged: Vec<OutputFile>,
    stage: &mut Stage,
) -> Result<(), OutputError> {
    let system = &plan.system;
    let mut generated: Vec<FileInfo> = Vec::new();
    let mut put = |stage: &mut Stage, name: String, bytes: Vec<u8>| {
        generated.push(FileInfo {
            esp_path: name.clone(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            source: "generated".to_string(),
        });
        stage.write(&OutputFile {
            relative: PathBuf::from(name),
            content: Content::Bytes(bytes),
        })
    };

    put(
        stage,
        format!("{}.cfg", opts.efi_name),
        plan.cfg_bytes.clone(),
    )?;
    for (index, section) in system.sections.iter().enumerate() {
        // No `dtb=`: the section boots on the firmware's tree (checks made
        // sure it has no guests or overlays that would need one).
        let Some(name) = crate::analyze::trimmed_cfg::dtb_name(section) else {
            continue;
        };
        let merged = plan.merged(index).ok_or_else(|| OutputError {
            path: opts.out.clone(),
            message: format!("section [{}] has no host DTB to build", section.name),
        })?;
        put(stage, name, merged.blob.clone())?;
        if opts.emit_dts {
            stage.write(&OutputFile {
                relative: PathBuf::from(format!("{}.dts", section.name)),
                content: Content::Bytes(dts::to_dts(&merged.tree).into_bytes()),
            })?;
        }
    }

    // Fragments built for `passthrough=` are modules like any other, so
    // they are written whether or not the inputs are staged.
    for fragment in &plan.fragments {
        put(
            stage,
            fragment.esp_path.to_efi_string(),
            fragment.bytes.clone(),
        )?;
    }

    stage.write_all(&staged)?;
    if let (true, Some(xen)) = (opts.stage, &opts.xen) {
        // Streamed, like every staged file: never read whole.
        let hashed = cache.hash_files(std::slice::from_ref(xen), None);
        let facts = hashed
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(std::io::Error::other("not hashed")))
            .map_err(|e| OutputError {
                path: xen.clone(),
                message: format!("cannot read --xen: {e}"),
            })?;
        let sha256 = facts.sha256.unwrap_or_default();
        let name = format!("{}.efi", opts.efi_name);
        generated.push(FileInfo {
            esp_path: name.clone(),
            size: facts.size,
            sha256: sha256.clone(),
            source: manifest::source_name(&system.root, xen),
        });
        stage.write(&OutputFile {
            relative: PathBuf::from(name),
            content: Content::CopyOf {
                source: xen.clone(),
                sha256,
                proof: cache.proof(xen),
            },
        })?;
    }
    stage.keep_cache(cache.to_bytes());

    let efi_counts = system
        .sections
        .iter()
        .map(|s| s.efi_loaded_files().len())
        .collect();
    let options = system
        .sections
        .iter()
        .map(|s| {
            crate::analyze::trimmed_cfg::effective_options(s, &opts.target).map(str::to_string)
        })
        .collect();
    let cfg_name = system
        .cfg_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = manifest::build(ManifestInput {
        system,
        target: &opts.target,
        cfg_name: &cfg_name,
        default_section: &plan.default_section,
        facts: &plan.facts,
        generated,
        limit: MAX_EFI_FILES,
        efi_counts,
        options,
        sections: &plan.sections,
    });
    stage.write(&OutputFile {
        relative: PathBuf::from(crate::analyze::MANIFEST_NAME),
        content: Content::Bytes(manifest.to_json()),
    })
}

/// Replacing a directory that holds an input would destroy it, `--force`
/// or not: every file the build read (cfg, chained cfgs, DTBs, overlays,
/// images, fragments, `--xen-config`) and `--xen` must lie outside `-o`.
fn refuse_inputs_inside_output(plan: &Plan, opts: &BuildOptions) -> Result<(), Error> {
    if !opts.out.is_dir() {
        return Ok(()); // absent, or a file that writing refuses to replace
    }
    let Ok(out) = std::fs::canonicalize(&opts.out) else {
        return Ok(());
    };
    let inputs: Vec<String> = plan
        .inputs
        .iter()
        .chain(&opts.xen)
        .filter(|input| std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&out)))
        .map(|input| input.display().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if inputs.is_empty() {
        return Ok(());
    }
    Err(Error::OutputHoldsInputs {
        out: opts.out.clone(),
        inputs,
    })
}

/// `xencfg build`: the findings as `check` reports them; with none that
/// is an error, the output directory and, on a terminal, a summary line.
pub fn run(args: &BuildArgs, style: Style) -> Result<Outcome, Error> {
    let common = &args.common;
    let mut compilation = super::compile(common)?;
    super::report::findings(&compilation, args.format, style)?;
    if compilation.diags.has_errors() {
        return Ok(Outcome::ConfigErrors);
    }
    // Only now, with every check passed, is each file read whole (unless
    // the last build into `out` hashed it as it still is).
    let cache = match args.no_cache {
        true => Cache::disabled(),
        false => Cache::load(&args.out),
    };
    let (progress, meter) = terminal::progress_meter();
    let hashed = compilation.plan.hash_inputs(progress.as_deref(), &cache);
    drop(meter); // erases the progress line before anything else is printed
    hashed?;
    build(
        &compilation.plan,
        &BuildOptions {
            out: args.out.clone(),
            efi_name: common.efi_name.clone(),
            stage: args.stage,
            xen: common.xen.clone(),
            emit_dts: args.emit_dts,
            force: args.force,
            target: compilation.target,
        },
        &cache,
    )?;
    if terminal::stderr_is_terminal() {
        if let Some(line) = summary(&args.out, args.stage, style) {
            eprintln!("{line}");
        }
    }
    Ok(Outcome::Success)
}

/// One line after a build on a terminal, like cargo's `Finished`: where
/// the output is and how much there is to install. Read back from the
/// manifest the build just wrote, which lists every file to install.
fn summary(out: &Path, staged: bool, style: Style) -> Option<String> {
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
