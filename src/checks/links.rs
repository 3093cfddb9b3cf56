//! Checks of the structures that link domains (XC1009–XC1021,
//! XC1026–XC1028): static event channels, shared memory, cpupools and vCPU
//! affinity (reference §2.6–2.9, §3.9–3.11).

use crate::analyze::resolve::{self, Domain, End};
use crate::analyze::{SectionView, guest_map};
use crate::binding;
use crate::binding::value::PropertyValue;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity, Span};
use crate::host::HostCpu;
use crate::model::Guest;
use crate::model::structures::{CpuPool, DOM0, PoolCpu, ShmRole};
use crate::range::Range;
use crate::target::kconfig::scheduler_option;
use crate::target::{Built, XenVersion};

/// Xen 4.17+ gives dom0less guests `max_evtchn_port` 1023.
pub const GUEST_MAX_PORT: u32 = 1023;
/// The 2-level event channel ABI's limit on 64-bit (dom0, and 4.21+
/// hardware and xenstore domains).
pub const ABI_MAX_PORT: u32 = 4095;
/// MAX_SHM_ID_LENGTH is 16 bytes including the NUL.
pub const MAX_SHM_ID: usize = 15;
/// NR_SHMEM_BANKS (Xen 4.19+).
pub const MAX_SHM_REGIONS: usize = 32;
/// The schedulers Xen can be built with.
pub const SCHEDULERS: &[&str] = &["credit", "credit2", "rtds", "arinc653", "null"];

pub fn check(cx: &SectionView, diags: &mut Diagnostics) {
    event_channels(cx, diags);
    shared_memory(cx, diags);
    let pool_cpus = cpupools(cx, diags);
    affinity(cx, &pool_cpus, diags);
}

fn name_of(cx: &SectionView, domain: Domain) -> String {
    match domain {
        Domain::Dom0 => DOM0.to_string(),
        Domain::Guest(i) => cx.guest(i).map_or_else(String::new, |g| g.name.clone()),
    }
}

/// The highest port a domain may bind at boot.
fn port_limit(cx: &SectionView, domain: Domain) -> u32 {
    let Domain::Guest(i) = domain else {
        return ABI_MAX_PORT;
    };
    let privileged = cx.target.version >= XenVersion::new(4, 21)
        && cx
            .guest(i)
            .and_then(Guest::capabilities)
            .is_some_and(|caps| caps & 0x6 != 0);
    if privileged {
        ABI_MAX_PORT
    } else {
        GUEST_MAX_PORT
    }
}

