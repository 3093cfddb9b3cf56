//! Reading the structure keys of a guest (`cpupool=`, `evtchn=`,
//! `shared-mem=`, `static-mem=`, `vcpu<N>-affinity=`) and the cpupool
//! sections they name, into the typed [`crate::model::structures`].
//!
//! Syntax only: whether a peer exists, ranges overlap or CPUs are real is
//! decided per boot section by the checks. Every error points at the
//! offending bytes of the value.

use crate::binding::value::{Kib, PropertyValue};
use crate::binding::{self, value};
use crate::cfg::{Document, Section};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::diag::{raw_sub_span, sub_span};
use crate::model::structures::{
    CpuPool, EvtchnKey, GuestStructures, HostBank, HostRanges, Placed, PoolCpu, RefusedKey,
    SharedMemKey, ShmRole, VcpuAffinity,
};
use crate::model::{GuestProperty, Spanned, System};
use crate::target::Target;
use std::collections::BTreeMap;

/// The keys of a cpupool section.
pub const POOL_KEYS: &[&str] = &["cpus", "sched"];

/// No Xen has more CPUs than this (NR_CPUS is at most 4096); bounding the
/// numbers also bounds the lists a range expands to.
pub const MAX_PCPUS: u32 = 4096;

/// One structure key, read.
#[derive(Clone, Debug)]
pub enum Item {
    Cpupool(Spanned<String>),
    Evtchn(EvtchnKey),
    SharedMem(SharedMemKey),
    StaticMem(HostRanges),
    Affinity(VcpuAffinity),
    /// The key was a structure key but was rejected (already reported).
    Rejected(&'static str),
    /// The target does not take the key.
    Refused(RefusedKey),
}

/// Read `name=text` if `name` is a structure key: `None` when it is not
/// one (the caller treats it as a property), else the item.
pub fn lower_key(
    name: &str,
    name_span: Span,
    text: &str,
    value_span: Span,
    target: &Target,
    diags: &mut Diagnostics,
) -> Option<Item> {
    let spec = binding::structure(name)?;
    let rejected = Item::Rejected(spec.cfg_key);
    // A key the target does not take is not read: `checks::binding` says why.
    if binding::rules::structure_refusal(spec, target).is_some() {
        return Some(Item::Refused(RefusedKey {
            spec,
            key: name.to_string(),
            span: name_span,
        }));
    }
    let value = Value {
        text: text.trim_end(),
        span: value_span,
    };
    let parsed = match spec.cfg_key {
        "cpupool" => cpupool(&value).map(Item::Cpupool),
        "evtchn" => evtchn(&value).map(Item::Evtchn),
        "shared-mem" => shared_mem(&value).map(Item::SharedMem),
        "static-mem" => static_mem(&value).map(Item::StaticMem),
        _ => {
            let vcpu = binding::vcpu_affinity_index(name)?;
            affinity(vcpu, name_span, &value).map(Item::Affinity)
        }
    };
    Some(match parsed {
        Ok(item) => item,
        Err((span, message)) => {
            diags.push(
                Diagnostic::at(&c::BAD_STRUCTURE, span, message)
                    .help(format!("write `{}`", spec.syntax)),
            );
            rejected
        }
    })
}

/// Add items to a guest; a key that may appear once is reported when
/// repeated.
pub fn attach(
    to: &mut GuestStructures,
    items: impl IntoIterator<Item = Item>,
    diags: &mut Diagnostics,
) {
    for item in items {
        match item {
            Item::Cpupool(pool) => match &to.cpupool {
                Some(first) => repeated(diags, "cpupool", pool.span, first.span),
                None => to.cpupool = Some(pool),
            },
            Item::StaticMem(mem) => match &to.static_mem {
                Some(first) => repeated(diags, "static-mem", mem.span, first.span),
                None => to.static_mem = Some(mem),
            },
            Item::Affinity(a) => match to.affinity.iter().find(|b| b.vcpu == a.vcpu) {
                Some(first) => repeated(
                    diags,
                    &format!("vcpu{}-affinity", a.vcpu),
                    a.key_span,
                    first.key_span,
                ),
                None => to.affinity.push(a),
            },
            Item::Evtchn(e) => to.evtchns.push(e),
            Item::SharedMem(s) => to.shared_mem.push(s),
            Item::Rejected(key) => {
                if key == "static-mem" {
                    to.static_mem_rejected = true;
                }
            }
            Item::Refused(refused) => {
                if refused.spec.cfg_key == "static-mem" {
                    to.static_mem_rejected = true;
                }
                to.refused.push(refused);
            }
        }
    }
}

fn repeated(diags: &mut Diagnostics, key: &str, span: Span, first: Span) {
    diags.push(
        Diagnostic::at(
            &c::GUEST_KEY_REPEATED,
            span,
            format!("`{key}` is given twice"),
        )
        .related(Location::Text(first), "first given here")
        .help("keep one"),
    );
}

/// A value with its span, split into blank-separated words with spans.
struct Value<'a> {
    text: &'a str,
    span: Span,
}

