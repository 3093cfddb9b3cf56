//! Device passthrough (XC08xx): each guest's fragment read the way Xen
//! reads it (reference §3.6) and against the host tree, which yields the
//! devices each guest gets ([`Assignments`], for the `xen,passthrough`
//! markers of the merged tree and the manifest); then the guests of a boot
//! section against each other and against the guest memory map
//! (reference §3.5).
//!
//! Deriving the devices and judging them are one walk of the fragment, so
//! what the walk finds is kept as data in the [`super::SectionPlan`] and
//! reported by the check table (`checks::TABLE`, entry `passthrough`).
//!
//! A fragment is either a file (`dtb=`, diagnostics name the file, node
//! and property) or built by xencfg from `passthrough=` (diagnostics point
//! at the `passthrough=` line). Both are read alike.

mod cross;
mod fragment;

pub use fragment::check as check_fragment;

use super::assignments::Assignments;
use super::fragments::GeneratedFragment;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::fdt::Fdt;
use crate::load::hash::FileFacts;
use crate::load::image::ImageFormat;
use crate::model::{BootSection, Guest, Module};
use crate::range::Range;
use crate::target::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A fragment with where its parts are reported.
pub struct Fragment {
    pub tree: Fdt,
    /// The file it was read from; `None` when xencfg built it.
    pub file: Option<PathBuf>,
    /// The cfg text that names it (`dtb=` or the first `passthrough=`).
    pub span: Span,
    /// For a built fragment: each device node and its `passthrough=`.
    pub node_spans: Vec<(String, Span)>,
}

impl Fragment {
    /// Where a finding about `node` (and `property`) is shown: in the file,
    /// or for a built fragment at the `passthrough=` that made the node.
    pub fn at(&self, node: &str, property: Option<&str>) -> Location {
        match &self.file {
            Some(file) => Location::Tree {
                file: file.clone(),
                node: node.to_string(),
                property: property.map(str::to_string),
            },
            None => Location::Text(
                self.node_spans
                    .iter()
                    .find(|(n, _)| node == n || node.starts_with(&format!("{n}/")))
                    .map_or(self.span, |(_, s)| *s),
            ),
        }
    }

    /// What to call the fragment in messages.
    pub fn describe(&self) -> String {
        match &self.file {
            Some(file) => format!("`{}`", file.display()),
            None => "the generated fragment".to_string(),
        }
    }
}

/// A device a fragment passes through (a node with `xen,reg`/`xen,path`).
#[derive(Clone, Debug)]
pub struct Device {
    /// The fragment node's path.
    pub node: String,
    /// The host node `xen,path` names, as spelt in the host tree, when it
    /// exists.
    pub host_path: Option<String>,
    /// `xen,reg`: host range and the guest address it is mapped at.
    pub mappings: Vec<(Range, u64)>,
    /// Interrupt IDs Xen routes to the guest (the host node's GIC ones).
    pub irqs: Vec<u32>,
    /// Where findings about the device are shown.
    pub location: Location,
}

/// Read every guest fragment of one boot section; returns what each guest
/// gets, for the `xen,passthrough` markers and the manifest.
pub fn derive(
    section: &BootSection,
    host: Option<&Fdt>,
    facts: &BTreeMap<PathBuf, FileFacts>,
    generated: &[GeneratedFragment],
    target: &Target,
    diags: &mut Diagnostics,
) -> Assignments {
    let mut per_guest: Vec<(&Guest, Vec<Device>)> = Vec::new();
    for guest in &section.guests {
        let Some(module) = &guest.dtb else { continue };
        let Some(fragment) = load(module, facts, generated, diags) else {
            continue;
        };
        let devices = fragment::check(&fragment, host, target, diags);
        per_guest.push((guest, devices));
    }
    cross::check(&per_guest, host, diags);
    Assignments {
        guests: per_guest
            .iter()
            .map(|(g, devices)| {
                let mut nodes: Vec<String> =
                    devices.iter().filter_map(|d| d.host_path.clone()).collect();
                nodes.dedup();
                (g.name.clone(), nodes)
            })
            .collect(),
        marked: section.dom0_kernel.is_some(),
    }
}

