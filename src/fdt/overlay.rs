//! Applying a device tree overlay to a base tree, as `fdtoverlay` (libfdt's
//! `fdt_overlay_apply`) does, so `dtbo=` gives the same tree users get from
//! the tool they know (tests/overlay.rs compares the two on every case).
//!
//! Steps, in libfdt's order: renumber the overlay's own phandles above the
//! base's highest (`__local_fixups__` says where they are referenced),
//! resolve references to base labels (`__fixups__` against the base's
//! `__symbols__`), merge every fragment's `__overlay__` into its `target`
//! or `target-path`, and publish the overlay's `__symbols__`.
//!
//! libfdt's habits are kept where they show in the result: a new property
//! or subnode goes before the existing ones; a name without a unit address
//! finds the first node of that name with one (`uart` finds `uart@1000`),
//! in paths and when merging; a `target-path` may start with an alias; a
//! symbol under a `target-path` fragment keeps the path as written, and a
//! symbol naming `__overlay__` itself ends in `/`.

use super::{Fdt, Node, Property};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayError(pub String);

impl std::fmt::Display for OverlayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(msg: impl Into<String>) -> Result<T, OverlayError> {
    Err(OverlayError(msg.into()))
}

/// Apply `overlay` to `base` in place. On error `base` is unchanged.
pub fn apply(base: &mut Fdt, overlay: &Fdt) -> Result<(), OverlayError> {
    let mut result = base.clone();
    let mut overlay = overlay.clone();
    let delta = max_phandle(&result.root);
    adjust_local_phandles(&mut overlay.root, delta)?;
    if let Some(i) = subnode(&overlay.root, "__local_fixups__") {
        let fixups = overlay.root.children[i].clone();
        update_local_references(&mut overlay.root, &fixups, delta, "")?;
    }
    fixup_phandles(&result, &mut overlay)?;

    // Each fragment's target as the symbols will name it.
    let mut targets: Vec<(String, String)> = Vec::new();
    for fragment in &overlay.root.children {
        let Some(content) = subnode(fragment, "__overlay__").map(|i| &fragment.children[i]) else {
            continue; // libfdt skips nodes without __overlay__ (and the __*__ nodes)
        };
        let (indices, named) = target(&result, fragment)?;
        merge(node_at_mut(&mut result.root, &indices), content);
        targets.push((fragment.name.clone(), named));
    }
    publish_symbols(&mut result, &overlay, &targets)?;
    *base = result;
    Ok(())
}

/// A node's phandle as libfdt reads it: `phandle`, else `linux,phandle`,
/// each only when exactly one cell.
fn phandle(node: &Node) -> Option<u32> {
    ["phandle", "linux,phandle"].iter().find_map(|name| {
        let v = &node.property(name)?.value;
        Some(u32::from_be_bytes(v.as_slice().try_into().ok()?))
    })
}

fn max_phandle(node: &Node) -> u32 {
    node.children
        .iter()
        .map(max_phandle)
        .fold(phandle(node).unwrap_or(0), u32::max)
}

/// libfdt's subnode lookup: the first child named `name`, or, when `name`
/// has no unit address, the first whose name is `name@…`.
fn subnode(node: &Node, name: &str) -> Option<usize> {
    node.children.iter().position(|c| {
        c.name == name
            || (!name.contains('@')
                && c.name
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('@')))
    })
}

/// libfdt's `fdt_path_offset`: `/a/b` from the root, or `alias/rest`
/// through `/aliases` (an alias must name an absolute path). Returns the
/// child indices from the root.
fn resolve(root: &Node, path: &str) -> Option<Vec<usize>> {
    let (mut indices, rest) = if path.starts_with('/') {
        (Vec::new(), path)
    } else {
        let (alias, rest) = path.split_once('/').unwrap_or((path, ""));
        let aliases = &root.children[resolve(root, "/aliases")?.first().copied()?];
        let target = string(&aliases.property(alias)?.value)?;
        if !target.starts_with('/') {
            return None; // libfdt would recurse forever
        }
        (resolve(root, &target)?, rest)
    };
    let mut node = node_at(root, &indices);
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        let i = subnode(node, part)?;
        indices.push(i);
        node = &node.children[i];
    }
    Some(indices)
}

fn node_at<'a>(root: &'a Node, indices: &[usize]) -> &'a Node {
    indices.iter().fold(root, |n, &i| &n.children[i])
}

fn node_at_mut<'a>(root: &'a mut Node, indices: &[usize]) -> &'a mut Node {
    indices.iter().fold(root, |n, &i| &mut n.children[i])
}

/// The full path of the node at `indices`, as the names are spelt.
fn path_of(root: &Node, indices: &[usize]) -> String {
    let mut node = root;
    let mut path = String::new();
    for &i in indices {
        node = &node.children[i];
        path.push('/');
        path.push_str(&node.name);
    }
    if path.is_empty() { "/".into() } else { path }
}

/// A property value read as a C string (up to its first NUL).
fn string(value: &[u8]) -> Option<String> {
    let end = value.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&value[..end]).into_owned())
}

