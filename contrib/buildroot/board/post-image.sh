#!/usr/bin/env bash
# Buildroot post-image script: check a dom0less xen.cfg against the images
# just built, then stage the ESP directory of Xen.
#
# In the defconfig (with BR2_PACKAGE_HOST_XENCFG=y):
#   BR2_ROOTFS_POST_IMAGE_SCRIPT="$(BR2_EXTERNAL_XENCFG_PATH)/board/post-image.sh"
#   BR2_ROOTFS_POST_IMAGE_SCRIPT_ARGS="$(BR2_EXTERNAL_XENCFG_PATH)/board/xen.cfg"
#
# Buildroot calls every post-image script as `SCRIPT IMAGES_DIR
# [BR2_ROOTFS_POST_SCRIPT_ARGS...] [BR2_ROOTFS_POST_IMAGE_SCRIPT_ARGS...]`
# with HOST_DIR, BINARIES_DIR and BR2_CONFIG in the environment. A
# defconfig's own scripts take their arguments first (the qemu defconfigs
# pass $(BR2_DEFCONFIG)), so the cfg is the LAST argument. Its paths are
# resolved in IMAGES_DIR; the result is IMAGES_DIR/esp/EFI/BOOT with
# BOOTAA64.EFI (Xen, when IMAGES_DIR/xen exists), BOOTAA64.cfg, the merged
# DTBs and every file the cfg names, and its manifest.json.
#
# Extra options for both steps (e.g. "--xen-version 4.19") come from
# BR2_PACKAGE_HOST_XENCFG_ARGS in BR2_CONFIG, or from XENCFG_ARGS in the
# environment, which wins. XENCFG names the binary (default
# $HOST_DIR/bin/xencfg).
set -euo pipefail

usage="usage: post-image.sh IMAGES_DIR [ARG...] XEN_CFG"
(($# >= 2)) || { echo "$usage" >&2; exit 2; }
images=$1
cfg=${!#}
xencfg=${XENCFG:-${HOST_DIR:?HOST_DIR is not set}/bin/xencfg}

args=${XENCFG_ARGS-}
if [[ -z ${XENCFG_ARGS+set} && -n ${BR2_CONFIG:-} && -r $BR2_CONFIG ]]; then
    # The .config line is BR2_PACKAGE_HOST_XENCFG_ARGS="...".
    args=$(sed -n 's/^BR2_PACKAGE_HOST_XENCFG_ARGS="\(.*\)"$/\1/p' "$BR2_CONFIG")
fi
read -r -a extra <<< "$args"

"$xencfg" check "$cfg" --root "$images" --color never "${extra[@]}"

esp="$images/esp/EFI/BOOT"
build=(build "$cfg" --root "$images" --stage --efi-name BOOTAA64 -o "$esp" --color never)
if [[ -f "$images/xen" ]]; then
    build+=(--xen "$images/xen")
fi
mkdir -p "$(dirname "$esp")"
"$xencfg" "${build[@]}" "${extra[@]}"
echo "post-image.sh: ESP contents staged in $esp"
