//! The `chat` tool: a port of the Go chat (tools-wasm/builtin/chat.go, chat_reply.go) that
//! behaves identically, byte for byte: the same host requests in the same order, the same
//! prompts, progress notifications, log lines and results. Every refusal is an isError reply
//! sent before any model call.

use crate::args::{self, ChatArgs};
use crate::embed;
use crate::gofmt::{base64_decoded_len, fmt_g, lower_ascii, mib_1f, path_ext, quote};
use crate::gojson::Obj;
use crate::history::{self, Allocation, FileSource};
use crate::host::{self, Error, Generation, Level, Model, ServerInfo, Thread, Turn};
use crate::time::Stamp;
use std::collections::{BTreeMap, BTreeSet};

/// chat's input schema, the Go chat's text.
pub const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "prompt": {
      "type": "string",
      "description": "Your question and its context: goal, what you tried, what you want back."
    },
    "absolute_file_paths": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Absolute file or directory paths to share; a prompt.txt replaces the prompt."
    },
    "images": {
      "type": "array",
      "items": {"type": "string"},
      "description": "Up to 5 image paths or data URLs."
    },
    "model": {
      "type": "string",
      "description": "The model to consult. Leave it out, or pass 'auto', to let the server choose."
    },
    "temperature": {
      "type": "number",
      "minimum": 0,
      "maximum": 1,
      "description": "0 deterministic, 1 creative (default)."
    },
    "thinking_mode": {
      "type": "string",
      "enum": ["minimal", "low", "medium", "high", "max"],
      "description": "Reasoning depth; default medium."
    },
    "continuation_id": {
      "type": "string",
      "description": "Any tool's continuation_id, to continue."
    },
    "working_directory_absolute_path": {
      "type": "string",
      "description": "Unsupported; a value is refused."
    }
  },
  "required": ["prompt"],
  "additionalProperties": false
}"#;

/// The tool's description, the Go chat's text.
pub const DESCRIPTION: &str = "Ask another AI model for ideas or a second opinion; share files with absolute_file_paths. Its reply is a view to weigh; chat never writes files.";

// Defaults that apply when host.info is not available, and PAL's fixed limits.
const DEFAULT_PROMPT_CHARS: i64 = 60_000;
const DEFAULT_MAX_TURNS: i64 = 50;
const DEFAULT_MAX_FILE_BYTES: i64 = 1_000_000;
const DEFAULT_TEMPERATURE: f64 = 1.0;
const DEFAULT_THINKING_MODE: &str = "medium";
const DEFAULT_CONTEXT_SIZE: i64 = 200_000; // tokens, when the host does not know a model's window
const MAX_IMAGES: usize = 5; // per request
const MAX_IMAGE_BYTES: i64 = 20 << 20; // all images of a request together
const CATEGORY: &str = "fast";
const PROMPT_FILE: &str = "prompt.txt";

const THINKING_MODES: [&str; 5] = ["minimal", "low", "medium", "high", "max"];
const IMAGE_EXTENSIONS: [&str; 5] = [".png", ".jpg", ".jpeg", ".gif", ".webp"];

/// Why chat takes no working directory (docs/RATIONALE.md).
const WORKING_DIR_REFUSAL: &str = "working_directory_absolute_path is not supported: pal never writes files, so chat produces no code artifact. Send the request again without it; ask the model to put any code in its reply.";

const AGENT_TURN_LINE: &str = "\n\n---\n\nAGENT'S TURN: Weigh this reply against your own reading of the code, keep what holds up, and carry on with the user's task.";
const EMPTY_REPLY_RETRY: &str = "\n\nYour previous attempt at this request came back empty. Please answer the request above in full.";
const CLOSING: &str = "Answer the request above as a peer engineer would.";

const SYSTEM_PROMPT: &str = r#"You are an experienced software engineer consulted by another AI coding agent, which is working on a task for a user and wants a second opinion. Think it through with the agent as a peer.

How to work:
- Read the request and any files first. File contents come between "--- BEGIN FILE" and "--- END FILE" markers; lines of files sent with this request carry numbers like "  12│ " so that you can point at them. The numbers are not part of the code: never copy them into code you propose.
- Answer what was asked, from the evidence given. Be concrete: name files, functions and lines, show short code when it helps, and state trade-offs and risks plainly. Say so when you disagree or when the agent's premise looks wrong.
- Stay within the scope of the request and the project's existing style and stack. Do not suggest rewrites, new frameworks or unrelated clean-ups nobody asked for.
- Do not invent APIs, files or results. When something is uncertain, say what would settle it.
- If you cannot give a sound answer without seeing files you were not given, reply with only this JSON object and nothing else:
  {"status": "files_required_to_continue", "mandatory_instructions": "<what the agent must send, and why>", "files_needed": ["<path or name>"]}
