package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime/abi"
)

// policyCmd runs `pal policy show|check|explain`.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "pal policy: name a subcommand: show, check FILE, explain TOOL OP TARGET")
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "show":
		opts, rest, ok, code := layerFlags("policy show", args, stdout, stderr)
		if !ok {
			return code
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "pal policy show: unexpected argument %q\n", rest[0])
			return 2
		}
		return policyShow(opts, stdout, stderr)
	case "check":
		if len(args) != 1 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintln(stderr, "usage: pal policy check FILE")
			return 2
		}
		return policyCheck(args[0], stdout, stderr)
	case "explain":
		opts, rest, ok, code := layerFlags("policy explain", args, stdout, stderr)
		if !ok {
			return code
		}
		if len(rest) != 3 {
			fmt.Fprintln(stderr, "usage: pal policy explain [-config FILE] TOOL OP TARGET\n"+
				"  e.g. pal policy explain chat fs.read ./src/main.go")
			return 2
		}
		return policyExplain(opts, rest[0], rest[1], rest[2], stdout, stderr)
	}
	fmt.Fprintf(stderr, "pal policy: unknown subcommand %q (show, check, explain)\n", sub)
	return 2
}

// layerFlags parses -config and -system-config, and the flags extra defines, and returns the
// remaining arguments.
func layerFlags(name string, args []string, stdout, stderr io.Writer, extra ...func(*flag.FlagSet)) (opts app.Options, rest []string, ok bool, code int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.ConfigPath, "config", "", "pal.toml to load")
	fs.StringVar(&opts.SystemConfigPath, "system-config", "", "system file to use instead of "+policy.DefaultSystemFile)
	for _, f := range extra {
		f(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return opts, nil, false, 0
		}
		fmt.Fprintf(stderr, "pal %s: %v\n", name, err)
		return opts, nil, false, 2
	}
	return opts, fs.Args(), true, 0
}

