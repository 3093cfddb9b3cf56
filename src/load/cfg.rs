//! The cfg and the files its `[global] chain=` names: each read once,
//! bounded, parsed into a [`Document`] and kept in the [`SourceMap`] that
//! diagnostics quote from.

use crate::cfg::Document;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::error::Error;
use crate::esp::EspPath;
use crate::load::input::{ReadError, read_capped};
use std::path::Path;

/// Upper bound on a cfg file. Xen's own reader has none, but a real cfg is
/// a few KiB: a file this large is not a cfg (an image named by mistake, a
/// runaway generator), and reading it must cost neither much memory nor
/// much time. Larger files are refused before any byte is read.
pub const MAX_CFG_SIZE: u64 = 1 << 20;

pub fn read_cfg(path: &Path) -> Result<Vec<u8>, Error> {
    read_capped(path, MAX_CFG_SIZE).map_err(|error| Error::CfgUnreadable {
        path: path.to_path_buf(),
        error,
    })
}

/// The cfg as read: its document and the chain it starts.
pub struct LoadedCfg {
    pub doc: Document,
    pub chain: Vec<ChainLink>,
}

/// One `chain=` followed (or not) from the file before it.
pub struct ChainLink {
    /// The `chain=` key and its value, in the file that names the next.
    pub key_span: Span,
    pub value_span: Span,
    pub value: String,
    /// Whether the file it names could be followed.
    pub end: ChainEnd,
}

pub enum ChainEnd {
    /// Read and parsed; the chain goes on from it.
    Followed,
    /// It names a file already in the chain: Xen would loop.
    Cycle,
    /// Not read: the path or the file could not be (reported here).
    Unreadable,
}

/// Read the cfg and follow its chain. Syntax and unreadable files are
/// reported; what the chain means for Xen is judged by the checks.
pub fn load(
    cfg: &Path,
    root: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<LoadedCfg, Error> {
    let bytes = read_cfg(cfg)?;
    let file = sources.add(cfg, bytes);
    let doc = Document::parse(file, &sources.get(file).bytes.clone(), diags);
    let chain = follow_chain(&doc, cfg, root, sources, diags);
    Ok(LoadedCfg { doc, chain })
}

fn follow_chain(
    doc: &Document,
    cfg: &Path,
    root: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<ChainLink> {
    let mut links = Vec::new();
    let mut visited = vec![std::fs::canonicalize(cfg).unwrap_or_else(|_| cfg.to_path_buf())];
    let mut current = doc.clone();
    while let Some(entry) = current
        .section("global")
        .and_then(|g| g.get("chain"))
        .cloned()
    {
        let mut link = ChainLink {
            key_span: entry.key_span,
            value_span: entry.value_span,
            value: entry.value.clone(),
            end: ChainEnd::Unreadable,
        };
        let mut scratch = Diagnostics::default();
        let Some(path) = EspPath::parse(entry.value.trim_end(), entry.value_span, &mut scratch)
        else {
            scratch.into_vec().into_iter().for_each(|d| diags.push(d));
            links.push(link);
            break;
        };
        let host = path.host_path(root);
        let canonical = std::fs::canonicalize(&host).unwrap_or_else(|_| host.clone());
        if visited.contains(&canonical) {
            link.end = ChainEnd::Cycle;
            links.push(link);
            break;
        }
        visited.push(canonical);
        let bytes = match read_capped(&host, MAX_CFG_SIZE) {
            Ok(b) => b,
            Err(e) => {
                let check = match &e {
                    ReadError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                        &c::FILE_MISSING
                    }
                    ReadError::Io(io) if io.kind() == std::io::ErrorKind::InvalidInput => {
                        &c::FILE_NOT_REGULAR
                    }
                    _ => &c::FILE_UNREADABLE,
                };
                diags.push(
                    Diagnostic::at(check, entry.value_span, e.message(&host))
                        .note("Xen stops: \"Chained configuration file ... not found\""),
                );
                links.push(link);
                break;
            }
        };
        link.end = ChainEnd::Followed;
        links.push(link);
        let id = sources.add(&host, bytes);
        current = Document::parse(id, &sources.get(id).bytes.clone(), diags);
    }
    links
}
