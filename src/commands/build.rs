//! `xencfg build`: turn a [`Plan`] system into the output directory.
//!
//! The directory holds `<efi-name>.cfg`, one `<section>.dtb` per boot
//! section, `manifest.json`, optionally `<section>.dts` (`--emit-dts`) and,
//! with `--stage`, every referenced file at its ESP path plus Xen itself as
//! `<efi-name>.efi`, so the directory is what goes on the ESP.
//!
//! [`run`] is the command: check as `check` does, and only with every
//! check passed hash the inputs and build the directory. With `--stage`,
//! a file to stage whose hash the build cache does not know is hashed as
//! it is copied into the staging directory ([`build_hashing`]), not read
//! once to hash it and again to copy it.

use crate::analyze::Plan;
use crate::checks::sections::MAX_EFI_FILES;
use crate::emit::manifest::{self, FileInfo, ManifestInput};
use crate::emit::output::{self, Content, CopyFailed, HashedCopy, OutputError, OutputFile, Stage};
use crate::error::Error;
use crate::fdt::dts;
use crate::load::cache::Cache;
use crate::model::ModuleRole;
use crate::progress::Progress;
use crate::target::Target;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
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
    build_hashing(plan, opts, cache, None)
}

/// [`build`] of a plan whose files to stage ([`staged_sources`]) may be
/// left unhashed ([`Plan::hash_inputs_except`]): each is hashed as it is
/// copied, from the same read, and its hash checked and recorded as
/// [`Plan::hash_inputs`] would (a file whose size or format changed since
/// its check is [`Error::InputChanged`]). Every byte hashed is added to
/// `progress`.
pub fn build_hashing(
    plan: &Plan,
    opts: &BuildOptions,
    cache: &Cache,
    progress: Option<&Progress>,
) -> Result<(), Error> {
    refuse_inputs_inside_output(plan, opts)?;
    let staged = staged_copies(plan, opts)?;
    let job = Job {
        plan,
        opts,
        cache,
        progress,
    };
    // What stopped the build when it is not the output's fault (an input
    // unreadable or changed): the error the build ends with.
    let mut input_error = None;
    output::write_atomically_with(&opts.out, opts.force, |stage| {
        write_output(&job, &staged, stage, &mut input_error)
    })
    .map_err(|e| input_error.take().unwrap_or(Error::OutputFailed(e)))
}

/// The files `build --stage` copies into the output: their sha256 can be
/// left to the copy ([`Plan::hash_inputs_except`]).
pub fn staged_sources(plan: &Plan, opts: &BuildOptions) -> BTreeSet<PathBuf> {
    staged_copies(plan, opts)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, source)| source)
        .collect()
}

struct Job<'a> {
    plan: &'a Plan,
    opts: &'a BuildOptions,
    cache: &'a Cache,
    progress: Option<&'a Progress>,
}

/// With `--stage`, every module xencfg does not generate, once per ESP
/// path: (ESP path, source).
fn staged_copies(plan: &Plan, opts: &BuildOptions) -> Result<Vec<(PathBuf, PathBuf)>, Error> {
    let mut copies = Vec::new();
    if !opts.stage {
        return Ok(copies);
    }
    let mut staged = BTreeSet::new();
    for (_, m) in plan.system.modules() {
        if m.generated || matches!(m.role, ModuleRole::HostDtb | ModuleRole::Overlay) {
            continue;
        }
        if !plan.facts.contains_key(&m.source) {
            return Err(Error::NotHashed(m.source.clone()));
        }
        let relative: PathBuf = m.path.components().iter().collect();
        if staged.insert(relative.clone()) {
            copies.push((relative, m.source.clone()));
        }
    }
    Ok(copies)
}

/// An [`OutputError`] standing for `error`, which the build ends with.
fn input_failed(slot: &mut Option<Error>, path: &Path, error: Error) -> OutputError {
    let message = error.to_string();
    *slot = Some(error);
    OutputError {
        path: path.to_path_buf(),
        message,
    }
}