/// The fragment of a guest module: built by xencfg, or read from its file
/// (a file that is missing or not an FDT at all is already reported).
fn load(
    module: &Module,
    facts: &BTreeMap<PathBuf, FileFacts>,
    generated: &[GeneratedFragment],
    diags: &mut Diagnostics,
) -> Option<Fragment> {
    if module.generated {
        let built = generated.iter().find(|f| f.esp_path == module.path)?;
        return Some(Fragment {
            tree: built.tree.clone(),
            file: None,
            span: module.span,
            node_spans: built.node_spans.clone(),
        });
    }
    let file = facts.get(&module.source)?;
    if file.format != ImageFormat::Fdt {
        return None;
    }
    let tree = read_fragment(&module.source).and_then(|bytes| {
        Fdt::from_bytes(&bytes).map_err(|e| format!("is not a valid device tree blob: {e}"))
    });
    match tree {
        Ok(tree) => Some(Fragment {
            tree,
            file: Some(module.source.clone()),
            span: module.span,
            node_spans: Vec::new(),
        }),
        Err(why) => {
            diags.push(
                Diagnostic::at(
                    &c::BAD_HOST_DTB,
                    module.span,
                    format!("the passthrough fragment `{}` {why}", module.path),
                )
                .note("Xen panics building the guest: the fragment fails its header check")
                .help("rebuild it with `dtc -I dts -O dtb`"),
            );
            None
        }
    }
}

/// Xen builds a guest's device tree, fragment included, in at most 2 MiB.
const MAX_FRAGMENT_SIZE: u64 = 2 << 20;

