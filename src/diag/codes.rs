//! Every check xencfg runs, as one table (after dtc's `checks.c`).
//!
//! A check is a stable code (`XC0104`), a kebab-case name, a default
//! severity, a one-line summary and an explanation printed by
//! `xencfg checks CODE`. Adding a check is adding one entry here; the code
//! that detects it refers to the constant, so a code can never be misspelt.
//!
//! Code ranges: XC01xx cfg text as Xen reads it, XC02xx structure of the
//! cfg, XC03xx property values, XC04xx referenced files and images, XC05xx
//! ESP paths, XC06xx guest naming and limits, XC07xx host device tree and
//! `/chosen`, XC08xx device passthrough (fragments and `passthrough=`),
//! XC09xx the target Xen build, XC10xx guest resources (memory, static
//! memory, shared memory, event channels, cpupools, vCPU affinity,
//! xenstore, the static heap), XC11xx importing other tools' configs.

use super::Severity;

#[derive(Debug, PartialEq, Eq)]
pub struct Check {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
}

macro_rules! checks {
    ($( $ident:ident = $code:literal $name:literal $sev:ident
        summary: $summary:literal
        explain: $expl:literal; )*) => {
        $( pub static $ident: Check = Check {
            code: $code,
            name: $name,
            severity: Severity::$sev,
            summary: $summary,
            explanation: $expl,
        }; )*
        /// All checks, in code order.
        pub static ALL: &[&Check] = &[$(&$ident),*];
    };
}

/// Find a check by code (`XC0101`, case-insensitive) or name.
pub fn find(code_or_name: &str) -> Option<&'static Check> {
    ALL.iter()
        .copied()
        .find(|c| c.code.eq_ignore_ascii_case(code_or_name) || c.name == code_or_name)
}

