//! A pal tool in Rust. It reads one file through the host (`fs.read`) and counts its lines,
//! words and bytes. Everything it touches goes through the host, which checks the grant in
//! pal.toml, the path policy and the budgets. The kit is in kit/ (its README documents it).
//! The tool is named after the crate (Cargo.toml's `name`).

use pal_kit as pal;
use pal_kit::json::Obj;

const NAME: &str = env!("CARGO_PKG_NAME");

const SCHEMA: &str = r#"{"type":"object","properties":{"path":{"type":"string","description":"absolute path of the file"}},"required":["path"],"additionalProperties":false}"#;

/// The module: its tools, with what each may ask of the host.
pub fn module() -> pal::Module {
    pal::Module::new(NAME, "0.1.0").tool(
        pal::Tool::new(NAME, "Count lines and words", "Counts the lines, words and bytes of one file.", SCHEMA, &[pal::CAP_FS_READ], count)
            .read_only(true)
            .open_world(false),
    )
}

pal::export!(module);

fn count(call: &pal::Call) -> Result<pal::Output, pal::ToolError> {
    let path = call.args.get("path").str();
    // 0: up to the policy's per-file cap. A refusal ("denied: …", "not_found: …") becomes
    // the tool's isError result.
    let f = pal::fs::read(path, 0).map_err(|e| format!("cannot read {path}: {e}"))?;
    let text = f.text();
    let (lines, words, bytes) = (text.matches('\n').count(), text.split_whitespace().count(), f.data.len());
    let structured = Obj::new().num("lines", lines as f64).num("words", words as f64).num("bytes", bytes as f64).finish();
    Ok(pal::text(format!("{path}: {lines} lines, {words} words, {bytes} bytes")).with_structured(structured))
}

#[cfg(test)]
mod tests {
    use super::{module, NAME};
    use pal_kit::fakehost::FakeHost;

    fn host() -> FakeHost {
        FakeHost::new().file("/w/a.txt", "one two\nthree\n").file("/w/.env", "KEY=1\n").root("/w").deny(".env*")
    }

    #[test]
    fn counts_a_file() {
        let out = host().grant(&["fs.read"]).call(&module(), NAME, r#"{"path":"/w/a.txt"}"#);
        assert!(!out.is_error(), "{}", out.text());
        assert_eq!(out.text(), "/w/a.txt: 2 lines, 3 words, 14 bytes");
        assert_eq!(out.result.get("structuredContent").get("words").num(), 3.0);
    }

    #[test]
    fn a_denied_path_is_refused() {
        let out = host().grant(&["fs.read"]).call(&module(), NAME, r#"{"path":"/w/.env"}"#);
        assert!(out.is_error());
        assert_eq!(out.text(), r#"cannot read /w/.env: denied: "/w/.env" matches deny rule ".env*""#);
    }

    #[test]
    fn a_capability_not_granted_is_refused() {
        let out = host().call(&module(), NAME, r#"{"path":"/w/a.txt"}"#);
        assert!(out.is_error());
        let want = format!(r#"not_granted: tool "{NAME}" has no "fs.read" capability in this call (granted: {{}})"#);
        assert!(out.text().ends_with(&want), "{}", out.text());
    }
}
