package app

import (
	"log/slog"
	"testing"
)

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"", slog.LevelInfo, true},
		{"debug", slog.LevelDebug, true},
		{" INFO ", slog.LevelInfo, true},
		{"Warning", slog.LevelWarn, true},
		{"WARN", slog.LevelWarn, true},
		{"critical", slog.LevelError, true},
		{"bogus", slog.LevelInfo, false},
		{"TRACE", slog.LevelInfo, false},
	} {
		if got, ok := logLevel(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("logLevel(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
