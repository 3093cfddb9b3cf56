//! The output contract under hostile conditions (the reliability issue's
//! data-loss items): what `-o` may replace, what it must never touch, and
//! builds of one output directory racing each other.
//!
//! - every file xencfg reads (cfg, chained cfgs, DTBs, overlays, images,
//!   fragments, `--xen`, `--xen-config`) inside the output directory is an
//!   error before anything is touched, `--force` or not;
//! - a directory is xencfg's own output only when its `manifest.json` is a
//!   regular file that xencfg wrote (schema and generator fields) and every
//!   other file in it is one that manifest accounts for; anything else needs
//!   `--force`;
//! - builds of one output directory are serialised by a lock the kernel
//!   releases when a build dies, also across PID namespaces, and staging
//!   directories are judged stale by that lock.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

#[track_caller]
fn expect_refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "xencfg panicked:\n{err}");
    assert_eq!(out.status.code(), Some(2), "exit status; stderr:\n{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` not in stderr:\n{err}");
    }
}

#[track_caller]
fn expect_built(out: &Output) {
    assert!(out.status.success(), "build failed:\n{}", stderr(out));
}

/// A build of the section-form example into `sub`, which holds an old
/// output (so `--force` is not even needed) and one input.
fn old_output_holding(root: &Path, input: &str, content: &[u8]) {
    expect_built(&run(&["build", "xen.cfg", "-o", "sub"], root));
    let path = root.join("sub").join(input);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
}

const XEN_CONFIG: &[u8] =
    b"#\n# Xen/arm 4.22.0 Configuration\n#\nCONFIG_ARM_64=y\nCONFIG_ARM_EFI=y\nCONFIG_HAS_PL011=y\nCONFIG_DOM0LESS_BOOT=y\nCONFIG_SBSA_VUART_CONSOLE=y\n";

#[test]
fn force_never_destroys_an_input_inside_the_output_directory() {
    // (what the cfg or command line adds, the input's path under sub/)
    let cases: &[(&str, &[&str], &str, &[u8])] = &[
        ("chain", &[], "more.cfg", b"[global]\n"),
        (
            "xen-config",
            &["--xen-config", "sub/xen.config"],
            "xen.config",
            XEN_CONFIG,
        ),
        ("overlay", &[], "extra.dtbo", b""),
        ("kernel", &[], "Image-guest1.bin", b""),
    ];
    for (kind, extra_args, input, content) in cases {
        let dir = scratch_example("sections");
        let root = dir.path();
        old_output_holding(root, input, content);
        let cfg = fs::read_to_string(root.join("xen.cfg")).unwrap();
        let cfg = match *kind {
            "chain" => cfg.replace("default=xen\n", "default=xen\nchain=sub/more.cfg\n"),
            "overlay" => {
                // A valid overlay: an empty fragment-free DTB is not one,
                // so copy the host DTB's bytes (any DTB applies as a no-op
                // overlay without fragments).
                fs::copy(root.join("host.dtb"), root.join("sub/extra.dtbo")).unwrap();
                cfg.replacen("dtb=host.dtb\n", "dtb=host.dtb\ndtbo=sub/extra.dtbo\n", 1)
            }
            "kernel" => {
                fs::copy(
                    root.join("Image-guest1.bin"),
                    root.join("sub/Image-guest1.bin"),
                )
                .unwrap();
                cfg.replace("kernel=Image-guest1.bin", "kernel=sub/Image-guest1.bin")
            }
            _ => cfg,
        };
        fs::write(root.join("main.cfg"), cfg).unwrap();
        let before = fs::read(root.join("sub").join(input)).unwrap();
        let mut args = vec!["build", "main.cfg", "-o", "sub", "--force"];
        args.extend(extra_args.iter());
        let out = run(&args, root);
        expect_refused(&out, &["contains the input", input, "choose another -o"]);
        assert_eq!(
            fs::read(root.join("sub").join(input)).unwrap(),
            before,
            "{kind}: the input survives"
        );
    }
}

