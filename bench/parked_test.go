package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/leaksafe/leaksafe"
)

// parkedStages is how many stages BenchmarkParked parks at once to measure what each one holds.
const parkedStages = 2000

// A parkedImpl starts one stage on an input that never delivers. Once done is closed, the stage
// has ended when term is closed or, if term is nil, when out is closed.
type parkedImpl struct {
	name  string
	start func(done <-chan struct{}, idle <-chan int) (out <-chan int, term <-chan struct{})
}

var parkedImpls = []parkedImpl{
	{"goroutine", func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		// A bare goroutine waiting on done, which closes a channel when it ends: the floor.
		term := make(chan struct{})
		go func() {
			defer close(term)
			<-done
		}()
		return nil, term
	}},
	{"seed", func(done <-chan struct{}, idle <-chan int) (<-chan int, <-chan struct{}) {
		return seedMap(done, idle, noop.fn), nil
	}},
	{"leaksafe", func(done <-chan struct{}, idle <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Map(done, idle, noop.fn)
	}},
}

// join waits for a stage started by a parkedImpl to end.
func join(out <-chan int, term <-chan struct{}) {
	if term != nil {
		<-term
		return
	}
	for range out {
	}
}

// parkedCost parks parkedStages stages, waits until they are all blocked, and reports the
// goroutines and the heap bytes they hold per stage. Goroutines that have ended are reused by the
// runtime with their descriptors, so a first round warms that cache: what is left is what the stage
// itself holds on the heap (its channels, closures and the select's waiting records), beyond the
// goroutine's stack and descriptor.
func parkedCost(impl parkedImpl) (goroutines, heapBytes float64) {
	idle := make(chan int)
	run := func(measure bool) {
		done := make(chan struct{})
		outs := make([]<-chan int, parkedStages)
		terms := make([]<-chan struct{}, parkedStages)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		g0 := runtime.NumGoroutine()
		for i := range outs {
			outs[i], terms[i] = impl.start(done, idle)
		}
		time.Sleep(10 * time.Millisecond) // let every stage reach its select
		g1 := runtime.NumGoroutine()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		close(done)
		for i := range outs {
			join(outs[i], terms[i])
		}
		if measure {
			n := float64(parkedStages)
			goroutines = float64(g1-g0) / n
			heapBytes = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / n
		}
	}
	run(false)
	run(true)
	return goroutines, heapBytes
}

// BenchmarkParked reports what one stage costs while it waits for input that does not come:
// goroutines/stage and B/stage (heap held beyond the goroutine's stack and descriptor, which
// impl=goroutine shows), and, as ns/op, the time to start one such stage and stop it by closing done.
func BenchmarkParked(b *testing.B) {
	for _, impl := range parkedImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			goroutines, heapBytes := parkedCost(impl)
			idle := make(chan int)
			for b.Loop() {
				done := make(chan struct{})
				out, term := impl.start(done, idle)
				close(done)
				join(out, term)
			}
			b.ReportMetric(goroutines, "goroutines/stage")
			b.ReportMetric(heapBytes, "B/stage")
		})
	}
}
