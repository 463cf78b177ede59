package secrets

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Canary secrets: shaped like real ones, valid for nothing.
const (
	awsKey      = "AKIAZ7Q3LX4RNTW2VKMB"
	awsSecret   = "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"
	githubPAT   = "ghp_R8tV2mQx9LpZ4nKw7YbC3dHf6JsA1eUo5GiN"
	slackBot    = "xoxb-2817364509-4719283746102-Qm7zR2pLx9Vw4KtY8nBc3HdF"
	stripeLive  = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQm9R"
	npmToken    = "npm_q8Zr4Lm2Xv7Tn1Kp9Bw3Yc6Hd5Fs0Gj8Ae2R"
	urlPassword = "Hunter2-Correct-Horse"
	netrcPass   = "Zq9-long-netrc-Pw-77"
	providerKey = "pk-test-9f8e7d6c5b4a39281706"
	privKeyBody = "MIIEowIBAAKCAQEAyQ7n8cLx2P0s3zT6kM9vR4bW1hJ5eU7gY2aF8dN3qK6wL0pXtV5iB9oC4mE1jH7sZ2rG8uA" +
		"Dq3Yw6Ln0Hv5Tb9Kx2Pm8Rf4Jc7Gs1Ua6Ze3Wo9Ni5Qt2Ly8Mb4Vd0Xh7Cg1Fk3Ir6Sp9Ej2Ao5"
)

var privateKey = "-----BEGIN RSA PRIVATE KEY-----\n" + privKeyBody[:64] + "\n" + privKeyBody[64:] + "\n-----END RSA PRIVATE KEY-----\n"

func mustNew(t testing.TB, o Options) *Scanner {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGitleaksRulesParseAndCompile proves the embedded rule set is read whole (no key left
// undecoded) and that every rule, path and allowlist regex compiles under Go's regexp.
func TestGitleaksRulesParseAndCompile(t *testing.T) {
	rs, err := builtinRules()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rs.rules); n < 200 {
		t.Fatalf("%d rules parsed, want the ~220 of gitleaks %s", n, GitleaksVersion)
	}
	if len(rs.global) == 0 {
		t.Fatal("the global allowlist was not read")
	}
	ids := map[string]bool{}
	for _, r := range rs.rules {
		if err := r.compile(); err != nil {
			t.Errorf("rule %s: %v", r.id, err)
		}
		if len(r.keywords) == 0 {
			t.Errorf("rule %s has no keyword: it would run on every text", r.id)
		}
		ids[r.id] = true
	}
	for _, want := range []string{"aws-access-token", "github-pat", "slack-bot-token", "private-key", "generic-api-key", "url-password"} {
		if !ids[want] {
			t.Errorf("rule %s missing", want)
		}
	}
}

func TestParseGitleaksRefusesUnknownKeys(t *testing.T) {
	_, err := parseGitleaks("[[rules]]\nid = \"x\"\nregex = 'a'\nsurprise = true\n")
	if err == nil || !strings.Contains(err.Error(), "surprise") {
		t.Fatalf("err = %v, want unknown key surprise", err)
	}
	if _, err := parseGitleaks("[[rules]]\nid = \"x\"\nregex = 'a'\n[[rules.allowlists]]\nregexTarget = 'nope'\nregexes = ['a']\n"); err == nil {
		t.Fatal("a bad regexTarget was accepted")
	}
}

func TestRedactKinds(t *testing.T) {
	s := mustNew(t, Options{Literals: []string{providerKey}})
	tests := []struct {
		name, in, secret, kind string
	}{
		{"aws key in go", `const id = "` + awsKey + `"`, awsKey, "aws-access-token"},
		{"aws secret", "aws_secret_access_key = " + awsSecret + "\n", awsSecret, "generic-api-key"},
		{"github pat in python", "TOKEN = '" + githubPAT + "'\n", githubPAT, "github-pat"},
		{"slack bot", "slack: " + slackBot + "\n", slackBot, "slack-bot-token"},
		{"stripe", "key := \"" + stripeLive + "\"\n", stripeLive, "stripe-access-token"},
		{"npm token", "//registry.npmjs.org/:_authToken=" + npmToken + "\n", npmToken, "npm-access-token"},
		{"url password", "db = postgres://app:" + urlPassword + "@db.internal:5432/x", urlPassword, "url-password"},
		{"git credentials", "https://alice:" + githubPAT + "@github.com\n", githubPAT, "github-pat"},
		{"url password kept kind", "https://alice:" + urlPassword + "@git.example.org\n", urlPassword, "url-password"},
		{"netrc", "machine api.example.org login bob password " + netrcPass + "\n", netrcPass, "netrc-password"},
		{"private key in go", "var k = `" + privateKey + "`", privKeyBody[:40], "private-key"},
		{"private key cut short", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + privKeyBody[:70], privKeyBody[:40], "private-key"},
		{"provider key literal", "Authorization: Bearer " + providerKey, providerKey, LiteralKind},
		{"provider key other case", "x=" + strings.ToUpper(providerKey), strings.ToUpper(providerKey), LiteralKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := s.Redact(tc.in)
			if strings.Contains(out, tc.secret) {
				t.Fatalf("secret survived: %q", out)
			}
			if !strings.Contains(out, Marker(tc.kind)) {
				t.Fatalf("out = %q, want marker %s", out, Marker(tc.kind))
			}
			if rep.Count == 0 || rep.Kinds[tc.kind] == 0 {
				t.Fatalf("report = %+v, want a %s", rep, tc.kind)
			}
		})
	}
}

