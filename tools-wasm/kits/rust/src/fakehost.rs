//! A fake pal host for `cargo test`, with no server: it runs a module's tools natively and
//! answers their host calls from an in-memory file tree and a scripted model. The request
//! and reply messages are the ABI's own bytes, and refusals use the real host's codes and
//! texts (docs/abi.md), so a test that passes here sees the same errors under pal.
//!
//! ```ignore
//! let mut host = FakeHost::new()
//!     .file("/w/a.rs", "// TODO: x")
//!     .grant(&["fs.list", "fs.read", "model.generate"])
//!     .model(|prompt, _req| Ok("a summary".to_string()));
//! let out = host.call(&module(), "todo_finder", r#"{"path":"/w"}"#);
//! assert!(!out.is_error(), "{}", out.text());
//! ```
//!
//! Ops implemented: `fs.read`, `fs.list`, `model.generate`, `model.resolve`, `progress`,
//! `host.info`. Any other op of ABI 1 is checked against the grant and then answered
//! `unknown_op` saying the fake host lacks it.
//!
//! Refusals are worded as pal's runtime/abi words them, and the kit's tests check that
//! against the real host's replies in tools-wasm/testdata/refusals.json. Not simulated: a
//! fractional number for an integer field (pal says `must be int64, not number 1.5`), the
//! types of array elements, deny rules of more than one component, `?` and `[...]` in deny
//! globs, symlinks, and the per-call byte budget.

use crate::json::{self, quote, Obj, Value};
use crate::{abi, Module, Output, CAPABILITIES};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The policy's per-file cap, in bytes (`paths.max_file_bytes`'s default);
/// [`FakeHost::max_file_bytes`] sets another.
pub const MAX_FILE_BYTES: usize = 1_000_000;

/// A scripted model: the prompt and the request header in, the reply text (or an `upstream`
/// failure's message) out.
pub type ModelFn = Box<dyn FnMut(&str, &Value) -> Result<String, String>>;

/// One op the tool asked for: its name, its request header, and the error code it got ("" when
/// it was allowed).
#[derive(Clone, Debug)]
pub struct Op {
    pub op: String,
    pub request: Value,
    pub code: String,
}

/// What one call did: the tool's result (as the host would parse it), the ops it asked for and
/// the lines it logged (level, text).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub output: Output,
    /// The CallToolResult as the host receives it, parsed.
    pub result: Value,
    pub ops: Vec<Op>,
    pub logs: Vec<(i32, String)>,
}

impl Outcome {
    pub fn text(&self) -> &str {
        &self.output.text
    }

    pub fn is_error(&self) -> bool {
        self.output.is_error
    }

    /// The ops named `op` the tool asked for.
    pub fn ops_named(&self, op: &str) -> Vec<&Op> {
        self.ops.iter().filter(|o| o.op == op).collect()
    }
}

/// A fake host: files, roots, deny globs, a grant and a model. Build it with the methods
/// below, then run calls with [`FakeHost::call`].
pub struct FakeHost {
    files: BTreeMap<String, Vec<u8>>,
    roots: Vec<String>,
    deny: Vec<String>,
    grant: Vec<String>,
    max_file_bytes: usize,
    model: ModelFn,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost::new()
    }
}

struct State {
    host: FakeHost,
    tool: String,
    grant: Vec<&'static str>,
    ops: Vec<Op>,
    logs: Vec<(i32, String)>,
}

thread_local! {
    static CURRENT: RefCell<Option<State>> = RefCell::new(None);
}

impl FakeHost {
    /// An empty host: no files, no roots (every absolute path is inside), no deny globs, no
    /// grant, and a model that answers "ok".
    pub fn new() -> FakeHost {
        FakeHost {
            files: BTreeMap::new(),
            roots: Vec::new(),
            deny: Vec::new(),
            grant: Vec::new(),
            max_file_bytes: MAX_FILE_BYTES,
            model: Box::new(|_, _| Ok("ok".to_string())),
        }
    }

    /// Adds a file at an absolute path; its directories are implied.
    pub fn file<B: AsRef<[u8]>>(mut self, path: &str, contents: B) -> FakeHost {
        self.files.insert(path.to_string(), contents.as_ref().to_vec());
        self
    }

