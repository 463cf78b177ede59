package policy

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/pal-mcp/pal/internal/boundedre"
)

// Config is pal.toml: what pal may touch and use. Build one with Default or Load; every field's
// default is stated beside it and in docs/policy.md.
type Config struct {
	Paths     PathsConfig     `toml:"paths"`
	Tools     ToolsConfig     `toml:"tools"`
	Limits    LimitsConfig    `toml:"limits"`
	Providers ProvidersConfig `toml:"providers"`
	Memory    MemoryConfig    `toml:"memory"`
	Audit     AuditConfig     `toml:"audit"`
	Redaction RedactionConfig `toml:"redaction"`
	Cache     CacheConfig     `toml:"cache"`
	// HTTP is [http]: authentication and limits of `pal serve -http` (http_config.go).
	HTTP HTTPConfig `toml:"http"`
	// Modules are tool modules to load besides the built-in ones, each pinned by its sha256.
	// Their tools get no capability unless a [tools.<name>] table grants it.
	Modules []ModuleConfig `toml:"modules"`
	// UserModules is [user_modules]: a directory of tool modules, each loaded only while its
	// sha256 is pinned. Trusted layers only.
	UserModules UserModulesConfig `toml:"user_modules"`
	// CLIs are the programs cli.run may run ([[cli]], cli_config.go); none by default.
	CLIs []CLIConfig `toml:"cli"`
	// Locked, in the system file only, makes every value that file sets a ceiling no later
	// layer may widen (see docs/policy.md, "Layers"). Default false.
	Locked bool `toml:"locked"`

	// Sources lists the files applied, in order (LoadFile appends).
	Sources []string `toml:"-"`
	// Origins maps each dotted key a layer set to that layer, e.g. "user file
	// /home/me/.config/pal/pal.toml" or "environment DEFAULT_MODEL"; unset keys are defaults.
	Origins map[string]string `toml:"-"`
	// Warnings collects problems that were not fatal (an essential tool listed as disabled,
	// an empty deny list, an invalid environment value that was ignored).
	Warnings []string `toml:"-"`
}

// PathsConfig is [paths]: which files tools may read and list.
type PathsConfig struct {
	// Roots are the directories tools may read beneath. Relative entries are relative to the
	// directory of the file that sets them; "~" and "~/…" name the home directory. Default:
	// empty, meaning the working directory the server started in.
	Roots []string `toml:"roots"`
	// Deny are globs matched against path components (see DefaultDeny). Setting it replaces
	// the default list; use ExtraDeny to add to it. Default: DefaultDeny.
	Deny []string `toml:"deny"`
	// ExtraDeny are globs added to Deny. Default: empty.
	ExtraDeny []string `toml:"extra_deny"`
	// MaxFileBytes is the most bytes one read returns. Default 1,000,000 (PAL's cap).
	MaxFileBytes int64 `toml:"max_file_bytes"`
	// MaxListEntries is the most entries one listing returns. Default 2,000.
	MaxListEntries int `toml:"max_list_entries"`
	// MaxDepth is the most directory levels one listing descends (1 to 64). Default 8.
	MaxDepth int `toml:"max_depth"`
	// MaxImageBytes is the largest image file model.generate may send, in bytes. Default
	// 20 MiB (20,971,520).
	MaxImageBytes int64 `toml:"max_image_bytes"`
	// AllowHardLinks lets tools read files with more than one hard link. A hard link can make
	// a file outside every root look as if it were inside one, so such files are refused by
	// default. Default false.
	AllowHardLinks bool `toml:"allow_hard_links"`
	// ClientRoots says what the MCP client's roots (roots/list) do: "narrow" (default) makes
	// them the allowlist within Roots, so a client can only narrow it (clientroots.go);
	// "off" ignores them. Client roots never widen Roots.
	ClientRoots string `toml:"client_roots"`
}

// ToolsConfig is [tools] and its [tools.<name>] tables.
type ToolsConfig struct {
	// Enabled, when non-empty, lists the only tools that are listed and callable (besides
	// version and listmodels). Lower-case names. Default: empty, meaning every tool.
	Enabled []string
	// Disabled lists tools that are neither listed nor callable; version and listmodels cannot
	// be disabled. PAL's DISABLED_TOOLS adds to it. Default: empty.
	Disabled []string
	// Tool holds the [tools.<name>] tables by tool name.
	Tool map[string]ToolPolicy
}

// ToolPolicy is one [tools.<name>] table.
type ToolPolicy struct {
	// Capabilities is the grant ceiling for the tool: what it may be granted of what its
	// manifest declares. nil (not set): everything declared for a built-in tool, nothing for a
	// tool from another module. An empty list grants nothing.
	Capabilities []Capability
	// Limit, when non-nil, is a further ceiling set by an untrusted project file or under a
	// lock, where no earlier layer had set one: the grant is also intersected with it. It can
	// only take capabilities away.
	Limit []Capability
}

