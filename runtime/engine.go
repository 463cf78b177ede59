// Package runtime runs tool modules in wazero. It compiles each module once (with an on-disk
// compilation cache in a private directory), keeps each module's manifest keyed by its
// sha256 so listing tools needs no compile, and runs every tool call in a fresh instance with
// a deadline, a memory cap and an output cap. The host side of the ABI (docs/abi.md) lives
// here; what each op does is the Host's business (package hostfns).
package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/pal-mcp/pal/runtime/abi"
)

// Config sets the engine's limits. The zero value of each field means its default.
type Config struct {
	// CacheDir holds compiled code and manifests. It is made with privfs.EnsureDir (0700; a
	// symlink, a directory of another user's or one group or others may write is refused,
	// and so is an ancestor others could replace it through). "" disables the on-disk cache
	// (compile in memory only).
	CacheDir string
	// CacheKey authenticates what pal writes to CacheDir (an HMAC-SHA256 index of wazero's
	// files, and each manifest): a file pal did not write under this key is deleted before
	// wazero can load it. At least MinCacheKeyBytes (16) bytes; pal uses 32 random bytes
	// from privfs.LoadOrCreateKey in the user's state directory. nil disables the on-disk
	// cache, as CacheDir "" does (a per-process key would only wipe the cache of every other
	// pal process on each start).
	CacheKey []byte
	// CallTimeout bounds one tool call, host calls included. Default 10 minutes.
	CallTimeout time.Duration
	// CancelGrace is how long a guest may keep running once its call is cancelled or past
	// its deadline, before the instance is stopped: time for a handler that watches its
	// context (the Go kit's ctx) to return what it has. Host calls made in it are answered
	// cancelled at once. Default 250 ms; negative stops the guest at once.
	CancelGrace time.Duration
	// MemoryLimitBytes caps one instance's linear memory. Default 256 MiB. Rounded down to
	// whole 64 KiB pages.
	MemoryLimitBytes uint64
	// OutputLimitBytes caps the result a tool returns from handle. Default 4 MiB.
	OutputLimitBytes uint32
	// StderrLimitBytes caps the guest stderr kept per call for diagnostics. Default 64 KiB.
	StderrLimitBytes int
	// InitTimeout bounds instantiation, including the guest's _initialize. Default 30 s.
	InitTimeout time.Duration
	// PoolSize is how many pre-made instances each module keeps ready. Default 1; negative
	// disables the pool.
	PoolSize int
	// CompilationWorkers is the parallelism of the compiler. Default 2.
	CompilationWorkers int
	// NoSnapshots makes every instance run the module's _initialize, as before snapshots
	// (snapshot.go): for benchmarks and comparisons. Default false: the first instance of a
	// module runs _initialize and the next ones start from a copy of its state.
	NoSnapshots bool
}

// Defaults of Config.
const (
	DefaultCallTimeout      = 10 * time.Minute
	DefaultCancelGrace      = 250 * time.Millisecond
	DefaultMemoryLimitBytes = 256 << 20
	DefaultOutputLimitBytes = 4 << 20
	DefaultStderrLimitBytes = 64 << 10
	DefaultInitTimeout      = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.CancelGrace == 0 {
		c.CancelGrace = DefaultCancelGrace
	} else if c.CancelGrace < 0 {
		c.CancelGrace = 0
	}
	if c.MemoryLimitBytes == 0 {
		c.MemoryLimitBytes = DefaultMemoryLimitBytes
	}
	if c.OutputLimitBytes == 0 {
		c.OutputLimitBytes = DefaultOutputLimitBytes
	}
	if c.StderrLimitBytes <= 0 {
		c.StderrLimitBytes = DefaultStderrLimitBytes
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.PoolSize == 0 {
		c.PoolSize = 1
	}
	if c.CompilationWorkers <= 0 {
		c.CompilationWorkers = 2
	}
	return c
}

// Engine owns one wazero runtime shared by all modules.
type Engine struct {
	cfg Config
	// plain runs the modules addInterrupt rewrote; guarded the others, with
	// WithCloseOnContextDone. Each is made at the first compile that needs it (runtime), not
	// in New: WASI and the host module take ~0.5 ms that pal serve's tools/list reply need
	// not wait for (docs/RATIONALE.md §79). Both share cc.
	plain, guarded lazyRuntime
	cc             wazero.CompilationCache
	manifests      *manifestCache
	disk           *diskCache // nil without an on-disk cache

	mu      sync.Mutex
	modules []*Module

	closing bool           // set by Close under mu: no more background work
	bg      sync.WaitGroup // background compiles and pool refills in flight

	// known holds manifests given ahead by AddKnownManifest, keyed by module sha256.
	known map[string]*abi.Manifest

	// noInterrupt, for tests, compiles every module for the guarded runtime.
	noInterrupt bool

	// describes counts describe runs, for tests.
	describes atomic.Int32

	// regions keeps released linear memories for the next instances (memory.go).
	regions *regionPool
}

// AddKnownManifest gives the engine the manifest of the module whose sha256 (hex) is hash, so
// that loading that module neither describes it nor reads the manifest cache. It is for
// manifests as trusted as the binary, such as the built-in module's, computed when pal was
// built; raw is validated as describe's output is.
func (e *Engine) AddKnownManifest(hash string, raw []byte) error {
	man, err := abi.ParseManifest(raw)
	if err != nil {
		return fmt.Errorf("%w: known manifest for %s: %v", ErrBadModule, hash, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.known == nil {
		e.known = map[string]*abi.Manifest{}
	}
	e.known[hash] = man
	return nil
}

func (e *Engine) knownManifest(hash string) (*abi.Manifest, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	man, ok := e.known[hash]
	return man, ok
}

// track registers background work; it reports false once the engine is closing.
func (e *Engine) track() (done func(), ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return nil, false
	}
	e.bg.Add(1)
	return e.bg.Done, true
}

func (e *Engine) isClosing() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closing
}

// New creates an engine: a compiler runtime (newRuntime) and the on-disk caches.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	var mc *manifestCache
	var disk *diskCache
	var cc wazero.CompilationCache
	if cfg.CacheDir != "" && cfg.CacheKey != nil {
		var err error
		if disk, err = openDiskCache(cfg.CacheDir, cfg.CacheKey); err != nil {
			return nil, err
		}
		if cc, err = wazero.NewCompilationCacheWithDir(filepath.Join(cfg.CacheDir, compiledDir)); err != nil {
			return nil, fmt.Errorf("runtime: compilation cache: %w", err)
		}
		mc = &manifestCache{dir: filepath.Join(cfg.CacheDir, manifestsDir), disk: disk}
	}
	return &Engine{cfg: cfg, manifests: mc, disk: disk, cc: cc, regions: &regionPool{keep: regionsKept}}, nil
}