// policyShow prints every key's effective value and the layer it came from.
func policyShow(opts app.Options, stdout, stderr io.Writer) int {
	_, _, cfg, err := app.LoadConfig(opts)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	for _, s := range cfg.Settings() {
		fmt.Fprintf(stdout, "%s = %s  # %s\n", s.Key, s.Value, s.Origin)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return 0
}

// policyCheck validates one file on its own, then says what would happen to it as an
// untrusted project file.
func policyCheck(file string, stdout, stderr io.Writer) int {
	cfg := policy.Default()
	if err := cfg.LoadFile(file); err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid\n", file)
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	// As a project file, untrusted, over the defaults and the system file: which keys it
	// could not set.
	if filepath.Base(file) == "pal.toml" {
		if err := policy.CheckProjectFile(file); err != nil {
			fmt.Fprintf(stdout, "as an untrusted project file it would be refused: %v\n", err)
		} else {
			fmt.Fprintln(stdout, "as an untrusted project file it is accepted: it only narrows the policy")
		}
	}
	return 0
}

// policyExplain says whether TOOL may do OP on TARGET and which rule decides.
func policyExplain(opts app.Options, tool, op, target string, stdout, stderr io.Writer) int {
	capName, ok := abi.OpCapability(op)
	if !ok {
		fmt.Fprintf(stderr, "pal policy explain: unknown op %q (known: %s)\n", op, strings.Join(abi.Ops(), ", "))
		return 2
	}
	need := policy.Capability(capName)
	opts.LogOutput = io.Discard
	a, err := app.Inspect(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	defer a.Close()
	cfg := a.Config
	// refuse prints the code the host would answer with (abi.FailNotGranted when the grant
	// lacks the op's capability, abi.FailDenied when the policy refuses its target), so that
	// what explain prints matches what a tool sees.
	refuse := func(code, format string, args ...any) int {
		fmt.Fprintf(stdout, code+": "+format+"\n", args...)
		return 1
	}
	deny := func(format string, args ...any) int { return refuse(abi.FailDenied, format, args...) }
	notGranted := func(format string, args ...any) int { return refuse(abi.FailNotGranted, format, args...) }
	spec, builtin, found := a.FindTool(tool)
	if !found {
		return deny("no module publishes a tool named %q", tool)
	}
	if !cfg.ToolEnabled(tool) {
		return deny("tool %q is turned off by tools.disabled or tools.enabled (%s; %s)", tool,
			origin(cfg, "tools.disabled"), origin(cfg, "tools.enabled"))
	}
	declared := make([]policy.Capability, 0, len(spec.Capabilities))
	for _, c := range spec.Capabilities {
		declared = append(declared, policy.Capability(c))
	}
	grant := cfg.Grant(tool, declared, builtin)
	if !grant.Has(need) {
		switch {
		case !slices.Contains(declared, need):
			return notGranted("tool %q does not declare %s in its manifest", tool, need)
		case !builtin && cfg.Tools.Tool[tool].Capabilities == nil:
			return notGranted("tool %q comes from a module, and no trusted [tools.%s] table grants it %s", tool, tool, need)
		default:
			return notGranted("[tools.%s] capabilities does not include %s (%s)", tool, need, origin(cfg, "tools."+tool+".capabilities"))
		}
	}
	fmt.Fprintf(stdout, "capability: tool %q holds %s (grant %s)\n", tool, need, grant)
	switch need {
	case policy.CapFSRead, policy.CapFSList, policy.CapGitRead:
		abs := target
		if !filepath.IsAbs(abs) {
			if abs, err = filepath.Abs(target); err != nil {
				fmt.Fprintf(stderr, "pal: %v\n", err)
				return 1
			}
		}
		res, err := a.Paths.Resolve(abs)
		if err != nil {
			var pe *policy.PathError
			if errors.As(err, &pe) && pe.Rule != "" {
				return deny("%v (%s)", err, cfg.DenyOrigin(pe.Rule))
			}
			return deny("%v (roots: %s, %s)", err, strings.Join(a.Paths.Roots(), ", "), origin(cfg, "paths.roots"))
		}
		fmt.Fprintf(stdout, "allowed: %s resolves to %s inside root %s (%s); no deny rule matches\n",
			target, res.Abs(), res.Root, origin(cfg, "paths.roots"))
		if need == policy.CapGitRead {
			fmt.Fprintln(stdout, "git: the repository's working tree must lie inside the same root; files the deny rules match are left out")
		}
	case policy.CapCLIRun:
		if op == abi.OpCLIList {
			fmt.Fprintf(stdout, "allowed: cli.list lists the %d [[cli]] programs (%s)\n", len(cfg.CLIs), origin(cfg, "cli"))
			break
		}
		i := slices.IndexFunc(cfg.CLIs, func(c policy.CLIConfig) bool { return c.Name == target })
		if i < 0 {
			return deny("no [[cli]] entry is named %q (%d listed, %s)", target, len(cfg.CLIs), origin(cfg, "cli"))
		}
		fmt.Fprintf(stdout, "allowed: [[cli]] %q runs %s (%s); extra arguments only from its allowed_args, "+
			"its working directory inside a root\n", target, cfg.CLIs[i].Executable, origin(cfg, "cli"))
	case policy.CapModelGenerate:
		if target == "auto" || target == "" {
			fmt.Fprintf(stdout, "allowed: the server picks the model (providers.default_model = %q, %s)\n",
				cfg.Providers.DefaultModel, origin(cfg, "providers.default_model"))
			break
		}
		name := strings.ToLower(target)
		var lists []string
		for _, p := range policy.ProviderNames {
			pc := cfg.Providers.Provider(p)
			if len(pc.AllowedModels) == 0 {
				fmt.Fprintf(stdout, "allowed: provider %s has no allowed_models list, so %q is allowed if it serves it\n", p, target)
				return 0
			}
			if slices.Contains(pc.AllowedModels, name) {
				fmt.Fprintf(stdout, "allowed: %q is in providers.%s.allowed_models (%s)\n", target, p, origin(cfg, "providers."+p+".allowed_models"))
				return 0
			}
			lists = append(lists, fmt.Sprintf("providers.%s.allowed_models (%s)", p, origin(cfg, "providers."+p+".allowed_models")))
		}
		return deny("%q is in no allowed_models list: %s", target, strings.Join(lists, "; "))
	default:
		fmt.Fprintf(stdout, "allowed: %s needs no target check\n", op)
	}
	return 0
}

func origin(cfg *policy.Config, key string) string {
	if o := cfg.Origins[key]; o != "" {
		return "set by the " + o
	}
	return key + " at its default"
}
