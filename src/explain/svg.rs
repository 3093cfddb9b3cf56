//! The memory map as a picture (`xencfg explain --memory --format svg`):
//! the host's physical memory in lanes (RAM; reservations; Xen's heap and
//! the guests' static and shared memory; passthrough MMIO), then each
//! domain's own address space, every range labelled.
//!
//! Heights are to scale where they can be: the ranges share one scale,
//! with a minimum height so that a 4 KiB device stays visible beside a
//! 2 GiB bank, and a gap too long for the picture is drawn as a zigzag
//! break that says how long it is. Overlaps that are problems (the ones
//! the text map marks with `!`) are red.
//!
//! The SVG is written by hand, with fixed number formats and no clock or
//! random input, so the same map gives the same bytes.

use super::memory::{Kind, MemoryMap, Region, format_size};
use std::fmt::Write;

/// What to draw.
pub struct Picture<'a> {
    pub title: String,
    /// `None`: the host DTB could not be read.
    pub map: Option<&'a MemoryMap>,
}

/// The height that all covered ranges of the host's panel share, at scale.
const BODY_PX: f64 = 480.0;
/// The same for a domain's panel, which holds fewer ranges.
const GUEST_BODY_PX: f64 = 240.0;
/// The finest scale: 1 MiB is 16 px.
const MIN_BYTES_PER_PX: f64 = 65536.0;
/// The least height of a range, so that its label lines up with it.
const MIN_PX: f64 = 16.0;
/// A gap longer than this at scale is drawn as a break.
const GAP_MAX_PX: f64 = 24.0;
/// The height of a break.
const BREAK_PX: f64 = 26.0;
/// The least height of a gap drawn at scale.
const GAP_MIN_PX: f64 = 4.0;
const AXIS_W: f64 = 150.0;
const LANE_W: f64 = 64.0;
const LANE_GAP: f64 = 8.0;
const LINE_PX: f64 = 14.0;
/// Roughly the advance of one character of the 11 px monospace font.
const CHAR_PX: f64 = 6.7;
const MARGIN: f64 = 16.0;
const RED: &str = "#d32f2f";

/// One rectangle of a panel, with its label.
struct Item {
    start: u64,
    size: u64,
    lane: usize,
    fill: &'static str,
    label: String,
    problem: bool,
}

impl Item {
    fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }
}

/// One address space: lanes of items on one axis.
struct Panel {
    title: String,
    lanes: Vec<&'static str>,
    items: Vec<Item>,
    /// Intersections of conflicting items, painted red across the lanes.
    conflicts: Vec<(u64, u64)>,
    notes: Vec<String>,
    /// The height its covered ranges share at scale.
    body_px: f64,
}

fn fill(kind: Kind) -> &'static str {
    match kind {
        Kind::Ram => "#cde8c8",
        Kind::MemReserve => "#d6d6d6",
        Kind::Reserved => "#b0b0b0",
        Kind::StaticHeap => "#f3cf7a",
        Kind::StaticMem => "#94bfe8",
        Kind::SharedMem => "#c7a3e0",
        Kind::Mmio => "#f0ac80",
        Kind::Firmware => "#e6dcc8",
    }
}

fn host_lane(kind: Kind) -> usize {
    match kind {
        Kind::Ram => 0,
        Kind::MemReserve | Kind::Reserved | Kind::Firmware => 1,
        Kind::StaticHeap | Kind::StaticMem | Kind::SharedMem => 2,
        Kind::Mmio => 3,
    }
}

fn span(start: u64, size: u64) -> String {
    let last = start.saturating_add(size).saturating_sub(1).max(start);
    format!("{start:#x}-{last:#x}, {}", format_size(size))
}

