package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// loopModule builds a module by hand: a memory, and an exported function "f" whose body is
// body (without the locals vector and the final end).
func loopModule(body ...byte) []byte {
	sec := func(id byte, b ...byte) []byte { return append([]byte{id, byte(len(b))}, b...) }
	fn := append(append([]byte{0}, body...), 0x0b)
	var w []byte
	for _, part := range [][]byte{
		[]byte("\x00asm\x01\x00\x00\x00"),
		sec(1, 1, 0x60, 0, 0), // type 0: () -> ()
		sec(3, 1, 0),          // function 0 has type 0
		sec(5, 1, 0, 1),       // one memory of one page
		sec(7, 1, 1, 'f', 0, 0),
		sec(10, append([]byte{1, byte(len(fn))}, fn...)...),
	} {
		w = append(w, part...)
	}
	return w
}

// spinBody is `loop br 0 end`: a loop that never ends and never calls the host.
var spinBody = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}

// TestInterruptStopsALoop: a rewritten endless loop, on a runtime without
// WithCloseOnContextDone, traps once the host sets the interrupt global, and runs on until then.
func TestInterruptStopsALoop(t *testing.T) {
	ctx := context.Background()
	out, err := addInterrupt(loopModule(spinBody...))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok {
		t.Fatal("no interrupt global")
	}
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("f").Call(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the loop ended before the interrupt: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	g.Set(1)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the interrupted loop returned no error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the loop did not stop")
	}
}

// TestGCWhileAGuestSpins: a guest spinning in a loop lets the garbage collector stop the
// world (it leaves wasm every interruptPeriod iterations); before that exit, runtime.GC
// waited for the loop, and the goroutine that would set the interrupt could not run either.
func TestGCWhileAGuestSpins(t *testing.T) {
	e := newEngine(t, Config{})
	m := loadHostile(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := m.Invoke(ctx, Call{Tool: "spin", CallID: "c", Arguments: json.RawMessage(`{}`), Host: &fakeHost{}, Timeout: time.Minute})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	gc := make(chan struct{})
	go func() { goruntime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(30 * time.Second):
		t.Fatal("runtime.GC did not finish while the guest spun")
	}
	select {
	case err := <-done:
		t.Fatalf("spin ended before it was cancelled: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("spin: %v; want ErrCancelled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the cancelled spin did not stop")
	}
}

// TestUnrewrittenModuleIsStopped: a module addInterrupt leaves alone runs on the guarded
// runtime, where wazero's WithCloseOnContextDone stops it at its deadline.
func TestUnrewrittenModuleIsStopped(t *testing.T) {
	e := newEngine(t, Config{})
	e.noInterrupt = true
	m := loadHostile(t, e)
	// Compile first: the call's one-second deadline also bounds the wait for its module's
	// compile, and under load that wait alone can pass it (then the fields below are read
	// while the compile still writes them).
	if err := m.Compile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := invoke(t, m, "spin", nil, time.Second); !errors.Is(err, ErrDeadline) {
		t.Fatalf("want ErrDeadline, got %v", err)
	}
	if m.interruptible || m.rt != e.guarded.rt || e.guarded.rt == nil {
		t.Fatal("the module did not run on the guarded runtime")
	}
	mustPing(t, m)
}

// TestAddInterruptModules: the built-in and hostile modules are rewritten, compile, keep
// every export, and a second rewrite is refused.
func TestAddInterruptModules(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter()) // decodes and validates, cheaply
	defer rt.Close(ctx)
	for _, pkg := range []string{"tools-wasm/testdata/hostile", "tools-wasm/builtin"} {
		wasm := testwasm.Load(t, pkg)
		out, err := addInterrupt(wasm)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		cm, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("%s: rewritten module: %v", pkg, err)
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		for name := range orig.ExportedFunctions() {
			if _, ok := cm.ExportedFunctions()[name]; !ok {
				t.Fatalf("%s: export %s lost", pkg, name)
			}
		}
		if _, err := addInterrupt(out); !errors.Is(err, errNoRewrite) {
			t.Fatalf("%s: rewriting twice: %v", pkg, err)
		}
	}
}

// TestAddInterruptRefuses: what the rewrite does not parse is left to the guarded runtime.
func TestAddInterruptRefuses(t *testing.T) {
	noMemory := bytes.Replace(loopModule(spinBody...), []byte{5, 3, 1, 0, 1}, nil, 1)
	for name, wasm := range map[string][]byte{
		"short":            []byte("\x00as"),
		"not wasm":         []byte("\x7fELF\x01\x00\x00\x00"),
		"no memory":        noMemory,
		"no exports":       bytes.Replace(loopModule(spinBody...), []byte{7, 5, 1, 1, 'f', 0, 0}, nil, 1),
		"atomics":          loopModule(0xfe, 0x03, 0x00),
		"unknown opcode":   loopModule(0x06),
		"unknown 0xfc":     loopModule(0xfc, 18),
		"truncated const":  loopModule(0x44, 0, 0),
		"reserved name":    bytes.Replace(loopModule(spinBody...), []byte{7, 5, 1, 1, 'f', 0, 0}, append(append([]byte{7, byte(len(interruptExport) + 4), 1, byte(len(interruptExport))}, interruptExport...), 0, 0), 1),
		"body without end": bytes.Replace(loopModule(0x01), []byte{3, 0, 1, 0x0b}, []byte{3, 0, 1, 0x01}, 1),
	} {
		if bytes.Equal(wasm, loopModule(spinBody...)) {
			t.Fatalf("%s: the test module was not changed", name)
		}
		if _, err := addInterrupt(wasm); !errors.Is(err, errNoRewrite) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Every instruction with an immediate the rewrite must step over, and a loop in a block.
	body := []byte{
		0x02, 0x40, // block
		0x03, 0x7f, 0x41, 0x03, 0x0b, 0x1a, // loop (result i32) i32.const 3 end drop
		0x41, 0x80, 0x01, 0x1a, // i32.const 128 drop
		0x42, 0x7f, 0x1a, // i64.const -1 drop
		0x43, 0, 0, 0, 0, 0x1a, // f32.const 0 drop
		0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, // f64.const 0 drop
		0x41, 0, 0x28, 2, 0, 0x1a, // i32.load
		0x3f, 0, 0x1a, // memory.size
		0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 11, 0, // memory.fill
		0x41, 0, 0xfd, 0, 4, 0, 0xfd, 21, 3, 0x1a, // v128.load, i8x16.extract_lane_s 3
		0x0b,
	}
	out, err := addInterrupt(loopModule(body...))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, loopModule(body...)); err != nil {
		t.Fatalf("the test module: %v", err)
	}
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Fatalf("rewritten: %v", err)
	}
	if n := bytes.Count(out, loopCheck(0, 1)); n != 1 {
		t.Fatalf("%d loop checks; want 1", n)
	}
}

