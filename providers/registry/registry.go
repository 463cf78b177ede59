// Package registry turns configuration (PAL's environment variables, overridden by pal.toml)
// into configured providers, and answers the questions the host asks about models: which
// provider serves a name (aliases, case-insensitive, native providers first), whether policy
// allows it, which model "auto" means for a tool category, what the listmodels tool and the
// model field description should say, and which secrets to redact.
//
// A Registry is immutable after New and safe for concurrent use.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/catalog"
)

// Startup errors.
var (
	// ErrNoProvider: no provider has what it needs (a key, an endpoint); the error text says
	// which variables to set.
	ErrNoProvider = errors.New("no model provider is configured")
	// ErrNoAllowedModels: in auto mode, the allowlists leave no model to choose from.
	ErrNoAllowedModels = errors.New("restrictions leave no model available")
)

// Registry holds the configured providers. Build it with New.
type Registry struct {
	log          *slog.Logger
	defaultModel string
	all          []*state         // every provider type, in providers.Priority order
	active       []*state         // the configured ones, same order
	secrets      []string         // every key read, trimmed, each once
	redact       *policy.Redactor // hides them in errors, logs and listings
}

// state is one provider type: configured or not, its catalogue and its allowlist.
type state struct {
	typ        providers.Type
	spec       envSpec
	configured bool
	reason     string // why it is not configured ("" when it is)
	provider   providers.Provider
	source     string // where the catalogue came from
	models     []*providers.Capabilities
	byName     map[string]*providers.Capabilities // lower-case name or alias
	restricted bool
	allowList  []string        // the allowlist as configured, normalised
	allowNames map[string]bool // its entries
	allowCanon map[string]bool // lower-case canonical names its entries resolve to
	generic    []*providers.Capabilities
}

// Resolved is a model name resolved to a provider and its catalogue entry.
type Resolved struct {
	Provider  providers.Provider
	Type      providers.Type
	Caps      *providers.Capabilities // a copy; changing it changes nothing in the registry
	Requested string                  // the name as asked for ("auto" when auto mode chose)
	Option    string                  // the ":option" part of the request, "" when none
}