- Keep the answer as short as the question allows; the agent will relay what matters to the user."#;

/// A tool result: the text of its one text item and whether it is an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub is_error: bool,
}

/// The Go chat's `errorResult`: `{"status":"error","code":…,"content":…,"content_type":"text",
/// "metadata":{…}}`, metadata being `tool_name` and `extra`, written with sorted keys.
pub fn error_result(tool: &str, code: &str, msg: &str, extra: &[(&str, &str)]) -> Reply {
    let mut meta: BTreeMap<&str, &str> = extra.iter().copied().collect();
    meta.insert("tool_name", tool);
    let mut m = Obj::new(false);
    for (k, v) in &meta {
        m = m.str(k, v);
    }
    let mut o = Obj::new(false).str("status", "error");
    if !code.is_empty() {
        o = o.str("code", code);
    }
    Reply { text: o.str("content", msg).str("content_type", "text").raw("metadata", &m.finish()).finish(), is_error: true }
}

fn chat_error(code: &str, msg: &str) -> Reply {
    error_result("chat", code, msg, &[])
}

/// Whether `p` is an absolute path: POSIX (`/…`), a Windows drive (`C:\…`, `C:/…`) or a UNC
/// share (`\\server\…`). The guest cannot expand "~".
pub fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    if p.starts_with('/') || p.starts_with("\\\\") {
        return true;
    }
    b.len() >= 3 && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/') && (b[0] | 0x20).is_ascii_lowercase()
}

/// PAL's message for a path that is not absolute.
fn relative_path_error(p: &str) -> String {
    format!("Relative paths are not supported. Please provide an absolute path.\nReceived: {p}")
}

/// The image formats a data URL may carry, by the name in its media type.
const DATA_URL_TYPES: [&str; 5] = ["png", "jpeg", "jpg", "gif", "webp"];

/// Checks one image reference: a data URL of an accepted type with base64 data, or an
/// absolute path with an accepted extension. Returns a data URL's decoded size (0 for a path).
fn check_image(img: &str) -> Result<i64, String> {
    if let Some(rest) = img.strip_prefix("data:") {
        let data = DATA_URL_TYPES.iter().find_map(|t| rest.strip_prefix("image/").and_then(|r| r.strip_prefix(t)).and_then(|r| r.strip_prefix(";base64,")));
        let data = data.ok_or_else(|| "image data URLs must be data:image/<png|jpeg|gif|webp>;base64,<data>".to_string())?;
        return match base64_decoded_len(data) {
            Some(n) if n > 0 => Ok(n as i64),
            _ => Err("an image data URL does not hold valid base64 data".to_string()),
        };
    }
    if !is_absolute(img) {
        return Err(relative_path_error(img));
    }
    let ext = lower_ascii(path_ext(&img.replace('\\', "/")));
    if !ext.map_or(false, |e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
        return Err(format!("{img} is not a supported image (use .png, .jpg, .jpeg, .gif or .webp)"));
    }
    Ok(0)
}