#[test]
fn xen_binary_inside_the_output_directory_is_refused() {
    let dir = scratch_example("sections");
    let root = dir.path();
    old_output_holding(
        root,
        "xen.efi",
        b"not really xen, but an input all the same",
    );
    let out = run(
        &[
            "build",
            "xen.cfg",
            "-o",
            "sub",
            "--force",
            "--stage",
            "--xen",
            "sub/xen.efi",
        ],
        root,
    );
    expect_refused(&out, &["contains the input", "xen.efi"]);
    assert!(root.join("sub/xen.efi").is_file());
}

#[test]
fn a_directory_with_a_foreign_manifest_is_not_replaced() {
    let dir = scratch_example("sections");
    let root = dir.path();
    // A web app: its manifest.json is JSON, but not xencfg's.
    let webapp = root.join("webapp");
    fs::create_dir(&webapp).unwrap();
    fs::write(
        webapp.join("manifest.json"),
        br#"{"name": "My app", "start_url": "/", "display": "standalone"}"#,
    )
    .unwrap();
    fs::write(webapp.join("index.html"), b"<h1>hello</h1>").unwrap();
    let out = run(&["build", "xen.cfg", "-o", "webapp"], root);
    expect_refused(&out, &["was not written by xencfg", "--force"]);
    assert_eq!(
        fs::read(webapp.join("index.html")).unwrap(),
        b"<h1>hello</h1>"
    );

    // A manifest.json that is a symlink, even to a file that parses.
    let linked = root.join("linked");
    fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", linked.join("manifest.json")).unwrap();
    fs::write(linked.join("notes.txt"), b"mine").unwrap();
    let out = run(&["build", "xen.cfg", "-o", "linked"], root);
    expect_refused(&out, &["was not written by xencfg"]);
    assert_eq!(fs::read(linked.join("notes.txt")).unwrap(), b"mine");

    // xencfg's own output with a file somebody added: that file would be
    // lost, so it needs --force as well, and the message names it.
    expect_built(&run(&["build", "xen.cfg", "-o", "ours"], root));
    fs::write(root.join("ours/my-notes.txt"), b"mine").unwrap();
    let out = run(&["build", "xen.cfg", "-o", "ours"], root);
    expect_refused(&out, &["my-notes.txt", "--force"]);
    assert!(root.join("ours/my-notes.txt").is_file());
    fs::remove_file(root.join("ours/my-notes.txt")).unwrap();
    expect_built(&run(&["build", "xen.cfg", "-o", "ours"], root));
    // --emit-dts reviews are its own files too.
    expect_built(&run(
        &["build", "xen.cfg", "-o", "ours", "--emit-dts"],
        root,
    ));
    expect_built(&run(&["build", "xen.cfg", "-o", "ours"], root));
}

/// Whether this machine lets us run a command in a new PID namespace with
/// its own /proc (root, or unprivileged user namespaces).
fn pid_namespaces_work() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A large module (mostly holes, cheap to create) so a staged build takes
/// long enough for a second build to start while the first is staging.
fn sparse_module(path: &Path, mib: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::File::create(path).unwrap();
    f.set_len(mib << 20).unwrap();
    for i in 0..mib {
        f.seek(SeekFrom::Start(i << 20)).unwrap();
        f.write_all(&i.to_le_bytes()).unwrap();
    }
}

/// The manifest lists exactly the files beside it, with their hashes.
#[track_caller]
fn assert_manifest_true(out: &Path) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().expect("files");
    for f in files {
        let esp = f["esp_path"].as_str().unwrap().replace('\\', "/");
        assert_eq!(
            sha256sum(&out.join(&esp)),
            f["sha256"].as_str().unwrap(),
            "{esp}"
        );
    }
    let mut count = 0;
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                count += 1;
            }
        }
    }
    assert_eq!(files.len() + 1, count, "manifest lists every file");
}

