package policy

import (
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
)

// A keyRule says, for one pal.toml key, what "wider" means. The same rule decides what an
// untrusted project file may do with the key and what a later layer may do under a locked
// system file, so the two can never disagree.
type keyRule struct {
	// key is the dotted key ("paths.max_depth", "providers.openai.base_url"); tool tables are
	// one rule, "tools.<name>.capabilities".
	key string
	// kind says how two values compare.
	kind ruleKind
	// get returns the key's value in c, for comparing and for `pal policy show`.
	get func(c *Config) any
	// project reports whether an untrusted project file may set the key at all (narrowing
	// only). Keys that decide where pal writes, what it loads or executes, or where requests
	// and keys go are never settable from an untrusted project.
	project bool
}

// ruleKind is how a key's values are ordered from narrow to wide.
type ruleKind int

const (
	// kindEqual: any change is a widening (endpoints, key sources, paths pal writes to).
	kindEqual ruleKind = iota
	// kindLower: a number or duration; a larger value is wider.
	kindLower
	// kindTrueIsWider: a boolean that widens when turned on (paths.allow_hard_links).
	kindTrueIsWider
	// kindFalseIsWider: a boolean that widens when turned off (providers.<p>.disabled,
	// redaction.enabled).
	kindFalseIsWider
	// kindSuperset: a list that is narrower the more it holds (deny globs, disabled tools);
	// dropping an entry widens.
	kindSuperset
	// kindAllowList: a list where empty means "everything" (tools.enabled, allowed_models);
	// emptying it or adding an entry widens.
	kindAllowList
	// kindRoots: directories; a root outside every earlier root widens.
	kindRoots
	// kindOffIsWider: a mode string where "off" is wider than any other value
	// (paths.client_roots: "narrow" lets the client narrow the roots, "off" does not).
	kindOffIsWider
	// kindToolCaps: the [tools.<name>] tables; a capability beyond the earlier ceiling widens.
	kindToolCaps
	// kindFree: not a range (default_model); an untrusted project may set it, a lock pins it.
	kindFree
)

