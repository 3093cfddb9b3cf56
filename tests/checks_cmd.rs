//! `xencfg checks [CODE]` and the check registry it prints: every check is
//! listed, findable by code and by name, and well-formed (unique `XC####`
//! code, unique kebab-case name, a summary and an explanation).

use std::collections::BTreeSet;
use std::process::{Command, Output};
use xencfg::diag::codes::{ALL, SHARED_COMPRESSED_KERNEL};

fn xencfg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xencfg"))
        .args(args)
        .output()
        .expect("run xencfg")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn list_shows_every_check_in_order() {
    let out = xencfg(&["checks"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let codes: Vec<&str> = ALL.iter().map(|c| c.code).collect();
    assert_eq!(listed, codes);
    for check in ALL {
        let line = text
            .lines()
            .find(|l| l.starts_with(check.code))
            .expect("listed");
        assert!(line.contains(check.name), "{line}");
        assert!(line.contains(check.summary), "{line}");
    }
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for check in ALL {
        let digits = check.code.strip_prefix("XC").unwrap_or("");
        assert!(
            digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()),
            "`{}` is not XC followed by four digits",
            check.code
        );
        assert!(seen.insert(check.code), "code {} is used twice", check.code);
    }
    // The table is documented as being in code order.
    let codes: Vec<&str> = ALL.iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "ALL is not in code order");
}

#[test]
fn names_are_unique_kebab_case() {
    let mut seen = BTreeSet::new();
    for check in ALL {
        let kebab = !check.name.is_empty()
            && check.name.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        assert!(kebab, "`{}` ({}) is not kebab-case", check.name, check.code);
        assert!(seen.insert(check.name), "name {} is used twice", check.name);
    }
}

#[test]
fn every_check_is_documented() {
    for check in ALL {
        assert!(
            !check.summary.trim().is_empty(),
            "{} has no summary",
            check.code
        );
        assert!(
            !check.explanation.trim().is_empty(),
            "{} has no explanation",
            check.code
        );
    }
}

#[test]
fn explains_a_check_by_code_or_name() {
    let check = &SHARED_COMPRESSED_KERNEL;
    assert_eq!(check.code, "XC0405");
    for arg in ["XC0405", "xc0405", "shared-compressed-kernel"] {
        let out = xencfg(&["checks", arg]);
        assert_eq!(out.status.code(), Some(0), "xencfg checks {arg}");
        let text = stdout(&out);
        assert!(
            text.contains(check.explanation),
            "xencfg checks {arg}:\n{text}"
        );
        assert!(text.contains(check.name), "xencfg checks {arg}:\n{text}");
    }
}

#[test]
fn explains_every_check() {
    for check in ALL {
        for arg in [check.code, check.name] {
            let out = xencfg(&["checks", arg]);
            assert_eq!(out.status.code(), Some(0), "xencfg checks {arg}");
            assert!(
                stdout(&out).contains(check.explanation),
                "xencfg checks {arg} does not print the explanation"
            );
        }
    }
}

#[test]
fn unknown_check_is_a_usage_error() {
    for arg in ["XC9999", "no-such-check"] {
        let out = xencfg(&["checks", arg]);
        assert_eq!(out.status.code(), Some(2), "xencfg checks {arg}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(arg),
            "stderr does not name `{arg}`: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}
