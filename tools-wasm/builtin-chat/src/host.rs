//! The host ops chat uses, with requests written byte for byte as the Go kit writes them
//! (`json.Marshal` of its request structs: field order, `omitempty`, HTML escaping) and
//! replies read into the fields chat needs. Errors print as the Go kit's errors print.

use crate::gofmt::json_float;
use crate::gojson::Obj;
use crate::time::Stamp;
use pal_kit as pal;
use pal_kit::json::Value;
use std::fmt;

/// The ABI's cap on a request message (abi.MaxRequestBytes).
const MAX_REQUEST_BYTES: usize = 16 << 20;

/// A failed op, as the Go kit reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The host's refusal or failure (Go's `*pal.HostError`).
    Host { code: String, message: String },
    /// A reply the kit cannot understand (Go's `pal.ErrBadReply`); the text after its prefix.
    BadReply(String),
}

impl fmt::Display for Error {
    /// Go's `err.Error()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host { code, message } if message.is_empty() => f.write_str(code),
            Error::Host { code, message } => write!(f, "{code}: {message}"),
            Error::BadReply(why) => write!(f, "pal: malformed reply from the host: {why}"),
        }
    }
}

impl Error {
    fn host(code: &str, message: String) -> Error {
        Error::Host { code: code.to_string(), message }
    }

    /// The host's error code, when the host refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Host { code, .. } => Some(code),
            Error::BadReply(_) => None,
        }
    }

    /// Whether this is the host's answer to `fs.read` on a directory (`pal.IsDirectory`).
    pub fn is_directory(&self) -> bool {
        matches!(self, Error::Host { code, message } if code == pal::ERR_INVALID && message.contains("is a directory"))
    }

    /// The error shape's code for this error (`pal.FailureCode`).
    pub fn failure_code(&self) -> &'static str {
        match self.code() {
            Some("not_granted") => "not_granted",
            Some("denied") => "denied",
            Some("not_found") => "not_found",
            Some("too_large") => "too_large",
            Some("unavailable") => "unavailable",
            Some("cancelled") => "cancelled",
            Some("over_budget") => "over_budget",
            Some("internal") => "internal",
            Some("upstream") => "provider_error",
            _ => "tool_error",
        }
    }

    /// The user-facing text (chat's `hostMessage`): the host's message, else the error.
    pub fn host_message(&self) -> String {
        match self {
            Error::Host { message, .. } if !message.is_empty() => message.clone(),
            e => e.to_string(),
        }
    }
}

/// Sends one request (header, optional body) and returns the reply's result and body.
fn send(header: &str, body: Option<&[u8]>) -> Result<pal::Reply, Error> {
    let n = header.len() + body.map_or(0, |b| b.len() + 1);
    if n > MAX_REQUEST_BYTES {
        return Err(Error::host(pal::ERR_TOO_LARGE, format!("request of {n} bytes is over the {MAX_REQUEST_BYTES}-byte cap")));
    }
    match pal::call(header, body) {
        Ok(r) => {
            if !matches!(r.result, Value::Object(_)) {
                return Err(Error::BadReply("reply has neither a result nor an error".to_string()));
            }
            Ok(r)
        }
        // The kit's own words for a reply it could not read, in the Go kit's.
        Err(e) if e.code == pal::ERR_INTERNAL && e.message == "the host could not place its reply (alloc failed)" => {
            Err(Error::BadReply("the host could not place its reply in guest memory".to_string()))
        }
        Err(e) if e.code == pal::ERR_INTERNAL && e.message == "the host's reply is not JSON" => Err(Error::BadReply("the reply is not JSON".to_string())),
        Err(e) => Err(Error::Host { code: e.code, message: e.message }),
    }
}

fn int(v: &Value) -> i64 {
    v.num() as i64
}

fn strings(v: &Value) -> Vec<String> {
    v.items().iter().map(|s| s.str().to_string()).collect()
}

/// A file `fs.read` returned.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub size: i64,
    pub modified: Stamp,
    pub data: Vec<u8>,
}

/// `pal.ReadFile(path, max_bytes)`.
pub fn read_file(path: &str, max_bytes: i64) -> Result<File, Error> {
    let mut o = Obj::new(true).str("op", "fs.read").str("path", path);
    if max_bytes != 0 {
        o = o.int("max_bytes", max_bytes);
    }
    let r = send(&o.finish(), None)?;
    Ok(File { size: int(r.result.get("size")), modified: Stamp::parse(r.result.get("modified").str()), data: r.body })
}