type Parsed<T> = Result<T, (Span, String)>;

impl<'a> Value<'a> {
    fn words(&self, separator: impl Fn(char) -> bool) -> Vec<(&'a str, Span)> {
        let mut words = Vec::new();
        let mut start = None;
        let text = self.text;
        // (byte index, char index) of the current word's start.
        let ends = text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')));
        for (chars, (i, ch)) in ends.enumerate() {
            let is_sep = i == text.len() || separator(ch);
            match (is_sep, start) {
                (true, Some((s, first))) => {
                    words.push((&text[s..i], raw_sub_span(self.span, first, chars - first)));
                    start = None;
                }
                (false, None) => start = Some((i, chars)),
                _ => {}
            }
        }
        words
    }

    fn whole(&self) -> Span {
        sub_span(self.span, self.text, 0, self.text.len())
    }
}

/// A sub-word: `part` is a slice of `word`, whose span is `span`.
fn part_span(word: &str, span: Span, part: &str) -> Span {
    let start = (part.as_ptr() as usize).saturating_sub(word.as_ptr() as usize);
    sub_span(span, word, start, part.len())
}

fn number(text: &str, span: Span, what: &str) -> Parsed<u64> {
    value::parse_u64(text).map_err(|e| (span, format!("{what}: {e}")))
}

fn port(text: &str, span: Span) -> Parsed<u32> {
    value::parse_u32(text).map_err(|e| (span, format!("event channel port: {e}")))
}

fn size(text: &str, span: Span) -> Parsed<u64> {
    match value::parse_size(text, 0) {
        Ok(0) => Err((span, "a size of 0".to_string())),
        Ok(n) => Ok(n),
        Err(e) => Err((span, e)),
    }
}

fn cpupool(v: &Value) -> Parsed<Spanned<String>> {
    let words = v.words(|c| c.is_ascii_whitespace());
    match words.as_slice() {
        [(name, span)] => Ok(Spanned::new(name.to_string(), *span)),
        [] => Err((v.whole(), "`cpupool=` needs a pool name".into())),
        [_, (_, extra), ..] => Err((*extra, "a guest runs in one cpupool".into())),
    }
}

fn evtchn(v: &Value) -> Parsed<EvtchnKey> {
    let words = v.words(|c| c.is_ascii_whitespace());
    let [(local, local_span), (peer, peer_span)] = words.as_slice() else {
        let at = words.get(2).map_or(v.whole(), |w| w.1);
        return Err((
            at,
            format!(
                "`{}` is not `LOCAL-PORT PEER:PEER-PORT` (e.g. `10 domU2:20`)",
                v.text
            ),
        ));
    };
    let local_port = port(local, *local_span)?;
    let Some((peer_name, peer_port)) = peer.split_once(':') else {
        return Err((
            *peer_span,
            format!("`{peer}` is not `PEER:PORT` (e.g. `domU2:20` or `dom0:20`)"),
        ));
    };
    if peer_name.is_empty() {
        return Err((*peer_span, "the peer has no name".into()));
    }
    let peer_port = port(peer_port, part_span(peer, *peer_span, peer_port))?;
    Ok(EvtchnKey {
        local_port,
        peer: peer_name.to_string(),
        peer_port,
        span: v.whole(),
    })
}

