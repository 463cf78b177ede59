package pal

import (
	"strings"
	"testing"
)

// TestOffer: an offer only when the thread can take an exchange, naming only the tools that
// take continuation_id.
func TestOffer(t *testing.T) {
	info := func(tools ...string) ServerInfo { return ServerInfo{ContinuationTools: tools} }
	cases := []struct {
		name      string
		id        string
		remaining int
		info      ServerInfo
		want      string // "" means no offer
	}{
		{"turn cap reached", "t1", 0, info("chat", "debug"), ""},
		{"one turn left: no room for an exchange", "t1", 1, info("chat", "debug"), ""},
		{"no thread", "", 10, info("chat"), ""},
		{"the tools that take it", "t1", 2, info("chat", "debug", "thinkdeep"), "pass this continuation_id to any of chat, debug, thinkdeep; 2 more turns"},
		{"a host that does not say: this tool alone", "t1", 5, ServerInfo{}, "pass this continuation_id to codereview; 5 more turns"},
		{"one tool", "t1", 48, info("codereview"), "pass this continuation_id to codereview; 48 more turns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Offer("codereview", c.id, c.remaining, c.info)
			if c.want == "" {
				if o != nil {
					t.Fatalf("offer %+v, want none", o)
				}
				return
			}
			if o == nil || o.ContinuationID != c.id || o.RemainingTurns != c.remaining || !strings.Contains(o.Note, c.want) {
				t.Fatalf("offer %+v, want note with %q", o, c.want)
			}
			if strings.Contains(o.Note, "any tool") || strings.Contains(o.Note, "other tool") {
				t.Fatalf("the note offers tools it does not name: %q", o.Note)
			}
		})
	}
}
