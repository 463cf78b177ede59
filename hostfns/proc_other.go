//go:build !unix

package hostfns

import (
	"os"
	"os/exec"
)

// ownGroup: process groups are a Unix notion; elsewhere only the process itself is killed.
func ownGroup(*exec.Cmd) {}

// killGroup kills p (its children are not reached on this platform).
func killGroup(p *os.Process) error {
	if p == nil {
		return nil
	}
	return p.Kill()
}
