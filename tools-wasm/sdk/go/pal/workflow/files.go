package workflow

import (
	"errors"
	"time"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/embed"
)

type file struct {
	text     string
	size     int64
	modified time.Time
}

// fileSource implements history.FileSource through fs.read.
type fileSource struct{ cache map[string]*file }

func (s *fileSource) Size(p string) (int64, bool) {
	if f, ok := s.cache[p]; ok {
		return f.size, true
	}
	info, _, err := pal.ReadFile(p, 1)
	if err != nil {
		return 0, false
	}
	return info.Size, true
}

func (s *fileSource) Read(p string) (string, time.Time, bool) {
	if f, ok := s.cache[p]; ok {
		return f.text, f.modified, true
	}
	info, body, err := pal.ReadFile(p, 0)
	if err != nil {
		return "", time.Time{}, false
	}
	f := &file{text: embed.Normalize(body), size: info.Size, modified: info.Modified}
	s.cache[p] = f
	return f.text, f.modified, true
}

// reason is why a file was not embedded, in words.
func reason(err error) string {
	var he *pal.HostError
	if errors.As(err, &he) {
		switch he.Code {
		case pal.CodeDenied:
			return "access denied by the server's file policy"
		case pal.CodeNotGranted:
			return "this tool is not granted file access in pal.toml"
		case pal.CodeNotFound:
			return "not found"
		case pal.CodeTooLarge:
			return "over the per-file size limit"
		}
		return string(he.Code)
	}
	return err.Error()
}

// readFiles reads paths (directories expand to their source files) into line-numbered
// blocks while they fit budget tokens. A file that cannot be read or does not fit is left
// out and listed with the reason; nothing fails the call.
func readFiles(paths []string, budget int, maxFileBytes int64) (text string, embedded, left []string) {
	files, embedded, left := readBlocks(paths, budget, maxFileBytes)
	return string(appendJoined(make([]byte, 0, joinedLen(files)), files)), embedded, left
}

// readBlocks is readFiles with the blocks measured but not yet written (each holds its
// file's bytes), so that a prompt can be allocated once at its full size and the blocks
// written straight into it (BuildPrompt).
func readBlocks(paths []string, budget int, maxFileBytes int64) (files []embed.File, embedded, left []string) {
	used := 0
	seen := map[string]bool{}
	var add func(p string, fromDir bool)
	add = func(p string, fromDir bool) {
		if seen[p] {
			return
		}
		seen[p] = true
		if used >= budget {
			left = append(left, p+" (token budget used up)")
			return
		}
		info, body, err := pal.ReadFile(p, 0)
		switch {
		case err == nil:
		case pal.IsDirectory(err) && !fromDir:
			list, lerr := pal.ListDir(p, 0, 0)
			if lerr != nil {
				left = append(left, p+" ("+reason(lerr)+")")
				return
			}
			for _, e := range list.Entries {
				if e.Kind == "file" && embed.IsCodeFile(e.Path) {
					if maxFileBytes > 0 && e.Size > maxFileBytes {
						left = append(left, e.Path+" (over the per-file size limit)")
						continue
					}
					add(e.Path, true)
				}
			}
			if list.Truncated {
				left = append(left, p+" (listing cut at the host's entry or depth cap)")
			}
			return
		default:
			left = append(left, p+" ("+reason(err)+")")
			return
		}
		f := embed.PrepareFile(p, info.Modified, body) // body is not changed after this
		if used+f.Tokens() > budget {
			left = append(left, p+" (does not fit the token budget)")
			return
		}
		used += f.Tokens()
		files = append(files, f)
		embedded = append(embedded, p)
	}
	for _, p := range paths {
		add(p, false)
	}
	return files, embedded, left
}

// joinedLen is the length of the files' blocks joined with "\n".
func joinedLen(files []embed.File) int {
	n := max(len(files)-1, 0)
	for _, f := range files {
		n += f.Len()
	}
	return n
}

// appendJoined appends the files' blocks joined with "\n" to b.
func appendJoined(b []byte, files []embed.File) []byte {
	for i, f := range files {
		if i > 0 {
			b = append(b, '\n')
		}
		b = f.AppendTo(b)
	}
	return b
}

// ReadFiles is readFiles for custom flows: line-numbered file blocks within budget
// tokens, the files embedded and the files left out with the reason.
func ReadFiles(paths []string, budget int, maxFileBytes int64) (string, []string, []string) {
	return readFiles(paths, budget, maxFileBytes)
}
