//! Scenario cfgs shared by `tests/boot.rs` (on Debian's Xen 4.17 with
//! EDK2) and `tests/boot_matrix.rs` (on every release and firmware). The
//! host DTB is `virt.dtb`, the kernel `Image`, the initramfs `initrd.gz`
//! (see `harness::Project::new`).

/// Files in subdirectories, written with `/` (and once with `\`): EDK2
/// rejects `/` (`handmade_forward_slash_module_path_fails_on_xen`), so
/// xencfg must emit `\`. Both guests name the same files, so Xen loads each
/// once.
pub const SUBDIR_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=dt/virt.dtb
domains=domU1,domU2

[domU1]
kernel=domu/Image console=ttyAMA0 xencfg.name=domU1
ramdisk=initrd/guest.cpio.gz
cpus=1
memory=192M
vpl011

[domU2]
kernel=domu\\Image console=ttyAMA0 xencfg.name=domU2
ramdisk=initrd\\guest.cpio.gz
cpus=1
memory=128M
vpl011
";

/// dom0 (from the cfg's `kernel=`/`ramdisk=`, in a subdirectory) plus two
/// dom0less guests in the two forms mixed: `domains=` comes first, so
/// `helper` is domain 1 and the flat `domU1` domain 2. The overlay disables
/// QEMU's GPIO controller, which dom0 crashes on (reference finding 11).
pub const DOM0_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0 dom0_mem=512M
kernel=dom0/Image console=hvc0 xencfg.name=dom0 xencfg.role=dom0
ramdisk=dom0/initrd.gz
dtb=virt.dtb
dtbo=no-gpio.dtbo
domains=helper
domu1_kernel=Image console=ttyAMA0 xencfg.name=domU1
domu1_ramdisk=initrd.gz
domu1_property=cpus=1
domu1_property=memory=128M
domu1_property=vpl011

[helper]
kernel=Image console=ttyAMA0 xencfg.name=helper
ramdisk=initrd.gz
cpus=1
memory=192M
vpl011
";

pub const NO_GPIO_DTS: &str =
    "/dts-v1/;\n/plugin/;\n\n&{/pl061@9030000} {\n\tstatus = \"disabled\";\n};\n";

/// Issue 5's proof: `passthrough=` builds the guest's fragment from the
/// machine's own `/pl031@9010000` (with `xen,force-assign-without-iommu`,
/// QEMU virt has no IOMMU) and the guest sees the device under
/// `/proc/device-tree/passthrough`.
pub const PASSTHROUGH_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=rtc

[rtc]
kernel=Image console=ttyAMA0 xencfg.name=rtc
ramdisk=initrd.gz
cpus=1
memory=192M
vpl011
passthrough=/pl031@9010000
";

/// Issue 4 on Debian's 4.17 build (CONFIG_STATIC_EVTCHN): a static event
/// channel between two guests with `xen,enhanced = "no-xenstore"`; Xen
/// creates both ends at boot and both guests come up.
pub const EVTCHN_CFG: &str = "\
[global]
default=xen

[xen]
options=console=dtuart bootscrub=0
dtb=virt.dtb
domains=ping,pong

[ping]
kernel=Image console=ttyAMA0 xencfg.name=ping
ramdisk=initrd.gz
cpus=1
memory=192M
vpl011
xen,enhanced=no-xenstore
evtchn=10 pong:20

[pong]
kernel=Image console=ttyAMA0 xencfg.name=pong
ramdisk=initrd.gz
cpus=1
memory=192M
vpl011
xen,enhanced=no-xenstore
";
