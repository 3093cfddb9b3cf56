# Check and stage a dom0less Xen EFI boot configuration with xencfg.
#
# In a recipe of its own that deploys the ESP contents (see the layer's
# README.md for a complete one):
#
#   inherit xencfg
#   SRC_URI = "file://xen.cfg"
#   XENCFG_BUILD_ARGS = "--xen ${DEPLOY_DIR_IMAGE}/xen-${MACHINE}.efi --efi-name BOOTAA64"
#   XENCFG_DEPLOY_DEPENDS = "virtual/kernel:do_deploy xen:do_deploy core-image-minimal:do_image_complete"
#
# do_xencfg_check runs `xencfg check` as a QA step: an error in the cfg, a
# missing image or a guest Xen would refuse fails the build before anything
# is deployed, with the diagnostics on the console. do_deploy runs
# `xencfg build --stage` into ${DEPLOYDIR}/${XENCFG_DEPLOY_SUBDIR}, the
# directory to copy to \EFI\BOOT (or wherever Xen lives on the ESP).
#
# Paths in the cfg are resolved below XENCFG_ROOT (the deploy directory of
# the images by default); the cfg itself comes from the recipe's files.

DEPENDS += "xencfg-native"

inherit deploy

# The merged DTBs and the staged images are those of one machine.
PACKAGE_ARCH = "${MACHINE_ARCH}"

XENCFG_CFG ?= "${UNPACKDIR}/xen.cfg"
XENCFG_ROOT ?= "${DEPLOY_DIR_IMAGE}"
XENCFG_DEPLOY_SUBDIR ?= "xencfg-esp"
# Options for both steps (e.g. --xen-version 4.17, -D CHECK).
XENCFG_ARGS ?= ""
# Options for `build` only (e.g. --xen FILE, --efi-name BOOTAA64).
XENCFG_BUILD_ARGS ?= ""
# The tasks that put each file the cfg names into XENCFG_ROOT (kernel,
# initramfs or rootfs image, host DTB, Xen). Both steps wait for them, and
# their signatures are part of do_deploy's, so a new kernel, rootfs or DTB
# re-runs the deploy instead of bringing back a stale ESP from sstate.
# It has no default: a partial list is exactly that stale-ESP bug, so the
# recipe must name them all (parsing stops with a message otherwise).
XENCFG_DEPLOY_DEPENDS ??= ""

XENCFG_FUNCTIONS = "${@bb.utils.which(d.getVar('BBPATH'), 'classes/xencfg-functions.sh')}"
# The functions file is part of the tasks' code: edits re-run them.
do_xencfg_check[file-checksums] += "${XENCFG_FUNCTIONS}:True"
do_deploy[file-checksums] += "${XENCFG_FUNCTIONS}:True"

# Only a parse-time check stops a recipe before it deploys a stale ESP.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    if not d.getVar("XENCFG_DEPLOY_DEPENDS").strip():
        bb.fatal("%s inherits xencfg but sets no XENCFG_DEPLOY_DEPENDS: list the tasks that deploy every file its xen.cfg names, e.g. \"virtual/kernel:do_deploy xen:do_deploy core-image-minimal:do_image_complete\"" % d.getVar("PN"))
}

do_xencfg_check[doc] = "Checks the dom0less xen.cfg against the deployed images with xencfg"
do_xencfg_check() {
    . "${XENCFG_FUNCTIONS}"
    xencfg_check_report "${XENCFG_CFG}" "${XENCFG_ROOT}" ${XENCFG_ARGS}
}
do_xencfg_check[depends] += "${XENCFG_DEPLOY_DEPENDS} xencfg-native:do_populate_sysroot"
addtask xencfg_check after do_unpack before do_deploy

do_deploy() {
    . "${XENCFG_FUNCTIONS}"
    xencfg_deploy "${XENCFG_CFG}" "${XENCFG_ROOT}" "${DEPLOYDIR}/${XENCFG_DEPLOY_SUBDIR}" \
        ${XENCFG_ARGS} ${XENCFG_BUILD_ARGS}
}
do_deploy[depends] += "${XENCFG_DEPLOY_DEPENDS} xencfg-native:do_populate_sysroot"
addtask deploy after do_xencfg_check before do_build
