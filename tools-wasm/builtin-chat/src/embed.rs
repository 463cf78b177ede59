//! Files in a model prompt, as the Go kit's package `embed` writes them: text normalisation,
//! line numbers, the block naming a file and its modification time, the notes on files left
//! out, and the token estimates that decide what fits a budget.

use crate::gofmt::{lower_ascii, path_ext, to_valid_utf8};
use crate::time::Stamp;

/// Prompt text of file bytes: each run of invalid UTF-8 becomes U+FFFD, CRLF and lone CR
/// become LF (`embed.Normalize`).
pub fn normalize(b: &[u8]) -> String {
    let s = to_valid_utf8(b);
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s
    }
}

/// Every line prefixed with its 1-based number, right-aligned to at least 4 characters, and
/// "│ "; a final line end starts no numbered empty line; empty text stays empty
/// (`embed.LineNumbered`).
pub fn line_numbered(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    let lines = text.bytes().filter(|&c| c == b'\n').count() + 1;
    let mut width = 4;
    let mut n = lines;
    while n > 9999 {
        width += 1;
        n /= 10;
    }
    let mut out = String::with_capacity(text.len() + lines * (width + 4));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let num = (i + 1).to_string();
        for _ in num.len()..width {
            out.push(' ');
        }
        out.push_str(&num);
        out.push_str("│ ");
        out.push_str(line);
    }
    out
}

/// A file's text between begin and end markers naming its path and, when known, its
/// modification time in UTC (`embed.Block`).
pub fn block(path: &str, modified: &Stamp, text: &str) -> String {
    let stamp = match modified.format() {
        Some(t) => format!(" (Last modified: {t} UTC)"),
        None => String::new(),
    };
    format!("\n--- BEGIN FILE: {path}{stamp} ---\n{text}\n--- END FILE: {path} ---\n")
}

/// Tokens of prompt text: one per 4 bytes (`embed.Tokens`).
pub fn tokens(s: &str) -> i64 {
    (s.len() / 4) as i64
}

/// Bytes per token by extension; dense formats have fewer (Go's `bytesPerToken`).
const BYTES_PER_TOKEN: [(&str, f64); 20] = [
    (".json", 2.5),
    (".yaml", 3.0),
    (".yml", 3.0),
    (".xml", 3.0),
    (".csv", 3.1),
    (".toml", 3.0),
    (".md", 4.2),
    (".txt", 4.0),
    (".rst", 4.1),
    (".html", 2.8),
    (".css", 3.0),
    (".log", 4.5),
    (".py", 3.5),
    (".go", 3.3),
    (".js", 3.2),
    (".ts", 3.3),
    (".java", 3.6),
    (".c", 3.4),
    (".cpp", 3.4),
    (".rs", 3.4),
];

/// The lowercased extension of `p`, when it could match an ASCII table.
fn ext(p: &str) -> Option<String> {
    lower_ascii(path_ext(p))
}

/// Estimated tokens of a file of `size` bytes from its extension, 3.5 bytes per token when
/// the extension is not known (`embed.FileTokens`).
pub fn file_tokens(p: &str, size: i64) -> i64 {
    let e = ext(p);
    let ratio = BYTES_PER_TOKEN.iter().find(|(k, _)| Some(*k) == e.as_deref()).map_or(3.5, |(_, r)| *r);
    (size as f64 / ratio) as i64
}

/// The extensions a directory walk keeps (Go's `codeExtensions`).
const CODE_EXTENSIONS: [&str; 48] = [
    ".py", ".js", ".ts", ".jsx", ".tsx", ".java", ".cpp", ".c", ".h", ".hpp", ".cs", ".go", ".rs", ".rb", ".php", ".swift", ".kt", ".scala", ".r", ".m", ".mm", ".sql", ".sh", ".bash", ".zsh",
    ".fish", ".ps1", ".bat", ".cmd", ".yml", ".yaml", ".json", ".xml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".env", ".txt", ".md", ".rst", ".tex", ".html", ".css", ".scss", ".sass",
    ".less",
];

/// Whether a directory walk keeps the file: source, script, config, documentation and web
/// files, by extension, ignoring case (`embed.IsCodeFile`).
pub fn is_code_file(p: &str) -> bool {
    ext(p).map_or(false, |e| CODE_EXTENSIONS.contains(&e.as_str()))
}

