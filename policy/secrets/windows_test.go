package secrets

import "testing"

func TestWindows(t *testing.T) {
	text := "l0\nl1 key\nl2\nl3\nl4\nl5 token\nl6"
	got := windows(text, []string{"key", "token"})
	want := [][2]int{{0, 13}, {16, 30}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("windows = %v, want %v (%q, %q)", got, want, text[got[0][0]:got[0][1]], text[got[len(got)-1][0]:got[len(got)-1][1]])
	}
	if w := windows("no hit", []string{"key"}); w != nil {
		t.Fatalf("windows without a hit = %v", w)
	}
	if w := windows("key", []string{"key"}); len(w) != 1 || w[0] != [2]int{0, 3} {
		t.Fatalf("windows(key) = %v", w)
	}
}

func TestMultilineRules(t *testing.T) {
	rs, err := builtinRules()
	if err != nil {
		t.Fatal(err)
	}
	multi := map[string]bool{}
	for _, r := range rs.rules {
		if r.multiline {
			multi[r.id] = true
		}
	}
	for _, id := range []string{"private-key", "kubernetes-secret-yaml"} {
		if !multi[id] {
			t.Errorf("rule %s runs on windows; it spans lines", id)
		}
	}
	if multi["generic-api-key"] || multi["aws-access-token"] {
		t.Error("a one-line rule runs on whole texts")
	}
}

func TestAssignmentFollows(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{" = x", true},
		{"_id: 3", true},
		{"_access_key_id_for_the_thing = 1", false}, // more than 20 identifier characters
		{"\" => 'x'", true},
		{"'\n\n= x", true},
		{"'\n\n\n\n= x", false}, // more than 3 quotes or spaces
		{"(ctx)", false},
		{"", false},
		{" returns the token", false},
		{"s.Get(x) ?= y", false},
		{"?= y", true},
		{"|| y", true},
		{", y", true},
	}
	for _, tc := range tests {
		if got := assignmentFollows(tc.text, 0); got != tc.want {
			t.Errorf("assignmentFollows(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	rs, err := builtinRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.rules {
		if r.id == "generic-api-key" && !r.assignment {
			t.Fatal("generic-api-key no longer reads as keyword-then-assignment; review assignmentFollows")
		}
	}
}
