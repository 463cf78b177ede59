package hostfns

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

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
// Each run counts as one provider call against the call's budget.

// cliStderrBytes is how much of the end of standard error a reply carries.
const cliStderrBytes = 4096

// cliDrainWait bounds the wait for the output pipes to close after the process group is gone
// (a program that left its group may hold them open).
const cliDrainWait = 2 * time.Second

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
	if c.env.Paths == nil {
		return at, fail(abi.CodeDenied, "no file access is configured, so there is no directory to run in")
	}
	dir := req.Dir
	if dir == "" {
		dir = entry.WorkingDir
	}
	if dir == "" {
		roots := c.env.Paths.Roots()
		if len(roots) == 0 {
			return at, fail(abi.CodeDenied, "no allowed root to run CLI %q in", entry.Name)
		}
		dir = roots[0]
	}
	res, err := c.env.Paths.Resolve(dir)
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
	cmd.WaitDelay = cliDrainWait
	ownGroup(cmd)
	run, err := startCLI(cmd, entry.OutputBytes)
	if err != nil {
		c.env.logger().Error("cli.run could not start", "cli", entry.Name, "err", err)
		return at, fail(abi.CodeUnavailable, "CLI %q could not be started", entry.Name)
	}
	timeout := entry.Timeout.Duration
	if timeout <= 0 {
		timeout = policy.DefaultCLITimeout
	}
	outcomeOf := run.wait(ctx, timeout)
	if outcomeOf.cancelled {
		return at, fail(abi.CodeCancelled, "the call ended while CLI %q was running; it was killed", entry.Name)
	}

	out := run.stdout.buf.Bytes()
	result := abi.CLIRunResult{Name: entry.Name, ExitCode: outcomeOf.exitCode, TimedOut: outcomeOf.timedOut,
		DurationMS: outcomeOf.duration.Milliseconds(), Truncated: run.stdout.over}
	stderr := run.stderr.String()
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

// cliProcess is a started program and the readers of its output.
type cliProcess struct {
	cmd     *exec.Cmd
	started time.Time
	stdout  *capBuffer
	stderr  *tailBuffer
	over    chan struct{} // closed when stdout passed its cap
	readers sync.WaitGroup
	pipes   []*os.File // the read ends
}

// startCLI starts cmd with its output on pipes that pal reads itself, so that waiting for the
// process never waits for whatever else holds the pipes.
func startCLI(cmd *exec.Cmd, maxOut int64) (*cliProcess, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	p := &cliProcess{cmd: cmd, stdout: &capBuffer{max: maxOut}, stderr: &tailBuffer{max: cliStderrBytes},
		over: make(chan struct{}), pipes: []*os.File{outR, errR}}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p.started = time.Now()
	p.readers.Add(2)
	go func() {
		defer p.readers.Done()
		if _, err := io.Copy(p.stdout, outR); errors.Is(err, errCapped) {
			close(p.over)
			io.Copy(io.Discard, outR)
		}
	}()
	go func() {
		defer p.readers.Done()
		io.Copy(p.stderr, errR)
	}()
	return p, nil
}

// cliEnd is how a run ended.
type cliEnd struct {
	exitCode  int
	timedOut  bool
	cancelled bool
	duration  time.Duration
}

// wait waits for the program to exit, killing its process group at the timeout, when ctx ends
// or when the output passes its cap; then kills the group again (what the program left
// behind) and waits, for a bounded time, for the output pipes to close.
func (p *cliProcess) wait(ctx context.Context, timeout time.Duration) cliEnd {
	done := make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(done)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var end cliEnd
	over, ctxDone, tick := p.over, ctx.Done(), timer.C
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick:
			end.timedOut, tick = true, nil
			killGroup(p.cmd.Process)
		case <-ctxDone:
			end.cancelled, ctxDone = true, nil
			killGroup(p.cmd.Process)
		case <-over:
			over = nil
			killGroup(p.cmd.Process)
		}
	}
	end.duration = time.Since(p.started)
	killGroup(p.cmd.Process)
	drained := make(chan struct{})
	go func() {
		p.readers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(cliDrainWait):
		for _, f := range p.pipes {
			f.Close()
		}
		<-drained
	}
	for _, f := range p.pipes {
		f.Close()
	}
	end.exitCode = -1
	if ps := p.cmd.ProcessState; ps != nil {
		end.exitCode = ps.ExitCode()
	}
	return end
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = slices.Clone(t.buf[len(t.buf)-t.max:])
		t.cut = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	s := strings.ToValidUTF8(string(t.buf), "")
	if t.cut {
		return "…" + s
	}
	return s
}
