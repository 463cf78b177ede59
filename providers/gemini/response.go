package gemini

import (
	"fmt"
	"strings"

	"google.golang.org/genai"

	"github.com/pal-mcp/pal/providers"
)

// errEmptyStop: the model finished normally (STOP) and said nothing. Generate asks once more.
var errEmptyStop = fmt.Errorf("%w: the model finished (STOP) without any text", providers.ErrBlocked)

// blockingReasons are the finish reasons that mean the answer was withheld, whatever text came
// with it.
var blockingReasons = map[genai.FinishReason]bool{
	genai.FinishReasonSafety:                 true,
	genai.FinishReasonRecitation:             true,
	genai.FinishReasonBlocklist:              true,
	genai.FinishReasonProhibitedContent:      true,
	genai.FinishReasonSPII:                   true,
	genai.FinishReasonImageSafety:            true,
	genai.FinishReasonImageProhibitedContent: true,
	genai.FinishReasonImageRecitation:        true,
	genai.FinishReasonLanguage:               true,
}

// answer is the useful part of one response.
type answer struct {
	text   string
	finish string // lower case: stop, length, or the API's reason lower-cased
	usage  providers.Usage
}

// interpret reads the first candidate of resp. It returns an error wrapping
// providers.ErrBlocked when the prompt or the answer was blocked, or when there is no text
// (errEmptyStop for an empty answer that finished with STOP). Thought parts are skipped. key is
// removed from any provider text quoted in an error.
func interpret(resp *genai.GenerateContentResponse, key string) (*answer, error) {
	if resp == nil {
		return nil, fmt.Errorf("%w: empty response", providers.ErrBlocked)
	}
	if fb := resp.PromptFeedback; fb != nil && fb.BlockReason != "" {
		detail := ""
		if fb.BlockReasonMessage != "" {
			detail = ": " + fb.BlockReasonMessage
		}
		return nil, fmt.Errorf("%w: the prompt was blocked (%s)%s", providers.ErrBlocked, scrub(string(fb.BlockReason), key), scrub(detail, key))
	}
	var cand *genai.Candidate
	if len(resp.Candidates) > 0 {
		cand = resp.Candidates[0]
	}
	if cand == nil {
		return nil, fmt.Errorf("%w: the response has no candidate", providers.ErrBlocked)
	}

	var text strings.Builder
	if cand.Content != nil {
		for _, part := range cand.Content.Parts {
			if part == nil || part.Thought {
				continue
			}
			text.WriteString(part.Text)
		}
	}
	a := &answer{text: text.String(), finish: normaliseFinish(cand.FinishReason), usage: usage(resp.UsageMetadata)}

	switch {
	case blockingReasons[cand.FinishReason]:
		return nil, blockedError(cand, key)
	case strings.TrimSpace(a.text) != "":
		return a, nil
	case cand.FinishReason == genai.FinishReasonStop:
		return nil, errEmptyStop
	case cand.FinishReason == genai.FinishReasonMaxTokens:
		return nil, fmt.Errorf("%w: the output token limit was reached before any text", providers.ErrBlocked)
	default:
		reason := string(cand.FinishReason)
		if reason == "" {
			reason = "none"
		}
		return nil, fmt.Errorf("%w: no text (finish reason %s)", providers.ErrBlocked, scrub(reason, key))
	}
}

// blockedError names the finish reason and the safety categories that blocked the answer.
func blockedError(cand *genai.Candidate, key string) error {
	var cats []string
	for _, r := range cand.SafetyRatings {
		if r != nil && r.Blocked {
			cats = append(cats, fmt.Sprintf("%s=%s", r.Category, r.Probability))
		}
	}
	detail := ""
	if len(cats) > 0 {
		detail = "; " + strings.Join(cats, ", ")
	}
	if cand.FinishMessage != "" {
		detail += "; " + cand.FinishMessage
	}
	return fmt.Errorf("%w: the answer was blocked (finish reason %s%s)", providers.ErrBlocked, cand.FinishReason, scrub(detail, key))
}

// normaliseFinish maps Gemini's finish reasons onto the lower-case vocabulary of
// providers.Response: STOP → stop, MAX_TOKENS → length, anything else lower-cased.
func normaliseFinish(r genai.FinishReason) string {
	switch r {
	case genai.FinishReasonStop:
		return "stop"
	case genai.FinishReasonMaxTokens:
		return "length"
	}
	return strings.ToLower(string(r))
}

func usage(u *genai.GenerateContentResponseUsageMetadata) providers.Usage {
	if u == nil {
		return providers.Usage{}
	}
	total := int(u.TotalTokenCount)
	if total == 0 {
		total = int(u.PromptTokenCount) + int(u.CandidatesTokenCount) + int(u.ThoughtsTokenCount)
	}
	return providers.Usage{
		InputTokens:  int(u.PromptTokenCount),
		OutputTokens: int(u.CandidatesTokenCount),
		TotalTokens:  total,
	}
}
