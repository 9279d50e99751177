package leakwatch

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// node is 64 bytes of heap with a pointer in it, which a garbage collection must mark.
type node struct {
	next *node
	_    [7]int64 // the rest of the 64 bytes
}

// liveHeap allocates about mb megabytes of linked nodes and returns them, to keep them live.
func liveHeap(mb int) *node {
	var head *node
	for range mb << 20 / 64 {
		head = &node{next: head}
	}
	return head
}

// park starts n goroutines that wait on a channel the caller still holds (not a leak) and returns
// the function that releases them and waits for them to end.
func park(n int) (release func()) {
	stop := make(chan struct{})
	ended := make(chan struct{}, n)
	for range n {
		go func() {
			<-stop
			ended <- struct{}{}
		}()
	}
	return func() {
		close(stop)
		for range n {
			<-ended
		}
	}
}

// BenchmarkSnapshot measures one check against the live heap and the number of goroutines, with the
// leak profile where the process has it, and without (the fallback, which forces no collection).
// ns/op is its wall time; cost-ms/op is the cost the report states (its run time plus the garbage
// collection's CPU time); gc-ms/op is that collection's CPU time alone.
func BenchmarkSnapshot(b *testing.B) {
	for _, mode := range []Mode{ModeProfile, ModeFallback} {
		if mode == ModeProfile && !ProfileAvailable() {
			continue
		}
		for _, mb := range []int{1, 64, 256} {
			for _, goroutines := range []int{10, 1000, 10000} {
				name := fmt.Sprintf("mode=%s/heap=%dMB/goroutines=%d", benchName[mode], mb, goroutines)
				b.Run(name, func(b *testing.B) { benchmarkSnapshot(b, mode, mb, goroutines) })
			}
		}
	}
}

var benchName = map[Mode]string{ModeProfile: "profile", ModeFallback: "fallback"}

func benchmarkSnapshot(b *testing.B, mode Mode, mb, goroutines int) {
	b.Helper()
	heap := liveHeap(mb)
	release := park(goroutines)
	defer release()
	runtime.GC()
	w := New()
	if mode == ModeFallback {
		w.profile = nil
	}
	var cost, gc time.Duration
	for b.Loop() {
		before := gcCPU()
		r, err := w.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		gc += gcCPU() - before
		cost += r.Cost
	}
	b.ReportMetric(float64(cost)/float64(b.N)/1e6, "cost-ms/op")
	b.ReportMetric(float64(gc)/float64(b.N)/1e6, "gc-ms/op")
	runtime.KeepAlive(heap)
}
