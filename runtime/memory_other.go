//go:build !linux && !darwin

package runtime

import "errors"

var errNoRegions = errors.New("runtime: no mapped memory on this system")

// reserveRegion fails here: linear memories are Go slices (cappedMemory).
func reserveRegion(uint64) (mem, mapping []byte, err error) { return nil, nil, errNoRegions }

func openRegion([]byte, uint64, uint64) error { return errNoRegions }

func roundToPage(n, _ uint64) uint64 { return n }

func roundToGranule(n, _ uint64) uint64 { return n }

func releaseRegion([]byte) {}
