//! `dtbo=` overlays give the tree `fdtoverlay` gives (libfdt's
//! `fdt_overlay_apply`): every case applies the same overlays to the same
//! base with both and compares `dtc -I dtb -O dts` of the results; bad
//! overlays are refused with a message naming what is wrong, as fdtoverlay
//! refuses them.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use support::*;
use xencfg::fdt::Fdt;
use xencfg::fdt::overlay;

fn dtc_compile(dir: &Path, name: &str, source: &str, symbols: bool) -> Vec<u8> {
    let src = dir.join(format!("{name}.dts"));
    fs::write(&src, source).unwrap();
    let mut cmd = Command::new("dtc");
    cmd.args(["-q", "-I", "dts", "-O", "dtb"]);
    if symbols {
        cmd.arg("-@");
    }
    let out = cmd.arg(&src).output().expect("dtc");
    assert!(
        out.status.success(),
        "dtc failed on {name}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Both results as DTS text: (xencfg's, fdtoverlay's).
fn apply_both(base: &str, overlays: &[&str], base_symbols: bool) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let base_blob = dtc_compile(dir.path(), "base", base, base_symbols);
    fs::write(dir.path().join("base.dtb"), &base_blob).unwrap();
    let mut ours = Fdt::from_bytes(&base_blob).unwrap();
    let mut fdtoverlay = Command::new("fdtoverlay");
    fdtoverlay
        .arg("-i")
        .arg(dir.path().join("base.dtb"))
        .arg("-o")
        .arg(dir.path().join("theirs.dtb"));
    for (i, source) in overlays.iter().enumerate() {
        let blob = dtc_compile(dir.path(), &format!("overlay{i}"), source, true);
        let path = dir.path().join(format!("overlay{i}.dtbo"));
        fs::write(&path, &blob).unwrap();
        fdtoverlay.arg(&path);
        overlay::apply(&mut ours, &Fdt::from_bytes(&blob).unwrap())
            .unwrap_or_else(|e| panic!("xencfg refuses overlay {i}: {e}"));
    }
    let out = fdtoverlay.output().expect("fdtoverlay");
    assert!(
        out.status.success(),
        "fdtoverlay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(dir.path().join("ours.dtb"), ours.to_bytes()).unwrap();
    (
        dtc_decompile(&dir.path().join("ours.dtb")).0,
        dtc_decompile(&dir.path().join("theirs.dtb")).0,
    )
}

fn assert_same(base: &str, overlays: &[&str]) {
    let (ours, theirs) = apply_both(base, overlays, true);
    assert_eq!(ours, theirs, "xencfg and fdtoverlay differ");
}

/// Why xencfg refuses the overlays; fdtoverlay must refuse them too.
fn refusal(base: &str, overlays: &[&str], base_symbols: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let base_blob = dtc_compile(dir.path(), "base", base, base_symbols);
    fs::write(dir.path().join("base.dtb"), &base_blob).unwrap();
    let mut ours = Fdt::from_bytes(&base_blob).unwrap();
    let before = ours.clone();
    let mut fdtoverlay = Command::new("fdtoverlay");
    fdtoverlay
        .arg("-i")
        .arg(dir.path().join("base.dtb"))
        .arg("-o")
        .arg(dir.path().join("theirs.dtb"));
    let mut error = None;
    for (i, source) in overlays.iter().enumerate() {
        let blob = dtc_compile(dir.path(), &format!("overlay{i}"), source, true);
        let path = dir.path().join(format!("overlay{i}.dtbo"));
        fs::write(&path, &blob).unwrap();
        fdtoverlay.arg(&path);
        if error.is_none() {
            if let Err(e) = overlay::apply(&mut ours, &Fdt::from_bytes(&blob).unwrap()) {
                error = Some(e.to_string());
            }
        }
    }
    let theirs = fdtoverlay.output().expect("fdtoverlay");
    assert!(
        !theirs.status.success(),
        "fdtoverlay accepts what xencfg refuses"
    );
    let error = error.expect("xencfg accepts what fdtoverlay refuses");
    if overlays.len() == 1 {
        assert_eq!(ours, before, "a refused overlay leaves the base untouched");
    }
    error
}

const BASE: &str = r#"
/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "test,base";
    aliases {
        serial0 = "/uart@1000";
    };
    intc: interrupt-controller@8000 {
        compatible = "arm,gic-v3";
        interrupt-controller;
        #interrupt-cells = <3>;
        reg = <0 0x8000 0 0x1000>;
    };
    clk: clock {
        compatible = "fixed-clock";
        #clock-cells = <0>;
        clock-frequency = <24000000>;
    };
    uart: uart@1000 {
        compatible = "arm,pl011";
        reg = <0 0x1000 0 0x100>;
        clocks = <&clk>;
        status = "okay";
    };
    gpio: gpio@2000 {
        compatible = "arm,pl061";
        reg = <0 0x2000 0 0x100>;
        gpio-controller;
        #gpio-cells = <2>;
    };
    bus {
        #address-cells = <1>;
        #size-cells = <1>;
        existing@0 {
            reg = <0 0x10>;
        };
    };
};
"#;

#[test]
fn target_path_sets_adds_and_creates() {
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "/uart@1000";
        __overlay__ {
            status = "disabled";
            new-property = <1 2 3>;
            child {
                compatible = "test,child";
            };
        };
    };
    fragment@1 {
        target-path = "/";
        __overlay__ {
            added-root-property = "x";
            newnode {
                deeper {
                    value = <7>;
                };
            };
        };
    };
};
"#],
    );
}

