//! Applying a device tree overlay to a base tree, as `fdtoverlay` (libfdt's
//! `fdt_overlay_apply`) does, so `dtbo=` gives the same tree users get from
//! the tool they know.
//!
//! Steps, in libfdt's order: renumber the overlay's own phandles above the
//! base's highest (`__local_fixups__` says where they are referenced),
//! resolve references to base labels (`__fixups__` against the base's
//! `__symbols__`), merge every fragment's `__overlay__` into its `target`
//! or `target-path`, and publish the overlay's `__symbols__`. libfdt inserts
//! a new property or subnode before the existing ones; this does the same so
//! the result matches `fdtoverlay` node for node.

use super::{Fdt, Node};

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
    let delta = result.max_phandle();
    adjust_local_phandles(&mut overlay.root, delta)?;
    if let Some(local) = overlay.root.child("__local_fixups__").cloned() {
        update_local_references(&mut overlay.root, &local, delta, "")?;
    }
    fixup_phandles(&result, &mut overlay)?;

    let mut targets = Vec::new();
    for fragment in &overlay.root.children {
        let Some(content) = fragment.child("__overlay__") else {
            continue; // libfdt skips nodes without __overlay__ (and the __*__ nodes)
        };
        let target = target_path(&result, fragment)?;
        let node = result.node_mut(&target).ok_or_else(|| {
            OverlayError(format!(
                "fragment `{}`: target `{target}` not found",
                fragment.name
            ))
        })?;
        merge(node, content);
        targets.push((fragment.name.clone(), target));
    }
    publish_symbols(&mut result, &overlay, &targets)?;
    *base = result;
    Ok(())
}

fn adjust_local_phandles(node: &mut Node, delta: u32) -> Result<(), OverlayError> {
    for name in ["phandle", "linux,phandle"] {
        if let Some(p) = node.properties.iter_mut().find(|p| p.name == name) {
            let v = cell(&p.value, 0).ok_or_else(|| {
                OverlayError(format!("`{name}` of `{}` is not one cell", node.name))
            })?;
            let adjusted = v
                .checked_add(delta)
                .filter(|&v| v != u32::MAX)
                .ok_or_else(|| OverlayError("phandles overflow".into()))?;
            p.value = adjusted.to_be_bytes().to_vec();
        }
    }
    node.children
        .iter_mut()
        .try_for_each(|c| adjust_local_phandles(c, delta))
}

