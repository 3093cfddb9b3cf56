//! The manual: `xencfg(1)`, one page per command (`xencfg-build(1)`, …)
//! and `xencfg.cfg(5)`, as roff. `xencfg man DIR` writes them; the copies
//! committed in `man/` are written by `cargo xtask docs`, whose tests fail
//! when they are stale.
//!
//! Whatever has a source elsewhere is derived from it, not restated: the
//! command pages from the clap definitions in [`crate::cli`], the property
//! and structure lists of `xencfg.cfg(5)` from [`binding::PROPERTIES`] and
//! [`binding::STRUCTURES`], and the check codes it cites from the
//! [`codes`](crate::diag::codes) constants. Output is deterministic (no
//! dates, stable order) so that the committed copies can be compared byte
//! for byte.

use crate::binding::{self, PropertySpec, ValueKind};
use crate::cli::Cli;
use crate::diag::codes::{self as c, Check};
use clap::CommandFactory;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};
use std::path::PathBuf;

/// Every page as its file name (`xencfg.1`, …, `xencfg.cfg.5`) and bytes,
/// in a stable order.
pub fn pages() -> Vec<(PathBuf, Vec<u8>)> {
    let mut pages = man_pages();
    pages.push((PathBuf::from("xencfg.cfg.5"), cfg_page()));
    pages
}

/// `.TH` source field: the program and its version, like other tools' pages.
fn source() -> String {
    format!("xencfg {}", env!("CARGO_PKG_VERSION"))
}

const MANUAL: &str = "xencfg Manual";

/// The `.TH` date field: empty, so regenerating never changes a page. The
/// roff crate writes an empty argument as nothing at all, which shifts the
/// source and manual into the date's place; a quoted empty string keeps it.
const NO_DATE: &str = "\"\"";

/// The command as clap_mangen sees it: built (so subcommands carry their
/// `xencfg-build` display names) and without the implicit `help`
/// subcommand, which needs no page of its own.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `xencfg.1` and one `xencfg-<sub>.1` per visible subcommand.
fn man_pages() -> Vec<(PathBuf, Vec<u8>)> {
    let cmd = command();
    let mut pages = Vec::new();
    let subcommands: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let sub_refs: Vec<String> = subcommands.iter().map(page_name).collect();

    let mut see_also = sub_refs.clone();
    see_also.push("xencfg.cfg(5)".into());
    pages.push(command_page(cmd, &see_also));

    for sub in subcommands {
        let mut see_also = vec!["xencfg(1)".to_string(), "xencfg.cfg(5)".to_string()];
        let own = page_name(&sub);
        see_also.extend(sub_refs.iter().filter(|r| **r != own).cloned());
        pages.push(command_page(sub, &see_also));
    }
    pages
}

/// `xencfg-build(1)` for the built `build` subcommand.
fn page_name(cmd: &clap::Command) -> String {
    format!("{}(1)", cmd.get_display_name().unwrap_or(cmd.get_name()))
}

/// One clap_mangen page with a SEE ALSO section appended; clap_mangen has
/// no hook for extra sections that are not part of `--help`.
fn command_page(cmd: clap::Command, see_also: &[String]) -> (PathBuf, Vec<u8>) {
    // `--help` ends with "Examples:" (after_help); clap_mangen would print
    // it filled, under the heading EXTRA. The page gets an EXAMPLES section
    // with the lines kept as written instead.
    let examples = cmd.get_after_help().map(|h| h.to_string());
    let cmd = cmd.after_help(None::<&str>);
    let man = clap_mangen::Man::new(cmd)
        .date(NO_DATE)
        .source(source())
        .manual(MANUAL);
    let path = PathBuf::from(man.get_filename());
    let mut bytes = Vec::new();
    man.render(&mut bytes)
        .expect("rendering into a Vec cannot fail");
    let mut extra = Roff::new();
    if let Some(examples) = examples {
        extra.control("SH", ["EXAMPLES"]);
        extra.control("nf", []);
        for line in examples.lines().skip_while(|l| l.ends_with(':')) {
            extra.text([roman(line)]);
        }
        extra.control("fi", []);
    }
    extra.control("SH", ["SEE ALSO"]);
    extra.text(see_also_inlines(see_also));
    bytes.extend(extra.to_roff().into_bytes());
    (path, bytes)
}

/// `a(1), b(5)` with the page names in bold, as man-pages(7) asks.
fn see_also_inlines(refs: &[String]) -> Vec<Inline> {
    let mut inlines = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        let (name, section) = r.split_at(r.find('(').unwrap_or(r.len()));
        inlines.push(bold(name));
        inlines.push(roman(section));
    }
    inlines
}

/// A roff page built section by section. Prose is written with backticks
/// around literal text (as in the rest of the code base) and rendered in
/// bold, so the page source reads like the diagnostics' help texts.
struct Page {
    roff: Roff,
}