#[test]
fn target_labels_resolve_through_the_base_symbols() {
    // `&label { }` is dtc's shorthand for a fragment with a `target`
    // phandle that `__fixups__` fills in from the base's `__symbols__`.
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
&uart {
    status = "disabled";
};
&gpio {
    line-names = "a", "b";
};
"#],
    );
}

#[test]
fn references_to_base_labels_are_fixed_up_deep_inside_new_nodes() {
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
&{/bus} {
    device@100 {
        reg = <0x100 0x10>;
        clocks = <&clk>, <&clk>;
        interrupt-parent = <&intc>;
        interrupts = <0 5 4>;
        reset-gpios = <&gpio 3 0>;
        nested {
            more-gpios = <&gpio 1 0 &gpio 2 1>;
        };
    };
};
"#],
    );
}

#[test]
fn local_phandles_are_renumbered_above_the_base() {
    // The overlay's own labels get phandles after the base's highest, and
    // `__local_fixups__` rewrites every reference to them.
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
&{/} {
    newclk: new-clock {
        compatible = "fixed-clock";
        #clock-cells = <0>;
        clock-frequency = <100>;
    };
    consumer {
        clocks = <&newclk>, <&clk>;
        self: inner {
            ref = <&self &newclk>;
        };
    };
};
&uart {
    clocks = <&newclk>;
};
"#],
    );
}

#[test]
fn overlay_symbols_are_published_for_later_overlays() {
    assert_same(
        BASE,
        &[
            r#"
/dts-v1/;
/plugin/;
&{/bus} {
    sensor: sensor@200 {
        reg = <0x200 0x10>;
    };
};
&uart {
    port: port {
        value = <1>;
    };
};
"#,
            r#"
/dts-v1/;
/plugin/;
&sensor {
    status = "disabled";
    partner = <&port>;
};
"#,
        ],
    );
}

#[test]
fn target_path_may_start_with_an_alias() {
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "serial0";
        __overlay__ {
            via-alias;
        };
    };
};
"#],
    );
}

#[test]
fn fragments_without_overlay_and_their_other_properties_are_ignored() {
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "/uart@1000";
        comment = "not applied";
        __overlay__ {
            applied;
        };
    };
    not-a-fragment {
        target-path = "/gpio@2000";
    };
};
"#],
    );
}

