package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/runtime/abi"
)

// WASIModule is the import module of WASI preview 1, the only WASI pal links.
const WASIModule = "wasi_snapshot_preview1"

// Import errors: what CheckImport finds wrong with one import of a module.
var (
	// ErrImportNotProvided: the host has no such function; a module importing it cannot be
	// instantiated, and the loader refuses it.
	ErrImportNotProvided = errors.New("not provided by pal")
	// ErrImportNoAccess: a WASI function that opens, names or changes a file by path, or
	// uses a socket. pal links it (a Go or wasi-libc guest may import one it never calls),
	// but it can only fail: a module has no preopened directory and no socket. The loader
	// accepts such a module; `pal tool check` refuses it, because a tool written to use
	// them does not work.
	ErrImportNoAccess = errors.New("pal gives modules no files or sockets")
)

// wasiFunctions lists WASI preview 1 (every function wazero's wasi_snapshot_preview1
// exports); true marks the functions that work on paths or sockets (ErrImportNoAccess).
var wasiFunctions = map[string]bool{
	"args_get": false, "args_sizes_get": false, "environ_get": false, "environ_sizes_get": false,
	"clock_res_get": false, "clock_time_get": false, "random_get": false, "sched_yield": false,
	"proc_exit": false, "proc_raise": false, "poll_oneoff": false,
	"fd_advise": false, "fd_allocate": false, "fd_close": false, "fd_datasync": false,
	"fd_fdstat_get": false, "fd_fdstat_set_flags": false, "fd_fdstat_set_rights": false,
	"fd_filestat_get": false, "fd_filestat_set_size": false, "fd_filestat_set_times": false,
	"fd_pread": false, "fd_prestat_get": false, "fd_prestat_dir_name": false, "fd_pwrite": false,
	"fd_read": false, "fd_readdir": false, "fd_renumber": false, "fd_seek": false,
	"fd_sync": false, "fd_tell": false, "fd_write": false,
	"path_create_directory": true, "path_filestat_get": true, "path_filestat_set_times": true,
	"path_link": true, "path_open": true, "path_readlink": true, "path_remove_directory": true,
	"path_rename": true, "path_symlink": true, "path_unlink_file": true,
	"sock_accept": true, "sock_recv": true, "sock_send": true, "sock_shutdown": true,
}

// CheckImport says whether a native (ABI 1) module may import the function module.name:
// nil for pal.call, pal.log and the WASI functions a tool can use; an error wrapping
// ErrImportNoAccess for WASI's path and socket functions; an error wrapping
// ErrImportNotProvided for anything else. The message is for the tool's author. It is the
// one list of what pal offers a native module: the runtime's loader and `pal tool check`
// both use it.
func CheckImport(module, name string) error {
	switch module {
	case abi.ImportModule:
		if name == abi.ImportCall || name == abi.ImportLog {
			return nil
		}
		return fmt.Errorf("imports %s.%s: %w; the %q module has only %q and %q (docs/abi.md)", module, name, ErrImportNotProvided, abi.ImportModule, abi.ImportCall, abi.ImportLog)
	case WASIModule:
		return CheckWASIImport(name)
	}
	return fmt.Errorf("imports %s.%s: %w: unknown host module %q; a module may import only %q (call, log) and %s", module, name, ErrImportNotProvided, module, abi.ImportModule, WASIModule)
}

// CheckWASIImport is CheckImport for one function of WASI preview 1; the Extism loader uses
// it for the WASI imports of a plugin.
func CheckWASIImport(name string) error {
	noAccess, known := wasiFunctions[name]
	switch {
	case !known:
		return fmt.Errorf("imports %s.%s: %w: no such WASI preview 1 function", WASIModule, name, ErrImportNotProvided)
	case noAccess && strings.HasPrefix(name, "sock_"):
		return fmt.Errorf("imports %s.%s: it uses a socket, and %w; a tool asks the host for what it needs (model.generate, fs.read …) through pal.call", WASIModule, name, ErrImportNoAccess)
	case noAccess:
		return fmt.Errorf("imports %s.%s: it opens or changes a file by path, and %w (no preopened directory): read files through the fs.read and fs.list ops", WASIModule, name, ErrImportNoAccess)
	}
	return nil
}
