//! One test per quirk of Xen's cfg reading (reference §1.4–§1.7): the input
//! bytes, what Xen reads (through `Document::xen_lookup`), and the
//! diagnostic xencfg gives (code, line, column). The proptests at the end
//! check that no input panics, that every span lies inside the input, and
//! that `xen_lookup` agrees with a literal port of Xen's C code.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use xencfg::cfg::Document;
use xencfg::diag::{Diagnostic, Diagnostics, FileId, Location, Span};

fn parse(bytes: &[u8]) -> (Document, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let doc = Document::parse(FileId(0), bytes, &mut diags);
    (doc, diags.into_vec())
}

fn pos(d: &Diagnostic) -> (&'static str, u32, u32) {
    match &d.location {
        Location::Text(s) => (d.check.code, s.line, s.col),
        _ => (d.check.code, 0, 0),
    }
}

/// The diagnostics as (code, line, col), in the order found.
fn found(diags: &[Diagnostic]) -> Vec<(&'static str, u32, u32)> {
    diags.iter().map(pos).collect()
}

/// Assert exactly these diagnostics were found (order-insensitive).
#[track_caller]
fn expect(diags: &[Diagnostic], want: &[(&str, u32, u32)]) {
    let mut got = found(diags);
    got.sort();
    let mut want: Vec<_> = want.to_vec();
    want.sort();
    assert_eq!(
        got,
        want,
        "diagnostics: {:#?}",
        diags
            .iter()
            .map(|d| (&d.message, &d.help))
            .collect::<Vec<_>>()
    );
}

fn the<'a>(diags: &'a [Diagnostic], code: &str) -> &'a Diagnostic {
    diags
        .iter()
        .find(|d| d.check.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", found(diags)))
}

/// What Xen reads for `key` in `section` (`None` = not found).
fn lookup<'a>(doc: &'a Document, section: Option<&str>, key: &str) -> Option<&'a str> {
    doc.xen_lookup(section, key).map(|e| e.value.as_str())
}

// --- line ends and control bytes -------------------------------------------

#[test]
fn crlf_file_reads_clean() {
    let src = b"[global]\r\ndefault=xen\r\n\r\n[xen]\r\noptions=console=dtuart\r\nkernel=Image\r\n";
    let (doc, diags) = parse(src);
    expect(&diags, &[]);
    assert_eq!(lookup(&doc, Some("global"), "default"), Some("xen"));
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("console=dtuart"));
    let e = doc.xen_lookup(Some("xen"), "kernel").unwrap();
    assert_eq!(
        (e.value_span.line, e.value_span.col, e.value_span.len),
        (6, 8, 5)
    );
}

#[test]
fn tab_ends_the_line() {
    let (doc, diags) = parse(b"[xen]\noptions=a\tkernel=b\n");
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    // The key after the TAB is on the same physical line, at its column.
    let k = doc.xen_lookup(Some("xen"), "kernel").unwrap();
    assert_eq!((k.key_span.line, k.key_span.col), (2, 11));
    expect(&diags, &[("XC0102", 2, 10)]);
    assert!(the(&diags, "XC0102").message.contains("`kernel=b`"));
}

