//! todo_finder: a pal tool written in Rust with pal-kit. It lists the files under a directory
//! (`fs.list`), reads each through the host (`fs.read`), collects the lines that hold TODO or
//! FIXME, and asks a model to summarise them (`model.generate`). Everything it touches goes
//! through the host, which checks the grant, the path policy and the budgets.

use pal_kit as pal;
use pal_kit::json::Obj;

/// At most this many files are read, and this many TODO lines sent to the model.
const MAX_FILES: usize = 200;
const MAX_LINES: usize = 200;
/// Each file is read up to this many bytes.
const MAX_FILE_BYTES: u64 = 256 * 1024;

const SCHEMA: &str = r#"{"type":"object","properties":{"path":{"type":"string","description":"absolute directory to search"},"model":{"type":"string","description":"model for the summary"}},"required":["path"],"additionalProperties":false}"#;

/// The module: one tool.
pub fn module() -> pal::Module {
    pal::Module::new("todo-finder", "0.1.0").tool(
        pal::Tool::new(
            "todo_finder",
            "Find TODOs",
            "Lists the files under a directory, collects their TODO and FIXME lines and asks a model to summarise them.",
            SCHEMA,
            &[pal::CAP_FS_LIST, pal::CAP_FS_READ, pal::CAP_MODEL_GENERATE, pal::CAP_PROGRESS],
            find_todos,
        )
        .read_only(false)
        .category("fast")
        .requires_model(),
    )
}

pal::export!(module);

fn find_todos(call: &pal::Call) -> Result<pal::Output, pal::ToolError> {
    let dir = call.args.get("path").str();
    let listing = pal::fs::list(dir, 0, 0).map_err(|e| format!("fs.list {dir} refused: {e}"))?;
    let mut todos: Vec<String> = Vec::new();
    let (mut read, mut skipped) = (0usize, 0usize);
    for e in listing.entries.iter().filter(|e| e.kind == "file") {
        if read >= MAX_FILES {
            break;
        }
        let f = match pal::fs::read(&e.path, MAX_FILE_BYTES) {
            Ok(f) => f,
            Err(err) => {
                // A denied file (a deny glob, a symlink out of the root) is skipped, and so is
                // one we cannot read; the tool reports how many.
                pal::log(pal::Level::Info, &format!("skipped {}: {err}", e.path));
                skipped += 1;
                continue;
            }
        };
        read += 1;
        for (n, line) in f.text().lines().enumerate() {
            if todos.len() >= MAX_LINES {
                break;
            }
            if line.contains("TODO") || line.contains("FIXME") {
                todos.push(format!("{}:{}: {}", e.path, n + 1, line.trim()));
            }
        }
        // Progress is best effort: a client that did not ask for it still gets the result.
        let _ = pal::progress(read as f64, 0.0, &format!("read {}", e.path));
    }
    let head = format!("Read {read} files, skipped {skipped}, found {} TODO lines.", todos.len());
    if todos.is_empty() {
        return Ok(pal::text(head));
    }
    let opts = pal::model::GenerateOptions {
        model: call.args.get("model").str().to_string(),
        system: "You summarise TODO comments for a developer: group them by theme, most urgent first, in a few lines.".to_string(),
        ..Default::default()
    };
    let prompt = format!("TODO and FIXME lines found in {dir}:\n{}", todos.join("\n"));
    let g = pal::model::generate(&prompt, &opts).map_err(|e| format!("{head}\nmodel.generate refused: {e}"))?;
    let structured = Obj::new().num("files_read", read as f64).num("files_skipped", skipped as f64).strs("todos", &todos).str("model", &g.model).finish();
    Ok(pal::text(format!("{head}\n\nSummary ({}):\n{}\n\n{}", g.model, g.content, todos.join("\n"))).with_structured(structured))
}

#[cfg(test)]
mod tests {
    use super::module;
    use pal_kit::fakehost::FakeHost;
    use std::cell::RefCell;
    use std::rc::Rc;

    const ALL: &[&str] = &["fs.list", "fs.read", "model.generate", "progress"];

    fn host() -> FakeHost {
        FakeHost::new()
            .file("/w/src/a.rs", "let x = 1;\n// TODO: handle the empty case\n")
            .file("/w/src/b.go", "package b\n// FIXME: leaks a file handle\n")
            .file("/w/README.md", "nothing to do here\n")
            .file("/w/.env", "SECRET=1 // TODO never read\n")
            .file("/w/id_rsa", "KEY // TODO never read\n")
            .root("/w")
            .deny(".env*")
            .deny("id_*")
    }

    #[test]
    fn manifest() {
        let m = module();
        assert!(m.check().is_ok());
        assert_eq!(m.tools[0].name, "todo_finder");
        assert_eq!(m.tools[0].capabilities, ALL);
    }

    #[test]
    fn finds_todos_and_asks_the_model() {
        let prompt = Rc::new(RefCell::new(String::new()));
        let seen = prompt.clone();
        let mut h = host().grant(ALL).model(move |p, _| {
            *seen.borrow_mut() = p.to_string();
            Ok("two items".to_string())
        });
        let out = h.call(&module(), "todo_finder", r#"{"path":"/w"}"#);
        assert!(!out.is_error(), "{}", out.text());
        assert!(out.text().contains("Read 3 files, skipped 0, found 2 TODO lines."), "{}", out.text());
        assert!(out.text().contains("two items"));
        let p = prompt.borrow();
        assert!(p.contains("/w/src/a.rs:2: // TODO: handle the empty case"), "{p}");
        assert!(p.contains("/w/src/b.go:2: // FIXME: leaks a file handle"), "{p}");
        assert!(!p.contains("never read"), "{p}");
        assert_eq!(out.result.get("structuredContent").get("files_read").num(), 3.0);
        assert_eq!(out.ops_named("progress").len(), 3);
    }

    #[test]
    fn a_capability_not_granted_is_refused_with_the_hosts_text() {
        let mut h = host().grant(&["fs.list", "fs.read"]);
        let out = h.call(&module(), "todo_finder", r#"{"path":"/w"}"#);
        assert!(out.is_error());
        let want = r#"model.generate refused: not_granted: tool "todo_finder" has no "model.generate" capability in this call (granted: {fs.read,fs.list})"#;
        assert!(out.text().contains(want), "{}", out.text());
        assert!(out.ops_named("model.generate").iter().all(|o| o.code == "not_granted"));
        // progress was not granted either: refused, and the tool went on.
        assert!(out.ops_named("progress").iter().all(|o| o.code == "not_granted"));
    }

    #[test]
    fn outside_the_roots_is_refused() {
        let mut h = host().grant(ALL);
        let out = h.call(&module(), "todo_finder", r#"{"path":"/etc"}"#);
        assert!(out.is_error());
        assert!(out.text().contains(r#"fs.list /etc refused: denied: "/etc" is outside every allowed root"#), "{}", out.text());
    }

    #[test]
    fn fs_list_refused() {
        let mut h = host();
        let out = h.call(&module(), "todo_finder", r#"{"path":"/w"}"#);
        assert!(out.is_error());
        assert!(out.text().contains("fs.list /w refused: not_granted"), "{}", out.text());
    }
}
