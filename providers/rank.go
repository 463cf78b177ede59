package providers

import "math"

// Rank bounds.
const (
	MaxRank = 100
	// DefaultIntelligenceScore is used when a catalogue entry gives no intelligence_score.
	DefaultIntelligenceScore = 10
)

// EffectiveScore is the entry's intelligence_score as ranking uses it: 0 (unset) counts as 10,
// and the value is clamped to 1..20.
func (c *Capabilities) EffectiveScore() int {
	s := c.IntelligenceScore
	if s == 0 {
		s = DefaultIntelligenceScore
	}
	return min(max(s, 1), 20)
}

// Rank is PAL's capability rank (0..100) used to order models in listings, in the model field
// description and in the "available models" hint:
//
//	EffectiveScore*5
//	+ int(min(5, max(0, log10(context_window)-3)))   (0 when the window is unknown)
//	+ 2 if max_output_tokens >= 65,000, else 1 if >= 32,000
//	+ 3 extended thinking + 1 function calling + 1 JSON mode + 1 images
//
// clamped to 0..100. Lists sort by rank descending, then name.
func (c *Capabilities) Rank() int {
	r := c.EffectiveScore() * 5
	if c.ContextWindow > 0 {
		r += int(math.Min(5, math.Max(0, math.Log10(float64(c.ContextWindow))-3)))
	}
	switch {
	case c.MaxOutputTokens >= 65_000:
		r += 2
	case c.MaxOutputTokens >= 32_000:
		r++
	}
	if c.SupportsThinking {
		r += 3
	}
	if c.SupportsFunctionCalls {
		r++
	}
	if c.SupportsJSONMode {
		r++
	}
	if c.SupportsImages {
		r++
	}
	return min(max(r, 0), MaxRank)
}
