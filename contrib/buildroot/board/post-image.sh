#!/usr/bin/env bash
# Buildroot post-image script: check a dom0less xen.cfg against the images
# just built, then stage the ESP directory of Xen.
#
# In the defconfig (with BR2_PACKAGE_HOST_XENCFG=y):
#   BR2_ROOTFS_POST_IMAGE_SCRIPT="$(BR2_EXTERNAL_XENCFG_PATH)/board/post-image.sh"
#   BR2_ROOTFS_POST_SCRIPT_ARGS="$(BR2_EXTERNAL_XENCFG_PATH)/board/xen.cfg"
#
# Buildroot calls it as `post-image.sh IMAGES_DIR [ARGS...]` with HOST_DIR
# and BINARIES_DIR in the environment. The cfg's paths are resolved in
# IMAGES_DIR; the result is IMAGES_DIR/esp/EFI/BOOT with BOOTAA64.EFI (Xen,
# when IMAGES_DIR/xen exists), BOOTAA64.cfg, the merged DTBs and every file
# the cfg names, and IMAGES_DIR/esp/EFI/BOOT/manifest.json.
#
# Environment: XENCFG (the binary; default $HOST_DIR/bin/xencfg),
# XENCFG_ARGS (extra options for both steps, e.g. "--xen-version 4.17").
set -euo pipefail

images=${1:?usage: post-image.sh IMAGES_DIR XEN_CFG}
cfg=${2:?usage: post-image.sh IMAGES_DIR XEN_CFG}
xencfg=${XENCFG:-${HOST_DIR:?HOST_DIR is not set}/bin/xencfg}
read -r -a extra <<< "${XENCFG_ARGS:-}"

"$xencfg" check "$cfg" --root "$images" --color never "${extra[@]}"

esp="$images/esp/EFI/BOOT"
build=(build "$cfg" --root "$images" --stage --efi-name BOOTAA64 -o "$esp" --color never)
if [[ -f "$images/xen" ]]; then
    build+=(--xen "$images/xen")
fi
mkdir -p "$(dirname "$esp")"
"$xencfg" "${build[@]}" "${extra[@]}"
echo "post-image.sh: ESP contents staged in $esp"