fn adjust_local_phandles(node: &mut Node, delta: u32) -> Result<(), OverlayError> {
    for name in ["phandle", "linux,phandle"] {
        if let Some(p) = node.properties.iter_mut().find(|p| p.name == name) {
            let Ok(cell) = <[u8; 4]>::try_from(p.value.as_slice()) else {
                return fail(format!("`{name}` of `{}` is not one cell", node.name));
            };
            let adjusted = u32::from_be_bytes(cell)
                .checked_add(delta)
                .filter(|&v| v != u32::MAX)
                .ok_or_else(|| OverlayError("the overlay's phandles overflow".into()))?;
            p.value = adjusted.to_be_bytes().to_vec();
        }
    }
    node.children
        .iter_mut()
        .try_for_each(|c| adjust_local_phandles(c, delta))
}

/// `__local_fixups__` mirrors the overlay's structure; each property lists
/// byte offsets of phandle cells in the same-named property of the node at
/// the same place.
fn update_local_references(
    root: &mut Node,
    fixups: &Node,
    delta: u32,
    path: &str,
) -> Result<(), OverlayError> {
    let missing = || OverlayError(format!("__local_fixups__ names the missing node `{path}`"));
    let indices = resolve(root, if path.is_empty() { "/" } else { path }).ok_or_else(missing)?;
    for prop in &fixups.properties {
        if prop.value.len() % 4 != 0 {
            return fail(format!(
                "__local_fixups__ `{path}:{}` is not a list of offsets",
                prop.name
            ));
        }
        let node = node_at_mut(root, &indices);
        let target = node
            .properties
            .iter_mut()
            .find(|p| p.name == prop.name)
            .ok_or_else(|| {
                OverlayError(format!(
                    "__local_fixups__ names the missing property `{path}:{}`",
                    prop.name
                ))
            })?;
        for offset in prop.value.chunks_exact(4) {
            let offset = u32::from_be_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
            let Some(cell) = cell_at(&target.value, offset) else {
                return fail(format!(
                    "__local_fixups__ offset {offset} is outside `{path}:{}`",
                    prop.name
                ));
            };
            target.value[offset..offset + 4]
                .copy_from_slice(&cell.wrapping_add(delta).to_be_bytes());
        }
    }
    for child in &fixups.children {
        update_local_references(root, child, delta, &format!("{path}/{}", child.name))?;
    }
    Ok(())
}

/// `__fixups__`: `label = "path:property:offset", …` — write the phandle of
/// the base node labelled `label` at each place.
fn fixup_phandles(base: &Fdt, overlay: &mut Fdt) -> Result<(), OverlayError> {
    let Some(i) = subnode(&overlay.root, "__fixups__") else {
        return Ok(());
    };
    let fixups = overlay.root.children[i].clone();
    for prop in &fixups.properties {
        let label = &prop.name;
        let symbol = resolve(&base.root, "/__symbols__")
            .and_then(|s| node_at(&base.root, &s).property(label))
            .and_then(|p| string(&p.value))
            .ok_or_else(|| OverlayError(format!("the overlay refers to `&{label}`, but the host DTB has no such label (compile it with `dtc -@`)")))?;
        let phandle = resolve(&base.root, &symbol)
            .and_then(|n| phandle(node_at(&base.root, &n)))
            .filter(|&p| p != 0)
            .ok_or_else(|| {
                OverlayError(format!(
                    "`&{label}` ({symbol}) has no phandle in the host DTB"
                ))
            })?;
        if !prop.value.ends_with(&[0]) {
            return fail(format!("the fixup `{label}` is not a list of strings"));
        }
        for location in prop.value[..prop.value.len() - 1].split(|&b| b == 0) {
            let location = String::from_utf8_lossy(location);
            let malformed = || OverlayError(format!("malformed fixup `{location}` for `&{label}`"));
            // libfdt splits at the first two colons; the offset is decimal.
            let (node_path, rest) = location.split_once(':').ok_or_else(malformed)?;
            let (property, offset) = rest.split_once(':').ok_or_else(malformed)?;
            if property.is_empty()
                || offset.is_empty()
                || !offset.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(malformed());
            }
            let offset: usize = offset.parse().map_err(|_| malformed())?;
            let indices = resolve(&overlay.root, node_path).ok_or_else(|| {
                OverlayError(format!(
                    "the fixup for `&{label}` names the missing node `{node_path}`"
                ))
            })?;
            let node = node_at_mut(&mut overlay.root, &indices);
            let p = node
                .properties
                .iter_mut()
                .find(|p| p.name == property)
                .ok_or_else(|| {
                    OverlayError(format!(
                        "the fixup for `&{label}` names the missing property `{node_path}:{property}`"
                    ))
                })?;
            if cell_at(&p.value, offset).is_none() {
                return fail(format!(
                    "the fixup offset in `{location}` is outside the property"
                ));
            }
            p.value[offset..offset + 4].copy_from_slice(&phandle.to_be_bytes());
        }
    }
    Ok(())
}