fn host_panel(map: &MemoryMap) -> Panel {
    let mut items = Vec::new();
    for (i, r) in map.regions.iter().enumerate() {
        let findings = map.findings(i);
        let mut label = format!("{} {} ({})", r.kind.label(), r.owner, span(r.start, r.size));
        if let Some(first) = findings.first() {
            label = format!("! {label}: {first}");
            if findings.len() > 1 {
                let _ = write!(label, " (+{} more)", findings.len() - 1);
            }
        }
        items.push(Item {
            start: r.start,
            size: r.size,
            lane: host_lane(r.kind),
            fill: fill(r.kind),
            label,
            problem: !findings.is_empty(),
        });
    }
    let mut conflicts = Vec::new();
    for i in 0..map.regions.len() {
        for j in i + 1..map.regions.len() {
            if map.conflict(i, j) {
                let (a, b) = (&map.regions[i], &map.regions[j]);
                conflicts.push((a.start.max(b.start), a.end().min(b.end())));
            }
        }
    }
    let mut notes: Vec<String> = map
        .unplaced
        .iter()
        .map(|u| format!("no fixed address: {u}"))
        .chain(
            map.undecodable
                .iter()
                .map(|u| format!("cannot decode: {u}")),
        )
        .collect();
    notes.push(
        "Under EFI, Xen takes RAM from the firmware's memory map, not from /memory nodes.".into(),
    );
    notes.push(
        "Xen and its modules are placed by the firmware at boot; their addresses are not known before, so they are not drawn."
            .into(),
    );
    Panel {
        title: "Host physical memory".into(),
        lanes: vec!["RAM", "reserved", "Xen, guests", "MMIO"],
        items,
        conflicts,
        notes,
        body_px: BODY_PX,
    }
}

/// The domains that own ranges, dom0 first, then by name.
fn domains(map: &MemoryMap) -> Vec<&str> {
    let mut names: Vec<&str> = map
        .regions
        .iter()
        .filter_map(|r| r.domain.as_deref())
        .collect();
    names.sort_by_key(|n| (*n != "dom0", *n));
    names.dedup();
    names
}

fn guest_panel(map: &MemoryMap, domain: &str) -> Panel {
    let mine: Vec<&Region> = map
        .regions
        .iter()
        .filter(|r| r.domain.as_deref() == Some(domain))
        .collect();
    let mut items = Vec::new();
    let mut notes = Vec::new();
    for r in &mine {
        match r.guest_address {
            Some(at) => items.push(Item {
                start: at,
                size: r.size,
                lane: 0,
                fill: fill(r.kind),
                label: format!(
                    "{} ({}), host {:#x}",
                    r.kind.label(),
                    span(at, r.size),
                    r.start
                ),
                problem: false,
            }),
            None => notes.push(format!(
                "{} {} at host {:#x}: Xen maps it into the guest's RAM banks (not direct-mapped)",
                r.kind.label(),
                format_size(r.size),
                r.start
            )),
        }
    }
    items.sort_by_key(|i| (i.start, i.end()));
    let mut conflicts = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            let (a, b) = (&items[i], &items[j]);
            let (lo, hi) = (a.start.max(b.start), a.end().min(b.end()));
            if lo < hi {
                conflicts.push((lo, hi));
                items[i].problem = true;
                items[j].problem = true;
            }
        }
    }
    for item in &mut items {
        if item.problem {
            item.label = format!("! {}: overlaps another range of {domain}", item.label);
        }
    }
    Panel {
        title: format!("Address space of {domain}"),
        lanes: vec![if domain == "dom0" { "dom0" } else { "guest" }],
        items,
        conflicts,
        notes,
        body_px: GUEST_BODY_PX,
    }
}

/// A panel's vertical layout: the y of every boundary address.
struct Scale {
    /// Boundary addresses, ascending, and the y of each.
    marks: Vec<(u64, f64)>,
    /// Gaps drawn as breaks: top y, and the gap's length.
    breaks: Vec<(f64, u64)>,
    height: f64,
    /// Bytes per pixel at scale.
    bytes_per_px: f64,
}

