//! The Yocto layer and the Buildroot tree under `contrib/`, as far as they
//! run without BitBake or Buildroot: the shell scripts parse (`bash -n`,
//! `sh -n`) and pass shellcheck (when installed); the bbclass's functions
//! check and stage the examples; the post-image script stages an ESP from
//! images named as Buildroot names them; the recipe's crate list is
//! exactly Cargo.lock's; the class and recipe keep the pieces a build
//! relies on.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn contrib(rel: &str) -> PathBuf {
    repo().join("contrib").join(rel)
}

const BASH_SCRIPTS: [&str; 2] = [
    "buildroot/board/post-image.sh",
    "yocto/scripts/gen-crates-inc",
];
const SH_SCRIPTS: [&str; 1] = ["yocto/classes/xencfg-functions.sh"];

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scripts_parse() {
    for script in BASH_SCRIPTS {
        let out = Command::new("bash")
            .arg("-n")
            .arg(contrib(script))
            .output()
            .unwrap();
        ok(&out, &format!("bash -n {script}"));
    }
    for script in SH_SCRIPTS {
        let out = Command::new("sh")
            .arg("-n")
            .arg(contrib(script))
            .output()
            .unwrap();
        ok(&out, &format!("sh -n {script}"));
    }
}

#[test]
fn scripts_pass_shellcheck() {
    if Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("shellcheck is not installed (apt-get install shellcheck); skipping");
        return;
    }
    for script in BASH_SCRIPTS {
        let out = Command::new("shellcheck")
            .arg(contrib(script))
            .output()
            .unwrap();
        ok(&out, &format!("shellcheck {script}"));
    }
    for script in SH_SCRIPTS {
        let out = Command::new("shellcheck")
            .args(["-s", "sh"])
            .arg(contrib(script))
            .output()
            .unwrap();
        ok(&out, &format!("shellcheck -s sh {script}"));
    }
}

/// Run one of the class's functions under /bin/sh, as BitBake would.
fn class_function(call: &str, cwd: &Path) -> Output {
    let script = format!(". \"{}\"; {call}", contrib(SH_SCRIPTS[0]).display());
    Command::new("sh")
        .args(["-c", &script])
        .current_dir(cwd)
        .env("XENCFG", env!("CARGO_BIN_EXE_xencfg"))
        .output()
        .unwrap()
}

