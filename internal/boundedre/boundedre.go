// Package boundedre matches short names (tool, model, token and git ref names) against a
// regular expression and a length limit checked apart.
//
// A counted repetition such as `[a-z0-9_]{0,63}` compiles to 63 copies of its class: about
// 0.1 ms and 700 allocations at package initialisation for a 64-character limit, 0.4 ms and
// 3,300 for 255, paid by every process start whether or not the name is ever checked
// (docs/RATIONALE.md §79). The same pattern with `*` and a length check compiles in 4 µs.
package boundedre

import (
	"regexp"
	"slices"
)

// Regexp is a compiled regular expression that also requires a length: at most MaxLen bytes,
// or one of a few exact lengths.
type Regexp struct {
	re      *regexp.Regexp
	maxLen  int
	lengths []int // nil: any length up to maxLen
}

// MustCompile compiles expr, which should use `*` or `+` where it would have used a counted
// repetition, and returns a Regexp that matches strings of at most maxLen bytes that expr
// matches. It panics when expr does not compile, as regexp.MustCompile does. For an expr
// whose classes hold ASCII characters only, bytes and characters count alike.
func MustCompile(expr string, maxLen int) Regexp {
	return Regexp{re: regexp.MustCompile(expr), maxLen: maxLen}
}

// MustCompileLengths is MustCompile for strings of exactly one of lengths bytes (a hash, a
// commit id): `^[0-9a-f]*$` with 40 and 64 stands for `^[0-9a-f]{40}([0-9a-f]{24})?$`.
func MustCompileLengths(expr string, lengths ...int) Regexp {
	r := Regexp{re: regexp.MustCompile(expr), lengths: lengths}
	for _, n := range lengths {
		r.maxLen = max(r.maxLen, n)
	}
	return r
}

// MatchString reports whether s has a length r allows and matches the expression.
func (r Regexp) MatchString(s string) bool {
	if len(s) > r.maxLen || (r.lengths != nil && !slices.Contains(r.lengths, len(s))) {
		return false
	}
	return r.re.MatchString(s)
}

// MaxLen is the longest string, in bytes, that r matches.
func (r Regexp) MaxLen() int { return r.maxLen }
