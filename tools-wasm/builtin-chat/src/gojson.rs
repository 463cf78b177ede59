//! JSON as Go's `encoding/json` reads and writes it, where chat's behaviour depends on the
//! details: strings decoded with Go's rules (each invalid UTF-8 byte becomes U+FFFD, a lone
//! surrogate escape too), numbers kept as written, and strings written as `json.Marshal`
//! writes them (`\u003c` for `<` when HTML escaping is on, `\u2028`, `\b`, `\f`).
//!
//! The reader is a cursor over the bytes with no recursion, so no nesting depth can exhaust
//! the guest's 128 KiB stack.

use crate::gofmt::decode_rune;

/// A syntax error: the input is not JSON. The host checks every message it sends, so only a
/// broken host produces one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError;

/// What starts the next value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    /// Go's name for the JSON value in an `UnmarshalTypeError` ("a number where …").
    pub fn go_name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// A cursor over JSON bytes.
pub struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, i: 0 }
    }

    /// The byte offset of the cursor.
    pub fn pos(&self) -> usize {
        self.i
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), SyntaxError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(SyntaxError)
        }
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// The kind of the next value.
    pub fn kind(&mut self) -> Result<Kind, SyntaxError> {
        Ok(match self.peek() {
            Some(b'n') => Kind::Null,
            Some(b't') | Some(b'f') => Kind::Bool,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            Some(b'-') | Some(b'0'..=b'9') => Kind::Number,
            _ => return Err(SyntaxError),
        })
    }

    fn lit(&mut self, word: &[u8]) -> Result<(), SyntaxError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(SyntaxError)
        }
    }

    /// Reads `null`.
    pub fn null(&mut self) -> Result<(), SyntaxError> {
        self.ws();
        self.lit(b"null")
    }

    /// Reads `true` or `false`.
    pub fn boolean(&mut self) -> Result<bool, SyntaxError> {
        self.ws();
        if self.lit(b"true").is_ok() {
            return Ok(true);
        }
        self.lit(b"false").map(|_| false)
    }

    /// Reads a number and returns its text as written.
    pub fn number(&mut self) -> Result<&'a str, SyntaxError> {
        self.ws();
        let start = self.i;
        let b = self.b;
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i - s
        };
        if b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int = self.i;
        let n = digits(&mut self.i);
        if n == 0 || (n > 1 && b[int] == b'0') {
            return Err(SyntaxError);
        }
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(&mut self.i) == 0 {
                return Err(SyntaxError);
            }
        }
        if matches!(b.get(self.i), Some(b'e') | Some(b'E')) {
            self.i += 1;
            if matches!(b.get(self.i), Some(b'+') | Some(b'-')) {
                self.i += 1;
            }
            if digits(&mut self.i) == 0 {
                return Err(SyntaxError);
            }
        }
        // Only ASCII digits and signs were taken.
        std::str::from_utf8(&b[start..self.i]).map_err(|_| SyntaxError)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    }

    /// Reads a string as Go's decoder does: escapes resolved, each invalid UTF-8 byte and each
    /// unpaired surrogate escape turned into U+FFFD.
    pub fn string(&mut self) -> Result<String, SyntaxError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let c = *self.b.get(self.i).ok_or(SyntaxError)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1).ok_or(SyntaxError)?;
                    self.i += 2;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e as char),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let r = self.hex4(self.i).ok_or(SyntaxError)?;
                            self.i += 4;
                            if (0xD800..0xE000).contains(&r) {
                                // A pair only when a high surrogate is followed by an escaped low one.
                                let lo = if self.b[self.i..].starts_with(b"\\u") { self.hex4(self.i + 2) } else { None };
                                match lo {
                                    Some(lo) if r < 0xDC00 && (0xDC00..0xE000).contains(&lo) => {
                                        self.i += 6;
                                        out.push(char::from_u32(0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{FFFD}'));
                                    }
                                    _ => out.push('\u{FFFD}'),
                                }
                            } else {
                                out.push(char::from_u32(r).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => return Err(SyntaxError),
                    }
                }
                c if c < 0x20 => return Err(SyntaxError),
                c if c < 0x80 => {
                    out.push(c as char);
                    self.i += 1;
                }
                _ => match decode_rune(&self.b[self.i..]) {
                    (Some(ch), w) => {
                        out.push(ch);
                        self.i += w;
                    }
                    _ => {
                        out.push('\u{FFFD}');
                        self.i += 1;
                    }
                },
            }
        }
    }

    /// Skips one value, checking its syntax, without recursion.
    pub fn skip(&mut self) -> Result<(), SyntaxError> {
        let mut open: Vec<u8> = Vec::new(); // the closers of the containers we are in
        loop {
            match self.kind()? {
                Kind::Null => self.null()?,
                Kind::Bool => {
                    self.boolean()?;
                }
                Kind::Number => {
                    self.number()?;
                }
                Kind::String => {
                    self.string()?;
                }
                Kind::Array => {
                    self.i += 1;
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                Kind::Object => {
                    self.i += 1;
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        open.push(b'}');
                        self.string()?;
                        self.expect(b':')?;
                        continue;
                    }
                }
            }
            // After a value: close what ends here, or go on to the next member.
            loop {
                let close = match open.last() {
                    None => return Ok(()),
                    Some(&c) => c,
                };
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if close == b'}' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.i += 1;
                        open.pop();
                    }
                    _ => return Err(SyntaxError),
                }
            }
        }
    }

    /// Skips one value and returns its bytes as written (Go's `json.RawMessage`).
    pub fn raw(&mut self) -> Result<&'a [u8], SyntaxError> {
        self.ws();
        let start = self.i;
        self.skip()?;
        Ok(&self.b[start..self.i])
    }

    /// Reads an object, calling `member` with each key; `member` must read the value.
    pub fn object<F>(&mut self, mut member: F) -> Result<(), SyntaxError>
    where
        F: FnMut(&mut Reader<'a>, String) -> Result<(), SyntaxError>,
    {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            member(self, key)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(SyntaxError),
            }
        }
    }

    /// Reads an array, calling `item` with each index; `item` must read the value.
    pub fn array<F>(&mut self, mut item: F) -> Result<(), SyntaxError>
    where
        F: FnMut(&mut Reader<'a>, usize) -> Result<(), SyntaxError>,
    {
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        let mut n = 0;
        loop {
            item(self, n)?;
            n += 1;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(SyntaxError),
            }
        }
    }
}