// FuzzAddInterrupt: any bytes are rewritten or refused, never a panic. (Whether wazero
// accepts them is FuzzInterruptBody's question: its decoder allocates what a table section
// declares, so a few fuzzed bytes can exhaust the test's memory.)
func FuzzAddInterrupt(f *testing.F) {
	f.Add(loopModule(spinBody...))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if _, err := addInterrupt(wasm); err != nil && !errors.Is(err, errNoRewrite) {
			t.Fatalf("error %v does not wrap errNoRewrite", err)
		}
	})
}

// FuzzInterruptBody: a function body wazero accepts is refused or rewritten into a module
// wazero accepts.
func FuzzInterruptBody(f *testing.F) {
	f.Add(spinBody)
	f.Add([]byte{0x02, 0x40, 0x03, 0x40, 0x0c, 0x01, 0x0b, 0x0b})
	f.Add([]byte{0x41, 0, 0x04, 0x7f, 0x41, 1, 0x05, 0x03, 0x7f, 0x41, 2, 0x0b, 0x0b, 0x1a})
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 100 { // loopModule writes sizes as one byte
			return
		}
		wasm := loopModule(body...)
		out, err := addInterrupt(wasm)
		if err != nil {
			if !errors.Is(err, errNoRewrite) {
				t.Fatalf("error %v does not wrap errNoRewrite", err)
			}
			return
		}
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("wazero accepts the module but not its rewrite: %v", err)
		}
	})
}

// TestRuntimeMadeAtFirstCompile (docs/RATIONALE.md §79): New makes no wazero runtime; a
// compile makes the one its module needs and only that one; Close closes what was made, and
// no runtime is made after it.
func TestRuntimeMadeAtFirstCompile(t *testing.T) {
	e := newEngine(t, Config{})
	if e.plain.rt != nil || e.guarded.rt != nil {
		t.Fatal("New made a runtime")
	}
	m := loadHostile(t, e)
	if err := m.Compile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !m.interruptible || e.plain.rt == nil || m.rt != e.plain.rt {
		t.Fatal("the rewritten module is not on the plain runtime")
	}
	if e.guarded.rt != nil {
		t.Error("a compile for the plain runtime made the guarded one")
	}
	if _, _, err := invoke(t, m, "ping", nil, 10*time.Second); err != nil {
		t.Fatalf("call on the lazily made runtime: %v", err)
	}

	unused := newEngine(t, Config{})
	if err := unused.Close(context.Background()); err != nil {
		t.Fatalf("closing an engine that made no runtime: %v", err)
	}
	for _, closeOnDone := range []bool{false, true} {
		if rt, err := unused.runtime(closeOnDone); !errors.Is(err, errEngineClosed) || rt != nil {
			t.Errorf("runtime(%v) after Close: %v, %v; want errEngineClosed", closeOnDone, rt, err)
		}
	}
}
