//! Reading cfg values (numbers, sizes with units, flags, raw DT values) into
//! typed values, and encoding typed values as DT property bytes.
//!
//! A size carries its unit until it is encoded: [`Kib`] for `memory`,
//! MiB for `xen,domain-p2m-mem-mb`. Every parse error is a message meant
//! for the user; the caller attaches the span.

use crate::fdt::value;

/// A memory size in KiB (what Xen's `memory` property holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kib(pub u64);

impl Kib {
    pub fn bytes(self) -> u64 {
        self.0.saturating_mul(1024)
    }
}

/// A typed property value, ready to encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyValue {
    Flag,
    U32(u32),
    Memory(Kib),
    Mib(u32),
    Str(String),
    /// A raw DT value given with `property=NAME=<..>|".."|[..]`.
    Raw(Vec<u8>),
}

impl PropertyValue {
    /// The bytes of the DT property.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PropertyValue::Flag => Vec::new(),
            PropertyValue::U32(n) | PropertyValue::Mib(n) => value::u32(*n),
            PropertyValue::Memory(k) => value::u64(k.0),
            PropertyValue::Str(s) => value::string(s),
            PropertyValue::Raw(bytes) => bytes.clone(),
        }
    }
}

/// Why a number did not parse.
enum NumberError {
    NotANumber,
    NotDigits,
    TooLarge,
}

/// Parse an unsigned integer: decimal or `0x` hex, `_` separators allowed.
pub fn parse_u64(text: &str) -> Result<u64, String> {
    number(text).map_err(|e| match e {
        NumberError::NotANumber => format!("`{text}` is not a number"),
        NumberError::NotDigits => format!("`{text}` is not a number (decimal, or hex with 0x)"),
        NumberError::TooLarge => format!("`{text}` does not fit in 64 bits"),
    })
}

fn number(text: &str) -> Result<u64, NumberError> {
    let t = text.trim();
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (t, 10),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return Err(NumberError::NotANumber);
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(NumberError::NotDigits);
    }
    u64::from_str_radix(&clean, radix).map_err(|_| NumberError::TooLarge)
}

pub fn parse_u32(text: &str) -> Result<u32, String> {
    let n = parse_u64(text)?;
    u32::try_from(n).map_err(|_| format!("`{text}` does not fit in 32 bits"))
}

/// Parse a size whose bare number means `unit_shift` (10 for KiB, 20 for
/// MiB): `768M`, `1G`, `0xC0000`, `512K`. Returns the size in that unit; a
/// size that is not a whole number of units is an error, never truncated.
pub fn parse_size(text: &str, unit_shift: u32) -> Result<u64, String> {
    let t = text.trim();
    // K, M, G and T are not hex digits, so a unit suffix is never ambiguous.
    let (number, shift) = match t.char_indices().last() {
        Some((i, c)) if "KMGTkmgt".contains(c) => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                _ => 40,
            };
            (&t[..i], shift)
        }
        _ => (t, unit_shift),
    };
    let n = self::number(number).map_err(|e| match e {
        NumberError::TooLarge => format!("`{text}` is too large"),
        _ => format!("`{text}` is not a size (a number, optionally with a unit K, M, G or T)"),
    })?;
    let bytes = (n as u128) << shift;
    let unit = 1u128 << unit_shift;
    if bytes % unit != 0 {
        return Err(format!(
            "`{text}` is not a whole number of {}",
            unit_name(unit_shift)
        ));
    }
    u64::try_from(bytes / unit).map_err(|_| format!("`{text}` is too large"))
}

fn unit_name(shift: u32) -> &'static str {
    match shift {
        0 => "bytes",
        10 => "KiB",
        20 => "MiB",
        _ => "units",
    }
}

/// Parse a flag value: empty (bare key) means yes.
pub fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!(
            "`{text}` is not a flag value (yes/no, true/false, on/off, 1/0)"
        )),
    }
}

/// Parse `sve`: empty or `max` (the hardware's largest vector length, an
/// empty property) or a length in bits: 0, or a multiple of 128 up to 2048.
pub fn parse_sve(text: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    let bits = parse_u32(t)?;
    if bits == 0 || (bits % 128 == 0 && bits <= 2048) {
        Ok(Some(bits))
    } else {
        Err(format!(
            "`sve={t}` is not a vector length: 0, or a multiple of 128 from 128 to 2048"
        ))
    }
}

/// The `capabilities` bits by name (reference §2.4).
pub const CAPABILITIES: &[(&str, u32)] = &[("control", 0x1), ("hardware", 0x2), ("xenstore", 0x4)];

/// Parse `capabilities`: names joined by `,`, `|` or `+`
/// (`control,xenstore`), or a number from 0 to 7.
pub fn parse_capabilities(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        let n = parse_u32(t)?;
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!(
                "`capabilities={t}` sets bits Xen does not know (0x1 control, 0x2 hardware, 0x4 xenstore)"
            ))
        };
    }
    let mut mask = 0;
    for name in t.split([',', '|', '+']).map(str::trim) {
        let bit = CAPABILITIES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                format!("`{name}` is not a capability (`control`, `hardware`, `xenstore`)")
            })?;
        mask |= bit;
    }
    Ok(mask)
}

/// Parse an explicit raw DT value: `<1 0x2>` cells, `"text"` (or several
/// `"a", "b"`), or `[de ad be ef]` bytes. `None` when the text is not
/// written as a raw value at all.
pub fn parse_raw(text: &str) -> Option<Result<Vec<u8>, String>> {
    let t = text.trim();
    let first = t.chars().next()?;
    Some(match first {
        '<' => parse_cells(t),
        '"' => parse_strings(t),
        '[' => parse_bytes(t),
        _ => return None,
    })
}

