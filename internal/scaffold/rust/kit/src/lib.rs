//! pal-kit: write pal tools in Rust. It implements pal's tool ABI 1 (docs/abi.md): the
//! manifest, the call framing and the host ops, so a tool author never touches a pointer.
//!
//! A tool module is a `cdylib` built for `wasm32-unknown-unknown`: it imports nothing but
//! `pal.call` and `pal.log` (no WASI), and the example is about 58 KB.
//!
//! ```ignore
//! use pal_kit as pal;
//!
//! fn module() -> pal::Module {
//!     pal::Module::new("wordcount", "0.1.0").tool(
//!         pal::Tool::new("wordcount", "Count words", "Counts the words in one file.",
//!             r#"{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}"#,
//!             &[pal::CAP_FS_READ], count)
//!         .read_only(true),
//!     )
//! }
//! pal::export!(module);
//!
//! fn count(call: &pal::Call) -> Result<pal::Output, pal::ToolError> {
//!     let f = pal::fs::read(call.args.get("path").str(), 0)?; // a refusal becomes an isError result
//!     Ok(pal::text(format!("{} words", f.text().split_whitespace().count())))
//! }
//! ```
//!
//! Under any target but wasm32 the host ops go to [`fakehost::FakeHost`], so handlers run
//! under plain `cargo test`.

pub mod json;
#[doc(hidden)]
pub mod abi;
#[cfg(not(target_arch = "wasm32"))]
pub mod fakehost;

use json::{Obj, Value};
use std::fmt;

/// The ABI version this kit implements.
pub const ABI: u32 = 1;

/// Capabilities, as docs/abi.md names them.
pub const CAP_FS_READ: &str = "fs.read";
pub const CAP_FS_LIST: &str = "fs.list";
pub const CAP_MODEL_GENERATE: &str = "model.generate";
pub const CAP_MODEL_LIST: &str = "model.list";
pub const CAP_THREAD_READ: &str = "thread.read";
pub const CAP_THREAD_WRITE: &str = "thread.write";
pub const CAP_PROGRESS: &str = "progress";
pub const CAP_HOST_INFO: &str = "host.info";
pub const CAP_GIT_READ: &str = "git.read";
pub const CAP_CLI_RUN: &str = "cli.run";

/// Every capability of ABI 1, in the host's order (the order of a grant's text).
pub const CAPABILITIES: [&str; 10] = [
    CAP_FS_READ, CAP_FS_LIST, CAP_MODEL_GENERATE, CAP_MODEL_LIST, CAP_THREAD_READ, CAP_THREAD_WRITE, CAP_PROGRESS, CAP_HOST_INFO, CAP_GIT_READ, CAP_CLI_RUN,
];

/// Error codes of host replies (docs/abi.md, "call: request and reply").
pub const ERR_DENIED: &str = "denied"; // the policy refuses the path or argument
pub const ERR_NOT_GRANTED: &str = "not_granted"; // the op's capability is not in this call's grant
pub const ERR_INVALID: &str = "invalid";
pub const ERR_UNKNOWN_OP: &str = "unknown_op";
pub const ERR_NOT_FOUND: &str = "not_found";
pub const ERR_TOO_LARGE: &str = "too_large";
pub const ERR_UNAVAILABLE: &str = "unavailable";
pub const ERR_UPSTREAM: &str = "upstream";
pub const ERR_CANCELLED: &str = "cancelled";
pub const ERR_INTERNAL: &str = "internal";
pub const ERR_OVER_BUDGET: &str = "over_budget";
pub const ERR_REENTRANT: &str = "reentrant";

// ---------------------------------------------------------------------------------------
// Tools and the manifest.

/// A tool handler: the call in, the result out. An `Err` becomes an isError result with its
/// text, so `?` on a host op reports the host's refusal to the client.
pub type Handler = fn(&Call) -> Result<Output, ToolError>;

