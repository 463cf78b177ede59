//! pal-chat: pal's built-in `chat` tool as a small Rust module on pal-kit, a port of the Go
//! chat (tools-wasm/builtin/chat.go) that behaves identically, byte for byte. The Go chat is
//! the oracle: `TestRustChatMatchesGo` (tools-wasm/builtin/rustchat_test.go) runs both on
//! every chat scenario and compares every host request, prompt, progress notification, log
//! line and result, and `FuzzChatParity` does so for random arguments.
//!
//! The module decodes its handle request itself (`export_raw!`), as the Go kit's dispatcher
//! does, so that arguments reach chat exactly as they reach the Go chat: raw number text,
//! invalid UTF-8, duplicate keys.
//!
//! Modules: [`chat`] the tool; [`args`] its arguments; [`history`] and [`embed`] the prompt
//! sections; [`host`] the ops; [`gojson`], [`gofmt`] and [`time`] Go's text rules.

pub mod args;
pub mod chat;
pub mod embed;
pub mod gofmt;
pub mod gojson;
pub mod history;
pub mod host;
mod isprint;
pub mod time;

use gojson::{key_matches, Kind, Obj, Reader};
use pal_kit as pal;

/// The module: the one tool `chat`, declared as the Go chat declares it.
pub fn module() -> pal::Module {
    pal::Module::new("pal-chat", "0.1.0").tool(
        pal::Tool::new(
            "chat",
            "Chat with another model",
            chat::DESCRIPTION,
            chat::SCHEMA,
            &[pal::CAP_FS_READ, pal::CAP_FS_LIST, pal::CAP_MODEL_GENERATE, pal::CAP_THREAD_READ, pal::CAP_THREAD_WRITE, pal::CAP_PROGRESS, pal::CAP_HOST_INFO],
            call_chat,
        )
        .read_only(false)
        .open_world(true)
        .category("fast")
        .requires_model(),
    )
}

/// The manifest `describe` returns.
pub fn manifest() -> String {
    module().manifest_json()
}

pal::export_raw!(manifest, handle_message);

/// The kit's handler, for `FakeHost` and other callers with parsed arguments: chat on the
/// arguments written back as JSON.
fn call_chat(call: &pal::Call) -> Result<pal::Output, pal::ToolError> {
    let args = match &call.args {
        pal::json::Value::Null => "{}".to_string(),
        a => a.to_json(),
    };
    let r = chat::handle(args.as_bytes());
    Ok(pal::Output { text: r.text, is_error: r.is_error, structured: None })
}

/// The Go kit's error shape for a failure of the dispatcher itself (`abi.FailureResult`).
fn failure(tool: &str, code: &str, text: &str) -> chat::Reply {
    let meta = Obj::new(false).str("tool_name", tool).finish();
    let text = Obj::new(false).str("status", "error").str("code", code).str("content", text).str("content_type", "text").raw("metadata", &meta).finish();
    chat::Reply { text, is_error: true }
}

/// The handle request's fields (`abi.HandleRequest`).
#[derive(Default)]
struct Request<'a> {
    abi: Option<i64>,
    tool: String,
    arguments: Option<&'a [u8]>,
}

fn read_request(header: &[u8]) -> Result<Request<'_>, String> {
    let mut req = Request::default();
    let mut r = Reader::new(header);
    let mut bad: Option<String> = None;
    r.object(|r, key| {
        if key_matches(&key, "abi") {
            match r.kind()? {
                Kind::Number => {
                    let n = r.number()?;
                    match n.parse::<i64>() {
                        Ok(v) => req.abi = Some(v),
                        Err(_) => bad = bad.take().or_else(|| Some(format!("json: cannot unmarshal number {n} into Go struct field HandleRequest.abi of type int"))),
                    }
                }
                Kind::Null => r.null()?,
                k => {
                    bad = bad.take().or_else(|| Some(format!("json: cannot unmarshal {} into Go struct field HandleRequest.abi of type int", k.go_name())));
                    r.skip()?;
                }
            }
        } else if key_matches(&key, "tool") {
            match r.kind()? {
                Kind::String => req.tool = r.string()?,
                Kind::Null => r.null()?,
                k => {
                    bad = bad.take().or_else(|| Some(format!("json: cannot unmarshal {} into Go struct field HandleRequest.tool of type string", k.go_name())));
                    r.skip()?;
                }
            }
        } else if key_matches(&key, "arguments") {
            req.arguments = Some(r.raw()?);
        } else {
            r.skip()?;
        }
        Ok(())
    })
    .map_err(|_| "the request is not JSON".to_string())?;
    if !r.at_end() {
        return Err("the request is not JSON".to_string());
    }
    match bad {
        Some(b) => Err(b),
        None => Ok(req),
    }
}

/// Runs one handle request message as the Go kit's dispatcher runs it (pal.dispatch) and
/// returns the result message.
pub fn handle_message(msg: &[u8]) -> Vec<u8> {
    let r = dispatch(msg);
    let item = Obj::new(false).str("type", "text").str("text", &r.text).finish();
    let mut o = Obj::new(false).raw("content", &format!("[{item}]"));
    if r.is_error {
        o = o.bool("isError", true);
    }
    o.finish().into_bytes()
}

