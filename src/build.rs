//! `xencfg build`: turn a [`Compiled`] system into the output directory.
//!
//! The directory holds `<efi-name>.cfg`, one `<section>.dtb` per boot
//! section, `manifest.json`, optionally `<section>.dts` (`--emit-dts`) and,
//! with `--stage`, every referenced file at its ESP path plus Xen itself as
//! `<efi-name>.efi`, so the directory is what goes on the ESP.

use crate::cache::Cache;
use crate::checks::sections::MAX_EFI_FILES;
use crate::compile::{Compiled, FatalError};
use crate::emit::manifest::{self, FileInfo, ManifestInput};
use crate::emit::output::{self, Content, OutputError, OutputFile, Stage};
use crate::emit::{self as emit_mod};
use crate::fdt::dts;
use crate::model::ModuleRole;
use crate::target::Target;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

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

/// Build the output directory. Each generated file is made, written to
/// the staging directory and dropped before the next, so memory holds one
/// merged DTB at a time however many boot sections there are.
pub fn build(compiled: &Compiled, opts: &BuildOptions) -> Result<(), FatalError> {
    build_with_cache(compiled, opts, &Cache::disabled())
}

/// [`build`] after [`Compiled::hash_inputs_with`] `cache`: staged copies
/// use its proofs, and its entries are kept beside the output for the
/// next build.
pub fn build_with_cache(
    compiled: &Compiled,
    opts: &BuildOptions,
    cache: &Cache,
) -> Result<(), FatalError> {
    refuse_inputs_inside_output(compiled, opts)?;
    let staged = staged_copies(compiled, opts, cache)?;
    output::write_atomically_with(&opts.out, opts.force, |stage| {
        write_output(compiled, opts, cache, staged, stage)
    })
    .map_err(|e| FatalError(e.to_string()))
}

/// With `--stage`, every module xencfg does not generate, once per ESP
/// path, with the sha256 its copy must have.
fn staged_copies(
    compiled: &Compiled,
    opts: &BuildOptions,
    cache: &Cache,
) -> Result<Vec<OutputFile>, FatalError> {
    let mut copies = Vec::new();
    if !opts.stage {
        return Ok(copies);
    }
    let mut staged = std::collections::BTreeSet::new();
    for (_, m) in compiled.system.modules() {
        if m.generated || matches!(m.role, ModuleRole::HostDtb | ModuleRole::Overlay) {
            continue;
        }
        let relative: PathBuf = m.path.components().iter().collect();
        let sha256 = compiled
            .facts
            .get(&m.source)
            .and_then(|f| f.sha256.clone())
            .ok_or_else(|| {
                FatalError(format!(
                    "{} was not hashed; cannot stage it",
                    m.source.display()
                ))
            })?;
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
    compiled: &Compiled,
    opts: &BuildOptions,
    cache: &Cache,
    staged: Vec<OutputFile>,
    stage: &mut Stage,
) -> Result<(), OutputError> {
    let system = &compiled.system;
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
        compiled.cfg_bytes.clone(),
    )?;
    for (index, section) in system.sections.iter().enumerate() {
        // No `dtb=`: the section boots on the firmware's tree (checks made
        // sure it has no guests or overlays that would need one).
        let Some(name) = emit_mod::cfg::dtb_name(section) else {
            continue;
        };
        let merged = compiled.merged(index).ok_or_else(|| OutputError {
            path: opts.out.clone(),
            message: format!("section [{}] has no host DTB to build", section.name),
        })?;
        put(
            stage,
            name,
            merged.to_bytes_padded(emit_mod::dtb::padding_for(section)),
        )?;
        if opts.emit_dts {
            stage.write(&OutputFile {
                relative: PathBuf::from(format!("{}.dts", section.name)),
                content: Content::Bytes(dts::to_dts(&merged).into_bytes()),
            })?;
        }
    }

    // Fragments built for `passthrough=` are modules like any other, so
    // they are written whether or not the inputs are staged.
    for fragment in &compiled.fragments {
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
        .map(|s| emit_mod::cfg::effective_options(s, &opts.target).map(str::to_string))
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
        default_section: &compiled.default_section,
        facts: &compiled.facts,
        generated,
        limit: MAX_EFI_FILES,
        efi_counts,
        options,
        passthrough: &compiled.passthrough,
    });
    stage.write(&OutputFile {
        relative: PathBuf::from(output::MANIFEST_NAME),
        content: Content::Bytes(manifest.to_json()),
    })
}

/// Replacing a directory that holds an input would destroy it, `--force`
/// or not: every file the build read (cfg, chained cfgs, DTBs, overlays,
/// images, fragments, `--xen-config`) and `--xen` must lie outside `-o`.
fn refuse_inputs_inside_output(compiled: &Compiled, opts: &BuildOptions) -> Result<(), FatalError> {
    if !opts.out.is_dir() {
        return Ok(()); // absent, or a file that writing refuses to replace
    }
    let Ok(out) = std::fs::canonicalize(&opts.out) else {
        return Ok(());
    };
    let inside: Vec<String> = compiled
        .inputs
        .iter()
        .chain(&opts.xen)
        .filter(|input| std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&out)))
        .map(|input| input.display().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if inside.is_empty() {
        return Ok(());
    }
    Err(FatalError(format!(
        "the output directory {} contains the input{} {}; replacing it would destroy {}; choose another -o",
        opts.out.display(),
        if inside.len() == 1 { "" } else { "s" },
        inside.join(", "),
        if inside.len() == 1 { "it" } else { "them" },
    )))
}
