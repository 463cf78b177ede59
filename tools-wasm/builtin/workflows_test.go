//go:build !wasip1

package main

// workflowTools are the built-in tools of package workflow.
var workflowTools = []string{}