// keyRules covers every key of pal.toml; TestEveryKeyHasARule keeps it so.
var keyRules = func() []keyRule {
	i64 := func(f func(c *Config) int64) func(c *Config) any { return func(c *Config) any { return f(c) } }
	dur := func(f func(c *Config) time.Duration) func(c *Config) any { return func(c *Config) any { return f(c) } }
	rules := []keyRule{
		{"locked", kindEqual, func(c *Config) any { return c.Locked }, false},
		{"paths.roots", kindRoots, func(c *Config) any { return c.Paths.Roots }, true},
		{"paths.deny", kindSuperset, func(c *Config) any { return c.Paths.DenyGlobs() }, true},
		{"paths.extra_deny", kindSuperset, func(c *Config) any { return c.Paths.DenyGlobs() }, true},
		{"paths.max_file_bytes", kindLower, i64(func(c *Config) int64 { return c.Paths.MaxFileBytes }), true},
		{"paths.max_list_entries", kindLower, i64(func(c *Config) int64 { return int64(c.Paths.MaxListEntries) }), true},
		{"paths.max_depth", kindLower, i64(func(c *Config) int64 { return int64(c.Paths.MaxDepth) }), true},
		{"paths.max_image_bytes", kindLower, i64(func(c *Config) int64 { return c.Paths.MaxImageBytes }), true},
		{"paths.allow_hard_links", kindTrueIsWider, func(c *Config) any { return c.Paths.AllowHardLinks }, false},
		// Client roots only ever narrow the roots, so any layer may turn them on; turning them
		// off is a widening an untrusted project or a layer under a lock may not make.
		{"paths.client_roots", kindOffIsWider, func(c *Config) any { return c.Paths.ClientRoots }, true},
		{"tools.enabled", kindAllowList, func(c *Config) any { return c.Tools.Enabled }, true},
		{"tools.disabled", kindSuperset, func(c *Config) any { return c.Tools.Disabled }, true},
		{"tools.<name>.capabilities", kindToolCaps, func(c *Config) any { return c.Tools.ceilings() }, true},
		{"limits.call_timeout", kindLower, dur(func(c *Config) time.Duration { return c.Limits.CallTimeout.Duration }), true},
		{"limits.memory_mb", kindLower, i64(func(c *Config) int64 { return int64(c.Limits.MemoryMB) }), true},
		{"limits.output_bytes", kindLower, i64(func(c *Config) int64 { return c.Limits.OutputBytes }), true},
		// Trusted only: how often pal writes to the client is not the project's choice.
		{"limits.heartbeat_interval", kindEqual, dur(func(c *Config) time.Duration { return c.Limits.HeartbeatInterval.Duration }), false},
		{"limits.prompt_chars", kindLower, i64(func(c *Config) int64 { return int64(c.Limits.PromptChars) }), true},
		{"providers.default_model", kindFree, func(c *Config) any { return c.Providers.DefaultModel }, true},
		{"memory.ttl", kindLower, dur(func(c *Config) time.Duration { return c.Memory.TTL.Duration }), true},
		{"memory.max_turns", kindLower, i64(func(c *Config) int64 { return int64(c.Memory.MaxTurns) }), true},
		{"memory.path", kindEqual, func(c *Config) any { return c.Memory.Path }, false},
		// [memory] backend and [memory.redis] say where conversations go and who can read
		// them: trusted layers only, so a project file cannot send threads to its own Redis.
		{"memory.backend", kindEqual, func(c *Config) any { return c.Memory.Backend }, false},
		{"memory.redis.addr", kindEqual, func(c *Config) any { return c.Memory.Redis.Addr }, false},
		{"memory.redis.username", kindEqual, func(c *Config) any { return c.Memory.Redis.Username }, false},
		{"memory.redis.password_env", kindEqual, func(c *Config) any { return c.Memory.Redis.PasswordEnv }, false},
		{"memory.redis.password_file", kindEqual, func(c *Config) any { return c.Memory.Redis.PasswordFile }, false},
		{"memory.redis.db", kindEqual, i64(func(c *Config) int64 { return int64(c.Memory.Redis.DB) }), false},
		{"memory.redis.prefix", kindEqual, func(c *Config) any { return c.Memory.Redis.Prefix }, false},
		{"memory.redis.tls", kindFalseIsWider, func(c *Config) any { return c.Memory.Redis.TLS }, false},
		{"memory.redis.tls_ca_file", kindEqual, func(c *Config) any { return c.Memory.Redis.TLSCAFile }, false},
		{"audit.path", kindEqual, func(c *Config) any { return c.Audit.Path }, false},
		{"audit.enabled", kindFalseIsWider, func(c *Config) any { return c.Audit.Enabled }, false},
		{"audit.max_bytes", kindEqual, i64(func(c *Config) int64 { return c.Audit.MaxBytes }), false},
		{"audit.keep", kindEqual, i64(func(c *Config) int64 { return int64(c.Audit.Keep) }), false},
		{"redaction.enabled", kindFalseIsWider, func(c *Config) any { return c.Redaction.Enabled }, true},
		{"redaction.rules", kindSuperset, func(c *Config) any { return c.Redaction.ruleKeys() }, true},
		{"cache.dir", kindEqual, func(c *Config) any { return c.Cache.Dir }, false},
		{"modules", kindEqual, func(c *Config) any { return c.Modules }, false},
		// [user_modules] says what pal loads and runs: trusted layers only.
		{"user_modules.dir", kindEqual, func(c *Config) any { return c.UserModules.Dir }, false},
		{"user_modules.pins", kindEqual, func(c *Config) any { return c.UserModules.Pins }, false},
		// [[cli]] names programs pal runs: trusted layers only, and any change is a widening.
		{"cli", kindEqual, func(c *Config) any { return c.CLIs }, false},
	}
	rules = append(rules, budgetRules()...)
	rules = append(rules, httpRules()...)
	for _, name := range ProviderNames {
		p := func(c *Config) *ProviderConfig { return c.Providers.Provider(name) }
		k := "providers." + name + "."
		rules = append(rules,
			keyRule{k + "api_key_env", kindEqual, func(c *Config) any { return p(c).APIKeyEnv }, false},
			keyRule{k + "api_key_file", kindEqual, func(c *Config) any { return p(c).APIKeyFile }, false},
			keyRule{k + "base_url", kindEqual, func(c *Config) any { return p(c).BaseURL }, false},
			keyRule{k + "api_version", kindEqual, func(c *Config) any { return p(c).APIVersion }, false},
			keyRule{k + "models_config", kindEqual, func(c *Config) any { return p(c).ModelsConfig }, false},
			keyRule{k + "allowed_models", kindAllowList, func(c *Config) any { return p(c).AllowedModels }, true},
			keyRule{k + "disabled", kindFalseIsWider, func(c *Config) any { return p(c).Disabled }, true},
		)
	}
	return rules
}()