// ceilings returns, per tool with a [tools.<name>] table, its effective ceiling: Capabilities
// intersected with Limit, whichever are set.
func (t ToolsConfig) ceilings() map[string][]Capability {
	out := make(map[string][]Capability, len(t.Tool))
	for name, tp := range t.Tool {
		switch {
		case tp.Capabilities != nil && tp.Limit != nil:
			out[name] = NewCapSet(tp.Capabilities...).Intersect(NewCapSet(tp.Limit...)).List()
		case tp.Capabilities != nil:
			out[name] = slices.Clone(tp.Capabilities)
		case tp.Limit != nil:
			out[name] = slices.Clone(tp.Limit)
		}
	}
	return out
}

// EssentialTools can never be disabled (PAL's rule).
var EssentialTools = []string{"version", "listmodels"}

// LimitsConfig is [limits]: per-call caps.
type LimitsConfig struct {
	// CallTimeout bounds one tool call, model time included. Default "10m".
	CallTimeout Duration `toml:"call_timeout"`
	// MemoryMB caps a tool instance's linear memory, in MiB (1 to 4096). Default 256.
	MemoryMB int `toml:"memory_mb"`
	// OutputBytes caps one tool result, in bytes. Default 4 MiB (4,194,304).
	OutputBytes int64 `toml:"output_bytes"`
	// PromptChars is the most characters a client may put in a prompt field (PAL's
	// MCP_PROMPT_SIZE_LIMIT). Default 60,000; MAX_MCP_OUTPUT_TOKENS=n sets int(n*0.6)*4.
	PromptChars int `toml:"prompt_chars"`
	// HeartbeatInterval is how often pal sends a progress notification with the elapsed time
	// while a model call runs, when the client gave a progress token, so that clients which
	// cut a call after 60 s without progress wait for a long one. Each one counts against
	// progress_notifications. "0s" sends none; otherwise 10ms to 1h. Default "10s".
	HeartbeatInterval Duration `toml:"heartbeat_interval"`
	// Budgets are the per-call and per-process budgets (limits.go), keys of [limits] too.
	Budgets
}

// ProvidersConfig is [providers] and its [providers.<type>] tables.
type ProvidersConfig struct {
	// DefaultModel is the model used when a tool names none, or "auto" to let the server pick
	// per tool category (and require clients to name one). Default "auto" (DEFAULT_MODEL).
	DefaultModel string `toml:"default_model"`

	Google     ProviderConfig `toml:"google"`
	OpenAI     ProviderConfig `toml:"openai"`
	Azure      ProviderConfig `toml:"azure"`
	XAI        ProviderConfig `toml:"xai"`
	DIAL       ProviderConfig `toml:"dial"`
	Custom     ProviderConfig `toml:"custom"`
	OpenRouter ProviderConfig `toml:"openrouter"`
	Anthropic  ProviderConfig `toml:"anthropic"`
}

// ProviderNames are the [providers.<type>] table names, PAL's provider type strings.
var ProviderNames = []string{"google", "openai", "azure", "xai", "dial", "custom", "openrouter", "anthropic"}

// defaultKeyEnv is the environment variable PAL reads each provider's key from.
var defaultKeyEnv = map[string]string{
	"google": "GEMINI_API_KEY", "openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY",
	"xai": "XAI_API_KEY", "dial": "DIAL_API_KEY", "custom": "CUSTOM_API_KEY",
	"openrouter": "OPENROUTER_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
}

// Provider returns the [providers.<name>] table, or nil for an unknown name.
func (p *ProvidersConfig) Provider(name string) *ProviderConfig {
	switch name {
	case "google":
		return &p.Google
	case "openai":
		return &p.OpenAI
	case "azure":
		return &p.Azure
	case "xai":
		return &p.XAI
	case "dial":
		return &p.DIAL
	case "custom":
		return &p.Custom
	case "openrouter":
		return &p.OpenRouter
	case "anthropic":
		return &p.Anthropic
	}
	return nil
}

