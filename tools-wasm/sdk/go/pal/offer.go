package pal

import (
	"fmt"
	"strings"
)

// ContinuationOffer is PAL's continuation_offer: how the agent may continue a conversation.
type ContinuationOffer struct {
	ContinuationID string `json:"continuation_id"`
	Note           string `json:"note"`
	RemainingTurns int    `json:"remaining_turns"`
}

// OfferMinTurns is the fewest turns a thread must have left for an offer: one exchange, the
// agent's turn and a model's reply.
const OfferMinTurns = 2

// Offer is the continuation_offer of a reply from tool on thread id with remaining turns
// left, or nil when the thread cannot take another exchange. The note names only the tools
// that take continuation_id (ServerInfo.ContinuationTools); a host that does not say gets an
// offer naming tool alone, which is true whatever else the server publishes.
func Offer(tool, id string, remaining int, info ServerInfo) *ContinuationOffer {
	if id == "" || remaining < OfferMinTurns {
		return nil
	}
	tools := info.ContinuationTools
	if len(tools) == 0 {
		tools = []string{tool}
	}
	var to string
	if len(tools) == 1 {
		to = tools[0]
	} else {
		to = "any of " + strings.Join(tools, ", ")
	}
	return &ContinuationOffer{ContinuationID: id, RemainingTurns: remaining,
		Note: fmt.Sprintf("To continue this conversation, pass this continuation_id to %s; %d more turns are available.", to, remaining)}
}