fn dispatch(msg: &[u8]) -> chat::Reply {
    let (header, body) = match msg.iter().position(|&b| b == 0) {
        Some(i) => (&msg[..i], Some(&msg[i + 1..])),
        None => (msg, None),
    };
    let header_is_object = {
        let mut r = Reader::new(header);
        matches!(r.kind(), Ok(Kind::Object)) && r.skip().is_ok() && r.at_end()
    };
    if !header_is_object {
        return failure("", "internal", "pal: the handle request is not a JSON message");
    }
    if body.is_some() {
        return failure("", "internal", "pal: the handle request carries a body; ABI 1 has none");
    }
    let req = match read_request(header) {
        Ok(r) => r,
        Err(e) => return failure("", "internal", &format!("pal: the handle request is malformed: {e}")),
    };
    let abi = req.abi.unwrap_or(0);
    if abi != pal::ABI as i64 {
        return failure(&req.tool, "internal", &format!("pal: this module speaks ABI {}; the host sent ABI {abi}", pal::ABI));
    }
    if req.tool != "chat" {
        return failure(&req.tool, "internal", &format!("pal: this module has no tool {}", gofmt::quote(&req.tool)));
    }
    let args = req.arguments.map(trim_ascii_space).unwrap_or(b"");
    let args: &[u8] = if args.is_empty() || args == b"null" { b"{}" } else { args };
    if args[0] != b'{' {
        return failure("chat", "invalid_arguments", "chat: arguments must be a JSON object");
    }
    chat::handle(args)
}

/// `bytes.TrimSpace` for JSON text (whose only spaces are ASCII).
fn trim_ascii_space(b: &[u8]) -> &[u8] {
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_space(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use pal_kit::fakehost::FakeHost;

    #[test]
    fn manifest_is_valid() {
        module().check().unwrap();
        let m = pal::json::parse(&manifest()).unwrap();
        let t = m.get("tools").at(0);
        assert_eq!(m.get("name").str(), "pal-chat");
        assert_eq!(t.get("name").str(), "chat");
        assert_eq!(t.get("category").str(), "fast");
        assert!(t.get("requiresModel").bool() && t.get("annotations").get("readOnlyHint").bool() && !t.get("annotations").get("idempotentHint").bool());
        assert_eq!(t.get("inputSchema").get("required").at(0).str(), "prompt");
    }

    fn text(out: &[u8]) -> (String, bool) {
        let v = pal::json::parse(std::str::from_utf8(out).unwrap()).unwrap();
        (v.get("content").at(0).get("text").str().to_string(), v.get("isError").bool())
    }

    #[test]
    fn dispatcher_as_go() {
        let (t, e) = text(&handle_message(br#"{"abi":1,"tool":"chat","call_id":"c","arguments":[]}"#));
        assert!(e);
        assert_eq!(t, r#"{"status":"error","code":"invalid_arguments","content":"chat: arguments must be a JSON object","content_type":"text","metadata":{"tool_name":"chat"}}"#);
        let (t, _) = text(&handle_message(br#"{"abi":1,"tool":"x\ny"}"#));
        assert!(t.contains(r#""content":"pal: this module has no tool \"x\\ny\"""#), "{t}");
        let (t, _) = text(&handle_message(br#"{"abi":2,"tool":"chat"}"#));
        assert!(t.contains("this module speaks ABI 1; the host sent ABI 2"), "{t}");
        let (t, _) = text(&handle_message(b"{\"abi\":1}\0x"));
        assert!(t.contains("carries a body"), "{t}");
        let (t, _) = text(&handle_message(b"[1]"));
        assert!(t.contains("not a JSON message"), "{t}");
        // Bad arguments are refused before any host call.
        let (t, e) = text(&handle_message(br#"{"abi":1,"tool":"chat","arguments":{"prompt":"x","temperature":2}}"#));
        assert!(e && t.contains("temperature must be between 0 and 1, not 2"), "{t}");
    }

    #[test]
    fn runs_under_the_fake_host() {
        // The kit's fake host has no threads: chat answers without a continuation offer.
        let seen = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
        let prompts = seen.clone();
        let mut host = FakeHost::new().file("/w/a.go", "package a\n").root("/w").grant(&pal::CAPABILITIES).model(move |prompt, _| {
            *prompts.borrow_mut() = prompt.to_string();
            Ok("model says hi".to_string())
        });
        let out = host.call(&module(), "chat", r#"{"prompt":"Explain","absolute_file_paths":["/w/a.go"]}"#);
        assert!(!out.is_error(), "{}", out.text());
        assert!(out.text().contains(r#""status":"success","content":"model says hi\n\n---\n\nAGENT'S TURN"#), "{}", out.text());
        assert!(out.logs.iter().any(|(_, l)| l.starts_with("chat: conversation not recorded: unknown_op")), "{:?}", out.logs);
        let prompt = seen.borrow().clone();
        assert!(prompt.contains("=== USER REQUEST ===\nExplain\n") && prompt.contains("   1│ package a\n--- END FILE: /w/a.go ---"), "{prompt}");
    }
}
