package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pal-mcp/pal/policy"
)

// trustCmd runs `pal trust [-revoke] [-list] [DIR|FILE]`: it records a project's pal.toml, by
// real path and sha256, in the user's trust store, so that the file may set every key. A file
// that changes afterwards is untrusted again.
func trustCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trust", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	revoke := fs.Bool("revoke", false, "remove the file from the trust store")
	list := fs.Bool("list", false, "list the trusted files")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, trustUsage)
			return 0
		}
		fmt.Fprintf(stderr, "pal trust: %v\n%s", err, trustUsage)
		return 2
	}
	if fs.NArg() > 1 || (*list && (*revoke || fs.NArg() > 0)) {
		fmt.Fprint(stderr, trustUsage)
		return 2
	}
	store := &policy.TrustStore{Path: policy.DefaultTrustStorePath(os.Getenv)}
	if *list {
		recs, err := store.List()
		if err != nil {
			fmt.Fprintf(stderr, "pal: %v\n", err)
			return 1
		}
		for _, r := range recs {
			fmt.Fprintf(stdout, "%s  sha256:%s  trusted %s\n", r.Path, r.SHA256, r.TrustedAt.Format("2006-01-02 15:04Z"))
		}
		return 0
	}
	target := "."
	if fs.NArg() == 1 {
		target = fs.Arg(0)
	}
	if *revoke {
		found, err := store.Revoke(target)
		if err != nil {
			fmt.Fprintf(stderr, "pal: %v\n", err)
			return 1
		}
		if !found {
			fmt.Fprintf(stdout, "%s was not trusted\n", target)
			return 0
		}
		fmt.Fprintf(stdout, "%s is no longer trusted\n", target)
		return 0
	}
	rec, err := store.Trust(target)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "trusted %s (sha256:%s); any change to it makes it untrusted again\n", rec.Path, rec.SHA256)
	return 0
}

const trustUsage = `usage: pal trust [DIR|FILE]     trust DIR/pal.toml (default ./pal.toml) as it is now
       pal trust -revoke [DIR|FILE]
       pal trust -list
An untrusted project pal.toml may only narrow pal's policy. Read the file before trusting it:
a trusted file can name endpoints, key sources, modules, roots and where pal writes.
`
