//go:build !linux && !darwin

package runtime

import "io/fs"

// fileStamp is "" where there is no ctime: every file is hashed on every sweep.
func fileStamp(fs.FileInfo) string { return "" }
