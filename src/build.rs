//! `xencfg build`: turn a [`Compiled`] system into the output directory.
//!
//! The directory holds `<efi-name>.cfg`, one `<section>.dtb` per boot
//! section, `manifest.json`, optionally `<section>.dts` (`--emit-dts`) and,
//! with `--stage`, every referenced file at its ESP path plus Xen itself as
//! `<efi-name>.efi`, so the directory is what goes on the ESP.

use crate::checks::sections::MAX_EFI_FILES;
use crate::compile::{Compiled, FatalError};
use crate::emit::manifest::{self, FileInfo, ManifestInput};
use crate::emit::output::{self, Content, OutputFile};
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

pub fn build(compiled: &Compiled, opts: &BuildOptions) -> Result<(), FatalError> {
    refuse_inputs_inside_output(compiled, opts)?;
    let system = &compiled.system;
    let mut files: Vec<OutputFile> = Vec::new();
    let mut generated: Vec<FileInfo> = Vec::new();
    let mut add_generated = |files: &mut Vec<OutputFile>, name: String, bytes: Vec<u8>| {
        generated.push(FileInfo {
            esp_path: name.clone(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            source: "generated".to_string(),
        });
        files.push(OutputFile {
            relative: PathBuf::from(name),
            content: Content::Bytes(bytes),
        });
    };

    add_generated(
        &mut files,
        format!("{}.cfg", opts.efi_name),
        compiled.cfg_bytes.clone(),
    );
    for (index, section) in system.sections.iter().enumerate() {
        // No `dtb=`: the section boots on the firmware's tree (checks made
        // sure it has no guests or overlays that would need one).
        let Some(name) = emit_mod::cfg::dtb_name(section) else {
            continue;
        };
        let merged = compiled.merged(index).ok_or_else(|| {
            FatalError(format!(
                "section [{}] has no host DTB to build",
                section.name
            ))
        })?;
        let blob = merged.to_bytes_padded(emit_mod::dtb::padding_for(section));
        add_generated(&mut files, name, blob);
        if opts.emit_dts {
            files.push(OutputFile {
                relative: PathBuf::from(format!("{}.dts", section.name)),
                content: Content::Bytes(dts::to_dts(&merged).into_bytes()),
            });
        }
    }

    // Fragments built for `passthrough=` are modules like any other, so
    // they are written whether or not the inputs are staged.
    for fragment in &compiled.fragments {
        add_generated(
            &mut files,
            fragment.esp_path.to_efi_string(),
            fragment.bytes.clone(),
        );
    }

    if opts.stage {
        let mut staged = std::collections::BTreeSet::new();
        for (_, m) in system.modules() {
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
                files.push(OutputFile {
                    relative,
                    content: Content::CopyOf {
                        source: m.source.clone(),
                        sha256,
                    },
                });
            }
        }
        if let Some(xen) = &opts.xen {
            // Streamed, like every staged file: never read whole.
            let facts = crate::hash::hash_file(xen)
                .map_err(|e| FatalError(format!("cannot read --xen {}: {e}", xen.display())))?;
            let sha256 = facts.sha256.unwrap_or_default();
            let name = format!("{}.efi", opts.efi_name);
            generated.push(FileInfo {
                esp_path: name.clone(),
                size: facts.size,
                sha256: sha256.clone(),
                source: xen.display().to_string(),
            });
            files.push(OutputFile {
                relative: PathBuf::from(name),
                content: Content::CopyOf {
                    source: xen.clone(),
                    sha256,
                },
            });
        }
    }

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
    files.push(OutputFile {
        relative: PathBuf::from(output::MANIFEST_NAME),
        content: Content::Bytes(manifest.to_json()),
    });
    output::write_atomically(&opts.out, &files, opts.force).map_err(|e| FatalError(e.to_string()))
}

/// Replacing a directory that holds the inputs would destroy them.
fn refuse_inputs_inside_output(compiled: &Compiled, opts: &BuildOptions) -> Result<(), FatalError> {
    if !opts.out.is_dir() {
        return Ok(()); // absent, or a file that writing refuses to replace
    }
    let Ok(out) = std::fs::canonicalize(&opts.out) else {
        return Ok(());
    };
    let inputs = std::iter::once(compiled.system.cfg_path.clone())
        .chain(
            compiled
                .system
                .modules()
                .filter(|(_, m)| !m.generated)
                .map(|(_, m)| m.source.clone()),
        )
        .chain(opts.xen.clone());
    for input in inputs {
        if let Ok(p) = std::fs::canonicalize(&input) {
            if p.starts_with(&out) {
                return Err(FatalError(format!(
                    "the output directory {} contains the input {}; choose another -o",
                    opts.out.display(),
                    input.display()
                )));
            }
        }
    }
    Ok(())
}
