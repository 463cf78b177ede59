package runtime

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/runtime/abi"
)

// Module is one loaded tool module: its bytes, hash, manifest, and (once needed) its compiled
// code and a small pool of ready instances.
type Module struct {
	engine *Engine
	name   string // where it came from, for messages: "builtin", a file path
	wasm   []byte // the module as given; nil once compile began
	// read returns the bytes of a module given without them (ReadBytes); nil once compile
	// began.
	read   func() ([]byte, error)
	size   int    // the module's size as given
	sha256 string // of the module as given
	// unhashed: sha256 came from the build (BuildSHA256), not from hashing wasm; compile
	// hashes wasm before it uses sha256 for anything.
	unhashed bool
	manifest *abi.Manifest

	// globals names the exports of the module's mutable globals that compile added
	// (exportGlobals); snapshots is false when the module could not be rewritten to export
	// them (then every instance runs _initialize). Both are set by compile.
	globals   []string
	snapshots bool
	snapMu    sync.Mutex
	snap      *snapshot // the state after _initialize, once one instance has run it
	snapTried bool      // a snapshot was taken or refused; never try again
	// data holds the data segments compile took out of a module with snapshots (splitData),
	// which an instance that runs _initialize writes first; nil once there is a snapshot,
	// and for a module compiled with its data section. Guarded by snapMu.
	data []dataSegment

	compileOnce sync.Once
	// compileAsked is set when the first Compile starts the compile (CompileStarted).
	compileAsked atomic.Bool
	compileDone  chan struct{} // made by newModule, closed when the compile is over; then compiled or compileErr is set
	compiled     wazero.CompiledModule
	compileErr   error
	// rt is the runtime compiled belongs to: the engine's, when addInterrupt rewrote the
	// module (interruptible), else the guarded one. Set before compileDone is closed.
	rt            wazero.Runtime
	interruptible bool

	pool chan *instance
	fill sync.Mutex // one refill at a time
}

// LoadOption changes how LoadModule loads a module.
type LoadOption func(*loadOptions)

type loadOptions struct {
	buildSHA256 string
	read        func() ([]byte, error)
}

// ReadBytes gives LoadModule a function that returns the module's bytes, for a module loaded
// with BuildSHA256 whose manifest the engine knows, in place of wasm (nil): the bytes are
// asked for only when a compile needs them, that is when the cache holds no rewrite of that
// hash, and then checked against the hash like any bytes given under BuildSHA256. A `go
// install`ed pal gives its built-in Go module this way, which it would otherwise decompress
// (xz, 0.3 s) at every start, and hold, before any of its tools is called. Without a known
// manifest or with a pin, LoadModule calls read at once.
func ReadBytes(read func() ([]byte, error)) LoadOption {
	return func(o *loadOptions) { o.read = read }
}

// BuildSHA256 gives LoadModule the hex sha256 of the module's bytes as the build computed it,
// so that loading does not hash the bytes (5 MB for the built-in module: a few milliseconds
// before the first tools/list reply). It is for a module built into the binary together with
// its manifest (the built-in module of a make-built pal: the first line of
// modules/builtin.manifest), never for bytes read at run time. It is used only when the
// engine knows a manifest for that hash (AddKnownManifest) and the module is not pinned
// (wantSHA256): otherwise the bytes are hashed as always. The bytes are read only by a compile
// that finds no rewrite of that hash in the cache (rewrite), which hashes them first and
// fails with ErrBadModule when they differ; a compile that finds one runs that hash's code,
// which pal wrote from bytes that had it. Either way other bytes given under a recorded hash
// never run, and a warm start does not read the 5 MB at all.
func BuildSHA256(hash string) LoadOption {
	return func(o *loadOptions) { o.buildSHA256 = hash }
}