impl Page {
    fn new(title: &str, section: &str) -> Page {
        let mut roff = Roff::new();
        let source = source();
        roff.control("TH", [title, section, NO_DATE, source.as_str(), MANUAL]);
        Page { roff }
    }

    fn section(&mut self, name: &str) -> &mut Self {
        self.roff.control("SH", [name]);
        self
    }

    fn subsection(&mut self, name: &str) -> &mut Self {
        self.roff.control("SS", [name]);
        self
    }

    fn para(&mut self, text: &str) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.text(prose(text));
        self
    }

    fn bullet(&mut self, text: &str) -> &mut Self {
        self.roff.control("IP", ["\\(bu", "2"]);
        self.roff.text(prose(text));
        self
    }

    /// A tagged paragraph: `tag` in bold (literal), then the description.
    fn item(&mut self, tag: &str, text: &str) -> &mut Self {
        self.roff.control("TP", []);
        self.roff.text(prose(tag));
        self.roff.text(prose(text));
        self
    }

    /// A literal block, indented, lines kept as written.
    fn example(&mut self, lines: &[&str]) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.control("RS", ["4"]);
        self.roff.control("nf", []);
        for line in lines {
            self.roff.text([roman(*line)]);
        }
        self.roff.control("fi", []);
        self.roff.control("RE", []);
        self
    }

    fn render(&self) -> Vec<u8> {
        self.roff.render().into_bytes()
    }
}

/// Text with `literal` spans in bold and _PLACEHOLDER_ spans (capitals,
/// digits and `-` between underscores) in italics. Any other `_` is plain
/// text, so a property summary never turns italic by accident.
fn prose(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push(bold(part));
        } else {
            placeholders(part, &mut out);
        }
    }
    out.retain(|inline| !matches!(inline, Inline::Roman(s) if s.is_empty()));
    out
}