fn shared_mem(v: &Value) -> Parsed<SharedMemKey> {
    let words = v.words(|c| c.is_ascii_whitespace());
    let Some(((id, id_span), fields)) = words.split_first() else {
        return Err((v.whole(), "`shared-mem=` needs an id".into()));
    };
    if id.contains('=') {
        return Err((
            *id_span,
            format!("`{id}`: the first word is the region's id"),
        ));
    }
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    let (mut host, mut guest, mut size_bytes, mut role) = (None, None, None, None);
    for (word, span) in fields {
        let Some((key, text)) = word.split_once('=') else {
            return Err((*span, format!("`{word}` is not `KEY=VALUE`")));
        };
        let text_span = part_span(word, *span, text);
        if seen.insert(key, *span).is_some() {
            return Err((*span, format!("`{key}=` is given twice")));
        }
        match key {
            "host" => host = Some(number(text, text_span, "host address")?),
            "guest" => guest = Some(number(text, text_span, "guest address")?),
            "size" => size_bytes = Some(size(text, text_span)?),
            "role" => {
                role = Some(match text {
                    "owner" => ShmRole::Owner,
                    "borrower" => ShmRole::Borrower,
                    _ => {
                        return Err((
                            text_span,
                            format!("role `{text}` is neither `owner` nor `borrower`"),
                        ));
                    }
                })
            }
            _ => {
                return Err((
                    part_span(word, *span, key),
                    format!("`{key}=` is not one of `host=`, `guest=`, `size=`, `role=`"),
                ));
            }
        }
    }
    let Some(size) = size_bytes else {
        return Err((v.whole(), "`shared-mem=` needs `size=`".into()));
    };
    for (start, what) in [(host, "host"), (guest, "guest")] {
        if start.is_some_and(|s| s.checked_add(size).is_none()) {
            return Err((v.whole(), format!("the {what} range ends past 2^64")));
        }
    }
    Ok(SharedMemKey {
        id: id.to_string(),
        host,
        guest,
        size,
        role,
        placed: Placed::default(),
        span: v.whole(),
    })
}

fn static_mem(v: &Value) -> Parsed<HostRanges> {
    host_ranges(v, "static-mem")
}

/// `static-heap=`'s value: ranges as `static-mem=` takes them.
pub fn static_heap(text: &str, span: Span) -> Result<HostRanges, (Span, String)> {
    host_ranges(
        &Value {
            text: text.trim_end(),
            span,
        },
        "static-heap",
    )
}

/// `ADDR:SIZE` or `SIZE`, separated by `,` or blanks (`static-mem=`,
/// `static-heap=`): a size alone is placed by the analysis.
fn host_ranges(v: &Value, key: &str) -> Parsed<HostRanges> {
    let mut banks = Vec::new();
    for (word, span) in v.words(|c| c == ',' || c.is_ascii_whitespace()) {
        let bank = match word.split_once(':') {
            Some((start, len)) => {
                let start_value = number(start, part_span(word, span, start), "address")?;
                let size = size(len, part_span(word, span, len))?;
                if start_value.checked_add(size).is_none() {
                    return Err((span, format!("`{word}` ends past 2^64")));
                }
                HostBank {
                    start: Some(start_value),
                    size,
                    placed: false,
                }
            }
            None => HostBank {
                start: None,
                size: size(word, span)?,
                placed: false,
            },
        };
        banks.push(Spanned::new(bank, span));
    }
    if banks.is_empty() {
        return Err((v.whole(), format!("`{key}=` needs at least one range")));
    }
    Ok(HostRanges {
        banks,
        span: v.whole(),
    })
}

/// Physical CPU numbers and ranges, separated by `,` or blanks.
pub fn cpu_list(text: &str, span: Span) -> Result<Vec<u32>, (Span, String)> {
    number_list(text, span, "CPU", MAX_PCPUS)
}

/// LLC colors (`llc-colors=0-3,8`): the same syntax as CPU lists. Xen has
/// far fewer colors than this bound, which only keeps ranges small.
pub fn color_list(text: &str, span: Span) -> Result<Vec<u32>, (Span, String)> {
    number_list(text, span, "color", MAX_PCPUS)
}