// LoadModule registers a module. Its manifest comes from the manifests known ahead
// (AddKnownManifest, for modules built into the binary) or the manifest cache when the
// module's sha256 is in one, and then nothing is compiled: that is left to Compile or Warm,
// or to the first call. Otherwise the module is compiled and asked to describe itself, and
// the manifest is cached. wantSHA256, when not empty, pins the module: other bytes are refused.
func (e *Engine) LoadModule(ctx context.Context, name string, wasm []byte, wantSHA256 string, opts ...LoadOption) (*Module, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	if h := o.buildSHA256; h != "" && wantSHA256 == "" {
		if man, ok := e.knownManifest(h); ok {
			m := e.newModule(name, wasm, h)
			m.unhashed, m.manifest = true, man
			if wasm == nil {
				m.read = o.read
			}
			e.addModule(m)
			return m, nil
		}
	}
	if wasm == nil && o.read != nil {
		var err error
		if wasm, err = readModule(name, o.read); err != nil {
			return nil, err
		}
	}
	hash := sha256Hex(wasm)
	if wantSHA256 != "" && wantSHA256 != hash {
		return nil, fmt.Errorf("%w: %s has sha256 %s, pinned %s", ErrBadModule, name, hash, wantSHA256)
	}
	m := e.newModule(name, wasm, hash)
	if man, ok := e.knownManifest(hash); ok {
		m.manifest = man
	} else if man, ok := e.manifests.get(hash); ok {
		m.manifest = man
	} else {
		man, err := m.describe(ctx)
		if err != nil {
			return nil, err
		}
		m.manifest = man
		e.manifests.put(hash, man)
	}
	e.addModule(m)
	return m, nil
}

// readModule returns the bytes read gives for module name (ReadBytes); its failure is
// ErrBadModule.
func readModule(name string, read func() ([]byte, error)) ([]byte, error) {
	b, err := read()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModule, name, err)
	}
	return b, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (e *Engine) addModule(m *Module) {
	e.mu.Lock()
	e.modules = append(e.modules, m)
	e.mu.Unlock()
}

// newModule makes the Module for wasm, not yet registered.
func (e *Engine) newModule(name string, wasm []byte, hash string) *Module {
	m := &Module{engine: e, name: name, wasm: wasm, size: len(wasm), sha256: hash, compileDone: make(chan struct{})}
	if e.cfg.PoolSize > 0 {
		m.pool = make(chan *instance, e.cfg.PoolSize)
	}
	return m
}

// Name is where the module came from.
func (m *Module) Name() string { return m.name }

// SHA256 is the hex sha256 of the module's bytes.
func (m *Module) SHA256() string { return m.sha256 }

// Manifest is the module's validated manifest. Callers must not modify it.
func (m *Module) Manifest() *abi.Manifest { return m.manifest }

// Size is the module's size in bytes; 0 for a module whose bytes are read when it compiles
// (ReadBytes).
func (m *Module) Size() int { return m.size }

// Compile compiles the module if it is not compiled yet, and waits for it or for ctx. The
// first caller starts the compile on its own goroutine, unbound to any caller's context, so a
// call whose deadline passes (or a client that cancels) while the module compiles stops
// waiting without failing the compile for every later call. Servers call it in the
// background at start (Warm) so the first tool call does not pay for it.
func (m *Module) Compile(ctx context.Context) error {
	m.compileOnce.Do(func() {
		m.compileAsked.Store(true)
		done, ok := m.engine.track()
		if !ok {
			m.compileErr = errEngineClosed
			close(m.compileDone)
			return
		}
		go func() {
			defer done()
			defer close(m.compileDone)
			m.compile(context.Background())
		}()
	})
	select {
	case <-m.compileDone:
		return m.compileErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CompileStarted reports whether the module's compile was asked for (by Compile, Warm, a call or
// a describe at load), whether or not it is over: false means no machine code was made or read
// from the cache for it in this process. The lazily compiled built-in module is observed with it.
func (m *Module) CompileStarted() bool { return m.compileAsked.Load() }

// CompileDone is closed once the module's compile is over, whether it succeeded or not (the
// next Compile reports which); it stays open while no compile was asked for. pal waits on it
// to warm the lazily compiled built-in module after its first call compiled it.
func (m *Module) CompileDone() <-chan struct{} { return m.compileDone }

// errEngineClosed: a compile asked for after Close began.
var errEngineClosed = errors.New("runtime: the engine is closed")

// compile does Compile's work once.
func (m *Module) compile(ctx context.Context) {
	cctx := experimental.WithCompilationWorkers(ctx, m.engine.cfg.CompilationWorkers)
	code, read := m.wasm, m.read
	m.wasm, m.read = nil, nil // compiled once: the bytes need not stay in memory for the process's life
	// load gives rewrite the bytes, which it asks for only when the cache holds no rewrite.
	load := func() ([]byte, error) {
		if code == nil && read != nil {
			return readModule(m.name, read)
		}
		return code, nil
	}
	var prepErr error
	prepare := func() {
		snap := m.readSnapshot() // read while the rewrite runs; checked against its globals
		code, m.interruptible, prepErr = m.rewrite(load, m.checkBytes)
		s := <-snap
		if prepErr != nil {
			return
		}
		// With snapshots, an instance's memory comes from the snapshot, so the data section
		// would only make wazero keep a copy of it and write it into every instance for the
		// snapshot to overwrite; the instances that run _initialize get it from pal.
		var data []dataSegment
		if m.snapshots {
			if stripped, segs, err := splitData(code); err == nil {
				code, data = stripped, segs
			}
		}
		m.useSnapshot(s)
		m.snapMu.Lock()
		if m.snap == nil && data != nil {
			m.data = ownSegments(data) // kept until the first instance's snapshot
		}
		m.snapMu.Unlock()
	}
	var cm wazero.CompiledModule
	var rtErr error
	err := m.engine.compileWithCache(cctx, m.sha256, prepare, func(ctx context.Context) (err error) {
		if prepErr != nil {
			return nil
		}
		rt, err := m.engine.runtime(!m.interruptible)
		if rtErr = err; rtErr != nil {
			return nil
		}
		m.rt = rt
		cm, err = rt.CompileModule(ctx, code)
		return err
	})
	switch {
	case prepErr != nil:
		m.compileErr = prepErr
		return
	case rtErr != nil:
		m.compileErr = rtErr
		return
	case err != nil:
		m.compileErr = fmt.Errorf("%w: %s: %v", ErrBadModule, m.name, err)
		return
	}
	if err := checkExports(cm); err != nil {
		m.compileErr = fmt.Errorf("%w: %s: %v", ErrBadModule, m.name, err)
		return
	}
	if err := checkMemory(cm, m.engine.cfg.MemoryLimitBytes); err != nil {
		m.compileErr = fmt.Errorf("%w: %s: %v", ErrBadModule, m.name, err)
		return
	}
	m.compiled = cm
}

// checkBytes is what the module's bytes must pass before anything is made from them: their
// hash, when it came from the build (BuildSHA256), and CheckSections.
func (m *Module) checkBytes(code []byte) error {
	if m.unhashed {
		if hash := sha256Hex(code); hash != m.sha256 {
			return fmt.Errorf("%w: %s has sha256 %s, but its build recorded %s", ErrBadModule, m.name, hash, m.sha256)
		}
	}
	if err := CheckSections(code); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadModule, m.name, err)
	}
	return nil
}