/// One tool of the module, as the manifest describes it (docs/abi.md, "Manifest").
#[derive(Clone)]
pub struct Tool {
    pub name: String,
    pub title: String,
    pub description: String,
    /// A JSON Schema object, as text.
    pub input_schema: String,
    pub capabilities: Vec<String>,
    pub handler: Handler,
    /// `readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`; `None` leaves
    /// the hint out (the host publishes MCP's safe default).
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
    /// `fast`, `balanced` or `extended`; "" leaves it out (the host takes `balanced`).
    pub category: String,
    /// Whether the tool calls a model; the host then describes the `model` argument.
    pub requires_model: bool,
}

impl Tool {
    /// name: 1 to 64 of `[a-z0-9_]`, starting with a letter. capabilities: what the tool may
    /// ask for (`CAP_*`); pal.toml must grant them too.
    pub fn new(name: &str, title: &str, description: &str, input_schema: &str, capabilities: &[&str], handler: Handler) -> Tool {
        Tool {
            name: name.to_string(),
            title: title.to_string(),
            description: description.to_string(),
            input_schema: input_schema.to_string(),
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            handler,
            read_only: None,
            destructive: None,
            idempotent: None,
            open_world: None,
            category: String::new(),
            requires_model: false,
        }
    }

    /// Marks the tool read-only (so not destructive) and says whether it is idempotent.
    pub fn read_only(mut self, idempotent: bool) -> Tool {
        self.read_only = Some(true);
        self.destructive = Some(false);
        self.idempotent = Some(idempotent);
        self
    }

    /// Says whether the tool reaches beyond the local machine (a model call does).
    pub fn open_world(mut self, yes: bool) -> Tool {
        self.open_world = Some(yes);
        self
    }

    /// `fast`, `balanced` or `extended`: picks the model when the client asks for `auto`.
    pub fn category(mut self, c: &str) -> Tool {
        self.category = c.to_string();
        self
    }

    /// The tool calls a model: the host describes its `model` argument.
    pub fn requires_model(mut self) -> Tool {
        self.requires_model = true;
        self
    }

    fn to_json(&self) -> String {
        let mut a = Obj::new();
        for (k, v) in [("readOnlyHint", self.read_only), ("destructiveHint", self.destructive), ("idempotentHint", self.idempotent), ("openWorldHint", self.open_world)] {
            if let Some(v) = v {
                a = a.bool(k, v);
            }
        }
        let mut o = Obj::new()
            .str("name", &self.name)
            .str("title", &self.title)
            .str("description", &self.description)
            .raw("inputSchema", &self.input_schema)
            .raw("annotations", &a.finish())
            .strs("capabilities", &self.capabilities);
        if !self.category.is_empty() {
            o = o.str("category", &self.category);
        }
        if self.requires_model {
            o = o.bool("requiresModel", true);
        }
        o.finish()
    }
}

/// A module: its name and version and the tools it serves. `export!` publishes one.
#[derive(Clone)]
pub struct Module {
    pub name: String,
    pub version: String,
    pub tools: Vec<Tool>,
}

impl Module {
    pub fn new(name: &str, version: &str) -> Module {
        Module { name: name.to_string(), version: version.to_string(), tools: Vec::new() }
    }

    /// Adds a tool.
    pub fn tool(mut self, t: Tool) -> Module {
        self.tools.push(t);
        self
    }

    /// The manifest `describe` returns, as JSON text.
    pub fn manifest_json(&self) -> String {
        let tools: Vec<String> = self.tools.iter().map(Tool::to_json).collect();
        Obj::new()
            .num("abi", ABI as f64)
            .str("name", &self.name)
            .str("version", &self.version)
            .raw("tools", &format!("[{}]", tools.join(",")))
            .finish()
    }