fn write_output(
    job: &Job,
    staged: &[(PathBuf, PathBuf)],
    stage: &mut Stage,
    input_error: &mut Option<Error>,
) -> Result<(), OutputError> {
    let (plan, opts, cache) = (job.plan, job.opts, job.cache);
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

    // Staged copies: a file whose sha256 is known is copied (by the
    // kernel when its stamp proves it unchanged, else verified as it is
    // read); the others are hashed as they are copied, each source once,
    // Xen with them.
    let mut facts = plan.facts.clone();
    let mut copies = Vec::new();
    let mut to_hash: Vec<HashedCopy> = Vec::new();
    let mut again = Vec::new(); // more ESP paths of a file being hashed
    for (relative, source) in staged {
        match facts.get(source).and_then(|f| f.sha256.clone()) {
            Some(sha256) => copies.push(copy_of(relative, source, sha256, cache)),
            None if to_hash.iter().any(|h| h.source == *source) => {
                again.push((relative, source));
            }
            None => to_hash.push(HashedCopy {
                source: source.clone(),
                relative: relative.clone(),
            }),
        }
    }
    let xen = match (opts.stage, &opts.xen) {
        (true, Some(xen)) => Some(xen),
        _ => None,
    };
    let xen_name = PathBuf::from(format!("{}.efi", opts.efi_name));
    let mut xen_facts = None;
    if let Some(xen) = xen {
        match cache.reuse(xen, None) {
            Some(known) => {
                let sha256 = known.sha256.clone().unwrap_or_default();
                copies.push(copy_of(&xen_name, xen, sha256, cache));
                xen_facts = Some(known);
            }
            None => to_hash.push(HashedCopy {
                source: xen.clone(),
                relative: xen_name.clone(),
            }),
        }
    }
    let hashed = stage.hash_and_copy_all(&to_hash, cache.trusts_stamps(), job.progress)?;
    for (copy, result) in to_hash.iter().zip(hashed) {
        let is_xen = xen.is_some_and(|x| *x == copy.source) && copy.relative == xen_name;
        let (found, proof) = match result {
            Ok(done) => done,
            Err(CopyFailed::Output(e)) => return Err(e),
            Err(CopyFailed::Source(e)) if is_xen => {
                return Err(OutputError {
                    path: copy.source.clone(),
                    message: format!("cannot read --xen: {e}"),
                });
            }
            Err(CopyFailed::Source(e)) => {
                return Err(input_failed(
                    input_error,
                    &copy.source,
                    Error::HashFailed(e),
                ));
            }
        };
        cache.record(&copy.source, &found, proof);
        if is_xen {
            xen_facts = Some(found);
        } else if let Err(e) = crate::analyze::confirm_hash(&mut facts, &copy.source, found) {
            return Err(input_failed(input_error, &copy.source, e));
        }
    }
    for (relative, source) in again {
        let sha256 = facts
            .get(source)
            .and_then(|f| f.sha256.clone())
            .unwrap_or_default();
        copies.push(copy_of(relative, source, sha256, cache));
    }
    stage.write_all(&copies)?;
    if let (Some(xen), Some(found)) = (xen, xen_facts) {
        generated.push(FileInfo {
            esp_path: xen_name.to_string_lossy().into_owned(),
            size: found.size,
            sha256: found.sha256.unwrap_or_default(),
            source: manifest::source_name(&system.root, xen),
        });
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
        facts: &facts,
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

/// A staged copy of `source` whose content must have `sha256`.
fn copy_of(relative: &Path, source: &Path, sha256: String, cache: &Cache) -> OutputFile {
    OutputFile {
        relative: relative.to_path_buf(),
        content: Content::CopyOf {
            source: source.to_path_buf(),
            sha256,
            proof: cache.proof(source),
        },
    }
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
    // the last build into `out` hashed it as it still is), and a file to
    // stage only as it is copied.
    let cache = match args.no_cache {
        true => Cache::disabled(),
        false => Cache::load(&args.out),
    };
    let opts = BuildOptions {
        out: args.out.clone(),
        efi_name: common.efi_name.clone(),
        stage: args.stage,
        xen: common.xen.clone(),
        emit_dts: args.emit_dts,
        force: args.force,
        target: compilation.target.clone(),
    };
    // A file to stage is hashed as it is copied (one read), the others
    // first.
    let later = staged_sources(&compilation.plan, &opts);
    let (progress, meter) = terminal::progress_meter();
    let built = compilation
        .plan
        .hash_inputs_except(progress.as_deref(), &cache, &later)
        .and_then(|()| build_hashing(&compilation.plan, &opts, &cache, progress.as_deref()));
    drop(meter); // erases the progress line before anything else is printed
    built?;
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
