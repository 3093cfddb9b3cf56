//! Deciding the target from the command line: `--xen-version`, the version
//! found in `--xen FILE`, the header of `--xen-config FILE`, else the
//! newest release known (in that order). Disagreements between them are
//! warnings; a Xen that cannot boot an EFI dom0less system is an error.

use super::kconfig::BuildConfig;
use super::xen_image;
use super::{Built, Target, VersionSource, XenVersion};
use crate::checks::registry as c;
use crate::diag::{Diagnostic, Diagnostics, Location};
use std::io::Read;
use std::path::Path;

/// What the command line says about the target.
#[derive(Default)]
pub struct TargetArgs<'a> {
    pub version: Option<&'a str>,
    pub xen: Option<&'a Path>,
    pub config: Option<&'a Path>,
}

/// Xen binaries are a few MiB; anything larger is not one.
const MAX_XEN_IMAGE: u64 = 64 << 20;
/// A `.config` is a few KiB.
const MAX_CONFIG: u64 = 16 << 20;

/// The target, or a usage error (unreadable file, bad `--xen-version`).
pub fn resolve(args: &TargetArgs, diags: &mut Diagnostics) -> Result<Target, String> {
    let explicit = args.version.map(|v| v.parse::<XenVersion>()).transpose()?;
    let config = match args.config {
        Some(path) => {
            let text = read_bounded(path, MAX_CONFIG, "--xen-config")?;
            let text = String::from_utf8_lossy(&text);
            Some(BuildConfig::parse(path, &text)?)
        }
        None => None,
    };
    let image = match args.xen {
        Some(path) => {
            let bytes = read_bounded(path, MAX_XEN_IMAGE, "--xen")?;
            let found = xen_image::find_version(&bytes);
            if found.is_none() {
                diags.push(
                    Diagnostic::new(
                        &c::XEN_VERSION_NOT_FOUND,
                        Location::File(path.to_path_buf()),
                        format!("no Xen version found in {}", path.display()),
                    )
                    .note("an uncompressed Arm Xen binary carries the string \"xen,xen-<version>\"")
                    .help("give the Xen EFI binary itself (xen.efi), or say `--xen-version`"),
                );
            }
            found.map(|f| (path, f))
        }
        None => None,
    };
    let from_config = config
        .as_ref()
        .and_then(|c| Some((c.path.as_path(), c.version()?)));

    let (version, source) = match (explicit, &image, from_config) {
        (Some(v), _, _) => (v, VersionSource::Option),
        (None, Some((path, found)), _) => (
            known_release(found.version, path, "the Xen binary", diags),
            VersionSource::XenBinary,
        ),
        (None, None, Some((path, v))) => (
            known_release(v, path, "the Xen build configuration", diags),
            VersionSource::XenConfig,
        ),
        (None, None, None) => (XenVersion::NEWEST, VersionSource::Default),
    };

    let said = |by: &str| format!("{by} (Xen {version})");
    let chosen_by = match source {
        VersionSource::Option => said("`--xen-version`"),
        VersionSource::XenBinary => said("the Xen binary"),
        _ => said("the target"),
    };
    if let Some((path, found)) = &image {
        if found.version != version {
            mismatch(path, "the Xen binary", found.version, &chosen_by, diags);
        }
    }
    if let Some((path, v)) = from_config {
        if v != version {
            mismatch(path, "the Xen build configuration", v, &chosen_by, diags);
        }
    }
    let target = Target {
        version,
        version_source: source,
        full_version: image.and_then(|(_, f)| f.full),
        config,
    };
    check_bootable(&target, diags);
    Ok(target)
}

fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    // Not File::open: a FIFO would block the open until a writer came.
    let file = crate::input::open_regular(path)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{what} {} is not a regular file", path.display()));
    }
    if meta.len() > limit {
        return Err(format!(
            "{what} {} is {} bytes; that is too large to be what {what} names",
            path.display(),
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    Ok(bytes)
}

/// A release read from a file, clamped to what xencfg knows.
fn known_release(v: XenVersion, path: &Path, what: &str, diags: &mut Diagnostics) -> XenVersion {
    if v > XenVersion::NEWEST {
        diags.push(
            Diagnostic::new(
                &c::TARGET_MISMATCH,
                Location::File(path.to_path_buf()),
                format!(
                    "{what} is Xen {v}; xencfg knows releases up to {}",
                    XenVersion::NEWEST
                ),
            )
            .note(format!("checking against Xen {}", XenVersion::NEWEST))
            .help("update xencfg, or say `--xen-version` to silence this"),
        );
        return XenVersion::NEWEST;
    }
    if v < XenVersion::OLDEST {
        diags.push(
            Diagnostic::new(
                &c::TARGET_CANNOT_BOOT,
                Location::File(path.to_path_buf()),
                format!("{what} is Xen {v}"),
            )
            .note(format!(
                "Xen's EFI loader boots dom0less guests from {} on (`xen,uefi-binary`)",
                XenVersion::OLDEST
            ))
            .help(format!("use Xen {} or newer", XenVersion::OLDEST)),
        );
        return XenVersion::OLDEST;
    }
    v
}

fn mismatch(path: &Path, what: &str, found: XenVersion, chosen_by: &str, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            &c::TARGET_MISMATCH,
            Location::File(path.to_path_buf()),
            format!("{what} is Xen {found}, but xencfg checks for {chosen_by}"),
        )
        .note("properties, limits and panics differ between releases")
        .help(format!(
            "say `--xen-version {found}`, or give the binary and configuration of the Xen you boot"
        )),
    );
}

/// A build configuration for another architecture, or without the EFI
/// loader, cannot boot anything xencfg emits.
fn check_bootable(target: &Target, diags: &mut Diagnostics) {
    let Some(config) = &target.config else {
        return;
    };
    let at = || Location::File(config.path.clone());
    let not_arm = config.header.as_ref().is_some_and(|h| h.arch != "arm");
    if not_arm || !config.is_set("CONFIG_ARM_64") {
        diags.push(
            Diagnostic::new(
                &c::TARGET_CANNOT_BOOT,
                at(),
                "the Xen build configuration is not for arm64 (no `CONFIG_ARM_64=y`)",
            )
            .note("Xen boots from EFI with a device tree only on arm64")
            .help("give the .config of the arm64 Xen you boot"),
        );
    } else if target.builds("CONFIG_ARM_EFI") == Built::No {
        diags.push(
            Diagnostic::new(
                &c::TARGET_CANNOT_BOOT,
                at(),
                "the Xen build configuration has no EFI loader (`CONFIG_ARM_EFI` is not set)",
            )
            .note("without it xen.efi does not exist and xen.cfg is never read")
            .help("build Xen with CONFIG_ARM_EFI=y"),
        );
    }
}
