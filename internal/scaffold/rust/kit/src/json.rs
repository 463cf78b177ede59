//! A small JSON reader ([`parse`] → [`Value`]) and writer ([`quote`], [`Obj`]): enough for
//! ABI messages and tool arguments, with no dependency.

use std::fmt;

/// A parsed JSON value. Objects keep their keys in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

static NULL: Value = Value::Null;

impl Default for Value {
    fn default() -> Self {
        Value::Null
    }
}

impl Value {
    /// The member `key` of an object; `Null` when it is missing or `self` is not an object.
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Whether `self` is an object with a member `key`.
    pub fn has(&self, key: &str) -> bool {
        matches!(self, Value::Object(m) if m.iter().any(|(k, _)| k == key))
    }

    /// The element `i` of an array; `Null` when out of range or `self` is not an array.
    pub fn at(&self, i: usize) -> &Value {
        self.items().get(i).unwrap_or(&NULL)
    }

    /// The elements of an array; empty for anything else.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(a) => a,
            _ => &[],
        }
    }

    /// The string, or `None` when `self` is not a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string, or "" when `self` is not a string.
    pub fn str(&self) -> &str {
        self.as_str().unwrap_or("")
    }

    /// The number, or `None` when `self` is not a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number, or 0 when `self` is not a number.
    pub fn num(&self) -> f64 {
        self.as_f64().unwrap_or(0.0)
    }

    /// The boolean, or false when `self` is not a boolean.
    pub fn bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// JSON text of the value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&number(*n)),
            Value::String(s) => quote_into(s, out),
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quote_into(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Why a text is not JSON: what was wrong and the byte offset where it was found.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

/// Nesting deeper than this is refused rather than risking the guest's stack.
pub const MAX_DEPTH: usize = 128;

/// Parses one JSON value; only whitespace may follow it.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser { b: text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("text after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError { offset: self.i, what }
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.ws();
        match self.b.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.lit("null", Value::Null),
            Some(b't') => self.lit("true", Value::Bool(true)),
            Some(b'f') => self.lit("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Array(a));
                        }
                        _ => return Err(self.err("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(self.err("expected :"));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return Err(self.err("expected , or }")),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            _ => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        let int = self.i;
        let n = digits(self);
        if n == 0 || (n > 1 && self.b[int] == b'0') {
            return Err(self.err("bad number"));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err("bad number"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e') | Some(b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+') | Some(b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("bad number"));
            }
        }
        Ok(Value::Number(to_f64(&self.b[start..self.i])))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.b.get(self.i..self.i + 4).ok_or_else(|| self.err("short \\u escape"))?;
        let s = std::str::from_utf8(h).map_err(|_| self.err("bad \\u escape"))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.b.len() && self.b[self.i] != b'"' && self.b[self.i] != b'\\' && self.b[self.i] >= 0x20 {
                self.i += 1;
            }
            // The input is a &str and the run stops only at ASCII bytes, so the run is UTF-8.
            out.push_str(std::str::from_utf8(&self.b[start..self.i]).map_err(|_| self.err("bad UTF-8"))?);
            match self.b.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.b.get(self.i).ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.b[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.err("bad escape")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

/// `s` as a JSON string literal, quotes included.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(s, &mut out);
    out
}

fn quote_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The value of a number's text, already checked against JSON's grammar. Integers of up to 15
/// digits and decimals such as `0.7` or `1.5e3` are exact (the same double as a correctly
/// rounding parser gives); other numbers may differ from it in the last bit. The kit reads
/// numbers this way rather than with `str::parse::<f64>` to keep about 10 KB of tables out of
/// every module.
fn to_f64(b: &[u8]) -> f64 {
    let (neg, b) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let (mut mant, mut exp, mut digits) = (0u64, 0i32, 0u32);
    let mut i = 0;
    let mut frac = false;
    while i < b.len() {
        match b[i] {
            b'.' => frac = true,
            c @ b'0'..=b'9' => {
                if digits < 19 {
                    mant = mant * 10 + (c - b'0') as u64;
                    if mant != 0 {
                        digits += 1;
                    }
                    if frac {
                        exp -= 1;
                    }
                } else if !frac {
                    exp += 1;
                }
            }
            _ => break,
        }
        i += 1;
    }
    if i < b.len() {
        // e or E, then an optional sign and digits.
        let mut j = i + 1;
        let eneg = b.get(j) == Some(&b'-');
        if matches!(b.get(j), Some(b'+') | Some(b'-')) {
            j += 1;
        }
        let mut e = 0i32;
        for c in &b[j..] {
            e = e.saturating_mul(10).saturating_add((c - b'0') as i32);
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    let m = mant as f64;
    let v = if exp >= 0 { m * pow10(exp) } else if exp >= -308 { m / pow10(-exp) } else { m / pow10(308) / pow10(-exp - 308) };
    if neg {
        -v
    } else {
        v
    }
}

fn pow10(e: i32) -> f64 {
    // Exact up to 1e22; beyond, rounded once per squaring.
    let (mut r, mut base, mut e) = (1.0f64, 10.0f64, e.min(400));
    while e > 0 {
        if e & 1 == 1 {
            r *= base;
        }
        base *= base;
        e >>= 1;
    }
    r
}

/// A number as JSON: integers below 1e15 exactly; other numbers from 1e-6 to 1e15 with at most
/// 9 decimals; larger and smaller ones as `m.mmmmmmmmme±x` (10 significant digits); NaN and
/// infinities as `null`. The kit writes numbers this way rather than with `{}` to keep float
/// formatting (about 25 KB) out of every module.
pub fn number(n: f64) -> String {
    if !n.is_finite() {
        return "null".to_string();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let a = n.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if (1e-6..1e15).contains(&a) {
        let f = fixed(a);
        return if f == "0" { f } else { format!("{sign}{f}") };
    }
    let (mut m, mut e) = (a, 0i32);
    while m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        e -= 1;
    }
    let mut f = fixed(m);
    if f == "10" {
        f = "1".to_string();
        e += 1;
    }
    format!("{sign}{f}e{e}")
}

// a (0 <= a < 1e15) with at most 9 decimals, trailing zeros cut.
fn fixed(a: f64) -> String {
    let mut int = a.trunc() as u64; // a < 1e15 < 2^64
    let mut frac = ((a - a.trunc()) * 1e9 + 0.5) as u64;
    if frac >= 1_000_000_000 {
        int += 1;
        frac -= 1_000_000_000;
    }
    if frac == 0 {
        return format!("{int}");
    }
    let mut width = 9;
    while frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    format!("{int}.{frac:0width$}")
}

/// Writes a JSON object member by member:
/// `Obj::new().str("op", "fs.read").num("max_bytes", 10.0).finish()`.
#[derive(Default)]
pub struct Obj {
    out: String,
}

impl Obj {
    pub fn new() -> Obj {
        Obj { out: String::from("{") }
    }

    fn key(&mut self, k: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        quote_into(k, &mut self.out);
        self.out.push(':');
    }

    pub fn str(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        quote_into(v, &mut self.out);
        self
    }

    pub fn num(mut self, k: &str, v: f64) -> Obj {
        self.key(k);
        self.out.push_str(&number(v));
        self
    }

    pub fn bool(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
        self
    }

    /// A member whose value is JSON text already (an object, an array, a schema).
    pub fn raw(mut self, k: &str, json: &str) -> Obj {
        self.key(k);
        self.out.push_str(json);
        self
    }

    /// A member whose value is an array of strings.
    pub fn strs<S: AsRef<str>>(mut self, k: &str, v: &[S]) -> Obj {
        self.key(k);
        self.out.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            quote_into(s.as_ref(), &mut self.out);
        }
        self.out.push(']');
        self
    }

    /// The object's JSON text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cases = [
            (r#"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-1.5e3,"e":{}}"#, r#"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-1500,"e":{}}"#),
            (r#" [ 1 , 2.25 ] "#, "[1,2.25]"),
            (r#""\u00e9\ud83d\ude00\u0001""#, "\"é😀\\u0001\""),
            ("0", "0"),
        ];
        for (input, want) in cases {
            let v = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(v.to_json(), want, "{input}");
        }
    }

    #[test]
    fn refuses() {
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"a", "\"\\x\"", "\"\u{1}\"", "nul", "1 2", "{1:2}", deep.as_str()] {
            assert!(parse(bad).is_err(), "parsed {bad:?}");
        }
    }

    #[test]
    fn access() {
        let v = parse(r#"{"s":"x","n":2,"b":true,"a":[1,"y"]}"#).unwrap();
        assert_eq!(v.get("s").str(), "x");
        assert_eq!(v.get("n").num(), 2.0);
        assert!(v.get("b").bool());
        assert_eq!(v.get("a").at(1).str(), "y");
        assert!(v.get("missing").is_null() && v.get("s").get("x").is_null() && v.at(3).is_null());
        assert_eq!(v.get("missing").str(), "");
        assert!(v.has("a") && !v.has("z"));
    }

    #[test]
    fn numbers() {
        for (text, want) in [("0", 0.0), ("-0", 0.0), ("7", 7.0), ("-12", -12.0), ("0.7", 0.7), ("1.5e3", 1500.0), ("2E-2", 0.02), ("1000000", 1e6), ("123456789012345", 123456789012345.0), ("4096.25", 4096.25), ("1e400", f64::INFINITY), ("1e-400", 0.0)] {
            assert_eq!(parse(text).unwrap().num(), want, "{text}");
        }
        for (n, want) in [(0.0, "0"), (-0.0, "0"), (3.0, "3"), (-2.5, "-2.5"), (0.7, "0.7"), (0.1 + 0.2, "0.3"), (1.0 / 3.0, "0.333333333"), (123456789012345.0, "123456789012345"), (12345678901.5, "12345678901.5"), (2.9999999999, "3"), (1e15, "1e15"), (-1.5e63, "-1.5e63"), (1e300, "1e300"), (-1e-12, "-1e-12"), (0.000001, "0.000001"), (9.9999999999e20, "1e21"), (f64::INFINITY, "null")] {
            assert_eq!(number(n), want, "{n}");
        }
    }

    // Seeded random mutations of reply-shaped JSON: parse never panics, and whatever it
    // accepts writes back to text that parses to the same value.
    #[test]
    fn mutations() {
        let seeds = [
            r#"{"result":{"path":"/w/a.rs","size":12,"entries":[{"path":"/w/b","kind":"file","size":3}],"truncated":false}}"#,
            r#"{"error":{"code":"denied","message":"tool \"t\" has no \"fs.read\" capability in this call (granted: {})"}}"#,
            r#"{"abi":1,"tool":"todo_finder","call_id":"c-7","arguments":{"path":"/w","n":-1.5e-3,"u":"\u00e9\ud83d\ude00"}}"#,
        ];
        let alphabet = br#"{}[]":,0123456789.eE+-tfnul\ u"#;
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut accepted = 0;
        for i in 0..30_000 {
            let mut b = seeds[i % seeds.len()].as_bytes().to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() % (b.len() as u64 + 1)) as usize;
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 if at < b.len() => b[at] = c,
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => b.insert(at, c),
                }
            }
            let text = match std::str::from_utf8(&b) {
                Ok(t) => t,
                Err(_) => continue,
            };
            if let Ok(v) = parse(text) {
                accepted += 1;
                // Written, read and written again: the same text (numbers keep 10 digits).
                let once = v.to_json();
                assert_eq!(parse(&once).map(|w| w.to_json()).as_ref(), Ok(&once), "{text}");
            }
        }
        assert!(accepted > 1000, "only {accepted} mutations parsed");
    }

    #[test]
    fn writer() {
        let o = Obj::new().str("op", "fs.read").num("n", 3.0).num("f", 0.5).num("nan", f64::NAN).bool("t", true).raw("r", "[1]").strs("l", &["a", "\"b"]).finish();
        assert_eq!(o, r#"{"op":"fs.read","n":3,"f":0.5,"nan":null,"t":true,"r":[1],"l":["a","\"b"]}"#);
        assert_eq!(parse(&o).unwrap().get("l").at(1).str(), "\"b");
        assert_eq!(Obj::new().finish(), "{}");
    }
}
