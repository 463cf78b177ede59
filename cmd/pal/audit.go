package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pal-mcp/pal/policy"
)

// auditUsage is the help of pal audit.
const auditUsage = `usage: pal audit [flags]

Reads the audit log (and its rotated files, oldest first), prints the records that match every
filter given, then a summary: counts per tool, op and decision, and the secrets redacted.

flags:
  -file PATH        audit log to read (default: [audit] path of the configuration)
  -config FILE      pal.toml to load, as for serve
  -tool NAMES       only these tools (comma-separated)
  -op NAMES         only these ops, e.g. fs.read,model.generate (comma-separated)
  -decision NAMES   only these decisions: allow, deny, error (comma-separated)
  -since TIME       only records at or after TIME: RFC 3339 (2026-11-26T10:00:00Z), a date
                    (2026-11-26, UTC) or a duration before now (90m, 24h)
  -until TIME       only records before TIME (same forms)
  -json             print the matching records as JSON lines
  -summary          print only the summary
`

// auditFilter selects records.
type auditFilter struct {
	tools, ops, decisions map[string]bool // nil: any
	since, until          time.Time       // zero: unbounded
}

func (f auditFilter) match(r policy.Record) bool {
	if f.tools != nil && !f.tools[r.Tool] || f.ops != nil && !f.ops[r.Op] || f.decisions != nil && !f.decisions[r.Decision] {
		return false
	}
	if !f.since.IsZero() && r.Time.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && !r.Time.Before(f.until) {
		return false
	}
	return true
}

// auditSummary counts what pal audit printed.
type auditSummary struct {
	matched, read, unreadable int
	first, last               time.Time
	byTool, byOp, byDecision  map[string]int
	redacted                  int
	byKind                    map[string]int
}

func (s *auditSummary) add(r policy.Record) {
	s.matched++
	if s.first.IsZero() || r.Time.Before(s.first) {
		s.first = r.Time
	}
	if r.Time.After(s.last) {
		s.last = r.Time
	}
	s.byTool[r.Tool]++
	s.byOp[r.Op]++
	s.byDecision[r.Decision]++
	s.redacted += r.Redacted
	for _, k := range r.RedactedKinds {
		s.byKind[k]++
	}
}

func audit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		file, config, systemConfig, tools, ops, decisions, since, until string
		asJSON, summaryOnly                                             bool
	)
	fs.StringVar(&file, "file", "", "")
	fs.StringVar(&config, "config", "", "")
	fs.StringVar(&systemConfig, "system-config", "", "")
	fs.StringVar(&tools, "tool", "", "")
	fs.StringVar(&ops, "op", "", "")
	fs.StringVar(&decisions, "decision", "", "")
	fs.StringVar(&since, "since", "", "")
	fs.StringVar(&until, "until", "", "")
	fs.BoolVar(&asJSON, "json", false, "")
	fs.BoolVar(&summaryOnly, "summary", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, auditUsage)
			return 0
		}
		fmt.Fprintf(stderr, "pal audit: %v\n%s", err, auditUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pal audit: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	now := time.Now()
	f := auditFilter{tools: nameSet(tools), ops: nameSet(ops), decisions: nameSet(decisions)}
	var err error
	if f.since, err = parseAuditTime(since, now); err != nil {
		fmt.Fprintf(stderr, "pal audit: -since: %v\n", err)
		return 2
	}
	if f.until, err = parseAuditTime(until, now); err != nil {
		fmt.Fprintf(stderr, "pal audit: -until: %v\n", err)
		return 2
	}

	if file == "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintf(stderr, "pal audit: %v\n", err)
			return 1
		}
		cfg, err := policy.LoadLayers(policy.Sources{SystemFile: systemConfig, ConfigFile: config, WorkDir: wd})
		if err != nil {
			fmt.Fprintf(stderr, "pal audit: %v\n", err)
			return 1
		}
		file = cfg.Audit.Path
	}
	files := policy.AuditFiles(file)
	if len(files) == 0 {
		fmt.Fprintf(stderr, "pal audit: no audit log at %s\n", file)
		return 1
	}

	sum := &auditSummary{byTool: map[string]int{}, byOp: map[string]int{}, byDecision: map[string]int{}, byKind: map[string]int{}}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	for _, p := range files {
		if err := readAuditFile(p, f, sum, func(r policy.Record) {
			if summaryOnly {
				return
			}
			if asJSON {
				line, _ := json.Marshal(r)
				out.Write(append(line, '\n'))
				return
			}
			out.WriteString(formatRecord(r))
			out.WriteByte('\n')
		}); err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "pal audit: %v\n", err)
			return 1
		}
	}
	if !asJSON || summaryOnly {
		if !summaryOnly && sum.matched > 0 {
			out.WriteByte('\n')
		}
		writeSummary(out, files, sum)
	}
	return 0
}

