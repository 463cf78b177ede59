package secrets

import (
	"strings"
	"testing"
)

// FuzzRedact plants known secrets between fuzzed texts: whatever surrounds them, none may
// survive, the report must count at least them, and redacting the result again must change
// nothing.
func FuzzRedact(f *testing.F) {
	f.Add("package main\n", "func main() {}\n")
	f.Add("password = ", "@host")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\n", "-----END RSA PRIVATE KEY-----")
	f.Add("https://u:", "@x.org")
	f.Add("[REDACTED:", "]")
	f.Add("\xff\xfe", "\x00")
	s, err := New(Options{Literals: []string{providerKey}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		planted := []string{awsKey, githubPAT, slackBot, providerKey}
		in := before + "\n" + strings.Join(planted, "\n") + "\n" + after
		out, rep := s.Redact(in)
		for _, secret := range planted {
			if strings.Contains(out, secret) {
				t.Fatalf("%q survived in %q", secret, out)
			}
		}
		if rep.Count < 1 || rep.Count > len(in) {
			t.Fatalf("report %+v for %d bytes", rep, len(in))
		}
		again, rep2 := s.Redact(out)
		if again != out || rep2.Count != 0 {
			t.Fatalf("a second pass changed %q into %q (%+v)", out, again, rep2)
		}
	})
}
