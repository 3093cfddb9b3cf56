//! `xencfg dts` of an overlay blob whose `__local_fixups__` lists an
//! unresolved phandle (`0xffffffff`): the text says `/plugin/;`, without
//! which dtc 1.8 aborts reading it (an assertion in get_node_by_phandle),
//! and dtc (the installed one, 1.6 on Debian 12) compiles it back to the
//! same bytes. With `XENCFG_DTC18=/path/to/dtc-1.8`, that dtc is held to
//! the same.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use support::*;

/// An overlay that references a label of the base tree (`__fixups__`)
/// and, in the same property, a phandle that the base tree resolves
/// (`__local_fixups__`), as dtc leaves both before fdtoverlay applies it.
const OVERLAY: &str = r#"/dts-v1/;
/ {
	fragment@0 {
		target-path = "/";
		__overlay__ {
			led {
				gpios = <0xffffffff 3 0>;
				power-domains = <0xffffffff>;
			};
		};
	};
	__fixups__ {
		gpio0 = "/fragment@0/__overlay__/led:gpios:0";
	};
	__local_fixups__ {
		fragment@0 {
			__overlay__ {
				led {
					power-domains = <0>;
				};
			};
		};
	};
};
"#;

fn compile(dtc: &Path, dts: &Path, dtb: &Path) -> std::process::Output {
    Command::new(dtc)
        .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
        .arg(dtb)
        .arg(dts)
        .output()
        .unwrap()
}

#[test]
fn overlay_with_unresolved_local_fixup_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("overlay.dts");
    fs::write(&src, OVERLAY).unwrap();
    let blob = dir.path().join("overlay.dtb");
    let out = compile(Path::new("dtc"), &src, &blob);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let printed = run(&["dts", "overlay.dtb"], dir.path());
    assert!(printed.status.success(), "{}", stderr(&printed));
    let text = String::from_utf8(printed.stdout).unwrap();
    assert!(text.starts_with("/dts-v1/;\n/plugin/;\n"), "{text}");
    let back_src = dir.path().join("back.dts");
    fs::write(&back_src, &text).unwrap();

    let mut dtcs = vec![std::path::PathBuf::from("dtc")];
    dtcs.extend(std::env::var_os("XENCFG_DTC18").map(Into::into));
    for dtc in dtcs {
        let back = dir.path().join("back.dtb");
        let out = compile(&dtc, &back_src, &back);
        assert!(
            out.status.success(),
            "{}: {}",
            dtc.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            fs::read(&back).unwrap(),
            fs::read(&blob).unwrap(),
            "{} reads the text back differently",
            dtc.display()
        );
    }
}