fn event_channels(cx: &SectionView, diags: &mut Diagnostics) {
    let section = cx.section;
    for guest in &section.guests {
        for key in &guest.structures.evtchns {
            match resolve::peer(section, &key.peer) {
                None => {
                    let names = section.guests.iter().map(|g| g.name.as_str());
                    let mut d = Diagnostic::at(
                        &c::EVTCHN_PEER,
                        key.span,
                        format!(
                            "the event channel's peer `{}` is not a guest of `[{}]`",
                            key.peer, section.name
                        ),
                    )
                    .note("Xen panics at boot: \"could not find domains\"");
                    d = match binding::closest(&key.peer, names.chain([DOM0])) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("name a guest of this boot section, or `dom0`"),
                    };
                    diags.push(d);
                }
                Some(Domain::Dom0) if !cx.has_dom0() => diags.push(
                    Diagnostic::at(
                        &c::EVTCHN_PEER,
                        key.span,
                        format!("`[{}]` has no dom0 for this event channel", section.name),
                    )
                    .note("Xen creates dom0's end only when dom0 exists; the guest's end then panics \"could not find domains\"")
                    .help("give the section dom0's `kernel=`, or link the channel to a guest"),
                ),
                Some(_) => {}
            }
        }
    }
    let mut seen: Vec<(End, Span)> = Vec::new();
    for channel in &cx.analysis().links.channels {
        for end in channel.ends {
            let limit = port_limit(cx, end.domain);
            let owner = name_of(cx, end.domain);
            if end.port == 0 || end.port > limit {
                diags.push(
                    Diagnostic::at(
                        &c::EVTCHN_PORT,
                        channel.span,
                        format!("port {} of `{owner}` is outside 1..={limit}", end.port),
                    )
                    .note(if end.port == 0 {
                        "port 0 asks Xen for any free port, which breaks the static binding: Xen panics".to_string()
                    } else {
                        format!("Xen limits this domain to port {limit} and panics at boot")
                    })
                    .help(format!("use a port from 1 to {limit}")),
                );
            }
            if let Some((_, first)) = seen.iter().find(|(e, _)| *e == end) {
                diags.push(
                    Diagnostic::at(
                        &c::EVTCHN_PORT_REUSED,
                        channel.span,
                        format!("port {} of `{owner}` is bound twice", end.port),
                    )
                    .related(Location::Text(*first), "first bound here")
                    .note("Xen panics at boot: the second binding finds the port busy")
                    .help(
                        "give each channel its own port, or, when both ends describe one channel, make them agree",
                    ),
                );
            } else {
                seen.push((end, channel.span));
            }
        }
    }
    // Guests without `xen,enhanced` cannot see their channels.
    let mut warned = Vec::new();
    for (end, span) in &seen {
        let Domain::Guest(i) = end.domain else {
            continue;
        };
        let Some(guest) = cx.guest(i) else { continue };
        // `disabled` is as if absent (dom0less-build.c compares the value).
        let enhanced = guest
            .property(&binding::XEN_ENHANCED)
            .is_some_and(|p| !matches!(&p.value, PropertyValue::Str(s) if s == "disabled"));
        if !enhanced && !warned.contains(&i) {
            warned.push(i);
            diags.push(
                Diagnostic::at(
                    &c::EVTCHN_NO_ENHANCED,
                    *span,
                    format!("guest `{}` has event channels but no `xen,enhanced`", guest.name),
                )
                .note("without it the guest's device tree has no hypervisor node, so the guest cannot use the channels")
                .help(format!("add `xen,enhanced=no-xenstore` to `{}`", guest.name)),
            );
        }
    }
}

