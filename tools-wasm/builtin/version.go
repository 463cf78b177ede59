package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal"
)

func init() {
	pal.Register(pal.Tool{
		Name:         "version",
		Title:        "Server version",
		Description:  "Show the server version, model mode, providers and platform.",
		InputSchema:  json.RawMessage(noInputSchema),
		Annotations:  pal.Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		Capabilities: []string{pal.CapHostInfo},
		Category:     "fast",
		Handler:      handleVersion,
	})
}

func handleVersion(_ context.Context, _ *pal.Call, raw json.RawMessage) (*pal.Result, error) {
	if err := noArgs(raw); err != nil {
		return errorResult("version", pal.FailInvalidArguments, err.Error(), nil), nil
	}
	info, err := pal.HostInfo()
	if err != nil {
		return errorResult("version", pal.FailureCode(err), "Cannot read the server's details: "+hostMessage(err), nil), nil
	}
	mode := "default"
	if info.ModelSelection == "auto" {
		mode = "auto"
	}
	providers := strings.Join(info.Providers, ", ")
	if providers == "" {
		providers = "none"
	}
	client := strings.TrimSpace(info.Client.Name + " " + info.Client.Version)
	if client == "" {
		client = "unknown"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s\n\n", orDefault(info.Name, "pal"), info.Version)
	fmt.Fprintf(&b, "- **Server version:** %s\n", info.Version)
	fmt.Fprintf(&b, "- **Tool ABI:** %d (built-in tools module %s)\n", info.ABI, moduleVersion)
	if mode == "auto" {
		b.WriteString("- **Model selection:** auto — the agent names a model, or the server picks one per tool\n")
	} else {
		fmt.Fprintf(&b, "- **Model selection:** fixed default `%s`\n", info.DefaultModel)
	}
	fmt.Fprintf(&b, "- **Providers configured:** %s\n", providers)
	fmt.Fprintf(&b, "- **Models available:** %d\n", info.ModelsAvailable)
	fmt.Fprintf(&b, "- **Connected client:** %s\n", client)
	fmt.Fprintf(&b, "- **Platform:** %s (%s)\n", orDefault(info.Platform, "unknown"), orDefault(info.GoVersion, "unknown Go version"))
	b.WriteString("\n## Updates\nUpdate check not available: tools run without network access, so this server cannot compare itself with the latest release.\n")
	b.WriteString("\n## For the agent\nReport these details to the user as they are. Use `listmodels` for the models behind each provider.\n")
	meta := map[string]any{
		"tool_name": "version", "server_version": info.Version, "abi": info.ABI, "module_version": moduleVersion,
		"platform": info.Platform, "go_version": info.GoVersion, "model_selection_mode": mode, "default_model": info.DefaultModel,
		"providers": info.Providers, "models_available": info.ModelsAvailable, "client": client,
	}
	return result(toolOutput{Status: "success", Content: b.String(), ContinuationOffer: noOffer, Metadata: meta}, false), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
