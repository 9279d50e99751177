package bench

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leaksafe/leaksafe"
	"golang.org/x/sync/errgroup"
)

// A forEachImpl calls fn for every value of in, at most workers at once, and returns when every call
// has returned: the consumer that does work and stops on the first error.
type forEachImpl struct {
	name string
	run  func(in <-chan int, workers int, fn func(int) error) error
}

var forEachImpls = []forEachImpl{
	{"foreach", func(in <-chan int, workers int, fn func(int) error) error {
		return leaksafe.ForEach(nil, in, workers, func(_ <-chan struct{}, v int) error { return fn(v) })
	}},
	{"parallelmap", func(in <-chan int, workers int, fn func(int) error) error {
		// The same work without errors, and without a done to select on: ParallelMap to nothing.
		out, terminated := leaksafe.ParallelMap(nil, in, workers, func(v int) struct{} {
			_ = fn(v)
			return struct{}{}
		})
		for range out {
		}
		<-terminated
		return nil
	}},
	{"parallelmap+group", func(in <-chan int, workers int, fn func(int) error) error {
		// ForEach's semantics by hand: ParallelMap under a Group that the first error stops.
		g := leaksafe.NewGroup(nil)
		g.Go(func(done <-chan struct{}) error {
			var once sync.Once
			var first error
			out, terminated := leaksafe.ParallelMap(done, in, workers, func(v int) struct{} {
				if err := fn(v); err != nil {
					once.Do(func() { first = err })
					g.Stop()
				}
				return struct{}{}
			})
			for range out { // closes when in is drained or done closes
			}
			<-terminated
			return first // every call has returned: terminated closed after them
		})
		return g.Wait()
	}},
	{"group", func(in <-chan int, workers int, fn func(int) error) error {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(workers)
		for v := range in {
			g.Go(func(<-chan struct{}) error { return fn(v) })
		}
		return g.Wait()
	}},
	{"errgroup", func(in <-chan int, workers int, fn func(int) error) error {
		var g errgroup.Group
		g.SetLimit(workers)
		for v := range in {
			g.Go(func() error { return fn(v) })
		}
		return g.Wait()
	}},
}

// BenchmarkForEach feeds b.N values through a seed-style source to each implementation, which runs
// the workload on them with 4 workers and no error.
func BenchmarkForEach(b *testing.B) {
	for _, w := range []workload{noop, cpu1us} {
		for _, impl := range forEachImpls {
			b.Run(name("work", w.name, "workers", 4, "impl", impl.name), func(b *testing.B) {
				done := make(chan struct{})
				defer close(done)
				var sum atomic.Int64
				fn := func(v int) error {
					sum.Add(int64(w.fn(v)))
					return nil
				}
				in := seedSource(done, b.N)
				m := startMeter(b)
				if err := impl.run(in, 4, fn); err != nil {
					b.Fatal(err)
				}
				m.stop(b.N)
				sink += int(sum.Load())
			})
		}
	}
}