fn shared_memory(cx: &SectionView, diags: &mut Diagnostics) {
    let section = cx.section;
    let v = cx.target.version;
    let regions = cx.analysis().links.regions(section);
    for region in &regions {
        let (_, first) = region.members[0];
        if region.id.len() > MAX_SHM_ID {
            diags.push(
                Diagnostic::at(
                    &c::SHM_ID,
                    first.span,
                    format!(
                        "shared-memory id `{}` is {} characters long",
                        region.id,
                        region.id.len()
                    ),
                )
                .note("Xen keeps at most 15 characters and panics at boot on a longer id")
                .help("use an id of at most 15 characters"),
            );
        }
        for (i, key) in &region.members {
            let name = name_of(cx, *i);
            let direct_map = resolve::one_to_one(section, *i);
            if key.size != first.size || key.host != first.host {
                diags.push(
                    Diagnostic::at(
                        &c::SHM_MISMATCH,
                        key.span,
                        format!("shared memory `{}` is described differently here", region.id),
                    )
                    .related(Location::Text(first.span), "first described here")
                    .note("every domain sharing a region names the same host address and size; Xen panics otherwise")
                    .help("give the same `host=` and `size=` everywhere the id appears"),
                );
            }
            let mapped = if *i == Domain::Dom0 {
                "dom0 is mapped 1:1 (its guest addresses are host addresses)"
            } else {
                "a direct-mapped guest sees host addresses"
            };
            if let (Some(host), Some(guest)) = (key.host, key.guest) {
                if direct_map && host != guest {
                    diags.push(
                        Diagnostic::at(&c::SHM_HOST_ADDRESS, key.span, format!("`{name}` is direct-mapped but shares `{}` at guest {guest:#x}, host {host:#x}", region.id))
                            .note(format!("{mapped}; Xen panics when they differ"))
                            .help(format!("use `guest={host:#x}`, or leave `guest=` out: xencfg writes the host address")),
                    );
                }
            }
            for (what, value) in [
                ("host address", key.host),
                ("guest address", key.guest),
                ("size", Some(key.size)),
            ] {
                if let Some(value) = value.filter(|n| n % 4096 != 0) {
                    let mut d = Diagnostic::at(
                        &c::STATIC_MEM_UNALIGNED,
                        key.span,
                        format!("the {what} of shared memory `{}` ({value:#x}) is not a multiple of 4 KiB", region.id),
                    )
                    .note("Xen maps shared memory in 4 KiB pages (4.19+ panics)")
                    .help("align it to 4 KiB (0x1000)");
                    if v < XenVersion::new(4, 19) {
                        d = d.note(format!(
                            "Xen {v} does not check this and maps the wrong pages"
                        ));
                    }
                    diags.push(d);
                }
            }
            if let (Some(host), Some(facts)) = (key.host, &cx.host) {
                let range = Range {
                    start: host,
                    size: key.size,
                };
                if !facts.ram.is_empty() && !facts.in_ram(range) && *i == region.members[0].0 {
                    diags.push(
                        Diagnostic::at(
                            &c::STATIC_MEM_OUTSIDE_RAM,
                            key.span,
                            format!(
                                "shared memory `{}` at {host:#x} (+{:#x}) is not inside host RAM",
                                region.id, key.size
                            ),
                        )
                        .note("Xen panics at boot: the shared pages must be RAM")
                        .note(facts.ram_source_note())
                        .help(ram_help(facts)),
                    );
                }
            }
        }
        roles(region, diags);
    }
    if !cx.has_dom0() {
        for key in &section.dom0_structures.shared_mem {
            diags.push(
                Diagnostic::at(
                    &c::SHM_WITHOUT_DOM0,
                    key.span,
                    format!("`[{}]` has no dom0 to share `{}`", section.name, key.id),
                )
                .note("`shared-mem=` in a boot section is dom0's side; Xen reads it only when dom0 exists and otherwise silently ignores it (the range stays reserved)")
                .help("give the section dom0's `kernel=`, or move `shared-mem=` into the guest that shares the region"),
            );
        }
    }
    for guest in &section.guests {
        guest_overlaps(cx, guest, diags);
    }
    // Different ids on one range, or overlapping ranges.
    let hosts: Vec<(&str, Range, Span)> = regions
        .iter()
        .filter_map(|r| {
            let (_, k) = r.members[0];
            Some((
                r.id,
                Range {
                    start: k.host?,
                    size: k.size,
                },
                k.span,
            ))
        })
        .collect();
    for (n, (id, range, span)) in hosts.iter().enumerate() {
        if let Some((other, _, other_span)) = hosts[..n].iter().find(|(_, r, _)| r.overlaps(*range))
        {
            diags.push(
                Diagnostic::at(
                    &c::SHM_MISMATCH,
                    *span,
                    format!("shared memory `{id}` overlaps `{other}` in host memory"),
                )
                .related(Location::Text(*other_span), format!("`{other}`"))
                .note("Xen panics at boot: two regions cannot share host pages")
                .help("use one id for one region, or separate host ranges"),
            );
        }
    }
    if v >= XenVersion::new(4, 19) && regions.len() > MAX_SHM_REGIONS {
        let (_, key) = regions[MAX_SHM_REGIONS].members[0];
        diags.push(
            Diagnostic::at(
                &c::SHM_TOO_MANY,
                key.span,
                format!(
                    "`[{}]` has {} shared-memory regions",
                    section.name,
                    regions.len()
                ),
            )
            .note(format!(
                "Xen {v} keeps at most {MAX_SHM_REGIONS} and panics past that"
            ))
            .help("share fewer, larger regions"),
        );
    }
}

