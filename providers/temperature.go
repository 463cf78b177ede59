package providers

import "math"

// DiscreteTemperatures are the values a TemperatureDiscrete model accepts, in ascending order.
var DiscreteTemperatures = []float64{0, 0.3, 0.7, 1.0, 1.5, 2.0}

// Temperature bounds and defaults of PAL's constraints.
const (
	MinTemperature     = 0.0 // lower bound of the range constraint
	MaxTemperature     = 2.0 // upper bound of the range constraint
	FixedTemperature   = 1.0 // the only value a TemperatureFixed model accepts
	DefaultTemperature = 0.3 // used in place of a NaN request under range and discrete
)

// CorrectTemperature returns t moved into what the model's constraint accepts, and whether it
// had to be moved: fixed gives 1.0; range (also an empty constraint, or caps == nil) clamps to
// 0..2; discrete gives the nearest of DiscreteTemperatures (the lower one on a tie). A NaN
// request becomes 1.0 under fixed and 0.3 otherwise. PAL corrects rather than refuses, and so
// does pal; the caller may log the change.
func CorrectTemperature(caps *Capabilities, t float64) (corrected float64, changed bool) {
	constraint := TemperatureRange
	if caps != nil && caps.TemperatureConstraint != "" {
		constraint = caps.TemperatureConstraint
	}
	switch constraint {
	case TemperatureFixed:
		corrected = FixedTemperature
	case TemperatureDiscrete:
		if math.IsNaN(t) {
			corrected = DefaultTemperature
			break
		}
		corrected = DiscreteTemperatures[0]
		best := math.Abs(t - corrected)
		for _, v := range DiscreteTemperatures[1:] {
			if d := math.Abs(t - v); d < best {
				corrected, best = v, d
			}
		}
	default: // range, and any value the loader would have refused
		switch {
		case math.IsNaN(t):
			corrected = DefaultTemperature
		case t < MinTemperature:
			corrected = MinTemperature
		case t > MaxTemperature:
			corrected = MaxTemperature
		default:
			corrected = t
		}
	}
	return corrected, corrected != t // NaN never equals itself, so a NaN request reports a change
}

// EffectiveTemperature is the temperature to send for a requested value: nil when the model
// takes none (supports_temperature false), otherwise the corrected value.
func EffectiveTemperature(caps *Capabilities, requested float64) *float64 {
	if caps != nil && !caps.AcceptsTemperature() {
		return nil
	}
	t, _ := CorrectTemperature(caps, requested)
	return &t
}