    /// Adds an allowed root: once there is one, a path outside every root is `denied`.
    pub fn root(mut self, dir: &str) -> FakeHost {
        self.roots.push(dir.trim_end_matches('/').to_string());
        self
    }

    /// Adds a deny glob (`*` matches any run of characters), matched against each component of
    /// a path, ignoring case, as pal's deny rules are (`.env*`, `*.pem`, `id_*`).
    pub fn deny(mut self, glob: &str) -> FakeHost {
        self.deny.push(glob.to_string());
        self
    }

    /// fs.read's per-file cap in bytes (`[paths] max_file_bytes`; default [`MAX_FILE_BYTES`]):
    /// a larger file is `too_large` unless the tool asks for fewer bytes with `max_bytes`.
    pub fn max_file_bytes(mut self, n: usize) -> FakeHost {
        self.max_file_bytes = n;
        self
    }

    /// The capabilities pal.toml grants the tool (`[tools.<name>] capabilities`); a call's
    /// grant is this intersected with the tool's manifest.
    pub fn grant(mut self, caps: &[&str]) -> FakeHost {
        self.grant = caps.iter().map(|c| c.to_string()).collect();
        self
    }

    /// The scripted model behind `model.generate`; an `Err` is an `upstream` failure.
    pub fn model<F: FnMut(&str, &Value) -> Result<String, String> + 'static>(mut self, f: F) -> FakeHost {
        self.model = Box::new(f);
        self
    }

    /// Runs one call of `tool` with `args` (JSON object text), as pal would: the module is
    /// checked as the host checks it at load, the request is framed as the host frames it,
    /// and every host call is answered here. Panics on a module the host would refuse, an
    /// unknown tool, or arguments that are not JSON.
    pub fn call(&mut self, m: &Module, tool: &str, args: &str) -> Outcome {
        if let Err(e) = m.check() {
            panic!("pal would refuse module {}: {}", quote(&m.name), e);
        }
        let spec = m.tools.iter().find(|t| t.name == tool).unwrap_or_else(|| panic!("module {} has no tool {}", quote(&m.name), quote(tool)));
        if let Err(e) = json::parse(args) {
            panic!("arguments are not JSON: {e}");
        }
        let grant = CAPABILITIES.iter().copied().filter(|c| spec.capabilities.iter().any(|s| s == c) && self.grant.iter().any(|g| g == c)).collect();
        let host = std::mem::replace(self, FakeHost::new());
        CURRENT.with(|c| *c.borrow_mut() = Some(State { host, tool: tool.to_string(), grant, ops: Vec::new(), logs: Vec::new() }));
        let req = Obj::new().num("abi", 1.0).str("tool", tool).str("call_id", "c1").raw("arguments", args).finish();
        let output = abi::dispatch(m, req.as_bytes());
        let st = CURRENT.with(|c| c.borrow_mut().take()).expect("the fake host's state is gone");
        *self = st.host;
        let result = json::parse(&output.to_json()).expect("the result is not JSON");
        Outcome { output, result, ops: st.ops, logs: st.logs }
    }
}

/// Answers one request message of the running call.
pub(crate) fn serve(msg: &[u8]) -> Vec<u8> {
    CURRENT.with(|c| match c.borrow_mut().as_mut() {
        Some(st) => st.serve(msg),
        None => reply_error("internal", "no pal host: run the tool through pal_kit::fakehost::FakeHost::call"),
    })
}

pub(crate) fn log(level: i32, msg: &[u8]) {
    let line = String::from_utf8_lossy(msg).into_owned();
    CURRENT.with(|c| match c.borrow_mut().as_mut() {
        Some(st) => st.logs.push((level, line)),
        None => eprintln!("pal log {level}: {line}"),
    })
}

fn reply_error(code: &str, message: &str) -> Vec<u8> {
    Obj::new().raw("error", &Obj::new().str("code", code).str("message", message).finish()).finish().into_bytes()
}