// checkExports verifies the ABI 1 exports and their signatures, and that the module imports
// nothing the host does not provide (CheckImport).
func checkExports(cm wazero.CompiledModule) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := map[string][2][]api.ValueType{
		abi.ExportAlloc:    {{i32}, {i32}},
		abi.ExportDescribe: {nil, {i64}},
		abi.ExportHandle:   {{i32, i32}, {i64}},
	}
	for _, f := range cm.ImportedFunctions() {
		if mod, _, _ := f.Import(); mod == "extism:host/env" {
			return fmt.Errorf("is an Extism plugin (it imports %s): load it with abi = \"extism\" in its [[modules]] entry", mod)
		}
	}
	exports := cm.ExportedFunctions()
	for name, sig := range want {
		def, ok := exports[name]
		if !ok {
			return fmt.Errorf("missing export %q", name)
		}
		if !sameTypes(def.ParamTypes(), sig[0]) || !sameTypes(def.ResultTypes(), sig[1]) {
			return fmt.Errorf("export %q has the wrong signature", name)
		}
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		return fmt.Errorf("missing exported memory \"memory\"")
	}
	for _, f := range cm.ImportedFunctions() {
		// CheckImport is the one list of what a module may import. A WASI path or socket
		// function is linked (it can only fail: no preopens, no sockets); `pal tool check`
		// refuses it, the loader does not.
		mod, name, _ := f.Import()
		if err := CheckImport(mod, name); err != nil && !errors.Is(err, ErrImportNoAccess) {
			return err
		}
	}
	if len(cm.ImportedMemories()) > 0 {
		return fmt.Errorf("imports a memory: modules must define their own")
	}
	return nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkMemory refuses a module whose declared minimum memory is over the cap: it could never run.
func checkMemory(cm wazero.CompiledModule, limit uint64) error {
	for _, mem := range cm.ExportedMemories() {
		if uint64(mem.Min())*65536 > limit {
			return fmt.Errorf("declares %d MiB of initial memory, over the cap of %d MiB", uint64(mem.Min())*65536>>20, limit>>20)
		}
	}
	return nil
}

// instance is one live, unused instance of a module with its per-instance resources.
type instance struct {
	mod    api.Module
	mem    *cappedMemory
	stderr *StderrBuffer
	alloc  api.Function
	handle api.Function
	// interrupt is the global addInterrupt added (nil when the module runs on the guarded
	// runtime): set, it stops the guest at its next loop iteration.
	interrupt api.MutableGlobal
}