impl Scale {
    fn new(items: &[Item], body_px: f64) -> Scale {
        let mut bounds: Vec<u64> = items.iter().flat_map(|i| [i.start, i.end()]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        let covered = |a: u64, b: u64| items.iter().any(|i| i.start < b && a < i.end());
        let total: f64 = bounds
            .windows(2)
            .filter(|w| covered(w[0], w[1]))
            .map(|w| (w[1] - w[0]) as f64)
            .sum();
        // A panel of a few small ranges is not stretched to full height.
        let bytes_per_px = (total / body_px).max(MIN_BYTES_PER_PX);
        let mut y = 0.0;
        let mut marks = Vec::new();
        let mut breaks = Vec::new();
        for (n, &b) in bounds.iter().enumerate() {
            marks.push((b, y));
            let Some(&next) = bounds.get(n + 1) else {
                break;
            };
            let at_scale = (next - b) as f64 / bytes_per_px;
            if covered(b, next) {
                y += at_scale.max(MIN_PX);
            } else if at_scale > GAP_MAX_PX {
                breaks.push((y, next - b));
                y += BREAK_PX;
            } else {
                y += at_scale.max(GAP_MIN_PX);
            }
        }
        Scale {
            marks,
            breaks,
            height: y,
            bytes_per_px,
        }
    }

    fn y(&self, address: u64) -> f64 {
        match self.marks.binary_search_by_key(&address, |m| m.0) {
            Ok(i) => self.marks[i].1,
            Err(_) => 0.0,
        }
    }
}

/// A byte count with one decimal, for the scale (not exact).
fn approx(bytes: f64) -> String {
    const UNITS: [(&str, f64); 5] = [
        ("TiB", 1099511627776.0),
        ("GiB", 1073741824.0),
        ("MiB", 1048576.0),
        ("KiB", 1024.0),
        ("B", 1.0),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            return format!("{:.1} {unit}", bytes / size);
        }
    }
    format!("{bytes:.1} B")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Draws a panel with its top at `top`; returns the SVG and its height.
fn draw(panel: &Panel, top: f64, out: &mut String) -> (f64, f64) {
    let _ = writeln!(
        out,
        r#"<text x="{MARGIN:.1}" y="{:.1}" font-size="14" font-weight="bold">{}</text>"#,
        top + 14.0,
        escape(&panel.title)
    );
    let lane_x = |lane: usize| MARGIN + AXIS_W + lane as f64 * (LANE_W + LANE_GAP);
    let lanes_end = lane_x(panel.lanes.len()) - LANE_GAP;
    let label_x = lanes_end + 24.0;
    for (n, name) in panel.lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            lane_x(n) + LANE_W / 2.0,
            top + 34.0,
            escape(name)
        );
    }
    let body = top + 44.0;
    let mut width = label_x;
    if panel.items.is_empty() {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" fill="#444">no address ranges</text>"##,
            lane_x(0),
            body + 12.0
        );
    }
    let scale = Scale::new(&panel.items, panel.body_px);
    // The axis: the address of every boundary, when there is room.
    let mut last_label = f64::NEG_INFINITY;
    for &(address, y) in &scale.marks {
        if y - last_label < 11.0 {
            continue;
        }
        last_label = y;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{address:#018x}</text>"##,
            MARGIN + AXIS_W - 8.0,
            body + y + 4.0
        );
        let _ = writeln!(
            out,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-width="0.5"/>"##,
            MARGIN + AXIS_W - 4.0,
            body + y,
            lanes_end,
            body + y
        );
    }
    for &(y, length) in &scale.breaks {
        let (y0, y1) = (body + y + 6.0, body + y + BREAK_PX - 6.0);
        for edge in [y0, y1] {
            let mut points = String::new();
            let steps = ((lanes_end - MARGIN - AXIS_W) / 8.0).ceil() as usize;
            for s in 0..=steps {
                let x = MARGIN + AXIS_W + s as f64 * 8.0;
                let dy = if s % 2 == 0 { -3.0 } else { 3.0 };
                let _ = write!(
                    points,
                    "{}{x:.1},{:.1}",
                    if s == 0 { "" } else { " " },
                    edge + dy
                );
            }
            let _ = writeln!(
                out,
                r##"<polyline points="{points}" fill="none" stroke="#666"/>"##
            );
        }
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" fill="#666" font-style="italic">gap of {} (not to scale)</text>"##,
            label_x,
            body + y + BREAK_PX / 2.0 + 4.0,
            approx(length as f64)
        );
        width = width.max(label_x + 40.0 * CHAR_PX);
    }
    for item in &panel.items {
        let (y0, y1) = (scale.y(item.start), scale.y(item.end()));
        let stroke = if item.problem { RED } else { "#333" };
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{LANE_W:.1}" height="{:.1}" fill="{}" fill-opacity="0.85" stroke="{stroke}" stroke-width="{}"/>"#,
            lane_x(item.lane),
            body + y0,
            (y1 - y0).max(1.0),
            item.fill,
            if item.problem { "2" } else { "1" }
        );
    }
    for &(lo, hi) in &panel.conflicts {
        let (y0, y1) = (scale.y(lo), scale.y(hi));
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{RED}" fill-opacity="0.55" stroke="{RED}"/>"#,
            lane_x(0),
            body + y0,
            lanes_end - lane_x(0),
            (y1 - y0).max(1.0)
        );
    }
    // Labels in address order, each below the one before, with a line to
    // its range.
    let mut order: Vec<&Item> = panel.items.iter().collect();
    order.sort_by_key(|i| (i.start, i.lane, i.end()));
    let mut next_free = 0.0f64;
    for item in order {
        let (y0, y1) = (scale.y(item.start), scale.y(item.end()));
        let anchor = y0 + ((y1 - y0) / 2.0).min(8.0);
        let baseline = (anchor + 4.0).max(next_free + 11.0);
        next_free = baseline + LINE_PX - 11.0;
        let colour = if item.problem { RED } else { "#000" };
        let _ = writeln!(
            out,
            r##"<polyline points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="none" stroke="#888" stroke-width="0.75"/>"##,
            lane_x(item.lane) + LANE_W,
            body + anchor,
            label_x - 10.0,
            body + anchor,
            label_x - 3.0,
            body + baseline - 4.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{label_x:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
            body + baseline,
            escape(&item.label)
        );
        width = width.max(label_x + item.label.chars().count() as f64 * CHAR_PX);
    }
    let mut bottom = body + scale.height.max(next_free + 3.0).max(16.0) + 8.0;
    if !panel.items.is_empty() {
        let text = format!(
            "Heights to scale at {} per pixel; ranges shorter than {MIN_PX:.0} px are drawn at {MIN_PX:.0} px.",
            approx(scale.bytes_per_px)
        );
        bottom += LINE_PX;
        let _ = writeln!(
            out,
            r##"<text x="{MARGIN:.1}" y="{bottom:.1}" fill="#444">{}</text>"##,
            escape(&text)
        );
        width = width.max(MARGIN + text.chars().count() as f64 * CHAR_PX);
    }
    for note in &panel.notes {
        bottom += LINE_PX;
        let _ = writeln!(
            out,
            r##"<text x="{MARGIN:.1}" y="{bottom:.1}" fill="#444">{}</text>"##,
            escape(note)
        );
        width = width.max(MARGIN + note.chars().count() as f64 * CHAR_PX);
    }
    (bottom + 20.0 - top, width)
}

