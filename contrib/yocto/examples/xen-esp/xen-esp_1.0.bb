SUMMARY = "Xen ESP directory for a dom0less system"
DESCRIPTION = "Checks xen.cfg against the deployed images with xencfg and \
               deploys the directory of Xen on the ESP (xencfg-esp/)."
SECTION = "bsp"
# CHANGE: the license of your xen.cfg.
LICENSE = "CLOSED"
SRC_URI = "file://xen.cfg"

# This recipe only checks and deploys files: no C compiler, no packages.
INHIBIT_DEFAULT_DEPS = "1"
inherit nopackages xencfg
do_configure[noexec] = "1"
do_compile[noexec] = "1"

# Every task that deploys a file xen.cfg names (CHANGE with your cfg):
# the kernel (Image and the board's DTB), Xen (meta-virtualization's xen
# recipe deploys xen-${MACHINE}.efi) and the image whose cpio.gz is the
# guests' initramfs (IMAGE_FSTYPES must include cpio.gz).
XENCFG_DEPLOY_DEPENDS = "virtual/kernel:do_deploy xen:do_deploy core-image-minimal:do_image_complete"
XENCFG_BUILD_ARGS = "--xen ${DEPLOY_DIR_IMAGE}/xen-${MACHINE}.efi --efi-name BOOTAA64"
