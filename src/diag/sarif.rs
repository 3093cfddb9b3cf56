//! SARIF 2.1.0 output (`--format sarif`), for CI code scanning.
//!
//! One log with one run: `tool.driver` lists every check of the catalogue as
//! a rule (id = code, name, short and full description, help, default
//! level), and each diagnostic becomes a result with its rule, level,
//! message and locations. A cfg location is a physical location with a
//! region (line, byte column, exclusive end column); a device tree
//! location names the DTB file and adds a logical location for the node
//! (and property), written `/path` or `/path:property` as dtc writes them.
//! Related locations carry their label. Relative paths stay relative (to
//! `%SRCROOT%`, the directory xencfg ran in), so the log is the same on
//! every machine; other paths become `file://` URIs.
//!
//! The structure is checked against the official SARIF 2.1.0 schema in
//! `tests/formats.rs`.

use super::{Diagnostic, Location, Severity, SourceMap};
use crate::diag::codes::{self, Check};
use serde::Serialize;
use std::path::{Component, Path};

/// The schema a log declares: OASIS SARIF 2.1.0 (errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base id relative artifact URIs are resolved against.
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    /// Columns count bytes; the cfg is ASCII (bytes are read as Latin-1
    /// characters, one code point each), so code points is exact.
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Allow => "none",
    }
}

fn rule(check: &Check) -> Rule {
    Rule {
        id: check.code,
        name: check.name,
        short_description: Text {
            text: check.summary.to_string(),
        },
        full_description: Text {
            text: check.explanation.to_string(),
        },
        help: Text {
            text: format!(
                "{}\n\n`xencfg checks {}` prints this explanation; `-A {}` silences the check, `-D {}` makes it an error.",
                check.explanation, check.code, check.name, check.name
            ),
        },
        default_configuration: Configuration {
            level: level(check.severity),
        },
    }
}

/// The whole log for `diags`, as one JSON document.
pub fn log<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>, sources: &SourceMap) -> String {
    let results = diags.into_iter().map(|d| result(d, sources)).collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "xencfg",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: codes::ALL.iter().map(|c| rule(c)).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn result<'a>(d: &'a Diagnostic, sources: &SourceMap) -> SarifResult<'a> {
    let mut text = d.message.clone();
    for note in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    SarifResult {
        rule_id: d.check.code,
        rule_index: codes::ALL
            .iter()
            .position(|c| std::ptr::eq(*c, d.check))
            .unwrap_or(0),
        level: level(d.severity),
        message: Text { text },
        locations: location(&d.location, sources).into_iter().collect(),
        related_locations: d
            .related
            .iter()
            .enumerate()
            .filter_map(|(i, (l, label))| {
                let mut loc = location(l, sources)?;
                loc.id = Some(i);
                loc.message = Some(Text {
                    text: label.clone(),
                });
                Some(loc)
            })
            .collect(),
    }
}

fn location<'a>(location: &'a Location, sources: &SourceMap) -> Option<SarifLocation<'a>> {
    let (file, region, logical) = match location {
        Location::Text(span) => (
            sources.path(span.file),
            Some(Region {
                start_line: span.line,
                start_column: span.col,
                end_column: span.col + span.len as u32,
            }),
            Vec::new(),
        ),
        Location::Tree {
            file,
            node,
            property,
        } => {
            let logical = match property {
                Some(p) => LogicalLocation {
                    name: p,
                    fully_qualified_name: format!("{node}:{p}"),
                    kind: "property",
                },
                None => LogicalLocation {
                    name: node
                        .rsplit('/')
                        .next()
                        .filter(|n| !n.is_empty())
                        .unwrap_or("/"),
                    fully_qualified_name: node.clone(),
                    kind: "object",
                },
            };
            (file.as_path(), None, vec![logical])
        }
        Location::File(path) => (path.as_path(), None, Vec::new()),
        Location::Nowhere => return None,
    };
    let (uri, uri_base_id) = artifact_uri(file);
    Some(SarifLocation {
        id: None,
        physical_location: Some(PhysicalLocation {
            artifact_location: ArtifactLocation { uri, uri_base_id },
            region,
        }),
        logical_locations: logical,
        message: None,
    })
}

/// A relative path as a relative URI (`./a/b` → `a/b`), resolved against
/// `%SRCROOT%`; an absolute one as a `file://` URI.
fn artifact_uri(path: &Path) -> (String, Option<&'static str>) {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(encode(&part.to_string_lossy())),
            Component::ParentDir => parts.push("..".to_string()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if path.is_absolute() {
        (format!("file:///{}", parts.join("/")), None)
    } else {
        (parts.join("/"), Some(SRCROOT))
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters.
fn encode(part: &str) -> String {
    let mut out = String::new();
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_relative() {
        assert_eq!(
            artifact_uri(Path::new("./host.dtb")),
            ("host.dtb".to_string(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri(Path::new("conf/my xen.cfg")),
            ("conf/my%20xen.cfg".to_string(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri(Path::new("../x#1.cfg")),
            ("../x%231.cfg".to_string(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri(Path::new("/srv/boot/xen.cfg")),
            ("file:///srv/boot/xen.cfg".to_string(), None)
        );
    }
}