// newRuntime makes a compiler runtime with WASI (for Go's wasip1 port and wasi-libc, without
// preopens) and the pal host module, sharing the engine's compilation cache. closeOnDone is
// wazero's WithCloseOnContextDone, for modules addInterrupt could not rewrite: without it, a
// call's deadline stops a guest through the interrupt global (interrupt.go).
func (e *Engine) newRuntime(ctx context.Context, closeOnDone bool) (wazero.Runtime, error) {
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(closeOnDone).
		// The per-instance cap is enforced by cappedMemory; this is wasm's own ceiling.
		WithMemoryLimitPages(65536)
	if e.cc != nil {
		rc = rc.WithCompilationCache(e.cc)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("runtime: wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return rt, nil
}

// runtime returns the runtime for modules addInterrupt rewrote (closeOnDone false) or for the
// others (true), made on first use; after Close it returns errEngineClosed.
func (e *Engine) runtime(closeOnDone bool) (wazero.Runtime, error) {
	l := &e.plain
	if closeOnDone {
		l = &e.guarded
	}
	l.once.Do(func() { l.rt, l.err = e.newRuntime(context.Background(), closeOnDone) })
	return l.rt, l.err
}

// lazyRuntime is a wazero runtime made by its first use (Engine.runtime).
type lazyRuntime struct {
	once sync.Once
	rt   wazero.Runtime
	err  error
}

// close closes the runtime if it was made; none is made after it.
func (l *lazyRuntime) close(ctx context.Context) error {
	l.once.Do(func() { l.err = errEngineClosed })
	if l.rt == nil {
		return nil
	}
	return l.rt.Close(ctx)
}

// Config returns the engine's effective configuration, defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Close releases every module and the runtime.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	e.bg.Wait()
	e.mu.Lock()
	mods := e.modules
	e.modules = nil
	e.mu.Unlock()
	for _, m := range mods {
		m.closePool(ctx)
	}
	e.regions.close()
	e.guarded.close(ctx)
	return e.plain.close(ctx)
}

// instantiateHostModule registers the pal import module in rt.
func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	_, err := rt.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostCall), []api.ValueType{i32, i32}, []api.ValueType{i64}).
		WithParameterNames("ptr", "len").
		Export(abi.ImportCall).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export(abi.ImportLog).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("runtime: host module: %w", err)
	}
	return nil
}

// Errors a tool call can end with. Each is wrapped with details by Invoke.
var (
	// ErrDeadline: the call ran past its time limit and the instance was stopped.
	ErrDeadline = errors.New("tool call exceeded its time limit")
	// ErrCancelled: the caller cancelled the call.
	ErrCancelled = errors.New("tool call cancelled")
	// ErrMemoryCap: the instance tried to grow its memory past the cap.
	ErrMemoryCap = errors.New("tool exceeded its memory cap")
	// ErrOutputCap: the result was larger than the output cap.
	ErrOutputCap = errors.New("tool output exceeded the output cap")
	// ErrTrap: the module trapped (a crash, a panic, unreachable code).
	ErrTrap = errors.New("tool module crashed")
	// ErrBadResult: the module returned something that is not a valid result.
	ErrBadResult = errors.New("tool module returned an invalid result")
	// ErrReentrant: the module made a host call from inside alloc while the host was writing
	// the request into its memory.
	ErrReentrant = errors.New("tool module made a host call from inside alloc")
	// ErrStopped: the Host ended the call (a Stopper's error, wrapped beside this one).
	ErrStopped = errors.New("the host stopped the tool call")
	// ErrBadModule: the module does not implement ABI 1 correctly.
	ErrBadModule = errors.New("invalid tool module")
)