// ProviderConfig is one [providers.<type>] table. Key literals are not allowed in pal.toml.
type ProviderConfig struct {
	// APIKeyEnv names the environment variable holding the key (upper case, digits and _).
	// Default: PAL's name for the provider (GEMINI_API_KEY, OPENAI_API_KEY, …); see KeyEnv.
	APIKeyEnv string `toml:"api_key_env"`
	// APIKeyFile is a file holding the key (surrounding white space is ignored). It must not be
	// readable by group or others. Relative to the file that sets it. Default: unset. When set
	// it wins over APIKeyEnv.
	APIKeyFile string `toml:"api_key_file"`
	// BaseURL overrides the endpoint (http or https, no user:password). Default: the
	// provider's own (GEMINI_BASE_URL, AZURE_OPENAI_ENDPOINT, DIAL_API_HOST, CUSTOM_API_URL).
	BaseURL string `toml:"base_url"`
	// APIVersion is Azure's or DIAL's api-version. Default: the provider's own.
	APIVersion string `toml:"api_version"`
	// AllowedModels restricts the provider to these model names or aliases (lower-cased).
	// Default: empty, meaning no restriction (<TYPE>_ALLOWED_MODELS).
	AllowedModels []string `toml:"allowed_models"`
	// ModelsConfig is a model catalogue JSON file replacing the built-in one. Relative to the
	// file that sets it. Default: the built-in catalogue (<TYPE>_MODELS_CONFIG_PATH).
	ModelsConfig string `toml:"models_config"`
	// Disabled turns the provider off even when a key is present. Default false.
	Disabled bool `toml:"disabled"`
}

// MemoryConfig is [memory]: conversation threads.
type MemoryConfig struct {
	// TTL is how long a thread lives after its last turn. Default "3h"
	// (CONVERSATION_TIMEOUT_HOURS).
	TTL Duration `toml:"ttl"`
	// MaxTurns caps the turns in one thread (user and assistant turns each count). Default 50
	// (MAX_CONVERSATION_TURNS).
	MaxTurns int `toml:"max_turns"`
	// Path is the bbolt file that keeps threads across restarts (memory_path.go). Default ""
	// (threads in memory only); "state" is $XDG_STATE_HOME/pal/threads.db; a relative path
	// is relative to the file that sets it. Trusted files only: it says where pal writes.
	Path string `toml:"path"`
	// Backend is where threads live: "local" (default: in memory, or the bbolt file at Path)
	// or "redis" (the server [memory.redis] names, shared by every pal replica using it).
	// Trusted files only: it says where conversations go.
	Backend string `toml:"backend"`
	// Redis is [memory.redis], used when Backend is "redis" (memory_redis.go).
	Redis RedisConfig `toml:"redis"`
}

// ModuleConfig is one [[modules]] entry.
type ModuleConfig struct {
	// Path is the .wasm file, relative to the file that sets it.
	Path string `toml:"path"`
	// SHA256 is the module's hex sha256; a file with other contents is refused.
	SHA256 string `toml:"sha256"`
	// ABI is the contract the module implements: "pal" (the default, docs/abi.md) or
	// "extism", an Extism plugin run by package runtime/extism with pal's capabilities as
	// host functions and Extism's own network and file access closed.
	ABI string `toml:"abi"`
}

// UserModulesConfig is [user_modules]: where a user keeps tool modules and the hash each must
// have. Both keys are trusted-only (a project's pal.toml may not say what pal loads).
type UserModulesConfig struct {
	// Dir holds tool modules, the *.wasm files directly in it; relative to the file that sets
	// it, "~" is the home directory. Default "": none.
	Dir string `toml:"dir"`
	// Pins maps the name of a file in Dir to its sha256 (64 lower-case hex digits). A file
	// with no pin, or whose bytes have another hash, is not loaded: the refusal is logged and
	// audited (op "module.load"), and the other tools are served. Later layers add pins by
	// file name. Default: none.
	Pins map[string]string `toml:"pins"`
}

// Module ABIs of [[modules]] abi.
const (
	ModuleABIPal    = "pal"
	ModuleABIExtism = "extism"
)

// CacheConfig is [cache].
type CacheConfig struct {
	// Dir holds the compiled-module cache. Default os.UserCacheDir()/pal.
	Dir string `toml:"dir"`
}

// Duration is a TOML duration written as a string ("90s", "10m", "3h"); bare numbers are
// refused so that a unit is never guessed.
type Duration struct{ time.Duration }

// UnmarshalTOML accepts a positive duration string.
func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("must be a duration string such as \"90s\", \"10m\" or \"3h\" (found %s)", tomlType(v))
	}
	parsed, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a number with a unit, such as \"90s\", \"10m\" or \"3h\"", s)
	}
	if parsed <= 0 {
		return fmt.Errorf("duration %q must be positive", s)
	}
	d.Duration = parsed
	return nil
}

// MarshalText writes the duration as Go formats it ("10m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults of [limits] and [memory].
const (
	DefaultCallTimeout = 10 * time.Minute
	DefaultMemoryMB    = 256
	DefaultOutputBytes = 4 << 20
	DefaultPromptChars = 60_000
	DefaultTTL         = 3 * time.Hour
	DefaultMaxTurns    = 50
	DefaultModel       = "auto"
)

