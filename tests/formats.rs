//! The machine-readable diagnostics: `--format json` keeps its documented
//! fields (README "Diagnostics") and its output is stable (golden file);
//! `--format sarif` is valid against the official SARIF 2.1.0 schema
//! (`tests/data/sarif-schema-2.1.0.json`, see `tests/data/README.md`) for
//! every bad input of the catalogue, and carries the same findings as JSON.

mod support;

use serde_json::Value;
use std::fs;
use std::path::Path;
use support::golden::assert_golden;
use support::*;
use xencfg::diag::codes::ALL;

/// The fields of one `--format json` record, in order (README).
const JSON_FIELDS: [&str; 13] = [
    "severity", "code", "check", "message", "file", "line", "column", "length", "node", "property",
    "notes", "help", "related",
];

fn check(dir: &Path, format: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", "xen.cfg", "--format", format];
    args.extend_from_slice(extra);
    let out = run(&args, dir);
    assert!(
        out.stderr.is_empty(),
        "--format {format} writes only to stdout: {}",
        stderr(&out)
    );
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn schema() -> jsonschema::Validator {
    let text = fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json"))
        .expect("the vendored SARIF schema");
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft4::new(&schema).expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, log: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF log violates the 2.1.0 schema:\n  {}",
        errors.join("\n  ")
    );
}

#[test]
fn json_records_keep_their_documented_fields() {
    let dir = scratch_example("formats");
    let (code, text) = check(dir.path(), "json", &[]);
    assert_eq!(code, Some(1));
    for line in text.lines() {
        // Field order is part of the format: compare the raw text, not a map.
        let mut at = 0;
        for field in JSON_FIELDS {
            let key = format!("\"{field}\":");
            let found = line[at..]
                .find(&key)
                .unwrap_or_else(|| panic!("`{field}` missing or out of order in {line}"));
            at += found + key.len();
        }
        let record: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            record.as_object().unwrap().len(),
            JSON_FIELDS.len(),
            "{line}"
        );
    }
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let documented = JSON_FIELDS
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        readme.replace('\n', " ").contains(&documented),
        "README must list the JSON fields as {documented}"
    );
}

#[test]
fn json_output_is_stable() {
    let dir = scratch_example("formats");
    let (_, text) = check(dir.path(), "json", &[]);
    assert_golden(&testdata("formats/expected/check.jsonl"), &text);
}

/// The results of a log, without `ruleIndex` (it moves when checks are
/// added; `sarif_matches_json_and_the_registry` checks it instead).
fn results_without_rule_index(log: &Value) -> String {
    let mut results = log["runs"][0]["results"].clone();
    for r in results.as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("ruleIndex");
    }
    serde_json::to_string_pretty(&results).unwrap() + "\n"
}

#[test]
fn sarif_results_are_stable() {
    let dir = scratch_example("formats");
    let (code, text) = check(dir.path(), "sarif", &[]);
    assert_eq!(code, Some(1));
    let log: Value = serde_json::from_str(&text).unwrap();
    assert_valid_sarif(&schema(), &log, "formats example");
    assert_golden(
        &testdata("formats/expected/sarif-results.json"),
        &results_without_rule_index(&log),
    );
}

#[test]
fn sarif_matches_json_and_the_registry() {
    let dir = scratch_example("formats");
    let (_, sarif) = check(dir.path(), "sarif", &["-W", "unknown-property"]);
    let (_, json) = check(dir.path(), "json", &["-W", "unknown-property"]);
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), ALL.len());
    for (rule, check) in rules.iter().zip(ALL) {
        assert_eq!(rule["id"], check.code);
        assert_eq!(rule["name"], check.name);
        assert_eq!(rule["shortDescription"]["text"], check.summary);
        assert_eq!(rule["fullDescription"]["text"], check.explanation);
        assert!(rule["help"]["text"].as_str().unwrap().contains(check.code));
        assert_eq!(
            rule["defaultConfiguration"]["level"],
            check.severity.as_str()
        );
    }
    let results = run["results"].as_array().unwrap();
    let records: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), records.len());
    for (result, record) in results.iter().zip(&records) {
        assert_eq!(result["ruleId"], record["code"]);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], record["code"]);
        // -W re-levels the result; the rule keeps its default.
        assert_eq!(result["level"], record["severity"]);
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with(record["message"].as_str().unwrap())
        );
        let physical = &result["locations"][0]["physicalLocation"];
        match record["line"].as_u64() {
            Some(line) => {
                let region = &physical["region"];
                assert_eq!(region["startLine"].as_u64(), Some(line));
                assert_eq!(region["startColumn"], record["column"]);
                assert_eq!(
                    region["endColumn"].as_u64().unwrap(),
                    record["column"].as_u64().unwrap() + record["length"].as_u64().unwrap()
                );
            }
            None => assert!(physical.get("region").is_none()),
        }
        if let Some(node) = record["node"].as_str() {
            let logical = &result["locations"][0]["logicalLocations"][0];
            assert!(
                logical["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .starts_with(node),
                "{logical}"
            );
        }
    }
    assert!(
        results
            .iter()
            .any(|r| r["level"] == "warning" && r["ruleId"] == "XC0204"),
        "-W unknown-property is reflected"
    );
}

/// Every bad input of the catalogue, as SARIF, is a valid SARIF 2.1.0 log.
#[test]
fn every_bad_input_gives_valid_sarif() {
    let validator = schema();
    let bad = testdata("bad");
    let mut cases: Vec<_> = fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    cases.sort();
    let mut results = 0;
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&bad.join("_base"), dir.path());
        copy_tree(&case, dir.path());
        let extra: Vec<String> = fs::read_to_string(case.join("args"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (_, text) = check(dir.path(), "sarif", &extra);
        let log: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}\n{text}", case.display()));
        assert_valid_sarif(&validator, &log, &case.display().to_string());
        results += log["runs"][0]["results"].as_array().unwrap().len();
    }
    assert!(results > 40, "only {results} results over the catalogue");
}

/// The schema check is real: it rejects what SARIF forbids.
#[test]
fn schema_rejects_a_broken_log() {
    let validator = schema();
    let dir = scratch_example("formats");
    let (_, text) = check(dir.path(), "sarif", &[]);
    let mut log: Value = serde_json::from_str(&text).unwrap();
    log["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&log));
    let mut log: Value = serde_json::from_str(&text).unwrap();
    log["version"] = Value::from("2.0.0");
    assert!(!validator.is_valid(&log));
    let mut log: Value = serde_json::from_str(&text).unwrap();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!validator.is_valid(&log), "lines start at 1");
}

#[test]
fn clean_cfg_gives_an_empty_valid_log() {
    let dir = scratch_example("sections");
    let (code, text) = check(dir.path(), "sarif", &[]);
    assert_eq!(code, Some(0));
    let log: Value = serde_json::from_str(&text).unwrap();
    assert_valid_sarif(&schema(), &log, "sections example");
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}