    /// Checks what the host checks when it loads the module (tool names, duplicates, schemas,
    /// capabilities, categories), so a test finds a refused manifest before pal does.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("the module has no name".to_string());
        }
        let mut seen: Vec<&str> = Vec::new();
        for t in &self.tools {
            let n = t.name.as_bytes();
            let good = !n.is_empty() && n.len() <= 64 && n[0].is_ascii_lowercase() && n.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
            if !good {
                return Err(format!("tool name {} must be 1-64 characters of [a-z0-9_] starting with a letter", json::quote(&t.name)));
            }
            if seen.contains(&t.name.as_str()) {
                return Err(format!("tool {} declared twice", json::quote(&t.name)));
            }
            seen.push(&t.name);
            match json::parse(&t.input_schema) {
                Ok(s) if s.get("type").str() == "object" => {}
                _ => return Err(format!("tool {}: inputSchema must be a JSON object schema with \"type\":\"object\"", json::quote(&t.name))),
            }
            for c in &t.capabilities {
                if !CAPABILITIES.contains(&c.as_str()) {
                    return Err(format!("tool {}: unknown capability {}", json::quote(&t.name), json::quote(c)));
                }
            }
            if !matches!(t.category.as_str(), "" | "fast" | "balanced" | "extended") {
                return Err(format!("tool {}: unknown category {}", json::quote(&t.name), json::quote(&t.category)));
            }
        }
        Ok(())
    }
}

