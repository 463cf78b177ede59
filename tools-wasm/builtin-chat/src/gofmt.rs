//! Go's formatting and text rules, reproduced exactly where chat's output depends on them:
//! UTF-8 decoding (`utf8.DecodeRune`, `strings.ToValidUTF8`), `%q` (`strconv.Quote`), `%g`
//! and `%.1f` of a float64, `strings.ToLower` where it meets an ASCII table, `path.Ext`, and
//! `base64.StdEncoding` decoding. The Go chat (tools-wasm/builtin) is the oracle; the parity
//! test compares the two.

use crate::isprint::{IS_NOT_PRINT16, IS_NOT_PRINT32, IS_PRINT16, IS_PRINT32};

/// Decodes the first rune of `b` as Go's `utf8.DecodeRune` does: `(Some(c), width)` for a
/// valid encoding, `(None, 1)` for an invalid or incomplete one (Go's `(RuneError, 1)`), and
/// `(None, 0)` for empty input.
pub fn decode_rune(b: &[u8]) -> (Option<char>, usize) {
    let c0 = match b.first() {
        None => return (None, 0),
        Some(&c) => c,
    };
    if c0 < 0x80 {
        return (Some(c0 as char), 1);
    }
    // The accepted ranges of the second byte (Go's acceptRanges), then the width.
    let (lo, hi, n) = match c0 {
        0xC2..=0xDF => (0x80, 0xBF, 2),
        0xE0 => (0xA0, 0xBF, 3),
        0xE1..=0xEC | 0xEE..=0xEF => (0x80, 0xBF, 3),
        0xED => (0x80, 0x9F, 3),
        0xF0 => (0x90, 0xBF, 4),
        0xF1..=0xF3 => (0x80, 0xBF, 4),
        0xF4 => (0x80, 0x8F, 4),
        _ => return (None, 1),
    };
    if b.len() < n {
        return (None, 1);
    }
    if b[1] < lo || b[1] > hi {
        return (None, 1);
    }
    for &c in &b[2..n] {
        if !(0x80..=0xBF).contains(&c) {
            return (None, 1);
        }
    }
    let mut cp = (c0 as u32) & (0x7F >> n);
    for &c in &b[1..n] {
        cp = (cp << 6) | (c as u32 & 0x3F);
    }
    (char::from_u32(cp), n)
}

/// `strings.ToValidUTF8(s, "\uFFFD")` on bytes: each run of invalid bytes becomes one U+FFFD.
pub fn to_valid_utf8(b: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(b) {
        return s.to_string();
    }
    let mut out = String::with_capacity(b.len() + 3);
    let mut invalid = false;
    let mut i = 0;
    while i < b.len() {
        match decode_rune(&b[i..]) {
            (Some(c), w) => {
                out.push(c);
                i += w;
                invalid = false;
            }
            (None, _) => {
                if !invalid {
                    out.push('\u{FFFD}');
                    invalid = true;
                }
                i += 1;
            }
        }
    }
    out
}

/// Go's `strconv.IsPrint`.
pub fn is_print(c: char) -> bool {
    let r = c as u32;
    if r <= 0xFF {
        return (0x20..=0x7E).contains(&r) || ((0xA1..=0xFF).contains(&r) && r != 0xAD);
    }
    if r < 0x10000 {
        let rr = r as u16;
        let i = IS_PRINT16.partition_point(|&x| x < rr);
        if i >= IS_PRINT16.len() || rr < IS_PRINT16[i & !1] || IS_PRINT16[i | 1] < rr {
            return false;
        }
        return IS_NOT_PRINT16.binary_search(&rr).is_err();
    }
    let i = IS_PRINT32.partition_point(|&x| x < r);
    if i >= IS_PRINT32.len() || r < IS_PRINT32[i & !1] || IS_PRINT32[i | 1] < r {
        return false;
    }
    if r >= 0x20000 {
        return true;
    }
    IS_NOT_PRINT32.binary_search(&((r - 0x10000) as u16)).is_err()
}

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// `fmt`'s `%q` of a string (`strconv.Quote`): Go escapes for control and non-printable
/// characters, printable ones as they are.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c => {
                let r = c as u32;
                let (prefix, digits) = if r < 0x20 || r == 0x7F {
                    ("\\x", 2)
                } else if r < 0x10000 {
                    ("\\u", 4)
                } else {
                    ("\\U", 8)
                };
                out.push_str(prefix);
                for k in (0..digits).rev() {
                    out.push(LOWER_HEX[(r >> (4 * k)) as usize & 15] as char);
                }
            }
        }
    }
    out.push('"');
    out
}