#[test]
fn a_build_in_another_pid_namespace_waits_instead_of_deleting_the_first() {
    if !pid_namespaces_work() {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` is not permitted here");
        return;
    }
    let dir = scratch_example("sections");
    let root = dir.path();
    sparse_module(&root.join("initrd.big"), 400);
    let cfg = fs::read_to_string(root.join("xen.cfg")).unwrap();
    fs::write(
        root.join("a.cfg"),
        cfg.replace("ramdisk=initrd-guest1.cpio.gz", "ramdisk=initrd.big"),
    )
    .unwrap();
    fs::write(
        root.join("b.cfg"),
        cfg.replace("bootscrub=0\n", "bootscrub=0 B\n"),
    )
    .unwrap();

    let first = xencfg()
        .args(["build", "a.cfg", "-o", "out", "--stage"])
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first build is staging.
    let started = Instant::now();
    let staging = loop {
        let found = fs::read_dir(root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with(".out.xencfg-") && !n.ends_with(".lock"));
        if let Some(name) = found {
            break name;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first build never started staging"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    // The second build sees other PIDs: the first one's does not exist in
    // its /proc.
    let second = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_xencfg"))
        .args(["build", "b.cfg", "-o", "out", "--stage"])
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "the first build (staging in {staging}) failed:\n{}",
        stderr(&first)
    );
    assert!(
        second.status.success(),
        "the second build failed:\n{}",
        stderr(&second)
    );
    // The second build ran after the first: its output is there, whole.
    let out = root.join("out");
    assert_manifest_true(&out);
    assert!(
        fs::read_to_string(out.join("xen.cfg"))
            .unwrap()
            .contains("bootscrub=0 B"),
        "the output is the second build's"
    );
    assert!(!out.join("initrd.big").exists());
    let left: Vec<String> = fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.xencfg") && n != ".out.xencfg.cache")
        .collect();
    assert!(left.is_empty(), "left beside the output: {left:?}");
}

#[test]
fn a_file_system_mounted_inside_the_output_is_never_deleted() {
    let dir = scratch_example("sections");
    let root = dir.path();
    expect_built(&run(&["build", "xen.cfg", "-o", "out"], root));
    fs::create_dir(root.join("out/data")).unwrap();
    // In a mount namespace of its own, so the mount ends with the shell.
    let script = format!(
        "mount -t tmpfs xencfg-test out/data || exit 77; echo keep > out/data/file; \
         {xencfg} build xen.cfg -o out --force; echo \"status=$?\"; cat out/data/file",
        xencfg = env!("CARGO_BIN_EXE_xencfg")
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .current_dir(root)
        .output()
        .unwrap();
    if out.status.code() == Some(77) || !out.status.success() && out.stdout.is_empty() {
        eprintln!("skipped: cannot mount a tmpfs here: {}", stderr(&out));
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("status=2"), "{stdout}\n{}", stderr(&out));
    assert!(
        stdout.ends_with("keep\n"),
        "the mounted file survives: {stdout}"
    );
    assert!(
        stderr(&out).contains("data is a mount point inside the output directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_same_inputs_built_in_two_places_give_the_same_bytes() {
    let outputs: Vec<Vec<(String, Vec<u8>)>> = (0..2)
        .map(|i| {
            let dir = scratch_example("sections");
            let root = dir.path();
            fs::create_dir(root.join("xen")).unwrap();
            fs::write(
                root.join("xen/xen.efi"),
                b"an EFI binary, as far as staging cares",
            )
            .unwrap();
            // Absolute paths in one place, the root spelt `D/./` in the other.
            let base = root.display().to_string();
            let root_arg = if i == 0 {
                base.clone()
            } else {
                format!("{base}/./")
            };
            let cfg = format!("{base}/xen.cfg");
            let xen = format!("{base}/xen/xen.efi");
            let out = format!("{base}/out");
            let built = run(
                &[
                    "build",
                    &cfg,
                    "--root",
                    &root_arg,
                    "-o",
                    &out,
                    "--stage",
                    "--xen",
                    &xen,
                    "--xen-version",
                    "4.19",
                ],
                Path::new("/"),
            );
            expect_built(&built);
            let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(root.join("out"))
                .unwrap()
                .flatten()
                .filter(|e| e.file_type().unwrap().is_file())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            let manifest =
                String::from_utf8(fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
            assert!(
                !manifest.contains(&base),
                "an absolute path in:\n{manifest}"
            );
            assert!(
                manifest.contains("\"source\": \"xen/xen.efi\""),
                "{manifest}"
            );
            files
        })
        .collect();
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn output_directory_spelling_mode_and_parents() {
    let dir = scratch_example("sections");
    let root = dir.path();
    // `out/.` is `out`.
    expect_built(&run(&["build", "xen.cfg", "-o", "out/."], root));
    assert!(root.join("out/manifest.json").is_file());

    // A first build gets mkdir's mode under the umask (the staging
    // directory is 0700); a rebuild keeps the mode it was given.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let script = format!(
        "umask 027; {} build xen.cfg -o fresh",
        env!("CARGO_BIN_EXE_xencfg")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(root)
        .output()
        .unwrap();
    expect_built(&out);
    assert_eq!(mode(&root.join("fresh")), 0o750);
    fs::set_permissions(root.join("out"), fs::Permissions::from_mode(0o705)).unwrap();
    expect_built(&run(&["build", "xen.cfg", "-o", "out"], root));
    assert_eq!(mode(&root.join("out")), 0o705, "a rebuild keeps the mode");

    // A build that fails after creating `-o`'s parents removes them.
    let long = "a".repeat(250);
    let out = run(
        &["build", "xen.cfg", "-o", &format!("new/deeper/{long}")],
        root,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !root.join("new").exists(),
        "the parents it created are gone"
    );
}

#[test]
fn a_mount_point_as_output_is_refused_with_the_way_out() {
    let dir = scratch_example("sections");
    let root = dir.path();
    fs::create_dir(root.join("esp")).unwrap();
    let script = format!(
        "mount -t tmpfs xencfg-test esp || exit 77; {} build xen.cfg -o esp --force",
        env!("CARGO_BIN_EXE_xencfg")
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .current_dir(root)
        .output()
        .unwrap();
    if out.status.code() == Some(77) || stderr(&out).contains("unshare failed") {
        eprintln!("skipped: cannot mount a tmpfs here: {}", stderr(&out));
        return;
    }
    expect_refused(&out, &["is a mount point", "Use a directory inside it"]);
}

#[test]
fn a_domain_the_host_dtb_describes_is_checked_staged_and_listed_like_ours() {
    let dir = scratch_example("sections");
    let root = dir.path();
    let (dts, _) = dtc_decompile(&root.join("host.dtb"));
    // After /chosen's properties: dtc wants them before subnodes.
    let dts = dts.replacen(
        "stdout-path = \"/pl011@9000000\";",
        "stdout-path = \"/pl011@9000000\";\n\t\tlegacy {\n\t\t\tcompatible = \"xen,domain\";\n\t\t\t#address-cells = <2>;\n\t\t\t#size-cells = <2>;\n\t\t\tcpus = <1>;\n\t\t\tmemory = <0 0x10000>;\n\t\t\tkernel {\n\t\t\t\tcompatible = \"multiboot,kernel\", \"multiboot,module\";\n\t\t\t\txen,uefi-binary = \"legacy\\\\Image\";\n\t\t\t};\n\t\t};",
        1,
    );
    let compiled = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "host.dtb", "-"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(dts.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(compiled.success());

    // Missing: the check that a module of ours gets, at `dtb=`.
    let out = run(&["check", "xen.cfg"], root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error[XC0401]: `legacy\\Image` does not exist"),
        "{}",
        stderr(&out)
    );

    fs::create_dir(root.join("legacy")).unwrap();
    fs::copy(root.join("Image-guest1.bin"), root.join("legacy/Image")).unwrap();
    expect_built(&run(&["build", "xen.cfg", "-o", "out", "--stage"], root));
    assert_eq!(
        fs::read(root.join("out/legacy/Image")).unwrap(),
        fs::read(root.join("legacy/Image")).unwrap(),
        "staged"
    );
    assert_manifest_true(&root.join("out"));
    let manifest = fs::read_to_string(root.join("out/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"esp_path\": \"legacy\\\\Image\""),
        "{manifest}"
    );
}
