//go:build !go1.25 || go1.28

package site

import (
	"iter"
	"unsafe"
)

// canKeepLabels says that this Go's goroutine labels cannot be read here: leaksafe then adds no
// labels, rather than replace the ones its goroutines inherit.
const canKeepLabels = false

func goroutineLabels() unsafe.Pointer { return nil }

func labelPairs(unsafe.Pointer) iter.Seq2[string, string] {
	return func(func(string, string) bool) {}
}