/// The shortest decimal digits that read back as `v` (finite, not zero) and the exponent of
/// the first digit: `v = 0.d1d2… × 10^point`, as Go's ftoa `decimal` has them.
fn shortest(v: f64) -> (Vec<u8>, i32) {
    // Rust's `{:e}` writes the shortest round-trip digits, as Go's shortest formatting does.
    let s = format!("{:e}", v.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

/// Go's `%e` of shortest digits: `d.ddde±XX`, at least two exponent digits.
fn fmt_e(out: &mut String, digits: &[u8], point: i32) {
    out.push(digits[0] as char);
    if digits.len() > 1 {
        out.push('.');
        out.extend(digits[1..].iter().map(|&d| d as char));
    }
    let exp = point - 1;
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// Go's `%f` of shortest digits, with as many decimals as the digits need.
fn fmt_f(out: &mut String, digits: &[u8], point: i32) {
    if point > 0 {
        for i in 0..point as usize {
            out.push(*digits.get(i).unwrap_or(&b'0') as char);
        }
    } else {
        out.push('0');
    }
    let decimals = (digits.len() as i32 - point).max(0);
    if decimals > 0 {
        out.push('.');
        for i in 0..decimals {
            let at = point + i;
            out.push(if at < 0 { '0' } else { *digits.get(at as usize).unwrap_or(&b'0') as char });
        }
    }
}

/// `fmt`'s `%g` of a float64 (shortest digits; exponent form below 1e-4 and from 1e21 up).
pub fn fmt_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    if v == 0.0 {
        out.push('0');
        return out;
    }
    let (digits, point) = shortest(v);
    let exp = point - 1;
    if exp < -4 || exp >= 6 {
        fmt_e(&mut out, &digits, point);
    } else {
        fmt_f(&mut out, &digits, point);
    }
    out
}

/// A float64 as Go's `encoding/json` writes it: shortest digits, plain from 1e-6 to 1e21 and
/// `1e-7`-style exponents outside. Not finite: `None` (Go's Marshal fails).
pub fn json_float(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    if v == 0.0 {
        out.push('0');
        return Some(out);
    }
    let (digits, point) = shortest(v);
    let a = v.abs();
    if a < 1e-6 || a >= 1e21 {
        let mut e = String::new();
        fmt_e(&mut e, &digits, point);
        // Go's encoder cleans e-07 up to e-7; positive exponents keep their form (e+21).
        let n = e.len();
        if n >= 4 && &e[n - 4..n - 1] == "e-0" {
            e.remove(n - 2);
        }
        out.push_str(&e);
    } else {
        fmt_f(&mut out, &digits, point);
    }
    Some(out)
}

/// `fmt`'s `%.1f` of `float64(n) / (1 << 20)`: a byte count in MiB with one decimal, rounded
/// as Go rounds (to nearest, ties to even on the exact value).
pub fn mib_1f(n: i64) -> String {
    let f = n as f64; // Go's float64(n): nearest, ties to even
    let exact = f as i128; // an integer-valued double within ±2^63
    let neg = exact < 0;
    let t = exact.unsigned_abs() * 10;
    let (mut q, r) = (t >> 20, t & 0xFFFFF);
    if r > 0x80000 || (r == 0x80000 && q & 1 == 1) {
        q += 1;
    }
    let sign = if neg { "-" } else { "" };
    format!("{sign}{}.{}", q / 10, q % 10)
}

/// Go's `path.Ext`: the suffix from the last "." of the last "/"-separated element.
pub fn path_ext(p: &str) -> &str {
    for (i, b) in p.bytes().enumerate().rev() {
        match b {
            b'/' => return "",
            b'.' => return &p[i..],
            _ => {}
        }
    }
    ""
}

/// `strings.ToLower(s)` when the result is ASCII, else `None`: for looking `s` up in a table
/// of ASCII keys. Go lowercases by simple case mapping, which takes exactly two non-ASCII
/// characters to ASCII: U+0130 (İ) to "i" and U+212A (Kelvin sign) to "k".
pub fn lower_ascii(s: &str) -> Option<String> {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii() => Some(c.to_ascii_lowercase()),
            '\u{130}' => Some('i'),
            '\u{212A}' => Some('k'),
            _ => None,
        })
        .collect()
}

