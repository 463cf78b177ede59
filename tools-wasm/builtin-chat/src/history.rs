//! A conversation thread as the text a model reads when the conversation continues, as the
//! Go kit's package `history` writes it: the files the thread referred to (newest first,
//! within a file budget), then its turns (the newest that fit a history budget, shown oldest
//! first with their original numbers). Also the split of a context window into budgets.
//!
//! Arithmetic is Go's `int` (64-bit, wrapping), so that a hostile context window or file
//! size gives the Go kit's numbers rather than a panic.

use crate::embed;
use crate::host::{Thread, Turn};
use crate::time::Stamp;

/// A context window split into budgets, in tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// Everything sent to the model.
    pub content: i64,
    /// Kept free for the reply.
    pub response: i64,
    /// Files, out of `content`.
    pub files: i64,
    /// Conversation history, out of `content`.
    pub history: i64,
}

/// Splits a context window of `w` tokens: below 300,000, content 60 % (files 30 % and
/// history 50 % of it); from 300,000 up, content 80 % (files and history 40 % each).
/// Fractions are truncated (`history.Allocate`).
pub fn allocate(w: i64) -> Allocation {
    let w = w.max(0);
    if w < 300_000 {
        let c = w.wrapping_mul(6) / 10;
        return Allocation { content: c, response: w.wrapping_sub(c), files: c.wrapping_mul(3) / 10, history: c / 2 };
    }
    let c = w.wrapping_mul(8) / 10;
    Allocation { content: c, response: w.wrapping_sub(c), files: c.wrapping_mul(4) / 10, history: c.wrapping_mul(4) / 10 }
}

/// Tokens of history text: one per 3 bytes (`history.Tokens`).
pub fn tokens(s: &str) -> i64 {
    (s.len() / 3) as i64
}

/// Gives the builder the files a thread refers to (`history.FileSource`).
pub trait FileSource {
    /// A file's size in bytes; `None` when the file cannot be used.
    fn size(&mut self, path: &str) -> Option<i64>;
    /// A file's normalised text and modification time; `None` when it cannot be used.
    fn read(&mut self, path: &str) -> Option<(String, Stamp)>;
}

/// The history text and its token estimate (`history.Built`, the parts chat uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    pub text: String,
    pub tokens: i64,
}

/// The unique files of a thread, newest turn first and, within a turn, in the order the turn
/// listed them (`history.ThreadFiles`).
pub fn thread_files(th: &Thread) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in th.turns.iter().rev() {
        for f in &t.files {
            if seen.insert(f.as_str()) {
                out.push(f.clone());
            }
        }
    }
    out
}

/// Renders the history of `th` for a model with allocation `a`; `max_turns` is the thread's
/// turn cap, shown in the header (`history.Build`).
pub fn build(th: &Thread, max_turns: i64, a: &Allocation, src: &mut dyn FileSource) -> Built {
    let n = th.turns.len();
    let mut b = format!("=== CONVERSATION HISTORY (CONTINUATION) ===\nThread: {}\nTool: {}\nTurn {n}/{max_turns}\n", th.id, th.tool);
    b.push_str("This request continues the conversation recorded below.\n");

    let files = thread_files(th);
    let mut file_section = String::new();
    if !files.is_empty() {
        let mut blocks: Vec<String> = Vec::new();
        let (mut used, mut omitted) = (0i64, 0usize);
        for f in &files {
            let size = match src.size(f) {
                Some(s) => s,
                None => {
                    omitted += 1;
                    continue;
                }
            };
            let cost = embed::file_tokens(f, size);
            if used.wrapping_add(cost) > a.files {
                omitted += 1;
                continue;
            }
            let (text, modified) = match src.read(f) {
                Some(r) => r,
                None => {
                    omitted += 1;
                    continue;
                }
            };
            used = used.wrapping_add(cost);
            blocks.push(embed::block(f, &modified, text.strip_suffix('\n').unwrap_or(&text)));
        }
        file_section.push_str("\n=== FILES REFERENCED IN THIS CONVERSATION ===\n");
        file_section.push_str("Files shared earlier in this conversation, most recently referenced first. The turns below refer to them.\n");
        if omitted > 0 {
            file_section.push_str(&format!("[NOTE: {omitted} file(s) left out: over the file budget, missing, or no longer readable.]\n"));
        }
        file_section.push_str(&blocks.join("\n"));
        file_section.push_str("\n=== END REFERENCED FILES ===\n");
    }
    b.push_str(&file_section);

    // Newest turns first while they fit beside the file section.
    let mut spent = tokens(&file_section);
    let mut shown: Vec<String> = Vec::new();
    for (i, t) in th.turns.iter().enumerate().rev() {
        let text = render_turn(i + 1, t);
        if spent.wrapping_add(tokens(&text)) > a.history {
            break;
        }
        spent += tokens(&text);
        shown.push(text);
    }
    b.push_str("\nPrevious conversation turns:\n");
    for t in shown.iter().rev() {
        b.push('\n');
        b.push_str(t);
    }
    if shown.len() < n {
        b.push_str(&format!("\n[Note: Showing {} most recent turns out of {n} total]\n", shown.len()));
    }
    b.push_str("\n=== END CONVERSATION HISTORY ===\n\n");
    b.push_str(&format!(
        "Carry the conversation forward from here: build on what has already been said rather than repeating or summarising it, and answer the new input below. This is turn {} of the conversation.",
        n + 1
    ));
    let tokens = tokens(&b);
    Built { text: b, tokens }
}