/// The last element of a POSIX or Windows path.
fn base_name(p: &str) -> &str {
    match p.rfind(|c| c == '/' || c == '\\') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Takes the prompt.txt files out of a path list (`promptlimit.Split`): the others in order,
/// then the prompt files.
fn split_prompt_files(paths: &[String]) -> (Vec<String>, Vec<String>) {
    paths.iter().cloned().partition(|p| base_name(p) != PROMPT_FILE)
}

/// Checks the arguments that need no host (`chatArgs.validate`).
fn validate(a: &ChatArgs) -> Result<(), String> {
    if a.prompt.is_none() {
        return Err("prompt is required".to_string());
    }
    if !a.working_directory.trim().is_empty() {
        return Err(WORKING_DIR_REFUSAL.to_string());
    }
    if let Some(t) = a.temperature {
        if t.is_nan() || !(0.0..=1.0).contains(&t) {
            return Err(format!("temperature must be between 0 and 1, not {}", fmt_g(t)));
        }
    }
    if !a.thinking_mode.is_empty() && !THINKING_MODES.contains(&a.thinking_mode.as_str()) {
        return Err(format!("thinking_mode must be one of minimal, low, medium, high, max, not {}", quote(&a.thinking_mode)));
    }
    if let Some(files) = &a.files {
        if let Some(p) = files.items().iter().find(|p| !is_absolute(p)) {
            return Err(relative_path_error(p));
        }
    }
    let images = a.images.items();
    if images.len() > MAX_IMAGES {
        return Err(format!("too many images: {} given, at most {MAX_IMAGES} are accepted per request", images.len()));
    }
    for img in images {
        check_image(img)?;
    }
    Ok(())
}

/// Runs one chat call on its raw arguments (a JSON object).
pub fn handle(raw: &[u8]) -> Reply {
    let args = match args::decode(raw) {
        Ok(a) => a,
        Err(e) => return chat_error("invalid_arguments", &e),
    };
    if let Err(e) = validate(&args) {
        return chat_error("invalid_arguments", &e);
    }
    let info = load_host_info();
    if let Some(r) = check_prompt_size(args.prompt.as_deref().unwrap_or(""), info.limits.prompt_chars) {
        return r;
    }
    let mut c = ChatCall {
        args,
        info,
        thread: None,
        model: Model::default(),
        model_arg: String::new(),
        cache: Cache::default(),
        requested: Vec::new(),
        files: Vec::new(),
        skipped: Vec::new(),
        too_large: Vec::new(),
        list_cut: Vec::new(),
    };
    match c.run() {
        Ok(r) | Err(r) => r,
    }
}

/// Asks the host for its limits; without host.info the defaults apply.
fn load_host_info() -> ServerInfo {
    let mut info = match host::host_info() {
        Ok(i) => i,
        Err(e) => {
            host::log(Level::Warn, &format!("host.info unavailable, using default limits: {e}"));
            ServerInfo::default()
        }
    };
    let l = &mut info.limits;
    if l.prompt_chars <= 0 {
        l.prompt_chars = DEFAULT_PROMPT_CHARS;
    }
    if l.max_turns <= 0 {
        l.max_turns = DEFAULT_MAX_TURNS;
    }
    if l.max_file_bytes <= 0 {
        l.max_file_bytes = DEFAULT_MAX_FILE_BYTES;
    }
    info
}

/// PAL's prompt-size rule for chat (`promptlimit.Rule{Field: "prompt", PromptFiles:
/// "absolute_file_paths"}.Check`): over the limit, the resend_prompt reply, in the error shape.
fn check_prompt_size(prompt: &str, limit: i64) -> Option<Reply> {
    let limit = if limit <= 0 { DEFAULT_PROMPT_CHARS } else { limit };
    let n = prompt.chars().count() as i64;
    if n <= limit {
        return None;
    }
    let msg = format!(
        "ACTION REQUIRED: prompt is longer than the {limit} characters a tool argument may carry. Write the full text to a file named '{PROMPT_FILE}', then call this tool again with the absolute path of that file in absolute_file_paths and prompt empty or a one-line summary. The contents of {PROMPT_FILE} replace prompt."
    );
    let meta = Obj::new(false).str("field", "prompt").str("instructions", &msg).int("limit", limit).int("prompt_size", n).str("tool_name", "chat").finish();
    let text = Obj::new(false)
        .str("status", "resend_prompt")
        .str("code", "prompt_too_long")
        .str("content", &msg)
        .str("content_type", "text")
        .raw("metadata", &meta)
        .raw("continuation_offer", "null")
        .finish();
    Some(Reply { text, is_error: true })
}

/// The reply when the host refuses a path: the whole call fails, naming the path, before any
/// model call.
fn refused(p: &str, e: &Error) -> Reply {
    chat_error(e.failure_code(), &format!("Cannot use {p}: {}. Nothing was sent to the model; remove or fix this path and try again.", refusal_reason(e)))
}

/// Why the host refused a path.
fn refusal_reason(e: &Error) -> String {
    match e {
        Error::Host { code, message } => {
            let mut why = match code.as_str() {
                "denied" => "access denied by the server's file policy",
                "not_granted" => "this tool is not granted file access in pal.toml",
                "not_found" => "no such file or directory",
                "too_large" => "the file is larger than the server's per-file limit",
                other => other,
            }
            .to_string();
            if !message.is_empty() {
                why.push_str(" (");
                why.push_str(message);
                why.push(')');
            }
            why
        }
        e => e.to_string(),
    }
}

/// A file read during the call.
struct FileData {
    text: String, // normalised
    size: i64,    // bytes on disk
    modified: Stamp,
    explicit: bool, // named by this call's own arguments (or found in a directory they named)
}

/// Every file read in this call, by path, and the bytes of text they hold.
#[derive(Default)]
struct Cache {
    files: BTreeMap<String, FileData>,
    read: i64,
}

impl Cache {
    fn insert(&mut self, p: &str, f: host::File, explicit: bool) {
        let text = embed::normalize(&f.data);
        self.read = self.read.wrapping_add(text.len() as i64);
        self.files.insert(p.to_string(), FileData { text, size: f.size, modified: f.modified, explicit });
    }
}

impl FileSource for Cache {
    /// Files of this call from the cache, others probed with a one-byte read.
    fn size(&mut self, p: &str) -> Option<i64> {
        if let Some(f) = self.files.get(p) {
            return Some(f.size);
        }
        match host::read_file(p, 1) {
            Ok(f) => Some(f.size),
            Err(e) => {
                host::log(Level::Debug, &format!("chat: history file left out: {e}"));
                None
            }
        }
    }

    fn read(&mut self, p: &str) -> Option<(String, Stamp)> {
        if let Some(f) = self.files.get(p) {
            return Some((f.text.clone(), f.modified));
        }
        match host::read_file(p, 0) {
            Ok(f) => {
                self.insert(p, f, false);
                self.files.get(p).map(|f| (f.text.clone(), f.modified))
            }
            Err(e) => {
                host::log(Level::Debug, &format!("chat: history file left out: {e}"));
                None
            }
        }
    }
}

/// One chat call's state.
struct ChatCall {
    args: ChatArgs,
    info: ServerInfo,
    thread: Option<Thread>,
    model: Model,
    model_arg: String, // the name resolved, sent again to model.generate
    cache: Cache,
    requested: Vec<String>, // the paths to share, prompt.txt left out
    files: Vec<String>,     // requested files, in order, read (in cache)
    skipped: Vec<String>,   // requested files not read: over the read ceiling
    too_large: Vec<String>, // files in requested directories over the per-file cap
    list_cut: Vec<String>,  // directories whose listing the host truncated
}

/// Reports a stage of three; a host that does not take progress is not an error.
fn progress(stage: f64, msg: &str) {
    if let Err(e) = host::progress(stage, 3.0, msg) {
        host::log(Level::Debug, &format!("chat: progress not sent: {e}"));
    }
}

impl ChatCall {
    fn run(&mut self) -> Result<Reply, Reply> {
        self.load_thread()?;
        let (explicit, carried) = self.requested_files();
        let (explicit, prompt_files) = split_prompt_files(&explicit);
        let (carried, _) = split_prompt_files(&carried);
        self.requested = explicit.iter().chain(carried.iter()).cloned().collect();

        self.resolve_model()?;
        self.check_images_on_host()?;
        let mut prompt = self.args.prompt.clone().unwrap_or_default();
        for p in &prompt_files {
            match host::read_file(p, 0) {
                Ok(f) => {
                    let text = embed::normalize(&f.data);
                    if !text.trim().is_empty() {
                        prompt = text;
                    }
                }
                Err(e) => return Err(refused(p, &e)),
            }
        }
        if prompt.trim().is_empty() {
            return Err(chat_error("invalid_arguments", "prompt is empty: say what you want to discuss, or pass a prompt.txt file in absolute_file_paths"));
        }

        let alloc = history::allocate(self.context_window());
        let ceiling = alloc.content.max(1000).wrapping_mul(4); // bytes: more could never be embedded
        self.read_files(&explicit, true, ceiling)?;
        self.read_files(&carried, false, ceiling)?;
        progress(1.0, &format!("read {} file(s)", self.files.len()));

        let (full, user_files) = self.build_prompt(&prompt, &alloc);
        progress(2.0, &format!("asking {}", self.model.model));
        let reply = self.generate(full)?;
        let out = self.record(prompt, user_files, reply);
        progress(3.0, "done");
        Ok(out)
    }

    /// Reads the thread of continuation_id, if any, and checks that it has room for one more
    /// exchange (two turns).
    fn load_thread(&mut self) -> Result<(), Reply> {
        let id = self.args.continuation_id.clone();
        if id.is_empty() {
            return Ok(());
        }
        let mut th = match host::thread_read(&id) {
            Ok(th) => th,
            Err(e) if e.code() == Some("not_found") => {
                return Err(error_result(
                    "chat",
                    "not_found",
                    &format!("Conversation thread '{id}' was not found or has expired. Start a new conversation: send the full request again without continuation_id."),
                    &[],
                ))
            }
            Err(e) => return Err(error_result("chat", e.failure_code(), &format!("Cannot read conversation thread '{id}': {}", e.host_message()), &[])),
        };
        if th.max_turns <= 0 {
            th.max_turns = self.info.limits.max_turns;
        }
        let n = th.turns.len() as i64;
        if n + 2 > th.max_turns {
            return Err(error_result(
                "chat",
                "too_large",
                &format!(
                    "Conversation thread '{id}' has used {n} of its {} turns and cannot take another exchange. Start a new conversation without continuation_id, summarising what matters from this one.",
                    th.max_turns
                ),
                &[],
            ));
        }
        self.thread = Some(th);
        Ok(())
    }

    /// This call's paths and, when the call names none and continues a conversation, the
    /// absolute paths the conversation started with.
    fn requested_files(&self) -> (Vec<String>, Vec<String>) {
        if let Some(files) = &self.args.files {
            return (files.items().to_vec(), Vec::new());
        }
        let carried = match &self.thread {
            Some(th) => th.initial_files.iter().filter_map(|v| v.as_str()).filter(|p| is_absolute(p)).map(str::to_string).collect(),
            None => Vec::new(),
        };
        (Vec::new(), carried)
    }

    /// Picks the model: the one asked for; else, on a continuation, the model that answered
    /// last; else the server's default. An implicit choice no longer available falls back
    /// to the default.
    fn resolve_model(&mut self) -> Result<(), Reply> {
        let fallback = if self.info.default_model.is_empty() { "auto".to_string() } else { self.info.default_model.clone() };
        let implicit = self.args.model.is_empty();
        let mut name = self.args.model.clone();
        if let (true, Some(th)) = (implicit, &self.thread) {
            if let Some(t) = th.turns.iter().rev().find(|t| t.role == "assistant" && !t.model.is_empty()) {
                name = t.model.clone();
            }
        }
        if name.is_empty() {
            name = fallback.clone();
        }
        let mut m = host::resolve_model(&name, CATEGORY);
        if m.is_err() && implicit && name != fallback {
            host::log(Level::Info, &format!("chat: model {name} of the conversation is not available, using {fallback}"));
            name = fallback;
            m = host::resolve_model(&name, CATEGORY);
        }
        match m {
            Ok(m) => {
                self.model = m;
                self.model_arg = name;
                Ok(())
            }
            Err(e) => Err(error_result("chat", "unavailable", &format!("Model '{name}' cannot be used: {}", e.host_message()), &[("requested_model", &name)])),
        }
    }

    fn context_window(&self) -> i64 {
        if self.model.context_window > 0 {
            self.model.context_window
        } else {
            DEFAULT_CONTEXT_SIZE
        }
    }

    /// Checks that the model takes images and that every image path is readable under the
    /// host's policy, and bounds the images' total size.
    fn check_images_on_host(&mut self) -> Result<(), Reply> {
        let images = self.args.images.items();
        if images.is_empty() {
            return Ok(());
        }
        if !self.model.supports_images {
            return Err(chat_error(
                "invalid_arguments",
                &format!("Model '{}' does not accept images. Choose a model that does (see listmodels), or send the request without images.", self.model.model),
            ));
        }
        let mut total: i64 = 0;
        for img in images {
            total = total.wrapping_add(check_image(img).unwrap_or(0));
            if img.starts_with("data:") {
                continue;
            }
            match host::read_file(img, 1) {
                Ok(f) => total = total.wrapping_add(f.size),
                Err(e) => return Err(refused(img, &e)),
            }
        }
        if total > MAX_IMAGE_BYTES {
            return Err(chat_error("too_large", &format!("The images add up to {} MB; at most {} MB are accepted per request.", mib_1f(total), MAX_IMAGE_BYTES >> 20)));
        }
        Ok(())
    }

    /// Reads paths in order, expanding directories to their source files. A path the host
    /// refuses fails the call. Past `ceiling` bytes, further files are only checked (a
    /// one-byte read) and listed as skipped.
    fn read_files(&mut self, paths: &[String], explicit: bool, ceiling: i64) -> Result<(), Reply> {
        for p in paths {
            if self.cache.files.contains_key(p) {
                continue;
            }
            if self.cache.read >= ceiling {
                if let Err(e) = host::read_file(p, 1) {
                    if !e.is_directory() {
                        return Err(refused(p, &e));
                    }
                }
                self.skipped.push(p.clone());
                continue;
            }
            match host::read_file(p, 0) {
                Ok(f) => self.add(p, f, explicit),
                Err(e) if e.is_directory() => self.read_dir(p, explicit, ceiling)?,
                Err(e) => return Err(refused(p, &e)),
            }
        }
        Ok(())
    }

    /// Reads the source files the host lists under `dir`.
    fn read_dir(&mut self, dir: &str, explicit: bool, ceiling: i64) -> Result<(), Reply> {
        let list = host::list_dir(dir).map_err(|e| refused(dir, &e))?;
        if list.truncated {
            self.list_cut.push(dir.to_string());
        }
        for e in &list.entries {
            if e.kind != "file" || !embed::is_code_file(&e.path) || self.cache.files.contains_key(&e.path) {
                continue;
            }
            if e.size > self.info.limits.max_file_bytes {
                self.too_large.push(e.path.clone());
                continue;
            }
            if self.cache.read.wrapping_add(e.size) > ceiling {
                self.skipped.push(e.path.clone());
                continue;
            }
            match host::read_file(&e.path, 0) {
                Ok(f) => self.add(&e.path, f, explicit),
                Err(err) => return Err(refused(&e.path, &err)),
            }
        }
        Ok(())
    }

    fn add(&mut self, p: &str, f: host::File, explicit: bool) {
        self.cache.insert(p, f, explicit);
        self.files.push(p.to_string());
    }

    /// What the model reads: the conversation history (once, on a continuation), the
    /// request, the new files within their budget with line numbers, and notes on files left
    /// out. Also the files of this call's own arguments that the model sees, for the user
    /// turn.
    fn build_prompt(&mut self, prompt: &str, alloc: &Allocation) -> (String, Vec<String>) {
        let mut sections: Vec<String> = Vec::new();
        let mut budget = (alloc.files - 1000).max(1000);
        let mut in_thread: BTreeSet<String> = BTreeSet::new();
        let (mut turns, mut max_turns) = (0i64, self.info.limits.max_turns);
        if let Some(th) = &self.thread {
            turns = th.turns.len() as i64;
            max_turns = th.max_turns;
            let h = history::build(th, max_turns, alloc, &mut self.cache);
            budget = ((alloc.content.wrapping_sub(h.tokens)).max(0) - 1000).max(1000);
            sections.push(h.text);
            in_thread = history::thread_files(th).into_iter().collect();
        }

        let (mut blocks, mut again, mut over, mut seen): (Vec<String>, Vec<String>, Vec<String>, Vec<String>) = Default::default();
        let mut used = 0i64;
        for p in &self.files {
            let f = match self.cache.files.get(p) {
                Some(f) => f,
                None => continue,
            };
            if in_thread.contains(p) {
                again.push(p.clone());
                if f.explicit {
                    seen.push(p.clone());
                }
                continue;
            }
            let block = embed::block(p, &f.modified, &embed::line_numbered(&f.text));
            let cost = embed::tokens(&block);
            if used + cost > budget {
                over.push(p.clone());
                continue;
            }
            used += cost;
            blocks.push(block);
            if f.explicit {
                seen.push(p.clone());
            }
        }
        over.extend(self.skipped.iter().cloned());

        let mut b = format!("=== USER REQUEST ===\n{prompt}\n");
        if !blocks.is_empty() {
            b.push_str("\n=== CONTEXT FILES ===\n");
            b.push_str(&blocks.join("\n\n"));
            b.push_str("\n=== END CONTEXT FILES ===\n");
        }
        let mut notes: Vec<String> = Vec::new();
        if self.files.is_empty() && over.is_empty() && self.too_large.is_empty() && !self.requested.is_empty() {
            notes.push(embed::no_files_note(&self.requested));
        }
        notes.push(embed::in_history_note(&again));
        notes.push(embed::skipped_note(&over));
        notes.push(list_note("--- SKIPPED FILES (OVER THE PER-FILE LIMIT) ---", &self.too_large));
        if !self.list_cut.is_empty() {
            notes.push(list_note("--- NOTE: only part of these directories was listed (entry or depth cap) ---", &self.list_cut));
        }
        for n in notes.iter().filter(|n| !n.is_empty()) {
            b.push('\n');
            b.push_str(n);
            b.push('\n');
        }
        b.push_str("\n=== END REQUEST ===\n\n");
        b.push_str(CLOSING);
        b.push_str("\n\n");
        b.push_str(&follow_up_instructions(max_turns.wrapping_sub(turns).wrapping_sub(2)));
        sections.push(b);
        (sections.join("\n\n"), seen)
    }

    /// Calls the model, once more when it returns an empty reply after finishing normally.
    fn generate(&self, prompt: String) -> Result<Generation, Reply> {
        let thinking = if self.model.supports_thinking {
            if self.args.thinking_mode.is_empty() {
                DEFAULT_THINKING_MODE.to_string()
            } else {
                self.args.thinking_mode.clone()
            }
        } else {
            String::new()
        };
        let mut req = host::GenerateRequest {
            model: self.model_arg.clone(),
            category: CATEGORY.to_string(),
            system: system_prompt(&self.info.limits.locale),
            prompt,
            temperature: Some(self.args.temperature.unwrap_or(DEFAULT_TEMPERATURE)),
            thinking_mode: thinking,
            images: self.args.images.items().to_vec(),
        };
        let mut resp = host::generate(&req);
        if matches!(&resp, Ok(r) if r.content.trim().is_empty() && finished_normally(&r.finish_reason)) {
            req.prompt.push_str(EMPTY_REPLY_RETRY);
            resp = host::generate(&req);
        }
        let meta = [("model_used", self.model.model.as_str()), ("provider_used", self.model.provider.as_str())];
        let mut resp = match resp {
            Ok(r) => r,
            Err(e) => return Err(error_result("chat", e.failure_code(), &format!("The call to model '{}' failed: {}", self.model.model, e.host_message()), &meta)),
        };
        if resp.content.trim().is_empty() {
            let fr = &resp.finish_reason;
            let msg = if blocked_by_safety(fr) {
                format!("The provider blocked the reply under its content safety policy (finish reason: {fr}). Rephrase the request or choose another model.")
            } else {
                format!("The model returned no usable reply (finish reason: {fr}). Try again or choose another model.")
            };
            return Err(error_result("chat", "provider_error", &msg, &meta));
        }
        if resp.model.is_empty() {
            resp.model = self.model.model.clone();
        }
        if resp.provider.is_empty() {
            resp.provider = self.model.provider.clone();
        }
        Ok(resp)
    }

    /// Stores the exchange in the conversation thread (a new one unless the call continues
    /// one) and builds the reply. A thread that cannot be written leaves the answer intact,
    /// without a continuation offer.
    fn record(&self, prompt: String, files: Vec<String>, reply: Generation) -> Reply {
        let user = Turn { role: "user".into(), content: prompt.clone(), files, images: self.args.images.items().to_vec(), tool: "chat".into(), ..Default::default() };
        let assistant = Turn { role: "assistant".into(), content: reply.content.clone(), tool: "chat".into(), model: reply.model.clone(), provider: reply.provider.clone(), ..Default::default() };
        let (id, remaining, recorded) = self.record_exchange(&prompt, &user, &assistant);
        let meta = Obj::new(false)
            .bool("conversation_ready", recorded)
            .str("model_used", &reply.model)
            .str("provider_used", &reply.provider)
            .str("tool_name", "chat")
            .finish();
        let (status, offer) = match offer("chat", &id, remaining, &self.info) {
            Some(o) if recorded => ("continuation_available", o),
            _ => ("success", "null".to_string()),
        };
        let text = Obj::new(false)
            .str("status", status)
            .str("content", &(reply.content + AGENT_TURN_LINE))
            .str("content_type", "text")
            .raw("metadata", &meta)
            .raw("continuation_offer", &offer)
            .finish();
        Reply { text, is_error: false }
    }

    /// Appends the turns to the call's thread, or to a new one started with the request's
    /// initial context. Returns the thread's id, the turns it may still take and whether the
    /// turns were stored (a failure is logged).
    fn record_exchange(&self, prompt: &str, user: &Turn, assistant: &Turn) -> (String, i64, bool) {
        let id = match &self.thread {
            Some(th) => th.id.clone(),
            None => match host::thread_create("chat", &self.initial_context(prompt)) {
                Ok(id) => id,
                Err(e) => {
                    host::log(Level::Warn, &format!("chat: conversation not recorded: {e}"));
                    return (String::new(), 0, false);
                }
            },
        };
        match host::thread_append(&id, &[user, assistant]) {
            Ok(remaining) => (id, remaining, true),
            Err(e) => {
                host::log(Level::Warn, &format!("chat: conversation turns not recorded: {e}"));
                (id, 0, false)
            }
        }
    }

    /// What a new thread keeps of the request that started it: everything but the model
    /// settings.
    fn initial_context(&self, prompt: &str) -> host::InitialContext {
        let files = match &self.args.files {
            Some(f) => split_prompt_files(f.items()).0,
            None => Vec::new(),
        };
        host::InitialContext { files, images: self.args.images.items().to_vec(), prompt: prompt.to_string() }
    }
}

/// A titled list of paths, or "" for none.
fn list_note(title: &str, paths: &[String]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    format!("{title}\n  - {}\n--- END ---", paths.join("\n  - "))
}

/// `strings.ToLower(s)` as far as a search for ASCII words can tell: non-ASCII characters
/// that do not lowercase to ASCII stay non-ASCII.
fn lower_for_search(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii() => c.to_ascii_lowercase(),
            '\u{130}' => 'i',
            '\u{212A}' => 'k',
            _ => '\u{80}',
        })
        .collect()
}