func TestRedactKeepsOrdinaryText(t *testing.T) {
	s := mustNew(t, Options{})
	for _, in := range []string{
		"func main() {\n\tfmt.Println(\"hello, world\")\n}\n",
		"The password field must be at least 12 characters.",
		"api_version = \"2024-01-01\"\nkey_name = \"primary\"\n",
		"see https://example.org/docs/path?x=1 for more",
		"const secret_length = 32",
		"AKIAIOSFODNN7EXAMPLE is the documented example key",
		"token = ${GITHUB_TOKEN}",
		"",
	} {
		out, rep := s.Redact(in)
		if out != in || rep.Count != 0 {
			t.Errorf("Redact(%q) = %q, %+v; want it unchanged", in, out, rep)
		}
	}
}

func TestReportCountsEachSecret(t *testing.T) {
	s := mustNew(t, Options{})
	in := awsKey + " and " + githubPAT + " and again " + awsKey + "\n"
	out, rep := s.Redact(in)
	if rep.Count != 3 || rep.Kinds["aws-access-token"] != 2 || rep.Kinds["github-pat"] != 1 {
		t.Fatalf("report %+v for %q", rep, out)
	}
	if got := rep.KindNames(); strings.Join(got, ",") != "aws-access-token,github-pat" {
		t.Fatalf("KindNames = %v", got)
	}
	var total Report
	total.Add(rep)
	total.Add(Report{})
	total.Add(rep)
	if total.Count != 6 || total.Kinds["aws-access-token"] != 4 {
		t.Fatalf("Add: %+v", total)
	}
}

func TestDisabledKeepsLiterals(t *testing.T) {
	s := mustNew(t, Options{Disabled: true, Literals: []string{providerKey, "short"}})
	if s.Enabled() {
		t.Fatal("Enabled with Disabled set")
	}
	out, rep := s.Redact(awsKey + " " + providerKey + " short")
	if want := awsKey + " " + Marker(LiteralKind) + " short"; out != want || rep.Count != 1 {
		t.Fatalf("out = %q (%+v), want %q", out, rep, want)
	}
	var nilScanner *Scanner
	if out, rep := nilScanner.Redact(awsKey); out != awsKey || rep.Count != 0 {
		t.Fatal("a nil Scanner changed text")
	}
}

