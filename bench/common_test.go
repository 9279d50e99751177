package bench

import (
	"fmt"
	"iter"
	"runtime"
	"sync"
	"testing"
	"time"
)

// A workload is the fn that every implementation applies to each item.
type workload struct {
	name string
	fn   func(int) int
}

// spinPerMicro is the number of xorshift rounds that take about 1 µs on the machine the figures
// in README.md were taken on (BenchmarkWorkload/work=cpu1us measures it). It is a constant, not a
// calibration at start-up, so that two runs compare the same work.
const spinPerMicro = 580

// spin runs n rounds of xorshift64 seeded with v. Each round depends on the one before, and the
// result is returned, so the compiler can neither drop nor vectorize the loop.
func spin(v, n int) int {
	x := uint64(v) | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x)
}

var (
	noop      = workload{"noop", func(v int) int { return v }}
	cpu1us    = workload{"cpu1us", func(v int) int { return spin(v, spinPerMicro) }}
	cpu20us   = workload{"cpu20us", func(v int) int { return spin(v, 20*spinPerMicro) }}
	sleep50us = workload{"sleep50us", func(v int) int { time.Sleep(50 * time.Microsecond); return v }}

	// workloads are the three the issue names; cpu20us is the CPU-bound case at 2 workers.
	workloads = []workload{noop, cpu1us, sleep50us}

	workerCounts = []int{1, 2, 4, 8}
)

// sink keeps results alive so that nothing the benchmarks compute can be optimized away.
var sink int

// BenchmarkWorkload measures each workload's fn alone, on one goroutine, so that the figures of the
// other benchmarks can be read against the work they do.
func BenchmarkWorkload(b *testing.B) {
	for _, w := range []workload{noop, cpu1us, cpu20us, sleep50us} {
		b.Run("work="+w.name, func(b *testing.B) {
			s := 0
			for i := 0; b.Loop(); i++ {
				s += w.fn(i)
			}
			sink += s
		})
	}
}

// meter reports ns/item, allocs/item and B/item for a benchmark that moves b.N items. Memory
// statistics are read once before and once after the timed region.
type meter struct {
	b  *testing.B
	m0 runtime.MemStats
}

func startMeter(b *testing.B) *meter {
	b.Helper()
	m := &meter{b: b}
	runtime.ReadMemStats(&m.m0)
	b.ResetTimer()
	return m
}

// stop stops the timer and reports per-item figures for items items.
func (m *meter) stop(items int) {
	m.b.StopTimer()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	n := float64(items)
	m.b.ReportMetric(float64(m.b.Elapsed().Nanoseconds())/n, "ns/item")
	m.b.ReportMetric(float64(m1.Mallocs-m.m0.Mallocs)/n, "allocs/item")
	m.b.ReportMetric(float64(m1.TotalAlloc-m.m0.TotalAlloc)/n, "B/item")
}

// counter yields 0, 1, …, n-1: the leaksafe source of every item benchmark is FromSeq(done, counter(n)).
func counter(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// consume receives every value of out until it closes, the way a caller ranges over a pipeline.
func consume(out <-chan int) {
	s := 0
	for v := range out {
		s += v
	}
	sink += s
}

// The seed-style code: every receive and send is a select with done, and channels are unbuffered.

// seedSource sends 0, 1, …, n-1 on out, then closes it.
func seedSource(done <-chan struct{}, n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := range n {
			select {
			case out <- i:
			case <-done:
				return
			}
		}
	}()
	return out
}

// seedMap sends fn(v) on out for every v of in.
func seedMap(done <-chan struct{}, in <-chan int, fn func(int) int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- fn(v):
				case <-done:
					return
				}
			}
		}
	}()
	return out
}

// seedFilter forwards the values of in for which keep is true.
func seedFilter(done <-chan struct{}, in <-chan int, keep func(int) bool) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				if !keep(v) {
					continue
				}
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}
	}()
	return out
}

// seedOrDone is the book's orDone.
func seedOrDone(done <-chan struct{}, in <-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}
	}()
	return out
}

// seedTake is the book's take: the first n values of in.
func seedTake(done <-chan struct{}, in <-chan int, n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for range n {
			select {
			case <-done:
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}
	}()
	return out
}

// handPool is the hand-written worker pool: workers goroutines ranging over one input channel,
// each send a select with done, a WaitGroup and a goroutine that closes out when they have all
// returned.
func handPool(done <-chan struct{}, in <-chan int, workers int, fn func(int) int) <-chan int {
	out := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				select {
				case out <- fn(v):
				case <-done:
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// seedPool is handPool with the seed's receive as well: a select with done on both sides.
func seedPool(done <-chan struct{}, in <-chan int, workers int, fn func(int) int) <-chan int {
	out := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case v, ok := <-in:
					if !ok {
						return
					}
					select {
					case out <- fn(v):
					case <-done:
						return
					}
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// The plain code has no cancellation at all: bare sends and receives, no select. It is what
// destel/rill's stages do, and stands in for rill, which the module proxy does not serve.

func plainSource(n int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := range n {
			out <- i
		}
	}()
	return out
}

func plainMap(in <-chan int, fn func(int) int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for v := range in {
			out <- fn(v)
		}
	}()
	return out
}

func plainPool(in <-chan int, workers int, fn func(int) int) <-chan int {
	out := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				out <- fn(v)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

func name(kv ...any) string {
	s := ""
	for i := 0; i+1 < len(kv); i += 2 {
		if s != "" {
			s += "/"
		}
		s += fmt.Sprintf("%v=%v", kv[i], kv[i+1])
	}
	return s
}
