package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pal-mcp/pal/internal/boundedre"
)

// CLIConfig is one [[cli]] table: a program that tools granted cli.run (the clink tool) may
// run. Nothing else can be run, and with no [[cli]] table cli.run is off. Only trusted layers
// may set [[cli]] (an untrusted project file that sets it is refused, and under a lock any
// change is a widening): a repository must never be able to name a program for pal to run.
type CLIConfig struct {
	// Name is what tools call it by: 1-32 characters of [a-z0-9_-], starting with a letter.
	// Required; unique.
	Name string `toml:"name"`
	// Description is shown to tools by cli.list. Default "".
	Description string `toml:"description"`
	// Executable is the program's absolute path; there is no PATH lookup. Required.
	Executable string `toml:"executable"`
	// Args are passed first on every run, as written (no shell, no splitting). Default none.
	Args []string `toml:"args"`
	// AllowedArgs are the extra arguments a request may add, each matched exactly; any other
	// is refused. Default none.
	AllowedArgs []string `toml:"allowed_args"`
	// UnsafeArgs acknowledges flags that let the program act without asking (auto-approve,
	// sandbox bypass: --yolo, --dangerously-bypass-approvals-and-sandbox, …). Such a flag in
	// Args or AllowedArgs is refused unless it is listed here too. Default none.
	UnsafeArgs []string `toml:"unsafe_args"`
	// Env names the variables of the server's environment the program receives; it receives
	// no other. A provider key's variable may never be named, and a run is refused when a
	// named variable holds a loaded key. Default none (an empty environment).
	Env []string `toml:"env"`
	// WorkingDir is the default working directory, absolute; at run time it must lie inside
	// an allowed root. Default "": the request's directory, else the first root.
	WorkingDir string `toml:"working_dir"`
	// Timeout bounds one run; at the deadline the program is killed with its process group.
	// Default "5m", at most "1h". The tool call's own deadline applies too.
	Timeout Duration `toml:"timeout"`
	// OutputBytes caps the standard output returned; past it the program is killed and the
	// output marked truncated. Default 1,000,000 bytes, at most 16 MiB.
	OutputBytes int64 `toml:"output_bytes"`
}

// Defaults and ceilings of [[cli]].
const (
	DefaultCLITimeout     = 5 * time.Minute
	MaxCLITimeout         = time.Hour
	DefaultCLIOutputBytes = 1_000_000
	MaxCLIOutputBytes     = 16 << 20
)

var cliNameRE = boundedre.MustCompile(`^[a-z][a-z0-9_-]*$`, 32)

// unsafeFlags are arguments of AI CLIs that approve every action or leave the sandbox
// (Gemini CLI, Codex CLI, Claude Code and the like). An argument is unsafe when it equals
// one of them or starts with one followed by "=".
var unsafeFlags = []string{
	"--yolo", "-y", "--approval-mode", "--dangerously-bypass-approvals-and-sandbox", "--full-auto",
	"--dangerously-skip-permissions", "--permission-mode", "--allow-dangerously-skip-permissions",
	"--allowedTools", "--allowed-tools", "--add-dir",
	"yolo", "acceptEdits", "bypassPermissions", "danger-full-access",
}

// UnsafeArg reports whether arg is a flag (or a flag's value) that lets an AI CLI act without
// asking or outside its sandbox.
func UnsafeArg(arg string) bool {
	for _, f := range unsafeFlags {
		if arg == f || strings.HasPrefix(arg, f+"=") {
			return true
		}
	}
	return false
}

// providerKeyEnvNames are the variables that hold provider keys under c: each provider's
// api_key_env or its default, and PAL's defaults whatever the configuration says.
func (c *Config) providerKeyEnvNames() []string {
	var out []string
	for _, name := range ProviderNames {
		out = append(out, c.KeyEnv(name), defaultKeyEnv[name])
	}
	out = append(out, "GOOGLE_API_KEY")
	slices.Sort(out)
	return slices.Compact(out)
}

// CLIKeyEnvNames lists the variables no [[cli]] program may receive: every provider key's.
func (c *Config) CLIKeyEnvNames() []string { return c.providerKeyEnvNames() }

// CLI returns the [[cli]] entry called name, or nil.
func (c *Config) CLI(name string) *CLIConfig {
	for i := range c.CLIs {
		if c.CLIs[i].Name == name {
			return &c.CLIs[i]
		}
	}
	return nil
}

// validateCLIs checks every [[cli]] entry and fills in its defaults.
func (c *Config) validateCLIs(file string) error {
	seen := map[string]bool{}
	keys := c.providerKeyEnvNames()
	for i := range c.CLIs {
		e := &c.CLIs[i]
		key := fmt.Sprintf("cli[%d]", i)
		bad := func(field, format string, args ...any) error {
			return &ConfigError{File: file, Key: key + "." + field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidValue}
		}
		if !cliNameRE.MatchString(e.Name) {
			return bad("name", "must be 1-32 characters of [a-z0-9_-] starting with a letter, got %q", e.Name)
		}
		if seen[e.Name] {
			return bad("name", "%q is listed twice", e.Name)
		}
		seen[e.Name] = true
		if !filepath.IsAbs(e.Executable) || filepath.Clean(e.Executable) != e.Executable {
			return bad("executable", "must be a clean absolute path (no PATH lookup), got %q", e.Executable)
		}
		for _, list := range []struct {
			field string
			args  []string
		}{{"args", e.Args}, {"allowed_args", e.AllowedArgs}} {
			for _, a := range list.args {
				if strings.IndexByte(a, 0) >= 0 {
					return bad(list.field, "an argument holds a NUL byte")
				}
				if UnsafeArg(a) && !slices.Contains(e.UnsafeArgs, a) {
					return bad(list.field, "%q lets the program act without asking or outside its sandbox; "+
						"list it in unsafe_args as well if that is what you mean", a)
				}
			}
		}
		for _, n := range e.Env {
			if !envNameRE.MatchString(n) {
				return bad("env", "%q is not an environment variable name (A-Z, 0-9, _)", n)
			}
			if slices.Contains(keys, n) {
				return bad("env", "%q holds a provider key; a program run by pal never receives one", n)
			}
		}
		if e.WorkingDir != "" && (!filepath.IsAbs(e.WorkingDir) || filepath.Clean(e.WorkingDir) != e.WorkingDir) {
			return bad("working_dir", "must be a clean absolute path, got %q", e.WorkingDir)
		}
		if e.Timeout.Duration == 0 {
			e.Timeout.Duration = DefaultCLITimeout
		}
		if e.Timeout.Duration > MaxCLITimeout {
			return bad("timeout", "must be at most %s, got %s", MaxCLITimeout, e.Timeout.Duration)
		}
		if e.OutputBytes == 0 {
			e.OutputBytes = DefaultCLIOutputBytes
		}
		if e.OutputBytes < 0 || e.OutputBytes > MaxCLIOutputBytes {
			return bad("output_bytes", "must be 1 to %d bytes, got %d", MaxCLIOutputBytes, e.OutputBytes)
		}
	}
	return nil
}