func TestAddedRules(t *testing.T) {
	s := mustNew(t, Options{Rules: []Rule{
		{ID: "acme-token", Regex: `acme_([a-z0-9]{12})`, Keywords: []string{"ACME_"}, SecretGroup: 1},
		{ID: "no-keyword", Regex: `zzsecret[0-9]{4}`},
		{ID: "low-entropy", Regex: `lowent_([a-z]+)`, Entropy: 3},
	}})
	out, rep := s.Redact("x acme_ab12cd34ef56 y zzsecret1234 lowent_aaaaaaa")
	if want := "x acme_[REDACTED:acme-token] y [REDACTED:no-keyword] lowent_aaaaaaa"; out != want {
		t.Fatalf("out = %q, want %q", out, want)
	}
	if rep.Count != 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		r    Rule
		want error
	}{
		{Rule{ID: "ok-1", Regex: `a(b)`, SecretGroup: 1}, nil},
		{Rule{ID: "", Regex: `a`}, ErrRuleID},
		{Rule{ID: "Upper", Regex: `a`}, ErrRuleID},
		{Rule{ID: "x y", Regex: `a`}, ErrRuleID},
		{Rule{ID: "bad-re", Regex: `a(`}, ErrRuleRegex},
		{Rule{ID: "lookahead", Regex: `a(?=b)`}, ErrRuleRegex},
		{Rule{ID: "empty", Regex: ``}, ErrRuleRegex},
		{Rule{ID: "group", Regex: `a(b)`, SecretGroup: 2}, ErrRuleGroup},
		{Rule{ID: "neg", Regex: `a`, SecretGroup: -1}, ErrRuleGroup},
	}
	for _, tc := range tests {
		err := tc.r.Validate()
		if !errors.Is(err, tc.want) {
			t.Errorf("Validate(%+v) = %v, want %v", tc.r, err, tc.want)
		}
	}
	if _, err := New(Options{Rules: []Rule{{ID: "bad", Regex: "("}}}); !errors.Is(err, ErrRuleRegex) {
		t.Fatalf("New with a bad rule: %v", err)
	}
}

func TestPathRules(t *testing.T) {
	s := mustNew(t, Options{})
	// hashicorp-tf-password runs only on .tf and .hcl files.
	in := "administrator_login_password = \"Xk9mQ2vLp7Rt\"\n"
	if out, _ := s.RedactFile("main.tf", in); !strings.Contains(out, "[REDACTED:") {
		t.Fatalf("tf password kept in main.tf: %q", out)
	}
	rs, _ := builtinRules()
	for _, r := range rs.rules {
		if r.id == "hashicorp-tf-password" && r.pathRE == nil {
			t.Fatal("path rule compiled without its path")
		}
	}
}

func TestMergeOverlaps(t *testing.T) {
	got := merge([]Finding{{"b", 5, 9}, {"a", 0, 3}, {"c", 2, 6}, {"d", 12, 14}, {"e", 12, 20}})
	want := []Finding{{"a", 0, 9}, {"e", 12, 20}}
	if g := merge([]Finding{{"generic-api-key", 0, 10}, {"github-pat", 2, 8}}); g[0] != (Finding{"github-pat", 0, 10}) {
		t.Fatalf("merge kept the generic kind: %v", g)
	}
	if len(got) != len(want) {
		t.Fatalf("merge = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("merge = %v, want %v", got, want)
		}
	}
}

func TestShannon(t *testing.T) {
	if e := shannon("aaaa"); e != 0 {
		t.Fatalf("shannon(aaaa) = %v", e)
	}
	if e := shannon("ab"); e != 1 {
		t.Fatalf("shannon(ab) = %v", e)
	}
}

func TestMarkersAreNotRedactedAgain(t *testing.T) {
	s := mustNew(t, Options{Literals: []string{providerKey}})
	in := "password = " + awsSecret + "\nkey: " + githubPAT + "\n" + privateKey + "x=" + providerKey
	once, _ := s.Redact(in)
	twice, rep := s.Redact(once)
	if twice != once || rep.Count != 0 {
		t.Fatalf("second pass changed the text: %q -> %q", once, twice)
	}
	if regexp.MustCompile(`\[REDACTED:[a-z0-9_-]+\]`).FindAllString(once, -1) == nil {
		t.Fatalf("no marker in %q", once)
	}
}

