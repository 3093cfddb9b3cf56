//! Deciding the target from the command line: `--xen-version`, the version
//! found in `--xen FILE`, the header of `--xen-config FILE`, else the
//! newest release known (in that order). Disagreements between them are
//! warnings; a Xen that cannot boot an EFI dom0less system is an error.

use super::kconfig::BuildConfig;
use super::xen_image;
use super::{Built, Target, VersionSource, XenVersion};
use crate::diag::codes as c;
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
    let mut config = config;
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
            } else {
                let embedded = embedded_config(path, &bytes);
                match (&config, embedded) {
                    (None, Some(inside)) => config = Some(inside),
                    (None, None) => diags.push(no_embedded_config(path)),
                    (Some(given), Some(inside)) if given.values != inside.values => {
                        diags.push(config_mismatch(given, &inside));
                    }
                    (Some(_), _) => {}
                }
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
    // A release outside what xencfg knows is targeted as the nearest one
    // it knows (known_release warns); that is no mismatch.
    if let Some((path, found)) = &image {
        if clamp(found.version) != version {
            mismatch(path, "the Xen binary", found.version, &chosen_by, diags);
        }
    }
    if let Some((path, v)) = from_config {
        if clamp(v) != version {
            mismatch(path, "the Xen build configuration", v, &chosen_by, diags);
        }
    }
    // The patch level of whatever named the targeted release.
    let patch = match source {
        VersionSource::Option => args.version.and_then(super::patch_level),
        VersionSource::XenBinary => image
            .as_ref()
            .and_then(|(_, f)| f.full.as_deref())
            .and_then(super::patch_level),
        VersionSource::XenConfig => config
            .as_ref()
            .and_then(|c| c.header.as_ref())
            .and_then(|h| super::patch_level(&h.release)),
        VersionSource::Default => None,
    };
    // Not when the release was clamped to one xencfg knows.
    let named = match source {
        VersionSource::XenBinary => image.as_ref().map(|(_, f)| f.version),
        VersionSource::XenConfig => from_config.map(|(_, v)| v),
        _ => Some(version),
    };
    let patch = patch.filter(|_| named == Some(version));
    let target = Target {
        version,
        version_source: source,
        full_version: image.and_then(|(_, f)| f.full),
        patch,
        config,
    };
    check_bootable(&target, diags);
    Ok(target)
}

/// The `.config` built into the Xen binary at `path`, if it has one that
/// parses.
fn embedded_config(path: &Path, image: &[u8]) -> Option<BuildConfig> {
    let text = xen_image::find_build_config(image)?;
    let mut config = BuildConfig::parse(path, &text).ok()?;
    config.embedded = true;
    Some(config)
}

fn no_embedded_config(path: &Path) -> Diagnostic {
    Diagnostic::new(
        &c::XEN_CONFIG_NOT_FOUND,
        Location::File(path.to_path_buf()),
        format!(
            "{} carries no build configuration: build options are not judged",
            path.display()
        ),
    )
    .note("Xen keeps its .config inside the binary only when built with CONFIG_HYPFS_CONFIG")
    .note("properties whose build option this Xen lacks pass unchecked, and Xen ignores them or panics at boot")
    .help("give the .config this Xen was built with: `--xen-config FILE`")
}

fn config_mismatch(given: &BuildConfig, inside: &BuildConfig) -> Diagnostic {
    let differ: Vec<&str> = given
        .values
        .keys()
        .chain(inside.values.keys())
        .filter(|k| given.values.get(*k) != inside.values.get(*k))
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let shown = differ
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = differ.len().saturating_sub(3);
    Diagnostic::new(
        &c::TARGET_MISMATCH,
        Location::File(given.path.clone()),
        format!(
            "{} differs from {}",
            given.path.display(),
            inside.describe()
        ),
    )
    .note(if more > 0 {
        format!("they differ in {shown} and {more} more")
    } else {
        format!("they differ in {shown}")
    })
    .note(format!("checking against {}", given.path.display()))
    .help("give the .config of the Xen binary you boot, or leave `--xen-config` out to use the one inside it")
}

fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    // Not File::open: a FIFO would block the open until a writer came.
    let file = crate::load::input::open_regular(path)
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

/// The release xencfg targets for `v`: the nearest one it knows.
fn clamp(v: XenVersion) -> XenVersion {
    v.clamp(XenVersion::OLDEST, XenVersion::NEWEST)
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
            .note(format!(
                "checking against Xen {0}, the newest release xencfg knows: what {v} added or changed is not checked",
                XenVersion::NEWEST
            ))
            .help(format!(
                "update xencfg, or say `--xen-version {}` to target that release without this warning",
                XenVersion::NEWEST
            )),
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