fn finished_normally(reason: &str) -> bool {
    matches!(lower_for_search(reason).as_str(), "" | "stop" | "end_turn" | "stop_sequence")
}

fn blocked_by_safety(reason: &str) -> bool {
    let r = lower_for_search(reason);
    ["safety", "content_filter", "blocked", "prohibited", "recitation", "spii"].iter().any(|w| r.contains(w))
}

/// The system prompt of chat; a locale asks for replies in its language.
fn system_prompt(locale: &str) -> String {
    let locale = locale.trim();
    if locale.is_empty() {
        return SYSTEM_PROMPT.to_string();
    }
    format!("LOCALE: write every reply in the language and conventions of locale {}.\n\n{SYSTEM_PROMPT}", quote(locale))
}

/// Tells the model whether the conversation can go on; `remaining` is the turns the thread
/// will still accept after this exchange.
fn follow_up_instructions(remaining: i64) -> String {
    if remaining < 2 {
        return "FINAL EXCHANGE: this conversation cannot continue after your reply. Give a complete, self-contained answer and do not ask the agent any questions.".to_string();
    }
    format!("CONVERSATION CONTINUATION: the agent can answer you in this same conversation ({remaining} turns left). If a clarification, a file or a test result would materially improve your answer, ask for it at the end and tell the agent to reply through this conversation with its continuation_id. If nothing is missing, give your full answer and ask nothing.")
}

