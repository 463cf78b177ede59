//! chat's arguments, decoded as the Go chat decodes them (`decodeArgs` into `chatArgs`:
//! `encoding/json` with `DisallowUnknownFields`): keys matched to fields exactly or under
//! case folding, a later duplicate key decoding over the earlier value, `null` leaving a
//! string as it was, and the first error in document order reported in Go's words.

use crate::gofmt::quote;
use crate::gojson::{key_matches, Kind, Reader, SyntaxError};

/// chat's arguments; `Option` tells a missing field from an empty one where Go uses a
/// pointer.
#[derive(Clone, Debug, Default)]
pub struct ChatArgs {
    pub prompt: Option<String>,
    pub files: Option<GoSlice>,
    pub images: GoSlice,
    pub model: String,
    pub temperature: Option<f64>,
    pub thinking_mode: String,
    pub continuation_id: String,
    pub working_directory: String,
}

/// A Go `[]string` as the decoder fills it: its length, and its backing array up to its
/// capacity, whose elements past the length a later decode of the same key can see again.
#[derive(Clone, Debug, Default)]
pub struct GoSlice {
    buf: Vec<String>,
    len: usize,
}

impl GoSlice {
    /// The elements.
    pub fn items(&self) -> &[String] {
        &self.buf[..self.len]
    }

    /// The capacity reflect's `Value.Grow(1)` gives a full `[]string` of capacity `old`
    /// (runtime.growslice: 2x below 256 elements, then about 1.25x, rounded up to the
    /// allocator's size class).
    fn grown_cap(old: usize) -> usize {
        const CLASSES: [usize; 67] = [
            8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
            2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
            32768,
        ];
        let new_len = old + 1;
        let mut cap = old;
        if new_len > old * 2 {
            cap = new_len;
        } else if old < 256 {
            cap = old * 2;
        } else {
            while cap < new_len {
                cap += (cap + 3 * 256) >> 2;
            }
        }
        let size = cap * 16; // a string header
        let mem = if size <= 32768 - 8 {
            let req = if size > 512 { size + 8 } else { size }; // the malloc header
            CLASSES.iter().find(|&&c| c >= req).map_or(req, |&c| c - (req - size))
        } else {
            (size + 8191) & !8191
        };
        mem / 16
    }

    /// Decodes a JSON array into the slice as Go's decoder does (`d.array`).
    fn decode(&mut self, r: &mut Reader, field: &str, err: &mut Option<String>) -> Result<(), SyntaxError> {
        let mut n = 0;
        r.array(|r, i| {
            if i >= self.buf.len() {
                let cap = Self::grown_cap(self.buf.len());
                self.buf.truncate(self.len); // growing copies only the elements in use
                self.buf.resize(cap, String::new());
            }
            if i >= self.len {
                self.len = i + 1;
            }
            n = i + 1;
            decode_string(r, &mut self.buf[i], field, err)
        })?;
        if n < self.len {
            self.len = n;
        }
        if n == 0 {
            *self = GoSlice::default();
        }
        Ok(())
    }
}

/// Records Go's `UnmarshalTypeError` for `field` when it is the first error: a JSON `value`
/// where Go type `want` ("string", "number", "array") is expected.
fn type_error(err: &mut Option<String>, field: &str, value: &str, want: &str) {
    if err.is_none() {
        *err = Some(format!("argument {field} has a {value} where a {want} is expected"));
    }
}

/// Decodes into a Go `string`: a string sets it, null leaves it, anything else is an error.
fn decode_string(r: &mut Reader, s: &mut String, field: &str, err: &mut Option<String>) -> Result<(), SyntaxError> {
    match r.kind()? {
        Kind::String => *s = r.string()?,
        Kind::Null => r.null()?,
        k => {
            type_error(err, field, k.go_name(), "string");
            r.skip()?;
        }
    }
    Ok(())
}

/// Decodes into a Go `[]string` (`files` is a `*[]string`: null makes it nil again).
fn decode_strings(r: &mut Reader, s: &mut Option<GoSlice>, field: &str, err: &mut Option<String>) -> Result<(), SyntaxError> {
    match r.kind()? {
        Kind::Array => s.get_or_insert_with(GoSlice::default).decode(r, field, err)?,
        Kind::Null => {
            r.null()?;
            *s = None;
        }
        k => {
            type_error(err, field, k.go_name(), "array");
            r.skip()?;
        }
    }
    Ok(())
}

