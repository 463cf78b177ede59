package providers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
)

func boolp(b bool) *bool { return &b }

func TestParseModelOption(t *testing.T) {
	tests := []struct {
		in, model, option string
	}{
		{"gpt-5.2", "gpt-5.2", ""},
		{"  flash  ", "flash", ""},
		{"llama3.2:latest", "llama3.2", "latest"},
		{" llama3.2 : latest ", "llama3.2", "latest"},
		{"o3:for", "o3", "for"},
		{"o3:", "o3", ""},
		{"openai/gpt-4:free", "openai/gpt-4:free", ""},
		{"openai/gpt-4:FREE ", "openai/gpt-4:FREE", ""},
		{"anthropic/claude:beta", "anthropic/claude:beta", ""},
		{"google/gemini: preview", "google/gemini: preview", ""},
		{"openai/gpt-4:latest", "openai/gpt-4", "latest"},
		{"qwen/qwen3:8b:free", "qwen/qwen3", "8b:free"},
		{"model:free", "model", "free"}, // no '/', so not an OpenRouter variant
		{"http://localhost:11434/v1", "http://localhost:11434/v1", ""},
		{"https://host:8080/x:y", "https://host:8080/x:y", ""},
		{" http://x:1", "http", "//x:1"}, // the URL exemption looks at the raw string, as PAL does
		{"", "", ""},
		{":", "", ""},
	}
	for _, tt := range tests {
		m, o := ParseModelOption(tt.in)
		if m != tt.model || o != tt.option {
			t.Errorf("ParseModelOption(%q) = (%q, %q), want (%q, %q)", tt.in, m, o, tt.model, tt.option)
		}
	}
}

func FuzzParseModelOption(f *testing.F) {
	for _, s := range []string{"llama3.2:latest", "openai/gpt-4:free", "http://x:1", "a:b:c", "", "x/y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, o := ParseModelOption(s)
		if m != strings.TrimSpace(m) || o != strings.TrimSpace(o) {
			t.Fatalf("untrimmed result (%q, %q)", m, o)
		}
		if o != "" && !strings.Contains(s, ":") {
			t.Fatalf("option %q from a string without ':'", o)
		}
		if len(m)+len(o) > len(s) {
			t.Fatalf("result longer than input")
		}
	})
}