// Default returns the built-in configuration: the bottom layer that files and the environment
// are applied over.
func Default() *Config {
	return &Config{
		Paths: PathsConfig{
			Deny:           slices.Clone(DefaultDeny),
			MaxFileBytes:   DefaultMaxFileBytes,
			MaxListEntries: DefaultMaxListEntries,
			MaxDepth:       DefaultMaxDepth,
			MaxImageBytes:  DefaultMaxImageBytes,
			ClientRoots:    ClientRootsNarrow,
		},
		Tools: ToolsConfig{Tool: map[string]ToolPolicy{}},
		Limits: LimitsConfig{
			CallTimeout: Duration{DefaultCallTimeout},
			MemoryMB:    DefaultMemoryMB,
			OutputBytes: DefaultOutputBytes,
			PromptChars: DefaultPromptChars,
			Budgets:     DefaultBudgets(),

			HeartbeatInterval: Duration{DefaultHeartbeatInterval},
		},
		Providers: ProvidersConfig{DefaultModel: DefaultModel},
		Memory:    MemoryConfig{TTL: Duration{DefaultTTL}, MaxTurns: DefaultMaxTurns, Backend: MemoryBackendLocal, Redis: DefaultRedis()},
		Audit:     AuditConfig{Path: defaultAuditPath(), Enabled: true, MaxBytes: DefaultAuditMaxBytes, Keep: DefaultAuditKeep},
		Redaction: DefaultRedaction(),
		Cache:     CacheConfig{Dir: defaultCacheDir()},
		HTTP:      DefaultHTTP(),
	}
}

func defaultAuditPath() string { return stateFile(nil, "audit.jsonl") }

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "pal")
	}
	return ""
}

// Errors of Load. Every error is a *ConfigError naming the file and, where there is one, the
// key, and wraps one of these.
var (
	ErrConfigSyntax = errors.New("syntax error")
	ErrUnknownKey   = errors.New("unknown key")
	ErrKeyLiteral   = errors.New("API keys may not be written in pal.toml")
	ErrInvalidValue = errors.New("invalid value")
)

// ConfigError is a problem in one configuration file.
type ConfigError struct {
	File string // the file, as given to Load
	Line int    // 1-based; 0 when unknown
	Key  string // dotted key, e.g. "paths.max_depth"; "" when unknown
	Msg  string // what is wrong; never holds a secret
	Err  error  // one of the Err* sentinels
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel.
func (e *ConfigError) Unwrap() error { return e.Err }

// maxConfigBytes bounds a configuration file.
const maxConfigBytes = 1 << 20

// Load returns Default with the file at path applied over it.
func Load(path string) (*Config, error) {
	c := Default()
	if err := c.LoadFile(path); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadFile applies one trusted configuration file over c: keys the file sets replace what c
// holds (a list replaces the whole list; [tools.<name>] tables are merged by name). On error c
// is left unchanged. LoadLayers is the loader pal uses: it applies the layers in order and
// enforces trust and the lock.
func (c *Config) LoadFile(path string) error {
	data, err := readConfigFile(path)
	if err != nil {
		return err
	}
	next, _, err := c.decodeOver(path, data)
	if err != nil {
		return err
	}
	*c = *next
	return nil
}

// readConfigFile reads a configuration file of at most maxConfigBytes. It opens without
// blocking and requires a regular file, so that a FIFO or device put in its place (a project
// can plant one) cannot hang or feed the start.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, openReadFlags, 0)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: describeOSError(err), Err: ErrInvalidValue}
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, &ConfigError{File: path, Msg: "not a regular file", Err: ErrInvalidValue}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, &ConfigError{File: path, Msg: describeOSError(err), Err: ErrInvalidValue}
	}
	if len(data) > maxConfigBytes {
		return nil, &ConfigError{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxConfigBytes), Err: ErrInvalidValue}
	}
	return data, nil
}

func describeOSError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// clone copies c deeply enough that decoding into the copy leaves c as it was.
func (c *Config) clone() *Config {
	n := *c
	n.Paths.Roots = slices.Clone(c.Paths.Roots)
	n.Paths.Deny = slices.Clone(c.Paths.Deny)
	n.Paths.ExtraDeny = slices.Clone(c.Paths.ExtraDeny)
	n.Tools.Enabled = slices.Clone(c.Tools.Enabled)
	n.Tools.Disabled = slices.Clone(c.Tools.Disabled)
	n.Tools.Tool = make(map[string]ToolPolicy, len(c.Tools.Tool))
	for k, v := range c.Tools.Tool {
		n.Tools.Tool[k] = ToolPolicy{Capabilities: slices.Clone(v.Capabilities), Limit: slices.Clone(v.Limit)}
	}
	for _, name := range ProviderNames {
		p := n.Providers.Provider(name)
		p.AllowedModels = slices.Clone(p.AllowedModels)
	}
	n.Modules = slices.Clone(c.Modules)
	n.UserModules.Pins = maps.Clone(c.UserModules.Pins)
	n.CLIs = slices.Clone(c.CLIs)
	n.Redaction.Rules = slices.Clone(c.Redaction.Rules)
	n.HTTP.AllowedHosts = slices.Clone(c.HTTP.AllowedHosts)
	n.HTTP.AllowedOrigins = slices.Clone(c.HTTP.AllowedOrigins)
	n.Sources = slices.Clone(c.Sources)
	n.Warnings = slices.Clone(c.Warnings)
	n.Origins = maps.Clone(c.Origins)
	return &n
}

