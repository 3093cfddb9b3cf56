SUMMARY = "Compile and check Xen on Arm64 EFI dom0less boot configurations"
DESCRIPTION = "xencfg reads a Xen EFI cfg extended with dom0less guests, \
validates it against how real Xen behaves, and writes what Xen's EFI \
loader boots: a merged host DTB, a trimmed cfg and a manifest. \
Image recipes use xencfg-native through classes/xencfg.bbclass."
SECTION = "devel"

# xencfg's sources carry no license file yet: set LICENSE and
# LIC_FILES_CHKSUM here once they do.
LICENSE = "CLOSED"

# Where your build fetches xencfg from (a mirror of its repository), and
# the commit to build: pin SRCREV for reproducible images.
XENCFG_GIT_URI ?= "git://git.example.invalid/xencfg.git;protocol=https"
XENCFG_GIT_BRANCH ?= "main"
SRC_URI = "${XENCFG_GIT_URI};branch=${XENCFG_GIT_BRANCH}"
SRCREV ?= "${AUTOREV}"
PV = "0.1.0+git${SRCPV}"
S = "${WORKDIR}/git"

# The crates of Cargo.lock, fetched by BitBake (no network in do_compile).
# Regenerate with contrib/yocto/scripts/gen-crates-inc (or
# `bitbake -c update_crates xencfg`) whenever Cargo.lock changes.
inherit cargo cargo-update-recipe-crates
require ${BPN}-crates.inc

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
