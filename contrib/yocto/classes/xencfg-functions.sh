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

# xencfg_check_report CFG ROOT [OPTION...]
# The QA step of the class: run xencfg_check and hand its diagnostics to
# BitBake's bbfatal (errors) or bbwarn (warnings only), which print them on
# the console; a plain `echo` would reach only the task log. Outside
# BitBake, bbfatal and bbwarn are whatever the caller defines.
xencfg_check_report() {
    xencfg_status=0
    xencfg_out=$(xencfg_check "$@" 2>&1) || xencfg_status=$?
    if [ "$xencfg_status" -ne 0 ]; then
        bbfatal "xencfg check failed on $1:
$xencfg_out"
        return "$xencfg_status"
    fi
    if [ -n "$xencfg_out" ]; then
        bbwarn "xencfg check warns about $1:
$xencfg_out"
    fi
    return 0
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
