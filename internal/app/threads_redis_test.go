package app

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testredis"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
)

// TestThreadsInRedis: [memory] backend = "redis" opens the server of [memory.redis] with the
// password its variable holds, hands the password to the redactors, and never puts it in an
// error or the log: not for a wrong password, not for an unset variable.
func TestThreadsInRedis(t *testing.T) {
	const password = "Redis-pw-9f1c2e7a"
	srv := testredis.Start(t, testredis.Options{Password: password})
	env := map[string]string{"PAL_TEST_REDIS_PASSWORD": password, "WRONG_PASSWORD": password + "x"}
	cfgFor := func(passwordEnv string) *policy.Config {
		c := policy.Default()
		c.Memory.Backend = policy.MemoryBackendRedis
		c.Memory.Redis.Addr = srv.Addr
		c.Memory.Redis.PasswordEnv = passwordEnv
		c.Memory.Redis.Prefix = "app-test:"
		return c
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var secrets []string
	open := func(c *policy.Config, inMemory bool) (memory.Threads, error) {
		return openThreads(c, inMemory, func(k string) string { return env[k] }, func(s string) { secrets = append(secrets, s) }, logger)
	}

	s, err := open(cfgFor("PAL_TEST_REDIS_PASSWORD"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*memory.RedisStore); !ok {
		t.Fatalf("store is %T", s)
	}
	if _, err := s.Create("local", "chat", nil); err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 1 || secrets[0] != password {
		t.Errorf("the password was not given to the redactors: %d values", len(secrets))
	}
	// pal's commands that only list tools open no server.
	if s, err := open(cfgFor("PAL_TEST_REDIS_PASSWORD"), true); err != nil {
		t.Fatal(err)
	} else if _, ok := s.(*memory.Store); !ok {
		t.Errorf("in-memory store wanted, got %T", s)
	}

	for name, tc := range map[string]struct{ env, want string }{
		"wrong password": {"WRONG_PASSWORD", srv.Addr},
		"unset variable": {"UNSET_REDIS_PASSWORD", "UNSET_REDIS_PASSWORD"},
	} {
		_, err := open(cfgFor(tc.env), false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %s", name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%s: the error holds the password: %v", name, err)
		}
	}
	_, err = open(cfgFor("UNSET_REDIS_PASSWORD"), false)
	if !errors.Is(err, policy.ErrNoRedisPassword) {
		t.Errorf("unset variable: %v", err)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the log holds the password: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "conversation threads in Redis") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestRedisTLSConfig: tls checks the server's name from addr at TLS 1.2 or later; tls_ca_file
// replaces the system roots and must hold a PEM certificate.
func TestRedisTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := redisTLS(policy.RedisConfig{Addr: "redis.corp.internal:6380", TLS: true})
	if err != nil || c.ServerName != "redis.corp.internal" || c.MinVersion != tls.VersionTLS12 || c.RootCAs != nil {
		t.Fatalf("tls = true: %+v %v", c, err)
	}
	c, err = redisTLS(policy.RedisConfig{Addr: "127.0.0.1:6380", TLSCAFile: ca})
	if err != nil || c.RootCAs == nil {
		t.Fatalf("tls_ca_file: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := redisTLS(policy.RedisConfig{Addr: "127.0.0.1:6380", TLSCAFile: bad}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a file without a certificate: %v", err)
	}
}
