package providertest

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFakeAPIQueue(t *testing.T) {
	tests := []struct {
		name    string
		replies []Reply
		want    []string // bodies of three answers in a row
		ctype   string   // of the first answer
	}{
		{"nothing queued", nil, []string{"none", "none", "none"}, "application/default"},
		{"last reply repeats", []Reply{{Status: 429, Body: "a"}, {Status: 200, Body: "b", ContentType: "text/plain"}}, []string{"a", "b", "b"}, "application/default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := API{ContentType: "application/default", NoReply: Reply{Status: 500, Body: "none"}}.Start(t, tc.replies...)
			for i, want := range tc.want {
				resp, err := http.Post(f.Server.URL+"/v1/x?q=1", "application/json", strings.NewReader(`{"n":1}`))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != want {
					t.Errorf("answer %d = %q, want %q", i, body, want)
				}
				if i == 0 && resp.Header.Get("Content-Type") != tc.ctype {
					t.Errorf("content type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
				}
			}
			reqs := f.Requests()
			if len(reqs) != 3 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/v1/x" || reqs[0].RawQuery != "q=1" || reqs[0].Body["n"] != float64(1) {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestSleeps(t *testing.T) {
	hooked := 0
	s := &Sleeps{Hook: func() { hooked++ }}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Sleep(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.Sleep(ctx, 3*time.Second); err != context.Canceled {
		t.Errorf("err = %v after cancel", err)
	}
	if got := s.Recorded(); !reflect.DeepEqual(got, []time.Duration{time.Second, 3 * time.Second}) || hooked != 2 {
		t.Errorf("recorded %v, hooked %d", got, hooked)
	}
}

func TestPath(t *testing.T) {
	v := map[string]any{"a": []any{map[string]any{"b": "x"}}}
	tests := []struct {
		steps []any
		want  any
		ok    bool
	}{
		{[]any{"a", 0, "b"}, "x", true},
		{[]any{"a", 1}, nil, false},
		{[]any{"a", -1}, nil, false},
		{[]any{"a", "b"}, nil, false},
		{[]any{"z"}, nil, false},
		{nil, v, true},
	}
	for _, tc := range tests {
		got, ok := Path(v, tc.steps...)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Path(%v) = %v, %v; want %v, %v", tc.steps, got, ok, tc.want, tc.ok)
		}
	}
	var buf SyncBuffer
	DebugLogger(&buf).Debug("hello")
	if !strings.Contains(buf.String(), "hello") || buf.Len() == 0 || DebugLogger(nil) != nil {
		t.Errorf("DebugLogger wrote %q", buf.String())
	}
}
