package pal

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
)

func TestEncodeRequestFraming(t *testing.T) {
	header := map[string]string{"op": "model.generate"}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"no body", nil, `{"op":"model.generate"}`},
		{"empty body keeps the separator", []byte{}, "{\"op\":\"model.generate\"}\x00"},
		{"body copied raw, zero bytes and quotes included", []byte("a\x00\"b\"\n"), "{\"op\":\"model.generate\"}\x00a\x00\"b\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRequest(header, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEncodeRequestRefusesOversize(t *testing.T) {
	_, err := encodeRequest(map[string]string{"op": "model.generate"}, make([]byte, abi.MaxRequestBytes))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want too_large", err)
	}
}

func TestDecodeReply(t *testing.T) {
	tests := []struct {
		name     string
		msg      []byte
		result   string
		body     []byte
		wantCode Code // a HostError with this code
		wantBad  bool // ErrBadReply
	}{
		{name: "result", msg: []byte(`{"result":{"id":"x"}}`), result: `{"id":"x"}`},
		{name: "result and body", msg: []byte("{\"result\":{\"size\":3}}\x00a\x00b"), result: `{"size":3}`, body: []byte("a\x00b")},
		{name: "empty body", msg: []byte("{\"result\":{}}\x00"), result: `{}`, body: []byte{}},
		{name: "unknown reply fields ignored", msg: []byte(`{"result":{},"extra":1}`), result: `{}`},
		{name: "error", msg: []byte(`{"error":{"code":"denied","message":"no"}}`), wantCode: CodeDenied},
		{name: "future error code kept", msg: []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`), wantCode: "rate_limited"},
		{name: "no reply", msg: nil, wantBad: true},
		{name: "empty", msg: []byte{}, wantBad: true},
		{name: "not JSON", msg: []byte("hello"), wantBad: true},
		{name: "array", msg: []byte(`[1]`), wantBad: true},
		{name: "neither", msg: []byte(`{}`), wantBad: true},
		{name: "null result", msg: []byte(`{"result":null}`), wantBad: true},
		{name: "result not an object", msg: []byte(`{"result":[1]}`), wantBad: true},
		{name: "both", msg: []byte(`{"result":{},"error":{"code":"denied","message":""}}`), wantBad: true},
		{name: "error without code", msg: []byte(`{"error":{"message":"x"}}`), wantBad: true},
		{name: "wrong types", msg: []byte(`{"error":{"code":5}}`), wantBad: true},
		{name: "zero inside header", msg: []byte("{\"result\":\x00{}}"), wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			result, body, err := decodeReply(tt.msg)
			switch {
			case tt.wantBad:
				if !errors.Is(err, ErrBadReply) {
					t.Fatalf("got %v, want ErrBadReply", err)
				}
			case tt.wantCode != "":
				var he *HostError
				if !errors.As(err, &he) || he.Code != tt.wantCode {
					t.Fatalf("got %v, want code %s", err, tt.wantCode)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if string(result) != tt.result || !bytes.Equal(body, tt.body) || (body == nil) != (tt.body == nil) {
					t.Fatalf("got %s %q, want %s %q", result, body, tt.result, tt.body)
				}
			}
		})
	}
}

// FuzzDecodeReply: any bytes decode to exactly one of a result object, a HostError with a
// code, or ErrBadReply, without panicking.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{
		`{"result":{}}`, "{\"result\":{\"a\":1}}\x00body", `{"error":{"code":"denied","message":"m"}}`,
		`{}`, `null`, "", "\x00", `{"result":[]}`, `{"result":"x"}`, `{"error":null,"result":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		result, body, err := decodeReply(msg)
		var he *HostError
		switch {
		case err == nil:
			if !json.Valid(result) || result[0] != '{' {
				t.Fatalf("accepted result %q", result)
			}
			if body != nil && !bytes.HasSuffix(msg, body) {
				t.Fatalf("body %q is not the tail of %q", body, msg)
			}
		case errors.As(err, &he):
			if he.Code == "" {
				t.Fatalf("HostError without a code from %q", msg)
			}
		case !errors.Is(err, ErrBadReply):
			t.Fatalf("unexpected error kind %v", err)
		}
	})
}

func TestHostErrorMatching(t *testing.T) {
	err := error(&HostError{Code: CodeDenied, Message: "/etc/passwd matches a deny rule"})
	wrapped := errors.Join(errors.New("reading"), err)
	if !errors.Is(wrapped, ErrDenied) {
		t.Fatal("errors.Is does not match the sentinel through wrapping")
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("denied matched not_found")
	}
	if errors.Is(err, &HostError{Code: CodeDenied, Message: "other"}) {
		t.Fatal("a different message matched")
	}
	if !strings.Contains(err.Error(), "denied: /etc/passwd") {
		t.Fatalf("Error() = %q", err.Error())
	}
	if !IsDirectory(&HostError{Code: CodeInvalid, Message: "is a directory"}) || IsDirectory(&HostError{Code: CodeNotFound, Message: "is a directory"}) || IsDirectory(errors.New("is a directory")) {
		t.Fatal("IsDirectory misclassifies")
	}
}
