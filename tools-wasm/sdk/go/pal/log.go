package pal

import "fmt"

// Level is the severity of a log line.
type Level int32

// Log levels of the log import.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// Log writes one diagnostic line to the server's log (stderr), never to the client. The
// host cuts lines at 4 KiB and drops lines past 1,000 per call. Never log file contents,
// prompts or anything secret.
func Log(level Level, msg string) { logToHost(level, msg) }

// Logf is Log with fmt.Sprintf formatting.
func Logf(level Level, format string, args ...any) { logToHost(level, fmt.Sprintf(format, args...)) }