#[test]
fn tab_as_indentation_is_harmless() {
    let (doc, diags) = parse(b"[xen]\n\tkernel=b\t# the kernel\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    expect(&diags, &[]);
}

#[test]
fn tab_inside_a_comment_uncomments_the_rest() {
    let (doc, diags) = parse(b"[xen]\n# old:\tkernel=b\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    expect(&diags, &[("XC0102", 2, 7)]);
}

#[test]
fn lone_cr_ends_the_line_but_not_the_line_number() {
    let (doc, diags) = parse(b"[xen]\rkernel=a\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    let k = doc.xen_lookup(Some("xen"), "kernel").unwrap();
    assert_eq!((k.key_span.line, k.key_span.col), (1, 7));
    expect(&diags, &[("XC0102", 1, 6)]);
}

#[test]
fn vt_ff_del_split_lines() {
    let (doc, diags) = parse(b"[xen]\noptions=a\x0bkernel=b\x0cramdisk=c\x7fxsm=d\n");
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    assert_eq!(lookup(&doc, Some("xen"), "ramdisk"), Some("c"));
    assert_eq!(lookup(&doc, Some("xen"), "xsm"), Some("d"));
    expect(
        &diags,
        &[("XC0102", 2, 10), ("XC0102", 2, 19), ("XC0102", 2, 29)],
    );
}

#[test]
fn a_single_nul_byte_splits_the_line() {
    let (doc, diags) = parse(b"[xen]\nkernel=a\0options=b\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("b"));
    expect(&diags, &[("XC0102", 2, 9)]);
}

// --- comments ---------------------------------------------------------------

#[test]
fn semicolon_inside_a_value_is_kept() {
    let (doc, diags) = parse(b"[xen]\noptions=a;b\n");
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("a;b"));
    expect(&diags, &[]);
}

#[test]
fn semicolon_at_line_start_is_a_comment() {
    let (doc, diags) = parse(b"[xen]\n;x=1\n   ;y=2\n\xa0;z=3\n");
    assert_eq!(lookup(&doc, Some("xen"), "x"), None);
    assert_eq!(lookup(&doc, Some("xen"), "y"), None);
    assert_eq!(lookup(&doc, Some("xen"), "z"), None);
    expect(&diags, &[("XC0107", 4, 1)]);
}

#[test]
fn semicolon_after_a_tab_is_a_comment() {
    let (doc, diags) = parse(b"[xen]\noptions=a\t;b=1\n");
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("a"));
    assert_eq!(lookup(&doc, None, "b"), None);
    expect(&diags, &[("XC0102", 2, 10)]);
    assert!(the(&diags, "XC0102").message.contains("comment"));
}

#[test]
fn semicolon_inline_comment_stays_in_the_value() {
    let (doc, diags) = parse(b"[xen]\nramdisk=initrd.img ; dom0\n");
    assert_eq!(
        lookup(&doc, Some("xen"), "ramdisk"),
        Some("initrd.img ; dom0")
    );
    expect(&diags, &[("XC0117", 2, 20)]);
}

#[test]
fn hash_inside_a_value_cuts_it() {
    let (doc, diags) = parse(b"[xen]\noptions=a#b\n");
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("a"));
    expect(&diags, &[("XC0103", 2, 10)]);
}

#[test]
fn hash_inline_comment_keeps_the_blanks_before_it() {
    let (doc, diags) = parse(b"[xen]\nramdisk=initrd.img  # dom0 initrd\n");
    assert_eq!(lookup(&doc, Some("xen"), "ramdisk"), Some("initrd.img  "));
    // One diagnostic (XC0103, at the blanks), not also XC0104.
    expect(&diags, &[("XC0103", 2, 19)]);
    assert!(the(&diags, "XC0103").message.contains("`initrd.img  `"));
}

#[test]
fn hash_right_after_equals_gives_an_empty_value() {
    let (doc, diags) = parse(b"[g1]\nproperty=#address-cells=2\n");
    assert_eq!(lookup(&doc, Some("g1"), "property"), Some(""));
    expect(&diags, &[("XC0103", 2, 10)]);
    assert!(
        the(&diags, "XC0103")
            .help
            .as_deref()
            .unwrap()
            .contains("address-cells")
    );
}

#[test]
fn hash_comment_lines_are_fine() {
    let (doc, diags) = parse(b"# top\n[xen] # the boot section\n  # kernel=x\nkernel=y\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("y"));
    expect(&diags, &[]);
}

// --- keys and values --------------------------------------------------------

#[test]
fn trailing_blanks_are_part_of_the_value() {
    let (doc, diags) = parse(b"[xen]\nramdisk=initrd.img  \n");
    assert_eq!(lookup(&doc, Some("xen"), "ramdisk"), Some("initrd.img  "));
    expect(&diags, &[("XC0104", 2, 19)]);
}

#[test]
fn blank_before_equals_hides_the_key() {
    let (doc, diags) = parse(b"[xen]\nkernel =Image\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), None);
    assert_eq!(lookup(&doc, Some("xen"), "kernel "), Some("Image"));
    expect(&diags, &[("XC0101", 2, 7)]);
    assert_eq!(
        the(&diags, "XC0101").help.as_deref(),
        Some("remove the blank: `kernel=`")
    );
}

#[test]
fn leading_blanks_of_a_value_are_skipped() {
    let (doc, diags) = parse(b"[xen]\nkernel=   Image\n");
    let e = doc.xen_lookup(Some("xen"), "kernel").unwrap();
    assert_eq!(e.value, "Image");
    assert_eq!(
        (e.value_span.line, e.value_span.col, e.value_span.len),
        (2, 11, 5)
    );
    expect(&diags, &[]);
}

#[test]
fn no_break_space_is_a_blank() {
    // Leading 0xA0 is dropped, 0xA0 after `=` is skipped.
    let (doc, diags) = parse(b"[xen]\n\xa0kernel=\xa0Image\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("Image"));
    expect(&diags, &[("XC0107", 2, 1)]);
    // 0xA0 before `=` is a blank before `=`.
    let (doc, diags) = parse(b"[xen]\nkernel\xa0=Image\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), None);
    expect(&diags, &[("XC0101", 2, 7), ("XC0107", 2, 7)]);
}

#[test]
fn empty_value_is_present() {
    let (doc, diags) = parse(b"[xen]\nramdisk=\n");
    assert_eq!(lookup(&doc, Some("xen"), "ramdisk"), Some(""));
    assert_eq!(lookup(&doc, Some("xen"), "xsm"), None);
    expect(&diags, &[]);
}

#[test]
fn keys_match_whole_words() {
    let (doc, diags) = parse(b"[xen]\nkernelx=a\nkernel=b\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    expect(&diags, &[]);
}

#[test]
fn duplicate_key_first_wins() {
    let (doc, diags) = parse(b"[xen]\nkernel=a\nkernel=b\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    let s = doc.section("xen").unwrap();
    assert!(!s.entries[0].shadowed && s.entries[1].shadowed);
    expect(&diags, &[("XC0105", 3, 1)]);
    let d = the(&diags, "XC0105");
    assert!(matches!(
        d.related[0].0,
        Location::Text(Span {
            line: 2,
            col: 1,
            ..
        })
    ));
}

#[test]
fn repeatable_keys_are_not_duplicates() {
    let (doc, diags) =
        parse(b"[xen]\ndtbo=a.dtbo\ndtbo=b.dtbo\ndomu1_property=cpus=1\ndomu1_property=vpl011\n");
    let s = doc.section("xen").unwrap();
    assert_eq!(s.all("dtbo").count(), 2);
    assert_eq!(s.all("domu1_property").count(), 2);
    expect(&diags, &[]);
}

#[test]
fn line_without_equals() {
    // A single word is a bare word (a flag for lowering); anything else is
    // a line Xen ignores.
    let (doc, diags) = parse(b"[g1]\nvpl011  \nkernel Image\n=x\n");
    assert_eq!(doc.bare_words.len(), 1);
    let (section, word) = &doc.bare_words[0];
    assert_eq!(
        (*section, word.text.as_str(), word.span.line, word.span.len),
        (Some(0), "vpl011", 2, 6)
    );
    assert_eq!(lookup(&doc, None, ""), None);
    expect(&diags, &[("XC0115", 3, 1), ("XC0115", 4, 1)]);
}

// --- sections ---------------------------------------------------------------

#[test]
fn duplicate_section_only_the_first_is_read() {
    let (doc, diags) = parse(b"[xen]\nkernel=a\n[xen]\nkernel=b\noptions=o\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "options"), None);
    // Without a section, the whole file is searched.
    assert_eq!(lookup(&doc, None, "options"), Some("o"));
    assert!(!doc.sections[0].shadowed && doc.sections[1].shadowed);
    expect(&diags, &[("XC0106", 3, 1)]);
    let d = the(&diags, "XC0106");
    assert!(matches!(
        d.related[0].0,
        Location::Text(Span {
            line: 1,
            col: 1,
            ..
        })
    ));
}

#[test]
fn header_junk_after_bracket_is_ignored() {
    let (doc, diags) = parse(b"[xen] junk\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    expect(&diags, &[("XC0114", 1, 7)]);
}

#[test]
fn header_blanks_inside_brackets_are_part_of_the_name() {
    let (doc, diags) = parse(b"[ xen ]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), None);
    assert_eq!(lookup(&doc, Some(" xen "), "kernel"), Some("a"));
    expect(&diags, &[("XC0114", 1, 2)]);
}

#[test]
fn header_without_bracket_never_matches_but_ends_the_section() {
    let (doc, diags) = parse(b"[xen]\nkernel=a\n[xen\noptions=o\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "options"), None);
    assert!(doc.sections[1].shadowed);
    expect(&diags, &[("XC0114", 3, 1)]);
}

#[test]
fn header_cut_by_hash() {
    let (doc, diags) = parse(b"[xen#1]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("xen#1"), "kernel"), None);
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), None);
    expect(&diags, &[("XC0114", 1, 1)]);
}

#[test]
fn header_names_are_case_sensitive() {
    let (doc, diags) = parse(b"[global]\ndefault=xen\n[Xen]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), None);
    assert_eq!(lookup(&doc, Some("Xen"), "kernel"), Some("a"));
    expect(&diags, &[("XC0111", 2, 9)]);
    assert!(
        the(&diags, "XC0111")
            .help
            .as_deref()
            .unwrap()
            .contains("`default=Xen`")
    );
}

#[test]
fn header_comparison_is_xens_prefix_test() {
    // Xen matches the bytes after `[` against the name and wants `]` right
    // after: `[a]b]` matches both `a` and `a]b`.
    let (doc, _) = parse(b"[a]b]\nk=v\n");
    assert_eq!(lookup(&doc, Some("a"), "k"), Some("v"));
    assert_eq!(lookup(&doc, Some("a]b"), "k"), Some("v"));
    assert_eq!(lookup(&doc, Some("a]"), "k"), None);
}

#[test]
fn headers_do_not_match_keys() {
    let (doc, _) = parse(b"[kernel=x]\n");
    assert_eq!(lookup(&doc, None, "[kernel"), None);
    assert_eq!(lookup(&doc, None, "kernel"), None);
}

// --- file-level quirks ------------------------------------------------------

#[test]
fn utf8_bom_hides_the_first_header() {
    let (doc, diags) = parse(b"\xef\xbb\xbf[global]\ndefault=xen\n[xen]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("global"), "default"), None);
    assert_eq!(doc.preamble.len(), 1);
    // One error that explains it all, not also XC0110/XC0112 for `default=`.
    expect(&diags, &[("XC0108", 1, 1)]);
    let d = the(&diags, "XC0108");
    assert!(
        d.message.contains("not as a section header"),
        "{}",
        d.message
    );
    assert!(
        d.notes.iter().any(|n| n.contains("the key on line 2 is")),
        "{:?}",
        d.notes
    );
}

#[test]
fn utf8_bom_before_a_key() {
    let (doc, diags) = parse(b"\xef\xbb\xbfkernel=a\n");
    assert_eq!(lookup(&doc, None, "kernel"), None);
    expect(&diags, &[("XC0108", 1, 1)]);
}

#[test]
fn no_final_newline() {
    let (doc, diags) = parse(b"[xen]\nkernel=a");
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("a"));
    expect(&diags, &[("XC0109", 2, 9)]);
    // Xen only complains when the last byte survives pre_parse(): a final
    // comment or line end is fine.
    let (_, diags) = parse(b"[xen]\nkernel=a\n# end");
    expect(&diags, &[]);
    let (_, diags) = parse(b"[xen]\nkernel=a\r");
    expect(&diags, &[]);
}

#[test]
fn default_outside_global_is_not_read() {
    let (doc, diags) = parse(b"[xen]\ndefault=xen\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("global"), "default"), None);
    expect(&diags, &[("XC0110", 2, 1)]);
    // Before the first header: XC0110 only (not also XC0112).
    let (_, diags) = parse(b"default=xen\n[global]\n[xen]\n");
    expect(&diags, &[("XC0110", 1, 1)]);
}

#[test]
fn default_naming_a_missing_section() {
    let (doc, diags) = parse(b"[global]\ndefault=xne\n[xen]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("global"), "default"), Some("xne"));
    assert_eq!(lookup(&doc, Some("xne"), "kernel"), None);
    expect(&diags, &[("XC0111", 2, 9)]);
    assert_eq!(
        the(&diags, "XC0111").help.as_deref(),
        Some("did you mean `default=xen`?")
    );
}

#[test]
fn default_with_a_trailing_blank() {
    let (doc, diags) = parse(b"[global]\ndefault=xen \n[xen]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("global"), "default"), Some("xen "));
    assert_eq!(lookup(&doc, Some("xen "), "kernel"), None);
    // One diagnostic for one mistake: XC0111 explains the blank.
    expect(&diags, &[("XC0111", 2, 9)]);
    assert!(the(&diags, "XC0111").message.contains("trailing blank"));
}

#[test]
fn empty_default_searches_the_whole_file() {
    let (doc, diags) = parse(b"[global]\ndefault=\n[xen]\nkernel=a\n");
    assert_eq!(lookup(&doc, Some("global"), "default"), Some(""));
    // Xen treats an empty section name as no section at all.
    assert_eq!(lookup(&doc, Some(""), "kernel"), Some("a"));
    expect(&diags, &[("XC0111", 2, 9)]);
}

#[test]
fn key_before_the_first_section() {
    let (doc, diags) = parse(b"kernel=a\n[xen]\nkernel=b\n");
    assert_eq!(lookup(&doc, None, "kernel"), Some("a"));
    assert_eq!(lookup(&doc, Some("xen"), "kernel"), Some("b"));
    assert_eq!(doc.preamble.len(), 1);
    expect(&diags, &[("XC0112", 1, 1)]);
}

#[test]
fn non_ascii_is_reported_once_per_line() {
    let (doc, diags) = parse("[xen]\noptions=café naïve\n# ça va\n".as_bytes());
    // Xen widens each byte: the value holds one char per byte.
    assert_eq!(lookup(&doc, Some("xen"), "options"), Some("cafÃ© naÃ¯ve"));
    expect(&diags, &[("XC0107", 2, 12)]);
    assert!(the(&diags, "XC0107").message.contains("`é`"));
}

#[test]
fn utf16_is_one_error_and_no_entries() {
    let mut le = vec![0xFF, 0xFE];
    for unit in "[xen]\nkernel=a\n".encode_utf16() {
        le.extend_from_slice(&unit.to_le_bytes());
    }
    let (doc, diags) = parse(&le);
    expect(&diags, &[("XC0116", 1, 1)]);
    assert!(doc.sections.is_empty() && doc.preamble.is_empty() && doc.bare_words.is_empty());
    // Without a BOM, big-endian.
    let be: Vec<u8> = "[xen]\nkernel=a\n"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let (doc, diags) = parse(&be);
    expect(&diags, &[("XC0116", 1, 1)]);
    assert!(the(&diags, "XC0116").message.contains("UTF-16"));
    assert_eq!(lookup(&doc, None, "kernel"), None);
}

#[test]
fn many_nul_bytes_are_not_text() {
    let mut src = b"[xen]\nkernel=a\n".to_vec();
    src.extend(std::iter::repeat_n(0u8, 64));
    let (doc, diags) = parse(&src);
    expect(&diags, &[("XC0116", 1, 1)]);
    assert!(doc.sections.is_empty());
}

#[test]
fn findings_are_capped_per_check() {
    let src = "[xen]\n".to_string() + &"a =b\n".repeat(1000);
    let (_, diags) = parse(src.as_bytes());
    let xc0101 = diags.iter().filter(|d| d.check.code == "XC0101").count();
    assert_eq!(xc0101, 21); // 20 shown + 1 summary
    let summary = diags.iter().rfind(|d| d.check.code == "XC0101").unwrap();
    assert!(summary.message.contains("980 more"), "{}", summary.message);
    assert_eq!(pos(summary), ("XC0101", 22, 2));
}

#[test]
fn a_clean_realistic_cfg() {
    let src =
        b"# Xen on the board\n[global]\ndefault=xen\n\n[xen]\noptions=console=dtuart bootscrub=0\n\
kernel=Image console=hvc0\ndtb=host.dtb\ndomains=guest1\n\n[guest1]\nkernel=Image-domu1.bin\n\
memory=768M\ncpus=1\nvpl011\n";
    let (doc, diags) = parse(src);
    expect(&diags, &[]);
    assert_eq!(
        lookup(&doc, Some("xen"), "kernel"),
        Some("Image console=hvc0")
    );
    assert_eq!(lookup(&doc, Some("guest1"), "memory"), Some("768M"));
    assert_eq!(doc.bare_words.len(), 1);
    assert_eq!(doc.bare_words[0].0, Some(2));
}

// --- robustness -------------------------------------------------------------

/// xorshift64*: deterministic bytes without a dependency.
fn random_bytes(len: usize, mut seed: u64, alphabet: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let r = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        for b in r.to_le_bytes() {
            out.push(match alphabet {
                Some(a) => a[usize::from(b) % a.len()],
                None => b,
            });
        }
    }
    out.truncate(len);
    out
}

fn check_spans(src: &[u8], doc: &Document, diags: &[Diagnostic]) {
    // Line number and start of every byte offset, computed the plain way.
    let mut line_of = Vec::with_capacity(src.len() + 1);
    let (mut line, mut start) = (1usize, 0usize);
    for (i, &b) in src.iter().enumerate() {
        line_of.push((line, start));
        if b == b'\n' {
            line += 1;
            start = i + 1;
        }
    }
    line_of.push((line, start));
    let check = |s: &Span| {
        assert!(
            s.offset + s.len <= src.len(),
            "span {s:?} outside {} bytes",
            src.len()
        );
        let (line, line_start) = line_of[s.offset];
        assert_eq!(
            (s.line as usize, s.col as usize),
            (line, s.offset - line_start + 1),
            "{s:?}"
        );
    };
    for e in doc
        .preamble
        .iter()
        .chain(doc.sections.iter().flat_map(|s| s.entries.iter()))
    {
        check(&e.key_span);
        check(&e.value_span);
    }
    for s in &doc.sections {
        check(&s.name_span);
        check(&s.header_span);
    }
    for (_, w) in &doc.bare_words {
        check(&w.span);
    }
    for d in diags {
        if let Location::Text(s) = &d.location {
            check(s);
        }
        for (l, _) in &d.related {
            if let Location::Text(s) = l {
                check(s);
            }
        }
    }
}

#[test]
fn ten_megabytes_of_random_bytes() {
    let src = random_bytes(10 << 20, 0x9E37_79B9_7F4A_7C15, None);
    let start = Instant::now();
    let (doc, diags) = parse(&src);
    // A generous bound for a debug build on a busy machine; the point is
    // "linear, not quadratic".
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    expect(&diags, &[("XC0116", 1, 1)]);
    assert!(doc.sections.is_empty());
}

#[test]
fn ten_megabytes_of_cfg_like_noise() {
    // Text that is not garbage to the sniffer, so every path of the lexer
    // runs on it: the diagnostics must stay capped and the time linear.
    let alphabet = b"[]=#; \t\r\n\n\nabcxenkrl_-.0123456789\xa0\xc3\xa9";
    let src = random_bytes(10 << 20, 42, Some(alphabet));
    let start = Instant::now();
    let (doc, diags) = parse(&src);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert!(diags.len() <= 17 * 21, "{} diagnostics", diags.len());
    assert!(!doc.sections.is_empty());
    check_spans(&src, &doc, &diags);
}

/// A literal port of Xen's `pre_parse()` and `get_value()` (boot.c, 4.22
/// buffer termination), to compare `xen_lookup` against.
fn xen_get_value(file: &[u8], section: Option<&str>, item: &str) -> Option<Vec<u8>> {
    let cntrl = |b: u8| b < 0x20 || b == 0x7f;
    let space = |b: u8| (0x09..=0x0d).contains(&b) || b == 0x20 || b == 0xa0;
    let mut buf = file.to_vec();
    let (mut start, mut comment) = (true, false);
    for c in buf.iter_mut() {
        if cntrl(*c) {
            comment = false;
            start = true;
            *c = 0;
        } else if comment || (start && space(*c)) {
            *c = 0;
        } else if *c == b'#' || (start && *c == b';') {
            comment = true;
            *c = 0;
        } else {
            start = false;
        }
    }
    buf.push(0);
    let end = file.len();
    let section = section.unwrap_or("").as_bytes();
    let item = item.as_bytes();
    let mut matched = section.is_empty();
    let strlen = |p: usize| buf[p..].iter().position(|&b| b == 0).unwrap_or(0);
    let mut ptr = 0;
    while ptr < end {
        match buf[ptr] {
            0 => {
                ptr += 1;
                continue;
            }
            b'[' => {
                if !section.is_empty() {
                    if matched {
                        return None;
                    }
                    ptr += 1;
                    matched = buf[ptr..].starts_with(section)
                        && buf.get(ptr + section.len()) == Some(&b']');
                }
            }
            _ => {
                if matched
                    && buf[ptr..].starts_with(item)
                    && buf.get(ptr + item.len()) == Some(&b'=')
                {
                    ptr += item.len() + 1;
                    while buf[ptr] != 0 && space(buf[ptr]) {
                        ptr += 1;
                    }
                    return Some(buf[ptr..ptr + strlen(ptr)].to_vec());
                }
            }
        }
        ptr += strlen(ptr);
        ptr += 1;
    }
    None
}

fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(src in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (doc, diags) = parse(&src);
        check_spans(&src, &doc, &diags);
    }

    #[test]
    fn lookups_agree_with_xens_code(
        src in proptest::collection::vec(
            proptest::sample::select(b"[]]==#; ; \t\r\n\n\nxxeekk\xa0\xc3\x0b".to_vec()), 0..300),
        section in proptest::sample::select(vec!["", "x", "e", "xe", " x", "x]e", "global"]),
        key in proptest::sample::select(vec!["x", "e", "k", "xe", "k ", "[x", ";x"]),
    ) {
        let (doc, diags) = parse(&src);
        check_spans(&src, &doc, &diags);
        if diags.iter().any(|d| d.check.code == "XC0116") {
            // Rejected as not text: xencfg reads nothing on purpose.
            return Ok(());
        }
        let sec = if section.is_empty() { None } else { Some(section) };
        let ours = doc.xen_lookup(sec, key).map(|e| latin1_bytes(&e.value));
        prop_assert_eq!(ours, xen_get_value(&src, sec, key));
    }
}