/// One turn with its 1-based number.
fn render_turn(n: usize, t: &Turn) -> String {
    let mut who = if t.role == "assistant" {
        if t.model.is_empty() {
            "Assistant".to_string()
        } else {
            t.model.clone()
        }
    } else {
        "Agent".to_string()
    };
    if !t.tool.is_empty() {
        who.push_str(" using ");
        who.push_str(&t.tool);
    }
    if t.role == "assistant" && !t.provider.is_empty() {
        who.push_str(" via ");
        who.push_str(&t.provider);
    }
    let mut b = format!("--- Turn {n} ({who}) ---\n");
    if !t.files.is_empty() {
        b.push_str("Files used in this turn: ");
        b.push_str(&t.files.join(", "));
        b.push_str("\n\n");
    }
    b.push_str(&t.content);
    b.push('\n');
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn allocates() {
        assert_eq!(allocate(10_000), Allocation { content: 6_000, response: 4_000, files: 1_800, history: 3_000 });
        assert_eq!(allocate(1_048_576), Allocation { content: 838_860, response: 209_716, files: 335_544, history: 335_544 });
        assert_eq!(allocate(-5), Allocation { content: 0, response: 0, files: 0, history: 0 });
        allocate(i64::MAX); // wraps as Go's int does, no panic
    }

    struct Files(BTreeMap<String, String>);

    impl FileSource for Files {
        fn size(&mut self, p: &str) -> Option<i64> {
            self.0.get(p).map(|t| t.len() as i64)
        }
        fn read(&mut self, p: &str) -> Option<(String, Stamp)> {
            self.0.get(p).map(|t| (t.clone(), Stamp::parse("2026-01-02T03:04:05Z")))
        }
    }

    fn turn(role: &str, content: &str, files: &[&str]) -> Turn {
        Turn { role: role.into(), content: content.into(), files: files.iter().map(|s| s.to_string()).collect(), tool: "chat".into(), ..Default::default() }
    }

    #[test]
    fn builds_with_budgets() {
        let mut th = Thread { id: "t-1".into(), tool: "chat".into(), max_turns: 50, ..Default::default() };
        th.turns = vec![turn("user", "first question", &["/a.go", "/b.go"]), turn("assistant", "answer", &[]), turn("user", "second", &["/b.go", "/gone.go"])];
        th.turns[1].model = "m".into();
        th.turns[1].provider = "p".into();
        assert_eq!(thread_files(&th), ["/b.go", "/gone.go", "/a.go"]);
        let mut src = Files([("/a.go".to_string(), "a\n".repeat(30)), ("/b.go".to_string(), "b\n".to_string())].into_iter().collect());
        let big = build(&th, 50, &allocate(1_000_000), &mut src);
        assert!(big.text.starts_with("=== CONVERSATION HISTORY (CONTINUATION) ===\nThread: t-1\nTool: chat\nTurn 3/50\n"));
        assert!(big.text.contains("[NOTE: 1 file(s) left out"));
        assert!(big.text.contains("\n--- BEGIN FILE: /b.go (Last modified: 2026-01-02 03:04:05 UTC) ---\nb\n--- END FILE: /b.go ---\n\n\n--- BEGIN FILE: /a.go"));
        assert!(big.text.contains("--- Turn 2 (m using chat via p) ---\nanswer\n"));
        assert!(big.text.contains("--- Turn 1 (Agent using chat) ---\nFiles used in this turn: /a.go, /b.go\n\nfirst question\n"));
        assert!(big.text.ends_with("This is turn 4 of the conversation."));
        assert_eq!(big.tokens, tokens(&big.text));

        // A tiny window: only the two-byte file fits (0 tokens), no turn.
        let a = Allocation { content: 100, response: 0, files: 0, history: 7 };
        let small = build(&th, 50, &a, &mut src);
        assert!(small.text.contains("[NOTE: 2 file(s) left out") && small.text.contains("BEGIN FILE: /b.go") && !small.text.contains("BEGIN FILE: /a.go"));
        assert!(small.text.contains("[Note: Showing 0 most recent turns out of 3 total]"), "{}", small.text);
    }
}