// New reads the configuration, builds every provider that has what it needs, and checks that
// the result is usable: at least one provider (ErrNoProvider otherwise, naming the variables to
// set) and, in auto mode, at least one allowed model (ErrNoAllowedModels). Invalid endpoints,
// timeouts and catalogues are errors, never silently skipped.
func New(cfg Config) (*Registry, error) {
	e := newEnv(cfg.Getenv)
	r := &Registry{}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}

	settings := map[providers.Type]settingsFor{}
	for _, t := range providers.Priority {
		s, err := readSettings(t, e, cfg.Providers[t])
		if err != nil {
			return nil, err
		}
		settings[t] = s
		if s.key != "" {
			r.secrets = append(r.secrets, s.key)
		}
	}
	r.secrets = uniqueSecrets(r.secrets)
	r.redact = policy.NewRedactor(r.secrets...)
	r.log = slog.New(policy.NewRedactingHandler(base.Handler(), r.redact)).With("component", "providers")

	connect, err := e.seconds("CUSTOM_CONNECT_TIMEOUT")
	if err != nil {
		return nil, err
	}
	read, err := e.seconds("CUSTOM_READ_TIMEOUT")
	if err != nil {
		return nil, err
	}

	ctors := cfg.Constructors
	if ctors == nil {
		ctors = defaultConstructors()
	}

	for _, t := range providers.Priority {
		s := settings[t]
		st := &state{typ: t, spec: s.spec}
		r.all = append(r.all, st)
		if why := missing(s); why != "" {
			st.reason = why
			if s.key != "" || (s.baseURL != "" && s.spec.urlVar != "" && s.spec.urlRequired) {
				r.log.Warn("provider not configured", "provider", t, "reason", why)
			}
			continue
		}
		models, source, err := catalog.ForProvider(t, s.catalogPath)
		if err != nil {
			return nil, err
		}
		st.source, st.models = source, models
		if len(models) == 0 {
			st.reason = fmt.Sprintf("catalogue %s lists no models", source)
			if t == providers.Azure {
				st.reason += "; list your deployments in a file named by AZURE_MODELS_CONFIG_PATH"
			}
			r.log.Warn("provider not configured", "provider", t, "reason", st.reason)
			continue
		}
		st.index()
		ctor := ctors[t]
		if ctor == nil {
			st.reason = "no implementation available"
			continue
		}
		ps := providers.Settings{
			Type:           t,
			APIKey:         s.key,
			BaseURL:        s.baseURL,
			APIVersion:     s.version,
			HTTPClient:     cfg.HTTPClient,
			ConnectTimeout: connect,
			ReadTimeout:    read,
			Retry:          cfg.Retry,
			Logger:         r.log.With("provider", string(t)),
		}
		if t == providers.OpenRouter {
			ps.Headers = map[string]string{"HTTP-Referer": DefaultOpenRouterReferer, "X-Title": DefaultOpenRouterTitle}
			if v := e.str("OPENROUTER_REFERER"); v != "" {
				ps.Headers["HTTP-Referer"] = v
			}
			if v := e.str("OPENROUTER_TITLE"); v != "" {
				ps.Headers["X-Title"] = v
			}
		}
		p, err := ctor(ps)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", t, r.redact.Error(err))
		}
		if p == nil {
			return nil, fmt.Errorf("provider %s: constructor returned no provider", t)
		}
		st.provider, st.configured = p, true
		st.restrict(s.allow, s.allowSource, r.log, r.redact)
		r.active = append(r.active, st)
		r.log.Info("provider configured", "provider", t, "catalogue", source, "models", len(models), "restricted", st.restricted)
	}

	if len(r.active) == 0 {
		return nil, r.noProviderError()
	}

	r.defaultModel = strings.TrimSpace(cfg.DefaultModel)
	if r.defaultModel == "" {
		r.defaultModel = e.str("DEFAULT_MODEL")
	}
	if r.defaultModel == "" {
		r.defaultModel = "auto"
	}
	if r.AutoMode() && len(r.allowedModels()) == 0 {
		var lists []string
		for _, st := range r.active {
			if st.restricted {
				lists = append(lists, fmt.Sprintf("%s allows %s", st.typ, strings.Join(st.allowList, ", ")))
			}
		}
		return nil, fmt.Errorf("%w: %s; fix the *_ALLOWED_MODELS lists", ErrNoAllowedModels, strings.Join(lists, "; "))
	}
	if !strings.EqualFold(r.defaultModel, "auto") && r.AutoMode() {
		r.log.Warn("DEFAULT_MODEL is not available with the configured providers; running in auto mode", "default_model", r.defaultModel)
	}
	return r, nil
}

// missing says why a provider cannot be configured from s, or "" when it can.
func missing(s settingsFor) string {
	sp := s.spec
	switch {
	case s.disabled:
		return "disabled in pal.toml"
	case sp.urlRequired && s.baseURL == "" && sp.keyOptional:
		return fmt.Sprintf("set %s", sp.urlVar)
	case sp.urlRequired && s.baseURL == "" && s.key != "":
		return fmt.Sprintf("%s is set but %s is missing", sp.keyVar, sp.urlVar)
	case !sp.keyOptional && s.key == "":
		if sp.urlRequired {
			return fmt.Sprintf("set %s and %s", sp.keyVar, sp.urlVar)
		}
		return fmt.Sprintf("set %s", sp.keyVar)
	}
	return ""
}

