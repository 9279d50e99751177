//go:build !amd64

package site

import "runtime"

// callers fills pcs with the return addresses of the calls that led to its caller, the caller's
// caller first, and returns how many it found.
func callers(pcs []uintptr) int {
	return runtime.Callers(3, pcs)
}
