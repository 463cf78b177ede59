// Package embed formats files for a model prompt: text normalisation, line numbers, the
// per-file block that names the path and modification time, the notes about files left
// out, and the token estimates that decide what fits a budget.
package embed

import (
	"bytes"
	"fmt"
	"math/bits"
	"path"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Normalize turns file bytes into prompt text: invalid UTF-8 becomes U+FFFD and CRLF or
// lone CR line ends become LF.
func Normalize(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// LineNumbered prefixes every line with its 1-based number, right-aligned to the width of
// the largest number but at least 4 characters, and "│ " (U+2502, space). A final line end
// does not start a numbered empty line; empty text stays empty.
func LineNumbered(text string) string {
	text, n, width := numbering(text)
	b := appendNumbered(make([]byte, 0, n), text, width)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not kept: no copy needed
}

// AppendFile appends to dst the block Block(p, modified, LineNumbered(Normalize(body)))
// returns, with one allocation when dst has no room: the file bytes are read in place
// (never kept, never changed) when they are valid UTF-8 with no CR, and the block is
// written once at its exact size.
func AppendFile(dst []byte, p string, modified time.Time, body []byte) []byte {
	f := PrepareFile(p, modified, body)
	return f.AppendTo(dst)
}

// A File is a file's block measured before it is written, so that a prompt holding many
// can be allocated once at its size (PrepareFile, Len, AppendTo).
type File struct {
	head, text, tail string
	numbered, width  int
}

// PrepareFile measures the block of the file at p with bytes body (what AppendFile
// appends). When body is valid UTF-8 with no CR the File reads it in place: body must not
// change until AppendTo has run.
func PrepareFile(p string, modified time.Time, body []byte) File {
	var f File
	if utf8.Valid(body) && bytes.IndexByte(body, '\r') < 0 {
		f.text = unsafe.String(unsafe.SliceData(body), len(body)) // read in place, see above
	} else {
		f.text = Normalize(body)
	}
	f.head, f.tail = blockEnds(p, modified)
	f.text, f.numbered, f.width = numbering(f.text)
	return f
}

// Len is the length of the file's block.
func (f File) Len() int { return len(f.head) + f.numbered + len(f.tail) }

// Tokens is Tokens of the file's block.
func (f File) Tokens() int { return f.Len() / 4 }

// AppendTo appends the file's block to dst, allocating once when dst has no room for it.
func (f File) AppendTo(dst []byte) []byte {
	if n := f.Len(); cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	dst = append(dst, f.head...)
	dst = appendNumbered(dst, f.text, f.width)
	return append(dst, f.tail...)
}

// bar follows each line number.
const bar = "│ "

// numbering returns the text numbering works on (without a final line end), the length
// of LineNumbered(text) and the width of its numbers.
func numbering(text string) (trimmed string, numbered, width int) {
	if text == "" {
		return "", 0, 0
	}
	text = strings.TrimSuffix(text, "\n")
	lines := countLines(text) + 1
	width = 4
	for n := lines; n > 9999; n /= 10 {
		width++
	}
	return text, len(text) + lines*(width+len(bar)), width
}

// appendNumbered appends LineNumbered(text) to b, given numbering's trimmed text and width
// (the line count is read once, by numbering).
//
// One pass with no per-line allocation or formatting: the number is kept as text and
// counted up in place, and each line costs one search for its end and two copies. In wasm,
// fmt per line, then strconv per line and strings.Count's byte loop, cost more than the
// rest of a workflow's guest work on large files (docs/RATIONALE.md §57, §58).
func appendNumbered(b []byte, text string, width int) []byte {
	if width == 0 { // empty text
		return b
	}
	// prefix is "\n", the number right-aligned in width, then bar; line 1 has no "\n".
	var buf [1 + 20 + len(bar)]byte
	prefix := buf[:1+width+len(bar)]
	prefix[0] = '\n'
	for i := 1; i <= width; i++ {
		prefix[i] = ' '
	}
	copy(prefix[1+width:], bar)
	from := 1
	for {
		for i := width; ; i-- { // count up: 9 carries, a blank becomes 1
			if c := prefix[i]; c == '9' {
				prefix[i] = '0'
				continue
			} else if c == ' ' {
				prefix[i] = '1'
			} else {
				prefix[i] = c + 1
			}
			break
		}
		b = append(b, prefix[from:]...)
		from = 0
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			return append(b, text...)
		}
		b = append(b, text[:i]...)
		text = text[i+1:]
	}
}

// countLines counts the line ends in s. Natively strings.Count uses the CPU's vector
// instructions; Go's wasm port has none and counts a byte per loop iteration (~6 ms per
// MiB in pal), so there it reads 8 bytes at a time.
func countLines(s string) int {
	if runtime.GOARCH != "wasm" {
		return strings.Count(s, "\n")
	}
	return countLinesByWords(s)
}

// countLinesByWords is countLines 8 bytes per loop iteration, with no vector instructions.
func countLinesByWords(s string) int {
	const ones, low7 = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		x ^= ones * '\n' // a line end is now a zero byte
		// The high bit of each byte of ^y is set exactly where x has a zero byte.
		y := (x&low7 + low7) | x | low7
		n += bits.OnesCount64(^y)
	}
	for ; i < len(s); i++ {
		if s[i] == '\n' {
			n++
		}
	}
	return n
}