// TestConcurrentRedaction runs scanners sharing the built-in rules from many goroutines, so
// that the race detector sees the lazy compilation.
func TestConcurrentRedaction(t *testing.T) {
	a := mustNew(t, Options{Literals: []string{providerKey}})
	b := mustNew(t, Options{})
	in := "k = \"" + awsKey + "\"\n" + privateKey + "x " + providerKey
	done := make(chan string)
	for i := range 8 {
		s := a
		if i%2 == 1 {
			s = b
		}
		go func() {
			out, _ := s.Redact(in)
			s.AddLiterals("another-literal-value")
			done <- out
		}()
	}
	for range 8 {
		if out := <-done; strings.Contains(out, awsKey) || strings.Contains(out, privKeyBody[:40]) {
			t.Fatalf("secret survived: %q", out)
		}
	}
}

// TestCandidatesAreTheRulesWhoseKeywordsAppear: the one-pass keyword search picks exactly the
// rules without keywords and those with a keyword the text holds, in rule order.
func TestCandidatesAreTheRulesWhoseKeywordsAppear(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := func(lower string) []int {
		var out []int
		for i, r := range s.rules {
			hit := len(r.keywords) == 0
			for _, k := range r.keywords {
				hit = hit || strings.Contains(lower, k)
			}
			if hit {
				out = append(out, i)
			}
		}
		return out
	}
	texts := []string{"", "x", "func f(x int) int { return x } // line of code\n", strings.Join(s.keywords, " ")}
	for _, k := range s.keywords {
		texts = append(texts, k, "a"+k+"b", k[:len(k)-1])
	}
	for _, text := range texts {
		lower := FoldASCII(text)
		if got, want := s.candidates(lower), want(lower); !slices.Equal(got, want) {
			t.Fatalf("%q: candidates %v, want %v", text, got, want)
		}
	}
}

// TestRulesBuiltAtFirstScan (docs/RATIONALE.md §79): New builds no rule; the first scan does,
// and finds what a scanner built at once finds; an added rule that does not validate still
// fails New; and when the built-in rules cannot be built, a scan fails closed (the whole text
// is one finding) and literals are still found.
func TestRulesBuiltAtFirstScan(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.rules != nil || s.prefixes != nil || !s.Enabled() {
		t.Fatal("New built the rules, or the scanner is not enabled")
	}
	text := "aws_secret_access_key = \"" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYq" + "\"\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MkmlN1fPqP6h2X1m\n-----END RSA PRIVATE KEY-----\n"
	if len(s.Find(text)) == 0 || s.rules == nil {
		t.Fatal("the first scan found nothing or built no rule")
	}
	if _, err := New(Options{Rules: []Rule{{ID: "Bad ID", Regex: "x"}}}); err == nil {
		t.Error("New accepted a rule that does not validate")
	}
	if d, _ := New(Options{Disabled: true}); d.Enabled() || len(d.Find(text)) != 0 {
		t.Error("a disabled scanner is enabled or finds by pattern")
	}

	broken := errors.New("no rules")
	loadBuiltinRules = func() (*ruleSet, error) { return nil, broken }
	t.Cleanup(func() { loadBuiltinRules = builtinRules })
	b, err := New(Options{Literals: []string{"sk-literal-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	got := b.Find("plain words and sk-literal-0123456789")
	if len(got) != 1 || got[0].Kind != BrokenRulesKind || got[0].Start != 0 || got[0].End != len("plain words and sk-literal-0123456789") {
		t.Errorf("scan with broken rules: %+v, want the whole text as one %s finding", got, BrokenRulesKind)
	}
	if out := b.String("plain words"); out != Marker(BrokenRulesKind) {
		t.Errorf("String with broken rules = %q", out)
	}
}