/// A fragment's target: the node's indices, and the path a symbol under it
/// starts with (`target-path` as written, else the node's full path).
fn target(base: &Fdt, fragment: &Node) -> Result<(Vec<usize>, String), OverlayError> {
    let name = &fragment.name;
    if let Some(p) = fragment.property("target") {
        let phandle = <[u8; 4]>::try_from(p.value.as_slice())
            .map(u32::from_be_bytes)
            .ok()
            .filter(|&v| v != u32::MAX)
            .ok_or_else(|| {
                OverlayError(format!(
                    "fragment `{name}`: `target` is not one phandle (an unresolved reference?)"
                ))
            })?;
        // libfdt treats `target = <0>` as absent and tries `target-path`.
        if phandle != 0 {
            let indices = find_phandle(&base.root, phandle).ok_or_else(|| {
                OverlayError(format!(
                    "fragment `{name}`: no node with phandle {phandle:#x} in the host DTB"
                ))
            })?;
            let path = path_of(&base.root, &indices);
            return Ok((indices, path));
        }
    }
    let Some(p) = fragment.property("target-path") else {
        return fail(format!(
            "fragment `{name}` has neither `target` nor `target-path`"
        ));
    };
    let path = string(&p.value).unwrap_or_default();
    let indices = resolve(&base.root, &path).ok_or_else(|| {
        OverlayError(format!(
            "fragment `{name}`: target `{path}` not found in the host DTB"
        ))
    })?;
    Ok((indices, path))
}

fn find_phandle(node: &Node, wanted: u32) -> Option<Vec<usize>> {
    if phandle(node) == Some(wanted) {
        return Some(Vec::new());
    }
    node.children.iter().enumerate().find_map(|(i, c)| {
        let mut rest = find_phandle(c, wanted)?;
        rest.insert(0, i);
        Some(rest)
    })
}

/// libfdt's `overlay_apply_node`: set every property (a new one goes before
/// the existing ones), then merge into or add every subnode (a new one goes
/// before the existing ones).
fn merge(target: &mut Node, content: &Node) {
    for prop in &content.properties {
        match target.properties.iter_mut().find(|p| p.name == prop.name) {
            Some(p) => p.value = prop.value.clone(),
            None => target.properties.insert(0, prop.clone()),
        }
    }
    for child in &content.children {
        let i = match subnode(target, &child.name) {
            Some(i) => i,
            None => {
                target.children.insert(0, Node::new(child.name.clone()));
                0
            }
        };
        merge(&mut target.children[i], child);
    }
}

/// libfdt's `overlay_symbol_update`: every overlay symbol that points into
/// a fragment's `__overlay__` is published under the fragment's target.
fn publish_symbols(
    base: &mut Fdt,
    overlay: &Fdt,
    targets: &[(String, String)],
) -> Result<(), OverlayError> {
    let Some(i) = subnode(&overlay.root, "__symbols__") else {
        return Ok(());
    };
    let symbols = &overlay.root.children[i];
    let mut published = Vec::new();
    for prop in &symbols.properties {
        let name = &prop.name;
        let single =
            prop.value.iter().position(|&b| b == 0) == Some(prop.value.len().wrapping_sub(1));
        let path = string(&prop.value)
            .filter(|p| single && p.starts_with('/'))
            .ok_or_else(|| {
                OverlayError(format!(
                    "the overlay symbol `{name}` is not an absolute path"
                ))
            })?;
        let Some((fragment, inside)) = path[1..].split_once('/') else {
            continue; // outside every fragment: not published
        };
        let relative = match inside.strip_prefix("__overlay__") {
            Some("") => "",
            Some(rest) if rest.starts_with('/') => &rest[1..],
            _ => continue,
        };
        let Some(f) = subnode(&overlay.root, fragment) else {
            return fail(format!(
                "the overlay symbol `{name}` names the missing fragment `{fragment}`"
            ));
        };
        let fragment_name = &overlay.root.children[f].name;
        let Some((_, target)) = targets.iter().find(|(n, _)| n == fragment_name) else {
            return fail(format!(
                "the overlay symbol `{name}` points into `{fragment}`, which has no `__overlay__`"
            ));
        };
        let full = if target.len() > 1 {
            format!("{target}/{relative}")
        } else {
            format!("/{relative}")
        };
        published.push((name.clone(), full));
    }
    let index = match subnode(&base.root, "__symbols__") {
        Some(i) => i,
        None => {
            base.root.children.insert(0, Node::new("__symbols__"));
            0
        }
    };
    let node = &mut base.root.children[index];
    for (name, path) in published {
        let mut value = path.into_bytes();
        value.push(0);
        match node.properties.iter_mut().find(|p| p.name == name) {
            Some(p) => p.value = value,
            None => node.properties.insert(0, Property { name, value }),
        }
    }
    Ok(())
}

fn cell_at(value: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        value.get(offset..offset.checked_add(4)?)?.try_into().ok()?,
    ))
}