/// The capability each op of ABI 1 needs.
fn capability(op: &str) -> Option<&'static str> {
    Some(match op {
        "fs.read" => "fs.read",
        "fs.list" => "fs.list",
        "model.resolve" | "model.generate" => "model.generate",
        "model.list" => "model.list",
        "thread.create" | "thread.append" => "thread.write",
        "thread.read" => "thread.read",
        "progress" => "progress",
        "host.info" => "host.info",
        "git.status" | "git.diff" | "git.log" => "git.read",
        "cli.list" | "cli.run" => "cli.run",
        _ => return None,
    })
}

/// The request fields of each implemented op with their types as pal's Go structs name them
/// (runtime/abi/ops.go), or None for an op the fake host does not implement.
fn fields(op: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match op {
        "fs.read" => &[("op", "string"), ("path", "string"), ("max_bytes", "int64")],
        "fs.list" => &[("op", "string"), ("path", "string"), ("max_depth", "int"), ("max_entries", "int")],
        "model.generate" => &[
            ("op", "string"),
            ("model", "string"),
            ("category", "string"),
            ("system", "string"),
            ("temperature", "float64"),
            ("thinking_mode", "string"),
            ("images", "[]string"),
        ],
        "model.resolve" => &[("op", "string"), ("model", "string"), ("category", "string")],
        "progress" => &[("op", "string"), ("progress", "float64"), ("total", "float64"), ("message", "string")],
        "host.info" => &[("op", "string")],
        _ => return None,
    })
}

