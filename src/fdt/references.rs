//! Properties that refer to other nodes by phandle (`clocks`, `resets`,
//! `pinctrl-0`, `reset-gpios`, …), as the DT bindings define them: which
//! property names do, how many argument cells follow each phandle, and how
//! to split a value into its references.
//!
//! `interrupt-parent` is left out on purpose: interrupts are routed by Xen
//! and checked on their own.

use super::Node;

/// How one property refers to other nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A list of `<phandle args…>` whose argument count is the provider's
    /// property of this name (`#clock-cells`); 0 when the provider lacks it.
    Specifiers(&'static str),
    /// A list of bare phandles.
    Phandles,
}

/// Exact property names and how they refer.
const EXACT: &[(&str, Reference)] = &[
    ("clocks", Reference::Specifiers("#clock-cells")),
    ("assigned-clocks", Reference::Specifiers("#clock-cells")),
    (
        "assigned-clock-parents",
        Reference::Specifiers("#clock-cells"),
    ),
    ("resets", Reference::Specifiers("#reset-cells")),
    (
        "power-domains",
        Reference::Specifiers("#power-domain-cells"),
    ),
    ("iommus", Reference::Specifiers("#iommu-cells")),
    ("dmas", Reference::Specifiers("#dma-cells")),
    ("phys", Reference::Specifiers("#phy-cells")),
    ("mboxes", Reference::Specifiers("#mbox-cells")),
    (
        "interconnects",
        Reference::Specifiers("#interconnect-cells"),
    ),
    ("pwms", Reference::Specifiers("#pwm-cells")),
    ("io-channels", Reference::Specifiers("#io-channel-cells")),
    ("hwlocks", Reference::Specifiers("#hwlock-cells")),
    (
        "thermal-sensors",
        Reference::Specifiers("#thermal-sensor-cells"),
    ),
    ("msi-parent", Reference::Specifiers("#msi-cells")),
    ("gpios", Reference::Specifiers("#gpio-cells")),
    (
        "interrupts-extended",
        Reference::Specifiers("#interrupt-cells"),
    ),
    ("nvmem-cells", Reference::Phandles),
    ("memory-region", Reference::Phandles),
    ("sram", Reference::Phandles),
    ("operating-points-v2", Reference::Phandles),
    ("remote-endpoint", Reference::Phandles),
];

/// How the property `name` refers to other nodes, if it does.
pub fn reference(name: &str) -> Option<Reference> {
    if let Some((_, r)) = EXACT.iter().find(|(n, _)| *n == name) {
        return Some(*r);
    }
    if name
        .strip_prefix("pinctrl-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(Reference::Phandles);
    }
    if name.ends_with("-gpios") || name.ends_with("-gpio") {
        return Some(Reference::Specifiers("#gpio-cells"));
    }
    if name.ends_with("-supply") {
        return Some(Reference::Phandles);
    }
    None
}

/// The `-names` companion of a reference property (`clock-names` for
/// `clocks`), which means nothing without it.
pub fn names_property(name: &str) -> Option<String> {
    let base = name.strip_suffix('s')?;
    matches!(
        name,
        "clocks"
            | "resets"
            | "power-domains"
            | "dmas"
            | "phys"
            | "mboxes"
            | "interconnects"
            | "pwms"
            | "io-channels"
            | "hwlocks"
            | "nvmem-cells"
    )
    .then(|| format!("{base}-names"))
}

/// One reference: the phandle and its argument cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Byte offset of the phandle cell in the value.
    pub offset: usize,
    pub phandle: u32,
    pub args: Vec<u32>,
}

/// Split a reference property into its targets. `provider` finds the node
/// of a phandle; the walk stops (returning what it has and the first
/// phandle it cannot follow) at a phandle with no node, since the argument
/// count of what follows is then unknown. A zero cell is an empty slot
/// (allowed in GPIO lists) and is skipped.
pub fn targets<'a>(
    value: &[u8],
    kind: Reference,
    provider: impl Fn(u32) -> Option<&'a Node>,
) -> (Vec<Target>, Option<u32>) {
    let cells: Vec<u32> = value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let phandle = cells[i];
        if phandle == 0 {
            i += 1;
            continue;
        }
        let Some(node) = provider(phandle) else {
            return (out, Some(phandle));
        };
        let argc = match kind {
            Reference::Specifiers(cells_name) => node.property_u32(cells_name).unwrap_or(0),
            Reference::Phandles => 0,
        } as usize;
        let args = cells
            .get(i + 1..(i + 1).saturating_add(argc))
            .map(<[u32]>::to_vec)
            .unwrap_or_default();
        out.push(Target {
            offset: i * 4,
            phandle,
            args,
        });
        i += 1 + argc;
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::value;

    #[test]
    fn knows_reference_properties_by_name() {
        assert_eq!(
            reference("clocks"),
            Some(Reference::Specifiers("#clock-cells"))
        );
        assert_eq!(reference("pinctrl-0"), Some(Reference::Phandles));
        assert_eq!(reference("pinctrl-names"), None);
        assert_eq!(
            reference("reset-gpios"),
            Some(Reference::Specifiers("#gpio-cells"))
        );
        assert_eq!(reference("vdd-supply"), Some(Reference::Phandles));
        assert_eq!(reference("interrupt-parent"), None);
        assert_eq!(reference("compatible"), None);
        assert_eq!(names_property("clocks").as_deref(), Some("clock-names"));
        assert_eq!(names_property("iommus"), None);
    }

    #[test]
    fn splits_specifier_lists_with_each_providers_cells() {
        let mut two = Node::new("cc");
        two.set_property("#clock-cells", value::u32(1));
        let fixed = Node::new("fixed");
        let provider = |p: u32| match p {
            1 => Some(&two),
            2 => Some(&fixed),
            _ => None,
        };
        let v = value::cells(&[1, 7, 2, 1, 9]);
        let (list, stop) = targets(&v, Reference::Specifiers("#clock-cells"), provider);
        assert_eq!(stop, None);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].args, vec![7]);
        assert_eq!(list[1].args, Vec::<u32>::new());
        assert_eq!(list[2].offset, 12);
        let (list, stop) = targets(
            &value::cells(&[2, 5, 0]),
            Reference::Specifiers("#clock-cells"),
            provider,
        );
        assert_eq!((list.len(), stop), (1, Some(5)));
    }
}
