package hostfns

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime/abi"
)

// cli.run (capability cli.run) runs one program that a trusted pal.toml lists in a [[cli]]
// table, for tools such as clink that hand a prompt to another AI CLI. The program is not
// sandboxed: it runs as the server's user and can do what that user can. What pal decides is
// which program, with which arguments, in which directory, with which environment, for how
// long, and how much of its output comes back:
//   - only a listed executable, by absolute path, never through a shell;
//   - the entry's fixed args, then extra args each of which the entry's allowed_args lists
//     exactly; auto-approve and sandbox-bypass flags only when the entry lists them (and
//     acknowledges them in unsafe_args, checked when pal.toml is loaded);
//   - an environment holding only the variables the entry names, never a provider key's
//     variable, and refused when a named variable's value holds a loaded key or a secret;
//   - a working directory inside an allowed root;
//   - its own process group, killed whole at the entry's timeout, at the call's deadline, on
//     cancel, when the output passes its cap, and after the program exits (so nothing it
//     started outlives it);
//   - standard output capped and redacted, standard error cut to its last 4 KiB and redacted.
// While it runs the client gets the heartbeats of a model call (limits.heartbeat_interval).
// Each run counts as one provider call against the call's budget.

// cliStderrBytes is how much of the end of standard error a reply carries.
const cliStderrBytes = 4096

// cliList names the configured programs.
func cliList(_ context.Context, c *Call, _ abi.CLIListRequest, _ []byte) (outcome, error) {
	res := abi.CLIListResult{CLIs: []abi.CLIInfo{}}
	for _, e := range c.env.CLIs {
		allowed := e.AllowedArgs
		if allowed == nil {
			allowed = []string{}
		}
		res.CLIs = append(res.CLIs, abi.CLIInfo{Name: e.Name, Description: e.Description, AllowedArgs: allowed,
			TimeoutMS: e.Timeout.Milliseconds(), OutputBytes: e.OutputBytes})
	}
	return outcome{result: res}, nil
}

func cliNames(list []policy.CLIConfig) string {
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// cliRun runs one configured program with the request's body as its standard input.
func cliRun(ctx context.Context, c *Call, req abi.CLIRunRequest, body []byte) (outcome, error) {
	at := outcome{path: req.Name}
	if len(c.env.CLIs) == 0 {
		return at, fail(abi.CodeDenied, "cli.run is off: pal.toml lists no [[cli]] program")
	}
	var entry *policy.CLIConfig
	for i := range c.env.CLIs {
		if c.env.CLIs[i].Name == req.Name {
			entry = &c.env.CLIs[i]
		}
	}
	if entry == nil {
		return at, fail(abi.CodeNotFound, "no CLI %q in pal.toml; configured: %s", req.Name, cliNames(c.env.CLIs))
	}
	for _, a := range req.Args {
		if !slices.Contains(entry.AllowedArgs, a) {
			return at, fail(abi.CodeDenied, "argument %q is not in the allowed_args of CLI %q", a, entry.Name)
		}
	}
	if c.paths == nil {
		return at, fail(abi.CodeDenied, "no file access is configured, so there is no directory to run in")
	}
	dir := req.Dir
	if dir == "" {
		dir = entry.WorkingDir
	}
	if dir == "" {
		roots := c.paths.Roots()
		if len(roots) == 0 {
			return at, fail(abi.CodeDenied, "no allowed root to run CLI %q in", entry.Name)
		}
		dir = roots[0]
	}
	res, err := c.paths.Resolve(dir)
	if err != nil {
		return at, pathError(err)
	}
	if !res.Info.IsDir() {
		return at, fail(abi.CodeInvalid, "%q is not a directory", dir)
	}
	at.root = res.Abs()
	st, err := os.Stat(entry.Executable)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		// The tool learns only the CLI's name; the program's path on this machine goes to the log.
		c.env.logger().Warn("cli.run: not an executable file", "cli", entry.Name, "executable", entry.Executable)
		return at, fail(abi.CodeUnavailable, "CLI %q is not available: its program is not an executable file (see the server log)", entry.Name)
	}
	env, err := c.cliEnv(entry)
	if err != nil {
		return at, err
	}
	if err := c.budget.spend(budgetProviderCalls, 1); err != nil {
		return at, err
	}

	args := append(slices.Clone(entry.Args), req.Args...)
	cmd := exec.Command(entry.Executable, args...)
	cmd.Env = env // never nil: a nil Env would pass the server's whole environment
	cmd.Dir = res.Abs()
	cmd.Stdin = bytes.NewReader(body)
	stderrTail := &tailBuffer{max: cliStderrBytes}
	run, err := startChild(cmd, entry.OutputBytes, stderrTail)
	if err != nil {
		c.env.logger().Error("cli.run could not start", "cli", entry.Name, "err", err)
		return at, fail(abi.CodeUnavailable, "CLI %q could not be started", entry.Name)
	}
	timeout := entry.Timeout.Duration
	if timeout <= 0 {
		timeout = policy.DefaultCLITimeout
	}
	// An AI CLI runs for minutes: the client hears the same heartbeats as for a model call.
	stopHeartbeat := c.heartbeat("CLI " + entry.Name)
	outcomeOf := run.wait(ctx, timeout)
	stopHeartbeat()
	if outcomeOf.cancelled {
		return at, fail(abi.CodeCancelled, "the call ended while CLI %q was running; it was killed", entry.Name)
	}

	out := run.stdout.buf.Bytes()
	result := abi.CLIRunResult{Name: entry.Name, ExitCode: outcomeOf.exitCode, TimedOut: outcomeOf.timedOut,
		DurationMS: outcomeOf.duration.Milliseconds(), Truncated: run.stdout.over}
	stderr := stderrTail.String()
	var rep secrets.Report
	if c.env.Secrets != nil {
		var r1, r2 secrets.Report
		var clean string
		if clean, r1 = c.env.Secrets.Redact(string(out)); r1.Count > 0 {
			out = []byte(clean)
		}
		stderr, r2 = c.env.Secrets.Redact(stderr)
		rep.Add(r1)
		rep.Add(r2)
	}
	if c.env.Redact != nil {
		out, stderr = c.env.Redact.Bytes(out), c.env.Redact.String(stderr)
	}
	result.Stderr, result.Redacted = stderr, rep.Count
	if out == nil {
		out = []byte{}
	}
	at.result, at.body, at.bytes, at.redacted = result, out, int64(len(out)), rep
	return at, nil
}

// cliEnv builds the program's whole environment from the variables the entry names.
func (c *Call) cliEnv(entry *policy.CLIConfig) ([]string, error) {
	lookup := c.env.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := []string{}
	for _, name := range entry.Env {
		if slices.Contains(c.env.CLIKeyEnv, name) {
			return nil, fail(abi.CodeDenied, "CLI %q: variable %s holds a provider key and is never passed", entry.Name, name)
		}
		v, ok := lookup(name)
		if !ok {
			continue
		}
		if c.env.Redact != nil && c.env.Redact.Contains(v) {
			return nil, fail(abi.CodeDenied, "CLI %q: variable %s holds a key or another secret and is never passed", entry.Name, name)
		}
		env = append(env, name+"="+v)
	}
	return env, nil
}