#[test]
fn an_unknown_label_is_refused() {
    let why = refusal(
        BASE,
        &["/dts-v1/;\n/plugin/;\n&nosuch { status = \"disabled\"; };\n"],
        true,
    );
    assert!(why.contains("`&nosuch`"), "{why}");
    assert!(why.contains("no such label"), "{why}");
}

#[test]
fn a_label_without_base_symbols_is_refused_with_the_fix() {
    let why = refusal(
        BASE,
        &["/dts-v1/;\n/plugin/;\n&uart { status = \"disabled\"; };\n"],
        false,
    );
    assert!(why.contains("dtc -@"), "{why}");
}

#[test]
fn a_missing_target_path_is_refused() {
    let why = refusal(
        BASE,
        &[
            "/dts-v1/;\n/plugin/;\n/ { fragment@0 { target-path = \"/nosuch\"; __overlay__ { x; }; }; };\n",
        ],
        true,
    );
    assert!(why.contains("`/nosuch` not found"), "{why}");
}

#[test]
fn a_fragment_without_target_is_refused() {
    let why = refusal(
        BASE,
        &["/dts-v1/;\n/plugin/;\n/ { fragment@0 { __overlay__ { x; }; }; };\n"],
        true,
    );
    assert!(why.contains("neither `target` nor `target-path`"), "{why}");
}

#[test]
fn a_target_phandle_missing_from_the_base_is_refused() {
    let why = refusal(
        BASE,
        &["/dts-v1/;\n/plugin/;\n/ { fragment@0 { target = <0x77>; __overlay__ { x; }; }; };\n"],
        true,
    );
    assert!(why.contains("no node with phandle 0x77"), "{why}");
}

#[test]
fn a_label_on_overlay_itself_publishes_the_target_with_a_slash() {
    // libfdt writes `<target>/` for a symbol naming `__overlay__` itself.
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "/uart@1000";
        whole: __overlay__ {
            marked;
        };
    };
    fragment@1 {
        target-path = "/";
        top: __overlay__ {
            marked;
        };
    };
};
"#],
    );
}

#[test]
fn symbols_under_a_target_path_keep_the_path_as_written() {
    // libfdt copies `target-path` verbatim into the symbol (an alias stays
    // an alias, a name without unit address stays so).
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "serial0";
        __overlay__ {
            port: port {
                value = <1>;
            };
        };
    };
    fragment@1 {
        target-path = "/gpio";
        __overlay__ {
            line: line {
                value = <2>;
            };
        };
    };
};
"#],
    );
}

#[test]
fn names_without_unit_address_find_nodes_that_have_one() {
    // libfdt's lookups match `uart` against `uart@1000` (the first child
    // whose name is `uart` or starts with `uart@`), in target paths and
    // when merging subnodes.
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target-path = "/gpio";
        __overlay__ {
            via-short-path;
        };
    };
    fragment@1 {
        target-path = "/";
        __overlay__ {
            uart {
                merged-into-uart-at-1000;
            };
            bus {
                existing {
                    merged-too;
                };
            };
        };
    };
};
"#],
    );
}

#[test]
fn a_zero_target_falls_back_to_the_target_path() {
    assert_same(
        BASE,
        &[r#"
/dts-v1/;
/plugin/;
/ {
    fragment@0 {
        target = <0>;
        target-path = "/uart@1000";
        __overlay__ {
            found-by-path;
        };
    };
};
"#],
    );
}

#[test]
fn a_target_of_the_wrong_size_is_refused() {
    let why = refusal(
        BASE,
        &[
            "/dts-v1/;\n/plugin/;\n/ { fragment@0 { target = <1 2>; target-path = \"/\"; __overlay__ { x; }; }; };\n",
        ],
        true,
    );
    assert!(why.contains("`target`"), "{why}");
}
