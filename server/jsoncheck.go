package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Limits of CheckJSON.
const (
	// MaxJSONDepth is the deepest nesting of objects and arrays a message may have.
	MaxJSONDepth = 64
	// MaxJSONNumberLen is the longest number a message may hold, in characters.
	MaxJSONNumberLen = 64
)

var (
	// ErrNotJSON: the message is not one JSON value.
	ErrNotJSON = errors.New("message is not JSON")
	// ErrBadMessage: the message is JSON but pal will not act on it (a key twice, a number
	// out of range, too deep, not an object).
	ErrBadMessage = errors.New("invalid JSON-RPC message")
)

// CheckJSON refuses a message before anything acts on it: not one JSON value (ErrNotJSON);
// not an object, an object with the same key twice (decoders disagree on which one wins),
// a number longer than MaxJSONNumberLen or outside float64's range, nesting deeper than
// MaxJSONDepth (ErrBadMessage). Errors say what and where, never quoting values.
func CheckJSON(msg []byte) error {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	values := 0
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
		if len(stack) == 0 {
			values++
			if values > 1 {
				return fmt.Errorf("%w: more than one JSON value", ErrNotJSON)
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return fmt.Errorf("%w: a message must be a JSON object (batches are not supported)", ErrBadMessage)
			}
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) >= MaxJSONDepth {
					return fmt.Errorf("%w: nested deeper than %d", ErrBadMessage, MaxJSONDepth)
				}
				if top != nil && top.obj {
					top.expectKey = false
				}
				stack = append(stack, &frame{obj: v == '{', expectKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.obj && top.expectKey {
				if top.keys == nil {
					top.keys = map[string]bool{}
				}
				if top.keys[v] {
					return fmt.Errorf("%w: key %s appears twice in one object", ErrBadMessage, quoteShort(v))
				}
				top.keys[v] = true
				top.expectKey = false
				continue
			}
			valueDone()
		case json.Number:
			if len(v) > MaxJSONNumberLen {
				return fmt.Errorf("%w: a number of %d characters (at most %d)", ErrBadMessage, len(v), MaxJSONNumberLen)
			}
			if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) {
				return fmt.Errorf("%w: a number out of range", ErrBadMessage)
			}
			valueDone()
		default:
			valueDone()
		}
	}
	if values == 0 {
		return fmt.Errorf("%w: empty message", ErrNotJSON)
	}
	if len(stack) > 0 {
		return fmt.Errorf("%w: the message ends inside an object or array", ErrNotJSON)
	}
	return nil
}

// quoteShort quotes a key for an error message, cut to 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