// close closes the instance's module and then releases its memory. Only the instance's owner
// calls it, after its last call into the instance has returned and its last read of the
// instance's memory is done: from then on nothing can touch the memory (cappedMemory).
func (inst *instance) close() {
	inst.mod.Close(context.Background())
	inst.mem.release()
}

// newInstance instantiates the module with no preopens, env or args, real clocks and
// randomness, a captured stderr and a capped memory, and runs _initialize.
func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	if err := m.Compile(ctx); err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("%w while the module was compiling; the call was stopped", ErrDeadline)
		case ctx.Err() != nil:
			return nil, ErrCancelled
		}
		return nil, err
	}
	snap, data := m.startState()
	inst, err := m.instantiate(ctx, snap, data)
	if err == nil && snap == nil {
		m.takeSnapshot(inst)
	}
	return inst, err
}

// instantiate makes one instance of the compiled module, as newInstance describes: it runs
// _initialize, or, given a snapshot, puts the snapshot's memory and globals in place of it.
// Without a snapshot it writes data first, the segments compile took out of the module: snap
// and data are what startState returned together, so that an instance that started without a
// snapshot keeps its segments when another instance takes the snapshot meanwhile (which
// drops the module's copy).
func (m *Module) instantiate(ctx context.Context, snap *snapshot, data []dataSegment) (*instance, error) {
	cfg := m.engine.cfg
	stderr := NewStderrBuffer(cfg.StderrLimitBytes)
	mem := &cappedMemory{limit: cfg.MemoryLimitBytes, regions: m.engine.regions}
	if snap != nil {
		mem.reserve = uint64(snap.pages) * 65536
		mem.overwritten = mem.reserve // restore writes or zeroes all of it
	}
	ictx, cancel := context.WithTimeout(ctx, cfg.InitTimeout)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, mem)
	ictx = context.WithValue(ictx, callStateKey{}, &callState{}) // no host: calls are refused
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module coexist
		WithStartFunctions(abi.ExportInitialize).
		WithStderr(stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	mc = mc.WithStartFunctions() // _initialize runs below, under the watch; a snapshot replaces it
	mod, err := m.rt.InstantiateModule(ictx, m.compiled, mc)
	var interrupt api.MutableGlobal
	if err == nil && m.interruptible {
		if interrupt, _ = mod.ExportedGlobal(interruptExport).(api.MutableGlobal); interrupt == nil {
			err = fmt.Errorf("%w: no %s global", ErrBadModule, interruptExport)
		}
	}
	if err == nil {
		if snap != nil {
			err = snap.restore(mod)
		} else if !writeData(mod.Memory(), data) {
			err = errors.New("a data segment does not fit the memory")
		} else if init := mod.ExportedFunction(abi.ExportInitialize); init != nil {
			stop := watch(ictx, interrupt)
			_, err = init.Call(ictx)
			stop()
		}
	}
	if err != nil {
		if mod != nil {
			mod.Close(context.Background())
		}
		mem.release() // the module is closed, or was never made
		if mem.hit.Load() {
			return nil, fmt.Errorf("%w: %s while initialising", ErrMemoryCap, m.name)
		}
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("%w while the module was starting; the call was stopped", ErrDeadline)
		case ctx.Err() != nil:
			return nil, ErrCancelled
		case ictx.Err() != nil:
			return nil, fmt.Errorf("%w: %s did not finish initialising within %v", ErrBadModule, m.name, cfg.InitTimeout)
		}
		return nil, fmt.Errorf("%w: %s failed to initialise: %v%s", ErrBadModule, m.name, err, stderr.Tail())
	}
	return &instance{
		mod:       mod,
		mem:       mem,
		stderr:    stderr,
		alloc:     mod.ExportedFunction(abi.ExportAlloc),
		handle:    mod.ExportedFunction(abi.ExportHandle),
		interrupt: interrupt,
	}, nil
}