var (
	lastKeyRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "((?:[^"\\]|\\.)*)"\): (.*)$`)
	// quotedRE finds quoted fragments of 8 or more characters in parser messages: a bare or
	// broken secret would appear there, so they are cut out.
	quotedRE = regexp.MustCompile(`"[^"\s]{8,}"|'[^'\s]{8,}'`)
)

// syntaxError turns a TOML syntax error into a ConfigError. The parser quotes pieces of the
// input, where a bare or broken secret would appear, so longer quoted pieces are cut out.
func syntaxError(file string, err error) error {
	ce := &ConfigError{File: file, Err: ErrConfigSyntax, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		ce.Line, ce.Key, ce.Msg = pe.Position.Line, pe.LastKey, pe.Message
		if pe.Position.Col > 0 {
			ce.Msg = fmt.Sprintf("%s (column %d)", ce.Msg, pe.Position.Col)
		}
	}
	if looksSecret(ce.Key) {
		ce.Msg, ce.Err = keyLiteralAdvice, ErrKeyLiteral
	}
	ce.Msg = quotedRE.ReplaceAllString(ce.Msg, "(value hidden)")
	return ce
}

// decodeError turns an error from decoding well-formed TOML into the schema (a wrong type, a
// bad duration, a bad [tools] table) into a ConfigError that names the key.
func decodeError(file string, err error) error {
	ce := &ConfigError{File: file, Err: ErrInvalidValue, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		ce.Line, ce.Key, ce.Msg = pe.Position.Line, pe.LastKey, pe.Message
	} else if m := lastKeyRE.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &ce.Line)
		ce.Key, ce.Msg = m[2], m[3]
	}
	// Errors from UnmarshalTOML (the [tools] tables) name their own, deeper key.
	if ce.Key != "" && strings.HasPrefix(ce.Msg, ce.Key+".") {
		if key, msg, ok := strings.Cut(ce.Msg, ": "); ok {
			ce.Key, ce.Msg, ce.Line = key, msg, 0
		}
	}
	if strings.Contains(ce.Msg, "unknown key") {
		ce.Err = ErrUnknownKey
	}
	if looksSecret(ce.Key) {
		ce.Msg, ce.Err = keyLiteralAdvice, ErrKeyLiteral
	}
	return ce
}

const keyLiteralAdvice = "API keys may not be written in pal.toml; set api_key_env to the name of an " +
	"environment variable that holds the key, or api_key_file to a file only you can read"

// looksSecret reports whether a dotted key names a secret.
func looksSecret(key string) bool {
	last := strings.ToLower(key[strings.LastIndexByte(key, '.')+1:])
	last = strings.Trim(last, `"`)
	switch last {
	case "api_key", "apikey", "key", "token", "secret", "password", "api_token", "access_token":
		return true
	}
	return false
}

// checkKeys refuses keys the schema does not know, naming the first such key.
func checkKeys(file string, md toml.MetaData) error {
	for _, k := range md.Keys() {
		s := k.String()
		if s != strings.ToLower(s) {
			return &ConfigError{File: file, Key: s, Msg: "keys are lower case", Err: ErrUnknownKey}
		}
	}
	for _, k := range md.Undecoded() {
		s := k.String()
		if looksSecret(s) {
			return &ConfigError{File: file, Key: s, Msg: keyLiteralAdvice, Err: ErrKeyLiteral}
		}
		msg := "unknown key"
		if hint := suggestKey(s); hint != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", hint)
		}
		return &ConfigError{File: file, Key: s, Msg: msg, Err: ErrUnknownKey}
	}
	return nil
}

// knownKeys are the dotted keys of the schema, from the toml tags of Config.
var knownKeys = func() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("toml")
			if f.Anonymous && tag == "" {
				walk(prefix, f.Type) // embedded: its keys belong to this table
				continue
			}
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			out = append(out, key)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]() {
				walk(key+".", f.Type)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	out = append(out, "tools.enabled", "tools.disabled", "tools.<name>.capabilities")
	return out
}()