/// The picture as an SVG document.
pub fn render(picture: &Picture) -> String {
    let mut panels = Vec::new();
    let mut missing = None;
    match picture.map {
        Some(map) => {
            panels.push(host_panel(map));
            for domain in domains(map) {
                panels.push(guest_panel(map, domain));
            }
        }
        None => missing = Some("not available: the host DTB could not be read"),
    }
    let mut body = String::new();
    let mut top = 40.0;
    let mut width = MARGIN + picture.title.chars().count() as f64 * 9.0;
    if let Some(text) = missing {
        let _ = writeln!(
            body,
            r##"<text x="{MARGIN:.1}" y="{:.1}" fill="#444">{text}</text>"##,
            top + 14.0
        );
        top += 30.0;
    }
    for panel in &panels {
        let (height, w) = draw(panel, top, &mut body);
        top += height;
        width = width.max(w);
    }
    let width = (width + MARGIN).ceil();
    let height = top.ceil();
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans Mono, monospace" font-size="11">
<title>{title}</title>
<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="#ffffff"/>
<text x="{MARGIN:.1}" y="24.0" font-size="16" font-weight="bold">{title}</text>"##,
        title = escape(&picture.title)
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(start: u64, size: u64) -> Item {
        Item {
            start,
            size,
            lane: 0,
            fill: "#fff",
            label: String::new(),
            problem: false,
        }
    }

    #[test]
    fn large_gaps_break_and_small_ranges_stay_visible() {
        let items = [
            item(0x900_0000, 0x1000),
            item(0x4000_0000, 0x8000_0000),
            item(0x8_8000_0000, 0x4000_0000),
        ];
        let scale = Scale::new(&items, BODY_PX);
        assert_eq!(scale.breaks.len(), 2, "{:?}", scale.breaks);
        let mmio = scale.y(0x900_1000) - scale.y(0x900_0000);
        assert_eq!(mmio, MIN_PX);
        // The 2 GiB bank is twice the 1 GiB one: to scale.
        let low = scale.y(0xc000_0000) - scale.y(0x4000_0000);
        let high = scale.y(0x8_c000_0000) - scale.y(0x8_8000_0000);
        assert!((low - 2.0 * high).abs() < 1e-6, "{low} {high}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }

    #[test]
    fn an_unreadable_host_still_gives_a_document() {
        let svg = render(&Picture {
            title: "t".into(),
            map: None,
        });
        assert!(
            svg.starts_with("<?xml") && svg.ends_with("</svg>\n"),
            "{svg}"
        );
        assert!(svg.contains("not available"));
    }
}
