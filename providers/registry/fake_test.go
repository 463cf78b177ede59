package registry

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/pal-mcp/pal/providers"
)

// fakeProvider records what the registry hands it.
type fakeProvider struct {
	settings providers.Settings
	mu       sync.Mutex
	calls    []providers.Request
	caps     []*providers.Capabilities
	err      error
}

func (f *fakeProvider) Type() providers.Type { return f.settings.Type }

func (f *fakeProvider) Generate(_ context.Context, caps *providers.Capabilities, req providers.Request) (*providers.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	f.caps = append(f.caps, caps)
	if f.settings.Logger != nil {
		// A careless provider: logs its settings, key included. The registry's filter must blank it.
		f.settings.Logger.Debug("calling upstream", "key", f.settings.APIKey, "model", req.Model)
	}
	if f.err != nil {
		return nil, f.err
	}
	return &providers.Response{Content: "ok", Model: req.Model, Provider: f.settings.Type, FinishReason: "stop"}, nil
}

// fakes is a constructor table whose providers are kept for inspection.
type fakes struct {
	mu     sync.Mutex
	built  map[providers.Type]*fakeProvider
	err    map[providers.Type]error // constructor failures
	genErr error                    // Generate failure for every provider
}

func newFakes() *fakes {
	return &fakes{built: map[providers.Type]*fakeProvider{}, err: map[providers.Type]error{}}
}

func (f *fakes) table() map[providers.Type]Constructor {
	t := map[providers.Type]Constructor{}
	for _, typ := range providers.Priority {
		t[typ] = func(s providers.Settings) (providers.Provider, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if s.Logger != nil {
				s.Logger.Debug("building provider", "settings_key", s.APIKey)
			}
			if err := f.err[s.Type]; err != nil {
				return nil, err
			}
			p := &fakeProvider{settings: s, err: f.genErr}
			f.built[s.Type] = p
			return p, nil
		}
	}
	return t
}

func (f *fakes) get(t providers.Type) *fakeProvider {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.built[t]
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// build makes a registry from env with fake providers.
func build(t *testing.T, env map[string]string) (*Registry, *fakes) {
	t.Helper()
	f := newFakes()
	r, err := New(Config{Getenv: envOf(env), Constructors: f.table()})
	if err != nil {
		t.Fatalf("New(%v): %v", env, err)
	}
	return r, f
}

func buildErr(t *testing.T, cfg Config) error {
	t.Helper()
	if cfg.Constructors == nil {
		cfg.Constructors = newFakes().table()
	}
	_, err := New(cfg)
	if err == nil {
		t.Fatalf("New succeeded, want an error")
	}
	return err
}

var errBoom = errors.New("boom")