func (r *Registry) noProviderError() error {
	var skipped []string
	for _, st := range r.all {
		if st.reason != "" && !strings.HasPrefix(st.reason, "set ") {
			skipped = append(skipped, fmt.Sprintf("%s: %s", st.typ, st.reason))
		}
	}
	msg := fmt.Sprintf("%v: set at least one of GEMINI_API_KEY, OPENAI_API_KEY, AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT "+
		"(and deployments in AZURE_MODELS_CONFIG_PATH), XAI_API_KEY, ANTHROPIC_API_KEY, DIAL_API_KEY, OPENROUTER_API_KEY, or "+
		"CUSTOM_API_URL (for Ollama, vLLM, LM Studio), in the environment or in pal.toml; sample values such as "+
		"your_openai_api_key_here count as unset", ErrNoProvider)
	if len(skipped) > 0 {
		msg += " (" + strings.Join(skipped, "; ") + ")"
	}
	return &startupError{msg: msg, err: ErrNoProvider}
}

type startupError struct {
	msg string
	err error
}

func (e *startupError) Error() string { return e.msg }
func (e *startupError) Unwrap() error { return e.err }

// index builds the name and alias lookup table of a loaded catalogue.
func (st *state) index() {
	st.byName = make(map[string]*providers.Capabilities, len(st.models)*3)
	for _, m := range st.models {
		st.byName[strings.ToLower(m.ModelName)] = m
	}
	for _, m := range st.models {
		for _, a := range m.Aliases {
			if _, taken := st.byName[strings.ToLower(a)]; !taken {
				st.byName[strings.ToLower(a)] = m
			}
		}
	}
}

// restrict installs an allowlist (already normalised). Entries that name no known model are
// reported; for OpenRouter a "vendor/model" entry outside the catalogue becomes a model with
// generic capabilities.
func (st *state) restrict(allow []string, source string, log *slog.Logger, redact *policy.Redactor) {
	if len(allow) == 0 {
		return
	}
	// allowList is shown in listings and messages: a key pasted into an allowlist by mistake
	// is blanked there.
	st.restricted = true
	st.allowList = make([]string, len(allow))
	for i, a := range allow {
		st.allowList[i] = redact.String(a)
	}
	st.allowNames = map[string]bool{}
	st.allowCanon = map[string]bool{}
	var unknown []string
	for _, a := range allow {
		st.allowNames[a] = true
		if m, ok := st.byName[a]; ok {
			st.allowCanon[strings.ToLower(m.ModelName)] = true
			continue
		}
		if m, ok := st.lookup(a); ok {
			st.allowCanon[strings.ToLower(m.ModelName)] = true
			if st.typ == providers.OpenRouter {
				st.generic = append(st.generic, m)
			}
			continue
		}
		unknown = append(unknown, a)
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(st.models))
		for _, m := range st.models {
			known = append(known, m.ModelName)
		}
		log.Warn("allowlist names unknown models", "provider", st.typ, "setting", source,
			"unknown", strings.Join(unknown, ", "), "known", strings.Join(known, ", "))
	}
}

// lookup finds the catalogue entry for name: exact name or alias in any case; for the custom
// provider an Ollama ":tag" is dropped; OpenRouter accepts any "vendor/model" id with generic
// capabilities.
func (st *state) lookup(name string) (*providers.Capabilities, bool) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		return nil, false
	}
	if m, ok := st.byName[key]; ok {
		return m, true
	}
	if st.typ == providers.Custom {
		if base, _, ok := strings.Cut(key, ":"); ok {
			if m, ok := st.byName[base]; ok {
				return m, true
			}
		}
	}
	if st.typ == providers.OpenRouter && isVendorModel(name) {
		return genericOpenRouter(strings.TrimSpace(name)), true
	}
	return nil, false
}

// allowed applies the allowlist: a model is allowed when its canonical name, the requested
// name, or any allowlist entry that resolves to it is listed (all compared in lower case).
func (st *state) allowed(m *providers.Capabilities, requested string) bool {
	if !st.restricted {
		return true
	}
	c := strings.ToLower(m.ModelName)
	return st.allowCanon[c] || st.allowNames[c] || st.allowNames[strings.ToLower(strings.TrimSpace(requested))]
}