/// Numbers and inclusive ranges below `limit`, separated by `,` or blanks;
/// sorted, each once.
fn number_list(text: &str, span: Span, noun: &str, limit: u32) -> Result<Vec<u32>, (Span, String)> {
    let v = Value { text, span };
    let mut numbers = Vec::new();
    for (word, span) in v.words(|c| c == ',' || c.is_ascii_whitespace()) {
        let (first, last) = match word.split_once('-') {
            Some((a, b)) => (a, b),
            None => (word, word),
        };
        let read = |t: &str| -> Parsed<u32> {
            let n = value::parse_u32(t).map_err(|e| (span, format!("{noun} number: {e}")))?;
            if n >= limit {
                return Err((span, format!("{noun} {n}: Xen has fewer than {limit}")));
            }
            Ok(n)
        };
        let (first, last) = (read(first)?, read(last)?);
        if first > last {
            return Err((
                span,
                format!(
                    "`{word}` is empty (Xen reads a range whose start is above its end as nothing)"
                ),
            ));
        }
        numbers.extend(first..=last);
    }
    if numbers.is_empty() {
        return Err((v.whole(), format!("the {noun} list is empty")));
    }
    numbers.sort_unstable();
    numbers.dedup();
    Ok(numbers)
}

fn affinity(vcpu: u32, key_span: Span, v: &Value) -> Parsed<VcpuAffinity> {
    Ok(VcpuAffinity {
        vcpu,
        pcpus: cpu_list(v.text, v.span)?,
        key_span,
        span: v.whole(),
    })
}

/// Names given by `cpupool=` anywhere (plain key, `property=`,
/// `properties=`, `domu#_property=`), with where they are first named.
pub fn pool_section_names(doc: &Document) -> BTreeMap<String, Span> {
    let mut names = BTreeMap::new();
    for section in doc.sections.iter().filter(|s| !s.shadowed) {
        for entry in section.entries.iter().filter(|e| !e.shadowed) {
            let v = Value {
                text: entry.value.trim_end(),
                span: entry.value_span,
            };
            let assignments: Vec<(&str, Span)> = match entry.key.as_str() {
                "cpupool" => v
                    .words(|c| c.is_ascii_whitespace())
                    .into_iter()
                    .take(1)
                    .collect(),
                "properties" => v
                    .words(|c| c.is_ascii_whitespace())
                    .into_iter()
                    .filter_map(|(w, s)| {
                        let rest = w.strip_prefix("cpupool=")?;
                        Some((rest, part_span(w, s, rest)))
                    })
                    .collect(),
                key if key == "property" || key.ends_with("_property") => v
                    .text
                    .strip_prefix("cpupool=")
                    .map(|rest| (rest.trim(), part_span(v.text, v.span, rest.trim())))
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            for (name, span) in assignments {
                if !name.is_empty() {
                    names.entry(name.to_string()).or_insert(span);
                }
            }
        }
    }
    names
}

/// Whether a (non-guest) section is a cpupool. A section named by
/// `cpupool=` is one unless it holds keys only a boot section has (then
/// `cpupool=` names the wrong section, which the checks report); a section
/// no `cpupool=` names is one when it holds pool keys only.
pub fn is_pool_section(section: &Section, named: bool) -> bool {
    const BOOT_KEYS: &[&str] = &[
        "options", "kernel", "ramdisk", "xsm", "dtb", "dtbo", "domains", "guests", "video", "ucode",
    ];
    if named {
        return !section.entries.iter().any(|e| {
            BOOT_KEYS.contains(&e.key.as_str())
                || (e.key.starts_with("domu") && e.key.contains('_'))
        });
    }
    !section.entries.is_empty()
        && section
            .entries
            .iter()
            .all(|e| POOL_KEYS.contains(&e.key.as_str()))
}

/// A pool section no guest runs in.
pub fn report_unused_pool(section: &Section, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::at(
            &c::CPUPOOL_UNUSED,
            section.header_span,
            format!("no guest runs in the pool `[{}]`", section.name),
        )
        .note("xencfg writes a pool only for the boot sections whose guests name it; this one is left out")
        .help(format!(
            "add `cpupool={}` to the guests that should run in it, or remove the section",
            section.name
        )),
    );
}

