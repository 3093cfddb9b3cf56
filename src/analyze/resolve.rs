//! Tying the structure keys of one boot section together, once per
//! section ([`Links::resolve`], kept in its `SectionPlan`): the event
//! channels between its domains, the shared-memory regions its domains
//! (dom0 included) share, and the cpupools they run in. Checks and the merged tree both
//! read these, so they agree on what is linked to what.

use crate::diag::Span;
use crate::model::structures::{CpuPool, DOM0, SharedMemKey};
use crate::model::{BootSection, System};

/// A domain of the boot section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Domain {
    Dom0,
    /// Index into the section's guests.
    Guest(usize),
}

/// One end of an event channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub domain: Domain,
    pub port: u32,
}

/// A static event channel: `ends[0]` is the guest that declared it.
#[derive(Clone, Debug)]
pub struct Channel {
    pub ends: [End; 2],
    /// The declaring `evtchn=` value.
    pub span: Span,
}

/// The domain an `evtchn=` peer names, if any.
pub fn peer(section: &BootSection, name: &str) -> Option<Domain> {
    if name == DOM0 {
        return Some(Domain::Dom0);
    }
    section
        .guests
        .iter()
        .position(|g| g.name == name)
        .map(Domain::Guest)
}

/// Every event channel whose peer exists, in declaration order. A channel
/// declared from both ends with the same ports is one channel; any other
/// reuse of a port is kept for the checks to report.
fn channels(section: &BootSection) -> Vec<Channel> {
    let mut out: Vec<Channel> = Vec::new();
    for (i, guest) in section.guests.iter().enumerate() {
        for key in &guest.structures.evtchns {
            let Some(peer) = peer(section, &key.peer) else {
                continue;
            };
            let ends = [
                End {
                    domain: Domain::Guest(i),
                    port: key.local_port,
                },
                End {
                    domain: peer,
                    port: key.peer_port,
                },
            ];
            let same = |c: &Channel| {
                (c.ends[0] == ends[0] && c.ends[1] == ends[1])
                    || (c.ends[0] == ends[1] && c.ends[1] == ends[0])
            };
            if !out.iter().any(same) {
                out.push(Channel {
                    ends,
                    span: key.span,
                });
            }
        }
    }
    out
}

/// What links the domains of one boot section.
#[derive(Clone, Debug, Default)]
pub struct Links {
    pub channels: Vec<Channel>,
    /// Each region: (domain, index of its `shared-mem=`) per member.
    regions: Vec<Vec<(Domain, usize)>>,
    /// Indices into `System::pools` of the pools the guests run in.
    pools: Vec<usize>,
}

impl Links {
    pub fn resolve(system: &System, section: &BootSection) -> Links {
        Links {
            channels: channels(section),
            regions: region_members(section),
            pools: pool_indices(system, section),
        }
    }

    /// The section's shared-memory regions by id, in first-use order
    /// (dom0's keys, in the boot section, before the guests').
    pub fn regions<'s>(&self, section: &'s BootSection) -> Vec<Region<'s>> {
        self.regions
            .iter()
            .map(|members| {
                let members: Vec<(Domain, &SharedMemKey)> = members
                    .iter()
                    .map(|&(d, k)| (d, &shared_mem_of(section, d)[k]))
                    .collect();
                Region {
                    id: &members[0].1.id,
                    members,
                }
            })
            .collect()
    }

    /// The pools the section's guests run in, in first-use order.
    pub fn pools<'s>(&self, system: &'s System) -> Vec<&'s CpuPool> {
        self.pools.iter().map(|&i| &system.pools[i]).collect()
    }
}

/// The domains sharing one region id.
#[derive(Debug)]
pub struct Region<'s> {
    pub id: &'s str,
    /// (domain, its `shared-mem=`): dom0 first, then the guests in order.
    pub members: Vec<(Domain, &'s SharedMemKey)>,
}

/// The `shared-mem=` keys of one domain of the section (dom0's are the boot
/// section's own).
pub fn shared_mem_of(section: &BootSection, domain: Domain) -> &[SharedMemKey] {
    match domain {
        Domain::Dom0 => &section.dom0_structures.shared_mem,
        Domain::Guest(i) => section
            .guests
            .get(i)
            .map_or(&[][..], |g| &g.structures.shared_mem[..]),
    }
}

/// `domain`'s `shared-mem=` number `index`, to change (placement fills in
/// the addresses the cfg left out).
pub fn shared_mem_of_mut(
    section: &mut BootSection,
    domain: Domain,
    index: usize,
) -> Option<&mut SharedMemKey> {
    match domain {
        Domain::Dom0 => section.dom0_structures.shared_mem.get_mut(index),
        Domain::Guest(i) => section
            .guests
            .get_mut(i)
            .and_then(|g| g.structures.shared_mem.get_mut(index)),
    }
}

/// Whether Xen maps `domain` 1:1 (its guest addresses are host addresses):
/// dom0 on Arm always, a guest with `direct-map`.
pub fn one_to_one(section: &BootSection, domain: Domain) -> bool {
    match domain {
        Domain::Dom0 => true,
        Domain::Guest(i) => section
            .guests
            .get(i)
            .is_some_and(|g| g.property(&crate::binding::DIRECT_MAP).is_some()),
    }
}

/// The members of each shared-memory region by id, in first-use order
/// (dom0's keys before the guests'): each as its domain and the index of
/// its `shared-mem=` there.
pub fn region_members(section: &BootSection) -> Vec<Vec<(Domain, usize)>> {
    let mut out: Vec<(&str, Vec<(Domain, usize)>)> = Vec::new();
    let domains = std::iter::once(Domain::Dom0).chain((0..section.guests.len()).map(Domain::Guest));
    for domain in domains {
        for (index, key) in shared_mem_of(section, domain).iter().enumerate() {
            match out.iter_mut().find(|(id, _)| *id == key.id) {
                Some((_, members)) => members.push((domain, index)),
                None => out.push((&key.id, vec![(domain, index)])),
            }
        }
    }
    out.into_iter().map(|(_, members)| members).collect()
}

/// Indices into `System::pools` of the pools the section's guests run in,
/// in first-use order (unknown names are skipped: the checks report them).
fn pool_indices(system: &System, section: &BootSection) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for guest in &section.guests {
        let Some(name) = &guest.structures.cpupool else {
            continue;
        };
        if let Some(index) = system.pools.iter().position(|p| p.name == name.value) {
            if !out.contains(&index) {
                out.push(index);
            }
        }
    }
    out
}