// suggestKey returns the known key closest to key, if it is close.
func suggestKey(key string) string {
	best, bestDist := "", 3
	for _, k := range knownKeys {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// UnmarshalTOML decodes [tools]: enabled, disabled and the [tools.<name>] tables.
func (t *ToolsConfig) UnmarshalTOML(v any) error {
	table, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("tools must be a table (found %s)", tomlType(v))
	}
	if t.Tool == nil {
		t.Tool = map[string]ToolPolicy{}
	}
	for _, key := range slices.Sorted(maps.Keys(table)) {
		val := table[key]
		switch key {
		case "enabled", "disabled":
			names, err := stringList("tools."+key, val)
			if err != nil {
				return err
			}
			for i, n := range names {
				names[i] = strings.ToLower(strings.TrimSpace(n))
			}
			if key == "enabled" {
				t.Enabled = names
			} else {
				t.Disabled = names
			}
		default:
			if !toolNameRE.MatchString(key) {
				return fmt.Errorf("tools.%s: not a tool name (1 to 64 of a-z, 0-9 and _, starting with a letter)", quotedKey{key})
			}
			sub, ok := val.(map[string]any)
			if !ok {
				return fmt.Errorf("tools.%s: must be a table ([tools.%s]) or one of enabled, disabled", key, key)
			}
			tp := ToolPolicy{}
			for _, sk := range slices.Sorted(maps.Keys(sub)) {
				if sk != "capabilities" {
					msg := fmt.Sprintf("tools.%s.%s: unknown key", key, quotedKey{sk})
					if editDistance(sk, "capabilities") < 3 {
						msg += ` (did you mean "capabilities"?)`
					}
					return errors.New(msg)
				}
				names, err := stringList("tools."+key+".capabilities", sub[sk])
				if err != nil {
					return err
				}
				tp.Capabilities = make([]Capability, 0, len(names))
				for _, n := range names {
					c := Capability(strings.TrimSpace(n))
					if !c.Known() {
						return fmt.Errorf("tools.%s.capabilities: unknown capability %q (known: %s)", key, n, capabilityNames())
					}
					tp.Capabilities = append(tp.Capabilities, c)
				}
			}
			t.Tool[key] = tp
		}
	}
	return nil
}

// quotedKey quotes a TOML key for a message the way TOML would write it.
type quotedKey struct{ s string }

func (k quotedKey) String() string { return toml.Key{k.s}.String() }

var toolNameRE = boundedre.MustCompile(`^[a-z][a-z0-9_]*$`, 64)

func capabilityNames() string {
	names := make([]string, len(AllCapabilities))
	for i, c := range AllCapabilities {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

func stringList(key string, v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be an array of strings (found %s)", key, tomlType(v))
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: must be an array of strings (found an element of type %s)", key, tomlType(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// resolvePaths makes the path-valued keys this file set absolute: "~" is the home directory,
// relative paths are relative to dir (the file's directory).
func (c *Config) resolvePaths(file, dir string, md toml.MetaData) error {
	fix := func(key string, p *string) error {
		if *p == "" {
			return nil
		}
		abs, err := expandPath(*p, dir)
		if err != nil {
			return &ConfigError{File: file, Key: key, Msg: err.Error(), Err: ErrInvalidValue}
		}
		*p = abs
		return nil
	}
	if md.IsDefined("paths", "roots") {
		for i := range c.Paths.Roots {
			if strings.TrimSpace(c.Paths.Roots[i]) == "" {
				return &ConfigError{File: file, Key: "paths.roots", Msg: "an entry is empty", Err: ErrInvalidValue}
			}
			if err := fix("paths.roots", &c.Paths.Roots[i]); err != nil {
				return err
			}
		}
	}
	for _, name := range ProviderNames {
		p := c.Providers.Provider(name)
		if md.IsDefined("providers", name, "api_key_file") {
			if err := fix("providers."+name+".api_key_file", &p.APIKeyFile); err != nil {
				return err
			}
		}
		if md.IsDefined("providers", name, "models_config") {
			if err := fix("providers."+name+".models_config", &p.ModelsConfig); err != nil {
				return err
			}
		}
	}
	if md.IsDefined("modules") {
		for i := range c.Modules {
			if err := fix(fmt.Sprintf("modules[%d].path", i), &c.Modules[i].Path); err != nil {
				return err
			}
		}
	}
	if md.IsDefined("user_modules", "dir") {
		if err := fix("user_modules.dir", &c.UserModules.Dir); err != nil {
			return err
		}
	}
	if md.IsDefined("audit", "path") {
		if err := fix("audit.path", &c.Audit.Path); err != nil {
			return err
		}
	}
	if md.IsDefined("memory", "path") {
		abs, err := resolveMemoryPath(c.Memory.Path, dir)
		if err != nil {
			return &ConfigError{File: file, Key: "memory.path", Msg: err.Error(), Err: ErrInvalidValue}
		}
		c.Memory.Path = abs
	}
	for _, k := range []struct {
		key string
		p   *string
	}{{"password_file", &c.Memory.Redis.PasswordFile}, {"tls_ca_file", &c.Memory.Redis.TLSCAFile}} {
		if md.IsDefined("memory", "redis", k.key) && *k.p != "" {
			if err := fix("memory.redis."+k.key, k.p); err != nil {
				return err
			}
		}
	}
	if md.IsDefined("cache", "dir") {
		if err := fix("cache.dir", &c.Cache.Dir); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		p   *string
	}{{"token_file", &c.HTTP.TokenFile}, {"tls_cert", &c.HTTP.TLSCert}, {"tls_key", &c.HTTP.TLSKey}} {
		if md.IsDefined("http", f.key) {
			if err := fix("http."+f.key, f.p); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandPath expands a leading "~" and makes p absolute against dir.
func expandPath(p, dir string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(filepath.Separator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~: %v", err)
		}
		p = filepath.Join(home, p[1:])
	} else if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("%q: only ~ and ~/… are expanded, not ~user", p)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p), nil
}

var (
	envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	sha256RE  = boundedre.MustCompileLengths(`^[0-9a-f]*$`, 64)
)

// validate checks every value, naming the key of the first bad one.
func (c *Config) validate(file string, md toml.MetaData) error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{File: file, Key: key, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidValue}
	}
	p := &c.Paths
	if _, err := compileDeny(p.Deny); err != nil {
		return bad("paths.deny", "%v", err)
	}
	if _, err := compileDeny(p.ExtraDeny); err != nil {
		return bad("paths.extra_deny", "%v", err)
	}
	if md.IsDefined("paths", "deny") && len(p.Deny) == 0 {
		c.Warnings = append(c.Warnings, file+": paths.deny is empty: no file is denied by name (use extra_deny to add rules)")
	}
	if p.MaxFileBytes <= 0 {
		return bad("paths.max_file_bytes", "must be a positive number of bytes, got %d", p.MaxFileBytes)
	}
	if p.MaxListEntries <= 0 {
		return bad("paths.max_list_entries", "must be positive, got %d", p.MaxListEntries)
	}
	if p.MaxDepth < 1 || p.MaxDepth > 64 {
		return bad("paths.max_depth", "must be 1 to 64, got %d", p.MaxDepth)
	}
	if p.MaxImageBytes <= 0 {
		return bad("paths.max_image_bytes", "must be a positive number of bytes, got %d", p.MaxImageBytes)
	}
	if p.ClientRoots != ClientRootsNarrow && p.ClientRoots != ClientRootsOff {
		return bad("paths.client_roots", "must be %q or %q, got %q", ClientRootsNarrow, ClientRootsOff, p.ClientRoots)
	}

	for _, list := range []struct {
		key   string
		names []string
	}{{"tools.enabled", c.Tools.Enabled}, {"tools.disabled", c.Tools.Disabled}} {
		for _, n := range list.names {
			if !toolNameRE.MatchString(n) {
				return bad(list.key, "%q is not a tool name", n)
			}
		}
	}
	c.Tools.Disabled = slices.DeleteFunc(c.Tools.Disabled, func(n string) bool {
		if slices.Contains(EssentialTools, n) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: tools.disabled: %q cannot be disabled; ignored", file, n))
			return true
		}
		return false
	})

	l := &c.Limits
	if l.MemoryMB < 1 || l.MemoryMB > 4096 {
		return bad("limits.memory_mb", "must be 1 to 4096 MiB, got %d", l.MemoryMB)
	}
	if l.OutputBytes <= 0 {
		return bad("limits.output_bytes", "must be a positive number of bytes, got %d", l.OutputBytes)
	}
	if l.PromptChars <= 0 {
		return bad("limits.prompt_chars", "must be positive, got %d", l.PromptChars)
	}
	if d := l.HeartbeatInterval.Duration; d != 0 && (d < 10*time.Millisecond || d > time.Hour) {
		return bad("limits.heartbeat_interval", `must be "0s" (none) or 10ms to 1h, got %s`, d)
	}
	if err := l.Budgets.validate(file); err != nil {
		return err
	}

	if strings.TrimSpace(c.Providers.DefaultModel) == "" {
		return bad("providers.default_model", `must name a model or be "auto"`)
	}
	for _, name := range ProviderNames {
		pc := c.Providers.Provider(name)
		key := "providers." + name
		if md.IsDefined("providers", name, "api_key_env") && md.IsDefined("providers", name, "api_key_file") &&
			pc.APIKeyEnv != "" && pc.APIKeyFile != "" {
			return bad(key, "set api_key_env or api_key_file, not both")
		}
		if pc.APIKeyEnv != "" && !envNameRE.MatchString(pc.APIKeyEnv) {
			// The value is not repeated: a key pasted here by mistake must not reach a log.
			return bad(key+".api_key_env", "must be the NAME of an environment variable (A-Z, 0-9, _), "+
				"not the key itself; if you pasted a key here, remove it from the file")
		}
		if pc.APIKeyFile != "" {
			if err := checkKeyFile(pc.APIKeyFile); err != nil {
				return bad(key+".api_key_file", "%v", err)
			}
		}
		if pc.BaseURL != "" {
			if err := checkBaseURL(pc.BaseURL); err != nil {
				return bad(key+".base_url", "%v", err)
			}
		}
		for i, m := range pc.AllowedModels {
			pc.AllowedModels[i] = strings.ToLower(strings.TrimSpace(m))
		}
		pc.AllowedModels = slices.DeleteFunc(pc.AllowedModels, func(m string) bool { return m == "" })
	}

	for i, m := range c.Modules {
		key := fmt.Sprintf("modules[%d]", i)
		if m.Path == "" {
			return bad(key+".path", "is empty")
		}
		if !sha256RE.MatchString(m.SHA256) {
			return bad(key+".sha256", "must be the module's sha256 as 64 lower-case hex digits (sha256sum %s)", m.Path)
		}
		switch m.ABI {
		case "", ModuleABIPal, ModuleABIExtism:
		default:
			return bad(key+".abi", "must be %q or %q, got %q", ModuleABIPal, ModuleABIExtism, m.ABI)
		}
	}

	for name, sum := range c.UserModules.Pins {
		if name != filepath.Base(name) || !strings.HasSuffix(name, ".wasm") || name == ".wasm" {
			return bad("user_modules.pins", "%q must be the name of a .wasm file in user_modules.dir, with no directory", name)
		}
		if !sha256RE.MatchString(sum) {
			return bad("user_modules.pins", "%q: must be the module's sha256 as 64 lower-case hex digits (pal tool check prints it)", name)
		}
	}

	if err := c.validateCLIs(file); err != nil {
		return err
	}
	if c.Memory.MaxTurns <= 0 {
		return bad("memory.max_turns", "must be positive, got %d", c.Memory.MaxTurns)
	}
	if err := c.Memory.validate(file); err != nil {
		return err
	}
	if err := c.Audit.validate(file); err != nil {
		return err
	}
	if err := c.Redaction.validate(file); err != nil {
		return err
	}
	if err := c.HTTP.validate(file); err != nil {
		return err
	}
	if c.Audit.Enabled && c.Audit.Path == "" {
		return bad("audit.path", "is empty and no default could be found (no home directory); set it or set enabled = false")
	}
	return nil
}

// checkKeyFile refuses a key file that is missing, not a regular file, or readable by group
// or others.
func checkKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%q: %s", path, describeOSError(err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", path)
	}
	if keyFileModeMatters && st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%q is readable or writable by group or others (mode %04o); run chmod 600 on it",
			path, st.Mode().Perm())
	}
	return nil
}