/// A `[NAME]` cpupool section: `cpus=` (node paths or MPIDR values) and
/// optional `sched=`. Other keys are reported by the caller.
pub fn lower_pool(section: &Section, diags: &mut Diagnostics) -> CpuPool {
    let mut pool = CpuPool {
        name: section.name.clone(),
        header: section.header_span,
        cpus: Vec::new(),
        cpus_span: section.header_span,
        sched: None,
    };
    if let Some(entry) = section.get("cpus") {
        pool.cpus_span = entry.value_span;
        let v = Value {
            text: entry.value.trim_end(),
            span: entry.value_span,
        };
        for (word, span) in v.words(|c| c == ',' || c.is_ascii_whitespace()) {
            let cpu = if word.starts_with('/') {
                PoolCpu::Path(word.to_string())
            } else {
                match value::parse_u64(word) {
                    Ok(mpidr) => PoolCpu::Mpidr(mpidr),
                    Err(e) => {
                        diags.push(
                            Diagnostic::at(&c::BAD_STRUCTURE, span, format!("pool CPU: {e}")).help(
                                "name host CPUs by node path (`/cpus/cpu@1`) or by MPIDR (`0x100`)",
                            ),
                        );
                        continue;
                    }
                }
            };
            pool.cpus.push(Spanned::new(cpu, span));
        }
    }
    if let Some(entry) = section.get("sched") {
        let text = entry.value.trim();
        pool.sched = Some(Spanned::new(
            text.to_string(),
            sub_span(
                entry.value_span,
                &entry.value,
                0,
                entry.value.trim_end().len(),
            ),
        ));
    }
    pool
}

