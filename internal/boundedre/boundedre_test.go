package boundedre

import (
	"regexp"
	"strings"
	"testing"
)

// pattern pairs a bounded pattern pal uses with the counted regular expression it replaced;
// the two must accept the same strings.
type pattern struct {
	bounded string
	max     int
	counted string
	lengths []int // MustCompileLengths when set
}

func (p pattern) compile() Regexp {
	if p.lengths != nil {
		return MustCompileLengths(p.bounded, p.lengths...)
	}
	return MustCompile(p.bounded, p.max)
}

var patterns = []pattern{
	{`^[a-z][a-z0-9_]*$`, 64, `^[a-z][a-z0-9_]{0,63}$`, nil},                                         // tool names
	{`^[a-z][a-z0-9_]*$`, 63, `^[a-z][a-z0-9_]{0,62}$`, nil},                                         // scaffolded tool names
	{`^[A-Za-z0-9][A-Za-z0-9._-]*$`, 128, `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, nil},                 // Gemini model names
	{`^[A-Za-z0-9_][A-Za-z0-9._/@{}^~+-]*$`, 255, `^[A-Za-z0-9_][A-Za-z0-9._/@{}^~+-]{0,254}$`, nil}, // git refs
	{`^[a-z][a-z0-9_-]*$`, 32, `^[a-z][a-z0-9_-]{0,31}$`, nil},                                       // [[cli]] names
	{`^[A-Za-z0-9_.-]+$`, 64, `^[A-Za-z0-9_.-]{1,64}$`, nil},                                         // HTTP token names
	{`^[a-z0-9][a-z0-9_-]*$`, 64, `^[a-z0-9][a-z0-9_-]{0,63}$`, nil},                                 // secret rule ids
	{`^[0-9a-f]*$`, 64, `^[0-9a-f]{64}$`, []int{64}},                                                 // sha256 pins
	{`^[0-9a-f]*$`, 64, `^[0-9a-f]{40}([0-9a-f]{24})?$`, []int{40, 64}},                              // commit ids
}

// probes returns strings around the lengths ns: empty, each length from n-2 to n+2 of a
// valid character, and with an invalid or non-ASCII character first, last or in the middle.
func probes(ns ...int) []string {
	out := []string{"", "a", "A", "0", "_", "-", ".", "a\n", "é", "aé", "a b", "a..b", "a/b", "a@{u}"}
	for _, m := range ns {
		for n := m - 2; n <= m+2; n++ {
			if n < 1 {
				continue
			}
			for _, c := range []string{"a", "Z", "9", "_", "-", "f", "g"} {
				out = append(out, strings.Repeat(c, n), "a"+strings.Repeat(c, n-1))
			}
			out = append(out, strings.Repeat("a", n-1)+"é", strings.Repeat("a", n-1)+"\n", "é"+strings.Repeat("a", n-1))
		}
	}
	return out
}

func TestMatchesTheCountedRegexp(t *testing.T) {
	for _, p := range patterns {
		b, counted := p.compile(), regexp.MustCompile(p.counted)
		if b.MaxLen() != p.max {
			t.Errorf("%s: MaxLen %d, want %d", p.bounded, b.MaxLen(), p.max)
		}
		for _, s := range probes(append([]int{p.max}, p.lengths...)...) {
			if got, want := b.MatchString(s), counted.MatchString(s); got != want {
				t.Errorf("%s (max %d, lengths %v) on %q (%d bytes): %v, the counted %s says %v",
					p.bounded, p.max, p.lengths, s, len(s), got, p.counted, want)
			}
		}
	}
}

func FuzzMatchesTheCountedRegexp(f *testing.F) {
	for _, s := range probes(32, 40, 64) {
		f.Add(s)
	}
	compiled := make([]Regexp, len(patterns))
	counted := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		compiled[i], counted[i] = p.compile(), regexp.MustCompile(p.counted)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, p := range patterns {
			if got, want := compiled[i].MatchString(s), counted[i].MatchString(s); got != want {
				t.Errorf("%s on %q: %v, the counted %s says %v", p.bounded, s, got, p.counted, want)
			}
		}
	})
}

// BenchmarkCompile: what package initialisation pays for the git ref pattern, bounded
// against counted.
func BenchmarkCompile(b *testing.B) {
	p := patterns[3]
	b.Run("bounded", func(b *testing.B) {
		for b.Loop() {
			p.compile()
		}
	})
	b.Run("counted", func(b *testing.B) {
		for b.Loop() {
			regexp.MustCompile(p.counted)
		}
	})
}
