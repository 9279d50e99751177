package bench

import (
	"sync/atomic"
	"testing"

	"github.com/leaksafe/leaksafe"
	"github.com/sourcegraph/conc/stream"
)

// slowEvery is how often BenchmarkSlowItem's fn is 1000 times slower than usual: once in this many
// items.
const slowEvery = 1000

// slowFn takes about 1 µs, or 1 ms for one item in slowEvery.
func slowFn(v int) int {
	if v%slowEvery == slowEvery/2 {
		return spin(v, 1000*spinPerMicro)
	}
	return spin(v, spinPerMicro)
}

// inFlight counts the items that have left the source and not yet reached the consumer: the
// results a pool holds, in its workers, its buffers and its reorder window, plus those in the
// channels around it. peak is the most it has been.
type inFlight struct {
	sent, received, peak atomic.Int64
}

func (f *inFlight) send() {
	d := f.sent.Add(1) - f.received.Load()
	for {
		p := f.peak.Load()
		if d <= p || f.peak.CompareAndSwap(p, d) {
			return
		}
	}
}

func (f *inFlight) consume(out <-chan int) {
	s := 0
	for v := range out {
		f.received.Add(1)
		s += v
	}
	sink += s
}

// slowWorkers is the worker count of BenchmarkSlowItem.
const slowWorkers = 4

// BenchmarkSlowItem maps b.N items at 4 workers where one item in 1000 takes 1000 times as long as
// the others. It reports peak-items, the most items between source and consumer at any time: an
// ordered pool must hold back every result that finishes after the slow one, so peak-items shows
// the bound on its memory (peak-items times the size of a result).
func BenchmarkSlowItem(b *testing.B) {
	impls := []struct {
		name string
		run  func(f *inFlight, n int)
	}{
		{"hand", func(f *inFlight, n int) {
			done := make(chan struct{})
			defer close(done)
			src := make(chan int)
			go func() {
				defer close(src)
				for i := range n {
					f.send()
					select {
					case src <- i:
					case <-done:
						return
					}
				}
			}()
			f.consume(handPool(done, src, slowWorkers, slowFn))
		}},
		{"leaksafe", slowLeaksafe(leaksafe.ParallelMap[int, int])},
		{"leaksafe-ordered", slowLeaksafe(leaksafe.ParallelMapOrdered[int, int])},
		{"conc-stream", func(f *inFlight, n int) {
			out := make(chan int)
			go func() {
				s := stream.New().WithMaxGoroutines(slowWorkers)
				for i := range n {
					f.send()
					s.Go(func() stream.Callback {
						r := slowFn(i)
						return func() { out <- r }
					})
				}
				s.Wait()
				close(out)
			}()
			f.consume(out)
		}},
	}
	for _, impl := range impls {
		b.Run(name("workers", slowWorkers, "impl", impl.name), func(b *testing.B) {
			var f inFlight
			m := startMeter(b)
			impl.run(&f, b.N)
			m.stop(b.N)
			b.ReportMetric(float64(f.peak.Load()), "peak-items")
		})
	}
}

// slowLeaksafe runs the slow-item case through parallelMap, ParallelMap or ParallelMapOrdered, fed by
// FromSeq.
func slowLeaksafe(parallelMap func(<-chan struct{}, <-chan int, int, func(int) int) (<-chan int, <-chan struct{})) func(f *inFlight, n int) {
	return func(f *inFlight, n int) {
		done := make(chan struct{})
		defer close(done)
		src, t1 := leaksafe.FromSeq(done, func(yield func(int) bool) {
			for i := range n {
				f.send()
				if !yield(i) {
					return
				}
			}
		})
		out, t2 := parallelMap(done, src, slowWorkers, slowFn)
		f.consume(out)
		<-t1
		<-t2
	}
}