/// The length of what `base64.StdEncoding.DecodeString(s)` decodes, or `None` when Go's
/// decoder refuses `s`: padding required, "\r" and "\n" skipped anywhere, trailing bits
/// ignored.
pub fn base64_decoded_len(s: &str) -> Option<usize> {
    let b: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    if b.is_empty() {
        return Some(0);
    }
    if b.len() % 4 != 0 {
        return None;
    }
    let alpha = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let (body, last) = b.split_at(b.len() - 4);
    if !body.iter().all(|&c| alpha(c)) {
        return None;
    }
    let n = body.len() / 4 * 3;
    match last {
        [a, b2, b'=', b'='] if alpha(*a) && alpha(*b2) => Some(n + 1),
        [a, b2, c, b'='] if alpha(*a) && alpha(*b2) && alpha(*c) => Some(n + 2),
        [a, b2, c, d] if alpha(*a) && alpha(*b2) && alpha(*c) && alpha(*d) => Some(n + 3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_runes_as_go() {
        assert_eq!(decode_rune(b"a"), (Some('a'), 1));
        assert_eq!(decode_rune("é".as_bytes()), (Some('é'), 2));
        assert_eq!(decode_rune("😀".as_bytes()), (Some('😀'), 4));
        for bad in [&b"\xe2\x82"[..], b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xff"] {
            assert_eq!(decode_rune(bad), (None, 1), "{bad:?}");
        }
        assert_eq!(decode_rune(b""), (None, 0));
    }

    #[test]
    fn valid_utf8_runs() {
        assert_eq!(to_valid_utf8(b"a\xff\xfeb"), "a\u{FFFD}b");
        assert_eq!(to_valid_utf8(b"a\xe2\x82b\xffc"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(to_valid_utf8("\u{FFFD}\u{FFFD}".as_bytes()), "\u{FFFD}\u{FFFD}");
        assert_eq!(to_valid_utf8(b"\xc3\xa9\xff\xc3\xa9"), "é\u{FFFD}é");
    }

    #[test]
    fn quotes_as_go() {
        for (s, want) in [
            ("huge", r#""huge""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\n\t\r\u{7}\u{8}\u{c}\u{b}\u{0}\u{7f}", r#""\n\t\r\a\b\f\v\x00\x7f""#),
            ("é日本😀", "\"é日本😀\""),
            ("\u{a0}\u{ad}\u{2028}\u{feff}", r#""\u00a0\u00ad\u2028\ufeff""#),
            ("\u{e0000}\u{10ffff}", r#""\U000e0000\U0010ffff""#),
            ("\u{301}", "\"\u{301}\""), // a combining mark is printable in Go
        ] {
            assert_eq!(quote(s), want, "{s:?}");
        }
    }

    #[test]
    fn floats_as_go() {
        for (v, g) in [(1.5, "1.5"), (-0.1, "-0.1"), (1e6, "1e+06"), (123456.0, "123456"), (1e-5, "1e-05"), (0.0001, "0.0001"), (1e21, "1e+21"), (2.5e-300, "2.5e-300"), (-0.0, "-0"), (1.7976931348623157e308, "1.7976931348623157e+308")] {
            assert_eq!(fmt_g(v), g, "%g of {v}");
        }
        for (v, j) in [(1.0, "1"), (0.2, "0.2"), (-0.0, "-0"), (1e-7, "1e-7"), (1e-6, "0.000001"), (1e21, "1e+21"), (123456789.125, "123456789.125"), (0.30000000000000004, "0.30000000000000004"), (5e-324, "5e-324")] {
            assert_eq!(json_float(v).as_deref(), Some(j), "json of {v}");
        }
        assert_eq!(json_float(f64::NAN), None);
    }

    #[test]
    fn mib_rounds_half_even() {
        assert_eq!(mib_1f(21 << 20), "21.0");
        assert_eq!(mib_1f(21233664), "20.2"); // 20.25 exactly: ties to even
        assert_eq!(mib_1f(21233664 + 262144 * 2), "20.8"); // 20.75: ties to even
        assert_eq!(mib_1f((20 << 20) + 1), "20.0");
        assert_eq!(mib_1f(i64::MAX), "8796093022208.0");
    }

    #[test]
    fn ext_and_lower() {
        assert_eq!(path_ext("/a/b.PNG"), ".PNG");
        assert_eq!(path_ext("/a.d/b"), "");
        assert_eq!(path_ext("x."), ".");
        assert_eq!(lower_ascii(".PnG").as_deref(), Some(".png"));
        assert_eq!(lower_ascii(".\u{212A}T").as_deref(), Some(".kt"));
        assert_eq!(lower_ascii(".\u{130}NI").as_deref(), Some(".ini"));
        assert_eq!(lower_ascii(".pñg"), None);
    }

    #[test]
    fn base64_as_go() {
        for (s, want) in [("", Some(0)), ("AA==", Some(1)), ("AAA=", Some(2)), ("AAAA", Some(3)), ("iVBORw0KGgo=", Some(8)), ("AA\r\n==", Some(1)), ("A\nA=\n=\n", Some(1)), ("@@@", None), ("AA", None), ("A===", None), ("AA==AAAA", None), ("AA=A", None), ("AB", None), ("AB=", None), ("====", None)] {
            assert_eq!(base64_decoded_len(s), want, "{s:?}");
        }
    }
}
