//! Printing an [`Fdt`] as DTS source that dtc accepts.

use super::Fdt;

pub fn to_dts(fdt: &Fdt) -> String {
    let _ = fdt;
    todo!("dts printer")
}
