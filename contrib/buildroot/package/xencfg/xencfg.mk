################################################################################
#
# xencfg
#
################################################################################

# Only the host package exists (host-xencfg): xencfg runs at image build
# time. Buildroot names a package after its directory, and
# host-cargo-package prefixes host-, so the directory is package/xencfg.
XENCFG_VERSION = $(call qstrip,$(BR2_PACKAGE_HOST_XENCFG_GIT_VERSION))
XENCFG_SITE = $(call qstrip,$(BR2_PACKAGE_HOST_XENCFG_GIT_URL))
XENCFG_SITE_METHOD = git
XENCFG_LICENSE = MIT or Apache-2.0
XENCFG_LICENSE_FILES = LICENSE-MIT LICENSE-APACHE

# The cargo infrastructure vendors Cargo.lock's crates at download time
# and builds with --offline --locked.
$(eval $(host-cargo-package))