// checkBaseURL accepts http and https URLs with a host and no user information. The URL is
// not repeated in messages, since a key may be hiding in it.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("has no host name")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password; put the key in api_key_env or api_key_file")
	}
	return nil
}

// KeyEnv returns the environment variable the named provider's key is read from: the
// configured api_key_env, else PAL's name for it.
func (c *Config) KeyEnv(provider string) string {
	if pc := c.Providers.Provider(provider); pc != nil && pc.APIKeyEnv != "" {
		return pc.APIKeyEnv
	}
	return defaultKeyEnv[provider]
}

// ErrNoKey: no key is configured for the provider.
var ErrNoKey = errors.New("no API key configured")

// maxKeyFileBytes bounds a key file.
const maxKeyFileBytes = 64 << 10

// APIKey returns the named provider's key: the contents of api_key_file when set (checked
// again for permissions), else the value of the environment variable KeyEnv names, read with
// getenv. It returns ErrNoKey when the variable is unset or empty. Errors never hold the key.
func (c *Config) APIKey(provider string, getenv func(string) string) (string, error) {
	pc := c.Providers.Provider(provider)
	if pc == nil {
		return "", fmt.Errorf("unknown provider %q", provider)
	}
	if pc.APIKeyFile != "" {
		return readSecretFile("providers."+provider+".api_key_file", pc.APIKeyFile)
	}
	name := c.KeyEnv(provider)
	if key := strings.TrimSpace(getenv(name)); key != "" {
		return key, nil
	}
	return "", fmt.Errorf("%s is not set: %w", name, ErrNoKey)
}

// DenyGlobs is Deny followed by ExtraDeny.
func (p PathsConfig) DenyGlobs() []string { return append(slices.Clone(p.Deny), p.ExtraDeny...) }

// Caps returns the caps of [paths].
func (p PathsConfig) Caps() Caps {
	return Caps{MaxFileBytes: p.MaxFileBytes, MaxListEntries: p.MaxListEntries, MaxDepth: p.MaxDepth, MaxImageBytes: p.MaxImageBytes, AllowHardLinks: p.AllowHardLinks}
}