/// One entry of `fs.list`.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: String,
    pub kind: String,
    pub size: i64,
}

/// What `fs.list` returned.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub truncated: bool,
}

/// `pal.ListDir(path, 0, 0)`.
pub fn list_dir(path: &str) -> Result<Listing, Error> {
    let r = send(&Obj::new(true).str("op", "fs.list").str("path", path).finish(), None)?;
    let entries = r
        .result
        .get("entries")
        .items()
        .iter()
        .map(|e| Entry { path: e.get("path").str().to_string(), kind: e.get("kind").str().to_string(), size: int(e.get("size")) })
        .collect();
    Ok(Listing { entries, truncated: r.result.get("truncated").bool() })
}

/// A resolved model.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub model: String,
    pub provider: String,
    pub context_window: i64,
    pub supports_images: bool,
    pub supports_thinking: bool,
}

/// `pal.ResolveModel(name, category)`.
pub fn resolve_model(name: &str, category: &str) -> Result<Model, Error> {
    let mut o = Obj::new(true).str("op", "model.resolve").str("model", name);
    if !category.is_empty() {
        o = o.str("category", category);
    }
    let r = send(&o.finish(), None)?.result;
    Ok(Model {
        model: r.get("model").str().to_string(),
        provider: r.get("provider").str().to_string(),
        context_window: int(r.get("context_window")),
        supports_images: r.get("supports_images").bool(),
        supports_thinking: r.get("supports_thinking").bool(),
    })
}

/// One `model.generate` request (`pal.GenerateRequest`).
#[derive(Clone, Debug, Default)]
pub struct GenerateRequest {
    pub model: String,
    pub category: String,
    pub system: String,
    pub prompt: String,
    pub temperature: Option<f64>,
    pub thinking_mode: String,
    pub images: Vec<String>,
}

/// A model's reply.
#[derive(Clone, Debug, Default)]
pub struct Generation {
    pub content: String,
    pub model: String,
    pub provider: String,
    pub finish_reason: String,
}

/// `pal.Generate(req)`: the prompt travels as the body.
pub fn generate(g: &GenerateRequest) -> Result<Generation, Error> {
    let mut o = Obj::new(true).str("op", "model.generate");
    for (k, v) in [("model", &g.model), ("category", &g.category), ("system", &g.system)] {
        if !v.is_empty() {
            o = o.str(k, v);
        }
    }
    if let Some(t) = g.temperature {
        match json_float(t) {
            Some(t) => o = o.raw("temperature", &t),
            None => return Err(Error::host(pal::ERR_INVALID, format!("cannot encode request: json: unsupported value: {}", crate::gofmt::fmt_g(t)))),
        }
    }
    if !g.thinking_mode.is_empty() {
        o = o.str("thinking_mode", &g.thinking_mode);
    }
    if !g.images.is_empty() {
        o = o.strs("images", &g.images);
    }
    let r = send(&o.finish(), Some(g.prompt.as_bytes()))?.result;
    Ok(Generation {
        content: r.get("content").str().to_string(),
        model: r.get("model").str().to_string(),
        provider: r.get("provider").str().to_string(),
        finish_reason: r.get("finish_reason").str().to_string(),
    })
}

/// One turn of a thread.
#[derive(Clone, Debug, Default)]
pub struct Turn {
    pub role: String,
    pub content: String,
    pub files: Vec<String>,
    pub images: Vec<String>,
    pub tool: String,
    pub model: String,
    pub provider: String,
}

impl Turn {
    /// The turn as `thread.append` sends it (`abi.Turn`, no timestamp: the host stamps it).
    fn write(&self, out: &mut String) {
        let mut o = Obj::new(true).str("role", &self.role).str("content", &self.content);
        if !self.files.is_empty() {
            o = o.strs("files", &self.files);
        }
        if !self.images.is_empty() {
            o = o.strs("images", &self.images);
        }
        for (k, v) in [("tool", &self.tool), ("model", &self.model), ("provider", &self.provider)] {
            if !v.is_empty() {
                o = o.str(k, v);
            }
        }
        out.push_str(&o.finish());
    }
}