checks! {
    BLANK_BEFORE_EQUALS = "XC0101" "blank-before-equals" Warning
        summary: "a blank between a key and `=` hides the key from Xen"
        explain: "Xen matches a key only when `=` follows it immediately. `kernel =Image` is not the key `kernel`: Xen ignores the whole line.\n\nWrong:  kernel =Image console=hvc0\nRight:  kernel=Image console=hvc0";
    CONTROL_BYTE = "XC0102" "control-byte" Warning
        summary: "a TAB or other control byte splits the line for Xen"
        explain: "Xen's cfg parser turns every control byte (TAB, VT, FF, DEL, NUL, a CR not followed by LF, ...) into a line end. Whatever follows a TAB is read as a new line, so `options=a<TAB>kernel=b` defines a `kernel=` key, and a `# comment<TAB>kernel=b` is no longer commented out after the TAB. A TAB used as indentation at the start of a line, or before a `#` comment, is harmless and not reported.\n\nWrong:  options=console=dtuart<TAB>bootscrub=0\nRight:  options=console=dtuart bootscrub=0";
    HASH_IN_VALUE = "XC0103" "hash-in-value" Warning
        summary: "`#` anywhere starts a comment, truncating the value"
        explain: "Xen treats `#` as the start of a comment wherever it appears, with no escaping. A value containing `#` is cut there (`property=#address-cells=2` has an empty value). An inline comment after a value does work as a comment, but the blanks before `#` stay in the value, so `ramdisk=initrd.img # dom0` names the file `initrd.img `.\n\nWrong:  options=console=dtuart # serial\nRight:  # serial console\n        options=console=dtuart";
    TRAILING_BLANKS = "XC0104" "trailing-blanks" Warning
        summary: "trailing blanks are part of the value Xen reads"
        explain: "Xen keeps trailing blanks in values: `ramdisk=initrd.img ` names the file `initrd.img ` and `default=xen ` names a section that does not exist. Remove them.";
    DUPLICATE_KEY = "XC0105" "duplicate-key" Warning
        summary: "a key repeated in a section: Xen reads only the first"
        explain: "Xen's lookup returns the first `key=` of the section; later ones are never read. Keep one.";
    DUPLICATE_SECTION = "XC0106" "duplicate-section" Warning
        summary: "a section repeated: Xen reads only the first"
        explain: "Xen stops searching a section at the next header of any name, so only the first `[name]` section is ever read. Merge the two sections.";
    NON_ASCII = "XC0107" "non-ascii" Warning
        summary: "a byte outside 7-bit ASCII in the cfg"
        explain: "Xen widens each byte to one UCS-2 unit (Latin-1), so UTF-8 text becomes mojibake in file names and command lines, and 0xA0 counts as a blank. The cfg format is plain ASCII.";
    BOM = "XC0108" "byte-order-mark" Error
        summary: "a UTF-8 byte order mark glues itself to the first line"
        explain: "Xen does not skip a BOM: the bytes EF BB BF become part of the first line, so a first-line `[global]` is no longer a section header. Save the file without a BOM.";
    NO_FINAL_NEWLINE = "XC0109" "no-final-newline" Warning
        summary: "the last line has no newline"
        explain: "When the last byte of the file is part of a line Xen reads (not a line end and not inside a comment), Xen 4.15-4.21 print \"No newline at end of config file, last line will be ignored.\" and then read past the end of the buffer while scanning that line, so its value may pick up garbage. Xen 4.22 terminates the buffer itself. End the file with a newline.";
    DEFAULT_OUTSIDE_GLOBAL = "XC0110" "default-outside-global" Warning
        summary: "`default=` is only read in `[global]`"
        explain: "Xen looks up `default=` in `[global]` only. Anywhere else it is ignored and no section is selected, so every lookup searches the whole file for the first occurrence of its key.";
    DEFAULT_UNKNOWN_SECTION = "XC0111" "default-unknown-section" Error
        summary: "`default=` names no section (or is empty)"
        explain: "`default=` is used byte for byte. When it names no section, every section-scoped key (`options=`, `kernel=`, `dtb=`, ...) is silently not found: Xen boots without the host DTB and the options. An empty `default=` makes Xen search the whole file instead.";
    KEY_BEFORE_SECTION = "XC0112" "key-before-section" Warning
        summary: "a key before the first section header"
        explain: "Keys above the first `[section]` are never found once a section is selected. Move them into a section.";
    IGNORED_KEY = "XC0113" "ignored-key" Warning
        summary: "a key that neither Xen nor xencfg reads"
        explain: "Xen looks up a fixed set of keys (`options`, `kernel`, `ramdisk`, `xsm`, `dtb`, `video`, `ucode`, `default`, `chain`); xencfg adds the dom0less keys. Anything else is ignored, usually a typo.";
    MALFORMED_HEADER = "XC0114" "malformed-header" Warning
        summary: "a section header Xen does not read as intended"
        explain: "A header matches when the bytes after `[` equal the section name exactly and the next byte is `]`. `[ xen ]` or `[xen` never match; anything after `]` is ignored.";
    LINE_WITHOUT_KEY = "XC0115" "line-without-key" Warning
        summary: "a line that is neither a header, a comment nor `key=value`"
        explain: "Xen ignores a line without `=` (and one that starts with `=`). A single bare word is only meaningful to xencfg as a flag property in a guest section (e.g. `vpl011`); the lexer hands bare words on and reports only lines that cannot be one, such as `kernel Image` or `memory: 1G`.\n\nWrong:  kernel Image-domu1\nRight:  kernel=Image-domu1";
    UTF16 = "XC0116" "utf16-file" Error
        summary: "the cfg is UTF-16 or binary, not text"
        explain: "Xen reads the cfg as bytes; in a UTF-16 file every other byte is NUL, which ends the line, so Xen finds no key at all. A file full of NUL or other control bytes is not a cfg either. xencfg reports it once and reads nothing from it. Save the file as ASCII.";
    SEMICOLON_IN_VALUE = "XC0117" "semicolon-in-value" Warning
        summary: "`;` after a blank inside a line is not a comment"
        explain: "Xen treats `;` as a comment only as the first non-blank byte of a line. An INI-style inline comment such as `kernel=Image ; dom0` stays in the value: Xen passes `; dom0` to dom0 as part of its command line.\n\nWrong:  ramdisk=initrd.img ; dom0 initrd\nRight:  ; dom0 initrd\n        ramdisk=initrd.img";

    NO_BOOT_SECTION = "XC0201" "no-boot-section" Error
        summary: "the cfg has no section Xen would boot"
        explain: "A boot section holds `options=`, `dtb=` and the guests. Without one (and a `[global] default=` naming it) Xen finds no host DTB and no options.";
    UNKNOWN_GUEST_SECTION = "XC0202" "unknown-guest-section" Error
        summary: "`domains=`/`guests=` names a section that does not exist"
        explain: "Every name in `domains=` (or `guests=`) must be a `[section]` describing the guest.";
    GUEST_WITHOUT_KERNEL = "XC0203" "guest-without-kernel" Error
        summary: "a guest has no kernel"
        explain: "Xen needs a `multiboot,kernel` module in every `xen,domain` node (\"Missing kernel boot module?\" then panic). Give the guest `kernel=` (section form) or `domu#_kernel=` (flat form).";
    UNKNOWN_PROPERTY = "XC0204" "unknown-property" Error
        summary: "a property name that is not part of the `xen,domain` binding"
        explain: "Xen ignores properties it does not know, so a misspelt `cpu=2` silently leaves the guest without `cpus`. To pass a property through on purpose, give it an explicit DT value: `property=foo=<1 2>`, `property=bar=\"text\"` or `property=baz=[de ad]`.";
    RAW_PROPERTY = "XC0205" "raw-property" Warning
        summary: "a property passed through as a raw DT value"
        explain: "xencfg writes a raw `property=NAME=VALUE` into the domain node as given, without knowing what Xen does with it. Prefer the typed key when one exists.";
    CHAIN_CYCLE = "XC0206" "chain-cycle" Error
        summary: "`chain=` files form a cycle"
        explain: "Xen follows `chain=` while it finds no `kernel=`; a cycle loops forever at boot.";
    CHAIN_USED = "XC0207" "chain-used" Warning
        summary: "`chain=` is followed for checking but never emitted"
        explain: "Xen frees the current cfg before it reads the chained file while still pointing into it; it works only because firmware rarely reuses freed pages. xencfg checks the chained files but emits one self-contained cfg.";
    DUPLICATE_GUEST = "XC0208" "duplicate-guest" Error
        summary: "a guest named twice in one boot section"
        explain: "Each guest is one `xen,domain` node; listing it twice would create the same node twice.";
    GUEST_KEY_REPEATED = "XC0209" "guest-module-repeated" Error
        summary: "a guest module key given twice"
        explain: "`domu#_kernel`, `_ramdisk` and `_dtb` may appear once per guest. With several kernel modules Xen takes the last one, which is rarely what was meant.";
    SECTION_BOTH_KINDS = "XC0210" "guest-section-has-boot-keys" Warning
        summary: "a guest section holds keys only a boot section uses"
        explain: "A section named in `domains=` describes a guest; `options=`, `xsm=` or `domains=` in it are ignored.";
    MISSING_HOST_DTB = "XC0211" "missing-host-dtb" Error
        summary: "a boot section with guests or overlays has no `dtb=`"
        explain: "Guests are described in the host device tree, which xencfg builds from the boot section's `dtb=`, and `dtbo=` overlays are applied to it. Without it there is nothing to add the guests to or apply the overlays to. A section with dom0 alone needs no `dtb=`: Xen then boots on the firmware's device tree, and xencfg writes no DTB for it.";
    UNKNOWN_SECTION_ARG = "XC0212" "unknown-section" Error
        summary: "`--section` names no boot section"
        explain: "The section given on the command line must be a boot section of the cfg.";
    NOTHING_TO_BOOT = "XC0213" "nothing-to-boot" Error
        summary: "a boot section with neither dom0 nor guests"
        explain: "Without `kernel=` and without dom0less guests Xen stops with \"No initial domain kernel specified.\".";
    NO_DEFAULT_SECTION = "XC0214" "no-default-section" Warning
        summary: "no `[global] default=`"
        explain: "Without `default=` (and no section on Xen's command line) Xen selects no section and looks every key up in the whole file, taking its first occurrence anywhere. xencfg emits `default=` naming the first boot section, which is what such a file usually means; say so explicitly.";
    FIRMWARE_DEVICE_TREE = "XC0215" "firmware-device-tree" Warning
        summary: "a boot section without `dtb=` boots on the firmware's device tree"
        explain: "Without `dtb=` Xen takes the device tree the firmware installed as an EFI configuration table, which xencfg cannot see or check, and xencfg writes no DTB for the section. Firmware that installs ACPI tables instead (EDK2 on QEMU's virt machine by default, many servers) leaves Xen an empty tree: a Xen built without ACPI support (Debian's, upstream's default) then stops before its first console line. Seen on Xen 4.17 under QEMU: silent with ACPI on, dom0 boots with `acpi=off`. Give the section `dtb=` with the board's DTB, or allow this check when the firmware is known to provide one.";
    UNLISTED_GUEST_SECTION = "XC0216" "unlisted-guest-section" Error
        summary: "a section that looks like a guest is listed by no boot section"
        explain: "Xen boots only the guests that a boot section's `domains=` (or `guests=`) names. A section with guest keys (`kernel=` with `cpus`, `memory`, `vpl011`, ...) or the guest marker (an empty `property=` or `properties=`) that no list names is never booted; read as a boot section it would be a dom0 without options or DTB, so xencfg reports it once, here, and checks nothing else in it.\n\nWrong:  [xen]\n        domains=linux1\n        [rtos]\n        property=\n        kernel=zephyr.bin\nRight:  [xen]\n        domains=linux1,rtos";
    PROPERTY_XENCFG_WRITES = "XC0220" "property-xencfg-writes" Error
        summary: "a raw property that xencfg writes itself on a domain node"
        explain: "xencfg writes `compatible = \"xen,domain\"`, `#address-cells`, `#size-cells` and the phandles of every domain node. Xen finds guests by that `compatible`: another value makes it skip the guest without a word; other cells change what every `reg` below means, and a fixed phandle may be the host's (the GIC's is often 1).";

    BAD_NUMBER = "XC0301" "bad-number" Error
        summary: "a value that is not a number of the expected form"
        explain: "Numbers are decimal or `0x` hex, with optional `_` separators; sizes may carry a binary unit `K`, `M`, `G` or `T`.";
    BAD_MEMORY = "XC0302" "bad-memory" Error
        summary: "`memory` is zero or not a multiple of 4 KiB"
        explain: "Xen allocates guest memory in 4 KiB pages. A size that is not a multiple of 4 KiB makes the allocator's remainder underflow: Xen stalls right after \"Loading ramdisk from boot module\" for the first guest and no guest starts (real Xen 4.17 printed nothing more in 300 s; the source can end in the panic \"Failed to allocate requested domain memory\"). A bare number is KiB: `memory=0xC0000` is 768 MiB.";
    BAD_CPUS = "XC0303" "bad-cpus" Error
        summary: "`cpus` is outside 1..128"
        explain: "Xen on arm64 creates at most 128 vCPUs per domain (MAX_VIRT_CPUS, and the vGICv3 redistributor region); 0 fails domain creation. Xen panics \"Error creating domain\".";
    BAD_FLAG = "XC0304" "bad-flag" Error
        summary: "a flag whose value is not yes/no"
        explain: "Flags (`vpl011`, `direct-map`) are written bare or as `=yes|no|true|false|on|off|1|0`.";
    BAD_RAW_VALUE = "XC0305" "bad-raw-value" Error
        summary: "a raw DT value that does not parse"
        explain: "Raw values are `<cells>` (u32 numbers), `\"string\"` or `[hex bytes]`.";
    MISSING_REQUIRED = "XC0306" "missing-required-property" Error
        summary: "a guest lacks `cpus` or `memory`"
        explain: "Xen panics at boot when a `xen,domain` node has no `cpus` (\"Missing property 'cpus'\") or no `memory` (\"cannot read memory\").";
    BAD_STRING = "XC0307" "bad-string-value" Error
        summary: "a string property with a value Xen does not accept"
        explain: "Some string properties accept a fixed set of values; anything else is ignored by Xen or makes it panic. The values are those of Xen's binding (docs/misc/arm/device-tree/booting.txt): `xen,enhanced` is `enabled` (also written bare, as the binding allows), `disabled`, `no-xenstore` or `legacy` (4.21+); `passthrough` is `enabled` or `disabled`.\n\nWrong:  xen,enhanced=yes\nRight:  xen,enhanced=enabled";
    BAD_SVE = "XC0308" "bad-sve" Error
        summary: "`sve` is not empty, 0, or a multiple of 128 up to 2048"
        explain: "`sve` gives a guest SVE: empty (a bare `sve` or `sve=max`) asks for the largest vector length the hardware has, 0 disables it, anything else is a vector length in bits that must be a multiple of 128 and at most 2048 (and at most what the CPU supports). Xen panics at boot on any other value, and on `sve` for a 32-bit (zImage) kernel.\n\nWrong:  sve=100\nRight:  sve=256";
    VALUE_TOO_NEW = "XC0309" "value-too-new" Error
        summary: "a property value that the target Xen does not know yet"
        explain: "Some values were added after their property: `xen,enhanced=legacy` is read from Xen 4.21 on. Older releases treat an unknown value like no property at all, so the guest silently gets no PV interfaces. Use a value the target knows, or target the newer release with `--xen-version`.";
    BAD_LLC_COLORS = "XC0310" "bad-llc-colors" Error
        summary: "`llc-colors` is not a list of colors and ranges"
        explain: "`llc-colors` is a comma-separated list of color numbers and inclusive ranges, e.g. `0-3,8`. Xen panics (\"parse error\") on anything else, and on a range whose start is above its end.\n\nWrong:  llc-colors=0..3\nRight:  llc-colors=0-3";
    NR_SPIS_VPL011 = "XC0311" "nr-spis-vpl011" Error
        summary: "`nr_spis=0` together with `vpl011`"
        explain: "The emulated PL011 uses SPI 0 (vIRQ 32). Xen raises the SPI count for it only when `nr_spis` is absent; an explicit `nr_spis=0` leaves no SPI and domain creation panics. Drop `nr_spis`, or give at least 1.";
    GRANT_VERSION = "XC0312" "grant-version" Error
        summary: "`max_grant_version=2` while Xen allows only version 1"
        explain: "On Arm Xen's grant table is limited to version 1 unless Xen's command line says `gnttab=max-ver:2`; a guest asking for more fails domain creation and Xen panics. Add `gnttab=max-ver:2` to `options=`, or use `max_grant_version=1`.";
    SVE_32BIT = "XC0313" "sve-32bit-kernel" Error
        summary: "`sve` for a guest with a 32-bit kernel"
        explain: "SVE is an AArch64 feature: Xen refuses `sve` for a domain whose kernel is an arm32 zImage and panics at boot. Remove `sve`, or boot a 64-bit Image.";
    BAD_CAPABILITIES = "XC0314" "bad-capabilities" Error
        summary: "a `capabilities` value Xen does not accept"
        explain: "`capabilities` is a bitmask, written as names (`control`, `hardware`, `xenstore`, joined by `,` or `|`) or as a number from 0 to 7: 0x1 control, 0x2 hardware, 0x4 xenstore. Other bits make Xen panic.";


    FILE_MISSING = "XC0401" "file-missing" Error
        summary: "a referenced file does not exist"
        explain: "Every file named in the cfg is mandatory for Xen once named: a missing one stops the EFI loader (\"Open failed for ...\").";
    FILE_NOT_REGULAR = "XC0402" "file-not-regular" Error
        summary: "a referenced path is not a regular file"
        explain: "Directories, FIFOs and devices cannot be put on the ESP as boot files.";
    FILE_EMPTY = "XC0403" "file-empty" Error
        summary: "a referenced file is empty"
        explain: "Xen rejects a zero-size kernel (\"Missing kernel boot module?\"), and loading an empty file is firmware-dependent.";
    KERNEL_FORMAT = "XC0404" "kernel-format" Error
        summary: "a kernel that Xen cannot boot"
        explain: "Xen on Arm boots an arm64 Image, a gzip-compressed kernel, a uImage or an arm32 zImage. xz, lz4, zstd, bzip2, lzma, EFI zboot and ELF kernels make the kernel probe fail and Xen panics.";
    SHARED_COMPRESSED_KERNEL = "XC0405" "shared-compressed-kernel" Error
        summary: "two guests share one gzip-compressed kernel file"
        explain: "Xen loads each distinct `xen,uefi-binary` file once. Decompressing a gzip kernel replaces the shared module with the decompressed copy, so the second guest finds no kernel: \"Missing kernel boot module?\" and a panic. Seen on real Xen 4.17. Give each guest its own file name (a copy).";
    TOO_MANY_EFI_FILES = "XC0406" "too-many-efi-files" Error
        summary: "more than 30 files for the EFI loader"
        explain: "Xen's EFI stub loads at most 30 modules (MAX_MODULES 32 minus Xen and the DTB), counting cfg `kernel=`/`ramdisk=`/`xsm=` and each distinct `xen,uefi-binary`. Past that it stops with \"No space left for modules\".";
    BAD_HOST_DTB = "XC0407" "bad-dtb" Error
        summary: "a device tree blob that cannot be read"
        explain: "The host DTB (and overlays, fragments) must be valid flattened device trees: Xen stops with \"Unable to create new FDT\" otherwise.";
    FILE_UNREADABLE = "XC0408" "file-unreadable" Error
        summary: "a referenced file cannot be read"
        explain: "xencfg must read every file to check and hash it.";
    RAMDISK_LOOKS_WRONG = "XC0409" "ramdisk-format" Warning
        summary: "a ramdisk that looks like a kernel or a device tree"
        explain: "Xen does not inspect ramdisks, so a swapped kernel and initrd boots into a crash. A ramdisk is usually a cpio archive, compressed or not.";

    ESP_RESERVED_CHAR = "XC0501" "esp-reserved-char" Error
        summary: "a path with a character FAT does not allow"
        explain: "FAT names cannot contain `\" * : < > ? |` or control bytes; the file cannot be put on the ESP under that name.";
    ESP_ESCAPE = "XC0502" "esp-escape" Error
        summary: "a path that leaves the directory of the Xen binary"
        explain: "Xen opens files relative to the directory of xen.efi and hands `..` to the firmware as it is. xencfg stages every file below that directory, so it rejects absolute paths (the volume root) and every `..` component: write the path from Xen's directory down.";
    ESP_CASE_CLASH = "XC0503" "esp-case-clash" Error
        summary: "two paths that differ only in case"
        explain: "FAT is case-insensitive: both names find the same file, while Xen compares `xen,uefi-binary` strings case-sensitively and loads it twice. Spell every reference to a file the same way.";
    ESP_NON_ASCII = "XC0504" "esp-non-ascii" Error
        summary: "a path with a non-ASCII byte"
        explain: "Xen widens each byte to one UCS-2 unit, so UTF-8 names never match the FAT long name. Use ASCII names.";
    ESP_BAD_NAME = "XC0505" "esp-bad-name" Error
        summary: "a path with an empty, too long or trailing-dot component"
        explain: "FAT long names are at most 255 characters; EDK2 strips trailing dots and blanks from a component, so `a.` and `a` are one file.";
    ESP_SLASH = "XC0506" "forward-slash" Error
        summary: "a `xen,uefi-binary` in the host DTB written with `/`"
        explain: "EDK2's FAT driver splits paths only on `\\` and rejects `/` (\"Open failed for domu/Image\" on real Xen 4.17). xencfg accepts `/` on input and emits `\\`; in a hand-written DTB or a cfg not built by xencfg, use `\\`.";

    ESP_OUTPUT_CLASH = "XC0507" "output-name-clash" Error
        summary: "a file name xencfg writes is also another file's, on FAT"
        explain: "The output directory is the directory of Xen on the ESP: it holds `<efi-name>.cfg`, `<efi-name>.efi`, one `<section>.dtb` per boot section with `dtb=` (and `<section>.dts` with `--emit-dts`), `manifest.json`, and with `--stage` every module at its path. FAT compares names without case, so `[xen]` and `[XEN]` write one file, `xen.dtb`, and a kernel named `XEN.DTB` or `manifest.json` replaces a file xencfg wrote. Each name must be unique, case aside.";

    GUEST_NAME_INVALID = "XC0601" "guest-name-invalid" Error
        summary: "a guest name that is not a valid DT node name"
        explain: "The guest's node is `/chosen/<name>`. Node names use letters, digits and `,._+-`, at most 31 characters by the DT spec (Xen reads up to 40).";
    GUEST_NAME_AT = "XC0602" "guest-name-unit-address" Error
        summary: "a guest name with `@`"
        explain: "Xen stores the kernel command line under the full node name (`domU@1`) but looks it up by the name before `@`: the guest silently loses its bootargs.";
    GUEST_NAME_LONG = "XC0603" "guest-name-too-long" Error
        summary: "a guest name longer than 40 characters"
        explain: "Xen keeps 40 characters of a domain name (DT_MAX_NAME 41); a longer name loses its bootargs, and names sharing their first 40 characters collide.";
    GUEST_NAME_DUP = "XC0604" "guest-name-duplicate" Error
        summary: "two guests with the same node name"
        explain: "Two nodes of one name cannot coexist under `/chosen`.";
    GUEST_NAME_RESERVED = "XC0605" "guest-name-reserved" Error
        summary: "a guest name that clashes with Xen's own names"
        explain: "A domain named `chosen` picks up dom0's command line; `kernel`, `ramdisk` and `xsm` clash with the nodes the EFI stub adds for the cfg's dom0 modules.";
    BOOTARGS_TOO_LONG = "XC0606" "bootargs-too-long" Error
        summary: "a kernel command line of 1024 bytes or more"
        explain: "Xen keeps module command lines in 1024-byte buffers: 1024 bytes is silently cut to 1023, and a longer one stops Xen at early boot, before its console is up: the panic (\"command line too long\") is never printed, nothing follows the EFI loader's lines.";
    OPTIONS_TOO_LONG = "XC0607" "options-too-long" Error
        summary: "the Xen command line does not fit 4095 bytes"
        explain: "The EFI stub builds the Xen command line in a 4096-byte buffer and stops with \"FDT string overflow\" when it does not fit.";
    EMPTY_OPTIONS = "XC0608" "empty-options" Error
        summary: "`options=` is missing or empty"
        explain: "Xen 4.19+ may boot with an uninitialised (garbage) command line when the cfg has no `options=` and the DTB no `xen,xen-bootargs`; an empty `options=` discards the DTB's. xencfg always emits a non-empty `options=`.";

    CONSOLE_BAD_OPTION = "XC0609" "console-bad-option" Warning
        summary: "a `console=` item Xen does not know"
        explain: "Xen reads `console=` as a comma-separated list of `dtuart`, `com1`, `com2`, `dbgp`, `ehci`, `xhci`, `vga`, `pv` and `none` (console.c, serial.c). Anything else is reported as \"Bad console= option\" and ignored.\n\nWrong:  options=console=ttyAMA0\nRight:  options=console=dtuart";
    CONSOLE_WITHOUT_DTUART = "XC0610" "console-without-dtuart" Warning
        summary: "`console=` without `dtuart`: Xen on Arm has no serial console"
        explain: "On Arm, Xen's only serial console is the device-tree UART (`dtuart`, the default when `console=` is absent); com1/com2, vga and pv have no device there. A `console=` without `dtuart` leaves Xen silent: its messages, its panic messages and the output of every `vpl011` guest (which Xen prints on its own console) go nowhere.\n\nWrong:  options=console=com1\nRight:  options=console=dtuart";
    DTUART_NOT_FOUND = "XC0611" "dtuart-not-found" Error
        summary: "`dtuart=` (or `stdout-path`) names no node of the host DTB"
        explain: "Xen finds its console UART through `dtuart=`: a name in the host DTB's /aliases (exact spelling) or a full node path with its unit address (`/pl011@9000000`, compared case-insensitively). Without `dtuart=` it takes /chosen's `stdout-path`. When that names nothing (no /aliases, as on QEMU's virt machine, or a mistyped path), Xen prints \"Unable to find device\" (or \"No dtuart path configured\") to a console that does not exist yet and runs without one: the boot log stops after the EFI loader's lines, and `vpl011` guests print nowhere. Seen on Xen 4.17 with `dtuart=serial0` on QEMU virt.\n\nWrong:  options=console=dtuart dtuart=serial0      (no /aliases in the DTB)\nRight:  options=console=dtuart dtuart=/pl011@9000000";
    DTUART_NOT_A_UART = "XC0612" "dtuart-not-a-uart" Error
        summary: "the `dtuart=` node is not a UART this Xen drives"
        explain: "The node `dtuart=` (or `stdout-path`) names must be enabled (`status` absent, \"okay\" or \"ok\"), not marked `xen,passthrough`, and compatible with one of the target's serial drivers: PL011 (`arm,pl011`; `arm,sbsa-uart` 4.18+), NS16550 (`ns16550`, `ns16550a`, `snps,dw-apb-uart`, `brcm,bcm2835-aux-uart`), Cadence, Amlogic, Marvell Armada-3700, OMAP (`ti,am654-uart` 4.19+), SCIF (`renesas,hscif` 4.17+), i.MX LPUART (4.17+), NXP LINFlexD (4.20+) — and, with a build configuration, that driver must be built (CONFIG_HAS_PL011, ...). Otherwise Xen prints \"Unable to initialize dtuart\" to no console and runs silent.\n\nWrong:  dtuart=/pl031@9010000      (an RTC)\nRight:  dtuart=/pl011@9000000";
    BAD_DOM0_MEM = "XC0613" "bad-dom0-mem" Warning
        summary: "`dom0_mem=` is not one size, as Xen on Arm reads it"
        explain: "On Arm `dom0_mem=` is a single size (parse_size_and_unit: a number, `0x` hex or leading-`0` octal, with an optional unit T, G, M, K or B; a bare number is KiB). x86's forms (`min:`, `max:`, comma-separated lists) do not exist on Arm: Xen reports the parameter as invalid and keeps only the leading size. A value that starts with no number is 0, and Xen then gives dom0 512 MiB (\"PLEASE SPECIFY dom0_mem PARAMETER\").\n\nWrong:  options=console=dtuart dom0_mem=1G,max:1G\nRight:  options=console=dtuart dom0_mem=1G";
    CHOSEN_MODULE_CLASH = "XC0701" "chosen-module-clash" Error
        summary: "cfg `kernel=`/`ramdisk=`/`xsm=` clashes with a module node already in the host `/chosen`"
        explain: "The EFI stub adds `/chosen/kernel`, `/chosen/ramdisk` and `/chosen/xsm` for the cfg's dom0 modules; libfdt refuses a second node of that name (`kernel@...` counts) and a DT dom0 module loaded by `xen,uefi-binary` conflicts with the cfg's: \"Unable to add dom0 FDT node\" or \"Dom0 kernel already found in cfg file\", and Xen never starts.";
    CHOSEN_RANGES = "XC0702" "chosen-ranges" Error
        summary: "`/chosen` has a non-empty `ranges`"
        explain: "The EFI stub requires `/chosen` to have no or an empty `ranges` and stops with \"Unable to setup chosen node\" otherwise.";
    DTB_TOO_BIG = "XC0703" "dtb-too-big" Error
        summary: "the merged DTB exceeds Xen's 2 MiB limit"
        explain: "Xen refuses a device tree larger than 2 MiB (MAX_FDT_SIZE), counting the EFI stub's enlargement by the cfg size plus 4 KiB.";
    CHOSEN_INITRD = "XC0704" "chosen-initrd" Warning
        summary: "`/chosen` has `linux,initrd-start`"
        explain: "Xen registers `linux,initrd-start/-end` as a dom0 ramdisk before any cfg module, so it wins over `ramdisk=`; under EFI its addresses are stale. Remove it from the host DTB.";
    CHOSEN_EXISTING_DOMAIN = "XC0705" "chosen-existing-domain" Warning
        summary: "the host DTB already describes a domain in `/chosen`"
        explain: "The host DTB already holds a `xen,domain` node; xencfg keeps it, and it takes a domid before the cfg's guests.";
    CHOSEN_NO_COMPATIBLE = "XC0706" "chosen-child-without-compatible" Error
        summary: "a `/chosen` child without `compatible`"
        explain: "Xen's EFI stub (4.16+) stops with \"Error processing boot modules on DT.\" when a child of `/chosen` (or of a domain node) has no `compatible`.";
    DTBO_FAILED = "XC0707" "overlay-failed" Error
        summary: "a `dtbo=` overlay cannot be applied"
        explain: "Overlays are applied as fdtoverlay does; every fragment needs a `target` phandle or `target-path` that exists in the host tree.";

    HOST_RAM_PLACEHOLDER = "XC0708" "host-ram-placeholder" Warning
        summary: "the host DTB's memory nodes are a placeholder, not the board's RAM"
        explain: "Under EFI Xen takes host RAM from the firmware's memory map and ignores the DT memory nodes; xencfg has only those nodes to check guest memory, static memory and shared memory against. Many boards' DTBs carry a memory node that the bootloader fills in at boot: `reg` with size 0, or a token size smaller than the files Xen loads. Their figure says nothing, so xencfg skips the host-RAM total check and says so. State the board's RAM with `--host-ram SIZE` (a total) or `--host-ram ADDR:SIZE,...` (its ranges, which also checks static and shared memory placement).\n\nFix:  xencfg check xen.cfg --host-ram 4G";
    BAD_PHANDLE = "XC0720" "bad-phandle" Error
        summary: "a phandle that is 0, 0xffffffff or given to two nodes"
        explain: "A phandle names one node: 0 and 0xffffffff are not phandles, and two nodes with one phandle make every reference to it ambiguous (dtc refuses such a tree: \"duplicated phandle\"). Xen resolves the GIC, cpupools, event channels and shared memory by phandle, so it links the wrong node or none. xencfg allocates the phandles it writes above the host tree's highest; this finds the host's own, and raw `property=phandle=` values.";
    FRAGMENT_IGNORED_NODE = "XC0801" "fragment-ignored-node" Warning
        summary: "a passthrough fragment has root nodes or properties Xen ignores"
        explain: "Xen copies only three root nodes of a guest's passthrough fragment: `/gic` (its phandle becomes the guest GIC's), `/aliases` and `/passthrough`, matched by their full name. Every other root node and every root property is ignored, and `passthrough@0` is not `passthrough`.\n\nWrong:  / { passthrough@0 { ... }; };\nRight:  / { passthrough { ... }; };";
    FRAGMENT_BUS = "XC0802" "fragment-bus" Warning
        summary: "a fragment's `/passthrough` lacks what the guest kernel needs"
        explain: "Xen copies `/passthrough` into the guest's device tree as it is. The guest kernel only probes its children when it is a bus it knows: it needs `compatible = \"simple-bus\"`, `ranges` (empty: guest addresses are the addresses in the children's `reg`) and explicit `#address-cells`/`#size-cells`. A fragment without `/passthrough` passes nothing through.\n\nRight:  passthrough { compatible = \"simple-bus\"; ranges; #address-cells = <2>; #size-cells = <2>; ... };";
    FRAGMENT_INTERRUPT_PARENT = "XC0803" "fragment-interrupt-parent" Error
        summary: "a passed-through device with `interrupts` but no usable `interrupt-parent`"
        explain: "Xen adds no `interrupt-parent` to the guest's root, so every node of the fragment that has `interrupts` needs its own (or a parent's inside `/passthrough`) pointing at the guest GIC: the phandle of the fragment's `/gic` node, or 65000 (Xen's GIC phandle) when there is no `/gic`. Otherwise the guest kernel finds no interrupt controller for the device.\n\nRight:  interrupt-parent = <65000>;";
    BAD_XEN_REG = "XC0804" "bad-xen-reg" Error
        summary: "`xen,reg` is not whole, page-aligned (host, size, guest) tuples"
        explain: "`xen,reg = <host-address size guest-address>...` is read with the cells of the node's parent inside the fragment (`/passthrough`'s, 2 and 1 when absent), which must be 1 or 2 (Xen 4.22 refuses others; older releases divide by zero or misread). Every address and size must be a multiple of 4 KiB: Xen panics \"not page aligned addresses/sizes\" otherwise. A trailing partial tuple is silently ignored, so part of the device is not mapped.\n\nWrong:  xen,reg = <0x0 0x9010000 0x0 0x100 0x0 0x9010000>;\nRight:  xen,reg = <0x0 0x9010000 0x0 0x1000 0x0 0x9010000>;";
    XEN_PATH_NOT_FOUND = "XC0805" "xen-path-not-found" Error
        summary: "`xen,path` names no node of the host device tree"
        explain: "Xen routes the device's interrupts and sets up its IOMMU from the host node named by `xen,path`, found by its full path (with unit addresses; names compare case-insensitively). A path that does not exist makes Xen print \"Couldn't find node ... in host_dt!\" and \"Failed to assign device to d1\": real Xen 4.17 then boots the guest without the device's interrupts (with `xen,force-assign-without-iommu`; the reference reads a panic in the source for other paths), so the guest's driver never works.";
    PASSTHROUGH_INCOMPLETE = "XC0806" "passthrough-incomplete" Error
        summary: "`xen,path` without `xen,reg`, or `xen,reg` without `xen,path`"
        explain: "A passed-through device needs both `xen,reg` (what to map) and `xen,path` (the host node, for interrupts and IOMMU). `xen,reg` alone is allowed only with `xen,force-assign-without-iommu`; anything else makes Xen panic \"xen,reg or xen,path missing\".";
    XEN_REG_OUTSIDE_DEVICE = "XC0807" "xen-reg-outside-device" Error
        summary: "`xen,reg` maps host memory outside the device's own `reg`"
        explain: "Xen maps whatever host range `xen,reg` names, without comparing it with the device. A range outside the host node's `reg` (rounded to pages) gives the guest another device's registers or host RAM.";
    FRAGMENT_INTERRUPTS_MISMATCH = "XC0808" "fragment-interrupts-mismatch" Error
        summary: "a fragment node's `interrupts` differ from its host node's"
        explain: "Xen routes the interrupts of the host node named by `xen,path`, one to one; the `interrupts` in the fragment only tell the guest kernel what to expect. When they differ, the driver waits for an interrupt that never comes. Copy the host node's `interrupts`.";
    PASSTHROUGH_WITHOUT_IOMMU = "XC0809" "passthrough-without-iommu" Error
        summary: "a device passed through without IOMMU protection or `xen,force-assign-without-iommu`"
        explain: "Without `xen,force-assign-without-iommu`, Xen assigns the device through the IOMMU, which needs the host node to have `iommus` (and the IOMMU enabled); otherwise the assignment fails and Xen panics. A device that does no DMA can be passed through without an IOMMU by adding `xen,force-assign-without-iommu;`. Xen 4.16 requests an IOMMU for every guest with a fragment, so there a host without an IOMMU cannot pass anything through.";
    FRAGMENT_PHANDLE = "XC0810" "fragment-phandle" Error
        summary: "a fragment phandle that collides with Xen's GIC phandle or is too large"
        explain: "Xen gives the guest GIC the phandle 65000 unless the fragment has a `/gic` node with a phandle. A fragment node with phandle 65000 collides with it; Xen 4.22 also refuses any fragment phandle of 65000 or more. Before 4.20 a `/gic` node without a phandle makes the guest GIC's phandle 0, which breaks every interrupt.";
    DANGLING_PHANDLE = "XC0811" "fragment-dangling-phandle" Warning
        summary: "a passed-through node refers to a node the guest does not have"
        explain: "Xen copies the fragment verbatim; phandles in `clocks`, `resets`, `power-domains`, `iommus`, `dmas`, `phys`, `pinctrl-*`, `*-gpios`, `*-supply` and the like must name nodes inside the fragment. A phandle of a host node (a clock controller, a pin controller) means nothing in the guest, and the guest driver fails or waits forever to probe. Describe what the device needs inside `/passthrough` (a `fixed-clock`, say) or drop the property.";
    DEVICE_IN_TWO_GUESTS = "XC0812" "device-in-two-guests" Error
        summary: "one host device, MMIO range or interrupt passed to two guests"
        explain: "A device belongs to one domain: Xen panics when it routes an interrupt that another guest already has (\"already used\"), and two guests mapping the same MMIO corrupt each other's device state.";
    IRQ_NOT_ROUTABLE = "XC0813" "irq-not-routable" Error
        summary: "a passed-through interrupt the guest's vGIC cannot receive"
        explain: "Xen routes a device's interrupts one to one (guest IRQ = host IRQ). The guest's vGIC has 32 + `nr_spis` (rounded up to 32) interrupts; a higher host IRQ makes Xen panic \"Unable to map IRQ\". PPIs and SGIs (below 32) cannot be routed to a guest at all. Raise `nr_spis` or leave it out (the default covers every host interrupt).";
    IRQ_VPL011_CLASH = "XC0814" "irq-vpl011-clash" Error
        summary: "a passed-through device uses IRQ 32, the guest's vPL011 interrupt"
        explain: "The emulated PL011 (`vpl011`) always uses the guest's IRQ 32 (SPI 0), and passthrough IRQs are mapped one to one. Xen 4.16 panics; 4.17 and later let both share the interrupt without a word, and the guest kernel gives it to whichever driver asks first: on Xen 4.22 with a PL031 on IRQ 32 the RTC took it, the console's PL011 failed (\"genirq: Flags mismatch\") and nothing the guest's programs printed reached its console. Drop `vpl011` or pass the device to another guest.";
    GUEST_MMIO_OVERLAP = "XC0815" "guest-mmio-overlap" Warning
        summary: "a passthrough mapping overlaps the guest's memory map"
        explain: "The guest address in `xen,reg` is not checked by Xen. A range over the guest's RAM (0x40000000.., 0x200000000..), vGIC (0x03001000..), vPL011 (0x22000000), grant table (0x38000000) or magic pages (0x39000000) silently replaces what the guest expects there. Map the device elsewhere (QEMU virt and most SoCs keep MMIO below 0x03000000 or between 0x04000000 and 0x22000000).";
    PASSTHROUGH_NODE = "XC0816" "passthrough-node" Error
        summary: "`passthrough=` names a host node that cannot be passed through"
        explain: "`passthrough=/path` builds the guest's fragment from a host node: it must exist (full path with unit address), be memory-mapped (a `reg` that translates to CPU addresses) and not be the GIC or a memory node.\n\nWrong:  passthrough=/pl031\nRight:  passthrough=/pl031@9010000";
    PASSTHROUGH_WITH_DTB = "XC0817" "passthrough-with-dtb" Error
        summary: "a guest with both `passthrough=/path` and `dtb=`"
        explain: "A guest has one passthrough fragment. `passthrough=/path` makes xencfg build it; `dtb=` names a hand-written one. Use one or the other (put every device into the hand-written fragment).";
    FRAGMENT_NAME_CLASH = "XC0818" "fragment-name-clash" Error
        summary: "a generated fragment's file name is already used"
        explain: "xencfg writes the fragment it builds for `passthrough=` as `<guest>-passthrough.dtb` next to the merged DTB. Another file of the cfg with that name (FAT compares names case-insensitively) would be overwritten; rename it.";
    FRAGMENT_MISSING_CLOCKS = "XC0819" "fragment-missing-clocks" Warning
        summary: "a passed-through device has clocks on the host but none in the fragment"
        explain: "Many drivers will not probe a device without its clocks: every AMBA device (PL011, PL031, PL061...) needs its `apb_pclk`. On real Xen 4.17, QEMU's PL031 passed through without `clocks` boots, but the guest never registers the RTC; with a `fixed-clock` copied into `/passthrough` it does. Describe the clock inside the fragment (`passthrough=/path` does this for fixed clocks).\n\nRight:  apb_pclk: apb-pclk { compatible = \"fixed-clock\"; #clock-cells = <0>; clock-frequency = <24000000>; };\n        rtc@9010000 { clocks = <&apb_pclk>; clock-names = \"apb_pclk\"; ... };";
    BUILD_OPTION_MISSING = "XC0901" "build-option-missing" Error
        summary: "a property or structure needs a Xen build option the target lacks"
        explain: "Parts of the binding exist only when Xen is built with them: static memory and `direct-map` (CONFIG_STATIC_MEMORY), shared memory (CONFIG_STATIC_SHM), cpupools (CONFIG_BOOT_TIME_CPUPOOLS), `llc-colors` (CONFIG_LLC_COLORING), `sve` (CONFIG_ARM64_SVE), static event channels (CONFIG_STATIC_EVTCHN, on by default), `vpl011` (CONFIG_SBSA_VUART_CONSOLE, on by default; without it Xen panics creating the guest), `xen,sci_type=scmi_smc` (CONFIG_SCMI_SMC; 4.21 ignores it without, 4.22 panics), dom0less guests at all (CONFIG_DOM0LESS_BOOT, 4.19+, on by default; without it every guest is silently ignored), `nr_spis` above 960 (CONFIG_GICV3_ESPI, 4.22), `v8r_el1_msa` (CONFIG_MPU, which has no EFI loader). Without the option Xen ignores the setting or panics. xencfg judges this with `--xen-config` (the .config Xen was built with), or with `--xen` when the binary carries its own .config (CONFIG_HYPFS_CONFIG, as Debian's does).";
    TARGET_MISMATCH = "XC0902" "target-mismatch" Warning
        summary: "the Xen version given differs from the Xen binary or its build configuration"
        explain: "`--xen-version`, the version read from `--xen` and the header of `--xen-config` should name the same release: properties, limits and panics differ between releases. xencfg checks against `--xen-version` when given, else the binary's version, else the configuration's.";
    XEN_VERSION_NOT_FOUND = "XC0903" "xen-version-not-found" Warning
        summary: "`--xen` names a file without a Xen version in it"
        explain: "An uncompressed Arm Xen binary (xen.efi) carries the compatible \"xen,xen-<major>.<minor>\", from which xencfg reads the target release. This file has none: it is not Xen, or it is compressed. xencfg then targets `--xen-version`, or the newest release it knows.";
    TARGET_CANNOT_BOOT = "XC0904" "target-cannot-boot" Error
        summary: "the target Xen cannot boot an EFI dom0less system"
        explain: "xencfg's output needs an arm64 Xen with the EFI loader (CONFIG_ARM_EFI), release 4.16 or newer (the first whose EFI loader reads `xen,uefi-binary`).";
    XEN_CONFIG_NOT_FOUND = "XC0905" "xen-config-not-found" Warning
        summary: "the `--xen` binary carries no build configuration"
        explain: "A Xen built with CONFIG_HYPFS_CONFIG (Debian's builds, and any build with HYPFS, its default) keeps its own gzip'd `.config` inside the binary, and `--xen` alone then tells xencfg which build options the target has. This binary has none, and no `--xen-config` was given, so build options are not judged: a property whose option is missing (`static-mem=` on a Xen without CONFIG_STATIC_MEMORY) passes the check, and Xen ignores it or panics at boot.\n\nFix:  xencfg check xen.cfg --xen xen.efi --xen-config xen.config";
    RELEASES_DIFFER = "XC0906" "releases-differ" Warning
        summary: "no target Xen given, and some supported releases would report this"
        explain: "Properties, limits and behaviours differ between Xen releases: `max_grant_frames` is read from 4.18 on, a guest has room for 2 static memory banks before 4.17, ... Without `--xen-version`, `--xen` or `--xen-config`, xencfg checks for the newest release it knows and judges a cfg that has no errors for every supported release (4.16 to the newest) as well: a finding of an older release that the newest does not have is this warning, naming the releases and what they would report. Pin the target to get exactly its findings.\n\nWrong:  xencfg check xen.cfg                      (boots on Debian 12's Xen 4.17)\nRight:  xencfg check xen.cfg --xen-version 4.17";
    BAD_STRUCTURE = "XC1001" "bad-structure-value" Error
        summary: "a `cpupool=`, `evtchn=`, `shared-mem=`, `static-mem=` or `vcpu<N>-affinity=` value that does not parse"
        explain: "These keys describe structures that xencfg writes with phandles on both ends. Their forms are:\n  cpupool=NAME                         (and a [NAME] section with cpus= and sched=)\n  evtchn=LOCAL-PORT PEER:PEER-PORT     (PEER is a guest of the same boot section, or dom0)\n  shared-mem=ID [host=ADDR] guest=ADDR size=SIZE [role=owner|borrower]\n  static-mem=ADDR:SIZE[,ADDR:SIZE...]\n  vcpu<N>-affinity=CPU-LIST            (e.g. 0-3,6)\nNumbers are decimal or 0x hex; sizes take K, M, G or T.";
    FIRST_BANK_TOO_SMALL = "XC1002" "first-bank-too-small" Error
        summary: "the guest's first RAM bank cannot hold its kernel, DTB and initrd"
        explain: "Xen places the kernel, the generated guest DTB and the initrd in the guest's first RAM bank (up to 3 GiB at 0x40000000, or the first static-mem range of a direct-mapped guest), each rounded up to 2 MiB. When they do not fit Xen panics \"Not enough memory in the first bank for the kernel+dtb+initrd\" or \"Unable to find suitable location for dtb+initrd\". Give the guest more memory.\n\nWrong:  memory=16M   (with a 20 MiB kernel)\nRight:  memory=256M";
    STATIC_MEM_OUTSIDE_RAM = "XC1003" "static-mem-outside-ram" Error
        summary: "a `static-mem` range outside the host's RAM"
        explain: "Static memory is taken page by page from host RAM. A range that is not inside host RAM stops Xen at early boot, before its console is up: after the EFI loader's lines nothing more is printed (Xen 4.22, a range past the end of RAM). Use ranges inside the host's RAM. Under EFI Xen's RAM is the firmware's memory map, not the DT memory nodes xencfg reads by default: `--host-ram ADDR:SIZE,...` states the board's ranges instead.";
    STATIC_MEM_OVERLAP = "XC1004" "static-mem-overlap" Error
        summary: "a `static-mem` range overlaps other static memory or a reserved range"
        explain: "Each static range belongs to one domain. Overlapping another guest's static memory, `/reserved-memory`, a `/memreserve/` entry, `/chosen` `xen,static-heap` or a shared-memory host range stops Xen 4.18+ at early boot, before its console is up (the panic, \"Early FDT parsing failed\", is never printed: after the EFI loader's lines nothing follows), and makes 4.16/4.17 fail when the second user acquires the pages. Note also that the EFI firmware places the boot modules wherever it likes (usually at the top of RAM): keep static ranges clear of memory the firmware hands out.";
    STATIC_MEM_UNALIGNED = "XC1005" "static-mem-unaligned" Error
        summary: "a `static-mem` or `shared-mem` address or size that is not a multiple of 4 KiB"
        explain: "Xen maps guest memory in 4 KiB pages. Release builds truncate an unaligned static range (the size check then fails and Xen panics, or pages are lost); Xen 4.19+ stops on unaligned shared memory at early boot, before its console is up: nothing is printed after the EFI loader's lines.";
    STATIC_MEM_SIZE = "XC1006" "static-mem-size-mismatch" Error
        summary: "the `static-mem` ranges do not add up to `memory`"
        explain: "With static memory, `memory` must equal the sum of the ranges exactly; Xen panics \"doesn't match up\" otherwise. Leave `memory` out and xencfg derives it from `static-mem`.";
    DIRECT_MAP_NEEDS_STATIC = "XC1007" "direct-map-without-static-mem" Error
        summary: "`direct-map` without `static-mem`"
        explain: "A direct-mapped guest sees host addresses, so its memory must be given as static ranges. Xen 4.17+ panics \"direct-map is not valid for domain ... without static allocation\".";
    STATIC_MEM_BANKS = "XC1008" "static-mem-banks" Error
        summary: "more static ranges than Xen can map, or static memory combined with LLC coloring"
        explain: "A guest that is not direct-mapped gets its static ranges mapped one after another into the two guest RAM banks (3 GiB at 0x40000000, then 1016 GiB at 0x200000000); what does not fit panics \"Exhausted all possible guest banks\". Static memory and `llc-colors` exclude each other (Xen 4.20+ panics).";
    SHM_ID = "XC1009" "shm-id" Error
        summary: "a shared-memory id that is empty or longer than 15 characters"
        explain: "Xen keeps shared-memory ids in 16 bytes including the terminating NUL and stops on a longer `xen,shm-id` at early boot, before its console is up: nothing is printed after the EFI loader's lines.";
    SHM_MISMATCH = "XC1010" "shm-mismatch" Error
        summary: "one shared-memory id with different ranges, or one range under two ids"
        explain: "Every domain that shares a region names it with the same id, the same host address and the same size; two ids on one range, or one id with different ranges, stop Xen at early boot, before its console is up (nothing is printed after the EFI loader's lines). Regions must also not overlap each other.";
    SHM_ROLE = "XC1011" "shm-role" Error
        summary: "shared-memory roles that Xen rejects"
        explain: "A region has at most one `role=owner`; when one domain owns it, every other domain sharing it must say `role=borrower` explicitly (a role-less node meeting an owned region panics \"shm memory node has already been allocated to a specific owner\"). A region where everyone is a borrower is accepted but nobody owns it.";
    SHM_TOO_MANY = "XC1012" "shm-too-many" Error
        summary: "more than 32 shared-memory regions"
        explain: "Xen 4.19+ keeps at most 32 distinct static shared-memory regions (NR_SHMEM_BANKS); past that it stops at early boot, before its console is up (nothing is printed after the EFI loader's lines).";
    SHM_HOST_ADDRESS = "XC1013" "shm-host-address" Error
        summary: "a domain Xen maps 1:1 sees shared memory at another address than the host's"
        explain: "dom0 and a direct-mapped guest see host addresses: Xen panics when such a domain's `guest=` differs from the region's host address. Leave `guest=` out and xencfg writes the host address. (Xen 4.17 and 4.18 need every region's host address and 4.19+ cannot pick one for a 1:1 domain: a `shared-mem=` without `host=` is placed by xencfg, XC1032.)";
    EVTCHN_PEER = "XC1014" "evtchn-peer" Error
        summary: "an event channel whose peer is not a domain of the boot section"
        explain: "`evtchn=PORT PEER:PORT` links two domains of the same boot section. The peer is a guest's name or `dom0`; dom0 exists only when the section has `kernel=`. Xen panics \"could not find domains\" when an end is missing.";
    EVTCHN_PORT = "XC1015" "evtchn-port" Error
        summary: "an event-channel port out of range"
        explain: "Ports start at 1 (0 means \"any\" and breaks the binding). A dom0less guest has at most port 1023 (Xen 4.17+ `max_evtchn_port`); dom0 is limited only by the 2-level ABI (4095). Xen panics when a port does not fit (\"evtchn_alloc_unbound() failure\").";
    EVTCHN_PORT_REUSED = "XC1016" "evtchn-port-reused" Error
        summary: "one event-channel port used twice in a domain, or the two ends disagree"
        explain: "A port can be bound once per domain; a second channel on it makes Xen panic (\"evtchn_bind_interdomain() failure (Error -16)\", -EBUSY). When both ends describe the same channel they must agree on both ports.";
    EVTCHN_NO_ENHANCED = "XC1017" "evtchn-without-enhanced" Warning
        summary: "a guest with static event channels but no `xen,enhanced`"
        explain: "Without `xen,enhanced` a dom0less guest gets no hypervisor node in its device tree and cannot find or use its event channels. Xen's documentation: include `xen,enhanced = \"no-xenstore\"` (or `enabled`).";
    CPUPOOL_UNKNOWN = "XC1018" "cpupool-unknown" Error
        summary: "`cpupool=` names no pool section, or a pool section is unusable"
        explain: "`cpupool=NAME` needs a `[NAME]` section with `cpus=` (host CPU node paths such as `/cpus/cpu@1`, or MPIDR values) and optionally `sched=`. The pool becomes a `/chosen` node of that name, so the name must be a valid node name that no guest uses. Xen panics on an empty pool (\"Missing or empty cpupool-cpus property!\").";
    CPUPOOL_CPU = "XC1019" "cpupool-cpu" Error
        summary: "a pool CPU that is not a host CPU, or a CPU in two pools"
        explain: "Every `cpus=` entry must name a CPU node of the host DTB (by path or by its `reg`, the MPIDR). Xen panics \"Error retrieving logical cpu\" for an unknown CPU, and \"Logical cpu N already added to a cpupool!\" when a CPU is in two pools.";
    CPUPOOL_SCHED = "XC1020" "cpupool-scheduler" Error
        summary: "a pool scheduler that this Xen does not have"
        explain: "`sched=` must name a scheduler built into Xen: `credit`, `credit2`, `rtds`, `arinc653` or `null` (with `--xen-config`, those enabled by CONFIG_SCHED_*). Xen panics \"Scheduler ... does not exists!\".";
    AFFINITY = "XC1021" "vcpu-affinity" Error
        summary: "a `vcpu<N>-affinity` for a vCPU the guest does not have, or naming no usable pCPU"
        explain: "`vcpu<N>-affinity` pins vCPU N (N < `cpus`) to physical CPUs, numbered as Xen numbers them (the boot CPU is 0, the others follow in DT order). Every pCPU must exist and at least one must belong to the guest's cpupool; Xen panics otherwise.";
    XENSTORE = "XC1022" "xenstore-domain" Error
        summary: "`xen,enhanced` asks for xenstore but there is no xenstore domain, or there are two"
        explain: "`xen,enhanced=enabled` (or `legacy`) gives a guest xenstore. Xen 4.17-4.20 need dom0 for that (\"Xenstore support requires dom0\"); 4.21+ need exactly one xenstore domain: dom0, or else one guest with the xenstore capability. Two xenstore domains panic \"Only 1 xenstore domain can be specified!\". A dom0less system without dom0 uses `xen,enhanced=no-xenstore`.";
    CAPABILITIES = "XC1023" "capabilities-conflict" Error
        summary: "a hardware-domain capability that clashes with dom0 or the guest's other settings"
        explain: "Only one domain can be the hardware domain: a guest with the `hardware` capability next to a classic dom0 (`kernel=`), or two such guests, panic \"Only 1 hardware domain\". A hardware domain needs `direct-map` (or an IOMMU: without either Xen panics \"non-direct mapped hardware domain requires iommu\") and must not use `passthrough`, `nr_spis` or a passthrough DTB.";
    GUEST_DTB_BUDGET = "XC1024" "guest-dtb-budget" Error
        summary: "the guest's generated device tree would not fit Xen's buffer"
        explain: "Xen builds each guest's device tree in a fixed buffer: 4 KiB in 4.16/4.17 (the passthrough fragment included), 4 KiB plus the fragment in 4.18-4.21. About 1.2 KiB is fixed (measured on 4.16.7 and 4.21.2), `xen,enhanced` adds 156 bytes, each vCPU 96, plus the command line, shared memory and event channel nodes: with a 29-byte command line 31 vCPUs fit on 4.21.2 and 32 do not. When it overflows Xen panics \"Device tree generation failed\". Xen 4.22 sizes the buffer for 128 vCPUs.";
    MEMORY_EXCEEDS_HOST = "XC1025" "memory-exceeds-host" Error
        summary: "the domains need more memory than the host has"
        explain: "Xen allocates every guest's memory (and dom0's `dom0_mem=`, 512 MiB by default) from host RAM at boot, while the EFI-loaded boot modules still occupy it. When the sum does not fit Xen panics \"Failed to allocate requested domain memory\". xencfg counts RAM from the host DTB's memory nodes (or `--host-ram`, the board's RAM as the user states it; Xen itself takes RAM from the EFI memory map) minus reserved ranges; Xen's own memory comes on top. Memory nodes that look like a placeholder are reported instead (XC0708).";
    SHM_GUEST_OVERLAP = "XC1026" "shm-guest-overlap" Warning
        summary: "shared memory placed over the guest's RAM or an emulated device"
        explain: "Xen maps a shared-memory region at the guest address given, without checking it against the guest's own layout: RAM at 0x40000000 (3 GiB) and 0x200000000, the GIC at 0x03001000, the vPL011 at 0x22000000, the grant table at 0x38000000 and the magic pages at 0x39000000 (a direct-mapped guest's RAM is its static ranges). A region there silently replaces what the guest expects. Choose a guest address none of these use.";
    CPUPOOL_BOOT_CPU = "XC1027" "cpupool-boot-cpu" Warning
        summary: "a cpupool holds the boot CPU, so Xen makes it pool 0"
        explain: "Xen numbers boot-time pools in DT order, puts every CPU no pool lists into one extra pool, and then swaps the pool holding the boot CPU to id 0. Pool 0 is where dom0 and every guest without `cpupool=` run, so a pool meant to isolate a guest, if it holds the boot CPU, is shared with all of them. Leave the boot CPU out of dedicated pools.";
    CPUPOOL_UNUSED = "XC1028" "cpupool-unused" Warning
        summary: "a pool section that no guest names with `cpupool=`"
        explain: "A section holding only `cpus=` and `sched=` describes a cpupool. xencfg writes a pool into a boot section's DTB only when one of its guests says `cpupool=NAME`; a pool nobody names is left out, usually because `cpupool=` was forgotten or misspelt.";

    VCPUS_EXCEED_REDISTRIBUTORS = "XC1029" "vcpus-exceed-redistributors" Error
        summary: "a host-layout domain has more vCPUs than the host GICv3 has redistributors"
        explain: "A domain that uses the host's memory layout (`direct-map`, or the hardware domain: dom0, with `dom0_max_vcpus=`, or `capabilities` with 0x2 on Xen 4.21+) gets the host GICv3's redistributor regions instead of Xen's virtual one, one 128 KiB redistributor per vCPU. vCPUs beyond what the regions cover (the sum of their sizes / 128 KiB) have none: Xen 4.16-4.21 print \"Unable to find a re-distributor for VCPU n\" and create them anyway, and the guest hangs bringing them up; Xen 4.22 stops creating vCPUs there and the guest runs with fewer than asked (a warning there).\n\nWrong:  cpus=8      (a direct-mapped guest on a host whose GICR region is 512 KiB: 4 redistributors)\nRight:  cpus=4";
    LLC_COLORED_HEAP = "XC1030" "llc-colored-heap" Error
        summary: "LLC colouring is on, but the boot leaves Xen's coloured heap too small for the domains"
        explain: "With LLC colouring on (`llc-coloring=on`, or `llc-size=` and `llc-nr-ways=`, on Xen 4.20+ built with CONFIG_LLC_COLORING) every domain's memory and P2M pool come from the coloured heap, whatever its `llc-colors`. Xen fills that heap at boot with what its buddy allocator leaves: the buddy takes the lowest free RAM region whole, then `buddy-alloc-size` (CONFIG_BUDDY_ALLOCATOR_SIZE, 64 MiB by default) of the other regions. Xen's EFI loader places Xen and the boot modules at the top of RAM, so on a host whose RAM is one bank with nothing reserved low in it, the lowest free region is nearly all of RAM and the coloured heap is (nearly) empty: Xen panics \"Failed to allocate P2M pages\" / \"Could not set up domain\" at the first domain (seen on Xen 4.22 under QEMU, with and without `llc-colors`). Where the firmware's own allocations split the low RAM, the same system boots: under U-Boot's UEFI on the same QEMU machine Xen 4.22 starts the guest without any reservation, so the failure depends on the firmware's EFI memory map, which xencfg cannot see; the reservation works under both. A `/reserved-memory` range low in RAM (one page is enough, e.g. through `dtbo=`) ends the lowest region there; the rest then goes to the coloured heap and the same guests boot. xencfg counts RAM from the host DTB's memory nodes and does not model the share of each colour.";
    SHM_WITHOUT_DOM0 = "XC1031" "shm-without-dom0" Error
        summary: "a boot section without dom0 gives dom0's side of shared memory"
        explain: "`shared-mem=` in a boot section is dom0's side of a static shared-memory region: xencfg writes a `xen,domain-shared-memory-v1` node directly under `/chosen`. Xen reads those nodes only for the hardware domain (dom0, from the section's `kernel=`); without dom0 it silently ignores them, the host range stays reserved and nobody maps it there. Give the section dom0, or move the key into the guest that shares the region.";
    PLACEMENT_NO_ROOM = "XC1032" "placement-no-room" Error
        summary: "memory given as a size alone does not fit where xencfg places memory"
        explain: "`static-heap=SIZE`, `static-mem=SIZE[,SIZE…]` and `shared-mem=` without `host=` or `guest=` ask xencfg to choose the addresses. It does so once, before any check, first fit and lowest first in a fixed order (the heap's banks, each guest's static banks in guest order, then each shared region in the order its id first appears, dom0's first), 2 MiB aligned (4 KiB for shared memory that is not whole 2 MiB), so the same inputs always give the same addresses. Host ranges come from host RAM (the host DTB's memory nodes, or `--host-ram ADDR:SIZE`) less the host's `/memreserve/` and `/reserved-memory` ranges, every range the cfg gives, and where the firmware will likely put things (XC1033): the first 128 MiB of RAM and the top of RAM as large as every file Xen's EFI loader reads plus 128 MiB. A guest's side of shared memory goes at the lowest free address of its guest RAM windows after its own RAM (3 GiB at 0x40000000, 1016 GiB at 0x200000000), clear of the devices Xen emulates; dom0 and direct-mapped guests see the host address. `xencfg explain` shows every address chosen and `explain --memory` the firmware's areas. When a request does not fit, this error says how much is free and the largest block; ask for less, split it into banks, or give the address yourself. Without host RAM ranges (placeholder memory nodes, `--host-ram SIZE`) nothing can be placed.";
    FIRMWARE_LOAD_AREA = "XC1033" "firmware-load-area" Warning
        summary: "a static, shared or heap range lies where the firmware will likely load Xen and its modules"
        explain: "Xen's EFI loader asks the firmware for every file it loads (itself, the DTB, kernels, ramdisks, fragments) with `AllocateMaxAddress` far above RAM, and the firmware hands out the highest free pages first, below its own allocations at the very top (reference §1.9). Booting Xen 4.22 on QEMU (2 GiB at 0x40000000) printed its image and modules from 0xbc42ffff down under EDK2, which kept the top 61 MiB for itself, and from 0xbdd9cfff down under U-Boot's UEFI (34 MiB). A static-memory, shared-memory or static-heap range there meets a module: Xen 4.18+ stops at early boot (\"Early FDT parsing failed\"; under EFI nothing is printed) or silently drops the domain's own modules and panics (Xen 4.22 under EDK2 with a guest's static memory over its kernel: \"Missing kernel boot module?\", \"Could not set up d0 guest OS\"); 4.16/4.17 corrupt memory silently. xencfg predicts that area as the top of RAM, as large as every file the loader reads plus 128 MiB, and warns for a range in it; it never places one there (XC1032). It also keeps the first 128 MiB of RAM free when it places memory (U-Boot copies the DTB just below RAM start + 128 MiB and leaves those pages out of Xen's RAM), but does not warn for a given range there: static memory over them booted on Xen 4.22 under U-Boot. The firmware's real allocations depend on the board: move the range lower in RAM, or leave the address out and let xencfg place it.";
    STATIC_HEAP_TOO_OLD = "XC1034" "static-heap-unsupported" Error
        summary: "`static-heap=` on a target Xen older than 4.17"
        explain: "Xen reads `/chosen` `xen,static-heap` from 4.17 on (process_chosen_node in bootfdt.c). Xen 4.16 ignores the property without a word: its heap stays all of the RAM that is not reserved, and the ranges meant for it are not set aside. Target Xen 4.17 or newer, or leave `static-heap=` out.";
    STATIC_HEAP_UNALIGNED = "XC1035" "static-heap-unaligned" Warning
        summary: "a static-heap range whose address or size is not a multiple of 64 KiB"
        explain: "Xen's booting.txt requires at least 64 KiB alignment for `xen,static-heap`. Xen itself does not check it: populate_boot_allocator hands each range to init_boot_pages, which rounds it inward to whole 4 KiB pages, so a range that is not whole pages silently loses its partial pages, and one that is whole pages but not 64 KiB-aligned works on today's Arm builds but is outside what Xen documents.\n\nWrong:  static-heap=0x60001000:256M\nRight:  static-heap=0x60000000:256M";
    STATIC_HEAP_OUTSIDE_RAM = "XC1036" "static-heap-outside-ram" Error
        summary: "a static-heap range outside the host's RAM"
        explain: "With a static heap Xen feeds its boot allocator, and then its heap, only the `xen,static-heap` ranges (populate_boot_allocator), and it believes they are RAM: nothing checks them against the memory banks. Xen's direct map and frame table cover only the RAM banks (setup_mm, init_frametable), so pages outside the banks have neither a mapping nor a `struct page_info`, and Xen fails once it hands them out (read from the source; xencfg has not seen such a boot). Put every range inside the host's RAM (its memory nodes, or `--host-ram`).";
    STATIC_HEAP_OVERLAP = "XC1037" "static-heap-overlap" Error
        summary: "a static-heap range overlaps reserved memory, static memory, shared memory or another heap range"
        explain: "The static heap is RAM Xen keeps for itself. Xen records its ranges with the reserved regions; from 4.18 every new region is checked against the others (check_reserved_regions_overlap), and a static-heap range that overlaps a `/reserved-memory` range, a guest's `xen,static-mem`, a static shared-memory host range or another heap range makes the early FDT parse fail: Xen panics \"Early FDT parsing failed\" before its console is up, so under EFI nothing is printed after the EFI loader's lines. Xen 4.17 does not check: the overlapping pages go to its heap and to the other user both. `/memreserve/` entries are not counted: Xen's EFI stub deletes them, and Xen accepts a range inside one. Keep the heap clear of where the firmware loads the boot modules too: from 4.18 Xen silently drops a boot module that overlaps a reserved region, the heap included.";
    STATIC_HEAP_TOO_SMALL = "XC1038" "static-heap-too-small" Error
        summary: "the static heap is smaller than the memory the domains take from it"
        explain: "With a static heap, Xen's boot allocator and its heap are fed only the `xen,static-heap` ranges (populate_boot_allocator): the rest of RAM is never used. dom0's memory (`dom0_mem=`, 512 MiB by default), the memory of every guest without `static-mem`, every guest's P2M pool (`xen,domain-p2m-mem-mb`, or Xen's default from its vCPUs and memory) and Xen's own allocations (the frame table, per-CPU data, domain structures) all come from the heap. When they do not fit, Xen panics while building the domains (\"Failed to allocate requested domain memory\", \"Failed to allocate P2M pages\"). xencfg counts the domains and their P2M pools only, so leave room besides them. Also, with a static heap Xen does not give the boot modules' memory back after boot (discard_initial_modules), and the init sections stay unused.";
    STATIC_HEAP_TWICE = "XC1039" "static-heap-twice" Error
        summary: "the host DTB (or an overlay) already has `/chosen` `xen,static-heap`, and the cfg gives `static-heap=` too"
        explain: "Xen reads one `xen,static-heap` property. The host tree (after its `dtbo=` overlays) already has one, and `static-heap=` would replace it: the heap the tree describes would silently be lost. Give the heap in one place: remove `static-heap=` from the cfg, or the property from the host DTB or its overlay.";
    STATIC_HEAP_CELLS = "XC1040" "static-heap-root-cells" Error
        summary: "the host DTB's root cells cannot hold the static-heap ranges"
        explain: "Xen decodes `/chosen` `xen,static-heap` with the ROOT node's `#address-cells` and `#size-cells` (process_chosen_node gets /chosen's parent's cells; booting.txt), not with `/chosen`'s own. xencfg writes the ranges in those cells. With 1 address cell an address at or above 4 GiB cannot be written, with 1 size cell a size of 4 GiB or more cannot; with 0 cells Xen refuses the property (\"invalid #address-cells or #size-cells\") and panics \"Early FDT parsing failed\". Use ranges that fit, or a host DTB with 2 address and size cells at the root.";
    IMPORT_NOT_DATA = "XC1101" "import-not-data" Error
        summary: "an imported config line is not plain data"
        explain: "`xencfg import` reads a config file (ImageBuilder's is a bash script of variables) as data and never runs it. Commands, command substitution (`$(...)`, backquotes), arithmetic (`$((...))`), parameter operators (`${A:-b}`), `+=` and control flow are reported and skipped; `$NAME` and `${NAME}` are expanded only from assignments made earlier in the same file.\n\nWrong:  DOMU_KERNEL[0]=$(ls Image-*)\nRight:  DOMU_KERNEL[0]=Image-domu0";
    IMPORT_IGNORED = "XC1102" "import-ignored-by-imagebuilder" Warning
        summary: "a setting ImageBuilder itself silently ignores"
        explain: "ImageBuilder loops `i < NUM_DOMUS` (and `NUM_DT_OVERLAY`, `NUM_CPUPOOLS`): entries at or past the count are never read, and `DOMU_CPUPOOL` does nothing without `NUM_CPUPOOLS`. The importer leaves them out, as ImageBuilder did, and says so.\n\nWrong:  NUM_DOMUS=1\n        DOMU_KERNEL[1]=Image-b\nRight:  NUM_DOMUS=2";
    IMPORT_NO_EFI = "XC1103" "import-no-efi-equivalent" Warning
        summary: "a U-Boot setting with no EFI equivalent, dropped"
        explain: "Under EFI, Xen's own loader reads every file (wherever the firmware allocates memory) and there is no boot script: `MEMORY_START`/`MEMORY_END`, `LOAD_CMD`, `BOOT_CMD`, `UBOOT_*`, FIT and `FDTEDIT` have nothing to map to. Settings for ImageBuilder's disk image or bare-metal Linux mode are not part of a boot configuration either.";
    IMPORT_UNSUPPORTED = "XC1104" "import-unsupported" Warning
        summary: "a setting xencfg's cfg cannot express yet, written as a comment"
        explain: "A few ImageBuilder settings have no key in the cfg language: Xilinx's downstream `colors` (upstream Xen reads `llc-colors`) and `viommu`. (`XEN_STATIC_HEAP` is imported as the boot section's `static-heap=`.) The importer writes the original setting as a comment in the cfg instead of inventing a key, so nothing is lost silently; add it to the host DTS, or as a raw `property=` if your Xen reads it.";
    IMPORT_BAD_VALUE = "XC1105" "import-bad-value" Error
        summary: "a value ImageBuilder would turn into a broken boot script"
        explain: "ImageBuilder pastes values into `fdt set` commands without checking them: `DOMU_MEM[0]=512M` (MB are expected) writes `memory <0 512M>` and still exits 0. The importer requires numbers where numbers are meant, every guest's `DOMU_KERNEL`, and values the cfg can hold (no `#`, no control bytes); with any such error it writes nothing.\n\nWrong:  DOMU_MEM[0]=512M\nRight:  DOMU_MEM[0]=512";
    IMPORT_UNKNOWN_VARIABLE = "XC1106" "import-unknown-variable" Warning
        summary: "a variable ImageBuilder does not know"
        explain: "ImageBuilder reads a fixed set of variables; anything else is ignored, usually a typo (`DOMU_KERNELS`) or a variable of a newer or downstream ImageBuilder. It is not imported.";
    IMPORT_DIFFERS = "XC1107" "import-differs" Warning
        summary: "the imported cfg deliberately differs from ImageBuilder's output"
        explain: "Where ImageBuilder's behaviour is a known bug or depends on its U-Boot flow, the importer writes what the config evidently means and says so: `DOMU_ENHANCED=2` is `no-xenstore` even with dom0 (ImageBuilder writes `enabled`), `XEN_CMD` wins over `DOM0_MEM`, absolute paths become file names on the ESP, guests ImageBuilder does not boot stay commented out.";
}
