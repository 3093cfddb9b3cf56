# Check and stage a dom0less Xen EFI boot configuration with xencfg.
#
# In the recipe that deploys the ESP contents (an image recipe, or a small
# recipe of its own):
#
#   inherit xencfg
#   SRC_URI += "file://xen.cfg file://host.dtb"
#   XENCFG_BUILD_ARGS = "--xen ${DEPLOY_DIR_IMAGE}/xen-${MACHINE}.efi --efi-name BOOTAA64"
#   XENCFG_DEPLOY_DEPENDS = "virtual/kernel:do_deploy xen:do_deploy core-image-minimal:do_image_complete"
#
# do_xencfg_check runs `xencfg check` as a QA step: an error in the cfg, a
# missing image or a guest Xen would refuse fails the build before anything
# is deployed. do_deploy runs `xencfg build --stage` into
# ${DEPLOYDIR}/${XENCFG_DEPLOY_SUBDIR}, the directory to copy to \EFI\BOOT
# (or wherever Xen lives on the ESP).
#
# Paths in the cfg are resolved below XENCFG_ROOT (the deploy directory of
# the images by default); the cfg itself comes from the recipe's files.

DEPENDS += "xencfg-native"

inherit deploy

XENCFG_CFG ?= "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}/xen.cfg"
XENCFG_ROOT ?= "${DEPLOY_DIR_IMAGE}"
XENCFG_DEPLOY_SUBDIR ?= "xencfg-esp"
# Options for both steps (e.g. --xen-version 4.17, -D CHECK).
XENCFG_ARGS ?= ""
# Options for `build` only (e.g. --xen FILE, --efi-name BOOTAA64).
XENCFG_BUILD_ARGS ?= ""
# The tasks that put the files named in the cfg into XENCFG_ROOT: both
# steps wait for them, and their signatures are part of do_deploy's, so a
# new kernel or rootfs re-runs the deploy (and the sstate cache stays right).
XENCFG_DEPLOY_DEPENDS ?= "virtual/kernel:do_deploy"

XENCFG_FUNCTIONS = "${@bb.utils.which(d.getVar('BBPATH'), 'classes/xencfg-functions.sh')}"
# The functions file is part of the tasks' code: edits re-run them.
do_xencfg_check[file-checksums] += "${XENCFG_FUNCTIONS}:True"
do_deploy[file-checksums] += "${XENCFG_FUNCTIONS}:True"

do_xencfg_check() {
    . "${XENCFG_FUNCTIONS}"
    if ! xencfg_check "${XENCFG_CFG}" "${XENCFG_ROOT}" ${XENCFG_ARGS}; then
        bbfatal "xencfg check found errors in ${XENCFG_CFG} (diagnostics above and in ${T}/log.do_xencfg_check)"
    fi
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