#[test]
fn class_functions_check_and_stage_the_examples() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("deploy");
    copy_tree(&testdata("sections"), &images);
    // The cfg comes from the recipe's files, the images from the deploy dir.
    let cfg = work.path().join("xen.cfg");
    fs::rename(images.join("xen.cfg"), &cfg).unwrap();

    let out = class_function("xencfg_check xen.cfg deploy", work.path());
    ok(&out, "xencfg_check");

    let out = class_function(
        "xencfg_deploy xen.cfg deploy esp --efi-name BOOTAA64",
        work.path(),
    );
    ok(&out, "xencfg_deploy");
    let esp = work.path().join("esp");
    for file in [
        "BOOTAA64.cfg",
        "xen.dtb",
        "xen-debug.dtb",
        "manifest.json",
        "Image-guest3.bin",
    ] {
        assert!(esp.join(file).is_file(), "{file} is not staged");
    }

    // A cfg with an error fails the QA step, and nothing is deployed.
    fs::remove_file(images.join("Image-guest2.bin")).unwrap();
    let out = class_function("xencfg_check xen.cfg deploy", work.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[XC0401]"));
    let out = class_function("xencfg_deploy xen.cfg deploy esp2", work.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!work.path().join("esp2").exists());

    let out = class_function("xencfg_check xen.cfg", work.path());
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn post_image_script_stages_the_esp() {
    let images = tempfile::tempdir().unwrap();
    let i = images.path();
    fs::copy(testdata("sections/Image-guest1.bin"), i.join("Image")).unwrap();
    fs::copy(
        testdata("sections/initrd-guest1.cpio.gz"),
        i.join("rootfs.cpio.gz"),
    )
    .unwrap();
    fs::copy(testdata("host/host.dtb"), i.join("virt.dtb")).unwrap();
    fs::write(i.join("xen"), b"stand-in for the Xen EFI binary").unwrap();
    let host = tempfile::tempdir().unwrap();
    fs::create_dir(host.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_xencfg"), host.path().join("bin/xencfg"))
        .unwrap();

    let run = || {
        Command::new(contrib(BASH_SCRIPTS[0]))
            .arg(i)
            .arg(contrib("buildroot/board/xen.cfg"))
            .env("HOST_DIR", host.path())
            .env("BINARIES_DIR", i)
            .output()
            .unwrap()
    };
    let out = run();
    ok(&out, "post-image.sh");
    let esp = i.join("esp/EFI/BOOT");
    let cfg = fs::read_to_string(esp.join("BOOTAA64.cfg")).unwrap();
    assert!(cfg.contains("dtb=xen.dtb"), "{cfg}");
    for file in [
        "BOOTAA64.efi",
        "Image",
        "rootfs.cpio.gz",
        "xen.dtb",
        "manifest.json",
    ] {
        assert!(esp.join(file).is_file(), "{file} is not staged");
    }
    // Buildroot re-runs post-image scripts on every `make`.
    ok(&run(), "post-image.sh, second run");

    fs::remove_file(i.join("rootfs.cpio.gz")).unwrap();
    let out = run();
    assert!(!out.status.success(), "a missing image fails the build");
    assert!(String::from_utf8_lossy(&out.stderr).contains("rootfs.cpio.gz"));
}

#[test]
fn crate_list_is_cargo_lock() {
    let out = Command::new(contrib("yocto/scripts/gen-crates-inc"))
        .arg(repo().join("Cargo.lock"))
        .output()
        .unwrap();
    ok(&out, "gen-crates-inc");
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed_path = contrib("yocto/recipes-devtools/xencfg/xencfg-crates.inc");
    let committed = fs::read_to_string(&committed_path).unwrap();
    assert!(
        generated == committed,
        "{} is stale: run contrib/yocto/scripts/gen-crates-inc > {}",
        committed_path.display(),
        committed_path.display()
    );

    // Every crates.io package of the lock file, with its checksum.
    let lock = fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    let mut count = 0;
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        if field("source").is_none_or(|s| !s.starts_with("registry+")) {
            continue;
        }
        let (name, version) = (field("name").unwrap(), field("version").unwrap());
        let checksum = field("checksum").unwrap();
        assert!(generated.contains(&format!("    crate://crates.io/{name}/{version} \\\n")));
        assert!(generated.contains(&format!(
            "SRC_URI[{name}-{version}.sha256sum] = \"{checksum}\"\n"
        )));
        count += 1;
    }
    assert!(count > 10);
    assert_eq!(generated.matches("crate://").count(), count);
}

#[test]
fn gen_crates_inc_refuses_a_lock_without_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    fs::write(
        &lock,
        "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let out = Command::new(contrib("yocto/scripts/gen-crates-inc"))
        .arg(&lock)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a 1.0.0 has no checksum"));
}

/// The lines a build depends on. (BitBake is not available here, so this
/// guards against edits that would silently break the integration.)
#[test]
fn class_and_recipe_keep_their_contract() {
    let class = fs::read_to_string(contrib("yocto/classes/xencfg.bbclass")).unwrap();
    for line in [
        "DEPENDS += \"xencfg-native\"",
        "inherit deploy",
        "do_deploy[depends] += \"${XENCFG_DEPLOY_DEPENDS} xencfg-native:do_populate_sysroot\"",
        "do_xencfg_check[depends] += \"${XENCFG_DEPLOY_DEPENDS} xencfg-native:do_populate_sysroot\"",
        "addtask xencfg_check after do_unpack before do_deploy",
        ". \"${XENCFG_FUNCTIONS}\"",
        "classes/xencfg-functions.sh",
    ] {
        assert!(class.contains(line), "xencfg.bbclass lacks `{line}`");
    }
    for opt_out in [
        "nostamp",
        "SSTATE_SKIP_CREATION",
        "noexec",
        "SSTATE_EXCLUDEDEPS",
    ] {
        assert!(
            !class.contains(opt_out),
            "xencfg.bbclass opts out of sstate: {opt_out}"
        );
    }
    let recipe =
        fs::read_to_string(contrib("yocto/recipes-devtools/xencfg/xencfg_git.bb")).unwrap();
    for line in [
        "inherit cargo cargo-update-recipe-crates",
        "require ${BPN}-crates.inc",
        "BBCLASSEXTEND = \"native nativesdk\"",
    ] {
        assert!(recipe.contains(line), "xencfg_git.bb lacks `{line}`");
    }
    let mk = fs::read_to_string(contrib("buildroot/package/xencfg/xencfg.mk")).unwrap();
    assert!(mk.contains("$(eval $(host-cargo-package))"));
    let config = fs::read_to_string(contrib("buildroot/package/xencfg/Config.in.host")).unwrap();
    assert!(config.contains("config BR2_PACKAGE_HOST_XENCFG\n"));
}
