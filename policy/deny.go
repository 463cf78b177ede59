package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultDeny is the default paths.deny list: names of secrets and of directories that hold
// them. Each entry is a glob (path.Match syntax) matched against single path components; an
// entry with an inner "/" matches that many consecutive components; a trailing "/" marks a
// directory rule (it denies the directory and everything beneath it).
var DefaultDeny = []string{
	// Environment and secret files.
	".env*", ".envrc", "*.tfstate*", "*.tfvars", ".vault-token",
	".netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials",
	"credentials.json", "kubeconfig",
	// Directories of credentials.
	".ssh/", ".aws/", ".azure/", ".gnupg/", ".kube/", ".docker/",
	".config/gh/", ".config/gcloud/", ".git/",
	// Keys and certificates.
	"*.pem", "*.key", "*.p12", "*.pfx", "*.keystore", "*.jks",
	"*.crt", "*.cer", "*.der", "*.ppk",
	"id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
}

// excludedDirs are PAL's EXCLUDED_DIRS that name directories: walks do not enter them (a path
// that names one explicitly may still be listed). Globs, matched case-sensitively.
var excludedDirs = []string{
	"__pycache__", ".venv", "venv", "env", ".env", "*.egg-info", ".eggs", "wheels", ".Python",
	".mypy_cache", ".pytest_cache", ".tox", "htmlcov", ".coverage", "coverage", "node_modules",
	".next", ".nuxt", "bower_components", ".sass-cache", ".git", ".svn", ".hg", "build", "dist",
	"target", "out", ".idea", ".vscode", ".sublime", ".atom", ".brackets", ".cache", ".temp",
	".tmp", ".gradle", ".m2", "_build", "site", ".expo", ".flutter", "vendor",
}

// excludedFiles are PAL's EXCLUDED_DIRS entries that name files (editor swap files, desktop
// litter): walks leave them out.
var excludedFiles = []string{"*.swp", "*.swo", "*~", ".DS_Store", "Thumbs.db"}

// ErrBadDenyRule: a deny glob does not parse or is empty.
var ErrBadDenyRule = errors.New("bad deny rule")

// denyRule is one compiled deny glob.
type denyRule struct {
	text string   // as configured, for messages
	segs []string // lower-cased component globs, at least one
	lit  []bool   // segs[i] has no glob meta characters: compare by equality
}

// denyList is the compiled deny globs. Matching is case-insensitive: the default filesystems
// of macOS and Windows are, so ".ENV" opens ".env" there and must be denied everywhere.
type denyList []denyRule

func compileDeny(globs []string) (denyList, error) {
	out := make(denyList, 0, len(globs))
	for _, g := range globs {
		text := strings.TrimSpace(g)
		body := strings.TrimSuffix(text, "/")
		if body == "" {
			return nil, fmt.Errorf("%w %q: empty", ErrBadDenyRule, g)
		}
		if strings.HasPrefix(body, "/") {
			return nil, fmt.Errorf("%w %q: rules match path components and may not start with /", ErrBadDenyRule, g)
		}
		segs := strings.Split(strings.ToLower(body), "/")
		for _, s := range segs {
			if s == "" || s == "." || s == ".." {
				return nil, fmt.Errorf("%w %q: empty, . or .. component", ErrBadDenyRule, g)
			}
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("%w %q: %v", ErrBadDenyRule, g, err)
			}
		}
		lit := make([]bool, len(segs))
		for i, seg := range segs {
			lit[i] = !strings.ContainsAny(seg, `*?[\\`)
		}
		out = append(out, denyRule{text: text, segs: segs, lit: lit})
	}
	return out, nil
}

// match reports the first rule that matches any run of consecutive components.
func (d denyList) match(components []string) (string, bool) {
	return d.matchFrom(components, 0)
}

// matchTail is match for runs that end at the last component: what a walk must check for a
// new entry whose parent components have been checked already.
func (d denyList) matchTail(components []string) (string, bool) {
	return d.matchFrom(components, len(components)-1)
}

// matchFrom checks the runs that end at index from or later.
func (d denyList) matchFrom(components []string, from int) (string, bool) {
	if len(d) == 0 || len(components) == 0 {
		return "", false
	}
	// Only the components a matching run can touch are lower-cased.
	first := max(0, from-d.longest()+1)
	lower := make([]string, len(components))
	for i := first; i < len(components); i++ {
		lower[i] = strings.ToLower(components[i])
	}
	for _, r := range d {
		n := len(r.segs)
		for end := max(from, n-1); end < len(lower); end++ {
			if r.matchAt(lower[end-n+1:]) {
				return r.text, true
			}
		}
	}
	return "", false
}

func (d denyList) longest() int {
	n := 1
	for _, r := range d {
		n = max(n, len(r.segs))
	}
	return n
}

func (r denyRule) matchAt(components []string) bool {
	for i, s := range r.segs {
		if r.lit[i] {
			if s != components[i] {
				return false
			}
		} else if ok, _ := path.Match(s, components[i]); !ok {
			return false
		}
	}
	return true
}

func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