/// `__local_fixups__` mirrors the overlay's structure; each property lists
/// byte offsets of phandle cells in the same-named property of the node at
/// the same path.
fn update_local_references(
    root: &mut Node,
    fixups: &Node,
    delta: u32,
    path: &str,
) -> Result<(), OverlayError> {
    for prop in &fixups.properties {
        let node = find_mut(root, path)
            .ok_or_else(|| OverlayError(format!("__local_fixups__ names missing node `{path}`")))?;
        let target = node
            .properties
            .iter_mut()
            .find(|p| p.name == prop.name)
            .ok_or_else(|| {
                OverlayError(format!(
                    "__local_fixups__ names missing property `{path}:{}`",
                    prop.name
                ))
            })?;
        for i in 0..prop.value.len() / 4 {
            let offset = cell(&prop.value, i).unwrap_or(0) as usize;
            let v = cell_at(&target.value, offset).ok_or_else(|| {
                OverlayError(format!("bad local fixup offset in `{path}:{}`", prop.name))
            })?;
            target.value[offset..offset + 4].copy_from_slice(&v.wrapping_add(delta).to_be_bytes());
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
    let Some(fixups) = overlay.root.child("__fixups__").cloned() else {
        return Ok(());
    };
    for prop in &fixups.properties {
        let label = &prop.name;
        let path = base
            .node("/__symbols__")
            .and_then(|s| s.property(label))
            .map(|p| String::from_utf8_lossy(p.value.strip_suffix(&[0]).unwrap_or(&p.value)).into_owned())
            .ok_or_else(|| OverlayError(format!("the overlay refers to `&{label}`, but the host DTB has no such label (compile it with `dtc -@`)")))?;
        let phandle = base
            .node(&path)
            .and_then(|n| {
                n.property_u32("phandle")
                    .or_else(|| n.property_u32("linux,phandle"))
            })
            .ok_or_else(|| {
                OverlayError(format!(
                    "`&{label}` ({path}) has no phandle in the host DTB"
                ))
            })?;
        for location in super::string_list(&prop.value) {
            let mut parts = location.rsplitn(3, ':');
            let (Some(offset), Some(property), Some(node_path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return fail(format!("malformed fixup `{location}`"));
            };
            let offset: usize = offset
                .parse()
                .map_err(|_| OverlayError(format!("malformed fixup `{location}`")))?;
            let node = find_mut(&mut overlay.root, node_path)
                .ok_or_else(|| OverlayError(format!("fixup names missing node `{node_path}`")))?;
            let p = node
                .properties
                .iter_mut()
                .find(|p| p.name == property)
                .ok_or_else(|| {
                    OverlayError(format!(
                        "fixup names missing property `{node_path}:{property}`"
                    ))
                })?;
            if cell_at(&p.value, offset).is_none() {
                return fail(format!("fixup offset out of range in `{location}`"));
            }
            p.value[offset..offset + 4].copy_from_slice(&phandle.to_be_bytes());
        }
    }
    Ok(())
}

fn target_path(base: &Fdt, fragment: &Node) -> Result<String, OverlayError> {
    if let Some(phandle) = fragment.property_u32("target") {
        if phandle == 0 || phandle == u32::MAX {
            return fail(format!(
                "fragment `{}`: `target` is an unresolved reference",
                fragment.name
            ));
        }
        return find_phandle(&base.root, phandle, "").ok_or_else(|| {
            OverlayError(format!(
                "fragment `{}`: no node with phandle {phandle:#x} in the host DTB",
                fragment.name
            ))
        });
    }
    if let Some(p) = fragment.property("target-path") {
        let path =
            String::from_utf8_lossy(p.value.strip_suffix(&[0]).unwrap_or(&p.value)).into_owned();
        if !path.starts_with('/') {
            // libfdt's fdt_path_offset resolves a leading name through /aliases.
            let (alias, rest) = path.split_once('/').unwrap_or((path.as_str(), ""));
            let resolved = base
                .node("/aliases")
                .and_then(|a| a.property(alias))
                .map(|p| {
                    String::from_utf8_lossy(p.value.strip_suffix(&[0]).unwrap_or(&p.value))
                        .into_owned()
                });
            return match resolved {
                Some(r) if rest.is_empty() => Ok(r),
                Some(r) => Ok(format!("{r}/{rest}")),
                None => fail(format!(
                    "fragment `{}`: no alias `{alias}` in the host DTB",
                    fragment.name
                )),
            };
        }
        return Ok(path);
    }
    fail(format!(
        "fragment `{}` has neither `target` nor `target-path`",
        fragment.name
    ))
}

fn find_phandle(node: &Node, phandle: u32, path: &str) -> Option<String> {
    if node.property_u32("phandle") == Some(phandle)
        || node.property_u32("linux,phandle") == Some(phandle)
    {
        return Some(if path.is_empty() {
            "/".into()
        } else {
            path.into()
        });
    }
    node.children
        .iter()
        .find_map(|c| find_phandle(c, phandle, &format!("{path}/{}", c.name)))
}

/// libfdt's `overlay_apply_node`: set every property (a new one goes before
/// the existing ones), then merge or add every subnode.
fn merge(target: &mut Node, content: &Node) {
    for prop in &content.properties {
        match target.properties.iter_mut().find(|p| p.name == prop.name) {
            Some(p) => p.value = prop.value.clone(),
            None => target.properties.insert(0, prop.clone()),
        }
    }
    for child in &content.children {
        match target.children.iter().position(|c| c.name == child.name) {
            Some(i) => merge(&mut target.children[i], child),
            None => {
                let mut fresh = Node::new(child.name.clone());
                merge(&mut fresh, child);
                target.children.insert(0, fresh);
            }
        }
    }
}

fn publish_symbols(
    base: &mut Fdt,
    overlay: &Fdt,
    targets: &[(String, String)],
) -> Result<(), OverlayError> {
    let Some(symbols) = overlay.root.child("__symbols__") else {
        return Ok(());
    };
    let mut published = Vec::new();
    for prop in &symbols.properties {
        let path = String::from_utf8_lossy(prop.value.strip_suffix(&[0]).unwrap_or(&prop.value))
            .into_owned();
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        let (Some(fragment), Some("__overlay__")) = (parts.next(), parts.next()) else {
            continue; // libfdt ignores symbols outside fragments
        };
        let Some((_, target)) = targets.iter().find(|(f, _)| f == fragment) else {
            continue;
        };
        let rest = parts.next().unwrap_or("");
        let full = match (target.as_str(), rest) {
            (t, "") => t.to_string(),
            ("/", r) => format!("/{r}"),
            (t, r) => format!("{t}/{r}"),
        };
        published.push((prop.name.clone(), full));
    }
    if base.root.child("__symbols__").is_none() {
        base.root.children.insert(0, Node::new("__symbols__"));
    }
    let Some(node) = base.root.child_mut("__symbols__") else {
        return fail("cannot create /__symbols__");
    };
    for (name, path) in published {
        let mut v = path.into_bytes();
        v.push(0);
        match node.properties.iter_mut().find(|p| p.name == name) {
            Some(p) => p.value = v,
            None => node
                .properties
                .insert(0, super::Property { name, value: v }),
        }
    }
    Ok(())
}

fn find_mut<'a>(root: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    let mut node = root;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        node = node.child_mut(part)?;
    }
    Some(node)
}

fn cell(value: &[u8], index: usize) -> Option<u32> {
    cell_at(value, index.checked_mul(4)?)
}

fn cell_at(value: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        value.get(offset..offset.checked_add(4)?)?.try_into().ok()?,
    ))
}