/// A conversation thread.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    pub id: String,
    pub tool: String,
    pub max_turns: i64,
    /// The thread's initial context's `absolute_file_paths`, when it is an array.
    pub initial_files: Vec<Value>,
    pub turns: Vec<Turn>,
}

/// `pal.ThreadRead(id)`.
pub fn thread_read(id: &str) -> Result<Thread, Error> {
    let r = send(&Obj::new(true).str("op", "thread.read").str("id", id).finish(), None)?.result;
    let turns = r
        .get("turns")
        .items()
        .iter()
        .map(|t| Turn {
            role: t.get("role").str().to_string(),
            content: t.get("content").str().to_string(),
            files: strings(t.get("files")),
            images: strings(t.get("images")),
            tool: t.get("tool").str().to_string(),
            model: t.get("model").str().to_string(),
            provider: t.get("provider").str().to_string(),
        })
        .collect();
    Ok(Thread {
        id: r.get("id").str().to_string(),
        tool: r.get("tool").str().to_string(),
        max_turns: int(r.get("max_turns")),
        initial_files: r.get("initial_context").get("absolute_file_paths").items().to_vec(),
        turns,
    })
}

/// The initial context of a new chat thread (a Go `map[string]any`: keys written sorted).
#[derive(Clone, Debug, Default)]
pub struct InitialContext {
    pub files: Vec<String>,
    pub images: Vec<String>,
    pub prompt: String,
}

/// `pal.ThreadCreate(tool, initial)`.
pub fn thread_create(tool: &str, initial: &InitialContext) -> Result<String, Error> {
    let mut ctx = Obj::new(true);
    if !initial.files.is_empty() {
        ctx = ctx.strs("absolute_file_paths", &initial.files);
    }
    if !initial.images.is_empty() {
        ctx = ctx.strs("images", &initial.images);
    }
    ctx = ctx.str("prompt", &initial.prompt);
    let req = Obj::new(true).str("op", "thread.create").str("tool", tool).raw("initial_context", &ctx.finish()).finish();
    let id = send(&req, None)?.result.get("id").str().to_string();
    if id.is_empty() {
        return Err(Error::BadReply("thread.create returned no id".to_string()));
    }
    Ok(id)
}

/// `pal.ThreadAppend(id, turns…)`: the turns left, `remaining`.
pub fn thread_append(id: &str, turns: &[&Turn]) -> Result<i64, Error> {
    let mut list = String::from("[");
    for (i, t) in turns.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        t.write(&mut list);
    }
    list.push(']');
    let req = Obj::new(true).str("op", "thread.append").str("id", id).raw("turns", &list).finish();
    Ok(int(send(&req, None)?.result.get("remaining")))
}

/// `pal.Progress(done, total, message)`.
pub fn progress(done: f64, total: f64, message: &str) -> Result<(), Error> {
    let mut o = Obj::new(true).str("op", "progress").raw("progress", &json_float(done).unwrap_or_default());
    if total != 0.0 {
        o = o.raw("total", &json_float(total).unwrap_or_default());
    }
    if !message.is_empty() {
        o = o.str("message", message);
    }
    send(&o.finish(), None).map(|_| ())
}

/// The host's limits (`pal.Limits`).
#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub prompt_chars: i64,
    pub max_turns: i64,
    pub max_file_bytes: i64,
    pub locale: String,
}

/// What `host.info` says, the parts chat reads.
#[derive(Clone, Debug, Default)]
pub struct ServerInfo {
    pub default_model: String,
    pub limits: Limits,
    pub continuation_tools: Vec<String>,
}

/// `pal.HostInfo()`.
pub fn host_info() -> Result<ServerInfo, Error> {
    let r = send(r#"{"op":"host.info"}"#, None)?.result;
    let l = r.get("limits");
    Ok(ServerInfo {
        default_model: r.get("default_model").str().to_string(),
        limits: Limits {
            prompt_chars: int(l.get("prompt_chars")),
            max_turns: int(l.get("max_turns")),
            max_file_bytes: int(l.get("max_file_bytes")),
            locale: l.get("locale").str().to_string(),
        },
        continuation_tools: strings(r.get("continuation_tools")),
    })
}

/// Log levels (`pal.Level`).
pub use pal::Level;

/// `pal.Log(level, msg)`.
pub fn log(level: Level, msg: &str) {
    pal::log(level, msg)
}
