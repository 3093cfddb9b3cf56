# shellcheck shell=sh
# The shell side of classes/xencfg.bbclass, in a file of its own so that
# it runs (and is tested) outside BitBake. POSIX sh, as BitBake runs shell
# tasks with /bin/sh. The xencfg binary is $XENCFG, else `xencfg` from PATH
# (xencfg-native's sysroot in a build).

# xencfg_check CFG ROOT [OPTION...]
# Validate CFG, with the files it names looked up below ROOT. Prints the
# diagnostics; returns 0 (warnings allowed), 1 (errors) or 2 (cannot run).
xencfg_check() {
    if [ "$#" -lt 2 ]; then
        echo "usage: xencfg_check CFG ROOT [OPTION...]" >&2
        return 2
    fi
    xencfg_cfg=$1
    xencfg_root=$2
    shift 2
    "${XENCFG:-xencfg}" check "$xencfg_cfg" --root "$xencfg_root" --color never "$@"
}

# xencfg_deploy CFG ROOT OUT [OPTION...]
# Compile CFG and stage every file it names into OUT (created by xencfg;
# it must not exist or must be an earlier xencfg output), so that OUT is
# the directory of Xen on the ESP. Pass --xen FILE to stage Xen as well.
xencfg_deploy() {
    if [ "$#" -lt 3 ]; then
        echo "usage: xencfg_deploy CFG ROOT OUT [OPTION...]" >&2
        return 2
    fi
    xencfg_cfg=$1
    xencfg_root=$2
    xencfg_out=$3
    shift 3
    "${XENCFG:-xencfg}" build "$xencfg_cfg" --root "$xencfg_root" --stage \
        -o "$xencfg_out" --color never "$@"
}