/// Decodes chat's arguments, `raw` being a JSON object. `Err` is the Go chat's message.
pub fn decode(raw: &[u8]) -> Result<ChatArgs, String> {
    let mut a = ChatArgs::default();
    let mut err: Option<String> = None;
    let mut r = Reader::new(raw);
    let parsed = r.object(|r, key| {
        let e = &mut err;
        let field = ["prompt", "absolute_file_paths", "images", "model", "temperature", "thinking_mode", "continuation_id", "working_directory_absolute_path"]
            .iter()
            .find(|f| key_matches(&key, f))
            .copied();
        match field {
            Some("prompt") => match r.kind()? {
                Kind::String => a.prompt = Some(r.string()?),
                Kind::Null => {
                    r.null()?;
                    a.prompt = None;
                }
                k => {
                    type_error(e, "prompt", k.go_name(), "string");
                    r.skip()?;
                }
            },
            Some("absolute_file_paths") => decode_strings(r, &mut a.files, "absolute_file_paths", e)?,
            Some("images") => {
                let mut s = Some(std::mem::take(&mut a.images));
                decode_strings(r, &mut s, "images", e)?;
                a.images = s.unwrap_or_default();
            }
            Some("model") => decode_string(r, &mut a.model, "model", e)?,
            Some("temperature") => match r.kind()? {
                Kind::Number => {
                    let text = r.number()?;
                    // Go's strconv.ParseFloat: correctly rounded; out of range is an error.
                    match text.parse::<f64>() {
                        Ok(v) if v.is_finite() => a.temperature = Some(v),
                        _ => type_error(e, "temperature", &format!("number {text}"), "number"),
                    }
                }
                Kind::Null => {
                    r.null()?;
                    a.temperature = None;
                }
                k => {
                    type_error(e, "temperature", k.go_name(), "number");
                    r.skip()?;
                }
            },
            Some("thinking_mode") => decode_string(r, &mut a.thinking_mode, "thinking_mode", e)?,
            Some("continuation_id") => decode_string(r, &mut a.continuation_id, "continuation_id", e)?,
            Some(_) => decode_string(r, &mut a.working_directory, "working_directory_absolute_path", e)?,
            None => {
                if e.is_none() {
                    *e = Some(format!("unknown argument {}; this tool's schema allows no other arguments", quote(&key)));
                }
                r.skip()?;
            }
        }
        Ok(())
    });
    if parsed.is_err() || !r.at_end() {
        // The host sends arguments it has parsed: only a broken host gets here.
        return Err(format!("the arguments are not valid JSON: syntax error near byte {}", r.pos()));
    }
    match err {
        Some(e) => Err(e),
        None => Ok(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Result<ChatArgs, String> {
        decode(s.as_bytes())
    }

    #[test]
    fn decodes_fields() {
        let a = d(r#"{"prompt":"hi","absolute_file_paths":["/a"],"images":["/i.png"],"model":"m","temperature":0.5,"thinking_mode":"low","continuation_id":"c","working_directory_absolute_path":" "}"#).unwrap();
        assert_eq!(a.prompt.as_deref(), Some("hi"));
        assert_eq!(a.files.as_ref().map(|f| f.items().to_vec()), Some(vec!["/a".to_string()]));
        assert_eq!(a.images.items(), ["/i.png"]);
        assert_eq!((a.model.as_str(), a.temperature, a.thinking_mode.as_str(), a.continuation_id.as_str(), a.working_directory.as_str()), ("m", Some(0.5), "low", "c", " "));
        let a = d(r#"{"PROMPT":"x","Thin\u212Aing_mode":"max","absolute_file_paths":null}"#).unwrap();
        assert_eq!((a.prompt.as_deref(), a.thinking_mode.as_str(), a.files.is_none()), (Some("x"), "max", true));
        assert!(d(r#"{"absolute_file_paths":[]}"#).unwrap().files.map_or(false, |f| f.items().is_empty()));
    }

    #[test]
    fn go_errors() {
        for (args, want) in [
            (r#"{"prompt":5}"#, "argument prompt has a number where a string is expected"),
            (r#"{"prompt":"x","files":["/a"]}"#, r#"unknown argument "files"; this tool's schema allows no other arguments"#),
            (r#"{"nope\n":1,"prompt":true}"#, r#"unknown argument "nope\n"; this tool's schema allows no other arguments"#),
            (r#"{"absolute_file_paths":"x"}"#, "argument absolute_file_paths has a string where a array is expected"),
            (r#"{"absolute_file_paths":[1]}"#, "argument absolute_file_paths has a number where a string is expected"),
            (r#"{"images":[["x"]]}"#, "argument images has a array where a string is expected"),
            (r#"{"temperature":"hot"}"#, "argument temperature has a string where a number is expected"),
            (r#"{"temperature":1e400}"#, "argument temperature has a number 1e400 where a number is expected"),
            (r#"{"model":{}}"#, "argument model has a object where a string is expected"),
        ] {
            assert_eq!(d(args).err().as_deref(), Some(want), "{args}");
        }
    }

    #[test]
    fn duplicates_as_go() {
        let a = d(r#"{"model":"x","model":null,"prompt":"p","prompt":null}"#).unwrap();
        assert_eq!((a.model.as_str(), a.prompt.is_none()), ("x", true));
        // A shorter second array reuses the first's elements; null leaves them.
        let a = d(r#"{"images":["/a.png","/b.png"],"images":[null]}"#).unwrap();
        assert_eq!(a.images.items(), ["/a.png"]);
        let a = d(r#"{"images":["/a.png","/b.png"],"images":[null],"images":[null,null]}"#).unwrap();
        assert_eq!(a.images.items(), ["/a.png", "/b.png"]);
        let a = d(r#"{"images":["/a.png"],"images":[null,null]}"#).unwrap();
        assert_eq!(a.images.items(), ["/a.png", ""]);
        let a = d(r#"{"images":["/a.png"],"images":[],"images":[null]}"#).unwrap();
        assert_eq!(a.images.items(), [""]);
    }

    #[test]
    fn capacities_as_go() {
        // What Go 1.26's decoder gives a growing []string on amd64 and wasm.
        let caps: Vec<usize> = std::iter::successors(Some(0), |&c| Some(GoSlice::grown_cap(c))).take(15).collect();
        assert_eq!(caps, [0, 1, 2, 4, 8, 16, 32, 71, 143, 303, 591, 1023, 1535, 2560, 3584]);
    }
}