/// Read a hand-written fragment; the error completes "the fragment `x` …".
/// Bounded and non-blocking even if the file was swapped since it was
/// hashed (for a FIFO, `fs::read` would block).
pub(crate) fn read_fragment(path: &Path) -> Result<Vec<u8>, String> {
    crate::load::input::read_capped(path, MAX_FRAGMENT_SIZE).map_err(|e| match e {
        crate::load::input::ReadError::TooLarge { size, .. } => {
            format!("is {size} bytes; Xen builds the guest's whole device tree in 2 MiB")
        }
        crate::load::input::ReadError::Io(e) => format!("cannot be read: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::target::{VersionSource, XenVersion};

    fn span() -> Span {
        Span {
            file: FileId(0),
            offset: 0,
            len: 1,
            line: 1,
            col: 1,
        }
    }

    /// Compile DTS text with dtc (installed for the test suite).
    fn dtc(source: &str) -> Fdt {
        use std::io::Write;
        let mut child = std::process::Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("dtc");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(source.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "dtc failed on\n{source}");
        Fdt::from_bytes(&out.stdout).unwrap()
    }

    fn host() -> Fdt {
        Fdt::from_bytes(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/passthrough/host.dtb"
            ))
            .unwrap(),
        )
        .unwrap()
    }

    /// A fragment with `gic` and `device` spliced in, checked for `minor`.
    fn findings(root_extra: &str, device: &str, minor: u8) -> Vec<(&'static str, String)> {
        let source = format!(
            "/dts-v1/;\n/ {{\n#address-cells = <2>;\n#size-cells = <2>;\n{root_extra}\n\
             passthrough {{\ncompatible = \"simple-bus\";\nranges;\n#address-cells = <2>;\n#size-cells = <2>;\n\
             {device}\n}};\n}};\n"
        );
        let fragment = Fragment {
            tree: dtc(&source),
            file: Some(PathBuf::from("f.dtb")),
            span: span(),
            node_spans: Vec::new(),
        };
        let target = Target::release(XenVersion::new(4, minor), VersionSource::Option);
        let mut diags = Diagnostics::default();
        fragment::check(&fragment, Some(&host()), &target, &mut diags);
        diags
            .iter()
            .map(|d| (d.check.code, d.message.clone()))
            .collect()
    }

    const RTC: &str = "rtc@9010000 {\ncompatible = \"arm,pl031\";\nreg = <0 0x9010000 0 0x1000>;\n\
                       interrupts = <0 2 4>;\nINTERRUPT_PARENT\n\
                       xen,reg = <0 0x9010000 0 0x1000 0 0x9010000>;\nxen,path = \"/pl031@9010000\";\n\
                       xen,force-assign-without-iommu;\n};";

    /// The PL031 with its clock (the host node has one).
    fn rtc(interrupt_parent: &str) -> String {
        let clock = "clk { compatible = \"fixed-clock\"; #clock-cells = <0>; phandle = <1>; };\n";
        format!(
            "{clock}{}",
            RTC.replace(
                "INTERRUPT_PARENT",
                &format!("{interrupt_parent}\nclocks = <1>;")
            )
        )
    }

    fn codes(found: &[(&'static str, String)]) -> Vec<&'static str> {
        found.iter().map(|(c, _)| *c).collect()
    }

    #[test]
    fn a_correct_fragment_has_no_findings() {
        assert_eq!(
            findings("", &rtc("interrupt-parent = <65000>;"), 22),
            vec![]
        );
    }

    #[test]
    fn the_gic_phandle_comes_from_slash_gic_as_the_version_decides() {
        let labelled = "gic: gic { phandle = <5>; };";
        assert_eq!(
            findings(labelled, &rtc("interrupt-parent = <5>;"), 17),
            vec![]
        );
        // A `/gic` without phandle: 0 before 4.20, ignored from 4.20 on.
        let bare = "gic { };";
        assert_eq!(
            codes(&findings(bare, &rtc("interrupt-parent = <65000>;"), 19)),
            vec![c::FRAGMENT_PHANDLE.code]
        );
        assert_eq!(
            findings(bare, &rtc("interrupt-parent = <65000>;"), 20),
            vec![]
        );
        // With `/gic` phandle 5, 65000 names nothing.
        assert_eq!(
            codes(&findings(labelled, &rtc("interrupt-parent = <65000>;"), 22)),
            vec![c::FRAGMENT_INTERRUPT_PARENT.code]
        );
    }

    #[test]
    fn interrupt_parent_is_inherited_inside_passthrough_and_may_be_a_passed_controller() {
        let inherited = format!("interrupt-parent = <65000>;\n{}", rtc(""));
        assert_eq!(findings("", &inherited, 22), vec![]);
        let gpio = "gpio: gpio@9030000 { compatible = \"arm,pl061\"; reg = <0 0x9030000 0 0x1000>; \
                    interrupt-controller; #interrupt-cells = <2>; phandle = <7>; };\n\
                    button { compatible = \"gpio-keys\"; interrupts = <3 1>; interrupt-parent = <7>; };";
        assert_eq!(findings("", gpio, 22), vec![]);
    }

    #[test]
    fn phandles_from_65000_fail_on_4_22_only() {
        let device = format!(
            "{}\nclock {{ compatible = \"fixed-clock\"; #clock-cells = <0>; phandle = <65001>; }};",
            rtc("interrupt-parent = <65000>;")
        );
        assert_eq!(findings("", &device, 21), vec![]);
        assert_eq!(
            codes(&findings("", &device, 22)),
            vec![c::FRAGMENT_PHANDLE.code]
        );
    }

    #[test]
    fn xen_reg_is_read_with_the_parents_cells() {
        // `#size-cells = <0>` on the parent: 4.22 refuses, older divide by 0.
        let device = format!(
            "bus {{ #address-cells = <2>; #size-cells = <0>; {} }};",
            rtc("interrupt-parent = <65000>;")
        );
        let found = findings("", &device, 22);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == c::BAD_XEN_REG.code && m.contains("0 size cells")),
            "{found:?}"
        );
        // One-cell tuples are fine when the parent says so.
        let device = "clk { compatible = \"fixed-clock\"; #clock-cells = <0>; phandle = <1>; }; \
                      bus { #address-cells = <1>; #size-cells = <1>; ranges; \
                      rtc { xen,reg = <0x9010000 0x1000 0x9010000>; xen,path = \"/pl031@9010000\"; \
                      xen,force-assign-without-iommu; interrupts = <0 2 4>; interrupt-parent = <65000>; \
                      clocks = <1>; }; };";
        assert_eq!(findings("", device, 22), vec![]);
    }

    #[test]
    fn iommus_in_a_fragment_dangle_and_say_why() {
        let device = rtc("interrupt-parent = <65000>;\niommus = <0x8010 1>;");
        let found = findings("", &device, 22);
        assert_eq!(codes(&found), vec![c::DANGLING_PHANDLE.code]);
    }

    #[test]
    fn a_device_behind_the_smmu_needs_no_force_flag() {
        let device = "dma@9070000 { reg = <0 0x9070000 0 0x1000>; interrupts = <0 80 4>, <0 81 4>; \
                      interrupt-parent = <65000>; xen,reg = <0 0x9070000 0 0x1000 0 0x9070000>; \
                      xen,path = \"/dma@9070000\"; };";
        assert_eq!(findings("", device, 22), vec![]);
    }

    #[test]
    fn a_device_on_a_translated_bus_is_compared_at_its_cpu_address() {
        let device = "serial@a102000 { reg = <0 0xa102000 0 0x100>; interrupts = <0 90 4>; \
                      interrupt-parent = <65000>; xen,reg = <0 0xa102000 0 0x1000 0 0xa102000>; \
                      xen,path = \"/soc@a100000/serial@2000\"; xen,force-assign-without-iommu; };";
        assert_eq!(findings("", device, 22), vec![]);
        let wrong = device.replace("0xa102000 0 0x1000", "0x2000 0 0x1000");
        assert_eq!(
            codes(&findings("", &wrong, 22)),
            vec![c::XEN_REG_OUTSIDE_DEVICE.code]
        );
    }

    /// What xencfg builds passes its own checks, for every device of the
    /// example host that can be passed through.
    #[test]
    fn generated_fragments_pass_the_checks() {
        let host = host();
        let target = Target::default();
        let mut built = 0;
        for (path, node) in crate::fdt::query::walk(&host) {
            if node.property("reg").is_none() {
                continue;
            }
            let mut scratch = Diagnostics::default();
            let request = [crate::model::Spanned::new(path.clone(), span())];
            let Some((tree, node_spans)) =
                crate::analyze::fragments::build(&host, &request, &mut scratch)
            else {
                continue;
            };
            let fragment = Fragment {
                tree,
                file: None,
                span: span(),
                node_spans,
            };
            let mut diags = Diagnostics::default();
            let devices = fragment::check(&fragment, Some(&host), &target, &mut diags);
            let found: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
            assert!(found.is_empty(), "{path}: {found:?}");
            assert_eq!(devices.len(), 1, "{path}");
            assert_eq!(devices[0].host_path.as_deref(), Some(path.as_str()));
            built += 1;
        }
        assert!(built >= 6, "only {built} devices built");
    }

    /// A small deterministic PRNG (xorshift), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Properties whose values the checks and the builder decode.
    const DECODED: &[&str] = &[
        "xen,reg",
        "xen,path",
        "reg",
        "interrupts",
        "interrupt-parent",
        "#address-cells",
        "#size-cells",
        "#interrupt-cells",
        "#clock-cells",
        "ranges",
        "phandle",
        "clocks",
        "resets",
        "iommus",
        "compatible",
    ];

    /// Bend one decoded property of a random node to random bytes.
    fn bend(tree: &mut Fdt, rng: &mut Rng) {
        let mut paths: Vec<String> = crate::fdt::query::walk(tree)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        paths.sort();
        let path = paths[rng.below(paths.len())].clone();
        let name = DECODED[rng.below(DECODED.len())];
        let len = [0, 1, 3, 4, 8, 12, 16, 24, 28][rng.below(9)];
        let special = [0u32, 1, 2, 3, 4, 0xfde8, 0xffff_ffff, 0x9010000];
        let mut value = Vec::new();
        while value.len() < len {
            let cell = if rng.below(2) == 0 {
                special[rng.below(special.len())]
            } else {
                rng.next() as u32
            };
            value.extend(cell.to_be_bytes());
        }
        value.truncate(len);
        if let Some(node) = tree.node_mut(&path) {
            if rng.below(5) == 0 {
                node.remove_property(name);
            } else {
                node.set_property(name, value);
            }
        }
    }

    #[test]
    fn bent_fragments_and_hosts_never_panic() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let fragment_tree = dtc(&format!(
            "/dts-v1/;\n/ {{\n#address-cells = <2>;\n#size-cells = <2>;\ngic: gic {{ phandle = <3>; }};\n\
             passthrough {{\ncompatible = \"simple-bus\";\nranges;\n#address-cells = <2>;\n#size-cells = <2>;\n{}\n}};\n}};\n",
            rtc("interrupt-parent = <3>;")
        ));
        for version in [16, 19, 22] {
            let target = Target::release(
                crate::target::XenVersion::new(4, version),
                VersionSource::Option,
            );
            for _ in 0..700 {
                let mut tree = fragment_tree.clone();
                let mut host = host();
                for _ in 0..1 + rng.below(4) {
                    bend(&mut tree, &mut rng);
                    bend(&mut host, &mut rng);
                }
                let fragment = Fragment {
                    tree,
                    file: None,
                    span: span(),
                    node_spans: Vec::new(),
                };
                let mut diags = Diagnostics::default();
                fragment::check(&fragment, Some(&host), &target, &mut diags);
                for path in [
                    "/pl031@9010000",
                    "/pl011@9000000",
                    "/i2c@9080000",
                    "/soc@a100000/serial@2000",
                ] {
                    let request = [crate::model::Spanned::new(path.to_string(), span())];
                    if let Some((built, spans)) =
                        crate::analyze::fragments::build(&host, &request, &mut diags)
                    {
                        let fragment = Fragment {
                            tree: built,
                            file: None,
                            span: span(),
                            node_spans: spans,
                        };
                        fragment::check(&fragment, Some(&host), &target, &mut diags);
                    }
                }
            }
        }
    }
}
