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
)

// One runner for every child process of the host (git for git.read, the [[cli]] programs of
// cli.run): the caller builds the exec.Cmd (program, arguments, whole environment, directory,
// standard input); startChild puts it in its own process group with its output on pipes pal
// reads itself; wait kills the whole group at the deadline, when the call ends, when standard
// output passes its cap, and after the program exits, so nothing it started outlives it.

// childDrainWait bounds the wait for the output pipes to close after the process group is
// gone (a program that left its group may hold them open).
const childDrainWait = 2 * time.Second

// errCapped stops copying a process's output at its cap.
var errCapped = errors.New("output cap reached")

// capBuffer keeps the first max bytes written to it; writing more fails with errCapped.
type capBuffer struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (w *capBuffer) Write(p []byte) (int, error) {
	room := w.max - int64(w.buf.Len())
	if int64(len(p)) > room {
		room = max(room, 0)
		w.buf.Write(p[:room])
		w.over = true
		return int(room), errCapped
	}
	return w.buf.Write(p)
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

// child is a started program and the readers of its output.
type child struct {
	cmd     *exec.Cmd
	started time.Time
	stdout  *capBuffer
	stderr  io.Writer
	over    chan struct{} // closed when stdout passed its cap
	readers sync.WaitGroup
	pipes   []*os.File // the read ends
}

// startChild starts cmd in its own process group, standard output kept up to maxOut bytes
// and standard error written to stderr (which may refuse more: the rest is read and dropped).
// The output goes through pipes pal reads itself, so that waiting for the process never waits
// for whatever else holds the pipes.
func startChild(cmd *exec.Cmd, maxOut int64, stderr io.Writer) (*child, error) {
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
	cmd.WaitDelay = childDrainWait
	ownGroup(cmd)
	p := &child{cmd: cmd, stdout: &capBuffer{max: maxOut}, stderr: stderr, over: make(chan struct{}), pipes: []*os.File{outR, errR}}
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
		if _, err := io.Copy(p.stderr, errR); err != nil {
			io.Copy(io.Discard, errR)
		}
	}()
	return p, nil
}

// childEnd is how a run ended.
type childEnd struct {
	exitCode  int // -1 when killed
	timedOut  bool
	cancelled bool
	duration  time.Duration
	err       error // cmd.Wait's error (an *exec.ExitError for a non-zero status)
}

// wait waits for the program to exit, killing its process group at the timeout, when ctx ends
// or when the output passes its cap; then kills the group again (what the program left
// behind) and waits, for a bounded time, for the output pipes to close.
func (p *child) wait(ctx context.Context, timeout time.Duration) childEnd {
	var end childEnd
	done := make(chan struct{})
	go func() {
		end.err = p.cmd.Wait()
		close(done)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
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
	case <-time.After(childDrainWait):
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