// allowedModels is the provider's usable models in catalogue order, OpenRouter's allowlisted
// generic ids last.
func (st *state) allowedModels() []*providers.Capabilities {
	var out []*providers.Capabilities
	for _, m := range st.models {
		if st.allowed(m, m.ModelName) {
			out = append(out, m)
		}
	}
	return append(out, st.generic...)
}

// Generic capabilities PAL gives an OpenRouter model it has no entry for.
const (
	genericContextWindow = 32768
	genericMaxOutput     = 32768
	genericScore         = 9
	maxVendorModelLen    = 200
)

func genericOpenRouter(name string) *providers.Capabilities {
	return &providers.Capabilities{
		Provider:          providers.OpenRouter,
		ModelName:         name,
		FriendlyName:      fmt.Sprintf("OpenRouter (%s)", name),
		IntelligenceScore: genericScore,
		Description:       "Model reached through OpenRouter; pal has no catalogue entry for it, so generic limits apply.",
		ContextWindow:     genericContextWindow,
		MaxOutputTokens:   genericMaxOutput,
	}
}

// isVendorModel reports whether s looks like an OpenRouter id: "vendor/model", both parts
// non-empty, no white space or control characters.
func isVendorModel(s string) bool {
	s = strings.TrimSpace(s)
	vendor, model, ok := strings.Cut(s, "/")
	if !ok || vendor == "" || model == "" || len(s) > maxVendorModelLen || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '\\' || r == '?' || r == '#' || r == '%' || (r >= 0x80 && r <= 0x9f) || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// DefaultModel is the configured default model name ("auto" when none).
func (r *Registry) DefaultModel() string { return r.defaultModel }

// AutoMode reports whether callers must choose a model (the model field is required): the
// default model is "auto", or no configured provider serves it.
func (r *Registry) AutoMode() bool {
	if strings.EqualFold(r.defaultModel, "auto") {
		return true
	}
	_, err := r.resolveName(r.defaultModel)
	return err != nil
}

// SecretValues is every API key the registry read (configured providers or not), for the host
// to redact from anything it outputs. Keys shorter than policy.MinSecretLen are listed too,
// though a policy.Redactor does not hide them.
func (r *Registry) SecretValues() []string { return append([]string(nil), r.secrets...) }

// Configured lists the configured provider types in priority order.
func (r *Registry) Configured() []providers.Type {
	out := make([]providers.Type, 0, len(r.active))
	for _, st := range r.active {
		out = append(out, st.typ)
	}
	return out
}

// Resolve finds the provider and catalogue entry for a model name as a client sent it:
// "" means the default model; "auto" (or "" in auto mode) picks a model for cat; a
// "model:option" string is split per providers.ParseModelOption (a catalogue name that itself
// contains ':' matches first). Providers are asked in providers.Priority order, so an alias
// two providers share resolves to the native one. Errors: *UnavailableError (wraps
// providers.ErrNotConfigured) or *RestrictedError (wraps providers.ErrRestricted).
func (r *Registry) Resolve(name string, cat providers.Category) (*Resolved, error) {
	requested := strings.TrimSpace(name)
	if requested == "" {
		requested = r.defaultModel
		if r.AutoMode() {
			requested = "auto"
		}
	}
	if strings.EqualFold(requested, "auto") {
		return r.resolveAuto(cat)
	}
	res, err := r.resolveName(requested)
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) {
			ue.Category = normaliseCategory(cat)
			if s, _ := r.pick(ue.Category); s != nil {
				ue.Suggested = s.ModelName
			}
		}
		return nil, err
	}
	return res, nil
}