/// Shared memory laid over the guest's RAM, an emulated device, or another
/// region of the same guest (reference §2.7: Xen does not check).
fn guest_overlaps(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let ram = guest_map::ram(guest);
    let devices = guest_map::devices(cx.host_tree, guest);
    let keys = &guest.structures.shared_mem;
    for (n, key) in keys.iter().enumerate() {
        let Some(start) = key.guest else { continue };
        let range = Range {
            start,
            size: key.size,
        };
        let mut hit = ram
            .iter()
            .find(|r| r.overlaps(range))
            .map(|r| format!("the guest's RAM ({:#x}-{:#x})", r.start, r.end()));
        if hit.is_none() {
            hit = devices
                .iter()
                .find(|(_, r)| r.overlaps(range))
                .map(|(name, r)| format!("{name} at {:#x}", r.start));
        }
        if hit.is_none() {
            hit = keys[..n]
                .iter()
                .find(|k| {
                    k.guest.is_some_and(|start| {
                        Range {
                            start,
                            size: k.size,
                        }
                        .overlaps(range)
                    })
                })
                .map(|k| format!("shared memory `{}`", k.id));
        }
        let Some(what) = hit else { continue };
        diags.push(
            Diagnostic::at(
                &c::SHM_GUEST_OVERLAP,
                key.span,
                format!(
                    "`{}` maps shared memory `{}` at guest {:#x}-{:#x}, over {what}",
                    guest.name,
                    key.id,
                    start,
                    range.end()
                ),
            )
            .note("Xen does not check guest addresses: the region silently replaces what the guest expects there")
            .help("move it to a guest address the guest's layout leaves free (`xencfg checks shm-guest-overlap` lists the layout), or leave `guest=` out: xencfg places it"),
        );
    }
}

fn roles(region: &resolve::Region, diags: &mut Diagnostics) {
    let owners: Vec<_> = region
        .members
        .iter()
        .filter(|(_, k)| k.role == Some(ShmRole::Owner))
        .collect();
    if let [first, second, ..] = owners.as_slice() {
        diags.push(
            Diagnostic::at(
                &c::SHM_ROLE,
                second.1.span,
                format!("shared memory `{}` has two owners", region.id),
            )
            .related(Location::Text(first.1.span), "the first owner")
            .note("Xen panics at boot")
            .help("make one domain `role=owner` and the others `role=borrower`"),
        );
    }
    if let Some(owner) = owners.first() {
        for (_, k) in &region.members {
            if k.role.is_none() {
                diags.push(
                    Diagnostic::at(&c::SHM_ROLE, k.span, format!("shared memory `{}` is owned by another domain, but this one has no `role=`", region.id))
                        .related(Location::Text(owner.1.span), "the owner")
                        .note("a domain without a role claims the region for Xen itself (DOMID_IO); meeting an owned region, Xen panics")
                        .help("add `role=borrower`"),
                );
            }
        }
    } else if region
        .members
        .iter()
        .all(|(_, k)| k.role == Some(ShmRole::Borrower))
    {
        let (_, first) = region.members[0];
        diags.push(
            Diagnostic::at(
                &c::SHM_ROLE,
                first.span,
                format!(
                    "every domain borrows shared memory `{}`; none owns it",
                    region.id
                ),
            )
            .severity(Severity::Warning)
            .note("Xen accepts this, but nobody takes ownership of the pages")
            .help("make one domain `role=owner`, or drop `role=` everywhere to let Xen own it"),
        );
    }
}

fn ram_help(facts: &crate::host::HostFacts) -> String {
    format!("the host's RAM is {}", facts.ram_list())
}