/// Give every guest with `static-mem` and no `memory` the sum of its ranges
/// (spec §1.4). A sum that is not whole pages is left underived: the
/// alignment check reports it, and the missing `memory` is not reported
/// again.
pub fn derive_memory(system: &mut System) {
    for guest in system.sections.iter_mut().flat_map(|s| s.guests.iter_mut()) {
        if guest.property(&binding::MEMORY).is_some()
            || guest.rejected.iter().any(|r| r == binding::MEMORY.dt_name)
        {
            continue;
        }
        let structures = &guest.structures;
        match &structures.static_mem {
            Some(mem) if mem.total() % 4096 == 0 => {
                let span = mem.span;
                let kib = Kib(mem.total() / 1024);
                guest.properties.push(GuestProperty {
                    dt_name: binding::MEMORY.dt_name.to_string(),
                    value: PropertyValue::Memory(kib),
                    span,
                });
            }
            Some(_) => guest.rejected.push(binding::MEMORY.dt_name.to_string()),
            None if structures.static_mem_rejected => {
                guest.rejected.push(binding::MEMORY.dt_name.to_string())
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::range::Range;

    fn span(len: usize) -> Span {
        Span {
            file: FileId(0),
            offset: 100,
            len,
            line: 3,
            col: 10,
        }
    }

    fn parse(key: &str, text: &str) -> (Option<Item>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let item = lower_key(
            key,
            span(key.len()),
            text,
            span(text.len()),
            &Target::default(),
            &mut diags,
        );
        let messages = diags.iter().map(|d| d.message.clone()).collect();
        (item, messages)
    }

    #[test]
    fn properties_are_not_structure_keys() {
        assert!(parse("cpus", "1").0.is_none());
        assert!(parse("vcpu-affinity", "1").0.is_none());
    }

    #[test]
    fn reads_event_channels() {
        let (item, _) = parse("evtchn", "10 domU2:0x14");
        let Some(Item::Evtchn(e)) = item else {
            panic!("{item:?}")
        };
        assert_eq!(
            (e.local_port, e.peer.as_str(), e.peer_port),
            (10, "domU2", 20)
        );
        for bad in ["10", "10 domU2", "10 :2", "x domU2:1", "1 d:2 3"] {
            let (item, msgs) = parse("evtchn", bad);
            assert!(matches!(item, Some(Item::Rejected("evtchn"))), "{bad}");
            assert_eq!(msgs.len(), 1, "{bad}: {msgs:?}");
        }
    }

    #[test]
    fn reads_shared_memory() {
        let (item, _) = parse(
            "shared-mem",
            "my-shm host=0x50000000 guest=0x60000000 size=16M role=owner",
        );
        let Some(Item::SharedMem(s)) = item else {
            panic!("{item:?}")
        };
        assert_eq!(s.id, "my-shm");
        assert_eq!(s.host, Some(0x5000_0000));
        assert_eq!(s.guest, Some(0x6000_0000));
        assert_eq!(s.size, 16 << 20);
        assert_eq!(s.role, Some(ShmRole::Owner));
        // Addresses left out are placed by the analysis.
        let (item, _) = parse("shared-mem", "sized size=2M");
        let Some(Item::SharedMem(s)) = item else {
            panic!("{item:?}")
        };
        assert_eq!((s.host, s.guest, s.size), (None, None, 2 << 20));
        for bad in [
            "",
            "host=1 guest=2 size=3",
            "id guest=0x1000",
            "id guest=0x1000 size=0",
            "id guest=1 size=1 role=boss",
            "id guest=1 size=1 colour=red",
            "id guest=1 guest=2 size=1",
            "id guest=0xffffffffffffffff size=2",
        ] {
            let (item, msgs) = parse("shared-mem", bad);
            assert!(matches!(item, Some(Item::Rejected(_))), "{bad}");
            assert_eq!(msgs.len(), 1, "{bad}: {msgs:?}");
        }
    }

    #[test]
    fn reads_static_memory() {
        let (item, _) = parse("static-mem", "0x50000000:256M, 0x70000000:0x1000");
        let Some(Item::StaticMem(m)) = item else {
            panic!("{item:?}")
        };
        let ranges: Vec<Range> = m.ranges().iter().map(|r| r.value).collect();
        assert_eq!(
            ranges,
            [
                Range {
                    start: 0x5000_0000,
                    size: 256 << 20
                },
                Range {
                    start: 0x7000_0000,
                    size: 0x1000
                }
            ]
        );
        assert_eq!(m.total(), (256 << 20) + 0x1000);
        // Sizes alone, mixed with addresses: placed by the analysis.
        let (item, _) = parse("static-mem", "256M, 0x70000000:2M 0x1000");
        let Some(Item::StaticMem(m)) = item else {
            panic!("{item:?}")
        };
        let banks: Vec<(Option<u64>, u64)> = m
            .banks
            .iter()
            .map(|b| (b.value.start, b.value.size))
            .collect();
        assert_eq!(
            banks,
            [
                (None, 256 << 20),
                (Some(0x7000_0000), 2 << 20),
                (None, 0x1000)
            ]
        );
        assert!(m.unplaced());
        for bad in [
            "",
            "0",
            "0x1000:0",
            "2M:",
            "1X",
            "x:1M",
            "0xffffffffffffffff:2",
        ] {
            assert!(
                matches!(parse("static-mem", bad).0, Some(Item::Rejected(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_cpu_lists() {
        assert_eq!(cpu_list("0-3,6", span(5)).unwrap(), [0, 1, 2, 3, 6]);
        assert_eq!(cpu_list("5, 1 1", span(6)).unwrap(), [1, 5]);
        assert!(cpu_list("3-1", span(3)).is_err());
        assert!(cpu_list("", span(0)).is_err());
        assert!(cpu_list("0-4294967295", span(12)).is_err());
        assert!(cpu_list("a", span(1)).is_err());
        let (item, _) = parse("vcpu3-affinity", "1-2");
        let Some(Item::Affinity(a)) = item else {
            panic!("{item:?}")
        };
        assert_eq!((a.vcpu, a.pcpus.as_slice()), (3, &[1, 2][..]));
    }

    #[test]
    fn gates_by_version() {
        let mut diags = Diagnostics::default();
        let target = Target::release(
            crate::target::XenVersion::new(4, 17),
            crate::target::VersionSource::Option,
        );
        let item = lower_key("vcpu0-affinity", span(3), "1", span(1), &target, &mut diags);
        // Refused, not reported: the version gate is checks::binding's.
        let Some(Item::Refused(key)) = item else {
            panic!("{item:?}")
        };
        assert_eq!(key.key, "vcpu0-affinity");
        assert!(diags.is_empty());
    }

    proptest::proptest! {
        /// Any value of any structure key is read or reported, never a panic.
        #[test]
        fn never_panics(
            key in proptest::sample::select(vec![
                "cpupool", "evtchn", "shared-mem", "static-mem", "vcpu7-affinity",
            ]),
            text in "[ -~]{0,60}",
        ) {
            let (item, messages) = parse(key, &text);
            let rejected = matches!(item, Some(Item::Rejected(_)));
            proptest::prop_assert!(item.is_some());
            proptest::prop_assert_eq!(rejected, !messages.is_empty());
        }
    }

    #[test]
    fn attach_reports_repeats() {
        let mut diags = Diagnostics::default();
        let mut g = GuestStructures::default();
        let pool = |n: &str| Item::Cpupool(Spanned::new(n.to_string(), span(1)));
        attach(
            &mut g,
            [pool("a"), pool("b"), Item::Rejected("static-mem")],
            &mut diags,
        );
        assert_eq!(g.cpupool.unwrap().value, "a");
        assert!(g.static_mem_rejected);
        assert_eq!(diags.len(), 1);
    }
}
