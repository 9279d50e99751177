//go:build go1.25 && !go1.28

package site

import (
	"iter"
	"unsafe"
)

// canKeepLabels says that this Go's goroutine labels can be read, so that leaksafe adds its own to
// them instead of replacing them.
const canKeepLabels = true

// goroutineLabels returns what the runtime keeps for the calling goroutine's profiler labels, nil
// when it has none. runtime/pprof has no function that reads them; the runtime keeps this one for
// the packages that read them through go:linkname, and does not change its signature.
//
//go:linkname goroutineLabels runtime/pprof.runtime_getProfLabel
func goroutineLabels() unsafe.Pointer

// labelList is how runtime/pprof lays out a label set from Go 1.24 to Go 1.27 (labelMap): a
// slice of key and value pairs, sorted by key.
type labelList struct {
	list []struct{ key, value string }
}

// labelPairs returns the labels that p, from goroutineLabels, points to.
func labelPairs(p unsafe.Pointer) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, l := range (*labelList)(p).list {
			if !yield(l.key, l.value) {
				return
			}
		}
	}
}