/// Check the pools the section uses; returns, per pool name, the logical
/// numbers of its CPUs (for the affinity check).
fn cpupools(cx: &SectionView, diags: &mut Diagnostics) -> Vec<(String, Vec<u32>)> {
    let section = cx.section;
    for guest in &section.guests {
        let Some(name) = &guest.structures.cpupool else {
            continue;
        };
        if !cx.system.pools.iter().any(|p| p.name == name.value) {
            let is_section = cx.system.section(&name.value).is_some()
                || section.guests.iter().any(|g| g.name == name.value);
            diags.push(
                Diagnostic::at(
                    &c::CPUPOOL_UNKNOWN,
                    name.span,
                    if is_section {
                        format!("`cpupool={}` names a boot or guest section, not a pool", name.value)
                    } else {
                        format!("there is no pool section `[{}]`", name.value)
                    },
                )
                .note("Xen panics at boot: \"Error getting cpupool id\"")
                .help(
                    match binding::closest(&name.value, cx.system.pools.iter().map(|p| p.name.as_str())) {
                        Some(pool) => format!("did you mean `{pool}`?"),
                        None if is_section => {
                            "name a section of its own that holds only `cpus=` and `sched=`".to_string()
                        }
                        None => format!(
                            "add a section `[{}]` with `cpus=` (host CPU paths or MPIDRs) and optionally `sched=`",
                            name.value
                        ),
                    },
                ),
            );
        }
    }
    let mut claimed: Vec<(String, &str, Span)> = Vec::new();
    let mut out = Vec::new();
    for pool in cx.analysis().links.pools(cx.system) {
        pool_name(cx, pool, diags);
        if pool.cpus.is_empty() {
            diags.push(
                Diagnostic::at(
                    &c::CPUPOOL_UNKNOWN,
                    pool.cpus_span,
                    format!("pool `[{}]` has no CPUs", pool.name),
                )
                .note("Xen panics at boot on a pool without `cpupool-cpus`")
                .help("add `cpus=` with host CPU node paths (`/cpus/cpu@1`) or MPIDR values"),
            );
        }
        scheduler(cx, pool, diags);
        let Some(facts) = &cx.host else {
            continue;
        };
        let mut logical = Vec::new();
        for cpu in &pool.cpus {
            let found: Option<&HostCpu> = match &cpu.value {
                PoolCpu::Path(p) => facts.cpu_by_path(p),
                PoolCpu::Mpidr(m) => facts.cpu_by_mpidr(*m),
            };
            let Some(host_cpu) = found else {
                let known: Vec<String> = facts
                    .cpus
                    .iter()
                    .map(|c| format!("{} ({:#x})", c.path, c.mpidr))
                    .collect();
                diags.push(
                    Diagnostic::at(
                        &c::CPUPOOL_CPU,
                        cpu.span,
                        "not a CPU of the host device tree",
                    )
                    .note("Xen panics at boot: \"Error retrieving logical cpu\"")
                    .help(if known.is_empty() {
                        "the host DTB has no CPU nodes under /cpus".to_string()
                    } else {
                        format!("the host's CPUs are {}", known.join(", "))
                    }),
                );
                continue;
            };
            if let Some((_, other, first)) = claimed.iter().find(|(p, _, _)| *p == host_cpu.path) {
                diags.push(
                    Diagnostic::at(
                        &c::CPUPOOL_CPU,
                        cpu.span,
                        format!("{} is already in pool `[{other}]`", host_cpu.path),
                    )
                    .related(Location::Text(*first), "first listed here")
                    .note("a CPU belongs to one pool; Xen panics at boot")
                    .help("list each CPU in one pool only"),
                );
                continue;
            }
            if host_cpu.logical == 0 {
                diags.push(
                    Diagnostic::at(
                        &c::CPUPOOL_BOOT_CPU,
                        cpu.span,
                        format!("{} is the boot CPU: Xen makes `[{}]` pool 0", host_cpu.path, pool.name),
                    )
                    .note("dom0 and every guest without `cpupool=` run in pool 0, so this pool is shared with them")
                    .help("leave the boot CPU out of dedicated pools"),
                );
            }
            claimed.push((host_cpu.path.clone(), &pool.name, cpu.span));
            logical.push(host_cpu.logical);
        }
        out.push((pool.name.clone(), logical));
    }
    out
}

/// The pool's node is `/chosen/<name>`: a valid node name nothing else uses.
fn pool_name(cx: &SectionView, pool: &CpuPool, diags: &mut Diagnostics) {
    let valid = pool.name.starts_with(|c: char| c.is_ascii_alphabetic())
        && pool
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ",._+-".contains(c))
        && pool.name.len() <= 31;
    let taken_by_guest = cx.section.guests.iter().any(|g| g.name == pool.name);
    let taken_by_host = cx
        .host_tree
        .and_then(|t| t.node("/chosen"))
        .is_some_and(|c| c.child(&pool.name).is_some());
    let problem = if !valid {
        Some("is not a valid device tree node name")
    } else if taken_by_guest {
        Some("is also a guest's name")
    } else if taken_by_host {
        Some("is already a node in the host's `/chosen`")
    } else {
        None
    };
    if let Some(problem) = problem {
        diags.push(
            Diagnostic::at(
                &c::CPUPOOL_UNKNOWN,
                pool.header,
                format!("pool name `{}` {problem}", pool.name),
            )
            .note("the pool becomes the node `/chosen/<name>`")
            .help("rename the pool section (letters, digits and `,._+-`, at most 31 characters)"),
        );
    }
}

