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

func TestLeadKeyword(t *testing.T) {
	tests := []struct {
		pattern  string
		keywords []string
		want     string
	}{
		{`ghp_[0-9a-zA-Z]{36}`, []string{"ghp_"}, "ghp_"},
		{`(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY`, []string{"-----begin"}, "-----begin"},
		{`(xoxb-[0-9]{10,13})`, []string{"xoxb"}, "xoxb"},
		{`\b(AKIA[A-Z2-7]{16})\b`, []string{"akia"}, ""}, // begins with \b
		{`ghp_x|abc`, []string{"ghp_"}, ""},              // an alternative starts otherwise
		{`(?:ghp|gho)_[a-z]+`, []string{"ghp_", "gho_"}, ""},
		{`[a-z]+ghp_`, []string{"ghp_"}, ""},
		{`gh_token`, []string{"ghp_"}, ""},
	}
	for _, tc := range tests {
		if got := leadKeyword(tc.pattern, tc.keywords); got != tc.want {
			t.Errorf("leadKeyword(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
	rs, err := builtinRules()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rs.rules {
		if r.lead != "" {
			n++
		}
	}
	t.Logf("%d of %d rules run anchored at their keyword", n, len(rs.rules))
	if n < 20 {
		t.Errorf("only %d rules start with their keyword", n)
	}
}