fn parse_cells(t: &str) -> Result<Vec<u8>, String> {
    let inner = t
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .ok_or_else(|| format!("`{t}`: a cell list is written `<1 2 0x3>`"))?;
    let mut out = Vec::new();
    for word in inner.split_ascii_whitespace() {
        out.extend(value::u32(parse_u32(word)?));
    }
    Ok(out)
}

fn parse_strings(t: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    loop {
        let body = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("`{t}`: strings are written \"text\" or \"a\", \"b\""))?;
        let end = body
            .find('"')
            .ok_or_else(|| format!("`{t}`: the string has no closing quote"))?;
        out.extend(value::string(&body[..end]));
        rest = body[end + 1..].trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix(',')
            .ok_or_else(|| format!("`{t}`: strings in a list are separated by `,`"))?
            .trim_start();
    }
}

fn parse_bytes(t: &str) -> Result<Vec<u8>, String> {
    let inner = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("`{t}`: bytes are written `[de ad be ef]`"))?;
    let hex: String = inner.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if hex.len() % 2 != 0 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{t}`: bytes are pairs of hex digits, e.g. `[de ad be ef]`"
        ));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("42"), Ok(42));
        assert_eq!(parse_u64("0xC0000"), Ok(0xC0000));
        assert_eq!(parse_u64("1_000"), Ok(1000));
        assert!(parse_u64("").is_err());
        assert!(parse_u64("0x").is_err());
        assert!(parse_u64("12a").is_err());
        assert!(parse_u64("_1").is_err());
        assert!(
            parse_u64("99999999999999999999")
                .unwrap_err()
                .contains("64 bits")
        );
        assert!(parse_u32("0x100000000").unwrap_err().contains("32 bits"));
    }

    #[test]
    fn sizes_in_kib() {
        assert_eq!(parse_size("768M", 10), Ok(768 * 1024));
        assert_eq!(parse_size("1G", 10), Ok(1024 * 1024));
        assert_eq!(parse_size("0xC0000", 10), Ok(0xC0000));
        assert_eq!(parse_size("0x30000", 10), Ok(0x30000));
        assert_eq!(parse_size("512K", 10), Ok(512));
        assert_eq!(parse_size("256m", 10), Ok(256 * 1024));
        assert_eq!(parse_size("1T", 10), Ok(1 << 30));
        assert!(parse_size("1.5G", 10).is_err());
        assert!(parse_size("M", 10).is_err());
        assert!(
            parse_size("99999999999999T", 10)
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn sizes_in_mib_must_be_whole() {
        assert_eq!(parse_size("2G", 20), Ok(2048));
        assert_eq!(parse_size("64", 20), Ok(64));
        assert!(
            parse_size("512K", 20)
                .unwrap_err()
                .contains("whole number of MiB")
        );
    }

    #[test]
    fn flags() {
        assert_eq!(parse_flag(""), Ok(true));
        assert_eq!(parse_flag("Yes"), Ok(true));
        assert_eq!(parse_flag("off"), Ok(false));
        assert!(parse_flag("maybe").is_err());
    }

    #[test]
    fn raw_values() {
        assert_eq!(parse_raw("<1 0x2>"), Some(Ok(vec![0, 0, 0, 1, 0, 0, 0, 2])));
        assert_eq!(parse_raw("\"ab\""), Some(Ok(b"ab\0".to_vec())));
        assert_eq!(parse_raw("\"a\", \"b\""), Some(Ok(b"a\0b\0".to_vec())));
        assert_eq!(parse_raw("[de ad]"), Some(Ok(vec![0xde, 0xad])));
        assert_eq!(parse_raw("plain"), None);
        assert!(matches!(parse_raw("<1 x>"), Some(Err(_))));
        assert!(matches!(parse_raw("[d]"), Some(Err(_))));
        assert!(matches!(parse_raw("\"open"), Some(Err(_))));
    }

    #[test]
    fn sve_lengths() {
        assert_eq!(parse_sve(""), Ok(None));
        assert_eq!(parse_sve("max"), Ok(None));
        assert_eq!(parse_sve("0"), Ok(Some(0)));
        assert_eq!(parse_sve("256"), Ok(Some(256)));
        assert_eq!(parse_sve("2048"), Ok(Some(2048)));
        assert!(parse_sve("100").is_err());
        assert!(parse_sve("2176").is_err());
        assert!(parse_sve("x").is_err());
    }

    #[test]
    fn capabilities_by_name_or_number() {
        assert_eq!(parse_capabilities("control,hardware,xenstore"), Ok(7));
        assert_eq!(parse_capabilities("xenstore"), Ok(4));
        assert_eq!(parse_capabilities("Control | xenstore"), Ok(5));
        assert_eq!(parse_capabilities("0x4"), Ok(4));
        assert_eq!(parse_capabilities("0"), Ok(0));
        assert!(parse_capabilities("8").is_err());
        assert!(parse_capabilities("root").is_err());
        assert!(parse_capabilities("").is_err());
    }

    #[test]
    fn encodes_memory_as_two_cells() {
        assert_eq!(
            PropertyValue::Memory(Kib(0xC0000)).encode(),
            vec![0, 0, 0, 0, 0, 0x0C, 0, 0]
        );
    }
}