// Block wraps a file's (already formatted) text in begin and end markers naming the path
// and, when known, its modification time in UTC.
func Block(p string, modified time.Time, text string) string {
	head, tail := blockEnds(p, modified)
	return head + text + tail
}

// blockEnds returns what Block puts before and after a file's text.
func blockEnds(p string, modified time.Time) (head, tail string) {
	stamp := ""
	if !modified.IsZero() {
		stamp = " (Last modified: " + modified.UTC().Format("2006-01-02 15:04:05") + " UTC)"
	}
	return "\n--- BEGIN FILE: " + p + stamp + " ---\n", "\n--- END FILE: " + p + " ---\n"
}

// Tokens estimates the tokens of prompt text: one per 4 bytes.
func Tokens[T string | []byte](s T) int { return len(s) / 4 }

// bytesPerToken are rough bytes-per-token ratios by extension; dense formats have fewer.
var bytesPerToken = map[string]float64{
	".json": 2.5, ".yaml": 3.0, ".yml": 3.0, ".xml": 3.0, ".csv": 3.1, ".toml": 3.0,
	".md": 4.2, ".txt": 4.0, ".rst": 4.1, ".html": 2.8, ".css": 3.0, ".log": 4.5,
	".py": 3.5, ".go": 3.3, ".js": 3.2, ".ts": 3.3, ".java": 3.6, ".c": 3.4, ".cpp": 3.4, ".rs": 3.4,
}

// FileTokens estimates the tokens of a file of size bytes from its extension (3.5 bytes
// per token when the extension is not known).
func FileTokens(p string, size int64) int {
	ratio, ok := bytesPerToken[strings.ToLower(path.Ext(p))]
	if !ok {
		ratio = 3.5
	}
	return int(float64(size) / ratio)
}

// codeExtensions are the extensions kept when a directory is expanded; files named
// explicitly are used whatever their extension.
var codeExtensions = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`.py .js .ts .jsx .tsx .java .cpp .c .h .hpp .cs .go .rs .rb .php .swift .kt
		.scala .r .m .mm .sql .sh .bash .zsh .fish .ps1 .bat .cmd .yml .yaml .json .xml .toml .ini .cfg .conf
		.properties .env .txt .md .rst .tex .html .css .scss .sass .less`) {
		codeExtensions[e] = true
	}
}

// IsCodeFile reports whether a directory walk keeps the file: source, script, config,
// documentation and web files, by extension, case-insensitively.
func IsCodeFile(p string) bool { return codeExtensions[strings.ToLower(path.Ext(p))] }

// SkippedNote lists files left out for lack of room, the first ten by path.
func SkippedNote(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- SKIPPED FILES (TOKEN LIMIT) ---\nTotal skipped: %d\n", len(paths))
	for i, p := range paths {
		if i == 10 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(paths)-10)
			break
		}
		b.WriteString("  - " + p + "\n")
	}
	b.WriteString("--- END SKIPPED FILES ---")
	return b.String()
}

// InHistoryNote lists requested files not embedded again because the conversation
// history already holds them.
func InHistoryNote(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("--- NOTE: Additional files referenced in conversation history ---\n")
	b.WriteString("These files are part of the conversation history above and are not repeated here:\n")
	for _, p := range paths {
		b.WriteString("  - " + p + "\n")
	}
	b.WriteString("--- END NOTE ---")
	return b.String()
}

// NoFilesNote says that the paths given held no usable files.
func NoFilesNote(paths []string) string {
	return "--- NO FILES FOUND ---\nProvided paths: " + strings.Join(paths, ", ") + "\n--- END ---"
}
