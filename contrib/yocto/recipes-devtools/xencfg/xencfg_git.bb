SUMMARY = "Compile and check Xen on Arm64 EFI dom0less boot configurations"
DESCRIPTION = "xencfg reads a Xen EFI cfg extended with dom0less guests, \
               validates it against how real Xen behaves, and writes what \
               Xen's EFI loader boots: a merged host DTB, a trimmed cfg and \
               a manifest. Image recipes use xencfg-native through \
               classes/xencfg.bbclass."
SECTION = "devel"
CVE_PRODUCT = "xencfg"

LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = "file://LICENSE-MIT;md5=0a663c7774bad5c0a3e35b7dd16d12c5 \
                    file://LICENSE-APACHE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# Where your build fetches xencfg from and the commit it builds, for every
# variant (xencfg, xencfg-native, nativesdk-xencfg) at once: set both in
# local.conf or a distro config (see the layer's README). Without them the
# recipe is skipped with a message saying so, instead of failing to parse.
XENCFG_GIT_URI ??= ""
XENCFG_GIT_BRANCH ??= "main"
XENCFG_SRCREV ??= ""
PV = "0.1.0+git"
SRC_URI = "${XENCFG_GIT_URI};branch=${XENCFG_GIT_BRANCH}"
SRCREV = "${XENCFG_SRCREV}"
# The git fetcher's checkout (whinlatter and later unpack into UNPACKDIR).
S = "${UNPACKDIR}/${BB_GIT_DEFAULT_DESTSUFFIX}"

# The crates of Cargo.lock, fetched by BitBake (no network in do_compile).
# Regenerate with contrib/yocto/scripts/gen-crates-inc (or
# `bitbake -c update_crates xencfg`) whenever Cargo.lock changes.
inherit cargo cargo-update-recipe-crates
require ${BPN}-crates.inc

# A parse-time check is what skips the recipe with a reason (anonymous
# python is the only place for it); it reads two variables, nothing else.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    missing = [v for v in ("XENCFG_GIT_URI", "XENCFG_SRCREV") if not d.getVar(v)]
    if missing:
        raise bb.parse.SkipRecipe("set %s in local.conf: where xencfg is fetched from and the commit to build (see meta-xencfg's README.md)" % " and ".join(missing))
}

# The man pages and shell completions are generated and committed in the
# source tree (man/, completions/).
do_install:append() {
    install -d ${D}${mandir}/man1 ${D}${mandir}/man5
    install -m 0644 ${S}/man/*.1 ${D}${mandir}/man1/
    install -m 0644 ${S}/man/*.5 ${D}${mandir}/man5/
    install -d ${D}${datadir}/bash-completion/completions
    install -m 0644 ${S}/completions/xencfg.bash ${D}${datadir}/bash-completion/completions/xencfg
}

FILES:${PN} += "${datadir}/bash-completion"

BBCLASSEXTEND = "native nativesdk"