// ruleFor returns the rule of a dotted key; tool tables map to "tools.<name>.capabilities".
func ruleFor(key string) (keyRule, bool) {
	if rest, ok := strings.CutPrefix(key, "tools."); ok && strings.HasSuffix(rest, ".capabilities") {
		key = "tools.<name>.capabilities"
	}
	for _, r := range keyRules {
		if r.key == key {
			return r, true
		}
	}
	return keyRule{}, false
}

// widening compares the key's value in next with its value in base and describes how next is
// wider, or returns "" when it is not. workDir is what empty roots mean.
func (r keyRule) widening(base, next *Config, workDir string) string {
	switch r.kind {
	case kindEqual, kindFree:
		if !reflect.DeepEqual(r.get(base), r.get(next)) {
			return fmt.Sprintf("changes it from %s to %s", show(r.get(base)), show(r.get(next)))
		}
	case kindLower:
		b, n := number(r.get(base)), number(r.get(next))
		if n > b {
			return fmt.Sprintf("raises it from %s to %s", show(r.get(base)), show(r.get(next)))
		}
	case kindTrueIsWider:
		if !r.get(base).(bool) && r.get(next).(bool) {
			return "turns it on"
		}
	case kindFalseIsWider:
		if r.get(base).(bool) && !r.get(next).(bool) {
			return "turns it off"
		}
	case kindOffIsWider:
		if b, n := r.get(base).(string), r.get(next).(string); b != "off" && n == "off" {
			return fmt.Sprintf("turns it off (from %s)", show(b))
		}
	case kindSuperset:
		b, n := r.get(base).([]string), r.get(next).([]string)
		var dropped []string
		for _, e := range b {
			if !slices.Contains(n, e) {
				dropped = append(dropped, e)
			}
		}
		if len(dropped) > 0 {
			return fmt.Sprintf("drops %s", show(dropped))
		}
	case kindAllowList:
		b, n := r.get(base).([]string), r.get(next).([]string)
		if len(b) == 0 {
			return ""
		}
		if len(n) == 0 {
			return fmt.Sprintf("empties it (allowing everything) where %s was allowed", show(b))
		}
		var added []string
		for _, e := range n {
			if !slices.Contains(b, e) {
				added = append(added, e)
			}
		}
		if len(added) > 0 {
			return fmt.Sprintf("adds %s", show(added))
		}
	case kindRoots:
		b, n := effectiveRoots(base, workDir), effectiveRoots(next, workDir)
		var outside []string
		for _, root := range n {
			if !slices.ContainsFunc(b, func(br string) bool { return pathWithin(br, root) }) {
				outside = append(outside, root)
			}
		}
		if len(outside) > 0 {
			return fmt.Sprintf("adds %s outside %s", show(outside), show(b))
		}
	case kindToolCaps:
		bt, nt := base.Tools.ceilings(), next.Tools.ceilings()
		for _, name := range slices.Sorted(maps.Keys(nt)) {
			bc, ok := bt[name]
			if !ok {
				// No earlier ceiling: a new table can only narrow what the tool declares
				// (loader.checkUntrusted stores it as a limit, never as a grant).
				continue
			}
			for _, c := range nt[name] {
				if !slices.Contains(bc, c) {
					return fmt.Sprintf("grants %s to tool %q beyond %s", c, name, show(bc))
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(bt)) {
			if _, ok := nt[name]; !ok {
				return fmt.Sprintf("removes the ceiling of tool %q", name)
			}
		}
	}
	return ""
}

// defined reports whether the file described by md set the key. For tool tables it reports
// whether any [tools.<name>] table was set.
func (r keyRule) defined(isDefined func(...string) bool, toolNames []string) bool {
	if r.key == "tools.<name>.capabilities" {
		for _, n := range toolNames {
			if isDefined("tools", n, "capabilities") {
				return true
			}
		}
		return false
	}
	return isDefined(strings.Split(r.key, ".")...)
}

func effectiveRoots(c *Config, workDir string) []string {
	if len(c.Paths.Roots) > 0 {
		return c.Paths.Roots
	}
	if workDir == "" {
		return nil
	}
	return []string{workDir}
}

// pathWithin reports whether p is root or beneath it, comparing real paths where they exist.
func pathWithin(root, p string) bool {
	real := func(s string) string {
		if r, err := filepath.EvalSymlinks(s); err == nil {
			return r
		}
		return filepath.Clean(s)
	}
	return within(real(root), real(p))
}

func number(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case time.Duration:
		return int64(n)
	}
	panic(fmt.Sprintf("policy: rule value %T is not a number", v))
}

// show writes a value for a message or for `pal policy show`.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case []Capability:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case time.Duration:
		return fmt.Sprintf("%q", x.String())
	case []ModuleConfig:
		q := make([]string, len(x))
		for i, m := range x {
			q[i] = fmt.Sprintf("{path = %q, sha256 = %q}", m.Path, m.SHA256)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string]string:
		var q []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			q = append(q, fmt.Sprintf("%q = %q", k, x[k]))
		}
		return "{" + strings.Join(q, ", ") + "}"
	case []CLIConfig:
		q := make([]string, len(x))
		for i, e := range x {
			q[i] = fmt.Sprintf("{name = %q, executable = %q, args = %s, allowed_args = %s, env = %s}",
				e.Name, e.Executable, show(e.Args), show(e.AllowedArgs), show(e.Env))
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string][]Capability:
		var q []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			q = append(q, fmt.Sprintf("%s = %s", k, show(x[k])))
		}
		return "{" + strings.Join(q, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// Setting is one key's effective value and the layer it came from, for `pal policy show`.
type Setting struct {
	Key    string // dotted key; tool tables as "tools.<name>.capabilities"
	Value  string // as TOML would write it
	Origin string // "default", or the layer and file or variable that set it
	// Project reports whether an untrusted project file may set the key (narrowing only).
	Project bool
}

// Settings lists every key's effective value with its origin, in rule order.
func (c *Config) Settings() []Setting {
	origin := func(key string) string {
		if o := c.Origins[key]; o != "" {
			return o
		}
		return LayerDefault
	}
	var out []Setting
	for _, r := range keyRules {
		if r.key == "tools.<name>.capabilities" {
			ceil := c.Tools.ceilings()
			for _, name := range slices.Sorted(maps.Keys(ceil)) {
				k := "tools." + name + ".capabilities"
				out = append(out, Setting{Key: k, Value: show(ceil[name]), Origin: origin(k), Project: r.project})
			}
			continue
		}
		v := r.get(c)
		switch r.key { // the rule compares the combined list; show each key's own
		case "paths.deny":
			v = c.Paths.Deny
		case "paths.extra_deny":
			v = c.Paths.ExtraDeny
		}
		out = append(out, Setting{Key: r.key, Value: show(v), Origin: origin(r.key), Project: r.project})
	}
	return out
}

// DenyOrigin names the layer that put the deny glob rule in force: the origin of paths.deny
// or of paths.extra_deny, whichever holds it.
func (c *Config) DenyOrigin(rule string) string {
	key := "paths.deny"
	if !slices.Contains(c.Paths.Deny, rule) && slices.Contains(c.Paths.ExtraDeny, rule) {
		key = "paths.extra_deny"
	}
	if o := c.Origins[key]; o != "" {
		return key + " from the " + o
	}
	return key + " (default)"
}
