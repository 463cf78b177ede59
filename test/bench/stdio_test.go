package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// replyTimeout bounds the wait for one reply, so that a hung server fails the benchmark
// instead of hanging it.
const replyTimeout = 3 * time.Minute

// proc is an MCP server process driven over stdio by a minimal JSON-RPC client: requests go
// out as lines on stdin, replies are matched to their requests by id, so that many calls may
// be in flight at once. Notifications from the server are read and dropped.
type proc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	started time.Time // just before the process was started

	wmu    sync.Mutex // one line at a time on stdin
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan reply
	readErr error
	done    chan struct{} // closed when stdout ends

	stderr tailWriter
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startProc starts bin with args in dir with exactly the environment env.
func startProc(bin string, args []string, dir string, env []string) (*proc, error) {
	p := &proc{pending: map[int64]chan reply{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.read(stdout)
	return p, nil
}

func (p *proc) read(stdout io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var msg struct {
			ID *int64 `json:"id"`
			reply
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.ID == nil {
			continue
		}
		p.mu.Lock()
		ch := p.pending[*msg.ID]
		delete(p.pending, *msg.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- msg.reply
		}
	}
	p.mu.Lock()
	p.readErr = sc.Err()
	p.mu.Unlock()
}

func (p *proc) send(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, err = p.stdin.Write(append(line, '\n'))
	return err
}

// call sends one request and waits for its reply; a JSON-RPC error is an error.
func (p *proc) call(method string, params any) (json.RawMessage, error) {
	id := p.nextID.Add(1)
	ch := make(chan reply, 1)
	p.mu.Lock()
	p.pending[id] = ch
	p.mu.Unlock()
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := p.send(msg); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", method, err, p.stderr.String())
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, fmt.Errorf("%s: error %d: %s", method, r.Error.Code, r.Error.Message)
		}
		return r.Result, nil
	case <-p.done:
		return nil, fmt.Errorf("%s: the server's output ended (%v)\n%s", method, p.readErr, p.stderr.String())
	case <-time.After(replyTimeout):
		return nil, fmt.Errorf("%s: no reply in %s\n%s", method, replyTimeout, p.stderr.String())
	}
}

// handshake sends initialize, the initialized notification and tools/list, and checks that
// the list holds want. It returns when the tools/list reply has arrived.
func (p *proc) handshake(want string) error {
	if _, err := p.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "bench", "version": "1"}}); err != nil {
		return err
	}
	if err := p.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		return err
	}
	list, err := p.call("tools/list", nil)
	if err != nil {
		return err
	}
	if !strings.Contains(string(list), `"`+want+`"`) {
		return fmt.Errorf("tools/list has no %s: %.300s", want, list)
	}
	return nil
}

// errToolFailed is a tools/call whose result says isError or lacks the expected text.
var errToolFailed = errors.New("tool call failed")

// tool calls a tool and returns the text of its first content block; a result marked isError,
// or one whose text lacks want, is an error.
func (p *proc) tool(name string, args any, want string) (string, error) {
	raw, err := p.call("tools/call", map[string]any{"name": name, "arguments": args})
	if err != nil {
		return "", err
	}
	var res struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Content) == 0 {
		return "", fmt.Errorf("%w: %s: %.500s", errToolFailed, name, raw)
	}
	if res.IsError || !strings.Contains(res.Content[0].Text, want) {
		return "", fmt.Errorf("%w: %s: %.500s", errToolFailed, name, res.Content[0].Text)
	}
	return res.Content[0].Text, nil
}

// mem reads the process's resident set (VmRSS) and its peak (VmHWM) from /proc, in bytes.
func (p *proc) mem() (rss, hwm int64, err error) { return pidMem(p.cmd.Process.Pid) }

// pidMem reads the resident set (VmRSS) and its peak (VmHWM) of process pid, in bytes.
func pidMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc status: %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, fmt.Errorf("/proc status has no VmRSS or VmHWM")
	}
	return rss, hwm, nil
}

// cpu reads the CPU time the process has used, user and system, from /proc (in clock ticks
// of 10 ms, so read it over many calls). Unlike wall time it does not grow with the load
// other work puts on the machine.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after its closing parenthesis are fixed:
	// utime and stime are the 12th and 13th of them.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %.100q", b)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

// close ends stdin (the server's cue to exit) and waits for the process; one that has not
// gone after 10 s is killed.
func (p *proc) close() {
	p.stdin.Close()
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-exited
	}
}

// tailWriter keeps the last 8 KiB written to it (a server's stderr, for error messages).
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 8<<10 {
		t.buf = t.buf[len(t.buf)-8<<10:]
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