/// Whether Go's decoder matches a JSON key to a field name: exactly, or equal under Unicode
/// simple case folding. The field names are ASCII; the only non-ASCII characters that fold
/// to ASCII letters are U+212A (k) and U+017F (s).
pub fn key_matches(key: &str, field: &str) -> bool {
    if key == field {
        return true;
    }
    let mut k = key.chars();
    for f in field.chars() {
        let c = match k.next() {
            None => return false,
            Some(c) => c,
        };
        let folded = match c {
            '\u{212A}' => 'k',
            '\u{17F}' => 's',
            c => c.to_ascii_lowercase(),
        };
        if folded != f.to_ascii_lowercase() {
            return false;
        }
    }
    k.next().is_none()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string as Go's encoder writes it; `html` escapes `<`, `>` and `&`
/// (`json.Marshal`), off for the kit's result encoder (`SetEscapeHTML(false)`).
pub fn quote_into(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string, see [`quote_into`].
pub fn quote(s: &str, html: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s, html);
    out
}

/// Writes a JSON object member by member, in the order given (Go writes a struct's fields
/// in declaration order and a map's keys sorted: callers keep to that).
pub struct Obj {
    out: String,
    html: bool,
}

impl Obj {
    /// An object written as `json.Marshal` writes one (`html`) or as the kit's result encoder.
    pub fn new(html: bool) -> Obj {
        Obj { out: String::from("{"), html }
    }

    fn key(&mut self, k: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        quote_into(&mut self.out, k, self.html);
        self.out.push(':');
    }

    pub fn str(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        quote_into(&mut self.out, v, self.html);
        self
    }

    pub fn int(mut self, k: &str, v: i64) -> Obj {
        self.key(k);
        self.out.push_str(&v.to_string());
        self
    }

    pub fn bool(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
        self
    }

    /// A member whose value is JSON text already.
    pub fn raw(mut self, k: &str, json: &str) -> Obj {
        self.key(k);
        self.out.push_str(json);
        self
    }

    /// A member whose value is an array of strings.
    pub fn strs<S: AsRef<str>>(mut self, k: &str, v: &[S]) -> Obj {
        self.key(k);
        let html = self.html;
        strs_into(&mut self.out, v, html);
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// Appends an array of strings.
pub fn strs_into<S: AsRef<str>>(out: &mut String, v: &[S], html: bool) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote_into(out, s.as_ref(), html);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_as_go_decodes_them() {
        for (input, want) in [
            (&br#""plain""#[..], "plain"),
            (br#""a\"\\\/\b\f\n\r\t""#, "a\"\\/\u{8}\u{c}\n\r\t"),
            (br#""\u00e9\ud83d\ude00""#, "é😀"),
            (br#""\ud83d""#, "\u{FFFD}"),
            (br#""\ude00\ud83d x""#, "\u{FFFD}\u{FFFD} x"),
            (br#""\ud83d\u0041""#, "\u{FFFD}A"),
            (b"\"a\xe2\x82b\xff\"", "a\u{FFFD}\u{FFFD}b\u{FFFD}"),
        ] {
            assert_eq!(Reader::new(input).string().as_deref(), Ok(want), "{input:?}");
        }
        assert!(Reader::new(b"\"a\nb\"").string().is_err());
    }

    #[test]
    fn skips_any_depth() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let mut r = Reader::new(deep.as_bytes());
        assert_eq!(r.skip(), Ok(()));
        assert!(r.at_end());
        for ok in [&br#"{"a":[1,{"b":null}],"c":"x"}"#[..], b" [ ] ", b"-0.5e+3", b"{}"] {
            let mut r = Reader::new(ok);
            assert_eq!(r.skip(), Ok(()), "{ok:?}");
            assert!(r.at_end());
        }
        for bad in [&b"[1,]"[..], b"{\"a\"}", b"01", b"[", b"{\"a\":1,}", b"tru", b"\"\\x\""] {
            let mut r = Reader::new(bad);
            assert!(r.skip().is_err() || !r.at_end(), "{bad:?}");
        }
    }

    #[test]
    fn raw_members() {
        let mut r = Reader::new(br#"{"tool":"chat","arguments": {"a":[1]} ,"abi":1}"#);
        let mut args = Vec::new();
        r.object(|r, k| {
            if k == "arguments" {
                args = r.raw()?.to_vec();
                Ok(())
            } else {
                r.skip()
            }
        })
        .unwrap();
        assert_eq!(args, br#"{"a":[1]}"#);
    }

    #[test]
    fn folds_keys_as_go() {
        assert!(key_matches("prompt", "prompt"));
        assert!(key_matches("PROMPT", "prompt"));
        assert!(key_matches("thin\u{212A}ing_mode", "thinking_mode"));
        assert!(key_matches("image\u{17F}", "images"));
        assert!(!key_matches("prompts", "prompt"));
        assert!(!key_matches("prompt_", "prompt"));
        assert!(!key_matches("pr\u{130}mpt", "prompt"));
    }

    #[test]
    fn writes_as_go() {
        assert_eq!(quote("<a & b>\u{2028}\u{8}\u{1}é", true), r#""\u003ca \u0026 b\u003e\u2028\b\u0001é""#);
        assert_eq!(quote("<a & b>", false), r#""<a & b>""#);
        let o = Obj::new(true).str("op", "fs.read").int("max_bytes", 1).bool("t", false).strs("l", &["x"]).raw("r", "null").finish();
        assert_eq!(o, r#"{"op":"fs.read","max_bytes":1,"t":false,"l":["x"],"r":null}"#);
    }
}