/// Decodes a request header as pal does (encoding/json, unknown fields disallowed): the first
/// member, in order, with an unknown name or a value of the wrong kind is the error, worded
/// as runtime/abi's RefuseBadRequest words it. null fits any field.
fn bad_request(members: &[(String, Value)], fields: &[(&str, &str)]) -> Option<String> {
    for (k, v) in members {
        let ty = match fields.iter().find(|(name, _)| name == k) {
            Some((_, ty)) => *ty,
            None => return Some(format!("bad request: json: unknown field {}", quote(k))),
        };
        let kind = match v {
            Value::Null => continue,
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = match ty {
            "string" => kind == "string",
            "[]string" => kind == "array",
            _ => kind == "number",
        };
        if !fits {
            return Some(format!("bad request: field {} must be {}, not {}", quote(k), ty, kind));
        }
    }
    None
}

/// Cleans an absolute path as Go's path.Clean does: no `.`, `..` or empty components.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl State {
    fn record(&mut self, op: &str, head: &Value, code: &str) {
        self.ops.push(Op { op: op.to_string(), request: head.clone(), code: code.to_string() });
    }

    fn fail(&mut self, op: &str, head: &Value, code: &str, message: &str) -> Vec<u8> {
        self.record(op, head, code);
        reply_error(code, message)
    }

    fn ok(&mut self, op: &str, head: &Value, result: String, body: Option<&[u8]>) -> Vec<u8> {
        self.record(op, head, "");
        let mut out = Obj::new().raw("result", &result).finish().into_bytes();
        if let Some(b) = body {
            out.push(0);
            out.extend_from_slice(b);
        }
        out
    }

    fn denied_by(&self, path: &str) -> Option<&str> {
        let rule = self.host.deny.iter().find(|g| path.split('/').any(|part| glob(&g.to_lowercase(), &part.to_lowercase())));
        rule.map(|r| r.as_str())
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        self.host.files.keys().any(|p| p.starts_with(&prefix))
    }

    /// Checks a path as pal's path policy does: absolute, inside a root once cleaned, no deny
    /// glob. The error names the path as the tool gave it.
    fn check_path(&self, path: &str) -> Result<(), String> {
        if !path.starts_with('/') {
            return Err(format!("{} is not an absolute path", quote(path)));
        }
        let cleaned = clean(path);
        if !self.host.roots.is_empty() && !self.host.roots.iter().any(|r| cleaned == *r || r.is_empty() || cleaned.starts_with(&format!("{r}/"))) {
            return Err(format!("{} is outside every allowed root", quote(path)));
        }
        if let Some(rule) = self.denied_by(&cleaned) {
            return Err(format!("{} matches deny rule {}", quote(path), quote(rule)));
        }
        Ok(())
    }

    fn serve(&mut self, msg: &[u8]) -> Vec<u8> {
        let (head, body) = abi::split(msg);
        let head = match std::str::from_utf8(head).ok().and_then(|s| json::parse(s).ok()) {
            Some(v @ Value::Object(_)) => v,
            _ => return self.fail("", &Value::Null, "invalid", "request is not a JSON object message"),
        };
        let op = head.get("op").str().to_string();
        if op.is_empty() {
            return self.fail("", &head, "invalid", "request has no \"op\"");
        }
        let cap = match capability(&op) {
            Some(c) => c,
            None => return self.fail(&op, &head, "unknown_op", &format!("unknown op {} in ABI 1", quote(&op))),
        };
        if !self.grant.contains(&cap) {
            let msg = format!("tool {} has no {} capability in this call (granted: {{{}}})", quote(&self.tool), quote(cap), self.grant.join(","));
            return self.fail(&op, &head, "not_granted", &msg);
        }
        if body.is_some() && op != "model.generate" && op != "cli.run" {
            return self.fail(&op, &head, "invalid", &format!("op {} takes no body", quote(&op)));
        }
        if let (Value::Object(members), Some(fields)) = (&head, fields(&op)) {
            if let Some(msg) = bad_request(members, fields) {
                return self.fail(&op, &head, "invalid", &msg);
            }
        }
        let given = head.get("path").str().to_string();
        let path = clean(&given);
        if op == "fs.read" || op == "fs.list" {
            if given.is_empty() {
                return self.fail(&op, &head, "invalid", &format!("{op} needs a path"));
            }
            if let Err(e) = self.check_path(&given) {
                return self.fail(&op, &head, "denied", &e);
            }
        }
        match op.as_str() {
            "fs.read" => {
                let data = match self.host.files.get(&path) {
                    Some(d) => d.clone(),
                    None if self.is_dir(&path) => return self.fail(&op, &head, "invalid", &format!("{} is a directory", quote(&given))),
                    None => return self.fail(&op, &head, "not_found", &format!("{} does not exist", quote(&given))),
                };
                let (asked, cap) = (head.get("max_bytes").num() as usize, self.host.max_file_bytes);
                if asked == 0 && data.len() > cap {
                    return self.fail(&op, &head, "too_large", &format!("{} is {} bytes, over the {}-byte cap", quote(&given), data.len(), cap));
                }
                let max = if asked == 0 { cap } else { asked.min(cap) };
                let n = data.len().min(max);
                let result = Obj::new().str("path", &path).num("size", data.len() as f64).str("modified", "2026-01-01T00:00:00Z").bool("truncated", n < data.len()).finish();
                self.ok(&op, &head, result, Some(&data[..n]))
            }
            "fs.list" => {
                if self.host.files.contains_key(&path) {
                    return self.fail(&op, &head, "invalid", &format!("{} is not a directory", quote(&given)));
                }
                if !self.is_dir(&path) {
                    return self.fail(&op, &head, "not_found", &format!("{} does not exist", quote(&given)));
                }
                let prefix = format!("{}/", path.trim_end_matches('/'));
                let mut entries: BTreeMap<String, (bool, usize)> = BTreeMap::new();
                for (p, d) in &self.host.files {
                    let rel = match p.strip_prefix(&prefix) {
                        Some(r) => r,
                        None => continue,
                    };
                    // Hidden entries and denied ones are left out, as pal's walk leaves them out.
                    if rel.split('/').any(|c| c.starts_with('.')) || self.denied_by(p).is_some() {
                        continue;
                    }
                    let mut dir = prefix.clone();
                    let comps: Vec<&str> = rel.split('/').collect();
                    for c in &comps[..comps.len() - 1] {
                        dir.push_str(c);
                        entries.insert(dir.clone(), (true, 0));
                        dir.push('/');
                    }
                    entries.insert(p.clone(), (false, d.len()));
                }
                let items: Vec<String> = entries
                    .iter()
                    .map(|(p, (dir, size))| Obj::new().str("path", p).str("kind", if *dir { "dir" } else { "file" }).num("size", *size as f64).finish())
                    .collect();
                let result = Obj::new().str("path", &given).raw("entries", &format!("[{}]", items.join(","))).bool("truncated", false).finish();
                self.ok(&op, &head, result, None)
            }
            "model.generate" => {
                let prompt = match body {
                    Some(b) => String::from_utf8_lossy(b).into_owned(),
                    None => return self.fail(&op, &head, "invalid", "model.generate needs the prompt as the message body"),
                };
                let reply = (self.host.model)(&prompt, &head);
                let content = match reply {
                    Ok(c) => c,
                    Err(e) => return self.fail(&op, &head, "upstream", &e),
                };
                let result = Obj::new()
                    .str("content", &content)
                    .str("model", model_name(&head))
                    .str("provider", "fake")
                    .str("finish_reason", "stop")
                    .raw("usage", r#"{"input_tokens":0,"output_tokens":0,"total_tokens":0}"#)
                    .finish();
                self.ok(&op, &head, result, None)
            }
            "model.resolve" => {
                let result = Obj::new().str("model", model_name(&head)).str("provider", "fake").finish();
                self.ok(&op, &head, result, None)
            }
            "progress" => self.ok(&op, &head, "{}".to_string(), None),
            "host.info" => self.ok(&op, &head, r#"{"name":"pal-fakehost","version":"0","abi":1}"#.to_string(), None),
            _ => self.fail(&op, &head, "unknown_op", &format!("the fake host does not implement {}", quote(&op))),
        }
    }
}

fn model_name(head: &Value) -> &str {
    match head.get("model").str() {
        "" | "auto" => "fake-model",
        m => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{call, fs, model, Call, Module, Output, Tool, ToolError};

    // probe runs the op named in its arguments and reports the reply as text.
    fn probe(c: &Call) -> Result<Output, ToolError> {
        let path = c.args.get("path").str();
        let out = match c.args.get("op").str() {
            "fs.read" => fs::read(path, c.args.get("max").num() as u64).map(|f| format!("{} {} {} {}", f.path, f.size, f.truncated, f.text())),
            "fs.list" => fs::list(path, 0, 0).map(|l| l.entries.iter().map(|e| format!("{}:{}", e.kind, e.path)).collect::<Vec<_>>().join(" ")),
            "model.generate" => model::generate("hello", &model::GenerateOptions { model: "m1".into(), ..Default::default() }).map(|g| format!("{} {}", g.model, g.content)),
            raw => call(raw, None).map(|r| r.result.to_json()),
        };
        Ok(crate::text(out?))
    }

    fn module() -> Module {
        Module::new("probe", "0.1.0").tool(Tool::new("probe", "Probe", "Runs one op.", r#"{"type":"object"}"#, &["fs.read", "fs.list", "model.generate", "progress"], probe))
    }

    fn host() -> FakeHost {
        FakeHost::new()
            .file("/w/src/a.rs", "fn a() {}\n")
            .file("/w/.env", "KEY=1")
            .file("/w/id_rsa", "k")
            .file("/w/.git/config", "x")
            .file("/w/big", vec![b'x'; MAX_FILE_BYTES + 1])
            .file("/outside/f", "o")
            .root("/w")
            .deny(".env*")
            .deny("id_*")
            .grant(&["fs.read", "fs.list", "model.generate", "progress", "cli.run"])
            .model(|p, _| if p == "hello" { Ok("hi".into()) } else { Err("boom".into()) })
    }

    #[test]
    fn replies_as_pal_does() {
        let cases = [
            (r#"{"op":"fs.read","path":"/w/src/a.rs"}"#, false, "/w/src/a.rs 10 false fn a() {}\n"),
            (r#"{"op":"fs.read","path":"/w/src/a.rs","max":2}"#, false, "/w/src/a.rs 10 true fn"),
            (r#"{"op":"fs.read","path":"/w/.env"}"#, true, r#"denied: "/w/.env" matches deny rule ".env*""#),
            (r#"{"op":"fs.read","path":"/w/id_rsa"}"#, true, r#"denied: "/w/id_rsa" matches deny rule "id_*""#),
            (r#"{"op":"fs.read","path":"/outside/f"}"#, true, r#"denied: "/outside/f" is outside every allowed root"#),
            (r#"{"op":"fs.read","path":"w/src/a.rs"}"#, true, r#"denied: "w/src/a.rs" is not an absolute path"#),
            (r#"{"op":"fs.read","path":"/w/nope"}"#, true, r#"not_found: "/w/nope" does not exist"#),
            (r#"{"op":"fs.read","path":"/w/src"}"#, true, r#"invalid: "/w/src" is a directory"#),
            (r#"{"op":"fs.read","path":"/w/big"}"#, true, r#"too_large: "/w/big" is 1000001 bytes, over the 1000000-byte cap"#),
            (r#"{"op":"fs.list","path":"/w"}"#, false, "file:/w/big dir:/w/src file:/w/src/a.rs"),
            (r#"{"op":"fs.list","path":"/w/src/a.rs"}"#, true, r#"invalid: "/w/src/a.rs" is not a directory"#),
            (r#"{"op":"model.generate"}"#, false, "m1 hi"),
            (r#"{"op":"{\"op\":\"host.info\"}"}"#, true, r#"not_granted: tool "probe" has no "host.info" capability in this call (granted: {fs.read,fs.list,model.generate,progress})"#),
            (r#"{"op":"{\"op\":\"nope\"}"}"#, true, r#"unknown_op: unknown op "nope" in ABI 1"#),
            (r#"{"op":"{\"op\":\"fs.read\",\"path\":\"/w/src/a.rs\",\"extra\":1}"}"#, true, r#"invalid: bad request: json: unknown field "extra""#),
            (r#"{"op":"{\"op\":\"progress\",\"progress\":1}"}"#, false, "{}"),
            (r#"{"op":"{}"}"#, true, r#"invalid: request has no "op""#),
        ];
        for (args, is_error, want) in cases {
            let mut h = host();
            let out = h.call(&module(), "probe", args);
            assert_eq!((out.is_error(), out.text()), (is_error, want), "{args}");
            assert_eq!(out.result.get("isError").bool(), is_error);
        }
    }

    #[test]
    fn upstream_and_body_rules() {
        let m = Module::new("p", "1").tool(Tool::new("p", "P", "P.", r#"{"type":"object"}"#, &["model.generate", "fs.read"], |_| {
            let a = model::generate("other", &Default::default()).unwrap_err();
            let b = call(r#"{"op":"model.generate"}"#, None).unwrap_err();
            let c = call(r#"{"op":"fs.read","path":"/w/a"}"#, Some(b"x")).unwrap_err();
            Ok(crate::text(format!("{a}|{b}|{c}")))
        }));
        let out = host().call(&m, "p", "{}");
        assert_eq!(out.text(), r#"upstream: boom|invalid: model.generate needs the prompt as the message body|invalid: op "fs.read" takes no body"#);
        assert_eq!(out.ops.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(), ["upstream", "invalid", "invalid"]);
    }

    #[test]
    fn refuses_a_module_pal_would_refuse() {
        for (m, want) in [
            (Module::new("m", "1").tool(Tool::new("Bad", "", "", r#"{"type":"object"}"#, &[], probe)), "tool name \"Bad\""),
            (Module::new("m", "1").tool(Tool::new("a", "", "", r#"{"type":"string"}"#, &[], probe)), "inputSchema"),
            (Module::new("m", "1").tool(Tool::new("a", "", "", r#"{"type":"object"}"#, &["fs.write"], probe)), "unknown capability \"fs.write\""),
            (Module::new("m", "1").tool(Tool::new("a", "", "", r#"{"type":"object"}"#, &[], probe)).tool(Tool::new("a", "", "", r#"{"type":"object"}"#, &[], probe)), "declared twice"),
            (Module::new("m", "1").tool(Tool::new("a", "", "", r#"{"type":"object"}"#, &[], probe).category("slow")), "unknown category"),
        ] {
            let err = m.check().unwrap_err();
            assert!(err.contains(want), "{err}");
        }
        assert!(module().check().is_ok());
    }

    #[test]
    fn manifest_and_dispatch() {
        let m = Module::new("probe", "0.1.0").tool(
            Tool::new("probe", "Probe", "Runs \"one\" op.", r#"{"type":"object"}"#, &["fs.read"], probe).read_only(true).category("fast").requires_model(),
        );
        let v = json::parse(&m.manifest_json()).unwrap();
        assert_eq!(v.get("abi").num(), 1.0);
        let t = v.get("tools").at(0);
        assert_eq!(t.get("description").str(), "Runs \"one\" op.");
        assert_eq!(t.get("annotations").to_json(), r#"{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true}"#);
        assert_eq!(t.get("capabilities").to_json(), r#"["fs.read"]"#);
        assert!(t.get("requiresModel").bool() && t.get("category").str() == "fast");
        assert_eq!(abi::dispatch(&m, b"nope").text, "the kit cannot read the request: unexpected character at byte 0");
        let deep = format!(r#"{{"tool":"probe","arguments":{}{}}}"#, "[".repeat(json::MAX_DEPTH + 1), "]".repeat(json::MAX_DEPTH + 1));
        assert!(abi::dispatch(&m, deep.as_bytes()).text.starts_with("the kit cannot read the request: nested too deeply at byte"));
        assert_eq!(abi::dispatch(&m, b"\xff").text, "the kit cannot read the request: not UTF-8");
        assert_eq!(abi::dispatch(&m, br#"{"tool":"x"}"#).text, "this module has no tool named \"x\"");
        let out = Output { text: "t".into(), is_error: false, structured: Some(r#"{"a":1}"#.into()) };
        assert_eq!(out.to_json(), r#"{"content":[{"type":"text","text":"t"}],"isError":false,"structuredContent":{"a":1}}"#);
    }

    #[test]
    fn no_host_outside_a_call() {
        let e = fs::read("/w/a", 0).unwrap_err();
        assert_eq!(e.code, "internal");
        assert!(e.message.contains("FakeHost::call"));
    }

    /// The real host's refusals (tools-wasm/testdata/refusals.json, written from its replies by
    /// TestFakeAndRealHostRefuseAlike): the same requests get the same codes and messages here.
    #[test]
    fn refuses_as_the_real_host() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/refusals.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let table = json::parse(&text).expect("the table is not JSON");
        let strs = |v: &Value| v.items().iter().map(|s| s.str().to_string()).collect::<Vec<_>>();
        let mut host = FakeHost::new().max_file_bytes(table.get("max_file_bytes").num() as usize);
        for r in strs(table.get("roots")) {
            host = host.root(&r);
        }
        for d in strs(table.get("deny")) {
            host = host.deny(&d);
        }
        for f in table.get("files").items() {
            host = host.file(f.get("path").str(), f.get("content").str());
        }
        let grant = strs(table.get("grant"));
        let mut st = State { host, tool: table.get("tool").str().to_string(), grant: CAPABILITIES.iter().copied().filter(|c| grant.iter().any(|g| g == c)).collect(), ops: Vec::new(), logs: Vec::new() };
        let cases = table.get("cases").items();
        assert!(cases.len() >= 20, "{} cases", cases.len());
        for c in cases {
            let mut msg = c.get("request").str().as_bytes().to_vec();
            if c.has("body") {
                msg.push(0);
                msg.extend_from_slice(c.get("body").str().as_bytes());
            }
            let out = st.serve(&msg);
            let reply = json::parse(std::str::from_utf8(abi::split(&out).0).unwrap()).unwrap();
            let err = reply.get("error");
            assert_eq!((err.get("code").str(), err.get("message").str()), (c.get("code").str(), c.get("message").str()), "{}", c.get("name").str());
        }
    }

    #[test]
    fn globs() {
        for (g, name, want) in [(".env*", ".env", true), (".env*", ".env.local", true), (".env*", "a.env", false), ("*.pem", "k.pem", true), ("*.pem", "pem", false), ("a*b*c", "aXbYc", true), ("a*b*c", "acb", false), ("x", "x", true)] {
            assert_eq!(glob(g, name), want, "{g} {name}");
        }
    }
}
