//! The pipeline `check`, `build` and `explain` share: load and lower the
//! cfg, analyse it into a [`Plan`], run the check table over it — and,
//! without a target, judge every other release too.

use crate::analyze::{self, Options, Plan};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, SourceMap};
use crate::error::Error;
use crate::target::{Target, VersionSource, XenVersion};
use std::collections::{HashMap, HashSet};

/// Analyse and check a cfg. Findings go to `diags`; an error is a failure
/// to run at all (the cfg cannot be read).
pub fn run(
    options: &Options,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Plan, Error> {
    let plan = analyze::analyze(options, sources, diags)?;
    crate::checks::run(&plan, diags);
    // A cfg with errors for the target is fixed first; what older
    // releases would say on top is noise until then.
    if options.target.version_source == VersionSource::Default && !diags.has_errors() {
        judge_every_release(options, diags);
    }
    Ok(plan)
}

/// Without a target, the cfg is checked for the newest release and judged
/// for every other supported one too: each finding of an older release
/// that the checks for the target do not make is reported once, as a
/// warning naming the releases (XC0906), so a cfg that only works on
/// newer Xen does not pass silently. Only for a cfg without errors.
fn judge_every_release(opts: &Options, diags: &mut Diagnostics) {
    let releases: Vec<XenVersion> = (XenVersion::OLDEST.minor..=XenVersion::NEWEST.minor)
        .map(|minor| XenVersion::new(XenVersion::OLDEST.major, minor))
        .filter(|v| *v != opts.target.version)
        .collect();
    // Each release is a check run of its own (files sniffed, not hashed),
    // one after the other: a run holds its host trees, and runs side by
    // side would multiply the memory of a large cfg.
    let findings = releases.iter().map(|&version| {
        let release = Options {
            cfg: opts.cfg.clone(),
            root: opts.root.clone(),
            section: opts.section.clone(),
            target: Target {
                version,
                // Not `Default`: these runs judge no other release.
                version_source: VersionSource::Option,
                full_version: None,
                patch: None,
                config: opts.target.config.clone(),
            },
            efi_name: opts.efi_name.clone(),
            host_ram: opts.host_ram.clone(),
        };
        let mut sources = SourceMap::default();
        let mut found = Diagnostics::default();
        // A cfg that cannot be read was reported by the main run.
        let _ = run(&release, &mut sources, &mut found);
        (version, found.into_vec())
    });

    // The same check at the same place is the same finding, whatever
    // version its message names. (Hashed: a cfg may have thousands.)
    let key = |d: &Diagnostic| (d.check.code, format!("{:?}", d.location));
    let reported: HashSet<_> = diags.iter().map(key).collect();
    let mut differing: Vec<(Vec<XenVersion>, Diagnostic)> = Vec::new();
    let mut index: HashMap<(&str, String), usize> = HashMap::new();
    for (version, found) in findings {
        for d in found {
            let k = key(&d);
            if reported.contains(&k) {
                continue;
            }
            match index.get(&k) {
                Some(&i) => differing[i].0.push(version),
                None => {
                    index.insert(k, differing.len());
                    differing.push((vec![version], d));
                }
            }
        }
    }
    for (versions, d) in differing {
        let on = release_list(&versions);
        // The message of the oldest release; "the target is Xen 4.16" would
        // read as if the user had chosen it.
        let target_is = format!("; the target is Xen {}", versions[0]);
        let message = d.message.strip_suffix(&target_is).unwrap_or(&d.message);
        let mut warning = Diagnostic::new(
            &c::RELEASES_DIFFER,
            d.location.clone(),
            format!("on Xen {on}: {message}"),
        )
        .note(format!(
            "no target Xen was given: xencfg checks for Xen {} and judges every release from {} on; Xen {on} would report {}[{}] here",
            opts.target.version,
            XenVersion::OLDEST,
            d.severity.as_str(),
            d.check.code
        ));
        for note in d.notes {
            warning = warning.note(note);
        }
        for (location, label) in d.related {
            warning = warning.related(location, label);
        }
        let pin = "pin the target with `--xen-version X.Y`, `--xen FILE` or `--xen-config FILE`";
        diags.push(warning.help(match d.help {
            Some(help) => format!("{pin}; for Xen {on}: {help}"),
            None => pin.to_string(),
        }));
    }
}

/// `4.16 to 4.18`, `4.16, 4.18`: releases in ascending order, runs joined.
fn release_list(versions: &[XenVersion]) -> String {
    let mut runs: Vec<(XenVersion, XenVersion)> = Vec::new();
    for &v in versions {
        match runs.last_mut() {
            Some((_, last)) if last.major == v.major && last.minor + 1 == v.minor => *last = v,
            _ => runs.push((v, v)),
        }
    }
    runs.iter()
        .map(|(first, last)| match first == last {
            true => first.to_string(),
            false => format!("{first} to {last}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