// maxAuditLine bounds one line read back; longer lines (not written by pal) are skipped.
const maxAuditLine = 1 << 20

// readAuditFile calls emit for every record of the file at path that f matches.
func readAuditFile(path string, f auditFilter, sum *auditSummary, emit func(policy.Record)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			var r policy.Record
			if json.Unmarshal(line, &r) != nil {
				sum.unreadable++
			} else {
				sum.read++
				if f.match(r) {
					sum.add(r)
					emit(r)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// readLine returns the next line without its newline; a line over maxAuditLine is read to its
// end and returned as a one-byte marker that does not parse.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxAuditLine {
			buf = append(buf, chunk...)
		} else {
			buf = []byte{'!'}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return []byte(strings.TrimRight(string(buf), "\r\n")), err
	}
}

// formatRecord prints a record on one line; every value is printed safely even when the file
// was not written by pal.
func formatRecord(r policy.Record) string {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format(time.RFC3339))
	for _, v := range []string{r.Tool, r.Op, r.Decision} {
		b.WriteString("  ")
		b.WriteString(printable(v))
	}
	field := func(k, v string) {
		if v != "" {
			b.WriteString("  " + k + "=" + printable(v))
		}
	}
	field("call", r.CallID)
	if r.Root != "" {
		field("path", strings.TrimSuffix(r.Root, "/")+"/"+r.Path)
	} else {
		field("path", r.Path)
	}
	if r.Bytes != 0 {
		field("bytes", strconv.FormatInt(r.Bytes, 10))
	}
	if r.Redacted != 0 {
		field("redacted", fmt.Sprintf("%d(%s)", r.Redacted, strings.Join(r.RedactedKinds, ",")))
	}
	field("reason", r.Reason)
	return b.String()
}

// printable quotes s when it holds white space, quotes, or characters that are not graphic.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if !unicode.IsGraphic(c) || unicode.IsSpace(c) || c == '"' || c == '\\' || c == 0x2028 || c == 0x2029 ||
			(c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

func writeSummary(w io.Writer, files []string, s *auditSummary) {
	fmt.Fprintf(w, "summary: %d of %d records matched", s.matched, s.read)
	if s.unreadable > 0 {
		fmt.Fprintf(w, " (%d unreadable lines skipped)", s.unreadable)
	}
	fmt.Fprintf(w, "; %d file(s): %s\n", len(files), strings.Join(files, ", "))
	if s.matched == 0 {
		return
	}
	fmt.Fprintf(w, "  from %s to %s\n", s.first.UTC().Format(time.RFC3339), s.last.UTC().Format(time.RFC3339))
	for _, group := range []struct {
		name   string
		counts map[string]int
	}{{"tool", s.byTool}, {"op", s.byOp}, {"decision", s.byDecision}} {
		fmt.Fprintf(w, "  by %s: %s\n", group.name, countList(group.counts))
	}
	fmt.Fprintf(w, "  redacted: %d secret(s)", s.redacted)
	if len(s.byKind) > 0 {
		fmt.Fprintf(w, "; records per kind: %s", countList(s.byKind))
	}
	fmt.Fprintln(w)
}

// countList prints counts as "name=n" sorted by count, then name.
func countList(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = printable(k) + "=" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

func nameSet(list string) map[string]bool {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			m[n] = true
		}
	}
	return m
}

// parseAuditTime reads an RFC 3339 time, a date (UTC) or a duration before now; "" is zero.
func parseAuditTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-26T10:00:00Z), a date (2026-11-26) or a duration (90m, 24h)", s)
}
