package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil},
		{`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`, nil}, // the same key in different objects
		{`{"a":[1,2,{"b":"a","c":"a"}],"d":-1.5e10}`, nil},
		{` {"a":1} `, nil},
		{``, ErrNotJSON},
		{`{"a":1`, ErrNotJSON},
		{`{"a":1}}`, ErrNotJSON},
		{`{"a":1}{"b":2}`, ErrNotJSON},
		{`{"a":tru}`, ErrNotJSON},
		{`[{"a":1}]`, ErrBadMessage},
		{`"ping"`, ErrBadMessage},
		{`{"a":1,"a":2}`, ErrBadMessage},
		{`{"a":{"b":1,"c":{"d":1},"b":2}}`, ErrBadMessage},
		{`{"a":[{"x":1,"x":1}]}`, ErrBadMessage},
		{`{"\u0061":1,"a":2}`, ErrBadMessage}, // the same key, escaped
		{`{"n":1e309}`, ErrBadMessage},
		{`{"n":-1e309}`, ErrBadMessage},
		{`{"n":` + strings.Repeat("9", 65) + `}`, ErrBadMessage},
		{strings.Repeat(`{"a":`, MaxJSONDepth) + `1` + strings.Repeat(`}`, MaxJSONDepth), nil},
		{strings.Repeat(`{"a":`, MaxJSONDepth+1) + `1` + strings.Repeat(`}`, MaxJSONDepth+1), ErrBadMessage},
	} {
		err := CheckJSON([]byte(tc.msg))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CheckJSON(%.60s) = %v, want %v", tc.msg, err, tc.want)
		}
	}
}

// FuzzCheckJSON: whatever CheckJSON accepts is one valid JSON object that decodes.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, `{"a":1,"a":2}`, `{"a":[1,{"b":2}]}`, `{"n":1e999}`, `[1]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if CheckJSON(msg) != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(msg, &m); err != nil {
			t.Fatalf("accepted %q, which does not decode into an object: %v", msg, err)
		}
	})
}
