package runtime

import (
	"errors"
	"testing"
)

func TestCheckImport(t *testing.T) {
	cases := []struct {
		module, name string
		want         error // nil, ErrImportNoAccess or ErrImportNotProvided
	}{
		{"pal", "call", nil},
		{"pal", "log", nil},
		{"pal", "exec", ErrImportNotProvided},
		{"wasi_snapshot_preview1", "fd_write", nil},
		{"wasi_snapshot_preview1", "clock_time_get", nil},
		{"wasi_snapshot_preview1", "random_get", nil},
		{"wasi_snapshot_preview1", "fd_prestat_get", nil}, // Go and wasi-libc probe preopens: there are none
		{"wasi_snapshot_preview1", "path_open", ErrImportNoAccess},
		{"wasi_snapshot_preview1", "path_unlink_file", ErrImportNoAccess},
		{"wasi_snapshot_preview1", "path_readlink", ErrImportNoAccess},
		{"wasi_snapshot_preview1", "sock_accept", ErrImportNoAccess},
		{"wasi_snapshot_preview1", "sock_recv", ErrImportNoAccess},
		{"wasi_snapshot_preview1", "fork", ErrImportNotProvided},
		{"wasi_unstable", "fd_write", ErrImportNotProvided},
		{"env", "abort", ErrImportNotProvided},
		{"extism:host/env", "alloc", ErrImportNotProvided}, // native modules; runtime/extism has its own entry point
	}
	for _, tc := range cases {
		err := CheckImport(tc.module, tc.name)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s.%s: got %v, want %v", tc.module, tc.name, err, tc.want)
		}
	}
}
