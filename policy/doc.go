// Package policy decides, in one place, what a tool may do.
//
// It holds the pal.toml schema (Config, Load, Default, ApplyEnv), the path rules that every
// file access goes through (Paths: roots opened as os.Root, deny globs, size, count and depth
// caps), the capability grants (Capability, CapSet, Config.Grant), the audit log (Record,
// Auditor) and secret redaction for logs (Redactor, NewRedactingHandler).
//
// Nothing here talks to a model or runs a tool: the host functions ask this package and act
// on its answer. docs/policy.md describes the rules for users.
package policy
