// Package mcpwire speaks raw MCP (newline-delimited JSON-RPC) for tests that must see exactly
// what crosses the wire and in which order: progress before results, no reply to a cancelled
// request, parse errors for bad lines. It drives an in-process server over pipes and the real
// binary over its stdin and stdout alike.
package mcpwire

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// Timeout is how long Read waits for the server to write something.
const Timeout = 2 * time.Minute

// Message is one JSON-RPC message the server wrote, kept raw and half-decoded.
type Message struct {
	Raw    string
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// IsResponse reports whether m answers the request with id (a JSON value such as `7` or `"a"`).
func (m Message) IsResponse(id string) bool { return m.Method == "" && string(m.ID) == id }

// Conn is one raw session. It is not safe for concurrent use.
type Conn struct {
	t     testing.TB
	in    io.Writer
	lines chan Message
	eof   chan struct{} // closed when the server's output has ended
	// Seen is every message read so far, in order.
	Seen []Message
	// skipped holds messages Until read that were not the response it waited for; Next and
	// Until return them first.
	skipped []Message
}

// New starts reading out (the server's output) line by line; in is the server's input.
func New(t testing.TB, in io.Writer, out io.Reader) *Conn {
	c := &Conn{t: t, in: in, lines: make(chan Message, 1<<14), eof: make(chan struct{})}
	go func() {
		defer close(c.eof)
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m Message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m.Method = "<not JSON>"
			}
			m.Raw = sc.Text()
			c.lines <- m
		}
	}()
	return c
}

// SendRaw writes one line.
func (c *Conn) SendRaw(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("write to server: %v", err)
	}
}

// Send writes a message as one line.
func (c *Conn) Send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.SendRaw(string(b))
}

// Request sends a request.
func (c *Conn) Request(id any, method string, params any) {
	c.t.Helper()
	c.Send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

// Notify sends a notification.
func (c *Conn) Notify(method string, params any) {
	c.t.Helper()
	c.Send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// Initialize performs the handshake as client name/version.
func (c *Conn) Initialize(name, version string) {
	c.t.Helper()
	c.Request("init", "initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": name, "version": version},
	})
	if m := c.Until(`"init"`); m.Error != nil {
		c.t.Fatalf("initialize: %s", m.Raw)
	}
	c.Notify("notifications/initialized", map[string]any{})
}

// Read returns the next message from the server, ignoring what Until skipped.
func (c *Conn) Read() Message {
	c.t.Helper()
	select {
	case m, ok := <-c.lines:
		if !ok {
			c.t.Fatal("the server closed its output")
		}
		c.Seen = append(c.Seen, m)
		return m
	case <-time.After(Timeout):
		c.t.Fatalf("the server wrote nothing for %v", Timeout)
	}
	panic("unreachable")
}

// Next returns the next message, those skipped by Until first.
func (c *Conn) Next() Message {
	c.t.Helper()
	if len(c.skipped) > 0 {
		m := c.skipped[0]
		c.skipped = c.skipped[1:]
		return m
	}
	return c.Read()
}

// Until returns the response to id (a JSON value such as `7`), reading until it comes. Other
// messages are kept for Next and Until.
func (c *Conn) Until(id string) Message {
	c.t.Helper()
	return c.until(func(m Message) bool { return m.IsResponse(id) })
}

// UntilProgress returns the first progress notification for token (a JSON value such as
// `"t1"`), reading until it comes. Other messages are kept for Next and Until.
func (c *Conn) UntilProgress(token string) Message {
	c.t.Helper()
	return c.until(func(m Message) bool {
		if m.Method != "notifications/progress" {
			return false
		}
		var p struct {
			Token json.RawMessage `json:"progressToken"`
		}
		return json.Unmarshal(m.Params, &p) == nil && string(p.Token) == token
	})
}

// UntilMatch returns the first message match accepts, reading until it comes. Other messages
// are kept for Next and Until.
func (c *Conn) UntilMatch(match func(Message) bool) Message {
	c.t.Helper()
	return c.until(match)
}

func (c *Conn) until(match func(Message) bool) Message {
	c.t.Helper()
	for i, m := range c.skipped {
		if match(m) {
			c.skipped = append(c.skipped[:i:i], c.skipped[i+1:]...)
			return m
		}
	}
	for {
		m := c.Read()
		if match(m) {
			return m
		}
		c.skipped = append(c.skipped, m)
	}
}

// EOF is closed once the server's output has ended (messages may still wait to be read).
func (c *Conn) EOF() <-chan struct{} { return c.eof }

// Drain reads what is left of the server's output until it closes it.
func (c *Conn) Drain() {
	for m := range c.lines {
		c.Seen = append(c.Seen, m)
	}
}

// ToolText returns the text of a tools/call result and whether it is an error result. A
// JSON-RPC error fails the test.
func ToolText(t testing.TB, m Message) (string, bool) {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("JSON-RPC error: %s", m.Raw)
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatalf("%v: %s", err, m.Raw)
	}
	var b strings.Builder
	for _, c := range res.Content {
		b.WriteString(c.Text)
	}
	return b.String(), res.IsError
}
