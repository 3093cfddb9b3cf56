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

/// The QA step hands xencfg's diagnostics to bbfatal (errors) or bbwarn
/// (warnings), which BitBake prints on the console, instead of leaving
/// them in the task log.
#[test]
fn class_check_reports_diagnostics_through_bitbake() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("deploy");
    copy_tree(&testdata("sections"), &images);
    let cfg = work.path().join("xen.cfg");
    fs::rename(images.join("xen.cfg"), &cfg).unwrap();
    // BitBake's bbfatal prints and exits; bbwarn prints.
    let stubs = "bbfatal() { printf 'FATAL<%s>\\n' \"$*\"; exit 1; }; \
                 bbwarn() { printf 'WARN<%s>\\n' \"$*\"; }";

    let out = class_function(
        &format!("{stubs}; xencfg_check_report xen.cfg deploy"),
        work.path(),
    );
    ok(&out, "xencfg_check_report on a clean cfg");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "nothing to report"
    );

    // A raw DT property passes with a warning.
    let mut text = fs::read_to_string(&cfg).unwrap();
    text = text.replacen("vpl011\n", "vpl011\nproperty=foo=<1>\n", 1);
    fs::write(&cfg, &text).unwrap();
    let out = class_function(
        &format!("{stubs}; xencfg_check_report xen.cfg deploy"),
        work.path(),
    );
    ok(&out, "xencfg_check_report with a warning");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("WARN<xencfg check warns about xen.cfg:\n"),
        "{stdout}"
    );
    assert!(stdout.contains("warning["), "{stdout}");

    fs::remove_file(images.join("Image-guest2.bin")).unwrap();
    let out = class_function(
        &format!("{stubs}; xencfg_check_report xen.cfg deploy"),
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("FATAL<xencfg check failed on xen.cfg:\n"),
        "{stdout}"
    );
    assert!(stdout.contains("error[XC0401]"), "{stdout}");
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

    // As Buildroot calls it with the qemu defconfigs: their own argument
    // (BR2_ROOTFS_POST_SCRIPT_ARGS) first, the cfg
    // (BR2_ROOTFS_POST_IMAGE_SCRIPT_ARGS) last.
    let run = || {
        Command::new(contrib(BASH_SCRIPTS[0]))
            .arg(i)
            .arg("/buildroot/configs/qemu_aarch64_virt_defconfig")
            .arg(contrib("buildroot/board/xen.cfg"))
            .env("HOST_DIR", host.path())
            .env("BINARIES_DIR", i)
            .env_remove("XENCFG_ARGS")
            .env_remove("BR2_CONFIG")
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

    let target = |manifest: &Path| {
        let manifest = fs::read_to_string(manifest).unwrap();
        let json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        json["target"]["xen_version"].as_str().unwrap().to_string()
    };
    assert_eq!(target(&esp.join("manifest.json")), "4.22");

    // XENCFG_ARGS as the .config sets it (menuconfig writes quoted strings).
    let config = images.path().join(".config");
    fs::write(
        &config,
        "BR2_PACKAGE_HOST_XENCFG=y\nBR2_PACKAGE_HOST_XENCFG_ARGS=\"--xen-version 4.17\"\n",
    )
    .unwrap();
    let out = Command::new(contrib(BASH_SCRIPTS[0]))
        .arg(i)
        .arg(contrib("buildroot/board/xen.cfg"))
        .env("HOST_DIR", host.path())
        .env("BR2_CONFIG", &config)
        .env_remove("XENCFG_ARGS")
        .output()
        .unwrap();
    ok(&out, "post-image.sh with BR2_PACKAGE_HOST_XENCFG_ARGS");
    assert_eq!(target(&esp.join("manifest.json")), "4.17");

    let out = Command::new(contrib(BASH_SCRIPTS[0]))
        .arg(i)
        .env("HOST_DIR", host.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no cfg is a usage error");

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
        "PACKAGE_ARCH = \"${MACHINE_ARCH}\"",
        "xencfg_check_report \"${XENCFG_CFG}\"",
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
        // whinlatter and later refuse S = "${WORKDIR}/git".
        "S = \"${UNPACKDIR}/${BB_GIT_DEFAULT_DESTSUFFIX}\"",
        "SRCREV = \"${XENCFG_SRCREV}\"",
        "LICENSE = \"MIT | Apache-2.0\"",
    ] {
        assert!(recipe.contains(line), "xencfg_git.bb lacks `{line}`");
    }
    assert!(
        !recipe.contains("AUTOREV"),
        "every variant builds a pinned commit"
    );
    let mk = fs::read_to_string(contrib("buildroot/package/xencfg/xencfg.mk")).unwrap();
    assert!(mk.contains("$(eval $(host-cargo-package))"));
    let config = fs::read_to_string(contrib("buildroot/package/xencfg/Config.in.host")).unwrap();
    assert!(config.contains("config BR2_PACKAGE_HOST_XENCFG\n"));
}

/// The license checksums of the recipe (md5, LIC_FILES_CHKSUM) and of the
/// Buildroot package (sha256, xencfg.hash) are those of the files: a
/// stale one fails Yocto's license QA and Buildroot's legal-info.
#[test]
fn license_checksums_match_the_files() {
    let sum = |tool: &str, file: &str| {
        let out = Command::new(tool).arg(repo().join(file)).output().unwrap();
        ok(&out, tool);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let recipe =
        fs::read_to_string(contrib("yocto/recipes-devtools/xencfg/xencfg_git.bb")).unwrap();
    let hash = fs::read_to_string(contrib("buildroot/package/xencfg/xencfg.hash")).unwrap();
    let mk = fs::read_to_string(contrib("buildroot/package/xencfg/xencfg.mk")).unwrap();
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let md5 = format!("file://{file};md5={}", sum("md5sum", file));
        assert!(recipe.contains(&md5), "xencfg_git.bb lacks `{md5}`");
        let sha = format!("sha256  {}  {file}\n", sum("sha256sum", file));
        assert!(hash.contains(&sha), "xencfg.hash lacks `{sha}`");
        assert!(mk.contains(file), "xencfg.mk does not list {file}");
    }
    let cargo = fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""));
}

/// The layer's README shows the example recipe that CI lints, verbatim,
/// and the Buildroot README passes the cfg the way the script takes it.
#[test]
fn readme_snippets_are_the_linted_files() {
    let readme = fs::read_to_string(contrib("yocto/README.md")).unwrap();
    let recipe = fs::read_to_string(contrib("yocto/examples/xen-esp/xen-esp_1.0.bb")).unwrap();
    assert!(
        readme.contains(&format!("```\n{recipe}```\n")),
        "contrib/yocto/README.md does not show examples/xen-esp/xen-esp_1.0.bb as it is"
    );
    let readme = fs::read_to_string(contrib("buildroot/README.md")).unwrap();
    for line in [
        "BR2_ROOTFS_POST_IMAGE_SCRIPT_ARGS=\"$(BR2_EXTERNAL_XENCFG_PATH)/board/xen.cfg\"",
        "BR2_TARGET_ROOTFS_CPIO=y",
        "BR2_TARGET_ROOTFS_CPIO_GZIP=y",
        "BR2_PACKAGE_HOST_XENCFG_GIT_VERSION=",
    ] {
        assert!(
            readme.contains(line),
            "contrib/buildroot/README.md lacks `{line}`"
        );
    }
}