/// Publishes a module: defines the ABI exports `alloc`, `free`, `describe` and `handle` (on
/// wasm32 only) from a function that returns the [`Module`]. Use it once, in the crate root.
#[macro_export]
macro_rules! export {
    ($module:path) => {
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn alloc(size: u32) -> u32 {
            $crate::abi::alloc(size)
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub unsafe extern "C" fn free(ptr: u32) {
            $crate::abi::free(ptr)
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn describe() -> u64 {
            $crate::abi::describe(&$module())
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub unsafe extern "C" fn handle(ptr: u32, len: u32) -> u64 {
            $crate::abi::handle(&$module(), ptr, len)
        }
    };
}

/// Publishes a module that reads and writes the ABI's messages itself: defines the same four
/// exports as [`export!`] (on wasm32 only), where `describe` returns the text `$manifest()`
/// gives and `handle` passes the handle request message (`{"abi":1,"tool":…,"arguments":…}`,
/// its bytes as the host sent them) to `$handle` and returns the bytes it gives, which must be
/// a CallToolResult. For a tool that must decode its request exactly as another kit does (the
/// raw argument text, invalid UTF-8, numbers as written) or shape its own result; most tools
/// want [`export!`].
#[macro_export]
macro_rules! export_raw {
    ($manifest:path, $handle:path) => {
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn alloc(size: u32) -> u32 {
            $crate::abi::alloc(size)
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub unsafe extern "C" fn free(ptr: u32) {
            $crate::abi::free(ptr)
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn describe() -> u64 {
            $crate::abi::describe_text($manifest())
        }
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub unsafe extern "C" fn handle(ptr: u32, len: u32) -> u64 {
            $crate::abi::handle_raw($handle, ptr, len)
        }
    };
}

// ---------------------------------------------------------------------------------------
// Calls and results.

/// One tool call: which tool, its id, and the client's arguments (checked against the
/// schema by the host; an object, or `Null` when the client sent none).
pub struct Call {
    pub tool: String,
    pub call_id: String,
    pub args: Value,
}

/// A tool's result: an MCP CallToolResult with one text item.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub text: String,
    pub is_error: bool,
    /// JSON text for `structuredContent` (an object); `None` leaves it out.
    pub structured: Option<String>,
}

impl Output {
    /// Adds `structuredContent`: JSON text of an object, e.g. from [`json::Obj`].
    pub fn with_structured(mut self, json: String) -> Output {
        self.structured = Some(json);
        self
    }

    /// The CallToolResult as JSON text.
    pub fn to_json(&self) -> String {
        let item = Obj::new().str("type", "text").str("text", &self.text).finish();
        let mut o = Obj::new().raw("content", &format!("[{item}]")).bool("isError", self.is_error);
        if let Some(s) = &self.structured {
            o = o.raw("structuredContent", s);
        }
        o.finish()
    }
}

/// A successful text result.
pub fn text<S: Into<String>>(s: S) -> Output {
    Output { text: s.into(), is_error: false, structured: None }
}

/// An error result: the client sees isError with this text.
pub fn error_result<S: Into<String>>(s: S) -> Output {
    Output { text: s.into(), is_error: true, structured: None }
}

/// What a handler returns instead of a result: the client gets isError with its text.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolError(pub String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<HostError> for ToolError {
    fn from(e: HostError) -> Self {
        ToolError(e.to_string())
    }
}

impl From<String> for ToolError {
    fn from(s: String) -> Self {
        ToolError(s)
    }
}

impl From<&str> for ToolError {
    fn from(s: &str) -> Self {
        ToolError(s.to_string())
    }
}

/// A refusal or failure from the host. `code` is one of `ERR_*`, `message` the host's text;
/// it prints as `code: message`.
#[derive(Clone, Debug, PartialEq)]
pub struct HostError {
    pub code: String,
    pub message: String,
}

impl HostError {
    fn new(code: &str, message: &str) -> HostError {
        HostError { code: code.to_string(), message: message.to_string() }
    }

    /// Whether the policy refused the op's target, a path or an argument (`denied`).
    pub fn is_denied(&self) -> bool {
        self.code == ERR_DENIED
    }

    /// Whether the op's capability is not in this call's grant (`not_granted`).
    pub fn is_not_granted(&self) -> bool {
        self.code == ERR_NOT_GRANTED
    }

    /// Whether `fs.read` was given a directory.
    pub fn is_directory(&self) -> bool {
        self.code == ERR_INVALID && self.message.contains("is a directory")
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for HostError {}

// ---------------------------------------------------------------------------------------
// Host calls.

/// A successful reply: the op's `result` object and its body (empty when it has none).
#[derive(Clone, Debug)]
pub struct Reply {
    pub result: Value,
    pub body: Vec<u8>,
}

/// Performs one op: `header` is the request's JSON object text (with `"op"`), `body` its
/// optional binary body (a prompt, for `model.generate`). Every op of ABI 1 is reachable
/// through it; the functions below wrap the common ones.
pub fn call(header: &str, body: Option<&[u8]>) -> Result<Reply, HostError> {
    let mut msg = Vec::with_capacity(header.len() + body.map_or(0, |b| b.len() + 1));
    msg.extend_from_slice(header.as_bytes());
    if let Some(b) = body {
        msg.push(0);
        msg.extend_from_slice(b);
    }
    let reply = abi::host_call(&msg).ok_or_else(|| HostError::new(ERR_INTERNAL, "the host could not place its reply (alloc failed)"))?;
    let (head, body) = abi::split(&reply);
    let v = std::str::from_utf8(head)
        .ok()
        .and_then(|s| json::parse(s).ok())
        .ok_or_else(|| HostError::new(ERR_INTERNAL, "the host's reply is not JSON"))?;
    if v.has("error") {
        let e = v.get("error");
        let code = e.get("code").as_str().unwrap_or(ERR_INTERNAL);
        return Err(HostError::new(code, e.get("message").str()));
    }
    let result = v.get("result").clone();
    Ok(Reply { result, body: body.map(<[u8]>::to_vec).unwrap_or_default() })
}

/// Log levels of `pal.log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// Writes a line to the server's log (stderr), never to the client. Cut at 4 KiB by the host.
pub fn log(level: Level, msg: &str) {
    abi::host_log(level as i32, msg.as_bytes());
}

/// Sends a progress notification (capability `progress`); `total` 0 and `message` "" are
/// left out.
pub fn progress(done: f64, total: f64, message: &str) -> Result<(), HostError> {
    let mut o = Obj::new().str("op", "progress").num("progress", done);
    if total > 0.0 {
        o = o.num("total", total);
    }
    if !message.is_empty() {
        o = o.str("message", message);
    }
    call(&o.finish(), None).map(|_| ())
}

/// What the host says about itself (capability `host.info`): name, version, models, limits.
pub fn host_info() -> Result<Value, HostError> {
    call(r#"{"op":"host.info"}"#, None).map(|r| r.result)
}

/// Files, through the host: `fs.read` and `fs.list`.
pub mod fs {
    use super::{call, HostError};
    use crate::json::Obj;

    /// A file read through `fs.read`.
    #[derive(Clone, Debug, Default)]
    pub struct File {
        pub path: String,
        /// The file's size on disk, in bytes.
        pub size: u64,
        /// RFC 3339 modification time.
        pub modified: String,
        /// Whether `data` stops at `max_bytes` before the file's end.
        pub truncated: bool,
        /// How many secrets the host replaced by `[REDACTED:…]` markers.
        pub redacted: u64,
        /// The bytes read, secrets redacted.
        pub data: Vec<u8>,
    }

    impl File {
        /// `data` as text (invalid UTF-8 replaced by U+FFFD).
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.data).into_owned()
        }
    }

    /// Reads an absolute path (capability `fs.read`); `max_bytes` 0 means the policy's cap.
    pub fn read(path: &str, max_bytes: u64) -> Result<File, HostError> {
        let mut o = Obj::new().str("op", "fs.read").str("path", path);
        if max_bytes > 0 {
            o = o.num("max_bytes", max_bytes as f64);
        }
        let r = call(&o.finish(), None)?;
        Ok(File {
            path: r.result.get("path").str().to_string(),
            size: r.result.get("size").num() as u64,
            modified: r.result.get("modified").str().to_string(),
            truncated: r.result.get("truncated").bool(),
            redacted: r.result.get("redacted").num() as u64,
            data: r.body,
        })
    }

    /// One entry of a listing. `kind` is `file`, `dir` or `symlink`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Entry {
        pub path: String,
        pub kind: String,
        pub size: u64,
    }

    /// A directory listing from `fs.list`.
    #[derive(Clone, Debug, Default)]
    pub struct Listing {
        pub path: String,
        pub entries: Vec<Entry>,
        pub truncated: bool,
    }

    /// Lists an absolute directory, recursively (capability `fs.list`); 0 means the policy's
    /// default depth (8) or entry count (2,000).
    pub fn list(path: &str, max_depth: u32, max_entries: u32) -> Result<Listing, HostError> {
        let mut o = Obj::new().str("op", "fs.list").str("path", path);
        if max_depth > 0 {
            o = o.num("max_depth", max_depth as f64);
        }
        if max_entries > 0 {
            o = o.num("max_entries", max_entries as f64);
        }
        let r = call(&o.finish(), None)?;
        let entries = r
            .result
            .get("entries")
            .items()
            .iter()
            .map(|e| Entry { path: e.get("path").str().to_string(), kind: e.get("kind").str().to_string(), size: e.get("size").num() as u64 })
            .collect();
        Ok(Listing { path: r.result.get("path").str().to_string(), entries, truncated: r.result.get("truncated").bool() })
    }
}

/// Models, through the host: `model.generate`.
pub mod model {
    use super::{call, HostError};
    use crate::json::Obj;

    /// Options of `model.generate`; every field may stay at its default.
    #[derive(Clone, Debug, Default)]
    pub struct GenerateOptions {
        /// A model name or alias; "" or `auto` lets the host pick for `category`.
        pub model: String,
        /// `fast`, `balanced`, `extended`; "" means the tool's own.
        pub category: String,
        pub system: String,
        /// `None` leaves it to the model's default.
        pub temperature: Option<f64>,
        /// `minimal`, `low`, `medium`, `high`, `max`, or "".
        pub thinking_mode: String,
    }

    /// A model's answer.
    #[derive(Clone, Debug, Default)]
    pub struct Generation {
        pub content: String,
        pub model: String,
        pub provider: String,
        pub finish_reason: String,
    }

    /// Asks a model (capability `model.generate`); the host holds the key, picks or checks
    /// the model and redacts the prompt. The prompt travels as the message body.
    pub fn generate(prompt: &str, opts: &GenerateOptions) -> Result<Generation, HostError> {
        let mut o = Obj::new().str("op", "model.generate");
        for (k, v) in [("model", &opts.model), ("category", &opts.category), ("system", &opts.system), ("thinking_mode", &opts.thinking_mode)] {
            if !v.is_empty() {
                o = o.str(k, v);
            }
        }
        if let Some(t) = opts.temperature {
            o = o.num("temperature", t);
        }
        let r = call(&o.finish(), Some(prompt.as_bytes()))?;
        Ok(Generation {
            content: r.result.get("content").str().to_string(),
            model: r.result.get("model").str().to_string(),
            provider: r.result.get("provider").str().to_string(),
            finish_reason: r.result.get("finish_reason").str().to_string(),
        })
    }
}