// take returns a ready instance: from the pool when one is waiting, else a new one. The
// caller refills the pool (startRefill) when its call is over, so that a call does not share
// the CPU with the instance that replaces it.
func (m *Module) take(ctx context.Context) (*instance, error) {
	var inst *instance
	select {
	case inst = <-m.pool:
	default:
	}
	if inst == nil {
		var err error
		if inst, err = m.newInstance(ctx); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

// startRefill tops up the pool in the background, unless the engine is closing.
func (m *Module) startRefill() {
	if m.pool == nil {
		return
	}
	done, ok := m.engine.track()
	if !ok {
		return
	}
	go func() {
		defer done()
		m.refill(false)
	}()
}

// refill tops up the pool. Errors are dropped: the next take reports them. With wait, it
// waits for a refill in progress; without, it leaves the work to that one.
func (m *Module) refill(wait bool) {
	if m.pool == nil {
		return
	}
	if wait {
		m.fill.Lock()
	} else if !m.fill.TryLock() {
		return
	}
	defer m.fill.Unlock()
	for len(m.pool) < cap(m.pool) && !m.engine.isClosing() {
		inst, err := m.newInstance(context.Background())
		if err != nil {
			return
		}
		select {
		case m.pool <- inst:
		default:
			inst.close()
			return
		}
	}
}

// Warm compiles the module and fills its instance pool, waiting for a refill in progress. It
// is a no-op once the engine is closing; Close waits for a Warm in progress.
func (m *Module) Warm(ctx context.Context) error {
	done, ok := m.engine.track()
	if !ok {
		return nil
	}
	defer done()
	if err := m.Compile(ctx); err != nil {
		return err
	}
	m.refill(true)
	return nil
}

func (m *Module) closePool(ctx context.Context) {
	if m.pool == nil {
		return
	}
	for {
		select {
		case inst := <-m.pool:
			inst.close()
		default:
			return
		}
	}
}

// describe instantiates the module once and reads its manifest.
func (m *Module) describe(ctx context.Context) (*abi.Manifest, error) {
	m.engine.describes.Add(1)
	inst, err := m.newInstance(ctx)
	if err != nil {
		return nil, err
	}
	defer inst.close()
	dctx, cancel := context.WithTimeout(ctx, m.engine.cfg.InitTimeout)
	defer cancel()
	dctx = context.WithValue(dctx, callStateKey{}, &callState{inst: inst}) // no host: calls are refused
	stop := watch(dctx, inst.interrupt)
	res, err := inst.mod.ExportedFunction(abi.ExportDescribe).Call(dctx)
	stop()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: describe failed: %v%s", ErrBadModule, m.name, err, inst.stderr.Tail())
	}
	ptr, n := abi.Unpack(res[0])
	if n > 1<<20 {
		return nil, fmt.Errorf("%w: %s: manifest of %d bytes is over 1 MiB", ErrBadModule, m.name, n)
	}
	raw, ok := inst.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%w: %s: describe returned a buffer outside memory", ErrBadModule, m.name)
	}
	man, err := abi.ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModule, m.name, err)
	}
	return man, nil
}

// manifestCache stores manifests on disk keyed by module sha256, each file the manifest's
// HMAC (hex, one line) then its JSON. A manifest whose HMAC does not verify is ignored and
// replaced. A nil cache stores nothing.
type manifestCache struct {
	dir  string
	disk *diskCache
}

// maxManifestFileBytes bounds a manifest file read back: the 1 MiB manifest cap plus its MAC.
const maxManifestFileBytes = 1<<20 + 128

func (c *manifestCache) path(hash string) string { return filepath.Join(c.dir, hash+".json") }

func (c *manifestCache) get(hash string) (*abi.Manifest, bool) {
	if c == nil {
		return nil, false
	}
	raw, err := privfs.ReadFileLimit(c.path(hash), maxManifestFileBytes)
	if err != nil {
		return nil, false
	}
	macHex, body, ok := bytes.Cut(raw, []byte("\n"))
	if !ok {
		return nil, false
	}
	mac, err := hex.DecodeString(string(macHex))
	if err != nil || !hmac.Equal(mac, c.disk.manifestMAC(hash, body)) {
		return nil, false
	}
	var man abi.Manifest
	if json.Unmarshal(body, &man) != nil || man.Validate() != nil {
		return nil, false
	}
	return &man, true
}

func (c *manifestCache) put(hash string, man *abi.Manifest) {
	if c == nil {
		return
	}
	body, err := json.Marshal(man)
	if err != nil {
		return
	}
	raw := append([]byte(hex.EncodeToString(c.disk.manifestMAC(hash, body))+"\n"), body...)
	_ = privfs.WriteFileAtomic(c.path(hash), raw, 0o600) // a cache: a failed write costs a compile later
}

// Import is one function a module imports.
type Import struct{ Module, Name string }

// Imports lists the functions wasm imports, in order. It compiles with wazero's interpreter
// (no native code is made and nothing runs), so it is cheap and safe on any bytes.
func Imports(ctx context.Context, wasm []byte) ([]Import, error) {
	if err := CheckSections(wasm); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModule, err)
	}
	var out []Import
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		out = append(out, Import{mod, name})
	}
	return out, nil
}