/// PAL's continuation_offer for a reply on thread `id` with `remaining` turns left, as JSON,
/// or `None` when the thread cannot take another exchange (`pal.Offer`). The note names the
/// tools that take continuation_id, or `tool` when the host does not say.
fn offer(tool: &str, id: &str, remaining: i64, info: &ServerInfo) -> Option<String> {
    if id.is_empty() || remaining < 2 {
        return None;
    }
    let to = match info.continuation_tools.as_slice() {
        [] => tool.to_string(),
        [one] => one.clone(),
        many => format!("any of {}", many.join(", ")),
    };
    let note = format!("To continue this conversation, pass this continuation_id to {to}; {remaining} more turns are available.");
    Some(Obj::new(false).str("continuation_id", id).str("note", &note).int("remaining_turns", remaining).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(check_image("data:image/png;base64,iVBORw0KGgo="), Ok(8));
        assert_eq!(check_image("data:image/jpg;base64,AA=="), Ok(1));
        assert!(check_image("data:image/png;base64,").unwrap_err().contains("valid base64"));
        assert!(check_image("data:image/bmp;base64,AA==").unwrap_err().contains("data:image/<png"));
        assert!(check_image("data:IMAGE/png;base64,AA==").is_err());
        assert_eq!(check_image(r"C:\shots\A.PNG"), Ok(0));
        assert!(check_image("/a/shot.bmp").unwrap_err().ends_with("is not a supported image (use .png, .jpg, .jpeg, .gif or .webp)"));
        assert!(check_image("shot.png").unwrap_err().starts_with("Relative paths"));
    }

    #[test]
    fn prompt_files() {
        let (f, p) = split_prompt_files(&["/a/prompt.txt".to_string(), "/b.go".to_string(), r"C:\x\prompt.txt".to_string(), "/prompt.txt/c".to_string()]);
        assert_eq!(f, ["/b.go", "/prompt.txt/c"]);
        assert_eq!(p, ["/a/prompt.txt", r"C:\x\prompt.txt"]);
    }

    #[test]
    fn error_shape() {
        let r = error_result("chat", "unavailable", "no <model> & co", &[("requested_model", "x"), ("a", "b")]);
        assert_eq!(r.text, r#"{"status":"error","code":"unavailable","content":"no <model> & co","content_type":"text","metadata":{"a":"b","requested_model":"x","tool_name":"chat"}}"#);
        let r = check_prompt_size(&"é".repeat(11), 10).unwrap();
        assert!(r.text.starts_with(r#"{"status":"resend_prompt","code":"prompt_too_long","content":"ACTION REQUIRED: prompt is longer than the 10 characters"#));
        assert!(r.text.ends_with(r#""limit":10,"prompt_size":11,"tool_name":"chat"},"continuation_offer":null}"#));
        assert!(check_prompt_size(&"é".repeat(10), 10).is_none());
    }

    #[test]
    fn reasons() {
        assert!(finished_normally("STOP") && finished_normally("") && !finished_normally("length") && !finished_normally("ſtop"));
        assert!(blocked_by_safety("SAFETY") && blocked_by_safety("bloc\u{212A}ed") && !blocked_by_safety("stop"));
    }

    #[test]
    fn offers() {
        let mut info = ServerInfo::default();
        assert_eq!(offer("chat", "t", 1, &info), None);
        assert_eq!(offer("chat", "", 5, &info), None);
        assert_eq!(
            offer("chat", "t", 48, &info).unwrap(),
            r#"{"continuation_id":"t","note":"To continue this conversation, pass this continuation_id to chat; 48 more turns are available.","remaining_turns":48}"#
        );
        info.continuation_tools = vec!["chat".into(), "debug".into()];
        assert!(offer("chat", "t", 2, &info).unwrap().contains("to any of chat, debug; 2 more"));
    }

    #[test]
    fn follow_up() {
        assert!(follow_up_instructions(1).starts_with("FINAL EXCHANGE"));
        assert!(follow_up_instructions(48).contains("(48 turns left)"));
        assert!(system_prompt(" de-DE ").starts_with("LOCALE: write every reply in the language and conventions of locale \"de-DE\".\n\nYou are"));
    }
}