func (r *Registry) resolveName(requested string) (*Resolved, error) {
	var refused []*state
	refusedName := ""
	if strings.Contains(requested, ":") {
		// A catalogue name may itself contain ':' (DIAL's "…-v1:0"); the whole string wins.
		for _, st := range r.active {
			m, ok := st.byName[strings.ToLower(requested)]
			if !ok {
				continue
			}
			if st.allowed(m, requested) {
				return newResolved(st, m, requested, ""), nil
			}
			refused, refusedName = append(refused, st), requested
		}
	}
	model, option := providers.ParseModelOption(requested)
	if refusedName == "" {
		refusedName = model
	}
	for _, st := range r.active {
		m, ok := st.lookup(model)
		if !ok {
			continue
		}
		if !st.allowed(m, model) {
			if !containsState(refused, st) {
				refused = append(refused, st)
			}
			continue
		}
		return newResolved(st, m, requested, option), nil
	}
	if len(refused) > 0 {
		re := &RestrictedError{Requested: r.redact.String(refusedName), Allowed: map[providers.Type][]string{}}
		for _, st := range refused {
			re.Providers = append(re.Providers, st.typ)
			re.Allowed[st.typ] = st.allowList
		}
		return nil, re
	}
	return nil, &UnavailableError{Requested: r.redact.String(model), Available: r.availableNames()}
}

func (r *Registry) resolveAuto(cat providers.Category) (*Resolved, error) {
	cat = normaliseCategory(cat)
	m, st := r.pick(cat)
	if m == nil {
		return nil, &UnavailableError{Requested: "auto", Category: cat}
	}
	return newResolved(st, m, "auto", ""), nil
}

func containsState(list []*state, st *state) bool {
	for _, x := range list {
		if x == st {
			return true
		}
	}
	return false
}

func newResolved(st *state, m *providers.Capabilities, requested, option string) *Resolved {
	c := *m
	c.Aliases = append([]string(nil), m.Aliases...)
	return &Resolved{Provider: st.provider, Type: st.typ, Caps: &c, Requested: requested, Option: option}
}

func normaliseCategory(c providers.Category) providers.Category {
	switch c {
	case providers.CategoryFast, providers.CategoryExtended:
		return c
	}
	return providers.CategoryBalanced
}

// Generate runs req on the resolved model: the model name becomes the canonical one, the
// temperature is dropped when the model takes none and otherwise corrected to its constraint
// (logged when changed), the thinking mode is checked, and images are checked against the
// model (providers.CheckImages). Provider errors are returned with any key blanked.
func (r *Registry) Generate(ctx context.Context, res *Resolved, req providers.Request) (*providers.Response, error) {
	if res == nil || res.Provider == nil || res.Caps == nil {
		return nil, fmt.Errorf("%w: no resolved model", providers.ErrInvalidRequest)
	}
	caps := res.Caps
	req.Model = caps.ModelName
	if !caps.AcceptsTemperature() {
		req.Temperature = nil
	} else if req.Temperature != nil {
		t, changed := providers.CorrectTemperature(caps, *req.Temperature)
		if changed {
			r.log.Warn("temperature corrected for model", "model", caps.ModelName, "requested", *req.Temperature, "used", t)
		}
		req.Temperature = &t
	}
	if !providers.ValidThinkingMode(req.ThinkingMode) {
		return nil, fmt.Errorf("%w: thinking_mode %q is not one of %s", providers.ErrInvalidRequest, req.ThinkingMode, strings.Join(providers.ThinkingModes, ", "))
	}
	req.ThinkingMode = strings.ToLower(strings.TrimSpace(req.ThinkingMode))
	if err := providers.CheckImages(caps, req.Images); err != nil {
		return nil, err
	}
	resp, err := res.Provider.Generate(ctx, caps, req)
	if err != nil {
		return nil, r.redact.Error(err)
	}
	if resp == nil {
		return nil, fmt.Errorf("%w: %s returned no response for %s", providers.ErrUpstream, res.Type, caps.ModelName)
	}
	return resp, nil
}

// allowedModels is every usable model of every configured provider, in priority order.
func (r *Registry) allowedModels() []*providers.Capabilities {
	var out []*providers.Capabilities
	for _, st := range r.active {
		out = append(out, st.allowedModels()...)
	}
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// uniqueSecrets trims the keys and drops empties and repeats.
func uniqueSecrets(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