func TestCorrectTemperature(t *testing.T) {
	fixed := &Capabilities{TemperatureConstraint: TemperatureFixed}
	rng := &Capabilities{TemperatureConstraint: TemperatureRange}
	unset := &Capabilities{}
	disc := &Capabilities{TemperatureConstraint: TemperatureDiscrete}
	tests := []struct {
		name    string
		caps    *Capabilities
		in      float64
		want    float64
		changed bool
	}{
		{"fixed low", fixed, 0.2, 1.0, true},
		{"fixed exact", fixed, 1.0, 1.0, false},
		{"fixed high", fixed, 2.0, 1.0, true},
		{"range inside", rng, 0.7, 0.7, false},
		{"range below", rng, -0.5, 0, true},
		{"range above", rng, 2.5, 2.0, true},
		{"range edge", rng, 2.0, 2.0, false},
		{"range inf", rng, math.Inf(1), 2.0, true},
		{"range NaN", rng, math.NaN(), 0.3, true},
		{"unset is range", unset, 3, 2, true},
		{"nil caps is range", nil, -1, 0, true},
		{"discrete exact", disc, 0.7, 0.7, false},
		{"discrete nearest up", disc, 0.9, 1.0, true},
		{"discrete nearest down", disc, 0.4, 0.3, true},
		{"discrete above", disc, 5, 2.0, true},
		{"discrete below", disc, -1, 0, true},
		{"discrete 1.2", disc, 1.2, 1.0, true},
		{"discrete 1.3", disc, 1.3, 1.5, true},
		{"discrete NaN", disc, math.NaN(), 0.3, true},
	}
	for _, tt := range tests {
		got, changed := CorrectTemperature(tt.caps, tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("%s: CorrectTemperature(%v) = (%v, %v), want (%v, %v)", tt.name, tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

func TestEffectiveTemperature(t *testing.T) {
	if got := EffectiveTemperature(&Capabilities{SupportsTemperature: boolp(false)}, 0.5); got != nil {
		t.Errorf("no-temperature model got %v, want nil", *got)
	}
	got := EffectiveTemperature(&Capabilities{TemperatureConstraint: TemperatureFixed}, 0.5)
	if got == nil || *got != 1.0 {
		t.Errorf("fixed model got %v, want 1.0", got)
	}
	got = EffectiveTemperature(&Capabilities{SupportsTemperature: boolp(true)}, 0.5)
	if got == nil || *got != 0.5 {
		t.Errorf("range model got %v, want 0.5", got)
	}
}

func TestRank(t *testing.T) {
	tests := []struct {
		name string
		caps Capabilities
		want int
	}{
		// 18*5=90 + ctx log10(1048576)-3=3.02→3 + out 65536→2 + thinking 3 + fc 1 + json 1 + img 1 = 101 → 100
		{"gemini-3-pro-preview", Capabilities{IntelligenceScore: 18, ContextWindow: 1048576, MaxOutputTokens: 65536, SupportsThinking: true, SupportsFunctionCalls: true, SupportsJSONMode: true, SupportsImages: true}, 100},
		// 10*5=50 + 3 + 2 + 3 + 1 + 1 + 1 = 61
		{"gemini-2.5-flash", Capabilities{IntelligenceScore: 10, ContextWindow: 1048576, MaxOutputTokens: 65536, SupportsThinking: true, SupportsFunctionCalls: true, SupportsJSONMode: true, SupportsImages: true}, 61},
		// 7*5=35 + 3 + 2 + fc 1 + json 1 = 42
		{"gemini-2.0-flash-lite", Capabilities{IntelligenceScore: 7, ContextWindow: 1048576, MaxOutputTokens: 65536, SupportsFunctionCalls: true, SupportsJSONMode: true}, 42},
		// 14*5=70 + log10(200000)=5.3-3=2.3→2 + 65536→2 + 1 + 1 + 1 = 77
		{"o3", Capabilities{IntelligenceScore: 14, ContextWindow: 200000, MaxOutputTokens: 65536, SupportsFunctionCalls: true, SupportsJSONMode: true, SupportsImages: true}, 77},
		// 6*5=30 + log10(128000)=5.1-3→2 + 64000→1 = 33
		{"llama3.2", Capabilities{IntelligenceScore: 6, ContextWindow: 128000, MaxOutputTokens: 64000}, 33},
		// unset score counts as 10; no context: 50
		{"empty", Capabilities{}, 50},
		// score clamped to 20 and to 1
		{"score 40", Capabilities{IntelligenceScore: 40}, 100},
		{"score -3", Capabilities{IntelligenceScore: -3}, 5},
		// tiny context gives no bonus; 10^9 context caps at 5
		{"ctx 500", Capabilities{IntelligenceScore: 1, ContextWindow: 500}, 5},
		{"ctx 1e9", Capabilities{IntelligenceScore: 1, ContextWindow: 1_000_000_000}, 10},
		{"out 32000", Capabilities{IntelligenceScore: 1, MaxOutputTokens: 32000}, 6},
		{"out 31999", Capabilities{IntelligenceScore: 1, MaxOutputTokens: 31999}, 5},
	}
	for _, tt := range tests {
		if got := tt.caps.Rank(); got != tt.want {
			t.Errorf("%s: Rank() = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := (&Capabilities{}).EffectiveScore(); got != 10 {
		t.Errorf("EffectiveScore of unset = %d, want 10", got)
	}
}

var (
	pngBytes  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpegBytes = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
	gifBytes  = []byte("GIF89a\x01\x00\x01\x00")
	webpBytes = []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
)

func TestCheckImages(t *testing.T) {
	vision := &Capabilities{ModelName: "v", SupportsImages: true, MaxImageSizeMB: 1}
	blind := &Capabilities{ModelName: "b"}
	bigCustom := &Capabilities{ModelName: "c", Provider: Custom, SupportsImages: true, MaxImageSizeMB: 100}
	noLimit := &Capabilities{ModelName: "n", SupportsImages: true}
	img := func(mime string, data []byte) Image { return Image{MIMEType: mime, Data: data} }
	padded := func(prefix []byte, size int) []byte {
		b := make([]byte, size)
		copy(b, prefix)
		return b
	}
	tests := []struct {
		name    string
		caps    *Capabilities
		imgs    []Image
		wantErr string // "" = no error
	}{
		{"none on blind model", blind, nil, ""},
		{"png", vision, []Image{img("image/png", pngBytes)}, ""},
		{"all four types", vision, []Image{img("image/png", pngBytes), img("image/jpeg", jpegBytes), img("image/gif", gifBytes), img("IMAGE/WEBP", webpBytes)}, ""},
		{"blind model", blind, []Image{img("image/png", pngBytes)}, "does not accept images"},
		{"nil caps", nil, []Image{img("image/png", pngBytes)}, "does not accept images"},
		{"six images", vision, []Image{img("image/png", pngBytes), img("image/png", pngBytes), img("image/png", pngBytes), img("image/png", pngBytes), img("image/png", pngBytes), img("image/png", pngBytes)}, "at most 5"},
		{"bmp type", vision, []Image{img("image/bmp", []byte("BM"))}, "accepted types"},
		{"svg type", vision, []Image{img("image/svg+xml", []byte("<svg"))}, "accepted types"},
		{"empty data", vision, []Image{img("image/png", nil)}, "is empty"},
		{"png claimed, jpeg bytes", vision, []Image{img("image/png", jpegBytes)}, "its bytes are image/jpeg"},
		{"png claimed, text bytes", vision, []Image{img("image/png", []byte("#!/bin/sh\n"))}, "not an image"},
		{"riff but not webp", vision, []Image{img("image/webp", []byte("RIFF\x00\x00\x00\x00WAVE"))}, "not an image"},
		{"over 1 MB total", vision, []Image{img("image/png", padded(pngBytes, 600*1024)), img("image/png", padded(pngBytes, 500*1024))}, "over the 1.0 MB limit"},
		{"exactly 1 MB", vision, []Image{img("image/png", padded(pngBytes, 1024*1024))}, ""},
		{"custom capped at 40 MB", bigCustom, []Image{img("image/png", padded(pngBytes, 41*1024*1024))}, "over the 40.0 MB limit"},
		{"unset limit defaults to 20 MB", noLimit, []Image{img("image/png", padded(pngBytes, 21*1024*1024))}, "over the 20.0 MB limit"},
	}
	for _, tt := range tests {
		err := CheckImages(tt.caps, tt.imgs)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
			continue
		}
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: error does not wrap ErrInvalidRequest", tt.name)
		}
	}
}

func FuzzSniffImage(f *testing.F) {
	for _, b := range [][]byte{pngBytes, jpegBytes, gifBytes, webpBytes, nil, []byte("RIFF")} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := SniffImage(data)
		if got == "" {
			return
		}
		if !isImageMIME(got) {
			t.Fatalf("SniffImage returned %q", got)
		}
		caps := &Capabilities{ModelName: "m", SupportsImages: true, MaxImageSizeMB: 20}
		if err := CheckImages(caps, []Image{{MIMEType: got, Data: data}}); err != nil && !bytes.Equal(data, nil) && len(data) <= 20*bytesPerMB {
			t.Fatalf("sniffed %s but CheckImages refused: %v", got, err)
		}
	})
}

func TestThinkingBudget(t *testing.T) {
	pro := &Capabilities{ModelName: "gemini-2.5-pro", SupportsThinking: true, MaxThinkingTokens: 32768}
	pro3 := &Capabilities{ModelName: "gemini-3-pro-preview", SupportsThinking: true, MaxThinkingTokens: 32768}
	flash := &Capabilities{ModelName: "gemini-2.5-flash", SupportsThinking: true, MaxThinkingTokens: 24576}
	noThink := &Capabilities{ModelName: "gemini-2.0-flash-lite", MaxThinkingTokens: 24576}
	noMax := &Capabilities{ModelName: "x", SupportsThinking: true}
	tests := []struct {
		caps *Capabilities
		mode string
		want int
	}{
		{pro, "minimal", 163}, {pro, "low", 2621}, {pro, "medium", 10813}, {pro, "high", 21954}, {pro, "max", 32768},
		{flash, "minimal", 122}, {flash, "low", 1966}, {flash, "medium", 8110}, {flash, "high", 16465}, {flash, "max", 24576},
		{pro3, "medium", 21954}, {pro3, "low", 2621}, {pro3, "HIGH", 21954},
		{pro, "", 0}, {pro, "extreme", 0},
		{noThink, "high", 0}, {noMax, "high", 0}, {nil, "high", 0},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.caps != nil {
			name = tt.caps.ModelName
		}
		if got := ThinkingBudget(tt.caps, tt.mode); got != tt.want {
			t.Errorf("ThinkingBudget(%s, %q) = %d, want %d", name, tt.mode, got, tt.want)
		}
	}
	for _, m := range []string{"", "minimal", "Low", "max"} {
		if !ValidThinkingMode(m) {
			t.Errorf("ValidThinkingMode(%q) = false", m)
		}
	}
	for _, m := range []string{"extreme", "none", "mid"} {
		if ValidThinkingMode(m) {
			t.Errorf("ValidThinkingMode(%q) = true", m)
		}
	}
}

func TestIsPlaceholderKey(t *testing.T) {
	tests := []struct {
		k    string
		want bool
	}{
		{"", true}, {"   ", true}, {"\t\n", true},
		{"your_gemini_api_key_here", true}, {"your_openai_api_key_here", true},
		{"your_azure_openai_key_here", true}, {"your_xai_api_key_here", true},
		{"your_dial_api_key_here", true}, {"your_openrouter_api_key_here", true},
		{" YOUR_OPENAI_API_KEY_HERE ", true}, {"your_anthropic_api_key_here", true},
		{"sk-real-key", false}, {"AIzaSyExample", false}, {"your_key", false}, {"key_here", false},
	}
	for _, tt := range tests {
		if got := IsPlaceholderKey(tt.k); got != tt.want {
			t.Errorf("IsPlaceholderKey(%q) = %v, want %v", tt.k, got, tt.want)
		}
	}
}

func TestValidateBaseURL(t *testing.T) {
	tests := []struct {
		url  string
		good bool
	}{
		{"https://api.openai.com/v1", true},
		{"http://localhost:11434/v1", true},
		{"http://127.0.0.1:1", true},
		{"https://[::1]:65535/v1", true},
		{"", false},
		{"   ", false},
		{"ftp://example.com", false},
		{"file:///etc/passwd", false},
		{"localhost:11434", false},
		{"http://", false},
		{"http://:8080/v1", false},
		{"http://host:0", false},
		{"http://host:65536", false},
		{"http://host:99999999999999999999", false},
		{"http://host:/v1", false},
		{"http://host:abc", false},
		{"https://user:secret-pass@host/v1", false},
		{"javascript:alert(1)", false},
		{"https://host/v1?key=secret-pass", false},
		{"https://host/v1?", false},
		{"https://host/v1#secret-pass", false},
	}
	for _, tt := range tests {
		err := ValidateBaseURL(tt.url)
		if (err == nil) != tt.good {
			t.Errorf("ValidateBaseURL(%q) = %v, want good=%v", tt.url, err, tt.good)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidBaseURL) {
				t.Errorf("ValidateBaseURL(%q): error does not wrap ErrInvalidBaseURL", tt.url)
			}
			if strings.Contains(err.Error(), "secret-pass") {
				t.Errorf("ValidateBaseURL(%q): error echoes the credentials", tt.url)
			}
		}
	}
}

func FuzzValidateBaseURL(f *testing.F) {
	for _, s := range []string{"https://api.openai.com/v1", "http://u:p@h", "http://h:0", "ftp://x", ""} {
		f.Add(s)
	}
	// Every error is one of a few fixed texts, so nothing of the input (a password, a query
	// with a key) can reach a log line through it.
	fixed := map[string]bool{}
	for _, s := range []string{"", "%", "ftp://x", "http://u:p@h", "http://h/?q", "http://", "http://h:0", "http://h:/"} {
		if err := ValidateBaseURL(s); err != nil {
			fixed[err.Error()] = true
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateBaseURL(s); err != nil && !fixed[err.Error()] {
			t.Fatalf("unexpected error text %q", err)
		}
	})
}

func TestSettingsBaseURLOr(t *testing.T) {
	tests := []struct {
		base, want string
		ok         bool
	}{
		{"", "https://default.example.com/", true},
		{"  \t", "https://default.example.com/", true},
		{" https://proxy.example.com/v1 ", "https://proxy.example.com/v1", true},
		{"https://proxy.example.com/?key=secret-pass", "", false},
		{"ftp://proxy.example.com", "", false},
	}
	for _, tt := range tests {
		got, err := Settings{BaseURL: tt.base}.BaseURLOr("https://default.example.com/")
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("BaseURLOr with %q = %q, %v; want %q, ok %v", tt.base, got, err, tt.want, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalidBaseURL) || strings.Contains(err.Error(), "secret-pass")) {
			t.Errorf("BaseURLOr with %q: error %v", tt.base, err)
		}
	}
}

func TestSettingsLoggerOrDiscard(t *testing.T) {
	if l := (Settings{}).LoggerOrDiscard(); l == nil || l.Enabled(context.Background(), slog.LevelError) {
		t.Error("nil Logger does not give a discarding logger")
	}
	var buf bytes.Buffer
	own := slog.New(slog.NewTextHandler(&buf, nil))
	if (Settings{Logger: own}).LoggerOrDiscard() != own {
		t.Error("the configured logger is not used")
	}
}

func TestContainsAnyPhrase(t *testing.T) {
	phrases := []string{"context window", "quota"}
	tests := []struct {
		text string
		want bool
	}{
		{"over the context window by 5 tokens", true},
		{"quota", true},
		{"Context Window", false}, // exact match: callers lower-case
		{"", false},
	}
	for _, tt := range tests {
		if got := ContainsAnyPhrase(tt.text, phrases); got != tt.want {
			t.Errorf("ContainsAnyPhrase(%q) = %v", tt.text, got)
		}
	}
	if ContainsAnyPhrase("anything", nil) {
		t.Error("no phrases matched")
	}
}