fn scheduler(cx: &SectionView, pool: &CpuPool, diags: &mut Diagnostics) {
    let Some(sched) = &pool.sched else {
        return;
    };
    let built = scheduler_option(&sched.value).map(|symbol| (symbol, cx.target.builds(symbol)));
    let problem = match built {
        None => format!("`{}` is not a Xen scheduler", sched.value),
        Some((symbol, Built::No)) => format!(
            "this Xen is built without the `{}` scheduler ({symbol})",
            sched.value
        ),
        Some(_) => return,
    };
    let available: Vec<&str> = SCHEDULERS
        .iter()
        .copied()
        .filter(|s| scheduler_option(s).is_some_and(|o| cx.target.builds(o) != Built::No))
        .collect();
    let mut d = Diagnostic::at(&c::CPUPOOL_SCHED, sched.span, problem).note(format!(
        "Xen panics at boot: \"Scheduler {} does not exists!\"",
        sched.value
    ));
    d = match binding::closest(&sched.value, available.iter().copied()) {
        Some(s) if built.is_none() => d.help(format!("did you mean `{s}`?")),
        _ => d.help(format!("use one of {}", available.join(", "))),
    };
    diags.push(d);
}

fn affinity(cx: &SectionView, pool_cpus: &[(String, Vec<u32>)], diags: &mut Diagnostics) {
    let host_cpus = cx.host.as_ref().map_or(0, |h| h.cpus.len() as u32);
    for guest in &cx.section.guests {
        let cpus = guest.cpus();
        let pool = guest
            .structures
            .cpupool
            .as_ref()
            .and_then(|p| pool_cpus.iter().find(|(n, _)| *n == p.value));
        for a in &guest.structures.affinity {
            if let Some(cpus) = cpus.filter(|&n| a.vcpu >= n) {
                diags.push(
                    Diagnostic::at(
                        &c::AFFINITY,
                        a.key_span,
                        format!("`{}` has no vCPU {} (it has {cpus})", guest.name, a.vcpu),
                    )
                    .note("Xen panics at boot: the `xen,vcpu` id must be below `cpus`")
                    .help(match cpus {
                        1 => "use `vcpu0-affinity`, or raise `cpus`".to_string(),
                        n => format!(
                            "use `vcpu0-affinity` to `vcpu{}-affinity`, or raise `cpus`",
                            n - 1
                        ),
                    }),
                );
            }
            if host_cpus > 0 {
                if let Some(&missing) = a.pcpus.iter().find(|&&p| p >= host_cpus) {
                    diags.push(
                        Diagnostic::at(
                            &c::AFFINITY,
                            a.span,
                            format!(
                                "physical CPU {missing} does not exist (the host has {host_cpus})"
                            ),
                        )
                        .note("Xen panics at boot on a CPU at or above nr_cpu_ids")
                        .help(format!("use CPUs 0 to {}", host_cpus - 1)),
                    );
                    continue;
                }
            }
            if let Some((name, logical)) = pool {
                if !logical.is_empty() && !a.pcpus.iter().any(|p| logical.contains(p)) {
                    let mut sorted = logical.clone();
                    sorted.sort_unstable();
                    diags.push(
                    Diagnostic::at(&c::AFFINITY, a.span, format!("none of these CPUs is in `{}`'s pool `[{name}]`", guest.name))
                        .note("Xen panics at boot: \"failed ... to set hard affinity\" (Xen numbers the boot CPU 0 and the others in DT order)")
                        .help(format!("use CPUs of the pool: {}", crate::model::structures::list_text(&sorted))),
                );
                }
            }
        }
    }
}