/// The files left out for lack of room, the first ten by path (`embed.SkippedNote`).
pub fn skipped_note(paths: &[String]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let mut b = format!("--- SKIPPED FILES (TOKEN LIMIT) ---\nTotal skipped: {}\n", paths.len());
    for (i, p) in paths.iter().enumerate() {
        if i == 10 {
            b.push_str(&format!("  ... and {} more\n", paths.len() - 10));
            break;
        }
        b.push_str("  - ");
        b.push_str(p);
        b.push('\n');
    }
    b.push_str("--- END SKIPPED FILES ---");
    b
}

/// Requested files not embedded again because the history holds them (`embed.InHistoryNote`).
pub fn in_history_note(paths: &[String]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let mut b = String::from("--- NOTE: Additional files referenced in conversation history ---\n");
    b.push_str("These files are part of the conversation history above and are not repeated here:\n");
    for p in paths {
        b.push_str("  - ");
        b.push_str(p);
        b.push('\n');
    }
    b.push_str("--- END NOTE ---");
    b
}

/// The paths given held no usable files (`embed.NoFilesNote`).
pub fn no_files_note(paths: &[String]) -> String {
    format!("--- NO FILES FOUND ---\nProvided paths: {}\n--- END ---", paths.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize(b"a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(normalize(b"x\xff\xfe\r\n"), "x\u{FFFD}\n");
        assert_eq!(normalize(b""), "");
    }

    #[test]
    fn numbers_lines() {
        assert_eq!(line_numbered(""), "");
        assert_eq!(line_numbered("\n"), "   1│ ");
        assert_eq!(line_numbered("package main\n\nfunc main() {}\n"), "   1│ package main\n   2│ \n   3│ func main() {}");
        assert_eq!(line_numbered("a\n\n"), "   1│ a\n   2│ ");
        let many = "x\n".repeat(10_000);
        let n = line_numbered(&many);
        assert!(n.starts_with("    1│ x\n") && n.ends_with("\n10000│ x"), "{}", &n[n.len() - 20..]);
        let more = "x\n".repeat(100_000);
        assert!(line_numbered(&more).ends_with("\n100000│ x"));
    }

    #[test]
    fn blocks() {
        let t = Stamp::parse("2026-01-02T03:04:05Z");
        assert_eq!(block("/a.go", &t, "x"), "\n--- BEGIN FILE: /a.go (Last modified: 2026-01-02 03:04:05 UTC) ---\nx\n--- END FILE: /a.go ---\n");
        assert_eq!(block("/a.go", &Stamp::default(), ""), "\n--- BEGIN FILE: /a.go ---\n\n--- END FILE: /a.go ---\n");
    }

    #[test]
    fn estimates() {
        assert_eq!(tokens("abcdefg"), 1);
        assert_eq!(file_tokens("/a.JSON", 100), 40);
        assert_eq!(file_tokens("/a.go", 100), 30);
        assert_eq!(file_tokens("/a", 100), 28);
        assert_eq!(file_tokens("/a.weird", 7), 2);
        assert!(is_code_file("/a/B.GO") && is_code_file("/x.\u{212A}T") && !is_code_file("/logo.png") && !is_code_file("/Makefile") && !is_code_file("/a."));
    }

    #[test]
    fn notes() {
        let paths: Vec<String> = (0..12).map(|i| format!("/p{i}")).collect();
        let n = skipped_note(&paths);
        assert!(n.starts_with("--- SKIPPED FILES (TOKEN LIMIT) ---\nTotal skipped: 12\n  - /p0\n") && n.ends_with("  - /p9\n  ... and 2 more\n--- END SKIPPED FILES ---"));
        assert_eq!(skipped_note(&[]), "");
        assert_eq!(in_history_note(&["/a".to_string()]), "--- NOTE: Additional files referenced in conversation history ---\nThese files are part of the conversation history above and are not repeated here:\n  - /a\n--- END NOTE ---");
        assert_eq!(no_files_note(&["/a".to_string(), "/b".to_string()]), "--- NO FILES FOUND ---\nProvided paths: /a, /b\n--- END ---");
    }
}