fn placeholders(text: &str, out: &mut Vec<Inline>) {
    let is_word = |w: &str| {
        !w.is_empty()
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    };
    // A placeholder's underscores stand apart from words: the ones inside
    // `CONFIG_STATIC_MEMORY` join words and stay plain text.
    let joins = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut rest = text;
    while let Some(start) = rest.find('_') {
        let after = &rest[start + 1..];
        let opens = !joins(rest[..start].chars().next_back());
        let closes = |end: usize| !joins(after[end + 1..].chars().next());
        match after
            .find('_')
            .filter(|&end| opens && is_word(&after[..end]) && closes(end))
        {
            Some(end) => {
                out.push(roman(&rest[..start]));
                out.push(italic(&after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push(roman(&rest[..=start]));
                rest = after;
            }
        }
    }
    out.push(roman(rest));
}

/// `(XC0104)`: the code of a check, taken from the catalogue (`diag::codes`) so a renumbered
/// check cannot leave the page behind.
fn code(check: &Check) -> String {
    format!("({})", check.code)
}

/// The `xencfg.cfg(5)` page: the input language.
fn cfg_page() -> Vec<u8> {
    let mut p = Page::new("xencfg.cfg", "5");
    p.section("NAME");
    p.roff.text([roman(
        "xencfg.cfg - Xen EFI boot configuration with dom0less guests, as read by xencfg",
    )]);

    description(&mut p);
    lexical_rules(&mut p);
    sections(&mut p);
    guest_forms(&mut p);
    passthrough(&mut p);
    properties(&mut p);
    structures(&mut p);
    values(&mut p);
    paths(&mut p);
    examples(&mut p);

    p.section("SEE ALSO");
    let mut refs = vec!["xencfg(1)".to_string()];
    refs.extend(
        command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(page_name),
    );
    p.roff.text(see_also_inlines(&refs));
    p.para(
        "Xen's `docs/misc/efi.pandoc` (the cfg file) and \
         `docs/misc/arm/device-tree/booting.txt` (the `xen,domain` binding).",
    );
    p.render()
}

fn description(p: &mut Page) {
    p.section("DESCRIPTION");
    p.para(
        "Xen's EFI loader reads a configuration file from the directory of its own binary: \
         `xen.cfg` next to `xen.efi`, or `BOOTAA64.cfg` for the removable-media path \
         `\\EFI\\BOOT\\BOOTAA64.EFI`. xencfg reads the same language, extended with \
         dom0less guests, and compiles it into what a stock Xen (4.16 or later) EFI loader \
         boots: a trimmed cfg that holds only what Xen reads, one merged host DTB per boot \
         section with a `xen,domain` node per guest under `/chosen`, and a manifest of \
         every file to install.",
    );
    p.para(
        "xencfg reads every byte the way Xen does and warns wherever that reading differs \
         from what the text seems to say. Each rule below names the check that reports it; \
         `xencfg checks` _CODE_ explains one.",
    );
}

fn lexical_rules(p: &mut Page) {
    p.section("LEXICAL RULES");
    p.para("These are the rules of Xen's own parser; xencfg does not relax any of them.");
    p.bullet(&format!(
        "The file is 7-bit ASCII. Xen widens each byte to one UCS-2 unit, so other bytes \
         turn into different characters {}. A UTF-8 byte order mark is not skipped and glues \
         itself to the first line {}; a UTF-16 file reads as nothing {}.",
        code(&c::NON_ASCII),
        code(&c::BOM),
        code(&c::UTF16)
    ));
    p.bullet(&format!(
        "Every control byte (0x00 to 0x1F and 0x7F: LF, CR, TAB, VT, FF, DEL, ...) ends a \
         line. LF, CRLF and CR line ends all work, but a TAB splits a line in two: \
         `options=a<TAB>kernel=b` defines `kernel=b` {}. End the last line with a newline {}.",
        code(&c::CONTROL_BYTE),
        code(&c::NO_FINAL_NEWLINE)
    ));
    p.bullet("Blanks at the start of a line are dropped.");
    p.bullet(&format!(
        "`#` anywhere starts a comment that runs to the end of the line. There is no \
         escaping: a `#` inside a value cuts the value there {}, and blanks before it stay \
         in the value.",
        code(&c::HASH_IN_VALUE)
    ));
    p.bullet(
        "`;` starts a comment only as the first byte of a line after its leading blanks; \
         `key=a;b` keeps `;b` in the value.",
    );
    p.bullet(&format!(
        "`[`_NAME_`]` is a section header. It matches only when the bytes after `[` equal the \
         section name exactly (case-sensitive) and the next byte is `]`; anything after `]` is \
         ignored, and `[ xen ]` or `[Xen]` is not `[xen]` {}. Only the first section of a name \
         is ever read {}. Keys above the first header are never found once a section is \
         selected {}.",
        code(&c::MALFORMED_HEADER),
        code(&c::DUPLICATE_SECTION),
        code(&c::KEY_BEFORE_SECTION)
    ));
    p.bullet(&format!(
        "_KEY_`=`_VALUE_: a key matches only when `=` follows it immediately. `kernel =Image` \
         is not the key `kernel`, and Xen ignores the line {}.",
        code(&c::BLANK_BEFORE_EQUALS)
    ));
    p.bullet(&format!(
        "Blanks after `=` are skipped. The value runs to the end of the line and trailing \
         blanks are part of it: `ramdisk=initrd.img` with a blank after it names a file \
         whose name ends in that blank {}. \
         xencfg emits values without them.",
        code(&c::TRAILING_BLANKS)
    ));
    p.bullet(&format!(
        "The first key wins: Xen reads only the first _KEY_`=` of a section and never sees \
         the others {}. xencfg's own repeatable keys, `dtbo=`, `property=`, \
         `passthrough=` and `domu`_N_`_property=`, are read every time.",
        code(&c::DUPLICATE_KEY)
    ));
    p.bullet(&format!(
        "A line that is neither a header, a comment nor _KEY_`=`_VALUE_ is ignored by Xen {}. \
         In a guest section, xencfg reads a bare word as a flag property (`vpl011`).",
        code(&c::LINE_WITHOUT_KEY)
    ));
}

fn sections(p: &mut Page) {
    p.section("SECTIONS");
    p.subsection("[global]");
    p.item(
        "`default=`_SECTION_",
        &format!(
            "The boot section Xen selects. It is read only in `[global]` {} and used byte for \
             byte, so it must name a section exactly {}. Without it Xen selects no section and \
             looks every key up in the whole file {}; xencfg then boots the first boot \
             section. `--section` overrides it in the emitted cfg.",
            code(&c::DEFAULT_OUTSIDE_GLOBAL),
            code(&c::DEFAULT_UNKNOWN_SECTION),
            code(&c::NO_DEFAULT_SECTION)
        ),
    );
    p.item(
        "`chain=`_FILE_",
        &format!(
            "Another cfg, which Xen reads when the selected section has no `kernel=`. xencfg \
             follows the chain to check it {} but never emits `chain=` {}.",
            code(&c::CHAIN_CYCLE),
            code(&c::CHAIN_USED)
        ),
    );
    p.item(
        "`video=`_MODE_",
        "The GOP mode, `gfx-`_COLS_`x`_ROWS_`x`_DEPTH_, for boot sections without their \
         own `video=`. \
         `ucode=` is accepted here too; Xen reads it on x86 only.",
    );

    p.subsection("Boot sections");
    p.para(&format!(
        "Every other section that no `domains=` or `guests=` names is a boot section. \
         `xencfg build` compiles each of them into its own merged DTB, so several boot \
         sections (two Xen command lines with the same guests, say) keep working. A cfg \
         needs at least one {}. Keys that neither Xen nor xencfg reads are reported {}.",
        code(&c::NO_BOOT_SECTION),
        code(&c::IGNORED_KEY)
    ));
    p.item(
        "`options=`_XEN-COMMAND-LINE_",
        &format!(
            "Xen's command line, at most 4095 bytes {}. The emitted cfg always has a \
             non-empty `options=` {}.",
            code(&c::OPTIONS_TOO_LONG),
            code(&c::EMPTY_OPTIONS)
        ),
    );
    p.item(
        "`kernel=`_FILE_ [_COMMAND-LINE_]",
        "dom0's kernel. The file name ends at the first blank; the rest is dom0's command line.",
    );
    p.item("`ramdisk=`_FILE_", "dom0's initial ramdisk.");
    p.item("`xsm=`_FILE_", "The XSM (FLASK) policy.");
    p.item(
        "`dtb=`_FILE_",
        &format!(
            "The host device tree. xencfg adds the guests to it and the emitted cfg's `dtb=` \
             names the merged DTB, _SECTION_`.dtb`. Needed when the section has guests {}; text \
             after the file name is ignored {}.",
            code(&c::MISSING_HOST_DTB),
            code(&c::IGNORED_KEY)
        ),
    );
    p.item(
        "`dtbo=`_FILE_",
        &format!(
            "(xencfg; repeatable) A device tree overlay applied to the host DTB, in order, as \
             `fdtoverlay` does {}; for example to disable a host device dom0 must not touch.",
            code(&c::DTBO_FAILED)
        ),
    );
    p.item(
        "`video=`_MODE_, `ucode=`_FILE_",
        "Passed through to the emitted cfg. Xen reads `ucode=` on x86 only.",
    );
    p.item(
        "`domains=`_NAME_[`,`_NAME_...]",
        &format!(
            "(xencfg) The guest sections of this boot section, separated by commas or blanks. \
             `guests=` is a synonym. Each name must be a section {} and appear once {}.",
            code(&c::UNKNOWN_GUEST_SECTION),
            code(&c::DUPLICATE_GUEST)
        ),
    );
    p.item(
        "`shared-mem=`_ID_ [`host=`_ADDR_] [`guest=`_ADDR_] `size=`_SIZE_ [`role=owner`|`borrower`]",
        &format!(
            "(xencfg; repeatable; Xen 4.17+, CONFIG_STATIC_SHM) dom0's side of static shared \
             memory, shared with the guests naming the same _ID_: a \
             `xen,domain-shared-memory-v1` node directly under `/chosen`. Needs dom0's \
             `kernel=` {}; dom0 is mapped 1:1, so its guest address is the host address {}. \
             Addresses left out are placed by xencfg {} (see MEMORY PLACEMENT). The rules of \
             the guest key (see STRUCTURES) count dom0 as a sharing domain.",
            code(&c::SHM_WITHOUT_DOM0),
            code(&c::SHM_HOST_ADDRESS),
            code(&c::PLACEMENT_NO_ROOM)
        ),
    );
    p.item(
        "`static-heap=`_SIZE_ | _ADDR_`:`_SIZE_[`,`_ADDR_`:`_SIZE_...]",
        &format!(
            "(xencfg; Xen 4.17+ {}) Xen's static heap: `/chosen` `xen,static-heap`, written in \
             the host DTB root's cells {}. With it, Xen allocates only from these ranges: \
             dom0, every guest without `static-mem=`, every P2M pool and Xen itself must fit \
             {}. Each range 64 KiB-aligned {}, inside host RAM {}, clear of reserved, static \
             and shared memory and of the other ranges {}; a host DTB or overlay that has its \
             own `xen,static-heap` cannot take another {}. A size alone is placed by xencfg (see \
             MEMORY PLACEMENT).",
            code(&c::STATIC_HEAP_TOO_OLD),
            code(&c::STATIC_HEAP_CELLS),
            code(&c::STATIC_HEAP_TOO_SMALL),
            code(&c::STATIC_HEAP_UNALIGNED),
            code(&c::STATIC_HEAP_OUTSIDE_RAM),
            code(&c::STATIC_HEAP_OVERLAP),
            code(&c::STATIC_HEAP_TWICE)
        ),
    );
    p.item(
        "`domu`_N_`_kernel=`, `domu`_N_`_ramdisk=`, `domu`_N_`_dtb=`, `domu`_N_`_property=`",
        "(xencfg) Guests in the flat form; see GUEST FORMS.",
    );

    p.subsection("Guest sections");
    p.para(&format!(
        "A section named by some `domains=` or `guests=` describes one guest (see GUEST \
         FORMS); every boot section that names it gets the same guest. The boot-section keys \
         `options=`, `xsm=`, `dtbo=`, `video=`, `ucode=`, `domains=` and `guests=` have no \
         effect there {}.",
        code(&c::SECTION_BOTH_KINDS)
    ));
}

fn guest_forms(p: &mut Page) {
    p.section("GUEST FORMS");
    p.para(
        "A dom0less guest becomes a `xen,domain` node under `/chosen` in the merged DTB. Xen's \
         EFI stub loads its kernel, ramdisk and device tree through `xen,uefi-binary`, so no \
         load address is ever computed. Guests are written in either of two forms, which may \
         be mixed, even within one boot section. They get their domain IDs in the order they \
         first appear in their boot section (a `domu`_N_`_` key or a name in `domains=`), \
         starting at 1.",
    );
    p.subsection("Flat keys in a boot section");
    p.item(
        "`domu`_N_`_kernel=`_FILE_ [_COMMAND-LINE_]",
        "The guest's kernel and command line. _N_ is a number that links the keys of one \
         guest; it is not the domain ID. The guest's node is `/chosen/domU`_N_.",
    );
    p.item("`domu`_N_`_ramdisk=`_FILE_", "The guest's initial ramdisk.");
    p.item(
        "`domu`_N_`_dtb=`_FILE_",
        "A passthrough device tree fragment for the guest (see DEVICE PASSTHROUGH).",
    );
    p.item(
        "`domu`_N_`_property=`_NAME_[`=`_VALUE_]",
        "One property (see PROPERTIES and VALUES); repeat the key for each.",
    );
    p.para(&format!(
        "`_kernel`, `_ramdisk` and `_dtb` may each appear once per guest {}.",
        code(&c::GUEST_KEY_REPEATED)
    ));

    p.subsection("Guest sections");
    p.item(
        "`kernel=`_FILE_ [_COMMAND-LINE_], `ramdisk=`_FILE_, `dtb=`_FILE_",
        "The guest's modules, as in the flat form.",
    );
    p.item(
        "_NAME_`=`_VALUE_",
        "A property by its key: `cpus=2`, `memory=256M`.",
    );
    p.item("_NAME_", "A flag property written bare: `vpl011`.");
    p.item(
        "`property=`_NAME_[`=`_VALUE_]",
        "A property, as in the flat form; repeatable.",
    );
    p.item(
        "`properties=`_NAME_`=`_VALUE_ ...",
        "Several properties on one line, separated by blanks or commas. A name or value that \
         holds a blank or a comma needs a key of its own.",
    );
    p.para(&format!(
        "The node is `/chosen/`_SECTION_, so a guest section's name must be a device tree \
         node name: letters, digits and `,._+-` {}, no `@` {}, at most 40 characters {}, and \
         none of `chosen`, `kernel`, `ramdisk`, `xsm` {}.",
        code(&c::GUEST_NAME_INVALID),
        code(&c::GUEST_NAME_AT),
        code(&c::GUEST_NAME_LONG),
        code(&c::GUEST_NAME_RESERVED)
    ));

    p.para(&format!(
        "Every guest needs a kernel {} and the properties `cpus` and `memory` {}; a \
         property given twice \
         is an error {}. A kernel command line must be shorter than 1024 bytes {}.",
        code(&c::GUEST_WITHOUT_KERNEL),
        code(&c::MISSING_REQUIRED),
        code(&c::GUEST_KEY_REPEATED),
        code(&c::BOOTARGS_TOO_LONG)
    ));
}

fn passthrough(p: &mut Page) {
    p.section("DEVICE PASSTHROUGH");
    p.para(
        "A guest gets host devices through a device tree fragment, Xen's \
         `multiboot,device-tree` module. Either name a fragment written by hand with \
         `dtb=` (`domu`_N_`_dtb=`), or let xencfg build it from the host DTB:",
    );
    p.item(
        "`passthrough=`_HOST-NODE-PATH_",
        &format!(
            "(xencfg; repeatable) Pass the host node at this full path (with its unit \
             address, e.g. `/pl031@9010000`) to the guest. Also written \
             `property=passthrough=`_PATH_ or `domu`_N_`_property=passthrough=`_PATH_. A value \
             starting with `/` is a host node; `passthrough=enabled` stays Xen's own property \
             (4.19+). xencfg copies the node under the fragment's `/passthrough` bus with \
             `xen,reg` mapping its pages 1:1, `xen,path`, its GIC interrupts with \
             `interrupt-parent = <65000>`, and `xen,force-assign-without-iommu` when it has \
             no `iommus`; clocks from `fixed-clock` nodes come along, other references to \
             host nodes are left out with a warning {}. The fragment is written as \
             _GUEST_`-passthrough.dtb` next to the merged DTB {}. The node must exist and be \
             memory-mapped {}; a guest cannot have both `passthrough=` and `dtb=` {}.",
            code(&c::DANGLING_PHANDLE),
            code(&c::FRAGMENT_NAME_CLASH),
            code(&c::PASSTHROUGH_NODE),
            code(&c::PASSTHROUGH_WITH_DTB)
        ),
    );
    p.para(&format!(
        "Hand-written fragments are checked as Xen reads them: only the root nodes `/gic`, \
         `/aliases` and `/passthrough` count {}; `/passthrough` needs `compatible = \
         \"simple-bus\"`, `ranges` and its cells {}; every node with `interrupts` needs an \
         `interrupt-parent` naming the guest GIC {}; `xen,reg` is whole, page-aligned \
         tuples {} inside the host node's registers {}; `xen,path` names a host node {} and \
         comes with `xen,reg` {}; the interrupts match the host node's {}; a device not \
         behind an IOMMU needs `xen,force-assign-without-iommu` {}; phandles stay below \
         65000 {}; references to nodes outside the fragment are reported {}, and so is a \
         device whose host node has clocks while the fragment gives it none {}.",
        code(&c::FRAGMENT_IGNORED_NODE),
        code(&c::FRAGMENT_BUS),
        code(&c::FRAGMENT_INTERRUPT_PARENT),
        code(&c::BAD_XEN_REG),
        code(&c::XEN_REG_OUTSIDE_DEVICE),
        code(&c::XEN_PATH_NOT_FOUND),
        code(&c::PASSTHROUGH_INCOMPLETE),
        code(&c::FRAGMENT_INTERRUPTS_MISMATCH),
        code(&c::PASSTHROUGH_WITHOUT_IOMMU),
        code(&c::FRAGMENT_PHANDLE),
        code(&c::DANGLING_PHANDLE),
        code(&c::FRAGMENT_MISSING_CLOCKS)
    ));
    p.para(&format!(
        "Across the guests of a boot section, a device, MMIO page or interrupt goes to one \
         guest {}; interrupts must fit the guest's `nr_spis` {} and not be IRQ 32 when the \
         guest has `vpl011` {}; guest addresses must not cover the guest's RAM, vGIC, \
         vPL011, grant table or magic pages {}. When the section boots a dom0 (`kernel=`), \
         every passed-through host node gets `xen,passthrough` in the merged DTB, so that \
         dom0 leaves it alone.",
        code(&c::DEVICE_IN_TWO_GUESTS),
        code(&c::IRQ_NOT_ROUTABLE),
        code(&c::IRQ_VPL011_CLASH),
        code(&c::GUEST_MMIO_OVERLAP)
    ));
}

/// One entry per row of the binding table: this is the list the tests
/// compare against [`binding::PROPERTIES`].
fn properties(p: &mut Page) {
    p.section("PROPERTIES");
    p.para(&format!(
        "The properties of the `xen,domain` binding that xencfg knows, with the first Xen \
         release that reads each. A property's key is its device tree name without a leading \
         `#`; the device tree name is accepted too. A property that the target Xen \
         (`--xen-version`, default the newest) does not read yet is an error, as is an \
         unknown name {}, unless its value is written raw (see VALUES).",
        code(&c::UNKNOWN_PROPERTY)
    ));
    for spec in binding::PROPERTIES {
        let tag = if spec.cfg_key() == spec.dt_name {
            format!("`{}`", spec.cfg_key())
        } else {
            format!("`{}` (DT `{}`)", spec.cfg_key(), spec.dt_name)
        };
        p.item(&tag, &property_text(spec));
    }
}

fn property_text(spec: &PropertySpec) -> String {
    let kind = match spec.kind {
        ValueKind::Flag => "flag".to_string(),
        ValueKind::U32 { min, max } if min == max => format!("number, always {min}"),
        ValueKind::U32 { min, max } => format!("number, {min} to {max}"),
        ValueKind::MemoryKib => "size; a bare number is KiB".to_string(),
        ValueKind::Mib => "size; a bare number is MiB".to_string(),
        ValueKind::Str { allowed: [] } => "string".to_string(),
        ValueKind::Str { allowed } => {
            let list: Vec<String> = allowed
                .iter()
                .map(|a| match a.since > spec.since {
                    true => format!("`{}` (Xen {} and later)", a.value, a.since),
                    false => format!("`{}`", a.value),
                })
                .collect();
            format!("one of {}", list.join(", "))
        }
        ValueKind::SveBits => "empty or `max`, or a vector length in bits".to_string(),
        ValueKind::Capabilities => "capability names, or a number from 0 to 7".to_string(),
    };
    let required = if spec.required { "; required" } else { "" };
    let needs = spec
        .requires
        .map(|symbol| format!("; needs {symbol}"))
        .unwrap_or_default();
    let backport = binding::backport(spec.dt_name)
        .map(|(line, patch)| format!(" (and {line}.{patch} and later on the {line} line)"))
        .unwrap_or_default();
    format!(
        "{kind}; Xen {} and later{backport}{required}{needs}. {}.",
        spec.since,
        upper_first(spec.summary)
    )
}

/// One entry per row of the structure table ([`binding::STRUCTURES`]).
fn structures(p: &mut Page) {
    p.section("STRUCTURES");
    p.para(&format!(
        "Keys of a guest for the parts of the binding that link nodes by phandle. xencfg          allocates the phandles above the host tree's highest and writes both ends. A value          that does not parse is an error {}; a key the target Xen does not read yet is an          error {}, as is one whose build option the target lacks {} (judged only with          `--xen-config`). Values that hold blanks (`evtchn=`, `shared-mem=`) need a key of          their own, not `properties=`.",
        code(&c::BAD_STRUCTURE),
        code(&c::UNKNOWN_PROPERTY),
        code(&c::BUILD_OPTION_MISSING)
    ));
    for spec in binding::STRUCTURES {
        let needs = spec
            .requires
            .map(|symbol| format!("; needs {symbol}"))
            .unwrap_or_default();
        let repeat = if spec.repeatable { "; repeatable" } else { "" };
        p.item(
            &format!("`{}`", spec.syntax),
            &format!(
                "Xen {} and later{needs}{repeat}. {}; writes {}.",
                spec.since,
                upper_first(spec.summary),
                spec.writes
            ),
        );
    }
    p.para(&format!(
        "Pools: every CPU must be a host CPU node {}, in one pool only; `sched=` must be a          scheduler Xen has {}. Event channels: the peer must be a domain of the boot section          {}, ports 1 to 1023 for guests {}, each port once per domain {}. Static memory:          inside host RAM {}, clear of other static, reserved and shared ranges {}, in whole          pages {}, adding up to `memory` {}. Shared memory: ids of at most 15 characters {},          one range per id {}, one owner {}; dom0's side (`shared-mem=` in a boot          section) needs dom0 {}, and a domain mapped 1:1 sees the host address {}.",
        code(&c::CPUPOOL_CPU),
        code(&c::CPUPOOL_SCHED),
        code(&c::EVTCHN_PEER),
        code(&c::EVTCHN_PORT),
        code(&c::EVTCHN_PORT_REUSED),
        code(&c::STATIC_MEM_OUTSIDE_RAM),
        code(&c::STATIC_MEM_OVERLAP),
        code(&c::STATIC_MEM_UNALIGNED),
        code(&c::STATIC_MEM_SIZE),
        code(&c::SHM_ID),
        code(&c::SHM_MISMATCH),
        code(&c::SHM_ROLE),
        code(&c::SHM_WITHOUT_DOM0),
        code(&c::SHM_HOST_ADDRESS)
    ));
    placement(p);
}

/// How xencfg chooses the addresses a cfg leaves out.
fn placement(p: &mut Page) {
    p.section("MEMORY PLACEMENT");
    p.para(&format!(
        "`static-mem=`, `static-heap=` and `shared-mem=` may give sizes alone; xencfg then \
         chooses the addresses, the same ones for the same inputs, before any check runs, \
         and the checks judge them like given ones. Host ranges are taken first fit, lowest \
         first, 2 MiB aligned (4 KiB for shared memory that is not whole 2 MiB), in the \
         order: the heap, each guest's static banks, each shared region; from host RAM (the \
         DTB's memory nodes or `--host-ram`) less the host's reserved ranges, every range \
         the cfg gives, and the firmware's likely areas {}: the first 128 MiB of RAM (U-Boot \
         copies the DTB there) and the top of RAM, as large as every file Xen's EFI loader \
         reads plus 128 MiB (EDK2 and U-Boot hand out the highest free pages first). A \
         guest's side of shared memory is the host address for dom0 and direct-mapped \
         guests, else the lowest free address of its RAM windows after its own RAM, clear \
         of the devices Xen emulates. What does not fit is an error naming the free space \
         {}. `xencfg explain` marks placed addresses; `explain --memory` draws the \
         firmware's areas.",
        code(&c::FIRMWARE_LOAD_AREA),
        code(&c::PLACEMENT_NO_ROOM)
    ));
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn values(p: &mut Page) {
    p.section("VALUES");
    p.item(
        "Numbers",
        &format!(
            "Decimal, or hexadecimal with `0x`; `_` may separate digits (`0x4000_0000`). A \
             number outside the property's range is an error {}.",
            code(&c::BAD_NUMBER)
        ),
    );
    p.item(
        "Sizes",
        &format!(
            "A number with an optional binary unit `K`, `M`, `G` or `T` (either case): \
             `768M`, `1G`. A bare number is in the property's own unit: KiB for `memory` \
             (`memory=0xC0000` is 768 MiB), MiB for `xen,domain-p2m-mem-mb`. A size that is \
             not a whole number of that unit, or does not fit, is an error, never truncated. \
             `memory` must be a positive multiple of 4 KiB {}.",
            code(&c::BAD_MEMORY)
        ),
    );
    p.item(
        "Flags",
        &format!(
            "A bare key, or `=yes`/`no`, `true`/`false`, `on`/`off`, `1`/`0` in any case {}. \
             A false flag leaves the property out.",
            code(&c::BAD_FLAG)
        ),
    );
    p.item(
        "Strings",
        &format!(
            "The text as written, without surrounding blanks. Some properties accept only \
             the values listed under PROPERTIES {}.",
            code(&c::BAD_STRING)
        ),
    );
    p.item(
        "Raw device tree values",
        &format!(
            "A value that starts with `<`, `\"` or `[` is written into the node as given: \
             `<1 0x2>` (32-bit cells), `\"text\"` or `\"a\", \"b\"` (strings), `[de ad be ef]` \
             (bytes). Any name may take a raw value, known or not, e.g. \
             `property=foo=<1 2>`; xencfg passes it through unchecked with a warning {}. A raw \
             value that does not parse is an error {}.",
            code(&c::RAW_PROPERTY),
            code(&c::BAD_RAW_VALUE)
        ),
    );
}

fn paths(p: &mut Page) {
    p.section("PATHS");
    p.para(
        "Every file name (`kernel=`, `ramdisk=`, `xsm=`, `dtb=`, `dtbo=` and the guests' \
         modules) is a path on the EFI system partition relative to the directory of the Xen \
         EFI binary, exactly as Xen opens it. On the build host it is found relative to the \
         cfg's directory, or to `--root`.",
    );
    p.para(
        "Both `/` and `\\` separate names; xencfg always emits `\\`, because EDK2's FAT driver \
         rejects `/` and Xen stops with \"Open failed\".",
    );
    p.para("Names follow the FAT rules:");
    p.bullet(&format!(
        "no `\"`, `*`, `:`, `<`, `>`, `?`, `|` or control bytes {};",
        code(&c::ESP_RESERVED_CHAR)
    ));
    p.bullet(&format!("7-bit ASCII only {};", code(&c::ESP_NON_ASCII)));
    p.bullet(&format!(
        "no absolute path and no `..` component: everything lives in or below the directory \
         of the Xen binary {};",
        code(&c::ESP_ESCAPE)
    ));
    p.bullet(&format!(
        "no empty or `.` component; each name at most 255 characters, without leading \
         blanks or trailing blanks or dots {};",
        code(&c::ESP_BAD_NAME)
    ));
    p.bullet(&format!(
        "FAT ignores case while Xen compares names byte for byte, so spell every reference \
         to one file the same way {}.",
        code(&c::ESP_CASE_CLASH)
    ));
    p.para(&format!(
        "Every file named must exist {}, be a regular file {} and not be empty {}. \
         `xencfg build --stage` copies each into the output directory at its path.",
        code(&c::FILE_MISSING),
        code(&c::FILE_NOT_REGULAR),
        code(&c::FILE_EMPTY)
    ));
}

fn examples(p: &mut Page) {
    p.section("EXAMPLES");
    p.para("One guest in the flat form:");
    p.example(&[
        "[global]",
        "default=xen",
        "",
        "[xen]",
        "options=console=dtuart bootscrub=0",
        "dtb=host.dtb",
        "domu1_kernel=Image-domu1 console=ttyAMA0",
        "domu1_ramdisk=initrd-domu1.cpio.gz",
        "domu1_property=cpus=1",
        "# a bare number is KiB: 768 MiB",
        "domu1_property=memory=0xC0000",
        "domu1_property=vpl011",
    ]);
    p.para("Two guests, each in a section of its own:");
    p.example(&[
        "[global]",
        "default=xen",
        "",
        "[xen]",
        "options=console=dtuart bootscrub=0",
        "dtb=host.dtb",
        "domains=guest1,guest2",
        "",
        "[guest1]",
        "kernel=guests/Image-guest1 console=ttyAMA0",
        "ramdisk=guests/initrd.cpio.gz",
        "cpus=2",
        "memory=256M",
        "vpl011",
        "",
        "[guest2]",
        "kernel=guests/Image-guest2 console=ttyAMA0",
        "properties=cpus=1 memory=128M",
        "property=xen,enhanced=enabled",
    ]);
    p.para("A guest that gets the host's PL031 real-time clock:");
    p.example(&[
        "[rtc]",
        "kernel=Image-rtc console=ttyAMA0",
        "cpus=1",
        "memory=256M",
        "vpl011",
        "passthrough=/pl031@9010000",
    ]);
    p.para(
        "Comments sit on lines of their own: a `#` after a value would leave the blanks \
         before it in the value.",
    );
}
